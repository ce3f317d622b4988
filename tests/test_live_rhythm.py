"""The live viewer's rhythm readout: the dominant frequency of the whole frame or a dragged-out region, shown in
the overlay, and the drag from the window's pixels to the frame's."""

from __future__ import annotations

import io
import re
import time

import cv2
import numpy as np
import pytest

from blender_addon.core.settings import Settings
from blender_addon.live import command
from blender_addon.live.capture import Captured
from blender_addon.live.frequency import RegionDrag, RhythmReadout, frame_region
from blender_addon.live.keys import help_lines
from blender_addon.live.pipeline import LivePipeline
from blender_addon.live.window import compose, drawn_regions, mouse_handler, overlay_lines
from tests.frequency_helpers import Swing, swinging_clip

FPS = 30.0
SIZE = (120, 160)  # height, width


class Frames:
    """A reader of ready-made frames (a file's, as the capture reads it)."""

    def __init__(self, frames) -> None:
        self._frames = iter(frames)

    def read(self) -> tuple[bool, np.ndarray | None]:
        frame = next(self._frames, None)
        return frame is not None, frame


def hz_in(text: str) -> float:
    match = re.search(r": ([0-9.]+) Hz = ([0-9.]+) /min", text)
    assert match, text
    hz, per_minute = float(match.group(1)), float(match.group(2))
    assert per_minute == pytest.approx(60 * hz, rel=0.01)
    return hz


def run(pipeline: LivePipeline, count: int, before: dict | None = None) -> None:
    """Process ``count`` frames, calling ``before[i]`` before the i-th."""
    before = before or {}
    done, deadline = 0, time.monotonic() + 60
    while done < count and time.monotonic() < deadline:
        if done in before:
            before.pop(done)()
        if pipeline.step(timeout=1.0) is not None:
            done += 1
    assert done == count


def test_the_overlay_reads_the_rate_of_a_swinging_part_once_the_window_fills():
    frames = swinging_clip([Swing(1.35, 60, 40)], frames=int(8 * FPS), noise=3.0)
    pipeline = LivePipeline(Frames(frames), Settings(), source_fps=FPS, keep_all=True, rhythm_window=6.0)
    with pipeline:
        run(pipeline, int(8 * FPS))
        pipeline.rhythm.close()  # the frames pushed are read and the window refitted
        line = next(line for line in overlay_lines(pipeline) if line.startswith("rhythm"))
    assert line.startswith("rhythm (whole frame, last 6 s): ")
    assert hz_in(line) == pytest.approx(1.35, rel=0.01)
    assert pipeline.rhythm.reading.held == pytest.approx(6.0)


def test_a_region_dragged_out_reads_its_own_part_and_w_goes_back_to_the_whole_frame():
    left, right = Swing(0.9, 20, 40, amplitude=3.0), Swing(2.4, 100, 40, amplitude=3.0)
    frames = swinging_clip([left, right], frames=int(14 * FPS), noise=3.0)
    pipeline = LivePipeline(Frames(frames), Settings(), source_fps=FPS, keep_all=True, rhythm_window=5.0)
    drag = RegionDrag()
    on_mouse = mouse_handler(pipeline, drag)
    readings = {}

    def drag_right_part() -> None:  # on the motion's half of the view (x + 160), bottom right to top left
        on_mouse(cv2.EVENT_LBUTTONDOWN, 160 + 158, 110, 0, None)
        on_mouse(cv2.EVENT_MOUSEMOVE, 160 + 120, 60, 0, None)
        assert drawn_regions(pipeline, drag) == [(120, 60, 38, 50)]  # the rubber band, in the frame's pixels
        on_mouse(cv2.EVENT_LBUTTONUP, 160 + 85, 10, 0, None)

    def read(name: str) -> None:
        time.sleep(0.3)  # the readout's last refit, on its thread
        readings[name] = pipeline.rhythm.text()

    with pipeline:
        run(pipeline, int(14 * FPS) - 1, {
            int(6 * FPS): lambda: read("whole"),
            int(6 * FPS) + 1: drag_right_part,
            int(12 * FPS): lambda: read("right"),
            int(12 * FPS) + 1: lambda: pipeline.handle_key("w"),
        })
        assert pipeline.rhythm.region is None and "whole frame" in pipeline.state.message
    assert pipeline.rhythm.text().startswith("rhythm (whole frame, last 5 s): measuring")
    assert readings["right"].startswith("rhythm (region 73x100 at 85,10, last 5 s): ")
    assert hz_in(readings["right"]) == pytest.approx(2.4, rel=0.01)
    assert "whole frame" in readings["whole"]


