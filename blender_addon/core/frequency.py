"""How fast things move back and forth: each region's signed displacement over time, its spectrum and its
dominant frequency.

The quantity of motion is a magnitude: a part swinging at f Hz peaks it twice a cycle. So the frequency
is read off a signed signal instead: the region's displacement, summed frame by frame from the mean
optical flow of its moving pixels (both axes). Its spectrum is a least-squares periodogram: at each
frequency of a fine grid, a sinusoid plus a straight line (which takes up the slow drift a summed
displacement has) is fitted to each axis at each sample's own time (frames at uneven times, from a variable-rate
source, are taken as they come), and the two axes' fitted amplitudes give the power along the
motion's main axis (the larger eigenvalue of their 2x2 product matrix), so no axis need be chosen up front.
Spectra of overlapping segments of bounded length are averaged (Welch's method), so memory stays bounded
for any length; resolution (telling two rates apart) is about one over the segment's length, while the peak
is placed far finer than that by interpolating the oversampled grid.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .flow import dis_minimum
from .rates import frames_from_seconds, rate_text

OVERSAMPLE = 8  # grid points per resolution step (1 / segment length)
MAX_SEGMENT_SECONDS = 60.0  # a segment's length at most; shorter clips are one segment
MIN_SEGMENT_FRAMES = 16
MIN_CYCLES = 2  # the lowest frequency looked for completes this many cycles in a segment
BACKGROUND_STEPS = 6  # a peak is measured against the power up to this many resolution steps away
MIN_PROMINENCE = 8.0  # a peak that stands less above the power around it is taken for noise
MIN_SHARE = 0.1  # nor is a peak under this share of the band's highest power a rhythm of the region
CONFIDENT_STRENGTH = 30.0  # a peak this many times the power around it is a clear rhythm
FIRST_READING = 3.0  # seconds of samples before a sliding window's first reading (the whole window when shorter)
REFITS_PER_SECOND = 4  # a sliding window's refits per second of the source (its reading is held between)
STILL_SPEED = 0.2  # pixels per frame: slower flow is taken as noise
FLAT_GRADIENT = 16.0  # a 3x3 Sobel gradient below this (about 4 levels a cell) is flat: no flow is read there
WORK_WIDTH = 320  # frames are compared at about this width
SHORTEST, LONGEST = dis_minimum(1)  # the flow grid's least sides: the MEDIUM preset compares down to scale 1
GRID_WORK = 1_000_000  # numbers each of a fit's working arrays holds at once (bounds its memory)
_SIGNALS_AT_ONCE = 64  # signals whose peaks are found at once (bounds the background's memory)


class FrequencyError(ValueError):
    """A band or segment that cannot be read; the message says why in one line."""


@dataclass(frozen=True)
class Peak:
    """A region's dominant frequency: ``hz`` (``None`` when nothing moves), its ``strength`` (the peak's power
    over the spectrum's median) and the spectrum itself, ``(hz, power)`` pairs."""

    hz: float | None
    strength: float
    spectrum: tuple[tuple[float, float], ...]

    @property
    def per_minute(self) -> float | None:
        return None if self.hz is None else 60.0 * self.hz

    @property
    def confident(self) -> bool:
        return self.hz is not None and self.strength >= CONFIDENT_STRENGTH


def segment_length(frame_count: int, rate: Fraction | float) -> int:
    """Frames a segment holds: the whole clip up to :data:`MAX_SEGMENT_SECONDS`."""
    return max(MIN_SEGMENT_FRAMES, min(frame_count, frames_from_seconds(MAX_SEGMENT_SECONDS, rate)))


def sampling(rate: Fraction | float,
             timestamps: Sequence[Fraction | float] | None = None) -> tuple[Fraction | float, float | None]:
    """The rate a clip's frames are read at and the highest frequency they show (``None``: half that rate). Frames
    at uneven ``timestamps`` (seconds; a variable-rate source's) are read at their mean rate (their steps' mean)
    and show up to half their median rate: most of their steps are that short, and a sinusoid fitted at the
    samples' own times reads up to there where a few longer gaps leave the mean rate lower."""
    steps = [] if timestamps is None else [b - a for a, b in zip(timestamps, timestamps[1:], strict=False)
                                          if b > a]
    if len(steps) < 2:
        return rate, None
    mean = (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])  # exact on Fractions
    return mean, float(0.5 / statistics.median_low(steps))  # 1/30 s steps give 15 Hz exactly


