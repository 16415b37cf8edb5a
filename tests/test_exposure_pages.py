"""Notebooks 00 and 01 on the areas the national site got wrong: closed practices, practices
with no referrals or a handful of patients, one-practice networks. Each test is built on a
case that showed a defect (issue 34's classes) and fails on the code before its fix."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("agg")

from helpers import report
from helpers.analysis import referrals
from helpers.analysis.referral_variation import ratio_standing
from helpers.report import referral_variation as variation_report

SMALL = "synthetic:small"


@pytest.fixture(scope="module")
def closed(small):
    """A practice of the small preset that closed part-way through the period (open 12
    of its 60 months)."""
    m = referrals.months_open(small)
    code = str(m[m == 12].index[0])
    return code


def _run(nb, area, publish=False):
    ctx = report.start(nb, {"data_source": SMALL, "area": area, "publish": publish})
    return ctx, report.analyse(ctx)


def test_months_open_is_one_definition_for_practices_and_networks(small, closed):
    pm = referrals.national_tables(small)["pm"]
    m = referrals.months_open(small)
    # known answers: the months of the practice's referral rows, and all 60 for one open
    # throughout; a practice asked for that is never open is 0
    assert m[closed] == pm.loc[pm["practice_code"] == closed, "month"].nunique() == 12
    assert m.max() == 60
    assert referrals.months_open(small, [closed, "NOPE"]).tolist() == [12, 0]
    assert referrals.months_open(small, [closed], years=[2015]).tolist() == [0]
    # a network: the union of its members' months, not the sum nor the longest
    full = str(m[m == 60].index[0])
    assert referrals.area_months_open(small, [closed, full]) == 60
    assert referrals.area_months_open(small, [closed]) == 12


def test_a_closed_practice_reads_the_same_on_its_funnel_table_and_headline(closed):
    """Class 1: the funnel divided a closed practice's expected count by the whole period
    (5 years), while its table and headline divided by the years it was open."""
    ctx, an = _run("01_referral_variation", closed)
    row = an.published.iloc[0]
    assert row["months_open"] == 12
    assert row["expected_per_year"] == pytest.approx(row["expected"] / 1.0)
    assert an.headline["observed_per_year"] == pytest.approx(an.headline["observed"])
    fig = variation_report.funnel_figure(ctx, an)
    names = [n for ns in fig._pack_named.values() for n in ns]
    mine = [n for n in names if n.startswith(f"{closed}:")]
    # the practice is one point among its peers: its diamond, not also a dot beneath it
    assert len(mine) == 1, mine
    assert f"{variation_report.formats.count(row['expected_per_year'])} expected referrals a " \
        "year" in mine[0], mine
    assert "open 12 of the period's 60 months" in mine[0]
    text = variation_report.headline_text(ctx, an, an.headline)
    assert f"({ctx.count(an.headline['observed_per_year'])} a year over the 12 months it " \
        "was open)" in text
    matplotlib.pyplot.close(fig)


def test_the_comparison_groups_average_over_their_own_months(closed):
    """Peers and the similar 10 (which can hold closed practices) a year over the months
    any of them was open, as the area itself."""
    ctx, an = _run("01_referral_variation", closed)
    nat = an.national
    for role, codes in (("peers", ctx.where.peers), ("similar", ctx.where.similar)):
        d = nat[nat["practice_code"].isin(codes)]
        months = referrals.area_months_open(ctx.ds, list(codes), an.years)
        row = an.comparisons.set_index("role").loc[role]
        assert row["observed_per_year"] == pytest.approx(d["observed"].sum() / (months / 12))


def test_quarters_after_closing_are_not_gaps(closed):
    """Class 2: a closed practice's quarters after it closed have no referrals at all; they
    were counted as 'quarters with 1 to 7 referrals … gaps (publish mode)'."""
    ctx, an = _run("01_referral_variation", closed, publish=True)
    d = an.deciles
    assert d["open"].sum() == 4 and len(d) == 20
    assert "gap" not in variation_report.deciles_text(ctx, an)
    # its chart's description counts the quarters it has a ratio in, not every quarter
    fig = variation_report.deciles_figure(ctx, an)
    assert "referral ratio in the 4 quarters it was open (of 20 shown)" in fig._pack_alt


@pytest.mark.parametrize("obs, exp, want", [
    (0, 40.0, "no_referrals"), (5, 3.0, "too_few_expected"), (0, 0.05, "no_referrals"),
    (2710, 10.0, "implausible"), (1, 12.0, "implausible"), (120, 100.0, "ok"),
    (np.nan, 50.0, "ok"), (3, 0.0, "too_few_expected")])
def test_ratio_standing_known_answers(obs, exp, want):
    assert ratio_standing(obs, exp) == want


@pytest.mark.parametrize("observed, expected", [(0.0, 40.0), (8400.0, 31.0), (6.0, 4.0)])
def test_an_extreme_practice_gets_no_percentage_and_no_limits(closed, observed, expected):
    """Class 14: 'no referrals … 100.0% fewer … within the limits' and a 31-patient
    practice's '27100.6% more … within the limits'."""
    ctx, an = _run("01_referral_variation", closed)
    h = dict(an.headline, observed=observed, expected=expected,
             observed_per_year=observed, area_ratio=observed / expected,
             standing=ratio_standing(observed, expected))
    text = variation_report.headline_text(ctx, an, h)
    first = text.splitlines()[0]
    assert not re.search(r"\d%", first) and "limits**" not in text \
        and "within the" not in text, text
    assert "no ratio" in first or "no % difference" in first
    summary = variation_report.results(ctx, an, h)["summary"]
    assert "within" not in summary and not re.search(r"\d%", summary), summary


