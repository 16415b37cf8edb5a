"""Where datasets come from: synthetic England, published NHS files, the real-structure build,
record-level extracts and downloads; :func:`open_source` opens any of them by name."""

from __future__ import annotations

from pathlib import Path

from helpers.datasets import Dataset, load_dataset
from helpers.paths import project_root


class DataSourceError(ValueError):
    """The data_source parameter names nothing usable."""


def open_source(data_source: str) -> Dataset:
    """``synthetic:<preset>`` (built on first use) or a dataset folder path (absolute, or
    relative to the project root)."""
    if data_source.startswith("synthetic:"):
        from helpers.sources import synthetic  # the generator's imports only when used

        preset = data_source.split(":", 1)[1]
        if preset not in synthetic.PRESETS:
            raise DataSourceError(f"unknown synthetic preset '{preset}'; "
                                  f"known: {sorted(synthetic.PRESETS)}")
        return synthetic.load(preset)
    path = Path(data_source)
    if not path.is_absolute():
        path = project_root() / path
    if not path.is_dir():
        raise DataSourceError(f"data_source folder not found: {path}")
    return load_dataset(path)
