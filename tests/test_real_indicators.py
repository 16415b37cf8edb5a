"""Real indicators: the ``indicators`` table, Fingertips reproduced row by row, the
analysis on cases built for it, the grid's handling of data without indicators, and two
rendered pages (the real-file tests skip without ../shared)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.analysis import real_indicators
from helpers.analysis.context import open_context
from helpers.datasets import save_dataset
from helpers.paths import project_root
from helpers.run.grid import GridError, load_grid
from helpers.schema import ContractError, validate_dataset, validate_table
from helpers.sources import nhs_files, real_structure
from helpers.stats import sdc

AE_FILE = "fingertips_practice_ae_attendances_0to4.csv"
Z95 = float(stats.norm.ppf(0.975))


def byar(o: float, z: float = Z95) -> tuple[float, float]:
    """Byar's limits for a count, written out here independently of helpers.stats."""
    lo = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    o1 = o + 1
    hi = o1 * (1 - 1 / (9 * o1) + z / (3 * math.sqrt(o1))) ** 3
    return lo, hi


def _export_row(area, count, den, value, lo, hi, area_type="GPs", note="", parent="U1"):
    return {"Indicator ID": "93930", "Indicator Name": "A&E attendances (0 to 4 years)",
            "Parent Code": parent, "Parent Name": "", "Area Code": area, "Area Name": area,
            "Area Type": area_type, "Sex": "Persons", "Age": "0-4 yrs", "Category Type": "",
            "Category": "", "Time period": "2021/22", "Value": value,
            "Lower CI 95.0 limit": lo, "Upper CI 95.0 limit": hi,
            "Lower CI 99.8 limit": "", "Upper CI 99.8 limit": "", "Count": count,
            "Denominator": den, "Value note": note}


def _fmt(x: float) -> str:
    return f"{x:.5f}"


@pytest.fixture
def export(tmp_path):
    """A Fingertips export built for the case: A has its interval from the count before
    rounding (102, published as 100); B's count is exact; C is suppressed; D is not a
    practice of the pack; the PCN U1 is A + B."""
    lo_a, hi_a = byar(102)
    lo_b, hi_b = byar(50)
    lo_p, hi_p = byar(152)
    rows = [
        _export_row("A00001", "100", "1000", _fmt(100.0), _fmt(lo_a), _fmt(hi_a)),
        _export_row("A00002", "50", "400", _fmt(125.0), _fmt(lo_b / 0.4), _fmt(hi_b / 0.4)),
        _export_row("A00003", "", "21", "", "", "", note="Value suppressed for disclosure "
                    "control reasons"),
        _export_row("Z99999", "30", "100", _fmt(300.0), "1", "2", parent="U2"),
        _export_row("U1", "150", "1400", _fmt(150 / 1.4), _fmt(lo_p / 1.4),
                    _fmt(hi_p / 1.4), area_type="PCNs (v. 27/10/23)", parent="E92000001"),
    ]
    path = tmp_path / AE_FILE
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_reproduction_recovers_the_count_behind_a_rounded_count(export):
    ft = nhs_files.read_fingertips_export(export, 93930)
    rows, s = real_indicators.reproduce_fingertips(ft)
    assert s["rows"] == 4 and s["with_count"] == 3 and s["suppressed"] == 1
    assert s["suppressed_notes"] == ["Value suppressed for disclosure control reasons"]
    assert s["value_agree"] == 3 and s["ci95_agree"] == 2          # Z99999's "1 to 2" is not
    by = rows.set_index("area_code")
    assert by.loc["A00001", "recovered_count"] == 102              # published 100
    assert by.loc["A00002", "recovered_count"] == 50
    assert by.loc["A00001", "ci95_diff_published_count"] > 1       # 100 itself misses
    assert s["ci95_agree_published_count"] == 1                   # only B as published
    assert s["ci998_published"] == 0
    pcn = real_indicators.fingertips_pcn_check(ft)
    # U1's denominator 1400 = 1000 + 400 and its count before rounding 152 = 102 + 50
    assert pcn["pcns"] == 1 and pcn["denominator_equals_members"] == 1
    assert pcn["count_equals_members"] == 1


