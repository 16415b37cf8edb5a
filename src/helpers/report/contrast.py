"""Colour contrast of the text drawn inside charts, by WCAG 2.2's definitions.

Accessibility checkers read the contrast of HTML text but not of text inside an SVG chart
(tick labels, titles, point labels, source notes), so the pack measures that itself:
:func:`text_contrast_failures` takes each text's colour, size and weight and the colour
drawn behind it (read from the rendered page) and lists those under WCAG's minimum
(success criterion 1.4.3: 4.5:1, or 3:1 for large text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NORMAL_MINIMUM = 4.5
"""Least contrast ratio for text (WCAG 2.2, 1.4.3, level AA)."""
LARGE_MINIMUM = 3.0
"""Least contrast ratio for large text: at least 18 pt, or 14 pt bold."""
LARGE_PX, LARGE_BOLD_PX = 24.0, 18.0 + 2.0 / 3.0
"""18 pt and 14 pt in CSS pixels (1 pt = 4/3 px)."""

_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})$", re.I)
_RGB = re.compile(r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$")


def parse_colour(colour: str) -> tuple[float, float, float, float]:
    """(red, green, blue, alpha) of a CSS colour written ``#rgb``, ``#rrggbb``,
    ``rgb(r, g, b)`` or ``rgba(r, g, b, a)``: channels 0–255, alpha 0–1."""
    c = colour.strip()
    if m := _HEX.match(c):
        h = m.group(1)
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0)
    if m := _RGB.match(c):
        a = m.group(4)
        alpha = 1.0 if a is None else (float(a[:-1]) / 100 if a.endswith("%") else float(a))
        return (float(m.group(1)), float(m.group(2)), float(m.group(3)), alpha)
    raise ValueError(f"not a colour this check reads: {colour!r}")


def over(top: str, alpha: float, below: tuple[float, float, float]) -> tuple[float, ...]:
    """The colour seen where ``top`` (with its own alpha times ``alpha``, the element's
    opacity) is painted over the opaque colour ``below`` (channels 0–255)."""
    r, g, b, a = parse_colour(top)
    a *= alpha
    return tuple(a * t + (1 - a) * u for t, u in zip((r, g, b), below, strict=True))


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour (channels 0–255): 0 black, 1 white."""
    def lin(c: float) -> float:
        c /= 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG's contrast ratio of two opaque colours, 1 (none) to 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def minimum_ratio(font_px: float, bold: bool) -> float:
    """The least ratio WCAG asks of text of this size (CSS px) and weight."""
    large = font_px >= LARGE_PX or (bold and font_px >= LARGE_BOLD_PX)
    return LARGE_MINIMUM if large else NORMAL_MINIMUM


@dataclass(frozen=True)
class TextSample:
    """One chart text as drawn: its words, fill colour and opacity, size (CSS px), weight
    (CSS number), and the colours behind it, topmost first, each with its opacity (the
    page's background last)."""
    text: str
    fill: str
    opacity: float
    font_px: float
    weight: int
    behind: tuple[tuple[str, float], ...]


def sample_ratio(s: TextSample) -> float:
    """The contrast of a text against what is drawn behind it (layers composited from the
    page's background up, then the text over them)."""
    background = (255.0, 255.0, 255.0)
    for colour, alpha in reversed(s.behind):
        background = over(colour, alpha, background)
    return contrast_ratio(over(s.fill, s.opacity, background), background)


def text_contrast_failures(samples: list[TextSample]) -> list[str]:
    """Each chart text under WCAG's minimum contrast, described (words, colours, ratio and
    the minimum); an empty list when every text passes."""
    out = []
    for s in samples:
        ratio, need = sample_ratio(s), minimum_ratio(s.font_px, s.weight >= 700)
        if ratio < need:
            out.append(f"{s.text!r}: {s.fill} on {s.behind[0][0] if s.behind else 'white'} "
                       f"is {ratio:.2f}:1, under {need}:1 ({s.font_px:g}px)")
    return out
