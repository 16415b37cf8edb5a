"""Reading and writing contract tables: dataset folders (written atomically), content hashes.

A dataset is a folder holding one file per contract table (``<table>.parquet`` or
``<table>.csv``), optionally ``truth.json`` (synthetic data) and ``provenance.json`` (which
parts are real and which synthetic). Writes go to a temporary sibling folder that is renamed
into place only when complete, so a failure never leaves half a dataset behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from helpers.atomic import atomic_path
from helpers.schema import SPECS, ContractError, validate_dataset


def _to_parquet(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.StringDtype) or out[c].dtype == object:
            out[c] = out[c].astype("string")
    out.to_parquet(path, index=False, compression="zstd")


class LazyTables(Mapping):
    """Tables read from parquet on first use (a report typically needs a few of thirteen)."""

    def __init__(self, paths: dict[str, Path]):
        self._paths = dict(paths)
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = pd.read_parquet(self._paths[name])
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        """Whether the dataset has the table, without reading it."""
        return name in self._paths

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


@dataclass
class Dataset:
    """Validated contract tables plus where they came from."""

    tables: Mapping[str, pd.DataFrame]
    path: Path | None = None
    truth: dict | None = None
    provenance: dict = field(default_factory=dict)
    content_hash: str = ""

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def has(self, table: str) -> bool:
        return table in self.tables


def _read_json(path: Path) -> dict:
    """A dataset's JSON sidecar (provenance, truth), {} if absent; a clear error if broken."""
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ContractError(str(path), path.stem, None, f"is not valid JSON ({e})",
                            fix="restore it, or delete it to load the tables without it"
                            ) from e


PROVENANCE_TEXT = ("source", "statement", "preset", "generator_version", "content_hash")
"""provenance.json fields that, when given, are text."""
PROVENANCE_LISTS = ("real_tables", "synthetic_tables")
"""provenance.json fields that, when given, are lists of table names (text)."""


def check_provenance(prov: object, source: str) -> dict:
    """``provenance.json`` as the pack reads it: an object whose text fields are text and
    whose table lists are lists of text (a string is not a list: ``"referrals" in
    "real_referrals"`` would match by substring). Raises :class:`ContractError` naming the
    field; returns ``prov``."""
    if not isinstance(prov, dict):
        raise ContractError(source, "provenance", None, f"expected a JSON object (keys such "
                            f"as {list(PROVENANCE_LISTS)}), found {type(prov).__name__}")
    for key in PROVENANCE_TEXT:
        if key in prov and prov[key] is not None and not isinstance(prov[key], str):
            raise ContractError(source, "provenance", key, f"expected text, found "
                                f"{type(prov[key]).__name__} {prov[key]!r:.60}")
    for key in PROVENANCE_LISTS:
        value = prov.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ContractError(source, "provenance", key, f"expected a list of table names "
                                f"(text), found {value!r:.60}",
                                fix=f'write it as a list, e.g. "{key}": ["referrals"]')
    return prov


def dataset_hash(folder: Path) -> str:
    """SHA-256 over the names and bytes of the dataset's table files (first 16 hex chars)."""
    h = hashlib.sha256()
    for p in sorted(Path(folder).iterdir()):
        if p.suffix in (".parquet", ".csv") and p.stem in SPECS and p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def save_dataset(tables: Mapping[str, pd.DataFrame], folder: Path, *, truth: dict | None = None,
                 provenance: dict | None = None) -> Path:
    """Validate and write every table as parquet into ``folder``, atomically."""
    valid = validate_dataset(tables)
    folder = Path(folder)
    with atomic_path(folder) as tmp:
        tmp.mkdir(parents=True)
        for name, df in valid.items():
            _to_parquet(df, tmp / f"{name}.parquet")
        if truth is not None:
            (tmp / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
        prov = dict(check_provenance(provenance or {}, "provenance"))
        prov["content_hash"] = dataset_hash(tmp)
        (tmp / "provenance.json").write_text(json.dumps(prov, indent=2, sort_keys=True) + "\n")
    return folder


def check_csv_file(path: Path, table: str, header_fix: str, parquet_name: str) -> None:
    """Refuse, with one clear message, a file named .csv that is not UTF-8 CSV text: empty,
    an Excel workbook (.xlsx, or a legacy .xls), a parquet file, or text in another encoding
    (the line of the first bad byte is named). The file is read in 1 MB chunks, so a large
    extract is checked without being held in memory."""
    import codecs

    path = Path(path)
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise ContractError(str(path), table, None, "file is empty (no header row)",
                            fix=header_fix)
    if head[:4] == b"PK\x03\x04":
        raise ContractError(str(path), table, None, "is an Excel workbook (or another zip "
                            "file) named .csv", fix="open it and save the sheet as "
                            "'CSV UTF-8 (comma delimited)'")
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ContractError(str(path), table, None, "is a legacy Excel (.xls) workbook named "
                            ".csv", fix="open it and save the sheet as 'CSV UTF-8 (comma "
                            "delimited)'")
    if head[:4] == b"PAR1":
        raise ContractError(str(path), table, None, "is a parquet file named .csv",
                            fix=f"rename it to {parquet_name}")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                line = lines + chunk[:e.start].count(b"\n") + 1
                raise ContractError(str(path), table, None,
                                    f"is not UTF-8 text (byte 0x{chunk[e.start]:02X} on line "
                                    f"{line})", fix="save it as 'CSV UTF-8'; files saved as "
                                    "Latin-1/Windows-1252 turn accented names into this "
                                    "error") from e
            lines += chunk.count(b"\n")


def _read_table(path: Path) -> pd.DataFrame:
    """Read one table file, turning every way it can be unreadable into a clear error."""
    table = path.stem
    if path.is_dir():
        raise ContractError(str(path), table, None, "is a folder, not a file",
                            fix=f"put the {table} table itself at this path")
    if path.suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError, pa.ArrowException) as e:
            raise ContractError(str(path), table, None,
                                f"cannot be read as parquet ({type(e).__name__})",
                                fix="the file is truncated or not parquet: write it again "
                                "(or supply the table as CSV)") from e
    check_csv_file(path, table, f"write a header row with the columns {SPECS[table].names}",
                   parquet_name=f"{table}.parquet")
    text = path.read_bytes().decode("utf-8-sig")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                           na_values=[""])
    except pd.errors.EmptyDataError as e:
        raise ContractError(str(path), table, None, "file has no header row",
                            fix=f"write a header row with the columns {SPECS[table].names}"
                            ) from e
    except pd.errors.ParserError as e:
        raise ContractError(str(path), table, None, f"cannot be read as CSV: {e}",
                            fix="every line needs the same number of comma-separated "
                            "fields; quote values that contain commas") from e


