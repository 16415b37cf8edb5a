"""Notebook parameters: strict validation and agreement with each notebook's parameters cell."""

from __future__ import annotations

import pytest

from helpers import params
from helpers.paths import notebooks_dir

NOTEBOOKS = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_parameters_cell_matches_spec(nb):
    cell = params.notebook_parameters(notebooks_dir() / f"{nb}.ipynb")
    spec = params.spec_for(nb)
    assert set(cell) == set(spec)
    for name, value in cell.items():
        assert value == spec[name].default, name
    params.validate(nb, cell)


def test_unknown_parameter_gets_a_hint():
    with pytest.raises(params.ParameterError, match="unknown parameter 'comissioner'.*did you "
                                                    "mean 'commissioner'"):
        params.validate("01_referral_variation", {"comissioner": "Q01"})


def test_wrong_type_and_choice():
    with pytest.raises(params.ParameterError, match="'publish' must be bool"):
        params.validate("01_referral_variation", {"publish": "yes"})
    with pytest.raises(params.ParameterError, match="'limit' must be int/float, got bool"):
        params.validate("01_referral_variation", {"limit": True})
    with pytest.raises(params.ParameterError, match="not one of"):
        params.validate("01_referral_variation", {"overdispersion": "bayes"})
    with pytest.raises(params.ParameterError, match="years must be whole financial years"):
        params.validate("01_referral_variation", {"years": ["2016"]})
    with pytest.raises(params.ParameterError, match="no parameter spec"):
        params.validate("99_missing", {})


def test_report_rejects_unknown_commissioner(small):
    from helpers import report
    with pytest.raises(params.ParameterError, match="commissioner 'Q99' is not in the data"):
        report.start("00_data_overview", {"data_source": "synthetic:small",
                                          "commissioner": "Q99"})
    with pytest.raises(report.DataSourceError, match="unknown synthetic preset"):
        report.start("00_data_overview", {"data_source": "synthetic:wales"})
