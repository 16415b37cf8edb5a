"""Every practice of an area in one download (helpers.run.downloads).

A published site of the smallest commissioner of the small preset (it, its networks and
its practices, every notebook) is rendered once for the session (``tests/conftest.py``,
shared with the site and oracle tests): every England,
commissioner and network page links its CSV and workbook; both read back (pandas, openpyxl)
hold one row per practice below the area, equal to each practice's results files and to the
oracle's own count of its referrals, months open and list size (published: rounded to 5,
1–7 suppressed); and no cell is one a spreadsheet would run. Cases built for the defects
(a name that is a formula, a count the results file suppresses) are checked without a run.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest

from helpers.formats import FORM_LABELS
from helpers.oracle import area_facts, disclose, per_year_allowed
from helpers.oracle.compute import dataset_folder, load_or_compute
from helpers.report.tables import FORMULA_START
from helpers.run import downloads, site
from helpers.run.jobs import Job
from helpers.run.site import AreaNode

COMMISSIONER = "Q01"                 # the small preset's smaller commissioner
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def built(q01_site):
    """The commissioner's published site, rendered once for the session
    (``tests/conftest.py``); its reports of Q01's areas."""
    assert q01_site["n_failed"] == 0
    return q01_site["out"], q01_site["q01_manifest"]


def read_csv(path) -> pd.DataFrame:
    """The CSV's table: the rows after the header block's blank line."""
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    start = lines.index("") + 1
    return pd.read_csv(io.StringIO("\r\n".join(lines[start:])), dtype=str,
                       keep_default_na=False)


