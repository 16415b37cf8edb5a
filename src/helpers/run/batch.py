"""Batch runs: every notebook × every area, in one command.

    python -m helpers.run.batch --grid config/grids/default.yaml [--jobs N] [--only TEXT]
                                [--rerun-failed] [--run-id ID] [--timeout S]
                                [--scheduler local|ADDRESS]
                                [--data-source FOLDER] [--out FOLDER]

The grid is validated before anything runs (:mod:`helpers.run.grid`). Workers are started
first, each starting its kernel and importing the pack while the batch warms the national
caches (skipped when a previous run already warmed them for this data). Notebooks run with
papermill in a process pool: one reused IPC kernel per worker, an explicit kernel name,
language and working directory, a per-cell timeout and the inline chart backend
(:mod:`helpers.run.kernels`). One failure does not stop the others; the exit code is non-zero
if any failed. Each report is checked (:mod:`helpers.run.checks`), rendered to
self-contained HTML (:mod:`helpers.run.render`) and listed in ``index.html`` and
``manifest.json`` with its provenance.

A run is built in a hidden folder ``reports/.build-<run id>-<pid>`` and renamed to
``reports/<run id>`` only when complete, so a reader never sees half a run and two runs never
share a folder (run ids carry a random suffix; creation is exclusive). If the batch is
killed, its workers and kernels die with it and the next run removes what it left.
``--rerun-failed`` repeats the last run's failures into a copy of that run and refuses if the
data or the grid changed since.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import re
import secrets
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

if __name__ == "__mp_main__":             # this process is a pool worker (spawn start)
    # papermill imports pyarrow only to offer HDFS paths, which workers never use; without
    # it a worker holds about 50 MB less (papermill falls back as if pyarrow were absent)
    sys.modules.setdefault("pyarrow", None)

# Only light imports at module level: a spawned pool worker re-imports this module (as
# ``__mp_main__``), and the data stack belongs in the kernels, not in every worker. Grid,
# catalogue, report and index are imported where they are used.
from helpers.atomic import write_json_atomic, write_text_atomic
from helpers.paths import project_root, reports_dir
from helpers.run import changes, cluster, downloads, kernels, oracle_check, site, summary
from helpers.run.environment import lock_status
from helpers.run.jobs import Job
from helpers.run.worker import input_copy, prepare, run_job

PACKAGES = ["helpers", "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "papermill",
            "nbconvert", "gpboost", "pyarrow", "csdid", "duckdb"]
BUILD_PREFIX = ".build-"
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""A run id: a folder name that cannot hide (no leading dot), climb (no '/') or collide with
a build folder."""
ASIDE_SUFFIX = "-failed-reports"
"""Reports that failed their checks are moved to ``<run id>-failed-reports/``, beside the
run, never inside the published run folder."""


