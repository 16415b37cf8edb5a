"""House chart style: every chart has a title, axis labels with units, a source line and
alt text, keeps its legend off the data, and fits its axes to the data.

Charts are inline SVG (the inline backend, text kept as text), so rendered reports are
self-contained, sharp at any zoom and print, and a reader can interrogate the points that
identify units: :func:`name_points` gives each point of a scatter a name that hovering or
keyboard focus shows on the page (an SVG ``<title>`` and ``aria-label``; the page's small
inline script shows it beside the point), with no CDN and the static view unchanged. SVG
was chosen by measurement over PNG: 45% less drawing time and half the bytes on the same six
charts (``docs/benchmarks.md``). Chart functions take tidy frames from the analysis helpers
and return the matplotlib Figure; the alt text travels with the SVG (display metadata) into
the chart's ``aria-label``. A chart with nothing to show is an error here, so a report says
so in words instead of drawing empty axes.
"""

from __future__ import annotations

import html
import io
import itertools
import re

import matplotlib
import matplotlib.dates
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers import disclosure
from helpers.report import layout, svg_canvas

NHS_BLUE = "#005EB8"
DARK = "#425563"
GREY = "#768692"
RED = "#DA291C"
ORANGE = "#ED8B00"
GREEN = "#009639"
PURPLE = "#7C2855"
PALE = "#E8EDEE"
PALETTE = [NHS_BLUE, RED, ORANGE, GREEN, PURPLE, DARK, GREY]


class EmptyChartError(ValueError):
    """A chart was asked to draw nothing."""


MAX_NAMED = 1000
"""Most points one chart names for hover and focus (more would make a page heavy and a
keyboard reader tab through thousands of points; the area's tables list them all)."""
_STATE = {"chart_ids": itertools.count(1)}
"""Charts drawn since the report started (:func:`setup`): numbers each chart's SVG ids, so
ids are unique on a page and the same in every run."""
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_MARKS = {tag: re.compile(rf"<({tag})\b([^>]*?)\s*/>") for tag in ("use", "path")}


MAX_VECTOR = 1000
"""Most marks (points, or lines of one collection) a chart draws as vectors; a denser
cloud (England's 6,500 practices) is drawn as an image inside the SVG, with the axes, text
and every named point still vectors, so a national page stays under its size budget (the
funnel alone was 1.5 MB of SVG)."""


def _rasterise_dense(ax: plt.Axes) -> None:
    from matplotlib.collections import LineCollection

    for c in ax.collections:
        if isinstance(c, PathCollection):
            n = len(c.get_offsets())
        elif isinstance(c, LineCollection):
            n = len(c.get_segments())
        else:
            continue
        if n > MAX_VECTOR:
            c.set_rasterized(True)


def name_points(ax: plt.Axes, artist: PathCollection, names) -> None:
    """Name each point a scatter draws (in the order of its data), so that hovering or
    focusing it on the page says which unit it is and its values. Charts naming more than
    ``MAX_NAMED`` points leave them unnamed."""
    names = [str(n) for n in names]
    if not names or len(names) > MAX_NAMED:
        return
    fig = ax.figure
    named = getattr(fig, "_pack_named", {})
    gid = f"pack-pts-{len(named)}"
    artist.set_gid(gid)
    fig._pack_named = {**named, gid: names}


def _named_group(svg: str, gid: str, names: list[str], stop: bool = True) -> str:
    """Give the ``k``-th marker of the group ``gid`` the ``k``-th name: a ``<title>``
    (hover, and its accessible name once the page's script has made it a ``role="img"``
    element: the role, like the other points' ``tabindex``, is set at load rather than
    written on each of hundreds of points) and the class ``pack-pt`` (the page's script
    shows the title on hover and focus); the first is a tab stop when
    ``stop`` (the chart's first named group) and the others are reached with the arrow
    keys, so a keyboard reader passes a chart in one press instead of one per practice."""
    start = svg.find(f'<g id="{gid}"')
    if start < 0:
        return svg
    end, depth = start, 0
    for m in re.finditer(r"<g\b|</g>", svg[start:]):      # the group's own closing tag
        depth += 1 if m.group(0) == "<g" else -1
        if depth == 0:
            end = start + m.end()
            break
    marks = iter(enumerate(names))

    def label(m: re.Match) -> str:
        k, name = next(marks, (None, None))
        if name is None:
            return m.group(0)
        e = html.escape(name, quote=True)
        # one tab stop a group; the arrow keys move between its points (the page's script)
        # (the others get tabindex="-1" from the page's script, which moves between them)
        tab = ' tabindex="0"' if k == 0 and stop else ""
        return (f'<{m.group(1)}{m.group(2)} class="pack-pt"{tab}>'
                f'<title>{e}</title></{m.group(1)}>')

    group = svg[start:end]
    # markers drawn by reference (<use> of a <defs> shape), or one <path> each
    mark = _MARKS["use"] if "<use" in group else _MARKS["path"]
    return svg[:start] + mark.sub(label, group) + svg[end:]


