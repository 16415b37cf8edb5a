"""Publishing safely: data-derived strings cannot inject HTML, pages reach no network,
published reports disclose no small count, and nothing shown lets a reader work one back."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.datasets import save_dataset
from helpers.run import batch
from helpers.run.render import network_references
from helpers.stats import sdc

HOSTILE_AREA = "<script>alert(1)</script>ICB"
HOSTILE_PRACTICE = "<img src=x onerror=alert(2)>Surgery"
HOSTILE_GROUP = "**Bold** [link](http://evil.example/) $x$ PCN"


# --- disclosure-control rules -----------------------------------------------------------------

@pytest.mark.parametrize("raw,shown", [(0, 0.0), (1, None), (7, None), (7.35, None),
                                       (2.4, None), (7.5, 10.0), (8, 10.0), (12.5, 15.0),
                                       (191787, 191785.0), (np.nan, None)])
def test_counts_are_suppressed_then_rounded_and_suppressed_again(raw, shown):
    pub, sup = sdc.publish_counts([raw])
    assert (np.isnan(pub[0]) if shown is None else pub[0] == shown)
    assert bool(sup[0]) == (shown is None and not np.isnan(raw) and raw > 0)


def test_derived_values_come_from_published_counts_and_hide_with_them():
    df = pd.DataFrame({"observed": [8.0, 6.0, 1234.0], "expected": [4.0, 4.0, 1000.0],
                       "excess": [7.35, 0.0, 212.0]})
    out = sdc.protect(df, ["observed", "excess"], derived={
        "ratio": (lambda d: d["observed"] / d["expected"], ["observed"]),
        "gbp": (lambda d: d["excess"] * 331.0, ["excess"])})
    assert out["observed"].tolist()[0] == 10 and np.isnan(out["observed"][1])
    assert out["ratio"][0] == 10 / 4           # from the published 10, not the true 8
    assert np.isnan(out["ratio"][1])            # hidden with its suppressed count
    assert np.isnan(out["gbp"][0])              # 7.35 rounds to 5: suppressed, £ too
    assert out["gbp"][2] == 210 * 331.0
    assert out.attrs["suppressed"]["ratio"].tolist() == [False, True, False]
    assert sdc.protect(df, ["observed"], publish=False).equals(df)


# --- a hostile dataset through the whole batch --------------------------------------------------

@pytest.fixture(scope="module")
def hostile_run(small, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    t = {name: small.tables[name].copy() for name in small.tables}
    for name in t:
        for c in t[name].columns:
            if isinstance(t[name][c].dtype, pd.CategoricalDtype):
                t[name][c] = t[name][c].astype("string")
    c = t["commissioners"]
    c.loc[c.commissioner_code == "Q01", "commissioner_name"] = HOSTILE_AREA
    p = t["practices"]
    first = p.index[p.commissioner_code == "Q01"][0]
    p.loc[first, "practice_name"] = HOSTILE_PRACTICE
    g = t["groups"]
    g.loc[g.index[0], "group_name"] = HOSTILE_GROUP
    g["group_name"] = g.groupby("group_code")["group_name"].transform("first")
    folder = save_dataset(t, root / "data", truth=small.truth,
                          provenance={"source": "synthetic", "real_tables": [],
                                      "synthetic_tables": sorted(t)})
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": str(folder), "publish": True,
                                    "areas": ["Q01"], "notebooks": "all"}))
    n, out = batch.run(grid, jobs_n=2, out_root=root / "reports", timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    assert n == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    return out


def test_data_strings_cannot_inject_markup(hostile_run):
    # 4 reports, 2 area pages (England, the commissioner) and the index
    pages = sorted(hostile_run.glob("*/*.html")) + [hostile_run / "index.html"]
    assert len(pages) == 7
    seen_escaped = 0
    for f in pages:
        page = f.read_text()
        assert "<script>alert(1)" not in page, f
        assert "<img src=x onerror" not in page, f
        assert 'href="http://evil' not in page and "href='http://evil" not in page, f
        seen_escaped += "&lt;script&gt;alert(1)&lt;/script&gt;ICB" in page
    assert seen_escaped == len(pages)          # the name is shown, as text, everywhere
    search = (hostile_run / "search-index.js").read_text()   # and in the search index, as data
    assert "</script" not in search and "alert(1)<\\/script>ICB" in search


def test_no_page_reaches_a_network(hostile_run):
    for f in sorted(hostile_run.glob("*/*.html")) + [hostile_run / "index.html"]:
        page = f.read_text()
        assert network_references(page) == [], f
        assert "mermaid" not in page.lower() and "require.min.js" not in page, f


# --- small counts in publish mode ---------------------------------------------------------------

class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


COUNT_HEADERS = ("Referrals a year", "List size (patients)", "Above the limit (a year)",
                 "Referrals above the limit a year", "Combined list (patients)")


def count_values(res: dict, notebook: str):
    """(key, value) of every count the catalogue lists for a notebook's results file."""
    from helpers import catalogue

    for key in catalogue.get(notebook).count_keys:
        value = res
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        yield key, value


