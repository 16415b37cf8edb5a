"""How much of the variation in practices' referral ratios is real: the variance partition.

Model (log scale), one row per practice with observed O and expected E over the period:

    log(O/E) = x'β + u_commissioner + u_network + u_practice + ε,   Var(ε) ≈ 1/O (chance)

Estimator choice. The natural model is a Poisson log-normal GLMM with offset log E. In
Python, statsmodels' Bayesian mixed GLM has no offset, and gpboost's Laplace-approximated
Poisson GLMM (checked on the synthetic England) needs Nelder–Mead to converge on the
commissioner variance (≈ 260 s for 6,500 practices; L-BFGS stops at a wrong optimum). With
practice totals over a period, O is in the thousands, so the Poisson sampling variance of
log(O/E) is ≈ 1/O ≈ 2e-4, two orders below the practice variance. We therefore fit the
Gaussian nested random-intercept model to log(O/E) with gpboost (exact likelihood, 0.1 s),
and subtract the known mean sampling variance from the residual to get the practice-level
variance. This is checked against the synthetic truth (tests) and cross-checked with the
method-of-moments estimator. Units with fewer than ``min_observed`` referrals are excluded,
where the approximation would fail.

Summaries: between-practice SD on the log scale, the share of variance at each level,
proportional reduction in practice variance as case-mix covariates are added, the median rate
ratio MRR = exp(√2·Φ⁻¹(0.75)·σ) (Larsen & Merlo 2005), McPherson's systematic component of
variation (McPherson et al. 1982) and the 90th/10th percentile ratio of the standardised
ratios.
"""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pandas as pd
from scipy import stats


def moment_sd(observed: np.ndarray, expected: np.ndarray) -> float:
    """Between-unit SD of the log ratio beyond chance, by the method of moments.

    Parameters
    ----------
    observed : array_like
        Observed counts per unit.
    expected : array_like
        Expected counts per unit (units with O or E of zero are left out).

    Returns
    -------
    float
        √max(var(log O/E) − mean(1/O), 0), on the log scale.

    References
    ----------
    Spiegelhalter DJ. Handling over-dispersion of performance indicators. *Qual Saf Health
    Care* 2005;14:347–51 (the additive random-effects variance).
    """
    o, e = np.asarray(observed, float), np.asarray(expected, float)
    keep = (o > 0) & (e > 0)
    lr = np.log(o[keep] / e[keep])
    tau2 = lr.var(ddof=1) - np.mean(1 / o[keep])
    return float(np.sqrt(max(tau2, 0.0)))


def systematic_component(observed: np.ndarray, expected: np.ndarray) -> float:
    """McPherson's systematic component of variation.

    Parameters
    ----------
    observed : array_like
        Events in each area or practice.
    expected : array_like
        Events expected there from reference rates.

    Returns
    -------
    float
        SCV × 100 = mean(((O − E)/E)² − 1/E) × 100.

    References
    ----------
    McPherson K, Wennberg JE, Hovind OB, Clifford P. Small-area variations in the use of common
    surgical procedures. *N Engl J Med* 1982;307:1310–4.
    """
    o, e = np.asarray(observed, float), np.asarray(expected, float)
    return float(np.mean(((o - e) / e) ** 2 - 1 / e) * 100)


def percentile_ratio(ratios: np.ndarray, upper: float = 90, lower: float = 10) -> float:
    """Ratio of an upper to a lower percentile of the ratios (the "n-fold" spread).

    Parameters
    ----------
    ratios : array_like
        Standardised ratios (or rates), one per unit.
    upper : float, default 90
        Upper percentile.
    lower : float, default 10
        Lower percentile.

    Returns
    -------
    float
        P_upper / P_lower (numpy linear percentiles).

    References
    ----------
    Wennberg J, Gittelsohn A. Small area variations in health care delivery. *Science*
    1973;182:1102–8 (extremal quotients); O'Donnell CA. Variation in GP referral rates. *Fam
    Pract* 2000;17:462–71.
    """
    r = np.asarray(ratios, float)
    return float(np.percentile(r, upper) / np.percentile(r, lower))


def median_rate_ratio(sd: float) -> float:
    """Median rate ratio of a log-scale random-intercept SD.

    Parameters
    ----------
    sd : float
        Random-intercept standard deviation on the log scale.

    Returns
    -------
    float
        MRR = exp(√2 · Φ⁻¹(0.75) · σ): the median ratio between the rates of two randomly chosen
        units with the same covariates.

    References
    ----------
    Larsen K, Merlo J. Appropriate assessment of neighborhood effects on individual health. *Am J Epidemiol* 2005;161:81–8.
    """
    return float(np.exp(np.sqrt(2) * stats.norm.ppf(0.75) * sd))


