"""The motion rig: native sequencer strips that render what the exact engine computes.

Extract Motion wraps the artist's strip (the *source*, a movie or image sequence) in a META
strip together with the helpers below, so the rig moves as one and stays editable by hand::

    channel 5  ADJUSTMENT "Amplify"   CURVES modifier: the amplify line around the still level
    channel 4  COLOR      "Edge"      edges=gray: the flat still level where no partner exists
    channel 3  SPEED      "Freeze"    freeze mode: shows the partner's frame K at every frame
    channel 2  partner                a copy of the source (same media, settings and modifiers)
    channel 1  source                 the artist's strip, untouched

The look is set on the top partner strip (the copy, or the SPEED strip in freeze mode):

- ``gray``: CURVES modifier inverting it, blend ALPHA_OVER at ``mix``;
- ``difference``: blend DIFFERENCE;
- ``subtract``: inverted as for gray, blend LINEAR_BURN (``A + (255 - B) - 255``, clipped).
  The SUBTRACT blend is not used: on byte images it computes ``A - (B * 255 >> 8)``, one level off.

Frames are counted in the source's *media*: shift mode shows media frame ``t - N`` as the partner
of media frame ``t`` (trimmed-away media still serves as a partner) and the reference frame K of
freeze mode is media frame K. On an untrimmed strip this is exactly the exact engine's clip.
Where the partner falls outside the media, the ``edges`` policy applies (see ``core.timing``).

The rig's META strip carries a record (an ID property) with the settings it was built with and
what Remove needs to give the source back. Helpers are tagged with their role, so the rig can be
rebuilt in place (:func:`update_rig`) and removed (:func:`remove_rig`) even after hand edits.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy

from ..core.settings import Settings, SettingsError
from .strips import copy_strip, media_frame_count, sequencer_scene, set_curve_points

RIG_KEY = "motion_extraction_rig"
ROLE_KEY = "motion_extraction_role"
RECORD_VERSION = 1
SOURCE_TYPES = ("MOVIE", "IMAGE")
MAX_CHANNEL = 128

PARTNER, FREEZE, EDGE, AMPLIFY = "partner", "freeze", "edge", "amplify"
CHANNELS = {PARTNER: 2, FREEZE: 3, EDGE: 4, AMPLIFY: 5}
SOURCE_CHANNEL = 1

# Curves evaluate through a 257-entry table spanning the clip range; with the range 256/255
# wide, table entries fall exactly on the 8-bit levels. The tiny lift makes values that are
# exactly x.5 round up as ``round_half_up`` does, not down through float error.
CURVE_RANGE = 256.0 / 255.0
ROUNDING_LIFT = 0.002  # in 8-bit levels


class RigError(Exception):
    """The rig cannot be built, updated or removed; the message says why, in one line."""


@dataclass(frozen=True)
class Span:
    """A half-open range of scene frames."""

    start: int
    end: int

    def __bool__(self) -> bool:
        return self.end > self.start


# --- finding rigs ---------------------------------------------------------------------------


def is_rig(strip: bpy.types.Strip | None) -> bool:
    return strip is not None and strip.type == "META" and RIG_KEY in strip


def rig_of(strip: bpy.types.Strip | None) -> bpy.types.MetaStrip | None:
    """The rig ``strip`` is, or belongs to; ``None`` for any other strip."""
    if strip is None:
        return None
    if is_rig(strip):
        return strip
    parent = strip.parent_meta()
    return parent if is_rig(parent) else None


def rig_source(rig: bpy.types.MetaStrip) -> bpy.types.Strip:
    """The artist's strip inside the rig: the one without a role."""
    for strip in rig.strips:
        if ROLE_KEY not in strip:
            return strip
    raise RigError(f"rig '{rig.name}' has lost its source strip")


def rig_settings(rig: bpy.types.MetaStrip) -> Settings:
    """The settings the rig was last built with."""
    return Settings.from_mapping(dict(rig[RIG_KEY]["settings"]))


def source_problem(strip: bpy.types.Strip | None) -> str | None:
    """Why ``strip`` cannot be the source of a new rig, or ``None`` when it can."""
    if strip is None:
        return "No active strip"
    if strip.type not in SOURCE_TYPES:
        return f"'{strip.name}' is a {strip.type.lower()} strip, not a movie or image strip"
    return None


