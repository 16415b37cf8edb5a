"""The federation-scale analysis behind notebook 02, section by section."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis import scale
from helpers.analysis.referrals import practice_frame
from helpers.cache import cached_json
from helpers.report import Context


@dataclass
class Analysis:
    panel: pd.DataFrame            # practice-year, area only
    national_panel: pd.DataFrame
    elasticities: pd.DataFrame
    curves: dict
    bins: dict
    joining: dict | None
    twfe: dict | None
    bands: pd.DataFrame
    mergers: dict
    truth_att: dict | None
    group_summary: pd.DataFrame
    group_curves: pd.DataFrame
    practice_sizes: pd.DataFrame
    estimator: str

    @property
    def primary(self) -> dict | None:
        """The estimate the parameters chose for the headline."""
        if not self.joining:
            return None
        return self.twfe if self.estimator == "twfe" else self.joining


def analyse(ctx: Context) -> Analysis:
    p, ds = ctx.params, ctx.ds
    from helpers.report import require_tables
    require_tables(ctx, ["practice_outcomes"], "The scale analysis")
    nat = scale.practice_year_panel(ds)
    area = nat[nat["practice_code"].isin(ctx.practice_codes)]
    last = nat["year"].max()
    present = [y for y in scale.OUTCOMES if nat[y].notna().any()]

    def build_national():
        return {"elasticities": [scale.elasticity(nat, y) | {"label": scale.OUTCOMES[y][0]}
                                 for y in present],
                "curves": {y: scale.spline_curve(nat, y).to_dict(orient="list") for y in present}}
    national = cached_json(ds, "scale-national-curves", build_national)
    el = pd.DataFrame(national["elasticities"])
    curves = {y: pd.DataFrame(c) for y, c in national["curves"].items()}
    bins = {y: scale.binned_means(area[area["year"] == last] if len(area) > 50 else nat,
                              "registered_patients", y, 6) for y in curves}
    joining = tw = truth_att = None
    bands = pd.DataFrame()
    psizes = pd.DataFrame()
    mergers = {"n_mergers": 0}
    if ds.has("groups") and len(ds.groups):
        gt = None if p["group_type"] == "all" else p["group_type"]
        jp = scale.joining_panel(ds, gt) if p["outcome"] == "srr" else \
            scale.annual_joining_panel(ds, p["outcome"])
        if jp["g"].gt(0).sum() and jp["g"].eq(0).sum():
            key = f"scale-cs-{p['outcome']}-{gt or 'all'}-{p['control_group']}"

            def build():
                r = scale.callaway_santanna(jp, p["control_group"])
                r["event_study"] = r["event_study"].to_dict(orient="list")
                r["twfe"] = scale.twfe(jp)
                b = scale.by_size_band(jp, p["control_group"])
                r["bands"] = b.to_dict(orient="list")
                if p["outcome"] == "srr":
                    lists = practice_frame(ds).set_index("practice_code")["list_size"]
                    r["practice_sizes"] = scale.by_practice_size(jp, lists, p["control_group"]
                                                             ).to_dict(orient="list")
                return r
            joining = cached_json(ds, key, build)
            joining["event_study"] = pd.DataFrame(joining["event_study"])
            tw = joining.pop("twfe")
            bands = pd.DataFrame(joining.pop("bands"))
            psizes = pd.DataFrame(joining.pop("practice_sizes", {}))
            if p["outcome"] == "srr":
                def build_mergers():
                    m = scale.mergers(ds, jp)
                    return {k: v for k, v in m.items() if k != "table"}
                mergers = cached_json(ds, f"scale-mergers-{gt or 'all'}", build_mergers)
            if ds.truth and p["outcome"] == "srr":
                t = scale.true_joining_att(jp, ds.truth)
                truth_att = {"att": t["att"], "by_event": t["by_event"],
                             "by_band": t["by_band"]}
    gs = scale.group_sizes(ds) if ds.has("groups") and len(ds.groups) else pd.DataFrame()
    if len(gs):
        gs = gs[gs["practice_code"].isin(ctx.practice_codes)]
        summ = gs.drop_duplicates("group_code").groupby("size_band").agg(
            groups=("group_code", "nunique"),
            median_practices=("group_practices", "median"),
            median_combined_list=("group_list", "median")).reset_index()
    else:
        summ = pd.DataFrame()
    return Analysis(area, nat, el, curves, bins, joining, tw, bands, mergers, truth_att, summ,
                    group_curves(nat), psizes, p["estimator"])


def group_curves(nat: pd.DataFrame) -> pd.DataFrame:
    """Each outcome's mean (95% CI) in the latest year by the size of the practice's group:
    number of member practices (2-4, 5-8, 9+) and combined list (quartiles)."""
    if "group_practices" not in nat:
        return pd.DataFrame()
    d = nat[(nat["year"] == nat["year"].max()) & nat["group_practices"].notna()]
    rows = []
    for y in scale.OUTCOMES:
        if not d[y].notna().any():
            continue
        for by, bins in (("group_practices", [1.5, 4.5, 8.5, 99]), ("group_list", 4)):
            b = scale.binned_means(d, by, y, bins)
            b.insert(0, "outcome", scale.OUTCOMES[y][0])
            b.insert(1, "group size measure", "practices in group" if by == "group_practices"
                     else "combined list size")
            rows.append(b)
    return pd.concat(rows, ignore_index=True)


def headline_text(ctx: Context, an: Analysis) -> str:
    lines = []
    for r in an.elasticities.itertuples():
        lines.append("- " + scale.describe_elasticity(r._asdict(), r.label))
    if an.joining:
        j, tw, prim = an.joining, an.twfe, an.primary
        what = "staggered difference-in-differences" if an.estimator != "twfe" else \
            "two-way fixed effects (as chosen; biased under staggered joining)"
        other = tw if an.estimator != "twfe" else j
        other_name = "The two-way fixed-effects regression most studies use" \
            if an.estimator != "twfe" else "The staggered difference-in-differences estimate"
        what_y = scale.OUTCOMES.get(ctx.params["outcome"], (ctx.params["outcome"],))[0].lower()
        lines.append(f"- **Joining a group** changed the {what_y} "
                     f"by **{(np.exp(prim['att']) - 1) * 100:+.1f}%** on average (95% CI "
                     f"{(np.exp(prim['lower']) - 1) * 100:+.1f}% to "
                     f"{(np.exp(prim['upper']) - 1) * 100:+.1f}%; {what}), across "
                     f"{j['n_treated']:,} joining and {j['n_control']:,} comparison practices. "
                     f"{other_name} says {(np.exp(other['att']) - 1) * 100:+.1f}%"
                     + twfe_gap_text(j, tw))
        caution = comparison_caution(j)
        if caution:
            lines.append(f"- **Caution:** {caution}")
        if len(an.bands):
            lines.append("- " + band_statement(an.bands))
    return "\n".join(lines)


def twfe_gap_text(cs: dict, tw: dict) -> str:
    """Explain a smaller fixed-effects estimate only when the staggered estimate is clear of
    zero and the fixed-effects one is nearer zero; otherwise make no claim."""
    clear = cs["upper"] < 0 or cs["lower"] > 0
    if clear and abs(tw["att"]) < abs(cs["att"]):
        return ("; with effects that build up after joining, the fixed-effects version "
                "understates them because practices that joined earlier serve as controls.")
    return "."


def comparison_caution(j: dict, min_control: int = 100) -> str | None:
    """A warning when the joining estimate rests on too few comparison practices."""
    if j["n_control"] >= min_control:
        return None
    return (f"only {j['n_control']:,} practices never joined a group, against "
            f"{j['n_treated']:,} that did. When almost every practice joins at once (as with "
            "primary care networks in July–October 2019), there is hardly anyone to compare "
            "with: the interval is wide and the estimate should be read as uninformative, "
            "not as evidence of an effect or of no effect.")


def band_statement(bands: pd.DataFrame) -> str:
    """Plain-English comparison of the joining effect by group-size band, claiming a
    'largest' band only when its 95% interval excludes zero and lies wholly below another
    band's (effects on referrals are reductions, so 'largest' means most negative)."""
    b = bands.set_index("size_band")
    best = b["att"].idxmin()
    pct = (np.exp(b.loc[best, "att"]) - 1) * 100
    if b.loc[best, "upper"] >= 0:
        return ("No group size shows a change distinguishable from zero "
                f"(most negative: groups of {best} practices, {pct:+.1f}%).")
    separated = (b.drop(best)["lower"] > b.loc[best, "upper"]).any()
    if not separated:
        return (f"Groups of **{best} practices** show the largest reduction ({pct:+.1f}%), but "
                "the intervals by group size overlap, so the sizes cannot be told apart.")
    tail = " (consistent with the view that engagement works best at 5–8 practices per " \
        "lead)" if best == "5-8" else ""
    return f"The effect is largest in groups of **{best} practices** ({pct:+.1f}%){tail}."