def new_run_id() -> str:
    """A run id: UTC time to the second plus a random suffix, unique between runs started in
    the same second."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


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


def _warm_key(job: Job) -> str:
    shared = {k: v for k, v in job.parameters.items() if k not in ("area", "publish")}
    text = json.dumps({"notebook": job.notebook, **shared}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def warm_caches(ds, jobs: list[Job]) -> list[str]:
    """Run each notebook's analysis once for England (once per distinct parameter set) so
    every report only slices cached tables and parallel kernels never race to build them.
    A marker in the data's cache folder records a completed warm-up, so a later run on the
    same data does no serial work. The analyses run in a child process, so the memory they
    take (about 1 GB on the real structure) goes back when they finish instead of staying
    with the batch for the whole run. Returns the notebooks warmed now."""
    from helpers import catalogue
    from helpers.cache import cache_folder

    todo = [(str(cache_folder(ds) / f"warm-{key}.done"), j.notebook, j.parameters)
            for key, j in {_warm_key(j): j for j in jobs}.items()
            if catalogue.get(j.notebook).warm != "none"
            and not (cache_folder(ds) / f"warm-{key}.done").exists()]
    if not todo:
        return []
    with warm_pool() as ex:
        return ex.submit(_warm, todo).result()


def warm_pool() -> ProcessPoolExecutor:
    """The warm-up's one spawned child, which dies with the batch (Linux
    ``PR_SET_PDEATHSIG``): a batch killed while it builds the national tables leaves no
    process computing on."""
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=kernels.die_with_parent)


def _warm(todo: list[tuple[str, str, dict]]) -> list[str]:
    """The warm-up itself (in :func:`warm_caches`' child process): each (marker, notebook,
    parameters) analysed for England, its marker written when it succeeds."""
    if "pyarrow" in sys.modules and sys.modules["pyarrow"] is None:
        # this child re-imported the batch as ``__mp_main__``, which keeps pyarrow out of
        # pool workers; the analyses read and write Arrow tables, so lift that block here
        del sys.modules["pyarrow"]
    from helpers import report
    from helpers.schema import ENGLAND

    warmed = []
    for marker, notebook, params in todo:
        try:
            report.analyse(report.start(notebook, dict(params, area=ENGLAND)))
        except Exception as e:   # each of its reports then fails with this message
            print(f"warming {notebook} failed ({type(e).__name__}: {e}); its reports "
                  "will say why", file=sys.stderr)
            continue
        write_text_atomic(Path(marker), notebook + "\n")
        warmed.append(notebook)
    return warmed


def _pid_of_build(folder: Path) -> int | None:
    try:
        return int(folder.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return None


def sweep_builds(out_root: Path) -> list[Path]:
    """Remove build folders of runs whose process no longer exists (killed runs)."""
    removed = []
    for d in out_root.glob(f"{BUILD_PREFIX}*"):
        pid = _pid_of_build(d)
        if d.is_dir() and pid is not None and not kernels._pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _previous_run(out_root: Path, data_hash: str, grid_sha: str, commit: str) -> tuple[str, dict]:
    """The last run's id and manifest, if it used the same data and grid."""
    from helpers.run.grid import GridError

    last = out_root / "latest.txt"
    if not last.exists():
        raise GridError(f"no previous run to repeat ({last} missing)")
    run_id = last.read_text().strip()
    manifest_file = out_root / run_id / "manifest.json"
    if not manifest_file.exists():
        raise GridError(f"the last run ({run_id}) has no manifest; run the grid again in full")
    prev = json.loads(manifest_file.read_text())
    if prev.get("data_hash") != data_hash:
        raise GridError(f"--rerun-failed refused: run {run_id} used data {prev.get('data_hash')}"
                        f", the data is now {data_hash}; run the grid again in full")
    if prev.get("git", {}).get("commit") != commit:
        raise GridError(f"--rerun-failed refused: run {run_id} was made by commit "
                        f"{str(prev.get('git', {}).get('commit'))[:10]}, the code is now "
                        f"{commit[:10]}; its pages and the new ones would not match. Run the "
                        "grid again in full")
    if prev.get("grid_sha256") != grid_sha:
        raise GridError(f"--rerun-failed refused: the grid file changed since run {run_id}; "
                        "run the grid again in full")
    return run_id, prev


def run(grid_path: Path, jobs_n: int | None = None, only: str | None = None,
        rerun_failed: bool = False, run_id: str | None = None, timeout: int = 600,
        out_root: Path | None = None, data_source: str | None = None,
        scheduler: str | None = None, compare_to: str | None = None) -> tuple[int, Path]:
    """Run a grid (``data_source`` replaces the grid's); returns (number failed, run
    folder). ``scheduler`` runs the reports on a Dask cluster (``local`` for a
    LocalCluster, or a scheduler address; :mod:`helpers.run.cluster`) instead of the local
    pool. ``compare_to`` names the earlier run of the output folder to say what changed
    since (:mod:`helpers.run.changes`; by default the latest)."""
    from helpers.run.grid import GridError, load_grid
    from helpers.sources import open_source

    out_root = Path(out_root or reports_dir())
    if run_id is not None and not RUN_ID.match(run_id):
        raise GridError(f"run id {run_id!r}: use letters, digits, '.', '_' and '-', starting "
                        "with a letter or digit (it names a folder in the output folder)")
    # everything that can refuse the run is checked before anything is written
    if scheduler:
        cluster.reachable(scheduler)
    if compare_to is not None:
        changes.previous_run(out_root, compare_to, run_id or "")
    grid, jobs = load_grid(grid_path, data_source)
    if only and not rerun_failed and not any(only in j.report_id for j in jobs):
        raise GridError(f"--only {only!r} matches no report of the grid (ids such as "
                        f"{[j.report_id for j in jobs[:3]]}); nothing was run")
    gp = Path(grid_path) if Path(grid_path).is_absolute() else project_root() / grid_path
    grid_sha = hashlib.sha256(gp.read_bytes()).hexdigest()
    ds = open_source(grid.data_source)
    made = _make_out(out_root)
    try:
        return _run(grid, jobs, ds, gp, grid_sha, out_root, jobs_n, only, rerun_failed,
                    run_id, timeout, scheduler, compare_to)
    except BaseException:
        if made:                      # a folder this run made and left empty goes again
            with contextlib.suppress(OSError):
                out_root.rmdir()
        raise


