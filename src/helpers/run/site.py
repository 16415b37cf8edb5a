"""A run as a browsable site: England → commissioners → networks → practices.

Every area a run reports on, and every area above it, gets a page ``areas/<code>.html``:
where it sits (links up to its parents), its reports (each with its one-line finding, data
badge and any failed validation check), and its children in the run, each with its own
one-line finding (links down). Each report page carries the same links in a bar at its top,
plus links across to the area's other reports (:func:`nav_html`). Every index page has a
search box that finds any area of the run by code or any part of its name, offline: the
search index is a static script (``search-index.js``) written with the site, read by a few
lines of JavaScript in the page; no server, no network.

Links only ever point at pages the run holds: area pages exist for every area with a report
and all its parents, and a link across to a report that failed is turned into plain text
when the run ends (:func:`mark_missing_reports`); :func:`broken_links` checks a whole run.

Names and codes are the ones the reports use (a published run of real-structure data has no
practice or network report with synthetic findings: docs/real-data.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from helpers.atomic import write_text_atomic
from helpers.run.jobs import Job, slug

AREAS_DIR = "areas"
DEFINITIONS = "definitions.html"      # helpers.run.definitions.PAGE
SEARCH_INDEX = "search-index.js"
LEVEL_WORDS = {"england": ("England", "England"), "commissioner": ("commissioner",
                                                                   "commissioners"),
               "network": ("network", "networks"), "practice": ("practice", "practices")}
CHILD_LEVEL = {"england": "commissioner", "commissioner": "network", "network": "practice"}
FINDING_FROM = ("01_referral_variation", "00_data_overview", "02_federation_scale",
                "03_contract_forms")
"""Whose one-line summary stands for an area in its parent's list of children."""


@dataclass
class AreaNode:
    """One area of the site, by its public code."""

    code: str
    name: str
    level: str
    parents: list[str] = field(default_factory=list)     # England first, nearest last
    children: list[str] = field(default_factory=list)    # areas of the next level down
    ungrouped: list[str] = field(default_factory=list)   # a commissioner's practices in
                                                         # no network (never its networks)
    closed: str = ""               # a closed practice: the month it closed ("April 2017");
                                   # a network whose memberships all ended: when they did
    successor: str = ""            # ... and the practice its patients moved to (public code)
    successor_name: str = ""
    took_from: list[str] = field(default_factory=list)   # closed practices in the site
                                                         # whose patients moved here

    @property
    def page(self) -> str:
        """The area page's path within the run folder."""
        return f"{AREAS_DIR}/{slug(self.code)}.html"


@dataclass(frozen=True)
class ChildGroup:
    """Children of one kind on an area's page: its networks, its practices in a network,
    or a commissioner's practices in no network (``anchor`` is the heading's id)."""

    anchor: str
    one: str                        # "network", "practice in no network"
    many: str                       # "networks", "practices in no network"
    codes: tuple[str, ...]

    def counted(self) -> str:
        """'12 networks', '1 practice in no network'."""
        n = len(self.codes)
        return f"{n:,} {self.one if n == 1 else self.many}"


def child_groups(node: AreaNode, nodes: dict[str, AreaNode]) -> list[ChildGroup]:
    """An area's children in the site, a group per kind, in page order: a commissioner's
    networks, then its practices in no network (never counted as networks); a network's
    practices; England's commissioners. Empty groups are left out."""
    groups = []
    if node.children:
        one, many = LEVEL_WORDS[CHILD_LEVEL[node.level]]
        groups.append(ChildGroup("children", one, many, tuple(node.children)))
    if node.ungrouped:
        groups.append(ChildGroup("ungrouped", "practice in no network",
                                 "practices in no network", tuple(node.ungrouped)))
    return groups


def tree_order(nodes: dict[str, AreaNode]) -> list[str]:
    """Every area of the site, each before what is below it: England, then each
    commissioner followed by its networks (each followed by its practices) and then its
    practices in no network; siblings by name."""
    out: list[str] = []

    def walk(code: str) -> None:
        out.append(code)
        for g in child_groups(nodes[code], nodes):
            for c in g.codes:
                walk(c)
    for root in sorted((n for n in nodes.values() if not n.parents),
                       key=lambda n: (n.level != "england", n.name.lower(), n.code)):
        walk(root.code)
    return out


