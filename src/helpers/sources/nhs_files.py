"""Loaders for published NHS open data files, as published (header quirks and all).

Each loader checks it was given the expected publication (required columns, indicator ID)
and raises :class:`~helpers.schema.ContractError` naming the file otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.schema import ContractError

FINGERTIPS_COLUMNS = ["Indicator ID", "Area Code", "Area Type", "Parent Code", "Time period",
                      "Count", "Denominator", "Value", "Lower CI 95.0 limit",
                      "Upper CI 95.0 limit"]


def _require(df: pd.DataFrame, cols: list[str], path: Path, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ContractError(str(path), what, missing[0],
                            f"not the expected {what} file: missing columns {missing}")


def read_fingertips_practice(path: Path, indicator_id: int | None = None) -> pd.DataFrame:
    """A Fingertips indicator CSV export, practice rows only.

    Columns: practice_code, pcn_code, period, count, denominator, value, lower95, upper95.
    Rows with a suppressed (empty) count or denominator are dropped and counted in
    ``attrs['n_suppressed']``.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    _require(df, FINGERTIPS_COLUMNS, path, "Fingertips export")
    if indicator_id is not None and not (df["Indicator ID"].str.strip() == str(indicator_id)).all():
        found = sorted(df["Indicator ID"].unique())[:3]
        raise ContractError(str(path), "Fingertips export", "Indicator ID",
                            f"expected indicator {indicator_id}, found {found}")
    gp = df[df["Area Type"].str.strip() == "GPs"].copy()
    out = pd.DataFrame({
        "practice_code": gp["Area Code"].str.strip(), "pcn_code": gp["Parent Code"].str.strip(),
        "period": gp["Time period"].str.strip(),
        "count": pd.to_numeric(gp["Count"], errors="coerce"),
        "denominator": pd.to_numeric(gp["Denominator"], errors="coerce"),
        "value": pd.to_numeric(gp["Value"], errors="coerce"),
        "lower95": pd.to_numeric(gp["Lower CI 95.0 limit"], errors="coerce"),
        "upper95": pd.to_numeric(gp["Upper CI 95.0 limit"], errors="coerce"),
    })
    bad = out["count"].isna() | out["denominator"].isna() | (out["denominator"] <= 0)
    out = out[~bad].reset_index(drop=True)
    out.attrs["n_suppressed"] = int(bad.sum())
    return out


