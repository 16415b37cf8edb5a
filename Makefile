# Plain task runner. Every target first builds .venv with exactly the versions in uv.lock.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# uv finds packages on PyPI as pip does; the lock pins every version and hash
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup reports site real-reports real-data quality quality-networks test lint lab data data-small bench clean notebooks lock

## .venv from the lock: a plain venv, the pinned uv in it, then `uv sync --frozen` (the lock
## as it is, never re-resolved; uv itself is in the lock, so the sync keeps it). Everything
## is compiled to bytecode once here: where PYTHONDONTWRITEBYTECODE is set (containers, CI)
## Python would otherwise compile pandas, matplotlib and the rest again in every process,
## about 5 core-seconds for each worker, kernel and test subprocess
$(STAMP): pyproject.toml uv.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) sync --frozen --extra dev --python $(PY) --quiet --compile-bytecode
	$(PY) -m compileall -q -j 0 src
	touch $(STAMP)

setup: $(STAMP)

## After changing dependencies in pyproject.toml: re-resolve uv.lock and the conda route's
## requirements file (commit all three); `make test` fails while they disagree
lock: $(STAMP)
	$(UV) lock
	$(UV) export --frozen --extra dev --no-emit-project --quiet -o requirements.lock.txt

data: $(STAMP)
	$(PY) -m helpers.sources.synthetic --preset england --if-missing

data-small: $(STAMP)
	$(PY) -m helpers.sources.synthetic --preset small --if-missing

## The README's report command: every notebook × every commissioner + England, HTML in reports/
reports: data
	$(PY) -m helpers.run.batch --grid config/grids/default.yaml --jobs $(JOBS)

## The national site: every notebook × every area at every level, browsable from
## reports/site/areas/england.html (about 31,000 reports; SITE_GRID for another grid)
SITE_GRID ?= config/grids/site.yaml
site: data
	$(PY) -m helpers.run.batch --grid $(SITE_GRID) --jobs $(JOBS) --run-id site-$$(date +%Y%m%dT%H%M%S)

## Real NHS open data: build data/real_england from a folder of published files, then report
REAL ?= ../shared/data/real
real-data: $(STAMP)
	$(PY) -m helpers.sources.real_structure --from $(REAL) --out data/real_england

real-reports: real-data
	$(PY) -m helpers.run.batch --grid config/grids/real.yaml --jobs $(JOBS)

## A quality run: sampled areas at every level (every network of 2 commissioners, every closed
## practice of 2, the 10 smallest and largest practices, 200 practices in all), every notebook,
## publish mode, lint, semantic and oracle checks (each report against the independent oracle in
## the batch, then the finished run and its area pages again); QUALITY_DATA=data/real_england
## for the real structure
QUALITY_DATA ?= synthetic:england
QUALITY_COMMISSIONERS ?= 2
quality: data
	mkdir -p reports
	$(PY) -m helpers.run.sample_grid --data $(QUALITY_DATA) --out reports/quality-grid.yaml --commissioners $(QUALITY_COMMISSIONERS)
	id=quality-$$(date +%Y%m%dT%H%M%S); \
	$(PY) -m helpers.run.batch --grid reports/quality-grid.yaml --jobs $(JOBS) --run-id $$id && \
	$(PY) -m helpers.run.oracle_check reports/$$id

## The same with every network in England (about 5,700 reports a dataset)
quality-networks:
	$(MAKE) quality QUALITY_COMMISSIONERS=all

## The README's test command: ruff + the whole pytest suite
test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks notebooks
	$(PY) -m pytest

## After editing a notebook's .py twin outside JupyterLab: rewrite the .ipynb from it (no outputs)
notebooks: $(STAMP)
	$(VENV)/bin/jupytext --update --to ipynb notebooks/[0-9]*.py
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace --log-level=WARN notebooks/[0-9]*.ipynb

## JupyterLab on notebooks/ (as root, in a container, Jupyter needs --allow-root)
lab: data
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

bench: data
	cd benchmarks && ../$(PY) bench_data.py && ../$(PY) bench_referrals.py && ../$(PY) bench_payments.py && ../$(PY) bench_scale.py && ../$(PY) bench_batch.py

clean:
	rm -rf reports/* data/cache
