# lstm-tutorial: `make book` and `make test` do all the set-up (README.md).
# Both create .venv with the pinned dependencies on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Offline data mirror beside the project (CONTRIBUTING.md, "Data").
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/timemachine.txt),)
export LSTM_TUTORIAL_DATA ?= $(SHARED_DATA)
endif

# Reproducible notebook outputs (CONTRIBUTING.md, "Notebooks"): one OpenMP
# thread (lstm_tutorial also pins MXNet's, see README "Threads"), fixed
# hash seeds, stable names for kernel cells, and (for the
# kernels only: Sphinx would stamp 1970 on the book) fixed SVG dates.
export OMP_NUM_THREADS ?= 1
export PYTHONHASHSEED := 0
KERNEL_ENV := SOURCE_DATE_EPOCH=0
export IPYKERNEL_CELL_NAME := <IPY-INPUT>
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# Every notebook of the book (tests/notebook_checks.py checks the same set).
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
# The chapters run two at a time (pytest-xdist; NB_JOBS=1 for one), each
# notebook whole in one worker and its own kernel of one thread, so the
# outputs are the same as one at a time; the longest first
# (tests/notebook_order.py), so that both workers finish together.
NB_JOBS ?= 2
# The package tests run two at a time as well (TEST_JOBS=1 for one).
TEST_JOBS ?= 2
NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=600 \
	--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider \
	-n $(NB_JOBS) --dist loadfile --no-loadscope-reorder

.PHONY: env book test test-package test-notebooks test-book test-browser \
	test-gpu lint experiments bench lock execute clean distclean FORCE

# .venv is rebuilt from scratch when the pins change, when a previous
# install failed, or when PYTHON names another interpreter than the one
# .venv was built with (PYTHON=... make env after a failed attempt):
# $(PYTHON_MARK) holds that interpreter's version and is rewritten only
# when it changes.
PYTHON_MARK := $(VENV)/.python-version
env: $(STAMP)

$(PYTHON_MARK): FORCE
	@mkdir -p $(VENV); v="$$($(PYTHON) -c 'import sys; print(sys.version)')"; \
		[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@

$(STAMP): pyproject.toml requirements.lock $(PYTHON_MARK)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), \
		"lstm-tutorial needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[book,test,dask]'
	@$(PYTHON) -c 'import sys; print(sys.version)' > $(PYTHON_MARK)
	@touch $@

FORCE:

book: env
	$(BIN)/jupyter-book build . --builder html
	@echo "Open the book: file://$(abspath _build/html/index.html)"

test: env lint test-package test-notebooks test-book test-browser

lint: env
	$(BIN)/ruff check lstm_tutorial tests _ext benchmarks

test-package: env
	$(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_JOBS) tests \
		--ignore=tests/test_browser.py

test-notebooks: env
	$(KERNEL_ENV) $(BIN)/python -m pytest $(NBVAL) \
		$$($(BIN)/python tests/notebook_order.py $(NOTEBOOKS))

# The strict build: every warning, broken reference or citation fails.
test-book: env
	$(BIN)/jupyter-book build . --builder html --all -n -W --keep-going

# The built book as a reader sees it: every page in headless Chromium
# (Debian's chromium; .ci/run installs it) with the network blocked.
# Screenshots of every page: _build/screenshots/.
test-browser: env test-book
	LSTM_TUTORIAL_HTML=_build/html $(BIN)/python -m pytest \
		-p no:cacheprovider tests/test_browser.py

# On a machine with a GPU and the CUDA build of mxnet: the same notebooks,
# checked only by their device-independent assertions (nbval --nbval-lax).
test-gpu: env
	$(KERNEL_ENV) LSTM_TUTORIAL_DEVICE=gpu $(BIN)/python -m pytest --nbval-lax \
		--nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

# Re-execute the chapters in place (after changing one), top to bottom.
execute: env
	$(KERNEL_ENV) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=900 $(if $(NB),$(NB),$(NOTEBOOKS))

# The multi-seed experiments behind the chapters' stored results: the
# seeds not yet stored (a stopped run resumes); RERUN=1 computes the
# stored ones again, to check that they reproduce.
experiments: env
	$(BIN)/python -m lstm_tutorial.experiments all $(if $(RERUN),--rerun)

# Benchmarks, run by hand (never part of make test): training throughput
# and memory of the LSTM layers, and each chapter's re-execution time.
# Results: benchmarks/results/*.json (machine, versions, settings).
# PyTorch, the throughput's reference, is the pinned `bench` extra,
# installed here when missing (a large download: README); make test never
# needs it, and the benchmark goes on without it if it cannot be had.
bench: env
	@$(BIN)/python -c 'import torch' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -c requirements.lock \
		-e '.[bench]' || echo "pytorch: not installed"
	$(BIN)/python benchmarks/lstm_throughput.py
	$(BIN)/python benchmarks/chapter_times.py

# The lock is make test's set: never with make bench's torch in .venv.
lock: env
	@! $(BIN)/python -c 'import torch' 2>/dev/null || { echo "make lock: \
		.venv holds make bench's torch; run make distclean env first" >&2; \
		exit 1; }
	{ echo "# Full resolved set for Python 3.11, used as pip constraints by the Makefile."; \
	  echo "# Regenerate with: make lock (after changing pins in pyproject.toml)."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^lstm' | sort -f; \
	} > requirements.lock

clean:
	rm -rf _build .pytest_cache

# Also the virtual environment: the next make builds it afresh.
distclean: clean
	rm -rf $(VENV)
