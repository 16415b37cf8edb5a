"""Every real figure of the real structure with its true period and source name, checked
against the published files in ../shared/data/real: a registered list is a financial year's
(its average from 2018/19), not a count "in April"; the age and sex mix is one quarter's,
held the same every year; GP FTE is a calendar year's; outpatient prices are reference
costs, carried forward; a payments row the publisher marks "Part year of data" is not a
year's payments per patient and is left out of the panel."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import context
from helpers.datasets import load_dataset
from helpers.paths import project_root
from helpers.sources import nhs_files, real_structure


@pytest.fixture(scope="module")
def real_ds(real_england):
    return load_dataset(real_england)


@pytest.fixture(scope="module")
def payments(real_dir):
    return nhs_files.read_gp_payments_panel(real_dir)


def _raw_part_year(real_dir) -> set[tuple[str, int]]:
    """(practice, financial year) rows whose atypical characteristics say 'Part year of
    data', read from the files with the csv module alone."""
    out = set()
    for f in sorted(real_dir.glob("nhsd_payments_to_general_practice_20*.csv")):
        year = int(f.name.split("_")[-1][:4])
        with open(f, encoding="utf-8-sig", newline="") as fh:
            rows = csv.reader(fh)
            head = [h.strip() for h in next(rows)]
            code = head.index("Practice Code")
            for row in rows:
                if any("part year of data" in cell.lower() for cell in row):
                    out.add((row[code].strip(), year))
    return out


@pytest.mark.real
def test_part_year_rows_flagged_and_left_out_of_the_panel(real_dir, payments):
    raw = _raw_part_year(real_dir)
    flagged = set(zip(payments.loc[payments["part_year"], "practice_code"],
                      payments.loc[payments["part_year"], "year"], strict=True))
    assert flagged == raw and len(raw) > 1000          # every year's header spelling read
    codes = pd.Index(sorted(payments["practice_code"].unique()))
    notes: dict = {}
    panel = real_structure._outcomes(real_structure.find_files(real_dir), payments, codes,
                                     notes)
    kept = set(zip(panel["practice_code"], panel["year"], strict=True))
    assert not kept & raw
    assert notes["payments_part_year_left_out"] == len(raw)
    # the case that was ranked: a practice closing in 2020, paid for part of 2019/20, read
    # as payments per weighted patient far below England's (bottom 5%)
    p19 = payments[(payments["year"] == 2019) & (payments["weighted_patients"] > 0)]
    ppw = p19["total_payments_gbp"] / p19["weighted_patients"]
    low = p19[ppw < ppw.quantile(0.05)]
    assert low["part_year"].any()
    assert not kept & set(zip(low.loc[low["part_year"], "practice_code"],
                              low.loc[low["part_year"], "year"], strict=True))


@pytest.mark.real
def test_a_list_is_the_financial_year_of_the_payments_file(real_ds, payments):
    pop = real_ds.population
    latest = pop["period"].max()
    assert context.list_when(real_ds, latest) == "2021/22 (the year's average list)"
    assert context.list_when(real_ds, pd.Timestamp("2017-04-01")) == \
        "2017/18 (the year's last known list)"
    # the 'April 2021' count is the 2021-22 payments file's figure, an average over the year
    # (not whole numbers), rounded
    p21 = payments[payments["year"] == 2021].set_index("practice_code")["registered_patients"]
    tot = pop[pop["period"] == latest].groupby("practice_code", observed=True)["patients"] \
        .sum()
    tot.index = tot.index.astype(str)
    both = tot.index.intersection(p21.index)
    assert (tot[both].to_numpy() == np.rint(p21[both]).to_numpy()).all()
    assert (p21 != np.round(p21)).mean() > 0.5              # yearly averages, not counts
    # synthetic England's counts are counts at a date, said so
    small = load_dataset(project_root() / "data" / "synthetic" / "small")
    assert context.list_when(small, "2021-04-01") == "April 2021"


