"""Tables for readers: plain headers with units, formatted numbers, no index, never truncated.

A report describes each table's columns with :class:`Col` (source column, header with its
unit, format) and calls :func:`table`. Numbers get thousands separators and a fixed number of
decimals per column; money is in one unit per report (£, £k or £m, said in the header);
disclosure-controlled cells read "suppressed" and missing values "–"; every text cell is
HTML-escaped. Short tables render as static HTML (pandas ``Styler``); long ones (over
``SORTABLE_ROWS`` rows) as sortable, searchable, paged tables that work offline (the pack's
own small script, :data:`SORTABLE_SCRIPT`, once per page; no network). Every table carries a link to
download it as CSV, held in the page itself (a ``data:`` address, so it works on a page
emailed on its own): the cells exactly as shown (published values only in publish mode),
UTF-8 with a byte-order mark so spreadsheet programs read £ and − correctly.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.formats import FORMULA_START, TABLE_CSS, csv_cell, csv_row, csv_rows  # noqa: F401
from helpers.page_scripts import SORTABLE_SCRIPT

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
    return pd.DataFrame(out, dtype=object)


def _rows(shown: pd.DataFrame) -> list[tuple]:
    """A display frame's rows as plain tuples of its cells (``itertuples`` builds a named
    tuple class and slices the frame column by column on every call)."""
    return list(zip(*(shown.iloc[:, k].tolist() for k in range(shown.shape[1])),
                    strict=True)) if shown.shape[1] else [() for _ in range(len(shown))]


def static_html(df: pd.DataFrame, cols: list[Col], caption: str = "",
                shown: pd.DataFrame | None = None, attrs: str = 'class="pack-table"') -> str:
    """A static HTML table: every cell, header and the caption escaped as text ('&', '<'
    and '>'; quotes mean nothing in text and stay as written), numbers
    right-aligned, headers marked as column headers; ``shown`` is :func:`display_frame` of
    it, when already made; ``attrs`` the table element's attributes. Written directly
    rather than with pandas' Styler, which gave the same table at 3–5 times the bytes (an
    id and classes on every cell, a style rule per column) and several times the time."""
    from html import escape

    shown = display_frame(df, cols) if shown is None else shown
    key = hashlib.sha1((caption + _csv(shown)).encode()).hexdigest()[:8]
    tid = f"T_{key}"
    cls = ['' if c.fmt not in NUMERIC else ' class="r"' for c in cols]
    head = "".join(f'<th scope="col"{k}>{escape(str(h), quote=False)}</th>'
                   for h, k in zip(shown.columns, cls, strict=True))
    body = "".join("<tr>" + "".join(f"<td{k}>{escape(str(v), quote=False)}</td>"
                                    for v, k in zip(row, cls, strict=True)) + "</tr>\n"
                   for row in _rows(shown))
    cap = f"<caption>{escape(caption, quote=False)}</caption>" if caption else ""
    return (f"<style>{TABLE_CSS.format(id=tid)}</style>\n<table id=\"{tid}\" {attrs}>{cap}"
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>\n")


PAGE_ROWS = 15
"""Rows a long table shows at first (and all a reader without JavaScript sees of it; every
row is in its CSV download)."""

def _json_rows(shown: pd.DataFrame) -> str:
    """A display frame's rows as JSON for a script element: every '<', '>' and '&' escaped,
    so no cell can end the element or open markup."""
    import json

    text = json.dumps([[str(c) for c in r] for r in _rows(shown)],
                      ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def sortable_html(df: pd.DataFrame, cols: list[Col], caption: str = "",
                  shown: pd.DataFrame | None = None) -> str:
    """A long table: its first :data:`PAGE_ROWS` rows as a static table (escaped, what a
    reader without JavaScript sees, with a row saying how many more there are) and every
    row as JSON data (``<script type="application/json">``) that :data:`SORTABLE_SCRIPT`
    sorts, searches and pages. ``shown`` is :func:`display_frame` of it, when made."""
    shown = display_frame(df, cols) if shown is None else shown
    key = hashlib.sha1((caption + _csv(shown)).encode()).hexdigest()[:8]
    numeric = ",".join(str(i) for i, c in enumerate(cols) if c.fmt in NUMERIC)
    html = static_html(df, cols, caption, shown.head(PAGE_ROWS),
                       attrs=f'class="pack-table pack-sortable" data-key="{key}" '
                             f'data-num="{numeric}"')
    more = len(shown) - PAGE_ROWS
    if more > 0:
        row = (f'<tr class="pack-more"><td colspan="{len(cols)}">({more:,} more '
               f'row{"s" if more != 1 else ""} not shown) Every row is in the download '
               f"below.</td></tr>")
        i = html.rfind("</tbody>")
        html = html[:i] + row + html[i:]
    return (html + f'<script type="application/json" id="pack-rows-{key}">'
            f"{_json_rows(shown)}</script>")


def _script_here() -> str:
    """The sortable-table script after a long table in JupyterLab; nothing in a batch run
    (``PACK_BATCH`` set), where the rendered page gets it once."""
    import os

    return "" if os.environ.get("PACK_BATCH") else SORTABLE_SCRIPT


def csv_text(df: pd.DataFrame, cols: list[Col]) -> str:
    """The table as CSV: its headers and cells exactly as the page shows them."""
    return _csv(display_frame(df, cols))


def _csv(shown: pd.DataFrame) -> str:
    """A display frame as CSV (UTF-8 with a byte-order mark, so spreadsheets read £), each
    line as :func:`csv_row` writes it."""
    return "\ufeff" + csv_rows([list(shown.columns), *_rows(shown)])


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
    body = sortable_html(df, cols, caption, shown) + _script_here() if long else \
        static_html(df, cols, caption, shown)
    return HTML(body + download_link(df, cols, caption, shown))
