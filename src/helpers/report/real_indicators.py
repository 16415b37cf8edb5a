"""Real indicators (notebook 04): published practice-level figures for an area, in words,
tables and charts.

Wording, tables and charts of :mod:`helpers.analysis.real_indicators`. Every figure on
this page is real published data, so areas are named by their real names and codes; every
chart's source line names the publisher, the indicator and its period, and says REAL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import formats, levels
from helpers.analysis.areas import area_table
from helpers.analysis.context import Context
from helpers.analysis.real_indicators import LIMIT, OVERDISPERSION, RealIndicators
from helpers.report import charts, text
from helpers.report.tables import Col, table

NB = "04_real_indicators"
NO_DATA = ("This dataset holds no published practice indicators (the `indicators` table), so "
           "there are no real findings to report here.")
LEVEL_WORDS = {"england": "England", "commissioner": "commissioner (ICB)",
               "network": "primary care network", "practice": "practice"}
VERDICT_WORDS = {"higher": "higher than England", "lower": "lower than England",
                 "similar": "similar to England", "England": "England",
                 "not shown": "not shown (count suppressed)",
                 "no row": "not in the published file"}


def omitted_why(ctx: Context, section: str) -> str | None:
    """The sentence shown in place of a section the level omits (None if shown)."""
    r = levels.rule(NB, section, ctx.level)
    return r.why if r.kind == levels.OMITTED else None


def _name(ctx: Context) -> str:
    return "England" if ctx.is_england else f"{ctx.where.name} ({ctx.where.code})"


def header_md(ctx: Context) -> str:
    """The line under the title: the area by its real name and code, its parents, REAL."""
    w = ctx.where
    area = text.md(_name(ctx))
    if ctx.level in ("network", "practice"):
        area += f", {LEVEL_WORDS[ctx.level]} in {text.md(w.commissioner_name)}"
    if ctx.level == "practice" and w.network:
        area += f", network {text.md(w.network_name or w.network)} ({text.md(w.network)})"
    parts = [f"**Area:** {area}",
             "**Data:** `REAL: published NHS data (Fingertips, QOF)`"]
    if ctx.publish:
        parts.append(f"**Publish mode:** {formats.PUBLISH_RULE}")
    return " · ".join(parts)


def source_line(ctx: Context, ri: RealIndicators, iid: str | None = None) -> str:
    """A chart's source line: REAL, the publisher and period of its indicator(s)."""
    rows = ri.indicators if iid is None else ri.indicators[ri.indicators["indicator_id"] == iid]
    what = "; ".join(dict.fromkeys(f"{s.split(',')[0]}, {p}" for s, p in
                                   zip(rows["source"], rows["period"], strict=True)))
    return f"REAL published data: {what}; dataset {ctx.ds.content_hash}"


def _rate(r, value: float | None = None) -> str:
    """A value in its indicator's unit: '984.9 per 1,000 …' or '7.8% …'."""
    v = r["value"] if value is None else value
    if not np.isfinite(v):
        return "not shown"
    if r["measure"] == "proportion":
        return f"{v:.1f}%"
    return f"{v:,.1f} {r['unit']}"


def _interval(r) -> str:
    if not (np.isfinite(r["lower95"]) and np.isfinite(r["upper95"])):
        return ""
    d = formats.decimals_to_separate(r["lower95"], r["upper95"], 1)
    unit = "%" if r["measure"] == "proportion" else ""
    return f"95% CI {r['lower95']:,.{d}f}{unit} to {r['upper95']:,.{d}f}{unit}"


def data_statement(ctx: Context, ri: RealIndicators) -> str:
    """What the figures are and where they come from, with their true periods ('' where
    the data hold none: the headline says so)."""
    if not ri.has_data:
        return ""
    lines = []
    for _, r in ri.indicators.iterrows():
        lines.append(f"- **{text.md(r['indicator_name'])}**, {text.md(r['period'])}: "
                     f"{text.md(r['unit'])}; source {text.md(r['source'])}.")
    return ("**Every figure on this page is real, published NHS data** for the period "
            "stated, not a simulation, so areas are named by their real names.\n\n"
            + "\n".join(lines) + "\n\nRates are computed from the published counts with "
            "the pack's own methods (exact Poisson or Byar 95% intervals for rates, Wilson "
            "for registers, as Fingertips). Fingertips publishes A&E counts rounded to the "
            "nearest 5 (its own intervals use the count before rounding, so they can differ "
            "from these in the first decimal); registers are exact QOF counts. England here "
            "is the sum over England's practices in the file.")