def area_tree(ds, run_codes: list[str]) -> dict[str, AreaNode]:
    """The site's areas (public code → :class:`AreaNode`): every area in ``run_codes``
    (public codes) and every parent of one; children are those in the site."""
    from helpers.analysis.areas import area_table, public_codes
    from helpers.analysis.context import display_names
    from helpers.schema import ENGLAND

    t = area_table(ds)
    row = t.set_index("code")
    codes = t["code"].tolist()
    public = public_codes(ds, codes)
    private = {v: k for k, v in public.items()}

    def parents_of(code: str) -> list[str]:
        if code == ENGLAND:
            return []
        r = row.loc[code]
        up = [ENGLAND]
        if r["level"] in ("network", "practice") and isinstance(r["commissioner_code"], str):
            up.append(r["commissioner_code"])
        if r["level"] == "practice" and isinstance(r["network_code"], str) \
                and r["network_code"] in row.index:
            up.append(r["network_code"])
        return up

    found: dict[str, list[str]] = {}            # data code → its parents (data codes)

    def add(code: str) -> None:
        if code in found:
            return
        found[code] = parents_of(code)
        for u in found[code]:
            add(u)

    for c in run_codes:
        add(ENGLAND if c == ENGLAND else private.get(c, c))
    gone = _closed(ds, [c for c in found if c != ENGLAND])
    gone.update(_ended(ds, [c for c in found if c != ENGLAND]))
    succ = sorted({s for _, s in gone.values() if s and s in row.index})
    names = display_names(ds, [c for c in found if c != ENGLAND] + succ)  # only these areas
    pub = {c: ENGLAND if c == ENGLAND else public[c] for c in found}
    nodes = {pub[c]: AreaNode(pub[c], "England" if c == ENGLAND else names[c],
                              "england" if c == ENGLAND else str(row.loc[c, "level"]),
                              [pub[u] for u in ups]) for c, ups in found.items()}
    for c, (month, s) in gone.items():
        node = nodes[pub[c]]
        node.closed = month
        if s in names:
            node.successor = public_codes(ds, [s])[s]
            node.successor_name = names[s]
            if node.successor in nodes:
                nodes[node.successor].took_from.append(node.code)
    for node in nodes.values():
        if node.parents:
            up = nodes[node.parents[-1]]
            (up.children if CHILD_LEVEL[up.level] == node.level else up.ungrouped).append(
                node.code)
    for node in nodes.values():
        for kids in (node.children, node.ungrouped):
            kids.sort(key=lambda c: (nodes[c].name.lower(), c))
    return nodes


def _closed(ds, codes: list[str]) -> dict[str, tuple[str, str]]:
    """The practices among ``codes`` (data codes) that closed: code → (the month it closed,
    as 'April 2017'; the code of the practice its patients moved to, or '')."""
    import pandas as pd

    p = ds.practices
    p = p[p["practice_code"].astype(str).isin(set(codes)) & p["close_date"].notna()]
    out = {}
    for r in p.itertuples():
        s = getattr(r, "successor_code", None)
        s = "" if s is None or pd.isna(s) else str(s).strip()
        out[str(r.practice_code)] = (f"{pd.Timestamp(r.close_date):%B %Y}", s)
    return out


def _ended(ds, codes: list[str]) -> dict[str, tuple[str, str]]:
    """The networks among ``codes`` (data codes) none of whose practices is still a member
    (a PCN dissolved or replaced): code → (the month its last membership ended, '')."""
    import pandas as pd

    if not ds.has("groups"):
        return {}
    g = ds.groups[ds.groups["group_code"].astype(str).isin(set(codes))]
    out = {}
    for code, m in g.groupby(g["group_code"].astype(str)):
        if m["left"].notna().all():
            out[code] = (f"{pd.Timestamp(m['left'].max()):%B %Y}", "")
    return out


def _closed_word(node: AreaNode) -> str:
    """'Closed' for a practice, 'Ended' for a network whose memberships all ended."""
    return "Ended" if node.level == "network" else "Closed"


def closed_html(node: AreaNode, nodes: dict[str, AreaNode], base: str = "../") -> str:
    """For a closed practice: 'Closed April 2017; its patients moved to <a>Practice
    P81030</a>' (a link to that practice's area page when the site holds it; ``base``
    leads from the page to the run folder); empty for any other area."""
    if not node.closed:
        return ""
    text = f"{_closed_word(node)} {escape(node.closed)}"
    if node.successor:
        name = escape(node.successor_name or node.successor)
        there = nodes.get(node.successor)
        text += "; its patients moved to " + (
            f'<a href="{escape(base + there.page)}">{name}</a>' if there else name)
    return text


