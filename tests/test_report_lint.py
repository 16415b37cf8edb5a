"""The report lint: each thing a reader should never see is caught, and a clean report
passes. Every report of a batch run goes through it (post-run checks, test_batch)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.report import charts
from helpers.run.checks import lint


def _nb(*outputs, tags=()):
    return {"cells": [{"cell_type": "code", "metadata": {"tags": list(tags)},
                       "outputs": list(outputs)}]}


def _png(alt="A chart of something", **meta):
    return {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="},
            "metadata": {"image/png": {"alt": alt, "nonnegative": True, "data_min": 0.5,
                                       "n_values": 10, **meta}}}


def _html(body):
    return f"<html><head><style>x{{}}</style></head><body>{body}<footer>nan</footer></body></html>"


TABLE = ("<table><tr><th>Practice</th><th>Referrals a year</th><th>Change</th></tr>"
         "<tr><td>A1</td><td>{v}</td><td>−3.2%</td></tr></table>")


def test_a_clean_report_passes():
    nb = _nb(_png(), {"output_type": "display_data",
                      "data": {"text/html": "<table class='pack-table'></table>",
                               "text/plain": "<IPython.core.display.HTML object>"}})
    assert lint(nb, _html("<p>Ratio 1.08 (95% CI 1.02 to 1.15)</p>" + TABLE.format(v="1,235")
                          )) == []


@pytest.mark.parametrize("output,expect", [
    ({"output_type": "display_data", "data": {"text/html": '<table class="dataframe">',
                                              "text/plain": "x"}}, "raw DataFrame"),
    ({"output_type": "display_data", "data": {"text/html": '<th class="row_heading">0</th>',
                                              "text/plain": "x"}}, "index column"),
    ({"output_type": "execute_result", "data": {"text/plain": "0    1.2\nName: ratio"}},
     "raw output repr"),
    ({"output_type": "stream", "name": "stdout", "text": "[GPBoost] [Info] ..."},
     "printed output"),
    (_png(alt=""), "without alt text"),
    (_png(n_values=0), "empty chart"),
    (_png(data_min=-20.0), "negative value"),
])
def test_each_fault_in_the_outputs_is_caught(output, expect):
    problems = lint(_nb(output), _html("<p>fine</p>"))
    assert any(expect in p for p in problems), problems


def test_removed_cells_are_not_linted():
    out = {"output_type": "execute_result", "data": {"text/plain": "{'a': 1}"}}
    assert lint(_nb(out, tags=["remove-cell"]), _html("<p>fine</p>")) == []


@pytest.mark.parametrize("body,expect", [
    ("<p>Ratio nan against England</p>", "'nan'"),
    ("<p>NaN practices</p>", "'NaN'"),
    ("<p>a saving of inf</p>", "'inf'"),
    ("<p>worth 4.81e+07 a year</p>", "'4.81e+07'"),
    ("<p>-0.4% (95% CI -0.4% to -0.4%)</p>", "equal ends"),
    ("<p>-1.6% (95% CI -3.1% to -0.0%)</p>", "negative zero '-0.0'"),
    ("<p>a margin of £-0k</p>", "negative zero"),
    ("<p>ratio 0.94 (95% CI 0.94 to 0.94)</p>", "equal ends"),
    (TABLE.format(v="−12"), "negative value '−12'"),
    (TABLE.format(v="-5"), "negative value '-5'"),
    ('<script src="https://cdn.example.org/x.js"></script>', "network references"),
    ("<script type='module'>await import('https://cdn.jsdelivr.net/m.mjs')</script>",
     "network references"),
    ("<style>@import url(//fonts.example.org/f.css);</style>", "network references"),
    ("<p>" + "x" * 2_100_000 + "</p>", "MB"),
])
def test_each_fault_in_the_page_is_caught(body, expect):
    problems = lint(_nb(), _html(body))
    assert any(expect in p for p in problems), problems


def test_charts_refuse_to_draw_nothing_or_to_go_without_alt_text():
    fig, ax = plt.subplots()
    with pytest.raises(charts.EmptyChartError):
        charts.finish(fig, ax, "T", "x", "y", "source", "alt")
    ax.plot([1, 2], [3, 4])
    with pytest.raises(ValueError, match="alt text"):
        charts.finish(fig, ax, "T", "x", "y", "source", "")
    with pytest.raises(charts.EmptyChartError):
        charts.bar_chart([], [], "T", "x", "y", "s", "alt")
    plt.close("all")


def test_a_long_area_name_keeps_the_chart_title_inside_the_figure():
    name = "NHS Lancashire and South Cumbria Integrated Care Board"
    fig = charts.lines_chart([1, 2, 3], {"FTE": [0.5, 0.6, 0.4]},
                             f"Payments per weighted patient by practice list size, {name}",
                             "List size", "£ per weighted patient", "src", alt="by size")
    fig.canvas.draw()
    ax = fig.axes[0]
    text = ax.get_title(loc="left")
    title = next(t for t in ax.get_children() if getattr(t, "get_text", None)
                 and t.get_text() == text)
    box = title.get_window_extent(fig.canvas.get_renderer())
    assert "\n" in text and name.split()[-1] in text
    assert 0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1
    plt.close("all")


def test_chart_metadata_records_negative_values_of_nonnegative_quantities():
    fig = charts.lines_chart([1, 2, 3], {"FTE": [0.5, -20.0, 0.4]}, "GP FTE by size",
                             "List size", "FTE per 1,000 patients", "src", alt="FTE by size")
    assert fig._pack_meta["nonnegative"] and fig._pack_meta["data_min"] == -20.0
    fig = charts.lines_chart([1, 2], {"x": [0.1, -0.2]}, "Effect", "Months since the switch",
                             "Effect (log ratio)", "src", alt="effect")
    assert not fig._pack_meta["nonnegative"]
    plt.close("all")


def test_the_sortable_table_script_reaches_no_network_and_is_on_a_page_once():
    """The script is small, refers to nothing outside the page, and a rendered page with
    long tables carries it once, at the end (a page without one carries none)."""
    from helpers.report.tables import SORTABLE_SCRIPT
    from helpers.run.render import network_references, to_html

    assert len(SORTABLE_SCRIPT) < 8_000 and network_references(SORTABLE_SCRIPT) == []
    nb, page = _sortable_page(tables=2)
    assert page.count(SORTABLE_SCRIPT) == 1 and page.index(SORTABLE_SCRIPT) > page.rindex(
        'class="pack-table pack-sortable"')
    plain = dict(nb, cells=[])
    assert "<script>" not in to_html(plain, "England", "footer")


def test_a_long_table_without_javascript_says_how_many_rows_more_and_where():
    """A reader without JavaScript sees the first 15 rows, a row saying how many more
    there are and that the download holds them all; the JSON beside it has every row."""
    import json
    import re

    import pandas as pd

    from helpers.report.tables import PAGE_ROWS, Col, sortable_html

    df = pd.DataFrame({"name": [f"P{i}" for i in range(40)], "n": range(40)})
    html = sortable_html(df, [Col("name", "Practice"), Col("n", "Referrals", "count")], "cap")
    assert html.count("<tr") == 1 + PAGE_ROWS + 1             # header, 15 rows, the note
    assert "(25 more rows not shown) Every row is in the download below." in html
    rows = json.loads(re.search(r'<script type="application/json"[^>]*>(.*?)</script>',
                                html, re.S).group(1))
    assert rows == [[f"P{i}", f"{i:,}"] for i in range(40)]


def _sortable_page(tables: int = 1):
    """A page as the batch writes it: long tables rendered in the kernel (no script there,
    ``PACK_BATCH``), then the page with the sortable-table script once."""
    import os

    import pandas as pd

    from helpers.report.tables import Col, table
    from helpers.run.render import to_html

    df = pd.DataFrame({"name": [f"P{i}" for i in range(40)], "n": range(40)})
    os.environ["PACK_BATCH"] = "1"
    try:
        cells = [table(df, [Col("name", "Practice"), Col("n", "Referrals", "count")],
                       f"cap {i}").data for i in range(tables)]
    finally:
        os.environ.pop("PACK_BATCH")
    nb = {"cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": "",
                     "execution_count": 1,
                     "outputs": [{"output_type": "display_data", "metadata": {},
                                  "data": {"text/html": cell, "text/plain": "x"}}]}
                    for i, cell in enumerate(cells)],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return nb, to_html(nb, "England", "footer")


def test_a_page_with_the_sortable_table_script_passes_the_lint():
    """The sortable-table script and each long table's JSON rows are the pack's own,
    recognised exactly."""
    nb, page = _sortable_page()
    assert page.count("function setUp(t)") == 1 and page.count('type="application/json"') == 1
    assert lint(nb, page) == []


@pytest.mark.parametrize("change", [
    ('body.textContent = "";', 'body.textContent = ""; alert(1);'),
    ("function num(s) {", "function num(s) { fetch('/x');"),
    ("</body>", "<script>/* pack-sortable */ setUp(alert(1))</script></body>"),
    ("</body>", '<script type="application/json">alert(1)</script></body>'),
    ("</body>", '<script type="application/json">[["a", 1]]</script></body>'),
    ("</body>", '<script type="application/json">{"a": ["b"]}</script></body>'),
])
def test_a_script_that_is_not_exactly_the_packs_is_caught(change):
    """The pack's script with one thing changed or added, a script that merely names it,
    or a data script that is not a list of rows of text, is not the pack's."""
    nb, page = _sortable_page()
    old, new = change
    assert old in page and lint(nb, page) == []
    problems = lint(nb, page.replace(old, new, 1))
    assert len([p for p in problems if "a script the pack did not write" in p
                or "a data script that is not a table's rows" in p]) == 1, problems


