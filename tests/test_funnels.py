"""Funnel limits and over-dispersion against FunnelPlotR 0.6.0 outputs (rel 1e-9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from helpers.stats.funnels import funnel

REL = 1e-9


def _nan_close(a, b, rtol=REL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol)


@pytest.fixture(scope="module")
def fpr(ref_dir):
    return (pd.read_csv(ref_dir / "fpr_expected_summary.csv"),
            pd.read_csv(ref_dir / "fpr_expected_points.csv"))


SCENARIOS = ["FP01_SR_SHMI_adj", "FP02_SR_CQC_adj", "FP03_SR_unadj_95", "FP04_PR_adj",
             "FP05_PR_unadj_99", "FP06_RC_adj", "FP07_SR_SHMI_poisson_only",
             "FP08_SR_CQC_poisson_only", "FP09_pkgtest_SR_SHMI_default",
             "FP10_pkgtest_SR_CQC_trim05_x100_95"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_funnelplotr_scenario(fpr, scenario):
    summary, points = fpr
    s = summary.set_index("scenario").loc[scenario]
    p = points[points.scenario == scenario].reset_index(drop=True)
    res = funnel(p.numerator, p.denominator, p.group, kind=s.data_type,
                 sr_method=s.sr_method if isinstance(s.sr_method, str) else "SHMI",
                 method="additive" if s.draw_adjusted_requested else "none",
                 trim_by=s.trim_by, limit=95 if s.limit == 95 else 99.8,
                 multiplier=s.multiplier)
    assert res.phi == pytest.approx(s.phi, rel=REL, abs=1e-12)
    assert res.tau2 == pytest.approx(s.tau2, rel=REL, abs=1e-12)
    assert res.n_used == s.n_used_for_phi
    assert res.target == pytest.approx(s.target, rel=REL)
    assert res.adjusted == bool(s.draw_adjusted_used)
    q = res.points
    _nan_close(q.rr, p.rr * s.multiplier)
    _nan_close(q.Y, p.Y)
    _nan_close(q.z, p.Uzscore)
    _nan_close(q.wz, p.Wuzscore)
    _nan_close(q.winsorised, p.winsorised)
    _nan_close(q.truncated, p.truncated)
    for mine, theirs in [("od_lcl95", "OD95LCL"), ("od_ucl95", "OD95UCL"),
                         ("od_lcl99", "OD99LCL"), ("od_ucl99", "OD99UCL"),
                         ("lcl95", "LCL95"), ("ucl95", "UCL95"),
                         ("lcl99", "LCL99"), ("ucl99", "UCL99")]:
        _nan_close(q[mine], p[theirs])
    assert list(q.outlier) == list(p.outlier)
    assert q.outlier.sum() == s.n_outliers


def test_poisson_unit_limits(ref_dir):
    u = pd.read_csv(ref_dir / "fpr_poisson_limits_unit.csv")
    res = funnel([15, 20, 30], [15, 20, 30], method="none")
    c = res.curve(u.expected_E.to_numpy())
    _nan_close(c.lcl95, u.full_ll95)
    _nan_close(c.ucl95, u.full_ul95)
    _nan_close(c.lcl99, u.full_ll998)
    _nan_close(c.ucl99, u.full_ul998)


def test_multiplicative_reduces_to_unadjusted_when_phi_is_one():
    e = np.array([50.0, 200.0, 800.0, 3000.0])
    res = funnel(e * 1.3, e, method="multiplicative")
    c_adj = res.curve(e)
    z = 3.090232  # FunnelPlotR constant
    assert np.all(c_adj.ucl99 > np.exp(z / np.sqrt(e)))  # φ > 1 widens the limits
    # φ-scaled SHMI limit: exp(z·√φ/√E)
    np.testing.assert_allclose(c_adj.ucl99, np.exp(z * np.sqrt(res.phi / e)), rtol=1e-12)


def test_no_overdispersion_falls_back():
    rng = np.random.default_rng(1)
    e = rng.uniform(100, 2000, 300)
    o = rng.poisson(e)
    res = funnel(o, e)
    assert res.phi < 1.2
    if res.phi <= 1:
        assert not res.adjusted and res.tau2 == 0


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown funnel kind"):
        funnel([1], [1], kind="XX")
    with pytest.raises(ValueError, match="must be positive"):
        funnel([1, 2], [0, 2])
    with pytest.raises(ValueError, match="limit must be"):
        funnel([1, 2], [1, 2], limit=90)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(50, 5000), min_size=12, max_size=40), st.integers(0, 10_000))
def test_limits_nest_and_narrow(es, seed):
    rng = np.random.default_rng(seed)
    e = np.array(es, float)
    o = rng.poisson(e * np.exp(rng.normal(0, 0.2, len(e))))
    res = funnel(o, e)
    c = res.curve(np.sort(e))
    assert np.all(c.lcl99 <= c.lcl95) and np.all(c.ucl95 <= c.ucl99)
    assert np.all(np.diff(c.ucl99) <= 1e-12)   # funnel narrows as E grows
    assert res.tau2 >= 0


def test_phe_ratio_limits_hit_the_poisson_tails():
    """At the upper limit O_u, P(X ≥ O_u | E) = p; at the lower limit O_l,
    P(X ≤ O_l | E) = p (continuous O, χ² form), for both PHE levels."""
    from scipy import special

    from helpers.stats.funnels import phe_ratio_limits
    e = np.array([3.0, 15.0, 40.0, 250.0, 4000.0])
    for conf, p in ((0.95, 0.025), (0.998, 0.001)):
        lo, hi = phe_ratio_limits(e, conf)
        assert np.allclose(special.gammainc(hi * e, e), p, rtol=1e-9)
        ok = lo > 0
        assert np.allclose(special.gammaincc(lo[ok] * e[ok] + 1, e[ok]), p, rtol=1e-9)
        assert np.all(np.diff(hi) < 0) and np.all(np.diff(lo) > 0)   # funnel narrows
    lo95, hi95 = phe_ratio_limits(e, 0.95)
    lo998, hi998 = phe_ratio_limits(e, 0.998)
    assert np.all(lo998 <= lo95) and np.all(hi998 >= hi95)


def test_phe_proportion_limits_invert_wilson_and_match_the_closed_form():
    from helpers.stats.funnels import phe_proportion_limits
    from helpers.stats.rates import wilson_lower, wilson_upper
    n = np.array([40.0, 200.0, 1500.0, 20000.0])
    pbar = 0.137
    for conf in (0.95, 0.998):
        lo, hi = phe_proportion_limits(n, pbar, conf)
        floored = lo == 0                    # even 0 events is within: PHE floors at 0
        assert (wilson_upper(0.0, n[floored], conf) >= pbar).all()
        assert np.allclose(wilson_upper(lo * n, n, conf)[~floored], pbar, rtol=1e-10)
        assert np.allclose(wilson_lower(hi * n, n, conf), pbar, rtol=1e-10)
        # independent closed form: solve the Wilson bound = p̄ as a quadratic in p
        z = stats.norm.ppf(1 - (1 - conf) / 2)
        a = 2 * (n + z**2) * pbar - z**2
        qa, qb, qc = 4 * n**2 + 4 * z**2 * n, -(4 * a * n + 4 * z**2 * n), a**2 - z**4
        disc = np.sqrt(qb**2 - 4 * qa * qc)
        assert np.allclose(lo[~floored], ((-qb - disc) / (2 * qa))[~floored], rtol=1e-9)
        assert np.allclose(hi, (-qb + disc) / (2 * qa), rtol=1e-9)


def test_phe_funnel_flags_follow_phe_significance():
    from helpers.stats.rates import isr
    num = np.array([30.0, 10.0, 50.0, 20.0, 0.0])
    den = np.array([20.0, 20.0, 25.0, 20.0, 4.0])
    fr = funnel(num, den, method="phe")
    r = isr(num, den)
    want = np.where(r["lower99_8"] > 1, "High (99.8%)",
                    np.where(r["lower95"] > 1, "High (95%)",
                             np.where(r["upper99_8"] < 1, "Low (99.8%)",
                                      np.where(r["upper95"] < 1, "Low (95%)",
                                               "Within limits"))))
    assert fr.points["flag"].tolist() == list(want)
    assert fr.points["outlier"].tolist() == [int(w.endswith("99.8%)")) for w in want]
    c = fr.curve(np.array([10.0, 100.0]))
    assert (c["lcl99"] < c["lcl95"]).all() and (c["ucl99"] > c["ucl95"]).all()
