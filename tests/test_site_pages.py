"""The site's own pages on cases built for each defect: a commissioner's practices in no
network are never counted as networks (on its page and in every report's top bar); every
area is listed before what is below it; a closed practice's page says when it closed and
links to the practice its patients moved to; a failed validation check links to the
report that has it."""

from __future__ import annotations

import json
import re

from helpers.run import index, site
from helpers.run.jobs import Job
from helpers.schema import ENGLAND

PROVENANCE = {"data_source": "synthetic:small", "data_hash": "abc", "run_id": "r1",
              "git": {"commit": "0123456789abcdef"}, "publish": True}


def _tree() -> dict[str, site.AreaNode]:
    """England › ICB Q09 › two networks (one practice each) and two practices in no
    network, one of them closed with its patients moved to a practice in a network."""
    n = {ENGLAND: site.AreaNode(ENGLAND, "England", "england"),
         "Q09": site.AreaNode("Q09", "Zeta ICB", "commissioner", [ENGLAND]),
         "U1": site.AreaNode("U1", "Beta network", "network", [ENGLAND, "Q09"]),
         "U2": site.AreaNode("U2", "Gamma network", "network", [ENGLAND, "Q09"]),
         "A1": site.AreaNode("A1", "Aardvark practice", "practice", [ENGLAND, "Q09", "U1"]),
         "A2": site.AreaNode("A2", "Bee practice", "practice", [ENGLAND, "Q09", "U2"]),
         "A3": site.AreaNode("A3", "Alpha practice", "practice", [ENGLAND, "Q09"],
                             closed="April 2017", successor="A1",
                             successor_name="Aardvark practice"),
         "A4": site.AreaNode("A4", "Aaron practice", "practice", [ENGLAND, "Q09"])}
    n[ENGLAND].children = ["Q09"]
    n["Q09"].children, n["Q09"].ungrouped = ["U1", "U2"], ["A4", "A3"]  # by name, as built
    n["U1"].children, n["U2"].children = ["A1"], ["A2"]
    n["A1"].took_from = ["A3"]
    return n


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page)


def _jobs(nodes, notebooks=("00_data_overview", "01_referral_variation")) -> list[Job]:
    jobs = []
    for code, node in nodes.items():
        if code == ENGLAND:
            continue
        for nb in notebooks:
            j = Job(nb, code, {}, f"{nb}/{code.lower()}", title=nb, area_name=node.name,
                    level=node.level, status="ok", summary=f"{nb[:2]} finding for {code}")
            j.files = {"html": f"{nb}/{code.lower()}.html"}
            jobs.append(j)
    return jobs


def test_practices_in_no_network_are_never_counted_as_networks(tmp_path):
    nodes = _tree()
    groups = site.child_groups(nodes["Q09"], nodes)
    assert [(g.anchor, g.codes) for g in groups] == [("children", ("U1", "U2")),
                                                     ("ungrouped", ("A4", "A3"))]
    jobs = _jobs(nodes)
    site.attach_nav(jobs, nodes)
    bar = site.nav_html(next(j for j in jobs if j.area == "Q09").nav)
    assert "Its 2 networks ↓" in bar and "its 2 practices in no network ↓" in bar
    assert "Its 4 networks" not in bar
    assert "Its 1 practice ↓" in site.nav_html(next(j for j in jobs if j.area == "U1").nav)
    site.write_area_pages(tmp_path, nodes, jobs, PROVENANCE)
    page = (tmp_path / nodes["Q09"].page).read_text()
    assert "Its networks in this run (2)" in page
    assert "Its practices in no network in this run (2)" in page
    nets = page[page.index('id="children"'):page.index('id="ungrouped"')]
    assert "Beta network" in nets and "Alpha practice" not in nets
    assert "Practice in commissioner Zeta ICB, in no network." in _text(
        (tmp_path / nodes["A4"].page).read_text())
    # every area, index and definition link resolves (the reports are not written here)
    site.write_search_index(tmp_path, nodes)
    index.write_index(tmp_path, jobs, PROVENANCE, site=True, nodes=nodes)
    assert all(re.match(r"(\.\./)?0\d_\w+/\w+\.html$", h)
               for _, h in site.broken_links(tmp_path))


