"""Notebook 02's pages on areas built to break them: a commissioner with practices in no
group, a two-practice network, a one-practice network, a practice below the smallest list
England's size curves cover, a practice in no group, and the validation of an estimator
known to be biased."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from helpers import formats, levels
from helpers.analysis import federation_scale as scale_analysis
from helpers.analysis.context import open_context
from helpers.report import federation_scale as scale_report

NB = "02_federation_scale"
_CACHE: dict[str, tuple] = {}


def page(area: str):
    """(context, analysis) of notebook 02 on the small preset, publish mode."""
    if area not in _CACHE:
        ctx = open_context(NB, {"data_source": "synthetic:small", "area": area,
                                "publish": True})
        _CACHE[area] = ctx, scale_analysis.analyse(ctx)
    return _CACHE[area]


def _group_sizes(small) -> pd.Series:
    g = small.groups.assign(practice_code=small.groups["practice_code"].astype(str),
                            group_code=small.groups["group_code"].astype(str))
    return g.groupby("group_code")["practice_code"].nunique()


def test_group_counts_add_up_to_the_table_beside_them(small):
    """'N practices … belong to G groups' counted every practice, grouped or not, while the
    table beside it adds to fewer: the sentence now says how many of them are in the
    listed groups and how many in none, and the two add up to the area's practices."""
    ctx, an = page("Q02")
    n, table_sum = len(ctx.practice_codes), int(an.networks["practices"].sum())
    grouped = set(small.groups["practice_code"].astype(str))
    ungrouped = sum(c not in grouped for c in ctx.practice_codes)
    assert ungrouped > 0                       # the case: some practices are in no group
    assert an.n_ungrouped == ungrouped and table_sum + ungrouped == n
    words = scale_report.headline_text(ctx, an)
    assert f"**{table_sum:,} practices** in " in words
    assert f"the other {ungrouped:,} of its {n:,} practices are in no group" in words
    assert f"**{len(an.networks)} groups** (median " in words
    assert scale_report.results(ctx, an)["summary"].startswith(
        f"{table_sum:,} practices in {len(an.networks)} groups, {ungrouped:,} in none")


def test_a_two_practice_network_gets_the_comparison_its_text_promises(small):
    """A two-practice network had no gap from England's size curves (too few for an
    interval) while the text said the headline's percentages 'go one step further'. It now
    gets its practices' mean distance, without an interval, and the text describes what
    the page shows (and England's page, which has no gaps, does not promise them)."""
    two = _group_sizes(small)
    code = str(two[two == 2].index[0])
    ctx, an = page(code)
    assert len(an.gaps) and set(an.gaps["n"]) == {2}
    assert an.gaps["lower"].isna().all()
    words = scale_report.headline_text(ctx, an)
    assert "the mean of its 2 practices" in words and "Too few practices for an interval" \
        in words
    assert "go one step further" in scale_report.curves_intro(ctx, an)
    assert scale_report.gaps_table(ctx, an) is not None
    eng_ctx, eng = page("ENGLAND")
    intro = scale_report.curves_intro(eng_ctx, eng)
    assert "go one step further" not in intro
    assert levels.rule(NB, "size_gaps", "england").why in intro
    assert scale_report.gaps_table(eng_ctx, eng) is None


def test_curve_gap_of_one_or_two_practices_has_no_interval():
    area = pd.DataFrame({"practice_code": ["A", "B"], "year": 2022,
                         "resid": [np.log(1.1), np.log(1.3)]})
    g = scale_analysis.curve_gap(area, "srr")
    assert g.n == 2 and g.estimate == pytest.approx((np.log(1.1) + np.log(1.3)) / 2)
    assert np.isnan(g.lower) and np.isnan(g.upper)


def test_in_curve_range_splits_practices_by_the_curves_list_sizes():
    """Known answer: a curve over 2,000–17,000 patients keeps the 5,000-patient practice and
    names the 1,055- and 20,000-patient ones with the range they miss."""
    latest = pd.DataFrame({"practice_code": ["S", "M", "L"], "year": 2022,
                           "resid": [0.1, 0.0, -0.1]})
    nat = pd.DataFrame({"practice_code": ["S", "M", "L"], "year": 2022,
                        "registered_patients": [1055.0, 5000.0, 20000.0]})
    curve = pd.DataFrame({"x": np.geomspace(2000, 17000, 10)})
    inside, out = scale_analysis.in_curve_range(latest, nat, curve)
    assert inside["practice_code"].tolist() == ["M"]
    assert list(inside.columns) == list(latest.columns)
    assert out["practice_code"].tolist() == ["S", "L"]
    assert out["curve_low"].iloc[0] == pytest.approx(2000)
    assert out["curve_high"].iloc[0] == pytest.approx(17000)