@pytest.mark.real
def test_age_sex_mix_is_one_quarter_held_constant_and_said_so(real_ds, real_dir):
    status = context.table_status(real_ds, "population")
    latest_bsa = sorted(real_dir.glob("nhsbsa_patient_list_size_age_sex_*.csv"))[-1].name
    assert latest_bsa.endswith("2016_01-03.csv")
    assert "NHSBSA January–March 2016" in status and "held the same every year" in status
    # held constant: a practice's shares by sex and band are the same in 2017 and 2021
    pop = real_ds.population
    code = str(pop.loc[pop["period"] == pop["period"].max(), "practice_code"].iloc[0])
    me = pop[pop["practice_code"].astype(str) == code]
    share = me.pivot_table(index=["sex", "age_band"], columns="period", values="patients",
                           aggfunc="sum", observed=True)
    share = share / share.sum()
    assert np.allclose(share.iloc[:, 0], share.iloc[:, -1], atol=2e-3)


@pytest.mark.real
def test_prices_are_reference_costs_carried_forward(real_ds, real_dir):
    assert context.price_words(real_ds) == "reference costs"
    status = context.table_status(real_ds, "prices")
    assert "reference costs" in status and "not prices" in status
    assert "carried forward from 2017/18" in status
    rc = nhs_files.read_reference_costs(
        real_dir / "nhs_reference_costs_2017-18_consultant_led_outpatients.csv") \
        .set_index("specialty_code")["price_first"]
    pr = real_ds.prices[real_ds.prices["year"] == 2021].set_index("specialty_code")
    assert (pr["price_first"] == rc.reindex(pr.index)).all()
    small = load_dataset(project_root() / "data" / "synthetic" / "small")
    assert context.price_words(small) == "tariff prices"


@pytest.mark.real
def test_gp_fte_is_a_calendar_year_and_said_so(real_ds, real_dir):
    status = context.table_status(real_ds, "practice_outcomes")
    assert "calendar year" in status and "2023 with 2022/23" in status
    assert context.outcome_period(real_ds, "gp_fte_per_1000", 2022) == \
        "2022/23 (GP FTE of 2023)"
    assert context.outcome_period(real_ds, "payments_per_weighted", 2022) == "2022/23"
    w = nhs_files.read_gp_workforce(real_dir / "heec_gp_workforce_practice_year.csv")
    w23 = w[w["year"] == 2023].set_index("practice_code")["gp_fte"]
    po = real_ds.practice_outcomes
    fte = po[po["year"] == 2022].dropna(subset=["gp_fte"]).set_index("practice_code")[
        "gp_fte"]
    both = fte.index.intersection(w23.index)
    assert len(both) > 5000 and np.allclose(fte[both], w23[both])


def test_statuses_on_data_without_derivations(tmp_path):
    """A mixed dataset that does not describe its tables says only real or synthetic."""
    out = tmp_path / "mixed"
    shutil.copytree(project_root() / "data" / "synthetic" / "small", out)
    prov = json.loads((out / "provenance.json").read_text())
    prov.update(source="real structure", real_tables=["practices", "population", "prices"],
                synthetic_tables=["referrals"])
    (out / "provenance.json").write_text(json.dumps(prov))
    ds = load_dataset(out)
    assert context.table_status(ds, "population") == "real"
    assert context.table_status(ds, "referrals") == "synthetic"
    assert context.price_words(ds) == "reference costs"
    assert context.list_when(ds, "2020-04-01") == "2020/21 (the year's average list)"


@pytest.mark.real
def test_population_rows_cover_financial_years(real_ds, payments):
    pop = real_ds.population
    first, last = pop["period"].min(), pop["period"].max()
    # the rows are the payment files' years 2017-18 to 2021-22, said as such
    years = sorted(set(payments["year"]) & set(pop["period"].dt.year))
    assert (years[0], years[-1]) == (2017, 2021)
    assert context.table_span(real_ds, "population", first, last) == "2017/18 – 2021/22"
    assert context.table_span(real_ds, "referrals", pd.Timestamp("2017-04-01"),
                              pd.Timestamp("2022-03-01")) == "Apr 2017 – Mar 2022"
    assert context.table_span(real_ds, "prices", pd.NaT, pd.NaT) == "–"
    small = load_dataset(project_root() / "data" / "synthetic" / "small")
    assert context.table_span(small, "population", first, last) == "Apr 2017 – Apr 2021"
