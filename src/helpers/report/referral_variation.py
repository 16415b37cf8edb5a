"""The referral-variation report (notebook 01), section by section: the headline in words,
formatted tables and charts of :mod:`helpers.analysis.referral_variation`."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from helpers import formats, levels
from helpers.analysis.context import Context
from helpers.analysis.referral_variation import (
    DECILE_MIN_EXPECTED,
    MIN_EXPECTED_FOR_RATIO,
    Analysis,
    latest_decile,
    shows,
)
from helpers.disclosure import Marks
from helpers.report import charts, text
from helpers.report.page import area_md, source_line, watermark
from helpers.report.tables import Col, table

COMPARATORS = {"england": "England", "area": "the commissioner's own rates",
               "peer": "practices with similar deprivation"}
SPC_WORDS = {"common_cause": "only common-cause variation (no signal of change)",
             "special_cause_neutral_high": "a special-cause signal: referrals higher than "
                                           "usual",
             "special_cause_neutral_low": "a special-cause signal: referrals lower than usual"}



def _money(x: float) -> str:
    return formats.money(x)


def omitted(ctx: Context, section: str) -> str | None:
    """The one sentence that stands in for ``section`` where the level table leaves it out
    at the page's level (:data:`helpers.levels.TABLES`; :meth:`Context.rule`), else None."""
    r = ctx.rule(section)
    return r.why if r.kind == levels.OMITTED else None


def open_words(ctx: Context, an: Analysis) -> str:
    """' over the 39 months it was open' when the area was open for part of the period (its
    figures a year average over those months: the one exposure, worded as notebook 00
    words it), else ''."""
    months, period = an.extras["area_months"], an.extras["period_months"]
    if months >= period:
        return ""
    who = "it was" if ctx.level == "practice" else "its practices were"
    return f" over the {text.plural(months, 'month')} {who} open"


def standing_line(ctx: Context, an: Analysis, h: dict, what: str) -> str:
    """The headline's first line for an area whose ratio cannot be read as referral
    behaviour (:func:`helpers.analysis.referral_variation.ratio_standing`): no referrals
    recorded, too few expected, or an implausible ratio. No % difference or limit is
    quoted for it."""
    period, over = formats.period(an.years), open_words(ctx, an)
    standing = h["standing"]
    if standing == "no_referrals":
        return (f"- {area_md(ctx)} has **no {what} recorded** in {period}{over}, against "
                f"{formats.count(h['expected'])} expected from its patients' ages and sex. "
                "An area with registered patients and no referrals is more likely missing "
                "from the referral data than referring no one, so no ratio, % difference "
                "or limit is quoted for it.")
    made = f"made **{ctx.count(h['observed'])} {what}** in {period}{over}"
    if standing == "too_few_expected":
        return (f"- {area_md(ctx)} {made}, against fewer than {MIN_EXPECTED_FOR_RATIO:.0f} "
                "expected from its patients' ages and sex: too few for a ratio to say "
                "anything about its referrals, so no ratio, % difference or limit is quoted "
                "for it.")
    r = h["area_ratio"]
    how = "more than ten times" if r > 1 else "less than a tenth of"
    return (f"- {area_md(ctx)} {made}: a ratio of **{formats.ratio(r)}**, {how} what "
            "England's rates predict for its patients. No referral habit explains that: "
            "its registered list or the coding of its referrals is more likely wrong, so "
            "no % difference or limit is quoted for it; check both before reading its "
            "figures.")


def outside_limits_words(n_high: int, n_low: int, limit: str) -> str:
    """How many practices are above and below the limits, in words that read right at 0
    and 1 ('No practice is outside …', '1 practice refers more …; none less')."""
    if not n_high and not n_low:
        return f"**No practice** is outside the {limit}% limits"
    high = (f"**{text.plural(n_high, 'practice')}** "
            f"{'refers' if n_high == 1 else 'refer'} more than the {limit}% limits allow"
            if n_high else f"**No practice** refers more than the {limit}% limits allow")
    low = f"**{text.plural(n_low, 'practice')}** less" if n_low else "none less"
    return f"{high} and {low}"


