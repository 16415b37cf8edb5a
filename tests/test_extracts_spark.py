"""The extract aggregation is one Ibis expression: on a local Spark session it gives exactly
what DuckDB gives (tables, every count, the age-sex table), including awkward values.

Spark needs Java 17 or later; ``.ci/run`` installs it where apt is available. Where Java
cannot be installed the test skips and says so; a missing ``pyspark`` is a failure (it is a
declared dev dependency)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pandas as pd
import pytest

from helpers.sources import extracts


def _java() -> str | None:
    """Why Spark cannot run here, or None."""
    java = shutil.which("java") or (os.path.join(os.environ["JAVA_HOME"], "bin", "java")
                                    if os.environ.get("JAVA_HOME") else None)
    if not java:
        return "Java is not installed (Spark needs Java 17+; .ci/run installs it with apt)"
    out = subprocess.run([java, "-version"], capture_output=True, text=True)
    text = out.stderr + out.stdout
    try:
        major = int(text.split('"')[1].split(".")[0])
    except (IndexError, ValueError):
        return f"cannot read the Java version from: {text[:200]}"
    return None if major >= 17 else f"Java {major} found; Spark 4 needs Java 17 or later"


pytestmark = pytest.mark.skipif(_java() is not None, reason=str(_java()))

AWKWARD = """practice_code,referral_date,specialty_code,age,sex
 P00001 ,2019-04-03,100, 44 ,f
P00001,2019-02-30,100,44,F
P00001,2019/04/03,100,44,F
P00001,2019-4-3,100,44,F
P00001,2019-04-03T10:15:00,100,44,M
P00001,2019-04-03,100,44.5,M
P00001,2019-04-03,100,-1,M
P00001,2019-04-03,100,abc,M
P00001,2019-04-03,100,116,M
P00001,2019-04-03,100,,M
P00002,2019-04-03,999,30,X
,2019-04-03,100,30,F
Z99999,2019-04-03,,30,F
P00002,2019-05-31,101,115,
P00002,2041-01-01,101,30,F
"""


@pytest.fixture(scope="module")
def spark():
    con = extracts.connect("spark", threads=2)
    yield con
    con._session.stop()


def _same(a, b):
    (ta, ra), (tb, rb) = a, b
    pd.testing.assert_frame_equal(ta.reset_index(drop=True), tb.reset_index(drop=True))
    for f in ("rows_read", "rows_used", "rows_rejected", "malformed_lines", "rejected",
              "used_without_sex"):
        assert getattr(ra, f) == getattr(rb, f), f
    pd.testing.assert_frame_equal(ra.age_sex.reset_index(drop=True),
                                  rb.age_sex.reset_index(drop=True))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_spark_equals_duckdb_on_a_generated_extract(spark, tmp_path, suffix):
    practices = [f"P{i:05d}" for i in range(1, 301)]
    specialties = ["100", "101", "110", "120", "130", "300", "330", "502"]
    path = tmp_path / f"extract{suffix}"
    planted = extracts.generate_records(path, 60_000, practices, specialties, months=12,
                                        bad_share=0.004, chunk=20_000)
    args = (path, practices, specialties, "2018-04-01", "2019-03-31")
    duck = extracts.ingest(*args, with_age_sex=True)
    _same(duck, extracts.ingest(*args, with_age_sex=True, engine=spark))
    table, rep = duck
    assert rep.rows_read == 60_000 == rep.rows_used + rep.rows_rejected
    assert rep.rejected["unknown_practice"] == planted["unknown_practice"]
    assert rep.rejected["impossible_age"] == planted["impossible_age"]
    assert rep.rejected["bad_or_out_of_range_date"] == planted["bad_date"]
    assert table["referrals"].sum() == rep.rows_used


def test_spark_equals_duckdb_on_awkward_values(spark, tmp_path):
    path = tmp_path / "awkward.csv"
    path.write_text(AWKWARD)
    args = (path, ["P00001", "P00002"], ["100", "101"], "2018-04-01", "2040-12-31")
    duck = extracts.ingest(*args, with_age_sex=True)
    _same(duck, extracts.ingest(*args, with_age_sex=True, engine=spark))
    _, rep = duck
    assert rep.rows_read == 15 and rep.rows_used == 4 and rep.rows_rejected == 11
    assert rep.rejected == {"unknown_practice": 2, "unknown_specialty": 2,
                            "impossible_age": 4, "bad_or_out_of_range_date": 4}
    assert rep.used_without_sex == 1
