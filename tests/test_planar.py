"""The planar path (core.planar): its contract, and how far it lies from the RGB path, which is the reference."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from blender_addon.core import pixels
from blender_addon.core.pixels import Combiner, round_half_up
from blender_addon.core.plan import resolve
from blender_addon.core.planar import FULL, LIMITED, PlanarEffect, PlanarGray, planes, rgb_reasons, still_luma
from blender_addon.core.sample_clip import SampleClip
from blender_addon.core.settings import Settings
from blender_addon.core.timing import COMBINE, SOURCE, STILL

MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}  # (Kr, Kb)


@pytest.fixture(params=["opencv", "numpy"])
def backend(request, monkeypatch):
    """Each test once with OpenCV's verified paths and once with numpy's tables."""
    monkeypatch.setattr(pixels, "_opencv_paths", {})
    if request.param == "numpy":
        monkeypatch.setattr(pixels, "_opencv", lambda: None)
    return request.param


@pytest.mark.parametrize("mix", [0.5, 0.3, 0.75, 1.0])
@pytest.mark.parametrize("colour_range", [LIMITED, FULL])
def test_every_pair_of_samples_follows_the_contract(backend, mix, colour_range):
    a, b = (grid.astype(np.uint8) for grid in np.meshgrid(np.arange(256), np.arange(256), indexing="ij"))
    # Every pair in each plane: a 512x512 picture, whose chroma planes are 256x256.
    current, partner = (np.concatenate([np.tile(grid, (2, 2)).reshape(-1), grid.reshape(-1), grid.reshape(-1)])
                        .reshape(768, 512) for grid in (a, b))
    out = PlanarGray(mix, colour_range).combine(current, partner, np.empty_like(current))
    luma_white = 251.0 if colour_range == LIMITED else 255.0
    for plane, white in ((0, luma_white), (1, 256.0), (2, 256.0)):
        a_plane, b_plane = (planes(buffer)[plane].astype(np.float64) for buffer in (current, partner))
        wanted = np.clip(round_half_up(a_plane * (1 - mix) + (white - b_plane) * mix), 0, 255)
        np.testing.assert_array_equal(planes(out)[plane], wanted)


def test_the_half_mix_is_the_issues_formula():
    current = np.array([[100, 40], [40, 100], [20, 250]], np.uint8)  # Y rows, then U and V
    partner = np.array([[30, 40], [41, 100], [200, 10]], np.uint8)
    out = PlanarGray(0.5).combine(current, partner, np.empty_like(current))
    # Y = 125.5 + (Y_A - Y_B) / 2 and C = 128 + (C_A - C_B) / 2, halves rounded up
    assert out.tolist() == [[161, 126], [125, 126], [38, 248]]


# --- against the RGB path: planes to BGR, the look, BGR back to planes --------------------------------------


def _bgr_from_planes(buffer: np.ndarray, matrix: str, colour_range: str, clip: bool = True) -> np.ndarray:
    """A float model of a decoder's conversion (chroma repeated over its 2x2 block, as OpenCV's)."""
    kr, kb = MATRICES[matrix]
    y, u, v = (plane.astype(np.float64) for plane in planes(buffer))
    u, v = (np.repeat(np.repeat(plane, 2, 0), 2, 1) for plane in (u, v))
    if colour_range == LIMITED:
        y, pb, pr = (y - 16) * 255 / 219, (u - 128) * 255 / 224, (v - 128) * 255 / 224
    else:
        y, pb, pr = y, u - 128, v - 128
    red, blue = y + 2 * (1 - kr) * pr, y + 2 * (1 - kb) * pb
    green = (y - kr * red - kb * blue) / (1 - kr - kb)
    bgr = np.stack([blue, green, red], axis=-1)
    return np.clip(round_half_up(bgr), 0, 255).astype(np.uint8) if clip else bgr


def _planes_from_bgr(bgr: np.ndarray, matrix: str, colour_range: str) -> np.ndarray:
    """A float model of an encoder's conversion (chroma from each block's top-left pixel, as OpenCV's)."""
    kr, kb = MATRICES[matrix]
    blue, green, red = (bgr[..., channel].astype(np.float64) for channel in range(3))
    y = kr * red + (1 - kr - kb) * green + kb * blue
    pb, pr = (blue - y) / (2 * (1 - kb)), (red - y) / (2 * (1 - kr))
    if colour_range == LIMITED:
        y, pb, pr = 16 + y * 219 / 255, pb * 224 / 255, pr * 224 / 255
    chroma = [np.clip(round_half_up(128 + plane[::2, ::2]), 0, 255).reshape(-1) for plane in (pb, pr)]
    luma = np.clip(round_half_up(y), 0, 255)
    height, width = luma.shape
    return np.concatenate([luma.reshape(-1), *chroma]).astype(np.uint8).reshape(height * 3 // 2, width)


def _engine_conversions(matrix: str, colour_range: str):
    """The engine's own conversions (OpenCV's BT.601 limited range) where they apply, else the float model."""
    if (matrix, colour_range) == ("bt601", LIMITED):
        return (lambda buffer: cv2.cvtColor(buffer, cv2.COLOR_YUV2BGR_I420),
                lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420))
    return (lambda buffer: _bgr_from_planes(buffer, matrix, colour_range),
            lambda bgr: _planes_from_bgr(bgr, matrix, colour_range))


