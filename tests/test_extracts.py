"""Record-level extracts: DuckDB ingestion to the contract with every rejected row counted."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.schema import ContractError
from helpers.sources import extracts


@pytest.fixture(scope="module")
def codes(small):
    return (small.practices.practice_code.astype(str).tolist(),
            small.specialties.specialty_code.astype(str).tolist())


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_ingest_counts_and_totals(tmp_path, codes, suffix):
    prac, spec = codes
    path = tmp_path / f"recs{suffix}"
    planted = extracts.generate_records(path, 120_000, prac, spec, bad_share=0.002, chunk=50_000)
    table, rep = extracts.ingest(path, prac, spec)
    assert rep.rows_read == 120_000
    assert rep.rejected["unknown_practice"] == planted["unknown_practice"]
    assert rep.rejected["impossible_age"] == planted["impossible_age"]
    assert rep.rejected["bad_or_out_of_range_date"] == planted["bad_date"]
    # independent check of the aggregation with pandas on the clean rows
    raw = pd.read_csv(path, dtype=str) if suffix == ".csv" else pd.read_parquet(path)
    d = pd.to_datetime(raw.referral_date, errors="coerce")
    ok = raw.practice_code.isin(prac) & (raw.age.astype(int) <= 115) & d.notna()
    expected = raw[ok].assign(month=d[ok].dt.to_period("M").dt.start_time).groupby(
        ["practice_code", "month", "specialty_code"]).size()
    got = table.set_index(["practice_code", "month", "specialty_code"])["referrals"]
    assert got.sum() == expected.sum() == rep.rows_used
    assert got.sort_index().to_numpy().tolist() == expected.sort_index().to_numpy().tolist()
    assert "rejected" in rep.summary()


def test_missing_column_is_named(tmp_path, codes):
    p = tmp_path / "bad.csv"
    pd.DataFrame({"practice_code": ["A"], "referral_date": ["2019-01-01"]}).to_csv(p,
                                                                                  index=False)
    with pytest.raises(ContractError, match="missing required column.*specialty_code"):
        extracts.ingest(p, *codes)
    with pytest.raises(ContractError, match="expected a .csv or .parquet"):
        extracts.ingest(p.with_suffix(".txt").resolve() if p.with_suffix(".txt").write_text(
            "x") else p, *codes)
