"""The optical-flow look: dense flow between a frame and its partner, drawn on the usual colour wheel.

For each pixel of the current frame, OpenCV's DIS optical flow (preset ULTRAFAST with a few
variational refinement iterations, which smooth its blocky patches: the fastest for the accuracy
it keeps, see docs/benchmarks.md) finds where it is in the partner, on the luma of both frames;
the vector is turned to point the way things travel (from the earlier frame of the two to the later;
in freeze mode, from the reference). Speed is its length divided by the frames between the two
(pixels per frame). The picture is HSV: hue = direction (red right, yellow-green up, cyan left,
violet down: counter-clockwise with y up), full saturation, value = speed on the flow scale,
clipped; speeds below :data:`STILL_SPEED` show black, and the brightness rises from there to full at
the flow scale; amplify scales that brightness like the other looks on black. ``flow_legend`` draws the
wheel itself in the bottom-right corner of the finished picture.

OpenCV is required here (there is no numpy flow); :func:`require_opencv` says so in one line.
"""

from __future__ import annotations

import math

import numpy as np

from .measures import FlowField
from .pixels import _opencv
from .plan import ResolvedPlan
from .settings import SettingsError

PRESET = "ULTRAFAST"
FINEST_SCALE = 2  # the finest pyramid scale DIS compares at in that preset
REFINEMENT = 3  # variational refinement iterations: smooths the preset's blocky patches (measured: +60 % time)
STILL_SPEED = 0.25  # pixels per frame: slower shows black (DIS's noise on still texture; noise costs the encoder)
WORK_WIDTH = 960  # frames at least twice as wide are compared at a whole fraction of their size
DIS_PATCH = 8  # the patch OpenCV's DIS flow matches, in every preset


def dis_minimum(finest_scale: int) -> tuple[int, int]:
    """The shortest short side and long side, in pixels, that OpenCV's DIS flow compares on the pyramid its preset
    gives (down to ``finest_scale``): on smaller frames it picks its scales from the width alone, which fails on
    frames wide and short (an OpenCV assertion, or a crash)."""
    return DIS_PATCH << finest_scale, math.ceil(4 * DIS_PATCH * 2 ** (finest_scale - 0.5))


def require_opencv():
    """``cv2``, or :class:`SettingsError` saying the flow look needs it."""
    cv2 = _opencv()
    if cv2 is None:
        raise SettingsError("look flow needs OpenCV (pip install opencv-python-headless)")
    return cv2


