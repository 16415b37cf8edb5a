"""Record-level referral extracts (e.g. pseudonymised SUS outpatient referrals) → contract.

Input: CSV or parquet, one row per referral, columns ``practice_code``, ``referral_date``
(ISO date), ``specialty_code`` (treatment function code), ``age`` (years) and ``sex``
(F/M; other values are counted, not used). :func:`ingest` aggregates it to the contract's
``referrals`` table (practice × month × specialty) with DuckDB, out of core (memory does not
grow with the file), and reports every row it could not use, by reason, with counts:
unknown practice codes, unknown specialties, impossible ages, unreadable or out-of-range
dates. Nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import ContractError, validate_table

RECORD_COLUMNS = ("practice_code", "referral_date", "specialty_code", "age", "sex")


@dataclass
class IngestReport:
    rows_read: int
    rows_used: int
    rejected: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        bad = ", ".join(f"{k}: {v:,}" for k, v in self.rejected.items() if v) or "none"
        return (f"{self.rows_read:,} rows read, {self.rows_used:,} used; rejected — {bad}")


def _reader(path: Path) -> str:
    p = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        return f"read_parquet('{p}')"
    if path.suffix == ".csv":
        return f"read_csv('{p}', header=true, all_varchar=true)"
    raise ContractError(str(path), "record extract", None, "expected a .csv or .parquet file")


def ingest(path: Path, practices: list[str], specialties: list[str],
           start: str = "1990-01-01", end: str = "2040-12-31",
           memory_limit: str = "1GB", threads: int = 2) -> tuple[pd.DataFrame, IngestReport]:
    """Aggregate a record-level extract to contract ``referrals`` rows, with a report of the
    rows that could not be used. ``start``/``end`` bound plausible referral dates."""
    import duckdb

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"extract not found: {path}")
    con = duckdb.connect()
    con.execute(f"SET memory_limit='{memory_limit}'; SET threads={int(threads)}")
    src = _reader(path)
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    missing = [c for c in RECORD_COLUMNS if c not in cols]
    if missing:
        raise ContractError(str(path), "record extract", missing[0],
                            f"missing required column(s) {missing}; found {cols}")
    con.register("known_practices", pd.DataFrame({"code": list(practices)}))
    con.register("known_specialties", pd.DataFrame({"code": list(specialties)}))
    con.execute(f"""
        CREATE TEMP VIEW recs AS
        SELECT trim(CAST(practice_code AS VARCHAR)) AS practice_code,
               TRY_CAST(CAST(referral_date AS VARCHAR) AS DATE) AS d,
               trim(CAST(specialty_code AS VARCHAR)) AS specialty_code,
               TRY_CAST(CAST(age AS VARCHAR) AS DOUBLE) AS age
        FROM {src}""")
    checks = con.execute(f"""
        SELECT count(*) AS rows_read,
          count(*) FILTER (WHERE practice_code NOT IN (SELECT code FROM known_practices)
                           OR practice_code IS NULL) AS unknown_practice,
          count(*) FILTER (WHERE specialty_code NOT IN (SELECT code FROM known_specialties)
                           OR specialty_code IS NULL) AS unknown_specialty,
          count(*) FILTER (WHERE age IS NULL OR age < 0 OR age > 115) AS impossible_age,
          count(*) FILTER (WHERE d IS NULL OR d < DATE '{start}' OR d > DATE '{end}')
            AS bad_or_out_of_range_date
        FROM recs""").fetchdf().iloc[0].to_dict()
    agg = con.execute(f"""
        SELECT practice_code, date_trunc('month', d) AS month, specialty_code,
               count(*) AS referrals
        FROM recs
        WHERE practice_code IN (SELECT code FROM known_practices)
          AND specialty_code IN (SELECT code FROM known_specialties)
          AND age BETWEEN 0 AND 115
          AND d BETWEEN DATE '{start}' AND DATE '{end}'
        GROUP BY ALL ORDER BY practice_code, month, specialty_code""").fetchdf()
    con.close()
    agg["month"] = pd.to_datetime(agg["month"])
    table = validate_table(agg, "referrals", str(path))
    rows_read = int(checks.pop("rows_read"))
    report = IngestReport(rows_read, int(table["referrals"].sum()),
                          {k: int(v) for k, v in checks.items()})
    return table, report


def generate_records(path: Path, n_rows: int, practices: list[str], specialties: list[str],
                     start: str = "2018-04-01", months: int = 12, seed: int = 1,
                     bad_share: float = 0.001, chunk: int = 1_000_000) -> dict[str, int]:
    """Write a realistic record-level extract (CSV or parquet by suffix), in chunks so memory
    stays flat; a ``bad_share`` of rows carries each kind of error. Returns the planted error
    counts."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    path = Path(path)
    base = np.datetime64(start, "D")
    days = int((np.datetime64(pd.Timestamp(start) + pd.DateOffset(months=months), "D")
                - base).astype(int))
    pr = np.asarray(practices, dtype=object)
    sp = np.asarray(specialties, dtype=object)
    planted = {"unknown_practice": 0, "impossible_age": 0, "bad_date": 0}
    writer = None
    done = 0
    while done < n_rows:
        n = min(chunk, n_rows - done)
        p = pr[rng.integers(0, len(pr), n)]
        d = (base + rng.integers(0, days, n).astype("timedelta64[D]")).astype(str).astype(object)
        age = np.clip(rng.gamma(2.2, 22, n), 0, 104).round().astype(int).astype(object)
        s = sp[rng.integers(0, len(sp), n)]
        sex = np.where(rng.random(n) < 0.55, "F", "M").astype(object)
        for kind in planted:
            idx = rng.random(n) < bad_share
            planted[kind] += int(idx.sum())
            if kind == "unknown_practice":
                p[idx] = "Z99999"
            elif kind == "impossible_age":
                age[idx] = 130
            else:
                d[idx] = "2019-02-30"
        tab = pa.table({"practice_code": p.astype(str), "referral_date": d.astype(str),
                        "specialty_code": s.astype(str), "age": age.astype(str),
                        "sex": sex.astype(str)})
        if writer is None:
            writer = pq.ParquetWriter(path, tab.schema) if path.suffix == ".parquet" else \
                pacsv.CSVWriter(path, tab.schema)
        writer.write_table(tab)
        done += n
    writer.close()
    return planted
