"""The contract-form report (notebook 03), section by section: wording, tables and charts of
:mod:`helpers.analysis.contract_forms`. Money is shown in one unit per report (£k, or £m for
large areas), stated in every header."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import formats, levels
from helpers.analysis import contracts
from helpers.analysis.context import Context
from helpers.analysis.contract_forms import (
    OUTCOME_WORDS,
    Analysis,
    closed_on,
    estimator_notes,
    form_name,
    nothing_to_change,
    open_in_year,
)
from helpers.report import charts, text
from helpers.report.page import area_md, coverage_text, source_line, watermark
from helpers.report.tables import Col, table

NONE_RECORDED = ("open, yet none is recorded: more likely missing from the referral data than "
                 "referring no one")
"""Why an area open in the year has no referral in it (notebook 00 says it so too)."""
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


def _owner_unit(an: Analysis) -> str:
    """The money format of figures that belong to the commissioner (its spend, its risk):
    chosen from the commissioner's own activity value only, so every page that shows them
    (the commissioner's, and each of its networks' and practices') writes them alike."""
    return "gbpm" if an.base.value >= 1e8 else "gbpk"


def _owner_unit_label(an: Analysis) -> str:
    return {"gbpm": "£m", "gbpk": "£k"}[_owner_unit(an)]


def _rule(ctx: Context, section: str) -> levels.Rule:
    """The section's declared rule at the page's level (:mod:`helpers.levels`;
    :meth:`Context.rule`)."""
    return ctx.rule(section)


def owner_name(ctx: Context, section: str) -> str:
    """Whose figures a section shows, as its headings and sentences name them: the area
    itself, or (a section declared as its commissioner's) 'Commissioner X (the commissioner
    of Area Y)'."""
    if _rule(ctx, section).kind == levels.PARENT:
        return f"{ctx.where.commissioner_name} (the commissioner of {ctx.area_name})"
    return ctx.area_name


def no_change_text(ctx: Context, an: Analysis) -> str | None:
    """In place of the what-if chart when the area made no referrals in the year (closed,
    or not yet open): there is no saving to draw, and the page says why."""
    if not nothing_to_change(ctx, an):
        return None
    return (f"No chart of savings: {ctx.area_name} made no GP referrals in "
            f"{formats.year(an.year)}, so a change in them saves nothing under every form.")


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
    owner = area_md(ctx) if _rule(ctx, "activity_value").kind == levels.SHOWN else \
        f"{text.md(ctx.where.commissioner_name)} (the commissioner of {area_md(ctx)})"
    lines = [f"- In {formats.year(an.year)}, the outpatient activity of {owner} with "
             f"{with_whom} was worth **{formats.money(an.base.value)}** at {ctx.price_words}"
             + (" (synthetic activity: an illustration, not this commissioner's)"
                if ctx.synthetic_on_real else "") + "."]
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
    if nothing_to_change(ctx, an):   # closed (or not yet open) in the year shown
        closed = closed_on(ctx)
        why = f"it closed in {closed:%B %Y}" if closed is not None else \
            "it was " + NONE_RECORDED if open_in_year(ctx, an.year) else \
            "it was closed, or not yet open"
        lines.append(f"- {area_md(ctx)} made no GP referrals in {formats.year(an.year)} "
                     f"({why}), so a change in its referrals changes nothing that year. The "
                     "sections below describe its commissioner's contracts.")
        if an.did_notes:
            lines.append("- **Switching form:** " + switch_caution(an))
        return "\n".join(lines)
    when = "a year" if not part_year_text(ctx, an) else f"in {formats.year(an.year)}"
    lines.append(f"- A **{change}{who}**{part} changes that activity by "
                 f"**{formats.money(v)} {when}**." + part_year_text(ctx, an))
    if cur in t.index:
        now = float(t.loc[cur, "commissioner_saving_gbp"])
        lines.append(f"- Under its current contract form, **{form_name(cur)}**, the "
                     "commissioner would "
                     + (f"save **{formats.money(now)} a year**." if abs(now) >= 0.5 else
                        "**save nothing**: the provider keeps the difference."))
    elif cur == "mixed":
        lines.append("- Its providers are paid under **more than one contract form** this "
                     "year; the table shows each.")
    best, worst = tied_forms(t["commissioner_saving_gbp"])
    if set(best) != set(worst):
        hi, lo = (float(t.loc[f[0], "commissioner_saving_gbp"]) for f in (best, worst))
        lines.append(f"- The same change saves most under {_forms_md(best)}, "
                     f"{formats.money(hi)}, and least under {_forms_md(worst)}, "
                     f"{_money_or_nothing(an, lo)}"
                     + (": under a block the provider keeps the money and carries the cost, "
                        "until the block is reset." if "block" in worst else "."))
    if an.did_notes:
        lines.append("- **Switching form:** " + switch_caution(an))
    return "\n".join(lines)


def tied_forms(saving: pd.Series) -> tuple[list[str], list[str]]:
    """The forms that save most and those that save least (£ a year, by form), each
    with every form tied with it to the pound: three forms saving nothing are all 'least',
    not the first of them."""
    v = saving.astype(float)
    best = [f for f in v.index if abs(v[f] - v.max()) < 0.5]
    worst = [f for f in v.index if abs(v[f] - v.min()) < 0.5]
    return best, worst


def _forms_md(forms: list[str]) -> str:
    """Forms named in bold, joined as prose ('**block**, **cap and collar** and …')."""
    names = [f"**{form_name(f)}**" for f in forms]
    return text.and_list(names)


def part_year_text(ctx: Context, an: Analysis) -> str:
    """For an area open only part of the year shown: the year's figures are its referrals
    in the months it was open, not twelve months of them ('' when open all year)."""
    if not 0 < an.months_open < 12:
        return ""
    return (f" {ctx.area_name} was open {an.months_open} of the year's 12 months, so this "
            "is the change on its referrals in those months, not on a full year of them.")


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
    if an.area_suppressed or an.no_referrals:
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


LINE_STYLES = [(0, (1, 0)), (0, (6, 2)), (0, (2, 2)), (0, (6, 2, 1, 2)), (0, (3, 1, 1, 1)),
               (0, (9, 3)), (0, (1, 1))]
MARKERS = ["s", "o", "^", "D", "v", "P", "X"]


def line_draw_order(series: dict[str, np.ndarray]) -> list[str]:
    """The order to draw lines that may lie on one another: the line sharing most points
    with the others first (at the bottom, drawn widest), so every line drawn later, and
    narrower, leaves the earlier ones visible along both its edges."""
    names = list(series)
    shared = {n: sum(int(np.isclose(series[n], series[m], rtol=0, atol=1e-9).sum())
                     for m in names if m != n) for n in names}
    return sorted(names, key=lambda n: -shared[n])      # stable: ties keep their order


def distinct_lines_chart(x, series: dict[str, np.ndarray], title: str, xlabel: str,
                         ylabel: str, source: str, alt: str):
    """Lines that may coincide over part of their range (a block and a cap and collar
    within its corridor), each visible and told apart: drawn in :func:`line_draw_order`,
    each narrower than the one below it, with its own colour, dash pattern and markers
    (offset so no two lines put a marker at the same x)."""
    import matplotlib.pyplot as plt

    rank = {name: i for i, name in enumerate(line_draw_order(series))}
    k = len(rank)
    fig, ax = plt.subplots()
    every = max(len(x) // 6, 1)
    for j, (name, y) in enumerate(series.items()):   # added (and listed) in the given order
        i = rank[name]                                # drawn bottom to top by rank
        ax.plot(x, y, label=name, color=charts.PALETTE[j % len(charts.PALETTE)],
                lw=1.4 + 0.9 * (k - 1 - i), ls=LINE_STYLES[j % len(LINE_STYLES)],
                marker=MARKERS[j % len(MARKERS)], markersize=3.5 + 0.9 * (k - 1 - i),
                markevery=(int(j * every / k), every), zorder=2 + i)
    return charts.finish(fig, ax, title, xlabel, ylabel, source, alt)


def curves_figure(ctx: Context, an: Analysis):
    """How each form pays, as a share of plan: the same at every level (no area's figures),
    every line visible."""
    c = an.curves
    forms = [f for f in ctx.params["forms"] if f in c]
    return distinct_lines_chart(
        c["activity_share_of_plan"].to_numpy() * 100,
        {contracts.FORM_LABELS[f]: c[f].to_numpy() * 100 for f in forms},
        "Payment against activity by contract form (as a share of plan)",
        "Activity (% of plan)", "Payment (% of planned value)", source_line(ctx),
        alt="Line chart of the payment (as % of plan) against activity from 70% to 130% of "
            "plan under each contract form: payment by results is a diagonal, a block is "
            "flat, the others lie between; lines that coincide are drawn one inside another "
            "with their own dashes and markers.")


def whatif_figure(ctx: Context, an: Analysis):
    """The saving by form and period (None when suppressed; when the area made no
    referrals that year, the sentence why there is no chart)."""
    if an.area_suppressed:
        return None
    if an.no_referrals:
        return no_change_text(ctx, an)
    w = an.whatif
    scale_ = {"gbpm": 1e6, "gbpk": 1e3}.get(_unit(an), 1.0)
    return charts.bar_chart(
        w["label"] + " (" + w["span"] + ")", w["commissioner_saving_gbp"] / scale_,
        f"Commissioner saving from a {formats.pct_change_as_given(ctx.params['change_pct'])}"
        " referral change, "
        f"{ctx.area_name}", f"Saving to the commissioner ({_unit_label(an)})",
        "Contract form and period", source_line(ctx),
        alt="Bar chart of the commissioner's saving from the referral change under each "
            "contract form, in the year of the change and over a full year.",
        watermark=watermark(ctx))


def whatif_table(an: Analysis, ctx: Context | None = None):
    """The what-if by form and period: the commissioner's spend (in the commissioner's
    unit, as on every page showing it, and under its name below it) and the change from
    the area's referrals."""
    if an.area_suppressed or an.no_referrals:
        return None
    return table(an.whatif, [
        Col("label", "Contract form"), Col("span", "Period"),
        Col("spend_baseline_gbp", f"Commissioner's spend at plan ({_owner_unit_label(an)})",
            _owner_unit(an)),
        Col("spend_scenario_gbp", f"Commissioner's spend after the change "
            f"({_owner_unit_label(an)})", _owner_unit(an)),
        Col("commissioner_saving_gbp", f"Commissioner saving ({_unit_label(an)})", _unit(an)),
        Col("provider_margin_change_gbp", f"Provider margin change ({_unit_label(an)})",
            _unit(an))], caption="The what-if by contract form, in-year and full-year"
        + (f"; the spend is {ctx.where.commissioner_name}'s, the commissioner of "
           f"{ctx.area_name}"
           if ctx is not None and _rule(ctx, "activity_value").kind == levels.PARENT else ""))


def sensitivity_table(an: Analysis):
    if an.area_suppressed or an.no_referrals:
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
    """The commissioner's share of demand risk by form: the commissioner's figures, under
    its name on every page that shows them."""
    r = an.risk
    return charts.bar_chart(
        r["label"], r["commissioner_share_of_risk"] * 100,
        f"Commissioner's share of demand risk by contract form, {owner_name(ctx, 'risk')}",
        "Share of the spread carried by the commissioner (%)", "Contract form",
        source_line(ctx),
        alt="Bar chart of the commissioner's share of the year-to-year spread in spend and "
            "provider margin under each contract form: all of it under payment by results, "
            "none under a block.")


def risk_table(ctx: Context, an: Analysis):
    """Who carries demand risk: the commissioner's figures, in the commissioner's unit and
    under its name, alike on every page that shows them."""
    r = an.risk.assign(pct=an.risk["commissioner_share_of_risk"] * 100)
    u, lab = _owner_unit(an), _owner_unit_label(an)
    return table(r, [Col("label", "Contract form"),
                    Col("spend_sd_gbp", f"Spread of commissioner spend ({lab}, SD)", u),
                    Col("provider_margin_sd_gbp", f"Spread of provider margin ({lab}, SD)",
                        u),
                    Col("pct", "Commissioner's share of the risk", "pct", 0)],
                caption=f"Who carries demand risk, {owner_name(ctx, 'risk')}")


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
                     f"{text.and_list(where)}: {clause}.")
    return "\n".join(f"- {text.md(n)}" for n in notes)



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
                f"to {form_name(d.extra['to_form'])}, with 95% intervals; before the switch "
                "the estimates "
                "should sit near zero.", truth=t, watermark=watermark(ctx)))
    return figs