def _make_out(out_root: Path) -> bool:
    """Create the output folder if need be and check it can be written; returns whether
    it was created now (so a run that fails can remove it again)."""
    from helpers.run.grid import GridError

    made = not out_root.exists()
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        probe = out_root / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        if made:
            with contextlib.suppress(OSError):
                out_root.rmdir()
        raise GridError(f"--out {out_root}: cannot write reports there "
                        f"({e.strerror or e}); give a folder you can write to") from e
    return made


def _run(grid, jobs: list[Job], ds, gp: Path, grid_sha: str, out_root: Path,
         jobs_n: int | None, only: str | None, rerun_failed: bool, run_id: str | None,
         timeout: int, scheduler: str | None, compare_to: str | None = None
         ) -> tuple[int, Path]:
    """:func:`run` once the grid is valid and the output folder writable."""
    from helpers.run.grid import GridError
    from helpers.run.index import write_index

    sweep_builds(out_root)
    kernels.sweep_stale()
    kept: list[Job] = []
    previous = None
    git = _git()
    if rerun_failed:
        run_id, prev = _previous_run(out_root, ds.content_hash, grid_sha, git["commit"])
        failed = {r["report_id"] for r in prev["reports"] if r["status"] != "ok"}
        kept = [Job(**{"commit": prev["git"]["commit"], "dirty": prev["git"].get("dirty"),
                       **r}) for r in prev["reports"] if r["status"] == "ok"]
        jobs = [j for j in jobs if j.report_id in failed]
        previous = out_root / run_id
    elif run_id is not None and (out_root / run_id).exists():
        raise GridError(f"run id {run_id} is taken ({out_root / run_id} exists)")
    if only:
        jobs = [j for j in jobs if only in j.report_id]
        if not jobs:
            raise GridError(f"--only {only!r} matches none of the reports to run; nothing "
                            "was run")
    run_id = run_id or new_run_id()
    build = out_root / f"{BUILD_PREFIX}{run_id}-{os.getpid()}"
    if previous is not None:
        shutil.copytree(previous, build)
    else:
        build.mkdir()                         # exclusive: fails if another run holds the id
    jobs_n = max(1, min(jobs_n or os.cpu_count() or 1, max(len(jobs), 1)))
    # the local pool's workers start now, each starting its kernel and importing the pack,
    # while this process gathers provenance, lays out the site and checks the caches
    started = None if cluster.scheduler_address(scheduler) or not jobs else \
        _start_pool(min(jobs_n, len(jobs)), _oracle_file(ds))
    try:
        for j in jobs:          # each manifest row names the commit (and state) that made it
            j.commit, j.dirty = git["commit"], git["dirty"]
        # the run as a site: every area and its parents get a page; each report links up,
        # across and down (helpers.run.site)
        nodes = site.area_tree(ds, sorted({j.area for j in kept + jobs}))
        site.attach_nav(kept + jobs, nodes)
        provenance = {"run_id": run_id, "git": git, "versions": _versions(),
                      "environment": lock_status(),
                      "data_source": grid.data_source,
                      "data_hash": ds.content_hash,
                      "data_real_tables": ds.provenance.get("real_tables", []),
                      "publish": grid.publish,
                      "grid_file": str(gp.relative_to(project_root())) if gp.is_relative_to(
                          project_root()) else str(gp),
                      "grid_sha256": grid_sha}
    except BaseException:
        if started is not None:
            started[0].shutdown(cancel_futures=True)
        shutil.rmtree(build, ignore_errors=True)
        raise
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    aside = out_root / f"{run_id}{ASIDE_SUFFIX}"
    had_aside = aside.exists()
    try:
        all_jobs = kept + _execute(jobs, jobs_n, ds, str(build), timeout,
                                   dict(provenance,
                                        **oracle_check.prepare(
                                            grid.data_source, [j.area for j in kept + jobs],
                                            [str(j.parameters.get("specialty", "ALL"))
                                             for j in jobs], ds.path)),
                                   scheduler,
                                   started)
        _check_across_pages(all_jobs, build)
        oracle_check.fail_on_tree(all_jobs, nodes, grid.data_source)
        _set_aside([j for j in all_jobs if j.status != "ok"], build, aside)
        site.mark_missing_reports(all_jobs, build, {j.area for j in all_jobs if j.status != "ok"}
                                  | ({j.area for j in jobs} if rerun_failed else set()))
        site.write_search_index(build, nodes)
        # each area page: its downloads, its printable summary, then what changed
        links = downloads.write_area_downloads(build, nodes, all_jobs, provenance)
        since: dict[str, str] = {}
        compared, found = changes.write_changes(out_root, compare_to, build, nodes, all_jobs,
                                                run_id, since)
        for extra in (summary.write_summaries(build, nodes, all_jobs, provenance, found),
                      since):
            for code, html in extra.items():
                links[code] = links.get(code, "") + html
        site.write_area_pages(build, nodes, all_jobs, provenance, _badge(all_jobs), links)
        manifest = {**provenance, "compared_to": compared, "started": started_at,
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                    "reports": [{k: v for k, v in asdict(j).items() if k != "nav"}
                                for j in sorted(all_jobs, key=lambda j: j.report_id)]}
        write_json_atomic(build / "manifest.json", manifest)
        write_index(build, all_jobs, provenance, site=True, nodes=nodes)
        final = out_root / run_id
        if previous is not None:
            old = out_root / f"{BUILD_PREFIX}old-{run_id}-{os.getpid()}"
            os.rename(previous, old)
            os.rename(build, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if final.exists():
                raise GridError(f"run id {run_id} was taken while this run was building")
            os.rename(build, final)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        if not had_aside:                 # no stray set-aside folder of a run that is gone
            shutil.rmtree(aside, ignore_errors=True)
        raise
    failed = [j for j in all_jobs if j.status != "ok"]
    for j in failed:
        print(f"FAILED {j.report_id}: {j.error.splitlines()[0] if j.error else ''}",
              file=sys.stderr)
    if len(failed) < len(all_jobs):   # the latest run is one with at least one report
        write_text_atomic(out_root / "latest.txt", run_id + "\n")
    else:
        print(f"no report succeeded: run {run_id} is kept in {final} for its errors, but "
              f"not published as the latest run", file=sys.stderr)
    return len(failed), final


def _badge(jobs: list[Job]) -> str:
    """The data badge of a run whose reports all have one kind of data."""
    from helpers.formats import BADGES
    from helpers.run.index import BADGE_COLOURS

    kinds = {j.data_kind for j in jobs if j.data_kind}
    kind = kinds.pop() if len(kinds) == 1 else ""
    if kind not in BADGES:
        return ""
    return (f'<span class="badge" style="background:{BADGE_COLOURS[kind]}">'
            f"{BADGES[kind]}</span>")


def _check_across_pages(jobs: list[Job], build: Path) -> None:
    """Fail the reports whose facts disagree with the area's other pages, or with the
    parent network's page (:func:`helpers.run.semantic.cross_page_findings`)."""
    from helpers.run.semantic import cross_page_findings

    facts, where = {}, {}
    for j in jobs:
        if j.status != "ok" or "results" not in j.files:
            continue
        path = build / j.files["results"]
        if not path.exists():   # never expected: a finished report's files went missing
            j.status = "failed"
            j.error = (f"RuntimeError: the report finished but its results file is missing "
                       f"({j.files['results']}); run it again with --rerun-failed")
            continue
        res = json.loads(path.read_text())
        w = res.get("where") or {}
        facts[j.report_id] = res.get("facts") or {}
        where[j.report_id] = (w.get("code", j.area), w.get("level", ""), w.get("network", ""))
    for rid, findings in cross_page_findings(facts, where).items():
        j = next(j for j in jobs if j.report_id == rid)
        j.status = "failed"
        j.error = "RuntimeError: semantic check: " + "; ".join(findings)


def _set_aside(failed: list[Job], build: Path, aside: Path) -> None:
    """Move what failed reports left (a page that failed its checks, the executed notebook,
    a results file) out of the run folder to ``aside``, so a published run holds only
    reports that passed every check; each failure's error says where its files are."""
    for j in failed:
        for rel in list(j.files.values()):
            src = build / rel
            if src.exists():
                dest = aside / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
        if j.files:
            j.error += f" (its files are kept aside in {aside})"
        j.files = {}


def _oracle_file(ds) -> str:
    """Where the oracle's facts of the run's data are cached (there already when an
    earlier run used this data and oracle; else written by this run's preparation)."""
    from helpers.oracle.compute import facts_file

    return str(facts_file(Path(ds.path)))


def _start_pool(n: int, facts: str | None = None) -> tuple[ProcessPoolExecutor, list]:
    """A pool of ``n`` spawned workers, each starting and warming its kernel at once (the
    futures say when each is ready), meanwhile importing what its reports use and reading
    the oracle's ``facts`` file if it is there (:func:`helpers.run.worker.prepare`).
    Spawned, not forked: a fork would inherit the parent's event loop and any kernel it
    holds, which kernels and zmq do not survive."""
    ready_worker = functools.partial(prepare, facts) if facts else prepare
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=kernels.init_worker, initargs=(True, ready_worker))
    return pool, [pool.submit(kernels.ready) for _ in range(n)]


