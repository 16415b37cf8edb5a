"""Charts as inline SVG: alt text on the chart, every named point with its name (hover,
focus, screen reader), names escaped, ids unique on a page and the same in every run."""

from __future__ import annotations

import html
import re

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import pytest

from helpers.report import charts


def _chart(n: int, names=None, marker_size: float = 20):
    fig, ax = plt.subplots()
    sc = ax.scatter(range(n), [1 + i % 7 for i in range(n)], s=marker_size, label="Practice")
    if names is not None:
        charts.name_points(ax, sc, names)
    return charts.finish(fig, ax, "Title", "Expected (count)", "Ratio (observed / expected)",
                         "test", "A chart of test points")


@pytest.mark.parametrize("n", [3, 40, 400])
def test_each_point_carries_its_name_in_order(n):
    charts.setup()
    names = [f"P-{i:04d}: ratio {1 + i % 7:.2f}" for i in range(n)]
    svg, meta = charts._svg_with_alt(_chart(n, names))
    got = [html.unescape(t) for t in re.findall(r'class="pack-pt"[^>]*><title>([^<]*)</title>',
                                                 svg)]
    assert got == names
    assert len(re.findall(r'tabindex="0"', svg)) == 1            # one tab stop a group
    assert len(re.findall(r'tabindex="-1"', svg)) == n - 1       # the rest by arrow keys
    assert len(re.findall(r'class="pack-pt" tabindex="-?[01]" role="img"', svg)) == n
    assert re.findall(r"<title>(P-[^<]*)</title>", svg) == names
    assert svg.startswith('<svg class="pack-chart" role="img" aria-label="A chart of test '
                          'points"')
    assert meta["alt"] == "A chart of test points"


def test_names_are_escaped_and_too_many_points_are_left_unnamed():
    charts.setup()
    svg, _ = charts._svg_with_alt(_chart(2, ['<img src=x onerror=alert(1)>', 'A & "B"']))
    assert "<img" not in svg and "&lt;img src=x" in svg and "A &amp; &quot;B&quot;" in svg
    svg, _ = charts._svg_with_alt(_chart(charts.MAX_NAMED + 1,
                                         [str(i) for i in range(charts.MAX_NAMED + 1)]))
    assert "pack-pt" not in svg


def test_ids_are_unique_on_a_page_and_the_same_in_every_run():
    def page():
        charts.setup()                                   # a report starts
        return [charts._svg_with_alt(_chart(5, list("abcde")))[0] for _ in range(3)]

    first, second = page(), page()
    assert first == second                              # deterministic
    ids = [i for svg in first for i in re.findall(r'\bid="([^"]+)"', svg)]
    assert len(ids) == len(set(ids)) > 10                # no two charts share an id
    for svg in first:                                     # every reference resolves
        own = set(re.findall(r'\bid="([^"]+)"', svg))
        refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
        assert refs <= own


def test_text_stays_text_and_nothing_reaches_a_network():
    from helpers.run.render import network_references

    charts.setup()
    svg, _ = charts._svg_with_alt(_chart(4, list("abcd")))
    assert "<text" in svg and "Title" in svg          # searchable, selectable, accessible
    assert "<script" not in svg and not network_references(svg)
    assert "Date" not in svg and "Matplotlib" not in svg