def test_a_practice_below_the_curves_is_not_quoted_for_a_practice_of_its_size(small):
    """A practice with fewer patients than the smallest list England's curves cover was
    quoted 'against England's curve for a practice of its size'; it is now said to be
    outside the curves' range, with its list and the range, and has no gap."""
    from helpers.analysis import scale

    nat = scale.practice_year_panel(small)
    last = nat.sort_values("year").groupby("practice_code").tail(1)
    lo = float(pd.DataFrame(scale_analysis.national_size_curves(small)["curves"]["srr"])["x"].min())
    tiny = last[(last["registered_patients"] < lo) &
                (last["registered_patients"] >= scale.MIN_LIST)]
    assert len(tiny)                            # the case exists in the small preset
    code = str(tiny["practice_code"].iloc[0])
    ctx, an = page(code)
    assert an.gaps.empty and len(an.out_of_range)
    words = scale_report.headline_text(ctx, an)
    assert "for a practice of its size" not in words
    assert "outside the curves' range" in words
    assert f"{ctx.count(round(lo))} to" in words
    assert "go one step further" not in scale_report.curves_intro(ctx, an)
    assert "Its list lies outside the curves' range" in scale_report.curves_intro(ctx, an)


def test_a_practice_in_no_group_is_read_beside_its_commissioner(small):
    """'is not in a group … read these beside its network': a practice in no group has no
    network to read beside."""
    grouped = set(small.groups["practice_code"].astype(str))
    code = next(c for c in small.practices["practice_code"].astype(str) if c not in grouped)
    ctx, an = page(code)
    words = scale_report.headline_text(ctx, an)
    assert "is not in a group" in words
    assert "beside its network" not in words and "beside its commissioner" in words


def test_two_way_fixed_effects_is_shown_as_a_bias_not_a_failed_check(small):
    """TWFE is biased under staggered joining with effects that build up (the headline says
    so): its validation row demonstrates that bias. When it misses, that is not a failed
    check (results, index) and the words say the miss is what the bias predicts; the
    'misses 1 time in 20 by chance' sentence counts only the checks."""
    ctx, an = page("Q02")
    v = an.validation
    assert v.set_index("quantity").loc[scale_analysis.TWFE_DEMO, "role"] == "bias"
    assert set(v["role"]) == {"check", "bias"}
    # the case: TWFE misses the truth (as on England's data) and every check covers
    v = v.assign(covered=v["role"] == "check")
    an.validation = v
    res = scale_report.results(ctx, an)
    assert res["validation_failed"] == []
    assert res["twfe_bias_demonstration"]["covered"] is False
    words = scale_report.validation_text(an)
    assert words.startswith(f"Every one of the {int((v['role'] == 'check').sum())} intervals")
    assert "as that bias predicts" in words and "not one of these checks" in words
    # a failed check is still a failed check
    v2 = v.copy()
    v2.loc[v2.index[0], "covered"] = False
    an.validation = v2
    assert scale_report.results(ctx, an)["validation_failed"] == [v2["quantity"].iloc[0]]
    an.validation = scale_analysis.validation(ctx, an)


def test_validation_names_group_sizes_with_en_dashes(small):
    ctx, an = page("Q02")
    for q in an.validation["quantity"]:
        assert not re.search(r"\d-\d", q), q
    assert any("groups of 2–4" in q for q in an.validation["quantity"])


def test_sections_follow_the_level_table(small):
    """Each section left out at a level shows its one sentence why; a practice's group table
    is its network's, under the network's name."""
    for area in ("Q02", str(_group_sizes(small).index[0])):
        ctx, an = page(area)
        assert scale_report.members_table(ctx, an) == levels.rule(NB, "members", ctx.level).why \
            if ctx.level == "commissioner" else not isinstance(scale_report.members_table(ctx, an), str)
        fig = scale_report.profile_figure(ctx, an)
        assert fig == levels.rule(NB, "profile", ctx.level).why
    ctx, an = page("A81005")
    assert ctx.level == "practice"
    assert scale_report.network_size_figure(ctx, an) == levels.rule(NB, "group_sizes_chart",
                                                         "practice").why
    t = scale_report.networks_table(ctx, an)
    assert "(the network's figures)" in html.unescape(t.data)


