"""Chart margins in one measuring pass: where the axes of a house-style chart sit in its
figure, from the sizes of the text around them.

Every chart of the pack is one axes with its decorations outside it: a left-aligned title
above, tick labels and axis labels left and below, an optional legend to the right, the
source line at the foot, and (funnels) a few point labels that may reach past the axes.
Matplotlib's ``tight_layout`` finds the same margins by asking every artist for its
bounding box, which builds and measures each tick and label two or three times (about 40%
of a chart's drawing time, measured in ``docs/benchmarks.md``); the SVG backend then
measures all the text again as it writes. Here each string is measured once per kernel
with the font metrics the SVG backend itself uses (:data:`matplotlib.textpath.text_to_path`,
unhinted, linear in the font size, so one measurement serves every size), and the margins
are added up as matplotlib places the pieces (tick length and pad, label pad, title pad,
the legend's paddings). No library offers this: it is a short sum over the few decorations
the house style has, checked against matplotlib's own bounding boxes in
``tests/test_chart_layout.py`` (nothing clipped, margins within a few points of ``tight_layout``).
"""

from __future__ import annotations

import functools

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.text import Annotation, Text
from matplotlib.textpath import text_to_path

PAD = 1.08
"""Space kept at the figure's edges, in multiples of the base font size (``tight_layout``'s
default, so charts keep the look they had)."""
SOURCE_GAP = 6.0
"""Points between the source line and what is above it."""
LEGEND_GAP = 4.0
"""Points between a point label reaching past the axes and the legend beside it."""


@functools.lru_cache(maxsize=16384)   # tick labels, words and names: bounded all the same
def _unit_width(text: str, font_file: str) -> float:
    """Width of ``text`` at 1 pt in ``font_file``, in points (the SVG backend's measure,
    which scales linearly with size)."""
    prop = FontProperties(fname=font_file, size=100)
    return text_to_path.get_text_width_height_descent(text, prop, False)[0] / 100


@functools.cache
def _unit_line(font_file: str) -> tuple[float, float]:
    """A line's height at 1 pt in ``font_file``: (ascent + descent, line gap), from the
    font's typographic metrics as matplotlib lays out text."""
    font = get_font(font_file)
    em = font.get_sfnt_table("head")["unitsPerEm"]
    for table, gap, asc, desc in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                  ("hhea", "lineGap", "ascent", "descent")):
        t = font.get_sfnt_table(table)
        if t is not None:
            return (t[asc] - t[desc]) / em, t[gap] / em
    return 1.2, 0.0  # pragma: no cover - every font the pack ships has these tables


def text_size(text: str, prop: FontProperties) -> tuple[float, float]:
    """(width, height) of ``text`` in points, lines split on newlines; the height as
    matplotlib stacks lines (one line: ascent + descent; more: each line adds its gap)."""
    text = str(text).replace(r"\$", "$")
    if not text:
        return 0.0, 0.0
    font_file = findfont(prop)
    size = prop.get_size_in_points()
    lines = text.split("\n")
    width = max(_unit_width(line, font_file) for line in lines) * size
    line, gap = _unit_line(font_file)
    height = line * size if len(lines) == 1 else len(lines) * (line + gap) * size
    return width, height


def wrap(text: str, prop: FontProperties, width: float) -> str:
    """``text`` broken at spaces into lines no wider than ``width`` points (a word wider
    than that stands on its own line); existing line breaks are kept."""
    font_file, size = findfont(prop), prop.get_size_in_points()
    space = _unit_width(" ", font_file) * size
    out = []
    for para in str(text).split("\n"):
        line, used = [], 0.0
        for word in para.split(" "):
            w = text_size(word, prop)[0]
            if line and used + space + w > width:
                out.append(" ".join(line))
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        out.append(" ".join(line))
    return "\n".join(out)


def _tick_labels(axis) -> tuple[list[str], list[float]]:
    """The major (and any minor) tick labels an axis will draw at its current limits, and
    the labels' positions as fractions of the axis (0 to 1)."""
    lo, hi = sorted(axis.get_view_interval())
    out, where = [], []
    for locs, fmt in ((axis.get_majorticklocs(), axis.get_major_formatter()),
                      (axis.get_minorticklocs(), axis.get_minor_formatter())):
        locs = np.asarray(locs, float)
        if not len(locs):
            continue
        labels = fmt.format_ticks(locs)
        tol = 1e-10 * max(abs(hi - lo), 1e-300)
        keep = (locs >= lo - tol) & (locs <= hi + tol)
        for loc, label, k in zip(locs, labels, keep, strict=True):
            if k and label:
                out.append(label)
                where.append(loc)
    if not out:
        return [], []
    scale = axis.get_transform()
    a, b = scale.transform([lo, hi])
    pos = (scale.transform(np.asarray(where, float)) - a) / (b - a) if b != a else \
        np.zeros(len(where))
    return out, list(pos)


MAX_LABEL_SHARE = 0.35
"""Widest a category label on the y axis may be, as a share of the figure's width; longer
names (an analyst's own specialty or practice names) wrap onto more lines."""