def _execute(jobs: list[Job], jobs_n: int, ds, out_dir: str, timeout: int,
             provenance: dict, scheduler: str | None = None,
             started: tuple[ProcessPoolExecutor, list] | None = None) -> list[Job]:
    """Start the workers (each warming its kernel) unless ``started`` holds them already,
    warm the caches meanwhile, then run the reports in the pool, or on a Dask cluster
    (``scheduler``); returns the finished jobs."""
    done: list[Job] = []
    if not jobs:
        if started is not None:
            started[0].shutdown(cancel_futures=True)
        return done
    from tqdm import tqdm

    address = cluster.scheduler_address(scheduler)
    # connected before the progress bar starts, so a scheduler that does not answer is
    # the last line the run prints
    client, local = cluster.connect(address, jobs_n) if address else (None, None)
    bar = tqdm(total=len(jobs), desc="reports", unit="report", file=sys.stderr)
    if address:
        def finished(j: Job) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{j.report_id} {j.status}")

        try:
            return cluster.execute(jobs, client, lambda: warm_caches(ds, jobs), out_dir,
                                   timeout, provenance, finished)
        finally:
            client.close()
            if local is not None:
                local.close()
            bar.close()
    try:           # the bar closed however the run ends, so an interruption's message
        # is the last line printed
        pending, tries, warmed = list(jobs), dict.fromkeys((j.report_id for j in jobs), 0), False
        while pending:
            lost: list[Job] = []
            pool, starting = started or _start_pool(min(jobs_n, len(pending)))
            started = None
            with pool:
                if not warmed:
                    warm_caches(ds, jobs)
                    warmed = True
                futures = {pool.submit(run_job, j, out_dir, timeout, provenance): j
                           for j in pending}
                for f in starting:
                    with contextlib.suppress(BrokenProcessPool):
                        f.result()
                for f in as_completed(futures):
                    try:
                        j = f.result()
                    except BrokenProcessPool:     # a worker died (killed, out of memory)
                        lost.append(futures[f])
                        continue
                    done.append(j)
                    bar.update(1)
                    bar.set_postfix_str(f"{j.report_id} {j.status}")
            # a dead worker takes the pool with it: the reports it had not finished are run
            # again in a new pool. Only a report that was running when a worker died is
            # charged for it (its input copy is still there); one charged twice is failed,
            # and the run goes on. Queued reports are never charged for another's death.
            pending = []
            running = {j.report_id for j in lost if input_copy(j, out_dir).exists()}
            for j in lost:
                input_copy(j, out_dir).unlink(missing_ok=True)
                if j.report_id in running or not running:   # none marked: charge all, so
                    tries[j.report_id] += 1                  # the run always ends
                if tries[j.report_id] < 2:
                    pending.append(j)
                else:
                    j.status = "failed"
                    j.error = ("WorkerLost: the process running this report died twice (killed, "
                               "or out of memory); it was not tried a third time")
                    done.append(j)
                    bar.update(1)
    finally:
        bar.close()
    return done


