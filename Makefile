# mcprod: every target sets up what it needs from a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Code that runs on grid worker nodes with the node's own python3 (3.6 on CentOS 7).
WORKER_NODE_CODE := reconciler/job/stageout.py
VERMIN_ARGS := -t=3.6- --no-tips --violations --eval-annotations

.PHONY: run test lint typecheck unit services-packages bench clean

run: $(STAMP)
	$(VENV)/bin/mcprod quickstart

test: $(STAMP) node_modules/.installed services-packages
	$(VENV)/bin/ruff check reconciler tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/vermin $(VERMIN_ARGS) $(WORKER_NODE_CODE)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages for the real Slurm and the grid copy tools (root, as in CI).
services-packages:
	bash tests/services/install-packages.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests bench
	$(VENV)/bin/vermin $(VERMIN_ARGS) $(WORKER_NODE_CODE)

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP) node_modules/.installed
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
