"""The real-data analysis source: published NHS open files for structure, synthetic fill
for what no open file provides.

``python -m helpers.sources.real_structure --from <folder of published files> --out <dataset folder>``
builds a contract dataset in which

- **real** (from the published files): commissioners (ICBs, with their NHS England region),
  sub-areas (CCGs / sub-ICB locations), practices (codes, names, open and close dates,
  contract type, rurality, deprivation, long-term-condition registers), registered
  populations by sex and 5-year age band, primary care network membership with dates, the
  annual practice panel (registered and weighted lists, payments, GP FTE) and outpatient
  unit costs and follow-up ratios (reference costs);
- **synthetic** (generated on that real structure by :func:`helpers.sources.synthetic.fill`, with
  the planted effects written to ``truth.json``): GP referrals, reference rates, hospital
  providers, contracts and activity.

``provenance.json`` lists the real and synthetic tables, every input file with its sha256,
and each derivation or imputation with its count; every report prints that statement.

The input folder holds the files as published (names as in ``config/sources.yaml``):
NHS Payments to General Practice (one per year), NHSBSA list size by age and sex, NHS
Digital Patients Registered (5-year bands, optional), ODS epraccur, ePCN core partner and
PCN details, the QOF geographies mapping and prevalence, Fingertips IMD, the CCG → ICB
lookup, GP workforce and consultant-led outpatient reference costs.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.datasets import save_dataset
from helpers.paths import project_root
from helpers.schema import AGE_BANDS, ContractError, financial_year
from helpers.sources import nhs_files, synthetic

LTC_GROUPS = ("AF", "AST", "CHD", "CKD", "COPD", "DM", "HF", "HYP", "STIA")
"""QOF registers summed into ``ltc_prevalence`` (registrations per 100 patients)."""

REAL_TABLES = ["commissioners", "sub_areas", "practices", "population", "groups",
               "practice_outcomes", "prices"]
SYNTHETIC_TABLES = ["referrals", "reference_rates", "specialties", "providers", "contracts",
                    "activity"]

NATIONAL_HISTORY = (("2013-04-01", "pbr"), ("2020-04-01", "block"), ("2022-04-01", "api"))
"""How NHS hospital outpatient care was paid for nationally: payment by results until March
2020, block payments from April 2020 (COVID-19 financial arrangements, continued through
2021/22), aligned payment and incentive from April 2022."""

COVID_REFERRALS = {
    "2020-03": 0.80, "2020-04": 0.28, "2020-05": 0.38, "2020-06": 0.55, "2020-07": 0.68,
    "2020-08": 0.72, "2020-09": 0.82, "2020-10": 0.85, "2020-11": 0.82, "2020-12": 0.80,
    "2021-01": 0.70, "2021-02": 0.78, "2021-03": 0.90, "2021-04": 0.92, "2021-05": 0.93,
    "2021-06": 0.95, "2021-07": 0.93, "2021-08": 0.93, "2021-09": 0.95, "2021-10": 0.95,
    "2021-11": 0.95, "2021-12": 0.90, "2022-01": 0.90, "2022-02": 0.95, "2022-03": 0.96}
"""GP referrals for a first outpatient appointment relative to what they would otherwise have
been, by month, through the COVID-19 pandemic: an approximation to the shape of the fall in
NHS England's Monthly Referral Return (about 70% down in April 2020, recovering over 2021).
Applied to the synthetic referrals on the real structure and recorded in ``truth.json``."""

FILES = {
    "payments": "nhsd_payments_to_general_practice_20*.csv",
    "nhsbsa": "nhsbsa_patient_list_size_age_sex_*.csv",
    "quinary": "nhsd_gp_reg_quin_age*.csv",
    "epraccur": "ods_epraccur_*.csv",
    "epcn_members": "ods_epcn_core_partner_details_*.csv",
    "epcn_details": "ods_epcn_pcn_details_*.csv",
    "qof_geographies": "qof_*_mapping_nhs_geographies.csv",
    "qof_prevalence": "qof_*_prevalence.csv",
    "imd": "fingertips_practice_imd_93553.csv",
    "ccg_icb": "heec_ccg_to_icb_lookup.csv",
    "workforce": "heec_gp_workforce_practice_year.csv",
    "reference_costs": "nhs_reference_costs_20*_consultant_led_outpatients.csv",
    "closures": "heec_practice_closures_mergers.csv",
    "ae_0to4": "fingertips_practice_ae_attendances_0to4.csv",
}
OPTIONAL = {"quinary", "workforce", "qof_prevalence", "epcn_details", "closures", "ae_0to4"}


def find_files(folder: Path) -> dict[str, list[Path]]:
    """The published files in ``folder`` by role; a clear error names any that are missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder of published files not found: {folder}")
    found = {k: sorted(folder.glob(pat)) for k, pat in FILES.items()}
    missing = [f"{k} ({FILES[k]})" for k, v in found.items() if not v and k not in OPTIONAL]
    if missing:
        raise FileNotFoundError(f"{folder} lacks required published files: "
                                + "; ".join(missing) + ". See config/sources.yaml.")
    return found


