"""Synthetic England: a deterministic, calibrated default dataset with its truth recorded.

Calibration sources are cited in ``docs/synthetic-england.md``. In outline (log scale):

    log λ[i,t,k] = log E[i,y(t),k] − log 12 + log season[t] + trend·years(t)
                   + β_imd·(IMD_i − 25) + β_size·log(list_i / 7000) + β_ltc·(LTC_i − mean)
                   + u_commissioner + u_network + u_practice + u_practice×specialty
                   + outlier_i + join_effect(size band, quarters since joining)
    referrals[i,t,k] ~ Poisson(λ)

E is the expected count from the national reference rates by sex × 5-year age band ×
specialty applied to the practice's registered population. Every coefficient, SD, planted
outlier, joining date and contract switch is written to ``truth.json`` beside the tables.

Run ``python -m helpers.sources.synthetic --preset england`` (or ``small``) to (re)build a preset.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.datasets import Dataset, load_dataset, save_dataset
from helpers.paths import synthetic_dir
from helpers.schema import AGE_BANDS, financial_year
from helpers.stats import payments

REGIONS = [("A", "North East and Yorkshire"), ("P", "North West"), ("C", "Midlands"),
           ("D", "East of England"), ("F", "London"), ("H", "South East"), ("L", "South West")]

# (TFC, name, share of referrals, age slope per decade, F:M ratio, restriction,
#  follow-up ratio, 2014/15 first price £)
SPECIALTIES = [
    ("100", "General Surgery", 0.07, 0.05, 1.0, "", 1.6, 150),
    ("101", "Urology", 0.06, 0.25, 0.5, "", 2.2, 140),
    ("103", "Breast Surgery", 0.03, 0.0, 30.0, "adult", 1.3, 160),
    ("107", "Vascular Surgery", 0.015, 0.30, 0.8, "adult", 1.8, 170),
    ("110", "Trauma and Orthopaedics", 0.14, 0.12, 1.1, "", 1.8, 147),
    ("120", "Ear, Nose and Throat", 0.07, -0.05, 1.0, "", 1.5, 125),
    ("130", "Ophthalmology", 0.08, 0.35, 1.1, "", 2.6, 110),
    ("140", "Oral Surgery", 0.03, -0.10, 1.1, "", 1.4, 120),
    ("160", "Plastic Surgery", 0.02, 0.0, 1.1, "", 1.5, 140),
    ("300", "General Internal Medicine", 0.03, 0.20, 1.0, "adult", 1.9, 190),
    ("301", "Gastroenterology", 0.05, 0.10, 1.1, "adult", 2.4, 200),
    ("320", "Cardiology", 0.06, 0.35, 0.9, "adult", 2.5, 185),
    ("330", "Dermatology", 0.08, 0.05, 1.2, "", 2.0, 115),
    ("340", "Respiratory Medicine", 0.025, 0.25, 1.0, "adult", 2.5, 180),
    ("400", "Neurology", 0.03, 0.0, 1.3, "adult", 2.0, 210),
    ("410", "Rheumatology", 0.025, 0.15, 1.8, "adult", 3.0, 190),
    ("420", "Paediatrics", 0.06, 0.0, 1.0, "child", 1.7, 200),
    ("430", "Geriatric Medicine", 0.01, 0.0, 1.3, "elderly", 1.5, 220),
    ("501", "Obstetrics", 0.02, 0.0, 1.0, "maternity", 2.8, 130),
    ("502", "Gynaecology", 0.075, 0.0, 1.0, "female", 1.5, 145),
]

# England registered-population shares by 5-year band (per cent, c. 2014; ONS-like shape)
AGE_SHARE = np.array([6.3, 5.9, 5.5, 6.0, 6.9, 6.9, 6.7, 6.4, 7.0, 7.3, 6.8, 5.9, 5.7, 5.5,
                      4.1, 3.3, 2.5, 1.5, 0.8])
AGE_MID = np.array([2.5 + 5 * i for i in range(18)] + [92.5])
# all-specialty GP referral rate per 1,000 per year by age band (U-shaped, peak 75-84)
AGE_RATE = np.array([120, 80, 85, 95, 110, 130, 140, 145, 160, 180, 200, 225, 250, 280, 310,
                     330, 335, 310, 260], dtype=float)
GENERATOR_VERSION = "3"
"""Bumped whenever the generator's output changes, so stale built data is rebuilt."""

SEASON = np.array([1.00, 1.03, 1.00, 0.95, 1.02, 1.02, 0.98, 0.90, 1.02, 1.06, 1.04, 0.88])
"""Referral seasonality by calendar month Jan..Dec (August and December dips)."""


