"""Shared fixtures: synthetic presets (built once and cached under data/), shared folders."""

from __future__ import annotations

import pytest

from helpers import synthetic
from helpers.paths import real_data_dir, reference_dir


@pytest.fixture(scope="session")
def small():
    """The small preset (2 commissioners, every feature present), validated."""
    return synthetic.load("small")


@pytest.fixture(scope="session")
def england():
    """Full synthetic England (built on first use, about 7 s; cached in data/synthetic)."""
    return synthetic.load("england")


@pytest.fixture(scope="session")
def ref_dir():
    d = reference_dir()
    if not d.is_dir():
        pytest.skip(f"reference cases not found at {d} (../shared is absent on this machine)")
    return d


@pytest.fixture(scope="session")
def real_dir():
    d = real_data_dir()
    if not d.is_dir():
        pytest.skip(f"real NHS open data not found at {d} (../shared is absent on this machine)")
    return d
