"""A batch over every network of one commissioner (small preset, Q01): every notebook for
every network renders, passes the post-run checks and the report lint, and reads as a
network report (compared with its commissioner and England)."""

from __future__ import annotations

import json

import pytest

from helpers.analysis.areas import area_table
from helpers.paths import project_root
from helpers.run import batch
from helpers.run.checks import check_output, lint
from helpers.sources import open_source

NOTEBOOKS = sorted(p.stem for p in (project_root() / "notebooks").glob("[0-9]*.ipynb"))


@pytest.fixture(scope="module")
def network_run(tmp_path_factory, small):
    grid = tmp_path_factory.mktemp("grid") / "networks.yaml"
    grid.write_text("data_source: synthetic:small\npublish: true\n"
                    "areas: networks in Q01\nnotebooks: all\n")
    root = tmp_path_factory.mktemp("reports")
    n_failed, out = batch.run(grid, jobs_n=2, out_root=root, timeout=300)
    return n_failed, out, json.loads((out / "manifest.json").read_text())


def test_every_network_of_the_commissioner_has_every_report(network_run):
    n_failed, out, manifest = network_run
    assert n_failed == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    t = area_table(open_source("synthetic:small"))
    nets = set(t.loc[(t.level == "network") & (t.commissioner_code == "Q01"), "code"])
    assert len(nets) >= 5
    got = {(r["notebook"], r["area"]) for r in manifest["reports"]}
    assert got == {(nb, code) for nb in NOTEBOOKS for code in nets}


def test_every_network_report_passes_the_post_run_checks_again(network_run):
    """The checks the workers ran, repeated here on the files they left."""
    _, out, manifest = network_run
    for r in manifest["reports"]:
        assert r["min_figures"] >= 1, r["report_id"]
        nb = json.loads((out / r["files"]["notebook"]).read_text())
        page = (out / r["files"]["html"]).read_text()
        assert check_output(nb, r["min_figures"], out / r["files"]["results"]) == [], \
            r["report_id"]
        assert lint(nb, page) == [], r["report_id"]


def test_network_reports_compare_with_commissioner_and_england(network_run):
    _, out, manifest = network_run
    for r in manifest["reports"]:
        res = json.loads((out / r["files"]["results"]).read_text())
        assert res["parameters"]["area"] == r["area"]
        if r["notebook"].startswith("01"):
            page = (out / r["files"]["html"]).read_text()
            assert "Its commissioner" in page and "England" in page, r["report_id"]
            assert res["n_practices"] >= 1
    index = (out / "index.html").read_text()
    assert all(f'href="{r["files"]["html"]}"' in index for r in manifest["reports"])
