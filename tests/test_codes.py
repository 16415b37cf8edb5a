"""Selecting rows by code: helpers.codes.among answers exactly as pandas' isin, whatever the
dtype, missing values and codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.codes import among

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
