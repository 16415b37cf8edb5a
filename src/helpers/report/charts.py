"""House chart style: every chart has a title, axis labels with units and a source line.

Static PNG output (inline backend) so rendered reports are self-contained. Chart functions take
tidy data frames produced by the analysis helpers and return the matplotlib Figure.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

NHS_BLUE = "#005EB8"
DARK = "#425563"
GREY = "#768692"
RED = "#DA291C"
ORANGE = "#ED8B00"
GREEN = "#009639"
PALE = "#E8EDEE"


def setup() -> None:
    """Force the inline backend in a kernel (an inherited MPLBACKEND=Agg would silently drop
    every chart) and set the house style."""
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None and getattr(ip, "kernel", None) is not None:
            ip.run_line_magic("matplotlib", "inline")
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass
    matplotlib.rcParams.update({
        "figure.figsize": (9, 5), "figure.dpi": 90, "savefig.dpi": 90,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "axes.titlesize": 12, "axes.labelsize": 10, "font.size": 9,
        "axes.grid": True, "grid.color": PALE, "legend.frameon": False,
        "svg.hashsalt": "pack", "path.simplify": True,
    })


def finish(fig: plt.Figure, ax: plt.Axes, title: str, xlabel: str, ylabel: str,
           source: str) -> plt.Figure:
    """Apply the title, axis labels (with units) and the source line every chart carries."""
    if not (title and xlabel and ylabel and source):
        raise ValueError("every chart needs a title, both axis labels and a source line")
    ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.text(0.01, 0.005, f"Source: {source}", fontsize=7.5, color=GREY, ha="left",
             va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def funnel_chart(points: pd.DataFrame, curve: pd.DataFrame, title: str, source: str,
                 label_flags: bool = True, xlabel: str = "Expected referrals (count)",
                 ylabel: str = "Referral ratio, observed / expected") -> plt.Figure:
    """Funnel plot: ratios against expected counts with 95% and 99.8% limits."""
    fig, ax = plt.subplots()
    ax.plot(curve["denominator"], curve["ucl99"], color=DARK, lw=1, ls="--",
            label="99.8% limits")
    ax.plot(curve["denominator"], curve["lcl99"], color=DARK, lw=1, ls="--")
    ax.plot(curve["denominator"], curve["ucl95"], color=GREY, lw=1, label="95% limits")
    ax.plot(curve["denominator"], curve["lcl95"], color=GREY, lw=1)
    ax.axhline(1.0, color=DARK, lw=0.8)
    high = points["flag"] == "High (99.8%)"
    low = points["flag"] == "Low (99.8%)"
    ax.scatter(points.loc[~high & ~low, "denominator"], points.loc[~high & ~low, "rr"],
               s=14, color=NHS_BLUE, alpha=0.7, label="Practice")
    ax.scatter(points.loc[high, "denominator"], points.loc[high, "rr"], s=22, color=RED,
               label="Above 99.8% limit")
    ax.scatter(points.loc[low, "denominator"], points.loc[low, "rr"], s=22, color=ORANGE,
               label="Below 99.8% limit")
    if label_flags and (high | low).sum() <= 25:
        for _, r in points[high | low].iterrows():
            ax.annotate(str(r["group"]), (r["denominator"], r["rr"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.legend(loc="upper right", fontsize=8)
    return finish(fig, ax, title, xlabel, ylabel, source)


def caterpillar_chart(table: pd.DataFrame, title: str, source: str,
                      ylabel: str = "Referral ratio, observed / expected (95% CI)"
                      ) -> plt.Figure:
    """Ranked ratios with 95% intervals, one bar per practice."""
    t = table.sort_values("ratio").reset_index(drop=True)
    fig, ax = plt.subplots()
    x = np.arange(len(t))
    colour = np.where(t["ratio_lower95"] > 1, RED, np.where(t["ratio_upper95"] < 1, ORANGE,
                                                             NHS_BLUE))
    ax.vlines(x, t["ratio_lower95"], t["ratio_upper95"], color=colour, lw=1, alpha=0.8)
    ax.scatter(x, t["ratio"], s=8, color=colour, zorder=3)
    ax.axhline(1.0, color=DARK, lw=0.8)
    ax.set_xticks([])
    return finish(fig, ax, title, "Practices, ranked by ratio", ylabel, source)


def spc_chart(points: pd.DataFrame, title: str, source: str,
              ylabel: str = "Standardised referrals per 1,000 patients per year"
              ) -> plt.Figure:
    """XmR chart with mean, process limits and special-cause points coloured."""
    fig, ax = plt.subplots()
    ax.plot(points["date"], points["y"], color=GREY, lw=1, marker="o", ms=3)
    ax.step(points["date"], points["mean"], where="mid", color=DARK, lw=1, label="Mean")
    ax.step(points["date"], points["upl"], where="mid", color=DARK, lw=1, ls="--",
            label="Process limits")
    ax.step(points["date"], points["lpl"], where="mid", color=DARK, lw=1, ls="--")
    colours = {"special_cause_improvement": NHS_BLUE, "special_cause_concern": ORANGE,
               "special_cause_neutral_high": "#7C2855", "special_cause_neutral_low": "#7C2855"}
    for kind, col in colours.items():
        sel = points["point_type"] == kind
        if sel.any():
            ax.scatter(points.loc[sel, "date"], points.loc[sel, "y"], color=col, s=22,
                       zorder=3, label=kind.replace("_", " ").capitalize())
    ax.legend(loc="best", fontsize=8)
    return finish(fig, ax, title, "Month", ylabel, source)


def bar_chart(labels, values, title: str, xlabel: str, ylabel: str, source: str,
              colour: str = NHS_BLUE, highlight=None) -> plt.Figure:
    """Horizontal bars, largest at the top."""
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.32 * len(labels) + 1.2)))
    y = np.arange(len(labels))[::-1]
    cols = [RED if (highlight is not None and h) else colour
            for h in (highlight if highlight is not None else [False] * len(labels))]
    ax.barh(y, values, color=cols)
    ax.set_yticks(y, labels)
    ax.grid(axis="y", visible=False)
    return finish(fig, ax, title, xlabel, ylabel, source)


def scatter_chart(x, y, title: str, xlabel: str, ylabel: str, source: str,
                  logx: bool = False) -> plt.Figure:
    fig, ax = plt.subplots()
    ax.scatter(x, y, s=10, color=NHS_BLUE, alpha=0.6)
    if logx:
        ax.set_xscale("log")
    return finish(fig, ax, title, xlabel, ylabel, source)


def lines_chart(x, series: dict, title: str, xlabel: str, ylabel: str, source: str
                ) -> plt.Figure:
    """Several labelled lines against one x."""
    fig, ax = plt.subplots()
    palette = [NHS_BLUE, RED, ORANGE, GREEN, "#7C2855", DARK, GREY]
    for (label, y), col in zip(series.items(), palette * 3, strict=False):
        ax.plot(x, y, label=label, color=col, lw=1.6)
    ax.legend(fontsize=8, loc="best")
    return finish(fig, ax, title, xlabel, ylabel, source)


def event_study_chart(es: pd.DataFrame, title: str, source: str, ylabel: str,
                      truth: float | None = None) -> plt.Figure:
    """Event-study estimates by time since the change with 95% intervals."""
    fig, ax = plt.subplots()
    ax.axhline(0, color=DARK, lw=0.8)
    ax.axvline(-0.5, color=GREY, lw=0.8, ls=":")
    ax.fill_between(es["event_month"], es["lower"], es["upper"], color=NHS_BLUE, alpha=0.2,
                    label="95% interval")
    ax.plot(es["event_month"], es["att"], color=NHS_BLUE, marker="o", ms=3, label="Estimate")
    if truth is not None:
        ax.axhline(truth, color=RED, lw=1, ls="--", label="True effect (synthetic)")
    ax.legend(fontsize=8)
    return finish(fig, ax, title, "Months since the switch", ylabel, source)


def its_chart(series: pd.DataFrame, switch_month, title: str, source: str, ylabel: str
              ) -> plt.Figure:
    """Observed series, fitted model and the no-switch counterfactual."""
    fig, ax = plt.subplots()
    ax.plot(series["month"], series["observed"], color=GREY, marker="o", ms=3, lw=0.8,
            label="Observed")
    ax.plot(series["month"], series["fitted"], color=NHS_BLUE, lw=1.6, label="Model")
    post = series["month"] >= switch_month
    ax.plot(series.loc[post, "month"], series.loc[post, "counterfactual"], color=RED,
            lw=1.4, ls="--", label="Without the switch")
    ax.axvline(switch_month, color=DARK, lw=0.8, ls=":")
    ax.legend(fontsize=8)
    return finish(fig, ax, title, "Month", ylabel, source)
