"""A frequency map: the frame cut into blocks, each block's dominant frequency and its strength.

Each block is a region of its own (see :mod:`.frequency`): its displacement is summed from the mean optical
flow of its moving pixels, and its spectrum is averaged over segments. The block size and the segment length
are chosen from a memory budget, since every block keeps a segment of samples and a power matrix per
frequency; the flow is computed once a frame for all blocks at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .frequency import (
    GRID_WORK,
    LONGEST,
    SHORTEST,
    WORK_WIDTH,
    MovingFlow,
    Spectra,
    check_band,
    segment_length,
)
from .rates import frames_from_seconds

MAP_BUDGET = 16 << 20  # bytes the map's spectra may hold
MAP_WORK = GRID_WORK // 4  # numbers each of the map's fit's working arrays holds at once (its memory's other half)
MAP_OVERSAMPLE = 2  # grid points per resolution step: the map's hue needs no finer placing
MAP_SEGMENT_SECONDS = 10.0  # resolution 0.1 Hz; longer clips average more segments
MIN_BLOCK_CELLS = 4  # a block is at least this many flow cells wide and tall
COMPONENTS = 2


@dataclass(frozen=True)
class MapLayout:
    """Blocks of ``block`` frame pixels (the last row and column may be cut short), the segment length and the band
    searched (checked against that length)."""

    block: int
    columns: int
    rows: int
    length: int
    band: tuple[float, float]

    @property
    def blocks(self) -> int:
        return self.columns * self.rows


def bytes_per_block(length: int, rate: Fraction | float, band: tuple[float, float]) -> int:
    """What one block's spectrum holds: its segment of samples and its 2x2 matrix per grid frequency."""
    grid = (band[1] - band[0]) * length * MAP_OVERSAMPLE / float(rate) + 3
    return int(8 * COMPONENTS * (length + COMPONENTS * grid))


def map_layout(width: int, height: int, frame_count: int, rate: Fraction | float, band: tuple[float, float] | None,
               budget: int = MAP_BUDGET, nyquist: float | None = None) -> MapLayout:
    """The finest blocks whose spectra fit ``budget``, with segments of up to :data:`MAP_SEGMENT_SECONDS`."""
    length = min(segment_length(frame_count, rate), max(16, frames_from_seconds(MAP_SEGMENT_SECONDS, rate)))
    band = check_band(band or (0.0, float(rate)), length, rate, nyquist)
    cell = max(1, round(width / min(width, WORK_WIDTH)))  # frame pixels per flow cell
    per_block = bytes_per_block(length, rate, band)
    block = MIN_BLOCK_CELLS * cell
    while -(-width // block) * -(-height // block) * per_block > budget:
        block += cell
    return MapLayout(block, -(-width // block), -(-height // block), length, band)


class FrequencyMap:
    """Fed frames in order (BGR or gray); :meth:`result` gives each block's dominant frequency and strength.
    ``nyquist``: see ``frequency.sampling``. Needs OpenCV."""

    def __init__(self, shape: tuple[int, ...], rate: Fraction | float, frame_count: int,
                 band: tuple[float, float] | None = None, budget: int = MAP_BUDGET,
                 nyquist: float | None = None) -> None:
        height, width = shape[:2]
        self.layout = layout = map_layout(width, height, frame_count, rate, band, budget, nyquist)
        self.band = layout.band
        # The flow grid: a whole number of cells per block, about WORK_WIDTH wide; edge blocks padded out whole.
        self._cells = max(1, round(layout.block * min(width, WORK_WIDTH) / width),  # tiny frames enlarged for DIS
                          -(-SHORTEST // min(layout.columns, layout.rows)),
                          -(-LONGEST // max(layout.columns, layout.rows)))
        work = (layout.columns * self._cells, layout.rows * self._cells)
        self._flow = MovingFlow(shape, work, padded=(layout.columns * layout.block, layout.rows * layout.block))
        self._positions = np.zeros((layout.blocks, COMPONENTS))
        self.spectra = Spectra(rate, layout.length, self.band, signals=layout.blocks, oversample=MAP_OVERSAMPLE,
                               nyquist=nyquist, work=MAP_WORK)
        self.still: np.ndarray | None = None  # the first frame: the map's picture

    def add(self, frame: np.ndarray, camera: np.ndarray | None = None, time: float | None = None) -> None:
        """Measure the next frame; ``camera``: how the camera moved since the last (see ``MovingFlow.step``);
        ``time``: the frame's, in seconds (for every frame or none, as ``Spectra.add``)."""
        if self.still is None:
            self.still = frame.copy()
        flow = self._flow.step(frame, camera)
        if flow is not None:
            rows, columns, cells = self.layout.rows, self.layout.columns, self._cells
            sums = flow.reshape(rows, cells, columns, cells, COMPONENTS).sum(axis=(1, 3))
            self._positions += sums.reshape(-1, COMPONENTS) / (cells * cells)
        self.spectra.add(self._positions, time)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Each block's dominant frequency in Hz (NaN where nothing moves) and strength, as (rows, columns)."""
        hz, strength = self.spectra.dominant()
        shape = (self.layout.rows, self.layout.columns)
        return hz.reshape(shape), strength.reshape(shape)
