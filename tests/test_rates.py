"""Frame rates as exact fractions (core.rates): the scene's (fps, fps_base) pair and the rate's text."""

from __future__ import annotations

from fractions import Fraction

import pytest

from blender_addon.core.rates import blender_fps, exact_rate, rate_of_blender_fps, rate_text, usable_fps
from blender_addon.core.settings import Settings


@pytest.mark.parametrize("rate", [24, 25, 30, 60, 12.5, 29.97, 30000 / 1001, 23.976, 59.94, 119.88,
                                  Fraction(60000, 1001), Fraction(25, 2)])
def test_blender_fps_is_the_exact_rate(rate):
    fps, base = blender_fps(rate)
    assert isinstance(fps, int) and fps >= 1
    assert rate_of_blender_fps(fps, base) == exact_rate(fps / base) == exact_rate(rate)


def test_blender_fps_of_ntsc_rates_uses_the_base_blender_offers():
    assert blender_fps(29.97) == (30, 1.001) and blender_fps(Fraction(24000, 1001)) == (24, 1.001)
    assert blender_fps(25.0) == (25, 1.0)


def test_rate_text_writes_rates_as_people_do():
    assert [rate_text(rate) for rate in (Fraction(25), Fraction(30000, 1001), Fraction(60000, 1001),
                                        Fraction(24000, 1001), Fraction(25, 2))] == ["25", "29.97", "59.94",
                                                                                    "23.976", "12.5"]


def test_settings_messages_name_the_rate_as_its_text():
    lines = Settings(delay_unit="seconds", offset_seconds=0.5).seconds_in_frames(Fraction(60000, 1001))
    assert lines == ["offset 0.5 s = 30 frames at 59.94 fps"]


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan"), float("inf"), 1000.5])
def test_implausible_rates_are_not_usable(fps):
    assert usable_fps(fps) is None
