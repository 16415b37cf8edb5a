"""What a batch worker does for one report: execute the notebook in the worker's kernel,
check it, render it, lint it. Kept free of the data stack (no pandas, pyarrow or
matplotlib in the worker process: the kernel does the analysis), so a worker costs little
memory beside its kernel."""

from __future__ import annotations

import functools
import gc
import json
import os
import time
import traceback
from pathlib import Path

from helpers.atomic import write_text_atomic
from helpers.paths import notebooks_dir
from helpers.run import kernels
from helpers.run.checks import chart_metadata, check_output, headline_values, lint, visible_text
from helpers.run.jobs import Job, slug


@functools.lru_cache(maxsize=32)
def _prepared(src: str, mtime_ns: int) -> str:
    """The notebook's JSON with a first cell that clears the (reused) kernel's namespace; the
    cell is tagged for removal from the rendered report. Cached per notebook version."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    cell = nbformat.v4.new_code_cell(kernels.RESET_SOURCE)
    cell.metadata["tags"] = ["remove-cell", "pack-reset"]
    cell.id = "pack-reset"
    nb.cells.insert(0, cell)
    return nbformat.writes(nb)


def _with_reset_cell(src: Path, dest: Path) -> None:
    """Copy a notebook to ``dest`` with the namespace-reset cell first."""
    dest.write_text(_prepared(str(src), src.stat().st_mtime_ns), encoding="utf-8")


def input_copy(job: Job, out_dir: str) -> Path:
    """The copy of the notebook a report runs from, written when its worker starts it and
    removed when it finishes: still there after a worker died, it marks the report that
    was running then (the batch charges that one, not the reports still queued)."""
    return Path(out_dir) / job.notebook / f".{slug(job.area)}.input.ipynb"


def prepare(facts: str | None = None) -> None:
    """What a worker's first report would otherwise spend first: papermill and its engine,
    the checks and the page renderer (its templates compiled) imported, and the oracle's
    ``facts`` file read when it is there, while the worker's kernel imports the pack
    (:func:`helpers.run.kernels.init_worker`); then all of it frozen out of the garbage
    collector's view."""
    import papermill  # noqa: F401

    from helpers.run import oracle_check, semantic, site  # noqa: F401
    from helpers.run.render import _exporter

    kernels.register_engine()
    _exporter()
    if facts and Path(facts).is_file():
        oracle_check.load_facts(facts)
    # what is loaded now lives as long as the worker: out of the collector's view, so the
    # collections a report's checks set off scan only what the report made (a commissioner
    # report's work in the worker 150 → 132 ms)
    gc.collect()
    gc.freeze()


def run_job(job: Job, out_dir: str, timeout: int, provenance: dict) -> Job:
    """Execute, check and render one report (runs in a worker process)."""
    import papermill as pm

    from helpers.run import oracle_check, semantic
    from helpers.run.render import footer_html, to_html
    from helpers.run.site import link_page, nav_html

    os.environ.pop("MPLBACKEND", None)
    t0 = time.perf_counter()
    folder = Path(out_dir) / job.notebook
    folder.mkdir(parents=True, exist_ok=True)
    stem = slug(job.area)
    paths = {key: folder / f"{stem}{suffix}" for key, suffix in job.outputs.items()}
    ipynb, html_path, results = paths["notebook"], paths["html"], paths["results"]
    for f in paths.values():
        f.unlink(missing_ok=True)
    values = dict(job.parameters, results_path=str(results))
    source = input_copy(job, out_dir)
    try:
        _with_reset_cell(notebooks_dir() / f"{job.notebook}.ipynb", source)
        nb = pm.execute_notebook(
            str(source), str(ipynb), parameters=values,
            kernel_name="python3", language="python", cwd=str(notebooks_dir()),
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, km=kernels.worker_kernel(),
            engine_name=kernels.register_engine())
        problems = check_output(nb, job.min_figures, results)
        if problems:
            raise RuntimeError("; ".join(problems))
        res = json.loads(results.read_text())
        title = f"{job.area_name or job.area} — {job.title or job.notebook}"
        page = to_html(nb, title, footer_html(job, res, provenance), nav_html(job.nav))
        problems = lint(nb, page, publish=bool(job.parameters.get("publish")))
        problems += semantic.page_findings(visible_text(page), res, chart_metadata(nb))
        problems += oracle_check.worker_findings(res, page, provenance)
        # the site's links in the page's text: terms to their definitions (after the checks,
        # which read the text, not the tags)
        page = link_page(page, job.nav)
        write_text_atomic(html_path, page)
        if problems:
            raise RuntimeError("report lint: " + "; ".join(dict.fromkeys(problems)))
        job.status = "ok"
        job.headline = headline_values(res, tuple(job.headline_keys))
        job.summary = res.get("summary", "")
        job.validation_failed = list(res.get("validation_failed") or [])
    except Exception as e:           # any failure is this report's, recorded, not the run's
        kernels.retire()             # a failed report may leave the kernel in a bad state
        job.status = "failed"
        detail = f"{e.ename}: {e.evalue}" if isinstance(e, pm.PapermillExecutionError) \
            else str(e)
        job.error = f"{type(e).__name__}: {detail[:2000]}"
        if not isinstance(e, pm.PapermillExecutionError | RuntimeError):
            job.error += "\n" + traceback.format_exc(limit=3)
    source.unlink(missing_ok=True)
    job.duration_s = round(time.perf_counter() - t0, 2)
    job.files = {k: str(p.relative_to(out_dir)) for k, p in paths.items() if p.exists()}
    return job
