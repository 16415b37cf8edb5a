"""The recovery attack on charts, read from the rendered SVG as a reader would: calibrate the
axis from its tick labels, read each drawn coordinate back, and combine it with the tables'
published counts. In publish mode nothing worked back may be more precise than the tables:
the ranked chart's bar ends give back limit counts that are published counts (0 or a multiple
of 5), and, for a practice above the limit, exactly the table's referrals above it."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from helpers import report
from helpers.disclosure import is_published
from helpers.report import referral_variation
from helpers.stats import sdc

pytestmark = pytest.mark.slow

_TICK = re.compile(r'<g id="ytick_\d+">.*?<use [^>]*?y="([-\d.]+)".*?>([^<]+)</text>', re.S)
_SEGMENT = re.compile(r'<path d="M ([-\d.]+) ([-\d.]+)\s+L ([-\d.]+) ([-\d.]+)\s*"')
_POINT = re.compile(r'<use [^>]*?x="([-\d.]+)" y="([-\d.]+)"')


def _group(svg: str, gid: str) -> str:
    start = svg.index(f'<g id="{gid}"')
    depth = 0
    for m in re.finditer(r"<g\b|</g>", svg[start:]):
        depth += 1 if m.group(0) == "<g" else -1
        if depth == 0:
            return svg[start:start + m.end()]
    raise AssertionError(f"group {gid} not closed")


def read_ranked(svg: str) -> list[tuple[float, float, float]]:
    """(ratio, lower bar end, upper bar end) of each practice, read from the SVG alone: the
    y axis calibrated from its tick labels, bars and points matched by their x."""
    ticks = [(float(y), float(v.replace("−", "-").replace(",", "")))
             for y, v in _TICK.findall(svg)]
    (py, val) = np.array(ticks).T
    slope, icpt = np.polyfit(py, val, 1)               # the axis is linear in pixels

    def value(px: str) -> float:
        return float(slope * float(px) + icpt)

    bars = {}
    for x0, y0, _x1, y1 in _SEGMENT.findall(_group(svg, "LineCollection_1")):
        a, b = sorted((value(y0), value(y1)))
        bars[round(float(x0), 3)] = (a, b)
    out = []
    for gid in re.findall(r'<g id="(pack-pts-\d+)"', svg):
        for x, y in _POINT.findall(_group(svg, gid)):
            a, b = bars.get(round(float(x), 3), (np.nan, np.nan))
            out.append((value(y), a, b))
    return out


@pytest.mark.parametrize("params", [
    {"limit": 95},                                        # every referral, five years
    {"limit": 95, "specialty": "300", "years": [2016]},   # small counts: some suppressed
])
def test_ranked_bar_ends_give_back_only_published_counts(params):
    ctx = report.start("01_referral_variation", {"data_source": "synthetic:small",
                                                 "publish": True, **params})
    an = report.analyse(ctx)
    fig = referral_variation.ranked_figure(ctx, an)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")                    # full precision: the strongest read
    drawn = read_ranked(buf.getvalue())
    pub = an.published[an.published["ratio"].notna()]
    assert len(drawn) == len(pub) >= 100
    high = pub["flag"] == "High"
    assert high.sum() >= 3 and (pub["flag"] == "Low").sum() >= 2
    if "specialty" in params:                # the case built for it: a suppressed excess
        assert (high & pub["excess_to_limit"].isna()).sum() >= 1
    checked = above = 0
    for ratio, lo_end, hi_end in drawn:
        # the reader finds the practice by its ratio (hover names it) and reads its table row
        row = pub.iloc[int(np.argmin(np.abs(pub["ratio"].to_numpy() - ratio)))]
        assert abs(row["ratio"] - ratio) < 1e-4 * max(ratio, 1)
        obs = row["observed"]
        if np.isnan(lo_end):                  # no bar: a lower limit of 0 has no upper end
            assert np.isnan(row["range_high"])
            continue
        if obs == 0:
            continue
        limit_high = obs / lo_end                         # the upper limit, as a count
        if row["flag"] == "High":
            above += 1
            excess = row["excess_to_limit"]
            worked = obs - limit_high                     # referrals above the limit
            want = 0.0 if np.isnan(excess) else excess    # a suppressed one reads as 0
            assert worked == pytest.approx(want, abs=0.05), (row["practice_code"], worked)
            assert is_published([round(worked, 6)]).all()
            assert lo_end >= 1 - 1e-9                     # still not below 1
        else:
            assert is_published([round(limit_high, 6)]).all(), (row["practice_code"],
                                                                 limit_high)
            assert lo_end <= 1 + 1e-9
        if np.isfinite(hi_end) and hi_end > 0:
            limit_low = obs / hi_end
            assert is_published([round(limit_low, 6)]).all(), (row["practice_code"], limit_low)
            assert (hi_end <= 1 + 1e-9) == (row["flag"] == "Low") or hi_end == pytest.approx(1)
        checked += 1
    assert checked >= 90 and above >= 3


_XTICK = re.compile(r'<g id="xtick_\d+">.*?<use [^>]*?x="([-\d.]+)".*?>([^<]+)</text>', re.S)


def test_size_curve_points_sit_at_published_lists():
    """A practice's point on a size curve sits at its list size: on a log axis read back to
    a fraction of a patient. In publish mode it must be the list as the page rounds it."""
    from helpers.report import federation_scale

    ctx = report.start("02_federation_scale", {"data_source": "synthetic:small",
                                                "area": "Q02", "publish": True})
    an = report.analyse(ctx)
    fig = federation_scale.size_curve_figure(ctx, an, "srr")
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    ticks = [(float(x), np.log10(float(v.replace(",", "")))) for x, v in _XTICK.findall(svg)]
    assert len(ticks) >= 2
    px, lg = np.array(ticks).T
    slope, icpt = np.polyfit(px, lg, 1)              # log10(list) is linear in pixels
    lists = [10 ** (slope * float(x) + icpt)
             for x, _y in _POINT.findall(_group(svg, "pack-pts-0"))]
    assert len(lists) >= 50
    # to within a hundredth of a patient: the strongest read of a full-precision SVG
    worked = np.round(lists, 2)
    assert is_published(worked, rtol=1e-6).all(), worked[~is_published(worked, rtol=1e-6)][:5]


@pytest.mark.parametrize("params", [{}, {"limit": 95, "specialty": "300", "years": [2016]}])
def test_referrals_above_a_limit_are_the_published_count_less_the_limit(params):
    """The funnel shows each practice's published ratio against its limit, so a reader
    works back the published referrals less the limit as a count. The tables' referrals
    above the limit (and above England's median ratio) are exactly that, published: never
    the true excess rounded on its own, which beside the rounded count pins the count
    closer than either."""
    ctx = report.start("01_referral_variation", {"data_source": "synthetic:small",
                                                 "publish": True, **params})
    an = report.analyse(ctx)
    pub = an.published[an.published["observed"].notna()]
    median = float(np.median(an.national["ratio"]))
    for col, level in (("excess_to_limit", pub["limit_high"]), ("excess_to_median", median)):
        worked = (pub["observed"] - level * pub["expected"]).clip(lower=0).to_numpy(float)
        want = sdc.publish_counts(worked)[0]
        shown = pub[col].to_numpy(float)
        assert np.array_equal(np.isnan(want), np.isnan(shown)), col
        ok = ~np.isnan(want)
        assert np.array_equal(want[ok], shown[ok]), col


@pytest.mark.parametrize("area", ["P81078", "A81011", "P81044"])
def test_referrals_above_the_similar_10_benchmark_are_the_published_count_less_it(area):
    """The similar-10 table shows each specialty's count and the benchmark ratio beside it:
    the referrals above the benchmark are the published count less the benchmark as a
    count, then published."""
    ctx = report.start("01_referral_variation", {"data_source": "synthetic:small",
                                                 "area": area, "publish": True})
    an = report.analyse(ctx)
    t = an.similar_opportunity
    t = t[t["observed"].notna() & t["best_ratio"].notna()]
    assert len(t) >= 5
    worked = (t["observed"] - t["best_ratio"] * t["expected"]).clip(lower=0)
    want = sdc.publish_counts(worked.to_numpy(float))[0]
    shown = t["above_best"].to_numpy(float)
    assert np.array_equal(np.isnan(want), np.isnan(shown))
    assert np.array_equal(want[~np.isnan(want)], shown[~np.isnan(shown)])
