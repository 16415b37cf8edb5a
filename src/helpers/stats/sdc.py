"""Statistical disclosure control for published reports.

Rules (NHS and OpenSAFELY practice) for counts of people or events: a count from 1 to 7 is
suppressed; every other count is rounded to the nearest 5; a count whose rounded value would
be 1–7 (7.2 rounds to 5) is suppressed too. Zero is shown as 0. Everything shown that is
computed from a count (a ratio, its interval, £) is recomputed from the published count, or
suppressed with it, so no suppressed or unrounded count can be worked back from what is
shown. Counts of organisations (practices, networks, commissioners) are not disclosive and
are shown exactly. Applied only in publish mode, to what readers see (tables, text, results
files), never to the numbers the analysis runs on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers.disclosure import ROUND_TO, SUPPRESS_MAX, Marks

__all__ = ["ROUND_TO", "SUPPRESS_MAX", "Marks", "protect", "publish_counts", "round_count"]


def publish_counts(values) -> tuple[np.ndarray, np.ndarray]:
    """Published counts and which were suppressed.

    Parameters
    ----------
    values : array_like
        Counts of people or events (may be fractional, e.g. referrals above a limit).

    Returns
    -------
    published : numpy.ndarray
        Counts rounded to the nearest 5 (half up); NaN where suppressed or missing.
    suppressed : numpy.ndarray
        True where a non-zero count was suppressed: 0 < count and its rounded value ≤ 7.

    References
    ----------
    OpenSAFELY, *Statistical disclosure control* (opensafely/documentation
    docs/outputs/sdc.md): redact statistics describing 7 or fewer people, then round to the
    nearest 5.
    """
    v = np.asarray(values, dtype=float)
    rounded = ROUND_TO * np.floor(v / ROUND_TO + 0.5)
    suppressed = (v > 0) & ((v <= SUPPRESS_MAX) | (rounded <= SUPPRESS_MAX))
    return np.where(suppressed | np.isnan(v), np.nan, rounded), suppressed


def round_count(n: float) -> float:
    """One publishable count: NaN if suppressed, else rounded to the nearest 5.

    Parameters
    ----------
    n : float
        A count of people or events (NaN stays NaN).

    Returns
    -------
    float
        NaN for a suppressed count, 0 for 0, else the count rounded to the nearest 5.

    References
    ----------
    OpenSAFELY, *Statistical disclosure control* (see :func:`publish_counts`).
    """
    if n is None:
        return np.nan
    return float(publish_counts([n])[0][0])


def protect(df: pd.DataFrame, counts: list[str],
            derived: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], list[str]]]
            | None = None,
            dependents: dict[str, list[str]] | None = None,
            publish: bool = True) -> pd.DataFrame:
    """A copy of a table for display: counts published, derived columns recomputed from the
    published counts, dependents hidden with their count.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    counts : list of str
        Columns of counts of people or events.
    derived : dict, optional
        Column → (function of the published table, the count columns it uses): recomputed
        after publishing (a ratio from the published count, £ from published referrals) and
        blanked where any of its counts is suppressed.
    dependents : dict of str to list of str, optional
        Count column → columns that cannot be recomputed and are blanked where that count is
        suppressed.
    publish : bool, default True
        Apply disclosure control; False returns an unchanged copy.

    Returns
    -------
    pandas.DataFrame
        The protected copy; ``attrs['suppressed']`` maps each affected column to a boolean
        mask of its suppressed cells (tables show them as "suppressed").

    References
    ----------
    OpenSAFELY, *Statistical disclosure control* (see :func:`publish_counts`).
    """
    out = df.copy()
    if not publish:
        return out
    masks: dict[str, np.ndarray] = {}
    for c in counts:
        pub, sup = publish_counts(out[c])
        out[c] = pub
        masks[c] = sup
    for col, (fn, sources) in (derived or {}).items():
        hidden = np.zeros(len(out), dtype=bool)
        for s in sources:
            hidden |= masks.get(s, np.zeros(len(out), dtype=bool))
        value = pd.Series(np.asarray(fn(out), dtype=float), index=out.index)
        # a value publishing made missing (a yearly average of 1-7 from a publishable
        # total) is suppressed too, and reads so, never as blank or 0
        if sources:
            hidden |= value.isna().to_numpy() & (np.asarray(df[sources[0]], float) > 0)
        out[col] = value.mask(hidden)
        masks[col] = hidden
    for c, cols in (dependents or {}).items():
        for dep in cols:
            out[dep] = out[dep].astype(float).mask(masks[c])
            masks[dep] = masks.get(dep, np.zeros(len(out), dtype=bool)) | masks[c]
    out.attrs["suppressed"] = Marks(masks)
    return out