def headline_text(ctx: Context, an: Analysis, h: dict) -> str:
    """The headline as bullets a board can read in a minute."""
    period = formats.period(an.years)
    what = "specialty " + text.md(an.extras["specialty"]) + " referrals" \
        if an.extras["specialty"] else "GP referrals for a first outpatient appointment"
    lines = []
    over = open_words(ctx, an)
    made = (f"made **{ctx.count(h['observed'])} {what}** in {period} "
            f"({ctx.count(h['observed_per_year'])} a year{over})")
    suppressed = not np.isfinite(h["area_ratio"])
    standing = h.get("standing", "ok")
    if h["n_practices"] == 0:
        return (f"- No {what} are recorded for {area_md(ctx)} in {period}, so there is "
                "nothing to compare for it: the sections below show only the areas it "
                "belongs to and England's practices.")
    if ctx.is_england:
        lines.append(
            f"- **{text.plural(h['n_practices'], 'practice')}** in England {made}. England is "
            "the comparator, so its ratio is 1 by definition; the sections below compare "
            "practices with it.")
    elif standing != "ok":
        lines.append(standing_line(ctx, an, h, what))
    elif suppressed:
        lines.append(
            f"- {area_md(ctx)} made too few {what} in {period} to publish (a count of 1 to 7 "
            "is suppressed in publish mode), so its ratio is not shown.")
    elif ctx.level == "practice":
        diff = (h["area_ratio"] - 1) * 100
        lines.append(f"- **{area_md(ctx)}** {made}: **{abs(diff):.1f}% "
                     f"{'more' if diff >= 0 else 'fewer'} than** England's rates by age and "
                     "sex would predict for its patients.")
    else:
        their = "its" if h["n_practices"] == 1 else "their"
        comp = {"england": f"England's rates by age and sex would predict for {their} "
                           "patients",
                "area": "the commissioner's own rates by age and sex would predict",
                "peer": "rates of practices with similar deprivation would predict"}[
            ctx.params["comparator"]]
        diff = (h["area_ratio"] - 1) * 100
        side = "more than" if diff >= 0 else "fewer than"
        who = (f"**{area_md(ctx)}**, its one practice," if h["n_practices"] == 1 else
               f"**{text.plural(h['n_practices'], 'practice')}** in {area_md(ctx)}")
        lines.append(f"- {who} {made}: **{abs(diff):.1f}% {side}** {comp}.")
    n_area = len(ctx.practice_codes)
    if ctx.level != "practice" and h["n_practices"] < n_area:
        gone = n_area - h["n_practices"]
        lines.append(f"- Of the area's **{text.plural(n_area, 'practice')}**, "
                     f"{gone:,} {'has' if gone == 1 else 'have'} no registered patients or "
                     f"referrals recorded in {period} and {'is' if gone == 1 else 'are'} "
                     "left out.")
    if not np.isnan(h["crude_p90_p10"]):
        lines.append(
            f"- Crude rates differ **{h['crude_p90_p10']:.1f}-fold** between the practices at "
            f"the 10th and 90th percentiles; after allowing for age and sex the spread is "
            f"**{h['standardised_p90_p10']:.1f}-fold**."
            + (" Little of what remains is chance: across England practices differ by a "
               f"standard deviation of **{h['practice_sd_national'] * 100:.0f}%** beyond "
               "chance and case-mix." if np.isfinite(h["practice_sd_national"]) else ""))
    n_high, n_low = h["n_high"], h["n_low"]
    if ctx.level == "practice":
        if standing == "ok":
            where = "above" if n_high else ("below" if n_low else "within")
            lines.append(f"- The practice is **{where} the {an.limit}% limits** for a "
                         "practice of its size, after allowing for the normal spread between "
                         "practices." + (within_why(an.published.iloc[0], an.limit)
                                         if where == "within" and len(an.published) else ""))
    else:
        lines.append(
            f"- {outside_limits_words(n_high, n_low, an.limit)}, after allowing for the "
            "normal spread between practices."
            + (" These are where a conversation about referral patterns is most likely to "
               "find something specific." if n_high or n_low else ""))
    if shows(ctx, "comparison_commissioner"):     # the areas above it, in the headline
        c = _comparisons(ctx, an).iloc[1:-1]
        parts = [f"{text.md(r.name)}: {formats.pct_change((r.ratio - 1) * 100)}"
                 for r in c.itertuples() if np.isfinite(r.ratio)]
        if parts:
            lines.append("- Against England's rates, for comparison: " + clauses(parts)
                         + ".")
    money = not np.isnan(an.extras["cost_per_referral_gbp"])
    to_limit = h["excess_to_limit_per_year"]
    averaged = f"averaged{over}" if over else f"averaged over {period}"
    if ctx.level == "practice":
        if standing != "ok":
            return "\n".join(lines)
        to_median = h["excess_to_median_per_year"]
        if closed_early(ctx, an):
            lines.append(f"- It {closed_words(an)}, so it has no future referrals to save.")
            return "\n".join(lines)
        lines.append(
            "- Bringing it down to England's median practice ratio would mean "
            + fewer_words(ctx, to_median if to_median > 0 else np.nan,
                          h["saving_to_median_gbp_per_year"] if money else None)
            + f", {averaged}." if to_median > 0 or h.get("excess_to_median_suppressed")
            else
            "- It refers less than England's median practice for its patients, so there is "
            "no opportunity of that kind.")
        return "\n".join(lines)
    median = ("bringing every practice above England's median practice ratio down to it "
              "(the ratio of the middle one of England's practices) would mean ")
    n_open_high = n_high - h.get("n_closed_above_limit", 0)   # those that can still save
    nobody = ("- No practice is above the upper limit. " if not n_high else
              f"- Only {text.plural(n_high, 'practice')} that {closed_words(an)}, "
              f"{'is' if n_high == 1 else 'are'} above the upper limit: no future referrals "
              "to save. ")
    first = ("- If the practices above the limit came down to it, "
             + fewer_words(ctx, to_limit, h["saving_to_limit_gbp_per_year"] if money
                           else None,
                           f" at {ctx.price_words}, first attendance plus follow-ups")
             + "; " + median) \
        if n_open_high else nobody + median[:1].upper() + median[1:]
    if not h["excess_to_median_per_year"] > 0:      # none above it: nothing to bring down
        lines.append(("- No practice is above the upper limit, and none" if not n_high else
                      "- If the practices above the limit came down to it, "
                      + fewer_words(ctx, to_limit, None) + ". None"
                      if n_open_high else nobody + "No practice open in that year")
                     + (" (of those open in that year)" if n_open_high
                        and h.get("n_closed_with_excess", 0) else "")
                     + " refers more than England's median practice ratio for its patients, "
                     "so there is no opportunity of that kind.")
        return "\n".join(lines)
    lines.append(
        first + fewer_words(ctx, h["excess_to_median_per_year"],
                            h["saving_to_median_gbp_per_year"] if money else None)
        + ("" if money else " (no prices in this data, so no £ figure)")
        + f", {averaged}{_closed_left_out(an, h)}. Whether any of this saves money depends on "
        "the hospital contract (notebook 03).")
    return "\n".join(lines)


def fewer_words(ctx: Context, per_year: float, gbp: float | None, at: str = "") -> str:
    """'about **10 fewer referrals a year** (≈ £3,830 a year)': a count a year as
    published, and the £ a year derived from that published count (``gbp``, None for no £
    figure; ``at`` says at what prices). A count publish mode suppresses (under 8 a year,
    or NaN for one suppressed before it was averaged) is said as a band, with no £ figure,
    which would give the count back."""
    if np.isnan(ctx.published(per_year)):
        return ("**under 8 fewer referrals a year** (too few to publish a figure, or its £)"
                if gbp is not None else "**under 8 fewer referrals a year**")
    out = f"about **{ctx.count(per_year)} fewer referrals a year**"
    if gbp is None or not np.isfinite(gbp):
        return out
    return out + f" (≈ {_money(gbp)} a year{at})"


PROPER_WORDS = frozenset({"England", "England's", "NHS", "RightCare"})
"""First words a clause keeps capitalised (names, not sentence starts)."""


def clause(part: str) -> str:
    """A phrase as it reads after a colon or semicolon: its first word in lower case when
    that word only starts a sentence ('Its 10 most similar practices' → 'its 10 …'); a name
    ('England', 'Synthetic ICB 02', 'General Surgery', 'P81062') is left as it is."""
    words = part.split(" ", 2)
    first = words[0].rstrip(":;,.")
    if not re.fullmatch(r"[A-Z][a-z'’-]*", first) or first in PROPER_WORDS \
            or (len(words) > 1 and words[1][:1].isupper()):
        return part
    return first[:1].lower() + part[1:]


def clauses(parts: list[str], sep: str = "; ") -> str:
    """Phrases joined by ``sep`` after a colon, each as :func:`clause` writes it."""
    return sep.join(clause(p) for p in parts)


def closed_words(an: Analysis) -> str:
    """'closed before 2018/19, the period's last year' (the opportunity's reason)."""
    return f"closed before {formats.year(max(an.years))}, the period's last year"


def closed_early(ctx: Context, an: Analysis) -> bool:
    """Whether the page's practice closed before the period's last year: it has no future
    referrals to save."""
    return ctx.level == "practice" and ctx.area in an.headline.get(
        "closed_before_last_year", [])


