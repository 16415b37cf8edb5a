"""Which environment made a run: the lock file's hash and whether the installed packages are
the ones it pins.

``uv.lock`` pins every package of the pack (the README's two commands and CI build ``.venv``
from it with ``uv sync --frozen``). A run records the lock's SHA-256 beside the package
versions; when an installed package's version is not the one the lock pins (an environment
built some other way, or changed by hand since), the manifest lists the differences and the
run's index says so. Standard library only.
"""

from __future__ import annotations

import hashlib
import tomllib
from importlib import metadata
from pathlib import Path

from helpers.paths import project_root

LOCK_FILE = "uv.lock"


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def locked_versions(lock: Path | None = None) -> dict[str, set[str]]:
    """Package name → the version(s) the lock pins (two only where a platform forks)."""
    data = tomllib.loads((lock or project_root() / LOCK_FILE).read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for p in data.get("package", []):
        if "version" in p:
            out.setdefault(_norm(p["name"]), set()).add(str(p["version"]))
    return out


def lock_status(lock: Path | None = None) -> dict:
    """The lock's SHA-256 and whether every installed package the lock names has a version
    it pins: ``{"file", "sha256", "matches", "mismatches": ["numpy 2.5.5 (locked 2.4.6)"]}``;
    ``sha256`` None and ``matches`` False when there is no lock file."""
    path = lock or project_root() / LOCK_FILE
    if not path.is_file():
        return {"file": LOCK_FILE, "sha256": None, "matches": False,
                "mismatches": [f"no {LOCK_FILE} in {path.parent}"]}
    locked = locked_versions(path)
    project = _norm(tomllib.loads((path.parent / "pyproject.toml").read_text(
        encoding="utf-8"))["project"]["name"]) if (path.parent / "pyproject.toml").is_file() \
        else ""
    mismatches = []
    for dist in metadata.distributions():
        name = _norm(dist.metadata["Name"] or "")
        if name in locked and name != project and dist.version not in locked[name]:
            mismatches.append(f"{name} {dist.version} (locked "
                              f"{' or '.join(sorted(locked[name]))})")
    return {"file": LOCK_FILE,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "matches": not mismatches, "mismatches": sorted(set(mismatches))}