def elasticity_table(an: Analysis) -> pd.DataFrame:
    t = an.elasticities[["label", "elasticity", "lower", "upper", "n"]].copy()
    t.columns = ["Outcome", "Elasticity to list size", "95% CI low", "95% CI high",
                 "Practice-years"]
    return t.round(3)


def validation_table(ctx: Context, an: Analysis) -> pd.DataFrame | None:
    t = ctx.ds.truth
    if not t:
        return None
    rows = []
    truths = {"srr": t["referral_model"]["beta_log_list"]}
    if "practice_panel" in t:           # synthetic panel; a real panel has no truth
        truths["payments_per_weighted"] = t["practice_panel"][
            "payments_per_weighted_size_elasticity"]
        truths["gp_fte_per_1000"] = t["practice_panel"]["fte_size_elasticity"]
    for r in an.elasticities.itertuples():
        if r.outcome in truths:
            rows.append((f"Elasticity: {r.label}", truths[r.outcome], r.elasticity, r.lower,
                         r.upper))
    if an.joining and an.truth_att:
        rows.append(("Joining ATT (log SRR)", an.truth_att["att"], an.joining["att"],
                     an.joining["lower"], an.joining["upper"]))
        rows.append(("TWFE estimate (log SRR)", an.truth_att["att"], an.twfe["att"],
                     an.twfe["lower"], an.twfe["upper"]))
        for r in an.bands.itertuples():
            rows.append((f"Joining ATT, groups of {r.size_band}",
                         an.truth_att["by_band"].get(r.size_band, np.nan), r.att, r.lower,
                         r.upper))
    v = pd.DataFrame(rows, columns=["Quantity", "Truth", "Estimate", "95% CI low",
                                    "95% CI high"])
    v["Truth inside interval"] = (v["95% CI low"] <= v["Truth"]) & (v["Truth"] <=
                                                                     v["95% CI high"])
    return v.round(4)


def results(ctx: Context, an: Analysis) -> dict:
    out = {"elasticities": an.elasticities.drop(columns=["label"]).to_dict(orient="records")}
    if an.joining:
        out["joining"] = {k: v for k, v in an.joining.items() if k != "event_study"}
        out["twfe"] = an.twfe
        out["by_size_band"] = an.bands.to_dict(orient="records")
        out["by_practice_size"] = an.practice_sizes.to_dict(orient="records")
        out["estimator"] = an.estimator
    out["mergers"] = {k: v for k, v in an.mergers.items() if k != "table"}
    return out
