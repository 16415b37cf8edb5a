"""Record-level referral extracts (e.g. pseudonymised SUS outpatient referrals) → contract.

Input: CSV or parquet, one row per referral, columns ``practice_code``, ``referral_date``
(ISO date), ``specialty_code`` (treatment function code), ``age`` (years) and ``sex``
(F/M; other values are counted, not used). :func:`ingest` aggregates it to the contract's
``referrals`` table (practice × month × specialty) with DuckDB, out of core (memory does not
grow with the file; or on Spark, unchanged, see :func:`connect`), and reports every row it
could not use, by reason, with counts:
unknown practice codes, unknown specialties, impossible ages, unreadable or out-of-range
dates. Nothing is dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.datasets import check_csv_file
from helpers.schema import AGE_BANDS, ContractError, validate_table

RECORD_COLUMNS = ("practice_code", "referral_date", "specialty_code", "age", "sex")


@dataclass
class IngestReport:
    """What happened to every input row: ``rows_read`` = ``rows_used`` + ``rows_rejected``
    + ``malformed_lines``. ``rejected`` counts rows by reason; a row with two faults is one
    rejected row with both reasons, so the reasons can add up to more than
    ``rows_rejected``. ``used_without_sex`` rows (sex not F or M) are used for referrals
    but left out of the age-sex reference rates."""

    rows_read: int
    rows_used: int
    rows_rejected: int = 0
    malformed_lines: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    used_without_sex: int = 0
    age_sex: pd.DataFrame | None = None   # used rows by sex × age band × specialty

    def summary(self) -> str:
        bad = ", ".join(f"{k}: {v:,}" for k, v in self.rejected.items() if v) or "none"
        text = (f"{self.rows_read:,} rows read, {self.rows_used:,} used, "
                f"{self.rows_rejected:,} rejected (reasons — {bad})")
        if self.malformed_lines:
            text += f", {self.malformed_lines:,} malformed lines skipped"
        if self.used_without_sex:
            text += (f"; {self.used_without_sex:,} used rows have a sex other than F or M "
                     "and are left out of the reference rates")
        return text


ENGINES = ("duckdb", "spark")
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9:.]+)?$"
NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
"""What counts as a date and as an age, stated as patterns so every engine parses alike."""


def connect(engine: str = "duckdb", memory_limit: str = "1GB", threads: int = 2):
    """An Ibis backend for :func:`ingest`.

    ``"duckdb"``: in-process DuckDB, out of core (memory capped at ``memory_limit``, spilling
    to disk). ``"spark"``: the active Spark session, or a new one: local (``local[threads]``)
    unless the environment names a cluster (``spark-submit --master ...``, or
    ``SPARK_REMOTE=sc://host:15002`` for Spark Connect). An analyst with a session of their
    own passes ``ibis.pyspark.connect(session)`` to :func:`ingest` instead of a name."""
    import ibis

    if engine == "duckdb":
        con = ibis.duckdb.connect(memory_limit=memory_limit, threads=int(threads))
        con.raw_sql("SET enable_progress_bar = false")
        return con
    if engine == "spark":
        import os

        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is None:
            b = SparkSession.builder.appName("commissioning-pack-extracts")
            if not os.environ.get("SPARK_REMOTE") and "MASTER" not in os.environ:
                import tempfile

                b = b.master(f"local[{int(threads)}]").config("spark.ui.enabled", "false") \
                    .config("spark.sql.shuffle.partitions", str(4 * int(threads))) \
                    .config("spark.sql.warehouse.dir",       # not in the working directory
                            tempfile.mkdtemp(prefix="pack-spark-"))
            session = b.getOrCreate()
        return ibis.pyspark.connect(session)
    raise ValueError(f"engine must be one of {ENGINES} or an Ibis backend; got {engine!r}")


def _read(con, path: str):
    """The extract as an Ibis table, every column read as text where the format allows (CSV)
    so that each value is parsed by the same rules on every engine."""
    name = con.name
    low = path.lower()
    if low.endswith(".parquet"):
        return con.read_parquet(path)
    if not low.endswith(".csv"):
        raise ContractError(path, "record extract", None, "expected a .csv or .parquet file")
    if name == "duckdb":
        # malformed lines (wrong number of fields, broken quoting) are skipped and counted
        return con.read_csv(path, header=True, all_varchar=True, ignore_errors=True)
    return con.read_csv(path, header=True, inferSchema=False)   # PERMISSIVE: bad fields → NULL


def _data_lines(con, path: Path) -> int:
    """Non-blank lines of a CSV after the header, read as plain text (no quoting rules),
    so lines a broken quote merged into one record still count (DuckDB)."""
    p = str(path).replace("'", "''")
    return int(con.raw_sql(
        f"SELECT count(*) FROM read_csv('{p}', columns={{'line': 'VARCHAR'}}, header=false, "
        "delim=chr(1), quote='', escape='', auto_detect=false, skip=1) "
        "WHERE trim(line) <> ''").fetchone()[0])


def _frame(con, expr) -> pd.DataFrame:
    """Run an Ibis expression and return pandas through Arrow (same types on every engine)."""
    return con.to_pyarrow(expr).to_pandas()


def _code_set(engine: str, codes: list[str]):
    """Known codes in the form each engine tests membership fastest: a table on DuckDB (a
    hash semi-join; a literal list of thousands of codes is tested one by one there), a
    literal list on Spark (turned into a hash set; Spark's Ibis backend does not register
    in-memory tables inside a cached expression)."""
    import ibis

    codes = sorted({str(x) for x in codes})
    return codes if engine == "pyspark" else ibis.memtable({"code": codes})["code"]


def _clean(t, practices: list[str], specialties: list[str], start: str, end: str,
           con_name: str = "duckdb"):
    """The extract's five columns parsed (text trimmed, dates and ages parsed leniently:
    unparseable → NULL), each reason a row cannot be used as a boolean column, and
    ``usable``. One Ibis expression: it compiles to DuckDB or Spark SQL unchanged."""
    import ibis

    known_p, known_s = _code_set(con_name, practices), _code_set(con_name, specialties)
    def text(col):
        # surrounding white space removed with a pattern: ibis's strip() on Spark also
        # strips the letters 'v' and 'f' (its escape codes reach Spark as plain letters)
        return col.cast("string").re_replace(r"^\s+|\s+$", "")

    date_text, age_text = text(t.referral_date), text(t.age)
    c = t.select(
        practice_code=text(t.practice_code),
        # only ISO dates (yyyy-mm-dd, any time of day ignored) are dates; impossible ones
        # (2019-02-30) become NULL
        d=ibis.ifelse(date_text.re_search(ISO_DATE), date_text.substr(0, 10).try_cast("date"),
                      ibis.null()),
        specialty_code=text(t.specialty_code),
        age=ibis.ifelse(age_text.re_search(NUMBER), age_text.try_cast("float64"), ibis.null()),
        sex=text(t.sex).upper())
    reasons = {
        "unknown_practice": c.practice_code.isnull() | ~c.practice_code.isin(known_p),
        "unknown_specialty": c.specialty_code.isnull()
        | ~c.specialty_code.isin(known_s),
        "impossible_age": c.age.isnull() | (c.age < 0) | (c.age > 115),
        "bad_or_out_of_range_date": c.d.isnull() | (c.d < ibis.date(start))
        | (c.d > ibis.date(end)),
    }
    reasons = {k: v.fill_null(True) for k, v in reasons.items()}
    fault = reasons["unknown_practice"]
    for v in list(reasons.values())[1:]:
        fault = fault | v
    return c.mutate(**reasons, usable=~fault), list(reasons)


def ingest(path: Path | str, practices: list[str], specialties: list[str],
           start: str = "1990-01-01", end: str = "2040-12-31",
           memory_limit: str = "1GB", threads: int = 2,
           with_age_sex: bool = False, engine="duckdb") -> tuple[pd.DataFrame, IngestReport]:
    """Aggregate a record-level extract to contract ``referrals`` rows, with a report that
    accounts for every input row (used, rejected with its reasons, or malformed).

    ``start``/``end`` bound plausible referral dates. With ``with_age_sex`` the report also
    carries the used rows counted by sex (F/M) × 5-year age band × specialty, for reference
    rates; used rows with another sex are counted in ``used_without_sex``.

    The rules and the aggregation are one Ibis expression (:func:`_clean`), run by
    ``engine``: ``"duckdb"`` (default, in-process, out of core), ``"spark"`` (local or the
    cluster the environment names, see :func:`connect`) or an Ibis backend already
    connected. Both engines give identical tables and counts (tested). A Spark path may be
    any URI the cluster reads (``hdfs://``, ``abfss://``, ``s3a://``). Malformed CSV lines
    (wrong number of fields) are skipped and counted by DuckDB; Spark keeps them with empty
    fields, so they are rejected rows with reasons instead."""
    import ibis

    local = "://" not in str(path)
    if local:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"extract not found (or not a file): {path}")
        if path.suffix.lower() == ".csv":     # Excel, parquet or non-UTF-8 under a .csv name
            check_csv_file(path, "record extract", "write a header row with the columns "
                           f"{list(RECORD_COLUMNS)}", parquet_name=f"{path.stem}.parquet")
    con = connect(engine, memory_limit, threads) if isinstance(engine, str) else engine
    try:
        t = _read(con, str(path))
        cols = list(t.columns)
    except ContractError:
        raise
    except Exception as e:                    # the engine's own reader error, in one line
        raise ContractError(str(path), "record extract", None,
                            f"cannot be read: {str(e).strip().splitlines()[0]}",
                            fix="supply a UTF-8 CSV with a header row, or a parquet file") from e
    missing = [c for c in RECORD_COLUMNS if c not in cols]
    if missing:
        raise ContractError(str(path), "record extract", missing[0],
                            f"missing required column(s) {missing}; found {cols}")
    recs, reason_names = _clean(t, practices, specialties, start, end, con.name)
    recs = recs.cache()          # parsed once (DuckDB temp table, Spark cached view)
    try:
        one = ibis.literal(1)
        counts = recs.aggregate(
            parsed=recs.count(),
            rows_rejected=ibis.ifelse(recs.usable, 0, 1).sum(),
            used_without_sex=ibis.ifelse(recs.usable & ~recs.sex.isin(["F", "M"]).fill_null(
                False), one, 0).sum(),
            **{k: ibis.ifelse(recs[k], one, 0).sum() for k in reason_names})
        # an extract with a header and no rows sums to nothing (NULL): zero of everything
        checks = {k: 0 if pd.isna(v) else int(v)
                  for k, v in _frame(con, counts).iloc[0].to_dict().items()}
        use = recs.filter(recs.usable)
        agg = use.group_by(practice_code=use.practice_code,
                           month=use.d.truncate("M").cast("timestamp"),
                           specialty_code=use.specialty_code) \
            .aggregate(referrals=use.count()) \
            .order_by(["practice_code", "month", "specialty_code"])
        agg = _frame(con, agg)
        age_sex = None
        if with_age_sex:
            fm = use.filter(use.sex.isin(["F", "M"]))
            band = ibis.least((fm.age / 5).floor(), 18).cast("int64")
            age_sex = _frame(
                con,
                fm.group_by(sex=fm.sex, band=band, specialty_code=fm.specialty_code)
                .aggregate(referrals=fm.count())
                .order_by(["sex", "band", "specialty_code"]))
            age_sex["age_band"] = [AGE_BANDS[int(b)] for b in age_sex.pop("band")]
            age_sex["referrals"] = age_sex["referrals"].astype("int64")
        parsed = checks.pop("parsed")
        rows_read = _data_lines(con, path) if con.name == "duckdb" and local and \
            str(path).lower().endswith(".csv") else parsed
    finally:
        recs.release()
    agg["month"] = pd.to_datetime(agg["month"]).astype("datetime64[ns]")
    agg["referrals"] = agg["referrals"].astype("int64")
    table = validate_table(agg, "referrals", str(path))
    without_sex = checks.pop("used_without_sex")
    report = IngestReport(
        rows_read=rows_read, rows_used=int(table["referrals"].sum()),
        rows_rejected=checks.pop("rows_rejected"),
        malformed_lines=max(rows_read - parsed, 0),
        used_without_sex=without_sex if with_age_sex else 0,
        rejected={k: checks[k] for k in reason_names}, age_sex=age_sex)
    return table, report


def build_dataset(records: Path, structure: Path, out: Path) -> tuple[Path, IngestReport]:
    """A contract dataset whose referrals come from a record-level extract.

    The practices, populations, networks and the rest come from ``structure`` (a dataset
    folder: the real-structure one from :mod:`helpers.sources.real_structure`, or an analyst's own),
    restricted to the practices that appear in the extract, with their commissioners.
    ``referrals`` is the extract aggregated by :func:`ingest`; ``reference_rates`` are the
    extract's own rates by sex × age band × specialty over the structure's registered
    population for the months it covers (internal standardisation). Rows that could not be
    used are counted in the provenance. Any recorded truth is dropped: it described
    referrals that have been replaced.
    """
    from helpers.datasets import load_dataset, save_dataset

    ds = load_dataset(Path(structure))
    pop = ds.population
    periods = sorted(pop["period"].unique())
    start = pd.Timestamp(periods[0])
    end = pd.Timestamp(periods[-1]) + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    codes = ds.practices["practice_code"].astype(str).tolist()
    specs = ds.specialties["specialty_code"].astype(str).tolist()
    table, rep = ingest(records, codes, specs, start=str(start.date()), end=str(end.date()),
                        with_age_sex=True)
    if table.empty:
        raise ContractError(str(records), "record extract", None,
                            f"no usable rows: {rep.summary()}")
    keep = set(table["practice_code"].astype(str))
    tables = {name: ds.tables[name] for name in ds.tables}
    pr = tables["practices"]
    pr = pr[pr["practice_code"].astype(str).isin(keep)]
    comms = set(pr["commissioner_code"].astype(str))
    tables["practices"] = pr.assign(successor_code=pr["successor_code"].where(
        pr["successor_code"].astype(str).isin(keep)))
    for name, col in (("commissioners", "commissioner_code"), ("sub_areas", "commissioner_code"),
                      ("contracts", "commissioner_code"), ("activity", "commissioner_code")):
        if name in tables:
            tables[name] = tables[name][tables[name][col].astype(str).isin(comms)]
    for name in ("population", "groups", "practice_outcomes"):
        if name in tables:
            tables[name] = tables[name][tables[name]["practice_code"].astype(str).isin(keep)]
    # person-years by sex × band over the extract's months, from each month's snapshot
    months = pd.DatetimeIndex(sorted(table["month"].unique()))
    snap = pd.DatetimeIndex(periods)
    p = tables["population"]
    py = 0.0
    for m in months:
        at = snap[snap <= m].max() if (snap <= m).any() else snap.min()
        py = py + p[p["period"] == at].groupby(["sex", "age_band"], observed=True)[
            "patients"].sum() / 12
    py.index = pd.MultiIndex.from_arrays([py.index.get_level_values(0).astype(str),
                                          py.index.get_level_values(1).astype(str)])
    grid = pd.MultiIndex.from_product([["F", "M"], list(AGE_BANDS), specs],
                                      names=["sex", "age_band", "specialty_code"])
    n = rep.age_sex.set_index(["sex", "age_band", "specialty_code"])["referrals"] \
        .reindex(grid).fillna(0).to_numpy(float)
    pys = py.reindex(grid.droplevel(2)).fillna(0).to_numpy(float)
    tables["referrals"] = table
    tables["reference_rates"] = pd.DataFrame({
        "sex": grid.get_level_values(0), "age_band": grid.get_level_values(1),
        "specialty_code": grid.get_level_values(2),
        "rate": np.where(pys > 0, n / np.where(pys > 0, pys, 1), 0.0)})
    prov0 = ds.provenance
    real_tables = sorted(set(prov0.get("real_tables", [])) | {"referrals", "reference_rates"})
    synth = [t for t in prov0.get("synthetic_tables", []) if t not in real_tables and
             t in tables]
    prov = {
        "source": f"record-level extract {Path(records).name} on {prov0.get('source', 'a')} "
                  "structure",
        "real_tables": real_tables, "synthetic_tables": synth,
        "statement": ("Referrals are your record-level extract, aggregated by practice, month "
                      "and specialty; reference rates are the extract's own rates by age, sex "
                      "and specialty (internal standardisation)."
                      + (f" Still synthetic: {', '.join(synth)} — findings from those tables "
                         "illustrate the method only." if synth else "")),
        "extract": {"file": str(records), "rows_read": rep.rows_read,
                    "rows_used": rep.rows_used, "rows_rejected": rep.rows_rejected,
                    "malformed_lines": rep.malformed_lines, "rejected": rep.rejected,
                    "used_without_sex": rep.used_without_sex,
                    "months": [str(months[0].date()), str(months[-1].date())],
                    "practices_in_extract": len(keep),
                    "structure_practices_without_records": int(len(codes) - len(keep))},
        "structure": {"folder": str(structure), "content_hash": ds.content_hash},
    }
    return save_dataset(tables, Path(out), provenance=prov), rep


def records_from_referrals(ds, path: Path, months: int | None = None, seed: int = 1,
                           chunk: int = 2_000_000) -> int:
    """Expand a dataset's ``referrals`` into one row per referral (CSV or parquet by
    suffix): each gets a day in its month, and a sex and age drawn from the practice's
    registered population weighted by the reference rates of its specialty, so the file
    looks like a real extract and aggregates back to the same table. ``months`` keeps the
    first n months. Returns the number of rows written."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    ref = ds.referrals
    if months:
        first = sorted(ref["month"].unique())[:months]
        ref = ref[ref["month"].isin(first)]
    ref = ref[ref["referrals"] > 0]
    cells = [(s, b) for s in ("F", "M") for b in AGE_BANDS]
    rr = ds.reference_rates.assign(sex=lambda d: d["sex"].astype(str),
                                   age_band=lambda d: d["age_band"].astype(str)).pivot_table(
        index="specialty_code", columns=["sex", "age_band"], values="rate", observed=True
    ).reindex(columns=cells, fill_value=0.0)
    pop = ds.population.assign(year=lambda d: d["period"]).pivot_table(
        index=["practice_code", "period"], columns=["sex", "age_band"], values="patients",
        observed=True).reindex(columns=cells, fill_value=0).fillna(0)
    snaps = pd.DatetimeIndex(sorted(ds.population["period"].unique()))
    path = Path(path)
    writer = None
    written = 0
    lo = np.array([int(b.split("-")[0].rstrip("+")) for b in AGE_BANDS] * 2)
    width = np.where(lo == 90, 10, 5)
    for _, part in ref.groupby(np.arange(len(ref)) // max(chunk // 10, 1)):
        m = pd.DatetimeIndex(part["month"])
        snap = snaps[np.maximum(snaps.searchsorted(m, side="right") - 1, 0)]
        w = pop.reindex(pd.MultiIndex.from_arrays([part["practice_code"].astype(str), snap]
                                                  )).to_numpy(float) \
            * rr.reindex(part["specialty_code"].astype(str)).to_numpy(float)
        w = np.nan_to_num(w)
        w[w.sum(axis=1) == 0] = 1.0
        cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        n = part["referrals"].to_numpy()
        row = np.repeat(np.arange(len(part)), n)
        cell = np.minimum((cdf[row] < rng.random(len(row))[:, None]).sum(axis=1), 37)
        age = lo[cell] + rng.integers(0, width[cell])
        days = m.days_in_month.to_numpy()[row]
        date = m.to_numpy()[row] + (rng.random(len(row)) * days).astype("timedelta64[D]")
        tab = pa.table({
            "practice_code": part["practice_code"].astype(str).to_numpy()[row],
            "referral_date": pd.DatetimeIndex(date).strftime("%Y-%m-%d").to_numpy(),
            "specialty_code": part["specialty_code"].astype(str).to_numpy()[row],
            "age": age.astype("int64"), "sex": np.where(cell < 19, "F", "M")})
        if writer is None:
            writer = pq.ParquetWriter(path, tab.schema) if path.suffix == ".parquet" else \
                pacsv.CSVWriter(path, tab.schema)
        writer.write_table(tab)
        written += len(row)
    if writer is not None:
        writer.close()
    return written


def check_output_folder(out: Path, inputs: list[Path], overwrite: bool) -> None:
    """Refuse to write a dataset over an input, or over an existing folder without
    ``overwrite``. Raises ValueError with the fix."""
    out = Path(out).resolve()
    for given in inputs:
        inp = Path(given).resolve()
        if out == inp or inp.is_relative_to(out) or out.is_relative_to(inp):
            raise ValueError(f"--out {out} would overwrite the input {inp}; choose another "
                             "folder")
    if out.exists() and not overwrite:
        what = "a folder with files in it" if out.is_dir() and any(out.iterdir()) else \
            ("an empty folder" if out.is_dir() else "a file")
        raise ValueError(f"--out {out} already exists ({what}); pass --overwrite to replace "
                         "it, or choose a new folder")
    if out.exists() and overwrite:
        # --overwrite replaces a dataset this command wrote, never anything else that
        # happens to be at that path (a data/ folder holding other datasets, say)
        prov = out / "provenance.json"
        ours = False
        if out.is_dir() and prov.is_file():
            try:
                ours = str(json.loads(prov.read_text(encoding="utf-8")).get(
                    "source", "")).startswith("record-level extract")
            except (ValueError, UnicodeDecodeError):
                ours = False
        if not ours and not (out.is_dir() and not any(out.iterdir())):
            raise ValueError(f"--out {out} is not a dataset written from an extract, so "
                             "--overwrite will not replace it (it would delete what is "
                             "there); choose a new folder")


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    ap = argparse.ArgumentParser(description="Build a dataset whose referrals are a "
                                             "record-level extract (CSV or parquet).")
    ap.add_argument("--records", type=Path, required=True, help="the extract file")
    ap.add_argument("--structure", type=Path, required=True,
                    help="dataset folder giving practices, populations and the rest")
    ap.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    ap.add_argument("--overwrite", action="store_true",
                    help="replace --out if it exists (never allowed for an input)")
    a = ap.parse_args(argv)
    try:
        check_output_folder(a.out, [a.records, a.structure], a.overwrite)
        folder, rep = build_dataset(a.records, a.structure, a.out)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(rep.summary())
    print(f"dataset ready in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


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
