"""Every network of a dataset as one site, built as the national site would be, measured.

The grid is ``make quality-networks``'s (:mod:`helpers.run.sample_grid` with every
commissioner: England, every commissioner, every network, every closed practice, the 10
smallest and largest practices and a random 100; every notebook; publish mode). It runs on a
Dask LocalCluster (``--scheduler local``) or the local pool, measured as a whole process
tree (:func:`_tree.run_tree`: wall time, CPU of every process, peak memory as summed PSS);
then the independent oracle checks the finished run (:mod:`helpers.run.oracle_check`),
timed on its own. From the run: reports by status, level and notebook; page bytes by level
(mean, largest); the run folder on disk; core-seconds a report.

The national site (England, 42 commissioners, 1,284 networks, about 6,500 practices, every
notebook that runs on the data) is projected from it: bytes from the mean page of each
level; core-seconds from each level's mean report time scaled to the tree's CPU (so the
start, the checks and the kernels' own work are in it); minutes at 16 cores at the parallel
efficiency measured on 16 jobs (90%, ``docs/benchmarks.md``).

    python bench_national.py [--data synthetic:england] [--scheduler local] [--jobs 2]
                             [--commissioners all]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from _tree import run_tree

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
NATIONAL_AREAS = {"england": 1, "commissioner": 42, "network": 1_284, "practice": 6_500}
"""Areas of synthetic England at each level (the site the pack would publish)."""
EFFICIENCY_16 = 0.90
"""Parallel efficiency of the batch at 16 jobs (docs/benchmarks.md, the efficiency run)."""


def measure(data: str, scheduler: str | None, jobs: int, out: Path,
            commissioners: str = "all") -> dict:
    """Run the grid, check it with the oracle, and read the run back."""
    grid = out / "grid.yaml"
    subprocess.run([sys.executable, "-m", "helpers.run.sample_grid", "--data", data,
                    "--out", str(grid), "--commissioners", commissioners], cwd=ROOT,
                   check=True)
    cmd = [sys.executable, "-m", "helpers.run.batch", "--grid", str(grid), "--jobs",
           str(jobs), "--out", str(out), "--run-id", "national"]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    tree = run_tree(cmd, ROOT)
    run = out / "national"
    t0 = time.perf_counter()
    oracle = subprocess.run([sys.executable, "-m", "helpers.run.oracle_check", str(run)],
                            cwd=ROOT, capture_output=True, text=True)
    oracle_s = time.perf_counter() - t0
    man = json.loads((run / "manifest.json").read_text())
    reps = man["reports"]
    pages: dict[str, list[int]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    for r in reps:
        if r["status"] == "ok":
            pages[r["level"]].append((run / r["files"]["html"]).stat().st_size)
            seconds[r["level"]].append(r["duration_s"])
    disk = sum(f.stat().st_size for f in run.rglob("*") if f.is_file())
    ok = sum(len(v) for v in pages.values())
    return {
        "data": data, "scheduler": scheduler or "local pool", "jobs": jobs,
        "commit": man["git"], "reports": len(reps),
        "status": dict(Counter(r["status"] for r in reps)),
        "by_level": dict(Counter(r["level"] for r in reps if r["status"] == "ok")),
        "by_notebook": dict(Counter(r["notebook"] for r in reps if r["status"] == "ok")),
        "wall_s": round(tree["wall_s"], 1), "cpu_s": round(tree["cpu_s"], 1),
        "core_s_per_report": round(tree["cpu_s"] / max(ok, 1), 3),
        "reports_per_min": round(60 * ok / tree["wall_s"], 1),
        "peak_pss_mb": round(tree["peak_pss_mb"]), "peak_uss_mb": {
            k: round(v) for k, v in tree["peak_uss_mb"].items()},
        "page_kb": {lv: {"n": len(v), "mean": round(statistics.mean(v) / 1e3, 1),
                         "largest": round(max(v) / 1e3, 1)} for lv, v in pages.items()},
        "report_s": {lv: round(statistics.mean(v), 3) for lv, v in seconds.items()},
        "run_folder_mb": round(disk / 1e6, 1),
        "oracle": {"rc": oracle.returncode, "seconds": round(oracle_s, 1),
                   "last_lines": (oracle.stdout + oracle.stderr).strip().splitlines()[-3:]},
        "batch_rc": tree["rc"], "batch_tail": tree["stderr"].strip().splitlines()[-2:],
    }


def project(m: dict, notebooks: int) -> dict:
    """The national site from the measured run: bytes, core-hours, minutes at 16 cores."""
    levels = [lv for lv in NATIONAL_AREAS if lv in m["page_kb"]]
    n = {lv: NATIONAL_AREAS[lv] * notebooks for lv in levels}
    page_bytes = sum(n[lv] * m["page_kb"][lv]["mean"] * 1e3 for lv in levels)
    # each level's mean report time, scaled so the measured run's reports add to its CPU
    measured = sum(m["by_level"][lv] * m["report_s"][lv] for lv in levels)
    scale = m["cpu_s"] / measured
    core_s = sum(n[lv] * m["report_s"][lv] * scale for lv in levels)
    return {"reports": sum(n.values()), "pages_gb": round(page_bytes / 1e9, 2),
            "core_hours": round(core_s / 3600, 2),
            "minutes_at_16_cores": round(core_s / (16 * EFFICIENCY_16) / 60, 1),
            "core_s_per_report": round(core_s / sum(n.values()), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="synthetic:england")
    ap.add_argument("--scheduler", default="local", help="'local' (Dask) or 'pool'")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--commissioners", default="all",
                    help="every network of this many commissioners ('all': the national "
                         "grid of make quality-networks; 2: make quality's)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-national")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    m = measure(a.data, None if a.scheduler == "pool" else a.scheduler, a.jobs, a.out,
                a.commissioners)
    m["commissioners"] = a.commissioners
    m["national"] = project(m, notebooks=len(m["by_notebook"]))
    RESULTS.mkdir(exist_ok=True)
    name = ("national-" + a.data.replace("synthetic:", "").replace("/", "_")
            + ("" if a.commissioners == "all" else f"-{a.commissioners}") + ".json")
    (RESULTS / name).write_text(json.dumps(m, indent=1) + "\n")
    print(json.dumps(m, indent=1))


if __name__ == "__main__":
    main()