def _href(from_dir: str, target: str) -> str:
    """A relative link from a page in ``from_dir`` ('' for the run folder) to ``target``
    (a path within the run folder)."""
    return ("../" if from_dir else "") + target


def attach_nav(jobs: list[Job], nodes: dict[str, AreaNode]) -> None:
    """Give each job the links its page carries: up (its parents' pages, then its own
    area's), across (the area's other reports in the run) and down (its children)."""
    by_area: dict[str, list[Job]] = {}
    for j in jobs:
        by_area.setdefault(j.area, []).append(j)
    for j in jobs:
        node = nodes[j.area]
        up = [(nodes[p].name, _href(j.notebook, nodes[p].page)) for p in node.parents]
        across = [(o.title or o.notebook, _href(j.notebook, f"{o.notebook}/{slug(o.area)}.html"),
                   o.report_id) for o in sorted(by_area[j.area], key=lambda o: o.notebook)
                  if o is not j]
        down = [((f"Its {g.counted()}" if i == 0 else f"its {g.counted()}"),
                 _href(j.notebook, node.page) + f"#{g.anchor}")
                for i, g in enumerate(child_groups(node, nodes))]
        j.nav = {"up": up, "area": (node.name, _href(j.notebook, node.page)),
                 "across": across, "down": down,
                 "results": f"{slug(j.area)}{j.outputs.get('results', '.results.json')}",
                 "definitions": _href(j.notebook, DEFINITIONS),
                 "names": [node.name, *(nodes[p].name for p in node.parents)]}
        there = nodes.get(node.successor)
        if there is not None:         # a closed practice: where its patients went
            j.nav["successor"] = (node.successor, _href(j.notebook, there.page))


NAV_STYLE = """<style>
.pack-nav{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;font-size:.85em;
background:#f0f4f5;border-bottom:1px solid #d8dde0;
padding:.4em .7em;margin:0 0 .6em}
.pack-nav a{color:#005EB8}
.pack-nav .sep{color:#768692;margin:0 .3em}
.pack-nav .missing{color:#425563}
</style>"""


def nav_html(nav: dict) -> str:
    """The bar at the top of a report page: where the area sits, its other reports and its
    children (empty when the job has no links)."""
    if not nav:
        return ""
    sep = '<span class="sep">›</span>'
    crumbs = [f'<a href="{escape(h)}">{escape(n)}</a>' for n, h in nav["up"]]
    name, href = nav["area"]
    crumbs.append(f'<a href="{escape(href)}">{escape(name)}: all its reports</a>')
    parts = [sep.join(crumbs)]
    if nav["across"]:
        parts.append("Also for this area: " + " · ".join(
            f'<a href="{escape(h)}" data-report="{escape(r)}">{escape(t)}</a>'
            for t, h, r in nav["across"]))
    tail = []
    for text, h in nav.get("down") or []:
        tail.append(f'<a href="{escape(h)}">{escape(text)} ↓</a>')
    if nav.get("definitions"):
        tail.append(f'<a href="{escape(nav["definitions"])}">Definitions</a>')
    if nav.get("results"):
        tail.append(f'<a href="{escape(nav["results"])}" download>This report\'s results '
                    "(JSON)</a>")
    if tail:
        parts.append(" · ".join(tail))
    return (NAV_STYLE + '<nav class="pack-nav" aria-label="Where this area sits">'
            + '<br>'.join(parts) + "</nav>")


def link_page(page: str, nav: dict) -> str:
    """A rendered report page as the site shows it: a closed practice's "its patients
    moved to P81030" links to that practice's area page (when the site holds it), and the
    first use of each term links to the definitions page
    (:func:`helpers.run.definitions.link_terms`, the area's names left as they are).
    Unchanged without ``nav`` (a report outside a site)."""
    from helpers.run.definitions import link_terms

    if not nav:
        return page
    if nav.get("successor"):
        code, href = nav["successor"]
        said = f"its patients moved to {escape(code, quote=False)}"
        page = page.replace(said, f'its patients moved to <a href="{escape(href)}">'
                                  f"{escape(code, quote=False)}</a>", 1)
    return link_terms(page, "../", nav.get("names", ()))


_ACROSS = re.compile(r'<a href="([^"]*)" data-report="([^"]*)">([^<]*)</a>')
_MISSING = re.compile(r'<span class="missing" data-report="([^"]*)" data-href="([^"]*)">'
                      r'([^<]*) \(not available\)</span>')