def within_why(row: pd.Series, limit: str) -> str:
    """Why a practice whose ratio chance alone does not explain (its 95% interval clear of
    1) is still within the funnel's limits, in plain words: the limits at its size (ratios
    ``limit_low`` to ``limit_high``) allow for how much practices' habits differ; '' when
    its interval includes 1 or a figure is missing."""
    lo, hi = row.get("ratio_lower95", np.nan), row.get("ratio_upper95", np.nan)
    a, b = row.get("limit_low", np.nan), row.get("limit_high", np.nan)
    if not all(np.isfinite([lo, hi, a, b])) or lo <= 1 <= hi:
        return ""
    d = max(2, formats.decimals_to_separate(a, b, 2))
    return (f" Chance alone does not explain its ratio (its 95% interval, "
            f"{formats.ratio(lo, d)} to {formats.ratio(hi, d)}, excludes 1), but practices' "
            "referral habits differ this much from one another: for a practice of its size "
            f"the {limit}% limits run from a ratio of {formats.ratio(a, d)} to "
            f"{formats.ratio(b, d)}, so it is unusual against England's rates but not among "
            "practices.")


def _closed_left_out(an: Analysis, h: dict) -> str:
    """' (leaving out the 2 practices that closed before 2018/19, …)' when practices above
    the median closed before the period's last year: their referrals cannot be saved."""
    n = h.get("n_closed_with_excess", 0)
    if not n:
        return ""
    who = "the practice" if n == 1 else f"the {n:,} practices"
    return (f" ({who} that {closed_words(an)}, left out: "
            f"{'it has' if n == 1 else 'they have'} no future referrals to save)")


def _source(ctx: Context) -> str:
    return source_line(ctx)


MIN_PRACTICES_FOR_SPREAD = 5
"""Charts of the spread between practices are drawn for areas with at least this many."""


def crude_chart(ctx: Context, an: Analysis):
    """Crude against standardised rates, one point per practice, with the line y = x
    (None for areas with too few practices to show a spread; the level table's sentence
    where it leaves the section out)."""
    why = omitted(ctx, "crude_rates")
    if why:
        return why
    pub = an.published
    keep = pub["ratio"].notna()
    if keep.sum() < MIN_PRACTICES_FOR_SPREAD:
        return None
    nat_rate = an.extras["national_rate"]
    std = pub.loc[keep, "ratio"] * nat_rate
    crude = pub.loc[keep, "crude_rate"]
    lo, hi = float(min(crude.min(), std.min())), float(max(crude.max(), std.max()))
    return charts.scatter_chart(
        crude, std, f"Crude and standardised referral rates, {ctx.area_name}",
        "Crude rate (referrals per 1,000 patients per year)",
        "Standardised rate (per 1,000 patients per year)", _source(ctx),
        alt=f"Scatter of {text.plural(int(keep.sum()), 'practice')}: crude referral rate "
            f"against the rate standardised for age and sex; points off the diagonal are "
            f"practices whose patients' age and sex explain part of their rate.",
        line=([lo, hi], [lo, hi], "Same rate (y = x)"), watermark=watermark(ctx),
        per_unit_x=pub.loc[keep, "person_years"].to_numpy(float) / 1000,
        per_unit_y=pub.loc[keep, "expected"].to_numpy(float) / nat_rate)


def funnel_figure(ctx: Context, an: Analysis):
    """The funnel plot of the area's practices (suppressed practices left out); a single
    practice is shown among its peers (practices like it in size and deprivation)."""
    if why := omitted(ctx, "funnel"):     # practice by practice: see its rule
        return why
    pub = an.published
    title = f"Referral ratio by practice, {ctx.area_name}"
    who = f"{text.plural(int(pub['ratio'].notna().sum()), 'practice')}"
    with_peers = shows(ctx, "peers")
    if with_peers:
        peer_rows = an.peers_published.copy()
        peer_rows["label"] = ""
        pub = pub.copy()
        peer_rows.attrs, pub.attrs = {}, {}          # suppression masks are not needed here
        pub = pd.concat([peer_rows, pub], ignore_index=True)
        title = f"Referral ratio of {ctx.area_name} among the practices most like it"
        who = f"{ctx.area_name} and {text.plural(len(peer_rows), 'practice')} like it in " \
              "size and deprivation"
    keep = pub["ratio"].notna()
    if not keep.any():               # every practice's count suppressed (or none)
        return None
    # drawn against the expected count a year, as the tables show it: each practice's
    # expected count over the months it was open / (those months / 12), the one exposure;
    # the limit curves are those of a practice open the whole period (its count over the
    # period declared for the disclosure read-back)
    n_years = an.extras["n_years"]
    pts = pub[keep].rename(columns={"ratio": "rr"}).assign(
        denominator=lambda d: d["expected_per_year"], per_unit=lambda d: d["expected"])
    curve = an.curve.assign(denominator=an.curve["denominator"] / n_years)
    labels = pub.loc[keep, "label"]
    pts["name"] = point_names(pts.assign(label=labels.replace("", "A practice like it")),
                              an.limit, "expected referrals a year", "denominator",
                              period_months=an.extras["period_months"])
    highlight = (labels != "") if with_peers else None
    n_h, n_l = int((pts["flag"] == "High").sum()), int((pts["flag"] == "Low").sum())
    return charts.funnel_chart(
        pts, curve, title, _source(ctx),
        xlabel="Expected referrals a year (count, log scale)",
        alt=f"Funnel plot of {who}: referral ratio against expected referrals a year, with 95% "
            f"and 99.8% limits widened for the normal spread between practices; "
            f"{_above_below(n_h, n_l, an.limit)}.",
        limit=an.limit, labels=labels, highlight=highlight, watermark=watermark(ctx))


def _above_below(n_high: int, n_low: int, limit: str) -> str:
    """'none outside the 99.8% limits', '1 above and none below the 99.8% limits'."""
    if not n_high and not n_low:
        return f"none outside the {limit}% limits"
    return (f"{n_high or 'none'} above and {n_low or 'none'} below the {limit}% limits")


def _ranges(n_high: int, n_low: int) -> str:
    """'no range lies wholly above or below 1', '1 range lies above 1 and 2 below'."""
    if not n_high and not n_low:
        return "no range lies wholly above or below 1"
    return (f"{text.plural(n_high, 'range') if n_high else 'no range'} "
            f"{'lies' if n_high <= 1 else 'lie'} above 1 and {n_low or 'none'} below")


POINT_FLAGS = {"High": "above the {} limit", "Low": "below the {} limit",
               "Within": "within the {} limits"}


