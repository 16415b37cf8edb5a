"""The national-table cache: tables come back as they were stored, once built they are read
(never rebuilt) until the data or the code change, a damaged file is rebuilt, a caller's
changes never reach the next caller, and a table read many times costs its memory once
(memory-mapped, shared between processes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import cache
from helpers.datasets import Dataset


class _Data(Dataset):
    """Only what the cache reads from a dataset: its content hash."""

    def __init__(self, content_hash: str):
        self.content_hash = content_hash


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PACK_DATA", str(tmp_path))
    cache._MEMO.clear()
    yield tmp_path / "cache"
    cache._MEMO.clear()


def _frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "code": [f"P{i:05d}" for i in range(n)],
        "maybe": pd.array([None if i % 7 == 0 else f"x{i}" for i in range(n)],
                          dtype="str"),
        "n": rng.integers(0, 100, n),
        "rate": rng.random(n),
        "flag": rng.random(n) > 0.5,
        "month": pd.date_range("2014-04-01", periods=n, freq="D"),
        "count": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
    })


def test_a_table_is_built_once_and_comes_back_as_stored(folder):
    calls = []

    @cache.cached
    def national(ds, scale: float) -> pd.DataFrame:
        calls.append(scale)
        return _frame().assign(rate=lambda d: d["rate"] * scale).set_index("code",
                                                                            drop=False)

    ds = _Data("abc")
    first = national(ds, 2.0)
    again = national(ds, 2.0)
    other = national(ds, 3.0)                      # other arguments: another table
    assert calls == [2.0, 3.0]
    expected = _frame().assign(rate=lambda d: d["rate"] * 2.0)
    pd.testing.assert_frame_equal(first, expected)   # the index is not kept
    pd.testing.assert_frame_equal(again, expected)
    assert other["rate"].sum() == pytest.approx(expected["rate"].sum() * 1.5)
    assert len(list(folder.rglob("*.arrow"))) == 2
    national(_Data("def"), 2.0)                    # other data: another folder
    assert calls == [2.0, 3.0, 2.0]


def test_a_callers_changes_never_reach_the_next_caller(folder):
    @cache.cached
    def national(ds) -> pd.DataFrame:
        return _frame()

    ds = _Data("abc")
    a = national(ds)
    a["rate"] = -1.0
    a.loc[0, "n"] = 12345
    a.iloc[1, a.columns.get_loc("code")] = "changed"
    b = national(ds)
    pd.testing.assert_frame_equal(b, _frame())
    cache._MEMO.clear()                             # and from the file, not the memory
    pd.testing.assert_frame_equal(national(ds), _frame())


def test_a_damaged_file_is_rebuilt_and_a_dataframe_argument_refused(folder):
    calls = []

    @cache.cached
    def national(ds) -> pd.DataFrame:
        calls.append(1)
        return _frame(10)

    ds = _Data("abc")
    national(ds)
    (path,) = folder.rglob("*.arrow")
    path.write_bytes(path.read_bytes()[:100])
    cache._MEMO.clear()
    pd.testing.assert_frame_equal(national(ds), _frame(10))
    assert len(calls) == 2

    @cache.cached
    def keyed(ds, table) -> pd.DataFrame:
        return table

    with pytest.raises(TypeError, match="cannot take a DataFrame"):
        keyed(ds, _frame(3))


def test_a_table_read_many_times_costs_its_memory_once(folder, monkeypatch):
    """Read 20 times with the in-process memory off, a 40 MB table adds well under its own
    size: its columns are views of the mapped file, not copies."""
    import psutil

    monkeypatch.setattr(cache, "MEMO_BYTES", 0)

    @cache.cached
    def big(ds) -> pd.DataFrame:
        n = 1_000_000
        return pd.DataFrame({f"c{i}": np.arange(n, dtype="float64") * i for i in range(5)})

    ds = _Data("abc")
    size = big(ds).memory_usage().sum()
    me = psutil.Process()
    before = me.memory_full_info().uss
    held = [big(ds) for _ in range(20)]
    grown = me.memory_full_info().uss - before
    assert size > 35e6 and grown < size, (grown, size)
    assert all(h["c3"].iloc[-1] == 3 * 999_999 for h in held)
