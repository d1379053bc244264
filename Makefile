# ftmech: `make book` builds the book, `make test` runs the tests. Both create/update .venv themselves.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ftmech-installed
WIDGETS := _static/ipywidgets/embed-amd.js
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book test dry-run venv sync-check nbdev-test pytest smoke-book chromium bench clean
.DEFAULT_GOAL := help

help:
	@echo "make book   install into $(VENV), run every experiment at the cpu profile, build the HTML book"
	@echo "make test   install, check nbs/ and ftmech/ are in sync, smoke book (-W; runs every notebook's tests), pytest"
	@echo "make dry-run  run every experiment on the paper grid at smoke sizes (paper-dry; ~20 min on 2 cores)"
	@echo "make bench  run the benchmarks in benchmarks/"

# torch first: its CPU wheel is on disk, and a loose torch requirement would pull CUDA builds
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

venv: $(STAMP)

$(WIDGETS): scripts/fetch_widget_js.sh
	bash scripts/fetch_widget_js.sh

book: venv $(WIDGETS)
	unset MPLBACKEND; $(PY) -m ftmech.book --profile cpu

# the smoke book executes every cell of every notebook, library notebooks included (their tests are cells), so
# `make test` does not run nbdev-test as well (it did, so every library notebook ran twice)
test: venv $(WIDGETS) chromium sync-check smoke-book pytest

# the paper profile's grid, names and claim inputs at smoke sizes on the CPU: results/paper-dry/, runs/paper-dry/;
# fails when a claim of its ledger is not measured
dry-run: venv
	unset MPLBACKEND; $(PY) -m ftmech.book --profile paper --dry-run

sync-check: venv
	@bash scripts/check_sync.sh $(VENV)

# for notebook authors (`make test` covers the same cells through the smoke book);
# experiment chapters are left to the smoke book, which runs them once and in order: they share one run store, and
# two nbdev-test workers training the same run at the same time raced (KeyError 'checkpoint' on resume)
nbdev-test: venv
	$(VENV)/bin/nbdev-test --n-workers 2 --skip-folder-re '^([_.]|experiments$$)' 

smoke-book: venv $(WIDGETS)
	unset MPLBACKEND; $(PY) -m ftmech.book --profile smoke --out _build/smoke

# one worker per core, whole test files per worker (module fixtures such as the reduced dry run run once); torch on
# one thread per worker, so the workers and the trainings they start do not oversubscribe the cores
pytest: venv
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 FTMECH_BOOK_HTML=_build/smoke/_build/html $(PY) -m pytest -q -n auto --dist loadfile

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

bench: venv
	$(PY) benchmarks/sampler.py
	$(PY) benchmarks/generate.py
	$(PY) benchmarks/explore.py

clean:
	rm -rf _build book/lib book/runs