def read_xlsx(path) -> tuple[pd.DataFrame, list[list]]:
    """The workbook's first sheet as text (numbers written as the CSV writes them) and
    every cell of every sheet (value, data type)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb[downloads.TABLE_TITLE]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    cells = [(c.value, c.data_type) for sheet in wb for r in sheet.iter_rows() for c in r]
    as_text = [["" if v is None else str(v) for v in r] for r in rows[1:]]
    return pd.DataFrame(as_text, columns=rows[0]), cells


def _results(out, manifest) -> dict[str, dict[str, dict]]:
    res: dict[str, dict[str, dict]] = {}
    for r in manifest["reports"]:
        res.setdefault(r["area"], {})[r["notebook"]] = json.loads(
            (out / r["files"]["results"]).read_text())
    return res


def _num(cell: str) -> float | None:
    return float(cell) if _NUMBER.fullmatch(cell) else None


@pytest.mark.slow
def test_every_area_page_links_its_download_of_every_practice(built):
    out, manifest = built
    areas = {r["area"] for r in manifest["reports"]}
    levels = {r["area"]: r["level"] for r in manifest["reports"]}
    above = ["ENGLAND", COMMISSIONER] + sorted(a for a in areas if levels[a] == "network")
    for code in above:
        page = (out / site.AREAS_DIR / f"{code.lower()}.html").read_text()
        stem = downloads.file_stem(code).split("/")[-1]
        assert f'href="{stem}.csv"' in page and f'href="{stem}.xlsx"' in page, code
        assert "Download every practice" in page
        assert (out / f"{downloads.file_stem(code)}.csv").exists()
        assert (out / f"{downloads.file_stem(code)}.xlsx").exists()
    for code in areas - set(above):               # practices have no such download
        assert not (out / f"{downloads.file_stem(code)}.csv").exists()
    assert site.broken_links(out) == []


@pytest.mark.slow
def test_the_commissioner_download_equals_the_practices_results_and_the_oracle(built):
    out, manifest = built
    res = _results(out, manifest)
    facts, _ = load_or_compute(dataset_folder("synthetic:small"))
    stem = out / downloads.file_stem(COMMISSIONER)
    table = read_csv(stem.with_suffix(".csv"))
    book, _ = read_xlsx(stem.with_suffix(".xlsx"))
    # the CSV and the workbook say the same (a workbook reads 9778.0 back as 9778)
    assert list(table.columns) == list(book.columns) and table.shape == book.shape
    for a, b in zip(table.to_numpy().ravel(), book.to_numpy().ravel(), strict=True):
        assert a == b or (_num(a) is not None and _num(a) == _num(b)), (a, b)
    members = {area_facts(facts, m).public
               for m in area_facts(facts, COMMISSIONER).members}
    assert set(table["Practice code"]) == members and len(table) == len(members)
    checked = 0
    for row in table.to_dict("records"):
        code = row["Practice code"]
        r00 = res[code]["00_data_overview"]["headline"]
        r01 = res[code]["01_referral_variation"]
        f = area_facts(facts, code)
        # the results files' published values, as they stand
        for header, value in (("List size (patients)", r00["patients"]),
                              ("Referrals in the period", r00["referrals"]),
                              ("Referrals a year", r01["observed_per_year"])):
            want = "suppressed" if value is None else str(value)
            assert row[header] == want, (code, header)
        assert abs(float(row["Standardised referral ratio"]) - r01["area_ratio"]) < 5e-4
        all_row = next(p for p in r01["profile"] if p["specialty_code"] == "ALL")
        assert abs(float(row["Ratio 95% interval, lower"]) - all_row["lower"]) < 5e-4
        assert abs(float(row["Ratio 95% interval, upper"]) - all_row["upper"]) < 5e-4
        # ... and the oracle's own count from the contract tables
        assert _num(row["Referrals in the period"]) == disclose(f.observed), code
        assert _num(row["Referrals a year"]) in per_year_allowed(f.observed, f.years, True)
        assert int(row["Months open"]) == f.months_open
        assert abs(float(row["Expected referrals in the period"]) - f.expected) < 0.06
        if not f.closed:
            assert _num(row["List size (patients)"]) == disclose(f.list_size), code
        limits = row["Against the funnel limits"]
        assert limits in {"within the 99.8% limits", "above the 99.8% limits",
                          "below the 99.8% limits"} or r01["standing"] != "ok"
        assert (limits.startswith("above") == bool(r01["n_high"]))
        # the contract form by the name notebook 03's page gives it, not its code ("pbr")
        form = res[code]["03_contract_forms"]["current_form"]
        assert row["Contract form"] == FORM_LABELS[form], (code, row["Contract form"])
        checked += 1
    assert checked == len(members) > 20


@pytest.mark.slow
def test_no_cell_of_any_download_is_one_a_spreadsheet_would_run(built):
    out, _ = built
    files = sorted((out / site.AREAS_DIR).glob("*-practices.csv"))
    assert len(files) >= 3
    for f in files:
        for row in csv.reader(io.StringIO(f.read_bytes().decode("utf-8-sig"))):
            for cell in row:
                assert not (cell.startswith(FORMULA_START) and _num(cell) is None), (f, cell)
        _, cells = read_xlsx(f.with_suffix(".xlsx"))
        for value, kind in cells:
            assert kind != "f", (f, value)
            assert not (isinstance(value, str) and value.startswith(FORMULA_START)), value


def _planted(tmp_path, name: str, patients: int | None) -> tuple[pd.DataFrame, list]:
    """A one-network site with one practice whose results are planted: its name, and its
    list size as the results file publishes it (None: suppressed)."""
    nodes = {"ENGLAND": AreaNode("ENGLAND", "England", "england", children=["Q9"]),
             "Q9": AreaNode("Q9", "=cmd|' /C calc'!A0", "commissioner", ["ENGLAND"],
                            children=["U9"]),
             "U9": AreaNode("U9", "@SUM(1+1)", "network", ["ENGLAND", "Q9"],
                            children=["P9"]),
             "P9": AreaNode("P9", name, "practice", ["ENGLAND", "Q9", "U9"])}
    (tmp_path / "00_data_overview").mkdir()
    (tmp_path / "00_data_overview" / "p9.results.json").write_text(json.dumps(
        {"headline": {"patients": patients, "months": 60, "referrals": 1240,
                      "first_month": "2014-04-01", "last_month": "2019-03-01",
                      "latest_count": "2018-04-01"}}))
    job = Job("00_data_overview", "P9", {}, status="ok",
              files={"results": "00_data_overview/p9.results.json"})
    (tmp_path / site.AREAS_DIR).mkdir()
    links = downloads.write_area_downloads(tmp_path, nodes, [job], {
        "data_source": "synthetic:small", "data_hash": "abc", "run_id": "r1",
        "publish": True, "data_real_tables": []})
    assert set(links) == {"ENGLAND", "Q9", "U9"}
    _, cells = read_xlsx(tmp_path / f"{downloads.file_stem('U9')}.xlsx")
    return read_csv(tmp_path / f"{downloads.file_stem('U9')}.csv"), cells


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0",
                                  "-2+3", "@SUM(A1)", "\tTab", "\rReturn"])
def test_a_name_that_is_a_formula_is_written_as_text(tmp_path, name):
    table, cells = _planted(tmp_path, name, 3200)
    assert table.loc[0, "Practice"] == "'" + name
    assert table.loc[0, "Commissioner"] == "Q9"
    assert all(kind != "f" for _, kind in cells)
    assert not any(isinstance(v, str) and v.startswith(FORMULA_START) for v, _ in cells)
    assert any(isinstance(v, str) and v.startswith("'") and v[1:].strip() == name.strip()
               for v, _ in cells)                 # (a workbook keeps \r as a line break)


def test_a_count_the_results_suppress_reads_suppressed_and_others_stay_numbers(tmp_path):
    table, cells = _planted(tmp_path, "Practice P9", None)
    assert table.loc[0, "List size (patients)"] == "suppressed"
    assert table.loc[0, "Referrals in the period"] == "1240"
    assert (1240, "n") in cells                       # a number in the workbook
    # a notebook that reported on none of the practices gives no columns
    assert "Standardised referral ratio" not in table.columns


def test_where_a_practice_sits_against_the_limits_as_its_results_say():
    funnel = {"funnel": {"limit": "99.8"}, "standing": "ok"}
    assert downloads.against_limits({**funnel, "n_high": 1, "n_low": 0}) == \
        "above the 99.8% limits"
    assert downloads.against_limits({**funnel, "n_high": 0, "n_low": 1}) == \
        "below the 99.8% limits"
    assert downloads.against_limits({**funnel, "n_high": 0, "n_low": 0}) == \
        "within the 99.8% limits"
    assert downloads.against_limits({"standing": "no_referrals", "n_high": 0}) == \
        "no referrals"
    assert downloads.against_limits({"parameters": {"limit": 95}, "n_high": 0}) == \
        "within the 95% limits"
    assert downloads.against_limits(None) is None


def test_a_gap_from_the_size_curve_is_in_per_cent_as_the_page_says():
    """The results file holds the gap on the log scale; the downloads and summaries state
    it in per cent as notebook 02's page does (−0.706 is 50.6% below, not −70.6)."""
    from helpers.run import downloads

    res = {"02_federation_scale": {"gaps": [{"outcome": "srr", "gap": -0.706},
                                            {"outcome": "gp_fte_per_1000", "gap": 0.182}]}}
    assert downloads._gap("srr")(res) == -50.6
    assert downloads._gap("gp_fte_per_1000")(res) == 20.0
    assert downloads._gap("satisfaction_pct")(res) is None