def test_counts_of_practices_read_right_at_zero_and_one():
    """Class 16: '0 practices less', 'All 1 practice'."""
    assert variation_report.outside_limits_words(0, 0, "99.8") == "**No practice** is outside the 99.8% limits"
    assert "0 practices" not in variation_report.outside_limits_words(2, 0, "99.8")
    assert variation_report.outside_limits_words(1, 0, "99.8").startswith("**1 practice** refers")
    assert variation_report.outside_limits_words(0, 3, "99.8").startswith("**No practice** refers more")


def test_the_practices_table_caption_reads_right_for_one_and_two():
    assert variation_report.practices_caption(1) == "The practice's figures"
    assert variation_report.practices_caption(2).startswith("Both practices")
    assert variation_report.practices_caption(31) == "All 31 practices, highest ratio first"


def test_notebooks_00_and_01_state_the_same_exposure(closed):
    """'over 39 months' (00) beside 'over the 3 years it was open' (01): both now say the
    months it was open, from the one definition."""
    from helpers.report import overview

    ctx0, ov = _run("00_data_overview", closed)
    ctx1, an = _run("01_referral_variation", closed)
    words = "over the 12 months it was open"
    assert words in overview.headline_text(ctx0, ov)
    assert words in variation_report.headline_text(ctx1, an, an.headline)
    assert ov.headline["months"] == an.extras["area_months"] == 12


def test_a_chart_draws_counts_in_the_unit_their_size_calls_for(closed):
    """Class 8: a practice with 10 to 30 referrals a month was drawn in 'thousands per
    month' with ticks 0.010 to 0.030."""
    from helpers.report import overview

    assert overview.count_scale([12, 30, np.nan]) == (1.0, "")
    assert overview.count_scale([9_999]) == (1.0, "")
    assert overview.count_scale([3_000, 15_000]) == (1000.0, "thousands")
    for area, label in ((closed, "Referrals per month"),
                        ("Q02", "Referrals (thousands per month)")):
        ctx, ov = _run("00_data_overview", area)
        ax = overview.monthly_chart(ctx, ov).axes[0]
        assert ax.get_ylabel() == label
        top = ax.get_ylim()[1]
        assert top > 10, (area, top)      # the counts, not 0.0xx thousands
        matplotlib.pyplot.close(ax.figure)


