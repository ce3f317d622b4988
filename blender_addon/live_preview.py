"""The live viewer: a camera, file or stream in; original and motion side by side in a window, driven by keys.

The pipeline runs without a window too (``--no-window``), which is how the tests drive it:

- a :class:`CaptureThread` reads frames as they come and leaves only the newest in a
  :class:`LatestFrame` slot; a frame that replaces an unprocessed one is counted as dropped,
  so a slow processor skips frames instead of falling behind the camera. A file is not live:
  its reader waits for the processor instead, so every frame is shown (at the file's own rate
  in a window, as fast as it goes without one);
- :class:`LivePipeline` takes the newest frame, renders its output frame with
  :class:`~.core.live.LiveMotion`, records it with ``media``'s atomic writers, and applies
  key presses through :class:`~.core.live.LiveState`;
- :func:`main` is the command line (``scripts/live.py``): arguments from the settings model,
  the highgui window, one-line errors. Exit codes: 0 success, 1 source, window or output
  failure, 2 bad arguments. Errors go to stderr as ``live: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

import cv2
import numpy as np

from . import media
from .cli import (
    REPO_ROOT,
    OneLineParser,
    RunError,
    UsageError,
    _in_frames,
    add_settings_arguments,
    preset_listing,
    run_command,
    settings_from_args,
)
from .core.live import (
    DATA,
    DEFAULT_HISTORY,
    QUIT,
    RECORD,
    SETTINGS,
    SNAPSHOT,
    FpsMeter,
    LiveMotion,
    LiveState,
    QuantityHistory,
    alignment_status,
    check_live,
    help_lines,
    status_line,
)
from .core.measures import DEFAULT_THRESHOLD, MotionMeasures, columns
from .core.pixels import still_frame
from .core.settings import Settings, SettingsError
from .media.camera import open_live_source
from .media.data import DataWriter
from .media.paths import data_kind

PROG = "live"
WINDOW_TITLE = "Motion Extraction (live)"


class FrameReader(Protocol):
    """What the capture thread reads from: ``cv2.VideoCapture`` or anything with the same ``read``."""

    def read(self) -> tuple[bool, np.ndarray | None]: ...


@dataclass
class Captured:
    """A frame as the capture thread delivered it."""

    frame: np.ndarray
    index: int  # counted by the capture from 0, dropped frames included
    timestamp: float  # arrival time on the pipeline's clock


class LatestFrame:
    """A one-frame slot between the capture thread and the processing loop.

    A new frame replaces one that was not taken yet; the replaced frame counts as dropped.
    With ``keep_all``, :meth:`put` waits until the slot is free instead.
    """

    def __init__(self, keep_all: bool = False) -> None:
        self._condition = threading.Condition()
        self._item: Captured | None = None
        self._closed = False
        self._keep_all = keep_all
        self.dropped = 0

    def put(self, item: Captured) -> None:
        with self._condition:
            if self._keep_all:
                self._condition.wait_for(lambda: self._item is None or self._closed)
            if self._closed:
                return
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._condition.notify_all()

    def close(self) -> None:
        """No more frames will come (a waiting :meth:`put` gives up)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def take(self, timeout: float | None = None) -> Captured | None:
        """The newest frame, waiting up to ``timeout`` seconds; None when none came or the source ended."""
        with self._condition:
            self._condition.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
            self._condition.notify_all()
            return item

    @property
    def finished(self) -> bool:
        """The source ended and its last frame was taken."""
        with self._condition:
            return self._closed and self._item is None


class CaptureThread(threading.Thread):
    """Reads ``reader`` until it ends or :meth:`stop` is called, timing each arrival; owns and releases the reader.

    ``pace`` (frames per second) holds a file or stream back to its own rate, as if it were a camera.
    """

    def __init__(
        self,
        reader: FrameReader,
        slot: LatestFrame,
        arrivals: FpsMeter,
        clock: Callable[[], float],
        pace: float | None = None,
        first_frame: np.ndarray | None = None,
    ) -> None:
        super().__init__(name="live-capture", daemon=True)
        self._reader, self._slot, self._arrivals, self._clock = reader, slot, arrivals, clock
        self._pace, self._first_frame = pace, first_frame
        self._stopping = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        due = time.monotonic()
        index = 0
        try:
            while not self._stopping.is_set():
                if self._pace:
                    self._stopping.wait(max(0.0, due - time.monotonic()))
                    due = max(due, time.monotonic()) + 1 / self._pace  # once behind, go on from now: no rushing
                if self._first_frame is not None:
                    ok, frame, self._first_frame = True, self._first_frame, None
                else:
                    ok, frame = self._reader.read()
                if not ok or frame is None or self._stopping.is_set():
                    break
                timestamp = self._clock()
                self._arrivals.tick(timestamp)
                self._slot.put(Captured(frame, index, timestamp))
                index += 1
        except Exception as error:  # a broken stream ends the capture; the pipeline reports it
            self.error = error
        finally:
            self._slot.close()
            release = getattr(self._reader, "release", None)
            if release is not None:
                release()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._slot.close()
        if self.is_alive():
            self.join(timeout)


