"""Download published NHS open data files listed in ``config/sources.yaml``.

    python -m helpers.sources.fetch --list
    python -m helpers.sources.fetch gp_payments 2019-20 --base-url URL [--dest data/raw]

Each file is fetched from ``<base-url>/<file name>`` with retries (exponential back-off),
checked against its recorded SHA-256 and only then moved into place (atomically), so a
failed or corrupted download never leaves a file behind.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from helpers.atomic import atomic_path
from helpers.paths import config_dir, data_dir


class FetchError(RuntimeError):
    """A download failed, or its bytes are not the published file's."""


def registry() -> dict:
    return yaml.safe_load((config_dir() / "sources.yaml").read_text())


def entry(dataset: str, period: str) -> dict:
    reg = registry()
    if dataset not in reg:
        raise FetchError(f"unknown dataset '{dataset}'; known: {sorted(reg)}")
    files = reg[dataset]["files"]
    if period not in files:
        raise FetchError(f"{dataset}: no file registered for period '{period}'; "
                         f"periods: {sorted(files)}")
    return files[period]


def fetch(dataset: str, period: str, base_url: str, dest: Path | None = None,
          retries: int = 3, backoff: float = 0.5, timeout: float = 60) -> Path:
    """Download one registered file, verify its checksum and return its path."""
    e = entry(dataset, period)
    dest = Path(dest or data_dir() / "raw")
    target = dest / e["name"]
    url = f"{base_url.rstrip('/')}/{e['name']}"
    last: Exception | None = None
    for attempt in range(retries):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                body = r.read()
            break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            last = err
            time.sleep(backoff * 2 ** attempt)
    else:
        raise FetchError(f"{url}: failed after {retries} attempts ({last})")
    digest = hashlib.sha256(body).hexdigest()
    if e.get("sha256") and digest != e["sha256"]:
        raise FetchError(f"{url}: checksum {digest[:12]}… does not match the registered "
                         f"{e['sha256'][:12]}… (not the published file, or it changed)")
    with atomic_path(target) as tmp:
        tmp.write_bytes(body)
    return target


def fetch_all(base_url: str, dest: Path | None = None, **kw) -> list[Path]:
    """Every registered file of every dataset (each checked as :func:`fetch` does)."""
    return [fetch(name, period, base_url, dest, **kw)
            for name, d in registry().items() for period in d["files"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?")
    ap.add_argument("period", nargs="?")
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--dest", type=Path, default=None)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--all", action="store_true",
                    help="every registered file (what helpers.sources.real_structure reads)")
    a = ap.parse_args(argv)
    if a.all and a.base_url:
        try:
            paths = fetch_all(a.base_url, a.dest)
        except FetchError as e:
            print(f"fetch failed: {e}", file=sys.stderr)
            return 1
        print(f"downloaded {len(paths)} files to {paths[0].parent}")
        return 0
    if a.list or not a.dataset:
        for name, d in registry().items():
            print(f"{name:<22} {d['title']} — periods {', '.join(d['files'])}\n"
                  f"{'':<22} publisher page: {d['page']}")
        return 0
    if not a.base_url:
        page = registry().get(a.dataset, {}).get("page", "")
        print(f"give --base-url: the folder holding the files (publisher page: {page})",
              file=sys.stderr)
        return 2
    try:
        path = fetch(a.dataset, a.period, a.base_url, a.dest)
    except FetchError as e:
        print(f"fetch failed: {e}", file=sys.stderr)
        return 1
    print(f"downloaded {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
