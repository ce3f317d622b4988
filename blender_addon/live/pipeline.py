"""The live viewer's pipeline, without any window: the newest frame in, its output frame, keys, recording and snapshots.

:class:`LivePipeline` takes the newest frame from the capture thread (:mod:`.capture`), renders its
output frame with :class:`~.motion.LiveMotion`, records it with ``media``'s atomic writers, and
applies key presses through :class:`~.keys.LiveState`. It runs without a window too
(``--no-window``), which is how the tests drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .. import media
from ..core.measures import DEFAULT_THRESHOLD, MotionMeasures, columns
from ..core.rates import DEFAULT_FPS
from ..core.settings import Settings, SettingsError
from ..media.data import DataWriter
from .capture import CaptureThread, FrameReader, LatestFrame
from .frequency import Region, RhythmReadout, region_text
from .keys import DATA, RECORD, SETTINGS, SNAPSHOT, WHOLE_FRAME, LiveState
from .motion import DEFAULT_HISTORY, LiveMotion
from .status import FpsMeter, QuantityHistory, alignment_status, status_line


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
            self._open(self._rate() or DEFAULT_FPS)  # stopped before the rate was measured
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
    of dropping (files). ``clock`` times arrivals and processing. ``rhythm_window`` (seconds, 0: none) reads
    the dominant frequency of the frames over that window (:mod:`.frequency`).
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
        rhythm_window: float = 0.0,
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
        pace_fps = (source_fps or DEFAULT_FPS) if pace else None
        self.capture = CaptureThread(reader, self.slot, self.arrivals, clock, pace_fps, first_frame)
        self.history = QuantityHistory()  # the quantity of motion of the latest frames, for the graph
        self.data: DataWriter | None = None  # the motion data being recorded
        self.record_info: dict = {}  # what a data file's record tells about the run (command, source)
        self._data_started: float | None = None  # when the first frame recorded arrived
        self._measures: tuple[Settings, MotionMeasures] | None = None
        self.rhythm = RhythmReadout(rhythm_window, lambda: self.source_rate, keep_all) if rhythm_window else None

    def __enter__(self) -> LivePipeline:
        if self.rhythm is not None:
            self.rhythm.start()
        self.capture.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        """Stop capturing; a recording is kept (stop = commit) unless an error other than Ctrl-C ended the run."""
        self.capture.stop()
        if self.rhythm is not None:
            self.rhythm.close()
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
        if self.rhythm is not None:
            self.rhythm.push(captured)
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
            elif action == WHOLE_FRAME:
                self.set_rhythm_region(None)
            elif action == SNAPSHOT:
                path = self.snapshot()
                self.state.message = f"saved {path}" if path else "no frame to save yet"
        except (media.MediaError, SettingsError) as error:
            self.state.message = str(error)
        return action

    def set_rhythm_region(self, region: Region | None) -> None:
        """Read the rhythm of ``region`` of the frame (None: the whole frame) from now on."""
        if self.rhythm is None:
            self.state.message = "the rhythm readout is off (--frequency-window 0)"
            return
        self.rhythm.set_region(region)
        self.state.message = f"reading the rhythm of the {region_text(region)}"

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