PATH_SETTINGS = {"PACK_ROOT": "the project folder (holding notebooks/)",
                 "PACK_DATA": "the data folder", "PACK_REPORTS": "the reports folder",
                 "PACK_SHARED": "the shared reference folder"}
"""Environment variables naming folders (:mod:`helpers.paths`), and what each names."""


def check_environment(environ: dict | None = None) -> None:
    """Every environment variable the pack reads, checked before a run starts: a folder
    setting must name a folder (PACK_ROOT one holding ``notebooks/``; PACK_DATA and
    PACK_REPORTS one that exists or can be made in an existing folder), and
    ``PACK_TABLE_MEMO_MB`` a number of 0 or more (:func:`helpers.cache.memo_megabytes`).
    Raises :class:`helpers.cache.SettingError` naming the variable."""
    from helpers.cache import SettingError, memo_megabytes

    env = os.environ if environ is None else environ
    memo_megabytes(env.get("PACK_TABLE_MEMO_MB", ""))
    for name, what in PATH_SETTINGS.items():
        raw = env.get(name)
        if not raw:
            continue
        path = Path(raw)
        if "\x00" in raw or (path.exists() and not path.is_dir()):
            raise SettingError(f"{name}={raw!r} is not a folder; it should name {what}")
        if name == "PACK_ROOT" and not (path / "notebooks").is_dir():
            raise SettingError(f"{name}={raw!r} has no notebooks/ folder; it should name "
                               f"{what}")
        if name in ("PACK_DATA", "PACK_REPORTS") and not path.exists() and \
                not path.resolve().parent.is_dir():
            raise SettingError(f"{name}={raw!r}: neither it nor its parent folder exists; "
                               f"it should name {what}")


