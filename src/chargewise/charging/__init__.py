"""Smart charging as pure functions: the site tree of limits (``site``), phase detection (``phases``), the
closed-loop allocation of per-EVSE current limits (``allocate``), planning, tariffs and demand response. No I/O
here: time and state come in as data, adapters read meters and send charging profiles."""
