"""The site of one whole commissioner (the commissioner, all its networks and all its
practices, every notebook) on the small preset: every network's reports pass the post-run
checks again, no broken link, every report linked up,
across and down, area pages listing their children with findings, results files that match
their schema, tables that download as themselves; and, in headless Chromium, search by part
of a name, a funnel point named on focus and on hover, and a CSV download equal to the table
on the page."""

from __future__ import annotations

import base64
import io
import json
import re

import pandas as pd
import pytest
import yaml
from chromium import needs_chromium, open_page

from helpers import catalogue
from helpers.analysis import areas
from helpers.paths import project_root
from helpers.report.tables import csv_cell
from helpers.run import site
from helpers.run.checks import _Text, check_output, lint
from helpers.run.grid import load_grid
from helpers.run.jobs import slug
from helpers.sources import open_source

COMMISSIONER = "Q01"


@pytest.fixture(scope="module")
def built(q01_site):
    """The whole commissioner's site, rendered once for the session (``tests/conftest.py``);
    its reports of Q01's areas (the run also holds a closed practice of the other
    commissioner, for the oracle's tests)."""
    assert q01_site["n_failed"] == 0
    return q01_site["out"], q01_site["q01_manifest"]


def test_the_whole_commissioner_is_rendered_with_no_broken_link(built, q01_site):
    out, manifest = built
    ds = open_source("synthetic:small")
    nets = areas.expand(ds, f"networks in {COMMISSIONER}")
    pracs = areas.expand(ds, f"practices in {COMMISSIONER}")
    assert len(manifest["reports"]) == 4 * (1 + len(nets) + len(pracs))
    assert all(r["status"] == "ok" for r in manifest["reports"])
    pages = sorted(p.name for p in (out / site.AREAS_DIR).glob("*.html")
                   if p.name not in q01_site["closed_pages"])
    # every area of the run and its parent England
    assert len(pages) == 2 + len(nets) + len(pracs)
    assert "england.html" in pages and f"{slug(COMMISSIONER)}.html" in pages
    assert site.broken_links(out) == []
    n_links = sum(len(site._LINK.findall(p.read_text())) for p in out.rglob("*.html"))
    assert n_links > 1500                         # the check followed the site's links


def test_every_network_report_passes_the_post_run_checks_again(built):
    """The checks the workers ran, repeated on the files they left for every network of the
    commissioner; each network's 01 page compares it with its commissioner and England."""
    out, manifest = built
    nets = [r for r in manifest["reports"] if r["level"] == "network"]
    assert len({r["area"] for r in nets}) >= 5
    for r in nets:
        nb = json.loads((out / r["files"]["notebook"]).read_text())
        page = (out / r["files"]["html"]).read_text()
        assert check_output(nb, r["min_figures"], out / r["files"]["results"]) == [], \
            r["report_id"]
        assert lint(nb, page, publish=True) == [], r["report_id"]
        res = json.loads((out / r["files"]["results"]).read_text())
        assert res["parameters"]["area"] == r["area"]
        if r["notebook"].startswith("01"):
            assert "Its commissioner" in page and "England" in page, r["report_id"]
            assert res["n_practices"] >= 1


def test_every_report_links_up_across_and_down(built):
    out, manifest = built
    nodes = site.area_tree(open_source("synthetic:small"),
                           sorted({r["area"] for r in manifest["reports"]}))
    for r in manifest["reports"]:
        page = (out / r["files"]["html"]).read_text()
        nav = page[page.index('<nav class="pack-nav"'):page.index("</nav>")]
        node = nodes[r["area"]]
        for parent in node.parents:                       # up
            assert f'href="../{nodes[parent].page}"' in nav, (r["report_id"], parent)
        others = [o for o in manifest["reports"] if o["area"] == r["area"] and o is not r]
        for o in others:                                  # across
            assert f'href="../{o["files"]["html"]}"' in nav, (r["report_id"], o["report_id"])
        groups = site.child_groups(node, nodes)
        for g in groups:                                  # down: a link per kind of child
            assert f'href="../{node.page}#{g.anchor}"' in nav
        assert bool(groups) == (node.level in ("commissioner", "network"))
        assert f'href="{slug(r["area"])}.results.json"' in nav


