"""The run's index page: one block per area (England first, then by name), each notebook's
report linked with its one-sentence headline, a badge saying whether the data are real or
synthetic, and any failure in plain words. Self-contained; every data-derived string is
escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path

from helpers.atomic import write_text_atomic
from helpers.formats import BADGES, PUBLISH_RULE
from helpers.run.grid import Job
from helpers.run.jobs import slug
from helpers.run.site import (
    AREAS_DIR,
    DEFINITIONS,
    LEVEL_WORDS,
    AreaNode,
    report_item,
    search_html,
    tree_order,
)
from helpers.schema import ENGLAND

BADGE_COLOURS = {"synthetic": "#7C2855", "real": "#007F3B", "mixed": "#ED8B00"}

STYLE = """<style>
body{font-family:Arial,sans-serif;max-width:1100px;margin:2em auto;color:#212b32;
line-height:1.4}
h1{margin-bottom:.2em}
.badge{display:inline-block;padding:.1em .5em;border-radius:3px;color:#fff;font-size:.8em;
font-weight:bold;vertical-align:middle}
.area{border-top:1px solid #d8dde0;padding:.6em 0}
.area h2{font-size:1.15em;margin:.2em 0 .4em}
.code{color:#425563;font-weight:normal;font-size:.85em}
ul{margin:0;padding-left:1.2em}
li{margin:.25em 0}
.failed{color:#DA291C}
.meta{color:#425563;font-size:.85em}
</style>"""


SEARCH_STYLE = """<style>
.pack-search{margin:.8em 0;padding:.5em .7em;background:#f0f4f5;border:1px solid #d8dde0}
.pack-search input{font-size:1em;padding:.3em;width:22em;max-width:100%}
.pack-search ol{margin:.4em 0 0;padding-left:1.4em}
</style>"""


def _area_order(jobs: list[Job], nodes: dict[str, AreaNode] | None = None
                ) -> list[tuple[str, str]]:
    """The run's areas (code, name) in the order the index lists them: with the site's
    ``nodes``, each area before what is below it (:func:`helpers.run.site.tree_order`);
    without, England first and then by name."""
    names = {}
    for j in jobs:
        names.setdefault(j.area, j.area_name or j.area)
    if nodes:
        rank = {c: i for i, c in enumerate(tree_order(nodes))}
        return sorted(names.items(), key=lambda kv: (rank.get(kv[0], len(rank)),
                                                     kv[1].lower(), kv[0]))
    return sorted(names.items(), key=lambda kv: (kv[0] != ENGLAND, kv[1].lower(), kv[0]))


def _environment(env: dict | None) -> str:
    """The environment in words: the lock it matches, or a warning naming what differs."""
    if not env or not env.get("sha256"):
        return '<span class="failed">no lock file: package versions unpinned</span>'
    if env.get("matches"):
        return f"environment as locked ({escape(env['file'])} {escape(env['sha256'][:10])})"
    diff = env.get("mismatches", [])
    shown = ", ".join(escape(m) for m in diff[:5]) + (f" and {len(diff) - 5} more"
                                                      if len(diff) > 5 else "")
    return (f'<span class="failed">environment differs from {escape(env["file"])} '
            f'{escape(env["sha256"][:10])}: {shown}</span> (rebuild it with make setup)')


def _where(nodes: dict[str, AreaNode] | None, area: str) -> str:
    """Where an area sits, after its code: ' · network in Synthetic ICB 01', ' · practice
    in Federation 3', ' · practice in Synthetic ICB 02, in no network' (empty without the
    site's tree)."""
    node = (nodes or {}).get(area)
    if node is None:
        return ""
    text = f" · {LEVEL_WORDS[node.level][0]}"
    up = [nodes[p] for p in node.parents if nodes[p].level != "england"]
    if up:
        text += f" in {escape(up[-1].name)}"
        if node.level == "practice" and up[-1].level == "commissioner":
            text += ", in no network"
    return text


MAX_LISTED_AREAS = 200
"""A run of more areas lists only England and commissioners on its index page (the site's
area pages and search reach the rest)."""


def write_index(out_dir: Path, jobs: list[Job], provenance: dict, site: bool = False,
                nodes: dict[str, AreaNode] | None = None) -> None:
    """Write ``index.html`` for a run (with the site's search box, a way into its area
    pages and the definitions page when ``site``; areas in the order of the site's
    ``nodes``, each before what is below it, when given)."""
    kinds = {j.data_kind for j in jobs if j.data_kind}
    kind = kinds.pop() if len(kinds) == 1 else ""
    badge = ""
    if kind in BADGES:
        label, colour = BADGES[kind], BADGE_COLOURS[kind]
        badge = f'<span class="badge" style="background:{colour}">{label}</span>'
    blocks = []
    order = _area_order(jobs, nodes)
    levels = {j.area: j.level for j in jobs}
    big = len(order) > MAX_LISTED_AREAS
    for area, name in order:
        if big and levels.get(area) in ("network", "practice"):
            continue
        items = "".join(report_item(j) for j in sorted((j for j in jobs if j.area == area),
                                                        key=lambda j: j.notebook))
        code = "" if area == ENGLAND else \
            f' <span class="code">{escape(area)}{_where(nodes, area)}</span>'
        blocks.append(f'<section class="area"><h2>{escape(name)}{code}</h2>'
                      f"<ul>{items}</ul></section>")
    if big:
        blocks.append(f'<p class="meta">{len(order) - len(blocks)} networks and practices are '
                      "not listed here: find them with the search box, or from their "
                      "commissioner's page.</p>")
    browse = ""
    if site:
        browse = (search_html("") + f'<p><a href="{AREAS_DIR}/{slug(ENGLAND)}.html">Browse '
                  "by area: England, then its commissioners, networks and practices</a> · "
                  f'<a href="{DEFINITIONS}">Definitions of the terms the reports use</a></p>')
    ok = sum(j.status == "ok" for j in jobs)
    publish = f"on: {PUBLISH_RULE}" if provenance.get("publish") else "off"
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Commissioning analysis pack — reports {escape(provenance['run_id'])}</title>
{STYLE}{SEARCH_STYLE if site else ""}</head><body>
<h1>Commissioning analysis pack: reports {badge}</h1>
<p class="meta">{ok} of {len(jobs)} reports succeeded · run {escape(provenance['run_id'])} ·
data {escape(provenance['data_source'])} (hash {escape(provenance['data_hash'])}) ·
code {escape(provenance['git']['commit'][:10])} · publish mode {publish} ·
{_environment(provenance.get('environment'))}</p>
{browse}
{''.join(blocks)}
</body></html>
"""
    write_text_atomic(out_dir / "index.html", page)
