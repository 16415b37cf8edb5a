"""XmR statistical process control charts with NHS "Making Data Count" rules.

Follows NHSRplotthedots 0.2.2 (``ptd_spc``) exactly; tested against its outputs:

* limits: mean ± 2.66 × mean moving range (MR̄); with ``screen_outliers`` moving ranges
  ≥ 3.267 × MR̄ are dropped and MR̄ recomputed once; "near" limits at two thirds of the way;
* rules in priority order: a point outside the limits; a run of 7 rising or falling points;
  2 of 3 points near a limit on the same side; 7 points on one side of the mean;
* ``improvement_direction`` ("increase", "decrease", "neutral") turns special causes into
  improvement or concern; with a ``target`` the last group gets an assurance verdict.

Hand-written because the maintained implementations are R (NHSRplotthedots) and a small
Python port (nhspy-plotthedots) that is not on PyPI; the rules are short and exactly specified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MR_SCREEN = 3.267
LIMIT_K = 2.66


def seven_point_one_side_mean(relative_to_mean: np.ndarray) -> np.ndarray:
    """Flag the 7th and later points of a run of 7 or more on one side of the mean.

    Parameters
    ----------
    relative_to_mean : array_like
        sign(y − mean) per point: +1, −1, or 0 on the mean (which breaks a run).

    Returns
    -------
    numpy.ndarray
        1 where the run reaches 7 points, else 0 (int).

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019).
    """
    v = np.asarray(relative_to_mean, float)
    out = np.zeros(len(v), dtype=int)
    for i in range(6, len(v)):
        s = v[i - 6:i + 1].sum()
        out[i] = int(abs(s) >= 7)
    return out


def part_of_seven_trend(flags: np.ndarray) -> np.ndarray:
    """Spread a rule flag back over the points that make it up.

    Parameters
    ----------
    flags : array_like
        Non-zero where a 7-point rule completes.

    Returns
    -------
    numpy.ndarray
        1 for a point if it or any of the next six points carries a flag (int).

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019).
    """
    f = np.asarray(flags, float) != 0
    n = len(f)
    return np.array([int(f[i:min(n, i + 7)].any()) for i in range(n)], dtype=int)


def seven_point_trend(y: np.ndarray) -> np.ndarray:
    """Flag points that complete 7 strictly rising or falling points (6 differences).

    Parameters
    ----------
    y : array_like
        The series.

    Returns
    -------
    numpy.ndarray
        +1 (rising) or −1 (falling) at the completing point, else 0; equal neighbours break it.

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019).
    """
    y = np.asarray(y, float)
    d = np.sign(np.diff(y))
    out = np.zeros(len(y), dtype=int)
    for i in range(6, len(y)):
        w = d[i - 6:i]
        if np.all(w > 0):
            out[i] = 1
        elif np.all(w < 0):
            out[i] = -1
    return out


def two_in_three(close_to_limits: np.ndarray, relative_to_mean: np.ndarray) -> np.ndarray:
    """Flag every point of a 3-point window with at least 2 points near a limit, all on one side.

    Parameters
    ----------
    close_to_limits : array_like
        Non-zero where a point lies beyond the 2σ ("near") limit but inside the process limit.
    relative_to_mean : array_like
        sign(y − mean) per point.

    Returns
    -------
    numpy.ndarray
        1 for each point of a qualifying window, else 0.

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019).
    """
    c = np.asarray(close_to_limits, float)
    r = np.asarray(relative_to_mean, float)
    out = np.zeros(len(c), dtype=int)
    for i in range(len(c) - 2):
        if c[i:i + 3].sum() >= 2 and abs(r[i:i + 3].sum()) == 3:
            out[i:i + 3] = 1
    return out


def part_of_two_in_three_chain(close_to_limits, relative_to_mean) -> np.ndarray:
    """The two-in-three rule as reported: only the close points of a qualifying window.

    Parameters
    ----------
    close_to_limits : array_like
        Non-zero where a point is near a limit.
    relative_to_mean : array_like
        sign(y − mean) per point.

    Returns
    -------
    numpy.ndarray
        1 for the close points of a qualifying window, else 0.

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019).
    """
    return two_in_three(close_to_limits, relative_to_mean) \
        * (np.asarray(close_to_limits, float) != 0).astype(int)


def special_cause_type(y, relative_to_mean, close_to_limits, outside_limits) -> list[str]:
    """Label each point by rule priority: outside the limits > 7-point trend > 2 in 3 > shift.

    Parameters
    ----------
    y : array_like
        The series.
    relative_to_mean : array_like
        sign(y − mean) per point.
    close_to_limits : array_like
        Non-zero where a point is near a limit.
    outside_limits : array_like
        Non-zero where a point is outside the process limits.

    Returns
    -------
    list of str
        "Above UCL", "Below LCL", "7 Point Trend (Increasing|Decreasing)", "2 in 3 Above|Below
        CL", "7 Points Above|Below CL" or "Common Cause".

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019).
    """
    y = np.asarray(y, float)
    rtm = np.asarray(relative_to_mean, float)
    outside = np.asarray(outside_limits, float) != 0
    trend_flag = seven_point_trend(y)
    in_trend = part_of_seven_trend(trend_flag).astype(bool)
    d = np.sign(np.diff(y))
    two3 = part_of_two_in_three_chain(close_to_limits, rtm).astype(bool)
    shift = part_of_seven_trend(seven_point_one_side_mean(rtm)).astype(bool)
    labels = []
    n = len(y)
    for i in range(n):
        side = "Above" if rtm[i] > 0 else "Below"
        if outside[i]:
            labels.append("Above UCL" if rtm[i] > 0 else "Below LCL")
        elif in_trend[i]:
            if i + 1 < n and in_trend[i + 1]:
                up = d[i] > 0
            else:
                up = d[i - 1] > 0
            labels.append(f"7 Point Trend ({'Increasing' if up else 'Decreasing'})")
        elif two3[i]:
            labels.append(f"2 in 3 {side} CL")
        elif shift[i]:
            labels.append(f"7 Points {side} CL")
        else:
            labels.append("Common Cause")
    return labels


def _limits(y: np.ndarray, screen_outliers: bool, fix_after: int | None):
    base = y[:fix_after] if fix_after else y
    mean = float(np.mean(base))
    mr = np.abs(np.diff(base))
    mr_bar = float(np.mean(mr)) if len(mr) else np.nan
    if screen_outliers and len(mr):
        kept = mr[mr < MR_SCREEN * mr_bar]
        mr_bar = float(np.mean(kept)) if len(kept) else mr_bar
    return mean, mr_bar


def xmr(values, dates=None, improvement_direction: str = "increase",
        screen_outliers: bool = True, rebase=None, fix_after_n_points: int | None = None,
        target: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An XmR chart: limits, rule flags and variation type per point, and a summary per group.

    Parameters
    ----------
    values : array_like
        The series (no missing points).
    dates : array_like, optional
        Date of each point (default 0..n−1).
    improvement_direction : {"increase", "decrease", "neutral"}, default "increase"
        Which direction is better; "neutral" labels special causes high or low.
    screen_outliers : bool, default True
        Drop moving ranges ≥ 3.267 × MR̄ and recompute MR̄ once (NHSRplotthedots default; the
        Making Data Count spreadsheet does not screen).
    rebase : date or list of dates, optional
        Each date starts a new set of limits.
    fix_after_n_points : int, optional
        Compute the mean and MR̄ from the first n points only.
    target : float, optional
        Target for the assurance verdict of the last group.

    Returns
    -------
    points : pandas.DataFrame
        Per point: date, y, rebase_group, mean, lpl, upl, near_lpl, near_upl, outside_limits,
        relative_to_mean, close_to_limits, special_cause_type, special_cause_flag, point_type.
    summary : pandas.DataFrame
        Per group: n_points, mean, lpl, upl, variation_type (of the last point),
        assurance_type, n_special_cause.

    References
    ----------
    nhs-r-community/NHSRplotthedots 0.2.2 ``ptd_spc``; NHS England, *Making Data Count* (2019); Wheeler DJ. *Understanding Variation* (2000).
    """
    if improvement_direction not in ("increase", "decrease", "neutral"):
        raise ValueError("improvement_direction must be 'increase', 'decrease' or 'neutral'; "
                         f"got {improvement_direction!r}")
    y = np.asarray(values, float)
    if np.isnan(y).any():
        raise ValueError("SPC values contain missing points; fill or drop them first")
    dates = pd.to_datetime(pd.Series(dates)) if dates is not None else \
        pd.Series(pd.RangeIndex(len(y)))
    group = np.zeros(len(y), dtype=int)
    if rebase is not None:
        for r in sorted(pd.to_datetime(np.atleast_1d(rebase))):
            group += (dates.to_numpy() >= np.datetime64(r)).astype(int)
    frames, summaries = [], []
    sign = {"increase": 1, "decrease": -1, "neutral": 0}[improvement_direction]
    for g in np.unique(group):
        sel = group == g
        yy = y[sel]
        mean, mr_bar = _limits(yy, screen_outliers, fix_after_n_points)
        upl, lpl = mean + LIMIT_K * mr_bar, mean - LIMIT_K * mr_bar
        near_u = mean + 2 / 3 * LIMIT_K * mr_bar
        near_l = mean - 2 / 3 * LIMIT_K * mr_bar
        outside = (yy > upl) | (yy < lpl)
        rtm = np.sign(yy - mean)
        close = ~outside & ((yy > near_u) | (yy < near_l))
        labels = special_cause_type(yy, rtm, close, outside)
        direction = np.array([1 if ("Above" in s or "Increasing" in s) else
                              (-1 if ("Below" in s or "Decreasing" in s) else 0)
                              for s in labels])
        if sign == 0:
            ptype = np.where(direction > 0, "special_cause_neutral_high",
                             np.where(direction < 0, "special_cause_neutral_low",
                                      "common_cause"))
        else:
            ptype = np.where(direction * sign > 0, "special_cause_improvement",
                             np.where(direction * sign < 0, "special_cause_concern",
                                      "common_cause"))
        frames.append(pd.DataFrame({
            "date": dates[sel].to_numpy(), "y": yy, "rebase_group": g, "mean": mean,
            "lpl": lpl, "upl": upl, "near_lpl": near_l, "near_upl": near_u,
            "outside_limits": outside, "relative_to_mean": rtm.astype(int),
            "close_to_limits": close, "special_cause_type": labels,
            "special_cause_flag": np.array(labels) != "Common Cause", "point_type": ptype}))
        assurance = None
        if target is not None and sign != 0 and g == group.max():  # last group only
            if target > upl:
                assurance = "consistent_fail" if sign > 0 else "consistent_pass"
            elif target < lpl:
                assurance = "consistent_pass" if sign > 0 else "consistent_fail"
            else:
                assurance = "inconsistent"
        summaries.append({"rebase_group": g, "n_points": int(sel.sum()), "mean": mean,
                          "lpl": lpl, "upl": upl, "variation_type": ptype[-1],
                          "assurance_type": assurance,
                          "n_special_cause": int((np.array(labels) != "Common Cause").sum())})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(summaries)
