"""Executed notebook → self-contained HTML for readers (no code, no parameters, no noise).

The pack's nbconvert template (``templates/pack``: JupyterLab's, without the require.js,
MathJax and mermaid loaders and with alt text on every chart) renders the notebook with
inputs, prompts, the parameter cells, stderr and warnings removed. The page then gets a
compact contents bar from the section headings, placed after the headline so the headline
sits on the first screen, and a provenance footer. A page with a long table gets the
pack's sortable-table script once (:data:`helpers.report.tables.SORTABLE_SCRIPT`). The page
refers to nothing outside itself (:func:`network_references` finds anything that would).
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from helpers.formats import TABLE_CSS

REMOVE_TAGS = {"injected-parameters", "parameters", "remove-cell"}
TEMPLATES = Path(__file__).resolve().parent / "templates"
_URL = r"""\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
NETWORK_FORMS = tuple(re.compile(p) for p in (
    *(rf"{attr}\s*={_URL}" for attr in ("src", "href", "action", "poster", "data")),
    r"""url\(\s*["']?\s*(?:https?:)?//[^)]+\)""",
    r"""@import\s+["']?(?:https?:)?//[^"';\s]+""",
    r"""import\(\s*["'`](?:https?:)?//[^"'`]+""",
    r"""fetch\(\s*["'`](?:https?:)?//[^"'`]+"""))
"""What makes a browser reach a network (matched on lower-cased text): an attribute, CSS
``url()`` or ``@import``, or JavaScript ``import()`` or ``fetch()`` of an http(s) or
protocol-relative address. One pattern each, so each is found by its first word (a fast
scan) instead of trying every pattern at every character of a page."""


_TABLE_STYLE = re.compile(r"<style>#(T_[0-9a-f]{8})\{border-collapse.*?</style>\n", re.S)


def _table_style(tid: str) -> str:
    """A table's own style block exactly as :func:`helpers.report.tables.static_html`
    writes it (only such a block is taken out; the page's stylesheet has the same rules)."""
    return f"<style>{TABLE_CSS.format(id=tid)}</style>\n"


