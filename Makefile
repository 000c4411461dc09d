# podlab: the two set-up commands of the README, and a few for instructors and developers.
#   make lab    set everything up, bring a cluster up, open the book in JupyterLab
#   make test   set everything up, bring a cluster up, run every test and notebook (then again on kind)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.podlab-installed
PYTEST_ARGS ?=
KIND_PYTEST_ARGS ?=

.PHONY: lab test site up down clean doctor bench host-deps notebooks test-kind

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,test,site]'
	@touch $(STAMP)

# On Debian/Ubuntu as root, install what the local provider needs (no-op elsewhere or when present).
host-deps:
	@bash helpers/host-deps.sh

up: $(STAMP) host-deps
	$(BIN)/podlab up

lab: up
	cd book && ../$(BIN)/jupyter lab --ip=127.0.0.1 $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) ../

# podlab up (kind's own builds beside it), the local part, then the kind part (scripts/run_tests.py)
test: $(STAMP) host-deps
	PODLAB_REQUIRE_CLUSTER=1 $(BIN)/python scripts/run_tests.py --up $(PYTEST_ARGS)

site: $(STAMP)
	$(BIN)/jupyter-book build . --config book/_config.yml --toc book/_toc.yml --path-output .
	@echo "open _build/html/index.html"

bench: up
	$(BIN)/python benchmarks/cluster_up.py
	$(BIN)/python benchmarks/wait_ready_vs_kubectl.py

# Re-execute every notebook on the lab cluster and store its outputs (for authors).
notebooks: up
	$(BIN)/python scripts/execute_notebooks.py book/*.ipynb labs/*.ipynb

doctor: $(STAMP)
	$(BIN)/podlab doctor

down:
	$(BIN)/podlab down

clean:
	$(BIN)/podlab clean

# The kind part of `make test` alone, on our VMs: podlab's own Docker engine, kind v0.33.0 and the
# node image built offline (helpers/podlab/cluster/kindci.py); KIND_PYTEST_ARGS picks other tests.
test-kind: $(STAMP) host-deps
	$(BIN)/python -m podlab.cluster.kindci $(KIND_PYTEST_ARGS)
