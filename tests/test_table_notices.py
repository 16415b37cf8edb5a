"""A long table's page text is its data: no notice from a table library ("Loading ITables
… (need help?)", "trust this notebook", as the library the pack once used left in pages), a
page read without JavaScript, or by a text reader, shows the first rows and says where the
rest are."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd

from helpers.report.tables import Col, sortable_html


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


def test_sortable_table_shows_its_data_and_no_library_notice():
    df = pd.DataFrame({"practice": [f"P{i:05d}" for i in range(30)],
                       "list": range(1000, 31000, 1000)})
    html = sortable_html(df, [Col("practice", "Practice"), Col("list", "List size", "int")],
                         "Practices")
    text = visible_text(html)
    assert "Loading" not in text and "need help" not in text and "trust" not in html
    # the static copy shown without JavaScript: its first page, and where the rest are
    assert all(f"P{i:05d}" in text for i in range(15)) and "1,000" in text
    assert "P00015" not in text
    assert "(15 more rows not shown) Every row is in the download below." in text
    # a table of exactly the first page's length has no such row
    short = sortable_html(df.head(15), [Col("practice", "Practice")], "Practices")
    assert "more row" not in visible_text(short)
