# Two commands: `make repro` (set up, then reproduce clerk-js PR #7912 on a buggy and a fixed version)
# and `make test` (set up, run the static checks of `make lint`, then the harness's own tests and the scenario library).
# Set-up is idempotent: the second time it only checks that the virtualenv and a Chromium are there.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
VERSIONS ?= 6.0.0 6.1.0
# Several test processes at once (pytest-xdist; `auto` = two per core, see harness/pytest_plugin.py). `worksteal`:
# an idle worker takes queued tests from a busy one, so the long browser tests do not leave a tail (measured on 2
# idle cores: 882 tests in 586 s, against 619 s with the default `load` scheduling).
PYTEST_JOBS ?= auto
PYTEST_ARGS ?=
STAMP    := $(VENV)/.installed

# The library's portability check: every Clerk scenario on a spread of 12 stable releases from 5.0.0 to the newest
# 6.x it was not all tuned on; every run must give its file's claimed verdict (never error).
SPREAD   ?= 5.0.0 5.30.0 5.60.0 5.101.0 5.128.0 6.0.0 6.1.0 6.11.0 6.22.0 6.24.0 6.29.3 6.40.0

# The example apps (examples/*): installed from npm by their own lockfiles (`npm ci`), again only when a lockfile
# changes. `make test` plays the founding bugs against them (tests/test_example_apps.py, marker example_app).
EXAMPLES := nextjs-clerk supabase-spa

.PHONY: setup repro lint test bench spread clean examples

setup: $(STAMP) npm browser

# Reinstalled only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# The SDK bundles come from npm (`npm pack`); install it on Debian/Ubuntu as root, otherwise say how.
npm:
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; \
	  else echo "error: npm not found: install Node.js and npm (e.g. sudo apt-get install -y npm)" >&2; exit 1; fi; }

# Finds a Chromium (explicit $$HARNESS_CHROMIUM, Playwright's, Debian's, Chrome); as root on Debian/Ubuntu,
# installs Debian's chromium and chromium-headless-shell when there is none.
browser: $(STAMP)
	@$(BIN)/harness browser --ensure --prefer-tabs

examples: $(foreach e,$(EXAMPLES),examples/$(e)/node_modules/.package-lock.json)

examples/%/node_modules/.package-lock.json: examples/%/package-lock.json | npm
	cd examples/$* && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

repro: setup
	$(BIN)/harness repro $(VERSIONS)

# Static checks, configured in pyproject.toml: ruff ([tool.ruff]) over the code, tests and benchmarks; mypy
# ([tool.mypy], with pydantic's plugin) over harness/.
lint: $(STAMP)
	$(BIN)/ruff check harness tests bench
	$(BIN)/mypy

test: setup lint examples
	$(BIN)/pytest -n $(PYTEST_JOBS) --dist worksteal $(PYTEST_ARGS)

spread: setup
	$(BIN)/harness run scenarios/ $(foreach v,$(SPREAD),--clerk-version $(v)) --no-trace --reports reports/spread

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf reports/*/ reports/*.html reports/*.xml test-results .pytest_cache examples/*/.next
