# The two entry points of the README. Both create .venv at the repo root when it is missing
# and install the project into it, so they work on a fresh machine with only Python and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Exit 1 from explain means "a subnet is blocked", which the demo shows on purpose; 2 is an error.
demo: $(STAMP)
	@for f in examples/networks/*.json; do \
		echo "== kmsguard explain $$f"; \
		$(BIN)/kmsguard explain --brief "$$f"; rc=$$?; \
		if [ $$rc -gt 1 ]; then exit $$rc; fi; \
		echo; \
	done

lint: $(STAMP)
	$(BIN)/ruff check kmsguard tests
	$(BIN)/ruff format --check kmsguard tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