def test_one_open_practice_has_no_median_list(small):
    """Class 16: '1 practice with 6,200 registered patients (median list size 6,200)'."""
    from dataclasses import replace

    from helpers.report import overview

    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    ctx, ov = _run("00_data_overview", str(sizes.index[0]))
    one = replace(ov, headline=dict(ov.headline, n_practices=1, n_open_latest=1,
                                    patients=6200.0, median_list=6200.0))
    first = overview.headline_text(ctx, one).splitlines()[0]
    assert "**1 practice** with **6,200 registered patients**" in first
    assert "median" not in first
    many = overview.headline_text(ctx, replace(ov, headline=dict(
        ov.headline, n_practices=3, n_open_latest=3))).splitlines()[0]
    assert "median list size" in many


def test_a_practice_page_says_why_it_has_no_list_size_chart(closed):
    """The level table leaves a practice's list-size spread out and says why."""
    from helpers import levels
    from helpers.report import overview

    ctx, ov = _run("00_data_overview", closed)
    assert overview.list_size_chart(ctx, ov) is None
    assert overview.list_size_text(ctx, ov) == levels.rule(
        "00_data_overview", "list_sizes", "practice").why


def test_a_suppressed_cell_cannot_be_worked_back_from_its_row(small):
    """Class 12: 'Referrals a year above that' (against the best of the similar 10) was
    suppressed but equals referrals a year × (1 − best ratio / ratio) of the cells beside
    it. Wherever it is suppressed, a cell that formula needs is hidden too; where it is
    shown, the row agrees with it to the rounding of its counts."""
    found = 0
    for code in small.practices["practice_code"].astype(str)[:40]:
        ctx, an = _run("01_referral_variation", code, publish=True)
        t = an.similar_opportunity
        masks = t.attrs["suppressed"]
        sup = np.asarray(masks["above_best_per_year"], bool)
        for i in np.flatnonzero(sup):
            found += 1
            row = t.iloc[i]
            cells = [row["observed_per_year"], row["best_ratio"], row["ratio"]]
            assert not all(np.isfinite(cells)), (code, row.to_dict())
        if found >= 3:
            break
    assert found, "no suppressed 'above the best' cell among the practices tried"


def test_the_similar_10_text_says_what_the_table_leaves_out(small):
    """Class 13: '1,745 fewer referrals … across 20 specialties' above a 12-row table (on
    the practice open all period with the highest ratio: a closed one has nothing to save)."""
    m = referrals.months_open(small)
    _, q = _run("01_referral_variation", "Q02")
    p = q.published[q.published["practice_code"].astype(str).map(m) == m.max()]
    ctx, an = _run("01_referral_variation", str(p.sort_values("ratio")["practice_code"].iloc[-1]))
    t = an.similar_opportunity
    shown = t[t["above_best_per_year"].fillna(0) > 0]
    assert len(shown) > variation_report.SIMILAR_ROWS          # the case: more specialties than rows
    words = variation_report.similar_text(ctx, an)
    rest = shown.iloc[variation_report.SIMILAR_ROWS:]
    n_rest = len(rest)
    assert f"the other {n_rest} specialties above it add " \
           f"{variation_report.formats.count(float(rest['above_best_per_year'].sum()))} a year" in words
    assert f"lists the {variation_report.SIMILAR_ROWS} specialties" in words
    assert "England's median practice ratio" in variation_report.headline_text(ctx, an, an.headline)


def test_the_profile_marks_higher_only_where_the_funnel_does(closed):
    """Class 10: 'within the 99.8% limits' in the headline, then every indicator marked
    'higher than England' by a 95% interval without over-dispersion. The profile's
    'All referrals' row now agrees with the funnel's flag, and its text names the rule."""
    ctx, an = _run("01_referral_variation", closed)
    flag = an.published["flag"].iloc[0]
    row = an.profile.set_index("indicator").loc["All referrals"]
    want = {"High": "higher", "Low": "lower", "Within": "similar"}[flag]
    assert row["verdict"] == want
    # the case: its 95% interval is clear of 1, yet it is within the limits
    assert row["lower"] > 1 and flag == "Within"
    words = variation_report.profile_text(ctx, an)
    assert "outside the 99.8% limits that allow for the normal spread" in words
    assert "95% interval from chance alone" in words


