"""Selecting rows by code: helpers.codes.among answers exactly as pandas' isin, whatever the
dtype, missing values and codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.codes import among, rows_of, runs

CODE = st.sampled_from(["A81001", "A81002", "B82005", "Q05", "U10015", "", "a81001"])


@given(values=st.lists(st.one_of(CODE, st.none()), max_size=40),
       codes=st.lists(st.one_of(CODE, st.none(), st.integers(0, 3)), max_size=10),
       kind=st.sampled_from(["list", "set", "series", "index", "array"]))
def test_same_answer_as_isin_on_arrow_strings(values, codes, kind):
    s = pd.Series(values, dtype="str")
    wrap = {"list": list, "set": set, "series": pd.Series, "index": pd.Index,
            "array": lambda c: np.asarray(c, dtype=object)}[kind]
    got = among(s, wrap(codes))
    assert got.dtype == bool and len(got) == len(s)
    np.testing.assert_array_equal(got, s.isin(list(codes)).to_numpy(bool))


@pytest.mark.parametrize("s", [pd.Series([1, 2, 3]), pd.Series(["x", "y", None], dtype=object),
                               pd.Series(["x", "y"], dtype="category")])
def test_other_dtypes_go_to_isin(s):
    np.testing.assert_array_equal(among(s, [2, "y"]), s.isin([2, "y"]).to_numpy(bool))


def test_a_chunked_column_and_no_string_codes():
    s = pd.concat([pd.Series(["a", "b"], dtype="str"), pd.Series(["c", None], dtype="str")],
                  ignore_index=True)
    np.testing.assert_array_equal(among(s, ["c", "a"]), [True, False, True, False])
    assert not among(s, [1, 2]).any()
    np.testing.assert_array_equal(among(s, [1, None]), [False, False, False, True])


@given(groups=st.lists(st.tuples(CODE, st.integers(1, 4)), max_size=12),
       codes=st.lists(st.one_of(CODE, st.none()), max_size=8),
       chunks=st.integers(1, 3), shuffle=st.booleans())
def test_rows_of_gives_the_rows_among_gives(groups, codes, chunks, shuffle):
    """rows_of finds the same rows, in the same order and with the same index, as a mask by
    among: on a table that keeps each code's rows together (found by where they lie), and
    on one that does not, or with a missing code (found by among)."""
    values = [c for c, n in groups for _ in range(n)]
    if shuffle:
        values = values[1::2] + values[::2]
    parts = [pd.Series(values[i::chunks], dtype="str") for i in range(chunks)]
    col = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype="str")
    table = pd.DataFrame({"practice_code": col, "n": np.arange(len(col))},
                         index=np.arange(len(col)) * 3 + 7)
    want = table[among(table["practice_code"], codes)]
    got = rows_of(table, codes)
    pd.testing.assert_frame_equal(got, want)


def test_rows_of_reads_where_each_code_lies_once_for_an_array():
    """A grouped column's runs are worked out once for its Arrow array, and a table with a
    code in two places is sliced by among."""
    table = pd.DataFrame({"practice_code": pd.Series(["A", "A", "B", "C", "C"], dtype="str"),
                          "n": range(5)})
    assert runs(table["practice_code"]) == {"A": (0, 2), "B": (2, 3), "C": (3, 5)}
    assert runs(table.copy()["practice_code"]) is runs(table["practice_code"])
    assert list(rows_of(table, ["C", "A", "Z"])["n"]) == [0, 1, 3, 4]
    apart = pd.DataFrame({"practice_code": pd.Series(["A", "B", "A"], dtype="str")})
    assert runs(apart["practice_code"]) is None
    assert list(rows_of(apart, ["A"]).index) == [0, 2]
