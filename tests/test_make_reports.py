"""What `make reports` renders: every notebook × every commissioner of synthetic England,
plus England (the default grid, 172 reports), run as the README's command runs it. Every
report must pass the post-run checks and the report lint; the index must link every one."""

from __future__ import annotations

import json

import pytest

from helpers import catalogue
from helpers.paths import project_root
from helpers.run import batch
from helpers.run.checks import MAX_REPORT_BYTES, check_output, lint

GRID = project_root() / "config" / "grids" / "default.yaml"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, england):
    root = tmp_path_factory.mktemp("reports")
    n_failed, out = batch.run(GRID, jobs_n=2, out_root=root, timeout=600)
    return n_failed, out, json.loads((out / "manifest.json").read_text())


def test_every_report_of_make_reports_succeeds(default_run, england):
    n_failed, out, manifest = default_run
    assert n_failed == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    # every notebook but those about tables synthetic data lack (04: real indicators)
    n_notebooks = sum(not catalogue.get(n).requires for n in catalogue.names())
    assert len(manifest["reports"]) == n_notebooks * 43          # 42 commissioners + England
    assert manifest["data_hash"] == england.content_hash and manifest["publish"] is True
    for r in manifest["reports"]:
        res = json.loads((out / r["files"]["results"]).read_text())
        assert res["dataset_hash"] == england.content_hash and res["publish"] is True


def test_every_report_of_make_reports_passes_the_lint(default_run):
    """The checks the workers ran, repeated on the files they left."""
    _, out, manifest = default_run
    for r in manifest["reports"]:
        nb = json.loads((out / r["files"]["notebook"]).read_text())
        page = (out / r["files"]["html"]).read_text()
        assert check_output(nb, r["min_figures"], out / r["files"]["results"]) == [], \
            r["report_id"]
        assert lint(nb, page) == [], r["report_id"]
        # the page-size budget, the sortable-table script included: 1.5 MB a page
        assert len(page.encode()) < 1_500_000 <= MAX_REPORT_BYTES, r["report_id"]
    index = (out / "index.html").read_text()
    assert all(f'href="{r["files"]["html"]}"' in index for r in manifest["reports"])