def default_band(length: int, rate: Fraction | float, nyquist: float | None = None) -> tuple[float, float]:
    """From :data:`MIN_CYCLES` cycles over one segment up to the Nyquist frequency (half the frame rate, or
    ``nyquist`` as :func:`sampling` gives it)."""
    return MIN_CYCLES * float(rate) / length, float(rate) / 2 if nyquist is None else nyquist


def check_band(band: tuple[float, float], length: int, rate: Fraction | float,
               nyquist: float | None = None) -> tuple[float, float]:
    """``band`` clipped to what a segment of ``length`` frames at ``rate`` (up to ``nyquist``) can show;
    :class:`FrequencyError` when nothing of it can."""
    low, high = band
    floor, nyquist = default_band(length, rate, nyquist)
    if not 0 <= low < high:
        raise FrequencyError(f"band {low:g}:{high:g} Hz: give LO:HI with 0 <= LO < HI")
    if low > nyquist or high < floor:
        raise FrequencyError(f"band {low:g}:{high:g} Hz is outside what {length} frames at {rate_text(rate)} fps "
                             f"can show ({floor:.3g} to {nyquist:g} Hz)")
    return max(low, floor), min(high, nyquist)


def spectrum_band(band: tuple[float, float] | None, frame_count: int, rate: Fraction | float,
                  nyquist: float | None = None) -> tuple[float, float]:
    """The band a spectrum of ``frame_count`` samples at ``rate`` searches: ``band`` checked (:func:`check_band`), or
    all its segments can show; what a render checks up front and :class:`DisplacementSpectra` searches."""
    length = segment_length(frame_count, rate)
    return check_band(band, length, rate, nyquist) if band is not None else default_band(length, rate, nyquist)