@dataclass
class LiveFrame:
    """One processed frame: the original, its output frame (None while ``edges=trim`` waits) and where it came from.

    The output is the engine's output frame for these settings, ``layout`` included.
    """

    original: np.ndarray
    output: np.ndarray | None
    index: int
    timestamp: float


class Recorder:
    """Writes output frames with ``media``'s atomic writers: nothing appears at ``path`` before :meth:`stop`.

    The writer needs the frame rate up front; for a source that reports none, frames wait in
    memory until ``rate()`` has measured one from arrivals (a few frames). Frames are written at
    the source's rate, so a recording made while frames were dropped plays faster than life.
    """

    def __init__(self, path: Path, rate: Callable[[], float | None], overwrite: bool, started: float) -> None:
        media.output_kind(path)  # a bad extension fails now, not at the first frame
        self.path = path
        self.started = started
        self._rate = rate
        self._overwrite = overwrite
        self._writer: media.FrameWriter | None = None
        self._pending: list[np.ndarray] = []

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            self._pending.append(frame.copy())
            rate = self._rate()
            if rate is not None:
                self._open(rate)
        else:
            self._writer.write(frame)

    def stop(self) -> Path | None:
        """Finish the file and move it into place; None when no frame was recorded."""
        if self._writer is None:
            if not self._pending:
                return None
            self._open(self._rate() or media.DEFAULT_FPS)  # stopped before the rate was measured
        self._writer.commit()
        return self.path

    def abort(self) -> None:
        self._pending.clear()
        if self._writer is not None:
            self._writer.abort()

    def _open(self, rate: float) -> None:
        height, width = self._pending[0].shape[:2]
        self._writer = media.open_writer(self.path, rate, width, height, overwrite=self._overwrite)
        for frame in self._pending:
            self._writer.write(frame)
        self._pending.clear()


