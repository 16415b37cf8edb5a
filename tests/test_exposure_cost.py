"""A report's exposure (months open) read from the cached table of each practice's months
in each financial year, not worked out again from every practice-month row at each
question: the same months as counting the rows."""

from __future__ import annotations

from helpers.analysis import referrals
from helpers.sources import open_source


def test_months_open_come_from_the_practice_year_table(monkeypatch):
    ds = open_source("synthetic:small")
    pm = referrals.national_tables(ds)["pm"]
    fy = pm["month"].dt.year - (pm["month"].dt.month < 4)
    years = sorted(int(y) for y in fy.unique())
    referrals.practice_year_months(ds)               # built (or read) once a dataset
    rows: list[int] = []
    real = referrals.financial_year

    def counted(dates):
        rows.append(len(dates))
        return real(dates)

    monkeypatch.setattr(referrals, "financial_year", counted)
    codes = sorted(pm["practice_code"].astype(str).unique())[:40] + ["NOT-A-PRACTICE"]
    for period in (None, years, [years[-1]], [years[0], years[-1]]):
        sel = pm if period is None else pm[fy.isin(period).to_numpy()]
        by = sel.groupby(sel["practice_code"].astype(str))["month"].nunique()
        got = referrals.months_open(ds, codes, period)
        assert got.to_dict() == by.reindex(codes, fill_value=0).astype(int).to_dict()
        assert referrals.months_open(ds, None, period).to_dict() == by.astype(int).to_dict()
        some = codes[:5]
        assert referrals.area_months_open(ds, some, period) == \
            sel.loc[sel["practice_code"].astype(str).isin(some), "month"].nunique()
    # financial years worked out for distinct months at most, never for every row
    assert max(rows, default=0) <= pm["month"].nunique() < len(pm)


def test_an_areas_months_are_found_once_a_process(monkeypatch):
    """An area's months asked for again (in each year, by the next report for England)
    come from its distinct months found once; another set of practices is looked up
    afresh, and each answer is the count of the rows' distinct months."""
    ds = open_source("synthetic:small")
    pm = referrals.national_tables(ds)["pm"]
    fy = pm["month"].dt.year - (pm["month"].dt.month < 4)
    codes = sorted(pm["practice_code"].astype(str).unique())
    monkeypatch.setattr(referrals, "_AREA_MONTHS", {})
    looked: list[int] = []
    real = referrals.rows_of

    def counted(table, wanted, *args):
        looked.append(len(wanted))
        return real(table, wanted, *args)

    monkeypatch.setattr(referrals, "rows_of", counted)
    for some in (codes[:3], codes):
        mine = pm["practice_code"].astype(str).isin(some).to_numpy()
        for year in sorted(int(y) for y in fy.unique()):
            want = pm.loc[mine & (fy == year).to_numpy(), "month"].nunique()
            assert referrals.area_months_open(ds, some, [year]) == want
        assert referrals.area_months_open(ds, list(some)) == pm.loc[mine, "month"].nunique()
    assert looked == [3, len(codes)]
