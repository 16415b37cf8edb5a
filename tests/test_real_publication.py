"""What a published run of real-structure data (real practices, synthetic referrals) may
hold: no practice or network report of a notebook with synthetic findings, no section or
results key listing practices one by one beside synthetic findings, no pseudonym (each was
undone by the content hash printed on every page), and the same rule applied by the grid
and by a notebook run on its own (docs/real-data.md).

Built on the small synthetic England relabelled as real structure, so it runs in seconds;
tests/test_reidentification.py attacks a real run."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from helpers.analysis import areas, context, results
from helpers.datasets import load_dataset
from helpers.params import ParameterError
from helpers.paths import project_root
from helpers.run.grid import load_grid


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The small synthetic England, its provenance saying that its practices are real and
    its referrals synthetic (the real structure's shape)."""
    out = tmp_path_factory.mktemp("mixed") / "small_mixed"
    shutil.copytree(project_root() / "data" / "synthetic" / "small", out)
    prov = json.loads((out / "provenance.json").read_text())
    prov.update(source="real NHS open data with synthetic referrals and contracts",
                real_tables=["commissioners", "practices", "population", "groups"],
                synthetic_tables=["referrals", "activity", "contracts"])
    (out / "provenance.json").write_text(json.dumps(prov))
    return out


def _some(ds, level):
    t = areas.area_table(ds)
    return str(t.loc[t["level"] == level, "code"].iloc[0])


def test_withheld_only_below_the_commissioner_in_publish_mode_on_real_structure(mixed):
    ds = load_dataset(mixed)
    assert areas.synthetic_on_real(ds)
    for nb in context.SYNTHETIC_FINDINGS:
        for level in ("practice", "network"):
            assert context.withheld(nb, level, ds, publish=True) == context.WITHHELD_WHY
            assert context.withheld(nb, level, ds, publish=False) == ""
        for level in ("england", "commissioner"):
            assert context.withheld(nb, level, ds, publish=True) == ""
    small = load_dataset(project_root() / "data" / "synthetic" / "small")
    assert not areas.synthetic_on_real(small)
    assert context.withheld("01_referral_variation", "practice", small, True) == ""


def test_a_notebook_run_alone_refuses_a_withheld_report(mixed):
    ds = load_dataset(mixed)
    practice, network = _some(ds, "practice"), _some(ds, "network")
    for area in (practice, network):
        with pytest.raises(ParameterError, match="not published for real-structure data"):
            context.open_context("01_referral_variation", {
                "data_source": str(mixed), "area": area, "publish": True})
    ctx = context.open_context("01_referral_variation", {
        "data_source": str(mixed), "area": practice, "publish": False})
    # internal run: the practice under its own code and name, no pseudonym
    assert ctx.public_code == practice and ctx.params["area"] == practice
    assert ctx.area_name == ctx.where.name and not hasattr(ctx, "pseudonymise")
    assert ctx.synthetic_on_real and not ctx.withholds_area_rows


def test_grid_skips_withheld_reports_with_one_message(mixed, tmp_path, capsys):
    ds = load_dataset(mixed)
    comm, practice, network = (_some(ds, lv) for lv in ("commissioner", "practice",
                                                          "network"))
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({
        "data_source": str(mixed), "publish": True, "areas": [comm, network, practice],
        "notebooks": ["01_referral_variation", "03_contract_forms"]}))
    _, jobs = load_grid(grid)
    assert {(j.notebook, j.area) for j in jobs} == {("01_referral_variation", comm),
                                                    ("03_contract_forms", comm)}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "4 reports not produced" in err[0]
    assert context.WITHHELD_WHY in err[0]
    # the same grid unpublished: every report, each area under its own code
    grid.write_text(yaml.safe_dump({
        "data_source": str(mixed), "publish": False, "areas": [comm, network, practice],
        "notebooks": ["01_referral_variation"]}))
    _, jobs = load_grid(grid)
    assert sorted(j.area for j in jobs) == sorted([comm, network, practice])
    assert {j.area_name for j in jobs if j.area == practice} == {ds.practices.set_index(
        "practice_code").loc[practice, "practice_name"]}
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("section", sorted(context.AREA_ROWS["01_referral_variation"]))
def test_sections_listing_practices_are_omitted_on_published_pages(mixed, section):
    comm = _some(load_dataset(mixed), "commissioner")
    pub = context.open_context("01_referral_variation", {
        "data_source": str(mixed), "area": comm, "publish": True})
    internal = context.open_context("01_referral_variation", {
        "data_source": str(mixed), "area": comm, "publish": False})
    assert pub.rule(section).kind == "omitted"
    assert pub.rule(section).why == context.AREA_ROWS_WHY
    assert internal.rule(section).kind != "omitted"
    # a section that lists no practice keeps its level rule
    assert pub.rule("headline").kind == "shown"


