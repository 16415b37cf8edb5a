"""Loaders for published NHS open data, run on the real files (skips without ../shared)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import real
from helpers.contract import AGE_BANDS, ContractError, validate_table
from helpers.synthetic import AGE_SHARE


def test_nhsbsa_list_sizes(real_dir):
    d = real.read_nhsbsa_list_sizes(real_dir / "nhsbsa_patient_list_size_age_sex_2013_04-06.csv")
    assert d.practice_code.nunique() == 8068                     # non-zero lists (SOURCES.md)
    assert d.patients.sum() == pytest.approx(56.0e6, rel=0.01)   # 56.0M patients
    assert set(d.nhsbsa_band) == {"0-4", "5-14", "15-24", "25-34", "35-44", "45-54", "55-64",
                                  "65-74", "75+"}
    assert d.period.iloc[0] == pd.Timestamp("2013-04-01")
    late = real.read_nhsbsa_list_sizes(real_dir / "nhsbsa_patient_list_size_age_sex_2016_01-03"
                                       ".csv")
    assert late.practice_code.nunique() == 7705 and late.patients.sum() == pytest.approx(
        57.5e6, rel=0.01)


def test_split_to_contract_population(real_dir):
    d = real.read_nhsbsa_list_sizes(real_dir / "nhsbsa_patient_list_size_age_sex_2014_04-06.csv")
    shares = pd.Series(AGE_SHARE, index=list(AGE_BANDS))
    pop = real.split_to_five_year_bands(d, shares)
    assert pop.patients.sum() == d.patients.sum()                # totals preserved exactly
    per = pop.groupby("practice_code").patients.sum()
    assert per.equals(d.groupby("practice_code").patients.sum())
    validate_table(pop, "population", "nhsbsa 2014")             # passes the contract


def test_epraccur(real_dir):
    p = real.read_epraccur(real_dir / "ods_epraccur_2022-02.csv")
    assert len(p) == 8631                                        # setting 4 rows
    assert p.practice_code.is_unique and p.open_date.notna().mean() > 0.99
    assert (p.status == "A").sum() > 6000


def test_imd_and_reference_costs(real_dir):
    imd = real.read_fingertips_imd(real_dir / "fingertips_practice_imd_93553.csv", 2019)
    assert len(imd) == 6980 and imd.imd_score.between(0, 100).all()
    assert imd.imd_score.mean() == pytest.approx(22, abs=4)
    with pytest.raises(ContractError, match="no rows for IMD 2012"):
        real.read_fingertips_imd(real_dir / "fingertips_practice_imd_93553.csv", 2012)
    pr = real.read_reference_costs(real_dir / "nhs_reference_costs_2016-17_consultant_led_"
                                   "outpatients.csv")
    assert pr.year.eq(2016).all() and len(pr) > 40
    to = pr.set_index("specialty_code").loc["110"]
    assert 100 < to.price_first < 250 and to.price_followup < to.price_first
    validate_table(pr, "prices", "reference costs 2016-17")


def test_wrong_files_refused(real_dir, tmp_path):
    with pytest.raises(ContractError, match="27-column"):
        real.read_epraccur(real_dir / "heec_ccg_to_icb_lookup.csv")
    fake = tmp_path / "list_2013_04-06.csv"
    fake.write_bytes((real_dir / "heec_ccg_to_icb_lookup.csv").read_bytes())
    with pytest.raises(ContractError, match="not the expected NHSBSA"):
        real.read_nhsbsa_list_sizes(fake)
