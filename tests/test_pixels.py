"""The 8-bit pixel contract: the fast combiner against a plain formula, on every (A, B) pair.

Every test that combines frames runs twice: with OpenCV's fast paths and with numpy alone
(as inside a Blender without OpenCV).
"""

import math

import numpy as np
import pytest

from blender_addon.core import pixels
from blender_addon.core.pixels import Combiner, combine_table, still_frame
from blender_addon.core.settings import Settings


def plain_formula(a: int, b: int, settings: Settings) -> int:
    """The documented contract, one value at a time, in plain Python."""
    if settings.look == "gray":
        value = math.floor(a * (1.0 - settings.mix) + (255.0 - b) * settings.mix + 0.5)
        pivot = 128
    elif settings.look == "difference":
        value, pivot = abs(a - b), 0
    else:
        value, pivot = max(a - b, 0), 0
    value = math.floor(pivot + settings.amplify * (value - pivot) + 0.5)
    return min(max(value, 0), 255)


@pytest.fixture(params=["opencv", "numpy"], autouse=True)
def backend(request, monkeypatch):
    """Runs a test with OpenCV's fast paths, then again as if OpenCV could not be imported."""
    monkeypatch.setattr(pixels, "_opencv_paths", {})
    if request.param == "numpy":
        monkeypatch.setattr(pixels, "_opencv", lambda: None)
    return request.param


ALL_A, ALL_B = (grid.astype(np.uint8) for grid in np.meshgrid(np.arange(256), np.arange(256), indexing="ij"))

CASES = [
    Settings(),
    Settings(mix=0.25),
    Settings(mix=0.7),
    Settings(mix=0.0),
    Settings(mix=1.0),
    Settings(amplify=3.0),
    Settings(mix=0.3, amplify=0.5),
    Settings(amplify=0.0),
    Settings(look="difference"),
    Settings(look="difference", amplify=4.0),
    Settings(look="subtract"),
    Settings(look="subtract", amplify=2.5),
]


@pytest.mark.parametrize("settings", CASES, ids=lambda s: f"{s.look}-mix{s.mix}-amp{s.amplify}")
def test_combiner_equals_the_plain_formula_on_every_pair(settings):
    expected = np.vectorize(lambda a, b: plain_formula(int(a), int(b), settings))(ALL_A, ALL_B)
    combined = Combiner(settings, ALL_A.shape).combine(ALL_A, ALL_B)
    np.testing.assert_array_equal(combined, expected)
    np.testing.assert_array_equal(combine_table(settings), expected)


def test_classic_look_is_ceil_of_the_half_sum():
    a = np.array([[0, 255, 0, 255, 100, 101, 102]], dtype=np.uint8)
    b = np.array([[0, 255, 255, 0, 100, 100, 100]], dtype=np.uint8)
    out = Combiner(Settings(), a.shape).combine(a, b)
    # (A + 255 - B) / 2 = 127.5, 127.5, 0, 255, 127.5, 128, 128.5
    assert out.tolist() == [[128, 128, 0, 255, 128, 128, 129]]


@pytest.mark.parametrize("settings", CASES[:3] + CASES[8:10], ids=str)
def test_random_frames_with_extremes(settings):
    rng = np.random.default_rng(7)
    shape = (37, 53, 3)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = rng.integers(0, 256, shape, dtype=np.uint8)
    a[0, :5], b[0, :5] = 0, 255
    a[1, :5], b[1, :5] = 255, 0
    combiner = Combiner(settings, shape)
    out = np.empty(shape, dtype=np.uint8)
    result = combiner.combine(a, b, out)
    assert result is out
    expected = np.vectorize(lambda x, y: plain_formula(int(x), int(y), settings))(a, b)
    np.testing.assert_array_equal(out, expected)


def test_identical_frames_cancel_to_the_still_level():
    frame = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for look, level in (("gray", 128), ("difference", 0), ("subtract", 0)):
        settings = Settings(look=look, amplify=5.0)
        assert np.all(Combiner(settings, frame.shape).combine(frame, frame) == level)
        assert np.all(still_frame(settings, frame.shape) == level)


def test_shape_mismatch_is_an_error():
    combiner = Combiner(Settings(), (4, 4, 3))
    with pytest.raises(ValueError, match="does not match"):
        combiner.combine(np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))


def test_opencv_takes_the_common_looks_and_numpy_the_rest(backend):
    uses_opencv = {
        settings: Combiner(settings, (2, 2, 3)).uses_opencv
        for settings in (Settings(), Settings(amplify=3.0), Settings(look="difference"), Settings(look="subtract"))
    }
    assert all(uses_opencv.values()) == (backend == "opencv"), uses_opencv
    # float32 addWeighted rounds some pairs of this mix differently: the exhaustive check refuses it.
    assert not Combiner(Settings(mix=0.3), (2, 2, 3)).uses_opencv


def test_an_inexact_opencv_path_is_refused():
    cv2 = pytest.importorskip("cv2")
    table = pixels._motion_table("gray", 0.5)
    assert pixels._exact_everywhere(lambda a, b, out: np.copyto(out, table[a, b]) or out, table)
    # Without the 0.25 that keeps the sums off .5, round-to-even splits the ties: refused.
    assert not pixels._exact_everywhere(lambda a, b, out: cv2.addWeighted(a, 0.5, b, -0.5, 127.5, dst=out), table)


def test_opencv_writes_into_a_strided_output():
    a, b = (np.random.default_rng(seed).integers(0, 256, (6, 10, 3), dtype=np.uint8) for seed in (1, 2))
    out = np.zeros((6, 20, 3), dtype=np.uint8)[:, ::2]
    result = Combiner(Settings(), a.shape).combine(a, b, out)
    assert result is out
    np.testing.assert_array_equal(out, combine_table(Settings())[a, b])
