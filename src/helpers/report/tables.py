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
                shown: pd.DataFrame | None = None, attrs: str = 'class="pack-table"') -> str:
    """A static HTML table (pandas Styler, every cell and header escaped, numbers
    right-aligned); ``shown`` is :func:`display_frame` of it, when already made; ``attrs``
    the table element's attributes."""
    shown = display_frame(df, cols) if shown is None else shown
    right = [c.label for c in cols if c.fmt in NUMERIC]
    left = [c.label for c in cols if c.fmt not in NUMERIC]
    sty = shown.style.hide(axis="index").format(escape="html").format_index(
        escape="html", axis="columns").set_table_styles(STYLE)
    sty = sty.set_table_attributes(attrs)
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


PAGE_ROWS = 15
"""Rows a long table shows at first (and all a reader without JavaScript sees of it; every
row is in its CSV download)."""

SORTABLE_SCRIPT = r"""<script>
(function () {
  /* Long tables: sort by a column (its header is a button), search and page. Each
     table.pack-sortable holds its first rows as plain HTML (what a reader without
     JavaScript sees) and every row as JSON data beside it; cells are set as text. */
  function num(s) {
    var v = parseFloat(s.replace(/\u2212/g, "-").replace(/[\u00a3,%+km\s]/g, ""));
    return isNaN(v) ? null : v;
  }
  function el(tag, text) {
    var e = document.createElement(tag); if (text) { e.textContent = text; } return e;
  }
  function setUp(t) {
    var data = document.getElementById("pack-rows-" + t.getAttribute("data-key"));
    if (t.getAttribute("data-ready") || !data || !t.tHead || !t.tBodies.length) { return; }
    t.setAttribute("data-ready", "1");
    var all = JSON.parse(data.textContent), shown = all, size = 15, first = 0;
    var key = -1, up = true, body = t.tBodies[0], heads = t.tHead.rows[0].cells;
    var numeric = (t.getAttribute("data-num") || "").split(",").filter(Boolean).map(Number);
    var label = t.caption ? t.caption.textContent : "this table";
    var tools = el("div"), search = el("input"), pick = el("select");
    var back = el("button", "Previous rows"), next = el("button", "Next rows");
    var status = el("p"), sl = el("label", "Search " + label + " "), pl = el("label", " Rows shown ");
    tools.className = "pack-tools"; search.type = "search"; status.className = "pack-status";
    status.setAttribute("role", "status"); back.type = next.type = "button";
    [["15", "15"], ["50", "50"], ["100", "100"], ["0", "all"]].forEach(function (o) {
      var e = el("option", o[1]); e.value = o[0]; pick.appendChild(e);
    });
    sl.appendChild(search); pl.appendChild(pick);
    [sl, pl, back, next].forEach(function (e) { tools.appendChild(e); });
    t.parentNode.insertBefore(tools, t);
    t.parentNode.insertBefore(status, t.nextSibling);
    function order() {
      if (key < 0) { return; }
      var n = numeric.indexOf(key) >= 0, d = up ? 1 : -1;
      shown = shown.slice().sort(function (a, b) {
        if (!n) { return d * a[key].localeCompare(b[key], undefined, {numeric: true}); }
        var x = num(a[key]), y = num(b[key]);
        if (x === null || y === null) { return (x === null) - (y === null); }
        return d * (x - y);
      });
    }
    function draw() {
      var last = size ? Math.min(shown.length, first + size) : shown.length;
      body.textContent = "";
      shown.slice(first, last).forEach(function (r) {
        var tr = el("tr");
        r.forEach(function (c, i) {
          var td = el("td", c);
          if (numeric.indexOf(i) >= 0) { td.style.textAlign = "right"; }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      back.disabled = first === 0; next.disabled = last >= shown.length;
      status.textContent = shown.length ? "Rows " + (first + 1).toLocaleString("en-GB") +
        "\u2013" + last.toLocaleString("en-GB") + " of " + shown.length.toLocaleString("en-GB") +
        (shown.length < all.length ? " matching (of " + all.length.toLocaleString("en-GB") +
         ")" : "") : "No rows match";
    }
    Array.prototype.forEach.call(heads, function (th, i) {
      var b = el("button");
      b.type = "button"; b.className = "pack-sort";
      while (th.firstChild) { b.appendChild(th.firstChild); }
      th.appendChild(b); th.setAttribute("aria-sort", "none");
      b.addEventListener("click", function () {
        up = key === i ? !up : true; key = i;
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        order(); first = 0; draw();
      });
    });
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      shown = q ? all.filter(function (r) { return r.join(" ").toLowerCase().indexOf(q) >= 0; })
        : all;
      order(); first = 0; draw();
    });
    pick.addEventListener("change", function () { size = Number(pick.value); first = 0; draw(); });
    back.addEventListener("click", function () { first = Math.max(0, first - size); draw(); });
    next.addEventListener("click", function () { first += size; draw(); });
    draw();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.pack-sortable"), setUp);
})();
</script>"""
"""The pack's sortable-table script (about 4 kB), once in a rendered page that has a long
table (:func:`helpers.run.render.to_html`) and after each long table in JupyterLab. It is
written here rather than taken from a library: the maintained table libraries (DataTables
through itables, about 970 kB inline) outweighed the pages they served, and the page needs
only sort, search and paging over cells that are already formatted text. The lint accepts
it only exactly as written here."""


def _json_rows(shown: pd.DataFrame) -> str:
    """A display frame's rows as JSON for a script element: every '<', '>' and '&' escaped,
    so no cell can end the element or open markup."""
    import json

    text = json.dumps([[str(c) for c in r] for r in shown.itertuples(index=False)],
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
    body = sortable_html(df, cols, caption, shown) + _script_here() if long else \
        static_html(df, cols, caption, shown)
    return HTML(body + download_link(df, cols, caption, shown))
