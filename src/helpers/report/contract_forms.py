"""The contract-form analysis behind notebook 03, section by section."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis import contract_forms
from helpers.analysis.referrals import practice_table
from helpers.cache import cached_json
from helpers.report import Context
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
    if p["outliers_only"]:
        pt = practice_table(ds, [year])
        fr = funnel(pt.observed, pt.expected, pt.practice_code, method="robust")
        pt = pt.assign(outlier=(fr.points.flag == "High (99.8%)").to_numpy())
        area = pt[pt.practice_code.isin(ctx.practice_codes)]
        share = float(area.loc[area.outlier, "observed"].sum() / area["observed"].sum())
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
        lo = pd.Timestamp(r.month) - pd.DateOffset(months=p["window_months"])
        hi = pd.Timestamp(r.month) + pd.DateOffset(months=p["window_months"])
        pan = panel[(panel.month >= lo) & (panel.month < hi)]
        for outcome in ("firsts", "followups"):
            try:
                res = contract_forms.its_switch(pan, r.commissioner_code, pd.Timestamp(r.month), outcome)
            except ValueError:
                continue
            res["to_form"] = r.to_form
            res["month"] = pd.Timestamp(r.month)
            its.append(res)
    did, did_notes = [], []
    n_never = panel.commissioner_code.nunique() - sw.commissioner_code.nunique()
    for form in sorted(sw.to_form.unique()):
        if n_never < 5:
            did_notes.append(f"Too few commissioners that never switched ({n_never}) for a "
                             f"difference-in-differences comparison of switches to {form}.")
            continue
        for outcome in ("firsts", "followups"):
            def build(form=form, outcome=outcome):
                r = contract_forms.did_switch(panel, sw, form, outcome)
                r["event_study"] = r["event_study"].to_dict(orient="list")
                return r
            r = cached_json(ds, f"contracts-did-{form}-{outcome}", build)
            r["event_study"] = pd.DataFrame(r["event_study"])
            did.append(r)
    return Analysis(year, _current_form(ctx, year), base, wi, pd.DataFrame(sens),
                    contract_forms.payment_curves(base.value, p["forms"]), contract_forms.risk(base, p["forms"]), sw,
                    its, did, share, did_notes)


def headline_table(an: Analysis) -> pd.DataFrame:
    t = an.whatif[an.whatif.span == "full-year"]
    return pd.DataFrame({
        "Contract form": t.label,
        "Commissioner saving (£k a year)": (t.commissioner_saving_gbp / 1e3).round(0),
        "Share of the activity value saved (%)": (t.share_of_value_saved * 100).round(0),
        "Provider margin change (£k)": (t.provider_margin_change_gbp / 1e3).round(0),
    }).reset_index(drop=True)


def headline_text(ctx: Context, an: Analysis) -> str:
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")
    v = -t["activity_value_change_gbp"].iloc[0]
    cur = an.current_form
    lines = [f"- In {an.year}/{str(an.year + 1)[-2:]}, {ctx.area_name}'s outpatient activity "
             f"with {'its providers' if ctx.params['provider'] == 'ALL' else ctx.params['provider']}"
             f" was worth **£{an.base.value / 1e6:,.1f}m** at tariff prices."]
    lines.append(f"- A **{ctx.params['change_pct']:+g}% change in referrals**"
                 + (" (at the high-referring practices only, "
                    f"{an.affected_share * 100:.0f}% of referrals)" if ctx.params["outliers_only"]
                    else "")
                 + f" changes that activity by **£{v / 1e3:,.0f}k a year**.")
    if cur in t.index:
        lines.append(f"- Under its **current contract ({contract_forms.FORM_LABELS[cur].lower()})** the "
                     f"commissioner would save **£{t.loc[cur, 'commissioner_saving_gbp'] / 1e3:,.0f}k"
                     "**.")
    best = t["commissioner_saving_gbp"].idxmax()
    worst = t["commissioner_saving_gbp"].idxmin()
    lines.append(f"- The same change saves most under **{contract_forms.FORM_LABELS[best].lower()}** "
                 f"(£{t.loc[best, 'commissioner_saving_gbp'] / 1e3:,.0f}k) and least under "
                 f"**{contract_forms.FORM_LABELS[worst].lower()}** "
                 f"(£{t.loc[worst, 'commissioner_saving_gbp'] / 1e3:,.0f}k): under a block the "
                 "provider keeps the money and carries the cost, until the block is reset.")
    return "\n".join(lines)


def did_table(an: Analysis) -> pd.DataFrame:
    """One row per (form, outcome) estimate; empty when there were too few commissioners."""
    rows = [{"Switch to": d["to_form"], "Outcome": "first attendances per referral"
             if d["outcome"] == "firsts" else "follow-ups per first attendance",
             "Commissioners switching": d["n_switchers"],
             "Comparison commissioners": d["n_comparison"],
             "Effect (%)": (np.exp(d["att"]) - 1) * 100,
             "95% CI low (%)": (np.exp(d["lower"]) - 1) * 100,
             "95% CI high (%)": (np.exp(d["upper"]) - 1) * 100} for d in an.did]
    return pd.DataFrame(rows).round(1)


def did_text(an: Analysis) -> str:
    notes = list(an.did_notes)
    for d in an.did:
        notes += [f"Estimator note ({d['to_form']}, {d['outcome']}): {n}" for n in d["notes"]]
    return "\n".join(f"- {n}" for n in notes) if notes else ""


def validation_table(ctx: Context, an: Analysis) -> pd.DataFrame | None:
    t = ctx.ds.truth
    if not t:
        return None
    cs = t["contract_switches"]
    rows = []
    if not an.did:
        return None
    for d in an.did:
        key = "effect_firsts_per_referral" if d["outcome"] == "firsts" else \
            "effect_followups_per_first"
        truth = cs[key][d["to_form"]]
        rows.append({"Estimate": f"DiD, switch to {d['to_form']}, {d['outcome']}",
                     "Truth (log)": truth, "Estimate (log)": d["att"], "95% CI low": d["lower"],
                     "95% CI high": d["upper"],
                     "Truth inside interval": d["lower"] <= truth <= d["upper"]})
    return pd.DataFrame(rows).round(4)


def results(ctx: Context, an: Analysis) -> dict:
    t = an.whatif[an.whatif.span == "full-year"].set_index("form")
    return {"year": an.year, "current_form": an.current_form,
            "baseline_value_gbp": an.base.value,
            "saving_by_form_gbp": t["commissioner_saving_gbp"].to_dict(),
            "provider_margin_change_by_form_gbp": t["provider_margin_change_gbp"].to_dict(),
            "risk_commissioner_share": an.risk.set_index("form")[
                "commissioner_share_of_risk"].to_dict(),
            "did": [{k: v for k, v in d.items() if k not in ("event_study",)} for d in an.did],
            "its": [{k: v for k, v in r.items() if k not in ("series",)} for r in an.its]}


def whatif_table(an: Analysis) -> pd.DataFrame:
    """The what-if for readers: £ thousands, labelled, one row per form and period."""
    w = an.whatif
    return pd.DataFrame({
        "Contract form": w["label"], "Period": w["span"],
        "Spend at plan (£k)": (w["spend_baseline_gbp"] / 1e3).round(0),
        "Spend after the change (£k)": (w["spend_scenario_gbp"] / 1e3).round(0),
        "Commissioner saving (£k)": (w["commissioner_saving_gbp"] / 1e3).round(0),
        "Provider margin change (£k)": (w["provider_margin_change_gbp"] / 1e3).round(0),
    }).set_index(["Contract form", "Period"])


def risk_table(an: Analysis) -> pd.DataFrame:
    """Demand risk for readers: spread (SD, £k) of spend and of provider margin by form."""
    r = an.risk
    return pd.DataFrame({
        "Contract form": r["label"],
        "Spread of commissioner spend (£k, SD)": (r["spend_sd_gbp"] / 1e3).round(0),
        "Spread of provider margin (£k, SD)": (r["provider_margin_sd_gbp"] / 1e3).round(0),
        "Commissioner's share of the risk (%)": (r["commissioner_share_of_risk"] * 100
                                                 ).round(0),
    }).set_index("Contract form")