def _clean_outputs(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def _toc(body: str) -> str:
    heads = re.findall(r"<h2 id=\"([^\"]+)\"[^>]*>(.*?)<", body)
    if len(heads) < 3:
        return ""
    items = "".join(f'<li><a href="#{i}">{html.escape(html.unescape(t))}</a></li>'
                    for i, t in heads)
    return (f'<nav class="pack-toc" aria-label="Contents"><strong>Contents:</strong>'
            f"<ul>{items}</ul></nav>")


STYLE = """<style>
body{max-width:1100px;margin:auto}
.pack-toc{border-top:1px solid #d8dde0;border-bottom:1px solid #d8dde0;padding:.3em .6em;
margin:.8em 0;background:#f7f9fa;font-size:.85em}
.pack-toc ul{display:inline;margin:0;padding:0}
.pack-toc li{display:inline;margin:0 .9em 0 .4em;list-style:none}
.pack-footer{font-size:.8em;color:#425563;border-top:1px solid #d8dde0;margin-top:2em;
padding-top:.6em;overflow-wrap:anywhere}
.jp-RenderedImage img{max-width:100%;height:auto}
.pack-chart{max-width:100%;height:auto}
.pack-pt{cursor:pointer}
.pack-pt:hover,.pack-pt:focus{stroke:#212B32!important;
stroke-width:2px!important;outline:none}
.pack-tip{position:absolute;z-index:10;background:#212B32;color:#fff;padding:.25em .5em;
border-radius:3px;font-size:.8em;pointer-events:none;max-width:28em}
@media print{.pack-tip{display:none}}
.pack-table{max-width:100%}
{table_rules}
.pack-tools{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;font-size:.85em;
margin:.6em 0 .2em}
.pack-tools input,.pack-tools select,.pack-tools button{font:inherit;padding:.15em .4em}
.pack-sort{font:inherit;font-weight:bold;text-align:inherit;background:none;border:0;
padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] .pack-sort::after{content:" \\25B2"}
th[aria-sort=descending] .pack-sort::after{content:" \\25BC"}
.pack-status{font-size:.85em;color:#425563;margin:.2em 0 .8em}
:focus-visible{outline:3px solid #005EB8;outline-offset:1px}
</style>""".replace("{table_rules}", TABLE_CSS.format(id="x").replace(
    "#x", ".jp-RenderedHTMLCommon table.pack-table"))

POINT_NAMES = """<script>
(function () {
  /* Names a chart point on hover or keyboard focus (its title), beside the point. Each
     point is an image named by its title; each chart's leftmost point is its one tab
     stop, and the arrow keys reach the others. */
  function order(svg) {          /* a chart's named points, left to right (stable) */
    return Array.prototype.slice.call(svg.querySelectorAll(".pack-pt"))
      .map(function (e) { return [e.getBoundingClientRect().left, e]; })
      .sort(function (a, b) { return a[0] - b[0]; })
      .map(function (x) { return x[1]; });
  }
  Array.prototype.forEach.call(document.querySelectorAll("svg.pack-chart"), function (svg) {
    order(svg).forEach(function (p, i) {
      p.setAttribute("tabindex", i ? "-1" : "0"); p.setAttribute("role", "img");
    });
  });
  var tip = document.createElement("div");
  tip.className = "pack-tip"; tip.hidden = true; tip.setAttribute("aria-hidden", "true");
  document.body.appendChild(tip);
  function point(e) { return e.target.closest ? e.target.closest(".pack-pt") : null; }
  function show(e) {
    var p = point(e); if (!p) return;
    var r = p.getBoundingClientRect();
    tip.textContent = p.querySelector("title").textContent;
    tip.style.left = (window.scrollX + r.right + 8) + "px";
    tip.style.top = (window.scrollY + r.top - 8) + "px";
    tip.hidden = false;
  }
  function hide(e) { if (point(e)) tip.hidden = true; }
  function step(e) {
    /* Arrow keys move between the named points of one chart, left to right; Home and End
       to its ends. */
    var p = point(e), keys = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
    if (!p || !(e.key in keys || e.key === "Home" || e.key === "End")) return;
    var all = order(p.closest("svg"));
    var i = all.indexOf(p);
    var j = e.key === "Home" ? 0 : e.key === "End" ? all.length - 1 :
      Math.max(0, Math.min(all.length - 1, i + keys[e.key]));
    if (j !== i) { all[j].focus(); }
    e.preventDefault();
  }
  document.addEventListener("mouseover", show); document.addEventListener("focusin", show);
  document.addEventListener("mouseout", hide); document.addEventListener("focusout", hide);
  document.addEventListener("keydown", step);
})();
</script>"""
"""The page's only script of its own: shows a chart point's name (its ``<title>``, set by
:func:`helpers.report.charts.name_points`) on hover or focus, and moves focus between a
chart's points with the arrow keys (Tab reaches the first). Added only to pages with named
points; screen readers read the point's ``aria-label``."""


_OUTPUT_DIV = re.compile(r'<div class="([^"]*\bjp-(?:OutputArea-output|Cell-inputWrapper)\b[^"]*)"')
_IMG_NO_ALT = re.compile(r"<img(?![^>]*\balt=)")


class _PackExporter(HTMLExporter):
    """nbconvert's HTML exporter without its BeautifulSoup pass over the finished page.

    That pass parses and re-serialises the whole page (0.4 s of a 0.7 s render for a 0.5 MB
    report, most of a worker's time) to do two things, done here by pattern on the
    template's own markup instead: alternative text on any image without it, and
    ``tabindex="0"`` on each output (and input) so a keyboard reaches a wide table or chart.
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page = _IMG_NO_ALT.sub(
            '<img alt="No description has been provided for this image"', page)
        page = _OUTPUT_DIV.sub(r'<div class="\1" tabindex="0"', page)
        return page, resources


@functools.lru_cache(maxsize=1)
def _exporter() -> HTMLExporter:
    """One exporter per process (building it loads and compiles the templates). Without
    the code-highlighting stylesheet: pages show no code."""
    from traitlets.config import Config

    exporter = _PackExporter(template_name="pack", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, optimistic_validation=True,
                            config=Config({"CSSHTMLHeaderPreprocessor": {"enabled": False}}))
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS,
                                                         enabled=True), enabled=True)
    return exporter


def to_html(nb: nbformat.NotebookNode, title: str, footer: str, header: str = "") -> str:
    """Render an executed notebook to a self-contained HTML string; ``header`` (the site's
    links, :func:`helpers.run.site.nav_html`) goes first in the body."""
    nb = nbformat.from_dict(nb)
    _clean_outputs(nb)
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb)
    # each table's own style (what keeps it readable in JupyterLab) once for the page
    body = _TABLE_STYLE.sub(lambda m: "" if m.group(0) == _table_style(m.group(1)) else
                            m.group(0), body)
    toc = _toc(body)
    heads = [m.start() for m in re.finditer(r"<h2", body)]
    if toc and len(heads) >= 2:            # after the headline section, before the next one
        body = body[:heads[1]] + toc + body[heads[1]:]
    body = body.replace("</head>", STYLE + "</head>", 1)
    if header:
        m = re.search(r"<body[^>]*>", body)
        if m:
            body = body[:m.end()] + header + body[m.end():]
    body = body.replace("</body>", f'<footer class="pack-footer">{footer}</footer></body>', 1)
    if 'class="pack-pt' in body:
        body = body.replace("</body>", POINT_NAMES + "</body>", 1)
    if "pack-sortable" in body:
        from helpers.page_scripts import SORTABLE_SCRIPT

        # once, at the end (a notebook run in JupyterLab has it after each long table)
        body = body.replace(SORTABLE_SCRIPT, "").replace("</body>", SORTABLE_SCRIPT +
                                                          "</body>", 1)
    return body


def network_references(page: str) -> list[str]:
    """Everything in a page that would make the browser reach a network: scripts, styles,
    images, fonts, frames, links, CSS ``url()`` and ``@import``, JavaScript ``import()`` and
    ``fetch()`` of an http(s) or protocol-relative address."""
    # case-insensitive by lower-casing once: several times faster than re.I on a 0.5 MB page
    low = page.lower()
    # a few characters lower-case to two ('İ'), shifting positions: then quote the lower case
    text = page if len(low) == len(page) else low
    found, pos = [], 0
    # as one alternation of the forms would: the leftmost match (the forms start with
    # different characters, so no two start at one place), then on from its end
    ahead = [form.search(low) for form in NETWORK_FORMS]
    while any(ahead):
        m = min((a for a in ahead if a), key=lambda a: a.start())
        found.append(text[m.start():m.end()])
        pos = m.end()
        ahead = [form.search(low, pos) if a and a.start() < pos else a
                 for form, a in zip(NETWORK_FORMS, ahead, strict=True)]
    return found


def footer_html(job, results: dict, provenance: dict) -> str:
    """The provenance footer of a report: report id, data, code, publish mode, parameters."""
    e = html.escape
    git = provenance["git"]
    return (f"Commissioning analysis pack · report {e(job.report_id)} · data "
            f"{e(provenance['data_source'])} (hash {e(results['dataset_hash'])}) · "
            f"code {e(git['commit'][:10])}{' (uncommitted changes)' if git['dirty'] else ''}"
            f" · publish mode {'on' if results.get('publish') else 'off'} · "
            f"parameters {e(json.dumps(job.parameters, sort_keys=True))} · "
            f"run {e(provenance['run_id'])}")