def test_published_results_file_lists_no_practice(mixed):
    comm = _some(load_dataset(mixed), "commissioner")
    found = {"high_practices": ["A1"], "low_practices": ["B2"], "similar_10": ["C3"],
             "n_high": 1, "closed_before_last_year": ["D4"], "n_closed_with_excess": 1}
    for publish, kept in ((True, set()), (False, {"high_practices", "low_practices",
                                                  "similar_10"})):
        ctx = context.open_context("01_referral_variation", {
            "data_source": str(mixed), "area": comm, "publish": publish})
        out = results.payload(ctx, found)
        assert set(results.AREA_KEYS["01_referral_variation"]) & set(out) == kept | (
            set() if publish else {"closed_before_last_year"})
        assert out["n_high"] == 1 and out["n_closed_with_excess"] == 1   # counts stay
    # synthetic England publishes its (synthetic) practices as before
    small = str(project_root() / "data" / "synthetic" / "small")
    ctx = context.open_context("01_referral_variation", {
        "data_source": small, "area": comm, "publish": True})
    assert results.payload(ctx, found)["high_practices"] == ["A1"]


def test_no_pseudonym_anywhere(mixed):
    ds = load_dataset(mixed)
    codes = areas.area_table(ds)["code"].tolist()
    assert areas.public_codes(ds, codes) == {c: c for c in codes}
    names = context.display_names(ds, codes)
    t = areas.area_table(ds).set_index("code")
    assert all(names[c] == t.loc[c, "name"] for c in codes)
    assert not hasattr(areas, "pseudonym")


def test_csv_downloads_of_synthetic_findings_on_real_practices_carry_the_note(mixed,
                                                                              monkeypatch):
    import base64
    import csv
    import io

    import pandas as pd
    from IPython import display as ipd

    from helpers import report
    from helpers.report import session
    from helpers.report.tables import Col, table

    html = table(pd.DataFrame({"area": ["A", "B"], "n": [1200, 3400]}),
                 [Col("area", "Area"), Col("n", "Referrals", "int")], "Two areas").data
    noted = session.with_csv_note(html, session.CSV_NOTE)
    data = noted.split("base64,", 1)[1].split('"', 1)[0]
    rows = list(csv.reader(io.StringIO(base64.b64decode(data).decode("utf-8-sig"))))
    assert rows[:3] == [["Area", "Referrals"], ["A", "1,200"], ["B", "3,400"]]
    assert rows[3] == [session.CSV_NOTE, ""] and len(rows) == 4
    assert noted.replace(data, "") == html.replace(html.split("base64,", 1)[1].split(
        '"', 1)[0], "")                              # nothing else on the page changed
    shown = []
    monkeypatch.setattr(ipd, "display", lambda obj: shown.append(obj))
    comm = _some(load_dataset(mixed), "commissioner")
    for src, notebook, note in ((str(mixed), "01_referral_variation", True),
                                ("synthetic:small", "01_referral_variation", False)):
        report.start(notebook, {"data_source": src, "area": comm, "publish": False})
        session.show(table(pd.DataFrame({"area": ["A"], "n": [5]}),
                           [Col("area", "Area"), Col("n", "N", "int")], "One"))
        assert (session.CSV_NOTE.split(";")[0].encode() in base64.b64decode(
            shown[-1].data.split("base64,", 1)[1].split('"', 1)[0])) == note


def test_published_commissioner_page_says_why_once_a_section(mixed):
    from helpers import report
    from helpers.report import referral_variation as variation_report

    comm = _some(load_dataset(mixed), "commissioner")
    ctx = report.start("01_referral_variation", {"data_source": str(mixed), "area": comm,
                                                 "publish": True})
    an = report.analyse(ctx)
    # which practices stand out: the funnel says why once; no intro about its dots
    assert variation_report.funnel_intro(ctx, an) == ""
    assert variation_report.funnel_figure(ctx, an) == context.AREA_ROWS_WHY
    assert variation_report.outlier_table(ctx, an) == ""
    # practices ranked: likewise
    assert variation_report.ranked_figure(ctx, an) == context.AREA_ROWS_WHY
    assert variation_report.practices_table(ctx, an) == ""
    assert variation_report.crude_chart(ctx, an) == context.AREA_ROWS_WHY
    assert variation_report.opportunity_table(ctx, an) == context.AREA_ROWS_WHY
    inside = report.start("01_referral_variation", {"data_source": str(mixed), "area": comm,
                                                    "publish": False})
    an = report.analyse(inside)
    assert variation_report.funnel_intro(inside, an).startswith("Each dot is a practice")
    assert not isinstance(variation_report.funnel_figure(inside, an), str)
