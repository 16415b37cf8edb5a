"""Payment engine: every form's worked example exactly, and the defining properties."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.stats import payments

money = st.floats(0, 1e8, allow_nan=False)


def test_docstring_worked_examples():
    res = doctest.testmod(payments, verbose=False)
    assert res.attempted >= 10 and res.failed == 0


# A year of one specialty: plan 1,000 first attendances at £150 + 2,200 follow-ups at £80
PLAN = 1000 * 150 + 2200 * 80          # £326,000
ACTUAL = 1100 * 150 + 2420 * 80        # 10% more activity: £358,600


@pytest.mark.parametrize("form,kwargs,expected", [
    ("pbr", {}, 358_600.0),
    ("block", {"fixed": PLAN}, 326_000.0),
    ("cost_volume", {}, 326_000.0),
    ("blended", {"variable_rate": 0.2}, 326_000 + 0.2 * 32_600),
    ("api", {"variable_rate": 0.75}, 326_000 + 0.75 * 32_600),
    ("api", {"variable_rate": 1.0}, 358_600.0),
    ("cap_collar", {"corridor_pct": 5.0, "variable_rate": 1.0}, 326_000 + (32_600 - 16_300)),
])
def test_worked_examples(form, kwargs, expected):
    assert payments.payment(form, ACTUAL, PLAN, **kwargs) == pytest.approx(expected, rel=1e-12)


def test_marginal_rate_rules():
    # MRET 30%: above a £100k baseline, £20k extra activity is paid £6k
    assert payments.marginal_rate(120_000, 100_000, 0.3) == pytest.approx(106_000)
    assert payments.marginal_rate(120_000, 100_000, 0.7) == pytest.approx(114_000)
    assert payments.marginal_rate(90_000, 100_000, 0.3) == pytest.approx(90_000)


def test_outcome_based():
    assert payments.outcome_based(1e6, 0.92, 0.9, 5) == pytest.approx(1.05e6)
    assert payments.outcome_based(1e6, 0.88, 0.9, 5) == pytest.approx(0.95e6)
    assert payments.outcome_based(1e6, 10, 12, 5, higher_is_better=False) == pytest.approx(1.05e6)


@given(money, money, money)
def test_block_invariant_to_activity(a, b, fixed):
    assert payments.block(a, fixed) == payments.block(b, fixed) == fixed


@given(money, money, st.floats(0, 10))
def test_pbr_linear(a, b, k):
    assert payments.pbr(a + b) == pytest.approx(payments.pbr(a) + payments.pbr(b), rel=1e-12, abs=1e-6)
    assert payments.pbr(k * a) == pytest.approx(k * payments.pbr(a), rel=1e-12, abs=1e-6)


@given(st.floats(1e3, 1e8), st.floats(0.5, 30), st.floats(0, 1))
def test_cap_and_collar_continuous_at_edges(plan, corridor, rate):
    for edge in (plan * (1 + corridor / 100), plan * (1 - corridor / 100)):
        lo = payments.cap_and_collar(edge * (1 - 1e-9), plan, corridor, rate)
        hi = payments.cap_and_collar(edge * (1 + 1e-9), plan, corridor, rate)
        assert abs(hi - lo) <= 1e-6 * plan
        assert payments.cap_and_collar(edge, plan, corridor, rate) == pytest.approx(plan, rel=1e-9)


@given(money, st.floats(1, 1e8))
def test_blended_spans_block_to_pbr(value, plan):
    assert payments.blended(value, plan, variable_rate=0.0) == pytest.approx(plan)
    assert payments.blended(value, plan, variable_rate=1.0) == pytest.approx(value, rel=1e-9,
                                                                         abs=1e-6)
    mid = payments.blended(value, plan, variable_rate=0.5)
    assert min(value, plan) - 1e-6 <= mid <= max(value, plan) + 1e-6


def test_mixed_forms_vectorised_and_unknown_form():
    forms = np.array(["pbr", "block", "blended"])
    out = payments.payment(forms, np.array([110.0, 110.0, 110.0]), 100.0)
    assert out.tolist() == pytest.approx([110.0, 100.0, 102.0])
    with pytest.raises(ValueError, match="unknown contract form"):
        payments.payment("tariff", 1.0, 1.0)


def test_engine_pays_every_form_of_the_data_contract():
    from helpers.schema import CONTRACT_FORMS
    from helpers.stats.payments import FORMS
    assert tuple(FORMS) == tuple(CONTRACT_FORMS)