def _wrap_categories(ax, prop: FontProperties, width: float) -> None:
    """Wrap the y axis' category labels (fixed ticks, each with its own label) wider than
    ``width`` points, so a long name cannot push the axes off the figure."""
    from matplotlib.ticker import FixedLocator

    axis = ax.yaxis
    if not isinstance(axis.get_major_locator(), FixedLocator):
        return
    locs = np.asarray(axis.get_majorticklocs(), float)
    labels = [str(t) for t in axis.get_major_formatter().format_ticks(locs)]
    if all(text_size(t, prop)[0] <= width for t in labels):
        return
    axis.set_ticks(locs, [wrap(t, prop, width) if text_size(t, prop)[0] > width else t
                          for t in labels])


TICK_GAP = 4.0
"""Least space between two x tick labels, in points."""


def _thin_fixed_x_ticks(ax, prop: FontProperties, width: float) -> None:
    """On an x axis of fixed ticks (a spine chart's ratios 0.67, 0.8, 1, 1.25 …), leave out
    ticks whose labels would touch their neighbour's at the axes' final ``width`` (points)
    ('0.670.8'): kept outward from the tick labelled '1' (or the first), each at least
    :data:`TICK_GAP` clear of the last kept."""
    from matplotlib.ticker import FixedLocator

    axis = ax.xaxis
    if not isinstance(axis.get_major_locator(), FixedLocator):
        return
    locs = np.asarray(axis.get_majorticklocs(), float)
    labels = [str(t) for t in axis.get_major_formatter().format_ticks(locs)]
    lo, hi = sorted(axis.get_view_interval())
    scale = axis.get_transform()
    a, b = scale.transform([lo, hi])
    if b == a or len(locs) < 2:
        return
    x = (scale.transform(locs) - a) / (b - a) * width
    half = [text_size(t, prop)[0] / 2 for t in labels]
    order = np.argsort(x)
    start = next((k for k, i in enumerate(order) if labels[i] == "1"), 0)
    keep = {int(order[start])}
    for run in (order[start + 1:], order[:start][::-1]):
        last = int(order[start])
        for i in run:
            i = int(i)
            if abs(x[i] - x[last]) >= half[i] + half[last] + TICK_GAP:
                keep.add(i)
                last = i
    if len(keep) < len(locs):
        kept = sorted(keep, key=lambda i: x[i])
        axis.set_ticks(locs[kept], [labels[i] for i in kept])


def _tick_space(name: str) -> float:
    """Points between the axes and its tick labels (tick drawn outside, then its pad)."""
    rc = matplotlib.rcParams
    size, pad, direction = (rc[f"{name}tick.major.size"], rc[f"{name}tick.major.pad"],
                            rc[f"{name}tick.direction"])
    return pad + {"out": size, "inout": size / 2}.get(direction, 0.0)


