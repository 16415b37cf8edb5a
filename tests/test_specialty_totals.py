"""An area's referrals by specialty count every practice of the area, including those no
funnel judges (a practice expecting half a referral or less of a specialty in the period):
the specialties table's 'Referrals a year' and ratio are the area's own (the oracle's
check of the real structure found an ICB's urology 13 referrals short over five years)."""

from __future__ import annotations

import shutil

import pandas as pd

from helpers.analysis import areas
from helpers.analysis.referrals import specialty_points, specialty_table
from helpers.sources import open_source

RARE = "101"                 # Urology, made rare in 2018/19 in a copy of the small preset


def test_an_areas_specialty_referrals_count_practices_no_funnel_judges(small, tmp_path):
    """In 2018/19 only ten practices of Q01 refer to the specialty, one referral each: every
    practice of England expects far less than half a referral, so the funnel judges none,
    yet Q01's table counts its 10 referrals (and England's its 10)."""
    for p in small.path.iterdir():
        if p.is_file() and p.name != "provenance.json":
            shutil.copy(p, tmp_path / p.name)
    ref = pd.read_parquet(tmp_path / "referrals.parquet")
    q01 = areas.expand(small, "practices in Q01")
    month = pd.Timestamp("2018-05-01")
    rare = ref["specialty_code"].astype(str) == RARE
    in_year = (ref["month"] >= pd.Timestamp("2018-04-01")) & \
        (ref["month"] < pd.Timestamp("2019-04-01"))
    ten = ref["practice_code"].astype(str).isin(q01[:10]) & (ref["month"] == month)
    ref.loc[rare & in_year, "referrals"] = 0
    ref.loc[rare & in_year & ten, "referrals"] = 1
    assert int(ref.loc[rare & in_year, "referrals"].sum()) == 10
    ref.to_parquet(tmp_path / "referrals.parquet", index=False)
    ds = open_source(str(tmp_path))

    pts = specialty_points(ds, [2018])
    assert not (pts["specialty_code"].astype(str) == RARE).any()      # no funnel judges it
    for codes, want in ((q01, 10), (None, 10), (q01[10:], 0)):
        t = specialty_table(ds, [2018], codes).set_index("specialty_code")
        if want:
            row = t.loc[RARE]
            assert row["observed"] == want and row["n_practices"] == 0
            assert row["ratio"] == row["observed"] / row["expected"]
        else:
            assert RARE not in t.index or t.loc[RARE, "observed"] == 0
    # a specialty every funnel judges is unchanged: its totals are its practices'
    t = specialty_table(ds, [2018], q01).set_index("specialty_code")
    judged = pts[pts["practice_code"].astype(str).isin(q01)].groupby(
        pts["specialty_code"].astype(str))["observed"].sum()
    assert (t.loc[judged.index, "observed"] == judged).all()
