"""Tables for readers: plain headers with units, formatted numbers, no index, never truncated.

A report describes each table's columns with :class:`Col` (source column, header with its
unit, format) and calls :func:`table`. Numbers get thousands separators and a fixed number of
decimals per column; money is in one unit per report (£, £k or £m, said in the header);
disclosure-controlled cells read "suppressed" and missing values "–"; every text cell is
HTML-escaped. Short tables render as static HTML (pandas ``Styler``); long ones (over
``SORTABLE_ROWS`` rows) as sortable, searchable tables that work offline (itables, with its
JavaScript bundle embedded once per report, no network). Every table carries a link to
download it as CSV, held in the page itself (a ``data:`` address, so it works on a page
emailed on its own): the cells exactly as shown (published values only in publish mode),
UTF-8 with a byte-order mark so spreadsheet programs read £ and − correctly.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

SORTABLE_ROWS = 25
SUPPRESSED = "suppressed"
MISSING = "–"
FORMATS = ("text", "count", "orgs", "int", "number", "ratio", "pct", "pct_change", "gbp",
           "gbpk", "gbpm", "year")
NUMERIC = set(FORMATS) - {"text", "year"}


@dataclass(frozen=True)
class Col:
    """One displayed column: where it comes from, its header (with unit) and format.

    Formats: ``text``; ``count`` (people or events; already disclosure-controlled by the
    report in publish mode); ``orgs`` (practices, networks: shown exactly); ``int``;
    ``number``/``ratio`` (``decimals``, default 2); ``pct`` (a share, 0–100); ``pct_change``
    (signed %); ``gbp``/``gbpk``/``gbpm`` (£, £ thousands, £ millions); ``year``
    (financial year 2019 → 2019/20).
    """

    source: str
    label: str
    fmt: str = "text"
    decimals: int | None = None

    def __post_init__(self):
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown column format {self.fmt!r}; use one of {FORMATS}")


def _signed(value: float, decimals: int, prefix: str = "", suffix: str = "",
            plus: bool = False) -> str:
    """A number with thousands separators; a minus sign (before any £) only when the
    rounded value is not zero, so no '-0' or '£-0k'."""
    text = f"{abs(value):,.{decimals}f}"
    nonzero = any(ch not in "0.," for ch in text)
    sign = "−" if value < 0 and nonzero else ("+" if plus and value > 0 and nonzero else "")
    return f"{sign}{prefix}{text}{suffix}"


def _one(value, col: Col) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    f, d = col.fmt, col.decimals
    if f in ("count", "orgs", "int"):
        return _signed(value, 0)
    if f in ("number", "ratio"):
        return _signed(value, 2 if d is None else d)
    if f == "pct":
        return _signed(value, 1 if d is None else d, suffix="%")
    if f == "pct_change":
        return _signed(value, 1 if d is None else d, suffix="%", plus=True)
    if f == "gbp":
        return _signed(value, 0 if d is None else d, prefix="£")
    if f == "gbpk":
        return _signed(value / 1e3, 0 if d is None else d, prefix="£", suffix="k")
    if f == "gbpm":
        return _signed(value / 1e6, 1 if d is None else d, prefix="£", suffix="m")
    if f == "year":
        return f"{int(value)}/{str(int(value) + 1)[-2:]}"
    return str(value)


def display_frame(df: pd.DataFrame, cols: list[Col]) -> pd.DataFrame:
    """The table as display strings, headed by the columns' labels. Cells marked in
    ``df.attrs['suppressed']`` (a boolean frame or dict of column → mask) read
    'suppressed'."""
    marks = df.attrs.get("suppressed", {})
    out = {}
    for c in cols:
        if c.source not in df.columns:
            raise KeyError(f"table has no column '{c.source}' (has {list(df.columns)})")
        values = [_one(v, c) for v in df[c.source].tolist()]
        mask = marks.get(c.source) if isinstance(marks, dict) else (
            marks[c.source] if c.source in getattr(marks, "columns", []) else None)
        if mask is not None:
            values = [SUPPRESSED if bool(m) else v for v, m in zip(values, np.asarray(mask),
                                                                  strict=True)]
        out[c.label] = values
    return pd.DataFrame(out)


STYLE = [
    {"selector": "", "props": "border-collapse: collapse; font-size: 13px; margin: 0.4em 0;"},
    {"selector": "th", "props": "text-align: left; border-bottom: 2px solid #425563; "
                                 "padding: 4px 8px; vertical-align: bottom;"},
    {"selector": "td", "props": "padding: 3px 8px; border-bottom: 1px solid #d8dde0;"},
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold; "
                                      "padding-bottom: 4px;"},
]


def static_html(df: pd.DataFrame, cols: list[Col], caption: str = "",
                shown: pd.DataFrame | None = None) -> str:
    """A static HTML table (pandas Styler, every cell and header escaped, numbers
    right-aligned); ``shown`` is :func:`display_frame` of it, when already made."""
    shown = display_frame(df, cols) if shown is None else shown
    right = [c.label for c in cols if c.fmt in NUMERIC]
    left = [c.label for c in cols if c.fmt not in NUMERIC]
    sty = shown.style.hide(axis="index").format(escape="html").format_index(
        escape="html", axis="columns").set_table_styles(STYLE)
    sty = sty.set_table_attributes('class="pack-table"')
    if left:
        sty = sty.set_properties(subset=left, **{"text-align": "left"})
    if right:
        sty = sty.set_properties(subset=right, **{"text-align": "right"})
        sty = sty.set_table_styles({c: [{"selector": "th", "props": "text-align: right;"}]
                                    for c in right}, overwrite=False)
    if caption:
        from html import escape
        sty = sty.set_caption(escape(caption))
    key = hashlib.sha1((caption + _csv(shown)).encode()).hexdigest()[:8]
    return sty.to_html(uuid=key)


_ITABLES_PLACEHOLDER = re.compile(r"<tbody>\s*<tr>\s*<td[^>]*>.*?Loading ITables.*?</td>\s*"
                                  r"</tr>\s*</tbody>", re.S)
"""The row itables puts in a table's body until its script fills it ("Loading ITables
v2.9.1 from the init_notebook_mode cell... (need help?)", with an animated logo): text a
page without JavaScript or a text reader would show, about the notebook, not the data."""
_ITABLES_TRUST_HINT = re.compile(r"<noscript><span title=\"JavaScript not allowed[^\"]*\">"
                                 r".*?</span></noscript>", re.S)
"""itables' lock mark in its no-JavaScript copy, asking a reader to trust the notebook."""


