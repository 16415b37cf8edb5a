"""Loaders for published NHS open data files, as published (header quirks and all).

Each loader checks it was given the expected publication (required columns, indicator ID)
and raises :class:`~helpers.contract.ContractError` naming the file otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .contract import ContractError

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