# --- building ---------------------------------------------------------------------------------


def build_rig(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings) -> bpy.types.MetaStrip:
    """Wrap the movie or image strip ``strip`` in a new rig made for ``settings``; return the rig."""
    problem = source_problem(strip)
    if problem:
        raise RigError(problem)
    if rig_of(strip) is not None:
        raise RigError(f"'{strip.name}' is already part of the rig '{rig_of(strip).name}'")
    _check_settings(strip, settings)
    parent = strip.parent_meta()
    strips = parent.strips if parent is not None else scene.sequence_editor.strips
    channel = strip.channel
    spare = _spare_channel(strips)
    rig = strips.new_meta(name=f"{strip.name} Motion", channel=spare, frame_start=strip.frame_final_start)
    strip.move_to_meta(rig)
    strip.channel = SOURCE_CHANNEL
    rig[RIG_KEY] = {"version": RECORD_VERSION, "settings": settings.to_dict()}
    _build_helpers(scene, rig, strip, settings)
    rig.channel = channel
    _make_active(scene, rig)
    return rig


def update_rig(scene: bpy.types.Scene, rig: bpy.types.MetaStrip, settings: Settings) -> bpy.types.MetaStrip:
    """Rebuild the rig's helpers for new ``settings``, in place (the rig keeps its place and name)."""
    if not is_rig(rig):
        raise RigError(f"'{rig.name}' is not a motion rig")
    source = rig_source(rig)
    _check_settings(source, settings)
    _remove_helpers(rig)
    record = rig[RIG_KEY]
    record["settings"] = settings.to_dict()
    _build_helpers(scene, rig, source, settings)
    return rig


def remove_rig(scene: bpy.types.Scene, rig: bpy.types.MetaStrip) -> bpy.types.Strip:
    """Delete the rig and put its source strip back where the rig is; return the source."""
    if not is_rig(rig):
        raise RigError(f"'{rig.name}' is not a motion rig")
    source = rig_source(rig)
    channel = rig.channel
    _remove_helpers(rig)
    source.channel = channel
    rig.separate()
    source.channel = channel  # separating may have shuffled it clear of the rig it came from
    _make_active(scene, source)
    return source


def _check_settings(source: bpy.types.Strip, settings: Settings) -> None:
    try:
        settings.validate_for_clip(media_frame_count(source))
    except SettingsError as error:
        raise RigError(f"'{source.name}': {error}") from None


def _spare_channel(strips: bpy.types.bpy_prop_collection) -> int:
    used = max((strip.channel for strip in strips), default=0)
    if used >= MAX_CHANNEL:
        raise RigError("no free channel left for the rig")
    return used + 1


def _make_active(scene: bpy.types.Scene, strip: bpy.types.Strip) -> None:
    for other in scene.sequence_editor.strips_all:
        other.select = False
    strip.select = True
    scene.sequence_editor.active_strip = strip


def _remove_helpers(rig: bpy.types.MetaStrip) -> None:
    # Effect strips first: removing an input also removes the effects that use it.
    helpers = [strip for strip in rig.strips if ROLE_KEY in strip]
    helpers.sort(key=lambda strip: strip.type in SOURCE_TYPES)
    for strip in helpers:
        if strip.name in rig.strips:
            rig.strips.remove(strip)


def _tag(strip: bpy.types.Strip, role: str) -> bpy.types.Strip:
    strip[ROLE_KEY] = role
    return strip


def partner_span(source: bpy.types.Strip, settings: Settings) -> Span:
    """Scene frames of the source's visible range that are combined with a partner."""
    visible = Span(source.frame_final_start, source.frame_final_end)
    if settings.mode == "freeze" or settings.edges == "hold":  # hold gives every frame a partner
        return visible
    first = int(source.frame_start) + settings.offset  # where media frame 0 is the partner
    return Span(max(visible.start, first), min(visible.end, first + media_frame_count(source)))