def test_a_long_tables_rows_must_equal_its_download():
    """The rows a reader pages through are the rows they download: a row changed in the
    JSON (beyond the first 15) or dropped from it is found."""
    nb, page = _sortable_page()
    assert lint(nb, page) == []
    for bad in (page.replace('["P30","30"]', '["P30","31"]'),
                page.replace('["P30","30"],', "")):
        assert bad != page
        assert any("differ from its download" in p for p in lint(nb, bad)), bad[-300:]


def test_a_negative_count_beyond_a_long_tables_first_rows_is_caught():
    """The lint reads every row of a long table (its JSON), not only the 15 shown first."""
    nb, page = _sortable_page()
    assert lint(nb, page) == []
    bad = page.replace('["P39","39"]', '["P39","−39"]')
    assert bad != page
    assert any("negative value '−39'" in p for p in lint(nb, bad))


@pytest.mark.parametrize("script", [
    "setUp(document.body); alert(1)",
    "/* pack-sortable */ alert(1)",
    'document.querySelectorAll("table.pack-sortable");alert(1);',
])
def test_a_script_from_data_that_names_the_table_script_is_caught(script):
    problems = lint(_nb(), _html(f"<p>fine</p><script>{script}</script>"))
    assert any("a script the pack did not write" in p for p in problems), problems


