"""A printable summary of each practice and network of a run: one short page for paper.

``summaries/<code>.html``, linked from the area's page ("Printable summary"): the area's
headline (its reports' one-line findings and its figures as the every-practice download
gives them, :mod:`helpers.run.downloads`), for a practice the specialties furthest above and
below its similar 10 (at most five each: the ratio over the similar 10's, from notebook
01's profile) and whether its referrals are moving up or down among England's practices
(the decile band of its quarterly ratio, a year at a time, from notebook 01's ``deciles``);
for a network, its practices' figures. Everything is read from the run's results files and
nothing is computed from exact counts. The page is made for A4 (``@page { size: A4 }``, no
charts, no script, no link needed to read it) and fits two printed pages.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from helpers import formats
from helpers.atomic import write_text_atomic
from helpers.run import changes, downloads
from helpers.run.changes import Changes
from helpers.run.jobs import Job, slug
from helpers.run.site import AreaNode

SUMMARY_DIR = "summaries"
SHOW_SPECIALTIES = 5
"""The best and worst five specialties against the similar 10."""
NETWORK_ROWS = 40
"""A network's practices listed on paper (more are said, not listed, to keep two pages)."""
DECILE_KEYS = [f"p{k}" for k in range(10, 100, 10)]
STYLE = """<style>
@page { size: A4; margin: 14mm 14mm 16mm; }
body { font: 10.5pt/1.35 system-ui, -apple-system, "Segoe UI", Arial, sans-serif;
       color: #1a1a1a; max-width: 180mm; margin: 1em auto; padding: 0 1em; }
h1 { font-size: 16pt; margin: 0 0 .2em; } h2 { font-size: 12pt; margin: 1em 0 .3em; }
p, li { margin: .2em 0; } .meta { color: #444; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #bbb; padding: 2px 4px; text-align: left;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.figs th { font-weight: normal; color: #333; width: 32%; } table.figs td { width: 18%; }
section, table, tr { break-inside: avoid; }
@media print { body { margin: 0; padding: 0; max-width: none; } }
</style>"""


def page_path(code: str) -> str:
    """The summary's path within the run folder."""
    return f"{SUMMARY_DIR}/{slug(code)}.html"


def against_similar(profile: list[dict] | None, n: int = SHOW_SPECIALTIES
                    ) -> tuple[list[dict], list[dict]]:
    """The specialties furthest above and below the similar 10: each specialty's ratio over
    the similar 10's mean ratio (both against England); at most ``n`` above 1 (highest
    first) and ``n`` below 1 (lowest first). A specialty without both ratios is left out."""
    rows = []
    for r in profile or []:
        ratio, similar = r.get("ratio"), r.get("similar")
        if r.get("specialty_code") == "ALL" or not ratio or not similar:
            continue
        rows.append({**r, "relative": float(ratio) / float(similar)})
    above = sorted((r for r in rows if r["relative"] > 1), key=lambda r: -r["relative"])
    below = sorted((r for r in rows if r["relative"] < 1), key=lambda r: r["relative"])
    return above[:n], below[:n]


def decile_band(ratio: float, cuts: list[float]) -> int:
    """Which tenth of England's practices a quarterly ratio sits in: 1 (below the 10th
    percentile) to 10 (above the 90th), from the nine deciles ``cuts``."""
    return 1 + sum(1 for c in cuts if ratio > c)


def deciles_by_year(deciles: list[dict] | None) -> list[dict]:
    """The practice's quarterly ratios against England's deciles, a financial year at a
    time: the year, its quarters shown, and the median of their tenths (1 lowest, 10
    highest). Quarters without a ratio (suppressed or none) are left out."""
    by: dict[int, list[int]] = {}
    for q in deciles or []:
        ratio = q.get("ratio")
        if ratio is None or any(q.get(k) is None for k in DECILE_KEYS):
            continue
        y, m = int(q["quarter"][:4]), int(q["quarter"][5:7])
        year = y if m >= 4 else y - 1
        by.setdefault(year, []).append(decile_band(float(ratio),
                                                   [float(q[k]) for k in DECILE_KEYS]))
    out = []
    for year in sorted(by):
        bands = sorted(by[year])
        mid = len(bands) // 2
        median = bands[mid] if len(bands) % 2 else (bands[mid - 1] + bands[mid]) / 2
        out.append({"year": year, "quarters": len(bands), "tenth": median})
    return out


