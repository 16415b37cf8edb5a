"""Every kind of page the pack writes, in headless Chromium (Playwright) with the network
blocked: it renders, logs no console error and makes no external request; axe-core finds
no WCAG 2.0/2.1/2.2 A or AA violation on any page kind (the index, the area page at each
level, each notebook's report at each level, the definitions page, a page naming a failed
report); the keyboard reaches every chart and table control with its focus visible; and
the text drawn inside charts, which axe cannot read, has enough contrast against what is
drawn behind it (:mod:`helpers.report.contrast`).

One small run renders the pages once for the module: England, one commissioner, one of its
networks and one of that network's practices, every notebook (16 reports)."""

from __future__ import annotations

import json
import shutil
import time

import pytest
import yaml
from chromium import axe_violations, needs_chromium, open_page

from helpers.analysis import areas
from helpers.report import contrast
from helpers.run import batch, site
from helpers.run.jobs import Job, slug
from helpers.schema import ENGLAND
from helpers.sources import open_source

pytestmark = needs_chromium
NOTEBOOKS = ("00_data_overview", "01_referral_variation", "02_federation_scale",
             "03_contract_forms")
LEVELS = ("england", "commissioner", "network", "practice")
COMMISSIONER = "Q01"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, small):
    """The run folder and the area code at each level."""
    ds = open_source("synthetic:small")
    network = areas.expand(ds, f"networks in {COMMISSIONER}")[0]
    table = areas.area_table(ds)
    practice = table[(table["level"] == "practice")
                     & (table["network_code"] == network)]["code"].iloc[0]
    codes = dict(zip(LEVELS, (ENGLAND, COMMISSIONER, network, practice), strict=True))
    root = tmp_path_factory.mktemp("browser")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": "synthetic:small", "publish": True,
                                    "notebooks": "all", "areas": list(codes.values())}))
    _, out = batch.run(grid, jobs_n=2, run_id="b", out_root=root)
    return out, codes


def test_every_report_of_the_module_renders(rendered):
    """The pages the other tests open: one failed report fails its own tests and this one,
    not every test of the module."""
    out, _ = rendered
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(r["report_id"], r["error"][:300]) for r in manifest["reports"]
            if r["status"] != "ok"] == []


def _report(rendered, notebook: str, level: str):
    out, codes = rendered
    page = out / notebook / f"{slug(codes[level])}.html"
    if not page.exists():
        pytest.fail(f"{page.relative_to(out)} was not rendered (its report failed)")
    return page


def _failed_report_page(rendered, tmp_path):
    """A practice's report as the site writes it when another of its reports failed: the
    link across to the failed one turned into text (``site.mark_missing_reports``)."""
    out, codes = rendered
    build = tmp_path / "run"
    shutil.copytree(out, build)
    area = codes["practice"]
    jobs = [Job(nb, area, {}, f"{nb}/{slug(area)}", title=nb) for nb in NOTEBOOKS]
    for j in jobs:
        j.nav, j.status, j.files = {"up": []}, "ok", {"html": f"{j.report_id}.html"}
    jobs[1].status = "failed"
    assert site.mark_missing_reports(jobs, build, {area}) >= 1
    page = build / jobs[0].files["html"]
    assert "(not available)" in page.read_text()
    return page


PAGE_KINDS = (["index", "definitions", "failed-report"]
              + [f"area/{level}" for level in LEVELS]
              + [f"{nb}/{level}" for nb in NOTEBOOKS for level in LEVELS])


def _page(rendered, kind: str, tmp_path):
    out, codes = rendered
    if kind == "index":
        return out / "index.html"
    if kind == "definitions":
        page = out / site.DEFINITIONS
        if not page.exists():
            pytest.skip("this run writes no definitions page")
        return page
    if kind == "failed-report":
        return _failed_report_page(rendered, tmp_path)
    what, level = kind.split("/")
    if what == "area":
        return out / site.AREAS_DIR / ("england.html" if level == "england"
                                       else f"{slug(codes[level])}.html")
    return _report(rendered, what, level)


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_every_page_kind_has_no_accessibility_violation(rendered, page, tmp_path, kind):
    """axe-core, WCAG 2.0, 2.1 and 2.2 at levels A and AA: 0 violations; the page also logs
    no console error and asks for nothing outside itself."""
    opened = open_page(page, _page(rendered, kind, tmp_path))
    assert page.locator("h1").count() >= 1
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    assert opened.errors == []
    assert opened.external == []


