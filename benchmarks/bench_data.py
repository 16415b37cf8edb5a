"""Synthetic England: generation and loading. Targets (2 cores): generation ≤ 60 s and ≤ 2 GB
peak; loading the analysis tables from parquet ≤ 3 s.

Run: ``.venv/bin/python benchmarks/bench_data.py`` (the ``make bench`` target runs all)."""

from __future__ import annotations

from _measure import measure, report

GEN = """
import tempfile
from helpers.sources import synthetic
synthetic.build("england", __import__("pathlib").Path(tempfile.mkdtemp()) / "eng")
"""
LOAD = """
import json, time
from helpers.sources import synthetic
synthetic.ensure("england")
t = time.perf_counter()
d = synthetic.load("england")
print(json.dumps({"load_s": round(time.perf_counter() - t, 3),
                  "referral_rows": len(d.referrals)}))
"""
FULL_VALIDATE = """
import json, time
from helpers.datasets import load_dataset
from helpers.schema import validate_dataset
from helpers.paths import synthetic_dir
d = load_dataset(synthetic_dir("england"))
t = time.perf_counter()
validate_dataset(d.tables)
print(json.dumps({"full_validation_s": round(time.perf_counter() - t, 2)}))
"""

if __name__ == "__main__":
    g = measure(GEN)
    ld = measure(LOAD)
    fv = measure(FULL_VALIDATE)
    report("data", {
        "generate england: wall s": g["wall_s"], "generate england: peak MB": g["peak_mb"],
        "load england (hash-checked): s": ld["load_s"],
        "load england: process peak MB": ld["peak_mb"],
        "referral rows": ld["referral_rows"],
        "full contract validation of every table: s": fv["full_validation_s"],
    }, {"generate england: wall s": "≤ 60", "generate england: peak MB": "≤ 2048",
        "load england (hash-checked): s": "≤ 3"})
