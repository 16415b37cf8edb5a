"""Degenerate data renders or is refused clearly: a dataset of one practice, a practice with
no referrals at all, and a practice whose counts for a rare specialty are all 1-7, each run
through the batch in publish mode, every notebook, every check."""

from __future__ import annotations

import json
import re

import yaml

from helpers.datasets import save_dataset
from helpers.run import batch

PROV = {"source": "test", "real_tables": [], "synthetic_tables": []}


def _only(tables: dict, codes: set[str]) -> dict:
    t = {k: v.copy() for k, v in tables.items()}
    for k in ("practices", "population", "groups", "referrals", "practice_outcomes"):
        t[k] = t[k][t[k]["practice_code"].astype(str).isin(codes)].reset_index(drop=True)
    succ = t["practices"]["successor_code"]      # a successor that is not kept is unknown
    t["practices"]["successor_code"] = succ.where(succ.astype(str).isin(codes))
    comms = set(t["practices"]["commissioner_code"].astype(str))
    subs = set(t["practices"]["sub_area_code"].astype(str))
    t["commissioners"] = t["commissioners"][
        t["commissioners"]["commissioner_code"].astype(str).isin(comms)]
    t["sub_areas"] = t["sub_areas"][t["sub_areas"]["sub_area_code"].astype(str).isin(subs)]
    for k in ("contracts", "activity"):
        t[k] = t[k][t[k]["commissioner_code"].astype(str).isin(comms)]
    return t


