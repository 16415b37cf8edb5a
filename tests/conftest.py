"""Shared fixtures: synthetic presets (built once and cached under data/), the known-answer
cases carried in ``tests/fixtures``, and the published NHS files beside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.paths import real_data_dir
from helpers.sources import synthetic

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def small():
    """The small preset (2 commissioners, every feature present), validated."""
    return synthetic.load("small")


Q01_SITE_COMMISSIONER = "Q01"
"""The small preset's smaller commissioner, whose whole site the suite renders once."""
Q01_SITE_CLOSED = "P81045"
"""A practice of the other commissioner that closed in April 2017, rendered with it."""


@pytest.fixture(scope="session")
def q01_site(tmp_path_factory, small) -> dict:
    """The whole Q01 site of the small preset, rendered once for the session by the batch
    (publish mode, every notebook, two kernels): the commissioner, its networks and its
    practices, and one closed practice of the other commissioner (with the areas above it).
    ``manifest`` is the run's; ``q01_manifest`` the same with only Q01's reports (what the
    site and download tests count); ``aside`` the folder of reports set aside as failed."""
    import json
    import time

    import yaml

    from helpers.oracle.compute import dataset_folder, load_or_compute
    from helpers.run import batch
    from helpers.run.jobs import slug

    root = tmp_path_factory.mktemp("q01-site")
    grid = root / "site.yaml"
    c = Q01_SITE_COMMISSIONER
    grid.write_text(yaml.safe_dump({
        "data_source": "synthetic:small", "publish": True, "notebooks": "all",
        "areas": [c, f"networks in {c}", f"practices in {c}", Q01_SITE_CLOSED]}))
    t0 = time.perf_counter()
    n_failed, out = batch.run(grid, jobs_n=2, run_id="site", out_root=root)
    seconds = time.perf_counter() - t0
    manifest = json.loads((out / "manifest.json").read_text())
    facts, _ = load_or_compute(dataset_folder("synthetic:small"))
    return {"out": out, "aside": root / f"site{batch.ASIDE_SUFFIX}", "n_failed": n_failed,
            "manifest": manifest, "facts": facts, "seconds": seconds,
            "areas": {r["area"] for r in manifest["reports"]},
            "q01_manifest": dict(manifest, reports=[
                r for r in manifest["reports"] if r["area"] != Q01_SITE_CLOSED]),
            # the area pages of the closed practice and the areas above it, outside Q01
            "closed_pages": {f"{slug(a)}.html" for a in (
                Q01_SITE_CLOSED, facts["practices"][Q01_SITE_CLOSED]["network"],
                facts["practices"][Q01_SITE_CLOSED]["commissioner"]) if a}}


@pytest.fixture(scope="session")
def england():
    """Full synthetic England (built on first use, about 7 s; cached in data/synthetic)."""
    return synthetic.load("england")


@pytest.fixture(scope="session")
def ref_dir() -> Path:
    """Known-answer cases from the reference implementations (see tests/fixtures/README.md)."""
    return FIXTURES / "reference"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The published NHS files (about 53 MB, kept outside the project)."""
    d = real_data_dir()
    if not d.is_dir():
        pytest.skip(f"published NHS files not found at {d} (../shared is absent on this "
                    "machine); these tests run in CI")
    return d


@pytest.fixture(scope="session")
def real_england(real_dir) -> Path:
    """The real-structure dataset ``data/real_england`` (``make real-data``), built from the
    published files on first use (about a minute) and kept, as the synthetic presets are."""
    from helpers.paths import data_dir
    from helpers.sources import real_structure

    out = data_dir() / "real_england"
    if not (out / "provenance.json").is_file():
        real_structure.build(real_dir, out)
    return out


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's browser is the system Chromium (``tests/chromium.py``), with no
    network of its own: Playwright downloads no browser."""
    from chromium import CHROMIUM, FLAGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": FLAGS}


def pytest_collection_modifyitems(items):
    """Modules with browser tests run last, each whole (its module fixtures built once).
    Playwright's sync API keeps its event loop marked as running in the main thread for the
    rest of the session (pytest-playwright's browser is session-wide), where a later test's
    ``asyncio.run`` or Tornado loop would refuse to start."""
    browser = {i.module for i in items if "playwright" in getattr(i, "fixturenames", ())}
    items[:] = ([i for i in items if i.module not in browser]
                + [i for i in items if i.module in browser])


@pytest.fixture(autouse=True)
def _close_figures():
    """Every figure a test drew is closed after it: pages built in the test process (not in
    a kernel) leave their figures open, and matplotlib warns past 20 open figures."""
    yield
    import sys
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
