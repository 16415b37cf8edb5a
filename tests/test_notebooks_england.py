"""Each analysis notebook runs through the batch runner on full synthetic England, for one
commissioner and for all England, and passes the post-run checks."""

from __future__ import annotations

import json

import pytest

from helpers.run import batch
from helpers.run.grid import Job

PROV = {"data_source": "synthetic:england", "git": {"commit": "test", "dirty": False},
        "run_id": "t"}


@pytest.mark.parametrize("notebook", ["01_referral_variation", "02_federation_scale",
                                      "03_contract_forms"])
@pytest.mark.parametrize("area", ["Q05", "ENGLAND"])
def test_notebook_runs_on_england(tmp_path, england, notebook, area):
    job = Job(notebook, area, {"data_source": "synthetic:england", "area": area,
                                     "publish": True}, f"{notebook}/{area.lower()}")
    out = batch.run_job(job, str(tmp_path), 300, PROV)
    assert out.status == "ok", out.error
    res = json.loads((tmp_path / out.files["results"]).read_text())
    assert res["dataset_hash"] == england.content_hash and res["publish"] is True
