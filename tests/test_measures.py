"""The motion measures (core.measures) and the flow look (core.flow) on synthetic clips with known motion."""

import math

import cv2
import numpy as np
import pytest
from frame_helpers import FrameList

from blender_addon.core.engine import extract_motion
from blender_addon.core.flow import STILL_SPEED, legend_size
from blender_addon.core.measures import (
    FLOW_COLUMNS,
    MOTION_COLUMNS,
    MotionMeasures,
    Region,
    columns,
    parse_region,
)
from blender_addon.core.settings import Settings, SettingsError

HEIGHT, WIDTH = 90, 160


def sliding_square(frames: int, start=(10, 30), step=(5, 1), size=14, level=220, plate=True) -> list[np.ndarray]:
    """A bright square on a dark, slightly textured background, moving ``step`` pixels per frame.
    With ``plate``, frame 0 is the background alone (a clean plate for freeze mode)."""
    rng = np.random.default_rng(7)
    background = rng.integers(20, 40, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    clip = []
    for t in range(frames):
        frame = background.copy()
        if not (plate and t == 0):
            x, y = start[0] + step[0] * t, start[1] + step[1] * t
            frame[y : y + size, x : x + size] = level
        clip.append(frame)
    return clip


def rows(clip: list[np.ndarray], settings: Settings, regions=(), start=0, stop=None, threshold=12) -> list[list]:
    measures = MotionMeasures(settings, clip[0].shape, regions, threshold)
    found = []
    for _ in extract_motion(FrameList(clip), settings, start, stop, measure=measures):
        found.append(list(measures.values))
    return found


def value(row: list, name: str, regions=(), flow=False):
    names = [column.name for column in columns(regions, flow)][2:]
    return row[names.index(name)]


def test_centroid_follows_the_sliding_square_within_a_pixel():
    clip = sliding_square(20)
    size = 14
    # Freeze on the clean plate: the motion is the square itself, centred on its known path.
    for t, row in enumerate(rows(clip, Settings(mode="freeze", reference=0))):
        if t == 0:
            assert value(row, "centroid_x") is None and value(row, "quantity") == 0
            continue
        centre = (10 + 5 * t + (size - 1) / 2, 30 + t + (size - 1) / 2)
        assert abs(value(row, "centroid_x") - centre[0]) <= 1 and abs(value(row, "centroid_y") - centre[1]) <= 1, t
        assert (value(row, "box_x"), value(row, "box_y")) == (10 + 5 * t, 30 + t)
        assert (value(row, "box_width"), value(row, "box_height")) == (size, size)
        assert value(row, "active") == pytest.approx(size * size / (WIDTH * HEIGHT))
    # Shift by 1 (gray look): what changed lies between the last position and this one.
    for t, row in list(enumerate(rows(clip, Settings())))[2:]:
        middle = (10 + 5 * (t - 0.5) + (size - 1) / 2, 30 + (t - 0.5) + (size - 1) / 2)
        assert math.dist((value(row, "centroid_x"), value(row, "centroid_y")), middle) <= 1, t


def test_an_object_entering_a_region_raises_its_quantity_at_that_frame():
    gate = Region("gate", 100, 0, 40, HEIGHT)
    clip = sliding_square(24, start=(6, 30), step=(4, 0), plate=False)
    # The square's right edge (x + 13) first reaches column 100 at t = ceil((100 - 6 - 13) / 4).
    entering = math.ceil((100 - 6 - 13) / 4)
    found = rows(clip, Settings(look="difference"), [gate])
    quantities = [value(row, "gate_quantity", [gate]) for row in found]
    assert all(quantity == 0 for quantity in quantities[:entering])
    assert quantities[entering] > 0
    assert value(found[entering], "gate_box_x", [gate]) == 100
    # The whole frame moved all along; the region's own centroid lies inside the region.
    assert all(value(row, "quantity", [gate]) > 0 for row in found[1:])
    assert value(found[entering + 2], "gate_centroid_x", [gate]) >= 100


def test_quantity_agrees_with_an_independent_numpy_computation():
    clip = [frame.copy() for frame in sliding_square(16, plate=False)]
    rng = np.random.default_rng(3)
    for t, frame in enumerate(clip):  # colour noise of a strength that changes from frame to frame
        frame += rng.integers(0, 1 + 6 * (t % 5), frame.shape, dtype=np.uint8)
    settings = Settings()  # gray look, N = 1: out = ceil((A + 255 - B) / 2)
    ours = [value(row, "quantity") for row in rows(clip, settings)]
    theirs = []
    for t, frame in enumerate(clip):
        partner = clip[max(t - 1, 0)].astype(np.float64)
        out = np.ceil((frame.astype(np.float64) + 255 - partner) / 2)
        deviation = np.abs(out @ np.array([0.114, 0.587, 0.299]) - 128)
        theirs.append(deviation.mean())
    assert np.corrcoef(ours[1:], theirs[1:])[0, 1] > 0.99999
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) <= 0.5  # luma rounded to whole levels