def test_area_pages_list_every_child_with_its_finding(built):
    out, manifest = built
    nodes = site.area_tree(open_source("synthetic:small"),
                           sorted({r["area"] for r in manifest["reports"]}))
    summaries = {r["area"]: r["summary"] for r in manifest["reports"]
                 if r["notebook"] == "01_referral_variation"}
    for node in nodes.values():
        page = (out / node.page).read_text()
        for child in node.children:
            assert f'href="../{nodes[child].page}"' in page
            if child in summaries:               # its one-line finding (01's summary)
                assert summaries[child].split(";")[0] in page.replace("&#x27;", "'")
    comm = nodes[COMMISSIONER]
    assert {nodes[c].level for c in comm.children} == {"network"}
    assert sum(len(nodes[c].children) for c in comm.children) == sum(
        n.level == "practice" for n in nodes.values())


def test_one_line_findings_read_right_for_one_practice(built):
    """A practice's line in its network's list says where it sits, never '1 practice; 0
    above and 0 below', and never gives the commissioner's contract as the practice's."""
    _, manifest = built
    rows = [r for r in manifest["reports"] if r["level"] == "practice"]
    assert rows
    for r in rows:
        assert not r["summary"].startswith("1 practice"), r["report_id"]
        if r["notebook"] == "01_referral_variation":
            assert re.match(r"(Ratio \d\.\d{2,3} against England|Ratio not shown).*(above|below"
                            r"|within) the 99\.8% limits for a practice of its size$",
                            r["summary"]), r["summary"]
        if r["notebook"] == "03_contract_forms":
            assert r["summary"].startswith("Synthetic ICB 01's ") and \
                "from this practice" in r["summary"], r["summary"]