def _round_preserving(weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integer split of each row's ``totals`` in proportion to ``weights`` (rows sum to 1),
    by largest remainder, so every row sums exactly to its total."""
    raw = totals[:, None] * weights
    base = np.floor(raw)
    short = (totals - base.sum(axis=1)).round().astype(int)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(weights.shape[1])[None, :].repeat(len(raw), 0),
                      axis=1)
    return (base + (rank < short[:, None])).astype(np.int64)


def age_sex_profiles(files: dict[str, list[Path]], codes: pd.Index,
                     shares: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each practice's share of patients by sex (F, M) × 5-year band, shape (n, 38).

    Source per practice, in order of preference: NHS Digital 5-year bands (where given);
    the latest NHSBSA quarter split to 5-year bands with national shares; else the mean
    profile of practices in its commissioner (filled by the caller). Returns the profiles
    (NaN rows where none) and the source label per practice.
    """
    n = len(codes)
    prof = np.full((n, 38), np.nan)
    source = pd.Series("none", index=codes, dtype=object)
    cells = [(s, b) for s in ("F", "M") for b in AGE_BANDS]

    def overwrite(long: pd.DataFrame, label: str) -> None:
        wide = long.pivot_table(index="practice_code", columns=["sex", "age_band"],
                                values="patients", aggfunc="sum").reindex(columns=cells,
                                                                          fill_value=0)
        wide = wide[wide.sum(axis=1) > 0]
        pos = codes.get_indexer(wide.index)
        ok = pos >= 0
        prof[pos[ok]] = (wide.to_numpy(float) / wide.sum(axis=1).to_numpy()[:, None])[ok]
        source.iloc[pos[ok]] = label

    for f in files["nhsbsa"]:                       # oldest first: later files overwrite
        bsa = nhs_files.read_nhsbsa_list_sizes(f)
        overwrite(nhs_files.split_to_five_year_bands(bsa, shares),
                  f"NHSBSA {bsa['period'].iloc[0]:%Y-%m} (9 bands split)")
    for f in files.get("quinary", []):
        q = nhs_files.read_gp_registered_quinary(f)
        overwrite(q, f"NHS Digital {q['period'].iloc[0]:%Y-%m} (5-year bands)")
    return prof, source


def national_band_shares(files: dict[str, list[Path]]) -> pd.Series:
    """National share of patients by 5-year band used to split NHSBSA's wider bands: from
    the NHS Digital 5-year file where given, else the synthetic England's age shares."""
    if files.get("quinary"):
        q = nhs_files.read_gp_registered_quinary(files["quinary"][0])
        return q.groupby("age_band")["patients"].sum().reindex(AGE_BANDS).fillna(0) \
            / q["patients"].sum()
    return pd.Series(synthetic.AGE_SHARE / synthetic.AGE_SHARE.sum(), index=list(AGE_BANDS))


def _digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[p.name] = h.hexdigest()
    return out


def build_structure(folder: Path, start: str = "2017-04-01", n_months: int = 60
                    ) -> tuple[dict[str, pd.DataFrame], dict]:
    """Real contract tables (everything but the synthetic fill) and the provenance notes.

    The practices are those with registered patients in NHS Payments to General Practice
    in any financial year of the window; the window must start on 1 April and lie within
    the payment files' years.
    """
    files = find_files(folder)
    notes: dict[str, object] = {}
    months = pd.date_range(start, periods=n_months, freq="MS")
    if months[0].month != 4 or months[0].day != 1:
        raise ValueError(f"start must be 1 April of a year (financial years); got {start}")
    years = sorted(set(financial_year(months).tolist()))

    pay = pd.concat([nhs_files.read_gp_payments(f) for f in files["payments"]], ignore_index=True)
    have = sorted(pay["year"].unique())
    if not set(years) <= set(have):
        raise ValueError(f"window {years[0]}/{years[0] + 1 - 2000:02d}–{years[-1]}/"
                         f"{years[-1] + 1 - 2000:02d} needs NHS Payments files for every year; "
                         f"the folder has {have[0]}–{have[-1]}")
    pay = pay[pay["registered_patients"] > 0]
    win = pay[pay["year"].isin(years)]
    codes = pd.Index(sorted(win["practice_code"].unique()), name="practice_code")

    # --- geography: practice → CCG (sub-area) → ICB (commissioner) → region -----------------
    geo = nhs_files.read_qof_geographies(files["qof_geographies"][0]).set_index("practice_code")
    lookup = nhs_files.read_ccg_icb_lookup(files["ccg_icb"][0]).set_index("ccg_code")
    epr = nhs_files.read_epraccur(files["epraccur"][0]).drop_duplicates("practice_code") \
        .set_index("practice_code")
    last_pay = win.sort_values("year").groupby("practice_code").last()
    ccg = pd.Series(geo["ccg_code"].reindex(codes).to_numpy(), index=codes)
    from_epr = ccg.isna() & epr["commissioner_code"].reindex(codes).isin(lookup.index).to_numpy()
    ccg[from_epr] = epr["commissioner_code"].reindex(codes)[from_epr]
    from_pay = ccg.isna()
    ccg[from_pay] = last_pay["ccg_code"].reindex(codes)[from_pay]
    # CCGs merged in 2019–2021: a practice that closed before then carries its old CCG;
    # map each old code to the 2020-21 CCG that most of its practices moved to
    later = pay.dropna(subset=["ccg_code"]).merge(geo["ccg_code"].rename("ccg_2021"),
                                                  left_on="practice_code", right_index=True)
    moved = later.groupby("ccg_code")["ccg_2021"].agg(lambda s: s.value_counts().index[0])
    old = ~ccg.isin(set(geo["ccg_code"])) & ccg.isin(moved.index)
    ccg[old] = moved.reindex(ccg[old]).to_numpy()
    notes["old_ccg_codes_mapped_to_2020_21"] = int(old.sum())
    icb = lookup["icb_code"].reindex(ccg.to_numpy())
    icb.index = codes
    unmapped = icb.isna()
    notes["practices_without_commissioner_dropped"] = int(unmapped.sum())
    notes["sub_area_source"] = {"QOF 2020-21 geographies": int((~from_epr & ~from_pay).sum()),
                                "epraccur": int(from_epr.sum()),
                                "NHS Payments (latest year)": int(from_pay.sum())}
    codes = codes[~unmapped.to_numpy()]
    ccg, icb = ccg[codes], icb[codes]

    region_of_stp = geo.drop_duplicates("stp_code").set_index("stp_code")["region_name"]
    icbs = lookup.drop_duplicates("icb_code").set_index("icb_code")
    comm_codes = sorted(icb.unique())
    commissioners = pd.DataFrame({
        "commissioner_code": comm_codes,
        "commissioner_name": [icbs.loc[c, "icb_name"] for c in comm_codes],
        "region": [region_of_stp.get(c, "Unknown region") for c in comm_codes],
    })
    ccg_names = pd.concat([geo.drop_duplicates("ccg_code").set_index("ccg_code")["ccg_name"]])
    if files.get("epcn_details"):
        det = nhs_files.read_pcn_details(files["epcn_details"][0])
        ccg_names = ccg_names.combine_first(det.drop_duplicates("ccg_code")
                                            .set_index("ccg_code")["ccg_name"])
    sub_codes = sorted(ccg.unique())
    sub_areas = pd.DataFrame({
        "sub_area_code": sub_codes,
        "sub_area_name": [ccg_names.get(c) if isinstance(ccg_names.get(c), str)
                          else f"CCG {c}" for c in sub_codes],
        "commissioner_code": [lookup.loc[c, "icb_code"] for c in sub_codes],
    })

    # --- practices --------------------------------------------------------------------------
    wp = win[win["practice_code"].isin(codes)].sort_values("year")
    first_year = wp.groupby("practice_code")["year"].min().reindex(codes)
    last_year = wp.groupby("practice_code")["year"].max().reindex(codes)
    ctype = wp.dropna(subset=["contract_type"]).groupby("practice_code")["contract_type"] \
        .last().reindex(codes)
    rural_any = pay[pay["rurality"].isin(["urban", "rural"])].sort_values("year") \
        .groupby("practice_code")["rurality"].last()
    rural = rural_any.reindex(codes)
    notes["rurality_missing_set_urban"] = int(rural.isna().sum())
    notes["contract_type_missing_set_GMS"] = int(ctype.isna().sum())
    open_date = epr["open_date"].reindex(codes)
    no_open = open_date.isna()
    open_date[no_open] = pd.to_datetime([f"{y}-04-01" for y in first_year[no_open]])
    notes["open_date_from_first_payment_year"] = int(no_open.sum())
    close = epr["close_date"].where(epr["status"].isin(["C", "D"])).reindex(codes)
    gone = last_year < years[-1]                  # absent from the window's later files
    derive = gone & close.isna()
    close[derive] = pd.to_datetime([f"{y + 1}-04-01" for y in last_year[derive]])
    notes["close_date_from_payment_files"] = int(derive.sum())
    close = close.where(close <= months[-1] + pd.offsets.MonthEnd(0))
    imd = _imd(files["imd"][0], codes)
    notes["imd_source"] = imd.attrs["source"]
    ltc = _ltc(files.get("qof_prevalence", []), codes)
    notes["ltc_prevalence"] = ltc.attrs["note"]
    names = epr["practice_name"].reindex(codes).fillna(geo["practice_name"].reindex(codes))
    practices = pd.DataFrame({
        "practice_code": codes, "practice_name": names.fillna("Practice " + codes.to_series())
        .str.title().to_numpy(),
        "commissioner_code": icb.to_numpy(), "sub_area_code": ccg.to_numpy(),
        "open_date": open_date.to_numpy(), "close_date": close.to_numpy(),
        "contract_type": ctype.fillna("GMS").to_numpy(),
        "imd_score": imd.to_numpy(), "rurality": rural.fillna("urban").to_numpy(),
        "ltc_prevalence": ltc.to_numpy(), "successor_code": None,
    })
    # imd: a practice without a published score gets its sub-area's median (counted)
    miss = practices["imd_score"].isna()
    practices.loc[miss, "imd_score"] = practices.groupby("sub_area_code")["imd_score"] \
        .transform("median")[miss]
    practices["imd_score"] = practices["imd_score"].fillna(practices["imd_score"].median())
    notes["imd_missing_set_sub_area_median"] = int(miss.sum())

    # --- population: payments totals × age-sex profile --------------------------------------
    shares = national_band_shares(files)
    prof, prof_src = age_sex_profiles(files, codes, shares)
    none = np.isnan(prof).any(axis=1)
    comm_idx = pd.Index(comm_codes).get_indexer(icb.to_numpy())
    for c in np.unique(comm_idx[none]):
        have_c = (comm_idx == c) & ~none
        pool = prof[have_c] if have_c.any() else prof[~none]
        prof[(comm_idx == c) & none] = pool.mean(axis=0)
    prof_src[none] = "commissioner mean profile"
    notes["age_sex_profile_source"] = prof_src.value_counts().to_dict()
    tot = wp.pivot_table(index="practice_code", columns="year", values="registered_patients",
                         aggfunc="last").reindex(index=codes, columns=years)
    pop = np.zeros((len(codes), len(years), 2, 19), dtype=np.int64)
    for y_i, y in enumerate(years):
        t = np.rint(tot[y].to_numpy())     # a yearly average, not whole, from 2018/19
        ok = ~np.isnan(t)
        pop[ok, y_i] = _round_preserving(prof[ok], t[ok]).reshape(-1, 2, 19)
    pi, yi, si, ai = np.nonzero(pop > -1)
    alive = ~np.isnan(tot.to_numpy())
    keep = alive[pi, yi]
    pi, yi, si, ai = pi[keep], yi[keep], si[keep], ai[keep]
    population = pd.DataFrame({
        "practice_code": pd.Categorical.from_codes(pi, codes),
        "period": pd.to_datetime([f"{y}-04-01" for y in years])[yi],
        "sex": pd.Categorical.from_codes(si, ["F", "M"]),
        "age_band": pd.Categorical.from_codes(ai, list(AGE_BANDS)),
        "patients": pop[pi, yi, si, ai],
    })
    notes["population"] = ("registered totals per financial year from NHS Payments to "
                           "General Practice (from 2018/19 an average over the year, rounded to "
                           "whole patients), split by each practice's sex × age profile; rows "
                           "sum exactly to the rounded published totals")

    # --- networks -----------------------------------------------------------------------------
    groups = _groups(files, codes, notes)
    practices["successor_code"] = _successors(files, pay, practices, groups, notes)

    # --- annual practice panel ----------------------------------------------------------------
    outcomes = _outcomes(files, pay, codes, notes)

    # --- prices and follow-up ratios from reference costs --------------------------------------
    prices, fu = _prices(files, years, notes)

    tables = {"commissioners": commissioners, "sub_areas": sub_areas, "practices": practices,
              "population": population, "groups": groups, "practice_outcomes": outcomes,
              "prices": prices}
    indicators = indicators_table(files, codes, notes)
    if len(indicators):
        tables["indicators"] = indicators
    used = [p for v in files.values() for p in v]
    meta = {"notes": notes, "files": _digest(used), "months": months, "years": years,
            "pop": pop, "follow_up_ratio": fu}
    return tables, meta


AE_INDICATOR = 93930
"""Fingertips indicator 93930: A&E attendances (0 to 4 years) per 1,000 registered children
aged 0-4, by GP practice (HES / ECDS)."""

QOF_REGISTERS = {"HYP": "Hypertension", "DM": "Diabetes mellitus", "AST": "Asthma",
                 "COPD": "Chronic obstructive pulmonary disease",
                 "CHD": "Coronary heart disease", "DEP": "Depression"}
"""QOF disease registers published as real prevalence indicators (group code → name)."""

QOF_AGE_BASE = {"TOTAL": "all ages", "06OV": "aged 6+", "16OV": "aged 16+",
                "17OV": "aged 17+", "18OV": "aged 18+", "50OV": "aged 50+"}


def indicators_table(files: dict[str, list[Path]], codes: pd.Index,
                     notes: dict) -> pd.DataFrame:
    """The ``indicators`` table: real practice-level counts and denominators from the
    published files present (Fingertips A&E attendances aged 0-4, 2021/22; QOF 2020/21
    registers over the register's list size), for the practices in ``codes``.

    Rows Fingertips suppresses keep their denominator with an empty count and the
    publisher's note; rows of practices outside ``codes``, and QOF rows whose register
    exceeds the list size, are left out. Every exclusion is counted in ``notes``.
    """
    parts = []
    said: dict[str, object] = {}
    if files.get("ae_0to4"):
        path = files["ae_0to4"][0]
        ft = nhs_files.read_fingertips_export(path, AE_INDICATOR)
        gp = ft[(ft["area_type"] == "GPs") & (ft["sex"] == "Persons")
                & (ft["category"] == "")]
        gp = gp[gp["denominator"] > 0]
        keep = gp["area_code"].isin(codes)
        said["fingertips_93930"] = (
            f"{path.name}: {len(gp):,} practice rows, {int(gp['count'].isna().sum())} with "
            f"the count suppressed by the publisher (kept, count empty); "
            f"{int((~keep).sum())} practices not in the pack's practices left out; counts "
            "as published (rounded to 5 by the publisher)")
        gp = gp[keep]
        years = gp["period"].str.extract(r"^(\d{4})/\d{2}$")[0]
        if years.isna().any():
            raise ContractError(str(path), "Fingertips export", "Time period",
                                "expected financial years such as 2021/22, found "
                                f"{sorted(set(gp.loc[years.isna(), 'period']))[:3]}")
        parts.append(pd.DataFrame({
            "practice_code": gp["area_code"], "indicator_id": gp["indicator_id"],
            "indicator_name": "A&E attendances, children aged 0-4",
            "year": years.astype(int), "count": gp["count"],
            "denominator": gp["denominator"], "multiplier": 1000.0, "measure": "rate",
            "unit": "per 1,000 registered children aged 0-4",
            "source": f"OHID Fingertips indicator {AE_INDICATOR} (HES/ECDS), {path.name}",
            "note": gp["note"].where(gp["note"] != "")}))
    if files.get("qof_prevalence"):
        path = files["qof_prevalence"][0]
        period = _qof_period(path)
        dropped = 0
        for group, name in QOF_REGISTERS.items():
            q = nhs_files.read_qof_prevalence(path, group)
            q = q[q["practice_code"].isin(codes)]
            over = q["register"] > q["list_size"]
            dropped += int(over.sum())
            q = q[~over]
            base = q["list_type"].map(QOF_AGE_BASE).fillna(q["list_type"])
            parts.append(pd.DataFrame({
                "practice_code": q["practice_code"], "indicator_id": f"QOF-{group}",
                "indicator_name": f"{name} register (QOF)", "year": int(period[:4]),
                "count": q["register"], "denominator": q["list_size"],
                "multiplier": 100.0, "measure": "proportion",
                "unit": "% of registered patients " + base,
                "source": f"NHS Digital QOF {period}, prevalence, {path.name}", "note": None}))
        said["qof_registers"] = (f"{path.name}: registers {', '.join(QOF_REGISTERS)} over "
                                 f"the register's list size; {dropped} rows with a register "
                                 "larger than the list left out")
    notes["indicators"] = said or "no Fingertips A&E or QOF prevalence file: no indicators"
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def _qof_period(path: Path) -> str:
    """'2020/21' from a file named qof_2020-21_….csv."""
    import re
    m = re.search(r"(20\d\d)-(\d\d)", path.name)
    if not m:
        raise ContractError(str(path), "QOF prevalence", None, "the file name does not "
                            "give the QOF year (qof_YYYY-YY_prevalence.csv)")
    return f"{m.group(1)}/{m.group(2)}"


def _successors(files: dict[str, list[Path]], pay: pd.DataFrame, practices: pd.DataFrame,
                groups: pd.DataFrame, notes: dict) -> pd.Series:
    """Successor practice of each practice classified as merged (no open file names one):
    the practice in the same network, else the same sub-area, whose registered list grew
    most from the merged practice's last year to the next, if that gain is at least 30% of
    the merged practice's list. Counts go to the provenance notes."""
    out = pd.Series(None, index=practices.index, dtype=object)
    if not files.get("closures"):
        notes["successors"] = "no closures/mergers file: no successor practices"
        return out
    merged = set(nhs_files.read_closures_mergers(files["closures"][0]).query(
        "outcome == 'merged'")["practice_code"])
    lists = pay.pivot_table(index="practice_code", columns="year",
                            values="registered_patients", aggfunc="last")
    net = groups.sort_values("joined").drop_duplicates("practice_code").set_index(
        "practice_code")["group_code"]
    pr = practices.set_index("practice_code")
    gone = pr[pr.index.isin(merged) & pr["close_date"].notna()]
    found = 0
    for code, row in gone.iterrows():
        last = int(financial_year(pd.DatetimeIndex([row["close_date"]]))[0]) - 1
        if code not in lists.index or last not in lists.columns \
                or last + 1 not in lists.columns or pd.isna(lists.loc[code, last]):
            continue
        peers = net.index[net == net.get(code)] if code in net.index else \
            pr.index[pr["sub_area_code"] == row["sub_area_code"]]
        peers = [c for c in peers if c != code and c in lists.index and c not in gone.index]
        if not peers:
            continue
        gain = (lists.loc[peers, last + 1] - lists.loc[peers, last]).dropna()
        if len(gain) and gain.max() >= 0.3 * lists.loc[code, last]:
            out[practices.index[practices["practice_code"] == code][0]] = gain.idxmax()
            found += 1
    notes["successors"] = (f"{len(merged)} practices classified as merged "
                           f"({files['closures'][0].name}); {len(gone)} of them closed in "
                           f"the window; a successor (the network or sub-area practice whose "
                           f"list grew by at least 30% of theirs the next year) found for "
                           f"{found}")
    return out


def _imd(path: Path, codes: pd.Index) -> pd.Series:
    """IMD 2019 score, else IMD 2015, else IMD 2010 (counts by edition in ``attrs``)."""
    out = pd.Series(np.nan, index=codes)
    src = {}
    for year in (2019, 2015, 2010):
        try:
            d = nhs_files.read_fingertips_imd(path, year).drop_duplicates("practice_code") \
                .set_index("practice_code")["imd_score"]
        except ContractError:
            continue
        fill = out.isna() & codes.isin(d.index)
        out[fill] = d.reindex(codes)[fill]
        src[f"IMD {year}"] = int(fill.sum())
    out.attrs["source"] = src
    return out


def _ltc(paths: list[Path], codes: pd.Index) -> pd.Series:
    """QOF registrations per 100 patients over :data:`LTC_GROUPS` (NaN where not in QOF)."""
    out = pd.Series(np.nan, index=codes)
    if not paths:
        out.attrs["note"] = "no QOF prevalence file: left empty"
        return out
    regs = []
    for g in LTC_GROUPS:
        regs.append(nhs_files.read_qof_prevalence(paths[0], g).set_index("practice_code")["register"])
    total = nhs_files.read_qof_prevalence(paths[0], "AF").set_index("practice_code")["list_size"]
    ltc = (pd.concat(regs, axis=1).sum(axis=1) / total * 100).clip(upper=100)
    out[:] = ltc.reindex(codes).round(2).to_numpy()
    out.attrs["note"] = (f"QOF {paths[0].name}: registrations on {', '.join(LTC_GROUPS)} per "
                         f"100 registered patients (a patient on two registers counts twice); "
                         f"{int(out.isna().sum())} practices not in QOF left empty")
    return out


def _groups(files: dict[str, list[Path]], codes: pd.Index, notes: dict) -> pd.DataFrame:
    """ePCN memberships of the window's practices; overlapping spells of one practice are
    cut so each ends the day before the next begins."""
    m = nhs_files.read_epcn_membership(files["epcn_members"][0])
    m = m[m["practice_code"].isin(codes) & m["joined"].notna()]
    m = m.sort_values(["practice_code", "joined", "group_code"]).drop_duplicates(
        ["practice_code", "group_code", "joined"])
    nxt = m.groupby("practice_code")["joined"].shift(-1)
    overlap = nxt.notna() & (m["left"].isna() | (m["left"] >= nxt))
    m.loc[overlap, "left"] = nxt[overlap] - pd.Timedelta(days=1)
    m = m[m["left"].isna() | (m["left"] > m["joined"])]
    notes["network_spells_cut_to_remove_overlap"] = int(overlap.sum())
    if files.get("epcn_details"):
        det = nhs_files.read_pcn_details(files["epcn_details"][0])
        notes["network_codes_in_pcn_details"] = float(m["group_code"].isin(det["group_code"])
                                                      .mean())
    notes["practices_in_a_network"] = int(m["practice_code"].nunique())
    return m.reset_index(drop=True)


def _outcomes(files: dict[str, list[Path]], pay: pd.DataFrame, codes: pd.Index,
              notes: dict) -> pd.DataFrame:
    """NHS Payments panel (every year on file) for the window's practices, with GP FTE
    from the workforce file where its year matches. A row the file marks "Part year of
    data" is left out (counted in the notes): a part year's payments over a year's list are
    not a year's payments per patient, and would rank the practice among England's lowest."""
    part = pay["part_year"].fillna(False).astype(bool) if "part_year" in pay else \
        pd.Series(False, index=pay.index)
    notes["payments_part_year_left_out"] = int((part & pay["practice_code"].isin(codes)).sum())
    p = pay[pay["practice_code"].isin(codes) & (pay["weighted_patients"] > 0) & ~part]
    out = pd.DataFrame({"practice_code": p["practice_code"], "year": p["year"],
                        "registered_patients": p["registered_patients"],
                        "weighted_patients": p["weighted_patients"],
                        "payments_gbp": p["total_payments_gbp"].clip(lower=0),
                        "gp_fte": np.nan, "satisfaction_pct": np.nan})
    out = out.drop_duplicates(["practice_code", "year"])
    if files.get("workforce"):
        w = nhs_files.read_gp_workforce(files["workforce"][0])
        # the workforce year is a calendar-year mean; attach it to the financial year
        # that ends in it (2023 → 2022/23), the latest year the payments panel covers
        w = w.assign(year=w["year"] - 1).drop_duplicates(["practice_code", "year"])
        out = out.drop(columns="gp_fte").merge(w[["practice_code", "year", "gp_fte"]],
                                               on=["practice_code", "year"], how="left")
        name = files["workforce"][0].name
        notes["gp_fte"] = (f"GP FTE (excluding locums and trainees) from {name}, calendar "
                           f"year Y attached to financial year Y−1/Y; "
                           f"{int(out['gp_fte'].notna().sum())} practice-years")
    notes["satisfaction_pct"] = "not in the open files: left empty"
    return out[["practice_code", "year", "registered_patients", "weighted_patients", "gp_fte",
                "payments_gbp", "satisfaction_pct"]].reset_index(drop=True)


def _prices(files: dict[str, list[Path]], years: list[int], notes: dict
            ) -> tuple[pd.DataFrame, pd.Series]:
    """Reference-cost unit costs for the pack's specialties in every window year (the
    latest published year carried forward unchanged where later years are missing), and
    follow-ups per first attendance from the latest year's attendance counts."""
    specs = [s[0] for s in synthetic.SPECIALTIES]
    frames = [nhs_files.read_reference_costs(f) for f in files["reference_costs"]]
    rc = pd.concat(frames, ignore_index=True)
    rc = rc[rc["specialty_code"].isin(specs)]
    have = sorted(rc["year"].unique())
    rows = []
    carried = []
    for y in years:
        src = max([h for h in have if h <= y], default=min(have))
        if src != y:
            carried.append(y)
        rows.append(rc[rc["year"] == src].assign(year=y))
    prices = pd.concat(rows, ignore_index=True)
    missing = sorted(set(specs) - set(rc["specialty_code"]))
    if missing:
        raise ContractError(str(files["reference_costs"][-1]), "reference costs (CL)",
                            "Service Code", f"no WF01A/WF01B costs for treatment functions "
                            f"{missing}")
    latest = files["reference_costs"][-1]
    df = pd.read_csv(latest, dtype=str, encoding="utf-8-sig")
    df["n"] = pd.to_numeric(df["No. of attendances"], errors="coerce")
    att = df.pivot_table(index=df["Service Code"].str.strip(),
                         columns=df["Currency Code"].str.strip(), values="n", aggfunc="sum")
    fu = (att["WF01A"] / att["WF01B"]).reindex(specs)
    notes["prices"] = (f"consultant-led outpatient unit costs (WF01B first, WF01A follow-up) "
                       f"for {have[0]}/{have[0] + 1 - 2000:02d}–{have[-1]}/"
                       f"{have[-1] + 1 - 2000:02d}; years carried forward from the latest: "
                       f"{carried or 'none'}")
    notes["follow_up_ratio"] = f"follow-ups per first attendance from {latest.name}"
    return prices[["specialty_code", "year", "price_first", "price_followup"]], fu


def build(folder: Path, out: Path, start: str = "2017-04-01", n_months: int = 60,
          seed: int = 20170401) -> Path:
    """Build the real-structure dataset in ``out`` (validated, written atomically)."""
    tables, meta = build_structure(folder, start, n_months)
    pr = tables["practices"]
    codes = pr["practice_code"].to_numpy()
    months, years, pop = meta["months"], meta["years"], meta["pop"]
    comm_codes = tables["commissioners"]["commissioner_code"].tolist()
    g = tables["groups"]
    first = g.sort_values("joined").drop_duplicates("practice_code").set_index("practice_code")
    gcodes = pd.Index(sorted(g["group_code"].unique()))
    size = g.groupby("group_code")["practice_code"].nunique().reindex(gcodes).to_numpy()
    in_group = gcodes.get_indexer(first["group_code"].reindex(codes))
    join = first["joined"].reindex(codes).to_numpy(dtype="datetime64[ns]")
    first_alive = (pop.sum(axis=(2, 3)) > 0).argmax(axis=1)
    list0 = pop.sum(axis=(2, 3))[np.arange(len(codes)), first_alive].astype(float)
    structure = synthetic.Structure(
        months, years, comm_codes, codes,
        pd.Index(comm_codes).get_indexer(pr["commissioner_code"]),
        pr["imd_score"].to_numpy(float), pr["ltc_prevalence"].to_numpy(float), list0,
        pd.DatetimeIndex(pr["open_date"]), pd.DatetimeIndex(pr["close_date"]), pop,
        in_group, size.astype(int), join)
    preset = replace(synthetic.PRESETS["england"], name="real-structure", seed=seed,
                     start=str(months[0].date()), n_months=n_months,
                     n_commissioners=len(comm_codes), n_sub_areas=len(tables["sub_areas"]),
                     n_practices=len(codes), national_history=NATIONAL_HISTORY,
                     covid_factor=COVID_REFERRALS)
    rng = np.random.default_rng(seed)
    prices = tables.pop("prices")
    filled, truth_parts = synthetic.fill(preset, rng, structure, price_table=prices,
                                         follow_up_ratio=meta["follow_up_ratio"])
    filled["prices"] = prices
    tables.update(filled)
    truth = {"scale": "natural log of the referral rate unless stated",
             "months": [str(months[0].date()), str(months[-1].date())],
             "applies_to": "the synthetic tables only: " + ", ".join(SYNTHETIC_TABLES),
             **truth_parts}
    statement = (
        "Practices, commissioners, networks, populations, deprivation, payments, workforce "
        "and outpatient costs are real published NHS data. GP referral counts and hospital "
        "providers, contracts and activity are not published at practice level; here they "
        "are synthetic, simulated on the real practices with known planted effects. "
        "Findings about referral levels, outlying practices, the effect of joining a network "
        "on referrals and contract switches illustrate the method only; they are not facts "
        "about these practices or commissioners.")
    prov = {"source": "real NHS open data with synthetic referrals and contracts",
            "real_tables": REAL_TABLES + (["indicators"] if "indicators" in tables else []), "synthetic_tables": SYNTHETIC_TABLES,
            "statement": statement, "window": truth["months"], "seed": seed,
            "input_folder": str(folder), "input_files_sha256": meta["files"],
            "derivations": meta["notes"], "generator_version": synthetic.GENERATOR_VERSION,
            # a registered list is NHS Payments' per financial year (helpers.analysis.context
            # .list_when says it so), not a count at its period's date
            "list_period": "financial_year"}
    return save_dataset(tables, out, truth=truth, provenance=prov)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the real-structure analysis dataset from "
                                             "a folder of published NHS files.")
    ap.add_argument("--from", dest="src", type=Path, required=True,
                    help="folder of published files (see config/sources.yaml)")
    ap.add_argument("--out", type=Path, default=project_root() / "data" / "real_england",
                    help="dataset folder to write (default data/real_england)")
    ap.add_argument("--start", default="2017-04-01", help="first month (1 April)")
    ap.add_argument("--months", type=int, default=60, help="number of months")
    ap.add_argument("--seed", type=int, default=20170401, help="seed of the synthetic fill")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        folder = build(a.src, a.out, a.start, a.months, a.seed)
    except (FileNotFoundError, ValueError) as e:       # ContractError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"real-structure dataset ready in {folder} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