def headline_text(ctx: Context, ri: RealIndicators) -> str:
    """Plain English for a board: the A&E rate, where the area stands, the uncertainty."""
    if not ri.has_data:
        return NO_DATA
    r = ri.indicators.iloc[0]
    who = "England's practices" if ctx.is_england else text.md(ctx.where.name)
    if r["verdict"] == "no row":
        return (f"- {who} has no row in the published {text.md(r['indicator_name'])} "
                f"figures for {text.md(r['period'])} (it had closed by then, or the "
                "publisher did not list it).")
    ended = ""
    if ri.ended is not None:
        ended = (f"- {who} ended in {ri.ended:%B %Y}, when its last member practice left "
                 "it: its figures for any later period are those of the practices that "
                 "were its members, not of a network that existed then.")
    if not np.isfinite(r["value"]):
        return "\n".join(x for x in (
            ended, f"- {who}: the {text.md(r['indicator_name'])} count is not shown "
            "(suppressed by the publisher or in publish mode).") if x)
    out = [ended] if ended else []
    out += [f"- **{text.md(r['indicator_name'])}, {text.md(r['period'])}**: {who} had "
           f"**{formats.count(r['count'])} attendances** among {formats.count(r['denominator'])} registered children "
           f"aged 0–4, a rate of **{_rate(r)}** ({_interval(r)})."]
    if not ctx.is_england:
        out.append(f"- That is **{VERDICT_WORDS[r['verdict']]}** ({r['england']:,.1f}): "
                   + ("the 95% interval lies wholly above England's rate."
                      if r["verdict"] == "higher" else
                      "the 95% interval lies wholly below England's rate."
                      if r["verdict"] == "lower" else
                      "the 95% interval includes England's rate, so the difference could "
                      "be chance." if r["verdict"] == "similar" else ""))
        if np.isfinite(r["percentile"]):
            out.append(f"- Its rate is higher than that of {r['percentile']:.0f}% of "
                       "England's practices.")
    else:
        out.append(f"- Practices range widely: the middle half from {r['p25']:,.0f} to "
                   f"{r['p75']:,.0f}, the middle 90% from {r['p5']:,.0f} to "
                   f"{r['p95']:,.0f} per 1,000.")
    if ctx.level != "practice":
        hi, lo = int(r["n_high"]), int(r["n_low"])
        beyond = "No practice is beyond" if hi + lo == 0 else \
            f"{formats.capital(text.how_many(hi, 'practice'))} above and {lo} below"
        out.append(f"- {beyond} the {LIMIT:g}% funnel limits on "
                   f"{text.md(r['indicator_name'])} (allowing for "
                   "real differences between practices beyond chance).")
    else:
        out.append(f"- Against England's funnel: {_flag_words(r.get('flag', ''))}.")
    return "\n".join(out)


def _flag_words(flag: object) -> str:
    """A practice's place on England's funnel in words ('No row': not in the file)."""
    if not isinstance(flag, str) or flag == "No row":
        return "not on the funnel (it has no row in the published file)"
    if not flag or flag == "Not shown":
        return "not placed (no published count)"
    if flag == "Within limits":
        return f"within the {LIMIT:g}% limits, so not an outlier"
    side = "above" if flag.startswith("High") else "below"
    level = flag[flag.find("(") + 1:flag.find(")")]
    beyond = f"beyond the {LIMIT:g}% limit, an outlier" if level == "99.8%" else \
        f"beyond the 95% limit but within the {LIMIT:g}% limit, not an outlier"
    return f"{side} the limits: {beyond}"


