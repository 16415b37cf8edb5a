"""WCAG contrast of chart text (helpers.report.contrast): known answers from the WCAG
definitions, and properties of the ratio."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.report import contrast

WHITE, BLACK = (255.0, 255.0, 255.0), (0.0, 0.0, 0.0)
channel = st.floats(0, 255)
colour = st.tuples(channel, channel, channel)


def test_known_ratios():
    assert contrast.contrast_ratio(BLACK, WHITE) == pytest.approx(21.0)
    assert contrast.contrast_ratio(WHITE, WHITE) == pytest.approx(1.0)
    # the lightest grey that passes 4.5:1 on white is #767676 (4.54:1); #777777 fails (4.48)
    grey76 = contrast.parse_colour("#767676")[:3]
    grey77 = contrast.parse_colour("#777")[:3]
    assert contrast.contrast_ratio(grey76, WHITE) == pytest.approx(4.54, abs=0.005)
    assert contrast.contrast_ratio(grey77, WHITE) == pytest.approx(4.48, abs=0.005)
    # sRGB's mid-grey #808080 has relative luminance 0.2159 (WCAG's formula)
    assert contrast.relative_luminance((128, 128, 128)) == pytest.approx(0.2159, abs=1e-4)


def test_colours_are_read_as_browsers_write_them():
    assert contrast.parse_colour("#005EB8") == (0, 94, 184, 1.0)
    assert contrast.parse_colour("rgb(33, 43, 50)") == (33, 43, 50, 1.0)
    assert contrast.parse_colour("rgba(0, 0, 0, 0.5)") == (0, 0, 0, 0.5)
    assert contrast.over("rgba(0, 0, 0, 0.5)", 1.0, WHITE) == (127.5, 127.5, 127.5)
    assert contrast.over("#000000", 0.25, WHITE) == (191.25, 191.25, 191.25)
    with pytest.raises(ValueError, match="not a colour"):
        contrast.parse_colour("url(#gradient)")


@given(colour, colour)
def test_the_ratio_is_symmetric_and_between_1_and_21(a, b):
    r = contrast.contrast_ratio(a, b)
    assert r == pytest.approx(contrast.contrast_ratio(b, a))
    assert 1.0 <= r <= 21.0 + 1e-9


def test_large_text_is_18pt_or_14pt_bold():
    assert contrast.minimum_ratio(24, bold=False) == 3.0          # 18 pt
    assert contrast.minimum_ratio(23.9, bold=False) == 4.5
    assert contrast.minimum_ratio(18.67, bold=True) == 3.0        # 14 pt bold
    assert contrast.minimum_ratio(18.5, bold=True) == 4.5
    assert contrast.minimum_ratio(12, bold=True) == 4.5


def test_faint_text_and_text_on_a_dark_band_are_reported():
    def sample(fill, px=9.0, weight=400, behind=(("rgb(255, 255, 255)", 1.0),)):
        return contrast.TextSample("label", fill, 1.0, px, weight, behind)

    assert contrast.text_contrast_failures([sample("#425563"), sample("#212B32")]) == []
    failures = contrast.text_contrast_failures([sample("#768692"), sample("#aeb7bd", px=30)])
    assert len(failures) == 2 and "3.7" in failures[0] and "under 4.5:1" in failures[0]
    # dark text over a dark band fails; over the same band at 10% opacity it passes
    band = (("#005EB8", 1.0), ("rgb(255, 255, 255)", 1.0))
    assert contrast.text_contrast_failures([sample("#212B32", behind=band)])
    faint_band = (("#005EB8", 0.1), ("rgb(255, 255, 255)", 1.0))
    assert contrast.text_contrast_failures([sample("#212B32", behind=faint_band)]) == []
    # a half-transparent black text on white is a mid grey
    assert contrast.sample_ratio(contrast.TextSample("x", "#000", 0.5, 9, 400, ())) \
        == pytest.approx(contrast.contrast_ratio((127.5,) * 3, WHITE))
