"""The looks of issue 4 in the exact engine: time colour, trails, glow, overlay, layout, presets.

Each stage is checked against a plain formula written here, on synthetic frames.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from frame_helpers import FrameList

from blender_addon.core.blur import blur_reference, kernel_size
from blender_addon.core.effect import MotionEffect
from blender_addon.core.engine import EngineStats, extract_motion
from blender_addon.core.plan import resolve
from blender_addon.core.presets import PRESETS, preset_settings
from blender_addon.core.sample_clip import SampleClip, decode_frame
from blender_addon.core.settings import Settings, SettingsError
from blender_addon.core.timing import COMBINE, trail_length


def render(source, settings: Settings, **kwargs) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(source, settings, **kwargs)]


def classic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ceil((A + 255 - B) / 2) in plain integers."""
    return ((a.astype(np.int32) + 255 - b.astype(np.int32) + 1) // 2).astype(np.uint8)


def round_half_up(values: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def random_frames(count: int, shape=(24, 32, 3), seed=3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]


# --- time colour -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset, delays", [(2, (1, 2, 3)), (-1, (3, 1, 2)), (3, (0, 1, 1))])
def test_time_colour_pairs_each_channel_with_its_own_delay(small_clip, offset, delays):
    red, green, blue = delays
    settings = Settings(offset=offset, time_colour=True, red_delay=red, green_delay=green, blue_delay=blue)
    frames = render(small_clip, settings)
    assert len(frames) == small_clip.frame_count
    lags = {2: red * offset, 1: green * offset, 0: blue * offset}  # OpenCV channel order: B, G, R
    last = small_clip.frame_count - 1
    for t, frame in enumerate(frames):
        for channel, lag in lags.items():
            partner = min(max(t - lag, 0), last)
            code = decode_frame(frame[..., channel])
            if partner == t:
                assert code.kind == "same", (t, channel)
            else:
                assert (code.kind, code.frame, code.partner) == ("pair", t, partner), (t, channel)


def test_time_colour_keeps_still_areas_neutral_and_orders_channels_along_the_motion():
    clip = SampleClip(width=320, height=180, frame_count=40, fps=30.0)
    offset = 2
    frame_index = 20
    frames = render(clip, Settings(offset=offset, time_colour=True), start=frame_index, stop=frame_index + 1)
    motion = frames[0].astype(int)
    # A patch of background far from every moving object: exactly neutral.
    assert np.all(motion[40:60, 10:30] == 128)
    # Behind the sliding square (moving right), red (lag N) has caught up first, then green
    # (2N); blue (3N) still sees the square: the tail shows blue, then blue + green, then all.
    step = clip.slide_speed * offset
    tail = clip.square_left(frame_index)
    row = clip.square_top() + clip.square_size // 2
    rows = slice(row - 3, row + 4)
    deviation = np.abs(motion[rows] - 128)  # (rows, width, 3) in B, G, R order

    def zone(lags_behind: int) -> np.ndarray:
        """Mean deviation per channel over the columns between (lags_behind) and (lags_behind - 1) steps back."""
        return deviation[:, tail - lags_behind * step + 1 : tail - (lags_behind - 1) * step - 1].mean(axis=(0, 1))

    blue_only, blue_green, all_three = zone(3), zone(2), zone(1)
    assert blue_only[0] > 1 and blue_only[1] == 0 and blue_only[2] == 0
    assert blue_green[0] > 1 and blue_green[1] > 1 and blue_green[2] == 0
    assert all(all_three > 1)


def test_time_colour_reach_and_mode_are_validated():
    with pytest.raises(SettingsError, match="time colour needs shift mode"):
        Settings(mode="freeze", time_colour=True)
    with pytest.raises(SettingsError, match="time colour reaches 30 frames away"):
        Settings(offset=10, time_colour=True).validate_for_clip(30)


def test_time_colour_in_two_heads_mode_is_identical(small_clip):
    settings = Settings(offset=2, time_colour=True)
    stats = EngineStats()
    heads = render(small_clip, settings, max_memory=0, stats=stats)
    assert all(np.array_equal(a, b) for a, b in zip(heads, render(small_clip, settings), strict=True))
    assert stats.strategy == "two-heads" and stats.heads_opened == 4


def test_time_colour_trim_drops_the_farthest_reach(small_clip):
    settings = Settings(offset=2, time_colour=True, edges="trim")
    frames = render(small_clip, settings)
    assert len(frames) == small_clip.frame_count - 6
    code = decode_frame(frames[0][..., 0])  # blue: lag 6
    assert (code.frame, code.partner) == (6, 0)


# --- trails ------------------------------------------------------------------------------------


def plain_trails(motions: list[np.ndarray], decay: float, pivot: int) -> list[np.ndarray]:
    """The documented trail rule, pixel by pixel in plain Python integers."""
    state = np.zeros(motions[0].shape, dtype=np.int64)
    out = []
    for motion in motions:
        deviation = motion.astype(np.int64) - pivot
        flat_state, flat_dev = state.reshape(-1), deviation.reshape(-1)
        for i in range(flat_state.size):
            faded = math.floor(abs(int(flat_state[i])) * decay)
            faded = faded if flat_state[i] >= 0 else -faded
            flat_state[i] = flat_dev[i] if abs(int(flat_dev[i])) >= abs(faded) else faded
        out.append(np.clip(state + pivot, 0, 255).astype(np.uint8))
    return out


@pytest.mark.parametrize("look, pivot", [("gray", 128), ("difference", 0)])
def test_trails_follow_the_plain_rule(look, pivot):
    frames = random_frames(12, shape=(6, 7, 3))
    settings = Settings(look=look, trails=0.8)
    motion_only = render(FrameList(frames), settings.replace(trails=0.0))
    expected = plain_trails(motion_only, 0.8, pivot)
    assert all(np.array_equal(a, b) for a, b in zip(render(FrameList(frames), settings), expected, strict=True))


def test_trails_fade_within_their_length():
    assert trail_length(0.0) == 0
    assert trail_length(0.5) == 8  # 255 -> 127 -> 63 -> 31 -> 15 -> 7 -> 3 -> 1 -> 0
    assert trail_length(0.9) < 60


@pytest.mark.parametrize("settings", [Settings(look="difference", trails=0.7), Settings(trails=0.9, offset=-2)])
def test_trails_chunks_equal_the_whole_render(small_clip, settings):
    whole = render(small_clip, settings)
    chunks = render(small_clip, settings, stop=11) + render(small_clip, settings, start=11)
    assert all(np.array_equal(a, b) for a, b in zip(chunks, whole, strict=True))


# --- glow --------------------------------------------------------------------------------------


@pytest.mark.parametrize("look, pivot", [("gray", 128), ("difference", 0)])
@pytest.mark.parametrize("radius", [2.0, 10.0])
def test_glow_adds_the_blurred_excess_motion(look, pivot, radius):
    """The glow's halo is core.blur's with 8 fraction bits (itself checked against plain integers in
    test_looks_more), scaled and rounded, and added with saturation: exactly."""
    a, b = random_frames(2, shape=(30, 40, 3))
    settings = Settings(look=look, glow=1.5, glow_radius=radius, glow_threshold=20)
    effect = MotionEffect(resolve(settings, a.shape))
    out = effect.render(a, (b,), COMBINE).copy()
    motion = MotionEffect(resolve(settings.replace(glow=0.0), a.shape)).render(a, (b,), COMBINE).astype(np.int64)
    excess = np.maximum(np.abs(motion - pivot) - 20, 0).astype(np.uint8)
    halo = blur_reference(excess, radius, fraction_bits=8).astype(np.float64)  # in 256ths of a level
    expected = np.clip(motion + np.floor(1.5 * halo / 256 + 0.5), 0, 255)
    np.testing.assert_array_equal(out, expected)
    assert kernel_size(radius) == 2 * math.ceil(3 * radius) + 1


def test_glow_leaves_still_frames_alone():
    frame = random_frames(1)[0]
    out = MotionEffect(resolve(Settings(glow=3.0, glow_threshold=0), frame.shape)).render(frame, (frame,), COMBINE)
    assert np.all(out == 128)


# --- overlay -----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", ["multiply", "screen"])
@pytest.mark.parametrize("look", ["gray", "difference"])
def test_overlay_combines_motion_with_the_original(overlay, look):
    a, b = random_frames(2)
    strength = 0.75
    settings = Settings(look=look, overlay=overlay, overlay_strength=strength)
    out = MotionEffect(resolve(settings, a.shape)).render(a, (b,), COMBINE)
    alone = MotionEffect(resolve(settings.replace(overlay="none"), a.shape))
    motion = alone.render(a, (b,), COMBINE).astype(np.float64)
    source, pivot = a.astype(np.float64), 128 if look == "gray" else 0
    if overlay == "multiply":
        blended = source * (128 + motion - pivot) / 128
    else:
        light = np.minimum(255, (2 if look == "gray" else 1) * np.abs(motion - pivot))
        blended = 255 - (255 - source) * (255 - light) / 255
    expected = round_half_up(source + strength * (blended - source))
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


def test_multiply_overlay_of_still_gray_returns_the_original():
    frame = random_frames(1)[0]
    out = MotionEffect(resolve(Settings(overlay="multiply"), frame.shape)).render(frame, (frame,), COMBINE)
    assert np.array_equal(out, frame)


# --- layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout, shape", [("side", (90, 320, 3)), ("stacked", (180, 160, 3))])
def test_layouts_put_the_original_beside_the_motion(small_clip, layout, shape):
    frames = render(small_clip, Settings(offset=3, layout=layout), start=10, stop=11)
    motion = render(small_clip, Settings(offset=3), start=10, stop=11)[0]
    assert frames[0].shape == shape
    if layout == "side":
        original, result = frames[0][:, :160], frames[0][:, 160:]
    else:
        original, result = frames[0][:90], frames[0][90:]
    assert np.array_equal(original, small_clip.frame(10))
    assert np.array_equal(result, motion)


# --- presets -----------------------------------------------------------------------------------


def test_every_preset_builds_valid_settings_and_round_trips():
    for name, values in PRESETS.items():
        settings = preset_settings(name)
        for key, value in values.items():
            assert getattr(settings, key) == value
        assert Settings.from_mapping(settings.to_dict()) == settings


def test_explicit_options_override_a_preset():
    settings = preset_settings("glow", amplify=5.0)
    assert settings.amplify == 5.0 and settings.glow == 1.5
    with pytest.raises(SettingsError, match="unknown preset 'sparkle'"):
        preset_settings("sparkle")


def test_classic_preset_is_the_default():
    assert preset_settings("classic") == Settings()
