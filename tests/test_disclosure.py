"""Disclosure read-back: every value a chart draws that stems from a count implies a count
publish mode would show (0, or a multiple of 5 of at least 10), so neither multiplying
(ratio × expected, rate × population) nor subtracting (a total minus its parts, across
pages) can pin down a count of 1-7. Known answers for the rule, the charts' read-back of
what they actually drew, and the post-run check that fails a chart that discloses."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers.disclosure import is_published, unpublished
from helpers.report import charts
from helpers.run.checks import lint
from helpers.stats import sdc


def test_the_rule_on_known_counts():
    shown = [np.nan, 0, 10, 15, 1_000_000, 9.999999999]       # last: float arithmetic
    hidden = [1, 5, 7, 8, 12, 3.2, 0.4, -5]
    assert is_published(shown).all()
    assert not is_published(hidden).any()


def test_what_a_reader_can_multiply_out():
    # ratios with their expected counts: 0.5 × 12 = 6 (disclosed), 1.25 × 8 = 10 (shown)
    assert unpublished([0.5, 1.25, np.nan], [12, 8, 3]).tolist() == [0]
    # a rate per 1,000 a year with 2,000 person-years: 2.5 → 5 referrals (disclosed)
    assert unpublished([2.5, 10.0], 2.0).tolist() == [0]
    # thousands: 0.007 thousand = 7 referrals (disclosed), 0.015 thousand = 15 (shown)
    assert unpublished([0.007, 0.015], 1000).tolist() == [0]


def test_published_counts_imply_only_published_counts():
    """Whatever sdc publishes passes the read-back, so the two cannot drift apart."""
    raw = np.arange(0, 400, 0.7)
    pub, _ = sdc.publish_counts(raw)
    expected = np.linspace(3, 90, len(raw))
    assert len(unpublished(pub / expected, expected)) == 0
    assert len(unpublished(raw / expected, expected)) > 0


def _funnel(obs, exp):
    pts = pd.DataFrame({"denominator": exp, "rr": np.asarray(obs, float) / exp,
                        "flag": ["Within"] * len(exp)})
    curve = pd.DataFrame({"denominator": [1.0, 1000.0], "ucl95": [3.0, 1.1],
                          "lcl95": [0.2, 0.9], "ucl99": [4.0, 1.2], "lcl99": [0.1, 0.8]})
    return charts.funnel_chart(pts, curve, "Funnel", "Test data", alt="A funnel")


def test_a_chart_reads_back_what_it_drew():
    fig = _funnel([6, 20, 0], np.array([10.0, 40.0, 5.0]))
    meta = fig._pack_meta
    assert meta["counts_declared"] and meta["unpublished_counts"] == 1
    assert meta["unpublished_examples"] == [6.0]
    plt.close(fig)
    fig = _funnel([10, 20, 0], np.array([10.0, 40.0, 5.0]))
    assert fig._pack_meta["unpublished_counts"] == 0
    plt.close(fig)


def test_each_chart_kind_declares_and_reads_back():
    x = pd.date_range("2020-04-01", periods=3, freq="MS")
    spc = pd.DataFrame({"date": x, "y": [3.0, 30.0, np.nan], "mean": 1.0, "lpl": 0.0,
                        "upl": 2.0, "point_type": "common_cause", "per_unit": [1.0, 1.0, 1.0]})
    figs = {
        "spc": charts.spc_chart(spc, "SPC", "Test", "An SPC chart"),
        "lines": charts.lines_chart(x, {"Referrals": np.array([0.005, 0.02, 0.0])}, "Lines",
                                    "Month", "Referrals (thousands)", "Test", "Lines",
                                    per_unit={"Referrals": 1000}),
        "bars": charts.bar_chart(["a", "b"], [4.0, 15.0], "Bars", "Referrals a year",
                                 "Specialty", "Test", "Bars", per_unit=1.0),
        "scatter": charts.scatter_chart([1.0, 2.0], [0.7, 2.0], "Scatter", "x (count)",
                                        "y (count)", "Test", "Scatter", per_unit_y=[10, 10]),
        "intervals": charts.interval_chart(["A", "B"], [0.3, 1.0], [0.1, 0.8], [0.9, 1.2],
                                           "Intervals", "Ratio", "Area", "Test", "Int",
                                           per_unit=[10.0, 10.0]),
    }
    got = {k: f._pack_meta["unpublished_counts"] for k, f in figs.items()}
    assert got == {"spc": 1, "lines": 1, "bars": 1, "scatter": 1, "intervals": 1}
    for f in figs.values():
        plt.close(f)


def _nb_with(meta):
    return {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [
        {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="},
         "metadata": {"image/png": {"alt": "A funnel", "nonnegative": True, "data_min": 0.0,
                                    "n_values": 3, **meta}}}]}]}


@pytest.mark.parametrize("publish", [True, False])
def test_the_post_run_check_fails_a_disclosing_chart_in_publish_mode(publish):
    nb = _nb_with({"counts_declared": True, "unpublished_counts": 2,
                   "unpublished_examples": [6.0, 3.0]})
    page = "<html><body><p>fine</p></body></html>"
    problems = lint(nb, page, publish=publish)
    assert any("discloses counts" in p for p in problems) is publish
    assert lint(_nb_with({"counts_declared": True, "unpublished_counts": 0}), page,
                publish=True) == []


def test_suppression_marks_travel_with_derived_frames_without_being_copied():
    """Publishing marks the cells it suppressed (``attrs['suppressed']``); pandas carries
    a frame's attrs into every frame made from it, and the marks, which never change, go
    along as themselves: read-only, refusing changes, equal after pickling."""
    import copy
    import pickle

    from helpers.disclosure import Marks

    df = pd.DataFrame({"code": list("abcdef"), "referrals": [0, 3, 12, 40, 7, 100]})
    out = sdc.protect(df, counts=["referrals"], publish=True)
    marks = out.attrs["suppressed"]
    assert isinstance(marks, Marks)
    assert marks["referrals"].tolist() == [False, True, False, False, True, False]
    derived = out[out["referrals"].notna()].sort_values("code").assign(x=1)
    assert derived.attrs["suppressed"] is marks
    assert copy.deepcopy(marks) is marks and copy.copy(marks) is marks
    with pytest.raises(ValueError):
        marks["referrals"][0] = True
    for change in (lambda: marks.__setitem__("x", [True]), lambda: marks.pop("referrals"),
                   lambda: marks.update(x=[True]), marks.clear):
        with pytest.raises(TypeError, match="do not change"):
            change()
    back = pickle.loads(pickle.dumps(marks))
    assert isinstance(back, Marks) and back.keys() == marks.keys()
    assert np.array_equal(back["referrals"], marks["referrals"])
