"""Every path the pack uses, from one project-root helper (never the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

#: The project root: the folder holding ``pyproject.toml``, found from this file's location.
PROJECT_ROOT: Path = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The project root; ``PACK_ROOT`` overrides it (used by tests and installed copies)."""
    override = os.environ.get("PACK_ROOT")
    return Path(override).resolve() if override else PROJECT_ROOT


def data_dir() -> Path:
    """Folder of generated and user-supplied data (git-ignored); ``PACK_DATA`` overrides it."""
    override = os.environ.get("PACK_DATA")
    return Path(override).resolve() if override else project_root() / "data"


def synthetic_dir(preset: str) -> Path:
    """Folder holding one synthetic preset's contract tables and truth file."""
    return data_dir() / "synthetic" / preset


def cache_dir() -> Path:
    """Folder for cached national analysis tables, keyed by data hash."""
    return data_dir() / "cache"


def notebooks_dir() -> Path:
    """The report notebooks (``.ipynb`` with their jupytext ``.py`` twins)."""
    return project_root() / "notebooks"


def reports_dir() -> Path:
    """Where batch runs write their reports; ``PACK_REPORTS`` overrides it."""
    override = os.environ.get("PACK_REPORTS")
    return Path(override).resolve() if override else project_root() / "reports"


def config_dir() -> Path:
    """Grids and the registry of published sources."""
    return project_root() / "config"


def shared_dir() -> Path:
    """The shared reference folder beside the project (absent on most analysts' machines)."""
    override = os.environ.get("PACK_SHARED")
    return Path(override).resolve() if override else project_root().parent / "shared"


def real_data_dir() -> Path:
    """The published NHS files used by the real-data tests and ``make real-reports``."""
    return shared_dir() / "data" / "real"
