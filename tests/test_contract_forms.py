"""Contract-form analysis: what-if arithmetic, risk, and recovery of the planted switch
effects on synthetic England (DiD across commissioners, ITS per commissioner)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import contracts as contract_forms


def _toy_baseline():
    idx = pd.Index(["110", "130"], name="specialty_code")
    return contract_forms.Baseline(pd.Series([1000.0, 500.0], idx), pd.Series([2000.0, 1300.0], idx),
                      pd.Series([150.0, 110.0], idx), pd.Series([80.0, 60.0], idx),
                      pd.Series(np.full(12, 1.0)))


def test_what_if_worked_example():
    b = _toy_baseline()
    # plan: 1000*150 + 2000*80 + 500*110 + 1300*60 = 443,000
    assert b.value == 443_000
    t = contract_forms.what_if(b, -10, start_month=10, specialties=["110"])
    full = t[t.span == "full-year"].set_index("form")
    # 10% fewer T&O referrals: 100 firsts and 200 follow-ups fewer = £31,000 a year
    assert full.loc["pbr", "commissioner_saving_gbp"] == pytest.approx(31_000)
    assert full.loc["block", "commissioner_saving_gbp"] == 0
    assert full.loc["block", "provider_margin_change_gbp"] == pytest.approx(31_000)
    assert full.loc["blended", "commissioner_saving_gbp"] == pytest.approx(0.2 * 31_000)
    assert full.loc["cap_collar", "commissioner_saving_gbp"] == pytest.approx(
        31_000 - 0.05 * 443_000)
    assert full.loc["api", "commissioner_saving_gbp"] == 0      # no claw-back below plan
    inyear = t[t.span == "in-year"].set_index("form")
    assert inyear.loc["pbr", "commissioner_saving_gbp"] == pytest.approx(31_000 * 6 / 12)
    with pytest.raises(ValueError, match="calendar month"):
        contract_forms.what_if(b, -10, start_month=13)


def test_what_if_followup_sensitivity():
    b = _toy_baseline()
    lo = contract_forms.what_if(b, -10, followup_ratio_scale=0.5).query("form == 'pbr' and "
                                                            "span == 'full-year'")
    hi = contract_forms.what_if(b, -10, followup_ratio_scale=1.5).query("form == 'pbr' and "
                                                            "span == 'full-year'")
    assert hi.commissioner_saving_gbp.iloc[0] > lo.commissioner_saving_gbp.iloc[0]


def test_payment_curves_shapes():
    c = contract_forms.payment_curves(1e6)
    assert np.allclose(c["pbr"], c["activity_share_of_plan"])
    assert np.allclose(c["block"], 1.0)
    assert (np.diff(c["blended"]) > 0).all()


def test_risk_moves_between_parties():
    b = _toy_baseline()
    b.monthly_value = pd.Series(np.random.default_rng(0).lognormal(0, 0.1, 24) * 1e5)
    r = contract_forms.risk(b).set_index("form")
    assert r.loc["block", "spend_sd_gbp"] == pytest.approx(0, abs=1e-6)
    assert r.loc["pbr", "provider_margin_sd_gbp"] == pytest.approx(0, abs=1e-6)
    assert r.loc["block", "provider_margin_sd_gbp"] == pytest.approx(
        r.loc["pbr", "spend_sd_gbp"], rel=1e-9)
    assert 0 < r.loc["blended", "commissioner_share_of_risk"] < 0.5


@pytest.fixture(scope="module")
def panel(england):
    return contract_forms.activity_panel(england), contract_forms.switches(england)


def test_switches_match_truth(england, panel):
    _, sw = panel
    truth = england.truth["contract_switches"]["switchers"]
    assert set(sw.commissioner_code) == set(truth)
    for r in sw.itertuples():
        assert r.to_form == truth[r.commissioner_code]["form"]
        assert str(pd.Timestamp(r.month).date()) == truth[r.commissioner_code]["month"]


@pytest.mark.parametrize("form", ["block", "blended"])
@pytest.mark.parametrize("outcome", ["firsts", "followups"])
def test_did_recovers_switch_effects(england, panel, form, outcome):
    p, sw = panel
    r = contract_forms.did_switch(p, sw, form, outcome)
    t = england.truth["contract_switches"]
    truth = t["effect_firsts_per_referral" if outcome == "firsts"
              else "effect_followups_per_first"][form]
    assert r.covers(truth), (r.tidy(), truth)
    es = r.extra["event_study"]
    pre = es[es.event_month < 0]
    # no pre-trend: pointwise 95% intervals of the 12 leads cover zero, bar chance misses
    covers = (pre["lower"] <= 0) & (pre["upper"] >= 0)
    assert len(pre) == 12 and covers.mean() >= 0.75


def test_its_per_commissioner(england, panel):
    p, sw = panel
    t = england.truth["contract_switches"]
    cover, errs = [], []
    for r in sw.itertuples():
        res = contract_forms.its_switch(p, r.commissioner_code, pd.Timestamp(r.month), "firsts")
        truth = t["effect_firsts_per_referral"][r.to_form]
        cover.append(res.covers(truth))
        errs.append(res.estimate - truth)
    assert np.mean(cover) >= 0.7          # 95% intervals cover the truth for most switchers
    assert abs(np.mean(errs)) < 0.01      # and are unbiased on average
