"""The whole report grid against the naive loop a user would write.

Grid (config/grids/analyses.yaml): notebooks 01-03 × every commissioner of synthetic
England + England, via
``helpers.run.batch`` (process pool, IPC kernels, national tables cached once). Naive loop:
``papermill`` CLI then ``jupyter nbconvert --to html`` CLI for each report, one after another.
Targets (2 cores): ≥ 4× faster than the naive loop; ≤ 8 minutes for the whole grid; peak
memory per kernel ≤ 1.5 GB.

``--naive-sample N`` times the naive loop on N reports (spread over the grid) and scales to
the full grid, for a quicker run; the default runs it on the whole grid.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import report

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_grid(jobs: int) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "helpers.run.batch", "--grid",
                           "config/grids/analyses.yaml", "--jobs", str(jobs), "--run-id",
                           "bench-grid"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    man = json.loads((ROOT / "reports" / "bench-grid" / "manifest.json").read_text())
    peak_kernel = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": wall, "n": len(man["reports"]), "rc": proc.returncode,
            "failed": sum(r["status"] != "ok" for r in man["reports"]),
            "per_report": [r["duration_s"] for r in man["reports"]],
            "peak_mb_any_process": peak_kernel}


def naive(reports: list[tuple[str, str]]) -> float:
    out = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    for nb, area in reports:
        o = out / f"{nb}-{area}.ipynb"
        subprocess.run([str(BIN / "papermill"), f"notebooks/{nb}.ipynb", str(o), "-k",
                        "python3", "-p", "commissioner", area, "-p", "publish", "True",
                        "--no-progress-bar"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        str(o)], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--naive-sample", type=int, default=0)
    a = ap.parse_args()
    g = run_grid(a.jobs)
    man = json.loads((ROOT / "reports" / "bench-grid" / "manifest.json").read_text())
    grid = [(r["notebook"], r["area"]) for r in man["reports"]]
    sample = grid if not a.naive_sample else grid[:: max(1, len(grid) // a.naive_sample)][
        : a.naive_sample]
    nv = naive(sample) * len(grid) / len(sample)
    per = sorted(g["per_report"])
    report("batch", {
        "reports in grid": g["n"], "failed": g["failed"],
        "batch runner, whole grid: s": round(g["wall"], 1),
        "naive loop, whole grid: s" + (" (scaled from sample)" if a.naive_sample else ""):
            round(nv, 1),
        "naive reports actually timed": len(sample),
        "speed-up (naive / batch)": round(nv / g["wall"], 2),
        "per-report duration in the pool, median s": per[len(per) // 2],
        "marginal cost per report (batch wall / reports): s": round(g["wall"] / g["n"], 2),
        "peak memory of any one process (kernel or worker): MB":
            round(g["peak_mb_any_process"]),
    }, {"batch runner, whole grid: s": "≤ 480", "speed-up (naive / batch)": "≥ 4",
        "peak memory of any one process (kernel or worker): MB": "≤ 1536"})