def test_a_practice_page_names_its_similar_10_as_it_names_practices(small):
    """Class 18: the similar 10 named (codes here; pseudonyms where the page uses them)
    and the practice's main specialties by year, with their unit."""
    code = str(small.practices["practice_code"].iloc[5])
    ctx, an = _run("01_referral_variation", code, publish=True)
    named = an.similar_named
    assert named["label"].tolist() == ctx.practice_labels(list(ctx.where.similar))
    html = variation_report.similar_named_table(ctx, an).data
    assert all(label in html for label in named["label"])
    over = an.specialties_over_time
    assert len(over) == 5 and [c for c in over.columns if c.startswith("fy")]
    assert "(referrals)" in variation_report.specialties_over_time_table(ctx, an).data
    assert "a count" in variation_report.specialties_over_time_text(ctx, an)
    # counts published: every shown year's count is a multiple of 5
    vals = over[[c for c in over.columns if c.startswith("fy")]].to_numpy(float)
    assert np.all(np.isnan(vals) | (vals % 5 == 0))


def test_the_quarterly_ratios_are_on_the_pages_scale(closed):
    """The deciles chart's quarters divided by expected counts not scaled to England's
    ratio of 1 in each year, so a practice's quarters read about 13% above its ratio on
    the same page (2.12 beside 1.77). Its quarters' expected counts now add up to the
    practice's expected count, and its referrals over them give its ratio."""
    ctx, an = _run("01_referral_variation", closed)
    d = an.deciles[an.deciles["open"]]
    row = an.published.iloc[0]
    assert d["expected"].sum() == pytest.approx(row["expected"])
    assert (d["ratio"] * d["expected"]).sum() / d["expected"].sum() == \
        pytest.approx(row["ratio"])


def test_the_profile_and_the_specialty_table_agree_on_who_is_above_the_limit(closed):
    """A specialty marked 'higher than England' on the profile is one the specialty table
    counts as above the 99.8% limit (a 95% funnel flag is not the page's rule)."""
    ctx, an = _run("01_referral_variation", closed)
    prof = an.profile[an.profile["specialty_code"] != "ALL"].set_index("specialty_code")
    table = an.specialties.set_index("specialty_code")
    for code, row in prof.iterrows():
        assert (row["verdict"] == "higher") == (table.loc[code, "n_high"] == 1), code
        assert (row["verdict"] == "lower") == (table.loc[code, "n_low"] == 1), code


def test_the_funnel_says_which_practices_were_open_part_of_the_period(closed):
    """A closed practice among the practices drawn: the funnel's words say it sits at its
    expected count a year while open, with limits wider than the curves there."""
    ctx, an = _run("01_referral_variation", closed, publish=True)
    words = variation_report.funnel_intro(ctx, an)
    part = sum(int((f.loc[f["ratio"].notna(), "months_open"] < 60).sum())
               for f in (an.published, an.peers_published))
    assert part >= 1
    assert f"{'1 practice' if part == 1 else f'{part} practices'} drawn " in words
    assert "wider than the curves" in words


def test_chart_descriptions_read_right_at_zero():
    assert variation_report._above_below(0, 0, "99.8") == "none outside the 99.8% limits"
    assert variation_report._above_below(2, 0, "99.8") == "2 above and none below the 99.8% limits"
    assert variation_report._ranges(1, 0) == "1 range lies above 1 and none below"
    assert variation_report._ranges(0, 0) == "no range lies wholly above or below 1"


def test_an_unreadable_ratio_is_not_placed_against_the_limits():
    """Class 14 in the tables and chart points: a practice with no referrals reads 'no
    referrals recorded: not judged', not 'within'."""
    frame = pd.DataFrame({"flag": ["Within", "Within", "High"],
                          "standing": ["no_referrals", "ok", "implausible"],
                          "label": ["A", "B", "C"], "rr": [0.0, 1.1, 27.1],
                          "months_open": [60, 60, 60], "x": [40.0, 50.0, 3.0]})
    assert variation_report.positions(frame).tolist() == [
        "no referrals recorded: not judged", "within",
        "ratio implausible: check list and coding"]
    names = variation_report.point_names(frame, "99.8", "expected referrals a year", "x")
    assert "within" not in names[0] and "not judged" in names[0]
    # no ratio quoted where the headline quotes none ('ratio 0.00' beside 'not judged')
    assert "ratio" not in names[0] and "ratio 1.10" in names[1]
    assert names[2].startswith("C: ratio implausible") and "27.10" not in names[2]
    assert "within the 99.8% limits" in names[1]


