"""A practice with no referral recorded, read as a hostile tester reads its notebook 01 page:
nothing on it may claim counts of 1-7 were kept back (there were none), call its sections
empty when they show its areas, say the funnel shows it, or print a table of 'All 0
practices'."""

from __future__ import annotations

import pytest

from helpers import report
from helpers.datasets import save_dataset
from helpers.report import referral_variation

pytestmark = pytest.mark.slow

PROV = {"source": "test", "real_tables": [], "synthetic_tables": []}


@pytest.fixture(scope="module")
def page(small, tmp_path_factory):
    t = {k: v.copy() for k, v in small.tables.items()}
    zero = str(t["practices"]["practice_code"].iloc[1])
    t["referrals"] = t["referrals"][t["referrals"]["practice_code"].astype(str) != zero]
    root = tmp_path_factory.mktemp("zero") / "data"
    save_dataset(t, root, provenance=PROV)
    ctx = report.start("01_referral_variation", {"data_source": str(root), "area": zero,
                                                 "publish": True})
    return ctx, report.analyse(ctx)


def test_its_profile_says_no_referrals_not_1_to_7(page):
    ctx, an = page
    assert an.profile is not None and len(an.profile)
    words = referral_variation.profile_text(ctx, an)
    assert "1 to 7" not in words
    assert f"{len(an.profile)} indicators with no referrals recorded" in words


def test_its_headline_and_ranking_say_what_the_page_shows(page):
    ctx, an = page
    h = referral_variation.headline_text(ctx, an, an.headline)
    assert "sections below are empty" not in h
    assert "the areas it belongs to" in h
    ranked = referral_variation.ranked_figure(ctx, an)
    assert isinstance(ranked, str) and "funnel shows it" not in ranked
    assert "no ratio to rank" in ranked
    assert referral_variation.practices_table(ctx, an) is None            # not an empty 'All 0 practices'


@pytest.mark.parametrize("rows", ["zero", "absent"])
def test_notebook_03_says_why_there_is_nothing_to_change(small, tmp_path, rows):
    """Open all year with every month's referrals 0 (an extract's rows kept) is not 'closed,
    or not yet open'; with no rows at all (the contract's closed practice) it is."""
    from helpers.report import contract_forms

    t = {k: v.copy() for k, v in small.tables.items()}
    zero = str(t["practices"]["practice_code"].iloc[1])
    r = t["referrals"]
    mine = r["practice_code"].astype(str) == zero
    if rows == "zero":
        r.loc[mine, "referrals"] = 0
        t["referrals"] = r
    else:
        t["referrals"] = r[~mine]
    save_dataset(t, tmp_path / "data", provenance=PROV)
    ctx = report.start("03_contract_forms", {"data_source": str(tmp_path / "data"),
                                             "area": zero, "publish": True})
    an = report.analyse(ctx)
    words = contract_forms.headline_text(ctx, an)
    summary = contract_forms.results(ctx, an)["summary"]
    closed = "closed, or not yet open"
    if rows == "zero":
        assert closed not in words and closed not in summary
        assert "more likely missing from the referral data" in words
        assert "none is recorded" in summary
    else:
        assert closed in words and closed in summary


def test_a_practice_open_with_every_month_0_is_not_judged_lower_on_its_profile(small,
                                                                              tmp_path):
    """Every month's referrals 0 (an extract's rows kept): the headline quotes no ratio, so
    the profile does not call each specialty 'lower than England' (the printable summary
    listed all 8 as below England)."""
    t = {k: v.copy() for k, v in small.tables.items()}
    zero = str(t["practices"]["practice_code"].iloc[1])
    r = t["referrals"]
    r.loc[r["practice_code"].astype(str) == zero, "referrals"] = 0
    t["referrals"] = r
    save_dataset(t, tmp_path / "data", provenance=PROV)
    ctx = report.start("01_referral_variation", {"data_source": str(tmp_path / "data"),
                                                 "area": zero, "publish": True})
    an = report.analyse(ctx)
    p = an.profile
    assert len(p) >= 5
    assert set(p["verdict"]) == {"not shown"} and p["no_referrals"].all()
    words = referral_variation.profile_text(ctx, an)
    assert "lower than England" not in words and "1 to 7" not in words
    assert "with no referrals recorded" in words
