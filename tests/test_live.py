"""The live viewer without a window: incremental motion equals the engine, keys, recording, dropping, timing, errors.

Sources are a fake camera (``read()`` like ``cv2.VideoCapture``) delivering sample-clip frames at
a set rate, and a small lossless file. The sample clip's code strip tells which frames made each
output, so recordings are checked frame by frame.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from blender_addon import media
from blender_addon.core.engine import extract_motion
from blender_addon.core.pixels import Combiner
from blender_addon.core.sample_clip import SampleClip, decode_frame
from blender_addon.core.settings import Settings, SettingsError
from blender_addon.live import capture, command
from blender_addon.live import keys as live_keys
from blender_addon.live.keys import LiveState, Toggle
from blender_addon.live.motion import LiveMotion
from blender_addon.live.pipeline import LiveFrame, LivePipeline
from blender_addon.live.status import FpsMeter, describe_settings, status_line
from blender_addon.live.window import compose

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeCamera:
    """Sample-clip frames from ``read()`` at ``fps``: in real time, or on a :class:`FakeClock` with no waiting."""

    def __init__(self, clip: SampleClip, fps: float, clock: FakeClock | None = None) -> None:
        self.clip, self.interval, self.clock = clip, 1.0 / fps, clock
        self.index = 0
        self.released = False
        self._due = time.monotonic()

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.index >= self.clip.frame_count:
            return False, None
        if self.clock is not None:
            self.clock.now += self.interval
        else:
            self._due += self.interval
            time.sleep(max(0.0, self._due - time.monotonic()))
        self.index += 1
        return True, self.clip.frame(self.index - 1)

    def release(self) -> None:
        self.released = True


@pytest.fixture(scope="module")
def long_clip() -> SampleClip:
    return SampleClip(width=160, height=90, frame_count=200, fps=30.0)


def engine_frames(clip: SampleClip, settings: Settings) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(clip, settings)]


def live_frames(clip: SampleClip, settings: Settings, capacity: int) -> list[np.ndarray | None]:
    motion = LiveMotion(settings, capacity)
    return [None if out is None else out.copy() for out in map(motion.push, clip.read_from(0))]


def run_steps(pipeline: LivePipeline, count: int, keys: dict[int, str] | None = None) -> list[LiveFrame]:
    """Process ``count`` frames, pressing ``keys[i]`` before the i-th; returns copies of what was processed."""
    keys = keys or {}
    done: list[LiveFrame] = []
    deadline = time.monotonic() + 10
    while len(done) < count and time.monotonic() < deadline:
        if len(done) in keys:
            pipeline.handle_key(keys.pop(len(done)))
        frame = pipeline.step(timeout=0.5)
        if frame is not None:
            output = None if frame.output is None else frame.output.copy()
            done.append(LiveFrame(frame.original, output, frame.index, frame.timestamp))
    assert len(done) == count, "the source stopped delivering"
    return done


def slowed(push: Callable[..., np.ndarray | None], seconds: float) -> Callable:
    """``push`` made slower by ``seconds`` a frame: a processor that cannot keep up."""

    def slow_push(frame: np.ndarray, measure=None) -> np.ndarray | None:
        time.sleep(seconds)
        return push(frame, measure)

    return slow_push


# --- LiveMotion against the engine ---------------------------------------------------------------


@pytest.mark.parametrize("edges", ["hold", "source", "gray", "trim"])
@pytest.mark.parametrize("offset", [1, 4])
def test_shift_equals_the_engine(small_clip, offset, edges):
    settings = Settings(offset=offset, edges=edges)
    live_out = live_frames(small_clip, settings, capacity=5)  # the ring wraps several times
    expected = engine_frames(small_clip, settings)
    if edges == "trim":
        assert live_out[:offset] == [None] * offset
        live_out = live_out[offset:]
    assert len(live_out) == len(expected)
    for index, (got, want) in enumerate(zip(live_out, expected, strict=True)):
        assert np.array_equal(got, want), f"frame {index}"


@pytest.mark.parametrize(
    "changes",
    [
        {"look": "difference"},
        {"look": "subtract", "amplify": 3.0},
        {"mix": 0.3, "amplify": 2.0},
        {"time_colour": True},
        {"time_colour": True, "edges": "trim", "red_delay": 0},
        {"look": "difference", "trails": 0.9, "edges": "source"},
        {"glow": 1.5, "glow_radius": 3.0, "amplify": 2.0},
        {"overlay": "screen", "layout": "side"},
        {"overlay": "multiply", "overlay_strength": 0.5, "layout": "stacked", "edges": "gray"},
    ],
)
def test_looks_equal_the_engine(small_clip, changes):
    settings = Settings(offset=2, **changes)
    live_out = [frame for frame in live_frames(small_clip, settings, 6) if frame is not None]
    expected = engine_frames(small_clip, settings)
    assert len(live_out) == len(expected)
    for index, (got, want) in enumerate(zip(live_out, expected, strict=True)):
        assert np.array_equal(got, want), f"frame {index}"


def test_freeze_equals_the_engine_once_the_reference_arrived(small_clip):
    settings = Settings(mode="freeze", reference=7)
    live_out = live_frames(small_clip, settings, capacity=2)
    expected = engine_frames(small_clip, settings)
    for t in range(7, small_clip.frame_count):
        assert np.array_equal(live_out[t], expected[t]), f"frame {t}"
    for t in range(7):  # hold: nothing to compare with yet, so each frame meets itself: flat still gray
        assert np.all(live_out[t] == 128)


def test_changing_settings_mid_stream_keeps_the_history(small_clip):
    motion = LiveMotion(Settings(offset=2), capacity=8)
    for t in range(12):
        motion.push(small_clip.frame(t))
    settings = Settings(offset=8, look="difference")
    motion.set_settings(settings)
    out = motion.push(small_clip.frame(12))
    expected = Combiner(settings, out.shape).combine(small_clip.frame(12), small_clip.frame(4))
    assert np.array_equal(out, expected)

    motion.set_settings(Settings(mode="freeze", reference=10))  # seen already, still in the ring
    code = decode_frame(motion.push(small_clip.frame(13)))
    assert (code.frame, code.partner) == (13, 10)


def test_a_reference_no_longer_held_is_refused(small_clip):
    motion = LiveMotion(Settings(), capacity=3)
    for t in range(10):
        motion.push(small_clip.frame(t))
    with pytest.raises(SettingsError, match="reference frame 2 is no longer held"):
        motion.set_settings(Settings(mode="freeze", reference=2))


def test_negative_and_too_long_offsets_are_refused():
    with pytest.raises(SettingsError, match="use offset 3"):
        LiveMotion(Settings(offset=-3))
    with pytest.raises(SettingsError, match="offset 40: that needs 41 frames of history"):
        LiveState(Settings(offset=40), capacity=30)
    with pytest.raises(SettingsError, match="time colour reaches 33 frames back"):
        LiveState(Settings(offset=11, time_colour=True), capacity=30)


def test_a_new_frame_size_restarts_the_stream(small_clip):
    motion = LiveMotion(Settings(offset=2), capacity=4)
    for t in range(6):
        motion.push(small_clip.frame(t))
    other = SampleClip(width=200, height=100, frame_count=3)
    out = motion.push(other.frame(2))
    assert motion.frames_seen == 1 and np.all(out == 128)  # hold: frame 0 of the new stream is itself


# --- keys ----------------------------------------------------------------------------------------


def test_each_key_changes_the_settings_as_expected():
    state = LiveState(Settings(offset=5), capacity=30)
    steps = [
        ("+", live_keys.SETTINGS, {"offset": 6}),
        ("=", live_keys.SETTINGS, {"offset": 7}),
        ("-", live_keys.SETTINGS, {"offset": 6}),
        ("]", live_keys.SETTINGS, {"offset": 16}),
        ("]", live_keys.SETTINGS, {"offset": 26}),
        ("]", live_keys.SETTINGS, {"offset": 30}),  # clamped to the history
        ("+", None, {"offset": 30}),
        ("c", live_keys.SETTINGS, {"time_colour": True, "offset": 10}),  # blue reaches 3N back: N fits the history
        ("+", None, {"offset": 10}),
        ("c", live_keys.SETTINGS, {"time_colour": False}),
        ("[", live_keys.SETTINGS, {"offset": 1}),  # clamped to 1
        ("-", None, {"offset": 1}),
        ("l", live_keys.SETTINGS, {"look": "difference"}),
        ("l", live_keys.SETTINGS, {"look": "subtract"}),
        ("l", live_keys.SETTINGS, {"look": "matte"}),
        ("l", live_keys.SETTINGS, {"look": "flow"}),
        ("l", live_keys.SETTINGS, {"look": "gray"}),
        ("g", live_keys.SETTINGS, {"glow": 1.5}),
        ("g", live_keys.SETTINGS, {"glow": 0.0}),
        ("f", live_keys.SETTINGS, {"mode": "freeze", "reference": 42}),
        ("+", live_keys.SETTINGS, {"offset": 2}),  # kept for shift mode
        ("c", None, {}),  # time colour needs shift mode: refused, settings unchanged
        ("m", live_keys.SETTINGS, {"mode": "shift"}),
        ("m", live_keys.SETTINGS, {"mode": "freeze", "reference": 42}),
        ("r", live_keys.RECORD, {}),
        ("s", live_keys.SNAPSHOT, {}),
        ("x", None, {}),
        (-1, None, {}),
        (ord("q"), live_keys.QUIT, {}),
        (27, live_keys.QUIT, {}),
    ]
    for key, action, expected in steps:
        before = state.settings.to_dict()
        assert state.handle_key(key, frame_index=42) == action, key
        after = state.settings.to_dict()
        assert {name: after[name] for name in expected} == expected, key
        assert {name for name in after if after[name] != before[name]} <= set(expected), key
    assert state.settings == Settings(mode="freeze", reference=42, offset=2)


def test_refused_changes_and_missing_options_say_why(monkeypatch):
    state = LiveState(Settings(mode="freeze"))
    assert state.handle_key("c") is None
    assert state.message.startswith("time colour needs shift mode")
    state = LiveState(Settings(offset=15), capacity=30)
    assert state.handle_key("c") == live_keys.SETTINGS
    assert state.message == "offset set to 10 to fit the history"
    sparkle = Toggle("x", "sparkle", 1.0, "sparkle")  # an option the settings model does not have (yet)
    monkeypatch.setitem(live_keys._BINDINGS_BY_KEY, "x", live_keys.Binding("x", "toggle sparkle", "toggle", sparkle))
    assert state.handle_key("x") is None
    assert state.message == "sparkle: not available yet"


def test_a_toggle_restores_the_value_it_switched_off():
    state = LiveState(Settings(glow=0.7))
    values = []
    for _ in range(3):
        state.handle_key("g")
        values.append(state.settings.glow)
    assert values == [0.0, 0.7, 0.0]


def test_help_toggles_and_lists_every_binding():
    state = LiveState(Settings())
    assert state.handle_key("h") == live_keys.HELP and state.show_help
    assert state.handle_key("?") == live_keys.HELP and not state.show_help
    lines = live_keys.help_lines()
    assert len(lines) == len(live_keys.BINDINGS) and any(line.startswith("q Esc") for line in lines)


def test_status_line_shows_settings_fps_drops_and_recording():
    line = status_line(Settings(offset=3, amplify=2.0, time_colour=True), 29.5, 30.0, 7, 65.0)
    assert line == "shift 3  gray  amplify 2  time_colour | 29.5 fps (source 30.0) | dropped 7 | REC 1:05"
    assert status_line(Settings(mode="freeze", reference=9), None, None, 0, None) == "freeze @9  gray | -- fps"
    # An option that does nothing with the others (the glow radius without glow) is not listed.
    assert describe_settings(Settings(glow_radius=3.0, look="difference", mix=0.3)) == "shift 1  difference"


# --- fps meter -----------------------------------------------------------------------------------


def test_fps_meter_measures_from_timestamps():
    meter = FpsMeter(window=10, minimum=3)
    for t in range(3):
        meter.tick(5.0 + t / 25)
    assert meter.rate is None  # two intervals are not enough yet
    for t in range(3, 40):
        meter.tick(5.0 + t / 25)
    assert meter.rate == pytest.approx(25.0)
    for t in range(40, 60):  # the camera slows down: the window follows
        meter.tick(5.0 + 39 / 25 + (t - 39) / 10)
    assert meter.rate == pytest.approx(10.0)


# --- the pipeline --------------------------------------------------------------------------------


def test_keys_drive_the_pipeline(long_clip):
    camera = FakeCamera(long_clip, fps=100)
    with LivePipeline(camera, Settings(offset=2), capacity=10, source_fps=100.0) as pipeline:
        done = run_steps(pipeline, 30, keys={5: "]", 12: "l", 18: "l", 19: "l", 20: "l", 21: "l", 22: "f"})
        settings = pipeline.motion.settings
    assert camera.released
    assert settings == pipeline.state.settings == Settings(mode="freeze", reference=21, offset=10)
    processed = [frame.index for frame in done]

    def code(i: int) -> tuple:
        found = decode_frame(done[i].output)
        return found.frame, found.partner

    assert code(4) == (processed[4], processed[2])
    assert code(11) == (processed[11], processed[1])  # offset 10 at once: the history was kept
    assert code(25) == (processed[25], processed[21])  # frozen on the frame shown when f was pressed


def test_recording_writes_exactly_the_frames_processed_while_recording(long_clip, tmp_path):
    output = tmp_path / "rec.mkv"
    with LivePipeline(FakeCamera(long_clip, fps=100), Settings(offset=3), source_fps=100.0) as pipeline:
        pipeline.start_recording(output)
        done = run_steps(pipeline, 25)
        assert not output.exists()  # atomic: nothing appears before the stop
        assert pipeline.stop_recording() == output
        run_steps(pipeline, 5)
    recorded = list(media.open_source(output).read_from(0))
    assert len(recorded) == 25
    for frame, shown in zip(recorded, done, strict=True):
        assert np.array_equal(frame, shown.output)  # FFV1 is lossless
    processed = [frame.index for frame in done]
    codes = [decode_frame(frame) for frame in recorded[3:]]
    assert [(c.frame, c.partner) for c in codes] == list(zip(processed[3:], processed[:-3], strict=True))


def test_ctrl_c_keeps_the_recording_and_an_error_leaves_nothing(long_clip, tmp_path):
    for path, error in [(tmp_path / "kept.mkv", KeyboardInterrupt), (tmp_path / "lost.mkv", RuntimeError)]:
        with pytest.raises(error):
            with LivePipeline(FakeCamera(long_clip, fps=100), Settings(), source_fps=100.0) as pipeline:
                pipeline.start_recording(path)
                run_steps(pipeline, 5)
                raise error
    assert media.open_source(tmp_path / "kept.mkv").frame_count == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.mkv"]  # no partial file either


def test_record_key_toggles_and_snapshot_saves_the_motion(long_clip, tmp_path):
    with LivePipeline(FakeCamera(long_clip, fps=100), Settings(), source_fps=100.0, output_dir=tmp_path) as pipeline:
        assert pipeline.handle_key("s") == live_keys.SNAPSHOT and pipeline.state.message == "no frame to save yet"
        run_steps(pipeline, 3)
        pipeline.handle_key("r")
        recording = pipeline.recorder.path
        done = run_steps(pipeline, 10)
        assert "REC 0:00" in pipeline.status()
        pipeline.handle_key("r")
        assert pipeline.state.message == f"saved {recording}"
        pipeline.handle_key("s")
    snapshot = pipeline.saved[-1]
    assert pipeline.saved == [recording, snapshot] and snapshot.suffix == ".png"
    assert recording.name.startswith("live-") and recording.name.endswith("gray_shift1.mp4")
    assert media.open_source(recording).frame_count == 10
    assert np.array_equal(cv2.imread(str(snapshot)), done[-1].output)


def test_frames_are_dropped_not_queued_when_processing_is_slow(long_clip, monkeypatch):
    with LivePipeline(FakeCamera(long_clip, fps=100), Settings(), source_fps=100.0) as pipeline:
        monkeypatch.setattr(pipeline.motion, "push", slowed(pipeline.motion.push, 0.03))  # a third of the rate
        done = run_steps(pipeline, 12)
        dropped = pipeline.dropped
        status = pipeline.status()
    assert dropped >= 12
    assert f"dropped {dropped}" in status
    gaps = np.diff([frame.index for frame in done])
    assert gaps.max() > 1  # skipped frames ...
    assert done[-1].index - done[0].index <= 12 * 5  # ... but no lag built up: each frame was about the newest


def test_a_file_keeps_every_frame_and_can_be_held_to_its_rate(long_clip, monkeypatch):
    instant = FakeCamera(long_clip, fps=1e6)  # a file: OpenCV reads it as fast as it can
    with LivePipeline(instant, Settings(), source_fps=50.0, pace=True, keep_all=True) as pipeline:
        push = pipeline.motion.push
        monkeypatch.setattr(pipeline.motion, "push", slowed(push, 0.03))
        done = run_steps(pipeline, 12)  # processing is slower than the file's 50 fps: it waits, nothing drops
        assert [frame.index for frame in done] == list(range(12)) and pipeline.dropped == 0
        monkeypatch.setattr(pipeline.motion, "push", push)
        run_steps(pipeline, 30)
        rate = pipeline.arrivals.rate
    assert rate == pytest.approx(50.0, rel=0.15)  # paced: the file plays at its own rate, not OpenCV's


def test_a_source_reporting_0_fps_is_timed_from_arrivals(long_clip, tmp_path):
    clock = FakeClock()
    output = tmp_path / "rec.mp4"
    with LivePipeline(FakeCamera(long_clip, fps=40, clock=clock), Settings(), source_fps=None, clock=clock) as pipeline:
        pipeline.start_recording(output)  # the writer opens once the rate is measured
        run_steps(pipeline, 1)
        pipeline.capture.join(5)  # on the fake clock the whole clip arrives at once
        assert pipeline.source_rate == pytest.approx(40.0)
    assert media.open_source(output).fps == pytest.approx(40.0)


def test_a_real_time_source_reporting_0_fps_is_measured_within_tolerance(long_clip):
    with LivePipeline(FakeCamera(long_clip, fps=50), Settings(), source_fps=None) as pipeline:
        run_steps(pipeline, 20)
        rate = pipeline.source_rate
    assert rate == pytest.approx(50.0, rel=0.15)


def test_compose_puts_original_and_motion_side_by_side(small_clip):
    original = small_clip.frame(5)
    motion = np.full_like(original, 77)
    frame = LiveFrame(original, motion, 5, 0.0)
    view = compose(frame, Settings(), ["shift 1 | dropped 3"])
    height, width = original.shape[:2]
    assert view.shape == (height, 2 * width, 3)
    assert np.array_equal(view[height // 2 :, :width], original[height // 2 :])
    assert np.all(view[height // 2 :, width:] == 77)
    assert not np.array_equal(view[:20, :width], original[:20])  # the text
    stacked = np.vstack([original, motion])  # a layout that holds the original already is shown as it is
    view = compose(LiveFrame(original, stacked, 5, 0.0), Settings(layout="stacked"), [])
    assert np.array_equal(view, stacked)


# --- file source and command line ----------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory, small_clip) -> Path:
    path = tmp_path_factory.mktemp("live") / "clip.mkv"
    with media.open_writer(path, 50.0, small_clip.width, small_clip.height) as writer:
        for frame in small_clip.read_from(0):
            writer.write(frame)
    return path


def test_file_source_records_what_the_engine_renders(clip_file, small_clip, tmp_path):
    output = tmp_path / "motion.mkv"
    stdout = io.StringIO()
    code = command.main(
        ["--no-window", str(clip_file), "--offset", "4", "--record", str(output)], stdout=stdout, stderr=io.StringIO()
    )
    assert code == 0
    assert stdout.getvalue() == f"processed 30 frames, dropped 0\nwrote {output}\n"
    source = media.open_source(output)
    assert source.fps == pytest.approx(50.0)
    recorded = list(source.read_from(0))
    expected = engine_frames(small_clip, Settings(offset=4))
    assert len(recorded) == len(expected)
    assert all(np.array_equal(got, want) for got, want in zip(recorded, expected, strict=True))


def test_frames_limit_stops_the_run(clip_file):
    stdout = io.StringIO()
    assert command.main(["--no-window", "--frames", "7", str(clip_file)], stdout=stdout) == 0
    assert stdout.getvalue().startswith("processed 7 frames")


def run_main(*args: str) -> tuple[int, str]:
    stderr = io.StringIO()
    code = command.main(list(args), stdout=io.StringIO(), stderr=stderr)
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("live: error: "), stderr.getvalue()
    return code, lines[0].removeprefix("live: error: ")


def test_missing_camera_is_one_line():
    assert run_main("--no-window", "99") == (1, "no camera at index 99")
    assert run_main("--no-window", "/dev/video99") == (1, "no camera at index 99")


def test_busy_camera_is_one_line(monkeypatch):
    class BusyCamera:
        def __init__(self, *args: object) -> None:
            self.released = False

        def isOpened(self) -> bool:  # noqa: N802 - cv2.VideoCapture's name
            return True

        def read(self) -> tuple[bool, None]:
            return False, None

        def release(self) -> None:
            pass

    monkeypatch.setattr(capture.cv2, "VideoCapture", BusyCamera)
    assert run_main("--no-window", "0") == (1, "camera 0 is busy or gives no frames")


def test_missing_window_support_points_to_the_headless_tools(monkeypatch, clip_file):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, message = run_main(str(clip_file))
    assert code == 1 and message.startswith("no window system") and "scripts/motion_extract.py" in message
    monkeypatch.setenv("DISPLAY", ":0")  # a display, but this OpenCV (headless wheel) has no highgui
    code, message = run_main(str(clip_file))
    assert code == 1 and message.startswith("this OpenCV has no window support") and "--no-window" in message


def test_bad_arguments_exit_2():
    assert run_main("--offset", "-2") == (
        2,
        "offset -2 compares with a frame 2 frames ahead, which a live source has not captured yet; "
        "use offset 2 (the same two frames, the other way round)",
    )
    code, message = run_main("--look", "neon")
    assert code == 2 and "(see --help)" in message


def test_script_runs_headless(clip_file):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "live.py"), "--no-window", "--frames", "3", str(clip_file)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("processed 3 frames")
    missing = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "live.py"), "--no-window", "nothing.mp4"],
        capture_output=True, text=True, timeout=60,
    )
    assert (missing.returncode, missing.stderr) == (1, "live: error: nothing.mp4: no such file\n")


def test_a_rotation_tagged_file_plays_upright_as_the_command_line_reads_it(tmp_path):
    plain, tagged = tmp_path / "plain.mp4", tmp_path / "rotate90.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x96:r=25:d=0.2", "-c:v", "libx264",
                    str(plain)], check=True, timeout=60)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(plain), "-c", "copy", "-metadata:s:v", "rotate=90", str(tagged)],
                   check=True, timeout=60)
    opened = capture.open_live_source(str(tagged))
    try:
        ok, second = opened.capture.read()
    finally:
        opened.capture.release()
    upright = next(iter(media.open_source(tagged).read_from(0)))  # rotated movies are read as BGR
    assert opened.first_frame.shape == second.shape == upright.shape == (160, 96, 3)
    assert np.abs(opened.first_frame.astype(int) - upright).mean() < 2
