# The front door. `make demo` and `make test` work on a fresh machine with Python 3.11 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test chromium bench bench-bus bench-charging lint typecheck install lock clean serve fuzz

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/chargewise demo

serve: $(STAMP)
	$(BIN)/chargewise serve

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

# The dashboard's browser tests drive Debian's Chromium (Playwright never downloads one here): installed when
# missing and apt-get can (as root); otherwise those tests skip locally and fail under CI=true, naming this command.
chromium:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
		(apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null; } || \
		echo "chromium not installed (run: apt-get install -y chromium); the browser tests will skip, or fail under CI"

bench: $(STAMP)
	$(BIN)/python -m bench

# The cluster bus's operations on NATS and Redis side by side (ADR 0008); both brokers on 127.0.0.1.
bench-bus: $(STAMP)
	$(BIN)/python -m bench.bus $(ARGS)

# chargewise's planner on the ACN-Sim paper workload (../shared/data/acn) against acnportal's baselines and the
# offline optimum, a 1,000-EV site with a DR event, the evcc case (docs/bench-charging.md). ARGS="--days 3 --caps 30".
bench-charging: $(STAMP)
	nice -n 10 $(BIN)/python -m bench.charging $(ARGS)

# 250,000 hostile frames (half per OCPP version) against an in-process server; FUZZ_FRAMES=N (per version), FUZZ_SEED=S.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Regenerate the lock file from pyproject.toml (needs network access to the package index).
lock:
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --generate-hashes --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