def values_table(ctx: Context, ri: RealIndicators):
    """Every indicator for the area: count, denominator, value with interval, England,
    comparison and where it stands."""
    if not ri.has_data:
        return None
    d = ri.indicators.copy()
    d["value_txt"] = [_rate(r).replace(f" {r['unit']}", "") for _, r in d.iterrows()]
    d["ci"] = [_interval(r).replace("95% CI ", "") for _, r in d.iterrows()]
    d["eng"] = [_rate(r, r["england"]).replace(f" {r['unit']}", "") for _, r in d.iterrows()]
    d["cmp"] = d["verdict"].map(VERDICT_WORDS)
    cols = [Col("indicator_name", "Indicator"), Col("period", "Period"),
            Col("unit", "Unit"), Col("count", "Count", "count"),
            Col("denominator", "Denominator (people)", "count"),
            Col("value_txt", "Value"), Col("ci", "95% interval"),
            Col("eng", "England's practices")]
    if not ctx.is_england:
        cols += [Col("cmp", "Compared with England"),
                 Col("percentile", "Higher than % of England's practices", "pct")]
    return table(d, cols, caption=f"Real indicators, {_name(ctx)}")


def standing_text(ctx: Context, ri: RealIndicators) -> str:
    """Where the area stands among areas of its level (rank) or England's practices."""
    if not ri.has_data:
        return ""
    skip = omitted_why(ctx, "standing")
    if skip:
        return skip
    out = []
    for _, r in ri.indicators.iterrows():
        if ctx.level in ("commissioner", "network") and r["of"]:
            kind = "ICBs" if ctx.level == "commissioner" else "networks"
            # rank 0: not among the ranked areas (a network with no current member)
            where = (f"ranked {int(r['rank']):,} of {int(r['of']):,} {kind} (1 = highest)"
                     if int(r["rank"]) > 0 else
                     f"not ranked among England's {int(r['of']):,} {kind}, which are "
                     "ranked by their current member practices (it has none)")
            out.append(f"- {text.md(r['indicator_name'])}: {_rate(r)}, {where}; "
                       f"{VERDICT_WORDS[r['verdict']]}.")
        elif ctx.level == "practice":
            extra = "; ".join(f"{lab} {_rate(r, r[k])}" for k, lab in
                              (("network", "its network"), ("similar", "its 10 most "
                               "similar practices"), ("commissioner", "its ICB"))
                              if np.isfinite(r.get(k, np.nan)))
            out.append(f"- {text.md(r['indicator_name'])}: {_rate(r)}, "
                       f"{VERDICT_WORDS[r['verdict']]}" + (f" ({extra})" if extra else "")
                       + ".")
    if ctx.level in ("commissioner", "network") and out:
        out.append("\nAn area this large has a narrow interval, so it is rarely 'similar' to "
                   "England; how far its practices spread is in the funnel below, where the "
                   "limits allow for the real differences between practices.")
    return "\n".join(out)


def _spine_rows(ri: RealIndicators) -> pd.DataFrame:
    d = ri.indicators
    e = d["england"].to_numpy(float)
    out = pd.DataFrame({"indicator": [f"{n}, {p}" for n, p in
                                      zip(d["indicator_name"], d["period"], strict=True)]})
    for c in ("p5", "p25", "p75", "p95", "network", "similar", "commissioner"):
        out[c] = d[c].to_numpy(float) / e
    out["ratio"] = d["value"].to_numpy(float) / e
    out["verdict"] = d["verdict"].replace({"not shown": "no test", "no row": "no test"}
                                          ).to_numpy()
    out["expected"] = d["denominator"].to_numpy(float) * e / d["multiplier"].to_numpy(float)
    return out


def spine_chart(ctx: Context, ri: RealIndicators):
    """The area's indicators against England's practices (ratio to England's value)."""
    if not ri.has_data or omitted_why(ctx, "spine"):
        return None
    rows = _spine_rows(ri)
    if not np.isfinite(rows["ratio"].to_numpy(float)).any():     # nothing of its own
        return None
    label = {"commissioner": "This ICB", "network": "This network",
             "practice": "This practice"}[ctx.level]
    return charts.spine_chart(
        rows, f"Real indicators against England's practices, {ctx.where.name}",
        source_line(ctx, ri), alt=f"Spine chart of {len(rows)} real indicators for "
        f"{ctx.where.name}, each as a ratio to England's value, against the spread of "
        "England's practices.", area_label=label,
        xlabel="Ratio to England's value (log scale; England = 1)")