def without_itables_notices(html: str) -> str:
    """itables' table with its loading row and its 'trust this notebook' mark taken out:
    the data table's body is empty until its script fills it, and the static copy beside it
    (shown without JavaScript) carries the data alone."""
    return _ITABLES_TRUST_HINT.sub("", _ITABLES_PLACEHOLDER.sub("<tbody></tbody>", html))


def sortable_html(df: pd.DataFrame, cols: list[Col], caption: str = "",
                  shown: pd.DataFrame | None = None) -> str:
    """A sortable, searchable table (itables, offline) for long lists. itables escapes
    cells and headers but not the caption, which may hold an area's name: escaped here.
    ``shown`` is :func:`display_frame` of it, when already made."""
    from html import escape

    import itables

    shown = display_frame(df, cols) if shown is None else shown
    numeric = [i for i, c in enumerate(cols) if c.fmt in NUMERIC]
    return without_itables_notices(itables.to_html_datatable(
        shown, caption=escape(caption) if caption else None, connected=False, showIndex=False,
        paging=True, pageLength=15, lengthMenu=[15, 50, 100, -1], order=[],
        columnDefs=[{"targets": numeric, "type": "num-fmt", "className": "dt-right"},
                    {"targets": [i for i in range(len(cols)) if i not in numeric],
                     "className": "dt-left"}],
        layout={"topStart": "pageLength", "topEnd": "search", "bottomStart": "info",
                "bottomEnd": "paging"}, classes="display compact"))


def _itables_ready() -> str:
    """The itables bundle, once per report (a kernel namespace flag, cleared between
    reports by the batch's namespace reset). In a batch run (``PACK_BATCH`` set) the
    rendered page gets it once instead (:func:`helpers.run.render.with_itables_bundle`),
    which keeps a megabyte of JavaScript out of every executed notebook."""
    import os

    from IPython import get_ipython

    ip = get_ipython()
    if ip is None or ip.user_ns.get("_pack_itables_ready") or os.environ.get("PACK_BATCH"):
        return ""
    import itables
    from itables.javascript import generate_init_offline_itables_html

    ip.user_ns["_pack_itables_ready"] = True
    return generate_init_offline_itables_html(itables.options.dt_bundle)


def csv_text(df: pd.DataFrame, cols: list[Col]) -> str:
    """The table as CSV: its headers and cells exactly as the page shows them."""
    return _csv(display_frame(df, cols))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?")
"""A cell that is a number as the page writes it ('-5', '+4.8%', '1,234.5'): left a number."""


def csv_cell(value: object) -> str:
    """One CSV cell, safe to open in a spreadsheet: a text cell starting with '=', '+', '-',
    '@', a tab or a carriage return is prefixed with "'" so it is read as text, never run
    as a formula (OWASP's advice); a number ('-5', '+4.8%') stays a number. Every cell and
    header of every CSV the pack writes goes through here."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(cells: list) -> str:
    """One CSV line, each cell through :func:`csv_cell`: the pack's one CSV writer (every
    table download and any row added to one). Lines end CRLF (RFC 4180), so a cell holding
    a carriage return or line break is quoted."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([csv_cell(c) for c in cells])
    return out.getvalue()


def _csv(shown: pd.DataFrame) -> str:
    """A display frame as CSV (UTF-8 with a byte-order mark, so spreadsheets read £), line
    by line through :func:`csv_row`."""
    return "\ufeff" + "".join(csv_row(r) for r in [list(shown.columns),
                                                    *shown.itertuples(index=False)])


def csv_name(caption: str) -> str:
    """A file name for a table's download, from its caption."""
    stem = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-")[:60].strip("-")
    return f"{stem or 'table'}.csv"


def download_link(df: pd.DataFrame, cols: list[Col], caption: str = "",
                  shown: pd.DataFrame | None = None) -> str:
    """A link that downloads the table as CSV (:func:`csv_text`), held in the page;
    ``shown`` is :func:`display_frame` of it, when already made."""
    text = csv_text(df, cols) if shown is None else _csv(shown)
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (f'<p class="pack-csv"><a download="{csv_name(caption)}" '
            f'href="data:text/csv;charset=utf-8;base64,{data}">Download this table '
            f"(CSV)</a></p>")


def table(df: pd.DataFrame, cols: list[Col], caption: str = "", sortable: bool | None = None):
    """Display a table (an ``IPython.display.HTML``): static, or sortable when longer than
    ``SORTABLE_ROWS`` rows unless ``sortable`` says otherwise; with its CSV download."""
    from IPython.display import HTML

    long = len(df) > SORTABLE_ROWS if sortable is None else sortable
    shown = display_frame(df, cols)           # formatted once for the table and its CSV
    body = _itables_ready() + sortable_html(df, cols, caption, shown) if long else \
        static_html(df, cols, caption, shown)
    return HTML(body + download_link(df, cols, caption, shown))
