# Two commands: `make repro` (set up, then reproduce clerk-js PR #7912 on a buggy and a fixed version)
# and `make test` (set up, then run the harness's own tests and the scenario library).
# Set-up is idempotent: the second time it only checks that the virtualenv and a Chromium are there.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
VERSIONS ?= 6.0.0 6.1.0
# Several test processes at once (pytest-xdist; `auto` = two per core, see harness/pytest_plugin.py).
PYTEST_JOBS ?= auto
PYTEST_ARGS ?=
STAMP    := $(VENV)/.installed

.PHONY: setup repro test bench clean

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

repro: setup
	$(BIN)/harness repro $(VERSIONS)

test: setup
	$(BIN)/pytest -n $(PYTEST_JOBS) $(PYTEST_ARGS)

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf reports/*/ reports/*.html reports/*.xml test-results .pytest_cache
