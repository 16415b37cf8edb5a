"""A record-level extract made into a dataset: it aggregates back exactly, the reference
rates are the extract's own, bad rows are counted, and the reports run on it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from helpers.datasets import load_dataset
from helpers.run import batch
from helpers.schema import ContractError
from helpers.sources import extracts


@pytest.fixture(scope="module")
def records(small, tmp_path_factory):
    path = tmp_path_factory.mktemp("ext") / "referrals.parquet"
    n = extracts.records_from_referrals(small, path, months=12)
    return path, n


@pytest.fixture(scope="module")
def extract_ds(small, records, tmp_path_factory):
    out = tmp_path_factory.mktemp("extds") / "dataset"
    folder, rep = extracts.build_dataset(records[0], small.path, out)
    return load_dataset(folder), rep


def test_records_look_like_an_extract(records, small):
    path, n = records
    raw = pd.read_parquet(path)
    assert len(raw) == n > 100_000
    assert list(raw.columns) == list(extracts.RECORD_COLUMNS)
    assert raw.age.between(0, 99).all() and set(raw.sex) == {"F", "M"}
    # obstetrics (501) referrals are women of child-bearing age, as the rates say
    mat = raw[raw.specialty_code == "501"]
    assert len(mat) > 1000 and (mat.sex == "F").all() and mat.age.between(15, 44).all()


def test_round_trip_is_exact(extract_ds, small):
    ds, rep = extract_ds
    assert rep.rows_used == rep.rows_read and not any(rep.rejected.values())
    got = ds.referrals.set_index(["practice_code", "month", "specialty_code"])["referrals"]
    src = small.referrals[small.referrals.month.isin(ds.referrals.month.unique())
                          & (small.referrals.referrals > 0)]
    want = src.set_index(["practice_code", "month", "specialty_code"])["referrals"]
    assert got.sort_index().tolist() == want.sort_index().tolist()
    # reference rates are the extract's own and track the generator's rates closely
    rr = ds.reference_rates.merge(small.reference_rates,
                                  on=["sex", "age_band", "specialty_code"])
    assert rr["rate_x"].corr(rr["rate_y"]) > 0.99
    prov = ds.provenance
    assert {"referrals", "reference_rates"} <= set(prov["real_tables"])
    assert prov["extract"]["rows_read"] == rep.rows_read
    assert "your record-level extract" in prov["statement"]
    assert ds.truth is None                         # the planted truth no longer applies


def test_bad_rows_counted_and_area_restricted(small, tmp_path):
    prac = small.practices
    one = prac[prac.commissioner_code.astype(str) == "Q01"].practice_code.astype(str).tolist()
    path = tmp_path / "recs.csv"
    planted = extracts.generate_records(path, 50_000, one,
                                        small.specialties.specialty_code.astype(str).tolist(),
                                        start="2015-04-01", bad_share=0.003, chunk=20_000)
    raw = pd.read_csv(path, dtype=str)
    raw.loc[raw.index[:37], "sex"] = "U"
    raw.to_csv(path, index=False)
    folder, rep = extracts.build_dataset(path, small.path, tmp_path / "ds")
    assert rep.rejected["unknown_practice"] == planted["unknown_practice"]
    assert rep.rejected["impossible_age"] == planted["impossible_age"]
    assert rep.rejected["bad_or_out_of_range_date"] == planted["bad_date"]
    assert rep.used_without_sex <= 37
    assert rep.rows_used + rep.rows_rejected + rep.malformed_lines == rep.rows_read == 50_000
    ds = load_dataset(folder)
    assert set(ds.commissioners.commissioner_code.astype(str)) == {"Q01"}
    assert set(ds.practices.practice_code.astype(str)) <= set(one)
    extract = json.loads((folder / "provenance.json").read_text())["extract"]
    assert extract["used_without_sex"] == rep.used_without_sex
    assert extract["rows_rejected"] == rep.rows_rejected


def test_unusable_extract_refused(small, tmp_path):
    path = tmp_path / "none.csv"
    pd.DataFrame({"practice_code": ["Z99999"], "referral_date": ["2015-05-01"],
                  "specialty_code": ["100"], "age": ["40"], "sex": ["F"]}).to_csv(path,
                                                                                  index=False)
    with pytest.raises(ContractError, match="no usable rows.*unknown_practice: 1"):
        extracts.build_dataset(path, small.path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert extracts.main(["--records", str(path), "--structure", str(small.path),
                          "--out", str(tmp_path / "out")]) == 2


def test_referral_report_runs_on_the_extract(extract_ds, tmp_path):
    ds, _ = extract_ds
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": str(ds.path), "publish": True,
                                    "notebooks": ["00_data_overview", "01_referral_variation"],
                                    "areas": ["Q01"]}))
    n_failed, out = batch.run(grid, jobs_n=1, run_id="ext", out_root=tmp_path, timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    assert n_failed == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    page = (out / "01_referral_variation" / "q01.html").read_text()
    assert "your record-level extract" in page


def test_missing_zero_rows_do_not_change_expected(small):
    """An extract has no rows for zero referrals; expected counts must not lose them."""
    from helpers.analysis.referrals import practice_month_specialty
    from helpers.datasets import Dataset

    full = practice_month_specialty(small)
    sparse = Dataset({**small.tables,
                      "referrals": small.referrals[small.referrals.referrals > 0]})
    got = practice_month_specialty(sparse)
    assert (small.referrals.referrals == 0).sum() > 1000          # zeros were really dropped
    key = ["practice_code", "month", "specialty_code"]
    a = full.sort_values(key).reset_index(drop=True)
    b = got.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b)
    assert (a["observed"].to_numpy() == b["observed"].to_numpy()).all()
    assert a["expected"].to_numpy() == pytest.approx(b["expected"].to_numpy(), rel=1e-12)
