"""Notebook parameters: typed specs, strict validation with clear errors, and reading them back.

Each notebook's ``parameters`` cell holds plain literals. The spec for every notebook lives in
:mod:`helpers.catalogue`; this module checks values against a spec (unknown names and wrong
types are errors, with a "did you mean" hint), reads the names and defaults from a notebook
file so the two can be compared, and finds which names a kernel was actually given (the
parameters cell plus any cell papermill injected), so a misspelt ``-p comissioner Q07`` is an
error rather than a silent default. It imports nothing from the pack but the data contract.
"""

from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter is unknown, mistyped or out of range."""


@dataclass(frozen=True)
class Param:
    """One parameter: accepted type(s), default, help text, allowed values, the type of list
    items, and an extra check returning an error message (or None)."""

    type: type | tuple[type, ...]
    default: Any
    help: str
    choices: tuple | None = None
    item_type: type | None = None
    check: Callable[[Any], str | None] | None = None

    @property
    def types(self) -> tuple[type, ...]:
        return self.type if isinstance(self.type, tuple) else (self.type,)


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


SYNONYMS = {"commissioner": "area", "icb": "area", "ccg": "area", "practice": "area",
            "network": "area", "pcn": "area", "federation": "area"}
"""Names people reach for, and the parameter they mean (used for "did you mean")."""


def unknown_names(names, spec: Mapping[str, Param], where: str) -> None:
    """Raise for the first name not in ``spec``, suggesting the closest known name (or the
    parameter a familiar synonym means: 'comissioner' → 'area')."""
    for name in names:
        if name not in spec:
            options = list(spec) + [s for s, target in SYNONYMS.items() if target in spec]
            close = difflib.get_close_matches(name.lower(), options, n=1)
            hint = ""
            if close:
                target = SYNONYMS.get(close[0], close[0])
                hint = f"; did you mean '{target}'?"
                if target != close[0]:
                    hint += f" ('{close[0]}' is given as {target})"
            raise ParameterError(f"{where}: unknown parameter '{name}'{hint} "
                                 f"(known: {sorted(spec)})")


def validate(spec: Mapping[str, Param], values: Mapping[str, Any], where: str, *,
             fill_defaults: bool = True) -> dict[str, Any]:
    """Check names, types, list items, allowed values and extra checks.

    Returns the full parameter dict (defaults filled in unless ``fill_defaults`` is False).
    Raises :class:`ParameterError` naming ``where`` (the notebook or grid file).
    """
    unknown_names(values, spec, where)
    out = {k: p.default for k, p in spec.items()} if fill_defaults else {}
    for name, value in values.items():
        p = spec[name]
        if not _is_type(value, p.types):
            names = "/".join(t.__name__ for t in p.types)
            raise ParameterError(f"{where}: parameter '{name}' must be {names}, got "
                                 f"{type(value).__name__} {value!r}")
        if p.item_type is not None:
            bad = [v for v in value if not _is_type(v, (p.item_type,))]
            if bad:
                raise ParameterError(f"{where}: parameter '{name}' must be a list of "
                                     f"{p.item_type.__name__}; got {bad[0]!r}")
        if p.choices is not None and value not in p.choices:
            raise ParameterError(f"{where}: parameter '{name}' = {value!r} is not one of "
                                 f"{list(p.choices)}")
        if p.check is not None:
            problem = p.check(value)
            if problem:
                raise ParameterError(f"{where}: parameter '{name}' {problem}; got {value!r}")
        out[name] = value
    return out


def _literal_assignments(source: str) -> dict[str, Any] | None:
    """Names and values if ``source`` only assigns literals to plain names, else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.value is not None:
            target, value = node.target, node.value
        else:
            return None
        try:
            out[target.id] = ast.literal_eval(value)
        except ValueError:
            return None
    return out


def given_names(history: list[str]) -> set[str]:
    """Names assigned by the run of literal-only cells just before the current one.

    ``history`` is IPython's ``In`` list, whose last entry is the cell running now. Walking
    back, every cell that only assigns literals (the ``parameters`` cell, papermill's
    injected-parameters cell, a cell an analyst added to override a value) contributes its
    names; the first other cell ends the run.
    """
    names: set[str] = set()
    for source in reversed(history[:-1]):
        assigned = _literal_assignments(source)
        if assigned is None:
            break
        names |= set(assigned)
    return names


def from_namespace(spec: Mapping[str, Param], namespace: Mapping[str, Any], where: str
                   ) -> dict[str, Any]:
    """The parameter values in a notebook's namespace (``globals()``), or a plain dict.

    In a kernel, names set by the parameter cells that are not in the spec are an error,
    whoever set them (a typo in the cell, ``papermill -p comissioner …``). A plain dict (not
    a module namespace) is taken as the values themselves.
    """
    if "__builtins__" not in namespace:
        return dict(namespace)
    history = namespace.get("In")
    if isinstance(history, list) and history:
        unknown_names(sorted(given_names(history)), spec, where)
    return {k: namespace[k] for k in spec if k in namespace}


def notebook_parameters(path: Path) -> dict[str, Any]:
    """Names and literal defaults of the cell tagged ``parameters`` in a notebook file
    (``.ipynb`` or its jupytext ``.py`` twin)."""
    path = Path(path)
    if path.suffix == ".py":
        import jupytext

        cells = jupytext.read(path)["cells"]
    else:
        cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            assigned = _literal_assignments(src)
            if assigned is None:
                raise ParameterError(f"{path}: the parameters cell must hold only literal "
                                     "assignments")
            return assigned
    raise ParameterError(f"{path}: no cell tagged 'parameters'")
