"""The federation-scale report (notebook 02), section by section: local findings first,
England-wide estimates labelled as context; wording, tables and charts of
:mod:`helpers.analysis.federation_scale`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import formats, levels
from helpers.analysis import scale
from helpers.analysis.context import Context
from helpers.analysis.contract_forms import closed_on
from helpers.analysis.federation_scale import (
    BAND_ORDER,
    JOINING_CHECK,
    Analysis,
    failed_checks,
)
from helpers.estimate import Estimate
from helpers.report import charts, text
from helpers.report.page import area_md, coverage_text, source_line, watermark
from helpers.report.tables import Col, table


def _pct(x: float) -> float:
    return formats.log_to_pct(x)


def _rule(ctx: Context, section: str) -> levels.Rule:
    """The section's declared rule at the page's level (:mod:`helpers.levels`;
    :meth:`Context.rule`)."""
    return ctx.rule(section)


def _shows(ctx: Context, section: str) -> bool:
    """True where the section appears at the page's level."""
    return _rule(ctx, section).kind != levels.OMITTED


def _why_omitted(ctx: Context, section: str) -> str | None:
    """The one sentence shown in place of a section left out at this level, else None."""
    r = _rule(ctx, section)
    return r.why if r.kind == levels.OMITTED else None


def groups_sentence(ctx: Context, an: Analysis) -> str:
    """How many of the area's practices are in the groups its table lists (each counted
    once, in its latest group: the table's column adds to it), how many of its practices
    are in none, and the share by group size."""
    n = len(ctx.practice_codes)
    grouped = int(an.networks["practices"].sum())
    med = float(an.networks["practices"].median())
    bs = an.band_shares.set_index("band")
    k = an.n_ungrouped
    rest = ("; none of its practices is outside a group" if k == 0 else
            f"; the other {k:,} of its {text.plural(n, 'practice')} "
            f"{'is' if k == 1 else 'are'} in no group")
    # the median of an even number of groups can fall between two sizes (2 and 3: 2.5)
    med_txt = f"{med:.0f}" if med == int(med) else f"{med:.1f}"
    return (f"**{text.plural(grouped, 'practice')}** in {area_md(ctx)} "
            f"{'belongs' if grouped == 1 else 'belong'} to "
            f"**{text.plural(len(an.networks), 'group')}** (median {med_txt} "
            f"{'practice' if med == 1 else 'practices'} each){rest}. "
            f"{bs.loc['5-8', 'area']:.0f}% of the practices are in groups of 5–8 "
            f"(England {bs.loc['5-8', 'england']:.0f}%), {bs.loc['1', 'area']:.0f}% in no "
            "group or on their own in one.")


def _summary_groups(ctx: Context, an: Analysis) -> str:
    """The index line's count of practices and groups, as the headline words it."""
    n, g = len(ctx.practice_codes), len(an.networks)
    grouped = int(an.networks["practices"].sum()) if g else 0
    if grouped == n:
        return f"{text.plural(n, 'practice')} in {text.plural(g, 'group')}"
    return (f"{text.plural(grouped, 'practice')} in {text.plural(g, 'group')}, "
            f"{n - grouped:,} in none")


def _outcome_words(y: str) -> str:
    label = scale.OUTCOMES[y][0]
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def out_of_range_text(ctx: Context, an: Analysis) -> str:
    """The area's practices whose list lies outside the list sizes England's size curves
    cover (2nd to 98th percentile): a practice of one of those sizes is not on the curve,
    so it is left out of the comparison and said so, in one line ('' when none is)."""
    o = an.out_of_range
    if o is None or o.empty:
        return ""
    groups = list(o.groupby(["curve_low", "curve_high"], sort=False))
    if len(ctx.practice_codes) == 1:          # the page's own practice
        r = o.iloc[0]
        lo, hi = r.curve_low, r.curve_high
        side = "below the smallest" if r.registered_patients < lo else "above the largest"
        what = text.and_list([_outcome_words(y) for y in dict.fromkeys(o["outcome"])])
        cover = (f"({ctx.count(round(lo))} to {ctx.count(round(hi))} patients, England's "
                 "2nd to 98th percentile)" if len(groups) == 1 else
                 "(England's 2nd to 98th percentile of list size)")
        return (f"- {area_md(ctx)} had {ctx.count(r.registered_patients)} patients in "
                f"{formats.year(int(r.year))}, {side} list England's size curves cover "
                f"{cover}, so it is outside the curves' range and not compared with "
                f"England's practices of its size ({what}).")
    if len(groups) == 1:
        (lo, hi), d = groups[0]
        k = d["practice_code"].nunique()
        what = text.and_list([_outcome_words(y) for y in dict.fromkeys(d["outcome"])])
        return (f"- {text.plural(k, 'practice')} of {area_md(ctx)} "
                f"{'has' if k == 1 else 'have'} a list outside the sizes England's size "
                f"curves cover ({ctx.count(round(lo))} to {ctx.count(round(hi))} patients, "
                f"England's 2nd to 98th percentile), so {'it is' if k == 1 else 'they are'} "
                f"left out of the area's comparison ({what}).")
    parts = [f"{text.plural(d['practice_code'].nunique(), 'practice')} for "
             f"{text.and_list([_outcome_words(y) for y in dict.fromkeys(d['outcome'])])} "
             f"({ctx.count(round(lo))} to {ctx.count(round(hi))} patients)"
             for (lo, hi), d in groups]
    return (f"- Practices of {area_md(ctx)} with a list outside the sizes England's size "
            "curves cover (each curve spans England's 2nd to 98th percentile of list size) "
            f"are left out of the area's comparison: {text.and_list(parts)}.")



