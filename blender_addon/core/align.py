"""Camera-shake compensation: register each partner frame onto its current frame before the look.

The effect compares two frames, so aligning exactly those two cancels the camera's motion
between them and leaves the scene's own (pairwise alignment, no path smoothing). For a pair
(current frame t, partner p):

1. both frames are tracked on gray copies at most :data:`WORKING_SIZE` pixels wide (area-averaged:
   at 1080p this costs a third of full size, and estimates stay within 0.05 px of the true path);
   corners are found in t, the strongest of each cell of a grid (so a plain background gets its
   share of votes beside a busy foreground), and pyramidal Lucas-Kanade tracks each
   from t into p (its five pyramid levels follow moves of a few hundred pixels); a corner is kept
   only if tracking back from p lands within :data:`FORWARD_BACKWARD_PX` of where it started;
2. a model is fitted to the tracks by RANSAC, so whatever moves on its own (up to about half the
   tracked points) cannot drag it: ``shift`` (translation), ``similarity`` (translation, rotation,
   uniform scale) or ``perspective`` (a homography), then refined on its inliers;
3. the partner is warped onto t (bilinear) over t itself, as the sequencer lays a moved strip over
   another: where the warped partner has no pixels (the borders it was moved away from) the current
   frame's own pixels stand in, so every look shows the still level there instead of false motion;
   along its edge, where a bilinear sample reaches past the partner, the two mix by the share of the
   sample that falls on the partner (its coverage, 0-255, warped as the partner is).

A pair with too little texture or too poor a fit is not compensated (the identity is used) and
its :class:`Alignment` says why; the report and the command line warn about it. Everything here
is deterministic (OpenCV's RANSAC uses a fixed seed) and depends only on the two frames, so chunks
equal a whole render. Coordinates are pixels, x right and y down; angles are degrees, positive
clockwise on screen.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

MODELS = ("none", "shift", "similarity", "perspective")

WORKING_SIZE = 960  # frames are tracked on copies at most this many pixels on their long side
MAX_CORNERS = 400
DETECT_HALF_FROM = 480  # a working copy at least this tall has its corners found at half size
CORNER_QUALITY = 0.01  # relative to the strongest corner of its grid cell
CORNER_GRID = (8, 6)  # corners are found in each of these columns x rows of the frame
LK_WINDOW = (15, 15)
LK_LEVELS = 5
LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
FORWARD_BACKWARD_PX = 0.5
MIN_POINTS = 12  # fewer tracked corners than this: the frame has no usable texture
MIN_INLIER_SHARE = 0.25
MAX_SCALE_CHANGE = 2.0  # a fitted scale outside [1/x, x] between two frames is a failed fit
RANSAC_ITERATIONS = 2000
RANSAC_CONFIDENCE = 0.999
SHIFT_CANDIDATES = 64  # candidate moves for the shift model: ~16 of them fall in a consensus of a quarter


def ransac_threshold(width: int, height: int) -> float:
    """Reprojection distance in pixels within which a track agrees with a model: 1 px at 720p."""
    return max(0.75, min(width, height) / 720)


@dataclass(frozen=True)
class Alignment:
    """How the partner maps onto the current frame: ``x_current ~ matrix @ x_partner`` (homogeneous)."""

    model: str
    matrix: np.ndarray = field(default_factory=lambda: np.eye(3))
    points: int = 0  # corners tracked both ways
    inliers: int = 0
    residual: float = 0.0  # RMS distance of the inliers from the model, in pixels
    failure: str = ""  # why the pair is not compensated; empty when it is (or model is none)
    center: tuple[float, float] = (0.0, 0.0)  # the frame's centre, which dx and dy refer to

    @property
    def compensated(self) -> bool:
        return self.model != "none" and not self.failure

    @property
    def inlier_share(self) -> float:
        return self.inliers / self.points if self.points else 0.0

    @property
    def shift(self) -> tuple[float, float]:
        """Where the partner's centre lands in the current frame, relative to the centre (dx, dy)."""
        x, y = self.center
        mapped = self.matrix @ np.array([x, y, 1.0])
        return float(mapped[0] / mapped[2] - x), float(mapped[1] / mapped[2] - y)

    @property
    def rotation(self) -> float:
        """Rotation of the linear part in degrees (positive: clockwise on screen)."""
        return math.degrees(math.atan2(self.matrix[1, 0] - self.matrix[0, 1], self.matrix[0, 0] + self.matrix[1, 1]))

    @property
    def scale(self) -> float:
        """Uniform scale of the linear part (the square root of its determinant)."""
        linear = self.matrix[:2, :2] / self.matrix[2, 2]
        return math.sqrt(max(float(np.linalg.det(linear)), 0.0))


