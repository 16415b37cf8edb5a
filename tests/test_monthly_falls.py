"""Notebook 00 names a sharp fall in the monthly referrals (the April 2020 fall of about 70%
on the real structure), not only the seasonal dips its text describes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import report
from helpers.analysis.overview import monthly_falls
from helpers.report import overview


def _series(values):
    months = pd.date_range("2019-04-01", periods=len(values), freq="MS")
    return pd.DataFrame({"month": months, "shown": np.asarray(values, float)})


def test_falls_known_answers():
    v = np.full(24, 1000.0)
    v[[4, 8, 16, 20]] = 850                      # August and December dips: 15%, not named
    v[12] = 300                                  # April 2020: 70% below April 2019
    v[13] = 550                                  # May 2020: 45% below
    v[14] = np.nan                               # June 2020 suppressed: never compared
    f = monthly_falls(_series(v))
    assert f["month"].tolist() == [pd.Timestamp("2020-04-01"), pd.Timestamp("2020-05-01")]
    assert f["change"].tolist() == pytest.approx([-0.7, -0.45])
    assert f["year_before"].tolist() == [1000, 1000]
    # a year with nothing a year before it names nothing; a 40% fall exactly is not 'more'
    assert monthly_falls(_series(v[:12])).empty
    w = np.full(24, 1000.0)
    w[12] = 600
    assert monthly_falls(_series(w)).empty


@pytest.mark.slow
def test_real_structure_page_names_the_april_2020_fall(real_england):
    data = real_england
    ctx = report.start("00_data_overview", {"data_source": str(data), "area": "ENGLAND",
                                            "publish": True})
    words = overview.monthly_text(ctx, report.analyse(ctx))
    assert words.startswith("Referrals fell sharply in **April 2020**")
    pct = int(words.split("% below April 2019")[0].rsplit(" ", 1)[1])
    assert 60 <= pct <= 80                       # about 70%, as NHS England's returns fell
    assert "COVID-19" in words
    small = report.start("00_data_overview", {"data_source": "synthetic:small",
                                              "area": "ENGLAND"})
    assert overview.monthly_text(small, report.analyse(small)) == ""


def test_a_fall_gives_both_counts_and_in_publish_mode_says_they_are_rounded():
    """The sharpest fall names both months' counts, and its percentage is the one those
    printed counts give; in publish mode it says the counts are the published (rounded)
    ones, so a reader comparing with exact counts knows why they differ."""
    import re

    for publish in (True, False):
        ctx = report.start("00_data_overview", {"data_source": "synthetic:small",
                                                "area": "P81091", "publish": publish})
        words = overview.monthly_text(ctx, report.analyse(ctx))
        m = re.match(r"Referrals fell sharply in \*\*\w+ \d{4}\*\*: ([\d,]+), (\d+)% below "
                     r"\w+ \d{4} \(([\d,]+)\)\.", words)
        assert m, words
        now, pct, before = (int(g.replace(",", "")) for g in m.groups())
        assert pct == round(100 * (1 - now / before))
        assert ("as published (rounded to 5)" in words) == publish
