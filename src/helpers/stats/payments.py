"""Contract-form payment engine: what a commissioner pays a provider for a period.

Pure, vectorised functions (numpy arrays or scalars in, arrays out). Conventions:
``value`` is activity valued at full price (£, first attendances × first price + follow-ups ×
follow-up price); ``plan`` is the planned value for the same period (£); ``fixed`` is the
fixed element for the period (£). Marginal and variable rates are shares of price (0–1).
Published magnitudes (MRET 30%/70%, blended 20%, API 75%/100%) are in
``docs/methods.md`` §13 of the shared reference and in ``docs/contract-forms.md``.
"""

from __future__ import annotations

import numpy as np

from helpers.schema import CONTRACT_FORMS

ArrayLike = float | np.ndarray


def pbr(value: ArrayLike) -> np.ndarray:
    """Activity-based tariff (payment by results): pay full price for every attendance.

    >>> float(pbr(1000.0))
    1000.0
    """
    return np.asarray(value, dtype=float) * 1.0


def cost_and_volume(value: ArrayLike, plan: ArrayLike) -> np.ndarray:
    """Cost-and-volume: pay for activity at price, capped at the planned volume's value.

    >>> float(cost_and_volume(1200.0, 1000.0))
    1000.0
    """
    return np.minimum(np.asarray(value, float), np.asarray(plan, float))


def block(value: ArrayLike, fixed: ArrayLike) -> np.ndarray:
    """Block contract: the fixed sum, whatever the activity.

    >>> float(block(800.0, 1000.0))
    1000.0
    """
    return np.broadcast_to(np.asarray(fixed, float), np.shape(value)).astype(float)


def marginal_rate(value: ArrayLike, baseline: ArrayLike, rate_above: ArrayLike = 0.3,
                  rate_below: ArrayLike = 1.0) -> np.ndarray:
    """Marginal-rate rule (MRET): full price up to a baseline, ``rate_above`` of price above it.

    Below the baseline the provider loses ``rate_below`` of price per unit (1.0 = plain tariff).

    >>> float(marginal_rate(1200.0, 1000.0, 0.3))
    1060.0
    """
    v, b = np.asarray(value, float), np.asarray(baseline, float)
    return np.where(v >= b, b + rate_above * (v - b), b - rate_below * (b - v))


def blended(value: ArrayLike, plan: ArrayLike, fixed: ArrayLike | None = None,
            variable_rate: ArrayLike = 0.2) -> np.ndarray:
    """Blended payment: fixed element plus ``variable_rate`` of price for activity off plan.

    The fixed element defaults to the planned value. Rate 0 is a block; rate 1 with the fixed
    element equal to plan is payment by results.

    >>> float(blended(1100.0, 1000.0, variable_rate=0.2))
    1020.0
    """
    v, p = np.asarray(value, float), np.asarray(plan, float)
    f = p if fixed is None else np.asarray(fixed, float)
    return f + np.asarray(variable_rate, float) * (v - p)


def cap_and_collar(value: ArrayLike, plan: ArrayLike, corridor_pct: ArrayLike = 5.0,
                   rate_outside: ArrayLike = 1.0) -> np.ndarray:
    """Cap and collar: the planned sum within ±corridor of plan, ``rate_outside`` beyond it.

    Continuous at the corridor edges.

    >>> float(cap_and_collar(1100.0, 1000.0, 5.0, 1.0))
    1050.0
    >>> float(cap_and_collar(1030.0, 1000.0, 5.0, 1.0))
    1000.0
    """
    v, p = np.asarray(value, float), np.asarray(plan, float)
    band = p * np.asarray(corridor_pct, float) / 100.0
    r = np.asarray(rate_outside, float)
    over = np.maximum(v - (p + band), 0.0)
    under = np.maximum((p - band) - v, 0.0)
    return p + r * over - r * under


