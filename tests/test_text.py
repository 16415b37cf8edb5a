"""Numbers as readers see them (helpers.formats): intervals that show their width, a true
minus sign, no negative zero, one way of writing each quantity."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import formats
from helpers.run.checks import lint


@pytest.mark.parametrize("est,lo,hi,expect", [
    (4.8, 1.2, 8.5, "+4.8% (95% CI +1.2% to +8.5%)"),
    (-0.41, -0.43, -0.39, "−0.41% (95% CI −0.43% to −0.39%)"),
    (-1.6, -3.1, -0.04, "−1.60% (95% CI −3.10% to −0.04%)"),
    (0.0, -1.0, 1.0, "0.0% (95% CI −1.0% to +1.0%)"),
])
def test_percentage_intervals(est, lo, hi, expect):
    assert formats.pct_interval(est, lo, hi) == expect


@settings(deadline=None)  # the first example imports the page renderer
@given(st.floats(-50, 50), st.floats(0.0011, 20))
def test_an_interval_never_prints_flat_or_as_negative_zero(centre, half):
    words = formats.pct_interval(centre, centre - half, centre + half)
    page = f"<html><body><p>{words}</p></body></html>"
    assert lint({"cells": []}, page) == [], words


@pytest.mark.parametrize("value,unit,expect", [
    (1_234_567, "auto", "£1.2m"), (480_000, "auto", "£480k"), (950, "auto", "£950"),
    (-2_500_000, "auto", "−£2.5m"), (-300, "k", "£0k"), (45_457_000, "k", "£45,457k"),
    (float("nan"), "auto", "not available"),
])
def test_money_one_unit_and_a_true_minus(value, unit, expect):
    assert formats.money(value, unit) == expect


def test_counts_years_and_ratios():
    assert formats.count(191785) == "191,785"
    assert formats.count(float("nan")) == formats.count(None) == "suppressed"
    assert formats.number(-0.004, 2) == "0.00" and formats.pct_change(-0.04) == "0.0%"
    assert formats.year(2019) == "2019/20"
    assert formats.period([2016, 2014, 2015]) == "2014/15 to 2016/17"
    assert formats.decimals_to_separate(1.0812, 1.0814, 2) == 4
    assert formats.money_unit([12_000, 900]) == "k"
    assert formats.share(12.34) == "12.3%" and formats.share(0.04) == "0.04%"
    assert formats.share(0.0001) == "<0.001%" and formats.share(0) == "0.0%"
    assert formats.pct_change_as_given(-10) == "\u221210%"       # a true minus, as given
    assert formats.pct_change_as_given(2.5) == "+2.5%"
    assert formats.pct_change_as_given(-0.25) == "\u22120.25%"
    assert formats.size_band("5-8") == "5\u20138" and formats.size_band("9+") == "9+"


def test_a_datasets_own_statement_is_escaped_like_any_data():
    """provenance.json's statement is the dataset maker's text: it must not become a live
    script or link on every page."""
    from types import SimpleNamespace

    import markdown_it

    from helpers.report.page import data_statement

    prov = {"source": "extract", "real_tables": ["referrals"], "synthetic_tables": [],
            "statement": "<script>alert(1)</script> see [here](https://example.org)"}
    words = data_statement(SimpleNamespace(ds=SimpleNamespace(provenance=prov)))
    html = markdown_it.MarkdownIt().render(words)
    assert "<script>" not in html and "<a " not in html and "&lt;script&gt;" in html


def _checks(missed: set[str]) -> pd.DataFrame:
    names = ["Elasticity: Standardised referral ratio", "Joining effect (log referral ratio)",
             "Two-way fixed effects (log referral ratio)", "Joining effect, groups of 2-4",
             "Joining effect, groups of 5-8", "Joining effect, groups of 9+"]
    return pd.DataFrame({"quantity": names, "covered": [n not in missed for n in names]})


def test_checks_of_one_estimate_miss_together_and_count_once():
    """Four joining rows from one staggered estimate on one comparison group missing
    together are one miss, and the page says so, and why, when the group is small."""
    from helpers.report import federation_scale

    joined = {q for q in _checks(set())["quantity"] if q.startswith("Joining effect")}
    an = SimpleNamespace(validation=_checks(joined),
                         joining=SimpleNamespace(extra={"n_control": 20, "n_treated": 6489}))
    words = federation_scale.validation_text(an)
    assert words.startswith("**4 of 6 intervals miss the planted effect:**")
    assert ("4 of these come from the one staggered estimate on the same 20 comparison "
            "practices, so they cover or miss together: counted as one, that is 1 miss in "
            "3 checks.") in words
    assert "With only 20 practices to compare with" in words
    # plenty of comparison practices: no small-group warning; one miss is not 'together'
    an.joining.extra["n_control"] = 600
    assert "With only" not in federation_scale.validation_text(an)
    an.validation = _checks({"Joining effect, groups of 9+"})
    one = federation_scale.validation_text(an)
    assert one.startswith("**1 of 6 intervals") and "together" not in one
    an.validation = _checks(set())
    assert federation_scale.validation_text(an) == ("Every one of the 6 intervals covers "
                                                    "the effect planted in the data.")


def test_the_index_names_the_failed_checks():
    from helpers.run.jobs import Job
    from helpers.run.site import report_item

    j = Job.__new__(Job)
    j.__dict__.update(notebook="02_federation_scale", status="ok",
                      files={"html": "02/x.html"}, summary="",
                      validation_failed=["Joining effect (log referral ratio)", "A <b>", "C",
                                         "D"])
    item = report_item(j)
    assert "4 validation checks failed" in item
    assert "(Joining effect (log referral ratio); A &lt;b&gt;; C; and 1 more; the page " \
           "says why)" in item


@pytest.mark.parametrize("items, want", [([], ""), (["a"], "a"), (["a", "b"], "a and b"),
                                         (["a", "b", "c"], "a, b and c")])
def test_and_list_joins_as_prose(items, want):
    from helpers.formats import and_list

    assert and_list(items) == want and and_list(iter(items)) == want
