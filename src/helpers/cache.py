"""National analysis tables computed once per dataset and reused by every report.

Decorate a function whose first argument is a :class:`~helpers.datasets.Dataset` with
:func:`cached` (it returns a DataFrame) or ``cached(kind="json")`` (it returns plain JSON
data). Its result is stored under ``data/cache/<dataset hash>-<code fingerprint>/`` with a
file name made from the function's name and a hash of its other arguments, written
atomically, so parallel report kernels can share it: the first to finish wins and the others
read its file. Nothing is keyed by hand:

* the **data** fingerprint is the dataset's content hash, so changed data is a new folder;
* the **code** fingerprint hashes the source of every module that computes (core,
  ``stats``, ``sources``, ``analysis``), so a change to any computation is a new folder
  and no stale table can be read (no version number to remember to bump);
* the **arguments** are hashed as JSON (strings, numbers, booleans, None, lists, tuples,
  dicts, timestamps); a DataFrame argument is refused, because it cannot be keyed.

A damaged cache file is rebuilt, never used.

Tables are stored as uncompressed Arrow IPC files and read **memory-mapped**: a table's
columns are views of the file's pages, which the operating system holds once for every
process that reads the file (all the kernels of a batch), so a national table costs its
memory once per machine rather than once per kernel, and reading one takes milliseconds (no
decompression). Within one process a table read is also kept, up to ``MEMO_BYTES`` in all
(least recently used dropped first), and handed out as a copy-on-write copy, so one
report's changes never reach the next (pandas copies a column before writing to it; the
mapped pages are never written); the file's size and modification time are part of the
key, so a rebuilt file is read again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from helpers.atomic import atomic_path, write_json_atomic
from helpers.datasets import Dataset
from helpers.paths import cache_dir

F = TypeVar("F", bound=Callable[..., Any])

_COMPUTING = ("stats", "sources", "analysis")
_PRESENTING = ("report", "run")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the source of every module that computes cached tables (12 hex digits)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root)
        if rel.parts[0] in _PRESENTING:
            continue
        h.update(str(rel).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


def cache_folder(ds: Dataset) -> Path:
    """This dataset's cache folder for the current code."""
    return cache_dir() / f"{ds.content_hash}-{code_fingerprint()}"


def _plain(value: Any) -> Any:
    if isinstance(value, pd.DataFrame | pd.Series):
        raise TypeError("a cached function cannot take a DataFrame or Series argument "
                        "(it cannot be keyed); pass what it is built from")
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "item"):            # numpy scalars
        return value.item()
    return str(value)                     # timestamps and the like, by their ISO text


def cache_key(func: Callable, args: tuple, kwargs: dict) -> str:
    """The file name (without suffix) of one call: function name and an argument hash."""
    payload = json.dumps({"function": f"{func.__module__}.{func.__qualname__}",
                          "args": list(args), "kwargs": kwargs},
                         sort_keys=True, default=_plain)
    return f"{func.__name__}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


class SettingError(ValueError):
    """An environment variable the pack reads holds a value it cannot use."""


def memo_megabytes(raw: str | None = None) -> float:
    """``PACK_TABLE_MEMO_MB`` (``raw``, else the environment's; 256 when unset): megabytes of
    cached tables one process may keep in memory, a number of 0 or more. Raises
    :class:`SettingError` naming the variable and what it takes."""
    raw = os.environ.get("PACK_TABLE_MEMO_MB", "") if raw is None else raw
    if not raw.strip():
        return 256.0
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not math.isfinite(mb) or mb < 0:
        raise SettingError(f"PACK_TABLE_MEMO_MB={raw!r}: give the megabytes of cached tables "
                           "one process may keep in memory, a number of 0 or more (unset: "
                           "256)")
    return mb


MEMO_BYTES: int | None = None
"""Most bytes of cached tables one process keeps in memory (``PACK_TABLE_MEMO_MB``, MB),
read on first use (so a bad value is a clear error where it is used, not at import)."""


def _memo_limit() -> int:
    global MEMO_BYTES
    if MEMO_BYTES is None:
        MEMO_BYTES = int(memo_megabytes() * 2**20)
    return MEMO_BYTES
_MEMO: OrderedDict[tuple, tuple[pd.DataFrame, int]] = OrderedDict()


def _remember(key: tuple, df: pd.DataFrame) -> None:
    size = int(df.memory_usage(index=True, deep=False).sum())
    if size > _memo_limit():
        return
    _MEMO[key] = (df, size)
    while sum(n for _, n in _MEMO.values()) > _memo_limit():
        _MEMO.popitem(last=False)


def _mapped(path: Path) -> pd.DataFrame:
    """The table in an Arrow IPC file, memory-mapped (columns are read-only views of the
    file's pages, shared by every process that maps the file; pandas copies a column
    before any write to it)."""
    with pa.memory_map(str(path), "r") as src:
        table = pa.ipc.open_file(src).read_all()
    return table.to_pandas(split_blocks=True)


def _read_table(path: Path) -> pd.DataFrame:
    """The table in ``path``: from memory when this process read the same file before (a
    copy-on-write copy, so the caller may change it freely), else mapped from the file."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    hit = _MEMO.get(key)
    if hit is not None:
        _MEMO.move_to_end(key)
        return hit[0].copy(deep=False)
    df = _mapped(path)
    _remember(key, df)
    return df.copy(deep=False)


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Store a table as an uncompressed Arrow IPC file (written atomically; the index is
    not kept)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    with atomic_path(path) as tmp:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)


def _table(path: Path, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    if path.exists():
        try:
            return _read_table(path)
        except (OSError, ValueError, pa.ArrowException):  # damaged: rebuild below
            path.unlink(missing_ok=True)
    df = build()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{path.stem}: a cached table must be a DataFrame, got "
                        f"{type(df).__name__}")
    if not path.exists():         # another process may have finished it first: keep its file
        write_table(df, path)
    return _read_table(path)      # as every later call gets it (no index; mapped)


def _json(path: Path, build: Callable[[], Any]) -> Any:
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            path.unlink(missing_ok=True)
    write_json_atomic(path, build())
    return json.loads(path.read_text())


def cached(func: F | None = None, *, kind: str = "table") -> F:
    """Cache a function of a dataset (and JSON-able arguments) once per data, code and
    arguments: ``kind`` 'table' (a DataFrame, stored as Arrow IPC) or 'json' (plain data, read
    back from its JSON so the first call and later ones return the same thing)."""
    if kind not in ("table", "json"):
        raise ValueError(f"kind must be 'table' or 'json', not {kind!r}")

    def wrap(f: F) -> F:
        @functools.wraps(f)
        def wrapper(ds: Dataset, *args, **kwargs):
            name = cache_key(f, args, kwargs)
            build = functools.partial(f, ds, *args, **kwargs)
            if kind == "table":
                return _table(cache_folder(ds) / f"{name}.arrow", build)
            return _json(cache_folder(ds) / f"{name}.json", build)
        return wrapper  # type: ignore[return-value]
    return wrap(func) if func is not None else wrap  # type: ignore[return-value]