def test_a_closed_member_adds_no_patients_to_its_groups_latest_list(small):
    """A network's 'Combined list, latest year' summed each member's last list, a practice
    closed years before included (its patients had moved, often to another member): the
    list now holds the practices open in the latest year only."""
    from helpers.analysis.referrals import practice_frame

    p = small.practices
    closed = p[p["close_date"].notna()]
    g = small.groups.assign(practice_code=small.groups["practice_code"].astype(str),
                            group_code=small.groups["group_code"].astype(str))
    hit = g[g["practice_code"].isin(closed["practice_code"].astype(str))]
    assert len(hit)                                   # the case: a closed member
    code = str(hit["group_code"].iloc[0])
    ctx, an = page(code)
    latest = int(an.national_panel["year"].max())
    gone = scale_analysis.closed_before(small, latest)
    members = g.loc[g["group_code"] == code, "practice_code"].unique()
    assert set(members) & gone
    pf = practice_frame(small).set_index("practice_code")["list_size"]
    want = pf.reindex([m for m in members if m not in gone]).sum()
    row = an.networks.set_index("group_code").loc[code]
    assert row["combined_list"] == pytest.approx(want)
    assert row["practices"] == len(members)           # every member is still counted
    assert scale_analysis.closed_before(small, 2014) == set()      # none had closed by April 2014


def test_a_group_with_a_closed_member_says_so_beside_its_count(small):
    """'A group of 5 practices' beside gaps over 4: the closed member is said."""
    g = small.groups.assign(practice_code=small.groups["practice_code"].astype(str),
                            group_code=small.groups["group_code"].astype(str))
    closed = set(small.practices.loc[small.practices["close_date"].notna(),
                                     "practice_code"].astype(str))
    code = str(g.loc[g["practice_code"].isin(closed), "group_code"].iloc[0])
    ctx, an = page(code)
    size = int(an.networks["group_practices"].iloc[0])
    assert int(an.networks["closed"].iloc[0]) == 1
    assert f"is a group of {size} practices, 1 of them closed before 2018/19" in \
        scale_report.headline_text(ctx, an)
    assert "Of them closed before the latest year" in html.unescape(
        scale_report.networks_table(ctx, an).data)


def test_counts_read_right_at_one(small):
    """'The 1 practice of …, side by side' and 'only 1 practices never joined': a count of
    one reads as one."""
    sizes = _group_sizes(small)
    ctx, an = page(str(sizes[sizes == 1].index[0]))
    caption = html.unescape(scale_report.members_table(ctx, an).data)
    assert f"The only practice of {ctx.area_name} (its latest year;" in caption
    assert "The 1 practice" not in caption and "side by side" not in caption
    assert scale_report.comparison_caution(1, 500).startswith("only 1 practice never joined")


def test_a_closed_practice_is_described_in_the_past(small):
    """'Practice P belongs to Federation 11' on the page of a practice closed in 2017: its
    group is the one it belonged to."""
    g = small.groups.assign(practice_code=small.groups["practice_code"].astype(str))
    closed = small.practices.loc[small.practices["close_date"].notna(), "practice_code"]
    code = next(c for c in closed.astype(str) if c in set(g["practice_code"]))
    ctx, an = page(code)
    assert f"{ctx.area_name} belonged to **" in scale_report.headline_text(ctx, an)
    alone = next(c for c in closed.astype(str) if c not in set(g["practice_code"]))
    ctx, an = page(alone)
    assert "was not in a group" in scale_report.headline_text(ctx, an)


def test_a_networks_index_line_and_members_read_as_its_page(small):
    """A network's index line said '2 practices in 1 group' (a '1' its page never prints);
    its members' lists came from the outcome year while every other page gives the latest
    count: the line now words the group as the headline does, and the list is the latest
    count."""
    from helpers.analysis.referrals import practice_frame

    sizes = _group_sizes(small)
    ctx, an = page(str(sizes[sizes == 2].index[0]))
    assert scale_report.results(ctx, an)["summary"].startswith("A group of 2 practices")
    assert "is a group of 2 practices" in scale_report.headline_text(ctx, an)
    lists = practice_frame(small).set_index("practice_code")["list_size"]
    for r in an.members.itertuples():
        want = lists[r.practice_code]
        assert r.registered_patients == pytest.approx(round(want / 5) * 5, abs=0.5)
    ctx, an = page(str(sizes[sizes == 1].index[0]))
    assert scale_report.results(ctx, an)["summary"].startswith("One practice, not a group")