def test_the_index_line_reads_right_at_zero(small):
    """'0 above and 0 below the 99.8% limits' on a network's index line."""
    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    ctx, an = _run("01_referral_variation", str(sizes[sizes == 2].index[0]))
    h = dict(an.headline, n_high=0, n_low=0)
    assert variation_report.results(ctx, an, h)["summary"].endswith("none outside the 99.8% limits")
    h = dict(an.headline, n_high=0, n_low=1)
    assert variation_report.results(ctx, an, h)["summary"].endswith("none above and 1 below the 99.8% "
                                                      "limits")


def test_sections_follow_the_level_table(small, closed):
    """What shows at each level is the level table's: a left-out section says its one
    sentence in its place (and nothing else of it shows); a shown one is drawn."""
    from helpers import levels

    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    network = str(sizes[sizes > 3].index[0])
    why = {lv: {s: r[lv].why for s, r in levels.TABLES["01_referral_variation"].items()}
           for lv in levels.LEVELS}
    ctx, an = _run("01_referral_variation", network)
    assert variation_report.profile_figure(ctx, an) == why["network"]["profile"]
    assert variation_report.deciles_figure(ctx, an) == why["network"]["deciles"]
    assert variation_report.similar_text(ctx, an) == why["network"]["similar_10"]
    assert variation_report.similar_named_table(ctx, an) is None and an.peers_published is None
    assert not isinstance(variation_report.crude_chart(ctx, an), str)
    ctx, an = _run("01_referral_variation", closed)
    assert variation_report.crude_chart(ctx, an) == why["practice"]["crude_rates"]
    assert variation_report.ranked_figure(ctx, an) == why["practice"]["ranked"]
    assert variation_report.ranked_intro(ctx, an) == ""
    assert not isinstance(variation_report.profile_figure(ctx, an), str)
    ctx, an = _run("01_referral_variation", "ENGLAND")
    assert variation_report.comparison_figure(ctx, an) == why["england"]["comparison"]
    assert variation_report.comparison_table(ctx, an) is None


@pytest.fixture(scope="module")
def extreme(tmp_path_factory, small):
    """The small preset with two extreme practices built in: one with no referrals (its
    referral rows kept, every count 0) and one whose list is 31 patients in every year (its
    referrals as they were)."""
    from helpers.datasets import save_dataset

    codes = referrals.months_open(small)
    full = codes[codes == 60].index.astype(str)
    none, tiny = str(full[3]), str(full[4])
    tables = {k: v.copy() for k, v in small.tables.items()}
    ref = tables["referrals"]
    ref.loc[ref["practice_code"].astype(str) == none, "referrals"] = 0
    pop = tables["population"]
    mine = pop["practice_code"].astype(str) == tiny
    for period in pop.loc[mine, "period"].unique():
        rows = mine & (pop["period"] == period)
        total = pop.loc[rows, "patients"].sum()
        scaled = np.floor(pop.loc[rows, "patients"] * 31 / total).astype(int)
        scaled.iloc[0] += 31 - scaled.sum()
        pop.loc[rows, "patients"] = scaled.to_numpy()
    prov = {k: v for k, v in small.provenance.items() if k != "content_hash"}
    folder = save_dataset(tables, tmp_path_factory.mktemp("extreme") / "data",
                          truth=small.truth, provenance=prov)
    return str(folder), none, tiny


@pytest.mark.parametrize("which, standing", [(1, "no_referrals"), (2, "implausible")])
def test_extreme_practices_on_a_dataset_built_for_them(extreme, which, standing):
    """Class 14 on whole pages: the practice with no referrals and the 31-patient one get
    no % difference and no 'within the limits', in the headline, table and index line."""
    folder, code = extreme[0], extreme[which]
    ctx = report.start("01_referral_variation", {"data_source": folder, "area": code,
                                                 "publish": True})
    an = report.analyse(ctx)
    assert an.headline["standing"] == standing
    text = variation_report.headline_text(ctx, an, an.headline)
    assert not re.search(r"\d%", text.splitlines()[0]) and "within the" not in text, text
    assert an.published["standing"].iloc[0] == standing
    assert variation_report.positions(an.published).iloc[0] == variation_report.STANDING_WORDS[standing]
    assert variation_report.results(ctx, an, an.headline)["summary"] == variation_report.STANDING_SUMMARY[standing]


