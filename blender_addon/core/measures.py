"""Motion as numbers: per-frame measures of the look's motion signal, for data files, motiongrams and live graphs.

The **motion picture** ``M`` of an output frame is the luma of its deviation from the still level:
``M = |Y(v) - P|`` per pixel, where ``v`` is the look's motion frame after combine and amplify
(before trails, glow, colour, overlay and layout, which finish the picture but are not motion),
``P`` the still level (128 for the gray look, 0 otherwise) and ``Y`` the Rec. 601 luma
``0.299 R + 0.587 G + 0.114 B`` as OpenCV's ``COLOR_BGR2GRAY`` computes it in whole levels (numpy
rounds the same formula when OpenCV is missing: within 1 level). For the looks on black
``M = Y(v)``, so on the difference look ``M`` is MGT-python's gray motion frame ``Y(|A - B|)``.

Per region (the whole frame, and each :class:`Region`), with pixel coordinates counted from 0 at
the top-left pixel's centre, x to the right and y down, in the frame's own pixels:

- ``quantity``: the mean of ``M`` (levels, 0-255): MGT-python's quantity of motion is the sum,
  which is this times the region's pixel count;
- ``active``: the share of pixels whose ``M`` exceeds the threshold (0-1);
- ``centroid_x``, ``centroid_y``: the ``M``-weighted mean pixel position (empty without motion);
- ``box_x``, ``box_y``, ``box_width``, ``box_height``: the bounding box of the pixels above the
  threshold (empty when there are none);
- with the flow look, ``flow_speed``: the mean length of the flow vectors (pixels per frame; see
  :mod:`.flow`), and ``flow_direction``: the direction of their sum in degrees, counter-clockwise
  from the right with y up (0 right, 90 up, 180 left, 270 down; empty without motion).

The horizontal and vertical motiongram rows of a frame are the column and row means of ``M``.
Nothing here keeps a frame: each call measures one frame and returns numbers. No bpy, no files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .pixels import _opencv
from .settings import Settings

DEFAULT_THRESHOLD = 12  # levels of M above which a pixel counts as moving


@dataclass(frozen=True)
class Column:
    """One measure as a data column: its name (per region, after the region's prefix), unit and meaning."""

    name: str
    unit: str
    description: str


# The one table of columns: the data writers, the README's table (checked by the tests) and the
# Blender keys all read it.
FRAME_COLUMNS = (
    Column("frame", "frame", "output frame number (the first frame of the clip is 0)"),
    Column("time", "s", "time of the input frame the output frame shows, in seconds from the start of the clip"),
)
MOTION_COLUMNS = (
    Column("quantity", "levels", "quantity of motion: mean motion per pixel, 0-255"),
    Column("active", "share", "share of pixels whose motion exceeds the threshold, 0-1"),
    Column("centroid_x", "px", "motion-weighted mean x of the pixels (empty without motion)"),
    Column("centroid_y", "px", "motion-weighted mean y of the pixels, y down (empty without motion)"),
    Column("box_x", "px", "left of the bounding box of the pixels above the threshold (empty when none)"),
    Column("box_y", "px", "top of that bounding box (empty when none)"),
    Column("box_width", "px", "width of that bounding box (empty when none)"),
    Column("box_height", "px", "height of that bounding box (empty when none)"),
)
FLOW_COLUMNS = (
    Column("flow_speed", "px/frame", "flow look: mean length of the flow vectors per frame of offset"),
    Column("flow_direction", "degrees", "flow look: direction of the summed flow, counter-clockwise from the right "
           "with y up (0 right, 90 up); empty without motion"),
)
_REGION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Region:
    """A named rectangle of the frame that gets its own measures (columns ``<name>_quantity``, ...)."""

    name: str
    x: int
    y: int
    width: int
    height: int

    def check(self, width: int, height: int) -> None:
        """Raise ``ValueError`` (one line) when the region is not inside a ``width`` x ``height`` frame."""
        if self.x + self.width > width or self.y + self.height > height:
            raise ValueError(
                f"region {self.name} ({self.x},{self.y},{self.width},{self.height}) is not inside the "
                f"{width}x{height} frame"
            )


def parse_region(text: str) -> Region:
    """A region from ``NAME=x,y,w,h`` (whole pixels, w and h at least 1); ``ValueError`` names what is wrong."""
    match = re.fullmatch(r"\s*([^=\s]+)\s*=\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"invalid region {text!r} (use NAME=x,y,w,h, such as hand=100,50,320,240)")
    name = match.group(1)
    if not _REGION_NAME.fullmatch(name) or name in ("frame", "time"):
        raise ValueError(f"invalid region name {name!r} (letters, digits and _, starting with a letter; "
                         "not frame or time)")
    x, y, width, height = (int(group) for group in match.groups()[1:])
    if width < 1 or height < 1:
        raise ValueError(f"region {name} must be at least 1 pixel wide and tall")
    return Region(name, x, y, width, height)


def check_regions(regions: Sequence[Region], width: int, height: int) -> None:
    """Raise ``ValueError`` for a region outside the frame or a name given twice."""
    seen = set()
    for region in regions:
        if region.name in seen:
            raise ValueError(f"region {region.name} is given twice")
        seen.add(region.name)
        region.check(width, height)


def columns(regions: Sequence[Region] = (), flow: bool = False) -> list[Column]:
    """Every data column in order: frame, time, the whole frame's measures, then each region's (prefixed)."""
    per_region = MOTION_COLUMNS + (FLOW_COLUMNS if flow else ())
    result = list(FRAME_COLUMNS) + list(per_region)
    for region in regions:
        result += [Column(f"{region.name}_{column.name}", column.unit, column.description) for column in per_region]
    return result


@dataclass
class FlowField:
    """What the flow look computed for a frame: the vectors (H, W, 2) in pixels and how many frames they span."""

    vectors: np.ndarray  # in the frame's pixels, on a grid of flow cells
    frames: int  # the frame distance between the two frames compared (at least 1)
    lengths: np.ndarray | None = None  # the lengths of the vectors, when already computed
    grid: tuple[float, float] = (1.0, 1.0)  # flow cells per frame pixel across and down (1: one per pixel)

    def cells(self, region: Region) -> tuple[slice, slice]:
        """The rows and columns of flow cells that cover ``region`` (at least one of each)."""
        across, down = self.grid
        x0, y0 = int(region.x * across), int(region.y * down)
        x1 = max(x0 + 1, round((region.x + region.width) * across))
        y1 = max(y0 + 1, round((region.y + region.height) * down))
        return slice(y0, y1), slice(x0, x1)


# What MotionEffect.render calls with each frame's motion (None for a frame passed through untouched).
Measure = Callable[[np.ndarray | None, FlowField | None], None]


class MotionMeasures:
    """Measures of one frame shape and settings: call it with each frame's motion, then read :attr:`values`.

    ``values`` lines up with :func:`columns` after frame and time (``None`` for an empty cell);
    ``column_means`` and ``row_means`` (float64, levels) are the frame's motiongram rows. ``flow``
    asks for the flow columns whatever the look (the live view, whose look changes: they stay empty
    unless the look is flow); by default they come with the flow look.
    """

    def __init__(self, settings: Settings, shape: tuple[int, ...], regions: Sequence[Region] = (),
                 threshold: int = DEFAULT_THRESHOLD, flow: bool | None = None) -> None:
        self.height, self.width = shape[:2]
        check_regions(regions, self.width, self.height)
        if not 0 <= threshold <= 255:
            raise ValueError(f"the motion threshold must be between 0 and 255, not {threshold}")
        self.threshold = threshold
        self._flow_look = settings.look == "flow"
        self.flow = self._flow_look if flow is None else flow
        self.still_level = settings.still_level
        self.regions = (Region("", 0, 0, self.width, self.height), *regions)
        self._cv2 = _opencv()
        self._gray = np.empty((self.height, self.width), np.uint8)
        self._mask = np.empty((self.height, self.width), np.uint8)
        self.values: list[float | None] = []
        self.column_means = np.zeros(self.width)
        self.row_means = np.zeros(self.height)
        self(None, None)

    def __call__(self, motion: np.ndarray | None, flow: FlowField | None) -> None:
        if motion is None:  # no motion was computed (an edge frame passed through): nothing moved
            self.values = [0.0, 0.0, None, None, None, None, None, None] + (self._no_flow() if self.flow else [])
            self.values *= len(self.regions)
            self.column_means = np.zeros(self.width)
            self.row_means = np.zeros(self.height)
            return
        # Each region's column and row sums of M, and its pixels above the threshold: passes over the
        # region's own pixels (measured in a render: a third cheaper than summed-area tables of the frame).
        gray = self.motion_picture(motion)
        mask = self._above_threshold(gray)
        values = []
        for index, region in enumerate(self.regions):
            rows, cols = slice(region.y, region.y + region.height), slice(region.x, region.x + region.width)
            inside = gray[rows, cols]
            column_sums = _column_sums(inside)
            row_sums = np.add.reduce(inside, axis=1, dtype=np.uint32)
            values += _region_values(region, column_sums, row_sums, *self._moving(mask[rows, cols]))
            if self.flow:
                values += self._no_flow() if flow is None else _flow_values(flow, region)
            if index == 0:
                self.column_means = column_sums / self.height
                self.row_means = row_sums / self.width
        self.values = values

    def _no_flow(self) -> list[float | None]:
        """The flow cells of a frame without flow: still for the flow look, empty for the others."""
        return [0.0, None] if self._flow_look else [None, None]

    def columns(self) -> list[Column]:
        """The data columns of these measures, frame and time first (see :func:`columns`)."""
        return columns(self.regions[1:], self.flow)

    def quantities(self) -> list[float]:
        """The last frame's quantity of motion in each region, the whole frame first."""
        step = len(self.values) // len(self.regions)
        return [self.values[index * step] for index in range(len(self.regions))]

    def motion_picture(self, motion: np.ndarray) -> np.ndarray:
        """``M`` of a motion frame as (H, W) uint8 (a buffer reused by the next call)."""
        cv2 = self._cv2
        if cv2 is not None:
            cv2.cvtColor(np.ascontiguousarray(motion), cv2.COLOR_BGR2GRAY, dst=self._gray)
            if self.still_level:
                cv2.absdiff(self._gray, self.still_level, dst=self._gray)
            return self._gray
        luma = np.floor(motion @ np.array([0.114, 0.587, 0.299]) + 0.5)
        np.abs(luma - self.still_level, out=luma)
        self._gray[...] = luma
        return self._gray

    def _above_threshold(self, gray: np.ndarray) -> np.ndarray:
        """1 where ``M`` exceeds the threshold, else 0."""
        if self._cv2 is not None:
            self._cv2.threshold(gray, self.threshold, 1, self._cv2.THRESH_BINARY, dst=self._mask)
        else:
            np.greater(gray, self.threshold, out=self._mask.view(bool))
        return self._mask

    def _moving(self, mask: np.ndarray) -> tuple[int, tuple[int, int, int, int] | None]:
        """How many pixels of a region's ``mask`` are set, and their bounding box in the region (x, y, w, h)."""
        if self._cv2 is not None:
            count = self._cv2.countNonZero(mask)
            return count, self._cv2.boundingRect(mask) if count else None
        rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return 0, None
        return int(np.count_nonzero(mask)), (int(columns[0]), int(rows[0]), int(columns[-1] - columns[0]) + 1,
                                             int(rows[-1] - rows[0]) + 1)


def _column_sums(picture: np.ndarray) -> np.ndarray:
    """The column sums of an 8-bit picture as uint32, added up in 16 bits 257 rows at a time (255 x 257 fits):
    SIMD lanes twice as wide as 32-bit sums, measured a third faster."""
    sums = np.zeros(picture.shape[1], np.uint32)
    for top in range(0, picture.shape[0], 257):
        sums += np.add.reduce(picture[top : top + 257], axis=0, dtype=np.uint16)
    return sums


def _region_values(region: Region, column_sums: np.ndarray, row_sums: np.ndarray, active: int,
                   box: tuple[int, int, int, int] | None) -> list[float | None]:
    """Quantity, active share, centroid and box of ``region`` from its column and row sums of ``M``, its count of
    pixels above the threshold and their box within it."""
    area = region.width * region.height
    total = float(column_sums.sum(dtype=np.float64))
    if total > 0:
        centroid = (region.x + float(column_sums @ np.arange(region.width)) / total,
                    region.y + float(row_sums @ np.arange(region.height)) / total)
    else:
        centroid = (None, None)
    corner = [None] * 4 if box is None else [region.x + box[0], region.y + box[1], box[2], box[3]]
    return [total / area, active / area, *centroid, *corner]


def _flow_values(flow: FlowField, region: Region) -> list[float | None]:
    """Mean speed (pixels per frame) and the direction of the summed vectors (degrees, y up) in ``region``."""
    rows, cols = flow.cells(region)
    inside = flow.vectors[rows, cols]
    dx, dy = inside[..., 0], inside[..., 1]
    if flow.lengths is not None:
        lengths = flow.lengths[rows, cols]
    else:
        lengths = np.sqrt(dx * dx + dy * dy)
    speed = float(lengths.mean(dtype=np.float64)) / flow.frames
    sum_x, sum_y = float(dx.sum(dtype=np.float64)), float(dy.sum(dtype=np.float64))
    if math.hypot(sum_x, sum_y) <= 1e-9 * inside.shape[0] * inside.shape[1]:
        return [speed, None]
    return [speed, math.degrees(math.atan2(-sum_y, sum_x)) % 360.0]
