"""Post-run checks on an executed report notebook and its page, and the values its index
row shows.

Every report must have run without an exception or error output, drawn at least the number of
charts its catalogue entry promises, written its results file, and pass the report lint
(:func:`lint`): nothing a reader should not see.
"""

from __future__ import annotations

import functools
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

CHART_MIMES = ("image/svg+xml", "image/png")
"""How a chart is stored in an executed notebook: the pack draws SVG (older runs, PNG)."""


def _chart_mime(output: dict) -> str | None:
    """The chart format of a notebook output, or None when it is not a chart."""
    return next((m for m in CHART_MIMES if m in output.get("data", {})), None)


def check_output(nb: dict, min_figures: int, results_file: Path) -> list[str]:
    """Problems with an executed notebook (empty when it passed). Every chart the report
    drew must be on the page: the results file records how many it showed
    (``charts_shown``, counted as each was displayed), and the page must carry that many,
    which catches an inherited ``MPLBACKEND=Agg`` that silently drops every chart; without
    that count, at least ``min_figures`` (the catalogue's floor)."""
    problems = []
    if nb.get("metadata", {}).get("papermill", {}).get("exception"):
        problems.append("papermill recorded an exception")
    n_charts = 0
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                problems.append(f"error output: {o.get('ename')}: {o.get('evalue')}")
            if _chart_mime(o):
                n_charts += 1
    shown = None
    if not Path(results_file).exists():
        problems.append("results file not written")
    else:
        try:
            shown = json.loads(Path(results_file).read_text()).get("charts_shown")
        except (json.JSONDecodeError, UnicodeDecodeError):
            problems.append("results file is not valid JSON")
    # the results file says how many charts the report showed (none, legitimately, where
    # every value is suppressed); the catalogue's floor applies when it cannot say
    want = shown if isinstance(shown, int) else min_figures
    if n_charts < want:
        problems.append(f"expected at least {want} charts, found {n_charts}")
    return problems


def headline_values(results: dict, keys: tuple[str, ...]) -> dict:
    """The results values named by ``keys`` ("a.b" reaches into a nested dict), keyed by
    their last part; absent keys are left out."""
    out = {}
    for key in keys:
        value: object = results
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out[key.rsplit(".", 1)[-1]] = value
    return out


MAX_REPORT_BYTES = 2_000_000
"""The page-size budget of a report's own content (checked before the sortable-table
library, about 1 MB, is added to a page with a long table; so no page exceeds 3 MB)."""
NONNEG_HEADERS = ("list size", "referrals", "expected", "practices", "patients", "spend",
                  "spread", "combined list", "fte", "payments per", "ratio (observed",
                  "rows", "share of")
"""How the headers of columns that cannot be negative begin."""
_NUMBER_TEXT = re.compile(r"(?<![\w.])(?:nan|NaN|NAN|-?inf|-?Infinity)(?![\w.])|"
                          r"\d(?:\.\d+)?e[+-]\d+")
_NEGATIVE = re.compile(r"^\s*[−-]\s*£?\d")
_NEGATIVE_ZERO = re.compile(r"(?<![\w.,])[−-]£?0(?:\.0+)?(?![\d.,])")
"""'-0', '-0.0%', '£-0k' and the like: a value rounded to zero that kept its sign."""
_FLAT_CI = re.compile(r"95% CI ([−+-]?£?[\d.,]+%?) to \1(?![\d.])")
"""An interval whose two ends print the same: too few decimals to show its width."""


LIVE_ELEMENTS = ("iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
                 "button", "input", "textarea", "select", "link", "portal")
"""Elements a report never writes itself (its search box is on the site pages, not in a
report): in a report they can only have come from data that escaped escaping."""
URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster",
             "srcdoc", "background", "ping", "srcset")
_SCRIPT_URL = re.compile(r"(?:javascript|vbscript|livescript|data:text/html|data:image/svg)"
                         r"\s*:?", re.I)