def _fit(y: np.ndarray, X: np.ndarray, groups: np.ndarray):
    import gpboost as gpb

    # an explicit thread count also keeps gpboost from printing advice into the report
    # gpboost's native log (an optimiser's warning) goes through Python's print: it is
    # kept as a note of the fit, never printed into a report
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        gp = gpb.GPModel(group_data=groups, likelihood="gaussian",
                         num_parallel_threads=os.cpu_count() or 1)
        gp.fit(y=y, X=X, params={"trace": False})
    cov = gp.get_cov_pars().to_numpy().ravel()
    coef = gp.get_coef().to_numpy().ravel()
    notes = [line.strip() for line in log.getvalue().splitlines() if "Warning" in line]
    return cov, coef, notes


def variance_partition(data: pd.DataFrame, covariates: dict[str, str] | None = None,
                       levels: tuple[str, ...] = ("network", "commissioner_code"),
                       min_observed: int = 100) -> dict:
    """Variance partition of practices' log standardised ratios, adding covariates in order.

    A Gaussian nested random-intercept model (gpboost) is fitted to log(O/E); the mean Poisson
    sampling variance (mean of 1/O) is subtracted from the residual to give the practice level.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per practice with ``observed``, ``expected``, the level columns and the
        covariate columns.
    covariates : dict of str to str, optional
        Label → column, added one at a time in the given order (continuous, centred here).
    levels : tuple of str, default ("network", "commissioner_code")
        Grouping levels above the practice (a level with one value is dropped).
    min_observed : int, default 100
        Practices with fewer referrals are left out (the approximation needs large counts).

    Returns
    -------
    dict
        ``steps`` (one row per model: variances, shares of variance by level, practice SD, share
        of practice variance explained), ``coefficients`` of the fullest model (log scale per
        unit), ``practice_sd``, ``mrr``, ``scv``, ``p90_p10``, ``moment_sd_total``,
        ``n_practices``, ``n_missing_covariates``, the ``levels`` used and ``fit_notes``
        (the optimiser's warnings, if any, by model step).

    References
    ----------
    Larsen K, Merlo J. Appropriate assessment of neighborhood effects on individual health. *Am J Epidemiol* 2005;161:81–8; Nakagawa S, Schielzeth H. A general and simple method for obtaining R² from
    generalized linear mixed-effects models. *Methods Ecol Evol* 2013;4:133–42; O'Donnell (2000).
    """
    covariates = dict(covariates or {})
    d = data[(data["observed"] >= min_observed) & (data["expected"] > 0)].copy()
    n_missing = int(d[list(covariates.values())].isna().any(axis=1).sum())
    d = d.dropna(subset=list(covariates.values()))   # same practices in every step
    if len(d) < 20:
        raise ValueError(f"variance partition needs at least 20 practices with ≥ "
                         f"{min_observed} referrals; got {len(d)}")
    y = np.log(d["observed"] / d["expected"]).to_numpy()
    chance = float(np.mean(1 / d["observed"]))
    present = [lv for lv in levels if d[lv].nunique() > 1]
    groups = d[present].astype(str).to_numpy()
    cols = [np.ones(len(d))]
    steps, notes = [], []
    labels = ["age and sex (standardised)"] + [f"+ {k}" for k in covariates]
    for i, label in enumerate(labels):
        if i > 0:
            c = d[list(covariates.values())[i - 1]].astype(float)
            cols.append((c - c.mean()).to_numpy())
        cov, coef, fit_notes = _fit(y, np.column_stack(cols), groups)
        notes += [f"{label}: {n}" for n in fit_notes]
        resid = max(cov[0] - chance, 0.0)
        row = {"model": label, "practice_var": resid, "chance_var": chance}
        for lv, v in zip(present, cov[1:], strict=True):
            row[f"{lv}_var"] = float(v)
        steps.append(row)
    tab = pd.DataFrame(steps)
    base = tab["practice_var"].iloc[0]
    tab["practice_sd"] = np.sqrt(tab["practice_var"])
    tab["practice_var_explained_pct"] = (1 - tab["practice_var"] / base) * 100
    var_cols = ["practice_var", "chance_var"] + [f"{lv}_var" for lv in present]
    total = tab[var_cols].sum(axis=1)
    for c in var_cols:
        tab[c.replace("_var", "_share_pct")] = tab[c] / total * 100
    full = steps[-1]
    ratios = d["observed"] / d["expected"]
    return {
        "n_practices": int(len(d)),
        "n_missing_covariates": n_missing,
        "steps": tab,
        "coefficients": dict(zip(["intercept", *covariates], coef.tolist(), strict=True)),
        "practice_sd": float(np.sqrt(full["practice_var"])),
        "practice_sd_unadjusted": float(np.sqrt(steps[0]["practice_var"])),
        "moment_sd_total": moment_sd(d["observed"], d["expected"]),
        "mrr": median_rate_ratio(float(np.sqrt(full["practice_var"]))),
        "scv": systematic_component(d["observed"], d["expected"]),
        "p90_p10": percentile_ratio(ratios),
        "levels": present,
        "fit_notes": notes,
    }