def mark_missing_reports(jobs: list[Job], build: Path, areas: set[str]) -> int:
    """On the pages of ``areas`` (those with a report not in the run, and, after a rerun,
    those rerun), turn links across to reports that are not in the run (failed, set aside)
    into plain text, and back into links once they are; returns the pages changed."""
    ok = {j.report_id for j in jobs if j.status == "ok" and "html" in j.files}
    changed = 0
    for j in jobs:
        if j.area not in areas or j.report_id not in ok or not j.nav:
            continue
        path = build / j.files["html"]
        page = path.read_text(encoding="utf-8")
        new = _ACROSS.sub(lambda m: m.group(0) if m.group(2) in ok else
                          f'<span class="missing" data-report="{m.group(2)}" '
                          f'data-href="{m.group(1)}">{m.group(3)} (not available)</span>', page)
        new = _MISSING.sub(lambda m: f'<a href="{m.group(2)}" data-report="{m.group(1)}">'
                           f"{m.group(3)}</a>" if m.group(1) in ok else m.group(0), new)
        if new != page:
            write_text_atomic(path, new)
            changed += 1
    return changed


PAGE_STYLE = """<style>
body{font-family:Arial,sans-serif;max-width:1100px;margin:1.5em auto;color:#212b32;
line-height:1.4;padding:0 1em}
h1{margin:.3em 0 .2em}
.code{color:#425563;font-weight:normal;font-size:.8em}
.badge{display:inline-block;padding:.1em .5em;border-radius:3px;color:#fff;font-size:.75em;
font-weight:bold;vertical-align:middle}
.failed{color:#DA291C}
.meta{color:#425563;font-size:.85em}
table.children{border-collapse:collapse;font-size:.9em;width:100%}
table.children th{text-align:left;border-bottom:2px solid #425563;padding:4px 8px}
table.children td{border-bottom:1px solid #d8dde0;padding:3px 8px;vertical-align:top}
.pack-search{margin:.8em 0;padding:.5em .7em;background:#f0f4f5;border:1px solid #d8dde0}
.pack-search input{font-size:1em;padding:.3em;width:22em;max-width:100%}
.pack-search ol{margin:.4em 0 0;padding-left:1.4em}
</style>"""

SEARCH_SCRIPT = """<script>
(function () {
  /* Finds areas by code or any part of their name in the site's search index. */
  var box = document.getElementById("pack-search-box"), out = document.getElementById(
    "pack-search-results"), base = box.getAttribute("data-base") || "";
  function norm(s) { return s.toLowerCase().replace(/\\s+/g, " ").trim(); }
  box.addEventListener("input", function () {
    var q = norm(box.value), hits = [];
    out.innerHTML = "";
    if (q.length < 2 || !window.PACK_AREAS) return;
    for (var i = 0; i < PACK_AREAS.length && hits.length < 25; i++) {
      var a = PACK_AREAS[i];
      if (norm(a[0]).indexOf(q) >= 0 || norm(a[1]).indexOf(q) >= 0) hits.push(a);
    }
    hits.forEach(function (a) {
      var li = document.createElement("li"), link = document.createElement("a");
      link.href = base + a[4]; link.textContent = a[1];
      li.appendChild(link);
      li.appendChild(document.createTextNode(" (" + a[0] + ", " + a[2] +
                                             (a[3] ? ", in " + a[3] : "") + ")"));
      out.appendChild(li);
    });
    if (!hits.length) {
      var li = document.createElement("li"); li.textContent = "No area matches.";
      out.appendChild(li);
    }
  });
})();
</script>"""


def search_html(base: str) -> str:
    """The search box of an index page; ``base`` leads from the page to the run folder."""
    return (f'<div class="pack-search" role="search"><label for="pack-search-box">'
            f"<strong>Find an area</strong> (code or any part of its name): </label>"
            f'<input id="pack-search-box" type="search" autocomplete="off" '
            f'data-base="{escape(base)}" placeholder="e.g. a practice name or code">'
            f'<ol id="pack-search-results" aria-live="polite"></ol></div>'
            f'<script src="{escape(base)}{SEARCH_INDEX}"></script>{SEARCH_SCRIPT}')


def write_search_index(build: Path, nodes: dict[str, AreaNode]) -> None:
    """``search-index.js``: every area of the site as [code, name, level, parent, page],
    each before what is below it (:func:`tree_order`), so a search lists a commissioner
    before its networks and practices."""
    rows = [[n.code, n.name, n.level, nodes[n.parents[-1]].name if n.parents else "",
             n.page] for n in (nodes[c] for c in tree_order(nodes))]
    write_text_atomic(build / SEARCH_INDEX, "window.PACK_AREAS = "
                      + json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
                      .replace("</", "<\\/") + ";\n")