def test_quantity_and_centroid_equal_mgt_python_definition_on_the_difference_look():
    """MGT-python's centroid(): qom = the sum of the gray motion frame, the centroid from its column
    and row means, y flipped (height - y). Ours is the mean per pixel, y down."""
    clip = sliding_square(10, plate=False)
    found = rows(clip, Settings(look="difference"), threshold=0)
    for t in range(1, len(clip)):
        gray = cv2.cvtColor(cv2.absdiff(clip[t], clip[t - 1]), cv2.COLOR_BGR2GRAY)
        qom = cv2.sumElems(gray)[0]
        mx, my = gray.mean(axis=0), gray.mean(axis=1)
        comx = np.arange(WIDTH) @ mx / mx.sum()
        comy = HEIGHT - np.arange(HEIGHT) @ my / my.sum()
        row = found[t]
        assert value(row, "quantity") * WIDTH * HEIGHT == pytest.approx(qom)
        assert value(row, "centroid_x") == pytest.approx(comx)
        assert HEIGHT - value(row, "centroid_y") == pytest.approx(comy)


@pytest.mark.parametrize("offset, size", [(1, (320, 180)), (2, (320, 180)), (-2, (320, 180)), (1, (1920, 1080))])
def test_flow_of_a_known_translation_reads_back_its_direction_and_speed(offset, size):
    """A textured scene panning (3, -2) pixels per frame (right and up): speed sqrt(13) = 3.61 px/frame
    within 6 % (DIS at its ULTRAFAST preset reads 1-5 % short), direction atan2(2, 3) = 33.7 degrees
    within 2, read in the centre (the borders have no match); 1080p is compared at half size."""
    width, height = size
    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (height + 100, width + 100, 3), dtype=np.uint8), (0, 0), 2)
    step = (3.0, -2.0)
    clip = []
    for t in range(8 if width < 1000 else 3):
        shift = np.float32([[1, 0, -50 + step[0] * t], [0, 1, -50 + step[1] * t]])
        clip.append(cv2.warpAffine(texture, shift, (width, height), flags=cv2.INTER_LINEAR))
    centre = Region("centre", width // 5, height // 5, 3 * width // 5, 3 * height // 5)
    settings = Settings(look="flow", offset=offset)
    found = rows(clip, settings, [centre])
    checked = found[: len(found) - abs(offset)] if offset < 0 else found[offset:]
    assert checked
    for row in checked:
        speed = value(row, "centre_flow_speed", [centre], flow=True)
        direction = value(row, "centre_flow_direction", [centre], flow=True)
        assert speed == pytest.approx(math.hypot(*step), rel=0.06)
        assert direction == pytest.approx(math.degrees(math.atan2(2, 3)), abs=2)


def test_flow_look_draws_the_colour_wheel():
    """Rightward motion is red, upward yellow-green, at the brightness of its speed on the flow scale (black at
    STILL_SPEED, full at the scale)."""
    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8), (0, 0), 2)

    def pan(dx, dy):
        return [cv2.warpAffine(texture, np.float32([[1, 0, -50 + dx * t], [0, 1, -50 + dy * t]]), (WIDTH, HEIGHT))
                for t in range(3)]

    right = list(extract_motion(FrameList(pan(2, 0)), Settings(look="flow", flow_scale=4.0), 2, 3))[0]
    middle = right[30:60, 50:110].reshape(-1, 3).mean(axis=0)  # B, G, R
    assert middle[2] == pytest.approx(255 * (2 - STILL_SPEED) / (4 - STILL_SPEED), abs=12)
    assert middle[0] < 20 and middle[1] < 20
    up = list(extract_motion(FrameList(pan(0, -2)), Settings(look="flow", flow_scale=2.0), 2, 3))[0]
    hue = cv2.cvtColor(up[30:60, 50:110], cv2.COLOR_BGR2HSV)[..., 0]
    assert np.median(hue) == pytest.approx(45, abs=3)  # 90 degrees, in OpenCV's half degrees


