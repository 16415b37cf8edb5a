"""Contract-form payment engine: what a commissioner pays a provider for a period.

Pure, vectorised functions (numpy arrays or scalars in, arrays out). Conventions:
``value`` is activity valued at full price (£, first attendances × first price + follow-ups ×
follow-up price); ``plan`` is the planned value for the same period (£); ``fixed`` is the
fixed element for the period (£). Marginal and variable rates are shares of price (0–1).
Published magnitudes: MRET 30% (2010/11) rising to 70% (2017), blended 20% (2019/20), API
75% (2022/23) and 100% (2023/24) of price for activity above plan.
"""

from __future__ import annotations

import numpy as np

FORMS = ("block", "pbr", "cost_volume", "cap_collar", "blended", "api", "outcome")
"""The contract forms this engine pays (the data contract's ``contract_form`` values; a test
keeps the two lists equal)."""

ArrayLike = float | np.ndarray


def pbr(value: ArrayLike) -> np.ndarray:
    """Activity-based tariff (payment by results): full price for every attendance.

    Parameters
    ----------
    value : array_like
        Activity at full price, £.

    Returns
    -------
    numpy.ndarray
        Payment, £ (equal to ``value``).

    References
    ----------
    Department of Health. *Payment by Results guidance* (2013/14); NHS England/NHS Improvement, *National Tariff Payment System*
    (MRET 2010/11–2018/19; blended payment 2019/20; aligned payment and incentive
    2022/23–2023/24).

    Examples
    --------
    >>> float(pbr(1000.0))
    1000.0
    """
    return np.asarray(value, dtype=float) * 1.0


def cost_and_volume(value: ArrayLike, plan: ArrayLike) -> np.ndarray:
    """Cost-and-volume: activity paid at price up to the planned volume's value, nothing above it.

    Parameters
    ----------
    value : array_like
        Value of the activity done, £.
    plan : array_like
        Value of the planned volume at price, £: the most the commissioner
        pays.

    Returns
    -------
    numpy.ndarray
        min(value, plan), £.

    References
    ----------
    NHS Standard Contract, cost-and-volume schedules; Street A, Maynard A. Activity based
    financing in England. *Health Policy* 2007;84:250–60.

    Examples
    --------
    >>> float(cost_and_volume(1200.0, 1000.0))
    1000.0
    """
    return np.minimum(np.asarray(value, float), np.asarray(plan, float))


def block(value: ArrayLike, fixed: ArrayLike) -> np.ndarray:
    """Block contract: the fixed sum, whatever the activity.

    Parameters
    ----------
    value : array_like
        Activity value, £ (a block does not depend on it).
    fixed : array_like
        Block sum for the period, £.

    Returns
    -------
    numpy.ndarray
        ``fixed`` broadcast to the shape of ``value``, £.

    References
    ----------
    NHS England. *COVID-19 financial arrangements* (block payments from April 2020); NHS England/NHS Improvement, *National Tariff Payment System*
    (MRET 2010/11–2018/19; blended payment 2019/20; aligned payment and incentive
    2022/23–2023/24).

    Examples
    --------
    >>> float(block(800.0, 1000.0))
    1000.0
    """
    return np.broadcast_to(np.asarray(fixed, float), np.shape(value)).astype(float)


def marginal_rate(value: ArrayLike, baseline: ArrayLike, rate_above: ArrayLike = 0.3,
                  rate_below: ArrayLike = 1.0) -> np.ndarray:
    """Marginal-rate rule (MRET): full price up to a baseline, a share of price above it.

    Parameters
    ----------
    value : array_like
        Activity at tariff, £ for the period.
    baseline : array_like
        Baseline activity value, £.
    rate_above : array_like, default 0.3
        Share of price paid for activity above the baseline (0.3 in 2010/11, 0.7 by 2017).
    rate_below : array_like, default 1.0
        Share of price lost per unit below the baseline (1.0 = plain tariff).

    Returns
    -------
    numpy.ndarray
        Payment including the marginal-rate adjustment, £.

    References
    ----------
    NHS England/NHS Improvement, *National Tariff Payment System*
    (MRET 2010/11–2018/19; blended payment 2019/20; aligned payment and incentive
    2022/23–2023/24).

    Examples
    --------
    >>> float(marginal_rate(1200.0, 1000.0, 0.3))
    1060.0
    """
    v, b = np.asarray(value, float), np.asarray(baseline, float)
    return np.where(v >= b, b + rate_above * (v - b), b - rate_below * (b - v))


def blended(value: ArrayLike, plan: ArrayLike, fixed: ArrayLike | None = None,
            variable_rate: ArrayLike = 0.2) -> np.ndarray:
    """Blended payment: a fixed element plus a share of price for activity away from plan.

    Rate 0 is a block; rate 1 with the fixed element equal to plan is payment by results.

    Parameters
    ----------
    value : array_like
        Activity valued at tariff prices, £.
    plan : array_like
        Planned activity value, £.
    fixed : array_like, optional
        Fixed element, £ (default: the plan).
    variable_rate : array_like, default 0.2
        Share of price paid (or refunded) for activity above (below) plan.

    Returns
    -------
    numpy.ndarray
        fixed + variable_rate × (value − plan), £.

    References
    ----------
    NHS England/NHS Improvement. *2019/20 National Tariff: blended payment for emergency care*;
    NHS England/NHS Improvement, *National Tariff Payment System*
    (MRET 2010/11–2018/19; blended payment 2019/20; aligned payment and incentive
    2022/23–2023/24).

    Examples
    --------
    >>> float(blended(1100.0, 1000.0, variable_rate=0.2))
    1020.0
    """
    v, p = np.asarray(value, float), np.asarray(plan, float)
    f = p if fixed is None else np.asarray(fixed, float)
    return f + np.asarray(variable_rate, float) * (v - p)