def _svg_with_alt(fig: Figure):
    """The figure as inline SVG (text as text, no dates, ids unique on the page, written
    small: :func:`helpers.report.svg_canvas.compact`), with its alt text as ``aria-label``
    and its named points; display metadata carries the alt text and what :func:`finish`
    read back."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", backend=svg_canvas.BACKEND,
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = _METADATA.sub("", svg[svg.index("<svg"):])
    prefix = f"c{next(_STATE['chart_ids'])}-"
    for gid, names in getattr(fig, "_pack_named", {}).items():
        # one tab stop a chart: the first named point drawn; the arrow keys reach the rest
        svg = _named_group(svg, gid, names, stop='tabindex="0"' not in svg)
    # ids unique on the page: compact gives each id something refers to a short one under
    # the chart's prefix, and drops the others
    svg = svg_canvas.compact(svg, prefix)
    alt = getattr(fig, "_pack_alt", "") or ""
    svg = svg.replace("<svg ", f'<svg class="pack-chart" role="img" '
                      f'aria-label="{html.escape(alt, quote=True)}" ', 1)
    return svg, {"alt": alt, **getattr(fig, "_pack_meta", {})}


def _values(ax: plt.Axes) -> np.ndarray:
    """Every value the axes draw along their value axis (y, or x for horizontal charts):
    lines, points, line collections, bars and bands."""
    col = 0 if getattr(ax, "_pack_horizontal", False) else 1
    vals = [np.asarray(line.get_xydata(), float)[:, col] for line in ax.lines
            if len(line.get_xydata())]
    for c in ax.collections:
        off = np.asarray(c.get_offsets(), float)
        if off.ndim == 2 and len(off):
            vals.append(off[:, col])
        if isinstance(c, PathCollection):      # its paths are marker shapes, not data
            continue
        for path in c.get_paths():
            if len(path.vertices):
                vals.append(np.asarray(path.vertices, float)[:, col])
    for patch in ax.patches:
        bb = patch.get_bbox()
        vals.append(np.array([bb.x0, bb.x1] if col == 0 else [bb.y0, bb.y1]))
    vals = [v[np.isfinite(v)] for v in vals]
    vals = [v for v in vals if len(v)]
    return np.concatenate(vals) if vals else np.array([])


def declare_counts(ax: plt.Axes, artist, per_unit, axis: str = "y") -> None:
    """Say that what ``artist`` draws along ``axis`` ("x" or "y") stems from counts of
    people or events, ``per_unit`` counts per unit drawn (a number, or one per point: the
    expected count for a ratio, 1,000 for thousands). :func:`finish` reads the drawn values
    back and records how many imply a count publish mode would not show
    (:func:`helpers.disclosure.unpublished`); the post-run check fails such a chart in
    publish mode."""
    if not hasattr(ax, "_pack_counts"):
        ax._pack_counts = []
    ax._pack_counts.append((artist, per_unit, axis))


def _drawn(artist, axis: str) -> np.ndarray:
    """The values an artist draws along one axis, as drawn (NaN where a gap)."""
    col = 0 if axis == "x" else 1
    if isinstance(artist, Line2D):
        data = artist.get_xdata() if col == 0 else artist.get_ydata()
        return np.asarray(pd.to_numeric(pd.Series(np.asarray(data)), errors="coerce"), float)
    if isinstance(artist, PathCollection):
        off = np.ma.asarray(artist.get_offsets(), dtype=float)
        return np.ma.filled(off[:, col], np.nan) if off.ndim == 2 and len(off) else \
            np.array([])
    if isinstance(artist, BarContainer):
        return np.array([p.get_width() if col == 0 else p.get_height()
                         for p in artist.patches], float)
    raise TypeError(f"cannot read back a {type(artist).__name__}")


def _unpublished(ax: plt.Axes) -> list[float]:
    """Counts implied by the values drawn (read back from the artists) that publish mode
    would not show: neither a gap, 0, nor a multiple of 5 of at least 10."""
    out: list[float] = []
    for artist, per_unit, axis in getattr(ax, "_pack_counts", []):
        v = _drawn(artist, axis)
        pu = np.broadcast_to(np.asarray(per_unit, float), v.shape)
        out += [round(float(v[i] * pu[i]), 2) for i in disclosure.unpublished(v, pu)]
    return out


def _points_outside(ax: plt.Axes) -> int:
    """Points (scatter markers) drawn outside the axes' limits: an area's own unit the reader
    cannot see. Lines and bands may be cut by the axes; points may not."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    n = 0
    for c in ax.collections:
        if not isinstance(c, PathCollection):
            continue
        off = np.ma.filled(np.ma.asarray(c.get_offsets(), dtype=float), np.nan)
        if off.ndim != 2 or not len(off):
            continue
        x, y = off[:, 0], off[:, 1]
        ok = np.isfinite(x) & np.isfinite(y)
        n += int((ok & ((x < x0) | (x > x1) | (y < y0) | (y > y1))).sum())
    return n