def curves_intro(ctx: Context, an: Analysis) -> str:
    """What the size-curve section shows at this level, in words that match it: the
    per-practice comparison is described only where the page shows it."""
    out = ("Each chart shows one outcome against practice list size. The line is England's "
           "curve in the latest year for a practice of average deprivation and the most "
           "common rurality, with its 95% band, over the list sizes of England's 2nd to "
           "98th percentile of practices; the dots are ")
    if ctx.is_england:
        out += "a sample of England's practices in that year."
    elif len(ctx.practice_codes) == 1:
        out += ("the practice in its latest year. A dot above the line means it has more of "
                "that outcome than England's practices of the same size.")
    else:
        out += (f"{area_md(ctx)}'s practices in that year. Dots mostly above the line mean "
                "they have more of that outcome than England's practices of the same size.")
    if _rule(ctx, "profile").kind != levels.OMITTED:
        out = ("The profile first sets each of the practice's outcomes against the spread of "
               "England's practices in the same year. " + out)
    why = _why_omitted(ctx, "size_gaps")
    if why:
        return out + " " + why
    if an.gaps.empty and len(ctx.practice_codes) == 1 and an.out_of_range is not None \
            and len(an.out_of_range):
        return out + (" Its list lies outside the curves' range of list sizes (see the "
                      "headline), so it is not compared with England's practices of its "
                      "size.")
    if an.gaps.empty:
        return out + (" None of the area's practices has a measured outcome within the "
                      "curves' range of list sizes, so there is no comparison with England "
                      "at the same size.")
    n = int(an.gaps["n"].max())
    each = ("Each practice is" if n > 1 else "The practice is")
    return out + (f" The percentages in the headline and the table below go one step further. "
                  f"{each} compared with England's prediction for its own size, "
                  "deprivation and rurality" +
                  (": the area's figure is their mean, with a 95% interval where there are "
                   "three or more practices." if n > 1 else "."))


def describe_elasticity(e: dict, label: str) -> str:
    """Plain-English reading of a size elasticity (log outcome on log list size): the change
    for a 10% larger list, (1.1^b − 1) × 100 %, with its 95% interval written with enough
    decimals that its ends differ, and whether it is economies, diseconomies or no clear
    effect."""
    b, lo, hi = e["elasticity"], e["lower"], e["upper"]
    if lo <= 0 <= hi:
        verdict = "no clear effect of size"
    elif b < 0:
        verdict = "lower in larger practices"
    else:
        verdict = "higher in larger practices"
    size = "small" if abs(b) < 0.1 else "material"
    per10 = [(1.1 ** v - 1) * 100 for v in (b, lo, hi)]
    return (f"{label}: {verdict} — a 10% larger list goes with "
            f"{formats.pct_interval(*per10)}; a {size} effect.")


def group_case(ctx: Context, an: Analysis) -> str:
    """How the page words the area's grouping, decided once: ``"member"`` (a practice in a
    group: its network's figures), ``"alone"`` (a practice in no group), ``"group"`` (a
    network: one group) or ``"groups"`` (a commissioner or England: the groups it holds)."""
    if ctx.level == "practice":
        return "member" if len(an.networks) else "alone"
    return "group" if ctx.level == "network" and len(an.networks) else "groups"


def _own_group_size(ctx: Context, an: Analysis) -> int | None:
    """The size of the area's own group as the page states it (a practice's network, or
    the network itself); None for larger areas or a practice in no group."""
    if group_case(ctx, an) not in ("member", "group"):
        return None
    return int(an.networks["group_practices"].max())


def _closed_note(an: Analysis, r) -> str:
    """', k of them closed before <latest year>' for a group whose members include
    practices closed before the year its table and gaps show ('' when none closed)."""
    k = int(r.get("closed", 0) or 0)
    if not k:
        return ""
    year = formats.year(int(an.national_panel["year"].max()))
    return f", {k} of them closed before {year}"