def cap_and_collar(value: ArrayLike, plan: ArrayLike, corridor_pct: ArrayLike = 5.0,
                   rate_outside: ArrayLike = 1.0) -> np.ndarray:
    """Cap and collar: the planned sum within ±corridor of plan, a share of price beyond it.

    Continuous at the corridor edges.

    Parameters
    ----------
    value : array_like
        Actual activity value, £.
    plan : array_like
        Centre of the corridor: the planned value, £.
    corridor_pct : array_like, default 5.0
        Half-width of the corridor, % of plan.
    rate_outside : array_like, default 1.0
        Share of price paid (or refunded) beyond the corridor.

    Returns
    -------
    numpy.ndarray
        The plan inside the corridor, adjusted beyond it, £.

    References
    ----------
    NHS Standard Contract risk-share (cap and collar) arrangements; NHS England/NHS Improvement, *National Tariff Payment System*
    (MRET 2010/11–2018/19; blended payment 2019/20; aligned payment and incentive
    2022/23–2023/24).

    Examples
    --------
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
    """Aligned payment and incentive (API): fixed element; elective activity above plan paid at a
    share of price; below plan the fixed element reduced at ``rate_below``.

    Parameters
    ----------
    value : array_like
        Elective activity at full price, £.
    plan : array_like
        Value of the planned (elective) activity, £.
    fixed : array_like, optional
        The fixed payment, £; the plan when omitted.
    rate_above : array_like, default 0.75
        Share of price for activity above plan (75% in 2022/23, 100% from 2023/24).
    rate_below : array_like, default 0.0
        Share of price clawed back below plan (0 when there is no claw-back).

    Returns
    -------
    numpy.ndarray
        Fixed element plus the variable element, £.

    References
    ----------
    NHS England. *2022/23 and 2023/24 National Tariff Payment System: aligned payment and
    incentive rules*.

    Examples
    --------
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
    """Outcome-based: a capitated fixed sum, plus or minus a bonus for meeting or missing a target.

    Parameters
    ----------
    fixed : array_like
        Capitated fixed sum, £.
    outcome : array_like
        The outcome measured.
    target : array_like
        The outcome target.
    bonus_pct : array_like, default 5.0
        Bonus (or penalty) at the target, % of the fixed sum.
    higher_is_better : bool, default True
        Whether meeting the target means outcome ≥ target (else ≤).

    Returns
    -------
    numpy.ndarray
        fixed × (1 ± bonus), £.

    References
    ----------
    Monitor/NHS England. *Capitation and outcomes-based contracts* (2015); NHS England
    outcomes-based commissioning guidance.

    Examples
    --------
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

    Missing parameters take the published defaults: blended 20%, API 75%, corridor 5%, outcome
    bonus 5%; a missing fixed element equals the plan.

    Parameters
    ----------
    form : str or array_like of str
        One of :data:`FORMS` per row.
    value : array_like
        Activity at full price, £, per row.
    plan : array_like
        The plan each row is settled against, £.
    fixed : array_like, optional
        Block or fixed sum, £; NaN or omitted means the plan.
    variable_rate : array_like, default NaN
        Variable share of price (blended, API, rate outside a cap-and-collar corridor).
    corridor_pct : array_like, default NaN
        Cap-and-collar half-width, % of plan.
    outcome : array_like, default NaN
        Outcome measured (outcome-based).
    outcome_target : array_like, default NaN
        Outcome target (outcome-based).
    outcome_bonus_pct : array_like, default NaN
        Outcome bonus, % of the fixed element.

    Returns
    -------
    numpy.ndarray
        Payment, £, one per row.

    References
    ----------
    NHS England/NHS Improvement, *National Tariff Payment System*
    (MRET 2010/11–2018/19; blended payment 2019/20; aligned payment and incentive
    2022/23–2023/24).
    """
    v = np.asarray(value, float)
    shape = np.broadcast_shapes(np.shape(form), v.shape, np.shape(plan))
    forms = np.broadcast_to(np.asarray(form), shape)
    bad = ~np.isin(forms, FORMS)
    if bad.any():
        raise ValueError(f"unknown contract form(s) {sorted(set(forms[bad].tolist()))}; "
                         f"known: {list(FORMS)}")
    v = np.broadcast_to(v, shape)
    p = np.broadcast_to(np.asarray(plan, float), shape)
    f = p if fixed is None else np.where(np.isnan(np.asarray(fixed, float)), p, fixed)
    f = np.broadcast_to(f, shape)

    def fill(x, default):
        x = np.broadcast_to(np.asarray(x, float), shape)
        return np.where(np.isnan(x), default, x)

    out = np.full(shape, np.nan)
    sel = {k: forms == k for k in FORMS}
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