def point_names(points: pd.DataFrame, limit: str, x_words: str, x_col: str,
                period_months: int | None = None) -> list[str]:
    """What hovering or focusing a practice's point says: its label, ratio, where it sits
    against the funnel limits and its expected count (published values only); a practice
    open for part of the period (``months_open`` below ``period_months``) says over how
    many months, and that its limits are wider than the curves at its point."""
    n = len(points)

    def column(name: str, default: object) -> list:      # a column's values, or the default
        return points[name].tolist() if name in points.columns else [default] * n

    out = []
    for label, rr, flag_code, standing, x, months in zip(
            column("label", ""), column("rr", np.nan), column("flag", ""),
            column("standing", "ok"), column(x_col, np.nan), column("months_open", None),
            strict=True):
        flag = POINT_FLAGS.get(flag_code, "{}").format(f"{limit}%")
        # a ratio that cannot be read as referral behaviour is not quoted (as the headline)
        judged = standing not in STANDING_WORDS
        if not judged:
            flag = STANDING_WORDS[standing]
        tail = f"; {formats.count(x)} {x_words}" if pd.notna(x) else ""
        if period_months and months is not None and pd.notna(months) \
                and 0 < months < period_months:
            flag += (f" (open {int(months):,} of the period's {period_months:,} months: its "
                     "limits, set by its count over those months, are wider than the "
                     "curves here)")
        ratio = f"ratio {formats.ratio(rr)}, " if judged else ""
        out.append(f"{label}: {ratio}{flag}{tail}")
    return out


def ranked_figure(ctx: Context, an: Analysis):
    """Practices ranked by ratio with the range their funnel limits allow (None for areas
    with too few practices; the level table's sentence where it leaves the section out)."""
    why = omitted(ctx, "ranked")
    if why:
        return why if len(an.published) else ("With no referrals recorded, the practice "
                                              "has no ratio to rank or to place in the "
                                              "funnel.")
    pub = an.published
    keep = pub["ratio"].notna()
    if keep.sum() < MIN_PRACTICES_FOR_SPREAD:
        return None
    t = pub[keep].copy()
    t["name"] = point_names(t.rename(columns={"ratio": "rr"}), an.limit,
                            "expected referrals a year", "expected_per_year",
                            period_months=an.extras["period_months"])
    return charts.ranked_chart(
        t, f"Practices ranked by referral ratio, {ctx.area_name}", _source(ctx),
        alt=f"{text.plural(len(t), 'practice')} ranked by referral ratio, each with the range "
            f"the {an.limit}% funnel limits allow; "
            f"{_ranges(int((t['flag'] == 'High').sum()), int((t['flag'] == 'Low').sum()))}.",
        limit=an.limit, watermark=watermark(ctx))



def _comparisons(ctx: Context, an: Analysis) -> pd.DataFrame:
    """The comparison rows with the names readers see ('Its network (…)', …)."""
    c = an.comparisons
    words = {"network": "Its network ({})", "commissioner": "Its commissioner ({})",
             "peers": text.plural(len(ctx.where.peers), "practice") + " most like it in size "
             "and deprivation",
             "similar": f"Its {len(ctx.where.similar)} most similar practices (RightCare)"}
    names = [words.get(r.role, "{}").format(r.name) for r in c.itertuples()]
    return c.assign(name=names)


def _ratio_decimals(c: pd.DataFrame | None) -> int:
    """Decimals of the comparison table's ratios: enough (up to 3) that each area's
    interval shows its width; England, the comparator, is 1 by construction and does not
    count. The index line prints the area's ratio with the same, so both read alike."""
    if c is None or c.empty:
        return 2
    return max([formats.decimals_to_separate(r.lower, r.upper, 2, most=3)
                for r in c.iloc[:-1].dropna(subset=["lower", "upper"]).itertuples()],
               default=2)


def comparison_table(ctx: Context, an: Analysis):
    if omitted(ctx, "comparison"):          # said once, by the figure
        return None
    c = _comparisons(ctx, an)
    d = _ratio_decimals(c)
    return table(c, [Col("name", "Area"), Col("practices", "Practices", "orgs"),
                    Col("observed_per_year", "Referrals a year", "count"),
                    Col("ratio", "Ratio (observed / expected)", "ratio", d),
                    Col("lower", "95% CI low", "ratio", d),
                    Col("upper", "95% CI high", "ratio", d)],
                caption=f"{ctx.area_name} and the areas it sits in")


def comparison_figure(ctx: Context, an: Analysis):
    why = omitted(ctx, "comparison")
    if why:
        return why
    c = _comparisons(ctx, an).dropna(subset=["ratio"])
    if c.empty:
        return None
    return charts.interval_chart(
        c["name"], c["ratio"], c["lower"], c["upper"],
        f"Referral ratio of {ctx.area_name} and the areas it sits in", "Referral ratio, "
        "observed / expected (95% CI)", "Area", _source(ctx),
        alt=f"Referral ratios with 95% intervals of {ctx.area_name}"
            + ", its network" * (shows(ctx, "comparison_network") and bool(ctx.where.network))
            + ", practices like it" * shows(ctx, "peers")
            + ", its commissioner" * shows(ctx, "comparison_commissioner")
            + " and England; 1 is England's rate.", reference=1.0, watermark=watermark(ctx),
        per_unit=c["expected"].to_numpy(float))


FLAG_WORDS = {"High": "above", "Low": "below", "Within": "within"}
STANDING_WORDS = {"no_referrals": "no referrals recorded: not judged",
                  "too_few_expected": "too few expected to judge",
                  "implausible": "ratio implausible: check list and coding"}
"""A practice whose ratio cannot be read as referral behaviour, in place of its position
against the limits (see :func:`standing_line`)."""


def positions(frame: pd.DataFrame) -> pd.Series:
    """Each practice's position against the limits ('above', 'within', …), or why it is
    not judged (:data:`STANDING_WORDS`)."""
    pos = frame["flag"].map(FLAG_WORDS)
    if "standing" in frame:
        pos = frame["standing"].map(STANDING_WORDS).fillna(pos)
    return pos


def _practice_cols(an: Analysis) -> list[Col]:
    return [Col("label", "Practice"), Col("practice_name", "Name"),
            Col("list_size", "List size (patients)", "count"),
            Col("observed_per_year", "Referrals a year", "count"),
            Col("expected_per_year", "Expected a year", "count"),
            Col("ratio", "Ratio (observed / expected)", "ratio"),
            Col("ratio_lower95", "95% CI low", "ratio"),
            Col("ratio_upper95", "95% CI high", "ratio"),
            Col("position", f"Against the {an.limit}% limits")]