@pytest.mark.parametrize("rows", [3, 60])          # static, and sortable
def test_table_headers_and_cells_are_escaped(rows):
    """A column label built from data (an area's name) is text, never markup, in both
    kinds of table."""
    import pandas as pd

    from helpers.report.tables import Col, sortable_html, static_html

    df = pd.DataFrame({"name": ["<i>y</i>"] * rows, "n": range(rows)})
    cols = [Col("name", "Practices in <script>alert(1)</script>ICB"), Col("n", "N", "int")]
    for render in (static_html, sortable_html):
        page = render(df, cols, caption="<b>cap</b>")
        assert "<script>alert(1)" not in page and "<i>y" not in page and "<b>cap" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;ICB" in page


_FRAGMENTS = ["src", "href", "action", "poster", "data", "url(", "@import", "import(",
              "fetch(", "=", " ", "\n", '"', "'", "`", "http:", "https:", "//", "a.b/c", ")",
              ">", ";", "SRC", "<svg>", "</svg>", "<style>", "</style>", "<script>",
              "</script>", "<!-- x -->", "<title>", "</title>", "&amp;", "&lt;", "< ", "x"]


def _old_network_references(page: str) -> list[str]:
    """The lint's network check as one alternation of every form, matched at every
    character (what :func:`helpers.run.render.network_references` must equal)."""
    import re

    one = re.compile("|".join(f"(?:{f.pattern})" for f in __import__(
        "helpers.run.render", fromlist=["NETWORK_FORMS"]).NETWORK_FORMS))
    return [page[m.start():m.end()] for m in one.finditer(page.lower())]


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=60).map("".join))
@settings(max_examples=400, deadline=None)
def test_network_references_finds_what_one_pattern_of_all_forms_would(page):
    from helpers.run.render import network_references

    assert network_references(page) == _old_network_references(page)


