"""A render's motion frequency (``--spectrum``, ``--spectrum-plot``, ``--frequency-map``): the input frames its
output frames show, turned into each region's dominant frequency (``core.frequency``) and a map of it
(``core.frequency_map``), written when the render ends well.

The frequency is read off the input's own motion (each region's signed displacement), not off the motion
picture, so it is the same for every look; it covers the output frames rendered (with ``--frames``, that
range). In one process the engine hands over the input frames it decodes (``extract_motion``'s ``on_frame``),
so they are not decoded twice, and they are measured on a thread of their own while the engine renders on, a few
frames behind at most; ``--jobs`` renders, whose frames are decoded in other processes, read them here by a read
head of their own.
A chunk (a movie of part of the render) also records each region's displacement step per frame beside it
(``chunk_record.ChunkSignals``), so the chunk join can take the whole render's spectrum (:func:`joined_report`).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.frequency import (
    DisplacementSpectra,
    FrequencyError,
    FrequencyReport,
    RegionDisplacement,
    region_names,
    sampling,
)
from ..core.planar import Frame, planes
from ..core.settings import Settings
from ..core.timing import FramePlan, plan_frame
from ..media.errors import os_error
from ..media.publish import PendingFile
from .chunk_record import ChunkSignals
from .request import FrequencyRequest, RenderRequest, RequestError

logger = logging.getLogger(__name__)

QUEUED_FRAMES = 2  # frames handed over and not yet measured, at most: then the engine waits for the measuring


class FrequencyRecorder:
    """The frequency outputs of one render: ``fed``, the engine hands it each output frame's plan and decoded input
    frame (:meth:`hear`); otherwise it reads them itself, told each output frame's index (:meth:`add`), in order.
    ``signals`` (a path and a token): the render is a chunk whose motion signals (:class:`ChunkSignals`) go to that
    path."""

    def __init__(self, request: RenderRequest, settings: Settings, source, start: int, stop: int,
                 signals: tuple[str, str] | None = None, fed: bool = False) -> None:
        from ..core.frequency_map import FrequencyMap
        from ..media.spectrum import FrequencyMapWriter, SpectrumPlotWriter, SpectrumWriter

        wanted: FrequencyRequest = request.frequency
        self._settings, self._source, self._band = settings, source, wanted.band
        self._regions = tuple((region.name, region.x, region.y, region.width, region.height)
                              for region in request.data.regions)
        count = stop - start
        # A variable-rate source's frames are measured at their own times, at the whole input's mean rate.
        self._rate, self._nyquist = sampling(source.rate, source.timestamps)
        self._timed = self._nyquist is not None
        try:
            self.spectra = None if not wanted.paths else DisplacementSpectra(
                region_names(self._regions), self._rate, count, wanted.band, self._nyquist)
            self.map = None if wanted.frequency_map is None else FrequencyMap(
                (source.height, source.width), self._rate, count, wanted.band, nyquist=self._nyquist)
        except FrequencyError as error:
            raise RequestError(f"--band: {error}") from None
        self._displacement = RegionDisplacement(
            (source.height, source.width), [(0, 0, source.width, source.height), *(r[1:] for r in self._regions)])
        protect = [path for path in (request.input, request.output) if not isinstance(path, str)]
        self._writers = []
        self._signals: PendingFile | None = None
        try:
            for path, kind in ((wanted.spectrum, SpectrumWriter), (wanted.spectrum_plot, SpectrumPlotWriter),
                               (wanted.frequency_map, FrequencyMapWriter)):
                if path is not None:
                    self._writers.append(kind(path, request.overwrite, protect))
                    protect.append(Path(path))
            if signals is not None:
                self._signals = PendingFile(signals[0], request.overwrite, protect)
        except BaseException:
            self.discard()
            raise
        self._token = None if signals is None else signals[1]
        self._span = (start, stop)
        self._steps = bytearray()  # the chunk's signals: a few float32s a frame
        self._times = bytearray()  # and, from a variable-rate source, each sample's time (a float64)
        self._time: float | None = None  # the time of the frame measured last (a variable-rate source's)
        first = plan_frame(settings, source.frame_count, start).frame
        self._lead = start == 0 and first > 0  # a whole render's spectrum starts at the frame before its first
        self._camera = Camera(settings.align)
        self.fed = fed
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUED_FRAMES)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stopping = False
        self._next = max(first - 1, 0)  # one frame early: the first frame's motion is measured from the one before
        self._head = None if fed and first == 0 else source.read_from(self._next, compact=True)
        self._frame: np.ndarray | None = None
        self._primed = first == 0
        if fed and not self._primed:  # the frame before the first, read now, before the engine opens its heads
            try:
                self.add(start)
            except BaseException:
                self.discard()
                raise
            self._close_head()

    def hear(self, plan: FramePlan, frame: Frame) -> None:
        """Measure ``frame``, the input frame output frame ``plan.index`` shows, as the engine's read head gave it
        (on the measuring thread: the luma is queued, and an error there is raised here or by :meth:`commit`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._measure_queued, name="motion frequency", daemon=True)
            self._thread.start()
        self._raise_error()
        self._queue.put((self._gray(frame), plan.frame))

    def _measure_queued(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None and not self._stopping:
                try:
                    self._record(*item)
                except BaseException as error:  # raised on the render's thread
                    self._error = error
            del item

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._stopping = True
            raise error

    def _finish(self, stopping: bool) -> None:
        """Let the measuring thread end (``stopping``: without measuring what is still queued) and wait for it."""
        thread, self._thread = getattr(self, "_thread", None), None
        if thread is not None:
            self._stopping = self._stopping or stopping
            self._queue.put(None)
            thread.join()

    def add(self, index: int) -> None:
        """Measure the input frame output frame ``index`` shows, read by this recorder's own head (fed, only the
        frame before the first is read so: the engine hands over the rest)."""
        wanted = plan_frame(self._settings, self._source.frame_count, index).frame
        while self._next <= wanted:
            self._frame = self._gray(next(self._head))
            self._next += 1
            if not self._primed:  # the frame before the first: sets where the motion starts from
                self._primed = True
                self._measure(self._frame, self._next - 1)
                if self._lead:
                    self._keep_time()
                if self.fed:
                    return
        self._record(self._frame, wanted)

    def _record(self, gray: np.ndarray, index: int) -> None:
        """Measure ``gray`` (input frame ``index``, an output frame's), and keep a chunk's step."""
        step = self._measure(gray, index)
        if self._signals is not None:
            self._steps += (np.zeros((len(self._regions) + 1, 2)) if step is None else step).astype("<f4").tobytes()
            self._keep_time()

    def _keep_time(self) -> None:
        """Keep the time of the sample measured last with a chunk's signals (a variable-rate source's)."""
        if self._signals is not None and self._time is not None:
            self._times += np.float64(self._time).astype("<f8").tobytes()

    def _measure(self, gray: np.ndarray, index: int) -> np.ndarray | None:
        """Measure ``gray`` (input frame ``index``); its regions' step from the frame measured before."""
        camera = self._camera.moved(gray, index)
        step = self._displacement.step(gray, camera)
        time = float(self._source.time_of(index)) if self._timed else None
        if self.spectra is not None:
            self.spectra.add(step, time)
        if self.map is not None:
            self.map.add(gray, camera, time)
        self._time = time
        return step

    def _gray(self, frame: Frame) -> np.ndarray:
        if isinstance(frame, tuple) or frame.ndim == 2:  # compact I420 (or its planes): the luma plane first
            return planes(frame)[0][: self._source.height]
        import cv2

        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

    def commit(self) -> FrequencyReport | None:
        """Write the outputs; the report (``None`` when the render only records a chunk's signals)."""
        from ..media.spectrum import FrequencyMapWriter

        self._finish(stopping=False)
        self._raise_error()
        if self._signals is not None:
            steps = np.frombuffer(bytes(self._steps), "<f4").reshape(-1, len(self._regions) + 1, 2)
            times = np.frombuffer(bytes(self._times), "<f8") if self._timed else None
            text = ChunkSignals(self._token, *self._span, self._regions, self._band, self._lead, steps, times,
                                self._nyquist, self._rate if self._timed else None).to_text()
            try:
                with open(self._signals.temp, "w", encoding="utf-8") as stream:
                    stream.write(text)
            except OSError as error:
                raise os_error(self._signals.path, error) from None
            self._signals.commit()
        if self.spectra is None:
            return None
        report = self.spectra.report()
        drawn = None
        if self.map is not None:  # its spectra are let go before the picture is drawn
            drawn = (self.map.still, *self.map.result(), self.map.band, self.map.layout.block,
                     self._source.sample_aspect)
            self.map = None
        for writer in self._writers:
            if isinstance(writer, FrequencyMapWriter):
                writer.commit(*drawn)
            else:
                writer.commit(report)
        log_report(report, self._source.path)
        return report

    def discard(self) -> None:
        self._finish(stopping=True)
        for writer in self._writers:
            writer.discard()
        if getattr(self, "_signals", None) is not None:
            self._signals.discard()
        self._close_head()

    def _close_head(self) -> None:
        head, self._head = getattr(self, "_head", None), None
        if head is not None:
            head.close()


class Camera:
    """How the camera moved between consecutive measured frames, with ``--align``: each frame's alignment onto the
    last one (``core.align``, the model the render uses), so the frequency is read off the scene's own motion."""

    def __init__(self, model: str) -> None:
        self._aligner = None
        if model != "none":
            from ..core.align import Aligner

            self._aligner = Aligner(model, cache_frames=2)
        self._last: tuple[np.ndarray, int] | None = None

    def moved(self, gray: np.ndarray, index: int) -> np.ndarray | None:
        """The camera's motion from the last frame to ``gray`` (frame ``index``): 3x3, the last frame's pixels to
        this one's; ``None`` without ``--align`` and for the first frame (where it is not compensated, identity)."""
        if self._aligner is None:
            return None
        last, self._last = self._last, (gray, index)
        if last is None:
            return None
        return self._aligner.estimate(gray, last[0], index, last[1]).matrix


def joined_report(signals: Sequence[ChunkSignals], total: int, rate: Fraction) -> FrequencyReport:
    """The spectrum of a whole render of ``total`` frames at ``rate`` (or the mean rate a variable-rate input's
    signals carry) from its chunks' ``signals`` (in frame order, covering it without a gap): the same steps, fed in
    the same order, as the whole render feeds them."""
    rate = rate if signals[0].rate is None else signals[0].rate
    try:
        spectra = DisplacementSpectra(signals[0].names, rate, total, signals[0].band, signals[0].nyquist)
    except FrequencyError as error:
        raise RequestError(f"--band: {error}") from None
    for index, chunk in enumerate(signals):
        times = iter([None] * (len(chunk.steps) + 1) if chunk.times is None else chunk.times.tolist())
        if index == 0 and chunk.lead:
            spectra.add(None, next(times))
        for step in chunk.steps:
            spectra.add(step, next(times))
    return spectra.report()


def log_report(report: FrequencyReport, input_name: object) -> None:
    """Each region's dominant frequency, one note a region, naming the input (a batch renders several)."""
    for name, peak in report.peaks.items():
        if peak.hz is None:
            logger.info("%s: frequency: %s: nothing moves back and forth", input_name, name)
        else:
            logger.info("%s: frequency: %s: %.3g Hz (%.3g per minute), strength %.0f%s", input_name, name,
                        peak.hz, peak.per_minute, peak.strength, "" if peak.confident else " (no clear rhythm)")


def recorded(frames: Iterator[np.ndarray], recorder: FrequencyRecorder, start: int,
             found: list[FrequencyReport]) -> Iterator[np.ndarray]:
    """``frames`` (output frames from ``start``) with each one's input frame measured as it passes; the files
    are written when the frames run out (the report appended to ``found``), discarded if the render stops
    before."""
    try:
        for index, frame in enumerate(frames, start=start):
            if not recorder.fed:
                recorder.add(index)
            yield frame
        report = recorder.commit()
        if report is not None:
            found.append(report)
    finally:
        recorder.discard()
        close = getattr(frames, "close", None)
        if close is not None:
            close()