def instead(ctx: Context, ri: RealIndicators, section: str) -> str:
    """What a page says in place of a section's chart: why its level leaves it out, or
    that too few practices have a published count; nothing where the data hold no
    indicators (the headline has said so)."""
    if not ri.has_data:
        return ""
    if section == "spine" and not omitted_why(ctx, section) and \
            not np.isfinite(ri.indicators["value"].to_numpy(float)).any():
        return ("There is no published figure for this area to set against England's "
                "practices.")
    return omitted_why(ctx, section) or ("Too few practices with a published count to "
                                         "draw it." if section == "funnel" else "")


def funnel_chart(ctx: Context, ri: RealIndicators):
    """The A&E indicator's funnel: practices' rates (as ratios to England) against their
    registered children aged 0-4, with over-dispersed 95% and 99.8% limits."""
    if not ri.has_data:
        return None
    r = ri.indicators.iloc[0]
    iid, e = r["indicator_id"], float(r["england"])
    pts = ri.england_points
    pts = pts[(pts["indicator_id"] == iid) & pts["shown"]]
    w = ctx.where
    if ctx.level in ("commissioner", "network"):
        pts = pts[pts["practice_code"].isin(ctx.practice_codes)]
        scope = f"{w.name}'s practices"
    elif ctx.level == "practice":
        pts = pts[pts["commissioner_code"] == w.commissioner]
        scope = f"practices in {w.commissioner_name}"
    else:
        scope = "England's practices"
    if len(pts) < 2 and ctx.level != "practice":
        return None
    # every practice drawn by its name (a practice's page draws its commissioner's, not
    # only itself: the others were labelled 'M82002 (M82002)')
    names = area_table(ctx.ds).set_index("code")["name"]
    p = pd.DataFrame({"denominator": pts["denominator"].to_numpy(float),
                      "rr": pts["value"].to_numpy(float) / e,
                      "flag": np.where(~pts["outlier"], "Within",
                                       np.where(pts["flag"].str.startswith("High"), "High",
                                                "Low")),
                      "per_unit": pts["denominator"].to_numpy(float) * e / r["multiplier"],
                      "name": [f"{names[c]} ({c})" if c in names.index else str(c)
                               for c in pts["practice_code"]]},
                     index=pts.index)
    c = ri.curves[ri.curves["indicator_id"] == iid]
    curve = c.assign(**{k: c[k] / e for k in ("lcl95", "ucl95", "lcl99", "ucl99")})
    hi = pts["practice_code"] == w.code if ctx.level == "practice" else None
    return charts.funnel_chart(
        p, curve, f"{r['indicator_name']}, {r['period']}: {scope} against England",
        source_line(ctx, ri, iid),
        alt=f"Funnel plot of {text.plural(len(p), 'practice')}: A&E attendance rates of "
            f"children aged 0–4 as ratios to England's {e:,.1f} per 1,000, against "
            f"registered children aged 0–4, with {OVERDISPERSION} over-dispersed limits.",
        limit=f"{LIMIT:g}", labels=p["name"],
        xlabel="Registered children aged 0–4 (count, log scale)",
        ylabel="Rate ratio to England (England = 1)", highlight=hi)


def funnel_text(ctx: Context, ri: RealIndicators) -> str:
    if not ri.has_data:
        return ""
    r = ri.indicators.iloc[0]
    out = (f"Each dot is a practice; the lines are the 95% and {LIMIT:g}% limits within "
           "which a practice's rate would fall if it differed from England's only by chance "
           "and by the ordinary real spread between practices (over-dispersion, "
           f"φ = {r['phi']:.1f}). A ratio of 1.2 is a rate 20% above England's "
           f"{r['england']:,.1f} per 1,000.")
    if ctx.level == "practice":
        out += f" This practice is {_flag_words(r.get('flag', ''))}."
    return out