def _table_files(folder: Path, wanted: list[str]) -> dict[str, Path]:
    """The file holding each wanted table; a table given both as CSV and parquet is an
    error (which would win is not obvious, and a stale copy could be used silently)."""
    files: dict[str, Path] = {}
    for name in wanted:
        both = [folder / f"{name}{ext}" for ext in (".parquet", ".csv")
                if (folder / f"{name}{ext}").exists()]
        if len(both) == 2:
            raise ContractError(str(folder), name, None,
                                f"given twice, as {both[0].name} and {both[1].name}",
                                fix="keep one file per table and delete the other")
        if both:
            files[name] = both[0]
    return files


_LOADED: dict[tuple, Dataset] = {}
LOADED_MAX = 4
"""Trusted datasets (unchanged since :func:`save_dataset` wrote them) already loaded by this
process, by folder, tables and :func:`_signature`. A batch kernel loads the same dataset
for every report: reusing it skips hashing every table file (8 ms a report on synthetic
England) and keeps the tables it has read (another 8 ms)."""


def _signature(folder: Path) -> tuple:
    """The name, size, modification time and inode of each table and sidecar file: any
    write to the folder (a file replaced, edited in place, added or removed) changes it."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix in (".parquet", ".csv", ".json"):
            st = p.stat()
            out.append((p.name, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def _settled(signature: tuple, seconds: float = 2.0) -> bool:
    """Whether every file was last written over ``seconds`` ago: a file rewritten within the
    clock's granularity of its last write, at the same size, would keep its signature, so a
    folder still being written is not remembered (git's "racily clean" rule)."""
    return all(time.time_ns() - mtime > seconds * 1e9 for _, _, mtime, _ in signature)


def load_dataset(folder: Path, tables: list[str] | None = None, *,
                 validate: bool = True) -> Dataset:
    """Load a dataset folder (parquet or CSV per table) and validate it against the contract.

    ``tables`` restricts which tables are read (cross-table checks then cover only those).
    A trusted dataset this process has loaded before, unchanged since (:func:`_signature`),
    is returned as it was: the same object, with the tables it has read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {folder}")
    unknown = [p.name for p in folder.iterdir()
               if p.suffix in (".csv", ".parquet") and p.stem not in SPECS]
    if unknown:
        raise ContractError(str(folder), unknown[0], None,
                            f"file does not name a contract table; tables are {sorted(SPECS)}")
    wanted = tables or list(SPECS)
    files = _table_files(folder, wanted)
    key = (str(folder.resolve()), tuple(wanted), _signature(folder))
    if key in _LOADED:
        return _LOADED[key]
    sources = {n: str(p) for n, p in files.items()}
    prov = check_provenance(_read_json(folder / "provenance.json"),
                            str(folder / "provenance.json"))
    content_hash = dataset_hash(folder)
    # trusted: written by save_dataset and byte-for-byte unchanged since (the hash is of the
    # table files' content, so an edit in place makes the data untrusted and re-validated)
    trusted = prov.get("content_hash") == content_hash \
        and all(p.suffix == ".parquet" for p in files.values())
    truth = _read_json(folder / "truth.json") or None
    if trusted:
        # written by save_dataset (which validated it) and unchanged since: check the
        # structure from the parquet schemas, read each table only when first used
        import pyarrow.parquet as pq
        for name, path in files.items():
            cols = pq.read_schema(path).names
            absent = [c for c in SPECS[name].names if c not in cols]
            if absent:
                raise ContractError(str(path), name, absent[0], "missing required column")
        ds = Dataset(LazyTables(files), folder, truth, prov, content_hash)
        if _settled(key[2]):
            if len(_LOADED) >= LOADED_MAX:
                _LOADED.clear()
            _LOADED[key] = ds
        return ds
    frames = {name: _read_table(p) for name, p in files.items()}
    if validate:
        if tables is None:
            frames = validate_dataset(frames, sources)
        else:
            from helpers.schema import validate_table
            frames = {n: validate_table(df, n, sources[n]) for n, df in frames.items()}
    return Dataset(frames, folder, truth, prov, content_hash)
