"""A failed recovery check says why where it stands: the share of planted outliers a funnel
flags is set against what chance alone gives for the planted effects and the practices' own
variation (known answers from the normal distribution)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.analysis.referral_variation import planted_flag_share, planted_flags_why
from helpers.report.referral_variation import validation_text


def _truth(effects, sd_practice=0.2, sd_commissioner=0.0, sd_network=0.0):
    return {"referral_model": {"sd_practice": sd_practice, "sd_commissioner": sd_commissioner,
                               "sd_network": sd_network},
            "outliers": {"effects": {f"P{i}": e for i, e in enumerate(effects)}}}


def test_expected_share_known_answers():
    z = stats.norm.ppf(0.999)
    tau2 = (0.8 / z) ** 2                  # limits at ±0.8 on the log scale
    share, se = planted_flag_share(_truth([1.0]), tau2)
    # P(|1 + u| > 0.8), u ~ N(0, 0.2²) = P(u > −0.2) + P(u < −1.8) = Φ(1) + Φ(−9)
    assert share == pytest.approx(stats.norm.cdf(1) + stats.norm.cdf(-9), abs=1e-12)
    assert se == pytest.approx(np.sqrt(share * (1 - share)), abs=1e-12)
    # symmetric: a planted −1.0 is flagged as often as +1.0
    assert planted_flag_share(_truth([-1.0]), tau2)[0] == pytest.approx(share)
    # the three SDs add in quadrature: 0.12² + 0.16² = 0.2²
    assert planted_flag_share(_truth([1.0], 0.12, 0.16), tau2)[0] == pytest.approx(share)
    # limits far beyond every effect: none expected; far inside: all
    assert planted_flag_share(_truth([1.0, -1.0], 0.01), (3 / z) ** 2)[0] < 1e-6
    assert planted_flag_share(_truth([1.0, -1.0], 0.01), (0.1 / z) ** 2)[0] > 1 - 1e-6


def test_why_says_whether_the_miss_is_chance():
    z = stats.norm.ppf(0.999)
    t = _truth([1.0] * 20 + [-1.0] * 20)
    tau2 = (0.8 / z) ** 2                   # chance flags 0.84 of them, SE 0.058
    near = planted_flags_why(t, tau2, 40, 31)
    assert near.startswith("31 of the 40 planted outliers were flagged (0.78)")
    assert "chance alone flags 0.84 of them on average, give or take 0.06" in near
    assert "within two standard errors" in near
    far = planted_flags_why(t, tau2, 40, 20)
    assert "below what chance gives" in far
    assert planted_flags_why(t, float("nan"), 40, 31) == ""


def test_page_sentence_carries_the_why():
    v = pd.DataFrame({"quantity": ["Between-practice SD (log scale)",
                                   "Planted outliers flagged (share)"],
                      "passed": [True, False], "why": ["", "31 of the 40 were flagged."]})
    an = type("An", (), {"validation": v})()
    out = validation_text(an)
    assert out.startswith("**1 of 2 recovery checks fail:** Planted outliers flagged")
    assert out.endswith("31 of the 40 were flagged.")
    assert "does not recover" not in out               # no generic sentence in its place
    v.loc[1, "why"] = ""
    assert "does not recover what was planted" in validation_text(an)