def _inside_rgb(buffer: np.ndarray, matrix: str, colour_range: str) -> np.ndarray:
    """Per pixel: whether its colour lies inside RGB (the RGB path clips nothing of it)."""
    bgr = _bgr_from_planes(buffer, matrix, colour_range, clip=False)
    return ((bgr >= -0.5) & (bgr <= 255.5)).all(axis=-1)


def _saturated(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Blocks of fully saturated colours (every channel 0 or 255), a third of the pixels any colour."""
    blocks = rng.choice(np.array([0, 255], np.uint8), size=(height // 4 + 1, width // 4 + 1, 3))
    frame = np.repeat(np.repeat(blocks, 4, 0), 4, 1)[:height, :width]
    anywhere = rng.random((height, width)) < 0.3
    frame[anywhere] = rng.integers(0, 256, (int(anywhere.sum()), 3), dtype=np.uint8)
    return np.ascontiguousarray(frame)


def _real_looking(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two frames of the textured sample clip, two frames apart, with a camera's noise."""
    clip = SampleClip(width=160, height=90, frame_count=10, fps=24.0)
    return tuple(np.clip(clip.frame(index) + rng.normal(0, 3, (90, 160, 3)), 0, 255).astype(np.uint8)
                 for index in (5, 3))


def _apart(current_bgr, partner_bgr, mix, matrix, colour_range):
    """|planar - RGB path| per sample, and where both frames' colours lie inside RGB (per sample)."""
    decode, encode = _engine_conversions(matrix, colour_range)
    current, partner = (encode(frame) for frame in (current_bgr, partner_bgr))
    a, b = decode(current), decode(partner)
    reference = encode(Combiner(Settings(mix=mix), a.shape).combine(a, b))
    planar = PlanarGray(mix, colour_range).combine(current, partner, np.empty_like(current))
    apart = np.abs(reference.astype(np.int16) - planar)
    inside = _inside_rgb(current, matrix, colour_range) & _inside_rgb(partner, matrix, colour_range)
    # A chroma sample is the encoder's conversion of its block's top-left pixel.
    mask = np.concatenate([inside.reshape(-1), *[inside[::2, ::2].reshape(-1)] * 2]).reshape(apart.shape)
    return apart, mask


def _mean_bound(matrix: str, colour_range: str, mix: float) -> float:
    """A fifth of a level on average with the engine's own conversions, and at the default mix with any; other
    mixes through the float model of other matrices and ranges come to 0.21 (its rounding is not OpenCV's)."""
    return 0.2 if (matrix, colour_range) == ("bt601", LIMITED) or mix == 0.5 else 0.22


@pytest.mark.parametrize(("matrix", "colour_range"), list(itertools.product(MATRICES, [LIMITED, FULL])))
@pytest.mark.parametrize("mix", [0.5, 0.3])
def test_saturated_colours_inside_rgb_are_at_most_one_level_from_the_rgb_path(matrix, colour_range, mix):
    rng = np.random.default_rng(7)
    apart, inside = _apart(_saturated(rng, 96, 128), _saturated(rng, 96, 128), mix, matrix, colour_range)
    assert inside.mean() > 0.15  # enough of them to say something
    assert apart[inside].max() <= 1
    assert apart[inside].mean() <= _mean_bound(matrix, colour_range, mix)
    assert apart[~inside].max() > 1  # outside RGB they may differ: the RGB path clipped those colours


@pytest.mark.parametrize(("matrix", "colour_range"), list(itertools.product(MATRICES, [LIMITED, FULL])))
@pytest.mark.parametrize("mix", [0.5, 0.3])
def test_a_real_looking_clip_is_within_one_level_and_a_fifth_on_average(matrix, colour_range, mix):
    apart, inside = _apart(*_real_looking(np.random.default_rng(3)), mix, matrix, colour_range)
    assert apart[inside].max() <= 1
    assert apart.mean() <= _mean_bound(matrix, colour_range, mix)


def test_the_still_planes_are_the_encoders_gray():
    gray = np.full((2, 2, 3), 128, np.uint8)
    assert cv2.cvtColor(gray, cv2.COLOR_BGR2YUV_I420).reshape(-1)[:4].tolist() == [still_luma(128, LIMITED)] * 4
    assert still_luma(128, FULL) == 128


# --- the effect: edges, layouts, odd sizes ------------------------------------------------------------------


def _buffers(rng, width, height, count):
    """``count`` compact I420 buffers of a ``width`` x ``height`` picture, padded to even as the reader pads."""
    even_width, even_height = width + width % 2, height + height % 2
    frames = []
    for _ in range(count):
        frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        frame = cv2.copyMakeBorder(frame, 0, even_height - height, 0, even_width - width, cv2.BORDER_REPLICATE)
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420))
    return frames


