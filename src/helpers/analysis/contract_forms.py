"""The contract-form analysis (notebook 03): every figure its report shows.

What a change in GP referrals would save this commissioner under each contract form, who
carries the risk of demand moving, and what happened to hospital activity when commissioners
changed form. The switch evaluation is honest about what it cannot separate: when every
commissioner changed form at once (April 2020, with COVID-19) there is no one to compare
with, and the change cannot be told apart from the pandemic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import levels
from helpers.analysis import contracts
from helpers.analysis.context import Context
from helpers.analysis.referrals import area_months_open, practice_table
from helpers.cache import cached
from helpers.codes import among
from helpers.estimate import Estimate
from helpers.params import ParameterError
from helpers.schema import financial_year
from helpers.stats.funnels import funnel

NOTEBOOK = "03_contract_forms"


def form_name(form: str) -> str:
    """A contract form as prose names it: its label with a lower-case first letter
    ('payment by results (tariff)'), one pair of brackets at most; an unknown code as it
    is."""
    label = contracts.FORM_LABELS.get(form, form)
    return label[:1].lower() + label[1:]


@dataclass
class Analysis:
    year: int
    current_form: str
    base: contracts.Baseline
    whatif: pd.DataFrame
    sensitivity: pd.DataFrame
    curves: pd.DataFrame
    risk: pd.DataFrame
    switches: pd.DataFrame
    its: list[Estimate]        # the area's switches (log rate ratio at the switch)
    did: list[Estimate]        # switch DiDs, England
    affected_share: float
    did_notes: list[str]
    n_never: int

    validation: pd.DataFrame | None = None   # against the synthetic truth
    area_suppressed: bool = False   # publish mode: the area's referrals that year are 1-7
    no_referrals: bool = False      # a part of a commissioner with no referrals that year
    months_open: int = 12           # the months of the year the area was open


def nothing_to_change(ctx: Context, an: Analysis) -> bool:
    """True where the area is part of its commissioner (its contract is the commissioner's)
    and made no GP referrals in the year shown (closed, or not yet open): a change in its
    referrals changes nothing, so there is no saving to show."""
    return part_of_commissioner(ctx) and an.affected_share == 0 and not an.area_suppressed


def closed_on(ctx: Context) -> pd.Timestamp | None:
    """The date a one-practice area closed (None for a larger area or an open practice)."""
    if len(ctx.practice_codes) != 1:
        return None
    p = ctx.ds.practices
    d = p.loc[p["practice_code"].astype(str) == str(ctx.practice_codes[0]), "close_date"]
    return pd.Timestamp(d.iloc[0]) if len(d) and pd.notna(d.iloc[0]) else None


def open_in_year(ctx: Context, year: int) -> bool:
    """Whether any of the area's practices was open in financial ``year`` (held referral
    rows for it, zero referrals included: :func:`helpers.analysis.referrals.months_open`).
    An area open all year with no referral is more likely missing from the referral data
    than closed."""
    return area_months_open(ctx.ds, [str(c) for c in ctx.practice_codes],
                            years=[int(year)]) > 0


def part_of_commissioner(ctx: Context) -> bool:
    """True where the page's contract figures are its commissioner's (declared in
    :mod:`helpers.levels`): the area's referrals are a part of the commissioner's."""
    return ctx.rule("activity_value").kind == levels.PARENT


def _current_form(ctx: Context, year: int) -> str:
    c = ctx.ds.contracts
    c = c[financial_year(c["start_month"]) == year]
    if not ctx.is_england:
        c = c[c["commissioner_code"].astype(str) == ctx.commissioner]
    if ctx.params["provider"] != "ALL":
        c = c[c["provider_code"].astype(str) == ctx.params["provider"]]
    forms = c["contract_form"].value_counts()
    if forms.empty:
        return "pbr"
    return str(forms.index[0]) if len(forms) == 1 else "mixed"


@cached(kind="json")
def switch_its(ds, code: str, month: str, outcome: str, window: int) -> dict:
    """The ITS of one commissioner's switch (``month`` an ISO date), ``window`` months either
    side, as cached JSON data: every report on an area in that commissioner, and England's,
    shows the same fit; ``{"unavailable": reason}`` when there are too few months either
    side."""
    panel = contracts.activity_panel(ds)
    month = pd.Timestamp(month)
    lo, hi = month - pd.DateOffset(months=window), month + pd.DateOffset(months=window)
    try:
        est = contracts.its_switch(panel[(panel.month >= lo) & (panel.month < hi)], code,
                                   month, outcome)
    except ValueError as e:
        return {"unavailable": str(e)}
    return est.to_dict()


def _its(ds, code: str, month: pd.Timestamp, outcome: str, window: int) -> Estimate | None:
    """:func:`switch_its` as an estimate; None when unavailable."""
    r = switch_its(ds, code, str(month.date()), outcome, window)
    if "unavailable" in r:
        return None
    est = Estimate.from_dict(r)
    series = est.extra["series"].assign(month=lambda d: pd.to_datetime(d["month"]))
    return est.with_extra(series=series)


@cached
def year_practice_table(ds, year: int) -> pd.DataFrame:
    """Cached: each practice's observed and expected referrals in one financial year."""
    return practice_table(ds, [year])


