"""A report page carries only the stylesheet it uses: the pack's own (a few KB), none of
JupyterLab's (about 270 KB, which every page repeated), and still nothing from outside."""

from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.run import render

PACK_CSS = render.TEMPLATES / "pack" / "static" / "pack.css"


def _notebook():
    svg = ('<svg class="pack-chart" role="img" aria-label="A chart" viewBox="0 0 10 10" '
           'xmlns="http://www.w3.org/2000/svg"><text x="1" y="5">a</text></svg>')
    table = "<table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
    return new_notebook(cells=[
        new_markdown_cell("# Title\n\nWords."),
        new_markdown_cell("## Headline"),
        new_code_cell("x", outputs=[new_output("display_data", {"text/markdown": "- a finding"})]),
        new_markdown_cell("## Section"),
        new_code_cell("y", outputs=[new_output("display_data", {"text/html": table}),
                                    new_output("display_data", {"image/svg+xml": svg})]),
        new_markdown_cell("## Another"),
    ], metadata={"language_info": {"name": "python"}})


def test_a_page_carries_the_pack_stylesheet_and_nothing_of_jupyterlab():
    page = render.to_html(nbformat.from_dict(_notebook()), "Title — England", "footer")
    styles = re.findall(r"<style[^>]*>(.*?)</style>", page, re.S)
    css = "".join(styles)
    assert PACK_CSS.read_text(encoding="utf-8").strip() in css     # the pack's, inline
    assert "--jp-" not in css and ".jp-Toolbar" not in css and ".lm-" not in css
    assert len(css.encode()) < 8_000
    assert len(page.encode()) < 15_000                    # was about 280 KB with JupyterLab's
    assert not render.network_references(page)
    assert 'aria-label="A chart"' in page and "<table>" in page and "a finding" in page
    # what the stylesheet styles is what the page is made of
    for cls in ("jp-Cell", "jp-OutputArea-output", "jp-RenderedHTMLCommon", "jp-Collapser"):
        assert f'class="{cls}' in page or f" {cls}" in page, cls
        assert f".{cls}" in css, cls


def test_the_pack_stylesheet_styles_only_what_pages_use():
    """Every class the stylesheet names is one the template or the pack writes."""
    css = PACK_CSS.read_text(encoding="utf-8")
    page = render.to_html(nbformat.from_dict(_notebook()), "Title — England", "footer")
    for cls in set(re.findall(r"\.([a-zA-Z][\w-]*)", css)):
        assert cls in page or cls == "anchor-link", cls