def test_results_files_match_their_schema(built):
    import jsonschema

    out, manifest = built
    schema = json.loads((project_root() / "src" / "helpers" / "run" /
                         "results.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for r in manifest["reports"]:
        res = json.loads((out / r["files"]["results"]).read_text())
        errors = [e.message for e in validator.iter_errors(res)]
        assert errors == [], (r["report_id"], errors)
        assert res["where"]["level"] == r["level"]


_TABLE = re.compile(r'(<table[^>]*class="pack-table".*?</table>)\s*<p class="pack-csv">'
                    r'<a download="[^"]+" href="data:text/csv;charset=utf-8;base64,([^"]+)"',
                    re.S)


def test_every_table_downloads_as_itself(built):
    """Each table is followed by its CSV download; a static table's download read with
    pandas is the table's cells, header and all; a sortable table's has its rows."""
    out, manifest = built
    n_checked = 0
    for r in manifest["reports"]:
        page = (out / r["files"]["html"]).read_text()
        n_tables = len(re.findall(r'class="pack-table[" ]', page))
        assert page.count('class="pack-csv"') == n_tables, r["report_id"]
        for html_table, data in _TABLE.findall(page):
            parser = _Text()
            parser.feed(html_table)
            (cells,) = parser.tables
            got = pd.read_csv(io.BytesIO(base64.b64decode(data)), dtype=str,
                              keep_default_na=False, encoding="utf-8-sig")
            # every cell as the pack's one CSV writer writes it: text a spreadsheet would
            # run as a formula ('+ deprivation (IMD score)') is prefixed with "'"
            safe = [[csv_cell(c) for c in row] for row in cells]
            assert list(got.columns) == safe[0]
            assert got.to_numpy().tolist() == safe[1:]
            n_checked += 1
    assert n_checked > 300


def test_a_notebook_is_not_rendered_for_a_level_it_does_not_serve(monkeypatch, tmp_path,
                                                                     small):
    entry = catalogue.get("00_data_overview")
    monkeypatch.setitem(catalogue.NOTEBOOKS, "00_data_overview",
                        type(entry)(**{**entry.__dict__,
                                       "levels": ("england", "commissioner", "network")}))
    grid = tmp_path / "g.yaml"
    grid.write_text(yaml.safe_dump({"data_source": "synthetic:small", "publish": True,
                                    "notebooks": ["00_data_overview"],
                                    "areas": [COMMISSIONER, "A81001"]}))
    _, jobs = load_grid(grid)
    assert [j.area for j in jobs] == [COMMISSIONER]
    with pytest.raises(ValueError, match="levels"):
        type(entry)(**{**entry.__dict__, "levels": ("ward",)})


def test_everything_names_every_area_at_every_level(small):
    ds = open_source("synthetic:small")
    t = areas.area_table(ds)
    assert len(areas.expand(ds, "everything")) == 1 + len(t)


@needs_chromium
def test_search_finds_a_practice_by_part_of_its_name(built, page):
    out, manifest = built
    practice = next(r for r in manifest["reports"] if r["level"] == "practice")
    part = practice["area_name"][3:-2]               # the middle of its name
    open_page(page, out / site.AREAS_DIR / "england.html")
    page.locator("#pack-search-box").fill(part)      # typed: each keystroke searches
    hits = page.evaluate("""() => [...document.querySelectorAll("#pack-search-results a")]
        .map(a => [a.textContent, a.href])""")
    names = [h[0] for h in hits]
    assert practice["area_name"] in names
    href = dict(hits)[practice["area_name"]]
    assert href.endswith(f"/areas/{slug(practice['area'])}.html")
    open_page(page, out / site.AREAS_DIR / f"{slug(practice['area'])}.html")
    assert practice["area_name"] in page.locator("h1").first.text_content()


@needs_chromium
def test_a_funnel_point_is_named_on_focus_and_on_hover(built, page):
    out, manifest = built
    open_page(page, out / "01_referral_variation" / f"{slug(COMMISSIONER)}.html")
    names = page.evaluate("() => [...document.querySelectorAll('.pack-chart .pack-pt')]"
                          ".map(p => p.querySelector('title').textContent)")
    practices = {r["area"] for r in manifest["reports"] if r["level"] == "practice"}
    named = {n.split(":")[0] for n in names}
    assert len(named & practices) >= 20              # the commissioner's practices, by code
    focused = page.evaluate("""() => {
        var p = document.querySelectorAll('.pack-chart .pack-pt')[3];
        p.focus();
        var tip = document.querySelector('.pack-tip');
        return [document.activeElement === p, tip.hidden, tip.textContent,
                p.querySelector('title').textContent, p.getAttribute('role')];
    }""")
    assert focused[0] and not focused[1] and focused[2] == focused[3]
    assert focused[4] == "img"                     # its title is its accessible name
    x, y, label = page.evaluate("""() => {
        document.activeElement.blur();
        var p = document.querySelectorAll('.pack-chart .pack-pt')[7];
        p.scrollIntoView({block: 'center'});
        var r = p.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2,
                p.querySelector('title').textContent];
    }""")
    page.mouse.move(x, y)
    hover = page.evaluate("() => [document.querySelector('.pack-tip').hidden, "
                          "document.querySelector('.pack-tip').textContent]")
    assert hover == [False, label]
    # Tab reaches a chart's first point; the arrow keys walk its points, naming each
    first = page.evaluate("""() => {
        var p = document.querySelector('.pack-chart .pack-pt[tabindex="0"]');
        p.focus(); return p.querySelector('title').textContent; }""")
    walked, lefts = [first], [page.evaluate("() => document.activeElement"
                                            ".getBoundingClientRect().left")]
    for _ in range(2):
        page.keyboard.press("ArrowRight")
        walked.append(page.evaluate("() => document.querySelector('.pack-tip').textContent"))
        lefts.append(page.evaluate("() => document.activeElement.getBoundingClientRect().left"))
    assert len(set(walked)) == 3 and all(walked)
    assert lefts == sorted(lefts)                    # left to right, from the leftmost
    assert page.evaluate("""() => [...document.querySelectorAll('svg.pack-chart')].every(
        s => s.querySelectorAll('.pack-pt[tabindex="0"]').length <= 1)""")


@needs_chromium
def test_a_downloaded_csv_read_with_pandas_equals_the_table_on_the_page(built, page):
    out, _ = built
    open_page(page, out / "02_federation_scale" / f"{slug(COMMISSIONER)}.html")
    tables = page.evaluate("""() => Array.from(document.querySelectorAll('table.pack-table'))
        .map(function (t) {
            var link = t.closest('.jp-OutputArea-output').querySelector('.pack-csv a');
            return [Array.from(t.rows).map(function (r) {
                return Array.from(r.cells).map(function (c) { return c.innerText.trim(); });
            }), link.href, link.getAttribute('download')];
        })""")
    assert len(tables) >= 3
    for rows, href, name in tables:
        assert name.endswith(".csv")
        got = pd.read_csv(io.BytesIO(base64.b64decode(href.split(",", 1)[1])), dtype=str,
                          keep_default_na=False, encoding="utf-8-sig")
        header = [h.replace("\n", " ") for h in rows[0]]
        assert [c.replace("\n", " ") for c in got.columns] == header
        assert got.to_numpy().tolist() == rows[1:]


def test_a_link_to_a_failed_report_becomes_text_and_comes_back_when_it_renders(tmp_path):
    from helpers.run.jobs import Job

    jobs = [Job(nb, "Q01", {}, f"{nb}/q01", title=nb.upper()) for nb in ("00_a", "01_b")]
    nodes = {"ENGLAND": site.AreaNode("ENGLAND", "England", "england"),
             "Q01": site.AreaNode("Q01", "ICB 1", "commissioner", ["ENGLAND"])}
    site.attach_nav(jobs, nodes)
    ok, failed = jobs
    (tmp_path / "00_a").mkdir()
    page = tmp_path / "00_a" / "q01.html"
    page.write_text("<body>" + site.nav_html(ok.nav) + "</body>")
    ok.status, ok.files = "ok", {"html": "00_a/q01.html"}
    failed.status = "failed"
    assert 'href="../01_b/q01.html" data-report="01_b/q01"' in page.read_text()
    assert site.mark_missing_reports(jobs, tmp_path, {"Q01"}) == 1
    text = page.read_text()
    assert '<a href="../01_b/q01.html"' not in text and "01_B (not available)" in text
    assert site.broken_links(tmp_path) == [("00_a/q01.html", "../areas/england.html"),
                                           ("00_a/q01.html", "../areas/q01.html"),
                                           ("00_a/q01.html", "../definitions.html"),
                                           ("00_a/q01.html", "q01.results.json")]
    failed.status, failed.files = "ok", {"html": "01_b/q01.html"}     # rerun, now rendered
    (tmp_path / "01_b").mkdir()
    (tmp_path / "01_b" / "q01.html").write_text("<body>" + site.nav_html(failed.nav))
    assert site.mark_missing_reports(jobs, tmp_path, {"Q01"}) == 1
    assert 'href="../01_b/q01.html" data-report="01_b/q01">01_B</a>' in page.read_text()


def test_a_network_whose_memberships_all_ended_says_when(tmp_path):
    """A PCN dissolved in May 2020 (its practices moved to a new PCN) was listed on its
    commissioner's page, and had its own page, like a live network. Its page and its row
    now say 'Ended May 2020'; a live network says nothing of the kind."""
    from helpers.datasets import save_dataset

    small = open_source("synthetic:small")
    tables = {k: small.tables[k] for k in small.tables}
    g = small.groups.copy()
    gone, live = (str(x) for x in g["group_code"].drop_duplicates().iloc[:2])
    g.loc[g["group_code"] == gone, "left"] = pd.Timestamp("2020-05-31")
    tables["groups"] = g
    save_dataset(tables, tmp_path / "d", provenance=dict(small.provenance))
    nodes = site.area_tree(open_source(str(tmp_path / "d")), [gone, live])
    assert nodes[gone].closed == "May 2020" and not nodes[live].closed
    assert site._where(nodes[gone], nodes).count("Ended May 2020") == 1
    assert "Closed" not in site._where(nodes[gone], nodes)
    assert "Ended" not in site._where(nodes[live], nodes)