@pytest.mark.parametrize("layout", ["motion", "side", "stacked"])
@pytest.mark.parametrize(("width", "height"), [(16, 10), (15, 10), (16, 9)])
def test_layouts_place_the_source_and_the_motion_planes(layout, width, height):
    settings = Settings(layout=layout)
    if rgb_reasons(settings, width, height):
        assert (layout, width % 2, height % 2) in (("side", 1, 0), ("stacked", 0, 1))
        with pytest.raises(ValueError, match="odd-sized"):
            PlanarEffect(resolve(settings, (height, width), 4))
        return
    current, partner = _buffers(np.random.default_rng(1), width, height, 2)
    effect = PlanarEffect(resolve(settings, (height, width), 4))
    motion = PlanarGray(0.5).combine(current, partner, np.empty_like(current))
    out = effect.render(current, (partner,), COMBINE)
    for plane, (target, source, moved) in enumerate(zip(planes(out), planes(current), planes(motion), strict=True)):
        if layout == "motion":
            np.testing.assert_array_equal(target, moved)
        elif layout == "side":
            np.testing.assert_array_equal(target, np.hstack([source, moved]), err_msg=f"plane {plane}")
        else:
            np.testing.assert_array_equal(target, np.vstack([source, moved]), err_msg=f"plane {plane}")


@pytest.mark.parametrize("layout", ["motion", "side"])
def test_edge_frames_show_the_still_gray_or_the_source(layout):
    current, = _buffers(np.random.default_rng(2), 16, 10, 1)
    effect = PlanarEffect(resolve(Settings(layout=layout), (10, 16), 4))
    still = effect.render(current, None, STILL).copy()
    source = effect.render(current, None, SOURCE).copy()
    motion_still = planes(still) if layout == "motion" else [plane[:, plane.shape[1] // 2:] for plane in planes(still)]
    motion_source = planes(source) if layout == "motion" else [p[:, p.shape[1] // 2:] for p in planes(source)]
    assert [np.unique(plane).tolist() for plane in motion_still] == [[126], [128], [128]]
    for got, wanted in zip(motion_source, planes(current), strict=True):
        np.testing.assert_array_equal(got, wanted)


@pytest.mark.parametrize(("options", "reason"), [
    ({"look": "difference"}, "the difference look"), ({"amplify": 2.0}, "amplify"), ({"pre_blur": 1.0}, "pre-blur"),
    ({"trails": 0.5}, "trails"), ({"glow": 1.0}, "glow"), ({"saturation": 0.5}, "colour"),
    ({"tint": True}, "colour"), ({"overlay": "screen"}, "overlay"), ({"time_colour": True}, "time colour"),
    ({"align": "shift"}, "alignment"),
])
def test_what_needs_rgb_is_named(options, reason):
    assert any(reason in text for text in rgb_reasons(Settings(**options), 16, 10))


def test_shift_freeze_and_mixes_are_planar():
    for settings in (Settings(), Settings(mode="freeze"), Settings(mix=0.3, offset=-3), Settings(edges="source"),
                     Settings(edges="hold"), Settings(edges="trim")):
        assert rgb_reasons(settings, 15, 9) == []