class LivePipeline:
    """Capture thread, motion, keys, recording and snapshots, without any window; use it as a context manager.

    ``source_fps`` is the rate the source reports (None when it reports 0 or junk: then the
    rate is measured from arrival times). ``pace`` reads at that rate (files and streams, which
    OpenCV would otherwise read as fast as it can); ``keep_all`` processes every frame instead
    of dropping (files). ``clock`` times arrivals and processing.
    """

    def __init__(
        self,
        reader: FrameReader,
        settings: Settings,
        *,
        capacity: int = DEFAULT_HISTORY,
        source_fps: float | None = None,
        pace: bool = False,
        keep_all: bool = False,
        first_frame: np.ndarray | None = None,
        clock: Callable[[], float] = time.monotonic,
        output_dir: Path = Path("."),
        overwrite: bool = False,
    ) -> None:
        self.state = LiveState(settings, capacity)
        self.motion = LiveMotion(settings, capacity)
        self.source_fps = source_fps
        self.arrivals = FpsMeter()
        self.processing = FpsMeter()
        self.slot = LatestFrame(keep_all)
        self.output_dir = output_dir
        self.overwrite = overwrite
        self.clock = clock
        self.recorder: Recorder | None = None
        self.saved: list[Path] = []  # recordings and snapshots, in order
        self.latest: LiveFrame | None = None
        self.processed = 0
        pace_fps = (source_fps or media.DEFAULT_FPS) if pace else None
        self.capture = CaptureThread(reader, self.slot, self.arrivals, clock, pace_fps, first_frame)
        self.history = QuantityHistory()  # the quantity of motion of the latest frames, for the graph
        self.data: DataWriter | None = None  # the motion data being recorded
        self.record_info: dict = {}  # what a data file's record tells about the run (command, source)
        self._data_started: float | None = None  # when the first frame recorded arrived
        self._measures: tuple[Settings, MotionMeasures] | None = None

    def __enter__(self) -> LivePipeline:
        self.capture.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        """Stop capturing; a recording is kept (stop = commit) unless an error other than Ctrl-C ended the run."""
        self.capture.stop()
        if exc_type is None or issubclass(exc_type, KeyboardInterrupt):
            self.stop_recording()
        elif self.recorder is not None:
            self.recorder.abort()
            self.recorder = None
        if exc_type is None or issubclass(exc_type, KeyboardInterrupt):
            self.stop_data()
        elif self.data is not None:
            self.data.discard()
            self.data = None

    @property
    def source_rate(self) -> float | None:
        """Frames per second of the source: as reported, else measured from arrivals (None until measured)."""
        return self.source_fps or self.arrivals.rate

    @property
    def dropped(self) -> int:
        return self.slot.dropped

    @property
    def finished(self) -> bool:
        return self.slot.finished

    def step(self, timeout: float | None = 1.0) -> LiveFrame | None:
        """Process the newest frame (waiting up to ``timeout`` s); None when none came or the source ended."""
        captured = self.slot.take(timeout)
        if captured is None:
            return None
        measures = self._measures_for(captured.frame)
        output = self.motion.push(captured.frame, measures)
        if output is not None:
            self.history.add(measures.values[0])
            if self.data is not None:
                if self._data_started is None:
                    self._data_started = captured.timestamp
                self.data.write([captured.index, captured.timestamp - self._data_started, *measures.values])
        if self.recorder is not None and output is not None:
            self.recorder.write(output)
        self.processed += 1
        self.processing.tick(self.clock())
        self.latest = LiveFrame(captured.frame, output, captured.index, captured.timestamp)
        return self.latest

    def handle_key(self, key: int | str) -> str | None:
        """Apply a key press (a ``cv2.waitKey`` code or a character); returns the action, QUIT to stop."""
        action = self.state.handle_key(key, frame_index=max(self.motion.frames_seen - 1, 0))
        try:
            if action == SETTINGS:
                self.motion.set_settings(self.state.settings)
            elif action == RECORD:
                if self.recorder is None:
                    self.start_recording()
                    self.state.message = f"recording to {self.recorder.path}"
                else:
                    path = self.stop_recording()
                    self.state.message = f"saved {path}" if path else "nothing was recorded"
            elif action == DATA:
                if self.data is None:
                    self.state.message = f"recording the motion data to {self.start_data()}"
                else:
                    self.state.message = f"saved {self.stop_data()}"
            elif action == SNAPSHOT:
                path = self.snapshot()
                self.state.message = f"saved {path}" if path else "no frame to save yet"
        except (media.MediaError, SettingsError) as error:
            self.state.message = str(error)
        return action

    def start_recording(self, path: Path | None = None) -> Path:
        """Record each output frame processed from now on, to ``path`` or a new ``live-...mp4`` in the output folder."""
        if self.recorder is not None:
            raise ValueError("already recording")
        path = path or self._new_path(".mp4")
        self.recorder = Recorder(path, lambda: self.source_rate, self.overwrite, self.clock())
        return path

    def stop_recording(self) -> Path | None:
        """Finish the recording and move it into place; None when it holds no frame (or none was running)."""
        recorder, self.recorder = self.recorder, None
        path = recorder.stop() if recorder is not None else None
        if path is not None:
            self.saved.append(path)
        return path

    def _measures_for(self, frame: np.ndarray) -> MotionMeasures:
        """The measures of frames of this size under the current settings (made anew when either changes)."""
        settings = self.motion.settings
        if self._measures is None or self._measures[0] is not settings or (
                self._measures[1].height, self._measures[1].width) != frame.shape[:2]:
            self._measures = (settings, MotionMeasures(settings, frame.shape, flow=True))
        return self._measures[1]

    def start_data(self, path: Path | None = None) -> Path:
        """Record the motion data of each frame from now on (one row per frame, see ``core.measures``) to
        ``path`` or a new ``live-...csv`` in the output folder; its time counts from the first frame recorded."""
        if self.data is not None:
            raise ValueError("already recording the motion data")
        path = path or self._new_path(".csv")
        record = {
            "tool": "live", **self.record_info, "settings": self.state.settings.to_dict(),
            "motion_threshold": DEFAULT_THRESHOLD,
            "time": "seconds from the arrival of the first frame recorded; the settings are those at the start "
            "(keys may have changed them since)",
        }
        self.data = DataWriter(path, columns(flow=True), record, self.overwrite)
        self._data_started = None
        return path

    def stop_data(self) -> Path | None:
        """Finish the motion data and move it into place; None when none was being recorded."""
        data, self.data = self.data, None
        if data is None:
            return None
        data.commit()
        self.saved.append(Path(data.path))
        return Path(data.path)

    def snapshot(self, path: Path | None = None) -> Path | None:
        """Save the latest output frame as a PNG; None when there is none yet."""
        if self.latest is None or self.latest.output is None:
            return None
        path = path or self._new_path(".png")
        _, encoded = cv2.imencode(".png", self.latest.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            encoded.tofile(path)  # rather than imwrite, which cannot open non-ASCII paths on Windows
        except OSError as error:
            raise media.MediaError(f"{path}: {(error.strerror or str(error)).lower()}") from None
        self.saved.append(path)
        return path

    def status(self) -> str:
        """The overlay's status line."""
        recording = None if self.recorder is None else self.clock() - self.recorder.started
        line = status_line(self.state.settings, self.processing.rate, self.source_rate, self.dropped, recording)
        aligned = alignment_status(self.motion.alignments)
        return f"{line} | {aligned}" if aligned else line

    def _new_path(self, extension: str) -> Path:
        stem = f"live-{time.strftime('%Y%m%d-%H%M%S')}-{self.state.settings.describe()}"
        path, number = self.output_dir / f"{stem}{extension}", 1
        while path.exists():
            number += 1
            path = self.output_dir / f"{stem}-{number}{extension}"
        return path


# --- drawing -----------------------------------------------------------------------------------


TEXT_HEIGHT = 15  # pixels on the screen of a line of the overlay's text (capitals), whatever the window's scale
GRAPH_SIZE = (300, 70)  # the quantity-of-motion graph on the screen: width, height in pixels
GRAPH_COLOUR = (0, 230, 255)  # BGR: amber


def view_size(frame: LiveFrame, settings: Settings) -> tuple[int, int]:
    """The (width, height) of what the window shows for ``frame``."""
    height, width = frame.original.shape[:2]
    if frame.output is None or settings.layout == "motion":
        return 2 * width, height
    return frame.output.shape[1], frame.output.shape[0]


def compose(frame: LiveFrame, settings: Settings, lines: Sequence[str], history: QuantityHistory | None = None,
            display_scale: float = 1.0) -> np.ndarray:
    """What the window shows: original and motion side by side (unless the layout already holds the original),
    with ``lines`` of text over the top left and, given a ``history``, the quantity of motion as a moving graph
    at the bottom left; text and graph keep their size on the screen when the window shows the view at
    ``display_scale``."""
    if frame.output is None:
        view = np.hstack([frame.original, still_frame(settings, frame.original.shape)])
    elif settings.layout == "motion":
        view = np.hstack([frame.original, frame.output])
    else:
        view = frame.output.copy()
    unit = 1.0 / max(display_scale, 1e-3)  # view pixels per screen pixel
    font_scale = TEXT_HEIGHT * unit / 22.0  # FONT_HERSHEY_SIMPLEX's capitals are 22 pixels tall at scale 1
    thickness = max(1, round(unit * 1.2))
    line_height = round((TEXT_HEIGHT + 10) * unit)
    top = 0
    for line in _wrapped(lines, view.shape[1] - round(12 * unit), font_scale, thickness):
        (width, height), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        cv2.rectangle(view, (0, top), (width + round(12 * unit), top + line_height), (0, 0, 0), cv2.FILLED)
        cv2.putText(view, line, (round(6 * unit), top + (line_height + height) // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, (255, 255, 255), thickness, cv2.LINE_AA)
        top += line_height
    if history is not None:
        _draw_graph(view, history, unit, font_scale, thickness)
    return view


def _wrapped(lines: Sequence[str], width: int, font_scale: float, thickness: int) -> list[str]:
    """``lines`` broken at their `` | `` separators (then at spaces) so that each fits ``width`` view pixels."""
    def fits(text: str) -> bool:
        return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)[0][0] <= width

    result = []
    for line in lines:
        for separator in (" | ", " "):
            parts, line_parts = line.split(separator), []
            current = ""
            for part in parts:
                joined = part if not current else current + separator + part
                if current and not fits(joined):
                    line_parts.append(current)
                    current = part
                else:
                    current = joined
            line_parts.append(current)
            if all(fits(part) for part in line_parts) or separator == " ":
                result += line_parts
                break
    return result


def _draw_graph(view: np.ndarray, history: QuantityHistory, unit: float, font_scale: float, thickness: int) -> None:
    """The quantity of motion of the latest frames as a line over a dark panel at the bottom left of ``view``."""
    width = min(round(GRAPH_SIZE[0] * unit), view.shape[1])
    height = min(round(GRAPH_SIZE[1] * unit), view.shape[0] // 2)
    if width < 8 or height < 8:
        return
    panel = view[view.shape[0] - height :, :width]
    panel //= 3  # darkened, the picture still showing through
    points = history.points(width, height - round(4 * unit))
    if len(points) > 1:
        cv2.polylines(panel, [points.reshape(-1, 1, 2) + [0, round(2 * unit)]], False, GRAPH_COLOUR, thickness,
                      cv2.LINE_AA)
    latest = history.latest
    label = "motion" + ("" if latest is None else f" {latest:.2f}") + f"  (top {history.top:.1f})"
    small = font_scale * 0.8
    (_, text_height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, small, thickness)
    cv2.putText(panel, label, (round(6 * unit), text_height + round(6 * unit)), cv2.FONT_HERSHEY_SIMPLEX, small,
                GRAPH_COLOUR, thickness, cv2.LINE_AA)


def overlay_lines(pipeline: LivePipeline) -> list[str]:
    state = pipeline.state
    lines = [pipeline.status()]
    if pipeline.data is not None:
        lines[0] += f" | DATA {Path(pipeline.data.path).name}"
    if state.message:
        lines.append(state.message)
    return lines + (help_lines() if state.show_help else ["h: help"])


# --- sources and window ------------------------------------------------------------------------


def open_window() -> None:
    """Open the viewer window, or raise :class:`RunError` when there is no window system or no highgui."""
    advice = "use --no-window to record without one, or scripts/motion_extract.py for files"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise RunError(f"no window system (DISPLAY is not set): {advice}")
    try:
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
    except cv2.error:
        raise RunError(f"this OpenCV has no window support (opencv-python-headless?): {advice}") from None


def run_window(pipeline: LivePipeline, frames: int | None) -> None:
    """Show the pipeline in the window until q/Esc, the window is closed, the source ends or ``frames`` are done."""
    shown = False
    fitted, display_scale, screen = None, 1.0, screen_size()
    try:
        while not pipeline.finished and (frames is None or pipeline.processed < frames):
            pipeline.step(timeout=0.05)
            if pipeline.latest is not None:  # redrawn even without a new frame: keys change the overlay
                size = view_size(pipeline.latest, pipeline.state.settings)
                if size != fitted:  # the first frame, or a layout of another size: the window takes its size
                    fitted, display_scale = size, fit_window(size, screen)
                view = compose(pipeline.latest, pipeline.state.settings, overlay_lines(pipeline), pipeline.history,
                               display_scale)
                cv2.imshow(WINDOW_TITLE, view)
                shown = True
            if pipeline.handle_key(cv2.waitKey(1)) == QUIT:
                break
            if shown and cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1:
                break  # closed with the mouse
    finally:
        cv2.destroyAllWindows()


def screen_size() -> tuple[int, int] | None:
    """The (width, height) of the screen the window opens on, when the platform tells (X11, Windows)."""
    try:
        import ctypes
        import ctypes.util

        if sys.platform == "win32":
            metrics = ctypes.windll.user32.GetSystemMetrics
            return metrics(0), metrics(1)
        library = ctypes.util.find_library("X11")
        if library is None or not os.environ.get("DISPLAY"):
            return None
        x11 = ctypes.CDLL(library)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XDefaultScreen.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = x11.XDefaultScreen(display)
            return x11.XDisplayWidth(display, screen), x11.XDisplayHeight(display, screen)
        finally:
            x11.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None


def fitted_size(size: tuple[int, int], screen: tuple[int, int] | None) -> tuple[tuple[int, int], float]:
    """The window's (width, height) for a view of ``size``: its natural size, scaled down (never up) to fit
    most of the screen (1280x720 when the screen is unknown), and that scale."""
    available = (0.92 * screen[0], 0.85 * screen[1]) if screen else (1280, 720)
    scale = min(1.0, available[0] / size[0], available[1] / size[1])
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))), scale