def output_error(e: OSError) -> str:
    """An output failure in one line: what went wrong and where ('no space left on device
    (/reports/x/index.html)')."""
    import errno

    words = {errno.ENOSPC: "no space left on device",
             errno.EFBIG: "a file is larger than the file-size limit (ulimit -f)",
             errno.EACCES: "permission denied", errno.EROFS: "read-only file system",
             errno.EDQUOT: "disk quota exceeded"}
    what = words.get(e.errno, e.strerror or type(e).__name__)
    where = e.filename or ""
    return f"{what} ({where})" if where else what


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
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for run folders (default: reports/)")
    ap.add_argument("--scheduler", default=None,
                    help="run the reports on Dask: 'local' (a LocalCluster of --jobs "
                         "workers) or a scheduler address such as tcp://host:8786 "
                         "(default: Dask's scheduler-address setting, else the local pool)")
    ap.add_argument("--compare-to", default=None, metavar="RUN_ID",
                    help="say what changed since this earlier run of the --out folder "
                         "(default: its latest run)")
    a = ap.parse_args(argv)
    from helpers import params
    from helpers.cache import SettingError
    from helpers.run.grid import GridError

    try:
        check_environment()
        n_failed, out = run(a.grid, a.jobs, a.only, a.rerun_failed, a.run_id, a.timeout,
                            out_root=a.out, data_source=a.data_source,
                            scheduler=a.scheduler, compare_to=a.compare_to)
    except (GridError, params.ParameterError) as e:
        print(f"grid error: {e}", file=sys.stderr)
        return 2
    except cluster.SchedulerError as e:
        print(f"scheduler error: {e}", file=sys.stderr)
        return 2
    except SettingError as e:
        print(f"environment error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the run was stopped and nothing was published", file=sys.stderr)
        return 130
    except OSError as e:              # disk full, a file-size limit, permissions
        print(f"output error: {output_error(e)}; the run was stopped and nothing was "
              "published", file=sys.stderr)
        return 1
    print(f"reports written to {out} (index: {out / 'index.html'}); {n_failed} failed")
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
