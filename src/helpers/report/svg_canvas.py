"""The canvas the pack's charts are written with: matplotlib's SVG canvas, with each string
measured once a kernel instead of once a chart.

Matplotlib's SVG renderer measures every string it lays out (tick labels, titles, axis
labels, names) with FreeType, and keeps the answers only for its own life, that is one
chart; the same tick labels, words and names recur across a report's charts and across the
reports a kernel renders. This renderer keeps them for the process (at most
:data:`CACHE_SIZE` strings). The measure depends only on the string, the font properties
(family, style, weight, size) and the font file those resolve to, which together are the
key; mathematical text is measured as before. Chosen per save with
``savefig(..., backend=BACKEND)``, so nothing else in the process changes.
"""

from __future__ import annotations

import codecs
import functools
import re

from matplotlib import cbook
from matplotlib.backends import backend_svg
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.textpath import text_to_path

BACKEND = f"module://{__name__}"
"""What to pass as ``savefig``'s ``backend`` to write SVG with this canvas."""
CACHE_SIZE = 16384


@functools.lru_cache(maxsize=CACHE_SIZE)
def _measure(text: str, prop: FontProperties, font_file: str) -> tuple[float, float, float]:
    """(width, height, descent) of plain ``text`` in points, as the SVG renderer measures
    it; ``prop`` is a copy (a FontProperties' hash is its mutable state) and ``font_file``
    what it resolves to now, so a changed font setting is a new key."""
    return text_to_path.get_text_width_height_descent(text, prop, False)


class RendererSVG(backend_svg.RendererSVG):
    """Matplotlib's SVG renderer, its plain-text measures shared across charts."""

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        return _measure(s, prop.copy(), findfont(prop))


class FigureCanvas(backend_svg.FigureCanvasSVG):
    """Matplotlib's SVG canvas drawing with :class:`RendererSVG`."""

    def print_svg(self, filename, *, bbox_inches_restore=None, metadata=None, **_ignored):
        """As ``FigureCanvasSVG.print_svg`` (matplotlib 3.11), with the renderer above.
        ``savefig`` passes a canvas from outside matplotlib its colour, resolution and
        orientation too; for SVG, as for matplotlib's own canvas, they are not used here
        (``savefig`` applies the colours to the figure itself).
        """
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
            if not cbook.file_requires_unicode(fh):
                fh = codecs.getwriter("utf-8")(fh)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            w, h = width * 72, height * 72
            renderer = MixedModeRenderer(
                self.figure, width, height, dpi,
                RendererSVG(w, h, fh, image_dpi=dpi, metadata=metadata),
                bbox_inches_restore=bbox_inches_restore)
            self.figure.draw(renderer)
            renderer.finalize()


GEOMETRY_ATTRIBUTES = ("d", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width",
                       "height", "transform", "points", "viewBox")
"""The attributes whose numbers :func:`compact` rounds (positions and shapes, never text)."""
# from the space before the name: a literal first character makes the scan several times faster
_GEOMETRY = re.compile(rf' ({"|".join(GEOMETRY_ATTRIBUTES)})="([^"]*)"')
DECIMALS = 1
"""Decimals kept in a chart's coordinates, in points (1/72 inch): 0.05 pt is under a
tenth of a screen pixel at 100% zoom."""
_LONG_DECIMAL = re.compile(rf"-?\d+\.\d{{{DECIMALS + 1},}}")
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [-\d. ]+\)"')
_INDENT = re.compile(r">\s*\n\s*<")
_PATH_BREAK = re.compile(r" ?\n")
_TAG_STYLE = re.compile(r'<[a-zA-Z][^>]*? style="([^"]*)"[^>]*>')
_ID = re.compile(r' id="([^"]+)"')
_REF = re.compile(r'(?:href="#|(?:="|: ?)url\(#)([^")]+)')
_SHARED_STYLE = "<style type=\"text/css\">"


def _short(m: re.Match) -> str:
    v = round(float(m.group(0)), DECIMALS)
    s = f"{v:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _rules(classes: dict[str, str]) -> str:
    """CSS for the classes (style → class name), each declaration written once: grouped
    under the selector of every class that has it (an element has one style class, and a
    style sets each property once, so the grouping changes nothing that applies)."""
    owners: dict[str, list[str]] = {}
    for style, name in classes.items():
        for decl in style.split(";"):
            prop, _, value = decl.partition(":")
            if prop.strip():
                owners.setdefault(f"{prop.strip()}:{value.strip()}", []).append(name)
    groups: dict[tuple[str, ...], list[str]] = {}
    for decl, names in owners.items():
        groups.setdefault(tuple(names), []).append(decl)
    return "".join(",".join(f".{n}" for n in names) + "{" + ";".join(decls) + "}"
                   for names, decls in groups.items())


def compact(svg: str, prefix: str) -> str:
    """Matplotlib's SVG written small, drawing the same: coordinates rounded to
    :data:`DECIMALS` places (geometry attributes only: text, titles and names untouched),
    no indentation or line breaks inside paths, no zero rotations, no ids that nothing
    refers to and short ones (``prefix`` + number) for those something does, and each
    distinct inline style written once as a class (``prefix`` + ``s`` + number) in the
    chart's own style block, each declaration there once."""
    def geometry(m: re.Match) -> str:
        value = m.group(2)
        if "\n" in value:
            value = _PATH_BREAK.sub(" ", value).strip()
        if "." in value:
            value = _LONG_DECIMAL.sub(_short, value)
        return f' {m.group(1)}="{value}"'

    svg = _GEOMETRY.sub(geometry, svg)
    svg = _NO_ROTATION.sub("", svg)
    svg = _INDENT.sub("><", svg)
    short: dict[str, str] = {}
    for ref in _REF.findall(svg):
        short.setdefault(ref, f"{prefix}{len(short) + 1}")
    svg = _ID.sub(lambda m: f' id="{short[m.group(1)]}"' if m.group(1) in short else "", svg)
    svg = _REF.sub(lambda m: m.group(0).replace(m.group(1), short[m.group(1)]), svg)
    classes: dict[str, str] = {}

    def to_class(m: re.Match) -> str:
        tag, style = m.group(0), m.group(1)
        name = classes.setdefault(style, f"{prefix}s{len(classes) + 1}")
        tag = tag.replace(f' style="{style}"', "", 1)
        if ' class="' in tag:                     # a named point: its class, then the style's
            i = tag.index(' class="') + 8
            j = tag.index('"', i)
            return f"{tag[:j]} {name}{tag[j:]}"
        return tag.replace(">", f' class="{name}">', 1) if not tag.endswith("/>") else \
            tag[:-2] + f' class="{name}"/>'

    svg = _TAG_STYLE.sub(to_class, svg)
    svg = svg.replace(' xlink:href="#', ' href="#')      # SVG 2's plain href, every browser
    if classes:
        rules = _rules(classes)
        i = svg.find(_SHARED_STYLE)
        if i >= 0:
            j = i + len(_SHARED_STYLE)
            svg = svg[:j] + rules + svg[j:]
        else:
            head = svg.index(">", svg.index("<svg")) + 1
            svg = svg[:head] + f"<defs>{_SHARED_STYLE}{rules}</style></defs>" + svg[head:]
    return svg
