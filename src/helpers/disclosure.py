"""The disclosure rule, and what a drawn or printed value lets a reader work out.

The rule (NHS and OpenSAFELY practice): a count of people or events from 1 to 7 is
suppressed, and every other count is rounded to the nearest 5 (so a published count is 0, or
a multiple of 5 of at least 10). :mod:`helpers.stats.sdc` applies it to tables and figures;
this module states it and reads it back.

Why reading back each value suffices. A reader can multiply what a page shows (a ratio by
its expected count, a rate by its population, a per-year figure by its years) and subtract
(a total minus its shown parts, an area minus its members, on one page or across pages).
Every value a report shows that stems from a count must therefore imply a *published*
count. Then any difference of two or more of them is uncertain by at least ±5 (each end of
each term is rounded to 5), wider than the 1–7 band, so no suppressed count can be pinned
down by subtraction either. :func:`unpublished` finds the values that break this.
"""

from __future__ import annotations

import numpy as np

SUPPRESS_MAX = 7
"""Counts from 1 to this are suppressed."""
ROUND_TO = 5
"""Other counts are rounded to a multiple of this."""


class Marks(dict):
    """Which cells of a table publishing suppressed: column → boolean mask (read-only),
    carried in ``DataFrame.attrs['suppressed']``.

    Pandas deep-copies a frame's ``attrs`` into every frame derived from it (each filter,
    merge, sort or column added), which copied every mask of an England-sized table at each
    step. Marks never change once made (the masks are read-only and the mapping refuses
    changes), so a copy is the marks themselves."""

    def __init__(self, masks=(), /):
        frozen = {}
        for k, v in dict(masks).items():
            a = np.array(v, dtype=bool)
            a.setflags(write=False)
            frozen[k] = a
        super().__init__(frozen)

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __reduce__(self):
        return (Marks, (dict(self),))

    def _refuse(self, *args, **kwargs):
        raise TypeError("suppression marks do not change once made; build new Marks")

    __setitem__ = __delitem__ = __ior__ = update = pop = popitem = clear = setdefault = _refuse


def is_published(counts, rtol: float = 1e-6) -> np.ndarray:
    """Whether each count is one publish mode can show: missing (a gap), 0, or a multiple
    of :data:`ROUND_TO` above :data:`SUPPRESS_MAX` (within ``rtol``, for values that went
    through floating-point arithmetic on their way to a chart)."""
    c = np.asarray(counts, dtype=float)
    tol = np.maximum(rtol * np.abs(c), 1e-9)
    zero = np.abs(c) <= tol
    step = np.abs(c / ROUND_TO - np.round(c / ROUND_TO)) * ROUND_TO <= tol
    return ~np.isfinite(c) | zero | (step & (c > SUPPRESS_MAX))


def unpublished(values, per_unit) -> np.ndarray:
    """Positions of drawn or printed values that imply a count publish mode would not show.

    Parameters
    ----------
    values : array_like
        What is drawn or printed (a ratio, a rate, a count in thousands, a count a year).
    per_unit : array_like or float
        Counts per unit of ``values`` for each value: the expected count for a ratio,
        population / 1,000 × years for a rate per 1,000 a year, 1,000 for thousands, the
        number of years for a count a year.

    Returns
    -------
    numpy.ndarray
        Indices of the values whose implied count (``values × per_unit``) is neither
        missing, 0, nor a multiple of 5 of at least 10.
    """
    v = np.asarray(values, dtype=float)
    implied = v * np.broadcast_to(np.asarray(per_unit, dtype=float), v.shape)
    return np.flatnonzero(~is_published(implied))