def outlier_table(ctx: Context, an: Analysis):
    """The practices outside the limits, most extreme first."""
    if why := omitted(ctx, "outliers"):     # practice by practice: see its rule
        return "" if why == omitted(ctx, "funnel") else why   # said once, by the funnel
    pub = an.published
    t = pub[pub["flag"] != "Within"].copy()
    if t.empty:
        return None
    t["position"] = positions(t)
    t["_far"] = np.log(t["ratio"].fillna(1)).abs()
    t = t.sort_values("_far", ascending=False)
    t.attrs = {"suppressed": Marks({k: np.asarray(v)[t.index] for k, v in pub.attrs.get(
        "suppressed", {}).items()})}
    return table(t.reset_index(drop=True), _practice_cols(an),
                caption=f"Practices outside the {an.limit}% limits")


def practices_table(ctx: Context, an: Analysis):
    """Every practice in the area (sortable and searchable when long)."""
    if why := omitted(ctx, "practices_table"):     # practice by practice: see its rule
        return "" if why == omitted(ctx, "ranked") else why   # said once, by the ranking
    pub = an.published
    if pub.empty:                   # a practice with no referral recorded: no row to show
        return None
    t = pub.assign(position=positions(pub)).sort_values("ratio",
                                                                    ascending=False)
    idx = t.index
    t = t.reset_index(drop=True)
    t.attrs["suppressed"] = Marks({k: np.asarray(v)[idx] for k, v in pub.attrs.get(
        "suppressed", {}).items()})
    return table(t, _practice_cols(an),
                caption=practices_caption(len(t)))


def practices_caption(n: int) -> str:
    """The practices table's caption, right at 1 and 2 ('All 1 practice' read wrong)."""
    if n == 1:
        return "The practice's figures"
    if n == 2:
        return "Both practices, highest ratio first"
    return f"All {text.plural(n, 'practice')}, highest ratio first"


def partition_table(an: Analysis):
    """The variance partition, one row per model step (None when it could not be fitted)."""
    if "steps" not in an.partition:
        return None
    s = an.partition["steps"].copy()
    cols = [Col("model", "Model"), Col("practice_sd", "Practice SD (log scale)", "number", 3),
            Col("practice_var_explained_pct", "Practice variance explained", "pct"),
            Col("practice_share_pct", "Practice share of variance", "pct"),
            Col("chance_share_pct", "Chance share", "pct")]
    for lv, lab in (("network", "Network share"), ("commissioner_code", "Commissioner share")):
        if f"{lv}_share_pct" in s:
            cols.append(Col(f"{lv}_share_pct", lab, "pct"))
    return table(s, cols, caption="How the variation in referral ratios divides")


def partition_text(an: Analysis) -> str:
    if "steps" not in an.partition:
        return ("The variation between practices cannot be divided into chance, place and "
                f"practice here: {text.md(an.partition['unavailable'])}.")
    s = an.partition["steps"]
    last = s.iloc[-1]
    parts = [f"Across {an.partition['n_practices']:,} practices in England (practices outside "
             "the limits set aside), after standardising for age and sex:"]
    parts.append(f"- **chance** (Poisson noise) accounts for **{last['chance_share_pct']:.1f}%"
                 "** of the variance in referral ratios: with a year or more of referrals, "
                 "very little of the variation is chance;")
    if "commissioner_code_share_pct" in s:
        parts.append(f"- the **commissioner** level for "
                     f"**{last['commissioner_code_share_pct']:.0f}%**, the **network** level "
                     f"for **{last.get('network_share_pct', 0):.0f}%**;")
    parts.append(f"- the **practice itself** for **{last['practice_share_pct']:.0f}%**: a "
                 f"standard deviation of {last['practice_sd']:.2f} on the log scale, so a "
                 f"typical pair of practices differs by **{(an.partition['mrr'] - 1) * 100:.0f}"
                 "%** (median rate ratio);")
    parts.append(f"- deprivation, list size and long-term-condition prevalence together "
                 f"explain **{last['practice_var_explained_pct']:.0f}%** of the practice-level "
                 "variance (published studies: practice characteristics under 10%, patient "
                 "characteristics under 40%).")
    if an.partition.get("n_missing_covariates"):
        n = int(an.partition["n_missing_covariates"])
        parts.append(f"- {text.plural(n, 'practice')} without a value for one of these "
                     "characteristics (for example closed before the QOF year used) "
                     f"{'is' if n == 1 else 'are'} left out of this breakdown.")
    return "\n".join(parts)



def specialty_figure(ctx: Context, an: Analysis):
    """Referrals above the limit by specialty (top 12), or None when there are none."""
    sp = an.specialties_published
    sp = sp[sp["excess_per_year"].fillna(0) > 0].head(12)
    if sp.empty:
        return None
    return charts.bar_chart(
        sp["specialty_name"], sp["excess_per_year"],
        f"Referrals above the {an.limit}% limit by specialty, {ctx.area_name}",
        "Referrals above the upper limit (a year)", "Specialty", _source(ctx),
        alt=f"Bar chart of referrals a year above the upper funnel limit by specialty; "
            f"largest: {sp['specialty_name'].iloc[0]} "
            f"({formats.count(sp['excess_per_year'].iloc[0])} a year).",
        watermark=watermark(ctx), per_unit=1.0)


def specialty_table_html(ctx: Context, an: Analysis):
    sp = an.specialties_published
    return table(sp, [Col("specialty_name", "Specialty"),
                     Col("observed_per_year", "Referrals a year", "count"),
                     Col("ratio", "Ratio (observed / expected)", "ratio"),
                     Col("n_high", "Practices above the 99.8% limit", "orgs"),
                     Col("n_low", "Practices below", "orgs"),
                     Col("sd_beyond_chance", "England: SD beyond chance (log scale)",
                         "number", 3),
                     Col("excess_per_year", "Referrals above the limit a year", "count")],
                caption="Specialties, most referrals above the limit first")


def spc_figure(ctx: Context, an: Analysis):
    if an.spc_points.empty:
        return None
    ratio = an.extras["series_is_ratio"]
    pts = an.spc_points
    n_sc = int((pts["point_type"].notna() & (pts["point_type"] != "common_cause")).sum())
    hidden = an.extras.get("spc_months_suppressed", 0)
    gaps = (f" {text.plural(hidden, 'month')} with 1 to 7 referrals "
            f"{'is a gap' if hidden == 1 else 'are gaps'} (suppressed in publish mode).") \
        if hidden else ""
    return charts.spc_chart(
        pts, f"Monthly standardised referral rate, {ctx.area_name}", _source(ctx),
        alt=f"Statistical process control chart of {len(pts)} months with mean and "
            f"process limits; {n_sc} months flagged as special cause.{gaps}",
        ylabel="Observed / expected" if ratio
        else "Standardised referrals per 1,000 patients per year", watermark=watermark(ctx))


