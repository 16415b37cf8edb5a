"""Notebooks 00 and 01 as a reader found them on the small preset's site: savings offered to
a practice that had closed, a one-month range written with equal ends, a seasonal claim on
one year of months, a capital after a semicolon, a list of figures printed with mixed
decimals, and a ratio far above expected said to be 'within the limits' without saying why.
Each test is built on the case that showed the defect and fails on the code before its fix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers import report
from helpers.analysis import referrals
from helpers.analysis.context import table_span
from helpers.analysis.overview import SEASONAL_MIN_MONTHS, seasonal_dips
from helpers.analysis.referral_variation import planted_flags_why
from helpers.report import overview
from helpers.report import referral_variation as variation_report

SMALL = "synthetic:small"


@pytest.fixture(scope="module")
def closed(small):
    """A practice of the small preset open 12 of the period's 60 months (it closed in the
    period's second year, so not open in its last)."""
    m = referrals.months_open(small)
    return str(m[m == 12].index[0])


def _run(nb, area, publish=True):
    ctx = report.start(nb, {"data_source": SMALL, "area": area, "publish": publish})
    return ctx, report.analyse(ctx)


# 1. a practice closed before the period's last year is offered no savings

def test_a_practice_closed_before_the_last_year_is_offered_no_savings(closed):
    ctx, an = _run("01_referral_variation", closed)
    h = an.headline
    assert h["closed_before_last_year"] == [closed]
    assert h["excess_to_median_per_year"] == 0
    words = variation_report.headline_text(ctx, an, h)
    assert "no future referrals to save" in words
    assert "≈" not in words and "fewer referrals a year" not in words
    assert "no future referrals to save" in variation_report.similar_text(ctx, an)
    assert variation_report.similar_table(ctx, an) is None


def test_a_commissioners_opportunity_leaves_out_practices_closed_before_the_last_year(small):
    ctx, an = _run("01_referral_variation", "Q02")
    pub, h = an.published, an.headline
    codes = pub["practice_code"].astype(str).tolist()
    last = referrals.months_open(small, codes, years=[max(an.years)])
    now = pub["practice_code"].astype(str).map(last).to_numpy() > 0
    years = an.extras["area_years"]
    want = float(pub.loc[now, "excess_to_median"].fillna(0).sum()) / years
    everyone = float(pub["excess_to_median"].fillna(0).sum()) / years
    assert h["excess_to_median_per_year"] == pytest.approx(want)
    assert want < everyone                    # the case: closed practices above the median
    gone = int((~now & (pub["excess_to_median"].fillna(0) > 0).to_numpy()).sum())
    assert h["n_closed_with_excess"] == gone > 0
    assert f"the {gone} practices that closed before" in variation_report.headline_text(ctx, an, h)


# 2. one month reads as one month

def test_a_range_with_equal_ends_reads_as_one_month(small):
    one = pd.Timestamp("2014-04-01")
    assert table_span(small, "referrals", one, one) == "Apr 2014"
    assert table_span(small, "referrals", one, pd.Timestamp("2015-03-01")) == \
        "Apr 2014 – Mar 2015"
    assert overview._months(one, one) == "in April 2014"
    assert overview._months(one, pd.Timestamp("2015-03-01")) == "April 2014 to March 2015"


def test_a_closed_practices_data_table_has_no_range_with_equal_ends(closed):
    ctx, ov = _run("00_data_overview", closed)
    spans = [ctx.table_span(n, a, b) for n, a, b in
             zip(ov.tables["table"], ov.tables["first"], ov.tables["last"], strict=True)]
    assert not [s for s in spans if " – " in s and s.split(" – ")[0] == s.split(" – ")[1]]


# 3. a seasonal claim needs two years of months

def _monthly(n, dips=True):
    months = pd.date_range("2014-04-01", periods=n, freq="MS")
    v = np.full(n, 100.0)
    if dips:
        v[months.month.isin([8, 12])] = 80.0
    return pd.DataFrame({"month": months, "shown": v})