def read_qof_prevalence(path: Path, group: str) -> pd.DataFrame:
    """QOF prevalence file: one disease group's register and list size per practice.

    Columns: practice_code, register, list_size, list_type.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    _require(df, ["PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PRACTICE_LIST_SIZE",
                  "PATIENT_LIST_TYPE"], path, "QOF prevalence")
    g = df[df["GROUP_CODE"].str.strip() == group]
    if g.empty:
        raise ContractError(str(path), "QOF prevalence", "GROUP_CODE",
                            f"no rows for group '{group}'; groups: "
                            f"{sorted(df['GROUP_CODE'].unique())}")
    out = pd.DataFrame({"practice_code": g["PRACTICE_CODE"].str.strip(),
                        "register": pd.to_numeric(g["REGISTER"]),
                        "list_size": pd.to_numeric(g["PRACTICE_LIST_SIZE"]),
                        "list_type": g["PATIENT_LIST_TYPE"].str.strip()})
    return out[out["list_size"] > 0].reset_index(drop=True)


def _col(df: pd.DataFrame, *names: str) -> str | None:
    """The first of ``names`` present in ``df`` (publications rename columns between years)."""
    for n in names:
        if n in df.columns:
            return n
    return None


def read_gp_payments(path: Path) -> pd.DataFrame:
    """NHS Payments to General Practice, one year (2014/15 – 2022/23 layouts).

    Columns: year (financial year start), practice_code, ccg_code, pcn_code (from 2019/20),
    contract_type, dispensing, rurality (from 2016/17), registered_patients,
    weighted_patients, total_payments_gbp, part_year (the file's "Atypical Characteristics"
    says "Part year of data": the practice was paid for part of the year only, so its
    payments per patient are not a year's; from 2016/17). Quirks handled: byte-order marks,
    the PCN code headed "Code" in 2022/23, rurality headed "PracticeRurality" in 2016/17,
    the atypical characteristics headed three ways, blank or "-" dates, whitespace in
    codes.
    """
    path = Path(path)
    import re
    m = re.search(r"(20\d\d)-(\d\d)", path.name)
    if not m:
        raise ContractError(str(path), "GP payments", None,
                            "file name must carry the financial year, e.g. ...2019-20.csv")
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    need = ["Practice Code", "Contract Type", "Number of Registered Patients (Last Known Figure)",
            "Number of Weighted Patients (Last Known Figure)",
            "Total NHS Payments to General Practice"]
    _require(df, need, path, "NHS Payments to General Practice")
    pcn = _col(df, "PCN Code", "Code")
    rural = _col(df, "Practice Rurality", "PracticeRurality")
    atyp = _col(df, "Atypical Characteristics", "AtypicalCharacteristics",
                "Atypical characteristics")
    num = lambda c: pd.to_numeric(df[c].str.replace(",", "").str.strip(),  # noqa: E731
                                  errors="coerce")
    out = pd.DataFrame({
        "year": int(m.group(1)),
        "practice_code": df["Practice Code"].str.strip(),
        "ccg_code": df["CCG Code"].str.strip() if "CCG Code" in df else pd.NA,
        "pcn_code": df[pcn].str.strip() if pcn else pd.NA,
        "contract_type": df["Contract Type"].str.strip().str.upper(),
        "dispensing": df["Dispensing Practice"].str.strip() if "Dispensing Practice" in df
        else pd.NA,
        "rurality": df[rural].str.strip().str.lower() if rural else pd.NA,
        "registered_patients": num("Number of Registered Patients (Last Known Figure)"),
        "weighted_patients": num("Number of Weighted Patients (Last Known Figure)"),
        "total_payments_gbp": num("Total NHS Payments to General Practice"),
        "part_year": df[atyp].fillna("").str.contains("part year", case=False)
        if atyp else False,
    })
    out = out[out["practice_code"].notna() & (out["practice_code"] != "")]
    unknown = ~out["contract_type"].isin(["GMS", "PMS", "APMS"])
    out.attrs["n_unknown_contract_type"] = int(unknown.sum())   # e.g. "UNKNOWN" in the file
    out["contract_type"] = out["contract_type"].where(~unknown)
    return out.reset_index(drop=True)


def read_gp_payments_panel(folder: Path) -> pd.DataFrame:
    """Every ``nhsd_payments_to_general_practice_YYYY-YY.csv`` in ``folder``, stacked."""
    files = sorted(Path(folder).glob("nhsd_payments_to_general_practice_20*.csv"))
    if not files:
        raise FileNotFoundError(f"no NHS Payments to General Practice files in {folder}")
    return pd.concat([read_gp_payments(f) for f in files], ignore_index=True)


def read_epcn_membership(path: Path) -> pd.DataFrame:
    """ODS ePCN core partner details: practice → PCN with start and end dates.

    Columns: practice_code, group_code, group_name, group_type ("network"), joined, left.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    need = ["Partner Organisation Code", "PCN Code", "PCN Name",
            "Practice to PCN Relationship Start Date", "Practice to PCN Relationship End Date"]
    _require(df, need, path, "ePCN core partner details")
    date = lambda c: pd.to_datetime(df[c].str.strip(), format="%Y%m%d",  # noqa: E731
                                    errors="coerce")
    return pd.DataFrame({
        "practice_code": df["Partner Organisation Code"].str.strip(),
        "group_code": df["PCN Code"].str.strip(), "group_name": df["PCN Name"].str.strip(),
        "group_type": "network",
        "joined": date("Practice to PCN Relationship Start Date"),
        "left": date("Practice to PCN Relationship End Date"),
    })


def read_gp_workforce(path: Path) -> pd.DataFrame:
    """GP workforce by practice and year (HEEC yearly aggregate of NHS Digital's files).

    Columns: practice_code, year, patients, gp_fte (excluding locums and trainees),
    gp_fte_per_1000.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    _require(df, ["Practice.Code", "Year", "TOTAL_PATIENTS", "TOTAL_GP_EXTGL_FTE"], path,
             "GP workforce")
    out = pd.DataFrame({
        "practice_code": df["Practice.Code"].str.strip(),
        "year": pd.to_numeric(df["Year"], errors="coerce"),
        "patients": pd.to_numeric(df["TOTAL_PATIENTS"], errors="coerce"),
        "gp_fte": pd.to_numeric(df["TOTAL_GP_EXTGL_FTE"], errors="coerce"),
    })
    out = out[(out["patients"] > 0) & out["gp_fte"].notna() & out["year"].notna()].copy()
    out["year"] = out["year"].astype(int)
    out["gp_fte_per_1000"] = out["gp_fte"] / out["patients"] * 1000
    return out.reset_index(drop=True)


def read_nhsbsa_list_sizes(path: Path) -> pd.DataFrame:
    """NHSBSA quarterly patient list size by sex × 9 age bands (the ASTRO-PU file).

    Long format: practice_code, period (first day of the quarter, from the file name),
    sex (F/M), nhsbsa_band, patients. Prescribing cost centres with an all-zero list
    (out-of-hours, walk-in and specialist services) are dropped.
    """
    import re

    from helpers.schema import NHSBSA_BANDS

    path = Path(path)
    m = re.search(r"(20\d\d)_(\d\d)-\d\d", path.name)
    if not m:
        raise ContractError(str(path), "NHSBSA list size", None,
                            "file name must carry the quarter, e.g. ..._2014_04-06.csv")
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    cols = [f"{s} {b}" for b in NHSBSA_BANDS for s in ("Male", "Female")]
    _require(df, ["Practice Code", *cols], path, "NHSBSA list size")
    wide = df[["Practice Code", *cols]].copy()
    wide[cols] = wide[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
    wide = wide[wide[cols].sum(axis=1) > 0]
    long = wide.melt(id_vars="Practice Code", var_name="col", value_name="patients")
    long["sex"] = long["col"].str.split(" ").str[0].map({"Male": "M", "Female": "F"})
    long["nhsbsa_band"] = long["col"].str.split(" ", n=1).str[1]
    return pd.DataFrame({"practice_code": long["Practice Code"].str.strip(),
                         "period": pd.Timestamp(f"{m.group(1)}-{m.group(2)}-01"),
                         "sex": long["sex"], "nhsbsa_band": long["nhsbsa_band"],
                         "patients": long["patients"].astype("int64")})


def split_to_five_year_bands(df: pd.DataFrame, shares: pd.Series) -> pd.DataFrame:
    """Split NHSBSA-band counts into the contract's 5-year bands in proportion to
    ``shares`` (a national population share per 5-year band), rounding so each practice's
    band totals are preserved exactly (largest remainder)."""
    import numpy as np

    from helpers.schema import NHSBSA_BANDS

    rows = []
    for band, fives in NHSBSA_BANDS.items():
        w = shares.reindex(list(fives)).fillna(0).to_numpy(float)
        w = w / w.sum() if w.sum() > 0 else np.full(len(fives), 1 / len(fives))
        sub = df[df["nhsbsa_band"] == band]
        raw = sub["patients"].to_numpy(float)[:, None] * w[None, :]
        base = np.floor(raw)
        short = (sub["patients"].to_numpy() - base.sum(axis=1)).astype(int)
        order = np.argsort(-(raw - base), axis=1)
        for k in range(len(fives)):
            base[np.arange(len(sub)), order[:, k]] += (short > k)
        for k, five in enumerate(fives):
            rows.append(pd.DataFrame({"practice_code": sub["practice_code"].to_numpy(),
                                      "period": sub["period"].to_numpy(),
                                      "sex": sub["sex"].to_numpy(), "age_band": five,
                                      "patients": base[:, k].astype("int64")}))
    return pd.concat(rows, ignore_index=True)


EPRACCUR_COLUMNS = ["practice_code", "name", "region", "stp", "addr1", "addr2", "addr3",
                    "addr4", "addr5", "postcode", "open_date", "close_date", "status",
                    "subtype", "ccg_code", "join_date", "left_date", "phone", "n19", "n20",
                    "n21", "amended", "n23", "ccg_purchaser", "n25", "setting", "n27"]


def read_epraccur(path: Path) -> pd.DataFrame:
    """ODS epraccur (no header row, 27 columns): GP practices (prescribing setting 4) with
    their commissioner and open/close dates."""
    path = Path(path)
    df = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    if df.shape[1] != 27:
        raise ContractError(str(path), "epraccur", None,
                            f"expected the 27-column header-less ODS file, found "
                            f"{df.shape[1]} columns")
    df.columns = EPRACCUR_COLUMNS
    df = df[df["setting"].str.strip() == "4"]
    date = lambda c: pd.to_datetime(df[c].str.strip().replace("", None),  # noqa: E731
                                    format="%Y%m%d", errors="coerce")
    return pd.DataFrame({"practice_code": df["practice_code"].str.strip(),
                         "practice_name": df["name"].str.strip(),
                         "commissioner_code": df["ccg_code"].str.strip(),
                         "open_date": date("open_date"), "close_date": date("close_date"),
                         "status": df["status"].str.strip()}).reset_index(drop=True)


def read_fingertips_imd(path: Path, year: int = 2019) -> pd.DataFrame:
    """OHID practice deprivation (IMD score, indicator 93553) for one IMD edition."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    _require(df, ["IndicatorID", "Year", "AreaCode", "Value"], path, "Fingertips IMD")
    if not (df["IndicatorID"].str.strip() == "93553").all():
        raise ContractError(str(path), "Fingertips IMD", "IndicatorID",
                            "expected indicator 93553 (deprivation score)")
    d = df[df["Year"].str.strip() == str(year)]
    if d.empty:
        raise ContractError(str(path), "Fingertips IMD", "Year",
                            f"no rows for IMD {year}; editions: {sorted(df['Year'].unique())}")
    return pd.DataFrame({"practice_code": d["AreaCode"].str.strip(),
                         "imd_score": pd.to_numeric(d["Value"], errors="coerce")}).dropna()


def read_reference_costs(path: Path) -> pd.DataFrame:
    """National schedule of reference costs, consultant-led outpatients (sheet CL): first
    (WF01B) and follow-up (WF01A) single-professional attendance unit costs by treatment
    function, as contract ``prices`` rows (specialty_code, year, price_first,
    price_followup). These are costs, not tariff prices."""
    import re

    path = Path(path)
    m = re.search(r"(20\d\d)-\d\d", path.name)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    _require(df, ["Currency Code", "Service Code", "National Average Unit Cost"], path,
             "reference costs (CL)")
    if not m:
        raise ContractError(str(path), "reference costs (CL)", None,
                            "file name must carry the financial year, e.g. 2016-17")
    df["cost"] = pd.to_numeric(df["National Average Unit Cost"], errors="coerce")
    df["code"] = df["Service Code"].str.strip()
    w = df[df["Currency Code"].str.strip().isin(["WF01A", "WF01B"])].pivot_table(
        index="code", columns=df["Currency Code"].str.strip(), values="cost", aggfunc="mean")
    w = w.dropna()
    return pd.DataFrame({"specialty_code": w.index, "year": int(m.group(1)),
                         "price_first": w["WF01B"].to_numpy(),
                         "price_followup": w["WF01A"].to_numpy()}).reset_index(drop=True)


def _nhsd_date(s: pd.Series, path: Path, column: str) -> pd.Series:
    """NHS Digital extract dates as published: '01JAN2021' or '1st Apr 2022'."""
    txt = s.str.strip().str.replace(r"^(\d+)(st|nd|rd|th)\b", r"\1", regex=True)
    out = pd.to_datetime(txt, format="%d%b%Y", errors="coerce")
    alt = pd.to_datetime(txt, format="%d %b %Y", errors="coerce")
    out = out.fillna(alt)
    if out.isna().any():
        bad = s[out.isna()].unique()[:3].tolist()
        raise ContractError(str(path), "Patients Registered at a GP Practice", column,
                            f"unreadable extract date(s) {bad}")
    return out


def read_gp_registered_totals(path: Path) -> pd.DataFrame:
    """NHS Digital Patients Registered at a GP Practice, practice totals
    (``gp-reg-pat-prac-all``). Columns: practice_code, period (extract date), ccg_code,
    patients. The commissioner column is ``CCG_CODE`` up to June 2022 and
    ``SUB_ICB_LOCATION_CODE`` after; both are read."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip().upper() for c in df.columns]
    _require(df, ["EXTRACT_DATE", "TYPE", "CODE", "SEX", "AGE", "NUMBER_OF_PATIENTS"], path,
             "Patients Registered at a GP Practice (totals)")
    sub = df[(df["TYPE"].str.strip() == "GP") & (df["SEX"].str.strip() == "ALL")
             & (df["AGE"].str.strip() == "ALL")]
    if sub.empty:
        raise ContractError(str(path), "Patients Registered at a GP Practice (totals)", "TYPE",
                            "no practice (TYPE = GP) rows for all ages and both sexes")
    ccg = _col(sub, "CCG_CODE", "SUB_ICB_LOCATION_CODE")
    n = pd.to_numeric(sub["NUMBER_OF_PATIENTS"].str.strip(), errors="coerce")
    if n.isna().any() or (n < 0).any():
        rows = (sub.index[n.isna() | (n < 0)] + 2).tolist()[:5]
        raise ContractError(str(path), "Patients Registered at a GP Practice (totals)",
                            "NUMBER_OF_PATIENTS", f"missing or negative counts at rows {rows}")
    return pd.DataFrame({"practice_code": sub["CODE"].str.strip(),
                         "period": _nhsd_date(sub["EXTRACT_DATE"], path, "EXTRACT_DATE"),
                         "ccg_code": sub[ccg].str.strip() if ccg else pd.NA,
                         "patients": n.astype("int64")}).reset_index(drop=True)


def _age_band(label: pd.Series) -> pd.Series:
    """'0-4 years', '0_4', '90-94', '95+ years' … → contract 5-year bands (90+ folded)."""
    from helpers.schema import AGE_BANDS

    t = label.str.strip().str.replace(" years", "", regex=False).str.replace("_", "-")
    t = t.str.replace("_PLUS", "+", regex=False).str.replace("-PLUS", "+", regex=False)
    lower = pd.to_numeric(t.str.extract(r"^(\d+)")[0], errors="coerce")
    out = pd.Series(pd.NA, index=label.index, dtype="object")
    ok = lower.notna()
    out[ok] = [AGE_BANDS[min(int(x) // 5, 18)] for x in lower[ok]]
    return out


def read_gp_registered_quinary(path: Path) -> pd.DataFrame:
    """NHS Digital Patients Registered at a GP Practice by sex and 5-year age band, as the
    contract's ``population`` rows (practice_code, period, sex, age_band, patients), with the
    90–94 and 95+ bands folded into 90+.

    Two layouts are read: NHS Digital's own (``ORG_CODE``, ``SEX`` = FEMALE/MALE/ALL,
    ``AGE_GROUP_5`` = 0_4 … 95+, ``NUMBER_OF_PATIENTS``) and the re-published one with
    ``ODS_Code``, ``Sex`` = Female/Male, ``Age_group`` = '0-4 years', ``Patients``."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    what = "Patients Registered at a GP Practice (5-year bands)"
    cols = {c.strip().upper(): c for c in df.columns}
    code = cols.get("ORG_CODE") or cols.get("ODS_CODE") or cols.get("CODE")
    sex = cols.get("SEX")
    age = cols.get("AGE_GROUP_5") or cols.get("AGE_GROUP")
    num = cols.get("NUMBER_OF_PATIENTS") or cols.get("PATIENTS")
    date = cols.get("EXTRACT_DATE")
    missing = [n for n, c in [("ORG_CODE", code), ("SEX", sex), ("AGE_GROUP_5", age),
                              ("NUMBER_OF_PATIENTS", num), ("EXTRACT_DATE", date)] if c is None]
    if missing:
        raise ContractError(str(path), what, missing[0],
                            f"not the expected {what} file: missing columns {missing}")
    if "TYPE" in cols:
        df = df[df[cols["TYPE"]].str.strip() == "GP"]
    s = df[sex].str.strip().str.upper().map({"FEMALE": "F", "MALE": "M"})
    band = _age_band(df[age])
    keep = s.notna() & band.notna()       # drops the ALL rows
    n = pd.to_numeric(df.loc[keep, num].str.strip(), errors="coerce")
    if n.isna().any() or (n < 0).any():
        rows = (n.index[n.isna() | (n < 0)] + 2).tolist()[:5]
        raise ContractError(str(path), what, num, f"missing or negative counts at rows {rows}")
    out = pd.DataFrame({"practice_code": df.loc[keep, code].str.strip(),
                        "period": _nhsd_date(df.loc[keep, date], path, date),
                        "sex": s[keep], "age_band": band[keep], "patients": n.astype("int64")})
    return out.groupby(["practice_code", "period", "sex", "age_band"], as_index=False)[
        "patients"].sum()