@dataclass
class Preset:
    """Sizes and true effects of one synthetic world (all effects on the log-rate scale)."""

    name: str = "england"
    seed: int = 20140401
    n_commissioners: int = 42
    n_sub_areas: int = 106
    n_practices: int = 6500
    start: str = "2014-04-01"
    n_months: int = 60
    list_mu: float = 8.69           # log-normal list size (calibration A.1)
    list_sigma: float = 0.56
    list_growth: float = 0.015      # per year
    imd_mean: float = 25.8          # IMD score mean and SD across practices (A.4)
    imd_sd: float = 17.0
    referrals_per_1000: float = 195.0   # GP-referred first OP attendances (A.2)
    sd_commissioner: float = 0.10
    sd_network: float = 0.05
    sd_practice: float = 0.18       # A.3: 0.15-0.25
    sd_practice_specialty: float = 0.10
    beta_imd: float = 0.004         # per IMD point, after age/sex
    beta_log_list: float = 0.05     # elasticity of referral rate to list size
    beta_ltc: float = 0.01          # per percentage point of LTC prevalence
    trend_per_year: float = 0.02
    n_outliers: int = 40
    outlier_effect: tuple[float, float] = (0.9, 1.1)
    outlier_high_share: float = 0.75
    never_join_share: float = 0.10
    mean_group_size: float = 4.7
    join_effect: dict = field(default_factory=lambda: {"2-4": -0.02, "5-8": -0.05,
                                                       "9+": -0.01})
    join_ramp_quarters: int = 4
    closure_share: float = 0.02
    merger_share: float = 0.02
    n_switchers: int = 10
    switch_effect_first: dict = field(default_factory=lambda: {"block": -0.04,
                                                               "blended": -0.02})
    switch_effect_followup: dict = field(default_factory=lambda: {"block": -0.10,
                                                                  "blended": -0.05})
    conversion: float = 0.92        # share of referrals that become a first attendance
    # national contract history (start month, form): every commissioner follows it instead
    # of a few switching at random; used for real-structure data (PbR, COVID block, API)
    national_history: tuple[tuple[str, str], ...] = ()
    # multiplier on referrals by month ("YYYY-MM"), e.g. the 2020 COVID-19 fall
    covid_factor: dict = field(default_factory=dict)
    # practice panel (scale analysis)
    fte_per_1000: float = 0.58
    fte_size_elasticity: float = -0.05
    pay_per_weighted: float = 140.0
    pay_size_elasticity: float = -0.04
    satisfaction_mean: float = 84.0
    satisfaction_per_log_list: float = -2.0


PRESETS: dict[str, Preset] = {
    "england": Preset(),
    "small": Preset(name="small", seed=7, n_commissioners=2, n_sub_areas=5, n_practices=160,
                    n_outliers=4, n_switchers=1),
}


def _size_band(n: int) -> str:
    """The group-size band the joining effect is planted by, as the analysis bands groups
    (``helpers.analysis.scale.size_band``): a 'group' of one practice is band '1', with no
    partners and so no planted effect."""
    return "1" if n <= 1 else ("2-4" if n <= 4 else ("5-8" if n <= 8 else "9+"))


def _split_sizes(n: int, mean: float, rng: np.random.Generator) -> list[int]:
    """Split n practices into groups of 2–15 with roughly the given mean size."""
    sizes: list[int] = []
    left = n
    while left > 0:
        s = int(np.clip(rng.geometric(1.0 / (mean - 1)) + 1, 2, 15))
        if left - s == 1 or s > left:
            s = left
        sizes.append(s)
        left -= s
    return sizes

@dataclass
class Structure:
    """The practice structure the referral and hospital activity fill is conditioned on:
    generated (synthetic England) or read from published files (:mod:`helpers.sources.real_structure`).

    Arrays are one entry per practice unless stated; ``pop`` is registered patients by
    practice × financial year × sex (F, M) × 5-year age band.
    """

    months: pd.DatetimeIndex
    years: list[int]
    comm_codes: list[str]
    prac_codes: np.ndarray
    comm_of: np.ndarray          # commissioner index
    imd: np.ndarray              # IMD score
    ltc: np.ndarray              # LTC prevalence, %, NaN where unknown
    list0: np.ndarray            # list size in the first year
    open_date: pd.DatetimeIndex
    close_ts: pd.DatetimeIndex   # NaT while open
    pop: np.ndarray
    in_group: np.ndarray         # group index, −1 if never in a group
    group_size: np.ndarray       # practices per group
    practice_join: np.ndarray    # datetime64[ns] join date, NaT if never


