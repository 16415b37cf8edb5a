"""The semantic check: library text, unflagged validation failures, chart points outside
the axes and an index line whose figures the page does not print, on one page; facts that
differ between an area's pages, or between a practice's page and its network's, across a
run; and a chart that draws in other units than its axis and table say."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.report import charts
from helpers.run.semantic import cross_page_findings, page_findings, unmatched_figures


def test_library_text_on_a_page_is_a_finding():
    for raw in ("Not returning pre-test Wald statistic due to singular covariance matrix",
                "[GPBoost] [Warning] GPModel: the optimizer 'lbfgs' has terminated",
                "Traceback (most recent call last): File",
                "<matplotlib.figure.Figure object at 0x7f>"):
        assert page_findings(f"Headline. {raw} More.", {}, []), raw
    assert page_findings("The practice refers 4.8% fewer than England.", {}, []) == []


def test_a_failed_validation_must_be_said():
    res = {"validation_failed": ["List-size elasticity"]}
    assert page_findings("Validation: estimates against the truth.", res, [])
    assert page_findings("1 of 5 recovery checks fail: List-size elasticity.", res, []) == []
    assert page_findings("2 of 7 intervals miss the planted effect.", res, []) == []


def test_every_area_point_is_inside_the_axes():
    """England's curve may be cut; the area's practices may not (a practice with a ratio of
    4 far above England's band, and one far smaller than any England size)."""
    x = np.geomspace(2000, 20000, 40)
    curve = pd.DataFrame({"x": x, "fit": 1.0, "lower": 0.9, "upper": 1.1})
    pts = pd.DataFrame({"x": [500.0, 8000.0], "y": [4.0, 0.3]})
    fig = charts.curve_chart(curve, "Ratio by size", "Patients", "Ratio", "Test", "Alt",
                             points=pts)
    assert fig._pack_meta["points_outside"] == 0
    plt.close(fig)
    assert page_findings("", {}, [{"points_outside": 2, "alt": "Size curve"}])


FACTS = {
    "00_data_overview/u1": {"n_practices": {"count": 3, "span": "a..b"},
                            "referrals": {"count": 900, "span": "a..b"}},
    "01_referral_variation/u1": {"n_practices": {"count": 3, "span": "a..b"},
                                 "referrals": {"count": 900, "span": "a..b"}},
    "02_federation_scale/u1": {"network_practices": 3},
    "02_federation_scale/p1": {"network_practices": 3},
    "01_referral_variation/p1": {"n_practices": {"count": 1, "span": "c..b"},
                                 "referrals": {"count": 300, "span": "c..b"}},
    "00_data_overview/p1": {"n_practices": {"count": 1, "span": "a..b"},
                            "referrals": {"count": 310, "span": "a..b"}},
}
WHERE = {rid: (rid.split("/")[1].upper(), "network" if "/u" in rid else "practice",
               "" if "/u" in rid else "U1") for rid in FACTS}


def test_facts_that_agree_give_no_finding():
    """Referral totals over different months are not compared (a practice that opened
    later: its 01 covers fewer months than 00 here)."""
    assert cross_page_findings(FACTS, WHERE) == {}


def test_a_fact_that_differs_between_an_areas_pages_fails_each_page():
    facts = dict(FACTS, **{"01_referral_variation/u1": {
        "n_practices": {"count": 2, "span": "a..b"},
        "referrals": {"count": 900, "span": "a..b"}}})
    found = cross_page_findings(facts, WHERE)
    assert set(found) == {"00_data_overview/u1", "01_referral_variation/u1"}
    assert "'n_practices over a..b' differs" in found["00_data_overview/u1"][0]


def test_a_practice_and_its_network_give_the_network_one_size():
    """The case that was live: a practice's page said 'a group of 1 practice' while its
    network's page said 3."""
    facts = dict(FACTS, **{"02_federation_scale/p1": {"network_practices": 1}})
    found = cross_page_findings(facts, WHERE)
    assert list(found) == ["02_federation_scale/p1"]
    assert "network U1 1 practices; the network's page says 3" in found[
        "02_federation_scale/p1"][0]


def test_a_ratio_of_zero_on_the_spine_chart_stays_inside_the_axes():
    """A practice with no referrals in a specialty (ratio 0) on a log axis: drawn at the
    left edge, inside the axes, and read back as a count of 0 (found by the quality run on
    the real structure: three practices' spine charts had a point outside)."""
    rows = pd.DataFrame({"indicator": ["All referrals", "Urology"], "p5": [0.6, 0.0],
                         "p25": [0.8, 0.5], "p75": [1.2, 1.4], "p95": [1.6, 2.5],
                         "ratio": [0.9, 0.0], "verdict": ["similar", "lower"],
                         "expected": [400.0, 6.0], "network": [1.1, 0.0],
                         "similar": [1.0, 0.9], "commissioner": [0.95, 1.0]})
    fig = charts.spine_chart(rows, "Profile", "Test", "Alt")
    assert fig._pack_meta["points_outside"] == 0
    assert fig._pack_meta["unpublished_counts"] == 0     # 0.9 × 400 = 360, and 0 stands for 0
    plt.close(fig)


def test_the_index_line_and_the_page_print_the_same_figures():
    """The index's one-line finding and the page print each figure alike: the practice
    whose index said "£877 a year" beside "£1k" on its page is a finding; a figure found
    only inside a longer one ('32' in '1,320', '2.3%' in '12.3%') is not on the page."""
    page = ("Practice F82036, in Federation 11. Referrals 4,125 a year; opportunity £877 a year. "
            "Joining a group changed referrals by −2.3% (−4.4% to −0.1%).")
    ok = {"summary": "In Federation 11, 4,125 referrals a year; opportunity £877 a year; −2.3% on joining; "
                     "4.4% below at worst"}
    assert page_findings(page, ok, []) == []
    for summary, bad in (("opportunity £1k a year", "£1k"),
                         ("1,320 referrals a year", "1,320"),
                         ("joining changed referrals by −1.2%", "−1.2%"),
                         ("12.3% fewer", "12.3%"),
                         ("ratio 0.43", "0.43")):
        found = page_findings(page.replace("4,125", "4,1250"), {"summary": summary}, [])
        assert len(found) == 1 and bad in found[0], (summary, found)
    assert page_findings("32 above the limits", {"summary": "1,320 practices"}, [])
    assert page_findings("1,320 practices", {"summary": "32 above"}, [])
    assert page_findings("+2.3% on joining", {"summary": "−2.3% on joining"}, [])


def test_the_funnel_draws_what_its_axis_and_table_say(small):
    """Text and chart units agree: the funnel's points sit at the expected count a year, as
    its axis, its points' names and the practices table all say, at each practice's ratio
    (the fault was a five-year count drawn beside a table a year); the practice page's
    funnel draws the practice at its own table's figures."""
    from matplotlib.collections import PathCollection

    from helpers.analysis.context import open_context
    from helpers.analysis.referral_variation import analyse
    from helpers.report import referral_variation

    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    network = str(sizes[sizes > 3].index[0])
    for area in (network, str(small.groups["practice_code"].iloc[0])):
        ctx = open_context("01_referral_variation", {"data_source": "synthetic:small",
                                                     "area": area, "publish": False})
        an = analyse(ctx)
        fig = referral_variation.funnel_figure(ctx, an)
        ax = fig.axes[0]
        assert ax.get_xlabel().startswith("Expected referrals a year")
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        drawn = {tuple(np.round(xy, 6)) for c in dots for xy in np.asarray(c.get_offsets())}
        pub = an.published[an.published["ratio"].notna()]
        table = {tuple(np.round(xy, 6))
                 for xy in pub[["expected_per_year", "ratio"]].to_numpy(float)}
        assert table and table <= drawn, area
        names = [n for ns in fig._pack_named.values() for n in ns]
        assert all(n.endswith("expected referrals a year") for n in names)
        plt.close(fig)


def test_englands_contract_line_words_a_zero_saving_as_its_page_does():
    """England pays under several forms: its index line gives the range of savings as the
    page's prose does ("nothing" under a block, not "£0" beside the page's "nothing")."""
    from helpers import report
    from helpers.analysis import contracts
    from helpers.report import contract_forms

    ctx = report.start("03_contract_forms", {"data_source": "synthetic:small"})
    an = report.analyse(ctx)
    assert an.current_form not in contracts.FORM_LABELS
    summary = contract_forms.results(ctx, an)["summary"]
    assert "is worth nothing to £" in summary and "£0 " not in summary, summary


def test_the_index_line_gives_the_ratio_as_the_comparison_table_prints_it(small):
    """A network's and a practice's index line print the area's ratio with the decimals of
    the page's comparison table (the real PCN whose line said 1.10 beside a table's 1.098)."""
    from helpers.analysis.context import open_context
    from helpers.analysis.referral_variation import analyse
    from helpers.report import referral_variation

    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    decimals = []
    for area in (str(sizes[sizes > 3].index[0]), "A81011"):    # 2 and 3 decimals
        ctx = open_context("01_referral_variation", {"data_source": "synthetic:small",
                                                     "area": area, "publish": True})
        an = analyse(ctx)
        line = referral_variation.results(ctx, an, an.headline)["summary"]
        page = referral_variation.comparison_table(ctx, an).data         # its HTML
        shown = re.search(r"[Rr]atio (\d\.\d+) against", line).group(1)
        assert unmatched_figures(shown, page) == [], (line, area)
        decimals.append(len(shown.split(".")[1]))
    assert decimals == [2, 3]
