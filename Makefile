# The two entry points of the README. Both create .venv at the repo root when it is missing
# and install the project into it, so they work on a fresh machine with only Python and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean engine

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The main job: the offline `pulumi preview` of the reference network (Pulumi.yaml, network/,
# stacks/) through the policy pack, for a compliant stack and for one the pack must block.
# Exit 1 means "blocked", which the noncompliant stack shows on purpose; anything else is an error.
demo: $(STAMP)
	@echo "== kmsguard preview . --stack dev   (forced tunneling, KMS routes added: passes)"
	@$(BIN)/kmsguard preview . --stack dev
	@echo
	@echo "== kmsguard preview . --stack noncompliant   (forced tunneling without KMS routes: blocked)"
	@$(BIN)/kmsguard preview . --stack noncompliant; rc=$$?; \
		if [ $$rc -ne 1 ]; then echo "expected the noncompliant stack to be blocked (exit 1), got $$rc"; exit 2; fi

# The real Pulumi CLI, built from the Go module proxy into a cache outside the repository (once per
# machine; later runs return at once). The real-engine tests and `kmsguard preview --engine pulumi`
# find it there. Needs Go >= 1.24.
engine:
	@tools/pulumi-engine/build.sh

LINTED := kmsguard tests network bench policy

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --strict network

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