def test_the_accessibility_check_finds_violations(page, tmp_path):
    """Negative control: a page with an unnamed image, an unlabelled field and faint text
    fails the same check, rule by rule."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><main>'
                   '<h1>x</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                   '<input type="text"><p style="color:#bbb">faint</p></main></body></html>')
    open_page(page, bad)
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label", "color-contrast"} <= found


def test_a_report_and_the_index_render_offline(rendered, page):
    """The page draws (a screenshot of some substance), with no console error and no
    request outside itself."""
    out, _ = rendered
    for path in (out / "index.html", _report(rendered, "01_referral_variation",
                                             "commissioner")):
        opened = open_page(page, path)
        assert len(page.screenshot()) > 20_000
        assert opened.errors == [], opened.errors
        assert opened.external == [], opened.external
        assert any(u.startswith("file:") for u in opened.requests)     # the page itself


def test_the_check_catches_an_external_request(page, tmp_path):
    """Negative control: a page that loads a CDN script is caught by the same check."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><p>x</p><script src="https://cdn.example.org/x.js">'
                   "</script></body></html>")
    opened = open_page(page, bad)
    assert any("cdn.example.org" in u for u in opened.external)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_headline_is_on_the_first_screen_of_a_laptop(rendered, page, notebook):
    """At 1366×768 the headline and its first finding are visible without scrolling."""
    page.set_viewport_size({"width": 1366, "height": 768})
    open_page(page, _report(rendered, notebook, "commissioner"))
    bottom = page.evaluate("""() => {
        const h = [...document.querySelectorAll('h2')].find(
            e => e.textContent.trim().replace('¶', '') === 'Headline');
        const first = h.closest('.jp-Cell').nextElementSibling.querySelector('li, p');
        return first.getBoundingClientRect().bottom; }""")
    assert 0 < bottom <= 768, (notebook, bottom)


FOCUS = """() => {
    /* The focused element: what it is, whether it is one of the controls the walk must
       reach, and whether its focus shows (an outline, or a chart point's dark ring). */
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const s = getComputedStyle(e);
    const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    const point = e.classList.contains('pack-pt') &&
        s.stroke === 'rgb(33, 43, 50)' && parseFloat(s.strokeWidth) >= 2;
    if (!e.dataset.walk) e.dataset.walk = String(document.querySelectorAll('[data-walk]').length);
    return {id: e.dataset.walk, tag: e.tagName.toLowerCase(),
            name: (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 60),
            visible: ring || point || s.boxShadow !== 'none'};
}"""
CONTROLS = """() => [...document.querySelectorAll(
    '.pack-chart .pack-pt[tabindex="0"], .pack-tools input, .pack-tools select, ' +
    '.pack-tools button:not([disabled]), .pack-sortable th button, ' +
    '#pack-search-box, .pack-csv a')].filter(e => e.getClientRects().length).map(e => {
        e.setAttribute('data-control', '1'); return e.outerHTML.slice(0, 80); })"""


@pytest.mark.parametrize("kind", [f"{nb}/commissioner" for nb in NOTEBOOKS] + ["area/england"])
def test_the_keyboard_reaches_every_control_with_its_focus_visible(rendered, page, tmp_path,
                                                                   kind):
    """Tab from the top of the page to its end: every chart (its first point), every
    sortable table's controls, every download link and the search box is reached, and
    each element focused shows that it is."""
    open_page(page, _page(rendered, kind, tmp_path))
    controls = page.evaluate(CONTROLS)
    if kind.startswith(("01_", "02_")):
        assert any("pack-pt" in c for c in controls), "no interactive chart on the page"
    stops = page.evaluate("() => document.querySelectorAll('a[href], input, select, button, "
                          "[tabindex]:not([tabindex=\"-1\"])').length")
    seen, hidden = {}, []
    for _ in range(stops + 5):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUS)
        if f is None or f["id"] in seen:
            break
        seen[f["id"]] = f
        if not f["visible"]:
            hidden.append(f)
    # every chart point is an image named by its title once the page has loaded
    unnamed = page.evaluate("() => [...document.querySelectorAll('.pack-pt')].filter(e => "
                            "e.getAttribute('role') !== 'img' || !e.querySelector('title')"
                            ".textContent.trim()).length")
    assert unnamed == 0, f"{unnamed} chart points without role img and a name"
    reached = page.evaluate("() => [...document.querySelectorAll('[data-control]')]"
                            ".filter(e => !e.dataset.walk).map(e => e.outerHTML.slice(0, 80))")
    assert reached == [], f"controls Tab never reaches: {reached}"
    assert hidden == [], f"focused without a visible focus: {hidden[:5]}"
    assert len(seen) >= len(controls)