def fit(fig: Figure, ax, title: Text, source: Text) -> None:
    """Place ``ax`` in ``fig`` so that its ``title``, tick labels, axis labels, legend and
    point labels fit inside the figure with :data:`PAD` to spare, and the ``source`` line
    (at the foot) below them all; then place the axis labels and the title (which must have
    been set with an explicit ``y``, so matplotlib does not move it again)."""
    rc = matplotlib.rcParams
    W, H = fig.get_figwidth() * 72, fig.get_figheight() * 72
    pad = PAD * FontProperties(size=rc["font.size"]).get_size_in_points()
    tick_font = {n: FontProperties(size=rc[f"{n}tick.labelsize"]) for n in "xy"}
    _wrap_categories(ax, tick_font["y"], MAX_LABEL_SHARE * W)
    xt, xpos = _tick_labels(ax.xaxis)
    yt, ypos = _tick_labels(ax.yaxis)
    x_sizes = [text_size(t, tick_font["x"]) for t in xt]
    y_sizes = [text_size(t, tick_font["y"]) for t in yt]
    xlab = text_size(ax.xaxis.label.get_text(), ax.xaxis.label.get_fontproperties())[1]
    ylab = text_size(ax.yaxis.label.get_text(), ax.yaxis.label.get_fontproperties())[1]
    words = " ".join(title.get_text().split())

    # the fixed parts: the foot (source line, then a gap), x label, x tick labels; the y
    # label and y tick labels; the title above
    foot = 0.005 * H + text_size(source.get_text(), source.get_fontproperties())[1] \
        + SOURCE_GAP
    below = max((h for _, h in x_sizes), default=0.0)
    bottom0 = foot + (xlab + ax.xaxis.labelpad if xlab else 0.0) + (
        below + _tick_space("x") if x_sizes else 0.0)
    left0 = pad + (ylab + ax.yaxis.labelpad if ylab else 0.0) + (
        max(w for w, _ in y_sizes) + _tick_space("y") if y_sizes else 0.0)
    offset = ax.yaxis.get_major_formatter().get_offset() if yt else ""
    # the y axis' offset text ("1e6") sits above the axes and the title moves above it
    top_fixed = pad + (text_size(offset, tick_font["y"])[1] if offset else 0.0)

    def heading(left: float) -> float:
        """Wrap the title (left-aligned on the axes) to the width from there to the
        figure's right edge; its height with the title pad."""
        title.set_text(wrap(words, title.get_fontproperties(), W - left - pad))
        h = text_size(title.get_text(), title.get_fontproperties())[1]
        return h + rc["axes.titlepad"] if words else 0.0

    top0 = top_fixed + heading(left0)

    legend = ax.get_legend()
    leg_w = leg_h = 0.0
    if legend is not None and legend.get_visible():
        texts = legend.get_texts()
        fs = texts[0].get_fontsize() if texts else rc["legend.fontsize"]
        sizes = [text_size(t.get_text(), t.get_fontproperties()) for t in texts]
        leg_w = max((w for w, _ in sizes), default=0.0) + fs * (
            2 * legend.borderpad + legend.handlelength + legend.handletextpad)
        leg_h = sum(h for _, h in sizes) + fs * (
            legend.labelspacing * max(len(sizes) - 1, 0) + 2 * legend.borderpad)
    notes = []
    for a in ax.texts:
        if isinstance(a, Annotation) and a.get_visible() and a.get_text():
            fx, fy = (ax.transScale + ax.transLimits).transform(a.xy)
            ox, oy = a.xyann if a.anncoords == "offset points" else (0.0, 0.0)
            notes.append((fx, fy, ox, oy, *text_size(a.get_text(), a.get_fontproperties())))

    def legend_x(aw: float, ah: float) -> float:
        """Where the legend starts, in points right of the axes: just beyond them, or
        beyond any point label that reaches past them beside the legend."""
        x = 0.01 * aw
        for fx, fy, ox, oy, w, h in notes:
            x0, y0 = fx * aw + ox, fy * ah + oy
            if x0 + w > aw and y0 + h > ah - leg_h and y0 - 0.25 * h < ah:
                x = max(x, x0 + w - aw + LEGEND_GAP)
        return x

    left, right, top, bottom = left0, pad, top0, bottom0
    for _ in range(3):   # the axes' size depends on the margins: settle in a few passes
        aw, ah = max(W - left - right, 1.0), max(H - top - bottom, 1.0)
        # beyond the axes' edges: end tick labels (centred on their tick), the legend,
        # and point labels (left-aligned at their offset from the point)
        out = {"left": 0.0, "right": 0.0, "top": 0.0, "bottom": 0.0}
        for (w, _), p in zip(x_sizes, xpos, strict=True):
            out["left"] = max(out["left"], w / 2 - p * aw)
            out["right"] = max(out["right"], w / 2 - (1 - p) * aw)
        for (_, h), p in zip(y_sizes, ypos, strict=True):
            out["bottom"] = max(out["bottom"], h / 2 - p * ah)
            out["top"] = max(out["top"], h / 2 - (1 - p) * ah)
        for fx, fy, ox, oy, w, h in notes:
            x0, y0 = fx * aw + ox, fy * ah + oy
            out["right"] = max(out["right"], x0 + w - aw)
            out["top"] = max(out["top"], y0 + h - ah)
            out["bottom"] = max(out["bottom"], 0.25 * h - y0)
        if leg_w:
            out["right"] = max(out["right"], legend_x(aw, ah) + leg_w)
            out["bottom"] = max(out["bottom"], leg_h - ah)
        new = (max(left0, out["left"] + pad), max(pad, out["right"] + pad),
               max(top0, out["top"] + pad), max(bottom0, out["bottom"] + foot))
        done = max(abs(a - b) for a, b in zip(new, (left, right, top, bottom), strict=True))
        if new[0] != left:
            top0 = top_fixed + heading(new[0])
            new = (*new[:2], max(top0, out["top"] + pad), new[3])
        left, right, top, bottom = new
        if done < 0.5:
            break
    # never less than a fifth of the figure for the axes, whatever the text
    left = min(left, W * 0.6)
    right = min(right, W * 0.8 - left)
    bottom = min(bottom, H * 0.6)
    top = min(top, H * 0.8 - bottom)
    fig.subplots_adjust(left=left / W, right=1 - right / W, bottom=bottom / H, top=1 - top / H)
    aw, ah = max(W - left - right, 1.0), max(H - top - bottom, 1.0)
    _thin_fixed_x_ticks(ax, tick_font["x"], aw)
    if leg_w and legend_x(aw, ah) > 0.01 * aw:
        legend.set_bbox_to_anchor((1.0 + legend_x(aw, ah) / aw, 1.0), transform=ax.transAxes)
    # the axis labels and the title placed from the same measures, where matplotlib would
    # put them (labels a label pad beyond the tick labels; the title on the axes' top, or
    # above the y offset text): otherwise drawing measures every tick label again to do it
    ax.xaxis.set_label_coords(0.5, -(ax.xaxis.labelpad + (
        below + _tick_space("x") if x_sizes else 0.0)) / ah)
    ax.yaxis.set_label_coords(-(ax.yaxis.labelpad + (
        max(w for w, _ in y_sizes) + _tick_space("y") if y_sizes else 0.0)) / aw, 0.5)
    if offset:
        title.set_y(1.0 + text_size(offset, tick_font["y"])[1] / ah)
