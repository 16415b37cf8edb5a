"""Notebook parameters and the catalogue: strict validation, agreement of each notebook's
parameters cell with its catalogue spec, and the .py/.ipynb pairs."""

from __future__ import annotations

import json

import jupytext
import pytest

from helpers import catalogue, params
from helpers.paths import notebooks_dir

NOTEBOOKS = catalogue.names()


def test_every_notebook_is_registered_and_every_entry_has_a_notebook():
    on_disk = sorted(p.stem for p in notebooks_dir().glob("[0-9]*.ipynb"))
    twins = sorted(p.stem for p in notebooks_dir().glob("[0-9]*.py"))
    assert on_disk == twins == NOTEBOOKS


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_parameters_cell_matches_spec(nb):
    entry = catalogue.get(nb)
    for suffix in (".ipynb", ".py"):
        cell = params.notebook_parameters(notebooks_dir() / f"{nb}{suffix}")
        assert set(cell) == set(entry.params), suffix
        for name, value in cell.items():
            assert value == entry.params[name].default, (suffix, name)
        entry.validate(cell)


def _cells(nb):
    return [(c["cell_type"], "".join(c["source"]).strip(), c["metadata"].get("tags", []))
            for c in nb["cells"]]


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_notebook_pairs_agree_and_carry_no_outputs(nb):
    """The .py twin (reviewed source) and the .ipynb (what JupyterLab opens and papermill
    runs) hold the same cells; `make notebooks` rewrites the .ipynb after a .py edit."""
    ipynb = json.loads((notebooks_dir() / f"{nb}.ipynb").read_text())
    py = jupytext.read(notebooks_dir() / f"{nb}.py")
    assert _cells(ipynb) == _cells(py), f"{nb}: .py and .ipynb differ; run `make notebooks`"
    for c in ipynb["cells"]:
        if c["cell_type"] == "code":
            assert not c["outputs"] and c["execution_count"] is None, \
                f"{nb}: committed with outputs; run `make notebooks`"
    assert ipynb["metadata"]["kernelspec"]["name"] == "python3"


def test_unknown_parameter_gets_a_hint():
    with pytest.raises(params.ParameterError, match="unknown parameter 'comissioner'; did you "
                                                    "mean 'area'"):
        catalogue.get("01_referral_variation").validate({"comissioner": "Q01"})


def test_wrong_type_and_choice():
    nb = catalogue.get("01_referral_variation")
    with pytest.raises(params.ParameterError, match="'publish' must be bool"):
        nb.validate({"publish": "yes"})
    with pytest.raises(params.ParameterError, match="'limit' must be int/float, got bool"):
        nb.validate({"limit": True})
    with pytest.raises(params.ParameterError, match="not one of"):
        nb.validate({"overdispersion": "bayes"})
    with pytest.raises(params.ParameterError, match="'years' must be a list of int"):
        nb.validate({"years": ["2016"]})
    with pytest.raises(params.ParameterError, match="whole financial years"):
        nb.validate({"years": [16]})
    with pytest.raises(params.ParameterError, match="no notebook '99_missing'"):
        catalogue.get("99_missing")
    forms = catalogue.get("03_contract_forms")
    with pytest.raises(params.ParameterError, match="start_month' must be between 1 and 12"):
        forms.validate({"start_month": 13})
    with pytest.raises(params.ParameterError, match="forms' must be a non-empty list"):
        forms.validate({"forms": ["pbr", "tariff"]})


def test_given_names_reads_the_parameter_cells_before_the_current_one():
    history = ["", "get_ipython().run_line_magic('reset', '-f')",
               'data_source = "synthetic:small"\ncommissioner = "ENGLAND"\npublish = False',
               '# Parameters\ncomissioner = "Q07"\n',
               "ctx = report.start('00_data_overview', globals())"]
    assert params.given_names(history) == {"data_source", "commissioner", "publish",
                                           "comissioner"}
    # a computed cell ends the run of parameter cells
    assert params.given_names(["x = 1", "y = f(2)", "z = 3", "start()"]) == {"z"}


def test_start_rejects_a_misspelt_name_from_the_parameter_cells(small):
    from helpers import report

    ns = {"__builtins__": __builtins__, "data_source": "synthetic:small",
          "area": "ENGLAND", "comissioner": "Q01",
          "In": ["", 'data_source = "synthetic:small"\narea = "ENGLAND"',
                 'comissioner = "Q01"', "report.start(...)"]}
    with pytest.raises(params.ParameterError, match="did you mean 'area'"):
        report.start("00_data_overview", ns)
    # the same namespace without the stray cell is fine, and unrelated globals are ignored
    ns["In"] = ns["In"][:2] + ns["In"][3:]
    ctx = report.start("00_data_overview", ns)
    assert ctx.area_name == "England" and ctx.params["data_source"] == "synthetic:small"


def test_report_rejects_unknown_commissioner(small):
    from helpers import report
    with pytest.raises(params.ParameterError, match="area 'Q99' is not in the data"):
        report.start("00_data_overview", {"data_source": "synthetic:small",
                                          "area": "Q99"})
    from helpers.sources import DataSourceError
    with pytest.raises(DataSourceError, match="unknown synthetic preset"):
        report.start("00_data_overview", {"data_source": "synthetic:wales"})


def test_papermill_cli_rejects_a_misspelt_name_and_accepts_lower_case_codes(tmp_path, small):
    """`papermill … -p comissioner Q07` used to exit 0 and render England."""
    import subprocess
    import sys

    nb = notebooks_dir() / "00_data_overview.ipynb"
    base = [sys.executable, "-m", "papermill", str(nb), str(tmp_path / "out.ipynb"),
            "-k", "python3", "-l", "python", "--cwd", str(notebooks_dir()),
            "-p", "data_source", "synthetic:small"]
    bad = subprocess.run([*base, "-p", "comissioner", "Q01"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0
    assert "unknown parameter 'comissioner'; did you mean 'area'" in bad.stderr + bad.stdout
    results = tmp_path / "r.json"
    ok = subprocess.run([*base, "-p", "area", "q01", "-p", "results_path",
                         str(results)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    res = json.loads(results.read_text())
    assert res["area"] == "Synthetic ICB 01" and res["parameters"]["area"] == "Q01"
