# make install: create .venv (unless a virtual environment is active) and install the pinned stack and pytest
#               (requirements-test.txt); nothing to do while the stamp is newer than the requirement files.
# make test:    install when needed, then run the whole test suite (CPU).
# make run:     install when needed, then the embedded synthetic benchmark: generate and convert the
#               synthetic GTA -> Cityscapes pair, train source-only, source-only + augmentation, DACS and
#               the oracle, evaluate each, write work_dirs/synth_benchmark/ (results.json, table, figures).
#               make run DATA_SEED=1 SEEDS="0 1 2 3 4" for another data draw and five training seeds.
# make smoke:   install when needed, then a 30-second fit of the final DAFormer decoder on a fixed batch.
# make device-wheels: the wheels of what tools/benchmark.py needs beyond the GPU machine's image, into .whl/
#               (from PyPI; benchmarks/device-wheels.txt locks them), for tools/device_bench.sh there.
ifdef VIRTUAL_ENV
ENV_DIR := $(VIRTUAL_ENV)
else
ENV_DIR := .venv
endif
PYTHON ?= python3
PY := $(ENV_DIR)/bin/python
STAMP := $(ENV_DIR)/.uda-seg-installed
PYTEST_ARGS ?=
DATA_SEED ?= 0
SEEDS ?= 0
JOBS ?= 2

.PHONY: install test run smoke golden clean device-wheels

install: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(ENV_DIR)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements-test.txt
	$(PY) -m pip install --no-deps -e .
	@touch $(STAMP)

test: install
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

golden: install
	$(PY) -m pytest -q tests/test_golden.py $(PYTEST_ARGS)

run: install
	OMP_WAIT_POLICY=PASSIVE $(PY) tools/synth_benchmark.py --data-seed $(DATA_SEED) --seeds $(SEEDS) --jobs $(JOBS)

smoke: install
	$(PY) tools/smoke_run.py

device-wheels: install
	$(PY) tools/device_wheels.py download --dest .whl

clean:
	rm -rf work_dirs/smoke .pytest_cache