def headline_text(ctx: Context, an: Analysis) -> str:
    """Local findings first, then England-wide context."""
    lines = []
    n = len(ctx.practice_codes)
    case = group_case(ctx, an)
    if case == "member":
        r = an.networks.iloc[0]
        size = int(r["group_practices"])
        if size == 1:
            lines.append(f"- {area_md(ctx)} is the only practice in **{text.md(r['name'])}**: "
                         "the network is this practice alone, with no other practice to "
                         "share staff or services with.")
        else:
            share = an.band_shares.set_index("band").loc[r["band"], "england"]
            verb = "belonged" if closed_on(ctx) is not None else "belongs"
            lines.append(f"- {area_md(ctx)} {verb} to **{text.md(r['name'])}**, a group of "
                         f"{text.plural(size, 'practice')}{_closed_note(an, r)} "
                         f"({share:.0f}% of England's "
                         f"practices are in groups of {formats.size_band(r['band'])}).")
    elif case == "alone":
        was = "was" if closed_on(ctx) is not None else "is"
        lines.append(f"- {area_md(ctx)} {was} not in a group.")
    elif case == "group":
        size = int(an.networks["group_practices"].max())
        if size == 1:
            lines.append(f"- {area_md(ctx)} has one practice, so it is not a group of "
                         "practices working at scale.")
        else:
            r = an.networks.sort_values("group_practices").iloc[-1]
            share = an.band_shares.set_index("band").loc[r["band"], "england"]
            lines.append(f"- {area_md(ctx)} is a group of {text.plural(size, 'practice')}"
                         f"{_closed_note(an, r)} ({share:.0f}% of England's practices are in "
                         "groups of "
                         f"{formats.size_band(r['band'])}).")
    elif len(an.networks):
        lines.append("- " + groups_sentence(ctx, an))
    singles: dict[tuple[int, int], list[str]] = {}   # one or two practices: no interval
    gaps = an.gaps if _shows(ctx, "size_gaps") else an.gaps.iloc[:0]
    for g in gaps.itertuples():
        label = scale.OUTCOMES[g.outcome][0]
        if g.outcome == "srr" and ctx.synthetic_on_real:   # said where it stands
            label += " (synthetic)"
        est, lo, hi = _pct(g.gap), _pct(g.lower), _pct(g.upper)
        if g.n < 3:
            singles.setdefault((int(g.year), int(g.n)), []).append(
                f"{label[0].lower() + label[1:] if not label[:2].isupper() else label} "
                f"**{abs(est):.1f}% {'above' if est > 0 else 'below'}**")
            continue
        clear = lo > 0 or hi < 0
        verdict = (f"**{abs(est):.1f}% {'higher' if est > 0 else 'lower'}** than England's "
                   "practices of the same size and case-mix" if clear else
                   "**in line with** England's practices of the same size and case-mix")
        note = " Referrals here are synthetic: an illustration, not a finding." \
            if g.outcome == "srr" and ctx.synthetic_on_real else ""
        lines.append(f"- {label}: the area's practices are {verdict}: "
                     f"{formats.pct_interval(est, lo, hi)}, "
                     f"{text.plural(g.n, 'practice')}, {formats.year(g.year)}.{note}")
    for (year, k), parts in singles.items():
        # read beside the next area up that the page names: a network's commissioner, a
        # practice's network, or (a practice in no group) its commissioner
        # (a practice alone in its network: the network is the practice, so its commissioner)
        alone_in_network = case == "member" and int(an.networks["group_practices"].max()) == 1
        beside = "its network" if case == "member" and not alone_in_network else \
            "its commissioner"
        similar = " and its similar practices" if case in ("member", "alone") else ""
        if k == 1:
            lines.append(f"- Against England's curve for a practice of its size and case-mix "
                         f"({formats.year(year)}): {'; '.join(parts)}. One practice, so no "
                         f"interval: read these beside {beside}{similar}.")
        else:
            lines.append(f"- Against England's curves for practices of their sizes and "
                         f"case-mix ({formats.year(year)}), the mean of its "
                         f"{text.plural(k, 'practice')}: {'; '.join(parts)}. Too few "
                         f"practices for an interval: read these beside {beside}.")
    if _shows(ctx, "size_gaps"):
        rng = out_of_range_text(ctx, an)
        if rng:
            lines.append(rng)
    if ctx.is_england:
        lines.append(f"- **{text.plural(n, 'practice')}** in England; the sections below "
                     "compare practices and groups of different sizes.")
    ctx_lines = []
    for r in an.elasticities.itertuples():
        ctx_lines.append(describe_elasticity(r._asdict(), r.label))
    if ctx_lines:
        lines.append("- **England (context): practice size.** " + " ".join(ctx_lines))
    if an.joining:
        lines.append("- **England (context): joining a group.** " + joining_sentence(ctx, an))
        caution = comparison_caution(an.joining.extra["n_control"],
                                     an.joining.extra["n_treated"],
                                     covers_zero=bool(an.primary.covers_zero))
        if caution:
            lines.append(f"- **Caution:** {caution}")
        if len(an.bands):
            lines.append("- **England (context): group size.** " + band_statement(
                an.bands, synthetic=ctx.data_kind != "real"))
    return "\n".join(lines)


def joining_sentence(ctx: Context, an: Analysis) -> str:
    j, tw, prim = an.joining, an.twfe, an.primary
    what = "staggered difference-in-differences" if an.estimator != "twfe" else \
        "two-way fixed effects (as chosen; biased under staggered joining)"
    other = tw if an.estimator != "twfe" else j
    other_name = "the two-way fixed-effects regression most studies use" \
        if an.estimator != "twfe" else "the staggered difference-in-differences estimate"
    what_y = scale.OUTCOMES[ctx.params["outcome"]][0].lower()
    return (f"The {what_y} changed by "
            f"**{formats.pct_interval(_pct(prim.estimate), _pct(prim.lower), _pct(prim.upper))}"
            f"** after joining ({what}; {j.extra['n_treated']:,} joining and "
            f"{j.extra['n_control']:,} comparison practices); {other_name} says "
            f"{formats.pct_change(_pct(other.estimate))}" + twfe_gap_text(j, tw))


