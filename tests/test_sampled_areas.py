"""Sampled areas at every level render with 0 lint and 0 semantic findings: networks of one
practice and of many, the smallest and the largest practices, a closed practice, each
commissioner and England, every notebook, publish mode. The sample is the one a quality
run draws (``helpers.run.sample_grid``), cut to one area of each kind so it stays fast."""

from __future__ import annotations

import json

import yaml

from helpers.analysis.areas import area_table
from helpers.run import batch
from helpers.run.sample_grid import sample_areas


def test_the_sample_covers_every_kind_of_area(small):
    s = sample_areas("synthetic:small", commissioners=1, practices=40, seed=3)
    t = area_table(small).set_index("code")
    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    assert s["top"][0] == "ENGLAND" and len(s["top"]) == 1 + (t["level"] == "commissioner").sum()
    assert sizes.reindex(s["networks"]).min() == 1 and sizes.reindex(s["networks"]).max() > 1
    closed = set(small.practices.loc[small.practices["close_date"].notna(), "practice_code"])
    assert s["closed"] and set(s["closed"]) <= closed
    assert 0 < len(s["extremes"]) <= 20
    n = sum(len(s[k]) for k in ("closed", "extremes", "random"))
    assert n == 40 and len(set(s["closed"] + s["extremes"] + s["random"])) == n
    assert sample_areas("synthetic:small", 1, 40, seed=3) == s        # repeatable


def test_one_area_of_each_kind_renders_with_no_finding(small, tmp_path):
    s = sample_areas("synthetic:small", commissioners=1, practices=20, seed=3)
    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    nets = sizes.reindex(s["networks"])
    lists = area_table(small).set_index("code")["list_size"]
    ex = lists.reindex(s["extremes"]).sort_values()
    areas = [s["top"][1], nets.idxmin(), nets.idxmax(), ex.index[0], ex.index[-1],
             s["closed"][0]]
    grid = tmp_path / "grid.yaml"
    # notebooks 00-02 state the facts compared across pages (03 is covered elsewhere)
    nbs = ["00_data_overview", "01_referral_variation", "02_federation_scale"]
    grid.write_text(yaml.safe_dump({"data_source": "synthetic:small", "publish": True,
                                    "areas": areas, "notebooks": nbs}))
    n_failed, out = batch.run(grid, jobs_n=2, out_root=tmp_path / "reports", timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    assert n_failed == 0, [(r["report_id"], r["error"][:400]) for r in manifest["reports"]
                           if r["status"] != "ok"]
    assert len(manifest["reports"]) == len(nbs) * len(areas)
    # the facts the cross-page check compared were there to compare
    facts = [json.loads((out / r["files"]["results"]).read_text()).get("facts")
             for r in manifest["reports"]]
    assert sum(bool(f) for f in facts) >= 2 * len(areas)