IDENTITY = np.eye(3)


class _FrameFeatures:
    """What tracking needs of one frame, computed once: a gray copy at most :data:`WORKING_SIZE`
    pixels on its long side (area-averaged), and its corners there."""

    def __init__(self, frame: np.ndarray) -> None:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        height, width = gray.shape
        self.factor = min(1.0, WORKING_SIZE / max(width, height))
        if self.factor < 1.0:
            gray = cv2.resize(gray, None, fx=self.factor, fy=self.factor, interpolation=cv2.INTER_AREA)
        self.gray = gray
        self.size = (gray.shape[1], gray.shape[0])
        self._corners: np.ndarray | None = None

    @property
    def corners(self) -> np.ndarray:
        """Up to :data:`MAX_CORNERS` corners of the working copy, as float32 (n, 1, 2), spread over it."""
        if self._corners is None:
            # Found on a half-size copy when the working copy is large (a quarter of the cost): they are
            # only where tracking starts, which follows the texture there at full precision.
            detect = cv2.pyrDown(self.gray) if min(self.gray.shape) >= DETECT_HALF_FROM else self.gray
            scale = self.gray.shape[0] / detect.shape[0]
            self._corners = (_spread_corners(detect) * scale).astype(np.float32)
        return self._corners

    def to_full(self, matrix: np.ndarray) -> np.ndarray:
        """A transform between working copies as one between the full frames: working pixel x
        covers full pixels around ``(x + 0.5) / factor - 0.5``."""
        if self.factor == 1.0:
            return matrix
        shift = (self.factor - 1) / 2  # full x -> working x: factor * x + shift
        to_working = np.array([[self.factor, 0.0, shift], [0.0, self.factor, shift], [0.0, 0.0, 1.0]])
        return np.linalg.inv(to_working) @ matrix @ to_working


