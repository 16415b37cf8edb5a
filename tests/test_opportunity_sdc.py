"""Opportunity (referrals and £ above the limit or the median) and disclosure control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.referrals import opportunity
from helpers.stats import sdc


def test_opportunity_worked_example(small):
    t = pd.DataFrame({"observed": [1300.0, 1000.0, 800.0], "expected": [1000.0] * 3,
                      "ratio": [1.3, 1.0, 0.8], "od_ucl99": [1.2, 1.2, 1.2]})
    out = opportunity(t, small, specialty="110")
    pr = small.prices[(small.prices.specialty_code.astype(str) == "110")
                      & (small.prices.year == small.prices.year.max())].iloc[0]
    fu = small.specialties.set_index(small.specialties.specialty_code.astype(str)).loc[
        "110", "follow_up_ratio"]
    unit = pr.price_first + fu * pr.price_followup
    assert out.attrs["cost_per_referral_gbp"] == pytest.approx(unit)
    # only the first practice is above its limit (1.2 x 1000 = 1200): 100 referrals
    assert out.excess_to_limit.tolist() == pytest.approx([100.0, 0.0, 0.0])
    # median ratio 1.0: the first practice is 300 above it
    assert out.excess_to_median.tolist() == pytest.approx([300.0, 0.0, 0.0])
    assert out.saving_to_limit_gbp.iloc[0] == pytest.approx(100 * unit)


@pytest.mark.parametrize("n,expected", [(0, 0.0), (1, np.nan), (7, np.nan), (8, 10.0),
                                        (12, 10.0), (13, 15.0), (1234, 1235.0)])
def test_round_count(n, expected):
    got = sdc.round_count(n)
    assert (np.isnan(got) and np.isnan(expected)) or got == expected


def test_protect_hides_dependents_and_respects_publish_flag():
    df = pd.DataFrame({"count": [3, 52, 0], "rate": [0.1, 0.2, 0.0]})
    out = sdc.protect(df, ["count"], dependents={"count": ["rate"]})
    assert np.isnan(out["count"][0]) and np.isnan(out["rate"][0])
    assert out["count"][1] == 50 and out["rate"][1] == 0.2
    assert out["count"][2] == 0 and out["rate"][2] == 0.0
    assert sdc.protect(df, ["count"], publish=False).equals(df)
    from helpers import formats
    assert formats.count(sdc.round_count(5)) == "suppressed"
    assert formats.count(sdc.round_count(12345)) == "12,345"
    assert formats.count(12343) == "12,343"


def test_opportunity_weighted_cost_and_missing_prices(small):
    from helpers.analysis.referrals import national_tables
    from helpers.datasets import Dataset
    t = pd.DataFrame({"observed": [1300.0], "expected": [1000.0], "ratio": [1.3],
                      "od_ucl99": [1.2]})
    out = opportunity(t, small)
    pr = small.prices[small.prices.year == small.prices.year.max()].assign(
        specialty_code=lambda d: d.specialty_code.astype(str)).merge(
        small.specialties.assign(specialty_code=small.specialties.specialty_code.astype(str)))
    cost = pr.price_first + pr.follow_up_ratio * pr.price_followup
    w = pr.specialty_code.map(national_tables(small)["pys"].groupby("specialty_code")
                              ["observed"].sum())
    assert out.attrs["cost_per_referral_gbp"] == pytest.approx(float((cost * w).sum() / w.sum()))
    no_prices = Dataset({k: v for k, v in small.tables.items() if k != "prices"}, small.path,
                        small.truth, small.provenance, small.content_hash)
    out = opportunity(t, no_prices)
    assert out.excess_to_limit.iloc[0] == pytest.approx(100.0)
    assert np.isnan(out.saving_to_limit_gbp.iloc[0])


def test_analyses_name_missing_tables(small):
    from helpers import params, report
    from helpers.datasets import Dataset
    ctx = report.start("03_contract_forms", {"data_source": "synthetic:small"})
    ctx.ds = Dataset({k: v for k, v in small.tables.items() if k != "activity"}, small.path,
                     small.truth, small.provenance, small.content_hash)
    with pytest.raises(params.ParameterError, match=r"needs the contract table\(s\) "
                                                    r"\['activity'\]"):
        report.analyse(ctx)