def trend(years: list[dict]) -> str:
    """Whether referrals moved up or down among England's practices: the median tenth of
    the last year against the first ('up', 'down', 'no change of a tenth or more'), or
    'too few years' with fewer than two."""
    if len(years) < 2:
        return "too few years to say"
    change = years[-1]["tenth"] - years[0]["tenth"]
    if change >= 1:
        return "moving up: referring more, relative to England's practices"
    if change <= -1:
        return "moving down: referring less, relative to England's practices"
    return "no change of a tenth or more"


def _num(v: object, digits: int = 2) -> str:
    """A figure as the pages write it (thousands separators, a true minus); text escaped."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return escape(str(v)) if v not in (None, "") else "–"
    return formats.number(v, digits if isinstance(v, float) else 0)


def _digits(header: str) -> int:
    """Decimals for a figure of the download's column ``header``."""
    if header.startswith(("Standardised referral ratio", "Ratio 95%", "GP FTE")):
        return 3
    return 2 if "(£)" in header and "per" in header else 1


def _num_class(value: object) -> str:
    """A cell's class: right-aligned (``n``) for a number, none (left) for words."""
    return ' class="n"' if isinstance(value, int | float) and not isinstance(value, bool) \
        else ""


def _figures(row: list, header: list[str]) -> str:
    """The practice's figures (the download's row, blanks left out), two to a table row."""
    pairs = [(h, v) for h, v in zip(header, row, strict=True)
             if v not in ("", None) and h not in downloads.ID_COLUMNS[:2]]
    cells = [f"<th scope=\"row\">{escape(h)}</th><td{_num_class(v)}>{_num(v, _digits(h))}</td>"
             for h, v in pairs]
    rows = "".join("<tr>" + "".join(cells[i:i + 2]) + "</tr>" for i in range(0, len(cells), 2))
    return f"<table class=\"figs\"><tbody>{rows}</tbody></table>"


def _specialty_table(rows: list[dict], caption: str) -> str:
    if not rows:
        return f"<p>{escape(caption)}: none.</p>"
    body = "".join(f"<tr><td>{escape(str(r['indicator']))}</td><td class=\"n\">"
                   f"{formats.ratio(r['ratio'])}</td><td class=\"n\">{formats.ratio(r['similar'])}"
                   f"</td><td class=\"n\">{formats.pct_change(100 * (r['relative'] - 1), 0)}"
                   "</td></tr>"
                   for r in rows)
    return (f"<table><caption>{escape(caption)}</caption><thead><tr><th>Specialty</th>"
            "<th class=\"n\">Ratio</th><th class=\"n\">Similar 10's ratio</th>"
            "<th class=\"n\">Difference</th></tr></thead><tbody>" + body + "</tbody></table>")


def _findings(res: dict[str, dict]) -> str:
    from helpers import catalogue

    items = "".join(f"<li><strong>{escape(catalogue.get(nb).title)}</strong>: "
                    f"{escape(str(r.get('summary', '')))}</li>"
                    for nb, r in sorted(res.items()) if r.get("summary"))
    return f"<h2>Headline</h2><ul>{items}</ul>" if items else ""