def test_fingertips_reproduced_for_every_practice_row(real_dir):
    """Every practice row of Fingertips 93930 with a count: the pack's crude rate equals the
    published Value and its Byar 95% interval the published limits, to the file's precision
    (5 decimal places), once the count is the one before Fingertips rounded it to 5."""
    ft = nhs_files.read_fingertips_export(real_dir / AE_FILE, 93930)
    rows, s = real_indicators.reproduce_fingertips(ft)
    print("\nFingertips 93930 practice rows:", json.dumps(s, default=str))
    assert s["rows"] == 6343 and s["with_count"] + s["suppressed"] == s["rows"]
    assert s["suppressed"] == 1
    assert s["suppressed_notes"] == ["Value suppressed for disclosure control reasons"]
    assert s["value_agree"] == s["with_count"]
    assert s["value_max_abs_diff"] <= real_indicators.FILE_PRECISION
    assert s["ci95_agree"] == s["with_count"] == s["recovered_unique"]
    assert s["ci95_max_abs_diff"] <= real_indicators.FILE_PRECISION
    # the recovered count rounds to the published one (Fingertips rounds to the nearest 5)
    assert ((rows["recovered_count"] / 5).round() * 5 == rows["count"]).all()
    assert 1000 < s["ci95_agree_published_count"] < s["with_count"]
    assert s["ci998_published"] == 0        # the file leaves every practice's 99.8% blank
    pcn = real_indicators.fingertips_pcn_check(ft)
    print("PCN rows against their member practices:", pcn)
    assert pcn["pcns"] == 1191
    assert pcn["count_equals_members"] >= 0.9 * pcn["denominator_equals_members"] > 700


def test_indicators_table_from_the_published_files(export, tmp_path):
    q = pd.DataFrame({"PRACTICE_CODE": ["A00001", "A00002", "A00001"],
                      "GROUP_CODE": ["DM", "DM", "HYP"], "REGISTER": [70, 500, 130],
                      "PATIENT_LIST_TYPE": ["17OV", "17OV", "TOTAL"],
                      "PRACTICE_LIST_SIZE": [1000, 400, 1200]})
    for g in real_structure.QOF_REGISTERS:
        if g not in set(q["GROUP_CODE"]):
            q.loc[len(q)] = ["A00001", g, 1, "TOTAL", 1200]
    (tmp_path / "qof_2020-21_prevalence.csv").write_text(q.to_csv(index=False))
    files = {"ae_0to4": [export], "qof_prevalence": [tmp_path / "qof_2020-21_prevalence.csv"]}
    notes: dict = {}
    codes = pd.Index(["A00001", "A00002", "A00003"])
    t = validate_table(real_structure.indicators_table(files, codes, notes), "indicators")
    ae = t[t["indicator_id"] == "93930"].set_index("practice_code")
    assert list(ae.index) == ["A00001", "A00002", "A00003"]      # Z99999 left out
    assert pd.isna(ae.loc["A00003", "count"]) and ae.loc["A00003", "denominator"] == 21
    assert "suppressed" in ae.loc["A00003", "note"]
    assert "1 with the count suppressed" in notes["indicators"]["fingertips_93930"]
    assert "1 practices not in the pack's practices left out" in \
        notes["indicators"]["fingertips_93930"]
    dm = t[t["indicator_id"] == "QOF-DM"].set_index("practice_code")
    assert list(dm.index) == ["A00001"]          # A00002's register 500 > list 400: left out
    assert dm.loc["A00001", "year"] == 2020 and dm.loc["A00001", "unit"].endswith(
        "aged 17+")
    assert "1 rows with a register larger" in notes["indicators"]["qof_registers"]