def setup() -> None:
    """Force the inline backend in a kernel (an inherited MPLBACKEND=Agg would silently drop
    every chart), draw charts as SVG with their alt text, and set the house style."""
    _STATE["chart_ids"] = itertools.count(1)
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None and getattr(ip, "kernel", None) is not None:
            ip.run_line_magic("matplotlib", "inline")
            formatters = ip.display_formatter.formatters
            for mime in ("image/png", "image/jpeg", "application/pdf"):
                formatters[mime].type_printers.pop(Figure, None)
            formatters["image/svg+xml"].for_type(Figure, _svg_with_alt)
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass
    matplotlib.rcParams.update({
        "figure.figsize": (9, 4.6), "figure.dpi": 90, "savefig.dpi": 90,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "axes.titlesize": 12, "axes.labelsize": 10, "font.size": 9,
        "axes.grid": True, "grid.color": PALE, "legend.frameon": False,
        "svg.hashsalt": "pack", "svg.fonttype": "none", "path.simplify": True,
        "text.usetex": False,
    })


def _plain(text: str) -> str:
    """Text from data shown literally: a '$' would otherwise start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def _thousands(axis) -> None:
    """Plain tick labels with thousands separators (1,000 not 10³) on a log axis, at 1, 2
    and 5 times each power of ten; no unlabelled minor ticks (they add clutter, and each
    tick costs drawing time in every report)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_locator(NullLocator())


TICKS = 5
"""Most intervals between labelled ticks on a numeric axis (so at most six labels): enough
to read a value off the scale, as in most published statistical charts; matplotlib's
default packs up to ten, each one a tick, a grid line and a label to build and draw."""


class _Plain(matplotlib.ticker.ScalarFormatter):
    """Tick labels as the pack writes numbers: thousands separators (1,000 as in its
    tables and text), no offset or scientific notation a board reader would have to undo."""

    def __init__(self):
        super().__init__(useOffset=False)
        self.set_scientific(False)

    def __call__(self, x, pos=None):
        label = super().__call__(x, pos)
        whole, dot, frac = label.partition(".")
        return re.sub(r"(\d)(?=(\d{3})+$)", r"\1,", whole) + dot + frac


class _Months(matplotlib.ticker.Formatter):
    """Date ticks as the pack writes months: 'Apr 2015' (not matplotlib's '2015-04', which
    reads as a range or a subtraction), or the year alone when every tick is a January."""

    def __call__(self, x, pos=None):
        return f"{matplotlib.dates.num2date(x):%b %Y}"

    def format_ticks(self, values):
        days = [matplotlib.dates.num2date(v) for v in values]
        if days and all(d.month == 1 and d.day == 1 for d in days):
            return [f"{d:%Y}" for d in days]
        return [f"{d:%b %Y}" for d in days]


def _month_ticks(axis) -> None:
    """A date axis: at most :data:`TICKS` + 1 ticks on the first of a month, every 1, 3, 6
    or 12 months (quarters and half-years fall on April and October, as financial years
    do), labelled by :class:`_Months`."""
    from matplotlib.dates import MONTHLY, AutoDateLocator

    loc = AutoDateLocator(minticks=3, maxticks=TICKS + 1)
    loc.intervald[MONTHLY] = [1, 3, 6]
    axis.set_major_locator(loc)
    axis.set_major_formatter(_Months())


def _few_ticks(ax: plt.Axes) -> None:
    """At most :data:`TICKS` intervals on each linear numeric axis, at round steps (1, 2,
    2.5 or 5 times a power of ten), labelled as :class:`_Plain`; date axes in months
    (:func:`_month_ticks`); log and category axes keep their own ticks."""
    from matplotlib.dates import AutoDateLocator
    from matplotlib.ticker import AutoLocator, MaxNLocator, ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        if type(axis.get_major_locator()) is AutoDateLocator:
            _month_ticks(axis)
            continue
        if type(axis.get_major_locator()) is AutoLocator:
            axis.set_major_locator(MaxNLocator(nbins=TICKS, steps=[1, 2, 2.5, 5, 10]))
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(_Plain())


