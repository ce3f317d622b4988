"""The whole look of one output frame, stage by stage, on top of the pixel contract of ``pixels``.

For the current frame A (t), its partners and the options, every output frame goes through:

0. **pre-blur** (``pre_blur = r > 0``): A and its partners are compared as ``blur(A)``, ``blur(B)``,
   the 8-bit Gaussian of sigma r of :mod:`.blur` (each input frame is blurred once while it is
   still needed). The matte look reveals the unblurred A; overlay and layout show it too.
1. **motion**: ``pixels`` combine + amplify; with time colour, each channel is combined with the
   partner at its own lag. Edge frames get the still level (``gray``) or skip every stage (``source``).
   The flow look draws the optical flow instead (:mod:`.flow`; its legend goes on after stage 5).
   The measures (:mod:`.measures`) read the motion here, before the finishing stages.
2. **trails** (``trails = d > 0``): per channel the signed deviation ``D = u - P`` (P the still level)
   is kept in a state ``S``: ``S = D`` where ``|D| >= q(|S|)``, else ``sign(S) * q(|S|)`` with
   ``q(m) = floor(m * d)`` in float64. Then ``v = clip(P + S)``. Because ``q`` reaches 0 from 255
   within a known number of steps (:func:`.timing.trail_length`), a frame's trails depend only on that many
   frames before it, which keeps chunked renders byte-identical.
3. **glow** (``glow = g > 0``): ``E = max(|v - P| - threshold, 0)``, its halo ``H``, the Gaussian of
   sigma ``glow_radius`` of :mod:`.blur` with 8 fraction bits (whole numbers in 256ths of a level;
   edge pixels repeated at the borders, as Blender's blur does), then
   ``w = clip(v + round_half_up(g * H / 256))``.
4. **colour** (``tint`` on, ``saturation != 1``): the tint, then the saturation of :mod:`.colour`.
5. **overlay** with the untouched frame S at strength s: ``multiply``: ``X = S * (128 + w - P) / 128``;
   ``screen``: ``X = 255 - (255 - S) * (255 - L) / 255`` with ``L = min(255, k * |w - P|)``, k = 2
   for gray and 1 otherwise; then ``clip(round_half_up(S + s * (X - S)))``.
6. **layout**: the result alone, or the untouched frame beside (``side``) or above (``stacked``) it.

Stage 5 computes in float32; stages 0, 3 and 4 in whole numbers (OpenCV's fixed-point paths where
they give the definition's every value, numpy's otherwise), so a blur costs what an integer blur costs.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .blur import Blur
from .colour import ColourStage
from .flow import FlowLook, legend, legend_size
from .measures import Measure
from .pixels import Combiner, _opencv, apply_table, round_half_up
from .plan import ResolvedPlan
from .settings import Settings
from .timing import SOURCE, STILL, trail_decay

PRE_BLUR_CACHE_BYTES = 256 << 20  # pre-blurred frames kept for reuse as partners


def trail_decay_table(decay: float) -> np.ndarray:
    """``q(m) = floor(m * decay)`` for m in 0..255 (:func:`.timing.trail_decay`), as int16."""
    return np.array(trail_decay(decay), dtype=np.int16)


def glow_tables(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Stage 3 as two uint8 tables: the excess ``E`` of every level v, and
    ``min(round_half_up(g * H / 256), 255)`` of every 16-bit halo H (the sum with v saturates
    at 255 either way)."""
    levels = np.arange(256, dtype=np.float64)
    excess = np.maximum(np.abs(levels - settings.still_level) - settings.glow_threshold, 0)
    halo = np.arange(1 << 16, dtype=np.float64)
    gain = np.minimum(round_half_up(settings.glow * halo / 256), 255)
    return excess.astype(np.uint8), gain.astype(np.uint8)


_glow_gains: dict[float, object] = {}


def _glow_gain_path(glow: float, gain: np.ndarray):
    """An OpenCV function taking a 16-bit halo H to ``gain[H]`` (uint8), checked on every H contiguous and
    strided, or None."""
    if glow not in _glow_gains:
        cv2 = _opencv()
        function = None
        if cv2 is not None:
            halo = np.arange(1 << 16, dtype=np.uint16).reshape(256, 256)
            for nudge in (0.0, 1e-3):  # a little above, for ties that float rounding puts just below .5

                def candidate(h, nudge=nudge):
                    return cv2.convertScaleAbs(h, alpha=glow / 256, beta=nudge)

                if np.array_equal(candidate(halo), gain[halo]) and np.array_equal(
                    candidate(halo[:, ::3]), gain[halo[:, ::3]]
                ):
                    function = candidate
                    break
        _glow_gains[glow] = function
    return _glow_gains[glow]


