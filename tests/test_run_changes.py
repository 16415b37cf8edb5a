"""What changed since the last run (helpers.run.changes).

Known answers for the z-test on two log ratios and for each kind of change on results built
for it; then three published runs of the small preset's data built for the purpose: the
data without its last year, then with the year added and one practice's referrals raised
3.5 times (beyond its limit), then the same data again: the second run says the practice crossed its
limit and its ratio moved beyond chance, the third says "nothing changed" everywhere, and
each manifest records the run it was compared with.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml
from chromium import axe_violations, needs_chromium, open_page

from helpers.run import batch, changes, site, summary
from helpers.run.jobs import Job, slug
from helpers.run.site import AreaNode


def _interval(ratio: float, se: float) -> tuple[float, float]:
    return ratio * math.exp(-changes.Z_95 * se), ratio * math.exp(changes.Z_95 * se)


def test_the_z_of_a_ratio_change_from_the_two_intervals():
    lo0, hi0 = _interval(1.0, 0.1)
    lo1, hi1 = _interval(math.exp(0.3), 0.1)
    assert changes.log_se(lo0, hi0) == pytest.approx(0.1)
    assert changes.ratio_z(1.0, lo0, hi0, math.exp(0.3), lo1, hi1) == pytest.approx(
        0.3 / math.sqrt(0.02))
    assert changes.ratio_z(1.0, lo0, hi0, 1.0, lo0, hi0) == 0
    assert changes.ratio_z(1.0, None, hi0, 1.2, lo1, hi1) is None
    assert changes.ratio_z(0.0, lo0, hi0, 1.2, lo1, hi1) is None


def _res(ratio: float, se: float, n_high: int = 0, network: str = "U1",
         failed: list | None = None) -> dict[str, dict]:
    lo, hi = _interval(ratio, se)
    return {"01_referral_variation": {
        "area_ratio": ratio, "standing": "ok", "n_high": n_high, "n_low": 0,
        "funnel": {"limit": "99.8"}, "where": {"network": network},
        "validation_failed": failed or [],
        "profile": [{"specialty_code": "ALL", "ratio": ratio, "lower": lo, "upper": hi}]}}


def test_each_kind_of_practice_change_and_none_for_the_same_results():
    same = changes.practice_changes("P1", "Practice 1", _res(1.0, 0.05), _res(1.0, 0.05))
    assert same == []
    small = changes.practice_changes("P1", "Practice 1", _res(1.0, 0.05), _res(1.1, 0.05))
    assert small == []                                  # z = 1.35: chance explains it
    moved = changes.practice_changes("P1", "Practice 1", _res(1.0, 0.05),
                                     _res(1.5, 0.05, n_high=1))
    kinds = {c.kind: c.text for c in moved}
    assert kinds["limits"] == "was within the 99.8% limits, now above the 99.8% limits"
    assert kinds["ratio"].startswith("standardised referral ratio 1.00 → 1.50")
    net = changes.practice_changes("P1", "Practice 1", _res(1.0, 0.05),
                                   _res(1.0, 0.05, network="U2"))
    assert [(c.kind, c.text) for c in net] == [("network", "network U1 → U2")]


def _run_folder(root, run_id: str, results: dict[str, dict], failed=None) -> list[Job]:
    folder = root / run_id
    (folder / "01_referral_variation").mkdir(parents=True)
    jobs, rows = [], []
    for code, res in results.items():
        f = f"01_referral_variation/{code.lower()}.results.json"
        (folder / f).write_text(json.dumps(res["01_referral_variation"]))
        j = Job("01_referral_variation", code, {}, report_id=f"01_referral_variation/{code}",
                status="ok", files={"results": f}, level="practice",
                validation_failed=(failed or {}).get(code, []))
        jobs.append(j)
        rows.append({k: getattr(j, k) for k in ("notebook", "area", "parameters",
                                                 "report_id", "status", "files", "level",
                                                 "validation_failed")})
    (folder / "manifest.json").write_text(json.dumps({"run_id": run_id, "reports": rows}))
    return jobs


def _nodes() -> dict[str, AreaNode]:
    return {"ENGLAND": AreaNode("ENGLAND", "England", "england", children=["Q1"]),
            "Q1": AreaNode("Q1", "ICB 1", "commissioner", ["ENGLAND"], ungrouped=["P1", "P2"]),
            "P1": AreaNode("P1", "Practice 1", "practice", ["ENGLAND", "Q1"]),
            "P2": AreaNode("P2", "Practice 2", "practice", ["ENGLAND", "Q1"])}


def test_runs_compared_from_their_files(tmp_path):
    _run_folder(tmp_path, "a", {"P1": _res(1.0, 0.05), "P3": _res(1.0, 0.05)},
                {"P1": ["Check A"]})
    now = _run_folder(tmp_path, "b", {"P1": _res(1.0, 0.05), "P2": _res(1.0, 0.05)})
    found = changes.compare(tmp_path / "a", tmp_path / "b", _nodes(), now)
    kinds = sorted((c.kind, c.code) for c in found.items)
    assert kinds == [("gone", "P3"), ("opened", "P2"), ("validation", "P1")]
    assert "now passes: Check A" in next(c.text for c in found.items if c.kind == "validation")
    same = changes.compare(tmp_path / "b", tmp_path / "b", _nodes(), now)
    assert same.items == []
    assert "Nothing changed." in changes.section_html(same, same.items)
    with pytest.raises(Exception, match="holds no such run"):
        changes.previous_run(tmp_path, "zzz", "c")
    assert changes.previous_run(tmp_path, None, "c") is None     # no latest.txt
    (tmp_path / "latest.txt").write_text("b\n")
    assert changes.previous_run(tmp_path, None, "c") == tmp_path / "b"
    assert changes.previous_run(tmp_path, None, "b") is None     # a rerun of itself
    m = json.loads((tmp_path / "b" / "manifest.json").read_text())
    (tmp_path / "b" / "manifest.json").write_text(json.dumps({**m, "compared_to": {
        "run_id": "a"}}))
    assert changes.previous_run(tmp_path, None, "b") == tmp_path / "a"   # ... as before


# the three runs ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    from helpers.analysis import areas
    from helpers.datasets import save_dataset
    from helpers.sources import open_source, synthetic

    small = synthetic.load("small")
    root = tmp_path_factory.mktemp("changes")
    t = areas.area_table(open_source("synthetic:small"))
    p = small.tables["practices"]
    open_codes = set(p.loc[p["close_date"].isna(), "practice_code"].astype(str))
    pr = t[(t["level"] == "practice") & t["code"].isin(open_codes)].sort_values("list_size")
    raised, other = pr["code"].iloc[len(pr) // 2], pr["code"].iloc[len(pr) // 2 + 1]
    prov = {"source": "test", "real_tables": [], "synthetic_tables": []}
    before = {k: v.copy() for k, v in small.tables.items()}
    for name in ("referrals", "activity"):
        m = pd.to_datetime(before[name]["month"])
        before[name] = before[name][m < "2018-04-01"]
    save_dataset(before, root / "before", provenance=prov)
    after = {k: v.copy() for k, v in small.tables.items()}
    r = after["referrals"]                       # its ratio about 3.5, its limit about 2.3
    mine = r["practice_code"].astype(str) == raised
    r.loc[mine, "referrals"] = r.loc[mine, "referrals"] * 7 // 2
    save_dataset(after, root / "after", provenance=prov)
    out = root / "runs"
    made = {}
    for run_id, data in (("a", "before"), ("b", "after"), ("c", "after")):
        grid = root / f"{run_id}.yaml"
        grid.write_text(yaml.safe_dump({
            "data_source": str(root / data), "publish": True,
            "notebooks": ["00_data_overview", "01_referral_variation"],
            "areas": [raised, other]}))
        n_failed, folder = batch.run(grid, jobs_n=1, run_id=run_id, out_root=out,
                                     compare_to="b" if run_id == "c" else None)
        assert n_failed == 0
        made[run_id] = folder
    return made, raised, other


@pytest.mark.slow
def test_a_year_added_and_a_practice_raised_beyond_its_limit(three_runs):
    made, raised, other = three_runs
    b = made["b"]
    manifest = json.loads((b / "manifest.json").read_text())
    assert manifest["compared_to"]["run_id"] == "a"
    assert manifest["compared_to"]["data_hash"] != manifest["data_hash"]
    page = (b / changes.PAGE).read_text()
    assert "Since a" in page and "Crossed a limit" in page
    res = json.loads((b / "01_referral_variation" / f"{slug(raised)}.results.json"
                      ).read_text())
    assert res["n_high"] == 1                    # the planted practice is now above
    area = (b / site.AREAS_DIR / f"{slug(raised)}.html").read_text()
    assert 'id="since"' in area and "now above the 99.8% limits" in area
    assert "Ratio moved beyond chance" in area
    paper = (b / summary.page_path(raised)).read_text()
    assert "Since a" in paper and "now above the 99.8% limits" in paper
    assert "<a " not in paper
    england = (b / site.AREAS_DIR / "england.html").read_text()
    assert raised in england.split('id="since"')[1]
    assert site.broken_links(b) == []


@pytest.mark.slow
def test_the_same_data_again_changes_nothing(three_runs):
    made, raised, other = three_runs
    c = made["c"]
    manifest = json.loads((c / "manifest.json").read_text())
    assert manifest["compared_to"]["run_id"] == "b"
    assert manifest["compared_to"]["changes"] == 0
    for f in (c / site.AREAS_DIR).glob("*.html"):
        text = f.read_text()
        assert 'id="since"' in text and "Nothing changed." in text, f.name
    assert "Nothing changed." in (c / changes.PAGE).read_text()


@pytest.mark.slow
@needs_chromium
def test_the_changes_sections_have_no_accessibility_violation(three_runs, page):
    made, raised, _ = three_runs
    b = made["b"]
    for f in (b / changes.PAGE, b / site.AREAS_DIR / "england.html",
              b / site.AREAS_DIR / f"{slug(raised)}.html"):
        opened = open_page(page, f)
        assert axe_violations(page) == [], f.name
        assert opened.errors == [] and opened.external == []
