"""The locked environment: pyproject.toml, uv.lock, the conda route's requirements file and
the Makefile agree, the installed packages are the locked ones, and a run records the lock."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers.paths import project_root
from helpers.run.environment import lock_status, locked_versions

ROOT = project_root()


def _uv() -> str:
    uv = Path(sys.executable).with_name("uv")
    if uv.exists():
        return str(uv)
    found = shutil.which("uv")
    if not found:
        pytest.skip("uv is not installed (make setup installs it into .venv)")
    return found


def test_lock_agrees_with_pyproject():
    """`uv lock --check`: fails when a dependency in pyproject.toml is not what uv.lock was
    resolved from (run `make lock` and commit both)."""
    r = subprocess.run([_uv(), "lock", "--check", "--offline"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_conda_requirements_are_the_lock_exported():
    r = subprocess.run([_uv(), "export", "--frozen", "--extra", "dev", "--no-emit-project",
                        "--quiet"], cwd=ROOT, capture_output=True, text=True, check=True)
    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]
    assert body((ROOT / "requirements.lock.txt").read_text()) == body(r.stdout), \
        "requirements.lock.txt is out of step with uv.lock: run `make lock`"


def test_environment_yml_makefile_and_pyproject_agree():
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert proj["requires-python"].startswith(">=3.11") and "<3.12" in proj["requires-python"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-r requirements.lock.txt"]
    for core in ("pandas", "statsmodels", "matplotlib", "papermill", "jupyterlab"):
        assert any(d.startswith(core) for d in proj["dependencies"]), core
    uv_pin = next(d for d in proj["optional-dependencies"]["dev"] if d.startswith("uv=="))
    make = (ROOT / "Makefile").read_text()
    assert f"UV_VERSION := {uv_pin.split('==')[1]}" in make
    assert "sync --frozen" in make                # never re-resolved by the README commands
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_one_version_of_every_package_on_linux():
    """requires-python is narrow enough that the lock does not fork by Python version, so
    every Linux machine gets the same versions."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    markers = " ".join(lock.get("resolution-markers", []))
    assert "python_full_version" not in markers, markers


def test_installed_packages_are_the_locked_ones(tmp_path):
    status = lock_status()
    assert status["sha256"] and re.fullmatch(r"[0-9a-f]{64}", status["sha256"])
    assert status["matches"], status["mismatches"]
    # a lock pinning other versions is reported, package by package
    other = (ROOT / "uv.lock").read_text().replace(
        f'name = "numpy"\nversion = "{sorted(locked_versions()["numpy"])[0]}"',
        'name = "numpy"\nversion = "0.0.1"')
    (tmp_path / "uv.lock").write_text(other)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    bad = lock_status(tmp_path / "uv.lock")
    assert not bad["matches"] and any(m.startswith("numpy ") and "locked 0.0.1" in m
                                      for m in bad["mismatches"])
    assert lock_status(tmp_path / "missing.lock")["sha256"] is None


def test_index_says_when_the_environment_differs(tmp_path):
    from helpers.run.index import _environment

    ok = _environment({"file": "uv.lock", "sha256": "a" * 64, "matches": True,
                       "mismatches": []})
    assert "environment as locked" in ok
    bad = _environment({"file": "uv.lock", "sha256": "a" * 64, "matches": False,
                        "mismatches": ["numpy 2.5.5 (locked 2.4.6)"]})
    assert "differs from uv.lock" in bad and "numpy 2.5.5 (locked 2.4.6)" in bad