class MotionEffect:
    """Renders output frames for one resolved plan (:func:`.plan.resolve`: settings and an input frame shape).

    Call :meth:`render` for consecutive output frames: trails carry state from one frame to
    the next (:attr:`warmup` frames before a chunk's first frame rebuild it exactly).
    The returned array is reused by the next call.
    """

    def __init__(self, plan: ResolvedPlan) -> None:
        self.plan = plan
        self.settings = settings = plan.settings
        self.shape = plan.input_shape
        height, width = self.shape[:2]
        self.pivot = plan.still_level
        self.still_value = plan.still_value
        self._flow = FlowLook(plan) if settings.look == "flow" else None
        self._combiner = self._flow or Combiner(settings, self.shape)
        self._legend = (legend(legend_size(height, width), settings.flow_scale)
                        if settings.flow_legend and self._flow is not None else None)
        self._pre_blur = Blur(settings.pre_blur) if settings.pre_blur > 0 else None
        self._blurred: OrderedDict[int, np.ndarray] = OrderedDict()  # input frame index -> pre-blurred frame
        frame_bytes = max(int(np.prod(self.shape)), 1)
        reuse = plan.reach + 1 if settings.mode == "shift" else 2
        self._blurred_limit = max(2, min(reuse, PRE_BLUR_CACHE_BYTES // frame_bytes)) + len(plan.partner_lags)
        if settings.glow > 0:
            self._glow_blur = Blur(settings.glow_radius, fraction_bits=8)
            self._glow_excess, self._glow_gain = glow_tables(settings)
            self._glow_gain_path = _glow_gain_path(settings.glow, self._glow_gain)
        colour = ColourStage(settings, self.shape)
        self._colour = colour if colour.active else None
        lags = plan.partner_lags
        # Time colour: which partner each channel uses, and a frame assembled from those channels.
        self._channel_partner = [lags.index(lag) for lag in plan.channel_lags] if settings.time_colour else None
        self._assembled = np.empty(self.shape, dtype=np.uint8) if settings.time_colour else None
        self._motion = np.empty(self.shape, dtype=np.uint8)
        if settings.trails > 0:
            # The trail state S as its magnitude and a 0/255 mask of where it lies below the still
            # level, in 8-bit buffers (|S| <= 255), with scratch space: no per-frame allocation.
            self._trail_table = trail_decay_table(settings.trails).astype(np.uint8)
            self._trail_magnitude = np.zeros(self.shape, dtype=np.uint8)
            self._trail_below = np.zeros(self.shape, dtype=np.uint8)
            self._trail_pivot = np.full(self.shape, self.pivot, dtype=np.uint8)
            self._trail_scratch = tuple(np.empty(self.shape, np.uint8) for _ in range(3))
            self._trail_flags = np.empty(self.shape, dtype=bool)
        else:
            self._trail_table = None
        self.warmup = plan.warmup
        self.output_shape = plan.output_shape
        self._output = np.empty(self.output_shape, dtype=np.uint8) if settings.layout != "motion" else None

    def render(self, current: np.ndarray, partners: tuple[np.ndarray, ...] | None, fill: str,
               frames: tuple[int, ...] | None = None, measure: Measure | None = None) -> np.ndarray:
        """The output frame for ``current`` and its partner frames (``None`` for edge frames).

        ``frames`` are the input frame numbers of ``current`` and its partners, when the caller
        knows them: pre-blur then blurs each input frame once and reuses it as a partner, and the
        flow look knows how many frames apart they are. ``measure`` (see :mod:`.measures`) is
        called with the motion frame after combine and amplify, before the finishing stages.
        """
        if fill == SOURCE:
            if measure is not None:
                measure(None, None)
            self._advance_trails(None)
            return self._lay_out(current, current)
        motion = self._motion
        if fill == STILL:
            motion.fill(self.still_value)
        else:
            compared, partners = self._pre_blurred(current, partners, frames)
            if self._assembled is not None:
                # The pixel contract works channel by channel, so one partner frame built from
                # each channel's own partner gives the time-colour motion in a single pass.
                for channel, partner_index in enumerate(self._channel_partner):
                    self._assembled[..., channel] = partners[partner_index][..., channel]
                self._combiner.combine(compared, self._assembled, motion, source=current)
            elif self._flow is not None:
                self._flow.combine(compared, partners[0], motion, frames_apart=None if frames is None
                                   else frames[0] - frames[1])
            else:
                self._combiner.combine(compared, partners[0], motion, source=current)
        if measure is not None:
            measure(motion, self._flow.field if self._flow is not None and fill != STILL else None)
        result = self._advance_trails(motion)
        if self.settings.glow > 0:
            result = self._glow(result)
        if self._colour is not None:
            result = self._colour(result)
        if self.settings.overlay != "none":
            result = self._overlay(result, current)
        if self._legend is not None:
            result = self._draw_legend(result)
        return self._lay_out(current, result)

    def _draw_legend(self, result: np.ndarray) -> np.ndarray:
        """The flow legend in the bottom-right corner (written into the frame the stages return)."""
        wheel, disc = self._legend
        size = wheel.shape[0]
        np.copyto(result[-size:, -size:], wheel, where=disc)
        return result

    def _advance_trails(self, motion: np.ndarray | None) -> np.ndarray | None:
        """Stage 2 (trails) in place on ``motion``; ``None`` (no motion) only lets the trails fade.

        Per pixel the new state is the larger of ``|D|`` and ``q(|S|)`` (``D`` winning ties), with
        the winner's side of the still level; selections use 0/255 masks, which numpy handles in
        a fraction of the time of ``where``-style copies.
        """
        if self._trail_table is None:
            return motion
        magnitude, below, pivot = self._trail_magnitude, self._trail_below, self._trail_pivot
        apply_table(magnitude, self._trail_table)  # q(|S|); the side stays
        if motion is None:
            return None
        deviation, spare, mask = self._trail_scratch
        np.maximum(motion, pivot, out=deviation)
        np.minimum(motion, pivot, out=spare)
        np.subtract(deviation, spare, out=deviation)  # |D|
        _as_mask(np.greater_equal(deviation, magnitude, out=self._trail_flags), mask)  # D wins
        np.maximum(magnitude, deviation, out=magnitude)
        _as_mask(np.less(motion, pivot, out=self._trail_flags), spare)  # D below the still level
        _select_into(below, spare, mask)
        # v = clip(P + S): P + |S| above the still level, P - |S| below it.
        np.minimum(magnitude, 255 - int(self.pivot), out=motion)
        np.add(motion, pivot, out=motion)
        np.minimum(magnitude, pivot, out=spare)
        np.subtract(pivot, spare, out=spare)
        _select_into(motion, spare, below)
        return motion

    def _pre_blurred(self, current: np.ndarray, partners: tuple[np.ndarray, ...],
                     frames: tuple[int, ...] | None) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Stage 0: the frames to compare, blurred (each input frame once, while it may come back as a partner)."""
        if self._pre_blur is None:
            return current, partners
        if frames is None or self.settings.align != "none":  # aligned partners are made for one frame only
            return self._pre_blur(current), tuple(self._pre_blur(partner) for partner in partners)
        blurred = []
        for index, frame in zip(frames, (current, *partners), strict=True):
            found = self._blurred.get(index)
            if found is None:
                found = self._blurred[index] = self._pre_blur(frame)
            else:
                self._blurred.move_to_end(index)
            blurred.append(found)
        while len(self._blurred) > self._blurred_limit:  # the least recently used go
            self._blurred.popitem(last=False)
        return blurred[0], tuple(blurred[1:])

    def _glow(self, motion: np.ndarray) -> np.ndarray:
        cv2 = _opencv()
        if cv2 is not None:  # |v - P| - threshold, saturating at 0: whole numbers, as the table
            excess = cv2.absdiff(motion, (self.pivot,) * 3)
            cv2.subtract(excess, (self.settings.glow_threshold,) * 3, dst=excess)
        else:
            excess = np.take(self._glow_excess, motion)
        halo = self._glow_blur(excess)  # in 256ths of a level
        gain = self._glow_gain_path(halo) if self._glow_gain_path is not None else np.take(self._glow_gain, halo)
        _add_saturating(motion, gain)
        return motion

    def _overlay(self, motion: np.ndarray, source: np.ndarray) -> np.ndarray:
        settings = self.settings
        original = source.astype(np.float32)
        deviation = motion.astype(np.float32) - self.pivot
        if settings.overlay == "multiply":
            blended = original * (128.0 + deviation) / 128.0
        else:
            gain = 2.0 if settings.look == "gray" else 1.0
            light = np.minimum(255.0, gain * np.abs(deviation))
            blended = 255.0 - (255.0 - original) * (255.0 - light) / 255.0
        result = original + np.float32(settings.overlay_strength) * (blended - original)
        return _to_uint8(result, motion)

    def _lay_out(self, source: np.ndarray, result: np.ndarray) -> np.ndarray:
        if self._output is None:
            return result
        height, width = self.shape[:2]
        if self.settings.layout == "side":
            self._output[:, :width] = source
            self._output[:, width:] = result
        else:
            self._output[:height] = source
            self._output[height:] = result
        return self._output


def _add_saturating(target: np.ndarray, values: np.ndarray) -> None:
    """``target = min(target + values, 255)`` in place on uint8 arrays (``values`` is used up without OpenCV)."""
    cv2 = _opencv()
    if cv2 is not None and target.flags.c_contiguous:
        cv2.add(target, values, dst=target)
    else:
        np.minimum(values, 255 - target, out=values)
        np.add(target, values, out=target)


def _as_mask(flags: np.ndarray, out: np.ndarray) -> np.ndarray:
    """A bool array as 0/255 bytes."""
    np.negative(flags.view(np.uint8), out=out)
    return out


def _select_into(target: np.ndarray, source: np.ndarray, mask: np.ndarray) -> None:
    """``target = source`` where the 0/255 ``mask`` is set, in place; ``source`` is used up."""
    np.bitwise_xor(source, target, out=source)
    np.bitwise_and(source, mask, out=source)
    np.bitwise_xor(target, source, out=target)


def _to_uint8(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``clip(floor(values + 0.5), 0, 255)`` into the uint8 array ``out``."""
    values += 0.5
    np.floor(values, out=values)
    np.clip(values, 0, 255, out=values)
    out[...] = values
    return out
