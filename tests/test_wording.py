"""The shared wording helpers (helpers.formats): one minus sign, one range dash, and counts
that read right at 0, 1 and 2 ("no practices", "the only practice", never "All 1
practice" or "0 practices less")."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import formats
from helpers.report import text


@pytest.mark.parametrize("label, expect", [
    ("-10%", "−10%"), ("a -3.5 change", "a −3.5 change"), ("(-£5k)", "(−£5k)"),
    ("2-4", "2–4"), ("10-20%", "10–20%"), ("1,000-2,000 patients", "1,000–2,000 patients"),
    ("5-8", "5–8"), ("9+", "9+"),
    # left alone: dates, codes, words, a spaced hyphen
    ("2019-04-01", "2019-04-01"), ("E54000-1", "E54000-1"), ("U-10", "U-10"),
    ("cap-and-collar", "cap-and-collar"), ("x-1", "x-1"), ("3 - 4", "3 - 4")])
def test_dashes_give_one_minus_sign_and_one_range_dash(label, expect):
    assert formats.dashes(label) == expect


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6),
       st.sampled_from(["", "%", " patients"]))
def test_hyphens_in_labels_read_as_the_formatters_write_them(a, b, c, unit):
    """A range and a negative number typed with ASCII hyphens read exactly as
    :func:`helpers.formats.num_range` and :func:`helpers.formats.number` write them."""
    assert formats.dashes(f"{a:,}-{b:,}{unit}") == f"{a:,}–{b:,}{unit}"
    if a < b:
        assert formats.dashes(f"{a:,}-{b:,}") == formats.num_range(a, b)
    assert formats.dashes(f"from -{c:,}{unit}") == f"from {formats.number(-c)}{unit}"


@pytest.mark.parametrize("lo, hi, kw, expect", [
    (2, 4, {}, "2–4"), (1000, 2000, {}, "1,000–2,000"), (-3, -1, {}, "−3 to −1"),
    (-3, 2, {"suffix": "%"}, "−3% to 2%"), (2, 2, {}, "2"), (2.04, 2.01, {"decimals": 1}, "2.0"),
    (5, 8, {"prefix": "£", "suffix": "k"}, "£5k–£8k")])
def test_a_range_has_one_dash_and_never_a_dash_beside_a_minus(lo, hi, kw, expect):
    assert formats.num_range(lo, hi, **kw) == expect


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.integers(0, 2))
def test_a_range_never_prints_a_hyphen_or_a_dash_minus_pair(lo, hi, d):
    got = formats.num_range(lo, hi, d)
    assert "-" not in got and "–−" not in got
    assert len(re.findall("–", got)) <= 1


@pytest.mark.parametrize("n, plural, how_many, all_of", [
    (0, "0 practices", "no practices", "no practices"),
    (1, "1 practice", "1 practice", "the only practice"),
    (2, "2 practices", "2 practices", "both practices"),
    (1200, "1,200 practices", "1,200 practices", "all 1,200 practices")])
def test_counts_of_things_read_right_at_0_1_and_2(n, plural, how_many, all_of):
    assert formats.plural(n, "practice") == text.plural(n, "practice") == plural
    assert formats.how_many(n, "practice") == text.how_many(n, "practice") == how_many
    assert formats.all_of(n, "practice") == all_of
    assert formats.capital(formats.all_of(n, "practice")) == all_of[0].upper() + all_of[1:]
    assert "All 1 " not in formats.capital(formats.all_of(n, "practice"))


def test_irregular_plurals_and_capitals_keep_their_case():
    assert formats.how_many(0, "specialty", "specialties") == "no specialties"
    assert formats.all_of(3, "specialty", "specialties") == "all 3 specialties"
    assert formats.capital("all 3 ICBs") == "All 3 ICBs"       # str.capitalize: 'icbs'
    assert formats.capital("") == ""