_CONTROL = re.compile(r"[\x00-\x20]+")


def live_attribute(tag: str, name: str, value: str | None) -> str | None:
    """Why an attribute makes a page run something (an event handler such as ``onerror``,
    or a ``javascript:``/``vbscript:``/``data:text/html`` address), else None."""
    if name.startswith("on"):
        return f"event handler <{tag} {name}=…>"
    if name in URL_ATTRS and value and _SCRIPT_URL.match(_CONTROL.sub("", value)):
        return f"script address <{tag} {name}=\"{value[:40]}\">"
    return None


def _own_script(text: str) -> bool:
    """Whether a script is exactly one the pack writes: the chart point names
    (:data:`helpers.run.render.POINT_NAMES`) or the sortable-table script
    (:data:`helpers.report.tables.SORTABLE_SCRIPT`). Anything else, including one of these
    with a word changed or code added, is not the pack's."""
    from helpers.page_scripts import SORTABLE_SCRIPT
    from helpers.run.render import POINT_NAMES

    body = text.strip()
    return any(body == s.removeprefix("<script>").removesuffix("</script>").strip()
               for s in (POINT_NAMES, SORTABLE_SCRIPT))


def _table_rows(text: str) -> list[list[str]] | None:
    """A data script's rows (``type="application/json"``) if it is what the pack writes
    there: a long table's rows, a JSON list of lists of text, nothing else; else None."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError:
        return None
    ok = isinstance(rows, list) and all(
        isinstance(r, list) and all(isinstance(c, str) for c in r) for r in rows)
    return rows if ok else None


class _Text(HTMLParser):
    """Visible text and table cells of a rendered report (scripts, styles, footer and
    long tables' JSON rows left out), and any live markup: an element, attribute or script the
    pack does not write itself (:attr:`live`)."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.long_tables: list[list[list[str]]] = []   # header + every row of a long table
        self.live: list[str] = []
        self.markup: list[str] = []
        self._skip = 0
        self._cell: list[str] | None = None
        self._script: list[str] | None = None
        self._data = False
        self._style: list[str] | None = None

    def _live(self, tag, attrs):
        if tag in LIVE_ELEMENTS or (tag == "meta" and any(n == "http-equiv" for n, _ in attrs)):
            self.live.append(f"<{tag}> element")
        for name, value in attrs:
            why = live_attribute(tag, name, value)
            if why:
                self.live.append(why)
            if value and (name in URL_ATTRS or name == "style"):
                self.markup.append(f'{name}="{value}"')
        if tag == "style":
            self._style = []
        if tag == "script":
            if any(n == "src" for n, _ in attrs):
                self.live.append("script loaded from a file")
            self._script = []
            self._data = dict(attrs).get("type") == "application/json"

    def handle_starttag(self, tag, attrs):
        self._live(tag, attrs)
        if tag in ("script", "style", "footer"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            if self._data:
                rows = _table_rows("".join(self._script))
                if rows is None:
                    self.live.append("a data script that is not a table's rows")
                else:                       # a long table's every row, under its header
                    head = self.tables[-1][0] if self.tables and self.tables[-1] else []
                    self.long_tables.append([head, *rows])
            elif not _own_script("".join(self._script)):
                self.live.append(f"a script the pack did not write: "
                                 f"{''.join(self._script).strip()[:60]!r}")
            self.markup.append("".join(self._script))
            self._script = None
        if tag == "style" and self._style is not None:
            self.markup.append("".join(self._style))
            self._style = None
        if tag in ("script", "style", "footer"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._cell is not None:
            if self.tables and self.tables[-1]:
                self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        if self._style is not None:
            self._style.append(data)
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def lint(nb: dict, page: str, publish: bool = False) -> list[str]:
    """What a reader should never see, in an executed notebook and its rendered page:
    raw DataFrame reprs, index columns, stray printed output, NaN/inf/e+ or negative zero in text, intervals
    whose ends print the same, negative
    values of quantities that cannot be negative (tables and charts), empty charts, charts
    without alt text, network references, and pages over 2 MB; in publish mode, a chart
    whose drawn values (read back when it was drawn) imply a count publish mode would not
    show (:func:`helpers.disclosure.unpublished`). Empty when clean."""
    from helpers.run.render import REMOVE_TAGS, network_references

    problems = []
    for cell in nb.get("cells", []):
        if set(cell.get("metadata", {}).get("tags", [])) & REMOVE_TAGS:
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            html_out = "".join(data.get("text/html", ""))
            if o.get("output_type") == "execute_result" or (
                    "text/plain" in data and len(data) == 1):
                problems.append("raw output repr: "
                                + "".join(data.get("text/plain", ""))[:60].replace("\n", " "))
            if 'class="dataframe"' in html_out:
                problems.append("raw DataFrame table (pandas repr)")
            if "row_heading" in html_out or 'class="blank' in html_out:
                problems.append("table shows its index column")
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                problems.append("printed output: " + "".join(o.get("text", ""))[:60])
            mime = _chart_mime(o)
            if mime:
                md = o.get("metadata", {}).get(mime, {})
                if not md.get("alt"):
                    problems.append("chart without alt text")
                if md.get("n_values") == 0:
                    problems.append("empty chart")
                if publish and md.get("unpublished_counts"):
                    problems.append(f"chart discloses counts publish mode would not show "
                                    f"({md['unpublished_counts']}, e.g. "
                                    f"{md.get('unpublished_examples')}): {md.get('alt')}")
                if md.get("nonnegative") and md.get("data_min") is not None \
                        and md["data_min"] < 0:
                    problems.append(f"chart draws a negative value ({md['data_min']:.3g}) "
                                    f"of a quantity that cannot be negative: {md.get('alt')}")
    parser = _parsed(page)
    text = " ".join(parser.text)
    for m in _NUMBER_TEXT.finditer(text):
        problems.append(f"'{m.group(0)}' in the report text: "
                        f"…{text[max(0, m.start() - 40):m.end() + 20]}…")
    for m in _NEGATIVE_ZERO.finditer(text):
        problems.append(f"negative zero '{m.group(0)}' in the report text: "
                        f"…{text[max(0, m.start() - 40):m.end() + 20]}…")
    for m in _FLAT_CI.finditer(text):
        problems.append(f"interval with equal ends '{m.group(0)}' (show more decimals)")
    for table in parser.tables + parser.long_tables:
        if not table:
            continue
        header = [h.lower() for h in table[0]]
        for row in table[1:]:
            for h, v in zip(header, row, strict=False):
                if h.startswith(NONNEG_HEADERS) and _NEGATIVE.match(v):
                    problems.append(f"negative value '{v}' in column '{h}'")
    if parser.live:
        problems.append(f"live markup from data: {list(dict.fromkeys(parser.live))[:3]}")
    # addresses in markup only (attributes, style and script), never a name's text
    refs = network_references(" ".join(parser.markup))
    if refs:
        problems.append(f"network references: {refs[:3]}")
    problems += long_table_downloads(page)
    size = len(page.encode())
    if size > MAX_REPORT_BYTES:
        problems.append(f"report is {size / 1e6:.1f} MB (limit "
                        f"{MAX_REPORT_BYTES / 1e6:.0f} MB)")
    return problems


_LONG_TABLE = re.compile(r'<script type="application/json" id="pack-rows-(\w+)">(.*?)</script>'
                         r'\s*<p class="pack-csv"><a download="([^"]*)" '
                         r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', re.S)


def long_table_downloads(page: str) -> list[str]:
    """Each long table's rows (the JSON the page sorts, searches and pages) equal, row for
    row, to its CSV download (the pack's CSV writer's cells; a closing note row left out):
    the table a reader pages through is the table they download."""
    import base64
    import csv
    import io

    from helpers.formats import csv_cell

    out = []
    n_json = page.count('<script type="application/json" id="pack-rows-')
    found = _LONG_TABLE.findall(page)
    if len(found) != n_json:
        out.append(f"{n_json - len(found)} long table(s) without their CSV download")
    for key, rows, name, data in found:
        text = base64.b64decode(data).decode("utf-8-sig")
        body = [r for r in list(csv.reader(io.StringIO(text)))[1:]
                if not (r and r[0].startswith("Note: ") and not any(c.strip() for c in r[1:]))]
        shown = [[csv_cell(c) for c in r] for r in json.loads(rows)]
        if body != shown:
            at = next((i for i, (a, b) in enumerate(zip(body, shown, strict=False)) if a != b),
                      min(len(body), len(shown)))
            out.append(f"long table {key}: its {len(shown)} rows differ from its download "
                       f"{name} ({len(body)} rows), first at row {at + 1}")
    return out


_SVG_START = re.compile(r"<svg[\s>]")
_STYLE = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.S | re.I)
_NOT_PLAIN = re.compile(r"<(?![a-zA-Z/])|</?(?:script|style|footer|table|tr|td|th|meta|"
                        + "|".join(LIVE_ELEMENTS) + r")\b|\son[a-z]*\s*=|\s(?:" +
                        "|".join(URL_ATTRS) + r")\s*=\s*[\"']?\s*(?!#|data:image/png)"
                        r"(?:[a-z]+:|//)|url\(\s*[\"']?\s*(?:https?:)?//|@import", re.I)
"""In an SVG (its closed style blocks set aside), what the fast read leaves to the parser:
a '<' the parser reads as text or that opens a comment or declaration, the elements
:class:`_Text` or the parser treat specially, and anything that could be live (an ``on…``
attribute, an address with a scheme) for :class:`_Text` to judge."""
_TEXT_NODE = re.compile(r">([^<]+)")


@functools.lru_cache(maxsize=2)
def _parsed(page: str) -> _Text:
    """A page parsed once for the lint and the semantic check (read only).

    A chart's inline SVG is four fifths of a page's tags but holds only elements and text
    (labels, point names), so its text nodes are read by a regular expression instead of
    the HTML parser, which spent about 80% of its time there. That is taken only where it
    reads what the parser would (outside any script or style, the SVG's start tag
    complete, its style blocks set aside, no comment, declaration, bare '<', script,
    footer or table in it);
    anything else goes through the parser. The result is the parser's own, text node for
    text node (``tests/test_report_lint.py`` compares them on hostile pages)."""
    parser = _Text()
    pos = 0
    while (m := _SVG_START.search(page, pos)) is not None:
        head = page.find(">", m.start()) + 1
        end = page.find("</svg>", head) if head else -1
        if end < 0:             # an unfinished SVG (a cut-off page): the parser reads the rest
            break
        parser.feed(page[pos:head])
        body = _STYLE.sub("<x>", page[head:end])
        if parser.cdata_elem is None and not parser.rawdata and not _NOT_PLAIN.search(body):
            for text in _TEXT_NODE.findall(">" + body):
                parser.handle_data(html.unescape(text))
        else:
            parser.feed(page[head:end])
        pos = end
    parser.feed(page[pos:])
    parser.close()
    return parser


def visible_text(page: str) -> str:
    """The text a reader sees on a rendered page (scripts, styles and the footer left out)."""
    return " ".join(_parsed(page).text)


def chart_metadata(nb: dict) -> list[dict]:
    """The metadata each chart of an executed notebook carries (alt text, what it drew)."""
    return [o.get("metadata", {}).get(_chart_mime(o), {}) for cell in nb.get("cells", [])
            for o in cell.get("outputs", []) if _chart_mime(o)]
