"""The contract-form report (notebook 03), section by section: wording, tables and charts of
:mod:`helpers.analysis.contract_forms`. Money is shown in one unit per report (£k, or £m for
large areas), stated in every header."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import formats
from helpers.analysis import contracts
from helpers.analysis.context import Context
from helpers.analysis.contract_forms import OUTCOME_WORDS, Analysis, estimator_notes
from helpers.report import charts, text
from helpers.report.page import area_md, coverage_text, source_line, watermark
from helpers.report.tables import Col, table

PRACTICE_MONEY = 10_000
"""A what-if worth less than this (£ a year) is shown in pounds (a practice's), not £k."""


def _unit(an: Analysis) -> str:
    """The money column format of this report's tables: pounds when the area's change is
    small (a practice's), £m for large commissioners, else £k."""
    change = an.whatif["activity_value_change_gbp"].abs().max()
    if not np.isfinite(change) or change < PRACTICE_MONEY:
        return "gbp"
    return "gbpm" if an.base.value >= 1e8 else "gbpk"


def _unit_label(an: Analysis) -> str:
    return {"gbpm": "£m", "gbpk": "£k"}.get(_unit(an), "£")


SUPPRESSED_WORDS = ("made between 1 and 7 GP referrals in {year}: too few to publish, so "
                    "what a change in them would save is not shown (publish mode). The "
                    "sections below describe its commissioner's contracts.")


def _money_or_nothing(an: Analysis, x: float) -> str:
    """Money for prose, with a zero written as 'nothing' (not '£0.0m')."""
    return "nothing" if abs(float(x)) < 0.5 else formats.money(x)


COVID_START, COVID_END = pd.Timestamp("2020-03-01"), pd.Timestamp("2021-03-31")


def headline_text(ctx: Context, an: Analysis) -> str:
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")
    v = -t["activity_value_change_gbp"].iloc[0]
    cur = an.current_form
    with_whom = "its providers" if ctx.params["provider"] == "ALL" else \
        f"provider {text.md(ctx.params['provider'])}"
    owner = area_md(ctx) if ctx.level in ("england", "commissioner") else \
        f"{text.md(ctx.where.commissioner_name)} (the commissioner of {area_md(ctx)})"
    lines = [f"- In {formats.year(an.year)}, {owner}'s outpatient activity with "
             f"{with_whom} was worth **{formats.money(an.base.value)}** at tariff prices."]
    pct = ctx.params["change_pct"]
    change = f"{abs(pct):g}% {'fall' if pct < 0 else 'rise'} in GP referrals"
    who = {"network": " from this network's practices",
           "practice": " from this practice"}.get(ctx.level, "")
    part = ""
    if ctx.params["outliers_only"] or who:
        part = (f" ({formats.share(an.affected_share * 100)} of the commissioner's referrals"
                + (", at the high-referring practices only" if ctx.params["outliers_only"]
                   else "") + ")")
    if an.area_suppressed:
        lines.append(f"- {area_md(ctx)} "
                     + SUPPRESSED_WORDS.format(year=formats.year(an.year)))
        if an.did_notes:
            lines.append("- **Switching form:** " + switch_caution(an))
        return "\n".join(lines)
    if who and an.affected_share == 0:   # closed (or not yet open) in the year shown
        lines.append(f"- {area_md(ctx)} made no GP referrals in {formats.year(an.year)} (it "
                     "was closed, or not yet open), so a change in its referrals changes "
                     "nothing that year. The sections below describe its commissioner's "
                     "contracts.")
        if an.did_notes:
            lines.append("- **Switching form:** " + switch_caution(an))
        return "\n".join(lines)
    lines.append(f"- A **{change}{who}**{part} changes that activity by "
                 f"**{formats.money(v)} a year**.")
    if cur in t.index:
        now = float(t.loc[cur, "commissioner_saving_gbp"])
        lines.append(f"- Under its **current contract form "
                     f"({contracts.FORM_LABELS[cur].lower()})** the commissioner would "
                     + (f"save **{formats.money(now)} a year**." if abs(now) >= 0.5 else
                        "**save nothing** this year: the provider keeps the difference."))
    elif cur == "mixed":
        lines.append("- Its providers are paid under **more than one contract form** this "
                     "year; the table shows each.")
    best = t["commissioner_saving_gbp"].idxmax()
    worst = t["commissioner_saving_gbp"].idxmin()
    if best != worst:
        lines.append(f"- The same change saves most under **"
                     f"{contracts.FORM_LABELS[best].lower()}** "
                     f"({formats.money(t.loc[best, 'commissioner_saving_gbp'])}) and least "
                     f"under **{contracts.FORM_LABELS[worst].lower()}** "
                     f"({_money_or_nothing(an, t.loc[worst, 'commissioner_saving_gbp'])}): "
                     "under a block the provider keeps the money and carries the cost, "
                     "until the block is reset.")
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
    if an.area_suppressed:
        return None
    t = an.whatif[an.whatif.span == "full-year"].assign(
        pct=lambda d: d["share_of_value_saved"] * 100)
    return table(t, [Col("label", "Contract form"),
                    Col("commissioner_saving_gbp", f"Commissioner saving ({_unit_label(an)} a "
                        "year)", _unit(an)),
                    Col("pct", "Share of the activity value saved", "pct", 0),
                    Col("provider_margin_change_gbp", f"Provider margin change "
                        f"({_unit_label(an)} a year)", _unit(an))],
                caption="What the referral change saves under each contract form (full year)")


def curves_figure(ctx: Context, an: Analysis):
    c = an.curves
    forms = [f for f in ctx.params["forms"] if f in c]
    return charts.lines_chart(
        c["activity_share_of_plan"] * 100,
        {contracts.FORM_LABELS[f]: c[f] * 100 for f in forms},
        f"Payment against activity by contract form, {ctx.area_name}",
        "Activity (% of plan)", "Payment (% of planned value)", source_line(ctx),
        alt="Line chart of the payment (as % of plan) against activity from 70% to 130% of "
            "plan under each contract form: payment by results is a diagonal, a block is "
            "flat, the others lie between.")


def whatif_figure(ctx: Context, an: Analysis):
    if an.area_suppressed:
        return None
    w = an.whatif
    scale_ = {"gbpm": 1e6, "gbpk": 1e3}.get(_unit(an), 1.0)
    return charts.bar_chart(
        w["label"] + " (" + w["span"] + ")", w["commissioner_saving_gbp"] / scale_,
        f"Commissioner saving from a {ctx.params['change_pct']:+g}% referral change, "
        f"{ctx.area_name}", f"Saving to the commissioner ({_unit_label(an)})",
        "Contract form and period", source_line(ctx),
        alt="Bar chart of the commissioner's saving from the referral change under each "
            "contract form, in the year of the change and over a full year.",
        watermark=watermark(ctx))


def whatif_table(an: Analysis):
    if an.area_suppressed:
        return None
    return table(an.whatif, [
        Col("label", "Contract form"), Col("span", "Period"),
        Col("spend_baseline_gbp", f"Spend at plan ({_unit_label(an)})", _unit(an)),
        Col("spend_scenario_gbp", f"Spend after the change ({_unit_label(an)})", _unit(an)),
        Col("commissioner_saving_gbp", f"Commissioner saving ({_unit_label(an)})", _unit(an)),
        Col("provider_margin_change_gbp", f"Provider margin change ({_unit_label(an)})",
            _unit(an))], caption="The what-if by contract form, in-year and full-year")


def sensitivity_table(an: Analysis):
    if an.area_suppressed:
        return None
    s = an.sensitivity
    forms = [f for f in s.columns if f in contracts.FORM_LABELS]
    cols = [Col("change_pct", "Referral change", "pct_change", 0),
            Col("follow_up_ratio_scale", "Follow-ups per first (× observed)", "number", 1)]
    cols += [Col(f, f"{contracts.FORM_LABELS[f]} ({_unit_label(an)})", _unit(an))
             for f in forms]
    return table(s, cols, caption="Full-year commissioner saving by size of the change and "
                                 "follow-up ratio")


def risk_figure(ctx: Context, an: Analysis):
    r = an.risk
    return charts.bar_chart(
        r["label"], r["commissioner_share_of_risk"] * 100,
        f"Commissioner's share of demand risk by contract form, {ctx.area_name}",
        "Share of the spread carried by the commissioner (%)", "Contract form",
        source_line(ctx),
        alt="Bar chart of the commissioner's share of the year-to-year spread in spend and "
            "provider margin under each contract form: all of it under payment by results, "
            "none under a block.")


def risk_table(an: Analysis):
    r = an.risk.assign(pct=an.risk["commissioner_share_of_risk"] * 100)
    return table(r, [Col("label", "Contract form"),
                    Col("spend_sd_gbp", f"Spread of commissioner spend ({_unit_label(an)}, SD)",
                        _unit(an)),
                    Col("provider_margin_sd_gbp", f"Spread of provider margin "
                        f"({_unit_label(an)}, SD)", _unit(an)),
                    Col("pct", "Commissioner's share of the risk", "pct", 0)],
                caption="Who carries demand risk")


def did_table(an: Analysis):
    if not an.did:
        return None
    rows = [{"to": contracts.FORM_LABELS.get(d.extra["to_form"], d.extra["to_form"]),
             "outcome": OUTCOME_WORDS[d.extra["outcome"]], "n_sw": d.extra["n_switchers"],
             "n_cmp": d.extra["n_control"], "pct": formats.log_to_pct(d.estimate),
             "lo": formats.log_to_pct(d.lower), "hi": formats.log_to_pct(d.upper)}
            for d in an.did]
    return table(pd.DataFrame(rows), [
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
    for clause, where in estimator_notes(an):
        notes.append(f"For the switch{'es' if len(where) > 1 else ''} to "
                     f"{_and(where)}: {clause}.")
    return "\n".join(f"- {text.md(n)}" for n in notes)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def did_figures(ctx: Context, an: Analysis) -> list:
    truth = ctx.ds.truth["contract_switches"] if ctx.ds.truth else None
    figs = []
    for d in an.did:
        if d.extra["outcome"] != "firsts":
            continue
        t = truth["effect_firsts_per_referral"].get(d.extra["to_form"]) if truth else None
        figs.append(charts.event_study_chart(
            d.extra["event_study"], f"England: first attendances per referral after switching to "
            f"{contracts.FORM_LABELS.get(d.extra['to_form'], d.extra['to_form']).lower()}",
            source_line(ctx), "Effect (log ratio against comparison commissioners)",
            alt=f"Event study of first attendances per referral by months since switching "
                f"to {d.extra['to_form']}, with 95% intervals; before the switch the estimates "
                "should sit near zero.", truth=t, watermark=watermark(ctx)))
    return figs


MAX_ITS_CHARTS = 3


def its_figures(ctx: Context, an: Analysis) -> list:
    """Interrupted time series charts: this commissioner's own switch, or for England the
    three switches with the largest estimated change (every one is in the table)."""
    firsts = [r for r in an.its if r.extra["outcome"] == "firsts"]
    if ctx.is_england:
        firsts = sorted(firsts, key=lambda r: -abs(np.log(r.extra["rate_ratio"])))[:MAX_ITS_CHARTS]
    figs = []
    for r in firsts:
        label = contracts.FORM_LABELS.get(r.extra["to_form"], r.extra["to_form"]).lower()
        figs.append(charts.its_chart(
            r.extra["series"], r.extra["month"],
            f"{r.extra['commissioner_code']}: first attendances per referral around the switch to "
            f"{label}", source_line(ctx),
            "First attendances per GP referral (ratio)",
            alt=f"Interrupted time series for {r.extra['commissioner_code']}: first attendances "
                "per referral by month, the fitted model and what the model expects without "
                "the switch.", watermark=watermark(ctx)))
    return figs


def its_note(ctx: Context, an: Analysis) -> str:
    n = len([r for r in an.its if r.extra["outcome"] == "firsts"])
    if not n:
        return ("This commissioner did not change contract form in the period; the England "
                "comparison above shows what switching did elsewhere.")
    covid = any(COVID_START <= r.extra["month"] <= COVID_END for r in an.its)
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
    rows = [{"comm": r.extra["commissioner_code"],
             "to": contracts.FORM_LABELS.get(r.extra["to_form"], r.extra["to_form"]),
             "month": f"{r.extra['month']:%b %Y}", "outcome": OUTCOME_WORDS[r.extra["outcome"]],
             "pct": (r.extra["rate_ratio"] - 1) * 100, "lo": (r.extra["ci_low"] - 1) * 100,
             "hi": (r.extra["ci_high"] - 1) * 100} for r in an.its]
    return table(pd.DataFrame(rows), [
        Col("comm", "Commissioner"), Col("to", "Switch to"), Col("month", "From"),
        Col("outcome", "Outcome"), Col("pct", "Change at the switch", "pct_change"),
        Col("lo", "95% CI low", "pct_change"), Col("hi", "95% CI high", "pct_change")],
        caption="Interrupted time series of each switch")


def validation_table(ctx: Context, an: Analysis):
    """Estimates against the truth recorded with the synthetic data (None for real data)."""
    if an.validation is None:
        return None
    return table(an.validation, [
        Col("quantity", "Quantity"), Col("truth", "True effect (log)", "number", 4),
        Col("estimate", "Estimate (log)", "number", 4),
        Col("lower", "95% CI low", "number", 4), Col("upper", "95% CI high", "number", 4),
        Col("covered", "True value inside the interval")],
        caption="Estimates against the effects planted in the synthetic data")


def validation_text(an: Analysis) -> str:
    """Which planted effects the intervals miss, in words ('' for real data)."""
    return coverage_text(an.validation)


def results(ctx: Context, an: Analysis) -> dict:
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")
    cur = an.current_form
    saving = t["commissioner_saving_gbp"].get(cur, np.nan)
    return {"year": an.year, "current_form": cur, "area_suppressed": an.area_suppressed,
            "baseline_value_gbp": an.base.value,
            "saving_current_form_gbp": saving,
            "saving_by_form_gbp": t["commissioner_saving_gbp"].to_dict(),
            "provider_margin_change_by_form_gbp": t["provider_margin_change_gbp"].to_dict(),
            "risk_commissioner_share": an.risk.set_index("form")[
                "commissioner_share_of_risk"].to_dict(),
            "did": [{"to_form": d.extra["to_form"], "outcome": d.extra["outcome"],
                     "n_switchers": d.extra["n_switchers"], "n_comparison": d.extra["n_control"],
                     "att": d.estimate, "se": d.se, "lower": d.lower, "upper": d.upper,
                     "notes": d.extra["notes"]} for d in an.did],
            "its": [{**{k: v for k, v in r.extra.items() if k != "series"},
                     "log_effect": r.estimate} for r in an.its],
            "summary": _summary(ctx, an, saving, t["commissioner_saving_gbp"]),
            **({"validation_failed": an.validation.loc[~an.validation["covered"].astype(
                bool), "quantity"].tolist()} if an.validation is not None else {})}


def _summary(ctx: Context, an: Analysis, saving: float, by_form: pd.Series) -> str:
    """One line for the index: the year's activity and what the referral change is worth."""
    change = float(ctx.params["change_pct"])
    what = f"a {abs(change):g}% {'cut' if change < 0 else 'rise'} in referrals"
    line = f"{formats.year(an.year)} activity {formats.money(an.base.value)}; {what} "
    if ctx.level in ("network", "practice"):    # the contract is its commissioner's
        line = (f"{ctx.where.commissioner_name}'s {formats.year(an.year)} activity "
                f"{formats.money(an.base.value)}; {what} from this {ctx.level} ")
    if an.area_suppressed:
        return line + "is not shown: the area's referrals that year are too few to publish"
    if ctx.level in ("network", "practice") and an.affected_share == 0:
        return (line.split(f"; {what}")[0] + f"; this {ctx.level} made no GP referrals that "
                "year (closed, or not yet open), so a change in its referrals changes nothing")
    cur = an.current_form
    if cur not in contracts.FORM_LABELS:
        lo, hi = sorted([float(by_form.min()), float(by_form.max())])
        return (line + f"is worth {_money_or_nothing(an, lo)} to {_money_or_nothing(an, hi)}"
                " a year, depending on the form")       # as the page's prose words it
    form = contracts.FORM_LABELS[cur].lower()
    if np.isnan(saving) or abs(saving) < 0.5:
        return line + f"saves nothing under its current form ({form})"
    verb = "saves" if saving > 0 else "costs"
    return line + f"{verb} {formats.money(abs(saving))} a year under its current form ({form})"
