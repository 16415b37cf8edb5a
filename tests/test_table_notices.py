"""A sortable table's page text is its data: none of itables' own notices ("Loading ITables
v2.9.1 from the init_notebook_mode cell... (need help?)", "trust this notebook"), which a
page read without JavaScript, or by a text reader, would otherwise show."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd

from helpers.report.tables import Col, sortable_html, without_itables_notices


class _Text(HTMLParser):
    """The text a reader sees: everything outside scripts and styles, hidden or not."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split())


def test_sortable_table_shows_no_itables_notice():
    df = pd.DataFrame({"practice": [f"P{i:05d}" for i in range(30)],
                       "list": range(1000, 31000, 1000)})
    html = sortable_html(df, [Col("practice", "Practice"), Col("list", "List size", "int")],
                         "Practices")
    text = visible_text(html)
    assert "Loading ITables" not in text and "need help" not in text
    assert "trust this notebook" not in html and "init_notebook_mode" not in html
    # the data are still there (the static copy shown without JavaScript: its first page)
    assert all(f"P{i:05d}" in text for i in range(10)) and "1,000" in text


def test_notice_removal_keeps_everything_else():
    page = ('<table id="t"><thead><tr><th>A</th></tr></thead>\n  <tbody>\n    <tr>\n'
            '      <td style="x"><svg>logo</svg>\n        Loading ITables v2.9.1 from the '
            '<code>init_notebook_mode</code> cell...\n        (need help?)\n      </td>\n'
            '    </tr>\n  </tbody>\n</table><div id="t_fallback"><table><thead><tr><th><sup>'
            '<noscript><span title="JavaScript not allowed. Please trust this notebook to get '
            'interactive tables.">L</span></noscript>i</sup>A</th></tr></thead><tbody><tr>'
            '<td>1</td></tr></tbody></table></div>')
    out = without_itables_notices(page)
    assert "Loading" not in out and "trust" not in out and "logo" not in out
    assert '<table id="t"><thead><tr><th>A</th></tr></thead>\n<tbody></tbody>' in \
        out.replace("  <tbody></tbody>", "<tbody></tbody>")
    assert "<tbody><tr><td>1</td></tr></tbody>" in out
    assert without_itables_notices(out) == out
