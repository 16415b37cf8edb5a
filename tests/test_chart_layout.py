"""Chart margins from measured text (helpers.report.layout), checked against matplotlib's own
bounding boxes: every chart kind, with hostile text (long titles and category names, long
legend labels, large numbers, point labels at the edges), keeps its title, tick labels,
axis labels, legend and point labels inside the figure and clear of the source line, and
sits within a few points of where matplotlib's tight layout would put it."""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text

from helpers.report import charts, layout

LONG = ("Referral ratio of every practice in a very long-named network of practices, "
        "Synthetic Integrated Care Board of the North East and North Cumbria, 2023-24")
NAMES = ["Trauma and Orthopaedics (all first outpatient attendances, adults)",
         "Ear, Nose and Throat", "Aligned payment (75% above plan) (full-year)", "x"]


def _funnel():
    rng = np.random.default_rng(1)
    n = 60
    den = np.exp(rng.uniform(np.log(20), np.log(8000), n))
    rr = np.exp(rng.normal(0, 0.2, n))
    rr[np.argmax(den)] = 3.4                       # an outlier at the right and top edges
    flag = np.where(rr > 1.6, "High", np.where(rr < 0.6, "Low", "Within"))
    pts = pd.DataFrame({"denominator": den, "rr": rr, "flag": flag})
    xs = np.exp(np.linspace(np.log(10), np.log(10000), 50))
    curve = pd.DataFrame({"denominator": xs, "ucl95": 1 + 2 / np.sqrt(xs),
                          "lcl95": 1 - 2 / np.sqrt(xs), "ucl99": 1 + 3 / np.sqrt(xs),
                          "lcl99": np.maximum(1 - 3 / np.sqrt(xs), 0)})
    labels = pd.Series([f"Practice with a long name {i}" for i in range(n)])
    return charts.funnel_chart(pts, curve, LONG, "test", "alt", labels=labels,
                               xlabel="Expected referrals a year (count, log scale)")


def _ranked():
    n = 150
    r = np.linspace(0.5, 1.8, n)
    t = pd.DataFrame({"ratio": r, "range_low": r * 0.8, "range_high": r * 1.2,
                      "flag": np.where(r > 1.5, "High", "Within")})
    return charts.ranked_chart(t, LONG, "test", "alt")


def _spc():
    d = pd.date_range("2019-04-01", periods=48, freq="MS")
    y = 300 + 10 * np.sin(np.arange(48))
    p = pd.DataFrame({"date": d, "y": y, "mean": 300.0, "upl": 330.0, "lpl": 270.0,
                      "point_type": ["special_cause_concern"] + ["common_cause"] * 47})
    return charts.spc_chart(p, "Monthly referrals", "test", "alt")


def _bars(values=(1_250_000, 40_000, -3_000, 12)):
    return charts.bar_chart(NAMES, values, LONG, "Saving to the commissioner (£)",
                            "Contract form and period", "test", "alt")


def _interval():
    return charts.interval_chart(NAMES, [0.1, -0.2, 0.0, 0.3], [0, -0.3, -0.1, 0.1],
                                 [0.2, -0.1, 0.1, 0.5], "Effects", "Effect (ratio)",
                                 "Group", "test", "alt", truth=[0.1, -0.2, 0.0, 0.3])


def _scatter_big_numbers():
    x = np.linspace(1e6, 9e6, 30)
    return charts.scatter_chart(x, x * 1e3 + 5e9, "Big numbers", "Patients (count)",
                                "Payment (£)", "test", "alt",
                                line=(x, x * 1e3 + 5e9, "A reference line with a long "
                                                        "legend label for the right"))


def _lines():
    x = np.arange(2015, 2025)
    return charts.lines_chart(x, {f"Series {k} with a long label": x * k for k in range(7)},
                              "Lines", "Year", "Referrals (count)", "test", "alt")


def _curve():
    xs = np.exp(np.linspace(np.log(1000), np.log(40000), 40))
    c = pd.DataFrame({"x": xs, "fit": 1.0 + 0 * xs, "lower": 0.9 + 0 * xs,
                      "upper": 1.1 + 0 * xs})
    p = pd.DataFrame({"x": [1500.0, 30000.0], "y": [0.8, 1.3]})
    return charts.curve_chart(c, "Curve", "List size (patients, log scale)",
                              "Referral ratio", "test", "alt", points=p)


def _event():
    es = pd.DataFrame({"event_month": np.arange(-12, 13), "att": 0.0, "lower": -0.1,
                       "upper": 0.1})
    return charts.event_study_chart(es, "Event study", "test", "Effect (change)", "alt",
                                    truth=-0.05)


