"""Notebook 03's pages on areas built to break them: sibling networks of one commissioner
(the commissioner's figures under its own name, in one unit), a closed practice (no
savings to chart), and the payment chart's lines that lie on one another."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from helpers import levels
from helpers.analysis import contract_forms as forms_analysis
from helpers.analysis import contracts
from helpers.analysis.context import open_context
from helpers.report import contract_forms as forms_report

NB = "03_contract_forms"
_CACHE: dict[str, tuple] = {}


def page(area: str):
    if area not in _CACHE:
        ctx = open_context(NB, {"data_source": "synthetic:small", "area": area,
                                "publish": True})
        _CACHE[area] = ctx, forms_analysis.analyse(ctx)
    return _CACHE[area]


def _text(obj) -> str:
    """A table's visible words (caption and cells; not its CSV link)."""
    shown = html.unescape(obj.data).split("Download this table")[0].split("</style>")[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown))


def _closed_practice(small) -> str:
    """A practice closed before the last year of the data (no referrals that year)."""
    p = small.practices
    last_year = small.activity["month"].max()
    closed = p[p["close_date"].notna() & (p["close_date"] < last_year - np.timedelta64(400, "D"))]
    assert len(closed)
    return str(closed["practice_code"].iloc[0])


def test_the_commissioners_risk_is_under_its_name_alike_on_every_sibling(small):
    """'Commissioner's share of demand risk …, Federation N' showed the commissioner's
    figures under each network's name, and a closed practice wrote them in pounds
    ('£931,714') where its siblings wrote '£932k'. Every page below the commissioner now
    names the commissioner and writes its figures in the commissioner's unit, so the
    tables are the same cell for cell on every sibling page and on the commissioner's."""
    closed = _closed_practice(small)
    comm = str(small.practices.set_index("practice_code").loc[closed, "commissioner_code"])
    t = small.groups.merge(small.practices[["practice_code", "commissioner_code"]],
                           on="practice_code")
    nets = sorted(set(t.loc[t["commissioner_code"].astype(str) == comm,
                            "group_code"].astype(str)))[:2]
    bodies = set()
    for area in [comm, closed, *nets]:
        ctx, an = page(area)
        words = _text(forms_report.risk_table(ctx, an))
        caption = f"Who carries demand risk, {forms_report.owner_name(ctx, 'risk')}"
        assert caption in words
        if ctx.level != "commissioner":
            assert levels.rule(NB, "risk", ctx.level).kind == levels.PARENT
            assert f"{ctx.where.commissioner_name} (the commissioner of {ctx.area_name})" \
                in caption
        bodies.add(words.replace(caption, ""))
        fig = forms_report.risk_figure(ctx, an)
        assert ctx.where.commissioner_name in " ".join(fig.axes[0].get_title(loc="left")
                                                       .split())
    assert len(bodies) == 1                       # one set of cells, one unit
    assert "£k, SD" in bodies.pop()


def test_the_commissioners_activity_is_named_as_its(small):
    ctx, an = page(sorted(small.groups["group_code"].astype(str))[0])
    words = forms_report.headline_text(ctx, an)
    assert f"the outpatient activity of {ctx.where.commissioner_name} (the commissioner of" \
        in words
    assert forms_report.results(ctx, an)["summary"].startswith(f"{ctx.where.commissioner_name}'s ")


def test_a_closed_practice_has_no_empty_savings_chart(small):
    """A closed practice's savings chart was empty (axis −0.050 to 0.050 £) beside tables of
    £0: the chart is left out with one sentence why, and the £0 tables with it."""
    ctx, an = page(_closed_practice(small))
    assert an.affected_share == 0 and an.no_referrals
    why = forms_report.whatif_figure(ctx, an)
    assert isinstance(why, str) and "made no GP referrals" in why
    assert forms_report.whatif_table(an) is None and forms_report.sensitivity_table(an) is None
    assert forms_report.headline_table(an) is None
    closed = small.practices.set_index("practice_code").loc[ctx.area, "close_date"]
    assert f"(it closed in {closed:%B %Y})" in forms_report.headline_text(ctx, an)
    assert "changes nothing that year" in forms_report.headline_text(ctx, an)
    # the commissioner's page still has its chart
    cctx, can = page(ctx.commissioner)
    assert not isinstance(forms_report.whatif_figure(cctx, can), str)


def test_prose_names_forms_with_one_pair_of_brackets_and_true_minus_signs(small):
    """'(payment by results (tariff))' and '-10%' beside '−10%': forms are named without
    nested brackets, and the what-if chart's title writes the change as the header does."""
    for area in ("Q01", "Q02", sorted(small.groups["group_code"].astype(str))[0]):
        ctx, an = page(area)
        words = forms_report.headline_text(ctx, an) + forms_report.results(ctx, an)["summary"]
        assert not re.search(r"\([^()]*\(", words), words
        fig = forms_report.whatif_figure(ctx, an)
        title = fig.axes[0].get_title(loc="left")
        assert "−10%" in title and "-10%" not in title
    assert forms_analysis.form_name("pbr") == "payment by results (tariff)"
    ctx, an = page("Q01")
    if an.validation is not None:
        assert not any("_" in q for q in an.validation["quantity"])


