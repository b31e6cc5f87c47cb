# Set-up and checks on a fresh machine: Python 3.11 and Node/npm are all that is assumed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv azurite checkov lint typecheck test test-all readings demo dev bench serve sandboxes clean \
	solution-deps solution-build solution openapi openapi-check frontend-check chromium e2e pages screenshots

help:
	@echo "make test   - install everything, lint, type-check and run the test suite"
	@echo "make demo   - run the end-to-end demo against Azurite and the sandboxes"
	@echo "make dev    - start Azurite and the sandboxes for the command line and the API (Ctrl-C stops them)"
	@echo "make bench  - run the benchmarks (not part of the tests)"
	@echo "make readings - the scenario tests under every register reading (not part of CI)"
	@echo "make solution - build the Dynamics solution zip (solution/out/acds_ActiveCampaignSync.zip)"
	@echo "make pages  - the panel on a seeded contact in a browser: local API, sandboxes, Azurite, Xrm stub"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

azurite: $(STAMP)
	$(BIN)/python -c "from devtools.azurite import azurite_binary; print(azurite_binary())"

# checkov lives in its own virtualenv: it needs packaging<24, pytest needs packaging>=24.
CHECKOV := .tools/checkov
$(CHECKOV)/.installed: requirements-infra.txt
	test -x $(CHECKOV)/bin/python || $(PY) -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install --quiet -r requirements-infra.txt
	touch $@

checkov: $(CHECKOV)/.installed

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: venv azurite checkov lint typecheck frontend-check solution
	ACDS_REQUIRE_DIST=1 $(BIN)/pytest -q
	$(MAKE) e2e

test-all: venv azurite
	RUN_SLOW=1 $(BIN)/pytest -q

# The engine's scenario tests once per reading of each register switch on the sync path (~1 h).
readings: venv azurite
	$(BIN)/python -m devtools.readings --azurite-per-run

demo: venv azurite
	$(BIN)/python -m devtools.demo

dev: venv azurite
	$(BIN)/python -m sync_core local up

bench: venv azurite
	$(BIN)/python -m bench

bench-sales: venv azurite
	$(BIN)/python -m bench.sales_latency

serve: venv
	$(BIN)/python -m sync_core serve --port 7071

sandboxes: venv
	$(BIN)/python -m sandbox --ac-port 8081 --dynamics-port 8082 --seed-contacts 200

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache

# --- the app inside Dynamics (solution/) --------------------------------------------------------
NPM := cd solution && npm
SOLUTION_DEPS := solution/node_modules/.package-lock.json

$(SOLUTION_DEPS): solution/package.json solution/package-lock.json
	$(NPM) ci --no-audit --no-fund
	touch $@

solution-deps: $(SOLUTION_DEPS)

solution-build: solution-deps
	$(NPM) run build

# The unmanaged solution zip, from solution/package and the built web resources.
solution: venv solution-build
	$(BIN)/python solution/build_solution.py

# Regenerate the API's OpenAPI document and the TypeScript types made from it (commit both).
openapi: venv solution-deps
	$(BIN)/python -m devtools.openapi_dump
	$(NPM) run openapi:types

# Fails when the committed document or types differ from what the API gives now.
openapi-check: venv solution-deps
	$(BIN)/python -m devtools.openapi_dump --check
	$(NPM) exec -- openapi-typescript src/api/openapi.json -o node_modules/.schema.gen.check.ts --silent
	cmp solution/src/api/schema.gen.ts solution/node_modules/.schema.gen.check.ts || \
		{ echo "solution/src/api/schema.gen.ts is stale: run make openapi and commit it"; exit 1; }

frontend-check: openapi-check
	$(NPM) run lint
	$(NPM) run typecheck
	$(NPM) test

# Debian's chromium for the browser tests (never a browser download).
chromium:
	@test -x /usr/bin/chromium || { echo "installing chromium with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

e2e: venv azurite chromium solution-build
	$(NPM) run test:e2e

screenshots: venv azurite chromium solution-build
	cd solution && ACDS_SCREENSHOTS=1 npm run test:e2e

pages: venv azurite solution-build
	$(BIN)/python -m devtools.pages