def _spine():
    rows = pd.DataFrame({"indicator": NAMES, "p5": 0.6, "p25": 0.8, "p75": 1.2, "p95": 1.5,
                         "ratio": [0.9, 1.3, 0.0, 1.0], "verdict": ["lower", "higher",
                                                                     "similar", "no test"],
                         "expected": 100.0, "network": 1.1, "commissioner": 0.95})
    return charts.spine_chart(rows, LONG, "test", "alt", area_label="Practice A81011")


def _spine_one_row():
    rows = pd.DataFrame({"indicator": ["All referrals"], "p5": 0.6, "p25": 0.8, "p75": 1.2,
                         "p95": 1.5, "ratio": [0.9], "verdict": ["lower"], "expected": 100.0,
                         "network": 1.1, "similar": 1.05, "commissioner": 0.95})
    return charts.spine_chart(rows, "Referral profile of Practice A81011", "test", "alt",
                              area_label="Practice A81011")


def _interval_one_row():
    return charts.interval_chart(["A single group with a long name"], [0.1], [0.0], [0.2],
                                 "One effect", "Effect (ratio)", "Group", "test", "alt",
                                 truth=[0.1])


def _histogram():
    return charts.histogram(np.random.default_rng(2).normal(100, 10, 500), "Spread",
                            "Referrals per 1,000 patients", "Practices (count)", "test",
                            "alt")


KINDS = {"funnel": _funnel, "ranked": _ranked, "spc": _spc, "bars": _bars,
         "bars_small": lambda: _bars((0.2, 0.1, 0.0, 0.3)), "interval": _interval,
         "scatter_big_numbers": _scatter_big_numbers, "lines": _lines, "curve": _curve,
         "event_study": _event, "spine": _spine, "histogram": _histogram,
         "spine_one_row": _spine_one_row, "interval_one_row": _interval_one_row,
         "bars_very_long_name": lambda: charts.bar_chart(
             ["A specialty name an analyst's own extract spells out in full, " * 6, "B"],
             [1.0, 2.0], "Referrals by specialty", "Referrals (count)", "Specialty", "test",
             "alt")}


def _extents(fig):
    """Matplotlib's own bounding boxes (Agg renderer, points): the axes with everything it
    draws or lays out (title, ticks, labels, legend, annotations) and the source line."""
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    k = 72 / fig.dpi
    box = ax.get_tightbbox(r)
    source = next(t for t in fig.texts if t.get_text().startswith("Source:"))
    sb = source.get_window_extent(r)
    return ([box.x0 * k, box.y0 * k, box.x1 * k, box.y1 * k],
            [sb.x0 * k, sb.y0 * k, sb.x1 * k, sb.y1 * k])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_nothing_is_clipped_and_the_source_line_stands_clear(kind):
    charts.setup()
    fig = KINDS[kind]()
    W, H = fig.get_figwidth() * 72, fig.get_figheight() * 72
    (x0, y0, x1, y1), src = _extents(fig)
    assert x0 >= 0 and y0 >= 0, f"{kind}: drawn past the left or bottom edge"
    assert x1 <= W + 0.5 and y1 <= H + 0.5, f"{kind}: drawn past the right or top edge " \
                                            f"({x1:.1f} of {W:.0f}, {y1:.1f} of {H:.0f})"
    assert src[3] <= y0 + 0.5, f"{kind}: the source line runs into the chart above it"
    plt.close(fig)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_margins_are_close_to_matplotlibs_tight_layout(kind):
    """Within 12 points a side of tight_layout (which leaves no room for the source line,
    so the foot is compared after the pack's own source-line allowance)."""
    charts.setup()
    fig = KINDS[kind]()
    W, H = fig.get_figwidth() * 72, fig.get_figheight() * 72
    p = fig.subplotpars
    ours = np.array([p.left * W, (1 - p.right) * W, p.bottom * H, (1 - p.top) * H])
    fig.tight_layout()
    p = fig.subplotpars
    theirs = np.array([p.left * W, (1 - p.right) * W, p.bottom * H + 0.035 * H,
                       (1 - p.top) * H])
    assert np.all(np.abs(ours - theirs) <= 12), f"{kind}: margins l, r, b, t {ours.round(1)}" \
                                                 f" against tight layout {theirs.round(1)}"
    plt.close(fig)


def test_long_titles_wrap_to_the_width_beside_wide_category_labels():
    charts.setup()
    fig = _bars()
    title = fig.axes[0].get_title(loc="left")
    assert "\n" in title and " ".join(title.split()) == " ".join(LONG.split())
    r = fig.canvas.get_renderer()
    head = fig.axes[0]._left_title.get_window_extent(r)
    assert head.x1 <= fig.bbox.width and head.x0 >= fig.axes[0].bbox.x0 - 1
    plt.close(fig)