def read_qof_geographies(path: Path) -> pd.DataFrame:
    """QOF mapping of practices to NHS geographies (practice → PCN → CCG → STP/ICB →
    region). Columns: practice_code, practice_name, pcn_code, pcn_name, ccg_code, ccg_name,
    stp_code, stp_name, region_code, region_name."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip().upper() for c in df.columns]
    src = {"practice_code": "PRACTICE_CODE", "practice_name": "PRACTICE_NAME",
           "pcn_code": "PCN_ODS_CODE", "pcn_name": "PCN_NAME", "ccg_code": "CCG_ODS_CODE",
           "ccg_name": "CCG_NAME", "stp_code": "STP_ODS_CODE", "stp_name": "STP_NAME",
           "region_code": "REGION_ODS_CODE", "region_name": "REGION_NAME"}
    _require(df, list(src.values()), path, "QOF NHS geographies mapping")
    out = pd.DataFrame({k: df[v].str.strip() for k, v in src.items()})
    dup = out["practice_code"].duplicated(keep=False)
    if dup.any():
        raise ContractError(str(path), "QOF NHS geographies mapping", "PRACTICE_CODE",
                            f"practices listed twice at rows {(out.index[dup] + 2).tolist()[:5]}")
    return out


def read_pcn_details(path: Path) -> pd.DataFrame:
    """ODS ePCN PCN details: group_code, group_name, ccg_code, ccg_name, open_date,
    close_date, postcode."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    _require(df, ["PCN Code", "PCN Name", "Current Clinical Commissioning Group Code",
                  "Open Date", "Close Date"], path, "ePCN PCN details")
    date = lambda c: pd.to_datetime(df[c].str.strip(), format="%Y%m%d",  # noqa: E731
                                    errors="coerce")
    return pd.DataFrame({
        "group_code": df["PCN Code"].str.strip(), "group_name": df["PCN Name"].str.strip(),
        "ccg_code": df["Current Clinical Commissioning Group Code"].str.strip(),
        "ccg_name": df.get("Clinical Commissioning Group Name", pd.Series(pd.NA, df.index)
                           ).str.strip(),
        "open_date": date("Open Date"), "close_date": date("Close Date"),
        "postcode": df.get("Postcode", pd.Series(pd.NA, df.index)).str.strip(),
    })