def spc_text(an: Analysis) -> str:
    last = an.spc_summary["variation_type"].iloc[-1]
    if last == "no_data":
        return "There are no months of referrals to chart (none recorded, or every month " \
               "too small to publish)."
    hidden = an.extras.get("spc_months_suppressed", 0)
    gaps = (f" {text.plural(hidden, 'month')} with 1 to 7 referrals "
            f"{'is' if hidden == 1 else 'are'} left out of the chart and its limits "
            "(suppressed in publish mode).") if hidden else ""
    return (f"In the latest month the series shows **{SPC_WORDS.get(last, last)}**.{gaps} "
            "The NHS Making Data Count rules look for a point outside the limits, a run of "
            "seven rising or falling points, two of three near a limit, or seven on one side "
            "of the mean; seasonal dips in August and December are common cause.")


def opportunity_table(ctx: Context, an: Analysis):
    """The practices with most referrals above the limit, a year, with £ at tariff."""
    if why := omitted(ctx, "opportunity"):     # practice by practice: see its rule
        return why
    pub = an.published
    above = pub["excess_to_limit_per_year"].fillna(0) > 0
    gone = pub["practice_code"].astype(str).isin(an.headline.get("closed_before_last_year", []))
    t = pub[above & ~gone].sort_values("excess_to_limit_per_year", ascending=False).head(15)
    if t.empty and (above & gone).any():
        return (f"Only {'a practice that' if (above & gone).sum() == 1 else 'practices that'} "
                f"{closed_words(an)} {'is' if (above & gone).sum() == 1 else 'are'} above the "
                "upper limit, with no future referrals to save, so there is no opportunity "
                "of this kind.")
    if t.empty:
        return None
    idx = t.index
    t = t.reset_index(drop=True)
    t.attrs["suppressed"] = Marks({k: np.asarray(v)[idx] for k, v in pub.attrs.get(
        "suppressed", {}).items()})
    cols = [Col("label", "Practice"), Col("observed_per_year", "Referrals a year", "count"),
            Col("ratio", "Ratio (observed / expected)", "ratio"),
            Col("excess_to_limit_per_year", "Above the limit (a year)", "count")]
    if not np.isnan(an.extras["cost_per_referral_gbp"]):
        cols.append(Col("saving_to_limit_gbp_per_year",
                        f"Value at {ctx.price_words} (£k a year)", "gbpk"))
    n_gone = int((above & gone).sum())
    left = (f" ({text.plural(n_gone, 'practice')} above it that {closed_words(an)}, left out: "
            "no future referrals to save)") if n_gone else ""
    rounded = ("; each row rounded to 5 on its own, so the rows need not add up to the "
               "headline's total") if ctx.publish and len(t) > 1 else ""
    return table(t, cols, caption=f"Referrals above the {an.limit}% limit, averages over "
                                 f"{formats.period(an.years)}{left}{rounded}")


def validation_table(ctx: Context, an: Analysis):
    """Estimates against the truth recorded with the synthetic data (None for real data)."""
    if an.validation is None:
        return None
    return table(an.validation, [Col("quantity", "Quantity"),
                                 Col("truth", "True value", "number", 4),
                                 Col("estimate", "Estimate", "number", 4),
                                 Col("target", "Recovery target"),
                                 Col("passed", "Target met")],
                 caption="England's estimates against the effects planted in the synthetic "
                         "data (fitted once for all England's practices, the same on every "
                         "page)")


def validation_text(an: Analysis) -> str:
    """Whether every recovery check passed, in words ('' for real data)."""
    v = an.validation
    if v is None:
        return ""
    failed = v.loc[~v["passed"], "quantity"].tolist()
    if not failed:
        return f"All {len(v)} recovery checks pass."
    why = [w for w in v.loc[~v["passed"], "why"] if w] if "why" in v else []
    if len(why) == len(failed):      # each miss explained where it stands
        return (f"**{len(failed)} of {len(v)} recovery checks fail:** "
                + "; ".join(text.md(q) for q in failed) + ". " + " ".join(why))
    return (f"**{len(failed)} of {len(v)} recovery checks fail:** "
            + "; ".join(text.md(q) for q in failed) + ". Read the estimates above with "
            "that in mind: on this data the method does not recover what was planted."
            + (" " + " ".join(why) if why else ""))


STANDING_SUMMARY = {
    "no_referrals": "No referrals recorded: no ratio or limit quoted",
    "too_few_expected": "Too few referrals expected for a ratio: none quoted",
    "implausible": "Ratio beyond anything referral habits explain: check its list and "
                   "coding; no limit quoted"}
"""The index line of a practice whose ratio cannot be read (see :func:`standing_line`)."""


DECILE_COLS = [f"p{k}" for k in range(10, 100, 10)]
"""England's deciles of practices' quarterly ratios, as the results file gives them."""


def results(ctx: Context, an: Analysis, h: dict) -> dict:
    """The machine-readable results (counts published by ``report.write_results``)."""
    out = dict(h)
    ratio = "" if ctx.is_england and ctx.params["comparator"] == "england" else (
        "; ratio not shown (count suppressed)" if not np.isfinite(h["area_ratio"]) else
        f"; ratio {formats.ratio(h['area_ratio'], _ratio_decimals(an.comparisons))}"
        f" against "
        f"{'England' if ctx.params['comparator'] == 'england' else 'comparator'}")
    if an.profile is not None:
        out["profile"] = an.profile.drop(columns=["observed"], errors="ignore").to_dict(
            orient="records")
    if an.similar_opportunity is not None:
        so = an.similar_opportunity
        out["similar_10"] = ctx.practice_labels(list(ctx.where.similar))  # as the page names them
        out["similar_opportunity"] = so[["specialty_code", "specialty_name", "ratio",
                                         "best_ratio", "observed_per_year",
                                         "above_best_per_year", "saving_gbp_per_year"]
                                        ].to_dict(orient="records")
    if an.deciles is not None:      # its quarters open beside England's deciles (the summary)
        d = an.deciles[an.deciles["open"]]
        out["deciles"] = d[["quarter", "ratio", *DECILE_COLS]].assign(
            quarter=d["quarter"].astype(str).str[:10]).to_dict(orient="records")
    months = an.extras.get("series_months", [])
    out["facts"] = {}
    if an.extras["specialty"] is None and months:
        span = f"{months[0][:7]}..{months[-1][:7]}"
        # the area's practices, as the headline states them (those left out said so)
        out["facts"] = {"n_practices": {"count": len(ctx.practice_codes), "span": span},
                        "referrals": {"count": h["observed"], "span": span}}
    standing = h.get("standing", "ok")
    if ctx.level == "practice" and standing != "ok":   # no ratio to read (class 14)
        out["summary"] = STANDING_SUMMARY[standing]
    elif ctx.level == "practice":         # one practice: where it sits, not a count of one
        where = "above" if h["n_high"] else "below" if h["n_low"] else "within"
        said = ratio.removeprefix("; ")
        out["summary"] = (f"{said[:1].upper()}{said[1:]}; {where} the {an.limit}% limits "
                          "for a practice of its size")
    else:
        out["summary"] = (f"{text.plural(h['n_practices'], 'practice')}{ratio}; "
                          f"{_above_below(h['n_high'], h['n_low'], an.limit)}")
    out["funnel"] = an.funnel_summary
    out["variance_partition"] = {k: v for k, v in an.partition.items() if k != "steps"}
    out["spc_variation_type"] = an.spc_summary["variation_type"].iloc[-1]
    if an.validation is not None:
        out["validation_failed"] = an.validation.loc[~an.validation["passed"],
                                                     "quantity"].tolist()
    return out



