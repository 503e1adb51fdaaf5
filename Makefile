# modelwire — every target installs what it needs into .venv first (idempotent).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
ARGS   ?=

.PHONY: install generate lint test test-ray test-floor test-published demo serve bench compat docs clean

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

# The slow tests on a local Ray cluster (tests/integrations, marked slow: `make test` skips them),
# with the ray extra installed beside dev once per pyproject change (its own stamp).
test-ray: install
	@stamp=$(VENV)/.ray-installed-$$(cat pyproject.toml | cksum | cut -d' ' -f1); \
	if [ ! -f $$stamp ]; then \
		$(BIN)/python -m pip install --quiet -e '.[dev,ray]' && \
		rm -f $(VENV)/.ray-installed-* && touch $$stamp; fi
	$(BIN)/python -m pytest -q -m slow -p no:cacheprovider tests/integrations $(ARGS)

# The suite again on the oldest protobuf/grpcio we support (constraints/floor.txt) and on
# protobuf 6 beside the published clients (the coexistence and drop-in tests run there).
# Each venv is built once per pyproject/constraints change.
test-floor:
	@$(MAKE) --no-print-directory _side VENV_SIDE=.venv-floor SIDE_PIP="-c constraints/floor.txt -e .[test]"
	.venv-floor/bin/python -m pytest -q -p no:cacheprovider $(ARGS)

test-published:
	@$(MAKE) --no-print-directory _side VENV_SIDE=.venv-published SIDE_PIP="-e .[test,published]"
	.venv-published/bin/python -m pytest -q -p no:cacheprovider $(ARGS)

_side:
	@test -x $(VENV_SIDE)/bin/python || $(PYTHON) -m venv $(VENV_SIDE)
	@stamp=$(VENV_SIDE)/.installed-$$(cat pyproject.toml constraints/*.txt | cksum | cut -d' ' -f1); \
	if [ ! -f $$stamp ]; then \
		$(VENV_SIDE)/bin/python -m pip install --quiet --upgrade pip && \
		$(VENV_SIDE)/bin/python -m pip install --quiet $(SIDE_PIP) && \
		rm -f $(VENV_SIDE)/.installed-* && touch $$stamp; fi

demo: install
	$(BIN)/python examples/demo.py

serve: install
	$(BIN)/modelwire serve $(ARGS)

bench: install
	$(BIN)/python bench/run.py $(ARGS)

compat: install
	$(BIN)/python scripts/compat.py $(ARGS)

# The documentation site (mkdocs.yml) into site/; --strict turns any warning into a failure. The
# docs extra is installed beside dev once per pyproject change (its own stamp).
docs: install
	@stamp=$(VENV)/.docs-installed-$$(cat pyproject.toml | cksum | cut -d' ' -f1); \
	if [ ! -f $$stamp ]; then \
		$(BIN)/python -m pip install --quiet -e '.[dev,docs]' && \
		rm -f $(VENV)/.docs-installed-* && touch $$stamp; fi
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .venv-floor .venv-published .mypy_cache .ruff_cache .pytest_cache build dist site src/*.egg-info
