"""The package layout: the README's map matches the tree, layers import only downwards, and
every public statistics function documents its parameters, returns and references."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from helpers.paths import project_root

SRC = project_root() / "src" / "helpers"

#: layer of each module or subpackage; a module may import only from its own or lower layers
#: (stats sits below sources: the synthetic generator pays its simulated contracts with the
#: payment engine, stats.payments)
LAYERS = {
    "paths": 0, "atomic": 0, "schema": 0, "datasets": 0, "cache": 0, "validate": 0,
    "params": 0, "catalogue": 0, "formats": 0, "estimate": 0, "disclosure": 0, "codes": 0,
    "levels": 0, "page_scripts": 0,
    "oracle": 0.5,
    "stats": 1,
    "sources": 2,
    "analysis": 3,
    "report": 4,
    "run": 5,
}
LAYER_NAMES = {0: "core", 0.5: "oracle", 1: "stats", 2: "sources", 3: "analysis", 4: "report", 5: "run"}


def _layer(module: str) -> int:
    parts = module.removeprefix("helpers.").split(".")
    for n in (2, 1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise KeyError(f"module {module} has no layer; add it to LAYERS and docs/architecture.md")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).with_suffix("")
        parts = [x for x in rel.parts if x != "__init__"]
        if parts:
            out.append(("helpers." + ".".join(parts), p))
    return out


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("helpers"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if (SRC / full.removeprefix("helpers.").replace(".", "/")
                                   ).with_suffix(".py").exists()
                          or (SRC / full.removeprefix("helpers.").replace(".", "/")).is_dir()
                          else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("helpers")}
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; use absolute helpers.… imports")
    return found - {"helpers"}


@pytest.mark.parametrize("module,path", _modules())
def test_imports_go_downwards_only(module, path):
    mine = _layer(module)
    for imp in _imports(path):
        assert _layer(imp) <= mine, f"{module} (layer {mine}) imports {imp} " \
                                    f"(layer {_layer(imp)})"


def _graph() -> dict[str, set[str]]:
    """Every module of the pack and the pack modules it imports (at any depth of the file)."""
    return {module: _imports(path) for module, path in _modules()}


def test_no_upward_imports_and_no_cycles():
    graph = _graph()
    upward = [(m, i) for m, imps in graph.items() for i in imps if _layer(i) > _layer(m)]
    assert upward == [], f"{len(upward)} upward imports: {upward}"
    # depth-first search for a cycle among modules (a package's __init__ counts as itself)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for nxt in sorted(graph.get(m, ())):
            if nxt == m or nxt.startswith(m + "."):   # a package importing its own modules
                continue
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [m, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == [], f"{len(cycles)} import cycles: {cycles}"


def test_report_modules_present_and_compute_nothing():
    """report/ formats, words and draws: it imports nothing from stats/ or the cache, and
    no statistics library; every number it shows comes from analysis/."""
    banned = ("helpers.stats", "helpers.cache", "helpers.sources")
    for module, path in _modules():
        if not module.startswith("helpers.report"):
            continue
        mine = _imports(path)
        assert not [i for i in mine if i.startswith(banned)], f"{module} imports {mine}"
        text = path.read_text()
        for lib in ("scipy", "statsmodels", "csdid", "gpboost"):
            assert f"import {lib}" not in text and f"from {lib}" not in text, \
                f"{module} imports {lib}"


def test_oracle_is_independent():
    """The oracle recomputes each area's facts on its own: it imports only core modules,
    nothing from analysis/, report/, stats/ or sources/ (nor the cache), and no statistics
    library."""
    banned = ("helpers.analysis", "helpers.report", "helpers.stats", "helpers.sources",
              "helpers.cache", "helpers.run")
    modules = [(m, p) for m, p in _modules() if m.startswith("helpers.oracle")]
    assert len(modules) >= 3, modules
    for module, path in modules:
        mine = _imports(path)
        assert not [i for i in mine if i.startswith(banned)], f"{module} imports {mine}"
        assert all(_layer(i) == 0 or i.startswith("helpers.oracle") for i in mine), mine
        text = path.read_text()
        for lib in ("scipy", "statsmodels", "numpy", "pandas"):
            assert f"import {lib}" not in text and f"from {lib}" not in text, \
                f"{module} imports {lib}"


def test_analysis_entry_points_are_analysis_functions():
    from helpers import catalogue

    for nb in catalogue.NOTEBOOKS.values():
        module, func = nb.analysis.split(":")
        assert module.startswith("helpers.analysis."), nb.analysis
        assert callable(getattr(importlib.import_module(module), func))


def test_runner_names_no_analysis_module():
    for name in ("batch", "render", "worker", "jobs"):
        text = (SRC / "run" / f"{name}.py").read_text()
        assert "helpers.analysis" not in text and "referral_variation" not in text


def test_no_module_aliases_that_hide_their_origin():
    pattern = re.compile(r"^\s*(?:from helpers[\w.]* )?import [\w.]+ as [A-Za-z]{1,3}$", re.M)
    for p in [*SRC.rglob("*.py"), *(project_root() / "tests").glob("*.py"),
              *(project_root() / "notebooks").glob("*.py")]:
        hits = [m.group(0).strip() for m in pattern.finditer(p.read_text())
                if "helpers" in m.group(0)]
        assert not hits, f"{p}: {hits}"


def test_readme_layout_matches_the_tree():
    readme = (project_root() / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed = {line.split()[0] for line in block.splitlines() if line.strip()}
    top = {line.split()[0] for line in block.splitlines() if line and not line[0].isspace()}
    root = project_root()
    for entry in top:
        assert (root / entry).exists(), f"README layout lists {entry}, which does not exist"
    listed_roots = {entry.split("/")[0] for entry in top}
    on_disk = {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert on_disk <= listed_roots, f"folders missing from the README layout: " \
                                    f"{sorted(on_disk - listed_roots)}"
    for sub in sorted(p for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert f"{sub.name}/" in listed, f"README layout does not mention src/helpers/{sub.name}/"
    for mod in sorted(p.name for p in SRC.glob("*.py") if p.name != "__init__.py"):
        assert mod in block, f"README layout does not mention src/helpers/{mod}"


def _public_functions(package: str):
    pkg = importlib.import_module(package)
    for p in sorted(Path(pkg.__file__).parent.glob("*.py")):
        if p.name == "__init__.py":
            continue
        mod = importlib.import_module(f"{package}.{p.stem}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == mod.__name__:
                yield f"{mod.__name__}.{name}", fn


@pytest.mark.parametrize("name,fn", list(_public_functions("helpers.stats")))
def test_stats_functions_have_numpydoc_sections(name, fn):
    doc = inspect.getdoc(fn) or ""
    for section in ("Parameters", "Returns", "References"):
        assert re.search(rf"^{section}\n-{{{len(section)}}}$", doc, re.M), \
            f"{name}: no numpydoc '{section}' section"
    params_part = doc.split("\nReturns\n")[0]
    names = {n.strip() for line in re.findall(r"^([\w, ]+) :", params_part, re.M)
             for n in line.split(",")}
    for arg in inspect.signature(fn).parameters:
        assert arg in names, f"{name}: parameter '{arg}' not documented"
