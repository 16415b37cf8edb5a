"""Money beside a published count is derived from that count: 'about 10 fewer referrals a
year (≈ £3,830 a year)' is 10 × the £ a referral, never the unrounded count's £ (which gives
the count back: £3,604 / £383 = 9.4), in the sentence and the results file alike; a count
publish mode suppresses is said as a band with no £ figure."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import report
from helpers.report import referral_variation

pytestmark = pytest.mark.slow

SAID = re.compile(r"about \*\*([\d,]+) fewer referrals a year\*\* \(≈ £([\d,]+) a year")
SAID_ANY = re.compile(r"about \*\*([\d,]+) fewer referrals a year\*\* \(≈ £([\d,.]+)([km]?) a")
SCALE = {"": 1, "k": 1e3, "m": 1e6}


def _page(area: str, **params):
    ctx = report.start("01_referral_variation", {"data_source": "synthetic:small",
                                                 "area": area, "publish": True, **params})
    an = report.analyse(ctx)
    return ctx, an, referral_variation.headline_text(ctx, an, an.headline)


@pytest.mark.parametrize("area", ["P81091", "P81067", "P81078"])   # 11, 11, 12 a year
def test_a_practices_money_is_its_published_count_times_the_price(area):
    ctx, an, words = _page(area)
    unit = an.extras["cost_per_referral_gbp"]
    h = an.headline
    assert h["excess_to_median_per_year"] % 5 != 0      # the unrounded count a year
    n, gbp = (float(x.replace(",", "")) for x in SAID.search(words).groups())
    assert n % 5 == 0 and n >= 10
    assert gbp == round(n * unit)                        # £ gives back the published count
    assert round(gbp / unit) == n
    assert h["saving_to_median_gbp_per_year"] == pytest.approx(n * unit)   # results file
    res = report.write_results(ctx, referral_variation.results(ctx, an, h))
    assert res["saving_to_median_gbp_per_year"] == pytest.approx(n * unit, rel=1e-9)


def test_an_areas_money_is_its_published_total_times_the_price():
    ctx, an, words = _page("Q02")
    unit = an.extras["cost_per_referral_gbp"]
    pairs = SAID_ANY.findall(words)
    assert len(pairs) == 2                        # to the limit, and to the median
    for n, gbp, scale in pairs:
        n = float(n.replace(",", ""))
        assert n % 5 == 0
        decimals = 1 if scale == "m" else 0       # as formats.money writes each unit
        want = round(n * unit / SCALE[scale], decimals)
        assert float(gbp.replace(",", "")) == want, (n, gbp, scale)


def test_a_suppressed_excess_is_a_band_with_no_money():
    """A practice above England's median ratio by 1-7 referrals in the year: its excess is
    suppressed, so it is neither read as none ('refers less than England's median') nor
    priced."""
    ctx, an, words = _page("A81002", specialty="300", years=[2016])
    h = an.headline
    assert h["excess_to_median_suppressed"]
    assert "under 8 fewer referrals a year" in words
    assert "refers less than England's median" not in words
    line = next(x for x in words.splitlines() if "median practice ratio" in x)
    assert "≈ £" not in line
    assert np.isnan(h["saving_to_median_gbp_per_year"]) or \
        h["saving_to_median_gbp_per_year"] == 0


def test_the_opportunity_tables_rounded_rows_are_said_not_to_add_up():
    """Q02's two rows read 4,000 and 510 a year beside a headline of 4,515: each is rounded
    to 5 on its own, and the caption says so rather than leave the sum to contradict it."""
    ctx, an, words = _page("Q02")
    rows = an.published.loc[an.published["excess_to_limit_per_year"].fillna(0) > 0,
                            "excess_to_limit_per_year"]
    assert len(rows) >= 2
    total = float(SAID_ANY.search(words).group(1).replace(",", ""))
    assert total != rows.sum()                              # the case built for it
    html = referral_variation.opportunity_table(ctx, an).data
    assert "rows need not add up to the headline" in html