class FlowLook:
    """Stage 1 of the flow look for one frame shape: ``combine(A, B, out, frames_apart=t - p)``;
    :attr:`field` is the last frame's flow, for the measures.

    Frames wider than :data:`WORK_WIDTH` are compared at a whole fraction of their size (1080p at
    960x540), where DIS at this preset finds the same flow for a quarter of the time (it works on
    patches an eighth of the frame's size either way); the picture is drawn there and scaled up.
    """

    def __init__(self, plan: ResolvedPlan) -> None:
        cv2 = self._cv2 = require_opencv()
        settings = plan.settings
        self.shape = plan.input_shape
        height, width = self.shape[:2]
        step = max(1, width // WORK_WIDTH)
        self._work = (max(1, round(width / step)), max(1, round(height / step)))  # (width, height)
        shortest, longest = dis_minimum(FINEST_SCALE)
        if min(self._work) < shortest or max(self._work) < longest:  # tiny frames are compared enlarged, as DIS needs
            scale = max(-(-shortest // min(width, height)), -(-longest // max(width, height)))
            self._work = (width * scale, height * scale)
        self._grid = (self._work[0] / width, self._work[1] / height)  # flow cells per frame pixel
        self._dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{PRESET}"))
        self._dis.setVariationalRefinementIterations(REFINEMENT)
        self._flow_scale = settings.flow_scale
        self._lag = settings.lag if settings.mode == "shift" else 1  # when the caller does not say
        self._amplify = None if settings.amplify == 1.0 else plan.amplify
        work_width, work_height = self._work
        self._gray = (np.empty((height, width), np.uint8), np.empty((height, width), np.uint8))
        self._hsv = np.empty((work_height, work_width, 3), np.uint8)
        self._hsv[..., 1] = 255
        self.field: FlowField | None = None

    def _luma(self, frame: np.ndarray, gray: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2GRAY, dst=gray)
        if self._work != (gray.shape[1], gray.shape[0]):
            return cv2.resize(gray, self._work, interpolation=cv2.INTER_AREA)
        return gray

    def combine(self, current: np.ndarray, partner: np.ndarray, out: np.ndarray | None = None,
                source: np.ndarray | None = None, frames_apart: int | None = None) -> np.ndarray:
        """The colour-wheel picture of the flow between ``partner`` and ``current``, which lies
        ``frames_apart`` frames after it (negative: before; the offset when not given)."""
        cv2 = self._cv2
        now, then = (self._luma(frame, gray) for frame, gray in zip((current, partner), self._gray, strict=True))
        apart = self._lag if frames_apart is None else frames_apart
        # Vectors on the current frame's pixels, pointing to the partner (DIS starts from a flow it is
        # given, so none is: chunks must not depend on the frame before); turned to point the way
        # things travel when the partner is the earlier frame, in the frame's own pixels.
        flow = self._dis.calc(now, then, None)
        np.multiply(flow, (-1.0 if apart > 0 else 1.0) / self._grid[0], out=flow)
        frames = max(1, abs(apart))
        across, down = np.ascontiguousarray(flow[..., 0]), np.ascontiguousarray(flow[..., 1])
        magnitude, angle = cv2.cartToPolar(across, down, angleInDegrees=True)  # angle clockwise: y is down
        self.field = FlowField(flow, frames, magnitude, self._grid)
        hsv = self._hsv
        # Hue in OpenCV's 0-180 for 0-360 degrees counter-clockwise (180 is red again); value = speed on the scale.
        hsv[..., 0] = cv2.convertScaleAbs(angle, alpha=-0.5, beta=180.0)
        still, gain = brightness(self._flow_scale)
        value = cv2.convertScaleAbs(magnitude, alpha=gain / frames)
        hsv[..., 2] = cv2.subtract(value, round(gain * still))  # saturating: below STILL_SPEED is 0
        if out is None:
            out = np.empty(self.shape, np.uint8)
        if hsv.shape[:2] == out.shape[:2]:
            cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR, dst=out)
        else:
            cv2.resize(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), (out.shape[1], out.shape[0]), dst=out,
                       interpolation=cv2.INTER_LINEAR)
        if self._amplify is not None:
            cv2.LUT(out, self._amplify, dst=out)
        return out


def brightness(flow_scale: float) -> tuple[float, float]:
    """The speed that shows black (:data:`STILL_SPEED`, at most half the scale) and the levels per pixel per frame
    above it: a speed of ``flow_scale`` shows 255."""
    still = min(STILL_SPEED, flow_scale / 2)
    return still, 255.0 / (flow_scale - still)


def legend(size: int, flow_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The colour wheel as a (size, size, 3) BGR picture and the (size, size, 1) bool mask of its disc:
    direction as hue, speed rising from black at the centre to ``flow_scale`` pixels per frame at the
    rim, with a thin gray ring around it."""
    cv2 = require_opencv()
    centre = (size - 1) / 2.0
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = x - centre, centre - y
    radius = max(centre - 1.5, 1.0)
    distance = np.sqrt(dx * dx + dy * dy)
    hsv = np.zeros((size, size, 3), np.uint8)
    hsv[..., 0] = np.round((np.degrees(np.arctan2(dy, dx)) % 360) / 2).astype(np.uint8) % 180
    hsv[..., 1] = 255
    still, gain = brightness(flow_scale)
    hsv[..., 2] = np.clip(np.round(gain * (flow_scale * distance / radius - still)), 0, 255).astype(np.uint8)
    wheel = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    inside = distance <= radius + 1.0
    wheel[distance > radius] = (160, 160, 160)  # the ring
    return wheel, inside[..., None]


def legend_size(height: int, width: int) -> int:
    """The legend's side for a frame: a fifth of its shorter side, at least 24 pixels (never beyond the frame)."""
    return min(max(24, min(height, width) // 5), height, width)
