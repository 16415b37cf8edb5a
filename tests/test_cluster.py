"""The batch on Dask distributed: a LocalCluster of 2 worker processes renders reports
identical to the local pool's, and a worker killed mid-run leaves every other report
finished and the lost one retried or marked failed."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from test_kill import kill_a_worker_midrun

from helpers.run import batch, cluster

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="worker processes are found through /proc")


def test_the_scheduler_comes_from_the_option_or_daskconfig(monkeypatch):
    import dask

    assert cluster.scheduler_address("local") == "local"
    with dask.config.set({"scheduler-address": "tcp://10.0.0.1:8786"}):
        assert cluster.scheduler_address(None) == "tcp://10.0.0.1:8786"
    assert cluster.scheduler_address(None) is None          # the local pool


def test_a_local_cluster_renders_what_the_local_pool_renders(tmp_path, small):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": "synthetic:small", "publish": True,
                                    "areas": ["U10007"],
                                    "notebooks": ["00_data_overview",
                                                  "01_referral_variation"]}))
    n1, pool = batch.run(grid, jobs_n=2, run_id="pool", out_root=tmp_path / "r")
    n2, dask_run = batch.run(grid, jobs_n=2, run_id="dask", out_root=tmp_path / "r",
                             scheduler="local")
    assert n1 == n2 == 0
    m1, m2 = (json.loads((o / "manifest.json").read_text()) for o in (pool, dask_run))
    assert [r["report_id"] for r in m1["reports"]] == [r["report_id"] for r in m2["reports"]]
    for r in m1["reports"]:
        a = (pool / r["files"]["results"]).read_bytes()
        assert a == (dask_run / r["files"]["results"]).read_bytes(), r["report_id"]
        pa = (pool / r["files"]["html"]).read_text().replace("· run pool</footer>", "")
        pb = (dask_run / r["files"]["html"]).read_text().replace("· run dask</footer>", "")
        assert pa == pb, r["report_id"]


def test_a_killed_dask_worker_loses_no_other_report(tmp_path, small):
    """kill -9 of one Dask worker mid-run: the scheduler runs its report again elsewhere,
    every other report is written."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": "synthetic:small", "publish": True,
                                    "areas": ["ENGLAND", "Q01", "Q02"],
                                    "notebooks": ["00_data_overview",
                                                  "01_referral_variation"]}))
    kill_a_worker_midrun(tmp_path, ["--grid", str(grid), "--scheduler", "local"], 6)


def test_a_finished_report_whose_files_went_missing_fails_clearly(tmp_path):
    """The run does not crash (and so still writes its manifest) if a report counted as
    finished has no results file: that report fails with a message saying so."""
    from helpers.run.batch import _check_across_pages
    from helpers.run.jobs import Job

    j = Job("00_data_overview", "Q01", {}, report_id="00_data_overview/q01", status="ok",
            files={"results": "00_data_overview/q01.results.json"})
    _check_across_pages([j], tmp_path)
    assert j.status == "failed" and "results file is missing" in j.error
    assert "--rerun-failed" in j.error
