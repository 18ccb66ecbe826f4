"""``python -m chargewise`` is the ``chargewise`` command."""

import sys

from chargewise.cli import main

sys.exit(main())
