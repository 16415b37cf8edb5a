"""The batch runner at scale, measured as a whole process tree (batch, workers, kernels).

Sections (``--sections``, default all):

* ``efficiency``: the default grid (every notebook × every commissioner + England, 172
  reports) with ``--jobs`` 1, 2, 4, 8, 16, as many as the machine has cores for; wall time,
  speed-up, parallel efficiency T1 / (N × TN), CPU of the whole tree, peak memory (PSS), and
  the marginal core-seconds per report (difference between the whole grid and a 36-report
  part of it, both warm). Goals: efficiency ≥ 90% at 16 jobs; ≤ 1.0 core-s per report.
* ``naive``: the naive loop a user would write (papermill CLI, then nbconvert CLI, per report)
  on a sample of the grid, run as N such loops side by side at the same process counts,
  scaled to the whole grid. Goal: the batch ≥ 5× faster at equal process counts.
* ``small``: 1 and 6 reports of notebook 01 at one process on the local pool and on a Dask
  LocalCluster, and the naive loop on the same 6: fixed start, marginal core-s per report,
  speed-up. Goals (issue 37): fixed start ≤ 3 s, marginal ≤ 0.5 core-s, ≥ 6× the naive
  loop.
* ``networks``: notebook 01 for every network of synthetic England (1,284 reports), measured;
  notebooks 00, 02 and 03 estimated from their cost relative to 01 on every network of one
  commissioner (measured, all four notebooks). This is also the long run for memory growth.
* ``practices``: every notebook for every practice of one commissioner (Q05), measured; a
  per-practice national run (4 × 6,500 reports) estimated from it.
* ``site``: the site of one whole commissioner of synthetic England (Q14: the commissioner,
  its 9 networks and 51 practices, every notebook): build rate, page sizes by level, the
  site's size and the link check's time; the national site (England, 42 commissioners,
  1,284 networks, 6,500 practices) projected from them.

Memory at more jobs than the machine has cores is projected, not measured, two ways: from
the tree's measured peak (batch + shared pages + N × the measured memory per worker-kernel
pair), and a worst case in which every worker and kernel is at its own peak at once (batch +
shared + N × (largest worker + largest kernel unique memory)). Results go to
``results/batch.json`` and are printed; ``docs/benchmarks.md`` quotes them.

    python bench_batch.py [--sections efficiency,naive,networks,practices] [--naive-sample 12]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _measure import report
from _tree import run_tree

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CORES = os.cpu_count() or 1
TMP = Path(tempfile.mkdtemp(prefix="bench-batch-"))


def _grid(name: str, areas: str, notebooks: str = "all") -> Path:
    path = TMP / f"{name}.yaml"
    path.write_text(f"data_source: synthetic:england\npublish: true\nareas: {areas}\n"
                    f"notebooks: {notebooks}\n")
    return path


def batch(grid: Path, jobs: int, only: str | None = None,
          scheduler: str | None = None) -> dict:
    """Run one batch (its own output folder) and measure its process tree."""
    out = Path(tempfile.mkdtemp(dir=TMP))
    cmd = [sys.executable, "-m", "helpers.run.batch", "--grid", str(grid), "--jobs", str(jobs),
           "--out", str(out), "--run-id", "bench"]
    if only:
        cmd += ["--only", only]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    m = run_tree(cmd, ROOT)
    man = json.loads((out / "bench" / "manifest.json").read_text())
    reps = man["reports"]
    m.update(n=len(reps), failed=sum(r["status"] != "ok" for r in reps), reports=reps,
             out=out / "bench")
    if m["failed"]:
        print(f"  {m['failed']} reports failed, e.g. "
              f"{next(r['error'] for r in reps if r['status'] != 'ok')[:300]}", file=sys.stderr)
    return m


def _mb(x: float) -> int:
    return int(round(x))


def _growth(m: dict) -> dict:
    """Largest growth of any worker and any kernel over its life (MB): its unique memory at
    the end against a third of the way through (after start-up and first reports)."""
    out = {}
    for role in ("worker", "kernel"):
        g = [s[-1] - s[len(s) // 3] for r, s in m["uss_series_mb"] if r == role and len(s) >= 6]
        out[role] = _mb(max(g, default=0))
    return out


def _projected(m: dict, jobs: int) -> int:
    """Memory at ``jobs`` jobs: batch + jobs × (worker + kernel USS) + shared pages."""
    u = m["peak_uss_mb"]
    return _mb(u.get("batch", 0) + jobs * (u.get("worker", 0) + u.get("kernel", 0))
               + m["shared_at_peak_mb"])


def projected_wall(durations: list[float], serial_s: float, jobs: int) -> float:
    """Wall time of a run at ``jobs`` jobs, projected (not measured): its measured serial
    part (start-up, cache check, site pages, index) plus its reports, each taking the time
    it took at one process, handed out in the grid's order to whichever worker is free
    first, as the pool and Dask do. Assumes the workers do not slow each other (enough
    cores, memory bandwidth and disk), which only a machine with that many cores can
    confirm."""
    import heapq

    free = [0.0] * jobs
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return serial_s + max(free)


def efficiency(rows: dict, targets: dict) -> dict:
    grid = _grid("default", "all")
    batch(grid, min(2, CORES), only="/q01")       # every notebook's caches warm before timing
    counts = [n for n in (1, 2, 4, 8, 16) if n <= CORES]
    runs = {n: batch(grid, n) for n in counts}
    t1 = runs[1]["wall_s"]
    for n, m in runs.items():
        rows[f"default grid, --jobs {n}: reports / failed"] = f"{m['n']} / {m['failed']}"
        rows[f"default grid, --jobs {n}: wall s"] = round(m["wall_s"], 1)
        rows[f"default grid, --jobs {n}: speed-up, efficiency"] = \
            f"{t1 / m['wall_s']:.2f}×, {t1 / (n * m['wall_s']):.0%}"
        rows[f"default grid, --jobs {n}: CPU of the tree s"] = round(m["cpu_s"], 1)
        rows[f"default grid, --jobs {n}: peak memory (PSS) MB"] = _mb(m["peak_pss_mb"])
    for n in counts:                               # the same grid on a Dask LocalCluster
        m = batch(grid, n, scheduler="local")
        runs[("cluster", n)] = m
        rows[f"default grid on a LocalCluster, --jobs {n}: reports / failed"] = \
            f"{m['n']} / {m['failed']}"
        rows[f"default grid on a LocalCluster, --jobs {n}: wall s (local pool {runs[n]['wall_s']:.1f})"] = \
            round(m["wall_s"], 1)
        rows[f"default grid on a LocalCluster, --jobs {n}: CPU of the tree s"] = \
            round(m["cpu_s"], 1)
        rows[f"default grid on a LocalCluster, --jobs {n}: peak memory (PSS) MB"] = \
            _mb(m["peak_pss_mb"])
    one = runs[1]
    durations = [r["duration_s"] for r in one["reports"]]
    serial = one["wall_s"] - sum(durations)
    rows["default grid, --jobs 1: serial part (wall − the reports' own times) s"] = \
        round(serial, 1)
    site = durations * (31_000 // len(durations) + 1)    # about the national site's size
    for n in (4, 8, 16):
        if n > CORES:
            rows[f"default grid, --jobs {n}"] = f"not measured: the machine has {CORES} cores"
        t = projected_wall(durations, serial, n)
        rows[f"default grid, --jobs {n}, projected: wall s, efficiency"] = \
            f"{t:.1f}, {t1 / (n * t):.0%}"
        t_site = projected_wall(site, serial, n)
        rows[f"a national site of {len(site):,} reports (the grid's, repeated), --jobs {n}, "
             "projected: wall min, efficiency"] = \
            f"{t_site / 60:.0f}, {projected_wall(site, serial, 1) / (n * t_site):.0%}"
    targets["default grid, --jobs 16: speed-up, efficiency"] = "≥ 90%"
    part = batch(grid, 1, only="/q0")
    full = runs[1]
    marginal = (full["cpu_s"] - part["cpu_s"]) / (full["n"] - part["n"])
    rows["marginal cost per report, warm (core-s)"] = round(marginal, 2)
    targets["marginal cost per report, warm (core-s)"] = "≤ 1.0"
    rows["fixed cost of a run (start-up, pool, kernels) core-s"] = \
        round(part["cpu_s"] - marginal * part["n"], 1)
    by_nb: dict[str, list] = {}
    for r in full["reports"]:
        by_nb.setdefault(r["notebook"], []).append(r["duration_s"])
    for nb, d in sorted(by_nb.items()):
        rows[f"report wall time in a worker, {nb}: median s"] = sorted(d)[len(d) // 2]
    m = runs[max(counts)]
    u = m["peak_uss_mb"]
    rows["unique memory (USS) per process: batch / worker / kernel MB"] = \
        f"{_mb(u.get('batch', 0))} / {_mb(u.get('worker', 0))} / {_mb(u.get('kernel', 0))}"
    rows["shared pages at the peak MB"] = _mb(m["shared_at_peak_mb"])
    n_max = max(counts)
    per_pair = (m["peak_pss_mb"] - u.get("batch", 0) - m["shared_at_peak_mb"]) / n_max
    for n in (4, 8, 16):
        rows[f"memory at --jobs {n}, projected from the tree's peak MB"] = _mb(
            u.get("batch", 0) + m["shared_at_peak_mb"] + n * per_pair)
        rows[f"memory at --jobs {n}, worst case (every process at its own peak) MB"] = \
            _projected(m, n)
    targets["memory at --jobs 16, projected from the tree's peak MB"] = "≤ 6,144"
    return runs


def _naive_one(nb: str, area: str, out: Path) -> None:
    o = out / f"{nb}-{area}.ipynb"
    subprocess.run([str(BIN / "papermill"), f"notebooks/{nb}.ipynb", str(o), "-k", "python3",
                    "-p", "area", area, "-p", "publish", "True", "--no-progress-bar"],
                   cwd=ROOT, check=True, capture_output=True)
    subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(o)],
                   cwd=ROOT, check=True, capture_output=True)


def naive(rows: dict, targets: dict, runs: dict, sample_n: int) -> None:
    grid = [(r["notebook"], r["area"]) for r in runs[1]["reports"]]
    counts = sorted(n for n in runs if isinstance(n, int))
    step = max(1, len(grid) // sample_n)
    sample = grid[::step][:sample_n]
    for n in counts:
        out = Path(tempfile.mkdtemp(dir=TMP))
        chunks = [sample[i::n] for i in range(n)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(n) as ex:        # n naive loops side by side
            list(ex.map(lambda c, out=out: [_naive_one(nb, a, out) for nb, a in c], chunks))
        wall = (time.perf_counter() - t0) * len(grid) / len(sample)
        rows[f"naive loop, {n} side by side, whole grid (scaled from {len(sample)}) s"] = \
            round(wall, 1)
        rows[f"batch speed-up over the naive loop at {n} processes"] = \
            f"{wall / runs[n]['wall_s']:.1f}×"
        targets[f"batch speed-up over the naive loop at {n} processes"] = "≥ 5×"
        if ("cluster", n) in runs:
            rows[f"LocalCluster speed-up over the naive loop at {n} processes"] = \
                f"{wall / runs[('cluster', n)]['wall_s']:.1f}×"
            targets[f"LocalCluster speed-up over the naive loop at {n} processes"] = "≥ 5×"


def small(rows: dict, targets: dict, repeats: int = 3) -> None:
    """Small runs, as an analyst runs most: 1 and 6 reports of notebook 01 at one process,
    on the local pool and on a Dask LocalCluster, and the naive loop on the same 6; caches
    warm. Fixed start = the 1-report run's wall time minus its report's time in the worker
    (best of ``repeats``); marginal = (CPU of the 6-report run − CPU of the 1-report run)
    / 5, each 6-report run paired with the 1-report run just before it, the median of the
    pairs (a difference of two best-of-3 totals moved far more with the machine's load)."""
    one = _grid("one", "[Q01]", "[01_referral_variation]")
    six = _grid("six", "[Q01, Q02, Q03, Q04, Q05, Q06]", "[01_referral_variation]")
    batch(one, 1)                                       # caches built, not timed
    naive_out = Path(tempfile.mkdtemp(dir=TMP))
    t0 = time.perf_counter()
    for area in ("Q01", "Q02", "Q03", "Q04", "Q05", "Q06"):
        _naive_one("01_referral_variation", area, naive_out)
    naive_s = time.perf_counter() - t0
    rows["naive loop, 6 reports of 01, 1 process s"] = round(naive_s, 1)
    for label, sched in (("local pool", None), ("Dask LocalCluster", "local")):
        pairs = [(batch(one, 1, scheduler=sched), batch(six, 1, scheduler=sched))
                 for _ in range(repeats)]
        o = min((a for a, _ in pairs), key=lambda m: m["wall_s"])
        x = min((b for _, b in pairs), key=lambda m: m["wall_s"])
        fixed = o["wall_s"] - o["reports"][0]["duration_s"]
        marginal = statistics.median((b["cpu_s"] - a["cpu_s"]) / 5 for a, b in pairs)
        rows[f"{label}: fixed start s"] = round(fixed, 2)
        rows[f"{label}: marginal core-s per report (01)"] = round(marginal, 2)
        rows[f"{label}: 6 reports of 01, 1 process s"] = round(x["wall_s"], 1)
        rows[f"{label}: speed-up over the naive loop on 6 reports"] = \
            f"{naive_s / x['wall_s']:.1f}×"
        targets[f"{label}: fixed start s"] = "≤ 3"
        targets[f"{label}: marginal core-s per report (01)"] = "≤ 0.5"
        targets[f"{label}: speed-up over the naive loop on 6 reports"] = "≥ 6×"


def networks(rows: dict, targets: dict) -> None:
    local = batch(_grid("q05-networks", "networks in Q05"), min(2, CORES))
    per_nb: dict[str, list] = {}
    for r in local["reports"]:
        per_nb.setdefault(r["notebook"], []).append(r["duration_s"])
    mean = {nb: sum(d) / len(d) for nb, d in per_nb.items()}
    n_net = len(per_nb["01_referral_variation"])
    rows[f"every network of Q05, 4 notebooks ({local['n']} reports), --jobs 2: wall s"] = \
        round(local["wall_s"], 1)
    rows["every network of Q05: failed"] = local["failed"]
    every = batch(_grid("all-networks-01", "networks", "[01_referral_variation]"),
                  min(2, CORES))
    rows[f"notebook 01 × every network of England ({every['n']}), --jobs 2: wall s"] = \
        round(every["wall_s"], 1)
    rows["every network of England, notebook 01: failed"] = every["failed"]
    rows["every network, notebook 01: reports per minute"] = round(every["n"] / every["wall_s"] * 60, 1)
    rows["every network, notebook 01: CPU per report core-s"] = round(every["cpu_s"] / every["n"], 2)
    rows["every network, notebook 01: peak memory (PSS) MB"] = _mb(every["peak_pss_mb"])
    g = _growth(every)
    rows["every network, notebook 01: growth over the run, worst worker / kernel MB"] = f"{g['worker']} / {g['kernel']}"
    targets["every network, notebook 01: growth over the run, worst worker / kernel MB"] = \
        "no growth"
    base = every["wall_s"] / mean["01_referral_variation"]
    total = 0.0
    for nb in sorted(mean):
        est = base * mean[nb]
        total += est
        rows[f"{nb} × every network, --jobs 2" + (" (estimated)" if not nb.startswith("01")
                                                      else "") + " s"] = round(est, 1)
    rows["all 4 notebooks × every network, --jobs 2 (estimated) min"] = round(total / 60, 1)
    rows["networks in Q05"] = n_net


def practices(rows: dict, targets: dict) -> None:
    m = batch(_grid("q05-practices", "practices in Q05"), min(2, CORES))
    n_pr = m["n"] // 4
    rows[f"every practice of Q05 ({n_pr}) × 4 notebooks ({m['n']} reports), --jobs 2: wall s"] \
        = round(m["wall_s"], 1)
    rows["every practice of Q05: failed"] = m["failed"]
    per = m["cpu_s"] / m["n"]
    rows["every practice of Q05: CPU per report core-s"] = round(per, 2)
    n_all = 4 * 6500
    rows[f"per-practice national run ({n_all:,} reports) estimated, --jobs 2 h"] = \
        round(n_all * m["wall_s"] / m["n"] / 3600, 1)
    rows["per-practice national run estimated, 16 cores at 90% efficiency min"] = \
        round(n_all * per / (16 * 0.9) / 60, 0)


DEFAULT_SECTIONS = "efficiency,naive,networks,practices"
NATIONAL = {"england": 1, "commissioner": 42, "network": 1284, "practice": 6500}


def site(rows: dict, targets: dict) -> None:
    """One commissioner's whole site, built and link-checked; the national site projected."""
    from helpers.run.site import broken_links

    grid = TMP / "site-q14.yaml"
    grid.write_text("data_source: synthetic:england\npublish: true\nnotebooks: all\n"
                    'areas: [Q14, "networks in Q14", "practices in Q14"]\n')
    jobs = min(2, CORES)
    m = batch(grid, jobs)
    out = m["out"]
    n_areas = len({r["area"] for r in m["reports"]})
    rows[f"site of Q14 ({n_areas} areas, {m['n']} reports), --jobs {jobs}: wall s"] = \
        round(m["wall_s"], 1)
    rows["site of Q14: failed"] = m["failed"]
    rows["site of Q14: reports a minute"] = round(60 * m["n"] / m["wall_s"], 1)
    per = m["cpu_s"] / m["n"]
    rows["site of Q14: CPU per report core-s (whole tree)"] = round(per, 2)
    t = time.perf_counter()
    bad = broken_links(out)
    rows["site of Q14: link check s"] = round(time.perf_counter() - t, 1)
    rows["site of Q14: broken links"] = len(bad)
    sizes: dict[str, list[int]] = {}
    for r in m["reports"]:
        if r["status"] == "ok":
            sizes.setdefault(r["level"], []).append((out / r["files"]["html"]).stat().st_size)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    rows["site of Q14: size on disk MB (pages, notebooks, results, index)"] = \
        round(total / 1e6, 1)
    html = sum(sum(v) for v in sizes.values())
    for level, v in sorted(sizes.items()):
        rows[f"site of Q14: {level} page KB, mean / largest"] = \
            f"{sum(v) / len(v) / 1e3:.0f} / {max(v) / 1e3:.0f}"
    largest = max(max(v) for v in sizes.values())
    rows["largest page MB (budget 2.0)"] = round(largest / 1e6, 2)
    targets["largest page MB (budget 2.0)"] = "≤ 2.0"
    # national: reports by level × the measured mean page (a commissioner's and England's
    # pages from Q14's own), and the whole tree's core-seconds a report
    n_nat = 4 * sum(NATIONAL.values())
    mean = {lv: sum(v) / len(v) for lv, v in sizes.items()}
    mean.setdefault("england", mean.get("commissioner", 0))
    pages = sum(4 * NATIONAL[lv] * mean.get(lv, 0) for lv in NATIONAL)
    rows[f"national site ({n_nat:,} reports): pages GB, projected"] = round(pages / 1e9, 1)
    rows["national site: on disk GB (pages, notebooks, results), projected"] = \
        round(total / html * pages / 1e9, 1)
    rows[f"national site at --jobs {jobs}: h, projected"] = \
        round(n_nat * m["wall_s"] / m["n"] / 3600, 1)
    rows["national site on 16 cores at 90% efficiency: min, projected"] = \
        round(n_nat * per / (16 * 0.9) / 60, 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sections", default=DEFAULT_SECTIONS)
    ap.add_argument("--naive-sample", type=int, default=12)
    a = ap.parse_args()
    secs = a.sections.split(",")
    rows: dict = {"machine cores": CORES}
    targets: dict = {}
    runs = efficiency(rows, targets) if "efficiency" in secs or "naive" in secs else {}
    if "naive" in secs:
        naive(rows, targets, runs, a.naive_sample)
    if "small" in secs:
        small(rows, targets)
    if "networks" in secs:
        networks(rows, targets)
    if "practices" in secs:
        practices(rows, targets)
    if "site" in secs:
        site(rows, targets)
    # a run of some sections keeps its own results file beside the full run's
    report("batch" if a.sections == DEFAULT_SECTIONS else "batch-" + "-".join(secs), rows,
           targets)
