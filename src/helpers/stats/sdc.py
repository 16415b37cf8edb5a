"""Statistical disclosure control for published reports.

Rules (NHS/OpenSAFELY practice): counts from 1 to 7 are suppressed; all other counts are
rounded to the nearest 5; rates, ratios and shares built on a suppressed count are hidden too.
Zero is shown as 0. Applied only in publish mode, to what readers see (tables and text), never
to the numbers the analysis runs on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESS_MAX = 7
ROUND_TO = 5
MARK = "*"


def round_count(n: float) -> float:
    """A publishable count: suppressed for 1–7, otherwise rounded to the nearest 5.

    Parameters
    ----------
    n : float
        A count of people or events (NaN stays NaN).

    Returns
    -------
    float
        NaN for 1–7, 0 for 0, else 5·⌊n/5 + ½⌋.

    References
    ----------
    OpenSAFELY, *Statistical disclosure control* (opensafely/documentation docs/outputs/sdc.md): redact statistics describing 7 or fewer people, then round to the nearest 5.
    """
    if n is None or (isinstance(n, float) and np.isnan(n)):
        return np.nan
    if 0 < n <= SUPPRESS_MAX:
        return np.nan
    return float(ROUND_TO * np.floor(n / ROUND_TO + 0.5))


def count_text(n: float, publish: bool) -> str:
    """A count for report text, with thousands separators.

    Parameters
    ----------
    n : float
        A count of people or events.
    publish : bool
        Apply disclosure control.

    Returns
    -------
    str
        "1,235" (exact) or, in publish mode, the rounded count or "suppressed".

    References
    ----------
    OpenSAFELY, *Statistical disclosure control* (opensafely/documentation docs/outputs/sdc.md): redact statistics describing 7 or fewer people, then round to the nearest 5.
    """
    if publish:
        v = round_count(n)
        return MARK if np.isnan(v) else f"{v:,.0f}"
    return f"{n:,.0f}"


def protect(df: pd.DataFrame, counts: list[str], dependents: dict[str, list[str]] | None = None,
            publish: bool = True) -> pd.DataFrame:
    """A copy of a table for display with counts suppressed or rounded and dependents hidden.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    counts : list of str
        Columns of counts of people or events.
    dependents : dict of str to list of str, optional
        Count column → columns computed from it (rates, ratios, limits, £), blanked where that
        count is suppressed.
    publish : bool, default True
        Apply disclosure control; False returns an unchanged copy.

    Returns
    -------
    pandas.DataFrame
        The protected copy.

    References
    ----------
    OpenSAFELY, *Statistical disclosure control* (opensafely/documentation docs/outputs/sdc.md): redact statistics describing 7 or fewer people, then round to the nearest 5.
    """
    if not publish:
        return df.copy()
    out = df.copy()
    for c in counts:
        raw = out[c].astype(float)
        hidden = (raw > 0) & (raw <= SUPPRESS_MAX)
        out[c] = [round_count(v) for v in raw]
        for dep in (dependents or {}).get(c, []):
            out[dep] = out[dep].astype(float).mask(hidden)
    return out