def test_seasonal_dips_known_answers():
    assert seasonal_dips(_monthly(12)) == "too_few"
    assert seasonal_dips(_monthly(SEASONAL_MIN_MONTHS - 1)) == "too_few"
    assert seasonal_dips(_monthly(36)) == "dips"
    assert seasonal_dips(_monthly(36, dips=False)) == "no_dips"
    flat = _monthly(36)
    flat.loc[flat["month"] == pd.Timestamp("2015-08-01"), "shown"] = 120.0   # one year not
    assert seasonal_dips(flat) == "no_dips"
    assert seasonal_dips(_monthly(36).assign(shown=np.nan)) == "none"


def test_a_practice_with_a_year_of_months_makes_no_seasonal_claim(closed):
    ctx, ov = _run("00_data_overview", closed)
    said = overview.seasonal_text(ov)
    assert "too few months" in said and "dip" not in said
    ctx, ov = _run("00_data_overview", "Q02")
    assert overview.seasonal_text(ov) == "Monthly totals dip in August and December every year."


# 4. no capital after a semicolon

def test_clauses_after_a_semicolon_start_in_lower_case():
    assert variation_report.clause("Its 10 most similar practices: +1%") == "its 10 most similar practices: +1%"
    for name in ("England: +0%", "Synthetic ICB 02: +4%", "General Surgery", "P81062",
                 "NHS RightCare", "50 practices"):
        assert variation_report.clause(name) == name
    assert variation_report.clauses(["50 practices: 1", "Its network (X): 2"]) == \
        "50 practices: 1; its network (X): 2"


def test_the_headline_comparisons_have_no_capital_after_a_semicolon(closed):
    ctx, an = _run("01_referral_variation", closed)
    words = variation_report.headline_text(ctx, an, an.headline)
    assert "; its 10 most similar practices" in words
    assert not re.search(r"; (Its|The|Their) ", words)


# 5. one list, one number of decimals

def test_the_planted_outliers_figures_print_with_the_same_decimals():
    truth = {"referral_model": {"sd_practice": 0.2, "sd_commissioner": 0.0, "sd_network": 0.0},
             "outliers": {"effects": {f"P{i}": 0.9 for i in range(37)}}}
    said = planted_flags_why(truth, 0.04, 37, 35)          # 35 / 37 = 0.9459…
    got = re.search(r"flagged \((\d+\.\d+)\)", said).group(1)
    share = re.search(r"flags (\d+\.\d+) of them", said).group(1)
    se = re.search(r"give or take (\d+\.\d+)", said).group(1)
    assert got == "0.95"
    assert len({len(x.split(".")[1]) for x in (got, share, se)}) == 1


# the ratio far above expected yet within the limits says why

def test_within_the_limits_says_why_when_chance_does_not_explain_the_ratio(closed):
    row = pd.Series({"ratio_lower95": 1.66, "ratio_upper95": 1.89, "limit_low": 0.44,
                     "limit_high": 2.29})
    said = variation_report.within_why(row, "99.8")
    assert "excludes 1" in said and "0.44 to 2.29" in said
    assert variation_report.within_why(row.replace(1.66, 0.9), "99.8") == ""
    ctx, an = _run("01_referral_variation", closed)
    words = variation_report.headline_text(ctx, an, an.headline)
    assert "within the 99.8% limits" in words and "excludes 1" in words


def test_an_area_whose_only_practice_above_the_limit_closed_offers_it_no_savings(small):
    """A built case: the one practice above the limit closed before the period's last
    year, so the area's total to the limit is 0 and must not read 'about 0 fewer'."""
    ctx, an = _run("01_referral_variation", "Q02")
    h = dict(an.headline, n_high=1, n_closed_above_limit=1, excess_to_limit_per_year=0.0,
             saving_to_limit_gbp_per_year=0.0)
    words = variation_report.headline_text(ctx, an, h)
    assert "Only 1 practice that closed before" in words
    assert "No practice is above the upper limit" not in words
    assert "about 0 fewer" not in words and "came down to it" not in words
    h = dict(h, excess_to_median_per_year=0.0)
    words = variation_report.headline_text(ctx, an, h)
    assert "Only 1 practice that closed before" in words and "about 0 fewer" not in words
