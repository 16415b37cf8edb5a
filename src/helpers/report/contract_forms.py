"""The contract-form report (notebook 03), section by section.

What a change in GP referrals would save this commissioner under each contract form, who
carries the risk of demand moving, and what happened to hospital activity when commissioners
changed form. Money is shown in one unit per report (£k, or £m for large areas), stated in
every header. The switch evaluation is honest about what it cannot separate: when every
commissioner changed form at once (April 2020, with COVID-19) there is no one to compare
with, and the change cannot be told apart from the pandemic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis import contract_forms
from helpers.analysis.referrals import practice_table
from helpers.cache import cached_json, cached_table
from helpers.report import Context, charts, text
from helpers.report.tables import Col, show
from helpers.run.params import ParameterError
from helpers.schema import financial_year
from helpers.stats.funnels import funnel


@dataclass
class Analysis:
    year: int
    current_form: str
    base: contract_forms.Baseline
    whatif: pd.DataFrame
    sensitivity: pd.DataFrame
    curves: pd.DataFrame
    risk: pd.DataFrame
    switches: pd.DataFrame
    its: list[dict]
    did: list[dict]
    affected_share: float
    did_notes: list[str]
    n_never: int

    @property
    def unit(self) -> str:
        """The money column format for this report: £m for large areas, else £k."""
        return "gbpm" if self.base.value >= 1e8 else "gbpk"

    @property
    def unit_label(self) -> str:
        return "£m" if self.unit == "gbpm" else "£k"

    def money(self, x: float) -> str:
        return text.gbp(x, "m" if self.unit == "gbpm" else "k")


def _money_or_nothing(an: Analysis, x: float) -> str:
    """Money for prose, with a zero written as 'nothing' (not '£0.0m')."""
    return "nothing" if abs(float(x)) < 0.5 else an.money(x)


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


def _its(ds, panel: pd.DataFrame, code: str, month: pd.Timestamp, outcome: str,
         window: int) -> dict | None:
    """The ITS of one commissioner's switch, cached per dataset (every report on an area in
    that commissioner, and England's, shows the same fit); None when there are too few
    months either side."""
    def build() -> dict:
        lo, hi = month - pd.DateOffset(months=window), month + pd.DateOffset(months=window)
        try:
            r = contract_forms.its_switch(panel[(panel.month >= lo) & (panel.month < hi)],
                                          code, month, outcome)
        except ValueError as e:
            return {"unavailable": str(e)}
        series = r.pop("series")
        out = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
        out["series"] = series.assign(month=series["month"].dt.strftime("%Y-%m-%d")).to_dict(
            orient="list")
        return out
    r = cached_json(ds, f"contracts-its-{code}-{month:%Y-%m}-{window}-{outcome}", build)
    if "unavailable" in r:
        return None
    r["series"] = pd.DataFrame(r["series"]).assign(month=lambda d: pd.to_datetime(d["month"]))
    return r


def analyse(ctx: Context) -> Analysis:
    p, ds = ctx.params, ctx.ds
    from helpers.report import require_tables
    require_tables(ctx, ["activity", "contracts", "prices", "providers"],
                   "The contract-form analysis")
    years = sorted(financial_year(ds.activity["month"]).unique().tolist())
    year = p["year"] or years[-1]
    if year not in years:
        raise ParameterError(f"year {year} is not in the data (available: {years})")
    provider = None if p["provider"] == "ALL" else p["provider"]
    if provider and provider not in set(ds.providers.provider_code.astype(str)):
        raise ParameterError(f"provider '{provider}' is not in the data")
    comm = None if ctx.is_england else ctx.commissioner
    base = contract_forms.baseline(ds, comm, year, provider)
    share = 1.0
    if ctx.level in ("network", "practice") or p["outliers_only"]:
        pt = cached_table(ds, f"practice_table-{year}", lambda: practice_table(ds, [year]))
        in_comm = pt[pt["commissioner_code"] == ctx.commissioner]
        area = pt[pt.practice_code.isin(ctx.practice_codes)]
        if ctx.level in ("network", "practice"):   # the area's part of its commissioner
            share = float(area["observed"].sum() / in_comm["observed"].sum())
        if p["outliers_only"]:
            fr = funnel(pt.observed, pt.expected, pt.practice_code, method="robust")
            pt = pt.assign(outlier=(fr.points.flag == "High (99.8%)").to_numpy())
            area = pt[pt.practice_code.isin(ctx.practice_codes)]
            share *= float(area.loc[area.outlier, "observed"].sum() / area["observed"].sum())
    spec = p["specialties"] or None
    if spec:
        unknown = set(spec) - set(base.firsts.index)
        if unknown:
            raise ParameterError(f"specialties not in the data: {sorted(unknown)}")
    wi = contract_forms.what_if(base, p["change_pct"], p["start_month"], spec, share, forms=p["forms"])
    sens = []
    for pct in sorted({-5.0, -10.0, -20.0, float(p["change_pct"])}):
        for fu in (0.8, 1.0, 1.2):
            t = contract_forms.what_if(base, pct, p["start_month"], spec, share, fu, forms=p["forms"])
            t = t[t.span == "full-year"]
            sens.append({"change_pct": pct, "follow_up_ratio_scale": fu,
                         **{f: s for f, s in zip(t.form, t.commissioner_saving_gbp,
                                                 strict=True)}})
    panel = contract_forms.activity_panel(ds)
    sw = contract_forms.switches(ds)
    its = []
    mine = sw if ctx.is_england else sw[sw.commissioner_code == ctx.commissioner]
    for r in mine.itertuples():
        for outcome in ("firsts", "followups"):
            res = _its(ds, panel, r.commissioner_code, pd.Timestamp(r.month), outcome,
                       p["window_months"])
            if res is None:
                continue
            res["to_form"] = r.to_form
            res["month"] = pd.Timestamp(r.month)
            its.append(res)
    did, did_notes = [], []
    n_never = panel.commissioner_code.nunique() - sw.commissioner_code.nunique()
    if n_never < 5 and len(sw):
        did_notes.append(f"Too few commissioners that never switched ({n_never}) for a "
                         "difference-in-differences comparison.")
    for form in sorted(sw.to_form.unique()) if n_never >= 5 else []:
        for outcome in ("firsts", "followups"):
            def build(form=form, outcome=outcome):
                r = contract_forms.did_switch(panel, sw, form, outcome)
                r["event_study"] = r["event_study"].to_dict(orient="list")
                return r
            r = cached_json(ds, f"contracts-did-{form}-{outcome}", build)
            r["event_study"] = pd.DataFrame(r["event_study"])
            did.append(r)
    return Analysis(year, _current_form(ctx, year), base, wi, pd.DataFrame(sens),
                    contract_forms.payment_curves(base.value, p["forms"]),
                    contract_forms.risk(base, p["forms"]), sw,
                    its, did, share, did_notes, int(n_never))


COVID_START, COVID_END = pd.Timestamp("2020-03-01"), pd.Timestamp("2021-03-31")


def headline_text(ctx: Context, an: Analysis) -> str:
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")
    v = -t["activity_value_change_gbp"].iloc[0]
    cur = an.current_form
    with_whom = "its providers" if ctx.params["provider"] == "ALL" else \
        f"provider {text.md(ctx.params['provider'])}"
    owner = ctx.area_md if ctx.level in ("england", "commissioner") else \
        f"{text.md(ctx.where.commissioner_name)} (the commissioner of {ctx.area_md})"
    lines = [f"- In {text.financial_year(an.year)}, {owner}'s outpatient activity with "
             f"{with_whom} was worth **{an.money(an.base.value)}** at tariff prices."]
    pct = ctx.params["change_pct"]
    change = f"{abs(pct):g}% {'fall' if pct < 0 else 'rise'} in GP referrals"
    who = {"network": " from this network's practices",
           "practice": " from this practice"}.get(ctx.level, "")
    part = ""
    if ctx.params["outliers_only"] or who:
        part = (f" ({an.affected_share * 100:.1f}% of the commissioner's referrals"
                + (", at the high-referring practices only" if ctx.params["outliers_only"]
                   else "") + ")")
    lines.append(f"- A **{change}{who}**{part} changes that activity by "
                 f"**{an.money(v)} a year**.")
    if cur in t.index:
        now = float(t.loc[cur, "commissioner_saving_gbp"])
        lines.append(f"- Under its **current contract form "
                     f"({contract_forms.FORM_LABELS[cur].lower()})** the commissioner would "
                     + (f"save **{an.money(now)} a year**." if abs(now) >= 0.5 else
                        "**save nothing** this year: the provider keeps the difference."))
    elif cur == "mixed":
        lines.append("- Its providers are paid under **more than one contract form** this "
                     "year; the table shows each.")
    best = t["commissioner_saving_gbp"].idxmax()
    worst = t["commissioner_saving_gbp"].idxmin()
    lines.append(f"- The same change saves most under **"
                 f"{contract_forms.FORM_LABELS[best].lower()}** "
                 f"({an.money(t.loc[best, 'commissioner_saving_gbp'])}) and least under **"
                 f"{contract_forms.FORM_LABELS[worst].lower()}** "
                 f"({_money_or_nothing(an, t.loc[worst, 'commissioner_saving_gbp'])}): "
                 "under a block the "
                 "provider keeps the money and carries the cost, until the block is reset.")
    if an.did_notes:
        lines.append("- **Switching form:** " + switch_caution(an))
    return "\n".join(lines)


def switch_caution(an: Analysis) -> str:
    sw = an.switches
    if sw.empty:
        return "no commissioner changed form in the period."
    together = sw["month"].nunique() == 1 and an.n_never == 0
    covid = sw["month"].between(COVID_START, COVID_END).all()
    parts = []
    if together:
        parts.append(f"every commissioner changed form in "
                     f"{pd.Timestamp(sw['month'].iloc[0]):%B %Y}, so there is no one to "
                     "compare with")
    if covid:
        parts.append("the change came with the COVID-19 fall in referrals and cannot be "
                     "separated from it")
    out = "; ".join(parts) + "." if parts else " ".join(an.did_notes)
    return out[:1].upper() + out[1:]


def headline_table(an: Analysis):
    t = an.whatif[an.whatif.span == "full-year"].assign(
        pct=lambda d: d["share_of_value_saved"] * 100)
    return show(t, [Col("label", "Contract form"),
                    Col("commissioner_saving_gbp", f"Commissioner saving ({an.unit_label} a "
                        "year)", an.unit),
                    Col("pct", "Share of the activity value saved", "pct", 0),
                    Col("provider_margin_change_gbp", f"Provider margin change "
                        f"({an.unit_label} a year)", an.unit)],
                caption="What the referral change saves under each contract form (full year)")


def curves_figure(ctx: Context, an: Analysis):
    c = an.curves
    forms = [f for f in ctx.params["forms"] if f in c]
    return charts.lines_chart(
        c["activity_share_of_plan"] * 100,
        {contract_forms.FORM_LABELS[f]: c[f] * 100 for f in forms},
        f"Payment against activity by contract form, {ctx.area_name}",
        "Activity (% of plan)", "Payment (% of planned value)", ctx.source_line,
        alt="Line chart of the payment (as % of plan) against activity from 70% to 130% of "
            "plan under each contract form: payment by results is a diagonal, a block is "
            "flat, the others lie between.")


def whatif_figure(ctx: Context, an: Analysis):
    w = an.whatif
    scale_ = 1e6 if an.unit == "gbpm" else 1e3
    return charts.bar_chart(
        w["label"] + " (" + w["span"] + ")", w["commissioner_saving_gbp"] / scale_,
        f"Commissioner saving from a {ctx.params['change_pct']:+g}% referral change, "
        f"{ctx.area_name}", f"Saving to the commissioner ({an.unit_label})",
        "Contract form and period", ctx.source_line,
        alt="Bar chart of the commissioner's saving from the referral change under each "
            "contract form, in the year of the change and over a full year.",
        watermark=ctx.watermark)


def whatif_table(an: Analysis):
    return show(an.whatif, [
        Col("label", "Contract form"), Col("span", "Period"),
        Col("spend_baseline_gbp", f"Spend at plan ({an.unit_label})", an.unit),
        Col("spend_scenario_gbp", f"Spend after the change ({an.unit_label})", an.unit),
        Col("commissioner_saving_gbp", f"Commissioner saving ({an.unit_label})", an.unit),
        Col("provider_margin_change_gbp", f"Provider margin change ({an.unit_label})",
            an.unit)], caption="The what-if by contract form, in-year and full-year")


def sensitivity_table(an: Analysis):
    s = an.sensitivity
    forms = [f for f in s.columns if f in contract_forms.FORM_LABELS]
    cols = [Col("change_pct", "Referral change", "pct_change", 0),
            Col("follow_up_ratio_scale", "Follow-ups per first (× observed)", "number", 1)]
    cols += [Col(f, f"{contract_forms.FORM_LABELS[f]} ({an.unit_label})", an.unit)
             for f in forms]
    return show(s, cols, caption="Full-year commissioner saving by size of the change and "
                                 "follow-up ratio")


def risk_figure(ctx: Context, an: Analysis):
    r = an.risk
    return charts.bar_chart(
        r["label"], r["commissioner_share_of_risk"] * 100,
        f"Commissioner's share of demand risk by contract form, {ctx.area_name}",
        "Share of the spread carried by the commissioner (%)", "Contract form",
        ctx.source_line,
        alt="Bar chart of the commissioner's share of the year-to-year spread in spend and "
            "provider margin under each contract form: all of it under payment by results, "
            "none under a block.")


def risk_table(an: Analysis):
    r = an.risk.assign(pct=an.risk["commissioner_share_of_risk"] * 100)
    return show(r, [Col("label", "Contract form"),
                    Col("spend_sd_gbp", f"Spread of commissioner spend ({an.unit_label}, SD)",
                        an.unit),
                    Col("provider_margin_sd_gbp", f"Spread of provider margin "
                        f"({an.unit_label}, SD)", an.unit),
                    Col("pct", "Commissioner's share of the risk", "pct", 0)],
                caption="Who carries demand risk")


OUTCOME_WORDS = {"firsts": "first attendances per referral",
                 "followups": "follow-ups per first attendance"}


def did_table(an: Analysis):
    if not an.did:
        return None
    rows = [{"to": contract_forms.FORM_LABELS.get(d["to_form"], d["to_form"]),
             "outcome": OUTCOME_WORDS[d["outcome"]], "n_sw": d["n_switchers"],
             "n_cmp": d["n_comparison"], "pct": text.log_to_pct(d["att"]),
             "lo": text.log_to_pct(d["lower"]), "hi": text.log_to_pct(d["upper"])}
            for d in an.did]
    return show(pd.DataFrame(rows), [
        Col("to", "Switch to"), Col("outcome", "Outcome"),
        Col("n_sw", "Commissioners switching", "orgs"),
        Col("n_cmp", "Comparison commissioners", "orgs"),
        Col("pct", "Effect", "pct_change"), Col("lo", "95% CI low", "pct_change"),
        Col("hi", "95% CI high", "pct_change")],
        caption="England: what switching form did (staggered difference-in-differences)")


def did_text(an: Analysis) -> str:
    notes = []
    if an.did_notes:
        notes.append(switch_caution(an))
    for d in an.did:
        notes += [f"Estimator note ({d['to_form']}, {OUTCOME_WORDS[d['outcome']]}): {n}"
                  for n in d["notes"]]
    return "\n".join(f"- {text.md(n)}" for n in notes)


def did_figures(ctx: Context, an: Analysis) -> list:
    truth = ctx.ds.truth["contract_switches"] if ctx.ds.truth else None
    figs = []
    for d in an.did:
        if d["outcome"] != "firsts":
            continue
        t = truth["effect_firsts_per_referral"].get(d["to_form"]) if truth else None
        figs.append(charts.event_study_chart(
            d["event_study"], f"England: first attendances per referral after switching to "
            f"{contract_forms.FORM_LABELS.get(d['to_form'], d['to_form']).lower()}",
            ctx.source_line, "Effect (log ratio against comparison commissioners)",
            alt=f"Event study of first attendances per referral by months since switching "
                f"to {d['to_form']}, with 95% intervals; before the switch the estimates "
                "should sit near zero.", truth=t, watermark=ctx.watermark))
    return figs


MAX_ITS_CHARTS = 3


def its_figures(ctx: Context, an: Analysis) -> list:
    """Interrupted time series charts: this commissioner's own switch, or for England the
    three switches with the largest estimated change (every one is in the table)."""
    firsts = [r for r in an.its if r["outcome"] == "firsts"]
    if ctx.is_england:
        firsts = sorted(firsts, key=lambda r: -abs(np.log(r["rate_ratio"])))[:MAX_ITS_CHARTS]
    figs = []
    for r in firsts:
        label = contract_forms.FORM_LABELS.get(r["to_form"], r["to_form"]).lower()
        figs.append(charts.its_chart(
            r["series"], r["month"],
            f"{r['commissioner_code']}: first attendances per referral around the switch to "
            f"{label}", ctx.source_line,
            "First attendances per GP referral (ratio)",
            alt=f"Interrupted time series for {r['commissioner_code']}: first attendances "
                "per referral by month, the fitted model and what the model expects without "
                "the switch.", watermark=ctx.watermark))
    return figs


def its_note(ctx: Context, an: Analysis) -> str:
    n = len([r for r in an.its if r["outcome"] == "firsts"])
    if not n:
        return ("This commissioner did not change contract form in the period; the England "
                "comparison above shows what switching did elsewhere.")
    covid = any(COVID_START <= r["month"] <= COVID_END for r in an.its)
    text_ = ""
    if ctx.is_england and n > MAX_ITS_CHARTS:
        text_ = (f"Charts for the {MAX_ITS_CHARTS} switches with the largest estimated "
                 f"change of {n}; the table lists every one.")
    if covid:
        text_ += (" The switch came with the COVID-19 fall in referrals: the model cannot "
                  "separate the two, so read these as what happened, not what the contract did.")
    return text_.strip()


def its_table(an: Analysis):
    if not an.its:
        return None
    rows = [{"comm": r["commissioner_code"],
             "to": contract_forms.FORM_LABELS.get(r["to_form"], r["to_form"]),
             "month": f"{r['month']:%b %Y}", "outcome": OUTCOME_WORDS[r["outcome"]],
             "pct": (r["rate_ratio"] - 1) * 100, "lo": (r["ci_low"] - 1) * 100,
             "hi": (r["ci_high"] - 1) * 100} for r in an.its]
    return show(pd.DataFrame(rows), [
        Col("comm", "Commissioner"), Col("to", "Switch to"), Col("month", "From"),
        Col("outcome", "Outcome"), Col("pct", "Change at the switch", "pct_change"),
        Col("lo", "95% CI low", "pct_change"), Col("hi", "95% CI high", "pct_change")],
        caption="Interrupted time series of each switch")


def validation_table(ctx: Context, an: Analysis):
    t = ctx.ds.truth
    if not t or not an.did:
        return None
    cs = t["contract_switches"]
    rows = []
    for d in an.did:
        key = "effect_firsts_per_referral" if d["outcome"] == "firsts" else \
            "effect_followups_per_first"
        truth = cs[key].get(d["to_form"], np.nan)
        rows.append({"quantity": f"Switch to {d['to_form']}: {OUTCOME_WORDS[d['outcome']]}",
                     "truth": truth, "estimate": d["att"], "lower": d["lower"],
                     "upper": d["upper"], "covered": d["lower"] <= truth <= d["upper"]})
    return show(pd.DataFrame(rows), [
        Col("quantity", "Quantity"), Col("truth", "True effect (log)", "number", 4),
        Col("estimate", "Estimate (log)", "number", 4),
        Col("lower", "95% CI low", "number", 4), Col("upper", "95% CI high", "number", 4),
        Col("covered", "True value inside the interval")],
        caption="Estimates against the effects planted in the synthetic data")


def results(ctx: Context, an: Analysis) -> dict:
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")
    cur = an.current_form
    saving = t["commissioner_saving_gbp"].get(cur, np.nan)
    return {"year": an.year, "current_form": cur,
            "baseline_value_gbp": an.base.value,
            "saving_current_form_gbp": saving,
            "saving_by_form_gbp": t["commissioner_saving_gbp"].to_dict(),
            "provider_margin_change_by_form_gbp": t["provider_margin_change_gbp"].to_dict(),
            "risk_commissioner_share": an.risk.set_index("form")[
                "commissioner_share_of_risk"].to_dict(),
            "did": [{k: v for k, v in d.items() if k not in ("event_study",)} for d in an.did],
            "its": [{k: v for k, v in r.items() if k not in ("series",)} for r in an.its],
            "summary": _summary(ctx, an, saving, t["commissioner_saving_gbp"])}


def _summary(ctx: Context, an: Analysis, saving: float, by_form: pd.Series) -> str:
    """One line for the index: the year's activity and what the referral change is worth."""
    change = float(ctx.params["change_pct"])
    what = f"a {abs(change):g}% {'cut' if change < 0 else 'rise'} in referrals"
    line = f"{text.financial_year(an.year)} activity {text.gbp(an.base.value)}; {what} "
    cur = an.current_form
    if cur not in contract_forms.FORM_LABELS:
        lo, hi = sorted([float(by_form.min()), float(by_form.max())])
        return line + f"is worth {text.gbp(lo)} to {text.gbp(hi)} a year, depending on the form"
    form = contract_forms.FORM_LABELS[cur].lower()
    if np.isnan(saving) or abs(saving) < 0.5:
        return line + f"saves nothing under its current form ({form})"
    verb = "saves" if saving > 0 else "costs"
    return line + f"{verb} {text.gbp(abs(saving))} a year under its current form ({form})"