def fit_window(size: tuple[int, int], screen: tuple[int, int] | None) -> float:
    """Give the window its :func:`fitted_size` for a view of ``size``; returns the scale it shows the view at."""
    (width, height), scale = fitted_size(size, screen)
    cv2.resizeWindow(WINDOW_TITLE, width, height)
    return scale


def run_headless(pipeline: LivePipeline, frames: int | None) -> None:
    """Process frames until the source ends or ``frames`` are done."""
    while not pipeline.finished and (frames is None or pipeline.processed < frames):
        pipeline.step()


# --- command line ------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description=(
            "Live motion extraction: a camera, file or stream beside its motion, in a window. "
            "Press h in the window for the keys."
        ),
        epilog="Exit codes: 0 success, 1 source, window or output failed, 2 bad arguments.",
    )
    parser.add_argument(
        "source", nargs="?", default="0",
        help="camera index (0, 1, ...) or /dev/videoN, a video file, or a stream URL (default: camera 0)",
    )
    add_settings_arguments(parser)  # the same flags as motion_extract, so options carry over between the two
    parser.add_argument(
        "--history", type=_positive, default=DEFAULT_HISTORY, metavar="N",
        help=f"frames kept for the offset keys to reach back (memory: N+1 frames; default: {DEFAULT_HISTORY})",
    )
    parser.add_argument("--no-window", action="store_true", help="run without a window (e.g. to record on a server)")
    parser.add_argument("--frames", type=_positive, metavar="N", help="stop after N processed frames")
    parser.add_argument(
        "--record", metavar="PATH",
        help="record the motion from the start to PATH (.mp4, .avi, .mkv or a pattern such as out/%%05d.png)",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=Path("."), metavar="DIR",
        help="where the r and s keys save recordings and snapshots (default: the current folder)",
    )
    parser.add_argument(
        "--data", metavar="FILE.csv|FILE.json",
        help="record the motion data from the start: a row per frame (the columns of motion_extract --data, "
        "time from the start); the d key starts and stops it too",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the --record output if it exists")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def _checked_capacity(args: argparse.Namespace, settings: Settings) -> int:
    """The frames of history for ``settings``, after checking that a live source can honour them."""
    capacity = max(args.history, settings.reach)
    try:
        check_live(settings, capacity)
    except SettingsError as error:
        raise UsageError(str(error)) from None
    return capacity


def run(args: argparse.Namespace, stdout: TextIO) -> None:
    if args.list_presets:
        stdout.write(preset_listing())
        return
    settings = settings_from_args(args)
    if args.data:
        try:  # a bad name is known before the source is opened
            data_kind(args.data)
        except media.MediaError as error:
            raise UsageError(str(error)) from None
    capacity = _checked_capacity(args, settings) if not settings.needs_rate else 0
    if not args.no_window:
        open_window()
    try:
        source = open_live_source(args.source)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    if settings.needs_rate:  # times in seconds: the source's rate makes them frames
        try:
            if source.fps is None:
                raise UsageError(f"{args.source} reports no frame rate, so times in seconds cannot become frames: "
                                 "give them in frames")
            settings = _in_frames(settings, source.fps, sys.stderr, args.quiet)
            capacity = _checked_capacity(args, settings)
        except (UsageError, SettingsError) as error:
            source.capture.release()
            raise UsageError(str(error)) from None
    pipeline = LivePipeline(
        source.capture, settings, capacity=capacity, source_fps=source.fps,
        pace=source.kind == "stream" or (source.kind == "file" and not args.no_window), keep_all=source.kind == "file",
        first_frame=source.first_frame, output_dir=args.output_dir, overwrite=args.overwrite,
    )
    pipeline.record_info = {"command": getattr(args, "command", None), "source": args.source}
    interrupted = False
    try:
        with pipeline:
            if args.record:
                pipeline.start_recording(Path(args.record))
            if args.data:
                pipeline.start_data(Path(args.data))
            try:
                (run_headless if args.no_window else run_window)(pipeline, args.frames)
            except KeyboardInterrupt:
                interrupted = True  # the normal way to stop a headless recording: keep it
    except media.MediaError as error:
        raise RunError(str(error)) from None
    if pipeline.capture.error is not None:
        raise RunError(f"{args.source}: reading stopped: {pipeline.capture.error}")
    if not args.quiet:
        stopped = " (interrupted)" if interrupted else ""
        stdout.write(f"processed {pipeline.processed} frames, dropped {pipeline.dropped}{stopped}\n")
        stdout.writelines(f"wrote {path}\n" for path in pipeline.saved)


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run the live viewer; returns the exit code."""
    # Ctrl-C before the source delivered: nothing to keep (a recording is kept by the pipeline).
    def work() -> None:
        args = build_parser().parse_args(argv)
        args.command = ["python", str(REPO_ROOT / "scripts" / "live.py"), *(argv or [])]  # for a data file's record
        run(args, stdout)

    return run_command(PROG, work, stderr, f"\n{PROG}: interrupted\n")
