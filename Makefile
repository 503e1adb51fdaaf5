# modelwire — every target installs what it needs into .venv first (idempotent).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
ARGS   ?=

.PHONY: install generate lint test demo serve bench compat clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

generate: install
	$(BIN)/python scripts/generate.py

lint: install
	$(BIN)/ruff check src tests scripts examples bench
	$(BIN)/ruff format --check src tests scripts examples bench
	$(BIN)/mypy
	$(BIN)/buf lint
	$(BIN)/python scripts/generate.py --check

test: lint
	$(BIN)/python -m pytest -q

demo: install
	$(BIN)/python examples/clavata_demo.py

serve: install
	$(BIN)/modelwire serve $(ARGS)

bench: install
	$(BIN)/python bench/run.py $(ARGS)

compat: install
	$(BIN)/python scripts/compat.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist src/*.egg-info