def _indicators(codes, counts, dens, measure="rate", mult=1000.0):
    return pd.DataFrame({"practice_code": codes, "indicator_id": "93930",
                         "indicator_name": "A&E attendances, children aged 0-4",
                         "year": 2021, "count": counts, "denominator": dens,
                         "multiplier": mult, "measure": measure,
                         "unit": "per 1,000 registered children aged 0-4",
                         "source": "test", "note": None})


@pytest.mark.parametrize("change, column, words", [
    (dict(measure="proportion", count=[500]), "count", "exceeds its denominator"),
    (dict(count=["many"]), "count", "expected numbers"),
    (dict(denominator=[0]), "denominator", "values below 1"),
    (dict(measure="ratio"), "measure", "unknown values"),
])
def test_bad_indicator_rows_are_refused_naming_column_and_row(change, column, words):
    t = _indicators(["A1"], [50], [400])
    for k, v in change.items():
        t[k] = v
    with pytest.raises(ContractError, match=words) as e:
        validate_table(t, "indicators", "indicators.csv")
    assert e.value.column == column and e.value.rows == [1]
    assert "indicators.csv" in str(e.value)


def test_an_indicator_for_an_unknown_practice_is_refused(small):
    tables = {k: small.tables[k] for k in small.tables}
    tables["indicators"] = _indicators(["NOPE1"], [5], [40])
    with pytest.raises(ContractError, match="codes not found in table 'practices'"):
        validate_dataset(tables)


@pytest.fixture(scope="module")
def with_indicators(tmp_path_factory, small):
    """The small synthetic preset with an indicators table built for the case: every
    practice 400 attendances per 500 children (800 per 1,000) but one at 1,600."""
    tables = {k: small.tables[k] for k in small.tables}
    codes = small.practices["practice_code"].astype(str).tolist()
    counts = [800 if i == 0 else 400 for i in range(len(codes))]
    dm = _indicators(codes, [3] + [101] * (len(codes) - 1), [1000] * len(codes),
                     measure="proportion", mult=100.0).assign(indicator_id="QOF-DM")
    tables["indicators"] = pd.concat([_indicators(codes, counts, [500] * len(codes)), dm],
                                     ignore_index=True)
    prov = dict(small.provenance)
    prov["real_tables"] = ["indicators"]
    out = tmp_path_factory.mktemp("ind") / "data"
    save_dataset(tables, out, provenance=prov)
    return out, codes


def test_analysis_known_answers(with_indicators):
    folder, codes = with_indicators
    ctx = open_context("04_real_indicators", {"data_source": str(folder), "area": "ENGLAND"})
    an = real_indicators.analyse(ctx)
    r = an.indicators.iloc[0]
    n = len(codes)
    assert r["count"] == 400 * (n - 1) + 800 and r["denominator"] == 500 * n
    assert r["value"] == pytest.approx(r["count"] / r["denominator"] * 1000)
    assert r["n_high"] == 1 and r["n_low"] == 0
    assert an.outliers.loc[an.outliers["indicator_id"] == "93930",
                           "practice_code"].tolist() == [codes[0]]
    practice = open_context("04_real_indicators",
                            {"data_source": str(folder), "area": codes[0]})
    p = real_indicators.analyse(practice).indicators.iloc[0]
    assert p["value"] == 1600 and p["verdict"] == "higher" and p["flag"].startswith("High")
    assert p["percentile"] == pytest.approx((n - 1) / n * 100)
    lo, hi = byar(800)
    assert (p["lower95"], p["upper95"]) == pytest.approx((lo / 0.5, hi / 0.5))


