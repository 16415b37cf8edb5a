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
