"""Every kind of bad input the pack has been tried with, and the message it gives.

Each case builds the bad input in a temporary folder and checks that the pack stops with one
clear message (naming the file, column and rows where there are any). The same cases write
``docs/bad-inputs.md``; a test fails if that page is out of date. To refresh it:
``.venv/bin/python tests/test_bad_inputs.py``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from helpers import catalogue, report
from helpers.cache import SettingError
from helpers.datasets import load_dataset
from helpers.params import ParameterError
from helpers.paths import project_root
from helpers.run import batch, cluster
from helpers.run.grid import GridError, load_grid
from helpers.schema import ContractError
from helpers.sources import extracts, synthetic

DOC = project_root() / "docs" / "bad-inputs.md"
GRID_OK = "data_source: synthetic:small\npublish: true\nareas: all\nnotebooks: all\n"


@dataclass
class Case:
    area: str
    tried: str
    run: Callable[[Path], None]
    error: type[Exception]


def _base(tmp: Path) -> Path:
    """A compact CSV dataset (twelve practices of the small preset, one quarter)."""
    ds = synthetic.load("small")
    t = {k: ds.tables[k].copy() for k in ds.tables}
    keep = t["practices"]["practice_code"].astype(str).iloc[:12]
    t["practices"] = t["practices"][t["practices"].practice_code.astype(str).isin(keep)
                                    & t["practices"].successor_code.isna()]
    for name in ("population", "referrals", "groups", "practice_outcomes"):
        t[name] = t[name][t[name].practice_code.astype(str).isin(keep)]
    t["referrals"] = t["referrals"][t["referrals"].month < "2014-07-01"]
    t["activity"] = t["activity"][t["activity"].month < "2014-07-01"]
    folder = tmp / "data"
    folder.mkdir()
    for name, df in t.items():
        df.astype({c: "string" for c in df.columns
                   if isinstance(df[c].dtype, pd.CategoricalDtype)}).to_csv(
            folder / f"{name}.csv", index=False)
    return folder


def _edit(table: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        folder = _base(tmp)
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        fn(df).to_csv(folder / f"{table}.csv", index=False)
        load_dataset(folder)
    return run


def _file(fn: Callable[[Path], None]) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        folder = _base(tmp)
        fn(folder)
        load_dataset(folder)
    return run


def _set(df, col, row, value):
    df.loc[row, col] = value
    return df


def _grid(text: str, **kw) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        p = tmp / "grid.yaml"
        p.write_text(text)
        load_grid(p, **kw)
    return run


def _batch(args: list[str]) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        p = tmp / "grid.yaml"
        p.write_text(GRID_OK)
        kw = {"only": args[1]} if args[0] == "--only" else {}
        batch.run(p, jobs_n=1, out_root=tmp / "reports", **kw)
    return run


def _start(values: dict) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        ns = {"__builtins__": __builtins__, **values,
              "In": ["", "\n".join(f"{k} = {v!r}" for k, v in values.items()), "start()"]}
        report.start("01_referral_variation", ns)
    return run


def _extract(kind: str) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        small = synthetic.load("small")
        recs = tmp / "recs.csv"
        if kind == "columns":
            recs.write_text("practice_code,referral_date\nA81001,2015-05-01\n")
            extracts.ingest(recs, ["A81001"], ["110"])
            return
        if kind == "suffix":
            recs = tmp / "recs.txt"
            recs.write_text("x")
            extracts.ingest(recs, ["A81001"], ["110"])
            return
        header = "practice_code,referral_date,specialty_code,age,sex\n"
        if kind in ("latin1", "excel"):
            if kind == "latin1":
                recs.write_bytes((header + "A81001,2015-05-01,110,45,F\n"
                                  "A8100\xe9,2015-05-01,110,45,F\n").encode("latin-1"))
            else:
                recs.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
            extracts.ingest(recs, ["A81001"], ["110"])
            return
        if kind == "header_only":
            recs.write_text(header)
            extracts.build_dataset(recs, small.path, tmp / "out")
            return
        if kind == "overwrite_other":
            out = tmp / "data"
            (out / "other_dataset").mkdir(parents=True)
            recs.write_text(header)
            extracts.check_output_folder(out, [recs, small.path], overwrite=True)
            return
        recs.write_text("practice_code,referral_date,specialty_code,age,sex\n")
        out = small.path if kind == "input" else tmp / "existing"
        if kind == "existing":
            out.mkdir()
            (out / "notes.txt").write_text("keep me")
        extracts.check_output_folder(out, [recs, small.path], overwrite=kind == "input")
    return run


CASES = [
    Case("dataset", "a required column missing (`referrals` without `referrals`)",
         _edit("referrals", lambda d: d.drop(columns="referrals")), ContractError),
    Case("dataset", "a misnamed column (`imd_scor`)",
         _edit("practices", lambda d: d.rename(columns={"imd_score": "imd_scor"})),
         ContractError),
    Case("dataset", "text in a number column", _edit("referrals", lambda d: _set(
        d, "referrals", 2, "lots")), ContractError),
    Case("dataset", "a negative count", _edit("referrals", lambda d: _set(
        d, "referrals", 4, "-3")), ContractError),
    Case("dataset", "every referral count 0", _edit("referrals", lambda d: d.assign(
        referrals="0")), ContractError),
    Case("dataset", "a fractional count", _edit("referrals", lambda d: _set(
        d, "referrals", 0, "2.5")), ContractError),
    Case("dataset", "a count of 1e15", _edit("referrals", lambda d: _set(
        d, "referrals", 3, "1e15")), ContractError),
    Case("dataset", "a count of `inf`", _edit("practice_outcomes", lambda d: _set(
        d, "payments_gbp", 1, "inf")), ContractError),
    Case("dataset", "a zero population for a practice and year", _edit(
        "population", lambda d: d.assign(patients=d["patients"].where(
            ~((d.practice_code == d.practice_code[0]) & (d.period == d.period[0])), "0"))),
        ContractError),
    Case("dataset", "a missing population", _edit("population", lambda d: _set(
        d, "patients", 7, "")), ContractError),
    Case("dataset", "duplicate keys", _edit("referrals", lambda d: pd.concat(
        [d, d.iloc[[5]]], ignore_index=True)), ContractError),
    Case("dataset", "an unknown practice code", _edit("referrals", lambda d: _set(
        d, "practice_code", 3, "Z99999")), ContractError),
    Case("dataset", "an unknown category (sex `X`)", _edit("population", lambda d: _set(
        d, "sex", 1, "X")), ContractError),
    Case("dataset", "an impossible date (30 February)", _edit("groups", lambda d: _set(
        d, "joined", 0, "2016-02-30")), ContractError),
    Case("dataset", "a day/month/year date (`13/04/2019`)", _edit("groups", lambda d: _set(
        d, "joined", 0, "13/04/2019")), ContractError),
    Case("dataset", "a month not on the 1st", _edit("referrals", lambda d: _set(
        d, "month", 0, "2014-04-15")), ContractError),
    Case("dataset", "an empty CSV file", _file(lambda f: (f / "providers.csv").write_text("")),
         ContractError),
    Case("dataset", "a table with a header and no rows", _file(lambda f: (
        f / "referrals.csv").write_text("practice_code,month,specialty_code,referrals\n")),
        ContractError),
    Case("dataset", "a folder named `providers.csv`", _file(lambda f: (
        (f / "providers.csv").unlink(), (f / "providers.csv").mkdir())), ContractError),
    Case("dataset", "a truncated parquet file", _file(lambda f: (
        pd.read_csv(f / "providers.csv").to_parquet(f / "providers.parquet"),
        (f / "providers.csv").unlink(),
        (f / "providers.parquet").write_bytes((f / "providers.parquet").read_bytes()[:200]))),
        ContractError),
    Case("dataset", "a CSV saved as Latin-1 (accented names)", _file(lambda f: (
        f / "providers.csv").write_bytes((f / "providers.csv").read_text().replace(
            "Trust 1", "Trust Sainte-Hélène").encode("latin-1"))), ContractError),
    Case("dataset", "an Excel workbook saved under a .csv name", _file(lambda f: (
        f / "providers.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 60)), ContractError),
    Case("dataset", "a count of 20 digits (`12345678901234567890`)", _edit(
        "referrals", lambda d: _set(d, "referrals", 1, "12345678901234567890")),
        ContractError),
    Case("dataset", "the same practice code in upper and lower case (`A81005`, `a81005`)",
         _edit("practices", lambda d: _set(d, "practice_code", 1,
                                           str(d.loc[0, "practice_code"]).lower())),
         ContractError),
    Case("dataset", "the same table as CSV and parquet", _file(lambda f: pd.read_csv(
        f / "providers.csv").to_parquet(f / "providers.parquet")), ContractError),
    Case("dataset", "a file that names no table (`referals.csv`)", _file(lambda f: (
        f / "referrals.csv").rename(f / "referals.csv")), ContractError),
    Case("dataset", "a practice code of 300 characters (it would name report files)",
         _edit("practices", lambda d: _set(d, "practice_code", 0, "A" * 300)), ContractError),
    Case("dataset", "a code of punctuation only (`...`, a hidden file name)",
         _edit("practices", lambda d: _set(d, "practice_code", 1, "...")), ContractError),
    Case("dataset", "a NUL character in a code", _edit("practices", lambda d: _set(
        d, "practice_code", 2, "A81\x00001")), ContractError),
    Case("dataset", "markup in a code (`<b>`)", _edit("practices", lambda d: _set(
        d, "practice_code", 0, "<b>A81001")), ContractError),
    Case("dataset", "`real_tables: 5` in provenance.json", _file(lambda f: (
        f / "provenance.json").write_text('{"real_tables": 5}')), ContractError),
    Case("dataset", "`real_tables` a string, not a list (it was matched by substring)",
         _file(lambda f: (f / "provenance.json").write_text('{"real_tables": "referrals"}')),
         ContractError),
    Case("grid", "`publish:` with no value", _grid(GRID_OK.replace("publish: true",
                                                                   "publish:")), GridError),
    Case("grid", "`publish: 'yes'`", _grid(GRID_OK.replace("publish: true",
                                                           "publish: 'yes'")), GridError),
    Case("grid", "no `notebooks` key", _grid(GRID_OK.replace("notebooks: all\n", "")),
         GridError),
    Case("grid", "`areas: Q01` (a string, not a list)", _grid(GRID_OK.replace(
        "areas: all", "areas: Q01")), GridError),
    Case("grid", "`areas: [01]` (YAML reads a number)", _grid(GRID_OK.replace(
        "areas: all", "areas: [01]")), GridError),
    Case("grid", "the same area twice in different case", _grid(GRID_OK.replace(
        "areas: all", "areas: [Q01, q01]")), GridError),
    Case("grid", "an area not in the data", _grid(GRID_OK.replace(
        "areas: all", "areas: [Q77]")), GridError),
    Case("grid", "an unknown key (`notebook:`)", _grid(GRID_OK + "notebook: [x]\n"), GridError),
    Case("grid", "a key given twice (`publish: true` then `publish: false`)", _grid(
        GRID_OK + "publish: false\n"), GridError),
    Case("grid", "`publish: no` (a YAML 1.1 boolean)", _grid(GRID_OK.replace(
        "publish: true", "publish: no")), GridError),
    Case("grid", "a notebook listed twice", _grid(GRID_OK.replace(
        "notebooks: all", "notebooks: [00_data_overview, 00_data_overview]")), GridError),
    Case("grid", "broken YAML", _grid("data_source: synthetic:small\npublish: [true\n"),
         GridError),
    Case("grid", "a misspelt parameter (`limt`)", _grid(
        GRID_OK + "parameters:\n  01_referral_variation:\n    limt: 95\n"), GridError),
    Case("grid", "a parameter of the wrong type (`limit: '95'`)", _grid(
        GRID_OK + "parameters:\n  01_referral_variation:\n    limit: '95'\n"), GridError),
    Case("grid", "a notebook's parameters overriding `publish`", _grid(
        GRID_OK + "parameters:\n  01_referral_variation:\n    publish: false\n"), GridError),
    Case("grid", "a data folder that does not exist", _grid(GRID_OK.replace(
        "synthetic:small", "data/nowhere")), GridError),
    Case("grid", "an unknown specialty in a notebook's parameters (`specialty: '999'`)",
         _grid(GRID_OK + "parameters:\n  01_referral_variation:\n    specialty: '999'\n"),
         GridError),
    Case("grid", "an unknown provider in a notebook's parameters (`provider: ZZZ`)",
         _grid(GRID_OK + "parameters:\n  03_contract_forms:\n    provider: ZZZ\n"),
         GridError),
    Case("run", "`--only` matching no report", _batch(["--only", "no-such-report"]),
         GridError),
    Case("run", "`--scheduler 'not a url'`", lambda tmp: cluster.reachable("not a url"),
         cluster.SchedulerError),
    Case("run", "`--scheduler tcp://127.0.0.1:1` (nothing listening)",
         lambda tmp: cluster.reachable("tcp://127.0.0.1:1"), cluster.SchedulerError),
    Case("environment", "`PACK_TABLE_MEMO_MB=abc`", lambda tmp: batch.check_environment(
        {"PACK_TABLE_MEMO_MB": "abc"}), SettingError),
    Case("environment", "`PACK_ROOT` a folder without the pack's notebooks",
         lambda tmp: batch.check_environment({"PACK_ROOT": str(tmp)}), SettingError),
    Case("parameters", "a misspelt parameter in a notebook (`comissioner`, also via "
         "`papermill -p`)", _start({"data_source": "synthetic:small", "comissioner": "Q01"}),
         ParameterError),
    Case("parameters", "`publish = 'yes'`", _start({"data_source": "synthetic:small",
                                                    "publish": "yes"}), ParameterError),
    Case("parameters", "an area not in the data", _start(
        {"data_source": "synthetic:small", "area": "Q99"}), ParameterError),
    Case("parameters", "an unknown contract form", lambda tmp: catalogue.get(
        "03_contract_forms").validate({"forms": ["pbr", "tariff"]}), ParameterError),
    Case("extract", "a record file without required columns", _extract("columns"),
         ContractError),
    Case("extract", "a record file that is neither CSV nor parquet", _extract("suffix"),
         ContractError),
    Case("extract", "a record file saved as Latin-1", _extract("latin1"), ContractError),
    Case("extract", "an Excel workbook named .csv", _extract("excel"), ContractError),
    Case("extract", "a record file with a header and no rows", _extract("header_only"),
         ContractError),
    Case("extract", "`--overwrite` onto a folder that is not an extract's dataset",
         _extract("overwrite_other"), ValueError),
    Case("extract", "`--out` an existing folder, without `--overwrite`",
         _extract("existing"), ValueError),
    Case("extract", "`--out` the structure folder itself (even with `--overwrite`)",
         _extract("input"), ValueError),
]


def message(case: Case, tmp: Path) -> str:
    """The message a case gives, with temporary and project paths made generic."""
    with pytest.raises(case.error) as e:
        case.run(tmp)
    text = str(e.value)
    text = text.replace(str(tmp), "<folder>").replace(str(project_root()), "<project>")
    return text


def render(rows: list[tuple[Case, str]]) -> str:
    out = ["# Bad input and what the pack says", "",
           "Every kind of bad input the pack has been tried with, and the message it stops "
           "with. Each row is a test (`tests/test_bad_inputs.py`), which also writes this page;",
           "the test fails if the page is out of date. `<folder>` is the folder being read.",
           "", "| where | bad input | message |", "| --- | --- | --- |"]
    for case, msg in rows:
        cell = msg.replace("|", "\\|").replace("\n", " ")
        out.append(f"| {case.area} | {case.tried} | {cell} |")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def messages(tmp_path_factory, small):
    rows = []
    for i, case in enumerate(CASES):
        tmp = tmp_path_factory.mktemp(f"case{i}")
        rows.append((case, message(case, tmp)))
    return rows


def test_every_bad_input_gets_one_clear_message(messages):
    for case, msg in messages:
        assert "Traceback" not in msg and len(msg) < 900, (case.tried, msg)
        if case.area == "dataset":
            assert "<folder>" in msg and "table '" in msg, (case.tried, msg)
    by = {c.tried: m for c, m in messages}
    assert "column 'referrals'" in by["text in a number column"] and "data rows 3" in \
        by["text in a number column"]
    assert "YYYY-MM-DD" in by["a day/month/year date (`13/04/2019`)"]
    assert "implausibly large" in by["a count of 1e15"]
    assert "not finite" in by["a count of `inf`"]
    assert "Excel" in by["an Excel workbook saved under a .csv name"]
    assert "UTF-8" in by["a CSV saved as Latin-1 (accented names)"]
    assert "given twice" in by["the same table as CSV and parquet"]
    assert "line 3, column 1" in by["broken YAML"]
    assert "did you mean 'area'" in by[
        "a misspelt parameter in a notebook (`comissioner`, also via `papermill -p`)"]


def test_the_doc_lists_every_case_with_its_current_message(messages):
    assert DOC.read_text() == render(messages), \
        "docs/bad-inputs.md is out of date: run .venv/bin/python tests/test_bad_inputs.py"


if __name__ == "__main__":            # write docs/bad-inputs.md
    import tempfile

    synthetic.load("small")
    rows = []
    for case in CASES:
        tmp = Path(tempfile.mkdtemp())
        try:
            rows.append((case, message(case, tmp)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    DOC.write_text(render(rows))
    print(f"wrote {DOC} ({len(rows)} cases)")
    sys.exit(0)
