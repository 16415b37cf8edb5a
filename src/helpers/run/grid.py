"""Batch grids: a YAML file validated against a typed schema, expanded into report jobs.

A grid names every setting explicitly; nothing is filled in silently::

    data_source: synthetic:england     # synthetic:<preset> or a dataset folder
    publish: true                      # disclosure control on (true) or off (false)
    areas: all                         # all = England + every commissioner; everything =
                                       # every area at every level (a site); commissioners;
                                       # networks; practices; "networks in Q01";
                                       # "practices in Q01"; or a list of codes (any level)
    notebooks: all                     # or a list of notebook names
    parameters:                        # optional: per-notebook parameter values
      01_referral_variation: {limit: 95}

The schema is a pydantic model in strict mode (``publish:`` with no value, ``publish: "yes"``
or ``areas: Q01`` are errors, not guesses); each job's parameters are then checked against the
notebook's catalogue spec and each area code against the data. Codes are matched without
regard to case and written as the data spells them, so ``q01`` and ``Q01`` are one report.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from helpers import catalogue, params
from helpers.analysis import areas
from helpers.analysis.areas import area_table, public_codes
from helpers.analysis.context import data_kind, display_names, withheld
from helpers.paths import notebooks_dir, project_root
from helpers.run.jobs import Job, slug
from helpers.schema import ENGLAND, code_problem
from helpers.sources import DataSourceError, open_source

AREA_WORDS = ("all", "everything", "commissioners", "networks", "practices")
_IN = re.compile(r"^(networks|practices) in \S+$")


class GridError(ValueError):
    """The grid file is malformed or names something that does not exist."""


class _GridLoader(yaml.SafeLoader):
    """YAML as a grid is read: booleans only as true/false (YAML 1.1's yes/no/on/off stay
    text, so ``publish: no`` is an error rather than a silent False) and a key given twice
    is an error (plain YAML keeps the last, so ``publish: true`` then ``publish: false``
    would turn disclosure control off)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice (lines {seen[key]} and "
                    f"{key_node.start_mark.line + 1}); keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_BOOL = "tag:yaml.org,2002:bool"
_GridLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_GridLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


class Grid(BaseModel):
    """The grid file's schema: every key typed, the first four required."""

    model_config = ConfigDict(extra="forbid", strict=True)

    data_source: str
    publish: bool
    areas: str | list[str]
    notebooks: Literal["all"] | list[str]
    parameters: dict[str, dict[str, Any]] = {}

    @field_validator("areas", "notebooks", mode="before")
    @classmethod
    def _list_or_all(cls, value: Any, info) -> Any:
        words = AREA_WORDS if info.field_name == "areas" else ("all",)
        if isinstance(value, str) and value not in words and not (
                info.field_name == "areas" and _IN.match(value)):
            more = " (or commissioners, networks, practices, 'networks in Q01')" \
                if info.field_name == "areas" else ""
            raise ValueError(f"give 'all'{more} or a list, e.g. {info.field_name}: [{value}]")
        if isinstance(value, list) and not value:
            raise ValueError("the list is empty")
        if isinstance(value, list) and info.field_name == "notebooks" and \
                len(set(value)) < len(value):
            twice = sorted({v for v in value if value.count(v) > 1})
            raise ValueError(f"notebooks listed more than once: {twice}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            bad = [v for v in value if not isinstance(v, str)][0]
            raise ValueError(f"codes must be text; quote {bad!r} (YAML reads 01 as a number)")
        return value


def _describe(e: ValidationError) -> str:
    """pydantic's errors as one line per key, in the grid's own terms."""
    out = []
    for err in e.errors():
        key = ".".join(str(x) for x in err["loc"] if not str(x).startswith(("literal", "list")))
        if err["type"] == "missing":
            out.append(f"'{key}' is required")
        elif err["type"] == "extra_forbidden":
            out.append(f"unknown key '{key}' (known: {sorted(Grid.model_fields)})")
        else:
            got = "nothing" if err.get("input") is None else repr(err.get("input"))
            hint = ""
            if err["type"] == "bool_type" and str(err.get("input")).lower() in _YAML11_BOOLS:
                hint = "; write true or false (yes/no/on/off are not read as booleans here)"
            out.append(f"'{key}': {err['msg'].removeprefix('Value error, ')} (got {got})"
                       + hint)
    return "; ".join(dict.fromkeys(out))


def read_grid(path: Path) -> Grid:
    """Parse and check a grid file against :class:`Grid`; raises :class:`GridError`."""
    path = Path(path)
    if not path.is_absolute():
        path = project_root() / path
    if not path.is_file():
        raise GridError(f"grid file not found: {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_GridLoader)  # a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise GridError(f"{path}: not valid YAML{where}: "
                        f"{getattr(e, 'problem', None) or e}") from e
    except UnicodeDecodeError as e:
        raise GridError(f"{path}: not UTF-8 text; save it as UTF-8") from e
    if not isinstance(raw, dict):
        raise GridError(f"{path}: expected keys data_source, publish, areas, notebooks; "
                        f"found {type(raw).__name__}")
    try:
        return Grid.model_validate(raw)
    except ValidationError as e:
        raise GridError(f"{path}: {_describe(e)}") from e


def resolve_areas(ds, wanted: str | list[str], where: str) -> list[str]:
    """Area codes as the data spells them (case-insensitive match); unknown or repeated
    codes are errors."""
    try:
        out = areas.expand(ds, wanted)
    except areas.AreaError as e:
        raise GridError(f"{where}: {e}") from e
    repeated = sorted({a for a in out if out.count(a) > 1})
    if repeated:
        raise GridError(f"{where}: areas listed more than once (codes ignore case): {repeated}")
    if not out:
        raise GridError(f"{where}: areas '{wanted}' names no area in the data")
    return out


def check_file_names(codes: list[str], where: str) -> None:
    """Refuse areas whose report files would share a name (``P.1`` and ``P-1`` both
    ``p-1.html``: one report would overwrite the other and the index link the wrong one)."""
    files: dict[str, str] = {}
    for code in codes:
        # a dataset trusted without re-validation (written before the contract's rule for
        # codes) still cannot name a file the system refuses or hides
        problem = code_problem(code) if code != ENGLAND else None
        if problem:
            raise GridError(f"{where}: area {code[:40]!r}: {problem}; the data contract "
                            "refuses it (validate the dataset: python -m helpers.validate)")
        other = files.setdefault(slug(code), code)
        if other != code:
            raise GridError(f"{where}: areas {other} and {code} would both be written as "
                            f"'{slug(code)}.html'; codes that differ only in punctuation "
                            "cannot be reported in one run")


DATA_CODES = {"specialty": ("specialties", "specialty_code", "specialty"),
              "specialties": ("specialties", "specialty_code", "specialty"),
              "provider": ("providers", "provider_code", "provider")}
"""Parameters naming codes in the data (a value, or a list of values; 'ALL' for every one):
the table and column they are looked up in, and the word for one."""


def check_parameters_in_data(ds, notebook: str, values: dict, where: str) -> None:
    """Refuse a notebook's parameters that name a specialty or provider the data does not
    hold, before any report starts (as an unknown area is refused), instead of every report
    failing on it."""
    for name, (table, column, word) in DATA_CODES.items():
        given = values.get(name)
        if given in (None, "ALL", []) or table not in ds.tables:
            continue
        known = set(ds.tables[table][column].astype(str))
        wanted = given if isinstance(given, list) else [given]
        unknown = [str(v) for v in wanted if str(v) not in known]
        if unknown:
            raise GridError(f"{where}: {notebook}: parameter '{name}': {word} "
                            f"{', '.join(repr(u) for u in unknown)} is not in the data "
                            f"(codes such as {sorted(known)[:5]})")


def load_grid(path: Path, data_source: str | None = None) -> tuple[Grid, list[Job]]:
    """Read and validate a grid file and expand it into jobs; ``data_source`` replaces the
    grid's own. Raises :class:`GridError`."""
    grid = read_grid(path)
    if data_source:
        grid = grid.model_copy(update={"data_source": data_source})
    notebooks = catalogue.names() if grid.notebooks == "all" else grid.notebooks
    unknown = [nb for nb in grid.parameters if nb not in notebooks]
    if unknown:
        raise GridError(f"{path}: parameters given for notebooks not in this grid: {unknown}")
    try:
        ds = open_source(grid.data_source)
    except (DataSourceError, FileNotFoundError, ValueError) as e:
        raise GridError(f"{path}: data_source: {e}") from e
    lacking = {nb: [t for t in catalogue.get(nb).requires if not ds.has(t)]
               for nb in notebooks if nb in catalogue.NOTEBOOKS}
    if grid.notebooks == "all":          # a notebook about tables the data lacks: left out
        notebooks = [nb for nb in notebooks if not lacking.get(nb)]
    elif any(lacking.values()):
        nb, tables = next((k, v) for k, v in lacking.items() if v)
        raise GridError(f"{path}: notebook {nb} needs the table(s) {tables}, which "
                        f"{grid.data_source} does not have (see docs/data-contract.md)")
    codes = resolve_areas(ds, grid.areas, str(path))
    # each area resolved once, here; published under its public code (the data's own), in
    # parameters, files and index
    public = public_codes(ds, codes)
    names = {public[c]: n for c, n in display_names(ds, codes).items()}
    level_of = area_table(ds).set_index("code")["level"]
    levels = {public[c]: str(level_of.get(c, "england")) for c in codes}
    codes, kind = [public[c] for c in codes], data_kind(ds)
    check_file_names(codes, str(path))
    jobs = []
    skipped: dict[str, list[str]] = {}
    for nb in notebooks:
        try:
            entry = catalogue.get(nb)
        except params.ParameterError as e:
            raise GridError(f"{path}: {e}") from e
        nb_path = notebooks_dir() / f"{nb}.ipynb"
        if not nb_path.exists():
            raise GridError(f"{path}: notebook '{nb}' not found in {notebooks_dir()}")
        cell = params.notebook_parameters(nb_path)
        if set(cell) != set(entry.params):
            raise GridError(f"{nb}: parameters cell {sorted(cell)} does not match its "
                            f"catalogue spec {sorted(entry.params)}")
        extra = grid.parameters.get(nb, {})
        fixed = sorted(set(extra) & {"data_source", "area", "publish", "results_path"})
        if fixed:
            raise GridError(f"{path}: parameters for {nb} set {fixed}, which the grid sets "
                            "for every report (top-level data_source, areas, publish)")
        check_parameters_in_data(ds, nb, extra, str(path))
        for area in codes:
            if levels[area] not in entry.levels:     # the notebook does not serve it
                continue
            why = withheld(nb, levels[area], ds, grid.publish)
            if why:                        # not published (docs/real-data.md): said once
                skipped.setdefault(why, []).append(f"{nb}/{area}")
                continue
            values = {"data_source": grid.data_source, "area": area,
                      "publish": grid.publish, **extra}
            try:
                entry.validate(values)
            except params.ParameterError as e:
                raise GridError(f"{path}: {e}") from e
            jobs.append(Job(nb, area, values, f"{nb}/{slug(area)}", title=entry.title,
                            min_figures=entry.min_figures,
                            headline_keys=list(entry.headline_keys),
                            outputs={o.key: o.suffix for o in entry.outputs},
                            area_name=names[area], data_kind=kind, level=levels[area]))
    for why, left in skipped.items():
        print(f"{path}: {len(left)} reports not produced ({', '.join(left[:3])}"
              f"{', …' if len(left) > 3 else ''}): {why}", file=sys.stderr)
    return grid, jobs
