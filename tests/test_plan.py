"""The resolved plan (core.plan): one render's settings resolved against its clip, read by every stage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from blender_addon.core.effect import MotionEffect, trail_decay_table
from blender_addon.core.plan import resolve
from blender_addon.core.settings import Settings, SettingsError
from blender_addon.core.timing import COMBINE, FramePlan, FrameRangeError, plan_frames, trail_decay, trail_length


def test_a_plan_holds_what_the_stages_read():
    settings = Settings(offset=2, time_colour=True, red_delay=1, green_delay=2, blue_delay=3, trails=0.5,
                        layout="side", amplify=2.0)
    plan = resolve(settings, (90, 160, 3), 30)
    assert (plan.input_shape, plan.output_shape) == ((90, 160, 3), (90, 320, 3))
    assert (plan.frame_count, plan.output_frames) == (30, 30)
    assert plan.channel_lags == (6, 4, 2) and plan.partner_lags == (2, 4, 6) and plan.reach == 6
    assert plan.warmup == trail_length(0.5) == 8
    assert plan.still_level == 128 and plan.still_value == int(plan.amplify[128])
    assert not plan.amplify.flags.writeable
    assert list(plan.frames(3, 7)) == list(plan_frames(settings, 30, 3, 7))
    assert plan.frame(3) == FramePlan(3, 3, (1, 0, 0), COMBINE)  # held at the first frame
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.reach = 1


def test_a_plan_checks_the_settings_and_the_range():
    with pytest.raises(SettingsError, match="out of range for a 5-frame clip"):
        resolve(Settings(offset=5), (9, 16), 5)
    with pytest.raises(SettingsError, match="in_frames"):
        resolve(Settings(delay_unit="seconds"), (9, 16), 50)
    with pytest.raises(FrameRangeError, match="frame range 0:31 is outside the output"):
        resolve(Settings(), (9, 16), 30).frame_range(0, 31)


def test_a_live_stream_has_a_plan_of_pictures_but_no_frame_plan():
    plan = resolve(Settings(offset=3), (9, 16, 3))
    assert plan.frame_count is None and plan.output_frames is None
    frame = np.zeros((9, 16, 3), np.uint8)
    assert MotionEffect(plan).render(frame, (frame,), "combine").shape == (9, 16, 3)
    with pytest.raises(ValueError, match="live stream"):
        plan.frame(0)


@pytest.mark.parametrize("decay", [0.0, 0.1, 0.33, 0.5, 0.7, 0.9, 0.95, 0.99])
def test_the_trail_table_is_the_one_rule_in_float64(decay):
    expected = np.floor(np.arange(256, dtype=np.float64) * decay).astype(np.int16)
    assert np.array_equal(trail_decay_table(decay), expected) and trail_decay(decay) == tuple(expected.tolist())