def test_group_table_headers_hold_one_pair_of_brackets():
    """'Combined list (patients, 2021/22 (the year's average list); …)': a period with its
    own brackets is flattened inside a header's."""
    assert scale_report._flat("2021/22 (the year's average list)") == "2021/22, the year's average list"
    assert scale_report._flat("2022/23 (GP FTE of 2023)") == "2022/23, GP FTE of 2023"
    assert scale_report._flat("April 2021") == "April 2021"


def test_practices_outside_curves_of_different_ranges_are_said_in_one_line(small):
    """On the real structure each outcome's curve spans its own list sizes: the practices
    left out are said once, with each curve's range, not in one sentence per curve."""
    ctx, an = page("Q02")
    o = an.out_of_range
    assert len(o)
    one = scale_report.out_of_range_text(ctx, an)
    assert one.count("\\n") == 0 and "left out of the area's comparison (" in one
    an.out_of_range = o.assign(curve_low=np.where(o["outcome"] == "srr", 2000.0,
                                                  o["curve_low"]))
    many = scale_report.out_of_range_text(ctx, an)
    an.out_of_range = o
    assert many.count("\\n") == 0 and many.startswith("- Practices of ")
    n = o.loc[o["outcome"] == "srr", "practice_code"].nunique()
    assert f"{n} practices for standardised referral ratio (2,000 to " in many


def test_the_median_group_size_between_two_sizes_is_not_rounded_away(small):
    """Q01's 8 groups hold 2, 2, 2, 2, 3, 4, 5 and 8 practices: the median is 2.5, which
    the headline wrote as '2' (formatted to no decimals)."""
    ctx, an = page("Q01")
    sizes = sorted(int(x) for x in an.networks["practices"])
    med = float(np.median(sizes))
    assert med != int(med)                     # the case: an even count, two sizes apart
    words = scale_report.headline_text(ctx, an)
    assert f"(median {med:.1f} practices each)" in words


def test_a_practice_alone_in_its_network_is_read_beside_its_commissioner(small):
    """A practice that is its network's only member: 'read these beside its network' sent
    the reader to the same practice's figures; it is read beside its commissioner."""
    sizes = _group_sizes(small)
    net = sizes[sizes == 1].index[0]
    code = str(small.groups.loc[small.groups["group_code"].astype(str) == net,
                                "practice_code"].iloc[0])
    ctx, an = page(code)
    words = scale_report.headline_text(ctx, an)
    assert "is the only practice in" in words
    assert "beside its network" not in words
    assert "read these beside its commissioner and its similar practices" in words


def test_the_index_line_gives_each_gap_the_headlines_verdict(small):
    """The index and area pages said 'GP FTE per 1,000 patients 2.7% below England at the
    same size' where the page's headline says 'in line with' (its interval spans 0): the
    line now carries the headline's verdict, and says when one or two practices have no
    interval."""
    for area in ("Q01", "Q02"):
        ctx, an = page(area)
        summary = scale_report.results(ctx, an)["summary"]
        headline = scale_report.headline_text(ctx, an)
        for g in an.gaps.itertuples():
            label = scale_report.scale.OUTCOMES[g.outcome][0]
            lo, hi = 100 * np.expm1(g.lower), 100 * np.expm1(g.upper)
            if lo <= 0 <= hi:
                assert f"{label} in line with England at the same size (" in summary
                assert f"{label}: the area's practices are **in line with**" in headline
            else:
                assert f"{label} in line with" not in summary
    ctx, an = page(next(iter(_group_sizes(small)[lambda s: s == 2].index)))
    assert all(g.n < 3 for g in an.gaps.itertuples())
    assert "at the same size (no interval)" in scale_report.results(ctx, an)["summary"]