def test_publish_mode_rates_come_from_published_counts(with_indicators):
    folder, codes = with_indicators
    ctx = open_context("04_real_indicators", {"data_source": str(folder), "area": "ENGLAND",
                                              "publish": True})
    pts = real_indicators.analyse(ctx).england_points
    pts = pts[pts["indicator_id"] == "93930"]
    assert pts["shown"].all()
    assert (pts["count"] % 5 == 0).all() and (pts["denominator"] % 5 == 0).all()
    np.testing.assert_allclose(pts["value"], pts["count"] / pts["denominator"] * 1000)


def test_publish_mode_totals_are_the_exact_sums_published(with_indicators):
    """An area's total is the sum of its practices' exact counts, then rounded: a practice
    whose own count (3) is suppressed on the page still counts in its area's total."""
    folder, codes = with_indicators
    ctx = open_context("04_real_indicators", {"data_source": str(folder), "area": "ENGLAND",
                                              "publish": True})
    an = real_indicators.analyse(ctx)
    dm = an.indicators.set_index("indicator_id").loc["QOF-DM"]
    n = len(codes)
    assert dm["count"] == sdc.round_count(3 + 101 * (n - 1))
    assert dm["denominator"] == sdc.round_count(1000 * n)
    assert dm["value"] == pytest.approx(dm["count"] / dm["denominator"] * 100)
    pts = an.england_points
    first = pts[(pts["indicator_id"] == "QOF-DM") & (pts["practice_code"] == codes[0])]
    assert not first["shown"].iloc[0] and np.isnan(first["count"].iloc[0])


def test_data_without_indicators_says_so_and_grids_leave_the_notebook_out(tmp_path):
    ctx = open_context("04_real_indicators", {"data_source": "synthetic:small",
                                              "area": "ENGLAND"})
    an = real_indicators.analyse(ctx)
    from helpers.report import real_indicators as words
    assert not an.has_data and words.headline_text(ctx, an) == words.NO_DATA
    # the one sentence: every other section is silent (no "left out" or "too few" line)
    assert [words.instead(ctx, an, s) for s in ("spine", "funnel")] == ["", ""]
    assert words.data_statement(ctx, an) == "" and words.values_table(ctx, an) is None
    _, jobs = load_grid(project_root() / "config" / "grids" / "small.yaml")
    assert jobs and not any(j.notebook == "04_real_indicators" for j in jobs)
    named = tmp_path / "g.yaml"
    named.write_text("data_source: synthetic:small\npublish: true\nareas: all\n"
                     "notebooks: [04_real_indicators]\n")
    with pytest.raises(GridError, match="needs the table"):
        load_grid(named)