def twfe_gap_text(cs: Estimate, tw: Estimate) -> str:
    """Explain a smaller fixed-effects estimate only when the staggered estimate is clear of
    zero and the fixed-effects one is nearer zero; otherwise make no claim."""
    if not cs.covers_zero and abs(tw.estimate) < abs(cs.estimate):
        return ("; with effects that build up after joining, the fixed-effects version "
                "understates them because practices that joined earlier serve as controls.")
    return "."


def comparison_caution(n_control: int, n_treated: int, min_control: int = 100,
                       covers_zero: bool = True) -> str | None:
    """A warning when the joining estimate rests on too few comparison practices. It calls
    the estimate uninformative only when its interval spans no change; an interval clear of
    zero is said to be less reliable than its 95% claims, not wide."""
    if n_control >= min_control:
        return None
    lead = (f"only {text.plural(n_control, 'practice')} never joined a group, against "
            f"{n_treated:,} that did. When almost every practice joins at once (as with "
            "primary care networks in July–October 2019), there is hardly anyone to compare "
            "with")
    if not covers_zero:
        return (lead + ": the interval here is clear of no change, but it rests on so few "
                "comparison practices that it is less reliable than its 95% says; read the "
                "estimate as a sign of direction, not as its size.")
    return (lead + ": the interval is wide and the estimate should be read as "
            "uninformative, not as evidence of an effect or of no effect.")


def band_statement(bands: pd.DataFrame, synthetic: bool = False) -> str:
    """Plain-English comparison of the joining effect by group-size band, claiming a
    'largest' band only when its 95% interval excludes zero and lies wholly below another
    band's (effects on referrals are reductions, so 'largest' means most negative). On
    synthetic data the comparison is said to recover planted effects, not to confirm any
    view about real groups."""
    b = bands.set_index("size_band")
    best = b["att"].idxmin()
    pct = _pct(b.loc[best, "att"])
    caveat = (" The data are synthetic with effects planted by group size: this shows the "
              "method can find such a difference, not that real groups of that size do "
              "better.") if synthetic else ""
    if b.loc[best, "upper"] >= 0:
        lo, hi = _pct(b["att"].min()), _pct(b["att"].max())
        return ("No group size shows a change distinguishable from zero (estimates from "
                f"{formats.pct_change(lo)} to {formats.pct_change(hi)} across sizes)." + caveat)
    separated = (b.drop(best)["lower"] > b.loc[best, "upper"]).any()
    if not separated:
        return (f"Groups of **{formats.size_band(best)} practices** show the largest reduction ({formats.pct_change(pct)}), but "
                "the intervals by group size overlap, so the sizes cannot be told apart."
                + caveat)
    return f"The effect is largest in groups of **{formats.size_band(best)} practices** ({formats.pct_change(pct)})." + caveat


def _flat(words: str) -> str:
    """A period that carries its own brackets, for use inside a header's brackets:
    '2021/22 (the year's average list)' → '2021/22, the year's average list'."""
    return words.replace(" (", ", ").replace(")", "")


def networks_table(ctx: Context, an: Analysis):
    """The area's networks with their size and latest outcomes (the sentence why where the
    page leaves them out: :meth:`Context.rule`)."""
    if why := _why_omitted(ctx, "groups_table"):
        return why
    if an.networks.empty:
        return None
    t = an.networks_published.assign(band=lambda d: d["band"].map(formats.size_band))
    rule = _rule(ctx, "groups_table")
    whole = rule.kind == levels.PARENT or group_case(ctx, an) == "group"   # every member
    year = int(an.national_panel["year"].max())
    fy = formats.year(year)
    cols = [Col("name", "Group"),
            Col("practices", "Practices in the group" if whole else
                "Practices in this area", "orgs"),
            Col("band", "Size band (practices)"),
            *([Col("closed", "Of them closed before the latest year", "orgs")]
              if t["closed"].gt(0).any() else []),
            # each column with its own period: the lists' latest count and the outcomes'
            # latest year need not be one year (2021/22 lists, 2022/23 payments, 2023 FTE)
            Col("combined_list", f"Combined list (patients, {_flat(ctx.latest_list_when)}; "
                f"practices open in {fy})", "count"),
            Col("srr", f"Referral ratio (mean of practices, {fy})", "ratio")]
    if t["payments_per_weighted"].notna().any():
        cols.append(Col("payments_per_weighted",
                        f"Payments per weighted patient (£, median, {fy})", "gbp"))
    if t["gp_fte_per_1000"].notna().any():
        cols.append(Col("gp_fte_per_1000", "GP FTE per 1,000 patients (median, "
                        f"{_flat(ctx.outcome_period('gp_fte_per_1000', year))})", "number"))
    caption = (f"The group {ctx.area_name} belongs to, all its practices, latest year "
               "(the network's figures)" if rule.kind == levels.PARENT else
               f"Groups of practices in {ctx.area_name}, latest year")
    return table(t, cols, caption=caption)


