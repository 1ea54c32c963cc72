# Two commands do all the set-up: `make run` and `make test` (see README.md).
# Each creates .venv on first use and reinstalls only when pyproject.toml changes
# (the package is installed in editable mode, so edits under src/ need no reinstall).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run beyond level4 test notebooks mutate fuzz data bench bench-beyond clean

run: $(VENV)/.run-deps
	$(BIN)/nndl data fetch mnist
	$(BIN)/nndl explore level3

# The rest of chapter 3 and the ladder past 98 % (about 14 minutes on 2 cores; README.md).
beyond: $(VENV)/.run-deps
	$(BIN)/nndl data fetch mnist
	$(BIN)/nndl explore beyond

# Level 4: chapter 6's convolutional networks, every row of the book's ladder (about 1.5 h on 2 cores:
# docs/level4/ holds a full run). Stopped, the same command continues each training from its last epoch.
level4: $(VENV)/.run-deps
	$(BIN)/nndl data fetch mnist
	$(BIN)/nndl explore level4

test: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(PY) -m pytest -q -n auto --dist loadfile

# The course's notebooks (notebooks/level3.ipynb, notebooks/beyond.ipynb) in JupyterLab, in this venv.
# `make test` runs each of them in QUICK mode (tests/notebooks/). LAB_ARGS: e.g. --no-browser --port 8899.
notebooks: $(VENV)/.notebook-deps
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) notebooks/

# Mutation testing of the core, module by module (docs/testing.md); MUTATE_JOBS mutants at a time
# (default: one per core).
MUTATE_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
mutate: $(VENV)/.mutate-deps
	$(PY) tests/mutate.py --jobs $(MUTATE_JOBS)

# The fuzz targets of `make test` (tests/fuzz/fuzz_targets.py), for FUZZ_SECONDS each (11 targets: about 18 min).
FUZZ_SECONDS ?= 100
fuzz: $(VENV)/.test-deps
	$(PY) tests/fuzz/fuzz.py --seconds-per-target $(FUZZ_SECONDS)

data: $(VENV)/.run-deps
	$(BIN)/nndl data fetch mnist

bench: $(VENV)/.run-deps
	$(PY) benchmarks/bench_epoch.py

# What each chapter 3 technique costs per epoch, and nndl against scikit-learn's MLPClassifier.
bench-beyond: $(VENV)/.bench-deps
	$(PY) benchmarks/bench_techniques.py
	$(PY) benchmarks/bench_sklearn.py

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(VENV)/.notebook-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[notebooks]'
	touch $@

$(VENV)/.bench-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

$(VENV)/.mutate-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test,mutate]'
	touch $@

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache mutants
