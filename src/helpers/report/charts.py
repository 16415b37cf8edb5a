"""House chart style: every chart has a title, axis labels with units, a source line and
alt text, keeps its legend off the data, and fits its axes to the data.

Static PNG output (inline backend) so rendered reports are self-contained. Chart functions
take tidy frames from the analysis helpers and return the matplotlib Figure; the alt text
travels with the PNG (display metadata) into the HTML ``<img alt>``. A chart with nothing to
show is an error here, so a report says so in words instead of drawing empty axes.
"""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

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


def _png_with_alt(fig: Figure):
    from IPython.core.pylabtools import print_figure

    data = print_figure(fig, fmt="png", base64=True, bbox_inches=None)
    return data, {"alt": getattr(fig, "_pack_alt", "") or "",
                  **getattr(fig, "_pack_meta", {})}


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


def setup() -> None:
    """Force the inline backend in a kernel (an inherited MPLBACKEND=Agg would silently drop
    every chart), attach alt text to every PNG, and set the house style."""
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None and getattr(ip, "kernel", None) is not None:
            ip.run_line_magic("matplotlib", "inline")
            ip.display_formatter.formatters["image/png"].for_type(Figure, _png_with_alt)
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass
    matplotlib.rcParams.update({
        "figure.figsize": (9, 4.6), "figure.dpi": 90, "savefig.dpi": 90,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "axes.titlesize": 12, "axes.labelsize": 10, "font.size": 9,
        "axes.grid": True, "grid.color": PALE, "legend.frameon": False,
        "svg.hashsalt": "pack", "path.simplify": True, "text.usetex": False,
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
    # long area names would run the title off the figure: wrap it to the figure's width
    # (about 7.5 characters an inch of the bold title font)
    ax.set_title(textwrap.fill(_plain(title), width=int(fig.get_figwidth() * 7.5)),
                 loc="left")
    ax.set_xlabel(_plain(xlabel))
    ax.set_ylabel(_plain(ylabel))
    if ax.get_xscale() == "log":
        _thousands(ax.xaxis)
    handles, labels = ax.get_legend_handles_labels()
    if legend and labels:
        ax.legend(handles, [_plain(x) for x in labels], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    fig.text(0.01, 0.005, _plain(f"Source: {source}"), fontsize=7.5, color=GREY, ha="left",
             va="bottom")
    if watermark:
        fig.text(0.5, 0.5, watermark, fontsize=22, color=RED, alpha=0.13, ha="center",
                 va="center", rotation=20, weight="bold")
    # one tight-layout pass, then room for the source line (``rect=`` would cost a second
    # pass over every tick label)
    fig.tight_layout()
    pars = fig.subplotpars
    fig.subplots_adjust(bottom=min(pars.bottom + 0.035, pars.top - 0.2))
    # positions are final: with no layout engine left on the figure, printing it draws once
    # (a placeholder engine makes matplotlib run a second, layout-only draw first)
    fig.set_layout_engine(None)
    values = _values(ax)
    if nonnegative is None:
        nonnegative = not any(w in (xlabel + " " + ylabel).lower() for w in NEGATIVE_OK)
    fig._pack_alt = alt
    fig._pack_meta = {"nonnegative": bool(nonnegative),
                      "data_min": float(values.min()) if len(values) else None,
                      "n_values": int(len(values))}
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
    practice among its peers), drawn as a black diamond and always labelled."""
    if points.empty:
        raise EmptyChartError(f"chart '{title}' has no practices")
    fig, ax = plt.subplots()
    x_lo, x_hi = points["denominator"].min(), points["denominator"].max()
    c = curve[(curve["denominator"] >= x_lo / 1.15) & (curve["denominator"] <= x_hi * 1.15)]
    ax.plot(c["denominator"], c["ucl99"], color=DARK, lw=1, ls="--", label="99.8% limits")
    ax.plot(c["denominator"], c["lcl99"], color=DARK, lw=1, ls="--")
    ax.plot(c["denominator"], c["ucl95"], color=GREY, lw=1, label="95% limits")
    ax.plot(c["denominator"], c["lcl95"], color=GREY, lw=1)
    ax.axhline(1.0, color=DARK, lw=0.8)
    high = points["flag"] == "High"
    low = points["flag"] == "Low"
    ax.scatter(points.loc[~high & ~low, "denominator"], points.loc[~high & ~low, "rr"],
               s=14, color=NHS_BLUE, alpha=0.7, label=f"Practice within {limit}% limits")
    if high.any():
        ax.scatter(points.loc[high, "denominator"], points.loc[high, "rr"], s=24, color=RED,
                   label=f"Above {limit}% limit")
    if low.any():
        ax.scatter(points.loc[low, "denominator"], points.loc[low, "rr"], s=24, color=ORANGE,
                   label=f"Below {limit}% limit")
    if highlight is not None and highlight.any():
        hp = points[highlight.to_numpy()]
        ax.scatter(hp["denominator"], hp["rr"], s=70, marker="D", color="black", zorder=4,
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
    misses 1 is exactly a practice outside the limits."""
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
            ax.scatter(x[sel], t.loc[sel, "ratio"], s=10, color=col, zorder=3, label=lab)
    ax.axhline(1.0, color=DARK, lw=0.8)
    ax.set_xticks([])
    ax.set_xlim(-1, len(t))
    return finish(fig, ax, title, "Practices, ranked by ratio", ylabel, source, alt,
                  watermark=watermark)


def spc_chart(points: pd.DataFrame, title: str, source: str, alt: str,
              ylabel: str = "Standardised referrals per 1,000 patients per year",
              watermark: str = "") -> Figure:
    """XmR chart with mean, process limits and special-cause points coloured."""
    if points.empty:
        raise EmptyChartError(f"chart '{title}' has no points")
    fig, ax = plt.subplots()
    ax.plot(points["date"], points["y"], color=GREY, lw=1, marker="o", ms=3,
            label="Month")
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
              watermark: str = "") -> Figure:
    """Horizontal bars, first label at the top."""
    labels, values = list(labels), np.asarray(values, float)
    if not len(labels):
        raise EmptyChartError(f"chart '{title}' has no bars")
    fig, ax = plt.subplots(figsize=(9, max(2.6, 0.32 * len(labels) + 1.3)))
    y = np.arange(len(labels))[::-1]
    cols = [RED if (highlight is not None and h) else colour
            for h in (highlight if highlight is not None else [False] * len(labels))]
    ax.barh(y, values, color=cols)
    ax._pack_horizontal = True
    ax.set_yticks(y, [_plain(v) for v in labels])
    ax.grid(axis="y", visible=False)
    if zero_line:
        ax.axvline(0, color=DARK, lw=0.8)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def interval_chart(labels, est, lower, upper, title: str, xlabel: str, ylabel: str,
                   source: str, alt: str, reference: float | None = 0.0,
                   truth=None, watermark: str = "") -> Figure:
    """Estimates with 95% intervals, one row each (first at the top)."""
    labels = list(labels)
    if not len(labels):
        raise EmptyChartError(f"chart '{title}' has no estimates")
    est, lower, upper = (np.asarray(v, float) for v in (est, lower, upper))
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.45 * len(labels) + 1.3)))
    y = np.arange(len(labels))[::-1]
    ax._pack_horizontal = True
    ax.hlines(y, lower, upper, color=NHS_BLUE, lw=2, label="95% interval")
    ax.scatter(est, y, color=NHS_BLUE, s=28, zorder=3, label="Estimate")
    if truth is not None:
        ax.scatter(np.asarray(truth, float), y, marker="x", color=RED, s=40, zorder=4,
                   label="True effect (synthetic data)")
    if reference is not None:
        ax.axvline(reference, color=DARK, lw=0.8)
    ax.set_yticks(y, [_plain(v) for v in labels])
    ax.grid(axis="y", visible=False)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def scatter_chart(x, y, title: str, xlabel: str, ylabel: str, source: str, alt: str,
                  logx: bool = False, line=None, watermark: str = "") -> Figure:
    """Points, optionally with a reference line ``line = (xs, ys, label)``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if not len(x):
        raise EmptyChartError(f"chart '{title}' has no points")
    fig, ax = plt.subplots()
    ax.scatter(x, y, s=12, color=NHS_BLUE, alpha=0.6, label="Practice")
    if line is not None:
        ax.plot(line[0], line[1], color=DARK, lw=1, ls="--", label=line[2])
    if logx:
        ax.set_xscale("log")
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def lines_chart(x, series: dict, title: str, xlabel: str, ylabel: str, source: str,
                alt: str, watermark: str = "") -> Figure:
    """Several labelled lines against one x."""
    if not series:
        raise EmptyChartError(f"chart '{title}' has no lines")
    fig, ax = plt.subplots()
    for (label, y), col in zip(series.items(), PALETTE * 3, strict=False):
        ax.plot(x, y, label=label, color=col, lw=1.6)
    return finish(fig, ax, title, xlabel, ylabel, source, alt, watermark=watermark)


def curve_chart(curve: pd.DataFrame, title: str, xlabel: str, ylabel: str, source: str,
                alt: str, points: pd.DataFrame | None = None, point_label: str = "",
                logx: bool = True, watermark: str = "") -> Figure:
    """A fitted curve (``x``, ``fit``, ``lower``, ``upper``) with its 95% band and,
    optionally, points (``x``, ``y``) drawn on top."""
    if curve.empty:
        raise EmptyChartError(f"chart '{title}' has no curve")
    fig, ax = plt.subplots()
    ax.fill_between(curve["x"], curve["lower"], curve["upper"], color=NHS_BLUE, alpha=0.18,
                    label="England, 95% interval")
    ax.plot(curve["x"], curve["fit"], color=NHS_BLUE, lw=1.8,
            label="England, adjusted for case-mix")
    if points is not None and len(points):
        ax.scatter(points["x"], points["y"], s=14, color=DARK, alpha=0.75, zorder=3,
                   label=point_label or "Practice")
        ys = np.r_[points["y"].to_numpy(float), curve["lower"], curve["upper"]]
        ys = ys[np.isfinite(ys)]
        ax.set_ylim(*_pad(float(np.quantile(ys, 0.01)), float(np.quantile(ys, 0.99))))
    if logx:
        ax.set_xscale("log")
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
