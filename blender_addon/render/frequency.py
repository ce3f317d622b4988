"""A render's motion frequency (``--spectrum``, ``--spectrum-plot``, ``--frequency-map``): the input frames its
output frames show, read by a read head of their own, turned into each region's dominant frequency
(``core.frequency``) and a map of it (``core.frequency_map``), written when the render ends well.

The frequency is read off the input's own motion (each region's signed displacement), not off the motion
picture, so it is the same for every look; it covers the output frames rendered (with ``--frames``, that
range). A separate read head keeps it apart from the engine: ``--jobs`` renders measure it in this process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..core.frequency import FrequencyError, FrequencyReport, RegionFrequencies
from ..core.settings import Settings
from ..core.timing import plan_frame
from .request import FrequencyRequest, RenderRequest, RequestError

logger = logging.getLogger(__name__)


class FrequencyRecorder:
    """The frequency outputs of one render, fed each output frame's index (:meth:`add`) in order."""

    def __init__(self, request: RenderRequest, settings: Settings, source, start: int, stop: int) -> None:
        from ..core.frequency_map import FrequencyMap
        from ..media.spectrum import FrequencyMapWriter, SpectrumPlotWriter, SpectrumWriter

        wanted: FrequencyRequest = request.frequency
        self._settings, self._source = settings, source
        regions = [(region.name, region.x, region.y, region.width, region.height) for region in request.data.regions]
        count = stop - start
        try:
            self.regions = RegionFrequencies((source.height, source.width), source.rate, count, regions, wanted.band)
            self.map = None if wanted.frequency_map is None else FrequencyMap(
                (source.height, source.width), source.rate, count, wanted.band)
        except FrequencyError as error:
            raise RequestError(f"--band: {error}") from None
        protect = [path for path in (request.input, request.output) if not isinstance(path, str)]
        self._writers = []
        try:
            for path, kind in ((wanted.spectrum, SpectrumWriter), (wanted.spectrum_plot, SpectrumPlotWriter),
                               (wanted.frequency_map, FrequencyMapWriter)):
                if path is not None:
                    self._writers.append(kind(path, request.overwrite, protect))
                    protect.append(Path(path))
        except BaseException:
            self.discard()
            raise
        first = plan_frame(settings, source.frame_count, start).frame
        self._next = max(first - 1, 0)  # one frame early: the first frame's motion is measured from the one before
        self._head = source.read_from(self._next, compact=True)
        self._frame: np.ndarray | None = None
        self._primed = first == 0
        self._camera = Camera(settings.align)

    def add(self, index: int) -> None:
        """Measure the input frame output frame ``index`` shows."""
        wanted = plan_frame(self._settings, self._source.frame_count, index).frame
        while self._next <= wanted:
            self._frame = self._gray(next(self._head))
            self._next += 1
            if not self._primed:  # the frame before the first: sets where the motion starts from
                self._primed = True
                self._measure(self._frame, self._next - 1)
                continue
        self._measure(self._frame, wanted)

    def _measure(self, gray: np.ndarray, index: int) -> None:
        camera = self._camera.moved(gray, index)
        self.regions.add(gray, camera)
        if self.map is not None:
            self.map.add(gray, camera)

    def _gray(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim == 2:  # compact I420: the luma plane comes first
            return frame[: self._source.height]
        import cv2

        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

    def commit(self) -> FrequencyReport:
        report = self.regions.report()
        from ..media.spectrum import FrequencyMapWriter

        for writer in self._writers:
            if isinstance(writer, FrequencyMapWriter):
                hz, strength = self.map.result()
                writer.commit(self.map.still, hz, strength, self.map.band, self.map.layout.block)
            else:
                writer.commit(report)
        for name, peak in report.peaks.items():  # each note names its input: a batch renders several
            if peak.hz is None:
                logger.info("%s: frequency: %s: nothing moves back and forth", self._source.path, name)
            else:
                logger.info("%s: frequency: %s: %.3g Hz (%.3g per minute), strength %.0f%s", self._source.path, name,
                            peak.hz, peak.per_minute, peak.strength, "" if peak.confident else " (no clear rhythm)")
        return report

    def discard(self) -> None:
        for writer in self._writers:
            writer.discard()
        head = getattr(self, "_head", None)
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


def recorded(frames: Iterator[np.ndarray], recorder: FrequencyRecorder, start: int,
             found: list[FrequencyReport]) -> Iterator[np.ndarray]:
    """``frames`` (output frames from ``start``) with each one's input frame measured as it passes; the files
    are written when the frames run out (the report appended to ``found``), discarded if the render stops
    before."""
    try:
        for index, frame in enumerate(frames, start=start):
            recorder.add(index)
            yield frame
        found.append(recorder.commit())
    finally:
        recorder.discard()
        close = getattr(frames, "close", None)
        if close is not None:
            close()
