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
    got = [html.unescape(t) for t in re.findall(r'class="pack-pt[^"]*"[^>]*><title>([^<]*)</title>',
                                                 svg)]
    assert got == names
    assert len(re.findall(r'tabindex="0"', svg)) == 1            # one tab stop a group
    assert 'tabindex="-1"' not in svg       # the rest by arrow keys (tabindex set by the page)
    # the role (an image named by its title) is the page's script's to set at load, with
    # the other points' tabindex: written on each of hundreds of points it was 7 kB a page
    assert len(re.findall(r'class="pack-pt[^"]*"(?: tabindex="0")?><title>', svg)) == n
    assert 'role="img"><title>' not in svg
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


def _elements(svg: str):
    """(tag, text, attributes, style declarations) of each element in document order, the
    style read from the element's inline style or its classes' rules in the SVG's style
    block; ids and references left out (compared separately)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    rules: dict[str, dict[str, str]] = {}
    for style in root.iter(f"{ns}style"):
        for sels, body in re.findall(r"([^{}]+)\{([^}]*)\}", style.text or ""):
            for sel in sels.split(","):
                for decl in body.split(";"):
                    k, _, v = decl.partition(":")
                    if k.strip():
                        rules.setdefault(sel.strip(), {})[k.strip()] = v.strip()
    out = []
    for e in root.iter():
        if e.tag == f"{ns}style":
            continue
        decls = {}
        for c in e.get("class", "").split():
            decls.update(rules.get(f".{c}", {}))
        for decl in e.get("style", "").split(";"):
            k, _, v = decl.partition(":")
            if k.strip():
                decls[k.strip()] = v.strip()
        attrs = {k.split("}")[-1]: v for k, v in e.attrib.items()
                 if k.split("}")[-1] not in ("id", "style", "class", "href", "clip-path")}
        out.append((e.tag, (e.text or "").strip(), attrs, decls,
                    [c for c in e.get("class", "").split() if c == "pack-pt"]))
    return out


def _numbers(value: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", value)]


def test_compact_svg_draws_the_same_chart_in_far_fewer_bytes():
    """The compacted chart has the same elements in the same order, the same text, names
    and alt text, the same style on every element (as a shared class now), coordinates
    within 0.005 pt, and every reference resolving; about half the bytes."""
    from unittest import mock

    from helpers.report import svg_canvas

    charts.setup()
    names = [f"P-{i:04d}: ratio {1 + i % 7:.3f}" for i in range(60)]
    small, _ = charts._svg_with_alt(_chart(60, names))
    charts.setup()
    with mock.patch.object(svg_canvas, "compact", lambda svg, prefix: svg):
        full, _ = charts._svg_with_alt(_chart(60, names))
    assert len(small) < 0.6 * len(full), (len(small), len(full))
    old, new = _elements(full), _elements(small)
    assert [e[:2] for e in old] == [e[:2] for e in new]            # tags and text
    assert [e[3] for e in old] == [e[3] for e in new]              # each element's style
    assert [e[4] for e in old] == [e[4] for e in new]              # named points
    for (tag, _, a, _, _), (_, _, b, _, _) in zip(old, new, strict=True):
        if "xlink:href" in a:                                      # SVG 2's plain href
            a = {("href" if k == "xlink:href" else k): v for k, v in a.items()}
        assert a.keys() - {"transform"} == b.keys() - {"transform"}, tag
        for k in a.keys() & b.keys():
            if k in svg_canvas.GEOMETRY_ATTRIBUTES:
                x, y = _numbers(a[k]), _numbers(b[k])
                assert len(x) == len(y) and all(abs(p - q) <= 0.5 * 10 ** -svg_canvas.DECIMALS + 1e-9
                                                for p, q in zip(x, y, strict=True)), (k, a[k])
            else:
                assert a[k] == b[k], k
        if "transform" in a.keys() ^ b.keys():                     # only zero rotations go
            assert re.fullmatch(r"rotate\(-?0 [-\d. ]+\)", a.get("transform", ""))
    own = set(re.findall(r'\bid="([^"]+)"', small))
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', small))
    assert refs == own and own                      # every id is used, every use resolves
    assert not re.search(r'(?:\bd|\bx|\by)="[^"]*\d\.\d{3}', small)    # 2 decimals at most
    assert re.findall(r"<title>([^<]*)</title>", small) == names


def test_compact_keeps_text_and_names_exactly_as_written():
    """Numbers in text, names and alt text are never rounded; only geometry is."""
    from helpers.report import svg_canvas

    svg = ('<svg width="10.123456pt" viewBox="0 0 10.123456 5"><defs><style type="text/css">'
           '</style></defs><g id="a"><text x="1.234567" style="fill: #000">0.123456</text>'
           '<use x="2.0049" y="3" style="fill: red" class="pack-pt"><title>P1: 1.23456'
           '</title></use></g></svg>')
    out = svg_canvas.compact(svg, "c9-")
    assert ">0.123456</text>" in out and "<title>P1: 1.23456</title>" in out
    assert 'width="10.1pt"' in out and 'x="1.2"' in out and 'x="2"' in out
    assert 'class="pack-pt c9-s2"' in out and 'id="a"' not in out
    assert ".c9-s1,.c9-s2{fill:#000}" not in out and ".c9-s1{fill:#000}" in out


def test_a_chart_with_two_named_series_has_one_tab_stop():
    """A funnel names its practices in two or three series (inside and beyond the limits);
    the chart is still one tab stop, the arrow keys reaching every point."""
    charts.setup()
    fig, ax = plt.subplots()
    a = ax.scatter([1, 2, 3], [1, 2, 3], label="Within")
    b = ax.scatter([4, 5], [5, 6], label="Beyond")
    charts.name_points(ax, a, ["A1", "A2", "A3"])
    charts.name_points(ax, b, ["B1", "B2"])
    svg, _ = charts._svg_with_alt(charts.finish(fig, ax, "Title", "Expected (count)",
                                                "Ratio (observed / expected)", "test",
                                                "A chart of two series"))
    assert svg.count('tabindex="0"') == 1
    assert re.findall(r"<title>([AB]\d)</title>", svg) == ["A1", "A2", "A3", "B1", "B2"]
