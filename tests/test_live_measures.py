"""The live view's motion: the quantity-of-motion graph, recording the motion data, a window fitted to the screen."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from frame_helpers import FrameList

from blender_addon import media
from blender_addon.core.engine import extract_motion
from blender_addon.core.measures import MotionMeasures, columns
from blender_addon.core.sample_clip import SampleClip
from blender_addon.core.settings import Settings
from blender_addon.live import command, window
from blender_addon.live.keys import DATA
from blender_addon.live.pipeline import LiveFrame, LivePipeline
from blender_addon.live.status import QuantityHistory
from blender_addon.live.window import GRAPH_COLOUR, compose, fitted_size


class ClipCamera:
    """Sample-clip frames from ``read()`` as fast as they are asked for (like a file)."""

    def __init__(self, clip: SampleClip) -> None:
        self.clip, self.index = clip, 0

    def read(self):
        if self.index >= self.clip.frame_count:
            return False, None
        self.index += 1
        return True, self.clip.frame(self.index - 1)


@pytest.fixture(scope="module")
def clip() -> SampleClip:
    return SampleClip(width=160, height=90, frame_count=40, fps=30.0)


def test_history_scales_to_the_largest_value_and_scrolls():
    history = QuantityHistory(length=5, floor=2.0)
    assert history.top == 2.0 and history.points(50, 20).shape == (0, 2)
    for value in (0.0, 1.0, 4.0):
        history.add(value)
    assert history.top == 4.0 and history.latest == 4.0
    points = history.points(50, 21)
    assert points.tolist() == [[24, 20], [37, 15], [49, 0]]  # newest at the right, the top value at the top
    for _ in range(10):
        history.add(0.5)
    assert history.values == (0.5,) * 5 and history.top == 2.0  # the floor keeps noise flat


def test_pipeline_measures_every_frame_and_records_the_data(clip, tmp_path):
    settings = Settings(offset=2, look="difference")
    data = tmp_path / "live.csv"
    with LivePipeline(ClipCamera(clip), settings, keep_all=True, output_dir=tmp_path) as pipeline:
        pipeline.record_info = {"source": "test"}
        pipeline.start_data(data)
        while not pipeline.finished:
            pipeline.step(timeout=1.0)
        assert pipeline.data is not None and not data.exists()  # published when it stops
    assert pipeline.saved == [data]
    with open(data, newline="") as stream:
        table = list(csv.reader(stream))
    assert table[0] == [column.name for column in columns(flow=True)]
    rows = table[1:]
    assert [int(row[0]) for row in rows] == list(range(clip.frame_count))
    times = [float(row[1]) for row in rows]
    assert times == sorted(times) and times[0] == 0  # from the first frame recorded
    # The quantities are the engine's measures of the same frames.
    measures = MotionMeasures(settings, (clip.height, clip.width))
    expected = []
    for _ in extract_motion(FrameList([clip.frame(index) for index in range(clip.frame_count)]), settings,
                            measure=measures):
        expected.append(round(measures.values[0], 6))
    assert [float(row[2]) for row in rows] == expected
    assert all(row[-2:] == ["", ""] for row in rows)  # no flow with this look
    assert list(pipeline.history.values) == pytest.approx(expected[-pipeline.history.length:], abs=1e-6)
    record = json.loads((tmp_path / "live.csv.json").read_text())
    assert record["tool"] == "live" and record["source"] == "test" and record["settings"]["offset"] == 2


def test_the_d_key_starts_and_stops_the_data(clip, tmp_path):
    with LivePipeline(ClipCamera(clip), Settings(look="flow"), keep_all=True, output_dir=tmp_path) as pipeline:
        pipeline.step(timeout=1.0)
        assert pipeline.handle_key("d") == DATA and pipeline.data is not None
        assert pipeline.state.message.startswith("recording the motion data to ")
        assert "DATA live-" in window.overlay_lines(pipeline)[0]
        for _ in range(5):
            pipeline.step(timeout=1.0)
        pipeline.handle_key("d")
        assert pipeline.data is None and pipeline.state.message.startswith("saved ")
    files = sorted(path.name for path in tmp_path.iterdir())
    assert len(files) == 2 and files[0].endswith(".csv") and files[1].endswith(".csv.json")
    with open(tmp_path / files[0], newline="") as stream:
        rows = list(csv.reader(stream))[1:]
    assert len(rows) == 5 and all(row[-2] != "" for row in rows)  # the flow look fills the flow columns


def test_a_failed_run_leaves_no_data(clip, tmp_path):
    with pytest.raises(RuntimeError), LivePipeline(ClipCamera(clip), Settings(), keep_all=True) as pipeline:
        pipeline.start_data(tmp_path / "live.json")
        pipeline.step(timeout=1.0)
        raise RuntimeError("the window broke")
    assert list(tmp_path.iterdir()) == []


def test_live_command_line_records_data_and_refuses_bad_names(tmp_path, small_clip):
    path = tmp_path / "clip.mkv"
    with media.open_writer(path, 25.0, small_clip.width, small_clip.height) as writer:
        for frame in small_clip.read_from(0):
            writer.write(frame)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = command.main(["--no-window", str(path), "--data", str(tmp_path / "m.json")], stdout, stderr)
    assert code == 0, stderr.getvalue()
    document = json.loads((tmp_path / "m.json").read_text())
    assert len(document["rows"]) == small_clip.frame_count and document["command"][-2:] == ["--data",
                                                                                          str(tmp_path / "m.json")]
    stderr = io.StringIO()
    assert command.main(["--no-window", str(path), "--data", str(tmp_path / "m.txt")], io.StringIO(), stderr) == 2
    expected = f"live: error: {tmp_path / 'm.txt'}: motion data is written as .csv or .json, not .txt\n"
    assert stderr.getvalue() == expected


def text_rows(view: np.ndarray) -> int:
    """How many rows of the top half hold white text."""
    top = view[: view.shape[0] // 2]
    return int(np.count_nonzero((top > 200).all(axis=-1).any(axis=1)))


def test_text_and_graph_keep_their_size_on_the_screen():
    original = np.full((180, 320, 3), 90, np.uint8)  # no white of its own
    frame = LiveFrame(original, np.full_like(original, 128), 3, 0.0)
    history = QuantityHistory()
    for value in np.linspace(0, 5, 60):
        history.add(value)
    natural = compose(frame, Settings(), ["shift 1 | 30.0 fps"], history, display_scale=1.0)
    halved = compose(frame, Settings(), ["shift 1 | 30.0 fps"], history, display_scale=0.5)
    # Shown at half size, the text is drawn twice as large (and twice as thick), so it reads the same on the screen.
    box_rows = [int(np.count_nonzero((view[:, 2] == 0).all(axis=-1))) for view in (natural, halved)]
    assert box_rows == [26, 51]  # 25 and 50 rows, and the rectangle's closing edge
    assert 2 * text_rows(natural) - 3 <= text_rows(halved) <= 3 * text_rows(natural)
    assert text_rows(natural) >= 14  # capitals 15 pixels tall on the screen: legible
    amber = (np.abs(natural.astype(int) - GRAPH_COLOUR) < 60).all(axis=-1)
    assert amber[-70:, :300].sum() > 200 and not amber[:-70].any() and not amber[:, 300:].any()  # at the bottom left


def test_a_long_status_line_wraps_at_its_separators():
    view = np.zeros((200, 300, 3), np.uint8)
    frame = LiveFrame(view[:, :150].copy(), view[:, :150].copy(), 0, 0.0)
    line = " | ".join(f"part {number} of a long status" for number in range(6))
    lines = window._wrapped([line], 288, 15 / 22, 1)
    assert len(lines) > 1 and " | ".join(lines) == line
    shown = compose(frame, Settings(), [line])
    assert shown.shape == (200, 300, 3)


@pytest.mark.parametrize("view, screen, expected", [
    ((1280, 272), (1600, 1200), ((1280, 272), 1.0)),  # the side by side: its natural size
    ((2560, 720), (1280, 1024), ((1178, 331), 0.46)),  # wider than the screen: fitted, the aspect kept
    ((640, 2000), (1920, 1080), ((294, 918), 0.459)),
    ((1280, 720), None, ((1280, 720), 1.0)),
])
def test_window_takes_the_natural_size_fitted_to_the_screen(view, screen, expected):
    size, scale = fitted_size(view, screen)
    assert size == expected[0] and scale == pytest.approx(expected[1], abs=0.001)
