"""Batch runs: every notebook × every commissioner (plus England), in one command.

    python -m helpers.run.batch --grid config/grids/default.yaml [--jobs N] [--only TEXT]
                            [--rerun-failed] [--run-id ID] [--timeout S]

The grid is validated before anything runs (each parameter set against the notebook's spec
and its ``parameters`` cell, each commissioner against the data). Notebooks run with
papermill's Python API in a process pool, kernels over IPC transport, an explicit kernel name,
language and working directory, a per-notebook timeout and the inline chart backend. One
failure does not stop the others; the exit code is non-zero if any failed. Each report is
checked (no exception, no error outputs, expected charts, results file), rendered to
self-contained HTML, and listed in ``index.html`` and ``manifest.json`` with provenance.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from importlib import metadata
from pathlib import Path

import yaml
from jupyter_client.manager import AsyncKernelManager

from helpers import catalogue
from helpers.catalogue import ENGLAND
from helpers.datasets import write_json_atomic, write_text_atomic
from helpers.paths import notebooks_dir, project_root, reports_dir
from helpers.report import DataSourceError, open_source
from helpers.run import params

PACKAGES = ["helpers", "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "papermill",
            "nbconvert", "gpboost", "pyarrow"]


class GridError(ValueError):
    """The grid file is malformed or names something that does not exist."""


class IPCKernelManager(AsyncKernelManager):
    """Kernel over IPC sockets in a private absolute temp folder: no TCP ports, so parallel
    kernels cannot collide (papermill #511) and no unencrypted-TCP warning."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = os.path.join(tempfile.mkdtemp(prefix="pk"), "k")


RESET_SOURCE = ('get_ipython().run_line_magic("reset", "-f")\n'
                "import matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt")
RECYCLE_AFTER = 25
_worker_kernel: dict = {"km": None, "runs": 0}


def _kernel_for_worker():
    """This worker's kernel manager: one kernel reused for successive reports (saving the
    kernel start and the library imports, about 2 s a report), recycled after
    ``RECYCLE_AFTER`` reports or any failure so state and memory cannot build up."""
    from jupyter_client.utils import run_sync

    km = _worker_kernel["km"]
    if km is not None and (_worker_kernel["runs"] >= RECYCLE_AFTER or not (
            km.has_kernel and run_sync(km.is_alive)())):
        _retire_kernel()
        km = None
    if km is None:
        import atexit

        km = IPCKernelManager(kernel_name="python3")
        _worker_kernel.update(km=km, runs=0)
        atexit.register(_retire_kernel)      # when run_job is used outside a worker
    _worker_kernel["runs"] += 1
    return km


def _retire_kernel() -> None:
    from jupyter_client.utils import run_sync

    km = _worker_kernel["km"]
    _worker_kernel.update(km=None, runs=0)
    if km is not None and km.has_kernel:
        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:
            pass


def _init_worker() -> None:
    """Worker start-up: no inherited chart backend, and the worker's kernel shut down when the
    worker exits (multiprocessing runs Finalize callbacks, not atexit, at worker exit)."""
    from multiprocessing import util

    os.environ.pop("MPLBACKEND", None)
    util.Finalize(None, _retire_kernel, exitpriority=10)


def _with_reset_cell(src: Path, dest: Path) -> None:
    """Copy a notebook with a first cell that clears the (reused) kernel's namespace; the
    cell is tagged for removal from the rendered report."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    cell = nbformat.v4.new_code_cell(RESET_SOURCE)
    cell.metadata["tags"] = ["remove-cell", "pack-reset"]
    cell.id = "pack-reset"
    nb.cells.insert(0, cell)
    nbformat.write(nb, dest)


@dataclass
class Job:
    notebook: str
    area: str
    parameters: dict
    report_id: str = ""
    status: str = "pending"
    duration_s: float = 0.0
    error: str = ""
    files: dict = field(default_factory=dict)
    headline: dict = field(default_factory=dict)


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def load_grid(path: Path, data_source: str | None = None) -> tuple[dict, list[Job]]:
    """Read and validate a grid file; return (grid, jobs). ``data_source`` replaces the
    grid's own. Raises GridError."""
    path = Path(path)
    if not path.is_absolute():
        path = project_root() / path
    if not path.exists():
        raise GridError(f"grid file not found: {path}")
    grid = yaml.safe_load(path.read_text()) or {}
    known = {"data_source", "publish", "notebooks", "areas", "parameters"}
    unknown = set(grid) - known
    if unknown:
        raise GridError(f"{path}: unknown grid keys {sorted(unknown)}; known: {sorted(known)}")
    if data_source:
        grid["data_source"] = data_source
    notebooks = grid.get("notebooks") or catalogue.names()
    data_source = grid.get("data_source", "synthetic:england")
    try:
        ds = open_source(data_source)
    except (DataSourceError, FileNotFoundError) as e:
        raise GridError(f"{path}: data_source: {e}") from e
    codes = ds.commissioners["commissioner_code"].astype(str).tolist()
    areas = grid.get("areas", "all")
    if areas == "all":
        areas = [ENGLAND] + codes
    areas = [str(a) for a in areas]
    bad = [a for a in areas if a != ENGLAND and a not in codes]
    if bad:
        raise GridError(f"{path}: commissioner codes not in the data: {bad}")
    jobs = []
    for nb in notebooks:
        nb_path = notebooks_dir() / f"{nb}.ipynb"
        if not nb_path.exists():
            raise GridError(f"{path}: notebook '{nb}' not found in {notebooks_dir()}")
        try:
            entry = catalogue.get(nb)
        except params.ParameterError as e:
            raise GridError(f"{path}: {e}") from e
        cell = params.notebook_parameters(nb_path)
        if set(cell) != set(entry.params):
            raise GridError(f"{nb}: parameters cell {sorted(cell)} does not match its "
                            f"catalogue spec {sorted(entry.params)}")
        extra = (grid.get("parameters") or {}).get(nb, {})
        for area in areas:
            values = {"data_source": data_source, "commissioner": area,
                      "publish": bool(grid.get("publish", True)), **extra}
            try:
                entry.validate(values)
            except params.ParameterError as e:
                raise GridError(f"{path}: {e}") from e
            jobs.append(Job(nb, area, values, f"{nb}/{slug(area)}"))
    return grid, jobs


def _git() -> dict:
    root = project_root()
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                    cwd=root, capture_output=True, text=True,
                                    check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", None
    return {"commit": commit, "dirty": dirty}


def _versions() -> dict:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    out["python"] = sys.version.split()[0]
    return out


def check_output(nb: dict, notebook: str, results_file: Path) -> list[str]:
    """Post-run checks: no exception, no error outputs, enough charts, results written."""
    problems = []
    if nb.get("metadata", {}).get("papermill", {}).get("exception"):
        problems.append("papermill recorded an exception")
    n_png = 0
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                problems.append(f"error output: {o.get('ename')}: {o.get('evalue')}")
            if "image/png" in o.get("data", {}):
                n_png += 1
    want = catalogue.get(notebook).min_figures
    if n_png < want:
        problems.append(f"expected at least {want} charts, found {n_png}")
    if not results_file.exists():
        problems.append("results file not written")
    return problems


def run_job(job: Job, out_dir: str, timeout: int, provenance: dict) -> Job:
    """Execute, check and render one report (runs in a worker process)."""
    import nbformat
    import papermill as pm

    from helpers.run.render import to_html

    os.environ.pop("MPLBACKEND", None)
    t0 = time.perf_counter()
    folder = Path(out_dir) / job.notebook
    folder.mkdir(parents=True, exist_ok=True)
    stem = slug(job.area)
    ipynb, html_path = folder / f"{stem}.ipynb", folder / f"{stem}.html"
    results = folder / f"{stem}.results.json"
    for f in (ipynb, html_path, results):
        f.unlink(missing_ok=True)
    values = dict(job.parameters, results_path=str(results))
    source = folder / f".{stem}.input.ipynb"
    try:
        _with_reset_cell(notebooks_dir() / f"{job.notebook}.ipynb", source)
        pm.execute_notebook(
            str(source), str(ipynb), parameters=values,
            kernel_name="python3", language="python", cwd=str(notebooks_dir()),
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, km=_kernel_for_worker())
        nb = json.loads(ipynb.read_text())
        problems = check_output(nb, job.notebook, results)
        if problems:
            raise RuntimeError("; ".join(problems))
        res = json.loads(results.read_text())
        title = f"{res.get('area', job.area)} — {catalogue.get(job.notebook).title}"
        footer = (f"Commissioning analysis pack · report {escape(job.report_id)} · data "
                  f"{escape(provenance['data_source'])} (hash {escape(res['dataset_hash'])}) · "
                  f"code {escape(provenance['git']['commit'][:10])}"
                  f"{' (uncommitted changes)' if provenance['git']['dirty'] else ''} · "
                  f"publish mode {'on' if res.get('publish') else 'off'} · "
                  f"parameters {escape(json.dumps(job.parameters, sort_keys=True))} · "
                  f"run {escape(provenance['run_id'])}")
        write_text_atomic(html_path, to_html(nbformat.reads(ipynb.read_text(), as_version=4),
                                             title, footer))
        job.status = "ok"
        job.headline = headline_values(res, catalogue.get(job.notebook).headline_keys)
    except Exception as e:
        job.status = "failed"
        detail = f"{e.ename}: {e.evalue}" if isinstance(e, pm.PapermillExecutionError) \
            else str(e)
        job.error = f"{type(e).__name__}: {detail[:2000]}"
        if not isinstance(e, pm.PapermillExecutionError | RuntimeError):
            job.error += "\n" + traceback.format_exc(limit=3)
    source.unlink(missing_ok=True)
    job.duration_s = round(time.perf_counter() - t0, 2)
    job.files = {k: str(p.relative_to(out_dir)) for k, p in
                 (("notebook", ipynb), ("html", html_path), ("results", results)) if p.exists()}
    return job


def write_index(out_dir: Path, jobs: list[Job], provenance: dict) -> None:
    rows = []
    for j in sorted(jobs, key=lambda j: j.report_id):
        link = f'<a href="{escape(j.files["html"])}">{escape(j.area)}</a>' \
            if "html" in j.files else escape(j.area)
        head = ", ".join(f"{k.replace('_', ' ')}: {v:.3g}" if isinstance(v, float) else
                         f"{k.replace('_', ' ')}: {v}" for k, v in j.headline.items())
        colour = "#009639" if j.status == "ok" else "#DA291C"
        rows.append(f"<tr><td>{escape(j.notebook)}</td><td>{link}</td>"
                    f'<td style="color:{colour}">{j.status}</td><td>{escape(head)}</td>'
                    f"<td>{j.duration_s:.1f}</td></tr>")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Commissioning analysis pack — reports {escape(provenance['run_id'])}</title>
<style>body{{font-family:Arial,sans-serif;max-width:1100px;margin:2em auto;color:#212b32}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #d8dde0;
padding:4px 8px;text-align:left;font-size:14px}}</style></head><body>
<h1>Commissioning analysis pack: reports</h1>
<p>Run {escape(provenance['run_id'])} · data {escape(provenance['data_source'])}
(hash {escape(provenance['data_hash'])}) · code {escape(provenance['git']['commit'][:10])}
· {sum(j.status == 'ok' for j in jobs)} of {len(jobs)} reports succeeded.</p>
<table><thead><tr><th>Notebook</th><th>Area</th><th>Status</th><th>Headline</th>
<th>Seconds</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>
"""
    write_text_atomic(out_dir / "index.html", page)


def run(grid_path: Path, jobs_n: int | None = None, only: str | None = None,
        rerun_failed: bool = False, run_id: str | None = None, timeout: int = 600,
        out_root: Path | None = None, data_source: str | None = None) -> tuple[int, Path]:
    """Run a grid (``data_source`` replaces the grid's); returns (number failed, run
    folder)."""
    out_root = out_root or reports_dir()
    grid, jobs = load_grid(grid_path, data_source)
    if rerun_failed:
        last = out_root / "latest.txt"
        if not last.exists():
            raise GridError("no previous run to repeat (reports/latest.txt missing)")
        run_id = last.read_text().strip()
        prev = json.loads((out_root / run_id / "manifest.json").read_text())
        failed = {r["report_id"] for r in prev["reports"] if r["status"] != "ok"}
        kept = [Job(**r) for r in prev["reports"] if r["status"] == "ok"]
        jobs = [j for j in jobs if j.report_id in failed]
    else:
        kept = []
    if only:
        jobs = [j for j in jobs if only in j.report_id]
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = out_root / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    gp = Path(grid_path) if Path(grid_path).is_absolute() else project_root() / grid_path
    ds = open_source(grid.get("data_source", "synthetic:england"))
    provenance = {"run_id": run_id, "git": _git(), "versions": _versions(),
                  "data_source": grid.get("data_source", "synthetic:england"),
                  "data_hash": ds.content_hash,
                  "data_real_tables": ds.provenance.get("real_tables", []),
                  "grid_file": str(gp.relative_to(project_root())) if gp.is_relative_to(
                      project_root()) else str(gp),
                  "grid_sha256": hashlib.sha256(gp.read_bytes()).hexdigest()}
    _warm_cache(ds, jobs)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    jobs_n = jobs_n or os.cpu_count() or 1
    done: list[Job] = []
    try:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), desc="reports", unit="report", file=sys.stderr)
    except ImportError:  # pragma: no cover
        bar = None
    # spawned (not forked) workers: a fork would inherit the parent's event loop and any
    # kernel it holds, which kernels and zmq do not survive
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs_n, mp_context=ctx,
                             initializer=_init_worker) as pool:
        futures = [pool.submit(run_job, j, str(out_dir), timeout, provenance) for j in jobs]
        for f in as_completed(futures):
            j = f.result()
            done.append(j)
            if bar:
                bar.update(1)
                bar.set_postfix_str(f"{j.report_id} {j.status}")
    if bar:
        bar.close()
    all_jobs = kept + done
    manifest = {**provenance, "started": started,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "reports": [asdict(j) for j in sorted(all_jobs, key=lambda j: j.report_id)]}
    write_json_atomic(out_dir / "manifest.json", manifest)
    write_index(out_dir, all_jobs, provenance)
    write_text_atomic(out_root / "latest.txt", run_id + "\n")
    failed = [j for j in all_jobs if j.status != "ok"]
    for j in failed:
        print(f"FAILED {j.report_id}: {j.error.splitlines()[0] if j.error else ''}",
              file=sys.stderr)
    return len(failed), out_dir


def headline_values(results: dict, keys: tuple[str, ...]) -> dict:
    """The results values named by ``keys`` ("a.b" reaches into a nested dict), keyed by
    their last part; absent keys are left out."""
    out = {}
    for key in keys:
        value: object = results
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out[key.rsplit(".", 1)[-1]] = value
    return out


def _warm_cache(ds, jobs: list[Job]) -> None:
    """Run each notebook's analysis once for England, before the workers start, so every
    report only slices cached tables (and parallel kernels never race to build them)."""
    from helpers import report

    seen = set()
    for j in jobs:
        key = (j.notebook, json.dumps({k: v for k, v in j.parameters.items()
                                       if k != "commissioner"}, sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        ctx = report.start(j.notebook, dict(j.parameters, commissioner=ENGLAND))
        catalogue.get(j.notebook).analyse(ctx)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", type=Path, default=Path("config/grids/default.yaml"))
    ap.add_argument("--jobs", type=int, default=None, help="parallel kernels (default: cores)")
    ap.add_argument("--only", default=None, help="run only reports whose id contains this")
    ap.add_argument("--rerun-failed", action="store_true", help="repeat the last run's failures")
    ap.add_argument("--run-id", default=None)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("--data-source", default=None,
                    help="dataset folder or synthetic:<preset>, replacing the grid's")
    a = ap.parse_args(argv)
    try:
        n_failed, out = run(a.grid, a.jobs, a.only, a.rerun_failed, a.run_id, a.timeout,
                            data_source=a.data_source)
    except (GridError, params.ParameterError) as e:
        print(f"grid error: {e}", file=sys.stderr)
        return 2
    print(f"reports written to {out} (index: {out / 'index.html'}); {n_failed} failed")
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