def funnel_intro(ctx: Context, an: Analysis) -> str:
    """What the funnel shows, true of this funnel: whether its limits visibly widen for
    smaller practices over the range drawn, or are nearly flat (the spread between
    practices outweighs chance); '' where the funnel is left out (its sentence says why)."""
    if omitted(ctx, "funnel"):
        return ""
    frames = [an.published] + ([an.peers_published] if shows(ctx, "peers") else [])
    exp = pd.Series(np.concatenate([f.loc[f["ratio"].notna(), "expected"].to_numpy(float)
                                    for f in frames]))
    if not len(exp):                 # no funnel drawn
        return ""
    c = an.curve
    c = c[(c["denominator"] >= exp.min() / 1.15) & (c["denominator"] <= exp.max() * 1.15)]
    width = (c["ucl99"] - c["lcl99"]).to_numpy(float) if len(c) else np.array([])
    widens = len(width) > 1 and width[0] > 1.25 * width[-1]
    shape = ("Smaller practices scatter more by chance, so the limits widen to the left." if
             widens else "Over the sizes of practice shown, the limits are nearly flat: the "
             "normal spread between practices outweighs chance at this size.")
    months = np.concatenate([f.loc[f["ratio"].notna(), "months_open"].to_numpy(float)
                             for f in frames])
    part = int((months < an.extras["period_months"]).sum())
    opened = "" if not part else (
        f" {text.plural(part, 'practice')} drawn {'was' if part == 1 else 'were'} open for "
        f"only part of the period: {'it is' if part == 1 else 'each is'} placed by its "
        "expected referrals a year while open, and its limits, set by its count over "
        "those months, are wider than the curves at its point (its point says so).")
    return (f"Each dot is a practice, placed by the referrals England's rates would predict "
            f"for its patients in a year. {shape} The limits allow for the normal spread "
            "between practices (over-dispersion), so a practice outside them is unusual even "
            f"among practices: worth a conversation, not a verdict.{opened}")


def ranked_intro(ctx: Context, an: Analysis) -> str:
    """What the ranked chart's bars are (their ends are the ratio divided by the funnel
    limits, so they can reach far beyond the limits themselves); '' when it is not drawn."""
    if omitted(ctx, "ranked") or \
            an.published["ratio"].notna().sum() < MIN_PRACTICES_FOR_SPREAD:
        return ""
    return ("The same practices ranked by ratio. Each bar runs from the practice's ratio "
            "divided by its upper funnel limit to its ratio divided by its lower limit: a "
            "bar wholly above 1 (red) or below 1 (orange) is exactly a practice outside the "
            "limits in the funnel plot. Bars are long for small practices, whose limits are "
            "wide." + (" In publish mode each bar is drawn from published counts: its lower "
                       "end gives back the referrals above the limit as the opportunity "
                       "table shows them (a bar ends at 1 where that number is too small to "
                       "publish), and each limit is rounded like a count." if ctx.publish
                       else ""))


def profile_figure(ctx: Context, an: Analysis):
    """A practice's spine chart (the level table's sentence at other levels; None without
    indicators)."""
    why = omitted(ctx, "profile")
    if why:
        return why
    p = an.profile
    if p is None or p.empty:
        return None
    counts = p["verdict"].value_counts()
    return charts.spine_chart(
        p, f"Referral profile of {ctx.area_name} against England's practices", _source(ctx),
        alt=f"Spine chart of {text.plural(len(p), 'indicator')}: the practice is above the "
            f"funnel limits on {counts.get('higher', 0)}, within them on "
            f"{counts.get('similar', 0)} and below on {counts.get('lower', 0)}, shown against the spread of England's "
            "practices with its network, its 10 most similar practices and its commissioner.",
        area_label=ctx.area_name, watermark=watermark(ctx))


def profile_text(ctx: Context, an: Analysis) -> str:
    """The spine chart in words, with the page's one rule for 'higher' and 'lower' (the
    funnel's limits, allowing for the normal spread between practices) and what its 95%
    intervals are (chance alone), where the two meet."""
    p = an.profile
    if p is None or p.empty:
        return ""
    named = {v: p.loc[p["verdict"] == v, "indicator"].tolist()
             for v in ("higher", "lower", "similar", "not shown")}
    parts = []
    for v, words in (("higher", "higher than England"), ("lower", "lower than England")):
        if named[v]:
            parts.append(f"**{words}** for " + ", ".join(text.md(x) for x in named[v]))
    if named["similar"]:
        parts.append("within the limits for " + text.plural(
            len(named["similar"]), "other indicator" if parts else "indicator"))
    gone = p["verdict"].eq("not shown") & p.get("no_referrals", False)
    n_kept = len(named["not shown"]) - int(gone.sum())   # 1 to 7: kept back in publish mode
    hidden = (f" {text.plural(n_kept, 'indicator')} with 1 to 7 referrals not shown "
              "(publish mode)." if n_kept else "") + \
        (f" {text.plural(int(gone.sum()), 'indicator')} with no referrals recorded."
         if gone.any() else "")
    limits = "99.8%" if an.limit == "99.8" else f"{an.limit}% (all referrals) and 99.8%"
    return (f"Its referral ratios are {'; '.join(parts) or 'not shown'}.{hidden} As in the "
            f"funnel, higher or lower means outside the {limits} limits that allow for the "
            "normal spread between practices. Each bar is the ratio's 95% interval from "
            "chance alone (England's rates by age and sex = 1): a bar clear of 1 but within "
            "the limits is a difference chance does not explain, yet one ordinary among "
            "practices. Grey bands are England's practices: the middle half dark, 90% pale.")