MAX_ITS_CHARTS = 3


def _comm_name(ctx: Context, code: str) -> str:
    """A commissioner as its charts name it: its name, or its code where it has none."""
    c = ctx.ds.commissioners
    name = c.loc[c["commissioner_code"].astype(str) == str(code), "commissioner_name"]
    return str(name.iloc[0]) if len(name) and isinstance(name.iloc[0], str) else str(code)


def its_figures(ctx: Context, an: Analysis) -> list:
    """Interrupted time series charts: this commissioner's own switch, or for England the
    three switches with the largest estimated change (every one is in the table)."""
    firsts = [r for r in an.its if r.extra["outcome"] == "firsts"]
    if ctx.is_england:
        firsts = sorted(firsts, key=lambda r: -abs(np.log(r.extra["rate_ratio"])))[:MAX_ITS_CHARTS]
    figs = []
    for r in firsts:
        label = form_name(r.extra["to_form"])
        figs.append(charts.its_chart(
            r.extra["series"], r.extra["month"],
            f"{_comm_name(ctx, r.extra['commissioner_code'])}: first attendances per referral "
            "around the switch to "
            f"{label}", source_line(ctx),
            "First attendances per GP referral (ratio)",
            alt=f"Interrupted time series for {_comm_name(ctx, r.extra['commissioner_code'])}: "
                "first attendances "
                "per referral by month, the fitted model and what the model expects without "
                "the switch.", watermark=watermark(ctx)))
    return figs