@cached(kind="json")
def switch_did(ds, form: str, outcome: str) -> dict:
    """The DiD of every switch to ``form`` against never-switchers (see
    :func:`helpers.analysis.contracts.did_switch`), as cached JSON data."""
    return contracts.did_switch(contracts.activity_panel(ds), contracts.switches(ds), form,
                                outcome).to_dict()


def analyse(ctx: Context) -> Analysis:
    p, ds = ctx.params, ctx.ds
    ctx.require_tables(["activity", "contracts", "prices", "providers"],
                       "The contract-form analysis")
    years = sorted(financial_year(ds.activity["month"]).unique().tolist())
    year = p["year"] or years[-1]
    if year not in years:
        raise ParameterError(f"year {year} is not in the data (available: {years})")
    provider = None if p["provider"] == "ALL" else p["provider"]
    if provider and provider not in set(ds.providers.provider_code.astype(str)):
        raise ParameterError(f"provider '{provider}' is not in the data")
    comm = None if ctx.is_england else ctx.commissioner
    base = contracts.baseline(ds, comm, year, provider)
    share, suppressed = 1.0, False
    # below the commissioner the contract is the commissioner's: the area is a part of it
    part = part_of_commissioner(ctx)
    if part or p["outliers_only"]:
        pt = year_practice_table(ds, year)
        in_comm = pt[pt["commissioner_code"] == ctx.commissioner]
        area = pt[among(pt.practice_code, ctx.practice_codes)]
        if part:                                   # the area's part of its commissioner
            # in publish mode from the area's and the commissioner's published counts (the
            # share the pages' own figures give), so no £ gives back a count the other
            # pages round or suppress
            obs = ctx.published(float(area["observed"].sum()))
            suppressed = bool(np.isnan(obs))
            total = ctx.published(float(in_comm["observed"].sum()))
            share = 0.0 if suppressed or not total > 0 else min(1.0, float(obs / total))
        if p["outliers_only"]:
            fr = funnel(pt.observed, pt.expected, pt.practice_code, method="robust")
            pt = pt.assign(outlier=(fr.points.flag == "High (99.8%)").to_numpy())
            area = pt[among(pt.practice_code, ctx.practice_codes)]
            share *= float(area.loc[area.outlier, "observed"].sum() / area["observed"].sum())
    spec = p["specialties"] or None
    if spec:
        unknown = set(spec) - set(base.firsts.index)
        if unknown:
            raise ParameterError(f"specialties not in the data: {sorted(unknown)}")
    wi = contracts.what_if(base, p["change_pct"], p["start_month"], spec, share, forms=p["forms"])
    sens = []
    for pct in sorted({-5.0, -10.0, -20.0, float(p["change_pct"])}):
        for fu in (0.8, 1.0, 1.2):
            t = contracts.what_if(base, pct, p["start_month"], spec, share, fu, forms=p["forms"])
            t = t[t.span == "full-year"]
            sens.append({"change_pct": pct, "follow_up_ratio_scale": fu,
                         **{f: s for f, s in zip(t.form, t.commissioner_saving_gbp,
                                                 strict=True)}})
    panel = contracts.activity_panel(ds)
    sw = contracts.switches(ds)
    its = []
    mine = sw if ctx.is_england else sw[sw.commissioner_code == ctx.commissioner]
    for r in mine.itertuples():
        for outcome in ("firsts", "followups"):
            res = _its(ds, r.commissioner_code, pd.Timestamp(r.month), outcome,
                       p["window_months"])
            if res is None:
                continue
            its.append(res.with_extra(to_form=r.to_form, month=pd.Timestamp(r.month)))
    did, did_notes = [], []
    n_never = panel.commissioner_code.nunique() - sw.commissioner_code.nunique()
    if n_never < 5 and len(sw):
        did_notes.append(never_switched_note(int(n_never)))
    for form in sorted(sw.to_form.unique()) if n_never >= 5 else []:
        for outcome in ("firsts", "followups"):
            did.append(Estimate.from_dict(switch_did(ds, form, outcome)))
    an = Analysis(year, _current_form(ctx, year), base, wi, pd.DataFrame(sens),
                  contracts.payment_curves(base.value, p["forms"]),
                  contracts.risk(base, p["forms"]), sw,
                  its, did, share, did_notes, int(n_never))
    if suppressed:        # nothing about the area's money is shown: not 0, suppressed
        money = [c for c in an.whatif.columns if c.endswith("_gbp")]
        an.whatif[money] = np.nan
        forms = [c for c in an.sensitivity.columns if c in contracts.FORM_LABELS]
        an.sensitivity[forms] = np.nan
        an.area_suppressed = True
    an.no_referrals = nothing_to_change(ctx, an)
    if part:                        # the one exposure: months any of its practices was open
        an.months_open = area_months_open(ds, ctx.practice_codes, [year])
    an.validation = validation(ctx, an)
    return an


