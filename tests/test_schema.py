"""The data contract: every table's schema, and a clear error for each kind of bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.datasets import load_dataset, save_dataset
from helpers.schema import REAL_ONLY_TABLES, SPECS, ContractError, validate_dataset, validate_table


def _tables(ds) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in ds.tables.items()}


@pytest.mark.parametrize("table", sorted(set(SPECS) - set(REAL_ONLY_TABLES)))
def test_every_table_matches_its_spec(small, table):
    df = small.tables[table]
    assert list(df.columns) == SPECS[table].names
    assert len(df) > 0
    out = validate_table(df, table, "small")
    assert len(out) == len(df)
    assert not out.duplicated(list(SPECS[table].key)).any()


def _write_csvs(tables: dict, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)


@pytest.fixture(scope="module")
def csv_base(small):
    """A compact CSV dataset (one commissioner's first year) to corrupt file by file."""
    t = _tables(small)
    keep = t["practices"]["practice_code"].astype(str).iloc[:12]
    t["practices"] = t["practices"][t["practices"].practice_code.isin(keep)
                                    & t["practices"].successor_code.isna()]
    for name in ("population", "referrals", "groups", "practice_outcomes"):
        t[name] = t[name][t[name].practice_code.astype(str).isin(keep)]
    t["referrals"] = t["referrals"][t["referrals"].month < "2014-07-01"]
    t["activity"] = t["activity"][t["activity"].month < "2014-07-01"]
    return t


def _load_with(tmp_path, base, table, mutate):
    t = {k: v.copy() for k, v in base.items()}
    df = t[table].reset_index(drop=True)
    df = df.astype({c: "string" for c in df.columns if isinstance(df[c].dtype,
                                                                   pd.CategoricalDtype)})
    t[table] = mutate(df)
    _write_csvs(t, tmp_path / "ds")
    with pytest.raises(ContractError) as e:
        load_dataset(tmp_path / "ds")
    return str(e.value)


def test_clean_csv_dataset_loads(tmp_path, csv_base):
    _write_csvs(csv_base, tmp_path / "ds")
    ds = load_dataset(tmp_path / "ds")
    assert len(ds.practices) == len(csv_base["practices"])


def test_missing_column_is_named(tmp_path, csv_base):
    msg = _load_with(tmp_path, csv_base, "referrals", lambda d: d.drop(columns="referrals"))
    assert "referrals.csv" in msg and "'referrals'" in msg and "missing required" in msg


def test_misnamed_column_gets_a_suggestion(tmp_path, csv_base):
    msg = _load_with(tmp_path, csv_base, "practices",
                     lambda d: d.rename(columns={"imd_score": "imd_scor"}))
    assert "practices.csv" in msg and "'imd_scor' looks like 'imd_score'" in msg


def test_wrong_type_names_rows(tmp_path, csv_base):
    def bad(d):
        d["referrals"] = d["referrals"].astype("string")
        d.loc[2, "referrals"] = "lots"
        return d
    msg = _load_with(tmp_path, csv_base, "referrals", bad)
    assert "column 'referrals'" in msg and "expected numbers" in msg and "rows 3" in msg


def test_negative_counts(tmp_path, csv_base):
    def bad(d):
        d.loc[4, "referrals"] = -3
        return d
    msg = _load_with(tmp_path, csv_base, "referrals", bad)
    assert "negative values" in msg and "rows 5" in msg


def test_non_integer_counts(tmp_path, csv_base):
    def bad(d):
        d["referrals"] = d["referrals"].astype(float)
        d.loc[0, "referrals"] = 2.5
        return d
    msg = _load_with(tmp_path, csv_base, "referrals", bad)
    assert "whole numbers" in msg and "rows 1" in msg


def test_zero_population(tmp_path, csv_base):
    first = csv_base["population"].iloc[0]
    def bad(d):
        m = (d.practice_code == str(first.practice_code)) & (d.period == first.period)
        d.loc[m, "patients"] = 0
        return d
    msg = _load_with(tmp_path, csv_base, "population", bad)
    assert "zero population" in msg and str(first.practice_code) in msg


def test_missing_population(tmp_path, csv_base):
    def bad(d):
        d["patients"] = d["patients"].astype(float)
        d.loc[7, "patients"] = None
        return d
    msg = _load_with(tmp_path, csv_base, "population", bad)
    assert "missing populations" in msg and "rows 8" in msg


def test_duplicate_keys(tmp_path, csv_base):
    msg = _load_with(tmp_path, csv_base, "referrals",
                     lambda d: pd.concat([d, d.iloc[[3]]], ignore_index=True))
    assert "duplicate keys" in msg and "practice_code, month, specialty_code" in msg


def test_unknown_practice_code(tmp_path, csv_base):
    def bad(d):
        d.loc[1, "practice_code"] = "Z99999"
        return d
    msg = _load_with(tmp_path, csv_base, "referrals", bad)
    assert "Z99999" in msg and "not found in table 'practices'" in msg and "rows 2" in msg


def test_unknown_category_value(tmp_path, csv_base):
    def bad(d):
        d.loc[0, "contract_type"] = "GPS"
        return d
    msg = _load_with(tmp_path, csv_base, "practices", bad)
    assert "unknown values ['GPS']" in msg and "'contract_type'" in msg


def test_bad_dates(tmp_path, csv_base):
    def bad(d):
        d["open_date"] = d["open_date"].astype("string")
        d.loc[1, "open_date"] = "2014-02-31"
        return d
    msg = _load_with(tmp_path, csv_base, "practices", bad)
    assert "not a valid date" in msg and "rows 2" in msg


def test_dates_out_of_range(tmp_path, csv_base):
    def bad(d):
        d["open_date"] = d["open_date"].astype("string")
        d.loc[0, "open_date"] = "1901-01-01"
        return d
    msg = _load_with(tmp_path, csv_base, "practices", bad)
    assert "dates out of range" in msg


def test_month_not_first_day(tmp_path, csv_base):
    def bad(d):
        d["month"] = pd.to_datetime(d["month"]).astype("string")
        d.loc[0, "month"] = "2014-04-15"
        return d
    msg = _load_with(tmp_path, csv_base, "referrals", bad)
    assert "first day of the month" in msg


def test_overlapping_group_memberships(tmp_path, csv_base):
    def bad(d):
        extra = d.iloc[[0]].copy()
        extra["group_code"] = "U99999"
        extra["joined"] = pd.Timestamp(d.iloc[0].joined) + pd.DateOffset(months=1)
        return pd.concat([d, extra], ignore_index=True)
    msg = _load_with(tmp_path, csv_base, "groups", bad)
    assert "overlapping group memberships" in msg


def test_unknown_table_file(tmp_path, csv_base):
    _write_csvs(csv_base, tmp_path / "ds")
    (tmp_path / "ds" / "referals.csv").write_text("a\n1\n")
    with pytest.raises(ContractError, match="does not name a contract table"):
        load_dataset(tmp_path / "ds")


def test_failed_save_leaves_nothing_behind(tmp_path, csv_base):
    good = tmp_path / "ds"
    save_dataset(csv_base, good)
    before = sorted(p.name for p in good.iterdir())
    broken = {k: v.copy() for k, v in csv_base.items()}
    broken["referrals"] = broken["referrals"].assign(referrals=-1)
    with pytest.raises(ContractError):
        save_dataset(broken, good)
    with pytest.raises(ContractError):
        save_dataset(broken, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in good.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_required_tables(csv_base):
    t = dict(csv_base)
    del t["reference_rates"]
    with pytest.raises(ContractError, match="required table missing"):
        validate_dataset(t)


def test_docs_list_every_table_and_column():
    from helpers.paths import project_root
    from helpers.schema import contract_markdown
    doc = (project_root() / "docs" / "data-contract.md").read_text()
    assert contract_markdown().strip() in doc, "docs/data-contract.md is out of step with " \
        "the specs: paste helpers.schema.contract_markdown() into its column reference"
    for spec in SPECS.values():
        assert f"### `{spec.name}`" in doc
        for c in spec.columns:
            assert f"`{c.name}`" in doc, (spec.name, c.name)


def test_validate_command(tmp_path, csv_base, capsys):
    from helpers.validate import main
    _write_csvs(csv_base, tmp_path / "ok")
    assert main([str(tmp_path / "ok")]) == 0
    assert "valid dataset" in capsys.readouterr().out
    t = {k: v.copy() for k, v in csv_base.items()}
    t["practices"] = t["practices"].drop(columns="rurality")
    _write_csvs(t, tmp_path / "bad")
    assert main([str(tmp_path / "bad")]) == 1
    assert "column 'rurality'" in capsys.readouterr().err


def _age(folder, seconds: float = 60) -> None:
    """Date every file of ``folder`` ``seconds`` back, as a dataset written a while ago."""
    import os
    import time

    for p in folder.iterdir():
        os.utime(p, ns=(time.time_ns() - int(seconds * 1e9),) * 2)


def test_an_unchanged_trusted_dataset_is_loaded_once_per_process(tmp_path, small):
    """A batch kernel loads its dataset for every report: an unchanged trusted dataset is the
    same object the second time (no re-hash, tables kept), and any write to the folder, a
    file replaced with the same bytes included, makes the next load read it afresh."""
    import os

    folder = save_dataset(_tables(small), tmp_path / "ds", provenance={"source": "test"})
    fresh = load_dataset(folder)
    assert load_dataset(folder) is not fresh          # just written: not remembered yet
    _age(folder)
    first = load_dataset(folder)
    assert load_dataset(folder) is first
    assert load_dataset(folder, ["practices"]) is not first   # other tables: its own load
    table = folder / "practices.parquet"
    data = table.read_bytes()
    table.unlink()
    table.write_bytes(data)                           # same bytes, a new file
    _age(folder, 30)
    again = load_dataset(folder)
    assert again is not first and again.content_hash == first.content_hash
    with open(table, "r+b") as f:                     # edited in place, same size
        f.seek(len(data) // 2)
        f.write(bytes([data[len(data) // 2] ^ 0xFF]))
    os.utime(table, ns=(os.stat(table).st_mtime_ns - 10**9,) * 2)
    with pytest.raises(ContractError, match="cannot be read as parquet"):
        load_dataset(folder)                          # read afresh: the edit is found


def test_financial_year_as_april_to_march_on_any_dates():
    """The fast path (a search among 1 Aprils) agrees with the calendar definition on dates
    across centuries, month ends and day boundaries, for a Series, an index and a list; a
    missing date takes the pandas path and its error."""
    import numpy as np

    from helpers.schema import financial_year

    rng = np.random.default_rng(7)
    days = rng.integers(-40_000, 60_000, 5_000)
    stamps = pd.to_datetime(days, unit="D") + pd.to_timedelta(rng.integers(0, 86_400, 5_000),
                                                              unit="s")
    edges = pd.to_datetime(["2019-03-31 23:59:59", "2019-04-01 00:00:00", "2020-03-31 12:00:00",
                            "2020-04-01 00:00:01", "1900-01-01 00:00:00",
                            "2099-12-31 23:59:59"])
    dates = pd.Series(stamps.append(edges), name="month", index=range(5_006, 0, -1))
    want = (dates.dt.year - (dates.dt.month < 4)).astype("int64")
    got = financial_year(dates)
    assert got.equals(want) and got.name == "month" and got.index.equals(dates.index)
    assert (financial_year(pd.DatetimeIndex(dates)) == want.to_numpy()).all()
    assert financial_year(["2019-04-01", "2019-03-31"]).tolist() == [2019, 2018]
    assert financial_year(pd.Series(["2021-06-01"])).tolist() == [2021]   # text dates
    assert financial_year(pd.Series([], dtype="datetime64[ns]")).tolist() == []
    with pytest.raises(ValueError):
        financial_year(pd.Series([pd.Timestamp("2020-01-01"), pd.NaT]))