def test_network_references_on_known_pages():
    from helpers.run.render import network_references

    page = ('<img src = "HTTPS://x.org/a.png"><a href="#t">in page</a><style>@import '
            "'//cdn.x/y.css';b{background:url( 'http://x/i.png' )}</style>"
            "<script>fetch(`//api.x/q`); import('https://m.x/m.js')</script>")
    assert network_references(page) == ['src = "HTTPS://x.org/a.png',
                                         "@import '//cdn.x/y.css",
                                         "url( 'http://x/i.png' )", "fetch(`//api.x/q",
                                         "import('https://m.x/m.js"]


def test_network_references_quote_the_reference_when_lower_case_changes_lengths():
    from helpers.run.render import network_references

    assert network_references('İstanbul <img src="//x.org/a.png">') == ['src="//x.org/a.png']


def _plain_parse(page):
    from helpers.run.checks import _Text

    parser = _Text()
    parser.feed(page)
    parser.close()
    return parser


_MARKUP = st.sampled_from(_FRAGMENTS + ["<table><tr><td>", "</td></tr></table>",
                                       "<svg class='c' aria-label='a &gt; b'>", "<text x='1'>",
                                       "</text>", "1.5", "nan", "<footer>", "</footer>",
                                       "<th>", "</th>", "<g id='x'>", "</g>", "<TD>", "</SVG>",
                                       "<svg ", "<svg class=x"])


@given(st.lists(st.tuples(st.lists(_MARKUP, max_size=12).map("".join),
                          st.lists(_MARKUP, max_size=12).map("".join)), max_size=6).map(
    lambda parts: "".join(f"{outer}<svg>{inner}</svg>" for outer, inner in parts)))
@settings(max_examples=600, deadline=None)
def test_the_page_parse_reads_what_the_html_parser_reads(page):
    """The lint reads a chart's SVG text by pattern (the HTML parser spent most of its time
    there); on any mix of markup, hostile or not, the text and table cells are the
    parser's own."""
    from helpers.run.checks import _parsed

    _parsed.cache_clear()
    fast, plain = _parsed(page), _plain_parse(page)
    assert fast.text == plain.text
    assert fast.tables == plain.tables


@pytest.mark.parametrize("page", ["<p>a</p><svg></svg><p>b</p><svg class=x",
                                  "<svg><text>1</text></svg><svg ", "<svg>", "<svg>x</svg",
                                  "<svg><text>a</text>"])
def test_a_cut_off_svg_is_read_as_the_parser_reads_it(page):
    """A page cut off inside a chart (a start tag never closed, no end tag) ends the
    pattern read; the parser reads the rest, and the read finishes."""
    from helpers.run.checks import _parsed

    _parsed.cache_clear()
    fast, plain = _parsed(page), _plain_parse(page)
    assert fast.text == plain.text and fast.tables == plain.tables


def test_the_page_parse_reads_real_chart_svg_as_the_parser_does():
    """Every chart kind, with names holding markup characters, drawn as the pages carry
    it, inside a page with a table: the same text nodes as the HTML parser."""
    import numpy as np

    from helpers.run.checks import _parsed

    charts.setup()
    fig = charts.scatter_chart(np.arange(5.0), np.arange(5.0), "A < B & 'C'", "x (count)",
                               "y (count)", "Practice <b>&amp;</b>", "alt > text")
    ax = fig.axes[0]
    sc = ax.collections[0]
    charts.name_points(ax, sc, ["P<1>", "P&2", "P'3", 'P"4', "P5"])
    svg, _ = charts._svg_with_alt(fig)
    page = _html("<p>Before</p>" + svg + TABLE.format(v="1,235") + svg + "<p>after</p>")
    _parsed.cache_clear()
    fast, plain = _parsed(page), _plain_parse(page)
    assert fast.text == plain.text and fast.tables == plain.tables
    assert "P<1>" in " ".join(fast.text) and "A < B & 'C'" in " ".join(fast.text)
    plt.close("all")