def never_switched_note(n_never: int) -> str:
    """Why there is no switch DiD when fewer than 5 commissioners never switched, with the
    count read right at 0 and 1."""
    if n_never == 0:
        return ("Every commissioner switched form, so there is none that did not to compare "
                "with (a difference-in-differences comparison needs some).")
    who = "1 commissioner" if n_never == 1 else f"{n_never} commissioners"
    return (f"Only {who} never switched form, too few to compare with in a "
            "difference-in-differences comparison.")


def estimator_notes(an: Analysis) -> list[tuple[str, list[str]]]:
    """The switch DiDs' estimator messages as plain clauses, each once, with the switches
    (form and outcome) it concerns."""
    from helpers.stats.did import plain_note

    out: dict[str, list[str]] = {}
    for d in an.did:
        where = f"{contracts.FORM_LABELS.get(d.extra['to_form'], d.extra['to_form']).lower()}" \
                f" ({OUTCOME_WORDS[d.extra['outcome']]})"
        for n in d.extra["notes"]:
            out.setdefault(plain_note(n), [])
            if where not in out[plain_note(n)]:
                out[plain_note(n)].append(where)
    return list(out.items())


OUTCOME_WORDS = {"firsts": "first attendances per referral",
                    "followups": "follow-ups per first attendance"}


def validation(ctx: Context, an: Analysis) -> pd.DataFrame | None:
    """Switch estimates (log scale) against the truth recorded with the synthetic data:
    England's DiDs and each interrupted time series the page shows (a commissioner that
    switched has its ITS checked even where too few never switched for a DiD). None for
    real data or when no switch could be evaluated."""
    t = ctx.ds.truth
    if not t or "contract_switches" not in t or not (an.did or an.its):
        return None
    cs = t["contract_switches"]
    rows = []
    for d, design in [(d, "") for d in an.did] + [
            (d, f" (interrupted time series, {d.extra.get('commissioner_code', '')})")
            for d in an.its]:
        key = "effect_firsts_per_referral" if d.extra["outcome"] == "firsts" else \
            "effect_followups_per_first"
        truth = cs[key].get(d.extra["to_form"], np.nan)
        if not np.isfinite(truth):
            continue
        rows.append({"quantity": f"Switch to {form_name(d.extra['to_form'])}{design}: "
                                 f"{OUTCOME_WORDS[d.extra['outcome']]}",
                     "truth": truth, "estimate": d.estimate, "lower": d.lower,
                     "upper": d.upper, "covered": d.lower <= truth <= d.upper})
    return pd.DataFrame(rows) if rows else None
