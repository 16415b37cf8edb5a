"""Every practice of an area in one download: a CSV and an Excel workbook per area page.

On every England, commissioner and network page of a run's site that has practices below
it in the run, "Download every practice (CSV and Excel)" gives one row per such practice
with its headline figures from each notebook's results file: list size, referrals, expected
referrals, the standardised ratio and its 95% interval, where it sits against the funnel's
limits, the specialties above or below England, its gaps from England's size curves,
payments and GP workforce, the contract form's saving and, where notebook 04 ran, the real
A&E indicator. The figures are the results files' own (in publish mode their published
values: counts rounded to 5, a count of 1 to 7 written "suppressed"); nothing is computed
again from exact counts. Each text cell goes through the pack's CSV cell writer
(:func:`helpers.report.tables.csv_cell`), in the workbook too, so no cell starts a formula.

The CSV opens with a header block (what the file is, its periods, what is synthetic, then
one line per column saying what it is), a blank line, then the table; the workbook holds
the table on its first sheet ("Practices") and the same words on a second ("Columns").
Written once per run, from the results files (:func:`write_area_downloads`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpers.atomic import atomic_path, write_text_atomic
from helpers.formats import form_label
from helpers.run.jobs import Job, slug
from helpers.run.site import AREAS_DIR, AreaNode

SUPPRESSED = "suppressed"
"""A published count of 1 to 7 (null in the results file)."""
NOT_IN_RUN = ""
"""A figure whose notebook did not run for the practice (or has no such figure)."""
TABLE_TITLE = "Practices"
NOTES_TITLE = "Columns"
GAP_OUTCOMES = {"srr": "standardised referral ratio",
                "payments_per_weighted": "payments per weighted patient",
                "gp_fte_per_1000": "GP FTE per 1,000 patients",
                "satisfaction_pct": "patient satisfaction"}


@dataclass(frozen=True)
class Column:
    """One column of the download: its header (with unit), what it is, the notebook whose
    results file it comes from, the contract table its figure rests on (to say real or
    synthetic) and how to read it from a practice's results (notebook → results dict)."""

    header: str
    what: str
    notebook: str
    table: str
    get: Callable[[dict[str, dict]], object]
    count: bool = False          # a published count: null in the results file = suppressed


def _at(res: dict[str, dict], notebook: str, *keys: str) -> object:
    """A value inside a notebook's results, or None when absent."""
    v: object = res.get(notebook)
    for k in keys:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    return v


def _ratio_row(res: dict[str, dict]) -> dict:
    """The practice's all-referrals row of notebook 01's profile (ratio and interval)."""
    for r in _at(res, "01_referral_variation", "profile") or []:
        if r.get("specialty_code") == "ALL":
            return r
    return {}