def test_two_pages_render_with_real_names(with_indicators, tmp_path):
    """A commissioner's, a network's and a practice's page, publish mode, through the batch (its lint
    and checks): both succeed, name the area by its code, and say REAL."""
    from helpers.run import batch
    folder, codes = with_indicators
    where = open_context("04_real_indicators", {"data_source": str(folder),
                                                "area": codes[0]}).where
    grid = tmp_path / "g.yaml"
    grid.write_text(f"data_source: {folder}\npublish: true\n"
                    f"areas: [{where.commissioner}, {where.network}, {codes[0]}]\n"
                    "notebooks: [04_real_indicators]\n")
    n_failed, out = batch.run(grid, jobs_n=1, out_root=tmp_path / "r", timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    assert n_failed == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    assert len(manifest["reports"]) == 3
    for r in manifest["reports"]:
        html = (out / r["files"]["html"]).read_text()
        assert "REAL" in html and "dtype:" not in html      # a label is a name, not a Series
        res = json.loads((out / r["files"]["results"]).read_text())
        assert res["headline"]["has_indicators"] is True
    page = (out / next(r["files"]["html"] for r in manifest["reports"]
                       if r["parameters"]["area"] == codes[0])).read_text()
    assert codes[0] in page and "higher than England" in page


def test_the_data_overview_lists_the_indicators_table(with_indicators):
    """Notebook 00 reads every table's dates: the indicators table's financial years are
    whole years, not text (a '2021/22' period stopped every overview of the real data)."""
    from helpers.analysis import overview
    folder, codes = with_indicators
    ctx = open_context("00_data_overview", {"data_source": str(folder), "area": "ENGLAND"})
    t = overview.analyse(ctx).tables.set_index("table")
    assert t.loc["indicators", "rows"] == 2 * len(codes)


def test_a_practice_not_in_the_file_is_said_to_be_absent(tmp_path, small):
    """A practice with no row in the published file (closed before the year) is 'not in
    the published file', not 'suppressed', and has no spine chart of its own."""
    from helpers.report import real_indicators as words
    codes = small.practices["practice_code"].astype(str).tolist()
    tables = {k: small.tables[k] for k in small.tables}
    tables["indicators"] = _indicators(codes[1:], [400] * (len(codes) - 1),
                                       [500] * (len(codes) - 1))
    save_dataset(tables, tmp_path / "d", provenance=dict(small.provenance))
    ctx = open_context("04_real_indicators", {"data_source": str(tmp_path / "d"),
                                              "area": codes[0]})
    an = real_indicators.analyse(ctx)
    assert an.indicators["verdict"].tolist() == ["no row"]
    assert "has no row in the published" in words.headline_text(ctx, an)
    assert words.spine_chart(ctx, an) is None
    assert words.instead(ctx, an, "spine").startswith("There is no published figure")


def test_a_practice_in_one_file_but_not_the_other_has_funnel_words(tmp_path, small):
    """A practice with a QOF row but no A&E row (the two files list different practices):
    its A&E funnel sentence says it has no row, instead of stopping the page (the flag was
    a missing value, not text)."""
    from helpers.report import real_indicators as words
    codes = small.practices["practice_code"].astype(str).tolist()
    tables = {k: small.tables[k] for k in small.tables}
    ae = _indicators(codes[1:], [400] * (len(codes) - 1), [500] * (len(codes) - 1))
    dm = _indicators(codes, [101] * len(codes), [1000] * len(codes),
                     measure="proportion", mult=100.0).assign(indicator_id="QOF-DM")
    tables["indicators"] = pd.concat([ae, dm], ignore_index=True)
    save_dataset(tables, tmp_path / "d", provenance=dict(small.provenance))
    ctx = open_context("04_real_indicators", {"data_source": str(tmp_path / "d"),
                                              "area": codes[0]})
    an = real_indicators.analyse(ctx)
    assert an.indicators["verdict"].tolist()[0] == "no row"
    assert an.indicators["flag"].tolist() == ["No row", "Within limits"]
    said = words.funnel_text(ctx, an)
    assert said.endswith("This practice is not on the funnel (it has no row in the "
                         "published file).")
    assert "0-4" not in words.headline_text(ctx, an) + said


def test_size_fifths_keep_one_list_size_in_one_fifth():
    """Ranked 'first', two practices of 4,886 patients fell in two fifths, and the chart
    labelled them '1,028–4,886' and '4,886–7,140 patients'. A list size is now in one fifth
    only, and the fifths' ranges do not overlap."""
    sizes = [1000, 2000, 3000, 4886, 4886, 6000, 7000, 8000, 9000, 10000]
    pts = pd.DataFrame({"indicator_id": "93930", "practice_code": [f"P{i}" for i in
                                                                   range(len(sizes))],
                        "shown": True, "list_size": [float(x) for x in sizes],
                        "count_exact": 50.0, "denominator_exact": 100.0})
    summ = pd.DataFrame({"indicator_id": ["93930"], "measure": ["rate"],
                         "multiplier": [1000.0]})
    s = real_indicators.size_curve(pts, summ).sort_values("band")
    assert s["n"].sum() == len(sizes)
    assert (s["list_min"].to_numpy()[1:] > s["list_max"].to_numpy()[:-1]).all(), s


def test_headline_counts_read_right_at_zero_and_name_their_indicator(with_indicators):
    """'0 practices above and 1 below the 99.8% funnel limits' beside a table of outliers
    on other indicators: the count now reads 'No practice …' or 'No practices above',
    and names the indicator it counts; a publisher's '0-4' reads '0–4'."""
    from helpers.report import real_indicators as words
    folder, codes = with_indicators
    ctx = open_context("04_real_indicators", {"data_source": str(folder), "area": "ENGLAND"})
    an = real_indicators.analyse(ctx)
    r = an.indicators.iloc[0]
    said = words.headline_text(ctx, an)
    assert "0 practices" not in said
    assert f"funnel limits on {r['indicator_name'].replace('&', '&amp;')}" in said
    assert r["n_high"] == 1 and "1 practice above and 0 below" in said
    assert "0-4" not in said and "0–4" in r["indicator_name"]
    assert all("0-4" not in x for x in an.indicators["unit"])


def test_a_network_that_had_ended_says_so_above_its_figures(tmp_path, small):
    """A PCN dissolved in May 2020 (every membership ended; its practices moved to a new
    PCN) had 2021/22 A&E figures under its name as if it existed then. Its page now says
    when it ended and whose figures these are; a live network's page does not."""
    from helpers.report import real_indicators as words
    codes = small.practices["practice_code"].astype(str).tolist()
    tables = {k: small.tables[k] for k in small.tables}
    g = small.groups.copy()
    gone = str(g["group_code"].iloc[0])
    g.loc[g["group_code"] == gone, "left"] = pd.Timestamp("2020-05-31")
    tables["groups"] = g
    tables["indicators"] = _indicators(codes, [400] * len(codes), [500] * len(codes))
    save_dataset(tables, tmp_path / "d", provenance=dict(small.provenance))
    said = {}
    for net in (gone, str(g.loc[g["group_code"] != gone, "group_code"].iloc[0])):
        ctx = open_context("04_real_indicators", {"data_source": str(tmp_path / "d"),
                                                  "area": net})
        an = real_indicators.analyse(ctx)
        said[net] = (an.ended, words.headline_text(ctx, an))
    ended, text_gone = said[gone]
    # its practices since in another network: it is not among the ranked networks
    ctx = open_context("04_real_indicators", {"data_source": str(tmp_path / "d"),
                                              "area": gone})
    an = real_indicators.analyse(ctx)
    an.indicators["rank"] = 0
    standing = words.standing_text(ctx, an)
    assert "ranked 0 of" not in standing and "not ranked among England's" in standing
    assert ended == pd.Timestamp("2020-05-31")
    name = str(small.groups.loc[small.groups["group_code"] == gone, "group_name"].iloc[0])
    assert text_gone.startswith(f"- {name} ended in May 2020")
    assert "attendances" in text_gone          # the figures follow, said to be its members'
    assert all(v[0] is None and "ended in" not in v[1]
               for k, v in said.items() if k != gone)


def test_a_practices_funnel_names_its_neighbours_by_name(with_indicators):
    """A practice's funnel draws every practice of its commissioner, but named only itself:
    the others' points read 'A81002 (A81002)'. Each is now named as the area table names
    it."""
    from helpers.analysis.areas import area_table
    from helpers.report import real_indicators as words
    folder, codes = with_indicators
    ctx = open_context("04_real_indicators", {"data_source": str(folder), "area": codes[0]})
    fig = words.funnel_chart(ctx, real_indicators.analyse(ctx))
    names = area_table(ctx.ds).set_index("code")["name"]
    svg = charts_svg(fig)
    others = [c for c in codes[1:] if names.get(c) != c][:3]
    assert others and all(f"{names[c]} ({c})" in svg for c in others)
    assert not any(f"\n{c} ({c})\n" in f"\n{svg}\n" for c in codes)


def charts_svg(fig) -> str:
    """A chart's point names, as the page writes them into the SVG's titles."""
    return "\n".join(n for names in fig._pack_named.values() for n in names)