def report_item(j: Job, base: str = "") -> str:
    """One report as a list item: its link and one-line finding, a failed validation
    check, or the failure in plain words; ``base`` leads from the page to the run folder."""
    from helpers import catalogue

    title = escape(catalogue.get(j.notebook).title) if j.notebook in \
        catalogue.NOTEBOOKS else escape(j.notebook)
    if j.status == "ok" and "html" in j.files:
        summary = f" — {escape(j.summary)}" if j.summary else ""
        failed = len(j.validation_failed)
        names = "; ".join(j.validation_failed[:3]) + (
            f"; and {failed - 3} more" if failed > 3 else "")
        check = (f' <span class="failed">{failed} validation '
                 f'check{"s" if failed > 1 else ""} failed</span>'
                 f' <span class="meta">({escape(names)}; the page says why)</span>'
                 ) if failed else ""
        return (f'<li><a href="{escape(base + j.files["html"])}">{title}</a>{summary}'
                f"{check}</li>")
    first = escape(j.error.splitlines()[0][:200]) if j.error else "not run"
    return (f'<li>{title}: <span class="failed">failed</span> '
            f'<span class="meta no-terms">({first})</span></li>')


def _report_items(jobs: list[Job], base: str) -> str:
    return "".join(report_item(j, base) for j in sorted(jobs, key=lambda j: j.notebook))


def _finding(jobs: list[Job]) -> tuple[str, str]:
    """An area's one-line finding (and the page it comes from) for its parent's list."""
    by_nb = {j.notebook: j for j in jobs if j.status == "ok" and "html" in j.files}
    for nb in FINDING_FROM:
        j = by_nb.get(nb)
        if j is not None and j.summary:
            return j.summary, j.files["html"]
    return "", ""


def _child_row(k: AreaNode, jobs: list[Job], nodes: dict[str, AreaNode]) -> str:
    """One child in its parent's list: its name (and, if it closed, when), code, one-line
    finding with a link to the report it comes from, and each report's failed validation
    checks linked to that report (the one that has them); a child with no report of its
    own (the parent of an area in the run) says so."""
    finding, page = _finding(jobs)
    parts = [escape(finding) + (f' (<a href="../{escape(page)}">report</a>)' if page else "")
             ] if finding else []
    if not jobs:
        below = " and ".join(g.counted() for g in child_groups(k, nodes))
        parts.append('<span class="meta">No report of its own in this run'
                     + (f"; its page lists its {escape(below)} in the run" if below else "")
                     + "</span>")
    for j in sorted(jobs, key=lambda j: j.notebook):
        n = len(j.validation_failed)
        if n and j.status == "ok" and "html" in j.files:
            parts.append(f'<a class="failed" href="../{escape(j.files["html"])}">{n} '
                         f'validation check{"s" if n > 1 else ""} failed in '
                         f"{escape(_title(j))}</a>")
    gone = sum(j.status != "ok" for j in jobs)
    if gone:
        parts.append(f'<span class="failed">{gone} report{"s" if gone > 1 else ""} '
                     "failed</span>")
    closed = f'<span class="meta">{_closed_word(k)} {escape(k.closed)}.</span> ' \
        if k.closed else ""
    return (f'<tr><td><a href="../{escape(k.page)}">{escape(k.name)}</a></td>'
            f"<td>{escape(k.code)}</td><td>{closed}{'; '.join(parts)}</td></tr>")


def _title(j: Job) -> str:
    from helpers import catalogue

    return catalogue.get(j.notebook).title if j.notebook in catalogue.NOTEBOOKS \
        else (j.title or j.notebook)


def _where(node: AreaNode, nodes: dict[str, AreaNode]) -> str:
    """What an area is, in a sentence under its name: the level and its parents, a
    practice in no network said so, and a closed practice's closure."""
    if node.level == "england":
        return ""
    up = [nodes[p] for p in node.parents if nodes[p].level != "england"]
    words = LEVEL_WORDS[node.level][0].capitalize()
    if node.level == "commissioner":
        text = f"{words} in England"
    else:
        text = f"{words} in " + ", ".join(
            f'{LEVEL_WORDS[u.level][0]} <a href="../{escape(u.page)}">{escape(u.name)}</a>'
            for u in reversed(up))
        if node.level == "practice" and not any(u.level == "network" for u in up):
            text += ", in no network"
    closed = closed_html(node, nodes)
    took = [nodes[c] for c in node.took_from if c in nodes]
    if took:
        closed = (f"{closed}. " if closed else "") + "It took on the patients of " + \
            " and ".join(f'<a href="../{escape(c.page)}">{escape(c.name)}</a> (closed '
                         f"{escape(c.closed)})" for c in took)
    return f'<p class="where">{text}.' + (f" <strong>{closed}.</strong>" if closed else "") \
        + "</p>"


