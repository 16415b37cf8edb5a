"""The printable summary of a practice and of a network (helpers.run.summary).

Known answers for what it computes (the specialties furthest from the similar 10, a
quarter's tenth of England, the trend over the years); then a published small-preset run of
the smallest and the largest practice, a closed practice and a network (every notebook, one
kernel) rendered once for the module: each summary is linked from its area page, holds no
link or script, is printed to PDF by headless Chromium on A4 in at most two pages with
every heading and figure of the page in the PDF's text, and axe-core finds no violation.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html.parser import HTMLParser

import pytest
import yaml
from chromium import axe_violations, needs_chromium, open_page

from helpers.analysis import areas
from helpers.run import batch, site, summary
from helpers.run.jobs import slug
from helpers.sources import open_source

CLOSED = "P81045"               # closed April 2017


def test_the_specialties_furthest_above_and_below_the_similar_10():
    prof = [{"specialty_code": "ALL", "indicator": "All", "ratio": 3.0, "similar": 1.0}]
    prof += [{"specialty_code": str(i), "indicator": f"S{i}", "ratio": r, "similar": 1.0}
             for i, r in enumerate([1.5, 0.5, 1.1, 0.9, 1.3, 0.7, 1.2, 0.8, 1.4, 0.6, 1.05, 1.0])]
    prof.append({"specialty_code": "99", "indicator": "No similar", "ratio": 2.0,
                 "similar": None})
    above, below = summary.against_similar(prof)
    assert [r["indicator"] for r in above] == ["S0", "S8", "S4", "S6", "S2"]
    assert [r["indicator"] for r in below] == ["S1", "S9", "S5", "S7", "S3"]
    assert above[0]["relative"] == pytest.approx(1.5)
    # the similar 10 refer twice as much: a ratio of 1 is half of theirs
    above, below = summary.against_similar([{"specialty_code": "1", "indicator": "A",
                                             "ratio": 1.0, "similar": 2.0}])
    assert above == [] and below[0]["relative"] == pytest.approx(0.5)


def test_a_quarters_tenth_of_england_and_the_trend_over_years():
    cuts = [float(k) for k in range(1, 10)]                 # p10 = 1 ... p90 = 9
    assert summary.decile_band(0.5, cuts) == 1
    assert summary.decile_band(1.0, cuts) == 1              # at the 10th percentile
    assert summary.decile_band(4.5, cuts) == 5
    assert summary.decile_band(9.5, cuts) == 10
    dec = {f"p{10 * k}": float(k) for k in range(1, 10)}
    quarters = [{"quarter": q, "ratio": r, **dec} for q, r in (
        ("2016-04-01", 2.5), ("2016-07-01", 2.5), ("2016-10-01", 3.5),
        ("2017-01-01", 3.5),                                # January: still 2016/17
        ("2017-04-01", 7.5), ("2017-07-01", None), ("2017-10-01", 8.5))]
    years = summary.deciles_by_year(quarters)
    assert years == [{"year": 2016, "quarters": 4, "tenth": 3.5},
                     {"year": 2017, "quarters": 2, "tenth": 8.5}]
    assert summary.trend(years).startswith("moving up")
    assert summary.trend(years[::-1]).startswith("moving down")
    assert summary.trend(years[:1]) == "too few years to say"
    assert summary.trend([{"year": 1, "tenth": 4}, {"year": 2, "tenth": 4.5}]).startswith(
        "no change")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    ds = open_source("synthetic:small")
    t = areas.area_table(ds)
    pr = t[(t["level"] == "practice") & (t["code"] != CLOSED)].sort_values("list_size")
    small, large = pr["code"].iloc[0], pr["code"].iloc[-1]
    network = t.loc[t["code"] == large, "network_code"].iloc[0]
    root = tmp_path_factory.mktemp("summary")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": "synthetic:small", "publish": True,
                                    "notebooks": "all",
                                    "areas": [small, large, CLOSED, network]}))
    n_failed, out = batch.run(grid, jobs_n=1, run_id="sum", out_root=root)
    assert n_failed == 0
    return out, {"small": small, "large": large, "closed": CLOSED, "network": network}


class _Parts(HTMLParser):
    """A page's headings and table cells, and whether it has links or scripts."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.tags: set[str] = set()
        self._in = 0

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in ("h1", "h2", "td", "th", "caption"):
            self._in += 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "td", "th", "caption"):
            self._in -= 1

    def handle_data(self, data):
        if self._in:
            self.texts[-1] += data


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("which", ["small", "large", "closed", "network"])
def test_the_summary_prints_on_two_a4_pages_at_most_with_nothing_cut_off(rendered, page,
                                                                          which):
    import io

    from pypdf import PdfReader

    out, codes = rendered
    code = codes[which]
    html = out / summary.page_path(code)
    area_page = (out / site.AREAS_DIR / f"{slug(code)}.html").read_text()
    assert f'href="../{summary.page_path(code)}"' in area_page
    text = html.read_text()
    parts = _Parts()
    parts.feed(text)
    assert not parts.tags & {"a", "script", "img", "link", "iframe"}
    assert "@page { size: A4" in text and len(text.encode()) < 30_000
    opened = open_page(page, html)
    assert axe_violations(page) == []
    assert opened.errors == [] and opened.external == []
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    assert 1 <= len(pdf.pages) <= 2, f"{which}: {len(pdf.pages)} pages"
    printed = _flat("".join(p.extract_text() for p in pdf.pages))
    wanted = [t for t in parts.texts if t.strip()]
    assert len(wanted) > 10
    missing = [t for t in wanted if _flat(t) not in printed]
    assert missing == [], f"{which}: not printed: {missing}"
    if which == "closed":
        assert "Closed" in text
    if which in ("small", "large", "closed"):
        assert "Against its similar 10" in text and "Getting higher or lower?" in text
        # the similar 10 described as notebook 01 describes them (how they are chosen)
        assert "age profile, deprivation, rurality and list size" in " ".join(text.split())
        res = json.loads((out / "01_referral_variation" / f"{slug(code)}.results.json"
                          ).read_text())
        assert res["deciles"], "the results file gives the quarters against the deciles"


def test_words_in_a_summary_table_are_left_aligned_and_numbers_right():
    """'open', 'block' or 'below the 99.8% limits' read as words (left), numbers right."""
    from helpers.run import summary

    html = summary._figures(["P1", "Practice P1", 6_205, "open", 0.93, "block"],
                            ["Practice", "Name", "List size", "Open or closed", "Ratio",
                             "Contract form"])
    assert '<td class="n">6,205</td>' in html or '<td class="n">6205</td>' in html
    assert "<td>open</td>" in html and "<td>block</td>" in html
    assert html.count('class="n"') == 2
