# Plain task runner. Every target bootstraps .venv from pyproject.toml first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: setup reports real-reports real-data test lint lab data data-small bench clean notebooks

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

data: $(STAMP)
	$(PY) -m helpers.sources.synthetic --preset england --if-missing

data-small: $(STAMP)
	$(PY) -m helpers.sources.synthetic --preset small --if-missing

## The README's report command: every notebook × every commissioner + England, HTML in reports/
reports: data
	$(PY) -m helpers.run.batch --grid config/grids/default.yaml --jobs $(JOBS)

## Real NHS open data: build data/real_england from a folder of published files, then report
REAL ?= ../shared/data/real
real-data: $(STAMP)
	$(PY) -m helpers.sources.real_structure --from $(REAL) --out data/real_england

real-reports: real-data
	$(PY) -m helpers.run.batch --grid config/grids/real.yaml --jobs $(JOBS)

## The README's test command: ruff + the whole pytest suite
test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks notebooks
	$(PY) -m pytest

## After editing a notebook's .py twin outside JupyterLab: rewrite the .ipynb from it (no outputs)
notebooks: $(STAMP)
	$(VENV)/bin/jupytext --update --to ipynb notebooks/[0-9]*.py
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace --log-level=WARN notebooks/[0-9]*.ipynb

lab: data
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: data
	cd benchmarks && ../$(PY) bench_data.py && ../$(PY) bench_referrals.py && ../$(PY) bench_payments.py && ../$(PY) bench_scale.py && ../$(PY) bench_batch.py

clean:
	rm -rf reports/* data/cache