def read_ccg_icb_lookup(path: Path) -> pd.DataFrame:
    """CCG → ICB lookup (2022): ccg_code, icb_code, icb_name."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    _require(df, ["CCG Code", "ICB Code", "ICB NAME"], path, "CCG to ICB lookup")
    return pd.DataFrame({"ccg_code": df["CCG Code"].str.strip(),
                         "icb_code": df["ICB Code"].str.strip(),
                         "icb_name": df["ICB NAME"].str.strip()})


def read_closures_mergers(path: Path) -> pd.DataFrame:
    """Practices that closed 2019–2024, each classified 'Merged' or 'Closed' (Health Equity
    Evidence Centre's research classification of the payments and ODS files). Columns:
    practice_code, outcome ('merged' or 'closed'). The file names no successor practice."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    _require(df, ["Practice.Code", "Outcome2"], path, "practice closures and mergers")
    out = pd.DataFrame({"practice_code": df["Practice.Code"].str.strip(),
                        "outcome": df["Outcome2"].str.strip().str.lower()})
    bad = ~out["outcome"].isin(["merged", "closed"])
    if bad.any():
        raise ContractError(str(path), "practice closures and mergers", "Outcome2",
                            f"expected Merged or Closed, found "
                            f"{sorted(out.loc[bad, 'outcome'].unique())[:3]}",
                            (out.index[bad] + 1).tolist())
    return out.drop_duplicates("practice_code").reset_index(drop=True)


FINGERTIPS_CI_998 = ["Lower CI 99.8 limit", "Upper CI 99.8 limit"]


def read_fingertips_export(path: Path, indicator_id: int | None = None) -> pd.DataFrame:
    """A Fingertips indicator CSV export, every row as published (practices, PCNs, England
    and its breakdowns), suppressed rows kept.

    Columns: indicator_id, indicator_name, area_code, area_name, area_type ('GPs', 'PCNs …',
    'England'), parent_code, sex, category, period, count, denominator, value, lower95,
    upper95, lower99_8, upper99_8 (blank in the file → NaN) and note (the ``Value note``,
    e.g. 'Value suppressed for disclosure control reasons'; '' where none).
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    _require(df, FINGERTIPS_COLUMNS, path, "Fingertips export")
    ids = df["Indicator ID"].str.strip()
    if indicator_id is not None and not (ids == str(indicator_id)).all():
        raise ContractError(str(path), "Fingertips export", "Indicator ID",
                            f"expected indicator {indicator_id}, found "
                            f"{sorted(ids.unique())[:3]}")

    def num(col: str) -> pd.Series:
        if col not in df.columns:
            return pd.Series(float("nan"), index=df.index)
        text = df[col].str.strip()
        out = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = out.isna() & (text != "")
        if bad.any():
            raise ContractError(str(path), "Fingertips export", col,
                                f"expected numbers, found {text[bad].head(3).tolist()}",
                                [int(i) + 1 for i in df.index[bad]])
        return out

    def txt(col: str) -> pd.Series:
        return df[col].str.strip() if col in df.columns else pd.Series("", index=df.index)

    return pd.DataFrame({
        "indicator_id": ids, "indicator_name": txt("Indicator Name"),
        "area_code": txt("Area Code"), "area_name": txt("Area Name"),
        "area_type": txt("Area Type"), "parent_code": txt("Parent Code"), "sex": txt("Sex"),
        "category": txt("Category"), "period": txt("Time period"),
        "count": num("Count"), "denominator": num("Denominator"), "value": num("Value"),
        "lower95": num("Lower CI 95.0 limit"), "upper95": num("Upper CI 95.0 limit"),
        "lower99_8": num(FINGERTIPS_CI_998[0]), "upper99_8": num(FINGERTIPS_CI_998[1]),
        "note": txt("Value note")})