@pytest.mark.parametrize("which, words", [(1, "more likely missing from the referral data"),
                                          (2, "beyond any referral habit")])
def test_the_overview_says_when_referrals_cannot_be_read_against_the_list(extreme, which,
                                                                         words):
    from helpers.report import overview

    folder, code = extreme[0], extreme[which]
    ctx = report.start("00_data_overview", {"data_source": folder, "area": code,
                                            "publish": True})
    assert words in overview.headline_text(ctx, report.analyse(ctx))


def test_referral_standing_known_answers():
    from helpers.analysis.overview import referral_standing

    assert referral_standing(0, 60, 8000) == "no_referrals"
    assert referral_standing(2305, 60, 31) == "implausible"
    assert referral_standing(2000 * 5, 60, 8000) == "ok"
    assert referral_standing(0, 0, 8000) == "ok"


def test_the_partition_counts_one_practice_left_out_in_the_singular(closed):
    ctx, an = _run("01_referral_variation", closed)
    an.partition = dict(an.partition, n_missing_covariates=1)
    assert "1 practice without a value" in variation_report.partition_text(an)
    assert "is left out" in variation_report.partition_text(an)


def test_a_closed_practices_overview_says_its_last_count(closed):
    from helpers.report import overview

    ctx, ov = _run("00_data_overview", closed)
    assert "at its last count before it closed" in overview.headline_text(ctx, ov)
    assert "at its last count before it closed" in overview.results(ctx, ov)["summary"]


def test_person_years_count_only_the_months_open(small, closed):
    """Crude rates a year over the one exposure: a practice's person-years are each year's
    list × the months it was open that year / 12 (known answer: a practice open all 12
    months of one year counts that year's list once; a year it was not open counts 0)."""
    pop = small.population.assign(year=referrals.financial_year(small.population["period"]))
    lists = pop[pop["practice_code"].astype(str) == closed].groupby(
        "year", observed=True)["patients"].sum()
    py = referrals.person_years(small)
    assert py[closed] == pytest.approx(lists[lists > 0].iloc[0])
    assert referrals.person_years(small, [2016]).get(closed, 0.0) == 0.0


def test_a_practice_closing_mid_year_counts_the_months_it_was_open(tmp_path, small, closed):
    """The closed practice's referral rows cut to April–September: 6 months open, half its
    last list in person-years, its figures a year over half a year."""
    from helpers.datasets import save_dataset

    tables = {k: v.copy() for k, v in small.tables.items()}
    ref = tables["referrals"]
    late = (ref["practice_code"].astype(str) == closed) & \
        (pd.to_datetime(ref["month"]) >= pd.Timestamp("2014-10-01"))
    tables["referrals"] = ref[~late].reset_index(drop=True)
    prov = {k: v for k, v in small.provenance.items() if k != "content_hash"}
    folder = save_dataset(tables, tmp_path / "data", truth=small.truth, provenance=prov)
    from helpers.sources import open_source

    ds = open_source(str(folder))
    assert referrals.months_open(ds, [closed]).tolist() == [6]
    pop = small.population
    last = float(pop.loc[pop["practice_code"].astype(str) == closed, "patients"].sum())
    assert referrals.person_years(ds)[closed] == pytest.approx(last / 2)
    ctx = report.start("01_referral_variation", {"data_source": str(folder), "area": closed,
                                                 "publish": False})
    an = report.analyse(ctx)
    row = an.published.iloc[0]
    assert row["observed_per_year"] == pytest.approx(row["observed"] * 2)
    assert row["crude_rate"] == pytest.approx(row["observed"] / (last / 2) * 1000)
    assert "over the 6 months it was open" in variation_report.headline_text(ctx, an, an.headline)
