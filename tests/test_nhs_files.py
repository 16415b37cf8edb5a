"""Loaders for published NHS open data, run on the real files (skips without ../shared)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.schema import AGE_BANDS, ContractError, validate_table
from helpers.sources import nhs_files
from helpers.sources.synthetic import AGE_SHARE


def test_nhsbsa_list_sizes(real_dir):
    d = nhs_files.read_nhsbsa_list_sizes(real_dir / "nhsbsa_patient_list_size_age_sex_2013_04-06.csv")
    assert d.practice_code.nunique() == 8068                     # non-zero lists (SOURCES.md)
    assert d.patients.sum() == pytest.approx(56.0e6, rel=0.01)   # 56.0M patients
    assert set(d.nhsbsa_band) == {"0-4", "5-14", "15-24", "25-34", "35-44", "45-54", "55-64",
                                  "65-74", "75+"}
    assert d.period.iloc[0] == pd.Timestamp("2013-04-01")
    late = nhs_files.read_nhsbsa_list_sizes(real_dir / "nhsbsa_patient_list_size_age_sex_2016_01-03"
                                       ".csv")
    assert late.practice_code.nunique() == 7705 and late.patients.sum() == pytest.approx(
        57.5e6, rel=0.01)


def test_split_to_contract_population(real_dir):
    d = nhs_files.read_nhsbsa_list_sizes(real_dir / "nhsbsa_patient_list_size_age_sex_2014_04-06.csv")
    shares = pd.Series(AGE_SHARE, index=list(AGE_BANDS))
    pop = nhs_files.split_to_five_year_bands(d, shares)
    assert pop.patients.sum() == d.patients.sum()                # totals preserved exactly
    per = pop.groupby("practice_code").patients.sum()
    assert per.equals(d.groupby("practice_code").patients.sum())
    validate_table(pop, "population", "nhsbsa 2014")             # passes the contract


def test_epraccur(real_dir):
    p = nhs_files.read_epraccur(real_dir / "ods_epraccur_2022-02.csv")
    assert len(p) == 8631                                        # setting 4 rows
    assert p.practice_code.is_unique and p.open_date.notna().mean() > 0.99
    assert (p.status == "A").sum() > 6000


def test_imd_and_reference_costs(real_dir):
    imd = nhs_files.read_fingertips_imd(real_dir / "fingertips_practice_imd_93553.csv", 2019)
    assert len(imd) == 6980 and imd.imd_score.between(0, 100).all()
    assert imd.imd_score.mean() == pytest.approx(22, abs=4)
    with pytest.raises(ContractError, match="no rows for IMD 2012"):
        nhs_files.read_fingertips_imd(real_dir / "fingertips_practice_imd_93553.csv", 2012)
    pr = nhs_files.read_reference_costs(real_dir / "nhs_reference_costs_2016-17_consultant_led_"
                                   "outpatients.csv")
    assert pr.year.eq(2016).all() and len(pr) > 40
    to = pr.set_index("specialty_code").loc["110"]
    assert 100 < to.price_first < 250 and to.price_followup < to.price_first
    validate_table(pr, "prices", "reference costs 2016-17")


def test_wrong_files_refused(real_dir, tmp_path):
    with pytest.raises(ContractError, match="27-column"):
        nhs_files.read_epraccur(real_dir / "heec_ccg_to_icb_lookup.csv")
    fake = tmp_path / "list_2013_04-06.csv"
    fake.write_bytes((real_dir / "heec_ccg_to_icb_lookup.csv").read_bytes())
    with pytest.raises(ContractError, match="not the expected NHSBSA"):
        nhs_files.read_nhsbsa_list_sizes(fake)


def test_patients_registered_totals(real_dir):
    t = nhs_files.read_gp_registered_totals(real_dir / "nhsd_gp_reg_pat_prac_all_2021-01.csv")
    assert len(t) == 6658 and t.practice_code.is_unique
    assert t.patients.sum() == 60_606_345                        # England, 1 January 2021
    assert (t.period == pd.Timestamp("2021-01-01")).all()
    # linked across files: the same practices and list sizes as NHS Payments 2020-21
    pay = nhs_files.read_gp_payments(real_dir / "nhsd_payments_to_general_practice_2020-21.csv")
    m = t.merge(pay, on="practice_code")
    assert len(m) / len(t) > 0.98
    assert m["patients"].corr(m["registered_patients"]) > 0.99


def test_patients_registered_five_year_bands(real_dir, tmp_path):
    q = nhs_files.read_gp_registered_quinary(real_dir / "nhsd_gp_reg_quin_age_sussex_2022-04.csv")
    assert q.practice_code.nunique() == 160 and q.patients.sum() == 1_955_445
    assert set(q.age_band) == set(AGE_BANDS)                     # 90-94 and 95+ folded
    assert (q.period == pd.Timestamp("2022-04-01")).all()
    validate_table(q, "population", "quinary 2022-04")
    # NHS Digital's own layout (ORG_CODE, SEX, AGE_GROUP_5 with ALL rows) gives the same rows
    raw = pd.read_csv(real_dir / "nhsd_gp_reg_quin_age_sussex_2022-04.csv")
    own = pd.DataFrame({"PUBLICATION": "GP_PRAC_PAT_LIST", "EXTRACT_DATE": "01APR2022",
                        "TYPE": "GP", "ORG_CODE": raw["ODS_Code"],
                        "SEX": raw["Sex"].str.upper(),
                        "AGE_GROUP_5": raw["Age_group"].str.replace(" years", "")
                        .str.replace("-", "_"), "NUMBER_OF_PATIENTS": raw["Patients"]})
    allrow = own.groupby("ORG_CODE", as_index=False)["NUMBER_OF_PATIENTS"].sum().assign(
        PUBLICATION="GP_PRAC_PAT_LIST", EXTRACT_DATE="01APR2022", TYPE="GP", SEX="ALL",
        AGE_GROUP_5="ALL")
    path = tmp_path / "gp-reg-pat-prac-quin-age.csv"
    pd.concat([own, allrow]).to_csv(path, index=False)
    q2 = nhs_files.read_gp_registered_quinary(path)
    pd.testing.assert_frame_equal(q2.reset_index(drop=True), q.reset_index(drop=True),
                                  check_dtype=False)


def test_qof_geographies_and_networks(real_dir):
    g = nhs_files.read_qof_geographies(real_dir / "qof_2020-21_mapping_nhs_geographies.csv")
    assert len(g) == 6571 and g.practice_code.is_unique
    assert g.ccg_code.nunique() == 106 and g.stp_code.nunique() == 42
    assert g.region_name.nunique() == 7
    lookup = nhs_files.read_ccg_icb_lookup(real_dir / "heec_ccg_to_icb_lookup.csv")
    assert lookup.icb_code.nunique() == 42 and set(g.stp_code) == set(lookup.icb_code)
    icb_of = lookup.set_index("ccg_code")["icb_code"]
    differ = g[g.ccg_code.map(icb_of) != g.stp_code]
    # the files agree except for Bassetlaw, which moved from South Yorkshire (QF7) to
    # Nottingham and Nottinghamshire ICB (QT1) in July 2022
    assert set(differ.ccg_code) == {"02Q"} and len(differ) == 9
    assert icb_of["02Q"] == "QT1" and set(differ.stp_code) == {"QF7"}
    det = nhs_files.read_pcn_details(real_dir / "ods_epcn_pcn_details_2022-04.csv")
    assert len(det) == 1318 and det.group_code.is_unique
    assert det.open_date.min() == pd.Timestamp("2019-10-01")
    mem = nhs_files.read_epcn_membership(real_dir / "ods_epcn_core_partner_details_2022-04.csv")
    assert mem.group_code.isin(det.group_code).all()             # every member's PCN listed
    assert g.pcn_code.isin(det.group_code).mean() > 0.95


def test_new_loaders_refuse_wrong_files(real_dir, tmp_path):
    lookup = real_dir / "heec_ccg_to_icb_lookup.csv"
    for reader in (nhs_files.read_gp_registered_totals, nhs_files.read_gp_registered_quinary,
                   nhs_files.read_qof_geographies, nhs_files.read_pcn_details):
        with pytest.raises(ContractError) as e:
            reader(lookup)
        assert "heec_ccg_to_icb_lookup.csv" in str(e.value)
    bad = tmp_path / "totals.csv"
    bad.write_text("PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,CODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
                   "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,A84002,ALL,ALL,5903\n"
                   "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,A84003,ALL,ALL,-4\n")
    with pytest.raises(ContractError, match=r"NUMBER_OF_PATIENTS.*rows \[3\]"):
        nhs_files.read_gp_registered_totals(bad)
    bad.write_text(bad.read_text().replace("-4", "7").replace("01JAN2021,GP,00L,A84003",
                                                              "31FEB2021,GP,00L,A84003"))
    with pytest.raises(ContractError, match="unreadable extract date"):
        nhs_files.read_gp_registered_totals(bad)
