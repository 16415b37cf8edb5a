"""Staggered difference-in-differences (Callaway & Sant'Anna 2021), one wrapper for the pack.

Every staggered DiD of the pack (practices joining a group, commissioners switching contract
form) goes through :func:`staggered_did`: group-time ATTs from csdid (doubly robust, analytic
standard errors), aggregated to an overall (simple) ATT and an event study with pointwise
intervals and, optionally, a simultaneous (multiplier-bootstrap sup-t) band. csdid's
progress output and warnings are captured and returned as notes, never printed.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd

from helpers.estimate import Estimate, z_critical

CONTROL_GROUPS = {"never_treated": "nevertreated", "not_yet_treated": "notyettreated"}

FALLBACK_NOTE = ("the doubly robust estimator trimmed every comparison unit (far more "
                 "treated than comparison units), so the outcome-regression estimator was "
                 "used; without covariates it is the same DiD")

PLAIN_NOTES = {
    "Not returning pre-test Wald statistic": (
        "the joint test for differences before the change could not be computed (too few "
        "comparison units for a stable test); read the estimates before the change on the "
        "event-study chart instead"),
    "Be aware that there are some small groups": (
        "some start dates have only a few units, so the estimates for those dates are "
        "imprecise"),
    FALLBACK_NOTE[:40]: (
        "the comparison units were far outnumbered, so the simpler outcome-regression "
        "estimator was used (without covariates it gives the same estimate)"),
}
"""Known estimator messages (by how they begin) and what they mean for a reader."""


def plain_note(message: str) -> str:
    """An estimator message as a clause a reader understands.

    Parameters
    ----------
    message : str
        A message from the estimator (a csdid warning, or the pack's own note).

    Returns
    -------
    str
        A clause in plain English (:data:`PLAIN_NOTES`); the pack's own notes, which begin
        with a count, unchanged; any other message named as a technical caution (its text
        stays in the results file).

    References
    ----------
    The messages are those of the csdid package (``ATTgt.fit`` and ``aggte``), a port of
    R ``did`` (Callaway and Sant'Anna 2021).
    """
    for start, words in PLAIN_NOTES.items():
        if str(message).startswith(start):
            return words
    if message and message[0].isdigit():          # the pack's own notes are already plain
        return str(message)
    return "the estimator gave a technical caution, recorded in the results file"


def staggered_did(data: pd.DataFrame, control: str = "never_treated", min_e: int = -8,
                  max_e: int = 12, band: bool = False, level: float = 0.95,
                  biters: int = 999, seed: int = 20140401) -> Estimate:
    """Callaway & Sant'Anna ATT with its event study.

    Parameters
    ----------
    data : pandas.DataFrame
        A balanced panel with columns ``y`` (outcome), ``g`` (first treated period, 0 for
        never treated), ``unit`` (integer id) and ``t`` (integer period).
    control : str, default "never_treated"
        Comparison group: "never_treated" or "not_yet_treated".
    min_e, max_e : int
        Event times (periods since treatment) kept in the event study.
    band : bool, default False
        Also compute a simultaneous (sup-t, multiplier bootstrap with ``biters`` draws) band
        for the event study, and a pre-trend check from it.
    level : float, default 0.95
        Confidence level of the intervals.
    biters : int, default 999
        Bootstrap draws for the simultaneous band.
    seed : int, default 20140401
        Seed of the bootstrap draws (csdid draws from numpy's global generator; its state is
        set for the draws and restored after, so the band does not depend on what ran
        before in the process).

    Returns
    -------
    Estimate
        The overall (simple) ATT with its analytic standard error and normal interval;
        ``extra`` holds ``event_study`` (event_time, att, se, lower, upper and, with
        ``band``, band_lower, band_upper), ``band_critical_value``, ``no_pretrend_by_band``
        (True when the band covers zero at every lead), ``pretest_W`` and ``pretest_p``
        (csdid's Wald pre-test where it can be computed), ``n_treated``, ``n_control`` and
        ``notes`` (estimator messages, the outcome-regression fallback).

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple
    time periods. *Journal of Econometrics* 225(2), 200-230; the csdid package (a port of
    R ``did``), checked against R ``did`` on mpdta in the tests.
    """
    from csdid.att_gt import ATTgt

    cg = CONTROL_GROUPS[control]
    d = data[["y", "g", "unit", "t"]]
    notes: list[str] = []
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        att = ATTgt(yname="y", gname="g", idname="unit", tname="t", xformla="y~1", data=d,
                    control_group=cg).fit(est_method="dr", bstrap=False)
        if np.isnan(np.asarray(att.results["att"], float)).any():
            # DRDID drops comparison units with a propensity score above 0.995, which is
            # every one of them when treated units outnumber them ~200:1 (real PCNs).
            # Without covariates the outcome-regression estimator gives the same DiD.
            att = ATTgt(yname="y", gname="g", idname="unit", tname="t", xformla="y~1",
                        data=d, control_group=cg).fit(est_method="reg", bstrap=False)
            notes.append(FALLBACK_NOTE)
        results = att.results if isinstance(att.results, dict) else {}
        pre_w, pre_p = results.get("W"), results.get("Wpval")
        att.aggte(typec="simple", bstrap=False)
        simple = dict(att.atte)
        att.aggte(typec="dynamic", bstrap=False, min_e=min_e, max_e=max_e)
        dyn = dict(att.atte)
        bands = None
        if band:
            # csdid's multiplier bootstrap draws from numpy's legacy global generator
            state = np.random.get_state()  # noqa: NPY002
            np.random.seed(seed)  # noqa: NPY002
            try:
                att.aggte(typec="dynamic", bstrap=True, cband=True, biters=biters,
                          min_e=min_e, max_e=max_e)
            finally:
                np.random.set_state(state)  # noqa: NPY002
            bands = dict(att.atte)
    z = z_critical(level)
    es = pd.DataFrame({"event_time": np.ravel(dyn["egt"]), "att": np.ravel(dyn["att_egt"]),
                       "se": np.ravel(np.asarray(dyn["se_egt"], float))})
    es["lower"], es["upper"] = es["att"] - z * es["se"], es["att"] + z * es["se"]
    extra = {"pretest_W": None if pre_w is None else float(pre_w),
             "pretest_p": None if pre_p is None else float(pre_p)}
    if bands is not None:
        crit = float(np.ravel(bands.get("crit_val_egt", [z]))[0])
        bse = np.ravel(np.asarray(bands["se_egt"], float))
        es["band_lower"], es["band_upper"] = es["att"] - crit * bse, es["att"] + crit * bse
        pre = es[es["event_time"] < 0]
        # a sup-t band covers all leads at once with the stated confidence, so "no
        # pre-trend" is rejected if any lead's band excludes zero
        extra["band_critical_value"] = crit
        extra["no_pretrend_by_band"] = bool(((pre["band_lower"] <= 0) &
                                             (pre["band_upper"] >= 0)).all())
    units = d.groupby("unit")["g"].first()
    n_treated, n_control = int((units > 0).sum()), int((units == 0).sum())
    notes += sorted({str(x.message).split("\n")[0] for x in w})
    return Estimate.normal(float(simple["overall_att"]), float(simple["overall_se"]), level,
                           method="callaway_santanna", n=n_treated + n_control).with_extra(
        event_study=es, n_treated=n_treated, n_control=n_control, notes=notes, **extra)