def test_every_area_is_listed_before_what_is_below_it(tmp_path):
    nodes = _tree()
    assert site.tree_order(nodes) == [ENGLAND, "Q09", "U1", "A1", "U2", "A2", "A4", "A3"]
    jobs = _jobs(nodes)
    index.write_index(tmp_path, jobs, PROVENANCE, site=True, nodes=nodes)
    page = (tmp_path / "index.html").read_text()
    heads = re.findall(r'<section class="area"><h2>([^<]*?) <span class="code">([^<]*)<',
                       page)
    assert heads == [("Zeta ICB", "Q09 · commissioner"),
                     ("Beta network", "U1 · network in Zeta ICB"),
                     ("Aardvark practice", "A1 · practice in Beta network"),
                     ("Gamma network", "U2 · network in Zeta ICB"),
                     ("Bee practice", "A2 · practice in Gamma network"),
                     ("Aaron practice", "A4 · practice in Zeta ICB, in no network"),
                     ("Alpha practice", "A3 · practice in Zeta ICB, in no network")]
    site.write_search_index(tmp_path, nodes)
    rows = json.loads((tmp_path / site.SEARCH_INDEX).read_text()
                      .removeprefix("window.PACK_AREAS = ").rstrip(";\n"))
    assert [r[0] for r in rows] == site.tree_order(nodes)
    # without the site's tree: England first, then by name (as before)
    index.write_index(tmp_path, jobs, PROVENANCE)
    heads = re.findall(r'<section class="area"><h2>([^<]*?) <span',
                       (tmp_path / "index.html").read_text())
    assert heads[0] == "Aardvark practice"


def test_a_closed_practices_page_says_when_and_links_where_its_patients_went(tmp_path):
    nodes = _tree()
    jobs = _jobs(nodes)
    site.attach_nav(jobs, nodes)
    site.write_area_pages(tmp_path, nodes, jobs, PROVENANCE)
    page = (tmp_path / nodes["A3"].page).read_text()
    assert ('<strong>Closed April 2017; its patients moved to <a href="../areas/a1.html">'
            "Aardvark practice</a>.</strong>") in page
    assert ('<strong>It took on the patients of <a href="../areas/a3.html">Alpha practice</a>'
            " (closed April 2017).</strong>") in (tmp_path / nodes["A1"].page).read_text()
    q09 = (tmp_path / nodes["Q09"].page).read_text()
    assert re.search(r"Alpha practice</a></td><td>A3</td><td><span class=\"meta\">Closed "
                     r"April 2017\.</span> 01 finding", q09)
    # a successor outside the site is named, not linked
    del nodes["A1"]
    nodes["U1"].children = []
    assert site.closed_html(nodes["A3"], nodes) == \
        "Closed April 2017; its patients moved to Aardvark practice"
    assert site.closed_html(nodes["A4"], nodes) == ""


def test_closed_practices_and_successors_come_from_the_data(small):
    nodes = site.area_tree(small, ["P81045", "P81030", "P81144", "P81062", "P81050"])
    assert (nodes["P81045"].closed, nodes["P81045"].successor) == ("April 2017", "P81030")
    assert nodes["P81045"].successor_name == nodes["P81030"].name
    assert nodes["P81030"].took_from == ["P81045"]
    # successor not in the site: named all the same
    assert (nodes["P81144"].closed, nodes["P81144"].successor) == ("April 2016", "P81156")
    assert nodes["P81144"].successor_name and "P81156" not in nodes
    assert (nodes["P81062"].closed, nodes["P81062"].successor) == ("April 2015", "")
    assert nodes["P81050"].closed == ""
    q02 = nodes["Q02"]
    groups = {g.anchor: g.codes for g in site.child_groups(q02, nodes)}
    assert {nodes[c].level for c in groups["children"]} == {"network"}
    assert {nodes[c].level for c in q02.children} == {"network"}    # never a practice
    assert set(groups["ungrouped"]) == {"P81144", "P81062", "P81050"}


