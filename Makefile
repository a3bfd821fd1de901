# `make run` and `make test` work on a fresh machine with Python 3.11+, pip and make: both create .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install run demo test lint format bench clean

$(BIN)/campaigns: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/campaigns

# The demo data goes into the embedded SQLite database once; sending uses the offline outbox transports.
run: install
	$(BIN)/campaigns init
	$(BIN)/campaigns fixtures --if-empty
	CAMPAIGNS_EMAIL_TRANSPORT=outbox CAMPAIGNS_SMS_TRANSPORT=outbox CAMPAIGNS_PUSH_TRANSPORT=outbox \
		$(BIN)/campaigns tui

demo: install
	$(BIN)/campaigns tui --demo

test: install
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# Lint: the format, ruff's rules, the layer contracts (tests/layers.py) and the types.
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m tests.layers
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/demo_center.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
