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
    # every row accounted for once: used, or rejected (with all its reasons)
    assert rep.rows_used + rep.rows_rejected + rep.malformed_lines == rep.rows_read
    assert rep.malformed_lines == 0
    assert rep.rows_rejected <= sum(rep.rejected.values())
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


def test_a_row_with_two_faults_is_one_rejected_row_with_both_reasons(tmp_path, codes):
    prac, spec = codes
    p = tmp_path / "two.csv"
    pd.DataFrame({"practice_code": [prac[0], "Z99999", prac[1]],
                  "referral_date": ["2015-05-03", "2015-02-30", "2015-06-01"],
                  "specialty_code": [spec[0], spec[0], spec[1]],
                  "age": ["40", "130", "7"], "sex": ["F", "M", "M"]}).to_csv(p, index=False)
    table, rep = extracts.ingest(p, prac, spec)
    assert (rep.rows_read, rep.rows_used, rep.rows_rejected) == (3, 2, 1)
    assert rep.rejected == {"unknown_practice": 1, "unknown_specialty": 0,
                            "impossible_age": 1, "bad_or_out_of_range_date": 1}


def test_malformed_lines_are_counted_not_fatal(tmp_path, codes):
    prac, spec = codes
    good = [f"{prac[i % 5]},2015-05-{1 + i % 28:02d},{spec[0]},{20 + i % 50},F"
            for i in range(1000)]
    bad = [f"{prac[0]},2015-05-01,{spec[0]},40,F,EXTRA,FIELDS" if i % 2 else "garbage"
           for i in range(50)]
    lines = good[:500] + bad + good[500:]
    p = tmp_path / "malformed.csv"
    p.write_text("practice_code,referral_date,specialty_code,age,sex\n" + "\n".join(lines)
                 + "\n")
    table, rep = extracts.ingest(p, prac, spec)
    assert rep.rows_read == 1050 and rep.malformed_lines == 50
    assert rep.rows_used == 1000 == int(table["referrals"].sum())
    assert rep.rows_used + rep.rows_rejected + rep.malformed_lines == rep.rows_read
    assert "50 malformed lines" in rep.summary()


def test_out_folder_is_protected(tmp_path, small):
    recs = tmp_path / "recs.csv"
    extracts.generate_records(recs, 200, small.practices.practice_code.astype(str).tolist(),
                              small.specialties.specialty_code.astype(str).tolist(),
                              start="2015-04-01", bad_share=0.0)
    args = ["--records", str(recs), "--structure", str(small.path)]
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("analyst's file")
    assert extracts.main([*args, "--out", str(out)]) == 2
    assert (out / "keep.txt").read_text() == "analyst's file"      # nothing deleted
    with pytest.raises(ValueError, match="would overwrite the input"):
        extracts.check_output_folder(small.path, [recs, small.path], overwrite=True)
    with pytest.raises(ValueError, match="would overwrite the input"):
        extracts.check_output_folder(tmp_path, [recs, small.path], overwrite=True)
    assert extracts.main([*args, "--out", str(small.path), "--overwrite"]) == 2
    # --overwrite replaces only a dataset an extract wrote, never other files at that path
    assert extracts.main([*args, "--out", str(out), "--overwrite"]) == 2
    assert (out / "keep.txt").read_text() == "analyst's file"
    mine = tmp_path / "mine"
    assert extracts.main([*args, "--out", str(mine)]) == 0
    assert extracts.main([*args, "--out", str(mine), "--overwrite"]) == 0
    assert (mine / "referrals.parquet").exists()
