"""Interrupted time series against the Sicily smoking-ban tutorial (Lopez Bernal 2017)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats.its import fit_its


@pytest.fixture(scope="module")
def sicily(ref_dir):
    return pd.read_csv(ref_dir / "sicily.csv")


def _fit(s, **kw):
    return fit_its(s.aces, s.time, s.smokban, offset=s.stdpop, month=s.month, **kw)


def test_model1_poisson(sicily):
    r = _fit(sicily, quasi=False)
    assert round(r.rate_ratio, 4) == 0.8944
    assert (round(r.ci[0], 4), round(r.ci[1], 4)) == (0.8647, 0.9251)
    assert round(r.trend_ratio, 4) == 1.0050


def test_model2_quasi_poisson(sicily):
    r = _fit(sicily)
    assert round(r.rate_ratio, 4) == 0.8944
    assert (round(r.ci[0], 4), round(r.ci[1], 4)) == (0.8392, 0.9532)
    assert round(r.dispersion, 4) == 3.5592


def test_model3_seasonally_adjusted_published_value(sicily):
    r = _fit(sicily, harmonics=2)
    assert round(r.rate_ratio, 3) == 0.885          # the tutorial's quoted rate ratio
    assert (round(r.ci[0], 4), round(r.ci[1], 4)) == (0.8394, 0.9332)
    assert round(r.dispersion, 4) == 2.2622
    assert round(r.trend_ratio ** 12, 4) == 1.0668


def test_model4_slope_change(sicily):
    r = _fit(sicily, harmonics=2, slope_change=True)
    assert round(r.rate_ratio, 4) == 0.8765
    assert (round(r.ci[0], 4), round(r.ci[1], 4)) == (0.8268, 0.9292)
    assert round(r.slope_ratio, 4) == 1.0015
    assert round(r.dispersion, 4) == 2.2746


def test_hac_and_counterfactual(sicily):
    r = _fit(sicily, harmonics=2, hac_lags=3)
    assert round(r.rate_ratio, 4) == 0.8851
    post = sicily.smokban.to_numpy() == 1
    # counterfactual without the ban is higher after it, identical before
    assert np.allclose(r.counterfactual[~post], r.fitted[~post])
    assert (r.counterfactual[post] > r.fitted[post]).all()


def test_harmonics_need_month(sicily):
    with pytest.raises(ValueError, match="calendar month"):
        fit_its(sicily.aces, sicily.time, sicily.smokban, harmonics=2)