class Spectra:
    """The averaged least-squares periodograms of ``signals`` signals of ``components`` axes each, fed one sample
    (``signals`` x ``components``) a frame, at ``rate`` samples a second or each at its own time.

    Segments of ``length`` samples overlap by half; a signal shorter than one segment is one segment.
    Memory: one segment of samples and, per signal, a 2x2 power matrix at each grid frequency.
    ``nyquist``: see :func:`sampling` (half ``rate`` when not given).
    """

    def __init__(self, rate: Fraction | float, length: int, band: tuple[float, float], signals: int = 1,
                 components: int = 2, oversample: int = OVERSAMPLE, nyquist: float | None = None,
                 work: int = GRID_WORK) -> None:
        self.rate, self.length, self.band, self.signals = float(rate), int(length), band, signals
        self.oversample, self._work = oversample, work
        self.nyquist = self.rate / 2 if nyquist is None else nyquist
        step = self.rate / (self.length * oversample)
        # One grid step beyond each end of the band, so a peak on its edge can still be interpolated.
        self.grid = np.arange(max(band[0] - step, 0.0), band[1] + step * 1.5, step)
        self._matrices = np.zeros((len(self.grid), signals, components, components))
        self.segments = 0
        self._window: deque[np.ndarray] = deque(maxlen=self.length)
        self._times: deque[float] = deque(maxlen=self.length)  # the samples' times, where they are given
        self._since = 0  # samples since the last segment was taken

    def add(self, sample: np.ndarray, time: float | None = None) -> None:
        """The next sample; ``time``: when it was taken, in seconds (given for every sample or for none: without,
        the samples are ``1 / rate`` apart)."""
        self._window.append(np.array(sample, dtype=np.float64).reshape(self.signals, -1))
        if time is not None:
            self._times.append(float(time))
        self._since += 1
        if len(self._window) == self.length and (self.segments == 0 or self._since >= self.length // 2):
            self._take()

    def _take(self) -> None:
        self.add_segment(np.array(self._window), np.array(self._times) if self._times else None)
        self._since = 0

    def add_segment(self, samples: np.ndarray, times: np.ndarray | None = None) -> None:
        """Fit one whole segment (frames x signals x components) at once; ``times``: each frame's, in seconds
        (``None``: ``1 / rate`` apart)."""
        if times is not None and len(times) != len(samples):
            raise ValueError(f"{len(times)} times for {len(samples)} samples: give a time for every sample or none")
        self._fit(samples, times)
        self.segments += 1

    def _fit(self, samples: np.ndarray, times: np.ndarray | None = None) -> None:
        """Add one segment's fitted amplitudes (cosine and sine, per axis) at every grid frequency."""
        count, signals, components = samples.shape
        columns = samples.reshape(count, signals * components)
        if times is None:
            times = (np.arange(count) - (count - 1) / 2) / self.rate
        else:  # centred on the segment's middle, as even samples are
            times = np.asarray(times, dtype=np.float64)
            times = times - (times[0] + times[-1]) / 2
        line = np.stack([np.ones(count), times * self.rate / count])  # the drift the fit takes up
        on_line = line @ columns
        block = max(1, self._work // (4 * (count + signals * components)))
        for first in range(0, len(self.grid), block):
            phase = 2 * np.pi * self.grid[first:first + block, None] * times[None, :]
            waves = (np.cos(phase), np.sin(phase))
            design = np.stack([*waves, *np.broadcast_to(line[:, None, :], (2, len(phase), count))], axis=1)
            gram = design @ design.transpose(0, 2, 1)  # (F, 4, 4)
            gram += np.eye(4) * 1e-9 * np.trace(gram, axis1=1, axis2=2)[:, None, None]
            projected = np.stack([waves[0] @ columns, waves[1] @ columns,
                                  *np.broadcast_to(on_line[:, None, :], (2, len(phase), on_line.shape[1]))], axis=1)
            amplitudes = np.linalg.solve(gram, projected)[:, :2].reshape(len(phase), 2, signals, components)
            for row in range(components):
                for column in range(row, components):
                    product = (amplitudes[..., row] * amplitudes[..., column]).sum(axis=1)  # (F, S)
                    self._matrices[first:first + block, :, row, column] += product
                    if column != row:
                        self._matrices[first:first + block, :, column, row] += product

    def power(self) -> np.ndarray:
        """Power along each signal's main axis of motion at each grid frequency (mean over segments): (F, S)."""
        if self.segments == 0 and len(self._window) >= MIN_SEGMENT_FRAMES:
            self._take()  # a signal shorter than one segment is a segment of its own
        elif self._since >= max(self.length // 4, 1) and len(self._window) == self.length:
            self._take()  # the tail the last segment missed
        power = np.zeros((len(self.grid), self.signals))
        if self.segments:
            for first in range(0, self.signals, _SIGNALS_AT_ONCE):  # a few signals at a time: bounded copies
                part = self._matrices[:, first:first + _SIGNALS_AT_ONCE] / self.segments
                power[:, first:first + _SIGNALS_AT_ONCE] = np.linalg.eigvalsh(part)[..., -1] / 2
        return power

    def dominant(self) -> tuple[np.ndarray, np.ndarray]:
        """Each signal's dominant frequency in the band (NaN where nothing moves) and its strength: the strongest
        peak that stands clear of the power around it (a summed displacement drifts, which gives the lowest
        frequencies a broad hump that is no rhythm) and is not a ripple under the band's highest power, placed
        between grid points by a parabola through the top three; without such a peak, the most prominent one."""
        power = self.power()
        inside = self._inside()
        hz, strength = np.full(self.signals, np.nan), np.zeros(self.signals)
        for first in range(0, self.signals, _SIGNALS_AT_ONCE):
            part = power[:, first:first + _SIGNALS_AT_ONCE]
            prominence = part / _background(part, self.oversample)
            for column in range(part.shape[1]):
                found = _peak(self.grid, part[:, column], prominence[:, column], inside, self.nyquist,
                              self.rate / self.length)
                if found is not None:
                    hz[first + column], strength[first + column] = found
        return np.clip(hz, *self.band), strength

    def peaks(self) -> list[Peak]:
        """Each signal's :class:`Peak`, with its spectrum in the band."""
        power, inside = self.power(), self._inside()
        hz, strength = self.dominant()
        return [Peak(None if np.isnan(hz[index]) else float(hz[index]), float(strength[index]),
                     tuple(zip(self.grid[inside].tolist(), power[inside, index].tolist(), strict=True)))
                for index in range(self.signals)]

    def _inside(self) -> np.ndarray:
        return (self.grid >= self.band[0] - 1e-9) & (self.grid <= self.band[1] + 1e-9)


def _peak(grid: np.ndarray, power: np.ndarray, prominence: np.ndarray, inside: np.ndarray, nyquist: float,
          resolution: float) -> tuple[float, float] | None:
    if not inside.any() or power[inside].max() <= 0:
        return None
    tops = np.flatnonzero(inside[1:-1] & (power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    tops = tops[grid[tops] < nyquist - resolution]  # the grid mirrors there: a peak of no motion
    clear = tops[(prominence[tops] >= MIN_PROMINENCE) & (power[tops] >= MIN_SHARE * power[inside].max())]
    if not len(tops):
        return None
    index = int(clear[np.argmax(power[clear])] if len(clear) else tops[np.argmax(prominence[tops])])
    hz = float(grid[index])
    if 0 < index < len(power) - 1:
        left, top, right = np.log(np.maximum(power[index - 1:index + 2], 1e-300))
        bend = left - 2 * top + right
        if bend < 0:
            hz += float(np.clip(0.5 * (left - right) / bend, -1, 1)) * (grid[1] - grid[0])
    return hz, float(prominence[index])


def _background(power: np.ndarray, oversample: int) -> np.ndarray:
    """The power around each grid point (rows; one column a signal): the median from 2 to
    :data:`BACKGROUND_STEPS` resolution steps away on either side (the peak's own lobe left out), never below
    the signal's whole median / 100."""
    count = len(power)
    near, far = 2 * oversample, BACKGROUND_STEPS * oversample
    padded = np.pad(power, ((far, far), (0, 0)), mode="reflect" if count > far else "edge")
    offsets = np.concatenate([np.arange(-far, -near + 1), np.arange(near, far + 1)])
    around = padded[np.arange(count)[:, None] + far + offsets[None, :]]  # (F, K, S)
    floor = np.maximum(np.median(power, axis=0) / 100, 1e-300)
    return np.maximum(np.median(around, axis=1), floor)


class MovingFlow:
    """Optical flow between consecutive frames on a grid of ``work`` (width, height) cells, in frame pixels per
    cell, with slower flow than :data:`STILL_SPEED` set to zero. Frames are resized to the grid (their
    ``shape``, or ``padded`` with their edges repeated first). Needs OpenCV."""

    def __init__(self, shape: tuple[int, ...], work: tuple[int, int], padded: tuple[int, int] | None = None) -> None:
        import cv2

        self._cv2 = cv2
        self._work, self._padded = work, padded
        frame_size = padded or (shape[1], shape[0])
        self.to_frame = np.array([frame_size[0] / work[0], frame_size[1] / work[1]])
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._previous: np.ndarray | None = None
        self._previous_texture: np.ndarray | None = None
        self._centres: np.ndarray | None = None  # each cell's centre in frame pixels (x, y, 1), once a camera is given

    def _texture(self, gray: np.ndarray) -> np.ndarray:
        """How much each cell's picture varies around it (the gradient's length, in levels per cell)."""
        cv2 = self._cv2
        return cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))

    def step(self, frame: np.ndarray, camera: np.ndarray | None = None) -> np.ndarray | None:
        """The flow from the previous frame to ``frame`` (H, W, 2), ``None`` for the first frame. ``camera``: how
        the camera moved between them (3x3, the previous frame's pixels to this one's, as ``core.align`` gives
        it); the flow it makes is taken away, so what is left is the scene's own motion."""
        cv2 = self._cv2
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if self._padded is not None:
            height, width = gray.shape
            gray = cv2.copyMakeBorder(gray, 0, self._padded[1] - height, 0, self._padded[0] - width,
                                      cv2.BORDER_REPLICATE)
        gray = cv2.resize(gray, self._work, interpolation=cv2.INTER_AREA)
        previous, self._previous = self._previous, gray
        if previous is None:
            self._previous_texture = self._texture(gray)
            return None
        flow = self._dis.calc(previous, gray, None)
        flow *= self.to_frame.astype(np.float32)
        if camera is not None:
            flow -= self._camera_flow(camera)
        # Flow is only trusted where either frame has texture: over flat areas the flow field smears the motion
        # of whatever moves nearby, and a still flat region would take on its rhythm.
        texture = self._texture(gray)
        textured = np.maximum(texture, self._previous_texture) >= FLAT_GRADIENT
        self._previous_texture = texture
        flow[(np.hypot(flow[..., 0], flow[..., 1]) < STILL_SPEED) | ~textured] = 0
        return flow


    def _camera_flow(self, camera: np.ndarray) -> np.ndarray:
        """Where ``camera`` moves each cell's centre, in frame pixels (H, W, 2)."""
        if self._centres is None:
            columns = (np.arange(self._work[0]) + 0.5) * self.to_frame[0] - 0.5
            rows = (np.arange(self._work[1]) + 0.5) * self.to_frame[1] - 0.5
            xs, ys = np.meshgrid(columns, rows)
            self._centres = np.stack([xs, ys, np.ones_like(xs)], axis=-1)
        moved = self._centres @ np.asarray(camera, dtype=np.float64).T
        return (moved[..., :2] / moved[..., 2:] - self._centres[..., :2]).astype(np.float32)


class RegionDisplacement:
    """Each region's displacement (x, y in pixels, y down), summed frame by frame from the mean optical flow of
    its moving pixels; fed BGR or gray frames in order. Needs OpenCV."""

    def __init__(self, shape: tuple[int, ...], regions: Sequence[tuple[int, int, int, int]]) -> None:
        height, width = shape[:2]
        scale = min(1.0, WORK_WIDTH / width)
        # Tiny frames are compared enlarged (stretched along a short side): DIS needs this much.
        work = [max(SHORTEST, round(width * scale)), max(SHORTEST, round(height * scale))]
        work[work.index(max(work))] = max(work + [LONGEST])
        self._flow = MovingFlow(shape, (work[0], work[1]))
        self._cells = [_cells_of(region, work[0] / width, work[1] / height) for region in regions]
        self.positions = np.zeros((len(regions), 2))

    def step(self, frame: np.ndarray, camera: np.ndarray | None = None) -> np.ndarray | None:
        """Each region's displacement from the previous frame to ``frame`` (rows of x, y), ``None`` for the first
        frame; ``camera`` as in :meth:`MovingFlow.step`. The values are float32's (the flow's), so a float32 copy
        of them is exact."""
        flow = self._flow.step(frame, camera)
        if flow is None:
            return None
        step = np.empty((len(self._cells), 2))
        for index, (rows, cols, area) in enumerate(self._cells):
            step[index] = flow[rows, cols].reshape(-1, 2).sum(axis=0) / area
        return step

    def add(self, frame: np.ndarray, camera: np.ndarray | None = None) -> np.ndarray:
        """The regions' displacements after ``frame`` (a copy: rows of x, y); ``camera`` as in
        :meth:`MovingFlow.step`."""
        step = self.step(frame, camera)
        if step is not None:
            self.positions += step
        return self.positions.copy()


def _cells_of(region: tuple[int, int, int, int], sx: float, sy: float) -> tuple[slice, slice, int]:
    """The flow cells a region covers (at ``sx``, ``sy`` cells per pixel), and how many."""
    x, y, w, h = region
    left, top = int(x * sx), int(y * sy)
    right, bottom = max(int(np.ceil((x + w) * sx)), left + 1), max(int(np.ceil((y + h) * sy)), top + 1)
    return slice(top, bottom), slice(left, right), (bottom - top) * (right - left)


@dataclass(frozen=True)
class FrequencyReport:
    """What ``--spectrum`` writes: the frame rate (a variable-rate source's mean rate), the band searched, each
    region's :class:`Peak` (``frame`` first)."""

    rate: float
    band: tuple[float, float]
    peaks: dict[str, Peak]

    def to_dict(self) -> dict:
        return {"rate": self.rate, "band": list(self.band), "regions": {
            name: {"dominant_hz": peak.hz, "per_minute": peak.per_minute, "strength": peak.strength,
                   "confident": peak.confident, "spectrum": [list(pair) for pair in peak.spectrum]}
            for name, peak in self.peaks.items()}}


class DisplacementSpectra:
    """Each named region's dominant frequency over ``frame_count`` samples, fed its displacement steps in order
    (:meth:`add`: rows of x, y, as :meth:`RegionDisplacement.step` gives them, or ``None`` for no step): the
    displacement they sum to is the signal (a step over a longer gap between frames is a longer displacement, so
    the sum holds at uneven times too). A whole render and the join of its chunks (which carry their steps)
    feed the same steps in the same order, so they find the same numbers. Memory is bounded for any length.
    ``rate``: the samples' (mean) rate; ``nyquist``: see :func:`sampling`."""

    def __init__(self, names: Sequence[str], rate: Fraction | float, frame_count: int,
                 band: tuple[float, float] | None = None, nyquist: float | None = None) -> None:
        self.names = list(names)
        self.rate = float(rate)
        self.band = spectrum_band(band, frame_count, rate, nyquist)
        self._positions = np.zeros((len(self.names), 2))
        self._spectra = Spectra(rate, segment_length(frame_count, rate), self.band, signals=len(self.names),
                                nyquist=nyquist)

    def add(self, step: np.ndarray | None, time: float | None = None) -> None:
        """The next frame's step; ``time``: the frame's, in seconds (for every frame or none, as
        :meth:`Spectra.add`)."""
        if step is not None:
            self._positions += step
        self._spectra.add(self._positions, time)

    def report(self) -> FrequencyReport:
        return FrequencyReport(self.rate, self.band, dict(zip(self.names, self._spectra.peaks(), strict=True)))


def region_names(regions: Sequence[tuple]) -> list[str]:
    """The names a spectrum reports, in order: the whole frame (``frame``), then each ``(name, ...)`` region."""
    return ["frame", *(region[0] for region in regions)]


class SlidingFrequency:
    """The dominant frequency of one signal over its last ``seconds``, for a live readout or keys over time:
    :meth:`add` a sample (x, y) a frame, :meth:`current` fits the window as one segment (``None`` until it holds
    ``minimum_seconds``)."""

    def __init__(self, rate: Fraction | float, seconds: float = 10.0, minimum_seconds: float = 3.0,
                 band: tuple[float, float] | None = None) -> None:
        self.rate = float(rate)
        self._length = max(MIN_SEGMENT_FRAMES, frames_from_seconds(seconds, rate))
        self._minimum = max(MIN_SEGMENT_FRAMES, frames_from_seconds(minimum_seconds, rate))
        self._band = band
        self._window: deque[np.ndarray] = deque(maxlen=self._length)

    def add(self, sample: Sequence[float]) -> None:
        self._window.append(np.asarray(sample, dtype=np.float64))

    def current(self) -> Peak | None:
        count = len(self._window)
        if count < self._minimum:
            return None
        band = default_band(count, self.rate)
        if self._band is not None:
            try:
                band = check_band(self._band, count, self.rate)
            except FrequencyError:
                return None
        spectra = Spectra(self.rate, count, band)
        spectra.add_segment(np.array(self._window)[:, None, :])
        return spectra.peaks()[0]


def refit_interval(rate: Fraction | float) -> int:
    """Samples between a sliding window's refits at ``rate`` frames a second (:data:`REFITS_PER_SECOND`)."""
    return max(1, round(float(rate) / REFITS_PER_SECOND))