def test_a_sortable_table_sorts_from_the_keyboard_offline(rendered, page):
    """The commissioner's practice table (the pack's script, inline): Enter on a numeric
    column's sort button orders the rows by it, up and then down, and says so (aria-sort)."""
    opened = open_page(page, _report(rendered, "01_referral_variation", "commissioner"))
    table = page.locator("table.pack-sortable").first
    column = int(table.get_attribute("data-num").split(",")[0])

    def values() -> list[float]:
        return page.evaluate("""(c) => [...document.querySelector('table.pack-sortable')
            .querySelectorAll('tbody tr')].map(r => parseFloat(r.cells[c].textContent
            .replace(/,/g, '')))""", column)

    def settled(want_up: bool) -> list[float]:
        # the table redraws after the key's event; read it once it has (or after 5 s)
        deadline = time.monotonic() + 5
        while True:
            got = values()
            if got == sorted(got, reverse=not want_up) or time.monotonic() > deadline:
                return got
            page.wait_for_timeout(100)

    shown = values()
    control = table.locator("thead th").nth(column).locator("button")
    control.focus()
    page.keyboard.press("Enter")
    up = settled(True)
    assert table.locator("thead th").nth(column).get_attribute("aria-sort") == "ascending"
    page.keyboard.press("Enter")
    down = settled(False)
    assert table.locator("thead th").nth(column).get_attribute("aria-sort") == "descending"
    assert len(up) >= 10 and up == sorted(up) and down == sorted(down, reverse=True)
    assert shown != up or shown != down                  # the order changed
    # the caption says the order the reader chose, not the order it was written in
    caption = table.locator("caption").text_content()
    name = table.locator("thead th").nth(column).text_content().strip()
    assert "highest ratio first" not in caption
    assert caption.endswith(f"sorted by {name}, highest first"), caption
    assert opened.errors == [] and opened.external == []


def test_a_long_table_searches_and_pages_every_row(rendered, page):
    """England's practice table: the first 15 rows, Next for the following 15, a search
    that finds a practice beyond the first page, and 'all' showing every row; the status
    line says which rows are shown, and the rows are the JSON's, every one."""
    opened = open_page(page, _report(rendered, "01_referral_variation", "england"))
    table = page.locator("table.pack-sortable").last
    key = table.get_attribute("data-key")
    rows = json.loads(page.locator(f"#pack-rows-{key}").text_content())
    assert len(rows) > 30
    tools = page.locator(".pack-tools").last
    status = page.locator(".pack-status").last

    def body() -> list[list[str]]:
        return [[c.strip() for c in r] for r in table.evaluate(
            "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))")]

    assert body() == rows[:15] and status.text_content() == f"Rows 1–15 of {len(rows):,}"
    tools.get_by_role("button", name="Next rows").click()
    assert body() == rows[15:30] and status.text_content().startswith("Rows 16–30 of")
    caption = table.locator("caption").text_content()
    tools.get_by_role("searchbox").fill(rows[20][0])
    found = body()
    assert rows[20] in found and len(found) < len(rows)
    assert "matching" in status.text_content()
    # the caption says the table now shows only the rows found, not all of them
    n = len(found)
    assert table.locator("caption").text_content() == (
        f"{caption}; showing the {n:,} row{'s' if n != 1 else ''} matching “{rows[20][0]}”")
    tools.get_by_role("searchbox").fill("")
    assert table.locator("caption").text_content() == caption
    tools.get_by_role("combobox").select_option("0")
    assert body() == rows
    assert opened.errors == [] and opened.external == []