def practice_body(code: str, nodes: dict[str, AreaNode], res: dict[str, dict]) -> str:
    """The body of a practice's summary."""
    columns = [c for c in downloads.COLUMNS if c.notebook in res]
    header = downloads.ID_COLUMNS + [c.header for c in columns]
    row = downloads.practice_row(code, nodes, res, columns)
    r01 = res.get("01_referral_variation", {})
    above, below = against_similar(r01.get("profile"))
    years = deciles_by_year(r01.get("deciles"))
    parts = [_findings(res), f"<section><h2>Its figures</h2>{_figures(row, header)}</section>"]
    if r01.get("profile"):
        parts.append("<section><h2>Against its similar 10</h2><p>Each specialty's "
                     "standardised referral ratio beside the mean of its 10 most similar "
                     "practices (the nearest on age profile, deprivation, rurality and list "
                     "size, as NHS RightCare builds its similar 10); the furthest above and "
                     "below, "
                     f"at most {SHOW_SPECIALTIES} each.</p>"
                     + _specialty_table(above, "Furthest above its similar 10")
                     + _specialty_table(below, "Furthest below its similar 10")
                     + "</section>")
    if r01.get("deciles") is not None:
        body = "".join(f"<tr><td>{formats.year(y['year'])}</td><td class=\"n\">{y['quarters']}</td>"
                       f"<td class=\"n\">{_num(y['tenth'], 1)}</td></tr>" for y in years)
        parts.append("<section><h2>Getting higher or lower?</h2><p>Its referral ratio each "
                     "quarter placed among England's practices in tenths (1: the lowest "
                     "tenth, 10: the highest), the median quarter of each year: "
                     f"<strong>{escape(trend(years))}</strong>.</p>"
                     + ("<table><thead><tr><th>Year</th><th class=\"n\">Quarters</th>"
                        "<th class=\"n\">Tenth of England</th></tr></thead><tbody>" + body
                        + "</tbody></table>" if years else "") + "</section>")
    return "\n".join(parts)


def network_body(code: str, nodes: dict[str, AreaNode], res: dict[str, dict],
                 all_res: dict[str, dict[str, dict]]) -> str:
    """The body of a network's summary: its findings and its practices' key figures."""
    pracs = [p for p in downloads.practices_below(code, nodes) if p in all_res]
    keys = ["Practice", "List size (patients)", "Referrals a year",
            "Standardised referral ratio", "Against the funnel limits"]
    header = downloads.ID_COLUMNS + [c.header for c in downloads.COLUMNS]
    rows = []
    for p in pracs[:NETWORK_ROWS]:
        full = dict(zip(header, downloads.practice_row(p, nodes, all_res[p]), strict=True))
        rows.append("<tr>" + "".join(
            f"<td{_num_class(full[k])}>{_num(full[k], 3)}</td>"
            for k in keys) + "</tr>")
    more = (f"<p>{len(pracs) - NETWORK_ROWS} more practices are in the area's download."
            "</p>" if len(pracs) > NETWORK_ROWS else "")
    table = ("<section><h2>Its practices</h2><table><thead><tr>" + "".join(
        f"<th{'' if k in ('Practice', 'Against the funnel limits') else ' class=n'}>"
        f"{escape(k)}</th>" for k in keys)
        + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + more
        + "</section>") if rows else ""
    return _findings(res) + "\n" + table


def page(node: AreaNode, nodes: dict[str, AreaNode], body: str, provenance: dict,
         since: str = "") -> str:
    """The whole summary page."""
    where = " · ".join(escape(nodes[p].name) for p in node.parents)
    closed = f" Closed {escape(node.closed)}." if node.closed else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(node.name)}: summary — commissioning analysis pack</title>{STYLE}</head>
<body><main>
<h1>{escape(node.name)} <span class="meta">{escape(node.code)} · {escape(node.level)}</span></h1>
<p class="meta">{where}.{closed} Summary of run {escape(str(provenance.get('run_id')))},
data {escape(str(provenance.get('data_source')))}{
' (synthetic)' if not provenance.get('data_real_tables') else ''}{
'; publish mode: counts rounded to 5, 1 to 7 suppressed' if provenance.get('publish') else ''}.</p>
{body}
{since}
</main></body></html>
"""


def write_summaries(build: Path, nodes: dict[str, AreaNode], jobs: list[Job],
                    provenance: dict, found: Changes | None = None) -> dict[str, str]:
    """A summary for every practice and network of the run with a results file (with what
    changed since the last run, when ``found``); returns area code → the link's HTML for
    its area page."""
    res = downloads.read_results(build, jobs)
    links: dict[str, str] = {}
    for code, node in nodes.items():
        if node.level not in ("practice", "network") or code not in res:
            continue
        body = practice_body(code, nodes, res[code]) if node.level == "practice" else \
            network_body(code, nodes, res[code], res)
        since = "" if found is None else changes.section_html(
            found, changes.area_items(found, code, nodes), None)
        write_text_atomic(build / page_path(code), page(node, nodes, body, provenance, since))
        links[code] = (f'<p class="downloads"><a href="../{page_path(code)}">Printable '
                       "summary</a> (two A4 pages at most).</p>")
    return links
