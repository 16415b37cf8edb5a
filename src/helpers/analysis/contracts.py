"""Contract-form analysis: what referral changes save under each form, who carries the risk,
and what activity did when a commissioner switched form.

Conventions: money in £; activity value = first attendances × first price + follow-ups ×
follow-up price (the contract's own prices); a contract year is the financial year (April–
March) and settles on the year's totals; "plan" is the no-change baseline value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.cache import cached
from helpers.codes import among
from helpers.datasets import Dataset
from helpers.estimate import Estimate
from helpers.formats import FORM_LABELS
from helpers.schema import financial_year
from helpers.stats import payments
from helpers.stats.did import staggered_did

DEFAULT_RATES = {"blended": 0.2, "api": 0.75, "cap_collar": 1.0}


@cached
def activity_panel(ds: Dataset) -> pd.DataFrame:
    """Commissioner × month: GP referrals (and the previous month's), first attendances,
    follow-ups, payments and activity value at full price. Cached per dataset."""
    a = ds.activity.copy()
    for c in ("commissioner_code", "specialty_code", "provider_code"):
        a[c] = a[c].astype(str)
    a["year"] = financial_year(a["month"])
    pr = ds.prices.assign(specialty_code=ds.prices.specialty_code.astype(str))
    a = a.merge(pr, on=["specialty_code", "year"], how="left")
    a["value_gbp"] = a["first_attendances"] * a["price_first"] + \
        a["follow_ups"] * a["price_followup"]
    m = a.groupby(["commissioner_code", "month"], as_index=False)[
        ["first_attendances", "follow_ups", "payment_gbp", "value_gbp"]].sum()
    r = ds.referrals.merge(ds.practices[["practice_code", "commissioner_code"]],
                           on="practice_code")
    r["commissioner_code"] = r["commissioner_code"].astype(str)
    rr = r.groupby(["commissioner_code", "month"], as_index=False)["referrals"].sum()
    rr = rr.sort_values(["commissioner_code", "month"])
    rr["referrals_prev"] = rr.groupby("commissioner_code")["referrals"].shift(1)
    m = m.merge(rr, on=["commissioner_code", "month"], how="left")
    return m


def switches(ds: Dataset) -> pd.DataFrame:
    """Commissioners whose contract form changed: commissioner, from, to, first month."""
    c = ds.contracts.sort_values("start_month")
    rows = []
    for code, g in c.groupby(c["commissioner_code"].astype(str)):
        first = g["contract_form"].iloc[0]
        later = g[g["contract_form"] != first]
        if len(later):
            rows.append({"commissioner_code": code, "from_form": first,
                         "to_form": later["contract_form"].iloc[0],
                         "month": later["start_month"].min()})
    return pd.DataFrame(rows, columns=["commissioner_code", "from_form", "to_form", "month"])


def its_switch(panel: pd.DataFrame, commissioner: str, month: pd.Timestamp,
               outcome: str = "firsts") -> Estimate:
    """ITS of one commissioner's switch: first attendances per previous-month referral
    (``outcome='firsts'``) or follow-ups per first attendance (``'followups'``).

    The estimate is the log rate ratio at the switch (segmented Poisson regression with
    seasonal harmonics and HAC errors, :func:`helpers.stats.its.fit_its`), ``n`` the months;
    ``extra`` holds the rate ratio and its interval, the trend, dispersion and p-value, and
    the monthly ``series`` (observed, fitted, counterfactual)."""
    from helpers.stats.its import fit_its

    p = panel[panel["commissioner_code"] == commissioner].sort_values("month")
    p = p[p["referrals_prev"].notna()].reset_index(drop=True)
    count, offset = (p["first_attendances"], p["referrals_prev"]) if outcome == "firsts" \
        else (p["follow_ups"], p["first_attendances"])
    step = (p["month"] >= month).astype(int)
    if step.sum() < 6 or (1 - step).sum() < 6:
        raise ValueError(f"{commissioner}: need at least 6 months either side of the switch")
    r = fit_its(count, np.arange(1, len(p) + 1), step, offset=offset,
                month=p["month"].dt.month, harmonics=2, hac_lags=3)
    series = pd.DataFrame({"month": p["month"], "observed": count / offset,
                           "fitted": r.fitted / offset,
                           "counterfactual": r.counterfactual / offset})
    return Estimate(float(np.log(r.rate_ratio)), float(r.fit.bse["step"]),
                    float(np.log(r.ci[0])), float(np.log(r.ci[1])),
                    method="segmented Poisson ITS, HAC errors", n=len(p)).with_extra(
        **r.summary(), commissioner_code=commissioner, outcome=outcome, series=series)


def did_switch(panel: pd.DataFrame, sw: pd.DataFrame, to_form: str,
               outcome: str = "firsts", control: str = "never_treated") -> Estimate:
    """Callaway & Sant'Anna DiD across commissioners switching to ``to_form`` at staggered
    dates (see :func:`helpers.stats.did.staggered_did`), on the log outcome ratio; event
    times in months. Commissioners switching to another form are left out; the comparison
    group is never-switchers (or not-yet-switched). csdid's messages about one- or
    two-commissioner cohorts and a singular pre-test covariance, expected with ~40 units,
    are kept in ``extra['notes']``."""
    p = panel[panel["referrals_prev"].notna()].copy()
    months = sorted(p["month"].unique())
    p["t"] = p["month"].map({m: i + 1 for i, m in enumerate(months)})
    p["y"] = np.log(p["first_attendances"] / p["referrals_prev"]) if outcome == "firsts" \
        else np.log(p["follow_ups"] / p["first_attendances"])
    treated = sw[sw["to_form"] == to_form]
    other = set(sw["commissioner_code"]) - set(treated["commissioner_code"])
    p = p[~among(p["commissioner_code"], other)]
    cohort = {r.commissioner_code: months.index(np.datetime64(r.month, "ns")) + 1
              for r in treated.itertuples()}
    p["g"] = p["commissioner_code"].map(cohort).fillna(0).astype(int)
    p["unit"] = p["commissioner_code"].astype("category").cat.codes + 1
    est = staggered_did(p, control, min_e=-12, max_e=24)
    es = est.extra["event_study"].rename(columns={"event_time": "event_month"})
    return est.with_extra(event_study=es, to_form=to_form, outcome=outcome,
                          n_switchers=len(treated))


@dataclass
class Baseline:
    """A commissioner's year of outpatient activity with its providers, by specialty."""

    firsts: pd.Series      # by specialty
    followups: pd.Series
    price_first: pd.Series
    price_followup: pd.Series
    monthly_value: pd.Series   # value by month (for risk)

    @property
    def value(self) -> float:
        return float((self.firsts * self.price_first + self.followups * self.price_followup)
                     .sum())


def baseline(ds: Dataset, commissioner: str | None, year: int,
             provider: str | None = None) -> Baseline:
    """Activity of one commissioner (None = all England) in financial year ``year``, with
    one provider or all."""
    a = ds.activity
    a = a[financial_year(a["month"]) == year]
    if commissioner is not None:
        a = a[a["commissioner_code"].astype(str) == commissioner]
    if provider is not None:
        a = a[a["provider_code"].astype(str) == provider]
    if a.empty:
        raise ValueError(f"no activity for {commissioner or 'England'}"
                         f"{' with ' + provider if provider else ''} in {year}")
    a = a.assign(specialty_code=a["specialty_code"].astype(str))
    by = a.groupby("specialty_code")[["first_attendances", "follow_ups"]].sum()
    pr = ds.prices.assign(specialty_code=ds.prices.specialty_code.astype(str))
    pr = pr[pr["year"] == year].set_index("specialty_code").reindex(by.index)
    a = a.merge(pr[["price_first", "price_followup"]], left_on="specialty_code",
                right_index=True)
    a["value"] = a["first_attendances"] * a["price_first"] + a["follow_ups"] * a[
        "price_followup"]
    return Baseline(by["first_attendances"].astype(float), by["follow_ups"].astype(float),
                    pr["price_first"], pr["price_followup"],
                    a.groupby("month")["value"].sum())


def what_if(base: Baseline, change_pct: float, start_month: int = 4,
            specialties: list[str] | None = None, affected_share: float = 1.0,
            followup_ratio_scale: float = 1.0, forms: list[str] | None = None
            ) -> pd.DataFrame:
    """Commissioner spend and provider income under each form when referrals change.

    ``change_pct`` (e.g. −10) applies from calendar month ``start_month`` to the end of the
    financial year (in-year) and to a whole year (full-year), in ``specialties`` (all if
    None), to a share ``affected_share`` of referrals (e.g. those from outlier practices).
    First attendances follow referrals one for one; follow-ups follow firsts at each
    specialty's ratio × ``followup_ratio_scale``. Plan = the baseline year's value.

    Returns one row per form: spend (= provider income) at baseline and under the scenario,
    the commissioner's saving, the provider's change in income and in margin (income − cost,
    cost taken as the tariff value of the activity done), in-year and full-year.
    """
    forms = forms or ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
    if not 1 <= start_month <= 12:
        raise ValueError(f"start_month must be a calendar month 1-12; got {start_month}")
    months_left = ((3 - start_month) % 12) + 1      # months from start_month to March
    sel = base.firsts.index if specialties is None else [s for s in base.firsts.index
                                                         if s in set(specialties)]
    frac = change_pct / 100 * affected_share
    d_first = pd.Series(0.0, index=base.firsts.index)
    d_first[sel] = base.firsts[sel] * frac
    d_fu = d_first / base.firsts.replace(0, np.nan) * base.followups * followup_ratio_scale
    d_value_full = float((d_first * base.price_first + d_fu.fillna(0) * base.price_followup)
                         .sum())
    plan = base.value
    rows = []
    for span, d_val in (("in-year", d_value_full * months_left / 12), ("full-year",
                                                                        d_value_full)):
        value = plan + d_val
        for f in forms:
            rate = DEFAULT_RATES.get(f, np.nan)
            pay0 = float(payments.payment(f, plan, plan, fixed=plan, variable_rate=rate))
            pay1 = float(payments.payment(f, value, plan, fixed=plan, variable_rate=rate))
            rows.append({"form": f, "label": FORM_LABELS[f], "span": span,
                         "activity_value_change_gbp": d_val,
                         "spend_baseline_gbp": pay0, "spend_scenario_gbp": pay1,
                         "commissioner_saving_gbp": pay0 - pay1,
                         "provider_income_change_gbp": pay1 - pay0,
                         "provider_margin_change_gbp": (pay1 - pay0) - d_val,
                         "share_of_value_saved": (pay0 - pay1) / -d_val if d_val else np.nan})
    return pd.DataFrame(rows)


def payment_curves(plan: float, forms: list[str] | None = None, lo: float = 0.7,
                   hi: float = 1.3, n: int = 121) -> pd.DataFrame:
    """Payment against activity (as a share of plan) for each form, for the 'how each form
    pays' chart."""
    forms = forms or ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
    x = np.linspace(lo, hi, n)
    out = {"activity_share_of_plan": x}
    for f in forms:
        out[f] = payments.payment(f, x * plan, plan, fixed=plan,
                                  variable_rate=DEFAULT_RATES.get(f, np.nan)) / plan
    return pd.DataFrame(out)


def risk(base: Baseline, forms: list[str] | None = None, n_sims: int = 4000,
         seed: int = 1) -> pd.DataFrame:
    """Who carries demand risk: simulate the year's activity from the observed month-to-month
    variation (log-normal monthly shocks with the observed SD of log monthly value around its
    mean, independent months), then the spread of the commissioner's spend and of the
    provider's margin (income − cost of the activity) under each form. £, SD over sims."""
    forms = forms or ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
    rng = np.random.default_rng(seed)
    mv = base.monthly_value
    sd = float(np.std(np.log(mv / mv.mean()), ddof=1))
    shocks = np.exp(rng.normal(-sd**2 / 2, sd, (n_sims, len(mv))))
    annual = (mv.to_numpy()[None, :] * shocks).sum(axis=1) * 12 / len(mv)
    plan = base.value
    rows = []
    for f in forms:
        pay = payments.payment(f, annual, plan, fixed=plan,
                               variable_rate=DEFAULT_RATES.get(f, np.nan))
        margin = pay - annual
        rows.append({"form": f, "label": FORM_LABELS[f], "spend_sd_gbp": float(pay.std()),
                     "provider_margin_sd_gbp": float(margin.std()),
                     "commissioner_share_of_risk": float(pay.std() / (pay.std() + margin.std())
                                                         if (pay.std() + margin.std()) else 0),
                     "monthly_sd_log": sd})
    return pd.DataFrame(rows)
