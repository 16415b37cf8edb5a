"""Check a dataset folder against the data contract: ``python -m helpers.validate FOLDER``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.datasets import load_dataset
from helpers.schema import ContractError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folder", type=Path)
    a = ap.parse_args(argv)
    try:
        ds = load_dataset(a.folder)
    except (ContractError, FileNotFoundError) as e:
        print(f"INVALID: {e}", file=sys.stderr)
        return 1
    print(f"valid dataset {a.folder} (hash {ds.content_hash})")
    for name, df in sorted(ds.tables.items()):
        print(f"  {name:<18} {len(df):>10,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
