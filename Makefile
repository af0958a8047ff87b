# make install: create .venv (unless a virtual environment is active) and install the pinned stack.
# make test:    install when needed, then run the whole test suite (CPU).
# make run:     install when needed, then the end-to-end smoke of what is built so far.
ifdef VIRTUAL_ENV
ENV_DIR := $(VIRTUAL_ENV)
else
ENV_DIR := .venv
endif
PYTHON ?= python3
PY := $(ENV_DIR)/bin/python
STAMP := $(ENV_DIR)/.uda-seg-installed
PYTEST_ARGS ?=

.PHONY: install test run golden clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(ENV_DIR)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	@touch $(STAMP)

test: install
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

golden: install
	$(PY) -m pytest -q tests/test_golden.py $(PYTEST_ARGS)

run: install
	$(PY) tools/smoke_run.py

clean:
	rm -rf work_dirs/smoke .pytest_cache