def test_the_caution_calls_the_interval_wide_only_when_it_spans_no_change():
    """'the interval is wide and the estimate should be read as uninformative' stood above
    an interval of −5.0% to −1.4%: an interval clear of zero is now said to be less
    reliable than its 95% claims, not wide; one spanning zero keeps the old words."""
    vague = scale_report.comparison_caution(14, 133, covers_zero=True)
    clear = scale_report.comparison_caution(14, 133, covers_zero=False)
    assert "the interval is wide" in vague and "uninformative" in vague
    assert "the interval is wide" not in clear and "uninformative" not in clear
    assert "clear of no change" in clear and clear.startswith("only 14 practices never")
    ctx, an = page("Q01")
    assert an.joining.extra["n_control"] < 100 and not an.primary.covers_zero   # the case
    words = scale_report.headline_text(ctx, an)
    assert "**Caution:** only" in words and "the interval is wide" not in words


def test_a_handful_of_mergers_gets_no_bootstrap_interval(small):
    """'Across England, 2 mergers … +1.5% (95% CI +0.1% to +3.0%)': a bootstrap over two
    mergers has three possible means, not a 95% interval. Below the threshold the page
    gives the mean change without one, and says which mergers were counted (a practice
    closing in the data's last year, P81081 here, has no year after)."""
    closed = small.practices[small.practices["successor_code"].notna()
                             & small.practices["close_date"].notna()]
    ctx, an = page("Q01")
    m = an.mergers
    assert 0 < m.n < len(closed) and m.n < scale_report.MIN_MERGERS_FOR_INTERVAL
    words = scale_report.mergers_text(ctx, an)
    assert f"{m.n} mergers with a year of data either side" in words
    assert "95% CI" not in words and "too few mergers for an interval" in words
    assert formats.pct_change(100 * np.expm1(m.estimate)) in words


def test_the_profile_left_out_says_where_each_practice_is_shown():
    """A commissioner's page said 'the size curves below show each of the area's' (each
    of its what?): it now says each practice's page has a profile and the curves show
    every practice, as a network's page does."""
    for level in ("commissioner", "network"):
        why = levels.rule(NB, "profile", level).why
        assert "page has one" in why and why.rstrip(".").endswith(
            ("every practice of the area", "every member"))


def test_a_practices_referral_ratio_reads_the_same_on_notebooks_01_and_02(small):
    """Notebook 02 showed Practice P81091's 2018/19 standardised referral ratio as 1.16
    and notebook 01 as 0.99 for the same year: 02's expected counts were not scaled so
    that England's ratio is 1 each year. Both now use England's level of the year."""
    from helpers.analysis import referrals
    from helpers.analysis.scale import practice_year_panel

    panel = practice_year_panel(small)
    for year in (2014, 2018):
        p01 = referrals.practice_table(small, years=[year]).set_index("practice_code")["ratio"]
        p02 = panel[panel["year"] == year].set_index("practice_code")["srr"].dropna()
        both = p02.index.intersection(p01.index)
        assert len(both) > 100
        np.testing.assert_allclose(p02[both], p01[both], rtol=1e-9)
        assert float(panel.loc[panel["year"] == year, "observed"].sum()
                      / panel.loc[panel["year"] == year, "expected"].sum()) == \
            pytest.approx(1.0)


def test_a_chart_of_group_sizes_describes_the_sizes_it_draws(small):
    """The joining effect by group size is described over the sizes it has estimates for
    (the small preset has no group of 9 or more that joined), in words."""
    import matplotlib.pyplot as plt

    assert scale_report._bands_words(["2-4", "5-8", "9+"]) == "2–4, 5–8 and 9 or more"
    assert scale_report._bands_words(["5-8"]) == "5–8"
    assert scale_report._bands_words(["2-4", "5-8"]) == "2–4 and 5–8"
    assert scale_report._bands_words([]) == ""      # data with no group: said in words
    assert scale_report._in_groups_words([]).startswith("in no group (")
    ctx, an = page("Q02")
    fig = scale_report.bands_figure(ctx, an)
    shown = [b for b in scale_report.BAND_ORDER if b in set(an.bands["size_band"])]
    assert fig._pack_alt.endswith(f"for groups of {scale_report._bands_words(shown)} "
                                  "practices.")
    assert ("9 or more" in fig._pack_alt) == ("9+" in shown)
    plt.close(fig)
    fig = scale_report.network_size_figure(ctx, an)       # the area's shares beside England's
    drawn = [b for b in an.band_shares["band"] if b != "1"]
    assert f"in groups of {scale_report._bands_words(drawn)} practices" in fig._pack_alt
    plt.close(fig)