def its_note(ctx: Context, an: Analysis) -> str:
    n = len([r for r in an.its if r.extra["outcome"] == "firsts"])
    if not n:
        who = ("This commissioner" if _rule(ctx, "switch_its").kind == levels.SHOWN else
               owner_name(ctx, "switch_its"))
        # the England comparison is pointed to only where the page shows one above
        return (f"{who} did not change contract form in the period; the England "
                "comparison above shows what switching did elsewhere." if an.did else
                f"{who} did not change contract form in the period.")
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
    if _rule(ctx, "activity_value").kind == levels.PARENT:   # the commissioner's contract
        line = (f"{ctx.where.commissioner_name}'s {formats.year(an.year)} activity "
                f"{formats.money(an.base.value)}; {what} from this {ctx.level} ")
    if an.area_suppressed:
        return line + "is not shown: the area's referrals that year are too few to publish"
    if an.no_referrals:
        why = NONE_RECORDED if open_in_year(ctx, an.year) else "closed, or not yet open"
        return (line.split(f"; {what}")[0] + f"; this {ctx.level} made no GP referrals that "
                f"year ({why}), so a change in its referrals changes nothing")
    cur = an.current_form
    if cur not in contracts.FORM_LABELS:
        lo, hi = sorted([float(by_form.min()), float(by_form.max())])
        return (line + f"is worth {_money_or_nothing(an, lo)} to {_money_or_nothing(an, hi)}"
                " a year, depending on the form")       # as the page's prose words it
    form = form_name(cur)
    if np.isnan(saving) or abs(saving) < 0.5:
        return line + f"saves nothing under its current form, {form}"
    verb = "saves" if saving > 0 else "costs"
    return line + f"{verb} {formats.money(abs(saving))} a year under its current form, {form}"