def test_a_long_table_sorts_money_counts_and_gaps_by_value(page, tmp_path):
    """Cells as the pack writes them sort by what they mean: −£5k < £950 < £3.6k < £12k <
    £1.2m, and 'suppressed' and '–' go last, in both directions."""
    import os

    import pandas as pd

    from helpers.report.tables import Col, table
    from helpers.run.render import to_html

    cells = ["£1.2m", "£3.6k", "£950", "suppressed", "£12k", "−£5k", "–", "£0k"] * 4
    df = pd.DataFrame({"name": [f"P{i}" for i in range(len(cells))], "gbp": cells})
    os.environ["PACK_BATCH"] = "1"
    try:
        html = table(df, [Col("name", "Practice"), Col("gbp", "Value", "gbp")], "cap").data
    finally:
        os.environ.pop("PACK_BATCH")
    nb = {"cells": [{"cell_type": "code", "id": "c", "metadata": {}, "source": "",
                     "execution_count": 1, "outputs": [{
                         "output_type": "display_data", "metadata": {},
                         "data": {"text/html": html, "text/plain": "x"}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "t.html"
    path.write_text(to_html(nb, "England", "footer"), encoding="utf-8")
    opened = open_page(page, path)
    page.locator(".pack-tools select").select_option("0")
    button = page.locator("table.pack-sortable thead th").nth(1).locator("button")
    order = ["−£5k", "£0k", "£950", "£3.6k", "£12k", "£1.2m"]

    def column() -> list[str]:
        return page.evaluate("""() => [...document.querySelector('table.pack-sortable')
            .tBodies[0].rows].map(r => r.cells[1].textContent)""")

    button.click()
    up = column()
    assert list(dict.fromkeys(up[:24])) == order and set(up[24:]) == {"suppressed", "–"}
    button.click()
    down = column()
    assert list(dict.fromkeys(down[:24])) == order[::-1] and set(down[24:]) == {"suppressed",
                                                                                "–"}
    assert opened.errors == []


SVG_TEXT = """() => [...document.querySelectorAll('svg.pack-chart text')].map(t => {
    /* each chart text, and the fills drawn behind its middle, topmost first */
    const s = getComputedStyle(t), r = t.getBoundingClientRect();
    t.scrollIntoView({block: 'center'});
    const b = t.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
    const behind = [];
    for (const e of document.elementsFromPoint(x, y)) {
        if (e === t || t.contains(e) || e.tagName.toLowerCase() === 'tspan') continue;
        if (e instanceof SVGGraphicsElement && !(e instanceof SVGSVGElement)) {
            if (e.tagName.toLowerCase() === 'image') continue;   // a dense cloud's picture
            const es = getComputedStyle(e);
            if (es.fill && es.fill !== 'none' && !es.fill.startsWith('url'))
                behind.push([es.fill, parseFloat(es.fillOpacity) * parseFloat(es.opacity)]);
        } else if (!(e instanceof SVGElement)) {
            const bg = getComputedStyle(e).backgroundColor;
            if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') behind.push([bg, 1]);
        }
    }
    return {text: t.textContent, fill: s.fill, opacity: parseFloat(s.fillOpacity) *
            parseFloat(s.opacity), px: parseFloat(s.fontSize), weight: parseInt(s.fontWeight),
            behind: behind, shown: r.width > 0};
})"""


@pytest.mark.parametrize("level", LEVELS)
def test_text_inside_charts_has_enough_contrast(rendered, page, level):
    """Every text drawn in every chart of every notebook at this level: WCAG contrast of
    at least 4.5:1 (3:1 for large text) against the colours behind it."""
    samples = []
    for nb in NOTEBOOKS:
        open_page(page, _report(rendered, nb, level))
        samples += [contrast.TextSample(s["text"], s["fill"], s["opacity"], s["px"],
                                        s["weight"], tuple((c, a) for c, a in s["behind"]))
                    for s in page.evaluate(SVG_TEXT) if s["shown"] and s["text"].strip()]
    assert len(samples) > 50                       # tick labels, titles, names, sources
    assert contrast.text_contrast_failures(samples) == []


def test_the_chart_contrast_check_sees_what_lies_behind_text(page, tmp_path):
    """Negative control: dark text on a dark bar fails, the same text on the white figure
    passes, and faint grey text fails anywhere; the bar is found under the text by the
    browser's own hit test."""
    bad = tmp_path / "chart.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><body><svg class="pack-chart" width="300" '
        'height="100" xmlns="http://www.w3.org/2000/svg"><style>.c9-s1{fill:#005eb8}</style>'
        '<rect x="0" y="0" width="150" height="100" class="c9-s1"/>'
        '<text x="20" y="50" style="fill:#212b32;font-size:12px">on the bar</text>'
        '<text x="170" y="50" style="fill:#212b32;font-size:12px">beside it</text>'
        '<text x="170" y="80" style="fill:#aeb7bd;font-size:12px">faint</text></svg>'
        "</body></html>")
    open_page(page, bad)
    samples = {s["text"]: contrast.TextSample(s["text"], s["fill"], s["opacity"], s["px"],
                                              s["weight"], tuple(map(tuple, s["behind"])))
               for s in page.evaluate(SVG_TEXT)}
    assert samples["on the bar"].behind[0] == ("rgb(0, 94, 184)", 1.0)
    failing = contrast.text_contrast_failures(list(samples.values()))
    assert [f.split("'")[1] for f in failing] == ["on the bar", "faint"]