def _build_helpers(
    scene: bpy.types.Scene, rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings
) -> None:
    visible = Span(source.frame_final_start, source.frame_final_end)
    paired = partner_span(source, settings)
    if not paired:
        raise RigError(f"offset {settings.offset} leaves no frame of '{source.name}' with a partner")
    base = f"{source.name} "
    if settings.mode == "freeze":
        partner = _tag(copy_strip(scene, source, base + "Reference", CHANNELS[PARTNER], rig.strips), PARTNER)
        partner.frame_offset_start = 0
        partner.frame_offset_end = 0
        top = rig.strips.new_effect(
            name=base + "Freeze", type="SPEED", channel=CHANNELS[FREEZE],
            frame_start=int(partner.frame_start), input1=partner,
        )
        _tag(top, FREEZE)
        top.speed_control = "FRAME_NUMBER"
        top.speed_frame_number = settings.reference
    else:
        top = _tag(copy_strip(scene, source, base + "Partner", CHANNELS[PARTNER], rig.strips), PARTNER)
        offset = settings.offset
        top.frame_start = int(source.frame_start) + offset
        if settings.edges == "hold":  # negative offsets hold the first / last media frame
            top.frame_offset_start = source.frame_offset_start - offset
            top.frame_offset_end = source.frame_offset_end + offset
        else:
            top.frame_offset_start = max(source.frame_offset_start - offset, 0)
            top.frame_offset_end = max(source.frame_offset_end + offset, 0)
    _apply_look(scene, top, settings)

    if settings.mode == "shift" and settings.edges == "gray":
        for gap in (Span(visible.start, paired.start), Span(paired.end, visible.end)):
            if gap:
                edge = rig.strips.new_effect(
                    name=base + "Edge", type="COLOR", channel=CHANNELS[EDGE],
                    frame_start=gap.start, length=gap.end - gap.start,
                )
                _tag(edge, EDGE).color = (settings.still_level / 255.0,) * 3
    if settings.amplify != 1.0:
        amplify = rig.strips.new_effect(
            name=base + "Amplify", type="ADJUSTMENT", channel=CHANNELS[AMPLIFY],
            frame_start=paired.start, length=paired.end - paired.start,
        )
        _tag(amplify, AMPLIFY)
        with sequencer_scene(scene):
            modifier = amplify.modifiers.new(name="Amplify", type="CURVES")
        _set_curve(modifier, amplify_points(settings))

    shown = paired if (settings.mode == "shift" and settings.edges == "trim") else visible
    _set_range(rig, shown)


def _apply_look(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings) -> None:
    if settings.look == "difference":
        strip.blend_type = "DIFFERENCE"
        strip.blend_alpha = 1.0
        return
    with sequencer_scene(scene):
        modifier = strip.modifiers.new(name="Invert", type="CURVES")
    _set_curve(modifier, [(0.0, 1.0), (1.0, 0.0)])
    if settings.look == "gray":
        strip.blend_type = "ALPHA_OVER"
        strip.blend_alpha = settings.mix
    else:
        strip.blend_type = "LINEAR_BURN"
        strip.blend_alpha = 1.0


def _set_curve(modifier: bpy.types.StripModifier, points: list[tuple[float, float]]) -> None:
    mapping = modifier.curve_mapping
    mapping.use_clip = True
    mapping.clip_min_x, mapping.clip_max_x = 0.0, CURVE_RANGE
    mapping.clip_min_y, mapping.clip_max_y = 0.0, 1.0
    set_curve_points(mapping.curves[3], points, handle="VECTOR")  # curves[3]: the combined curve
    mapping.update()


def amplify_points(settings: Settings) -> list[tuple[float, float]]:
    """Points (normalized) of the curve ``clip(P + amplify * (x - P))`` around the still level P."""
    gain = settings.amplify
    pivot = float(settings.still_level)

    def line(x: float) -> float:
        return pivot + gain * (x - pivot) + ROUNDING_LIFT

    xs = [0.0, 255.0]
    if gain > 1.0:  # the line leaves [0, 255]: add the corners where it is clipped
        low = pivot - (pivot + ROUNDING_LIFT) / gain
        high = pivot + (255.0 - pivot - ROUNDING_LIFT) / gain
        xs = [0.0] + ([low] if low > 0.0 else []) + [high, 255.0]
    return [(x / 255.0, min(max(line(x), 0.0), 255.0) / 255.0) for x in xs]


def _set_range(rig: bpy.types.MetaStrip, span: Span) -> None:
    # A new META strip does not grow to fit what moves into it: set its visible range.
    if span.end <= rig.frame_final_start:
        rig.frame_final_start = span.start
        rig.frame_final_end = span.end
    else:
        rig.frame_final_end = span.end
        rig.frame_final_start = span.start
