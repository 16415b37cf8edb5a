"""Numbers written into report prose: intervals that show their width, no negative zero."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.report import text
from helpers.run.checks import lint


@pytest.mark.parametrize("est,lo,hi,expect", [
    (4.8, 1.2, 8.5, "+4.8% (95% CI +1.2% to +8.5%)"),
    (-0.41, -0.43, -0.39, "-0.41% (95% CI -0.43% to -0.39%)"),
    (-1.6, -3.1, -0.04, "-1.60% (95% CI -3.10% to -0.04%)"),
    (0.0, -1.0, 1.0, "+0.0% (95% CI -1.0% to +1.0%)"),
])
def test_percentage_intervals(est, lo, hi, expect):
    assert text.pct_interval(est, lo, hi) == expect


@settings(deadline=None)  # the first example imports the page renderer
@given(st.floats(-50, 50), st.floats(0.0011, 20))
def test_an_interval_never_prints_flat_or_as_negative_zero(centre, half):
    words = text.pct_interval(centre, centre - half, centre + half)
    page = f"<html><body><p>{words}</p></body></html>"
    assert lint({"cells": []}, page) == [], words