def test_a_failed_validation_check_links_to_the_report_that_has_it(tmp_path):
    nodes = _tree()
    jobs = _jobs(nodes, ("01_referral_variation", "02_federation_scale"))
    failing = next(j for j in jobs if j.area == "A1" and j.notebook == "02_federation_scale")
    failing.validation_failed = ["two-way fixed effects interval"]
    site.attach_nav(jobs, nodes)
    site.write_area_pages(tmp_path, nodes, jobs, PROVENANCE)
    row = next(r for r in (tmp_path / nodes["U1"].page).read_text().split("<tr>")
               if "Aardvark practice" in r)
    assert '(<a href="../01_referral_variation/a1.html">report</a>)' in row
    check = re.search(r'; <a class="failed" href="([^"]*)">1 validation check failed in '
                      r"([^<]*)</a>", row)
    assert check and check.group(1) == "../02_federation_scale/a1.html"
    assert check.group(2) == "Federation scale effects"


def test_a_failed_reports_error_is_quoted_without_term_links(tmp_path):
    nodes = _tree()
    jobs = _jobs(nodes)
    bad = next(j for j in jobs if j.area == "U1" and j.notebook == "01_referral_variation")
    bad.status, bad.files = "failed", {}
    bad.error = "RuntimeError: report lint: 'Its 2 networks ↓' in publish mode"
    child = next(j for j in jobs if j.area == "A1" and j.notebook == "01_referral_variation")
    child.summary = "Ratio 1.10 in publish mode"            # listed below the error
    site.attach_nav(jobs, nodes)
    site.write_area_pages(tmp_path, nodes, jobs, PROVENANCE)
    page = (tmp_path / nodes["U1"].page).read_text()
    quoted = re.search(r'<span class="meta no-terms">\(([^)]*)\)</span>', page)
    assert quoted and "Its 2 networks ↓&#x27; in publish mode" in quoted.group(1)
    assert "definitions.html#publish-mode" in page          # linked elsewhere on the page…
    assert page.index("definitions.html#publish-mode") > quoted.end()   # …not in the error
    # a child whose every report failed: the failures, with no stray separator
    for j in jobs:
        if j.area == "A1":
            j.status, j.files = "failed", {}
    site.write_area_pages(tmp_path, nodes, jobs, PROVENANCE)
    assert '<td>A1</td><td><span class="failed">2 reports failed</span></td>' in \
        (tmp_path / nodes["U1"].page).read_text()


def test_the_oracle_reads_a_commissioners_networks_apart_from_its_practices_in_no_network(
        small, tmp_path):
    """The independent check of area pages and report bars reads the networks' table alone
    and never a count of practices in no network as a group sentence."""
    from helpers.run import oracle_check

    run = ["Q02", "U10011", "P81045", "P81050", "P81144"]
    nodes = site.area_tree(small, run)
    jobs = [j for j in _jobs(nodes) if j.area in run]
    site.attach_nav(jobs, nodes)
    site.write_area_pages(tmp_path, nodes, jobs, PROVENANCE)
    facts, _ = oracle_check.facts_for("synthetic:small")
    page = (tmp_path / nodes["Q02"].page).read_text()
    assert "Its practices in no network in this run (2)" in page
    assert oracle_check.area_page_findings(facts, page, "Q02", set(run)) == []
    tree = {c: (n.level, list(n.children)) for c, n in nodes.items()}
    assert oracle_check.tree_findings("synthetic:small", tree, run) == {}
    bar = site.nav_html(next(j for j in jobs if j.area == "Q02").nav)
    text = re.sub(r"<[^>]+>", " ", bar) + " 113 of the 132 practices in Synthetic ICB 02 " \
        "belong to 29 groups"
    assert [m.group(2) for m in oracle_check._GROUPS.finditer(text)] == ["Synthetic ICB 02"]


def test_a_network_listed_only_as_a_practices_parent_is_in_the_run_for_the_oracle(small):
    """A practice in the run brings its network's page (and a row on its commissioner's)
    without a report of the network's own: the check of the tree counts it as the site
    does, so no report fails for listing it."""
    from helpers.run import oracle_check

    run = ["Q02", "U10011", "P81045", "P81030"]      # P81030's network U10012 has no report
    nodes = site.area_tree(small, run)
    assert nodes["Q02"].children == ["U10011", "U10012"]
    jobs = [j for j in _jobs(nodes) if j.area in run]
    assert oracle_check.fail_on_tree(jobs, nodes, "synthetic:small") == 0
    assert all(j.status == "ok" for j in jobs)