def similar_text(ctx: Context, an: Analysis) -> str:
    why = omitted(ctx, "similar_10")
    if why:
        return why
    t = an.similar_opportunity
    if t is None or t.empty:
        return ""
    if closed_early(ctx, an):
        return (f"It {closed_words(an)}, so it has no future referrals to save against its "
                "10 most similar practices either.")
    shown = t[t["above_best_per_year"].fillna(0) > 0]
    where = ("Its 10 most similar practices (named in the table below) are the nearest on "
             "age profile, deprivation, rurality and list size (NHS RightCare's similar-10 "
             "method); the benchmark is the mean ratio of the best 5 of them, specialty by "
             "specialty.")
    if shown.empty:
        return where + " In no specialty does it refer more than that benchmark by a " \
            "publishable number of referrals."
    total = float(shown["above_best_per_year"].sum())
    money = float(shown["saving_gbp_per_year"].sum())
    gbp = f" (≈ {formats.money(money)} a year at {ctx.price_words})" if np.isfinite(money) \
        and money > 0 else ""
    n = len(shown)
    # the table lists SIMILAR_ROWS specialties: say what the rest add up to
    listed = t.head(SIMILAR_ROWS)
    rest = shown[~shown.index.isin(listed.index)]
    left = ""
    if len(rest):
        left = (f" The table lists the {SIMILAR_ROWS} specialties with most referrals above "
                f"it; the other {text.plural(len(rest), 'specialty', 'specialties')} above "
                f"it add {formats.count(float(rest['above_best_per_year'].sum()))} a year.")
    return (f"{where} Coming down to it would mean about **{formats.count(total)} fewer "
            f"referrals a year**{gbp} across "
            f"{'one specialty' if n == 1 else text.plural(n, 'specialty', 'specialties')}, "
            f"{'' if n == 1 else 'led by '}{text.md(shown['specialty_name'].iloc[0])}."
            f"{left} Whether money is saved depends on the hospital contract (notebook 03).")


SIMILAR_ROWS = 12
"""Specialties the similar-10 table lists (most referrals above the benchmark first)."""


def similar_table(ctx: Context, an: Analysis):
    t = an.similar_opportunity
    if t is None or t.empty or closed_early(ctx, an):
        return None
    masks = t.attrs.get("suppressed", {})
    t = t.head(SIMILAR_ROWS).copy()
    t.attrs = {"suppressed": Marks({k: np.asarray(v)[:len(t)] for k, v in masks.items()})}
    return table(t, [Col("specialty_name", "Specialty"),
                     Col("observed_per_year", "Referrals a year", "count"),
                     Col("ratio", "Ratio (observed / expected)", "ratio"),
                     Col("best_ratio", "Best 5 of the similar 10: ratio", "ratio"),
                     Col("above_best_per_year", "Referrals a year above that", "count"),
                     Col("saving_gbp_per_year", f"Value a year at {ctx.price_words} (£)",
                         "gbp")],
                 caption="Against the best of its 10 most similar practices, by specialty")


def similar_named_table(ctx: Context, an: Analysis):
    """The similar 10 by code and name, nearest
    first; None where the level table leaves them out (:func:`similar_text` says why)."""
    t = an.similar_named
    if omitted(ctx, "similar_10") or t is None or t.empty:
        return None
    return table(t, [Col("label", "Practice"), Col("practice_name", "Name"),
                     Col("list_size", "List size (patients)", "count"),
                     Col("observed_per_year", "Referrals a year", "count"),
                     Col("ratio", "Ratio (observed / expected)", "ratio")],
                 caption=f"Its {text.plural(len(t), 'most similar practice')} (RightCare's "
                         "similar 10), nearest first")


def specialties_over_time_text(ctx: Context, an: Analysis) -> str:
    """What the table of the area's main specialties by year shows ('' when empty)."""
    t = an.specialties_over_time
    if t is None or t.empty:
        return omitted(ctx, "specialties_over_time") or ""
    months = t.attrs.get("months", {})
    part = [c for c, m in months.items() if 0 < m < 12]
    gone = [c for c, m in months.items() if m == 0]
    note = ""
    if part or gone:
        note = (" A year in which the area was open only some months counts those months"
                + (f" ({', '.join(_fy_label(c) + f': {months[c]}' for c in part)})"
                   if part else "")
                + ("; a year it was not open at all is 0" if gone else "") + ".")
    return (f"Its {text.plural(len(t), 'specialty', 'specialties')} with most referrals over "
            f"{formats.period(an.years)}, year by year (referrals in each financial year, "
            f"a count).{note} Source: {source_line(ctx)}.")


def _fy_label(col: str) -> str:
    return formats.period([int(col.removeprefix("fy"))])


def specialties_over_time_table(ctx: Context, an: Analysis):
    """The area's main specialties, referrals in each financial year (None when empty)."""
    t = an.specialties_over_time
    if t is None or t.empty:
        return None
    years = [c for c in t.columns if c.startswith("fy")]
    return table(t, [Col("specialty_name", "Specialty"),
                     *[Col(c, f"{_fy_label(c)} (referrals)", "count") for c in years]],
                 caption=f"Main specialties of {ctx.area_name} over time")


def deciles_figure(ctx: Context, an: Analysis):
    """The practice's quarterly ratio against England's deciles (the level table's sentence
    at other levels)."""
    why = omitted(ctx, "deciles")
    if why:
        return why
    d = an.deciles
    if d is None or d.empty or d["ratio"].notna().sum() == 0:
        return None
    pos = latest_decile(d)
    # a practice that opened or closed in the period has a ratio only in its quarters open
    n_open = int(d["open"].fillna(False).astype(bool).sum()) if "open" in d else len(d)
    quarters = (f"the {text.plural(n_open, 'quarter')} it was open (of {len(d)} shown)"
                if n_open < len(d) else text.plural(len(d), "quarter"))
    return charts.deciles_chart(
        d, f"Referral ratio of {ctx.area_name} each quarter, against England's practices",
        _source(ctx),
        alt=f"Line chart of the practice's referral ratio in {quarters} against the "
            f"deciles of England's practices; in the latest quarter shown it is "
            f"{pos['band']}." if pos else "Line chart against England's deciles.",
        area_label=ctx.area_name, watermark=watermark(ctx))


def deciles_text(ctx: Context, an: Analysis) -> str:
    d = an.deciles
    pos = latest_decile(d) if d is not None and not d.empty else None
    if pos is None:
        return ""
    # only quarters while it was open can be gaps: after closing there is nothing to hide
    hidden = int((d["ratio"].isna() & d["open"].fillna(False).astype(bool)).sum())
    gaps = (f" {text.plural(hidden, 'quarter')} with 1 to 7 referrals "
            f"{'is a gap' if hidden == 1 else 'are gaps'} (publish mode).") if hidden else ""
    return (f"In the latest quarter shown ({pd.Timestamp(pos['quarter']):%b %Y} to "
            f"{pd.Timestamp(pos['quarter']) + pd.DateOffset(months=2):%b %Y}) its ratio was "
            f"**{formats.ratio(pos['ratio'])}**, {pos['band']} of England's practices "
            f"(practices expecting at least {DECILE_MIN_EXPECTED:.0f} referrals a quarter)."
            f"{gaps}")
