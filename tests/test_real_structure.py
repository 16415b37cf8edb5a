"""The real-data analysis source built from the published files in ../shared/data/real:
what is real matches the files exactly, what is synthetic is recovered, and the batch
reports run on it and say which is which."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from helpers.datasets import load_dataset
from helpers.run import batch
from helpers.sources import nhs_files, real_structure


@pytest.fixture(scope="module")
def built(real_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "real_england"
    real_structure.build(real_dir, out)
    return load_dataset(out)


def test_structure_is_the_published_one(built, real_dir):
    ds = built
    lookup = nhs_files.read_ccg_icb_lookup(real_dir / "heec_ccg_to_icb_lookup.csv")
    assert sorted(ds.commissioners.commissioner_code) == sorted(lookup.icb_code.unique())
    assert len(ds.commissioners) == 42 and ds.commissioners.region.nunique() == 7
    assert len(ds.sub_areas) == 106                      # the 2020-21 CCGs
    pay = nhs_files.read_gp_payments_panel(real_dir)
    win = pay[pay.year.between(2017, 2021) & (pay.registered_patients > 0)]
    assert set(ds.practices.practice_code) == set(win.practice_code)
    assert len(ds.practices) == 7410
    # population: every practice-year sums exactly to the published registered total
    # (rounded: from 2018/19 the file gives a yearly average)
    pop = ds.population.assign(year=ds.population.period.dt.year,
                               practice_code=ds.population.practice_code.astype(str))
    tot = pop.groupby(["practice_code", "year"])["patients"].sum()
    pub = win.set_index(["practice_code", "year"])["registered_patients"]
    assert tot.sort_index().to_numpy().tolist() == np.rint(pub.sort_index()).astype(int).tolist()
    assert pop.groupby("year")["patients"].sum()[2021] == pytest.approx(61.6e6, rel=0.01)
    # networks are the ePCN spells; most practices joined on 1 October 2019
    g = ds.groups
    assert (g.group_type == "network").all() and g.practice_code.nunique() == 6795
    assert (g.joined == pd.Timestamp("2019-10-01")).mean() > 0.9
    # the annual panel carries the published payments and weighted lists
    po = ds.practice_outcomes.set_index(["practice_code", "year"])
    row = pay[(pay.year == 2019) & (pay.practice_code == "A81001")].iloc[0]
    assert po.loc[("A81001", 2019), "payments_gbp"] == pytest.approx(row.total_payments_gbp)
    assert po.loc[("A81001", 2019), "weighted_patients"] == pytest.approx(
        row.weighted_patients)
    years = ds.practice_outcomes.year
    assert years.min() == 2014 and years.max() == 2022 and po.gp_fte.notna().sum() > 6000
    # prices are reference costs (2017/18 carried forward); follow-up ratios from attendances
    rc = nhs_files.read_reference_costs(real_dir / "nhs_reference_costs_2017-18_consultant_led_"
                                   "outpatients.csv").set_index("specialty_code")
    pr = ds.prices[ds.prices.year == 2021].set_index("specialty_code")
    assert pr.price_first.to_dict() == rc.price_first.reindex(pr.index).to_dict()
    assert ds.specialties.follow_up_ratio.between(0.5, 4).all()


def test_provenance_marks_real_and_synthetic(built):
    prov = built.provenance
    # a list is a financial year's; part-year payment rows are left out, and counted
    assert prov["list_period"] == "financial_year"
    assert prov["derivations"]["payments_part_year_left_out"] > 1000
    assert set(prov["real_tables"]) == {"commissioners", "sub_areas", "practices",
                                        "population", "groups", "practice_outcomes", "prices",
                                        "indicators"}
    ind = built.indicators           # every Fingertips practice row, the suppressed one kept
    assert (ind["indicator_id"] == "93930").sum() == 6343
    assert ind.loc[ind["indicator_id"] == "93930", "count"].isna().sum() == 1
    assert set(prov["synthetic_tables"]) == {"referrals", "reference_rates", "specialties",
                                             "providers", "contracts", "activity"}
    assert "synthetic" in prov["statement"] and "not facts" in prov["statement"]
    assert len(prov["input_files_sha256"]) >= 20
    d = prov["derivations"]
    assert d["practices_without_commissioner_dropped"] == 0
    assert sum(d["age_sex_profile_source"].values()) == 7410
    assert built.truth["applies_to"].startswith("the synthetic tables only")


def test_same_inputs_same_dataset(built, real_dir, tmp_path):
    again = real_structure.build(real_dir, tmp_path / "again")
    assert json.loads((again / "provenance.json").read_text())["content_hash"] == \
        built.provenance["content_hash"]


def test_missing_or_wrong_inputs(real_dir, tmp_path):
    some = tmp_path / "some"
    some.mkdir()
    (some / "ods_epraccur_2022-02.csv").write_bytes(
        (real_dir / "ods_epraccur_2022-02.csv").read_bytes())
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="payments"):
        real_structure.build(some, out)
    with pytest.raises(ValueError, match="needs NHS Payments files for every year"):
        real_structure.build(real_dir, out, start="2020-04-01", n_months=48)
    with pytest.raises(ValueError, match="1 April"):
        real_structure.build(real_dir, out, start="2017-05-01")
    assert not out.exists()                                      # nothing half-written
    assert real_structure.main(["--from", str(some), "--out", str(out)]) == 2


@pytest.fixture(scope="module")
def reports(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("real_reports")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": str(built.path), "publish": True,
                                    "areas": ["QKS", "QE1", "QOC", "QOP", "ENGLAND"],
                                    "notebooks": "all"}))
    n_failed, out = batch.run(grid, jobs_n=2, run_id="real", out_root=root, timeout=600)
    return n_failed, out


def _results(out, notebook, area):
    return json.loads((out / notebook / f"{area}.results.json").read_text())


def test_reports_run_and_say_what_is_real(reports):
    n_failed, out = reports
    manifest = json.loads((out / "manifest.json").read_text())
    assert n_failed == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    # 5 notebooks × (4 ICBs (smallest, largest, two more) + England)
    assert len(manifest["reports"]) == 25
    for f in out.glob("*/*.html"):
        if f.parent.name == "areas":           # the site's area pages carry no data statement
            continue
        page = f.read_text()
        if f.parent.name == "04_real_indicators":     # real published indicators only
            assert "REAL: published NHS data" in page and "Synthetic" not in page, f
            continue
        assert "Synthetic (simulated) parts:" in page, f
        assert "not facts about these practices" in page, f


def test_planted_effects_recovered_on_real_structure(built, reports):
    _, out = reports
    t = built.truth
    r1 = _results(out, "01_referral_variation", "england")
    assert r1["practice_sd_national"] == pytest.approx(t["referral_model"]["sd_practice"],
                                                       rel=0.15)
    from helpers import report
    from helpers.analysis.referral_variation import headline

    # a published results file of real practices names none of them (each flag is an
    # illustration); an internal run names them by their own codes, never by pseudonym
    assert "high_practices" not in r1 and "low_practices" not in r1
    ctx = report.start("01_referral_variation", {"data_source": str(built.path),
                                                 "publish": False})
    assert ctx.synthetic_on_real and not hasattr(ctx, "pseudonymise")
    h = headline(ctx, report.analyse(ctx))
    planted = set(t["outliers"]["practice_codes"])
    flagged = set(h["high_practices"]) | set(h["low_practices"])
    assert flagged <= set(built.practices.practice_code.astype(str))
    # a planted effect of ±0.9–1.1 on the log scale, plus the practice's own random effects
    # (commissioner, network, practice), lands outside the 99.8% limits with probability p_i;
    # the share flagged should be within two binomial standard errors of the mean p_i
    rm = t["referral_model"]
    s = np.sqrt(rm["sd_practice"] ** 2 + rm["sd_commissioner"] ** 2 + rm["sd_network"] ** 2)
    c = 3.090232 * np.sqrt(r1["tau2"])
    eff = np.array(list(t["outliers"]["effects"].values()))
    p = stats.norm.sf((c - eff) / s) + stats.norm.cdf((-c - eff) / s)
    share = len(planted & flagged) / len(planted)
    assert share >= p.mean() - 2 * np.sqrt((p * (1 - p)).sum()) / len(p), (share, p.mean())
    assert share >= 0.7
    assert len(flagged - planted) / (r1["n_practices"] - len(planted)) <= 0.02
    r2 = _results(out, "02_federation_scale", "england")
    j = r2["joining"]
    # nearly every practice joined a PCN at once: the comparison group is tiny (the report
    # says so) and the estimate rests on it, but it is near the effect planted on the panel
    from helpers.analysis import scale
    truth = scale.true_joining_att(scale.joining_panel(built), t)["att"]
    assert j["n_control"] < 100
    assert abs(j["att"] - truth) < 0.03, (j, truth)
    page = (out / "02_federation_scale" / "england.html").read_text()
    assert "hardly anyone to compare with" in page
    r3 = _results(out, "03_contract_forms", "england")
    sw = t["contract_switches"]
    # the national history: payment by results, then COVID block payments from April 2020
    assert r3["current_form"] == "block" and not r3["did"]
    page = (out / "03_contract_forms" / "england.html").read_text()
    assert "Every commissioner changed form in April 2020" in page
    assert "COVID-19" in page
    for d in r3["did"]:
        key = "effect_firsts_per_referral" if d["outcome"] == "firsts" else \
            "effect_followups_per_first"
        assert d["lower"] - 0.01 <= sw[key][d["to_form"]] <= d["upper"] + 0.01, d
    assert np.isfinite(r3["baseline_value_gbp"]) and r3["baseline_value_gbp"] > 0


def test_covid_fall_mergers_and_lint_on_the_real_structure(built, reports):
    n_failed, out = reports
    assert n_failed == 0
    ref = built.referrals.groupby("month")["referrals"].sum()
    april_2020, april_2019 = ref[pd.Timestamp("2020-04-01")], ref[pd.Timestamp("2019-04-01")]
    assert april_2020 < 0.45 * april_2019           # the first COVID-19 lockdown
    assert ref[pd.Timestamp("2021-10-01")] > 0.85 * ref[pd.Timestamp("2019-10-01")]
    forms = built.contracts.assign(y=built.contracts.start_month.dt.year)
    assert set(forms.loc[forms.start_month < "2020-04-01", "contract_form"]) == {"pbr"}
    assert set(forms.loc[forms.start_month >= "2020-04-01", "contract_form"]) == {"block"}
    merged = built.practices["successor_code"].notna().sum()
    assert merged >= 100                              # successors from the closures file
    r2 = _results(out, "02_federation_scale", "england")
    assert r2["mergers"]["n_mergers"] >= 50
    from helpers.run.checks import lint
    manifest = json.loads((out / "manifest.json").read_text())
    for r in manifest["reports"]:
        nb = json.loads((out / r["files"]["notebook"]).read_text())
        assert lint(nb, (out / r["files"]["html"]).read_text()) == [], r["report_id"]