def _run(root, data: str, areas, notebooks="all", parameters=None):
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": data, "publish": True, "areas": areas,
                                    "notebooks": notebooks, "parameters": parameters or {}}))
    n, out = batch.run(grid, jobs_n=2, out_root=root / "reports", timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    assert n == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    return out, manifest


def _pages(out):
    return {f.relative_to(out).as_posix(): f.read_text() for f in out.glob("*/*.html")}


def test_a_dataset_of_one_practice(small, tmp_path):
    first = str(small.practices["practice_code"].iloc[0])
    save_dataset(_only(small.tables, {first}), tmp_path / "one", provenance=PROV)
    out, manifest = _run(tmp_path, str(tmp_path / "one"), "all")
    assert len(manifest["reports"]) == 8                   # England + its commissioner
    page = _pages(out)["01_referral_variation/england.html"]
    assert "cannot be divided into chance, place and practice" in page


def test_a_practice_with_no_referrals(small, tmp_path):
    t = {k: v.copy() for k, v in small.tables.items()}
    zero = str(t["practices"]["practice_code"].iloc[1])
    t["referrals"] = t["referrals"][t["referrals"]["practice_code"].astype(str) != zero]
    save_dataset(t, tmp_path / "zero", provenance=PROV)
    out, manifest = _run(tmp_path, str(tmp_path / "zero"), [zero])
    pages = _pages(out)
    slug = zero.lower()
    assert "No GP referrals</strong> are recorded" in pages[f"00_data_overview/{slug}.html"]
    line = next(r["summary"] for r in manifest["reports"]
                if r["notebook"] == "00_data_overview")      # the index says it as the page
    assert line.endswith("patients at the latest count, no referrals recorded"), line
    assert "nothing to compare" in pages[f"01_referral_variation/{slug}.html"]


def test_a_rare_specialty_at_a_single_practice(small, tmp_path):
    """Every count 1-7: nothing suppressed is shown as a number, the total is not shown as 0
    and no ratio is given."""
    out, manifest = _run(tmp_path, "synthetic:small", ["A81001"],
                         ["01_referral_variation"],
                         {"01_referral_variation": {"specialty": "300", "years": [2016]}})
    res = json.loads((out / manifest["reports"][0]["files"]["results"]).read_text())
    assert res["observed"] is None and res["area_ratio"] is None
    page = _pages(out)["01_referral_variation/a81001.html"]
    assert "too few" in page and not re.search(r"made \*?\*?0 ", page)


def test_a_closed_practice_and_a_one_practice_network_are_described_truly(small, tmp_path):
    """A practice closed before the year shown saves nothing under any form (not 'most under
    payment by results (£0)'); a network of one practice is said to be one, not '1 practice
    … belong to 1 group … 100% in none'."""
    closed = str(small.practices.loc[small.practices["close_date"].notna(),
                                     "practice_code"].iloc[0])
    sizes = small.groups.groupby("group_code")["practice_code"].nunique()
    alone = str(sizes[sizes == 1].index[0])
    out, manifest = _run(tmp_path, "synthetic:small", [closed, alone],
                         ["02_federation_scale", "03_contract_forms"])
    pages = _pages(out)
    page03 = pages[f"03_contract_forms/{closed.lower()}.html"]
    assert "made no GP referrals in" in page03 and "saves most under" not in page03
    # every page of a closed practice says when it closed, and where its patients went
    row = small.practices.set_index("practice_code").loc[closed]
    said = f"Closed {row['close_date']:%B %Y}"
    if isinstance(row["successor_code"], str):
        said += f"; its patients moved to {row['successor_code']}"
    for nb in ("02_federation_scale", "03_contract_forms"):
        assert said in pages[f"{nb}/{closed.lower()}.html"], nb
    # its one-line finding on the site says why a cut changes nothing, not 'saves nothing
    # under its current form (payment by results)'
    line = next(r["summary"] for r in manifest["reports"]
                if r["area"] == closed and r["notebook"] == "03_contract_forms")
    assert "this practice made no GP referrals that year" in line and \
        "current form" not in line, line
    page02 = pages[f"02_federation_scale/{alone.lower()}.html"]
    assert "has one practice, so it is not a group" in page02 and "belong to" not in page02
    assert "Closed " not in page02                        # said of a closed practice only


def test_a_dataset_with_no_referral_at_all_is_refused_clearly(small, tmp_path):
    import pytest

    from helpers.schema import ContractError

    first = str(small.practices["practice_code"].iloc[0])
    t = _only(small.tables, {first})
    t["referrals"]["referrals"] = 0
    with pytest.raises(ContractError, match="'referrals'.*every count is 0"):
        save_dataset(t, tmp_path / "none", provenance=PROV)
    assert not (tmp_path / "none").exists()


def test_a_practice_with_1_to_7_referrals_in_the_year_shows_no_money(small, tmp_path):
    """Its referrals that year are suppressed, so is every £ worked out from them (a £
    figure divided by the cost of a referral would give the count back); none shows as 0."""
    import pandas as pd

    from helpers.schema import financial_year

    t = {k: v.copy() for k, v in small.tables.items()}
    code = str(t["practices"]["practice_code"].iloc[3])
    r = t["referrals"]
    last = financial_year(pd.to_datetime(r["month"])).max()
    sel = (r["practice_code"].astype(str) == code) & \
        (financial_year(pd.to_datetime(r["month"])) == last)
    r.loc[sel, "referrals"] = 0
    r.loc[r.index[sel][:5], "referrals"] = 1                       # 5 referrals that year
    save_dataset(t, tmp_path / "few", provenance=PROV)
    out, manifest = _run(tmp_path, str(tmp_path / "few"), [code], ["03_contract_forms"])
    res = json.loads((out / manifest["reports"][0]["files"]["results"]).read_text())
    assert res["area_suppressed"] is True
    assert set(res["saving_by_form_gbp"].values()) == {None}
    page = _pages(out)[f"03_contract_forms/{code.lower()}.html"]
    assert "too few to publish" in page and "saves most under" not in page


def test_a_practice_that_moved_network_is_described_by_its_latest_one(small, tmp_path):
    """A practice that left one network for another: its page names its latest network and
    gives that network the size the network's own page gives (the real structure had a
    practice page saying 14 practices beside its network's page saying 20, the first
    network's size)."""
    import pandas as pd

    t = {k: v.copy() for k, v in small.tables.items()}
    g = t["groups"]
    mover = str(g["practice_code"].iloc[0])
    first, other = str(g["group_code"].iloc[0]), str(g.loc[
        g["group_code"].astype(str) != str(g["group_code"].iloc[0]), "group_code"].iloc[0])
    g.loc[0, "left"] = pd.Timestamp("2017-06-30")
    row = g[g["group_code"].astype(str) == other].iloc[[0]].assign(
        practice_code=mover, joined=pd.Timestamp("2017-07-01"), left=pd.NaT)
    t["groups"] = pd.concat([g, row], ignore_index=True)
    save_dataset(t, tmp_path / "moved", provenance=PROV)
    out, _ = _run(tmp_path, str(tmp_path / "moved"), [mover, other, first],
                  ["02_federation_scale"])
    res = {a: json.loads((out / f"02_federation_scale/{a.lower()}.results.json").read_text())
           for a in (mover, other)}
    assert res[mover]["facts"]["network_practices"] == \
        res[other]["facts"]["network_practices"]
    page = _pages(out)[f"02_federation_scale/{mover.lower()}.html"]
    name = str(t["groups"].loc[t["groups"]["group_code"].astype(str) == other,
                               "group_name"].iloc[0])
    assert name in page