@pytest.mark.parametrize("text", ["0.8", "1,000", "Referral ratio, observed / expected",
                                  "Ophthalmology", "£1.2m", "two\nlines of text"])
@pytest.mark.parametrize("size", [7.5, 9, 12])
def test_text_sizes_agree_with_the_svg_backends_own_text_box(text, size):
    """Against the box matplotlib lays out for the text when writing SVG (the pack's
    charts), within half a point. (The raster backend's hinted text is up to 8% wider at
    small sizes; the clipping test above checks the charts with that wider measure.)"""
    import io

    from matplotlib.backends.backend_svg import RendererSVG

    fig = plt.figure(dpi=72)
    prop = FontProperties(size=size)
    t = Text(0, 0, text, fontproperties=prop, figure=fig)
    svg = t.get_window_extent(RendererSVG(100, 100, io.StringIO()))
    w, h = layout.text_size(text, prop)
    assert w == pytest.approx(svg.width, abs=0.5)
    assert h == pytest.approx(svg.height, abs=0.5)
    plt.close(fig)


def test_wrap_keeps_every_word_and_each_line_within_the_width():
    prop = FontProperties(size=12, weight="bold")
    out = layout.wrap(LONG, prop, 300)
    assert out.split() == LONG.split()
    assert all(layout.text_size(line, prop)[0] <= 300 for line in out.split("\n")
               if " " in line)
    assert layout.wrap("Supercalifragilistic", prop, 10) == "Supercalifragilistic"


def test_numeric_axes_have_few_round_ticks_with_thousands_separators():
    """At most six labelled ticks on a linear numeric axis; labels as the pack writes
    numbers (1,000; −2,500), never an offset or scientific notation to undo."""
    charts.setup()
    fig = _scatter_big_numbers()
    fig.canvas.draw()
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        lo, hi = sorted(axis.get_view_interval())
        shown = [t.get_text() for t, loc in zip(axis.get_ticklabels(), axis.get_ticklocs(),
                                                strict=True) if lo <= loc <= hi]
        assert 2 <= len(shown) <= charts.TICKS + 1
        assert all("e" not in s and "," in s for s in shown if s not in ("0", "")), shown
        assert axis.get_major_formatter().get_offset() == ""
    plt.close(fig)
    f = charts._Plain()
    f.set_locs([-2500, 0, 2500])
    assert [f(v) for v in (-2500, 0, 2500)] == ["−2,500", "0", "2,500"]


@pytest.mark.parametrize("months, start", [(23, "2014-05-01"), (9, "2014-05-01"),
                                           (34, "2014-07-01"), (60, "2014-04-01")])
