"""Record-level extract ingestion: the Ibis aggregation (helpers.sources.extracts) on DuckDB
against the obvious pandas approach (read the whole file, filter, group), at 1M and 10M rows
from CSV and parquet, and optionally 50M from parquet (``--big``); with ``--spark`` the same
aggregation on a local Spark session (2 threads) too, its session start timed apart. Targets
(2 cores): 10M rows ≤ 60 s and ≤ 2 GB peak on DuckDB, memory not growing with file size."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _measure import measure, report

GEN = """
from helpers.sources import synthetic
from helpers.sources import extracts
d = synthetic.load("england")
extracts.generate_records(__import__("pathlib").Path({path!r}), {n},
    d.practices.practice_code.astype(str).tolist(),
    d.specialties.specialty_code.astype(str).tolist(), chunk=2_000_000)
"""
DUCK = """
import json, time
from helpers.sources import synthetic
from helpers.sources import extracts
d = synthetic.load("england")
prac = d.practices.practice_code.astype(str).tolist()
spec = d.specialties.specialty_code.astype(str).tolist()
t = time.perf_counter()
tab, rep = extracts.ingest(__import__("pathlib").Path({path!r}), prac, spec)
print(json.dumps({{"s": round(time.perf_counter() - t, 1), "used": rep.rows_used}}))
"""
SPARK = """
import json, time
from helpers.sources import synthetic
from helpers.sources import extracts
d = synthetic.load("england")
prac = d.practices.practice_code.astype(str).tolist()
spec = d.specialties.specialty_code.astype(str).tolist()
t0 = time.perf_counter()
con = extracts.connect("spark", threads=2)
t = time.perf_counter()
tab, rep = extracts.ingest(__import__("pathlib").Path({path!r}), prac, spec, engine=con)
print(json.dumps({{"s": round(time.perf_counter() - t, 1), "start": round(t - t0, 1),
                  "used": rep.rows_used}}))
"""
PANDAS = """
import json, time
import pandas as pd
from helpers.sources import synthetic
d = synthetic.load("england")
prac = set(d.practices.practice_code.astype(str))
t = time.perf_counter()
p = {path!r}
raw = pd.read_parquet(p) if p.endswith(".parquet") else pd.read_csv(p, dtype=str)
dt = pd.to_datetime(raw.referral_date, errors="coerce")
age = pd.to_numeric(raw.age, errors="coerce")
ok = raw.practice_code.isin(prac) & age.between(0, 115) & dt.notna()
g = raw[ok].assign(month=dt[ok].dt.to_period("M").dt.start_time).groupby(
    ["practice_code", "month", "specialty_code"]).size()
print(json.dumps({{"s": round(time.perf_counter() - t, 1), "used": int(g.sum())}}))
"""

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also 50M rows from parquet")
    ap.add_argument("--spark", action="store_true", help="also on a local Spark session")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows = {}
    plan = [(1_000_000, ".csv"), (1_000_000, ".parquet"), (10_000_000, ".csv"),
            (10_000_000, ".parquet")] + ([(50_000_000, ".parquet")] if a.big else [])
    for n, ext in plan:
        path = str(tmp / f"r{n}{ext}")
        measure(GEN.format(path=path, n=n))
        dk = measure(DUCK.format(path=path))
        rows[f"{n // 1_000_000}M {ext[1:]}: DuckDB s / peak MB"] = f"{dk['s']} / {dk['peak_mb']}"
        if a.spark:
            sp = measure(SPARK.format(path=path))
            assert sp["used"] == dk["used"]
            rows[f"{n // 1_000_000}M {ext[1:]}: Spark local s (+ session start s) / peak MB"] \
                = f"{sp['s']} (+ {sp['start']}) / {sp['peak_mb']}"
        if n <= 10_000_000:
            pdm = measure(PANDAS.format(path=path))
            assert pdm["used"] == dk["used"]
            rows[f"{n // 1_000_000}M {ext[1:]}: pandas s / peak MB"] = \
                f"{pdm['s']} / {pdm['peak_mb']}"
        Path(path).unlink()
    report("extracts", rows, {"10M csv: DuckDB s / peak MB": "≤ 60 s, ≤ 2048 MB"})
