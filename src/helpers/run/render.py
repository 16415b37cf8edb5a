"""Executed notebook → self-contained HTML for readers (no code, no parameters, no noise).

nbconvert's ``lab`` template with inputs, prompts, the parameters cells, stderr and warnings
removed; CDN script and stylesheet links stripped (the reports use no maths, widgets or
mermaid, so nothing needs them); a table of contents from the section headings and a
provenance footer are added. Charts are already inline base64 PNG in the outputs.
"""

from __future__ import annotations

import html
import json
import re

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

REMOVE_TAGS = {"injected-parameters", "parameters", "remove-cell"}
_EXTERNAL = [
    re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I),
    re.compile(r"<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>", re.I),
]
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
                      re.S | re.I)


def _clean_outputs(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def _toc(body: str) -> str:
    heads = re.findall(r"<h2 id=\"([^\"]+)\"[^>]*>(.*?)<", body)
    if not heads:
        return ""
    items = "".join(f'<li><a href="#{i}">{html.escape(html.unescape(t))}</a></li>'
                    for i, t in heads)
    return (f'<nav class="pack-toc" aria-label="Contents"><strong>Contents</strong>'
            f"<ol>{items}</ol></nav>")


STYLE = """<style>
.pack-toc{border:1px solid #d8dde0;padding:.6em 1.2em;margin:1em 0;background:#f7f9fa}
.pack-toc ol{margin:.3em 0 0 1em}
.pack-footer{font-size:.8em;color:#425563;border-top:1px solid #d8dde0;margin-top:2em;
padding-top:.6em}
body{max-width:1100px;margin:auto}
</style>"""


def to_html(nb: nbformat.NotebookNode, title: str, footer: str) -> str:
    """Render an executed notebook to a self-contained HTML string."""
    nb = nbformat.from_dict(nb)
    _clean_outputs(nb)
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS,
                                                         enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    body = _MATHJAX.sub("", body)
    for pat in _EXTERNAL:
        body = pat.sub("", body)
    first_h2 = body.find("<h2")
    toc = _toc(body)
    if first_h2 > 0 and toc:
        body = body[:first_h2] + toc + body[first_h2:]
    body = body.replace("</head>", STYLE + "</head>", 1)
    body = body.replace("</body>", f'<footer class="pack-footer">{footer}</footer></body>', 1)
    return body


def external_references(page: str) -> list[str]:
    """Any http(s) URL the page would load (scripts, styles, images, fonts)."""
    return re.findall(r"(?:src|href)=\"(https?://[^\"]+)\"|url\((https?://[^)]+)\)", page)


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