def _number(v: str) -> float | None:
    v = v.replace(",", "").replace("−", "-").replace("£", "").rstrip("k%m")
    try:
        return float(v)
    except ValueError:
        return None


@pytest.fixture(scope="module")
def small_counts_run(small, tmp_path_factory):
    """One specialty in one year: many practices with fewer than 8 referrals."""
    root = tmp_path_factory.mktemp("smallcounts")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({
        "data_source": "synthetic:small", "publish": True, "areas": ["Q01", "ENGLAND"],
        "notebooks": ["00_data_overview", "01_referral_variation"],
        "parameters": {"01_referral_variation": {"specialty": "430", "years": [2016]}}}))
    n, out = batch.run(grid, jobs_n=2, out_root=root, timeout=300)
    assert n == 0
    return out


def test_no_small_count_is_shown_and_suppressed_rows_leak_nothing(small_counts_run):
    suppressed_rows = checked = 0
    for f in sorted(small_counts_run.glob("*/*.html")):
        p = _Tables()
        p.feed(f.read_text())
        for table in p.tables:
            header = table[0] if table else []
            for row in table[1:]:
                cells = dict(zip(header, row, strict=False))
                for k in cells:        # a header may add its period: "(patients, 2021/22)"
                    h = next((h for h in COUNT_HEADERS if k == h or k.startswith(
                        h.removesuffix(")") + ",")), None)
                    if h and cells[k] not in ("suppressed", "–"):
                        x = _number(cells[k])
                        checked += 1
                        assert x == 0 or (x > 7 and x % 5 == 0), (f.name, h, cells[k])
                if cells.get("Referrals a year") == "suppressed":
                    suppressed_rows += 1
                    for h in ("Ratio (observed / expected)", "95% CI low", "95% CI high"):
                        assert cells.get(h, "suppressed") == "suppressed", (f.name, h, cells)
    assert checked > 50 and suppressed_rows > 0


def test_shown_ratios_cannot_recover_a_count(small_counts_run, small):
    """The recovery attack: ratio × expected gives back the count a ratio was computed
    from. In a published report it must give the published (rounded) count, never the
    true one: every shown ratio is consistent with a multiple of 5 and not with 1–7."""
    from helpers import report

    ctx = report.start("01_referral_variation", {"data_source": "synthetic:small",
                                                 "area": "Q01", "publish": True,
                                                 "specialty": "430", "years": [2016]})
    an = report.analyse(ctx)
    pub = an.published
    shown = pub["ratio"].notna()
    recovered = pub.loc[shown, "ratio"] * pub.loc[shown, "expected"]
    assert np.allclose(recovered, pub.loc[shown, "observed"], rtol=1e-12)
    assert ((recovered.round() % 5 == 0) & ~recovered.round().between(1, 7)).all()
    true = an.area["observed"]
    assert (true[shown] % 5 != 0).any()          # the true counts were not all multiples
    hidden = ~shown
    assert hidden.any()
    for c in ("ratio_lower95", "ratio_upper95", "observed_per_year",
              "excess_to_limit_per_year", "range_low", "range_high"):
        assert pub.loc[hidden, c].isna().all(), c


def test_results_manifest_and_index_carry_only_published_values(small_counts_run):

    manifest = json.loads((small_counts_run / "manifest.json").read_text())
    for r in manifest["reports"]:
        res = json.loads((small_counts_run / r["files"]["results"]).read_text())
        for key, value in count_values(res, r["notebook"]):
            assert value is None or (value % 5 == 0 and not 0 < value <= 7), (key, value)
            leaf = key.rsplit(".", 1)[-1]
            if leaf in r["headline"]:
                assert r["headline"][leaf] == value
        page = (small_counts_run / r["files"]["html"]).read_text()
        if r["notebook"] == "00_data_overview":
            shown = re.search(r"<strong>([\d,]+) GP referrals</strong>", page).group(1)
            assert float(shown.replace(",", "")) == res["headline"]["referrals"]
    index = (small_counts_run / "index.html").read_text()
    for r in manifest["reports"]:
        assert r["summary"] and r["summary"].split(";")[0] in index


def test_a_suppressed_area_total_is_never_shown_as_zero(small):
    """A practice with 1-7 referrals in the period: its total is suppressed, so its ratio is
    not shown anywhere (it used to be headlined as '0 referrals: 100% fewer')."""
    from helpers import report
    from helpers.report import referral_variation

    ctx = report.start("01_referral_variation", {"data_source": "synthetic:small",
                                                 "area": "A81001", "publish": True,
                                                 "specialty": "300", "years": [2016]})
    an = report.analyse(ctx)
    assert 1 <= an.area["observed"].sum() <= 7            # the true count is small
    h = an.headline
    assert np.isnan(h["observed"]) and np.isnan(h["area_ratio"])
    words = referral_variation.headline_text(ctx, an, h)
    assert "too few" in words and "100.0%" not in words and " 0 " not in words
    res = report.write_results(ctx, referral_variation.results(ctx, an, h))
    assert res["observed"] is None and res["area_ratio"] is None
    assert "ratio not shown (count suppressed)" in res["summary"].lower()