def outliers_table(ctx: Context, ri: RealIndicators):
    """The area's practices beyond the 99.8% limits, by indicator (England: A&E only)."""
    if not ri.has_data:
        return None
    skip = omitted_why(ctx, "outliers")
    if skip:
        return skip
    o = ri.outliers
    if ctx.is_england:
        o = o[o["indicator_id"] == ri.indicators["indicator_id"].iloc[0]]
    if o.empty:
        return (f"No practice in {_name(ctx)} lies beyond the {LIMIT:g}% funnel limits on "
                "any indicator.")
    o = o.assign(side=np.where(o["flag"].str.startswith("High"), "above", "below"),
                 ratio=o["value"] / o["england"]).sort_values(["indicator_id", "ratio"])
    cols = [Col("indicator_name", "Indicator"), Col("name", "Practice"),
            Col("practice_code", "Code"), Col("count", "Count", "count"),
            Col("denominator", "Denominator (people)", "count"),
            Col("value", "Value", "number", 1), Col("england", "England", "number", 1),
            Col("side", f"Beyond the {LIMIT:g}% limit")]
    return table(o, cols, caption=f"Practices beyond the {LIMIT:g}% funnel limits, "
                 f"{_name(ctx)}" + (" (A&E attendances aged 0–4)" if ctx.is_england else ""))


def size_chart(ctx: Context, ri: RealIndicators):
    """England's A&E rate by practice list-size fifth, with 95% intervals."""
    if not ri.has_data or ri.sizes.empty:
        return None
    r = ri.indicators.iloc[0]
    s = ri.sizes[ri.sizes["indicator_id"] == r["indicator_id"]]
    if s.empty:
        return None
    labels = [f"{int(a):,}–{int(b):,} patients" for a, b in
              zip(s["list_min"], s["list_max"], strict=True)]
    return charts.interval_chart(
        labels, s["value"], s["lower95"], s["upper95"],
        f"{r['indicator_name']} by practice size, England, {r['period']}",
        f"Attendances {r['unit']}", "Practice list size (fifths of England's practices)",
        source_line(ctx, ri, r["indicator_id"]),
        alt=f"A&E attendance rates of children aged 0–4 for each fifth of England's "
            f"practices by list size, from {s['value'].iloc[0]:,.0f} in the smallest to "
            f"{s['value'].iloc[-1]:,.0f} per 1,000 in the largest.",
        reference=float(r["england"]))


def size_text(ctx: Context, ri: RealIndicators) -> str:
    if not ri.has_data or ri.sizes.empty:
        return ""
    r = ri.indicators.iloc[0]
    s = ri.sizes[ri.sizes["indicator_id"] == r["indicator_id"]]
    if s.empty:
        return ""
    trend = "fall" if s["value"].iloc[-1] < s["value"].iloc[0] else "rise"
    return (f"Across England, A&E attendance rates of children aged 0–4 {trend} with "
            f"practice size: {s['value'].iloc[0]:,.0f} per 1,000 in the smallest fifth of "
            f"practices, {s['value'].iloc[-1]:,.0f} in the largest. Size goes with other "
            "differences (urban or rural, deprivation, distance to an A&E), so this is an "
            "association, not an effect of size.")


def results(ctx: Context, ri: RealIndicators) -> dict:
    """The results file: the headline and every indicator's figures for the area."""
    from helpers.analysis.real_indicators import headline

    h = headline(ctx, ri)
    if not ri.has_data:
        return {"headline": h, "indicators": [], "summary": "no published indicators"}
    keep = ["indicator_id", "indicator_name", "period", "unit", "source", "count",
            "denominator", "value", "lower95", "upper95", "england", "verdict",
            "percentile", "rank", "of", "n_high", "n_low"]
    r = ri.indicators.iloc[0]
    # the index's line: no '0-4' in it (read as a number, it would be -4)
    summary = (f"REAL: A&E attendances of under-fives, {r['period']}: "
               f"{r['value']:,.1f} per 1,000, {VERDICT_WORDS[r['verdict']]}"
               if np.isfinite(r["value"]) else "REAL: A&E attendances of under-fives not shown")
    return {"headline": h, "indicators": ri.indicators[keep].to_dict("records"),
            "summary": summary}