def test_month_axes_are_labelled_as_months_not_iso_dates(months, start):
    """An interrupted time series of 23 months was ticked '2014-05', '2014-09' … (read as
    a range, or a subtraction): a date axis now reads 'Jul 2014' (or '2015' when every
    tick is a January), at most six ticks, each on the first of a month."""
    import re

    charts.setup()
    m = pd.date_range(start, periods=months, freq="MS")
    s = pd.DataFrame({"month": m, "observed": np.linspace(1, 2, months),
                      "fitted": np.linspace(1, 2, months),
                      "counterfactual": np.linspace(1, 2, months)})
    fig = charts.its_chart(s, m[months // 2], "t", "src", "y", "alt")
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = sorted(ax.xaxis.get_view_interval())
    shown = [t.get_text() for t, loc in zip(ax.get_xticklabels(), ax.get_xticks(),
                                            strict=True) if lo <= loc <= hi]
    plt.close(fig)
    assert 2 <= len(shown) <= charts.TICKS + 1 and len(set(shown)) == len(shown)
    assert all(re.fullmatch(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d"
                            r"|20\d\d", t) for t in shown), shown


def test_spine_chart_ratio_ticks_never_touch_on_a_narrow_axis():
    """A spine chart with long indicator names and a long legend has narrow axes: its ratio
    ticks read '0.670.8' and '1.251.5'. Ticks whose labels would touch are left out,
    outward from 1, which is always kept."""
    charts.setup()
    rows = pd.DataFrame({
        "indicator": ["Chronic obstructive pulmonary disease register (QOF), 2020/21",
                      "Hypertension register (QOF), 2020/21"],
        "p5": [0.35, 0.6], "p25": [0.7, 0.8], "p75": [1.2, 1.1], "p95": [1.9, 1.5],
        "ratio": [1.1, 0.9], "verdict": ["higher", "lower"], "expected": [100, 100],
        "network": [1.0, 1.0], "similar": [1.1, 1.0], "commissioner": [1.0, 1.0]})
    fig = charts.spine_chart(rows, "Real indicators against England's practices, a practice",
                             "src", "alt", area_label="This practice: a long legend label")
    fig.canvas.draw()
    ax = fig.axes[0]
    boxes = sorted((t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()),
                   key=lambda b: b.x0)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)
    assert "1" in labels and len(boxes) >= 3
    assert all(a.x1 < b.x0 for a, b in zip(boxes[:-1], boxes[1:], strict=True)), labels


def test_a_very_long_category_name_wraps_and_the_axes_stay_on_the_figure():
    charts.setup()
    fig = KINDS["bars_very_long_name"]()
    p = fig.subplotpars
    assert 0 < p.left < 0.6 and p.left < p.right <= 1
    first = fig.axes[0].get_yticklabels()[0].get_text()
    assert "\n" in first and " ".join(first.split()) == " ".join(
        ("A specialty name an analyst's own extract spells out in full, " * 6).split())
    plt.close(fig)


def _label_boxes(fig) -> dict:
    """Boxes (points) of the axis labels and the title as the SVG backend draws them."""
    import io

    from matplotlib.backends.backend_svg import RendererSVG

    fig.set_dpi(72)
    r = RendererSVG(fig.bbox.width, fig.bbox.height, io.StringIO())
    fig.draw(r)
    ax = fig.axes[0]
    return {name: t.get_window_extent(r) for name, t in
            (("x label", ax.xaxis.label), ("y label", ax.yaxis.label),
             ("title", ax._left_title))}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_axis_labels_and_title_sit_where_matplotlib_would_place_them(kind):
    """The layout places the axis labels and the title itself (so drawing does not measure
    every tick label again); the same chart with matplotlib's automatic placement put back
    has them within a point of the same place."""
    from matplotlib.transforms import IdentityTransform, blended_transform_factory

    charts.setup()
    ours = _label_boxes(KINDS[kind]())
    fig = KINDS[kind]()
    ax = fig.axes[0]
    ax.xaxis.label.set_transform(blended_transform_factory(ax.transAxes, IdentityTransform()))
    ax.yaxis.label.set_transform(blended_transform_factory(IdentityTransform(), ax.transAxes))
    ax.xaxis._autolabelpos = ax.yaxis._autolabelpos = ax._autotitlepos = True
    auto = _label_boxes(fig)
    for name, box in ours.items():
        assert np.allclose(box.extents, auto[name].extents, atol=1.0), \
            f"{kind}: {name} at {box.extents.round(1)}, automatic {auto[name].extents.round(1)}"
    plt.close("all")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_pack_canvas_writes_the_same_svg_as_matplotlibs(kind):
    """Charts are written by :mod:`helpers.report.svg_canvas` (text measures kept across
    charts); the SVG is matplotlib's own, byte for byte, drawn the second time, when every
    measure comes from the kept ones."""
    import io

    from helpers.report import svg_canvas

    charts.setup()
    fig = KINDS[kind]()
    meta = {"Date": None, "Creator": None, "Format": None, "Type": None}
    own = io.StringIO()
    fig.savefig(own, format="svg", metadata=meta)
    for _ in range(2):
        pack = io.StringIO()
        fig.savefig(pack, format="svg", metadata=meta, backend=svg_canvas.BACKEND)
        assert pack.getvalue() == own.getvalue()
    assert svg_canvas._measure.cache_info().hits > 0
    plt.close(fig)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_point_labels_and_the_legend_do_not_overlap(kind):
    """A point label reaching past the axes' right edge beside the legend (the funnel's
    most extreme practice at the top right) pushes the legend further right (boxes as
    the SVG backend, which draws the pages' charts, lays the text out)."""
    import io

    from matplotlib.backends.backend_svg import RendererSVG

    charts.setup()
    fig = KINDS[kind]()
    ax = fig.axes[0]
    legend = ax.get_legend()
    notes = [t for t in ax.texts if t.get_text()]
    if legend is None or not notes:
        plt.close(fig)
        return
    fig.set_dpi(72)
    r = RendererSVG(fig.bbox.width, fig.bbox.height, io.StringIO())
    fig.draw(r)
    box = legend.get_window_extent(r)
    for t in notes:
        assert not box.overlaps(t.get_window_extent(r)), \
            f"{kind}: point label {t.get_text()!r} runs into the legend"
    plt.close(fig)
