# Set-up and checks on a fresh machine: Python 3.11 and Node/npm are all that is assumed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv azurite checkov lint typecheck test test-all readings demo bench serve sandboxes clean

help:
	@echo "make test   - install everything, lint, type-check and run the test suite"
	@echo "make demo   - run the end-to-end demo against Azurite and the sandboxes"
	@echo "make bench  - run the benchmarks (not part of the tests)"
	@echo "make readings - the scenario tests under every register reading (not part of CI)"

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

test: venv azurite checkov lint typecheck
	$(BIN)/pytest -q

test-all: venv azurite
	RUN_SLOW=1 $(BIN)/pytest -q

# The engine's scenario tests once per reading of each register switch on the sync path (~1 h).
readings: venv azurite
	$(BIN)/python -m devtools.readings --azurite-per-run

demo: venv azurite
	$(BIN)/python -m devtools.demo

bench: venv azurite
	$(BIN)/python -m bench

serve: venv
	$(BIN)/python -m sync_core serve --port 7071

sandboxes: venv
	$(BIN)/python -m sandbox --ac-port 8081 --dynamics-port 8082 --seed-contacts 200

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
