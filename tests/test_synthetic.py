"""Synthetic England: determinism, calibration against published figures, truth consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.sources import synthetic


def test_same_seed_gives_identical_files(tmp_path):
    a = synthetic.build("small", tmp_path / "a")
    b = synthetic.build("small", tmp_path / "b")
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_different_seed_differs():
    from dataclasses import replace
    t1, _ = synthetic.generate(synthetic.PRESETS["small"])
    t2, _ = synthetic.generate(replace(synthetic.PRESETS["small"], seed=8))
    assert not t1["referrals"]["referrals"].equals(t2["referrals"]["referrals"])


def test_small_preset_has_every_feature(small):
    t = small.truth
    assert small.practices.commissioner_code.nunique() == 2
    assert small.groups.group_code.nunique() >= 5
    assert small.practices.close_date.notna().sum() >= 2
    assert small.practices.successor_code.notna().sum() >= 1
    assert len(t["outliers"]["practice_codes"]) == 4
    assert len(t["contract_switches"]["switchers"]) == 1
    assert set(small.contracts.contract_form) >= {"pbr"}


# Calibration targets (calibration.md), each with its stated tolerance.
def test_structure_matches_calibration(england):
    p = england.practices
    assert 6000 <= len(p) <= 7000                      # "about 6,500"
    assert p.commissioner_code.nunique() == 42
    assert p.sub_area_code.nunique() == 106
    g = england.groups
    assert 1100 <= g.group_code.nunique() <= 1400      # "about 1,250"
    sizes = g.groupby("group_code").size()
    assert sizes.max() <= 15
    joined_share = g.practice_code.nunique() / len(p)
    assert 0.80 <= joined_share <= 0.95                # some never join
    assert g.joined.nunique() >= 8                     # staggered


def test_list_sizes_match_published_distribution(england):
    pop = england.population
    first = pop[pop.period == pop.period.min()]
    lists = first.groupby("practice_code", observed=True).patients.sum()
    assert lists.mean() == pytest.approx(6980, rel=0.10)       # 2011-12 mean
    assert lists.std() == pytest.approx(4244, rel=0.15)        # SD
    assert np.log(lists).std() == pytest.approx(0.56, rel=0.10)
    assert (lists < 5000).mean() == pytest.approx(0.371, abs=0.06)   # Oct 2014: 37.1%


def test_referral_rate_and_age_gradient(england):
    pop = england.population
    r = england.referrals
    year1 = r[r.month < "2015-04-01"].referrals.sum()
    persons = pop[pop.period == "2014-04-01"].patients.sum()
    rate = year1 / persons * 1000
    assert 180 <= rate <= 215                          # ≈195–200 per 1,000 (A.2)
    rr = england.reference_rates.groupby(["age_band"], observed=True).rate.sum()
    assert rr["75-79"] / rr["15-19"] > 2.5             # rises ~2.5-3x to a 75-84 peak
    assert rr["0-4"] > rr["5-9"]                       # small peak under 5


def test_deprivation_and_followups(england):
    p = england.practices
    assert p.imd_score.mean() == pytest.approx(25.8, rel=0.15)
    assert p.imd_score.std() == pytest.approx(17.0, rel=0.15)
    a = england.activity
    ratio = a.follow_ups.sum() / a.first_attendances.sum()
    assert ratio == pytest.approx(2.24, rel=0.15)      # HOA 2008-09


def test_prices_in_published_range(england):
    pr = england.prices
    assert pr.price_first.between(100, 250).all()
    assert (pr.price_followup / pr.price_first).between(0.5, 0.6).all()


def test_truth_consistent_with_data(england):
    t = england.truth
    codes = set(england.practices.practice_code)
    assert set(t["outliers"]["practice_codes"]) <= codes
    assert set(t["contract_switches"]["switchers"]) <= set(england.commissioners.commissioner_code)
    assert t["joining"]["n_groups"] == england.groups.group_code.nunique()
    assert t["joining"]["practices_in_groups"] == england.groups.practice_code.nunique()
    assert t["structure"]["n_practices"] == len(england.practices)
    # contract forms recorded for switchers match the contracts table after the switch
    c = england.contracts
    for code, sw in t["contract_switches"]["switchers"].items():
        after = c[(c.commissioner_code == code) & (c.start_month >= sw["month"])]
        before = c[(c.commissioner_code == code) & (c.start_month < sw["month"])]
        assert set(after.contract_form) == {sw["form"]}
        assert set(before.contract_form) <= {"pbr"}
    # planted high outliers really refer more per head than the rest
    r = england.referrals.groupby("practice_code", observed=True).referrals.sum()
    pop = england.population.groupby("practice_code", observed=True).patients.sum()
    rate = (r / pop).dropna()
    eff = pd.Series(t["outliers"]["effects"])
    high = eff[eff > 0].index
    assert rate.loc[high].median() > 1.8 * rate.drop(eff.index).median()


def test_joining_effect_is_planted_by_the_bands_the_analysis_uses():
    """The generator bands a group by size exactly as the analysis (and the recorded truth)
    does, so a one-practice 'group' on the real structure gets no planted joining effect
    and the truth says none."""
    from helpers.analysis import scale
    from helpers.sources.synthetic import _size_band

    assert [_size_band(n) for n in range(1, 30)] == [scale.size_band(n) for n in range(1, 30)]
