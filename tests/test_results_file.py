"""The results file's data (:func:`helpers.analysis.results.clean`): the same results give
the same bytes in every process, whatever order a set came out in."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.analysis.results import clean


def test_sets_arrays_and_missing_values_become_plain_json():
    got = clean({"codes": {"Q10", "Q02", "Q01"}, "sizes": frozenset({10, 2, 2.5}),
                 "ratios": np.array([1.0, 2.25, np.nan]), "missing": pd.NA, "when": pd.NaT})
    assert got == {"codes": ["Q01", "Q02", "Q10"], "sizes": [2, 2.5, 10],
                   "ratios": [1, 2.25, None], "missing": None, "when": None}
    json.dumps(got)                       # plain JSON


@given(st.sets(st.text(max_size=6) | st.integers(-50, 50), max_size=20), st.randoms())
@settings(max_examples=200, deadline=None)
def test_a_set_is_written_in_one_order_whatever_order_it_was_built_in(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert json.dumps(clean(set(shuffled))) == json.dumps(clean(items))


_PROGRAM = """
import json
from helpers.analysis.results import clean
codes = {f"P{i:05d}" for i in range(300)}
print(json.dumps(clean({"excluded": codes, "n": len(codes)}), indent=2, sort_keys=True))
"""


def test_two_processes_with_different_string_hashing_write_the_same_file():
    """Python orders a set of strings by their hashes, which change from one process to
    the next (as between two runs' kernels): the file must not."""
    out = [subprocess.run([sys.executable, "-c", _PROGRAM], check=True, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONHASHSEED=seed)).stdout
           for seed in ("1", "2")]
    assert out[0] == out[1] and '"P00000"' in out[0]