def test_flow_legend_sits_in_the_corner_and_is_not_measured():
    clip = sliding_square(4, plate=False)
    plain, legend = (Settings(look="flow"), Settings(look="flow", flow_legend=True, layout="side"))
    measured = []
    for settings in (plain, legend):
        measures = MotionMeasures(settings, clip[0].shape)
        frame = list(np.copy(out) for out in extract_motion(FrameList(clip), settings, 2, 3, measure=measures))[0]
        measured.append(list(measures.values))
    size = legend_size(HEIGHT, WIDTH)
    corner = frame[-size:, -size:]
    assert corner[size // 2, size // 2].max() < 40  # the wheel's still centre is dark
    assert len({tuple(pixel) for pixel in corner.reshape(-1, 3)}) > 100  # every hue around it
    assert frame.shape == (HEIGHT, 2 * WIDTH, 3)
    assert measured[0] == measured[1]


def test_time_colour_and_flow_are_refused_in_one_line():
    with pytest.raises(SettingsError, match="time colour does not apply to the flow look"):
        Settings(look="flow", time_colour=True)


@pytest.mark.parametrize("settings", [
    Settings(look="difference", trails=0.6, glow=1.0),
    Settings(look="flow", offset=2, edges="gray"),
    Settings(mode="freeze", reference=5, look="matte"),
])
def test_chunks_give_the_same_rows_as_a_whole_render(settings):
    clip = sliding_square(24, plate=False)
    regions = [parse_region("left=0,0,80,90"), parse_region("low=0,45,160,45")]
    whole = rows(clip, settings, regions)
    chunks = [row for span in ((0, 7), (7, 16), (16, None)) for row in rows(clip, settings, regions, *span)]
    assert chunks == whole
    per_region = len(MOTION_COLUMNS) + (settings.look == "flow") * len(FLOW_COLUMNS)
    assert len(whole) == 24 and len(whole[0]) == per_region * 3


def test_motiongram_rows_are_the_column_and_row_means():
    clip = sliding_square(6, plate=False)
    settings = Settings(look="difference")
    measures = MotionMeasures(settings, clip[0].shape)
    for t, _ in enumerate(extract_motion(FrameList(clip), settings, measure=measures)):
        gray = cv2.cvtColor(cv2.absdiff(clip[t], clip[max(t - 1, 0)]), cv2.COLOR_BGR2GRAY)
        assert measures.column_means.shape == (WIDTH,) and measures.row_means.shape == (HEIGHT,)
        np.testing.assert_allclose(measures.column_means, gray.mean(axis=0))
        np.testing.assert_allclose(measures.row_means, gray.mean(axis=1))


@pytest.mark.parametrize("text, message", [
    ("hand", "use NAME=x,y,w,h"),
    ("hand=1,2,3", "use NAME=x,y,w,h"),
    ("9hand=1,2,3,4", "invalid region name"),
    ("time=1,2,3,4", "invalid region name"),
    ("hand=1,2,0,4", "at least 1 pixel"),
])
def test_bad_regions_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_region(text)


def test_regions_outside_the_frame_or_twice_are_refused():
    with pytest.raises(ValueError, match="not inside the 160x90 frame"):
        MotionMeasures(Settings(), (HEIGHT, WIDTH), [parse_region("big=100,0,61,10")])
    with pytest.raises(ValueError, match="given twice"):
        MotionMeasures(Settings(), (HEIGHT, WIDTH), [parse_region("a=0,0,1,1"), parse_region("a=1,1,1,1")])


def test_measures_without_opencv_agree_with_opencv(monkeypatch):
    clip = sliding_square(5, plate=False)
    regions = [parse_region("box=20,20,60,40")]
    with_cv2 = rows(clip, Settings(), regions)
    monkeypatch.setattr("blender_addon.core.measures._opencv", lambda: None)
    monkeypatch.setattr("blender_addon.core.pixels._opencv", lambda: None)
    without = rows(clip, Settings(), regions)
    for ours, numpy_only in zip(with_cv2, without, strict=True):
        assert ours[1:] == pytest.approx(numpy_only[1:], abs=0.02)
        assert ours[0] == pytest.approx(numpy_only[0], abs=0.5)


@pytest.mark.parametrize("settings", [
    Settings(look="flow", mode="freeze", reference=3, layout="stacked"),
    Settings(look="flow", align="similarity", layout="side", overlay="screen"),
    Settings(look="flow", offset=-2, edges="trim", glow=1.0, trails=0.5, flow_legend=True),
])
def test_flow_look_works_with_every_mode_alignment_and_layout(settings):
    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (200, 300, 3), dtype=np.uint8), (0, 0), 2)
    clip = [cv2.warpAffine(texture, np.float32([[1, 0, -40 + 2 * t], [0, 1, -40]]), (WIDTH, HEIGHT))
            for t in range(8)]
    centre = Region("centre", 40, 25, 80, 40)
    measures = MotionMeasures(settings, clip[0].shape, [centre])
    frames = [(frame.copy(), list(measures.values))
              for frame in extract_motion(FrameList(clip), settings, measure=measures)]
    expected = {"motion": (HEIGHT, WIDTH, 3), "side": (HEIGHT, 2 * WIDTH, 3), "stacked": (2 * HEIGHT, WIDTH, 3)}
    assert all(frame.shape == expected[settings.layout] for frame, _ in frames)
    # The pan is 2 pixels a frame to the right: the frames compared across it read its direction, unless
    # alignment takes it for the camera's motion and cancels it.
    row = frames[5 if settings.mode == "freeze" else 3][1]
    speed = value(row, "centre_flow_speed", [centre], flow=True)
    if settings.align != "none":
        assert speed < 0.3
        return
    direction = value(row, "centre_flow_direction", [centre], flow=True)
    assert min(direction, 360 - direction) <= 3 and speed == pytest.approx(2, rel=0.1)