def aligned_payment(value: ArrayLike, plan: ArrayLike, fixed: ArrayLike | None = None,
                    rate_above: ArrayLike = 0.75, rate_below: ArrayLike = 0.0) -> np.ndarray:
    """Aligned payment and incentive (API): fixed element; elective activity above plan paid
    at ``rate_above`` of price (75% in 2022/23, 100% from 2023/24); below plan the fixed
    element is reduced at ``rate_below`` (0 when there is no claw-back).

    >>> float(aligned_payment(1100.0, 1000.0))
    1075.0
    >>> float(aligned_payment(900.0, 1000.0))
    1000.0
    """
    v, p = np.asarray(value, float), np.asarray(plan, float)
    f = p if fixed is None else np.asarray(fixed, float)
    return f + np.asarray(rate_above, float) * np.maximum(v - p, 0.0) \
        - np.asarray(rate_below, float) * np.maximum(p - v, 0.0)


def outcome_based(fixed: ArrayLike, outcome: ArrayLike, target: ArrayLike,
                  bonus_pct: ArrayLike = 5.0, higher_is_better: bool = True) -> np.ndarray:
    """Outcome-based: capitated fixed sum, ± ``bonus_pct`` of it for meeting or missing target.

    >>> float(outcome_based(1000.0, 0.9, 0.85, 5.0))
    1050.0
    >>> float(outcome_based(1000.0, 0.8, 0.85, 5.0))
    950.0
    """
    f = np.asarray(fixed, float)
    met = np.asarray(outcome, float) >= np.asarray(target, float)
    if not higher_is_better:
        met = np.asarray(outcome, float) <= np.asarray(target, float)
    share = np.asarray(bonus_pct, float) / 100.0
    return f * (1.0 + np.where(met, share, -share))




def payment(form: str | np.ndarray, value: ArrayLike, plan: ArrayLike,
            fixed: ArrayLike | None = None, variable_rate: ArrayLike = np.nan,
            corridor_pct: ArrayLike = np.nan, outcome: ArrayLike = np.nan,
            outcome_target: ArrayLike = np.nan, outcome_bonus_pct: ArrayLike = np.nan
            ) -> np.ndarray:
    """Payment for each row given its contract form (vectorised over mixed forms).

    Missing parameters take the published defaults: blended 20%, API 75%, corridor 5%,
    outcome bonus 5%; a missing fixed element equals the plan.
    """
    v = np.asarray(value, float)
    shape = np.broadcast_shapes(np.shape(form), v.shape, np.shape(plan))
    forms = np.broadcast_to(np.asarray(form), shape)
    bad = ~np.isin(forms, CONTRACT_FORMS)
    if bad.any():
        raise ValueError(f"unknown contract form(s) {sorted(set(forms[bad].tolist()))}; "
                         f"known: {list(CONTRACT_FORMS)}")
    v = np.broadcast_to(v, shape)
    p = np.broadcast_to(np.asarray(plan, float), shape)
    f = p if fixed is None else np.where(np.isnan(np.asarray(fixed, float)), p, fixed)
    f = np.broadcast_to(f, shape)

    def fill(x, default):
        x = np.broadcast_to(np.asarray(x, float), shape)
        return np.where(np.isnan(x), default, x)

    out = np.full(shape, np.nan)
    sel = {k: forms == k for k in CONTRACT_FORMS}
    out = np.where(sel["pbr"], pbr(v), out)
    out = np.where(sel["block"], f, out)
    out = np.where(sel["cost_volume"], cost_and_volume(v, p), out)
    out = np.where(sel["blended"], blended(v, p, f, fill(variable_rate, 0.2)), out)
    out = np.where(sel["cap_collar"],
                   cap_and_collar(v, p, fill(corridor_pct, 5.0), fill(variable_rate, 1.0)), out)
    out = np.where(sel["api"], aligned_payment(v, p, f, fill(variable_rate, 0.75)), out)
    if sel["outcome"].any():
        out = np.where(sel["outcome"],
                       outcome_based(f, fill(outcome, 0.0), fill(outcome_target, 0.0),
                                     fill(outcome_bonus_pct, 5.0)), out)
    return out
