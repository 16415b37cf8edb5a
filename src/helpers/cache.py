"""National analysis tables computed once per dataset and reused by every report.

Tables are stored under ``data/cache/<dataset hash>/<name>.parquet`` (or ``.json``) and written
atomically, so parallel report kernels can share them: the first to finish wins and the others
read its file. A change to the data changes the hash and so the cache folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa

from helpers.atomic import atomic_path, write_json_atomic
from helpers.datasets import Dataset
from helpers.paths import cache_dir

CACHE_VERSION = "6"  # bump when a cached computation changes


def cache_folder(ds: Dataset) -> Path:
    return cache_dir() / f"{ds.content_hash}-v{CACHE_VERSION}"


def cached_table(ds: Dataset, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Return the cached table ``name`` for this dataset, building and storing it if absent
    or unreadable (a damaged cache file is rebuilt, never used)."""
    path = cache_folder(ds) / f"{name}.parquet"
    if path.exists():
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError, pa.ArrowException):  # damaged: rebuild below
            path.unlink(missing_ok=True)
    df = build()
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return df


def cached_json(ds: Dataset, name: str, build: Callable[[], dict]) -> dict:
    """Return the cached JSON result ``name`` for this dataset, building it if absent or
    unreadable."""
    path = cache_folder(ds) / f"{name}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            path.unlink(missing_ok=True)
    obj = build()
    write_json_atomic(path, obj)
    return json.loads(path.read_text())