def test_frames_that_never_reached_the_readout_are_filled_in():
    readout = RhythmReadout(6.0, lambda: FPS, keep_all=True)
    with readout:
        for index, frame in enumerate(swinging_clip([Swing(0.8, 60, 40)], frames=int(8 * FPS), noise=3.0)):
            if index % 3 != 1 and index % 50 not in (10, 11, 12):  # dropped on the way
                readout.push(Captured(frame, index, index / FPS))
    assert hz_in(readout.text()) == pytest.approx(0.8, rel=0.01)
    assert readout.reading.held == pytest.approx(6.0)  # the window is counted in the source's frames


def test_a_still_picture_is_no_clear_rhythm_and_the_first_seconds_are_measuring():
    rng = np.random.default_rng(1)
    background = cv2.GaussianBlur(rng.integers(0, 256, SIZE, dtype=np.uint8), (0, 0), 1.5)
    readout = RhythmReadout(4.0, lambda: FPS)
    with readout:
        for index in range(int(2 * FPS)):
            noisy = np.clip(background + rng.normal(0, 2, SIZE), 0, 255).astype(np.uint8)
            readout.push(Captured(cv2.cvtColor(noisy, cv2.COLOR_GRAY2BGR), index, 0.0))
        time.sleep(0.2)
        assert "measuring (" in readout.text() and "of 3 s)" in readout.text()
        for index in range(int(2 * FPS), int(5 * FPS)):
            noisy = np.clip(background + rng.normal(0, 2, SIZE), 0, 255).astype(np.uint8)
            readout.push(Captured(cv2.cvtColor(noisy, cv2.COLOR_GRAY2BGR), index, 0.0))
    assert "no clear rhythm" in readout.text()


@pytest.mark.parametrize("start, end, region", [
    ((10, 20), (50, 60), (10, 20, 40, 40)),  # on the original
    ((170, 20), (210, 60), (10, 20, 40, 40)),  # the same on the motion beside it
    ((210, 60), (170, 20), (10, 20, 40, 40)),  # dragged the other way
    ((150, 100), (400, 300), (150, 100, 10, 20)),  # held to the tile it started in
    ((170, 20), (100, -50), (0, 0, 10, 20)),  # across into the original: held to the motion's edge
    ((10, 140), (50, 180), (10, 20, 40, 40)),  # stacked: the lower tile
    ((10, 20), (14, 60), None),  # narrower than a region: a click
])
def test_a_drag_in_the_view_is_a_rectangle_of_the_frame(start, end, region):
    assert frame_region(start, end, (160, 120)) == region


def test_a_click_keeps_the_region_and_a_drag_outlines_it_on_both_halves():
    drag = RegionDrag()
    drag.press(5, 5)
    assert drag.release(6, 7, (160, 120)) is None and drag.rectangle((160, 120)) is None
    frame = np.zeros((120, 160, 3), np.uint8)
    from blender_addon.live.pipeline import LiveFrame

    view = compose(LiveFrame(frame, frame.copy(), 0, 0.0), Settings(), [], regions=[(20, 30, 40, 50)])
    cyan = (view == (255, 255, 0)).all(axis=-1)
    assert cyan[30:80, 20].all() and cyan[30:80, 160 + 20].all() and not cyan[:, 70:150].any()


def test_w_is_in_the_help_and_the_flag_is_checked():
    assert any(line.startswith("w ") and "whole frame" in line for line in help_lines())
    for bad in ("-1", "0.5", "61", "ten"):
        stderr = io.StringIO()
        assert command.main(["x.mp4", "--frequency-window", bad], io.StringIO(), stderr) == 2
        assert stderr.getvalue().count("\n") == 1 and "--frequency-window" in stderr.getvalue(), stderr.getvalue()
    stderr = io.StringIO()
    assert command.main(["x.mp4", "--no-window", "--frequency-window", "5"], io.StringIO(), stderr) == 2
    assert "shows in the window" in stderr.getvalue()
