"""Rates, proportions, DSR and ISR against PHEindicatormethods 2.1.0 fixtures (rel 1e-9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.schema import AGE_BANDS
from helpers.stats import rates

REL = 1e-9


def close(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both_nan = np.isnan(a) & np.isnan(b)
    np.testing.assert_allclose(np.where(both_nan, 0, a), np.where(both_nan, 0, b), rtol=REL)


def test_z_values():
    assert rates.z_value(0.95) == pytest.approx(1.959963985, abs=1e-9)
    assert rates.z_value(99.8) == pytest.approx(3.090232306, abs=1e-9)


def test_byars_and_wilson_cases(ref_dir):
    cases = pd.read_csv(ref_dir / "phe_byars_wilson_cases.csv")
    for row in cases.itertuples():
        if row.method == "Byars":
            lo = rates.byars_lower(row.x, row.confidence)
            hi = rates.byars_upper(row.x, row.confidence)
        else:
            lo = rates.wilson_lower(row.x, row.n, row.confidence)
            hi = rates.wilson_upper(row.x, row.n, row.confidence)
        close(lo, row.expected_lowercl)
        close(hi, row.expected_uppercl)
    assert rates.wilson_lower(3, 10, 1) == 0 and rates.wilson_upper(3, 10, 1) == 1


def test_crude_rate_cases(ref_dir):
    cases = pd.read_csv(ref_dir / "phe_rate_cases.csv")
    for mult, grp in cases.groupby("multiplier"):
        out = rates.crude_rate(grp.numerator, grp.denominator, multiplier=mult)
        close(out.value, grp.expected_value)
        close(out.lower95, grp.expected_lower95)
        close(out.upper95, grp.expected_upper95)
        has998 = grp.expected_lower99_8.notna()
        close(out.lower99_8[has998.to_numpy()], grp.expected_lower99_8[has998])
        close(out.upper99_8[has998.to_numpy()], grp.expected_upper99_8[has998])
        known = grp.numerator.notna().to_numpy()
        assert list(out.method[known]) == list(grp.method[known])


def test_proportion_cases(ref_dir):
    cases = pd.read_csv(ref_dir / "phe_proportion_cases.csv")
    for mult, grp in cases.groupby("multiplier"):
        out = rates.proportion(grp.numerator, grp.denominator, multiplier=mult)
        close(out.value, grp.expected_value)
        close(out.lower95, grp.expected_lower95)
        close(out.upper95, grp.expected_upper95)
        has = grp.expected_lower99_8.notna().to_numpy()
        close(out.lower99_8[has], grp.expected_lower99_8[has])
        close(out.upper99_8[has], grp.expected_upper99_8[has])


def test_dsr_cases(ref_dir):
    inp = pd.read_csv(ref_dir / "phe_dsr_inputs.csv")
    nonind = pd.read_csv(ref_dir / "phe_dsr_nonindependent_inputs.csv")
    exp = pd.read_csv(ref_dir / "phe_dsr_expected.csv")
    for row in exp.itertuples():
        if row.independent_events:
            data = inp[inp.area == row.area]
            out = rates.dsr(data, "count", "pop", "stdpop", multiplier=row.multiplier)
        else:
            data = nonind[nonind.area == row.area].copy()
            out = rates.dsr(data, "persons", "pop", "stdpop", multiplier=row.multiplier,
                            eventfreq="eventfreq")
        r = out.iloc[0]
        assert r.total_count == row.expected_total_count
        close(r.value, row.expected_value)
        close(r.lower95, row.expected_lower95)
        close(r.upper95, row.expected_upper95)
        if not np.isnan(row.expected_lower99_8):
            close(r.lower99_8, row.expected_lower99_8)
            close(r.upper99_8, row.expected_upper99_8)


def test_isr_cases(ref_dir):
    inp = pd.read_csv(ref_dir / "phe_isr_inputs.csv")
    ref = pd.read_csv(ref_dir / "phe_isr_reference.csv")
    exp = pd.read_csv(ref_dir / "phe_isr_expected.csv")
    ref = ref.assign(rate=ref.refcount / ref.refpop)
    e = rates.expected_counts(inp.rename(columns={"pop": "patients"}), ref[["ageband", "rate"]],
                              by=["source", "area"], strata=["ageband"])
    obs = inp.groupby(["source", "area"])["count"].sum().rename("observed").reset_index()
    tab = obs.merge(e, on=["source", "area"])
    ref_rate = ref.refcount.sum() / ref.refpop.sum()
    for row in exp.itertuples():
        t = tab[(tab.source == row.input_source) & (tab.area == row.area)].iloc[0]
        if row.statistic_type == "ratio":
            out = rates.isr(t.observed, t.expected, refvalue=row.scale)
        else:
            out = rates.israte(t.observed, t.expected, ref_rate * row.scale)
            close(out.ref_rate[0], row.expected_ref_rate)
        close(t.expected, row.expected_expected)
        close(out.value[0], row.expected_value)
        close(out.lower95[0], row.expected_lower95)
        close(out.upper95[0], row.expected_upper95)
        if not np.isnan(row.expected_lower99_8):
            close(out.lower99_8[0], row.expected_lower99_8)
            close(out.upper99_8[0], row.expected_upper99_8)
        assert out.method[0] == row.method


def test_isr_matches_poisson_glm_offset():
    import statsmodels.api as sm
    o, e = np.array([70.0, 50.0]), np.array([60.0, 40.0])
    fit = sm.GLM(o, np.ones((2, 1)), family=sm.families.Poisson(), offset=np.log(e)).fit()
    assert np.exp(fit.params[0]) == pytest.approx(rates.isr(o.sum(), e.sum()).value[0], rel=1e-8)


@given(st.integers(0, 5000), st.sampled_from([0.95, 0.998]))
def test_count_limits_bracket_the_count(o, c):
    lo, hi, _ = rates.count_limits(np.array([o]), c)
    assert (np.isnan(lo[0]) or lo[0] <= o) and hi[0] > o


@given(st.integers(1, 10_000), st.integers(0, 10_000), st.sampled_from([0.95, 0.998]))
def test_wilson_within_unit_interval(n, x, c):
    x = min(x, n)
    lo, hi = rates.wilson_lower(x, n, c), rates.wilson_upper(x, n, c)
    assert -1e-12 <= lo <= x / n + 1e-12 <= hi + 2e-12 <= 1 + 3e-12


def test_esp2013_matches_eurostat_and_the_contract_bands(ref_dir):
    esp = pd.read_csv(ref_dir / "esp2013.csv").sort_values("band_order")
    assert list(rates.ESP2013) == esp.ageband.tolist() == list(AGE_BANDS)
    assert list(rates.ESP2013.values()) == esp.esp2013_weight.tolist()
    assert sum(rates.ESP2013.values()) == 100_000


def test_dsr_with_the_pack_weights_matches_phe(ref_dir):
    """The PHE cases that use ESP 2013 give the same DSR when the weights come from
    rates.ESP2013 instead of the fixture's own column."""
    inp = pd.read_csv(ref_dir / "phe_dsr_inputs.csv")
    exp = pd.read_csv(ref_dir / "phe_dsr_expected.csv")
    big = inp[(inp.area == "testdata_big")].assign(
        ageband=lambda d: d.ageband.replace({"55-69": "55-59"}))
    big = big.assign(esp=big.ageband.map(rates.ESP2013))
    assert (big.esp == big.stdpop).all()
    out = rates.dsr(big, "count", "pop", "esp", multiplier=100000)
    want = exp[(exp.area == "testdata_big") & exp.independent_events
               & (exp.multiplier == 100000)].iloc[0]
    close(out.value.iloc[0], want.expected_value)
    close(out.lower95.iloc[0], want.expected_lower95)