def _spread_corners(gray: np.ndarray) -> np.ndarray:
    """Corners in every cell of a :data:`CORNER_GRID` grid, the strongest of each cell (relative to that
    cell's own best), so a plain wall gets its share beside a busy foreground: the background usually
    spans most of the frame, and with corners spread by area it outvotes what moves on its own."""
    columns, rows = CORNER_GRID
    height, width = gray.shape
    per_cell = max(1, MAX_CORNERS // (columns * rows))
    distance = max(6.0, min(height, width) / 24)
    found = []
    for row in range(rows):
        top, bottom = row * height // rows, (row + 1) * height // rows
        for column in range(columns):
            left, right = column * width // columns, (column + 1) * width // columns
            cell = cv2.goodFeaturesToTrack(gray[top:bottom, left:right], per_cell, CORNER_QUALITY, distance,
                                           blockSize=5)
            if cell is not None:
                found.append(cell + np.float32([left, top]))
    return np.concatenate(found) if found else np.empty((0, 1, 2), np.float32)


class Aligner:
    """Estimates and applies alignments for one model; keeps the features of the last few frames,
    so a frame used as current and then as partner (or a freeze reference) is analysed once."""

    def __init__(self, model: str, cache_frames: int = 4) -> None:
        if model not in MODELS:
            raise ValueError(f"alignment model must be one of {', '.join(MODELS)}, not {model!r}")
        self.model = model
        self._cache: OrderedDict[int, _FrameFeatures] = OrderedDict()
        self._cache_frames = cache_frames

    def _features(self, index: int | None, frame: np.ndarray) -> _FrameFeatures:
        if index is None:
            return _FrameFeatures(frame)
        features = self._cache.get(index)
        if features is None:
            features = self._cache[index] = _FrameFeatures(frame)
            while len(self._cache) > self._cache_frames:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(index)
        return features

    def estimate(self, current: np.ndarray, partner: np.ndarray,
                 current_index: int | None = None, partner_index: int | None = None) -> Alignment:
        """The alignment of ``partner`` onto ``current`` (frames as (H, W, 3) uint8 or gray).

        The indices only name the frames for the feature cache: the same index must mean the same frame.
        """
        height, width = current.shape[:2]
        center = ((width - 1) / 2, (height - 1) / 2)
        if self.model == "none":
            return Alignment("none", center=center)
        if current_index is not None and current_index == partner_index:
            return Alignment(self.model, points=0, center=center)  # a frame with itself: nothing to undo
        now = self._features(current_index, current)
        then = self._features(partner_index, partner)
        return estimate_features(self.model, now, then, center)

    def estimate_all(self, current: np.ndarray, partners: Sequence[np.ndarray], current_index: int,
                     partner_indices: Sequence[int]) -> tuple[Alignment, ...]:
        """:meth:`estimate` of each partner onto ``current``."""
        return tuple(self.estimate(current, partner, current_index, index)
                     for partner, index in zip(partners, partner_indices, strict=True))

    def align_all(self, current: np.ndarray, partners: Sequence[np.ndarray], current_index: int,
                  partner_indices: Sequence[int]) -> tuple[tuple[Alignment, ...], tuple[np.ndarray, ...]]:
        """The alignments of ``partners`` onto ``current``, and the partners warped by them (:func:`warp_partner`)."""
        alignments = self.estimate_all(current, partners, current_index, partner_indices)
        return alignments, tuple(warp_partner(alignment, current, partner)
                                 for alignment, partner in zip(alignments, partners, strict=True))


def estimate_features(model: str, now: _FrameFeatures, then: _FrameFeatures,
                      center: tuple[float, float]) -> Alignment:
    """Track ``now``'s corners into ``then`` and fit ``model`` (see the module's steps 1 and 2)."""
    corners = now.corners
    if len(corners) < MIN_POINTS:
        return Alignment(model, center=center, points=len(corners), failure="no texture to track")
    tracked, status, _ = cv2.calcOpticalFlowPyrLK(
        now.gray, then.gray, corners, None, winSize=LK_WINDOW, maxLevel=LK_LEVELS, criteria=LK_CRITERIA,
    )
    back, back_status, _ = cv2.calcOpticalFlowPyrLK(
        then.gray, now.gray, tracked, corners.copy(), winSize=LK_WINDOW, maxLevel=LK_LEVELS,
        criteria=LK_CRITERIA, flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
    )
    error = np.linalg.norm((back - corners).reshape(-1, 2), axis=1)
    good = (status.ravel() == 1) & (back_status.ravel() == 1) & (error < FORWARD_BACKWARD_PX)
    source = tracked.reshape(-1, 2)[good].astype(np.float64)  # in the partner
    target = corners.reshape(-1, 2)[good].astype(np.float64)  # in the current frame
    points = len(source)
    if points < MIN_POINTS:
        return Alignment(model, center=center, points=points, failure="too few corners could be tracked")
    threshold = ransac_threshold(*now.size)
    matrix, inliers = _fit(model, source, target, threshold)
    if matrix is None or inliers.sum() < MIN_POINTS:
        return Alignment(model, center=center, points=points, failure="no model fits the tracked corners")
    share = inliers.sum() / points
    residual = _rms_distance(matrix, source[inliers], target[inliers]) / now.factor  # in full pixels
    result = Alignment(model, now.to_full(matrix), points, int(inliers.sum()), residual, "", center)
    if share < MIN_INLIER_SHARE:
        return Alignment(model, IDENTITY, points, int(inliers.sum()), residual,
                         f"only {share:.0%} of the tracked corners agree", center)
    if not 1 / MAX_SCALE_CHANGE <= result.scale <= MAX_SCALE_CHANGE:
        return Alignment(model, IDENTITY, points, int(inliers.sum()), residual,
                         f"the fitted scale {result.scale:.2f} is implausible", center)
    return result


def _fit(model: str, source: np.ndarray, target: np.ndarray, threshold: float) -> tuple[np.ndarray | None, np.ndarray]:
    """The model mapping ``source`` onto ``target`` (3x3) and its inlier mask, by RANSAC then least squares."""
    if model == "shift":
        return _fit_shift(source, target, threshold)
    if model == "similarity":
        affine, mask = cv2.estimateAffinePartial2D(
            source, target, method=cv2.RANSAC, ransacReprojThreshold=threshold,
            maxIters=RANSAC_ITERATIONS, confidence=RANSAC_CONFIDENCE, refineIters=10,
        )
        if affine is None:
            return None, np.zeros(len(source), bool)
        return np.vstack([affine, [0.0, 0.0, 1.0]]), mask.ravel().astype(bool)
    homography, mask = cv2.findHomography(
        source, target, cv2.RANSAC, threshold, maxIters=RANSAC_ITERATIONS, confidence=RANSAC_CONFIDENCE
    )
    if homography is None:
        return None, np.zeros(len(source), bool)
    return homography / homography[2, 2], mask.ravel().astype(bool)


def _fit_shift(source: np.ndarray, target: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Translation by consensus: the displacements of up to :data:`SHIFT_CANDIDATES` tracks, spread over
    the list, are candidates; the one most tracks agree with wins (the first on ties), then the mean
    of its inliers, twice."""
    moves = target - source
    candidates = moves[:: max(1, len(moves) // SHIFT_CANDIDATES)]
    distances = np.linalg.norm(candidates[:, None, :] - moves[None, :, :], axis=2)
    support = (distances < threshold).sum(axis=1)
    move = candidates[int(np.argmax(support))]
    for _ in range(2):
        inliers = np.linalg.norm(moves - move, axis=1) < threshold
        move = moves[inliers].mean(axis=0)
    inliers = np.linalg.norm(moves - move, axis=1) < threshold
    matrix = np.eye(3)
    matrix[:2, 2] = move
    return matrix, inliers


def _rms_distance(matrix: np.ndarray, source: np.ndarray, target: np.ndarray) -> float:
    mapped = cv2.perspectiveTransform(source.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    return float(np.sqrt(np.mean(np.sum((mapped - target) ** 2, axis=1)))) if len(source) else 0.0


def warp_partner(alignment: Alignment, current: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """``partner`` resampled onto ``current``'s pixels by ``alignment`` (bilinear, nothing beyond its edges)
    over ``current`` (see the module's step 3). ``partner`` itself when the pair is not compensated."""
    if not alignment.compensated or np.array_equal(alignment.matrix, IDENTITY):
        return partner
    height, width = current.shape[:2]
    matrix = alignment.matrix
    if alignment.model == "perspective":
        warp, transform = cv2.warpPerspective, matrix
    else:
        warp, transform = cv2.warpAffine, matrix[:2]
    aligned = warp(partner, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    solid = _solid(partner.shape[:2])
    for left, top, right, bottom in _edge_bands(matrix, width, height):
        # The band's samples again with the partner's coverage of them (the same warp of a solid plane): warped
        # alike, so the two agree to the last bit of OpenCV's fixed-point sample positions
        moved = np.array([[1, 0, -left], [0, 1, -top], [0, 0, 1]], np.float64) @ matrix
        moved = moved if warp is cv2.warpPerspective else moved[:2]
        size = (right - left, bottom - top)
        coverage = warp(solid, moved, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        rows, columns = np.nonzero(coverage < 255)
        if rows.size:
            sample = warp(partner, moved, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            uncovered = (255 - coverage[rows, columns, None]).astype(np.float32) / 255
            # The premultiplied sample over the current frame, as the sequencer lays a moved strip (ALPHA_OVER)
            mixed = sample[rows, columns] + uncovered * current[rows + top, columns + left]
            aligned[rows + top, columns + left] = np.minimum(np.floor(mixed + 0.5), 255)
    return aligned


@functools.lru_cache(maxsize=2)
def _solid(shape: tuple[int, int]) -> np.ndarray:
    """A plane of 255 of ``shape``, made once per frame size (read only): what the coverage warp reads."""
    plane = np.full(shape, 255, np.uint8)
    plane.flags.writeable = False
    return plane


def _edge_bands(matrix: np.ndarray, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (left, top, right, bottom; right and bottom excluded) of the frame that hold every pixel the
    warped partner does not wholly cover: bands along the frame's edges out to the rectangle its pixel centres
    surely cover (the whole frame when the warp turns or bends it too far to tell)."""
    edge = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float64)
    corners = cv2.perspectiveTransform(edge.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    # The rectangle inside the quadrilateral of the corners (top-left, top-right, bottom-right, bottom-left),
    # a pixel in from it on each side for the rounding of the samples
    left = math.ceil(max(corners[0, 0], corners[3, 0])) + 1
    right = math.floor(min(corners[1, 0], corners[2, 0])) - 1
    top = math.ceil(max(corners[0, 1], corners[1, 1])) + 1
    bottom = math.floor(min(corners[2, 1], corners[3, 1])) - 1
    turned = abs(matrix[0, 1]) + abs(matrix[1, 0]) + abs(matrix[2, 0]) * width + abs(matrix[2, 1]) * height
    if turned > 0.5 or not (0 <= left < right < width and 0 <= top < bottom < height):
        return [(0, 0, width, height)]
    # Within the quadrilateral's straight sides, every pixel of [left, right] x [top, bottom] is covered
    bands = [(0, 0, width, top), (0, bottom + 1, width, height), (0, top, left, bottom + 1),
             (right + 1, top, width, bottom + 1)]
    return [band for band in bands if band[2] > band[0] and band[3] > band[1]]


REPORT_COLUMNS = (
    "frame", "time_s", "input_frame", "partner", "model", "status", "dx_px", "dy_px", "rotation_deg", "scale",
    "inlier_share", "residual_px", "points", "matrix",
)


def report_row(output_frame: int, time: float, input_frame: int, partner: int | None,
               alignment: Alignment | None) -> list[str]:
    """One row of ``--align-report`` (see :data:`REPORT_COLUMNS`): ``status`` is ``ok``, ``edge`` (a frame
    without a partner) or why the pair was not compensated; ``matrix`` the nine numbers of
    :attr:`Alignment.matrix` row by row, space-separated."""
    head = [str(output_frame), f"{time:.6f}", str(input_frame), "" if partner is None else str(partner)]
    if alignment is None:
        return head + ["", "edge"] + [""] * 8
    dx, dy = alignment.shift
    return head + [
        alignment.model, alignment.failure or "ok", f"{dx:.4f}", f"{dy:.4f}", f"{alignment.rotation:.5f}",
        f"{alignment.scale:.6f}", f"{alignment.inlier_share:.4f}", f"{alignment.residual:.4f}",
        str(alignment.points), " ".join(f"{value:.9g}" for value in alignment.matrix.ravel()),
    ]


@dataclass(frozen=True)
class StripTransform:
    """Blender's strip transform (``Strip.transform``) that moves an image as an alignment does: offsets in
    pixels with y up, rotation in radians counter-clockwise on screen, one scale, about the image's centre."""

    offset_x: float
    offset_y: float
    rotation: float
    scale: float


def strip_transform(matrix: np.ndarray, width: int, height: int) -> StripTransform:
    """The strip transform equal to the similarity ``matrix`` (partner pixels to frame pixels, y down,
    pixel centres on whole numbers) for an image of ``width`` x ``height`` shown at its own size.

    The sequencer transforms about the pivot (W/2, H/2) in coordinates with y up and pixel centres
    on halves: ``p' = R S (p - pivot) + pivot + offset``. Measured on bpy 5.0: the sequencer's
    bilinear render of such a transform equals OpenCV's ``warpAffine`` of ``matrix`` within 1 level.
    """
    to_sequencer = np.array([[1.0, 0.0, 0.5], [0.0, -1.0, height - 0.5], [0.0, 0.0, 1.0]])
    from_sequencer = np.array([[1.0, 0.0, -0.5], [0.0, -1.0, height - 0.5], [0.0, 0.0, 1.0]])
    sequencer = to_sequencer @ (matrix / matrix[2, 2]) @ from_sequencer
    linear = sequencer[:2, :2]
    pivot = np.array([width / 2, height / 2])
    offset = sequencer[:2, 2] - pivot + linear @ pivot
    return StripTransform(float(offset[0]), float(offset[1]), math.atan2(linear[1, 0], linear[0, 0]),
                          math.hypot(linear[0, 0], linear[1, 0]))