def _round(v: object, n: int) -> object:
    """A number to ``n`` decimals (a whole number when ``n`` is 0); anything else as is."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return v
    return round(float(v), n) if n else int(round(float(v)))


def against_limits(r01: dict | None) -> object:
    """Where a practice's ratio sits against the funnel's limits, as its 01 results say:
    'above', 'below' or 'within' the limits, or why no limit is stated."""
    if not r01:
        return None
    standing = r01.get("standing", "ok")
    if standing != "ok":
        return {"no_referrals": "no referrals", "too_few_expected": "too few expected",
                "implausible": "implausible ratio"}.get(standing, standing)
    limit = (r01.get("funnel") or {}).get("limit") or (r01.get("parameters") or {}).get(
        "limit")
    where = "above" if r01.get("n_high") else "below" if r01.get("n_low") else "within"
    return f"{where} the {limit}% limits" if limit else where


def _specialties(res: dict[str, dict], verdict: str) -> object:
    """Specialties whose ratio's 95% interval is wholly above ('higher') or below ('lower')
    England's, from notebook 01's profile; '; '-separated, or 'none'."""
    prof = _at(res, "01_referral_variation", "profile")
    if prof is None:
        return None
    names = [r["indicator"] for r in prof
             if r.get("specialty_code") != "ALL" and r.get("verdict") == verdict]
    return "; ".join(names) or "none"


def _gap(outcome: str) -> Callable[[dict[str, dict]], object]:
    """The practice's gap from England's size curve in per cent (+ above), as notebook 02's
    page states it: the results file holds it on the log scale, so (e^gap − 1) × 100
    (a gap of −0.706 is 50.6% below, not −70.6)."""
    def get(res: dict[str, dict]) -> object:
        for g in _at(res, "02_federation_scale", "gaps") or []:
            if g.get("outcome") == outcome and g.get("gap") is not None:
                return round(100 * math.expm1(float(g["gap"])), 1)
        return None
    return get


def _profile_value(outcome: str, n: int) -> Callable[[dict[str, dict]], object]:
    def get(res: dict[str, dict]) -> object:
        for r in _at(res, "02_federation_scale", "profile") or []:
            if r.get("outcome") == outcome:
                return _round(r.get("value"), n)
        return None
    return get


COLUMNS: list[Column] = [
    Column("List size (patients)", "registered patients at the latest count of the data",
           "00_data_overview", "population", lambda r: _at(r, "00_data_overview", "headline",
                                                           "patients"), count=True),
    Column("Months open", "months the practice was open in the data's period",
           "00_data_overview", "practices",
           lambda r: _at(r, "00_data_overview", "headline", "months")),
    Column("Referrals in the period", "first outpatient referrals over the months open",
           "00_data_overview", "referrals",
           lambda r: _at(r, "00_data_overview", "headline", "referrals"), count=True),
    Column("Referrals a year", "referrals over the months open, as a year",
           "01_referral_variation", "referrals",
           lambda r: _at(r, "01_referral_variation", "observed_per_year"), count=True),
    Column("Expected referrals in the period", "referrals expected from the practice's "
           "patients (age and sex) at England's rates, over the months open",
           "01_referral_variation", "referrals",
           lambda r: _round(_at(r, "01_referral_variation", "expected"), 1)),
    Column("Standardised referral ratio", "referrals over expected (1 = England's rate)",
           "01_referral_variation", "referrals",
           lambda r: _round(_at(r, "01_referral_variation", "area_ratio"), 3)),
    Column("Ratio 95% interval, lower", "the ratio's 95% interval, lower end",
           "01_referral_variation", "referrals",
           lambda r: _round(_ratio_row(r).get("lower"), 3)),
    Column("Ratio 95% interval, upper", "the ratio's 95% interval, upper end",
           "01_referral_variation", "referrals",
           lambda r: _round(_ratio_row(r).get("upper"), 3)),
    Column("Against the funnel limits", "where the ratio sits against the funnel plot's "
           "control limits (with over-dispersion) for a practice of its size",
           "01_referral_variation", "referrals",
           lambda r: against_limits(r.get("01_referral_variation"))),
    Column("Specialties above England", "specialties whose ratio's 95% interval lies "
           "wholly above England's", "01_referral_variation", "referrals",
           lambda r: _specialties(r, "higher")),
    Column("Specialties below England", "specialties whose ratio's 95% interval lies "
           "wholly below England's", "01_referral_variation", "referrals",
           lambda r: _specialties(r, "lower")),
    *[Column(f"Gap from England's size curve: {words} (%)", f"the practice's {words} "
             "against England's size curve at its list size, per cent (+ above)",
             "02_federation_scale", table, _gap(outcome))
      for outcome, words, table in (
          ("srr", "standardised referral ratio", "referrals"),
          ("payments_per_weighted", "payments per weighted patient", "practice_outcomes"),
          ("gp_fte_per_1000", "GP FTE per 1,000 patients", "practice_outcomes"),
          ("satisfaction_pct", "patient satisfaction", "practice_outcomes"))],
    Column("Payments per weighted patient (£)", "NHS payments to the practice per "
           "weighted patient", "02_federation_scale", "practice_outcomes",
           _profile_value("payments_per_weighted", 2)),
    Column("GP FTE per 1,000 patients", "full-time-equivalent GPs per 1,000 registered "
           "patients", "02_federation_scale", "practice_outcomes",
           _profile_value("gp_fte_per_1000", 3)),
    Column("Contract form", "the commissioner's contract form for the practice's activity",
           "03_contract_forms", "contracts",
           lambda r: form_label(_at(r, "03_contract_forms", "current_form"))),
    Column("Saving from 10% fewer referrals, current form (£)", "what the commissioner "
           "saves in a year if the practice referred 10% fewer, under its current form",
           "03_contract_forms", "contracts",
           lambda r: _round(_at(r, "03_contract_forms", "saving_current_form_gbp"), 0)),
    Column("A&E indicator rate", "the real A&E attendance indicator (Fingertips), per its "
           "unit", "04_real_indicators", "indicators",
           lambda r: _round(_at(r, "04_real_indicators", "headline", "rate"), 2)),
    Column("A&E indicator against England", "the indicator's 95% interval against "
           "England's value", "04_real_indicators", "indicators",
           lambda r: _at(r, "04_real_indicators", "headline", "verdict")),
]
ID_COLUMNS = ["Practice code", "Practice", "Network", "Commissioner", "Open or closed"]


def practices_below(code: str, nodes: dict[str, AreaNode]) -> list[str]:
    """The practices below an area in the site (its networks' and its own), in site order."""
    out: list[str] = []
    node = nodes[code]
    for kid in node.children + node.ungrouped:
        if nodes[kid].level == "practice":
            out.append(kid)
        else:
            out.extend(practices_below(kid, nodes))
    return out


KEEP = {"00_data_overview": ("headline",),
        "01_referral_variation": ("area_ratio", "standing", "n_high", "n_low", "funnel",
                                  "parameters", "profile", "observed_per_year", "expected",
                                  "deciles"),
        "02_federation_scale": ("gaps", "profile"),
        "03_contract_forms": ("current_form", "saving_current_form_gbp", "year"),
        "04_real_indicators": ("headline",)}
"""The results keys the downloads, summaries and changes read (besides every report's
``summary``, ``where`` and ``validation_failed``): only these are held, so a national
run's 31,000 results files fit in memory."""


def read_results(build: Path, jobs: list[Job]) -> dict[str, dict[str, dict]]:
    """Every report's results file of the run (the keys in :data:`KEEP`): area (public
    code) → notebook → results."""
    out: dict[str, dict[str, dict]] = {}
    for j in jobs:
        f = j.files.get("results") if j.status == "ok" else None
        if f and (build / f).exists():
            res = json.loads((build / f).read_text())
            keep = (*KEEP.get(res.get("notebook", j.notebook), ()), "summary", "where",
                    "validation_failed", "notebook")
            out.setdefault(j.area, {})[j.notebook] = {k: res[k] for k in keep if k in res}
    return out


def practice_row(code: str, nodes: dict[str, AreaNode], res: dict[str, dict],
                 columns: list[Column] | None = None) -> list:
    """One practice's row: its codes and names, then each column's figure (of
    :data:`COLUMNS` by default; blank: no figure; a count the results file publishes as
    null: 'suppressed')."""
    node = nodes[code]
    up = {nodes[p].level: p for p in node.parents}
    row: list = [code, node.name, up.get("network", ""), up.get("commissioner", ""),
                 f"closed {node.closed}" if node.closed else "open"]
    for c in COLUMNS if columns is None else columns:
        v = c.get(res) if c.notebook in res else None
        if v is None and c.count and c.notebook in res:
            v = SUPPRESSED
        row.append(NOT_IN_RUN if v is None else v)
    return row


def _period(res: dict[str, dict[str, dict]]) -> list[str]:
    """The periods of the figures, from the first results file of each notebook."""
    lines = []
    for r in res.values():
        h = _at(r, "00_data_overview", "headline")
        if h:
            lines.append(f"Period: {str(h.get('first_month'))[:7]} to "
                         f"{str(h.get('last_month'))[:7]}; list size at "
                         f"{str(h.get('latest_count'))[:7]}.")
            break
    for r in res.values():
        y = _at(r, "02_federation_scale", "profile")
        if y:
            lines.append(f"Size-curve gaps, payments and GP FTE: financial year "
                         f"{y[0]['year']}/{(y[0]['year'] + 1) % 100:02d}.")
            break
    for r in res.values():
        y = _at(r, "03_contract_forms", "year")
        if y:
            lines.append(f"Contract forms: financial year {y}/{(int(y) + 1) % 100:02d}.")
            break
    return lines


def notes(node: AreaNode, n: int, provenance: dict, res: dict[str, dict[str, dict]],
          columns: list[Column]) -> tuple[list[str], list[list[str]]]:
    """The header block's lines (what the file is, periods, what is real) and one row per
    column (header, what it is, notebook, real or synthetic)."""
    real = set(provenance.get("data_real_tables") or [])
    publish = provenance.get("publish")
    lines = [f"Every practice of {node.name} in this run ({n}), one row each, with its "
             "headline figures from each report's results file.",
             f"Data {provenance.get('data_source')} (hash {provenance.get('data_hash')}); "
             f"run {provenance.get('run_id')}.",
             *_period(res),
             ("Publish mode: counts rounded to 5; a count of 1 to 7 reads 'suppressed'."
              if publish else "Not publish mode: exact counts (not for release)."),
             "A blank cell: that notebook did not report on the practice in this run, or "
             "has no such figure for it.",
             ("Real data: " + ", ".join(sorted(real)) + "; everything else is synthetic."
              if real else "Every figure is synthetic (made up for illustration).")]
    cols = [["Practice code", "the practice's public code", "", ""],
            ["Practice", "its name as the pages give it", "", ""],
            ["Network", "its network's code (blank: in no network)", "", ""],
            ["Commissioner", "its commissioner's code", "", ""],
            ["Open or closed", "whether it was open at the end of the data", "", ""]]
    cols += [[c.header, c.what, c.notebook, "real" if c.table in real else "synthetic"]
             for c in columns]
    return lines, cols


def _cell(v: object) -> object:
    """A cell for the CSV or the workbook: numbers stay numbers; text through the pack's
    CSV cell writer, so nothing a spreadsheet would run."""
    from helpers.formats import csv_cell

    if isinstance(v, bool) or not isinstance(v, int | float):
        return csv_cell(v)
    return v


def csv_text(lines: list[str], cols: list[list[str]], header: list[str],
             rows: list[list]) -> str:
    """The CSV: the header block, a blank line, then the table (UTF-8 with a byte-order
    mark; lines end CRLF)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for line in lines:
        w.writerow([_cell(line)])
    w.writerow([_cell("Columns:")])
    for c in cols:
        w.writerow([_cell(f"{c[0]}: {c[1]}" + (f" ({c[3]}; from {c[2]})" if c[2] else ""))])
    w.writerow([])
    w.writerow([_cell(h) for h in header])
    for r in rows:
        w.writerow([_cell(v) for v in r])
    return "\ufeff" + out.getvalue()


def xlsx_bytes(lines: list[str], cols: list[list[str]], header: list[str],
               rows: list[list]) -> bytes:
    """The workbook: the table on sheet 'Practices', the notes and columns on 'Columns'."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = TABLE_TITLE
    ws.append([_cell(h) for h in header])
    for r in rows:
        ws.append([_cell(v) for v in r])
    ws.freeze_panes = "C2"
    notes_ws = wb.create_sheet(NOTES_TITLE)
    for line in lines:
        notes_ws.append([_cell(line)])
    notes_ws.append([])
    notes_ws.append([_cell(h) for h in ("Column", "What it is", "From report", "Data")])
    for c in cols:
        notes_ws.append([_cell(v) for v in c])
    for sheet in (ws, notes_ws):              # text stays text, whatever it starts with
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def file_stem(code: str) -> str:
    """The downloads' path within the run, without suffix: areas/<code>-practices."""
    return f"{AREAS_DIR}/{slug(code)}-practices"


def write_area_downloads(build: Path, nodes: dict[str, AreaNode], jobs: list[Job],
                         provenance: dict) -> dict[str, str]:
    """For every area of the site with practices below it in the run, its CSV and
    workbook; returns area code → the download links' HTML for its page."""
    res = read_results(build, jobs)
    links: dict[str, str] = {}
    for code, node in nodes.items():
        if node.level == "practice":
            continue
        pracs = [p for p in practices_below(code, nodes) if p in res]
        if not pracs:
            continue
        # a notebook that reported on none of them gives no columns
        columns = [c for c in COLUMNS if any(c.notebook in res[p] for p in pracs)]
        header = ID_COLUMNS + [c.header for c in columns]
        rows = [practice_row(p, nodes, res[p], columns) for p in pracs]
        lines, cols = notes(node, len(rows), provenance, {p: res[p] for p in pracs}, columns)
        stem = file_stem(code)
        write_text_atomic(build / f"{stem}.csv", csv_text(lines, cols, header, rows))
        with atomic_path(build / f"{stem}.xlsx") as tmp:
            tmp.write_bytes(xlsx_bytes(lines, cols, header, rows))
        name = stem.split("/")[-1]
        links[code] = (f'<p class="downloads">Download every practice (<a download '
                       f'href="{name}.csv">CSV</a> and <a download href="{name}.xlsx">Excel'
                       "</a>): one row each, with the headline figures of every report.</p>")
    return links