def fill(p: Preset, rng: np.random.Generator, s: Structure,
         price_table: pd.DataFrame | None = None,
         follow_up_ratio: pd.Series | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """Referrals, reference rates, specialties, prices, providers, contracts and activity
    generated on a given structure, with the planted effects recorded as truth parts.

    ``price_table`` (contract ``prices`` for every year × specialty) and ``follow_up_ratio``
    (by specialty code) replace the generated prices and follow-up ratios when given.
    """
    months, years = s.months, s.years
    n_months = len(months)
    comm_codes, prac_codes, comm_of = s.comm_codes, s.prac_codes, s.comm_of
    n_comm, n = len(comm_codes), len(prac_codes)
    imd, ltc, list0, close_ts, pop = s.imd, s.ltc, s.list0, s.close_ts, s.pop
    in_group, group_size_arr, practice_join = s.in_group, s.group_size, s.practice_join
    n_groups = len(group_size_arr)
    # --- specialties and reference rates ------------------------------------------------
    sp = pd.DataFrame(SPECIALTIES, columns=["specialty_code", "specialty_name", "share",
                                            "slope", "fm", "restrict", "fu", "price"])
    K = len(sp)
    sex_ratio = np.where((AGE_MID >= 15) & (AGE_MID < 45), 1.25,
                         np.where((AGE_MID >= 45) & (AGE_MID < 65), 1.10, 1.0))
    raw = np.zeros((K, 2, 19))
    for k, row in sp.iterrows():
        base = row.share * AGE_RATE * np.exp(row.slope * (AGE_MID - 50) / 10)
        f = np.sqrt(sex_ratio * row.fm)
        m = 1 / np.sqrt(sex_ratio * row.fm) * np.sqrt(sex_ratio)
        f = f * np.sqrt(sex_ratio)
        mask = np.ones(19)
        if row.restrict == "adult":
            mask = (AGE_MID >= 15).astype(float)
        elif row.restrict == "child":
            mask = np.where(AGE_MID < 15, 6.0, 0.0)
        elif row.restrict == "elderly":
            mask = np.where(AGE_MID >= 75, 8.0, 0.0)
        raw[k, 0] = base * f * mask
        raw[k, 1] = base * m * mask
        if row.restrict == "maternity":
            raw[k, 0] = np.where((AGE_MID >= 15) & (AGE_MID < 45), base * 8, 0.0)
            raw[k, 1] = 0.0
        elif row.restrict == "female":
            raw[k, 0] = base * 2
            raw[k, 1] = 0.0
    nat_pop = pop[:, 0].sum(axis=0)  # sex × age in the first year
    scale = p.referrals_per_1000 / 1000 * nat_pop.sum() / (raw * nat_pop[None]).sum()
    ref_rate = raw * scale                                  # per person-year
    si_, ai_ = np.meshgrid(np.arange(2), np.arange(19), indexing="ij")
    reference_rates = pd.DataFrame({
        "sex": np.tile(np.array(["F", "M"])[si_.ravel()], K),
        "age_band": np.tile(np.array(AGE_BANDS)[ai_.ravel()], K),
        "specialty_code": np.repeat(sp.specialty_code.to_numpy(), 38),
        "rate": ref_rate.reshape(K, 38).ravel(),
    })
    specialties = sp[["specialty_code", "specialty_name"]].assign(follow_up_ratio=sp.fu)

    if follow_up_ratio is not None:
        sp["fu"] = follow_up_ratio.reindex(sp.specialty_code).fillna(sp.set_index(
            "specialty_code")["fu"]).to_numpy()
        specialties = sp[["specialty_code", "specialty_name"]].assign(follow_up_ratio=sp.fu)
    # --- referrals ----------------------------------------------------------------------
    u_comm = rng.normal(0, p.sd_commissioner, n_comm)
    u_net = rng.normal(0, p.sd_network, max(n_groups, 1))
    u_prac = rng.normal(0, p.sd_practice, n)
    u_ps = rng.normal(0, p.sd_practice_specialty, (n, K))
    outlier = np.zeros(n)
    candidates = np.flatnonzero(pd.isna(close_ts) & (list0 > 2500))
    out_idx = rng.choice(candidates, p.n_outliers, replace=False)
    signs = np.where(rng.random(p.n_outliers) < p.outlier_high_share, 1.0, -1.0)
    outlier[out_idx] = signs * rng.uniform(*p.outlier_effect, p.n_outliers)
    log_list_c = np.log(list0 / 7000)
    # centre the random effects so the national rate matches the calibration target
    mean_shift = -0.5 * (p.sd_commissioner ** 2 + p.sd_network ** 2 + p.sd_practice ** 2
                         + p.sd_practice_specialty ** 2)
    lin = (mean_shift + p.beta_imd * (imd - 25) + p.beta_log_list * log_list_c
           + p.beta_ltc * np.nan_to_num(ltc - np.nanmean(ltc)) + u_comm[comm_of]
           + np.where(in_group >= 0, u_net[np.maximum(in_group, 0)], 0.0) + u_prac + outlier)

    # expected per practice × year × specialty, from reference rates
    E_year = np.einsum("nysa,ksa->nyk", pop.astype(float), ref_rate)
    m_year = np.array([years.index(y) for y in financial_year(months)])
    t_years = (np.arange(n_months) + 0.5) / 12
    season = SEASON[months.month - 1]
    # joining effect per practice-month
    join_eff = np.zeros((n, n_months))
    band_of_group = np.array([_size_band(s) for s in group_size_arr]) if n_groups else []
    for i in np.flatnonzero(in_group >= 0):
        jq = pd.Timestamp(practice_join[i])
        q_since = ((months.year - jq.year) * 12 + (months.month - jq.month)) // 3
        full = p.join_effect.get(band_of_group[in_group[i]], 0.0)
        ramp = np.clip((q_since + 1) / p.join_ramp_quarters, 0, 1)
        join_eff[i] = np.where(q_since >= 0, full * ramp, 0.0)
    open_mask = np.ones((n, n_months), dtype=bool)
    for i in np.flatnonzero(~pd.isna(close_ts)):
        open_mask[i] = months < close_ts[i]
    for i in np.flatnonzero(s.open_date > months[0]):
        open_mask[i] &= months >= s.open_date[i]
    log_mu = (np.log(np.maximum(E_year[:, m_year, :], 1e-12) / 12)
              + (np.log(season) + p.trend_per_year * t_years)[None, :, None]
              + lin[:, None, None] + u_ps[:, None, :] + join_eff[:, :, None])
    if p.covid_factor:
        shock = np.array([p.covid_factor.get(f"{m:%Y-%m}", 1.0) for m in months])
        log_mu = log_mu + np.log(shock)[None, :, None]
    lam = np.exp(log_mu) * open_mask[:, :, None]
    counts = rng.poisson(lam)
    ii, tt, kk = np.nonzero(open_mask[:, :, None] & np.ones((1, 1, K), bool))
    sp_codes = sp.specialty_code.to_numpy()
    referrals = pd.DataFrame({
        "practice_code": pd.Categorical.from_codes(ii, prac_codes), "month": months[tt],
        "specialty_code": pd.Categorical.from_codes(kk, sp_codes),
        "referrals": counts[ii, tt, kk].astype(np.int64),
    })

    # --- prices -------------------------------------------------------------------------
    prices = pd.DataFrame([
        (row.specialty_code, y, round(row.price * 1.01 ** (y - years[0]), 2),
         round(row.price * 0.55 * 1.01 ** (y - years[0]), 2))
        for row in sp.itertuples() for y in years
    ], columns=["specialty_code", "year", "price_first", "price_followup"])

    if price_table is not None:
        prices = price_table.copy()
    # --- providers, contracts, activity --------------------------------------------------
    n_acute = max(2, int(round(n_comm * 0.75)))
    n_indep = max(1, int(round(n_comm * 0.3)))
    providers = pd.DataFrame({
        "provider_code": [f"R{i + 1:02d}" for i in range(n_acute)]
        + [f"N{i + 1:02d}" for i in range(n_indep)],
        "provider_name": [f"Synthetic Acute Trust {i + 1}" for i in range(n_acute)]
        + [f"Synthetic Independent Provider {i + 1}" for i in range(n_indep)],
        "provider_type": ["acute"] * n_acute + ["independent"] * n_indep,
    })
    pairs = []
    for c in range(n_comm):
        main = c % n_acute
        second = (c + 1 + rng.integers(0, n_acute - 1)) % n_acute
        if second == main:
            second = (main + 1) % n_acute
        ind = n_acute + int(rng.integers(0, n_indep))
        for prov, share in ((main, 0.72), (second, 0.18), (ind, 0.10)):
            pairs.append((c, prov, share))
    switch_info = {}
    history = [(pd.Timestamp(m), f) for m, f in p.national_history]
    if history:
        first_change = next(((m, f) for m, f in history[1:] if months[0] < m <= months[-1]),
                            None)
        if first_change:
            switch_info = {code: {"form": first_change[1],
                                  "month": str(first_change[0].date())}
                           for code in comm_codes}
    else:
        switchers = rng.choice(n_comm, p.n_switchers, replace=False)
        switch_years = years[1:-1] if len(years) > 2 else years[1:]
        for j, c in enumerate(sorted(switchers)):
            form = "block" if j % 2 == 0 else "blended"
            yr = switch_years[j % len(switch_years)]
            switch_info[comm_codes[c]] = {"form": form, "month": f"{yr}-04-01"}

    # commissioner × month × specialty referrals (lagged one month into attendances)
    comm_ref = np.zeros((n_comm, n_months, K))
    np.add.at(comm_ref, comm_of, counts)
    lagged = np.concatenate([comm_ref[:, :1], comm_ref[:, :-1]], axis=1)
    fu_ratio = sp.fu.to_numpy()
    price_first = np.array([[row.price * 1.01 ** (y - years[0]) for row in sp.itertuples()]
                            for y in years])
    price_fu = price_first * 0.55
    if price_table is not None:
        pt = price_table.set_index(["year", "specialty_code"])
        idx = pd.MultiIndex.from_product([years, sp.specialty_code])
        price_first = pt["price_first"].reindex(idx).to_numpy().reshape(len(years), K)
        price_fu = pt["price_followup"].reindex(idx).to_numpy().reshape(len(years), K)
    act_rows = []
    contract_rows = []
    for c, prov, share in pairs:
        code = comm_codes[c]
        sw = switch_info.get(code)
        sw_month = pd.Timestamp(sw["month"]) if sw else None
        eff_first = np.zeros(n_months)
        eff_fu = np.zeros(n_months)
        if sw:
            after = months >= sw_month
            eff_first[after] = p.switch_effect_first[sw["form"]]
            eff_fu[after] = p.switch_effect_followup[sw["form"]]
        mu_first = lagged[c] * share * p.conversion * np.exp(eff_first)[:, None]
        firsts = rng.poisson(mu_first)
        fus = rng.poisson(mu_first * fu_ratio[None, :] * np.exp(eff_fu)[:, None])
        value = firsts * price_first[m_year] + fus * price_fu[m_year]
        # contracts by financial year: plan = last year's activity value (first year: own)
        pay = np.zeros_like(value)
        for y_i, y in enumerate(years):
            sel = m_year == y_i
            prev = m_year == max(y_i - 1, 0)
            plan_month = value[prev].sum(axis=0) / prev.sum()   # per specialty per month
            plan_month = plan_month * price_first[y_i] / price_first[max(y_i - 1, 0)]
            start = pd.Timestamp(f"{y}-04-01")
            if history:
                form = [f for m, f in history if m <= start][-1]
            else:
                form = sw["form"] if (sw and start >= sw_month) else "pbr"
            rate = 0.2 if form == "blended" else np.nan
            pay[sel] = payments.payment(form, value[sel], plan_month[None, :],
                                        variable_rate=rate)
            plan_annual = float(plan_month.sum() * 12)
            contract_rows.append((code, providers.provider_code[prov], start,
                                  start + pd.DateOffset(months=11), form,
                                  plan_annual if form in ("block", "blended") else np.nan,
                                  plan_annual, rate, np.nan, np.nan, np.nan))
        tt2, kk2 = np.nonzero(np.ones((n_months, K), bool))
        act_rows.append(pd.DataFrame({
            "commissioner_code": code, "provider_code": providers.provider_code[prov],
            "month": months[tt2],
            "specialty_code": pd.Categorical.from_codes(kk2, sp.specialty_code.to_numpy()),
            "first_attendances": firsts[tt2, kk2].astype(np.int64),
            "follow_ups": fus[tt2, kk2].astype(np.int64),
            "payment_gbp": np.round(pay[tt2, kk2], 2),
        }))
    activity = pd.concat(act_rows, ignore_index=True)
    for c in ("commissioner_code", "provider_code", "specialty_code"):
        activity[c] = activity[c].astype("category")
    contracts = pd.DataFrame(contract_rows, columns=[
        "commissioner_code", "provider_code", "start_month", "end_month", "contract_form",
        "fixed_annual_gbp", "plan_value_gbp", "variable_rate", "corridor_pct",
        "outcome_target", "outcome_bonus_pct"])

    path = {str(e): float(np.average(
        [p.join_effect.get(b, 0.0) * min(1.0, (e + 1) / p.join_ramp_quarters) for b in band_of_group],
        weights=group_size_arr)) for e in range(0, 12)} if n_groups else {}
    tables = {"specialties": specialties, "referrals": referrals,
              "reference_rates": reference_rates, "providers": providers,
              "contracts": contracts, "prices": prices, "activity": activity}
    truth = {
        "referral_model": {
            "sd_commissioner": p.sd_commissioner, "sd_network": p.sd_network,
            "sd_practice": p.sd_practice, "sd_practice_specialty": p.sd_practice_specialty,
            "sd_practice_realised": float(np.std(u_prac)),
            "beta_imd_per_point": p.beta_imd, "beta_log_list": p.beta_log_list,
            "beta_ltc_per_point": p.beta_ltc, "trend_per_year": p.trend_per_year,
            "season_jan_to_dec": SEASON.tolist(),
            "referrals_per_1000_target": p.referrals_per_1000,
            "covid_factor_by_month": dict(p.covid_factor),
        },
        "outliers": {
            "practice_codes": sorted(prac_codes[out_idx].tolist()),
            "effects": {prac_codes[i]: float(outlier[i]) for i in out_idx},
        },
        "joining": {
            "effect_by_size_band": p.join_effect, "ramp_quarters": p.join_ramp_quarters,
            "event_time_path_quarters": path, "n_groups": n_groups,
            "never_join_share": p.never_join_share,
            "practices_in_groups": int((in_group >= 0).sum()),
        },
        "contract_switches": {
            "switchers": switch_info,
            "national_history": [[m, f] for m, f in p.national_history],
            "scale": "log; first attendances per GP referral of the previous month, and "
                     "follow-up attendances per first attendance",
            "effect_firsts_per_referral": p.switch_effect_first,
            "effect_followups_per_first": p.switch_effect_followup,
        },
    }
    return tables, truth


def generate(preset: Preset | str = "england") -> tuple[dict[str, pd.DataFrame], dict]:
    """Build every contract table and the truth for a preset. Deterministic in the seed."""
    p = PRESETS[preset] if isinstance(preset, str) else preset
    rng = np.random.default_rng(p.seed)
    months = pd.date_range(p.start, periods=p.n_months, freq="MS")
    years = sorted(set(financial_year(months).tolist()))
    n_years = len(years)

    # --- commissioners and sub-areas -----------------------------------------------------
    reg_idx = np.arange(p.n_commissioners) % len(REGIONS)
    comm_codes = [f"Q{i + 1:02d}" for i in range(p.n_commissioners)]
    commissioners = pd.DataFrame({
        "commissioner_code": comm_codes,
        "commissioner_name": [f"Synthetic ICB {i + 1:02d}" for i in range(p.n_commissioners)],
        "region": [REGIONS[r][1] for r in reg_idx],
    })
    sub_comm = np.concatenate([np.arange(p.n_commissioners),
                               rng.integers(0, p.n_commissioners,
                                            p.n_sub_areas - p.n_commissioners)])
    sub_comm.sort()
    sub_codes = [f"S{i + 1:03d}" for i in range(p.n_sub_areas)]
    sub_areas = pd.DataFrame({"sub_area_code": sub_codes,
                              "sub_area_name": [f"Sub-area {c}" for c in sub_codes],
                              "commissioner_code": [comm_codes[c] for c in sub_comm]})

    # --- practices -----------------------------------------------------------------------
    n = p.n_practices
    sub_of = np.concatenate([np.arange(p.n_sub_areas),
                             rng.integers(0, p.n_sub_areas, n - p.n_sub_areas)])
    sub_of.sort()
    comm_of = sub_comm[sub_of]
    comm_imd = rng.normal(0, 0.25, p.n_commissioners)
    shape = (p.imd_mean / p.imd_sd) ** 2
    imd = rng.gamma(shape, p.imd_mean / shape, n) * np.exp(comm_imd[comm_of] - 0.25 ** 2 / 2)
    imd = np.clip(imd, 1.5, 85.0).round(2)
    list0 = np.clip(np.exp(rng.normal(p.list_mu, p.list_sigma, n)), 900, 80000)
    rural = rng.random(n) < 1 / (1 + np.exp(-(-1.2 - 0.05 * (imd - 25)
                                              - 0.8 * (np.log(list0) - p.list_mu))))
    ltc = np.clip(rng.normal(18 + 0.12 * (imd - 25), 3.0, n), 5, 40).round(2)
    letters = np.array([REGIONS[r][0] for r in reg_idx])[comm_of]
    prac_codes = np.array([f"{letters[i]}{81001 + i:05d}" for i in range(n)])
    open_dates = pd.to_datetime("1974-04-01") + pd.to_timedelta(
        rng.integers(0, 365 * 35, n), unit="D")
    ctype = rng.choice(["GMS", "PMS", "APMS"], n, p=[0.55, 0.40, 0.05])

    # closures and mergers (close at the start of a financial year after the first)
    close = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    successor = np.full(n, None, dtype=object)
    n_close = int(round(p.closure_share * n))
    n_merge = int(round(p.merger_share * n))
    leaving = rng.choice(n, n_close + n_merge, replace=False)
    fy_starts = [pd.Timestamp(f"{y}-04-01") for y in years[1:]]
    for j, i in enumerate(leaving):
        when = fy_starts[rng.integers(0, len(fy_starts))]
        close[i] = np.datetime64(when, "ns")
        if j >= n_close:  # merger into a neighbour in the same sub-area
            cands = np.flatnonzero((sub_of == sub_of[i]) & ~np.isin(np.arange(n), leaving))
            if len(cands):
                successor[i] = prac_codes[rng.choice(cands)]
            else:
                close[i] = np.datetime64("NaT")
    practices = pd.DataFrame({
        "practice_code": prac_codes,
        "practice_name": [f"Practice {c}" for c in prac_codes],
        "commissioner_code": [comm_codes[c] for c in comm_of],
        "sub_area_code": [sub_codes[s] for s in sub_of],
        "open_date": open_dates, "close_date": close, "contract_type": ctype,
        "imd_score": imd, "rurality": np.where(rural, "rural", "urban"),
        "ltc_prevalence": ltc, "successor_code": successor,
    })
    close_ts = pd.to_datetime(close)

    # --- population by year × sex × age band --------------------------------------------
    z_imd = (imd - p.imd_mean) / p.imd_sd
    age_idx = (AGE_MID - 40) / 40
    tilt = -0.25 * z_imd[:, None] * age_idx[None, :] \
        + rng.normal(0, 0.12, n)[:, None] * age_idx[None, :]
    shares = AGE_SHARE[None, :] * np.exp(tilt)
    shares /= shares.sum(axis=1, keepdims=True)
    f_share = np.array([0.488] * 4 + [0.50] * 9 + [0.52, 0.53, 0.56, 0.60, 0.66, 0.72])
    lists = np.empty((n, n_years))
    for y in range(n_years):
        lists[:, y] = list0 * np.exp(p.list_growth * y + rng.normal(0, 0.02, n))
    # mergers: the absorbed practice's list joins its successor from the merge year
    code_pos = {c: i for i, c in enumerate(prac_codes)}
    alive = np.ones((n, n_years), dtype=bool)
    for i in np.flatnonzero(~pd.isna(close_ts)):
        y_close = years.index(close_ts[i].year)
        alive[i, y_close:] = False
        if successor[i] is not None:
            lists[code_pos[successor[i]], y_close:] += lists[i, y_close:] * 0.9
    pop = np.rint(lists[:, :, None, None] * shares[:, None, None, :]
                  * np.stack([f_share, 1 - f_share])[None, None, :, :]).astype(np.int64)
    pop[:, :, :, :] = np.maximum(pop, 0)
    pi, yi, si, ai = np.nonzero(alive[:, :, None, None] & np.ones((1, 1, 2, 19), bool))
    population = pd.DataFrame({
        "practice_code": pd.Categorical.from_codes(pi, prac_codes),
        "period": pd.to_datetime([f"{years[y]}-04-01" for y in range(n_years)])[yi],
        "sex": pd.Categorical.from_codes(si, ["F", "M"]),
        "age_band": pd.Categorical.from_codes(ai, list(AGE_BANDS)),
        "patients": pop[pi, yi, si, ai],
    })

    # --- groups (federations) with staggered joining ------------------------------------
    join_quarters = pd.date_range(f"{years[1]}-07-01", f"{years[-1]}-01-01", freq="QS")
    group_rows = []
    in_group = np.full(n, -1)
    group_size: list[int] = []
    group_start: list[pd.Timestamp] = []
    practice_join = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    joiners = rng.random(n) >= p.never_join_share
    g = 0
    for s in range(p.n_sub_areas):
        members = np.flatnonzero((sub_of == s) & joiners)
        rng.shuffle(members)
        if len(members) < 2:
            continue
        for size in _split_sizes(len(members), p.mean_group_size, rng):
            mem = members[:size]
            members = members[size:]
            start = join_quarters[rng.integers(0, len(join_quarters))]
            group_size.append(size)
            group_start.append(start)
            for i in mem:
                late = rng.random() < 0.2
                j = start + pd.DateOffset(months=3 * int(rng.integers(1, 5))) if late else start
                if not pd.isna(close_ts[i]) and j >= close_ts[i]:
                    continue  # closed before it would have joined
                left = close_ts[i] if not pd.isna(close_ts[i]) else pd.NaT
                group_rows.append((prac_codes[i], f"U{g + 10001:05d}",
                                   f"Federation {g + 1}", "federation", j, left))
                in_group[i] = g
                practice_join[i] = np.datetime64(j, "ns")
            g += 1
    groups = pd.DataFrame(group_rows, columns=["practice_code", "group_code", "group_name",
                                               "group_type", "joined", "left"])

    structure = Structure(months, years, comm_codes, prac_codes, comm_of, imd, ltc, list0,
                          pd.DatetimeIndex(open_dates), close_ts, pop, in_group,
                          np.array(group_size, dtype=int), practice_join)
    filled, truth_parts = fill(p, rng, structure)

    # --- practice outcomes panel --------------------------------------------------------
    oi, oy = np.nonzero(alive)
    reg = pop.sum(axis=(2, 3))[oi, oy].astype(float)
    old_share = (pop[:, :, :, 13:].sum(axis=(2, 3)) / np.maximum(pop.sum(axis=(2, 3)), 1))
    need = 1 + 0.004 * (imd[oi] - 25) + 1.5 * (old_share[oi, oy] - 0.16)
    weighted = reg * need * np.exp(rng.normal(0, 0.03, len(oi)))
    ll = np.log(reg / 7000)
    fte = reg / 1000 * p.fte_per_1000 * np.exp(p.fte_size_elasticity * ll
                                               + rng.normal(0, 0.12, len(oi)))
    ppw = p.pay_per_weighted * np.exp(p.pay_size_elasticity * ll + 0.02 * oy
                                      + rng.normal(0, 0.08, len(oi)))
    sat = np.clip(p.satisfaction_mean + p.satisfaction_per_log_list * ll
                  - 0.05 * (imd[oi] - 25) + rng.normal(0, 4.0, len(oi)), 20, 100)
    practice_outcomes = pd.DataFrame({
        "practice_code": prac_codes[oi], "year": np.array(years)[oy],
        "registered_patients": reg, "weighted_patients": weighted.round(1),
        "gp_fte": fte.round(2), "payments_gbp": (ppw * weighted).round(0),
        "satisfaction_pct": sat.round(1),
    })

    tables = {
        "commissioners": commissioners, "sub_areas": sub_areas, "practices": practices,
        "population": population, "groups": groups, **filled,
        "practice_outcomes": practice_outcomes,
    }
    truth = {
        "preset": asdict(p),
        "scale": "natural log of the referral rate unless stated",
        "months": [str(months[0].date()), str(months[-1].date())],
        **truth_parts,
        "practice_panel": {
            "fte_size_elasticity": p.fte_size_elasticity,
            "payments_per_weighted_size_elasticity": p.pay_size_elasticity,
            "satisfaction_points_per_log_list": p.satisfaction_per_log_list,
        },
        "structure": {
            "n_practices": n, "n_commissioners": p.n_commissioners,
            "n_sub_areas": p.n_sub_areas, "n_closed": n_close,
            "n_merged": int(sum(s is not None for s in successor)),
        },
    }
    return tables, truth


def build(preset: str = "england", folder: Path | None = None) -> Path:
    """Generate a preset and write it (validated, atomically) to its data folder."""
    tables, truth = generate(preset)
    folder = folder or synthetic_dir(preset)
    prov = {"source": "synthetic", "preset": preset, "real_tables": [],
            "synthetic_tables": sorted(tables), "generator_version": GENERATOR_VERSION}
    return save_dataset(tables, folder, truth=truth, provenance=prov)


def ensure(preset: str = "england") -> Path:
    """Build the preset if its folder is missing or was made by another generator version."""
    import json

    folder = synthetic_dir(preset)
    prov_file = folder / "provenance.json"
    current = prov_file.exists() and json.loads(prov_file.read_text()).get(
        "generator_version") == GENERATOR_VERSION
    if not current:
        build(preset, folder)
    return folder


def load(preset: str = "england") -> Dataset:
    """Load (building first if needed) a synthetic preset as a validated dataset."""
    return load_dataset(ensure(preset))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the synthetic England dataset.")
    ap.add_argument("--preset", default="england", choices=sorted(PRESETS))
    ap.add_argument("--out", type=Path, default=None, help="output folder")
    ap.add_argument("--if-missing", action="store_true", help="only build if absent")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if a.if_missing and a.out is None:
        folder = ensure(a.preset)
    else:
        folder = build(a.preset, a.out)
    print(f"synthetic '{a.preset}' ready in {folder} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