def network_size_figure(ctx: Context, an: Analysis):
    """Share of practices by the size of their group, area against England (at a level
    where the area is one group, the sentence why there is no chart)."""
    if why := _why_omitted(ctx, "group_sizes_chart"):
        return why
    if an.band_shares.empty:
        return None
    s = an.band_shares
    labels = ["No group" if b == "1" else f"{formats.size_band(b)} practices"
              for b in s["band"]]
    if ctx.is_england:
        return charts.bar_chart(
            labels, s["england"], "Practices by the size of their group, England",
            "Share of practices (%)", "Size of the practice's group", source_line(ctx),
            alt="Bar chart of the share of England's practices "
                f"{_in_groups_words([b for b in s['band'] if b != '1'])}.")
    return _shares_chart(ctx, labels, s)


def _shares_chart(ctx: Context, labels: list[str], s: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax._pack_horizontal = True
    y = np.arange(len(labels))[::-1]
    ax.barh(y + 0.18, s["area"], height=0.36, color=charts.NHS_BLUE, label=ctx.area_name)
    ax.barh(y - 0.18, s["england"], height=0.36, color=charts.GREY, label="England")
    ax.set_yticks(y, labels)
    ax.grid(axis="y", visible=False)
    return charts.finish(
        fig, ax, f"Practices by the size of their group, {ctx.area_name} and England",
        "Share of practices (%)", "Size of the practice's group", source_line(ctx),
        alt=f"Paired bar chart of the share of practices "
            f"{_in_groups_words([b for b in s['band'] if b != '1'])}, for "
            f"{ctx.area_name} and for England.")


def size_curve_figure(ctx: Context, an: Analysis, y: str):
    """One outcome against list size: England's adjusted curve with the area's practices."""
    if y == "srr" and (why := _why_omitted(ctx, "size_curves")):   # synthetic, one by one
        return why
    if y not in an.curves:
        return None
    label, unit = scale.OUTCOMES[y]
    curve = an.curves[y]
    if (curve["fit"] <= 0).any():            # an impossible curve is not drawn
        return None
    pts = an.latest[an.latest["outcome"] == y] if len(an.latest) else pd.DataFrame()
    if ctx.is_england and len(pts) > 400:
        pts = pts.sample(400, random_state=1)
    if len(pts):
        # a ratio stems from a count: its expected count is declared to the chart's
        # disclosure read-back
        places = 1 if "%" in unit else 2           # the unit is on the axis
        # each point with its own year: the outcome's latest year, not the latest count
        names = [f"{who}: {formats.number(v, places)}; {ctx.count(x)} patients, "
                 f"{ctx.outcome_period(y, int(yr))}"
                 for who, v, x, yr in zip(ctx.practice_labels(pts["practice_code"]), pts[y],
                                          pts["registered_patients"], pts["year"],
                                          strict=True)]
        pts = pts.rename(columns={"registered_patients": "x", y: "y"}).assign(
            per_unit=pts["expected"] if y == "srr" else np.nan, name=names)
        pts = pts[["x", "y", "per_unit", "name"]] if y == "srr" else pts[["x", "y", "name"]]
    else:
        pts = None
    n = 0 if pts is None else len(pts)
    who = "a sample of 400 England practices" if ctx.is_england and n == 400 else \
        "the practice" if len(ctx.practice_codes) == 1 else \
        f"{text.plural(n, 'practice')} in {ctx.area_name}"
    return charts.curve_chart(
        curve, f"{label} by practice list size, {ctx.area_name}",
        "Registered patients (log scale)", unit, source_line(ctx),
        alt=f"{label} against practice list size: England's curve adjusted for deprivation, "
            f"rurality and year with its 95% band, and {who} as points.",
        points=pts, point_label="Practice (latest year)",
        watermark=watermark(ctx) if y == "srr" else ""      # the other outcomes are real
        if y == "srr" else "")


def gaps_table(ctx: Context, an: Analysis):
    """The area's gap from England's size curves per outcome (None where there is none,
    or at a level where the comparison is left out: the curves' intro says why)."""
    if an.gaps.empty or not _shows(ctx, "size_gaps"):
        return None
    g = an.gaps.assign(label=an.gaps["outcome"].map(lambda y: scale.OUTCOMES[y][0]),
                       pct=_vec_pct(an.gaps["gap"]), lo=_vec_pct(an.gaps["lower"]),
                       hi=_vec_pct(an.gaps["upper"]))
    return table(g, [Col("label", "Outcome"), Col("year", "Year", "year"),
                    Col("n", "Practices", "orgs"),
                    Col("n_outside", "Left out: list outside the curve's sizes", "orgs"),
                    Col("pct", "Against England at the same size", "pct_change"),
                    Col("lo", "95% CI low", "pct_change"), Col("hi", "95% CI high",
                                                                "pct_change")],
                caption=f"{ctx.area_name} against England's adjusted size curves")


def _vec_pct(x: pd.Series) -> pd.Series:
    return (np.exp(x.astype(float)) - 1) * 100


def elasticity_table(an: Analysis):
    t = an.elasticities
    if t.empty:
        return None
    return table(t, [Col("label", "Outcome"),
                    Col("elasticity", "Elasticity to list size", "number", 3),
                    Col("lower", "95% CI low", "number", 3),
                    Col("upper", "95% CI high", "number", 3),
                    Col("n", "Practice-years", "orgs")],
                caption="England: % change in each outcome for a 1% larger list")


def event_study_figure(ctx: Context, an: Analysis):
    if not an.joining:
        return None
    es = an.joining.extra["event_study"].rename(columns={"event_quarter": "event_month"})
    truth = an.truth_att["by_event"] if an.truth_att else None
    yearly = ctx.params["outcome"] != "srr"
    return charts.event_study_chart(
        es.assign(lower=es["band_lower"], upper=es["band_upper"]),
        f"England (context): change in {scale.OUTCOMES[ctx.params['outcome']][0].lower()} "
        "after joining a group", source_line(ctx),
        "Effect (log ratio against comparison practices)",
        alt="Event study: the estimated effect of joining a group by time since joining, "
            "with a simultaneous 95% band; before joining the estimates should sit near zero.",
        xlabel="Years since joining" if yearly else "Quarters since joining",
        truth=truth, watermark=watermark(ctx))


def bands_figure(ctx: Context, an: Analysis):
    if an.bands.empty:
        return None
    b = an.bands.set_index("size_band").reindex([x for x in BAND_ORDER if x in
                                                 set(an.bands["size_band"])])
    truth = None
    if an.truth_att is not None:
        truth = [_pct(an.truth_att["by_band"].get(k, np.nan)) for k in b.index]
    return charts.interval_chart(
        [f"{formats.size_band(k)} practices" for k in b.index], _vec_pct(b["att"]), _vec_pct(b["lower"]),
        _vec_pct(b["upper"]), "England (context): effect of joining by group size",
        "Change after joining (%)", "Practices in the group", source_line(ctx),
        alt="Estimates with 95% intervals of the change after joining a group, for groups "
            f"of {_bands_words(list(b.index))} practices.", truth=truth,
        watermark=watermark(ctx))


def _bands_words(bands: list[str]) -> str:
    """The group-size bands a chart shows, in words: '2–4 and 5–8', '2–4, 5–8 and 9 or
    more' ('' for none)."""
    return text.and_list("9 or more" if k == "9+" else formats.size_band(k) for k in bands)


def _in_groups_words(bands: list[str]) -> str:
    """Where a chart of shares by group size puts practices: 'in no group and in groups of
    2–4 and 5–8 practices', or 'in no group' where the data hold no group."""
    return f"in no group and in groups of {_bands_words(bands)} practices" if bands else \
        "in no group (the data hold no group of practices)"


def joining_table(an: Analysis):
    if not an.joining:
        return None
    rows = [{"what": "Staggered difference-in-differences (Callaway & Sant'Anna)",
             **an.joining.record("att")},
            {"what": "Two-way fixed effects", **an.twfe.record("att")}]
    t = pd.DataFrame(rows)
    t = t.assign(pct=_vec_pct(t["att"]), lo=_vec_pct(t["lower"]), hi=_vec_pct(t["upper"]))
    return table(t, [Col("what", "Estimator"), Col("pct", "Change after joining",
                                                  "pct_change", 2),
                    Col("lo", "95% CI low", "pct_change", 2),
                    Col("hi", "95% CI high", "pct_change", 2)],
                caption="England: the effect of joining a group")


MIN_MERGERS_FOR_INTERVAL = 10
"""Fewest mergers for a bootstrap interval: resampling 2 mergers gives 3 possible means,
not a 95% interval."""


def mergers_text(ctx: Context, an: Analysis) -> str:
    m = an.mergers
    if m is None or not m.n:
        return ("No mergers with a known successor practice and a year of data either side, "
                "so there is nothing to compare.")
    what = scale.OUTCOMES[m.extra.get("outcome", "srr")][0].lower()
    counted = (f"Across England, {text.plural(m.n, 'merger')} with a year of data either "
               "side (a practice closing in the data's last year has no year after it)")
    if m.n < MIN_MERGERS_FOR_INTERVAL:   # a bootstrap over a handful of mergers means little
        return (f"{counted}: the {what} of practices that absorbed another changed by "
                f"**{formats.pct_change(_pct(m.estimate))}** on average relative to "
                "similar-sized practices in the same commissioner, from the year before to "
                f"the year after; too few mergers for an interval (fewer than "
                f"{MIN_MERGERS_FOR_INTERVAL}), so this is a description, not an estimate "
                "(a matched comparison, not a causal design).")
    return (f"{counted}: the {what} of "
            "practices that absorbed another changed by "
            f"**{formats.pct_interval(_pct(m.estimate), _pct(m.lower), _pct(m.upper))}**"
            " relative to similar-sized practices in the same commissioner, from the year "
            "before to the year after (bootstrap interval; a matched comparison, not a "
            "causal design).")


def exclusions_text(an: Analysis) -> str:
    gone = {k: v for k, v in an.excluded.items() if v}
    if not gone:
        return ""
    parts = ", ".join(f"{scale.OUTCOMES[k][0]} {v:,}" for k, v in gone.items())
    return (f"Practice-years left out as implausible (lists under {scale.MIN_LIST:,} "
            f"patients, or values outside plausible ranges): {parts}.")


def validation_table(ctx: Context, an: Analysis):
    """Estimates against the truth recorded with the synthetic data (None for real data):
    every check, and two-way fixed effects marked as the demonstration of its bias."""
    if an.validation is None:
        return None
    v = an.validation.assign(role_text=an.validation["role"].map(
        {"check": "Check", "bias": "Shows the bias (expected to miss)"}))
    return table(v, [Col("quantity", "Quantity"), Col("role_text", "Role"),
                                 Col("truth", "True value", "number", 4),
                                 Col("estimate", "Estimate", "number", 4),
                                 Col("lower", "95% CI low", "number", 4),
                                 Col("upper", "95% CI high", "number", 4),
                                 Col("covered", "True value inside the interval")],
                 caption="Estimates against the effects planted in the synthetic data")


def members_table(ctx: Context, an: Analysis):
    """A network's member practices side by side (elsewhere, the sentence why not)."""
    if why := _why_omitted(ctx, "members"):
        return why
    m = an.members
    if m is None or m.empty:
        return None
    cols = [Col("label", "Practice"), Col("year", "Latest year", "year"),
            Col("registered_patients", "List size (patients, latest count)", "count")]
    if "joined" in m:
        m = m.assign(joined_text=[f"{pd.Timestamp(d):%b %Y}" if pd.notna(d) else "–"
                                  for d in m["joined"]])
        cols.append(Col("joined_text", "Joined"))
    labels = {"srr": ("Referral ratio (observed / expected)", "ratio"),
              "payments_per_weighted": ("Payments per weighted patient (£)", "gbp"),
              "gp_fte_per_1000": ("GP FTE per 1,000 patients", "number"),
              "satisfaction_pct": ("Patient satisfaction (%)", "number", 1)}
    cols += [Col(c, *labels[c]) for c in labels if c in m]
    whose = (f"The only practice of {ctx.area_name} (its latest year" if len(m) == 1 else
             f"The {text.plural(len(m), 'practice')} of {ctx.area_name}, side by side (each "
             "in its latest year")
    return table(m, cols, caption=f"{whose}; – where a list under {scale.MIN_LIST:,} "
                 "patients or an implausible value is left out)")


def profile_figure(ctx: Context, an: Analysis):
    """A practice's outcomes against England's practices, as a spine chart (None at other
    levels or without outcomes; at a level that has no profile, the sentence why)."""
    if why := _why_omitted(ctx, "profile"):
        return why
    p = an.profile
    if p is None or p.empty:
        return None
    years = sorted(set(p["year"]))
    when = formats.year(years[-1]) if len(years) == 1 else "its latest years"
    # on real practices the synthetic row says so itself; a watermark across the chart
    # would mark the real rows (lists, payments, GP FTE) as illustrations too
    mark = watermark(ctx)
    if mark and "outcome" in p:
        p = p.assign(indicator=[f"{i} (synthetic)" if o == "srr" else i
                                for i, o in zip(p["indicator"], p["outcome"], strict=True)])
        mark = ""
    return charts.spine_chart(
        p, f"Outcomes of {ctx.area_name} against England's practices, {when}",
        source_line(ctx),
        alt=f"Spine chart of {text.plural(len(p), 'outcome')} of the practice, each divided "
            "by England's median practice in the same year, against the spread of England's "
            "practices, with its network, its 10 most similar practices and its "
            "commissioner.",
        area_label=ctx.area_name, watermark=mark, centre="England's median practice",
        xlabel="Value against England's median practice (log scale; median = 1)")


def profile_text(ctx: Context, an: Analysis) -> str | None:
    """The profile in words: each outcome's value, where it sits among England's practices,
    and, for the referral ratio, whether it differs beyond chance."""
    p = an.profile
    if p is None or p.empty:
        return None
    parts = []
    for r in p.itertuples():
        unit = scale.OUTCOMES[r.outcome][1]
        places = 1 if "%" in unit else 2
        band = ("in England's top 5%" if r.ratio > r.p95 else "in England's top quarter"
                if r.ratio > r.p75 else "in England's bottom 5%" if r.ratio < r.p5 else
                "in England's bottom quarter" if r.ratio < r.p25 else
                "in the middle half of England's practices")
        if r.verdict == "not shown":
            parts.append(f"- **{r.indicator}**: not shown (its referral count that year is "
                         "too small to publish).")
            continue
        test = ""
        if r.outcome == "srr":
            test = {"higher": "; higher than England's median practice beyond chance",
                    "lower": "; lower than England's median practice beyond chance",
                    "similar": "; not different from England's median practice beyond "
                               "chance"}.get(r.verdict, "")
        parts.append(f"- **{r.indicator}** ({formats.year(r.year)}): "
                     f"{formats.number(r.value, places)} ({unit}), {band}{test}.")
    return ("Each outcome is divided by England's median practice in the same year, so 1 is "
            "the median on every row; the grey bands are England's practices (pale: 5th–95th "
            "percentile; dark: the middle half). Only the referral ratio has a test: "
            "payments, staffing and the survey share are shown against the spread, not "
            "tested.\n\n" + "\n".join(parts))


def validation_text(an: Analysis) -> str:
    """Which planted effects the intervals miss, in words ('' for real data). The joining
    effect and its estimates by group size are one estimator on one comparison group, so
    they are said to miss together; with fewer than 100 comparison practices the text says
    the interval is less reliable than its 95% (a staggered estimate's interval rests on
    the spread of the comparison practices)."""
    if an.validation is None:
        return coverage_text(None)
    v = an.validation
    if "role" in v:                    # the checks; the bias demonstration is worded apart
        v = v[v["role"] == "check"]
    if not an.joining:
        return coverage_text(v)
    n = an.joining.extra.get("n_control", 0)
    together = [q for q in v["quantity"] if q.startswith(JOINING_CHECK)]
    out = coverage_text(v, together, f"the one staggered estimate on the same "
                                     f"{text.plural(n, 'comparison practice')}")
    missed = set(failed_checks(v))
    if missed & set(together) and comparison_caution(n, 0):
        out += (f" With only {text.plural(n, 'practice')} to compare with, the interval "
                "is less reliable than its 95% says (see the caution in the headline): "
                "a miss says the comparison group is too small to pin the effect down.")
    return " ".join(x for x in (out, twfe_bias_text(an)) if x)


def twfe_bias_text(an: Analysis) -> str:
    """Two-way fixed effects judged as what it is: not a check (it is biased under
    staggered joining with effects that build up, as the headline says), so its miss is
    the bias shown, and a cover is said to be luck of this data, not a pass."""
    v = an.validation
    if v is None or "role" not in v or not (v["role"] == "bias").any():
        return ""
    row = v[v["role"] == "bias"]
    r = row.iloc[0]
    gap = _pct(r.estimate) - _pct(r.truth)
    if not bool(r.covered):
        how = (f"its interval misses the planted effect ({formats.pct_change(_pct(r.truth))}"
               f" against its {formats.pct_change(_pct(r.estimate))}), as that bias predicts")
    else:
        how = ("its interval happens to cover the planted effect on this data, which does "
               "not make it unbiased")
    return (f"Two-way fixed effects is not one of these checks: with staggered joining and "
            f"effects that build up, it is biased (see the headline), and the row shows that "
            f"bias: {how}; it is off by {abs(gap):.1f} percentage points.")


def _gap_summary(label: str, g) -> str:
    """One outcome's gap from England's size curve for the index line, with the verdict
    the page's headline gives it: 'in line with' where its 95% interval spans 0 (the
    figure in brackets), the gap where the interval excludes 0, and 'no interval' for one
    or two practices."""
    gap, lo, hi = _pct(g.gap), _pct(g.lower), _pct(g.upper)
    side = f"{abs(gap):.1f}% {'above' if gap >= 0 else 'below'} England at the same size"
    if g.n < 3:
        return f"{label} {side} (no interval)"
    if lo > 0 or hi < 0:
        return f"{label} {side}"
    return f"{label} in line with England at the same size ({formats.pct_change(gap)})"


def results(ctx: Context, an: Analysis) -> dict:
    out = {"elasticities": an.elasticities.drop(columns=["label"], errors="ignore").to_dict(orient="records"),
           "gaps": an.gaps.to_dict(orient="records"),
           "n_groups": int(len(an.networks)), "excluded": an.excluded}
    case = group_case(ctx, an)
    if case in ("member", "alone"):     # its own group, sized as the group's page says
        size = _own_group_size(ctx, an)
        summary = [f"In {ctx.network_name}, a group of {text.plural(size, 'practice')}"
                   if ctx.network_name and size else "In no group"]
    elif case == "group":               # as its headline says
        size = _own_group_size(ctx, an)
        summary = ["One practice, not a group" if size == 1 else
                   f"A group of {text.plural(size, 'practice')}"]
    else:
        summary = [_summary_groups(ctx, an)]
    gaps = an.gaps if _shows(ctx, "size_gaps") else an.gaps.iloc[:0]
    for g in gaps.itertuples():
        summary.append(_gap_summary(scale.OUTCOMES[g.outcome][0], g))
    if an.validation is not None:          # the checks that failed; the TWFE row is not one
        out["validation_failed"] = failed_checks(an.validation)
        bias = an.validation[an.validation["role"] == "bias"]
        if len(bias):
            out["twfe_bias_demonstration"] = {
                "truth": float(bias["truth"].iloc[0]),
                "estimate": float(bias["estimate"].iloc[0]),
                "covered": bool(bias["covered"].iloc[0])}
    if an.joining:
        out["joining"] = {**an.joining.record("att"), "notes": an.joining.extra["notes"]}
        out["twfe"] = an.twfe.record("att")
        out["by_size_band"] = an.bands.to_dict(orient="records")
        out["by_practice_size"] = an.practice_sizes.to_dict(orient="records")
        out["estimator"] = an.estimator
        out["joining_att"] = an.primary.estimate
        summary.append(f"joining a group changed referrals by "
                       f"{formats.pct_change(_pct(an.primary.estimate))} in England")
    m = an.mergers
    out["mergers"] = {"n_mergers": 0 if m is None else m.n,
                      "outcome": ctx.params["outcome"] if m is None else m.extra["outcome"]}
    if m is not None and m.n:
        out["mergers"].update(effect=m.estimate, lower=m.lower, upper=m.upper)
    if an.profile is not None and not an.profile.empty:
        out["profile"] = an.profile.to_dict(orient="records")
    out["summary"] = "; ".join(summary)
    out["facts"] = {}
    size = _own_group_size(ctx, an)
    if size is not None:
        out["facts"]["network_practices"] = size
    return out