def write_area_pages(build: Path, nodes: dict[str, AreaNode], jobs: list[Job],
                     provenance: dict, badge: str = "",
                     downloads: dict[str, str] | None = None) -> int:
    """One page for each area of the site, and the definitions page they and the reports
    link to (``downloads``: area code → its every-practice download links,
    :mod:`helpers.run.downloads`); returns how many area pages were written."""
    from helpers.run import definitions

    by_area: dict[str, list[Job]] = {}
    for j in jobs:
        by_area.setdefault(j.area, []).append(j)
    (build / AREAS_DIR).mkdir(exist_ok=True)
    definitions.write_page(build)
    for node in nodes.values():
        crumbs = " › ".join(f'<a href="../{escape(nodes[p].page)}">{escape(nodes[p].name)}</a>'
                            for p in node.parents)
        mine = by_area.get(node.code, [])
        groups = child_groups(node, nodes)
        below = " and ".join(g.many for g in groups) or "areas"
        reports = (f"<h2>Reports</h2><ul>{_report_items(mine, '../')}</ul>" if mine else
                   "<p class=\"meta\">This run holds no report for this area itself; its "
                   f"{below} are below.</p>")
        kids = "".join(
            f'<h2 id="{g.anchor}">Its {g.many} in this run ({len(g.codes):,})</h2>'
            '<table class="children"><thead><tr><th>Name</th><th>Code</th>'
            "<th>Finding</th></tr></thead><tbody>"
            + "".join(_child_row(nodes[c], by_area.get(c, []), nodes) for c in g.codes)
            + "</tbody></table>" for g in groups)
        level = LEVEL_WORDS[node.level][0]
        code = "" if node.level == "england" else f' <span class="code">{escape(node.code)}'\
            f" · {escape(level)}</span>"
        names = [node.name] + [nodes[c].name for c in node.children + node.ungrouped
                               + node.parents]
        body = definitions.link_terms(f"{_where(node, nodes)}\n{reports}\n"
                                      f"{(downloads or {}).get(node.code, '')}\n{kids}",
                                      "../", names)
        page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(node.name)} — commissioning analysis pack</title>{PAGE_STYLE}</head><body>
<nav aria-label="Where this area sits"><a href="../index.html">All reports</a>{' › ' + crumbs
                                                                               if crumbs else ''}
· <a href="../{definitions.PAGE}">Definitions</a></nav>
<h1>{escape(node.name)}{code} {badge}</h1>
{search_html('../')}
{body}
<footer class="meta">Commissioning analysis pack · data {escape(provenance['data_source'])}
(hash {escape(provenance['data_hash'])}) · code {escape(provenance['git']['commit'][:10])} ·
run {escape(provenance['run_id'])}</footer>
</body></html>
"""
        write_text_atomic(build / node.page, page)
    return len(nodes)


_LINK = re.compile(r"""<(?:a|link|script|img|iframe|source)\b[^>]*?\s(?:href|src)="([^"]*)\"""",
                   re.I)
_IDS = re.compile(r"""\sid="([^"]+)\"""")


def broken_links(run: Path) -> list[tuple[str, str]]:
    """Every link on every page of a run folder that leads nowhere: (page, link) for a
    file that does not exist or a ``#fragment`` the target page lacks. ``data:`` links,
    in-page fragments and addresses outside the run (which the report lint forbids) are
    not followed."""
    run = Path(run)
    ids: dict[Path, set[str]] = {}
    bad = []
    for page in sorted(run.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for href in _LINK.findall(text):
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("#", "//")) or not href:
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file() or not target.is_relative_to(run.resolve()):
                bad.append((str(page.relative_to(run)), href))
                continue
            if parts.fragment:
                if target not in ids:
                    ids[target] = set(_IDS.findall(target.read_text(encoding="utf-8")))
                if parts.fragment not in ids[target]:
                    bad.append((str(page.relative_to(run)), href))
    return bad