def test_line_draw_order_puts_the_most_shared_line_at_the_bottom():
    x = np.arange(11.0)
    # 'flat' meets 'capped' at 6 points and 'rising' at 1 (7); 'capped' meets 'flat' at 6
    # and 'rising' at 6 (12); 'rising' meets 'capped' at 6 and 'flat' at 1 (7)
    series = {"rising": x, "flat": np.full(11, 5.0), "capped": np.minimum(x, 5.0)}
    assert forms_report.line_draw_order(series) == ["capped", "rising", "flat"]
    c = contracts.payment_curves(1.0)
    forms = ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
    assert forms_report.line_draw_order({f: c[f].to_numpy() for f in forms})[0] == "block"
    assert forms_report.line_draw_order({"a": x, "b": x + 1}) == ["a", "b"]   # ties keep their order


def _visible_pixels(fig) -> dict[str, int]:
    """Pixels inside the axes drawn in each line's own colour once the chart is rasterised
    (the legend sits outside the axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgb

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(150)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    ax = fig.axes[0]
    b = ax.get_window_extent()
    h = img.shape[0]
    inside = img[int(h - b.y1) + 2:int(h - b.y0) - 2, int(b.x0) + 2:int(b.x1) - 2]
    out = {}
    for line in ax.get_lines():
        rgb = np.array(to_rgb(line.get_color())) * 255
        out[line.get_label()] = int((np.abs(inside - rgb).max(axis=2) <= 6).sum())
    return out


def test_every_payment_line_is_visible(small):
    """In 'Payment against activity by contract form' the block line (flat at 100%) lay
    wholly under aligned payment (flat below plan) and cost and volume (flat above it),
    drawn after it. Rasterised, every form's line now shows pixels of its own colour, and
    each line has its own dash pattern."""
    ctx, an = page("Q01")
    fig = forms_report.curves_figure(ctx, an)
    seen = _visible_pixels(fig)
    assert set(seen) == {contracts.FORM_LABELS[f] for f in ctx.params["forms"]}
    assert min(seen.values()) > 100, seen
    styles = {str(line.get_linestyle()) + str(line.get_dashes() if hasattr(line, "get_dashes")
                                               else "") + line.get_marker()
              for line in fig.axes[0].get_lines()}
    assert len(styles) == len(seen)
    assert "Synthetic" not in fig.axes[0].get_title(loc="left")   # alike at every level


@pytest.mark.parametrize("legacy", [True])
def test_the_visibility_check_finds_a_hidden_line(small, legacy):
    """The pixel check itself: the same lines drawn alike, one after another, hide the
    block line (no pixel of its colour)."""
    from helpers.report import charts

    c = contracts.payment_curves(1.0)
    forms = ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
    fig = charts.lines_chart(c["activity_share_of_plan"] * 100,
                             {contracts.FORM_LABELS[f]: c[f] * 100 for f in forms},
                             "t", "x (%)", "y (%)", "s", "a")
    assert _visible_pixels(fig)[contracts.FORM_LABELS["block"]] == 0


def test_a_practice_open_part_of_the_year_is_not_given_a_full_year(small, tmp_path):
    """The twin of a closed practice's funnel point: a practice that closed in October has
    six months of referrals in the year, and its what-if says so (months from the one
    exposure, :func:`helpers.analysis.referrals.area_months_open`) instead of calling the
    change 'a year'."""
    import pandas as pd

    from helpers.datasets import save_dataset

    t = {k: v.copy() for k, v in small.tables.items()}
    p = t["practices"]
    code = str(p.loc[p["close_date"].isna(), "practice_code"].iloc[0])
    p.loc[p["practice_code"].astype(str) == code, "close_date"] = pd.Timestamp("2018-10-01")
    r = t["referrals"]
    t["referrals"] = r[~((r["practice_code"].astype(str) == code)
                         & (pd.to_datetime(r["month"]) >= "2018-10-01"))]
    save_dataset(t, tmp_path / "part", provenance={"source": "test", "real_tables": [],
                                                   "synthetic_tables": []})
    ctx = open_context(NB, {"data_source": str(tmp_path / "part"), "area": code,
                            "publish": True})
    an = forms_analysis.analyse(ctx)
    assert an.year == 2018 and an.months_open == 6 and an.affected_share > 0
    words = forms_report.headline_text(ctx, an)
    assert "was open 6 of the year's 12 months" in words
    assert "in 2018/19**." in words and " a year**" not in words
    # a practice open all year reads 'a year', with no such sentence
    ctx2, an2 = page(str(p.loc[p["close_date"].isna(), "practice_code"].iloc[1]))
    assert an2.months_open == 12 and "was open" not in forms_report.headline_text(ctx2, an2)


def test_the_never_switched_note_reads_right_at_zero_and_one():
    assert forms_analysis.never_switched_note(1).startswith("Only 1 commissioner never switched form")
    assert forms_analysis.never_switched_note(3).startswith("Only 3 commissioners never switched form")
    assert forms_analysis.never_switched_note(0).startswith("Every commissioner switched form")
    assert "(1)" not in forms_analysis.never_switched_note(1)


def test_the_what_if_names_whose_spend_it_shows(small):
    net = sorted(small.groups["group_code"].astype(str))[0]
    ctx, an = page(net)
    words = _text(forms_report.whatif_table(an, ctx))
    assert f"the spend is {ctx.where.commissioner_name}'s, the commissioner of " \
        f"{ctx.area_name}" in words
    assert "Commissioner's spend at plan (£k)" in words
    cctx, can = page(ctx.commissioner)
    assert "the spend is" not in _text(forms_report.whatif_table(can, cctx))


def test_a_switch_below_the_commissioner_is_charted_under_its_name(small):
    """A network's page shows its commissioner's switch: the chart names the commissioner
    by name."""
    t = small.groups.merge(small.practices[["practice_code", "commissioner_code"]],
                           on="practice_code")
    sw = contracts.switches(small)
    comm = str(sw["commissioner_code"].iloc[0])
    net = str(t.loc[t["commissioner_code"].astype(str) == comm, "group_code"].iloc[0])
    ctx, an = page(net)
    figs = forms_report.its_figures(ctx, an)
    assert figs
    for fig in figs:
        title = " ".join(fig.axes[0].get_title(loc="left").split())
        assert title.startswith(ctx.where.commissioner_name + ":"), title


def test_a_switch_evaluated_by_its_time_series_is_checked_against_the_truth(small):
    """Too few commissioners never switched for a DiD, but the switching commissioner's
    interrupted time series is on the page: the page said 'No recorded truth to compare
    with' although the synthetic data records the effect planted at that switch. Each ITS
    estimate is now checked against it, on the log scale the truth is recorded in."""
    sw = contracts.switches(small)
    comm = str(sw["commissioner_code"].iloc[0])
    ctx, an = page(comm)
    assert not an.did and an.its                  # the case: no DiD, an ITS on the page
    truth = small.truth["contract_switches"]
    v = an.validation
    assert v is not None and len(v) == len(an.its)
    for est, row in zip(an.its, v.itertuples(), strict=True):
        key = "effect_firsts_per_referral" if est.extra["outcome"] == "firsts" else \
            "effect_followups_per_first"
        assert row.truth == truth[key][est.extra["to_form"]]
        assert row.estimate == pytest.approx(np.log(est.extra["rate_ratio"]))
        assert row.covered == (row.lower <= row.truth <= row.upper)
        assert "interrupted time series" in row.quantity and comm in row.quantity
    assert forms_report.validation_text(an).startswith(f"Every one of the {len(v)}")
    assert "validation_failed" in forms_report.results(ctx, an)


def test_forms_tied_for_most_or_least_are_all_named(small):
    """A network's 10% cut saved £54k under payment by results and under cost and volume,
    and nothing under block, cap and collar and aligned payment; the headline named one of
    each ('most under payment by results … least under block'). Every tied form is now
    named, and the block sentence follows only when a block is among the least."""
    import pandas as pd

    best, worst = forms_report.tied_forms(pd.Series({"pbr": 54.0, "block": 0.0,
                                                     "cap_collar": 0.2, "cvc": 54.3,
                                                     "blended": 11.0}))
    assert best == ["pbr", "cvc"] and worst == ["block", "cap_collar"]
    ctx, an = page("U10001")
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")["commissioner_saving_gbp"]
    best, worst = forms_report.tied_forms(t)
    assert len(best) > 1 and len(worst) > 1                       # the case: ties
    words = forms_report.headline_text(ctx, an)
    line = next(x for x in words.splitlines() if "saves most under" in x)
    most, least = line.split("and least under")
    for f in best:
        assert f"**{forms_analysis.form_name(f)}**" in most
    for f in worst:
        assert f"**{forms_analysis.form_name(f)}**" in least
    assert ("keeps the money" in least) == ("block" in worst)


def test_a_page_without_a_switch_points_to_a_comparison_only_when_it_shows_one(small):
    """A commissioner that never changed form says so; it points the reader to the England
    comparison above only where the page shows one (the small preset has too few
    commissioners that never switched for it, so there is none)."""
    for area in ("Q02", "P81050", "U10015"):
        ctx, an = page(area)
        if any(r.extra["outcome"] == "firsts" for r in an.its):
            continue
        note = forms_report.its_note(ctx, an)
        assert "did not change contract form in the period" in note, (area, note)
        assert ("comparison above" in note) == bool(an.did), (area, note, len(an.did))
