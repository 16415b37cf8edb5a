"""Scale effects on synthetic England: size curves, elasticities, staggered joining (CS vs
TWFE), group-size heterogeneity and mergers, against the recorded truth."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import scale
from helpers.report.federation_scale import describe_elasticity


@pytest.fixture(scope="module")
def py(england):
    return scale.practice_year_panel(england)


@pytest.fixture(scope="module")
def jp(england):
    return scale.joining_panel(england)


@pytest.fixture(scope="module")
def cs(jp):
    return scale.callaway_santanna(jp)


def test_elasticities_recovered(england, py):
    t = england.truth
    sat_truth = t["practice_panel"]["satisfaction_points_per_log_list"] / py[
        "satisfaction_pct"].mean()
    expected = {"srr": t["referral_model"]["beta_log_list"],
                "payments_per_weighted": t["practice_panel"][
                    "payments_per_weighted_size_elasticity"],
                "gp_fte_per_1000": t["practice_panel"]["fte_size_elasticity"],
                "satisfaction_pct": sat_truth}
    for y, truth in expected.items():
        e = scale.elasticity(py, y)
        assert abs(e.estimate - truth) < 0.015, (y, e, truth)
        words = describe_elasticity(e.record("elasticity"), y)
        assert "small effect" in words
        low, high = re.search(r"95% CI (\S+)% to (\S+)%", words).groups()
        assert low != high, words           # ends written with enough decimals to differ


def test_binned_means_and_spline(py):
    b = scale.binned_means(py, "registered_patients", "srr", bins=6)
    assert len(b) == 6 and (b["lower"] < b["mean"]).all() and (b["mean"] < b["upper"]).all()
    assert b["n"].sum() == py[["registered_patients", "srr"]].dropna().shape[0]
    c = scale.spline_curve(py, "srr")
    assert (c["lower"] <= c["fit"]).all() and (c["fit"] <= c["upper"]).all()
    assert c["fit"].iloc[-1] > c["fit"].iloc[0]        # planted positive list-size effect


def test_joining_att_matches_truth(england, jp, cs):
    truth = scale.true_joining_att(jp, england.truth)
    assert cs.covers(truth["att"]), (cs.tidy(), truth["att"])
    es = cs.extra["event_study"].set_index("event_quarter")
    post = [e for e in truth["by_event"].index if e in es.index]
    inside = [(es.loc[e, "band_lower"] <= truth["by_event"][e] <= es.loc[e, "band_upper"])
              for e in post]
    assert np.mean(inside) >= 0.9, es.loc[post]
    assert cs.extra["no_pretrend_by_band"]


def test_twfe_shows_the_bias_truth_implies(england, jp, cs):
    truth = scale.true_joining_att(jp, england.truth)["att"]
    tw = scale.twfe(jp)
    # ramping effects + already-joined practices as controls attenuate TWFE towards zero
    assert abs(tw.estimate) < abs(truth)
    assert tw.upper < cs.lower or tw.estimate > cs.upper or abs(
        tw.estimate - truth) > abs(cs.estimate - truth)


def test_group_size_heterogeneity(england, jp):
    b = scale.by_size_band(jp).set_index("size_band")
    truth = scale.true_joining_att(jp, england.truth)["by_band"]
    assert b.loc["5-8", "att"] < b.loc["2-4", "att"] < 0     # 5-8 largest, as planted
    assert b.loc["5-8", "att"] < b.loc["9+", "att"] < 0
    for band in b.index:
        assert abs(b.loc[band, "att"] - truth[band]) < 0.01


def test_mergers_no_planted_effect(england):
    m = scale.mergers(england, "srr")
    assert m.n >= 50
    assert m.covers_zero


def test_csdid_cross_checked_with_differences(ref_dir):
    """Two independent implementations agree on the reference panel (R did: -0.0399513)."""
    from differences import ATTgt as DATTgt

    from helpers.analysis.scale import callaway_santanna
    d = pd.read_csv(ref_dir / "mpdta.csv")
    panel = pd.DataFrame({"y": d.lemp, "g": d["first.treat"], "unit": d.countyreal,
                          "t": d.year})
    mine = callaway_santanna(panel, min_e=-3, max_e=3)
    dd = d.assign(cohort=d["first.treat"].where(d["first.treat"] > 0)).set_index(
        ["countyreal", "year"])
    with contextlib.redirect_stdout(io.StringIO()):
        att = DATTgt(data=dd, cohort_column="cohort")
        att.fit(formula="lemp", est_method="dr", control_group="never_treated")
        simple = att.aggregate("simple")
    other = float(np.ravel(simple.iloc[:, 0].to_numpy())[0])
    assert mine.estimate == pytest.approx(-0.0399513, abs=1e-6)
    assert other == pytest.approx(mine.estimate, abs=1e-6)


def test_heterogeneity_by_practice_size(england, jp):
    from helpers.analysis.referrals import practice_frame
    lists = practice_frame(england).set_index("practice_code")["list_size"]
    t = scale.by_practice_size(jp, lists)
    assert list(t.practice_size) == ["small", "medium", "large"]
    # no planted difference by practice size: every third's interval covers the overall ATT
    overall = scale.true_joining_att(jp, england.truth)["att"]
    assert (abs(t.att - overall) < 0.012).all()
    assert (t.list_size_from.diff().dropna() > 0).all()


def test_size_curves_stay_positive_and_implausible_values_are_left_out(py):
    assert scale.exclusions(py)["payments_per_weighted"] >= 0
    raw = pd.DataFrame({"registered_patients": [500.0, 5000.0, 6000.0, 7000.0],
                        "payments_per_weighted": [900.0, 5000.0, -3.0, 150.0],
                        "gp_fte_per_1000": [0.5, 0.6, 0.0, 0.7], "srr": [1.0] * 4,
                        "satisfaction_pct": [80.0] * 4})
    clean = scale.clean_outcomes(raw)
    assert clean["payments_per_weighted"].isna().tolist() == [True, True, True, False]
    assert clean["gp_fte_per_1000"].isna().tolist() == [True, False, True, False]
    assert scale.exclusions(clean) == {"srr": 1, "payments_per_weighted": 3,
                                       "gp_fte_per_1000": 2, "satisfaction_pct": 1}
    for y in ("payments_per_weighted", "gp_fte_per_1000", "srr"):
        curve = scale.spline_curve(py, y)
        assert (curve["lower"] > 0).all() and (curve["lower"] <= curve["fit"]).all() \
            and (curve["fit"] <= curve["upper"]).all()


def test_size_gaps_allow_for_case_mix_and_year(py):
    """England's practices sit on England's curve on average (mean residual 0), and an area
    whose practices are 10% above their own predictions has a gap of log 1.1."""
    from helpers.analysis.federation_scale import curve_gap

    for y in ("payments_per_weighted", "gp_fte_per_1000", "srr"):
        curve, resid = scale.size_model(py, y)
        latest = resid[resid["year"] == resid["year"].max()]
        g = curve_gap(latest, y)
        assert abs(g.estimate) < 0.01 and g.lower < 0 < g.upper, (y, g)
    area = pd.DataFrame({"practice_code": list("ABCD"), "year": 2022,
                         "resid": np.log(1.1) + np.array([0.01, -0.01, 0.02, -0.02])})
    g = curve_gap(area, "gp_fte_per_1000")
    assert g.estimate == pytest.approx(np.log(1.1)) and g.n == 4 and g.extra["year"] == 2022
    two = curve_gap(area.head(2), "gp_fte_per_1000")      # a mean, too few for an interval
    assert two.n == 2 and np.isnan(two.lower)


def test_commissioner_gaps_recover_no_planted_commissioner_effect(england, py):
    """Synthetic England plants no commissioner effect on payments, workforce or
    satisfaction: each commissioner's gap against England's practices of the same size and
    case-mix is near zero and its 95% interval covers zero about 95% of the time (before
    the gaps allowed for the year, every commissioner read about +8% on payments)."""
    from helpers.analysis.federation_scale import curve_gap

    comm = england.practices.set_index(england.practices["practice_code"].astype(str))[
        "commissioner_code"].astype(str)
    for y in ("payments_per_weighted", "gp_fte_per_1000", "satisfaction_pct"):
        _, resid = scale.size_model(py, y)
        latest = resid[resid["year"] == resid["year"].max()]
        gaps = [curve_gap(g, y) for _, g in latest.groupby(
            latest["practice_code"].astype(str).map(comm))]
        assert len(gaps) == england.commissioners.shape[0]
        covered = np.mean([g.covers_zero for g in gaps])
        assert covered >= 0.85, (y, covered)
        assert max(abs(g.estimate) for g in gaps) < 0.05, y


def test_report_wording_follows_the_intervals():
    from helpers.estimate import Estimate
    from helpers.report import federation_scale

    clear = Estimate(-0.04, 0.005, -0.05, -0.03)
    vague = Estimate(0.03, 0.05, -0.06, 0.13)
    assert "understates" in federation_scale.twfe_gap_text(clear, Estimate.normal(-0.02, 0.01))
    assert federation_scale.twfe_gap_text(vague, Estimate.normal(0.001, 0.01)) == "."
    assert federation_scale.comparison_caution(23, 6496).startswith("only 23")
    assert federation_scale.comparison_caution(500, 6000) is None
    bands = pd.DataFrame({"size_band": ["2-4", "5-8", "9+"], "att": [-0.02, -0.05, -0.01],
                          "lower": [-0.025, -0.056, -0.016], "upper": [-0.015, -0.044, -0.004]})
    assert "largest in groups of **5–8" in federation_scale.band_statement(bands)
    overlap = bands.assign(lower=bands.att - 0.05, upper=bands.att + 0.01)
    assert "cannot be told apart" in federation_scale.band_statement(overlap)
    assert "No group size" in federation_scale.band_statement(bands.assign(upper=0.01))
    # on synthetic data a planted difference is not evidence about real groups
    assert "not that real groups" in federation_scale.band_statement(bands, synthetic=True)
    assert "5–8 practices per lead" not in federation_scale.band_statement(bands)