def finish(fig: Figure, ax: plt.Axes, title: str, xlabel: str, ylabel: str, source: str,
           alt: str, legend: bool = True, watermark: str = "",
           nonnegative: bool | None = None) -> Figure:
    """Apply the title, axis labels (with units), source line and alt text every chart
    carries; put any legend outside the plotting area; refuse empty axes.

    ``nonnegative`` says the quantity drawn cannot be below zero (default: guessed from
    the axis label: counts, rates, ratios, £ per patient, FTE, shares); the report lint
    fails a chart that draws such a quantity below zero."""
    if not (title and xlabel and ylabel and source and alt):
        raise ValueError("every chart needs a title, both axis labels, a source line and "
                         "alt text")
    if not (ax.lines or ax.collections or ax.patches or ax.images):
        raise EmptyChartError(f"chart '{title}' has nothing to draw")
    # long area names would run the title off the figure: the layout wraps it to the width
    # from the axes' left edge to the figure's right
    head = ax.set_title(_plain(title), loc="left", y=1.0)   # placed by the layout
    ax.set_xlabel(_plain(xlabel))
    ax.set_ylabel(_plain(ylabel))
    if ax.get_xscale() == "log" and not getattr(ax, "_pack_ticks_set", False):
        _thousands(ax.xaxis)
    _few_ticks(ax)
    handles, labels = ax.get_legend_handles_labels()
    if legend and labels:
        ax.legend(handles, [_plain(x) for x in labels], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    # dark grey: 7.6:1 on white (the mid grey was 3.7:1, under WCAG's 4.5:1 for small text)
    foot = fig.text(0.01, 0.005, _plain(f"Source: {source}"), fontsize=7.5, color=DARK,
                    ha="left", va="bottom")
    if watermark:
        fig.text(0.5, 0.5, watermark, fontsize=22, color=RED, alpha=0.13, ha="center",
                 va="center", rotation=20, weight="bold")
    # margins from the text's sizes, measured once (:mod:`helpers.report.layout`); with no
    # layout engine on the figure, printing it draws once
    layout.fit(fig, ax, head, foot)
    fig.set_layout_engine(None)
    _rasterise_dense(ax)
    values = _values(ax)
    if nonnegative is None:
        nonnegative = not any(w in (xlabel + " " + ylabel).lower() for w in NEGATIVE_OK)
    fig._pack_alt = alt
    bad = _unpublished(ax)
    fig._pack_meta = {"nonnegative": bool(nonnegative),
                      "data_min": float(values.min()) if len(values) else None,
                      "n_values": int(len(values)),
                      "counts_declared": bool(getattr(ax, "_pack_counts", [])),
                      "points_outside": _points_outside(ax),
                      "unpublished_counts": len(bad), "unpublished_examples": bad[:3]}
    return fig


NEGATIVE_OK = ("effect", "change", "saving", "margin", "difference", "months since",
               "quarters since", "years since")
"""Axis words of quantities that may be negative (everything else drawn must be ≥ 0)."""


def _pad(lo: float, hi: float, share: float = 0.06) -> tuple[float, float]:
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - share * span, hi + share * span


def funnel_chart(points: pd.DataFrame, curve: pd.DataFrame, title: str, source: str,
                 alt: str, limit: str = "99.8", labels: pd.Series | None = None,
                 max_labels: int = 12, xlabel: str = "Expected referrals (count, log scale)",
                 ylabel: str = "Referral ratio, observed / expected",
                 highlight: pd.Series | None = None, watermark: str = "") -> Figure:
    """Funnel plot: ratios (``rr``) against expected counts (``denominator``) with 95% and
    99.8% limits; ``flag`` ("High", "Low", "Within") says which side of the ``limit`` limits
    a point lies. Axes fit the practices shown; the most extreme flagged practices are
    labelled (``labels``: text per point); ``highlight`` marks points to pick out (a
    practice among its peers), drawn as a black diamond and always labelled. A ratio stems
    from a count: ``per_unit`` (default ``denominator``) is each point's expected count over
    the period its ratio covers, declared for the disclosure read-back. A ``name`` column
    names each point for hover and focus (:func:`name_points`)."""
    if points.empty:
        raise EmptyChartError(f"chart '{title}' has no practices")
    fig, ax = plt.subplots()
    per_unit = points["per_unit"] if "per_unit" in points else points["denominator"]

    def dots(sel, **kw):
        sc = ax.scatter(points.loc[sel, "denominator"], points.loc[sel, "rr"], **kw)
        declare_counts(ax, sc, per_unit[sel].to_numpy(float))
        if "name" in points:
            name_points(ax, sc, points.loc[sel, "name"])

    x_lo, x_hi = points["denominator"].min(), points["denominator"].max()
    c = curve[(curve["denominator"] >= x_lo / 1.15) & (curve["denominator"] <= x_hi * 1.15)]
    ax.plot(c["denominator"], c["ucl99"], color=DARK, lw=1, ls="--", label="99.8% limits")
    ax.plot(c["denominator"], c["lcl99"], color=DARK, lw=1, ls="--")
    ax.plot(c["denominator"], c["ucl95"], color=GREY, lw=1, label="95% limits")
    ax.plot(c["denominator"], c["lcl95"], color=GREY, lw=1)
    ax.axhline(1.0, color=DARK, lw=0.8)
    # a highlighted point is drawn once, as its diamond (a dot under it would be hidden and
    # a second stop with the same name for a keyboard)
    picked = highlight.to_numpy(bool) if highlight is not None else np.zeros(len(points), bool)
    high = (points["flag"] == "High") & ~picked
    low = (points["flag"] == "Low") & ~picked
    dots(~high & ~low & ~picked, s=14, color=NHS_BLUE, alpha=0.7,
         label=f"Practice within {limit}% limits")
    if high.any():
        dots(high, s=24, color=RED, label=f"Above {limit}% limit")
    if low.any():
        dots(low, s=24, color=ORANGE, label=f"Below {limit}% limit")
    if highlight is not None and highlight.any():
        hp = points[highlight.to_numpy()]
        dots(highlight.to_numpy(), s=70, marker="D", color="black", zorder=4,
             label="This practice")
        for i, r in hp.iterrows():
            ax.annotate(_plain(labels.loc[i]) if labels is not None else "",
                        (r["denominator"], r["rr"]), fontsize=8, xytext=(6, 6),
                        textcoords="offset points", weight="bold")
        labels = None
    ax.set_xscale("log")
    ax.set_xlim(x_lo / 1.2, x_hi * 1.2)
    y = points["rr"].to_numpy(float)
    # y fits the practices and the limits over their range of expected counts
    lims = np.r_[y, c[["lcl95", "ucl95", "lcl99", "ucl99"]].to_numpy(float).ravel(), 1.0]
    lims = lims[np.isfinite(lims)]
    ax.set_ylim(*_pad(max(float(lims.min()), 0.0), float(lims.max())))
    if labels is not None and (high | low).any():
        flagged = points[high | low].assign(_far=lambda d: (np.log(d["rr"])).abs())
        flagged = flagged.sort_values("_far", ascending=False).head(max_labels)
        for k, (i, r) in enumerate(flagged.iterrows()):
            dy = 8 if k % 2 == 0 else -12
            ax.annotate(_plain(labels.loc[i]), (r["denominator"], r["rr"]), fontsize=7,
                        xytext=(4, dy), textcoords="offset points", color=DARK)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def ranked_chart(table: pd.DataFrame, title: str, source: str, alt: str,
                 limit: str = "99.8", ylabel: str = "Referral ratio, observed / expected",
                 watermark: str = "") -> Figure:
    """Practices ranked by ratio, each with the range its funnel limits allow
    (``range_low``–``range_high``: the ratio divided by the upper and lower limit at the
    practice's expected count), coloured by the same funnel flags (``flag``): a bar that
    misses 1 is exactly a practice outside the limits. Each ratio's expected count
    (``expected``, when given) is declared for the disclosure read-back; a ``name`` column
    names each point for hover and focus."""
    if table.empty:
        raise EmptyChartError(f"chart '{title}' has no practices")
    t = table.sort_values("ratio").reset_index(drop=True)
    fig, ax = plt.subplots()
    x = np.arange(len(t))
    colour = np.where(t["flag"] == "High", RED, np.where(t["flag"] == "Low", ORANGE,
                                                         NHS_BLUE))
    ax.vlines(x, t["range_low"], t["range_high"], color=colour, lw=1, alpha=0.8)
    for col, lab in ((NHS_BLUE, f"Within {limit}% limits"), (RED, f"Above {limit}% limit"),
                     (ORANGE, f"Below {limit}% limit")):
        sel = colour == col
        if sel.any():
            sc = ax.scatter(x[sel], t.loc[sel, "ratio"], s=10, color=col, zorder=3,
                            label=lab)
            if "expected" in t:
                declare_counts(ax, sc, t.loc[sel, "expected"].to_numpy(float))
            if "name" in t:
                name_points(ax, sc, t.loc[sel, "name"])
    ax.axhline(1.0, color=DARK, lw=0.8)
    ax.set_xticks([])
    ax.set_xlim(-1, len(t))
    return finish(fig, ax, title, "Practices, ranked by ratio", ylabel, source, alt,
                  watermark=watermark)


def spc_chart(points: pd.DataFrame, title: str, source: str, alt: str,
              ylabel: str = "Standardised referrals per 1,000 patients per year",
              watermark: str = "") -> Figure:
    """XmR chart with mean, process limits and special-cause points coloured; a
    ``per_unit`` column (counts per unit of ``y`` each month) declares the monthly values
    for the disclosure read-back."""
    if points.empty:
        raise EmptyChartError(f"chart '{title}' has no points")
    fig, ax = plt.subplots()
    (month,) = ax.plot(points["date"], points["y"], color=GREY, lw=1, marker="o", ms=3,
                       label="Month")
    if "per_unit" in points:
        declare_counts(ax, month, points["per_unit"].to_numpy(float))
    ax.step(points["date"], points["mean"], where="mid", color=DARK, lw=1, label="Mean")
    ax.step(points["date"], points["upl"], where="mid", color=DARK, lw=1, ls="--",
            label="Process limits")
    ax.step(points["date"], points["lpl"], where="mid", color=DARK, lw=1, ls="--")
    kinds = {"special_cause_improvement": (NHS_BLUE, "Special cause: improvement"),
             "special_cause_concern": (ORANGE, "Special cause: concern"),
             "special_cause_neutral_high": (PURPLE, "Special cause: high"),
             "special_cause_neutral_low": (GREEN, "Special cause: low")}
    for kind, (col, lab) in kinds.items():
        sel = points["point_type"] == kind
        if sel.any():
            ax.scatter(points.loc[sel, "date"], points.loc[sel, "y"], color=col, s=22,
                       zorder=3, label=lab)
    return finish(fig, ax, title, "Month", ylabel, source, alt, watermark=watermark)


def bar_chart(labels, values, title: str, xlabel: str, ylabel: str, source: str, alt: str,
              colour: str = NHS_BLUE, highlight=None, zero_line: bool = True,
              watermark: str = "", per_unit=None) -> Figure:
    """Horizontal bars, first label at the top; ``per_unit`` (counts per unit of value,
    one or per bar) declares bars that stem from counts for the disclosure read-back."""
    labels, values = list(labels), np.asarray(values, float)
    if not len(labels):
        raise EmptyChartError(f"chart '{title}' has no bars")
    fig, ax = plt.subplots(figsize=(9, max(2.6, 0.32 * len(labels) + 1.3)))
    y = np.arange(len(labels))[::-1]
    cols = [RED if (highlight is not None and h) else colour
            for h in (highlight if highlight is not None else [False] * len(labels))]
    bars = ax.barh(y, values, color=cols)
    if per_unit is not None:
        declare_counts(ax, bars, per_unit, axis="x")
    ax._pack_horizontal = True
    ax.set_yticks(y, [_plain(v) for v in labels])
    ax.grid(axis="y", visible=False)
    if zero_line:
        ax.axvline(0, color=DARK, lw=0.8)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def interval_chart(labels, est, lower, upper, title: str, xlabel: str, ylabel: str,
                   source: str, alt: str, reference: float | None = 0.0,
                   truth=None, watermark: str = "", per_unit=None) -> Figure:
    """Estimates with 95% intervals, one row each (first at the top); ``per_unit``
    (counts per unit of estimate, per row) declares estimates that stem from counts (a
    ratio's expected count) for the disclosure read-back."""
    labels = list(labels)
    if not len(labels):
        raise EmptyChartError(f"chart '{title}' has no estimates")
    est, lower, upper = (np.asarray(v, float) for v in (est, lower, upper))
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.45 * len(labels) + 1.3)))
    y = np.arange(len(labels))[::-1]
    ax._pack_horizontal = True
    ax.hlines(y, lower, upper, color=NHS_BLUE, lw=2, label="95% interval")
    dots = ax.scatter(est, y, color=NHS_BLUE, s=28, zorder=3, label="Estimate")
    if per_unit is not None:
        declare_counts(ax, dots, per_unit, axis="x")
    if truth is not None:
        ax.scatter(np.asarray(truth, float), y, marker="x", color=RED, s=40, zorder=4,
                   label="True effect (synthetic data)")
    if reference is not None:
        ax.axvline(reference, color=DARK, lw=0.8)
    ax.set_yticks(y, [_plain(v) for v in labels])
    ax.grid(axis="y", visible=False)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def scatter_chart(x, y, title: str, xlabel: str, ylabel: str, source: str, alt: str,
                  logx: bool = False, line=None, watermark: str = "", per_unit_x=None,
                  per_unit_y=None) -> Figure:
    """Points, optionally with a reference line ``line = (xs, ys, label)``;
    ``per_unit_x``/``per_unit_y`` declare coordinates that stem from counts (counts per
    unit, per point) for the disclosure read-back."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if not len(x):
        raise EmptyChartError(f"chart '{title}' has no points")
    fig, ax = plt.subplots()
    sc = ax.scatter(x, y, s=12, color=NHS_BLUE, alpha=0.6, label="Practice")
    for axis, pu in (("x", per_unit_x), ("y", per_unit_y)):
        if pu is not None:
            declare_counts(ax, sc, pu, axis=axis)
    if line is not None:
        ax.plot(line[0], line[1], color=DARK, lw=1, ls="--", label=line[2])
    if logx:
        ax.set_xscale("log")
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def lines_chart(x, series: dict, title: str, xlabel: str, ylabel: str, source: str,
                alt: str, watermark: str = "", per_unit: dict | None = None) -> Figure:
    """Several labelled lines against one x; ``per_unit`` (series label → counts per unit
    drawn) declares lines that stem from counts for the disclosure read-back."""
    if not series:
        raise EmptyChartError(f"chart '{title}' has no lines")
    fig, ax = plt.subplots()
    for (label, y), col in zip(series.items(), PALETTE * 3, strict=False):
        (line,) = ax.plot(x, y, label=label, color=col, lw=1.6)
        if per_unit and label in per_unit:
            declare_counts(ax, line, per_unit[label])
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def curve_chart(curve: pd.DataFrame, title: str, xlabel: str, ylabel: str, source: str,
                alt: str, points: pd.DataFrame | None = None, point_label: str = "",
                logx: bool = True, watermark: str = "") -> Figure:
    """A fitted curve (``x``, ``fit``, ``lower``, ``upper``) with its 95% band and,
    optionally, points (``x``, ``y``) drawn on top; a ``per_unit`` column of the points
    declares values that stem from counts for the disclosure read-back."""
    if curve.empty:
        raise EmptyChartError(f"chart '{title}' has no curve")
    fig, ax = plt.subplots()
    ax.fill_between(curve["x"], curve["lower"], curve["upper"], color=NHS_BLUE, alpha=0.18,
                    label="England, 95% interval")
    ax.plot(curve["x"], curve["fit"], color=NHS_BLUE, lw=1.8,
            label="England, adjusted for case-mix")
    if points is not None and len(points):
        sc = ax.scatter(points["x"], points["y"], s=14, color=DARK, alpha=0.75, zorder=3,
                        label=point_label or "Practice")
        if "per_unit" in points:
            declare_counts(ax, sc, points["per_unit"].to_numpy(float))
        if "name" in points:
            name_points(ax, sc, points["name"])
        # every one of the area's points inside the axes; the curve's band may be cut
        py = points["y"].to_numpy(float)
        py = py[np.isfinite(py)]
        band = np.r_[curve["lower"], curve["upper"]].astype(float)
        band = band[np.isfinite(band)]
        lo = min(float(py.min()), float(np.quantile(band, 0.01))) if len(py) else \
            float(np.quantile(band, 0.01))
        hi = max(float(py.max()), float(np.quantile(band, 0.99))) if len(py) else \
            float(np.quantile(band, 0.99))
        ax.set_ylim(*_pad(lo, hi))
    if logx:
        ax.set_xscale("log")
    if points is not None and len(points):
        px = points["x"].to_numpy(float)
        px = px[np.isfinite(px) & (px > 0 if logx else np.isfinite(px))]
        if len(px):
            cx = curve["x"].to_numpy(float)
            x_lo, x_hi = min(px.min(), cx.min()), max(px.max(), cx.max())
            ax.set_xlim(x_lo / 1.15, x_hi * 1.15) if logx else ax.set_xlim(*_pad(x_lo, x_hi))
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def event_study_chart(es: pd.DataFrame, title: str, source: str, ylabel: str, alt: str,
                      xlabel: str = "Months since the switch", truth=None,
                      watermark: str = "") -> Figure:
    """Event-study estimates by time since the change with 95% intervals; ``truth`` is a
    constant or a Series by event time (synthetic data only)."""
    if es.empty:
        raise EmptyChartError(f"chart '{title}' has no estimates")
    fig, ax = plt.subplots()
    ax.axhline(0, color=DARK, lw=0.8)
    ax.axvline(-0.5, color=GREY, lw=0.8, ls=":")
    ax.fill_between(es["event_month"], es["lower"], es["upper"], color=NHS_BLUE, alpha=0.2,
                    label="95% interval")
    ax.plot(es["event_month"], es["att"], color=NHS_BLUE, marker="o", ms=3, label="Estimate")
    if truth is not None:
        if isinstance(truth, pd.Series):
            ax.plot(truth.index, truth.to_numpy(), color=RED, ls="--", lw=1,
                    label="True effect (synthetic data)")
        else:
            ax.axhline(truth, color=RED, lw=1, ls="--", label="True effect (synthetic data)")
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def its_chart(series: pd.DataFrame, switch_month, title: str, source: str, ylabel: str,
              alt: str, watermark: str = "") -> Figure:
    """Observed series, fitted model and the no-switch counterfactual."""
    if series.empty:
        raise EmptyChartError(f"chart '{title}' has no months")
    fig, ax = plt.subplots()
    ax.plot(series["month"], series["observed"], color=GREY, marker="o", ms=3, lw=0.8,
            label="Observed")
    ax.plot(series["month"], series["fitted"], color=NHS_BLUE, lw=1.6, label="Model")
    post = series["month"] >= switch_month
    ax.plot(series.loc[post, "month"], series.loc[post, "counterfactual"], color=RED,
            lw=1.4, ls="--", label="Without the switch")
    ax.axvline(switch_month, color=DARK, lw=0.8, ls=":")
    return finish(fig, ax, title, "Month", ylabel, source, alt, watermark=watermark)


def histogram(values, title: str, xlabel: str, ylabel: str, source: str, alt: str,
              bins: int = 30, watermark: str = "") -> Figure:
    """A histogram of one quantity."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        raise EmptyChartError(f"chart '{title}' has no values")
    fig, ax = plt.subplots()
    ax.hist(v, bins=min(bins, max(5, len(v) // 3)), color=NHS_BLUE)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, legend=False,
                  watermark=watermark)


RATIO_TICKS = (0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10)
"""Ticks of a log ratio axis: readable ratios either side of 1."""


def spine_chart(rows: pd.DataFrame, title: str, source: str, alt: str,
                area_label: str = "This practice", watermark: str = "",
                xlabel: str = "Referral ratio, observed / expected (log scale; England = 1)",
                centre: str = "England") -> Figure:
    """A practice profile as a spine chart (Fingertips' practice profiles): one row per
    indicator, on a log ratio scale centred on England (1); England's practices' 25th–75th
    percentiles as a dark band and 5th–95th as a pale one; the area as a dot coloured by
    how it compares with England (higher, similar, lower: its 95% interval above,
    spanning or below 1), and its network, similar practices and commissioner as marks.
    ``rows``: ``indicator``, ``p5``, ``p25``, ``p75``, ``p95``, ``ratio``, ``verdict``,
    ``expected`` and optionally ``network``, ``similar``, ``commissioner``. ``centre``
    names what 1 is ("England", or "England's median practice"); a verdict of 'no test'
    (an indicator without a sampling interval) is drawn in grey and not compared."""
    if rows.empty:
        raise EmptyChartError(f"chart '{title}' has no indicators")
    marks = (("commissioner", "^", GREY, "Its commissioner"),
             ("similar", "s", PURPLE, "Its 10 most similar practices"),
             ("network", "D", ORANGE, "Its network"))
    # a log axis cannot show a ratio of 0 (no referrals): such a point is drawn at the left
    # edge, and stands for a count of 0 in the disclosure read-back
    vals = rows[["p5", "p95", "ratio", *[m[0] for m in marks if m[0] in rows]]].to_numpy(
        float)
    vals = vals[np.isfinite(vals) & (vals > 0)]
    lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else (1.0, 1.0)
    x0, x1 = min(lo, 1.0) / 1.12, max(hi, 1.0) * 1.12

    def edge(v):
        v = np.asarray(v, float)
        return np.where(v > 0, v, np.where(np.isfinite(v), x0, np.nan))

    fig, ax = plt.subplots(figsize=(9, max(2.8, 0.42 * len(rows) + 1.5)))
    y = np.arange(len(rows))[::-1]
    ax.hlines(y, edge(rows["p5"]), rows["p95"], color=PALE, lw=9,
              label="England's practices: 5th–95th percentile")
    ax.hlines(y, edge(rows["p25"]), rows["p75"], color="#AEB7BD", lw=9,
              label="25th–75th percentile")
    ax.axvline(1.0, color=DARK, lw=1, label=f"{centre} (1)")
    for col, marker, colour, label in marks:
        if col in rows and rows[col].notna().any():
            ax.scatter(edge(rows[col]), y, marker=marker, s=26, color=colour, zorder=3,
                       label=label, edgecolors="white", linewidths=0.5)
    colours = {"higher": RED, "lower": NHS_BLUE, "similar": "#FFB81C", "no test": GREY}
    words = {"higher": f"higher than {centre}", "lower": f"lower than {centre}",
             "similar": f"similar to {centre}", "no test": "no significance test"}
    for verdict, colour in colours.items():
        sel = (rows["verdict"] == verdict).to_numpy()
        if sel.any():
            r = rows.loc[sel, "ratio"].to_numpy(float)
            dots = ax.scatter(edge(r), y[sel], s=70, color=colour, zorder=4,
                              edgecolors="black", linewidths=0.6,
                              label=f"{area_label}: {words[verdict]}")
            per_unit = np.where(r > 0, rows.loc[sel, "expected"].to_numpy(float), 0.0)
            declare_counts(ax, dots, per_unit, axis="x")
    ax.set_xscale("log")
    ax.set_xlim(x0, x1)
    ticks = [t for t in RATIO_TICKS if x0 <= t <= x1]
    from matplotlib.ticker import NullLocator

    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax._pack_ticks_set = True
    ax.set_yticks(y, [_plain(v) for v in rows["indicator"]])
    ax.grid(axis="y", visible=False)
    ax._pack_horizontal = True
    return finish(fig, ax, title, xlabel, "Indicator", source, alt, watermark=watermark)


def deciles_chart(d: pd.DataFrame, title: str, source: str, alt: str,
                  area_label: str = "This practice", watermark: str = "") -> Figure:
    """A practice's ratio over time against England's practices' deciles (OpenPrescribing
    style): ``quarter``, ``p10``…``p90`` and the practice's ``ratio`` (gaps where not
    shown) with each quarter's ``expected`` count declared for the disclosure read-back;
    each quarter's point is named for hover and focus."""
    if d.empty or d["ratio"].notna().sum() == 0:
        raise EmptyChartError(f"chart '{title}' has no quarters")
    fig, ax = plt.subplots()
    for k in range(10, 100, 10):
        ax.plot(d["quarter"], d[f"p{k}"], color=NHS_BLUE, lw=1.4 if k == 50 else 0.8,
                ls="--" if k == 50 else ":", alpha=0.9,
                label="England's practices: median" if k == 50 else
                ("England's practices: deciles" if k == 10 else None))
    (line,) = ax.plot(d["quarter"], d["ratio"], color=RED, lw=2, label=area_label)
    declare_counts(ax, line, d["expected"].to_numpy(float))
    shown = d[d["ratio"].notna()]
    dots = ax.scatter(shown["quarter"], shown["ratio"], s=16, color=RED, zorder=3)
    declare_counts(ax, dots, shown["expected"].to_numpy(float))
    name_points(ax, dots, [f"{pd.Timestamp(q):%b %Y} quarter: ratio {r:.2f}"
                           for q, r in zip(shown["quarter"], shown["ratio"], strict=True)])
    return finish(fig, ax, title, "Quarter (financial year)",
                  "Referral ratio, observed / expected (England = 1)", source, alt,
                  watermark=watermark)
