"""The rig's layers: the strips a build stacks inside the rig around its source (partners, edges, amplify,
trails, glow, colour, overlay, layout), and the scene frames they cover."""

from __future__ import annotations

import bpy
import numpy as np

from ...core import rig_plan
from ...core.rig_plan import CURVE_RANGE
from ...core.settings import Settings
from ...core.timing import Span
from .. import align_keys
from ..compat import timing
from ..nodes import colour_group, glow_group, motion_group, overlay_group
from ..strips import (
    add_modifier,
    copy_animation,
    copy_strip,
    forget_cached_pictures,
    hold_animation,
    media_frame_count,
    media_size,
    media_span,
    set_curve_points,
    set_range,
    visible_span,
)
from .record import (
    AMPLIFY,
    BLEND,
    CHANNEL_PARTNER,
    CHANNELS,
    COLOUR,
    EDGE,
    FIRST_LOOK_CHANNEL,
    GLOW,
    LAYOUT,
    ORIGINAL,
    OVERLAY,
    PARTNER,
    ROLE_KEY,
    SOURCE_CHANNEL,
    TRAIL,
    TRAIL_CODE,
    TRAIL_SOURCE,
    RigError,
    nested_strips,
    record_build,
    tag,
)

COMBINED_CURVE = 3  # curve_mapping.curves: red, green, blue, then the combined curve


def partner_span(source: bpy.types.Strip, settings: Settings) -> Span:
    """Scene frames of the source's visible range that are combined with a partner. Frames held past the
    media's ends show its first or last frame, and are paired as that frame is."""
    media, visible = media_span(source), visible_span(source)
    paired = rig_plan.paired_span(settings, media)
    held = Span(visible.start if paired.start == media.start else paired.start,
                visible.end if paired.end == media.end else paired.end)
    return held.within(visible)


def shown_span(source: bpy.types.Strip, settings: Settings) -> Span:
    """Scene frames the rig shows: the source's, less those without a partner under ``edges=trim``."""
    return rig_plan.shown_span(settings, visible_span(source), partner_span(source, settings))


def prepare_helpers(scene: bpy.types.Scene, source: bpy.types.Strip, settings: Settings) -> tuple | None:
    """What building the helpers needs before the scene is touched, so that a refusal leaves no half-built
    rig: some frame with a partner, and the alignment's estimates (``None`` without alignment), made once
    for the partner and every trail copy. Raises :class:`RigError`."""
    if not partner_span(source, settings):
        raise RigError(f"offset {settings.offset} leaves no frame of '{source.name}' with a partner")
    if settings.align == "none":
        return None
    try:
        return align_keys.partner_keys(scene, source, settings)
    except align_keys.AlignKeysError as error:
        raise RigError(str(error)) from None


def build_helpers(
    scene: bpy.types.Scene, rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings,
    estimates: tuple | None, placed: Span | None = None,
) -> None:
    """The helpers around ``source`` for ``settings`` (``estimates``: :func:`prepare_helpers`'); the rig shows
    ``placed`` (by default, all it can show)."""
    visible = visible_span(source)
    paired = partner_span(source, settings)
    base = f"{source.name} "
    _build_motion(scene, rig.strips, source, settings, base, estimates)
    shown = shown_span(source, settings)
    staged = rig_plan.staged_span(settings, visible, paired)
    channel = FIRST_LOOK_CHANNEL
    if settings.trails > 0:
        channel = _build_trails(scene, rig, source, settings, base, channel, staged, estimates)
    if settings.glow > 0:
        glow = _adjustment(rig.strips, base + "Glow", channel, staged, GLOW)
        _compositor(scene, glow, "Glow", glow_group(settings, base + "Glow"))
        channel += 1
    if rig_plan.colours(settings):
        colour = _adjustment(rig.strips, base + "Colour", channel, staged, COLOUR)
        _compositor(scene, colour, "Colour", colour_group(settings, base + "Colour"))
        channel += 1
    if settings.overlay != "none":
        overlay = _adjustment(rig.strips, base + "Overlay", channel, staged, OVERLAY)
        modifier = _compositor(scene, overlay, "Overlay", overlay_group(settings, base + "Overlay"))
        modifier.input_mask_type = "STRIP"
        modifier.mask_time = "ABSOLUTE"
        modifier.input_mask_strip = source
        channel += 1
    if settings.layout != "motion":
        _build_layout(scene, rig, source, settings, base, channel, shown)
    placed = shown if placed is None else placed
    set_range(rig, placed.start, placed.end)
    record_build(rig, source, shown)
    forget_cached_pictures([rig, *nested_strips(rig)])


def _build_motion(
    scene: bpy.types.Scene, strips: bpy.types.bpy_prop_collection, source: bpy.types.Strip,
    settings: Settings, base: str, estimates: tuple | None = None,
) -> None:
    """The motion layer of ``source`` on channels 2-4 of ``strips`` (which holds ``source`` on channel 1);
    ``estimates``: the alignment's (``align_keys.partner_keys``), with ``settings.align``."""
    visible = visible_span(source)
    paired = partner_span(source, settings)
    if settings.align != "none":
        top = _aligned_partner(scene, strips, source, settings, base, estimates)
    elif settings.mode == "freeze":
        top = tag(copy_strip(scene, source, base + "Reference", CHANNELS[PARTNER], strips), PARTNER)
        _hold(top, settings.reference, visible)
        _hold_animation(source, top, settings.reference)
    elif settings.time_colour:
        top = _time_colour_partner(scene, strips, source, settings, base, paired)
    else:
        top = tag(copy_strip(scene, source, base + "Partner", CHANNELS[PARTNER], strips), PARTNER)
        _shift(top, source, settings.offset, hold=settings.edges == "hold")
    _apply_look(scene, top, settings, source)

    if settings.mode == "shift" and settings.edges == "gray":
        for gap in (Span(visible.start, paired.start), Span(paired.end, visible.end)):
            if gap:
                edge = strips.new_effect(
                    name=base + "Edge", type="COLOR", channel=CHANNELS[EDGE],
                    frame_start=gap.start, length=gap.end - gap.start,
                )
                tag(edge, EDGE).color = (settings.still_level / 255.0,) * 3
    if settings.amplify != 1.0:
        amplify = _adjustment(strips, base + "Amplify", CHANNELS[AMPLIFY], paired, AMPLIFY)
        _set_curve(add_modifier(scene, amplify, "Amplify", "CURVES"), rig_plan.amplify_points(settings))


def _shift(copy: bpy.types.Strip, source: bpy.types.Strip, lag: int, hold: bool) -> None:
    """Make ``copy`` show the source's media frame ``t - lag`` at the scene frame where the source shows ``t``."""
    copy_time, source_time = timing(copy), timing(source)
    copy_time.content_start = int(source_time.content_start) + lag
    copy_animation(source, copy, lag, skip=BLEND)  # the source's picture at t - lag, as it is animated then
    if hold:  # frames before the media hold its first frame (its last for negative lags)
        copy_time.left_handle_offset = source_time.left_handle_offset - lag
        copy_time.right_handle_offset = source_time.right_handle_offset + lag
    else:
        copy_time.left_handle_offset = max(source_time.left_handle_offset - lag, 0)
        copy_time.right_handle_offset = max(source_time.right_handle_offset + lag, 0)


def _hold_animation(source: bpy.types.Strip, copy: bpy.types.Strip, frame: int) -> None:
    """Give ``copy``, which holds media frame ``frame``, the source's animated values where it shows that frame."""
    hold_animation(source, copy, timing(source).content_start + frame, skip=BLEND)


def _hold(copy: bpy.types.Strip, frame: int, span: Span) -> None:
    """Make ``copy`` show its media frame ``frame`` at every scene frame of ``span``: the media is cut to
    that one frame and the strip's end handle drawn out, so Blender holds it. (Blender 5.2's SPEED strip
    in FRAME_NUMBER mode, blended over the source, shows frame K-1 where its input shows K itself.)"""
    time = timing(copy)
    time.content_trim_end += media_frame_count(copy) - 1 - frame
    time.content_trim_start += frame
    time.left_handle_offset = 0
    time.content_start = span.start
    time.right_handle_offset = 1 - (span.end - span.start)


def _aligned_partner(
    scene: bpy.types.Scene, strips: bpy.types.bpy_prop_collection, source: bpy.types.Strip,
    settings: Settings, base: str, estimates: tuple,
) -> bpy.types.MetaStrip:
    """A META of the partner, its transform keyed with the alignment (``estimates``) at every frame, over
    the current frame, which fills where the moved partner has no pixels (see ``align_keys``)."""
    visible = visible_span(source)
    shown = range(visible.start, visible.end)
    keys, failed = estimates
    meta = tag(strips.new_meta(name=base + "Partner", channel=CHANNELS[PARTNER], frame_start=visible.start), PARTNER)
    fill = tag(copy_strip(scene, source, base + "Fill", 1, meta.strips), CHANNEL_PARTNER)
    copy_animation(source, fill, 0, skip=BLEND)
    # The bottom of the META: REPLACE. Blender 5.2 left an ALPHA_OVER fill out of one frame of the handheld
    # test (as if the moved partner covered it), so the partner's uncovered border stayed transparent.
    fill.blend_type = "REPLACE"
    moved = tag(copy_strip(scene, source, base + "Partner Aligned", 2, meta.strips), CHANNEL_PARTNER)
    if settings.mode == "freeze":
        _hold(moved, settings.reference, visible)
        _hold_animation(source, moved, settings.reference)
    else:
        _shift(moved, source, settings.offset, hold=True)  # the META's range cuts what edges leave out
    moved.blend_type = "ALPHA_OVER"
    moved.blend_alpha = 1.0
    align_keys.key_partner(moved, keys, shown)
    meta[align_keys.FAILED_KEY] = [frame for frame in failed if frame in shown]
    paired = partner_span(source, settings)  # edges other than hold: the frames without a partner stay out
    set_range(meta, paired.start, paired.end)
    return meta


def _time_colour_partner(
    scene: bpy.types.Scene, strips: bpy.types.bpy_prop_collection, source: bpy.types.Strip,
    settings: Settings, base: str, span: Span,
) -> bpy.types.MetaStrip:
    """A META whose red, green and blue come from copies of the source at each channel's own lag."""
    meta = tag(strips.new_meta(name=base + "Partner", channel=CHANNELS[PARTNER], frame_start=span.start), PARTNER)
    lags_rgb = tuple(reversed(settings.channel_lags))  # channel_lags is in OpenCV's B, G, R order
    for index, lag in enumerate(settings.partner_lags):
        copy = tag(copy_strip(scene, source, f"{base}Partner {lag:+d}", index + 1, meta.strips), CHANNEL_PARTNER)
        _shift(copy, source, lag, hold=True)  # the META's range cuts what edges leave out
        keep = add_modifier(scene, copy, "Channels", "CURVES")
        for channel, channel_lag in enumerate(lags_rgb):
            _set_curve(keep, [(0.0, 0.0), (1.0, 1.0 if channel_lag == lag else 0.0)], curve=channel)
        copy.blend_type = "LIGHTEN" if index else "ALPHA_OVER"
        copy.blend_alpha = 1.0
    set_range(meta, span.start, span.end)
    return meta


def _apply_look(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings, source: bpy.types.Strip) -> None:
    if rig_plan.composites_look(settings):
        modifier = _compositor(scene, strip, "Motion", motion_group(settings, strip.name + " Motion"))
        modifier.input_mask_type = "STRIP"
        modifier.mask_time = "ABSOLUTE"
        modifier.input_mask_strip = source
        strip.blend_type = "ALPHA_OVER"
        strip.blend_alpha = 1.0
        return
    if settings.look == "difference":
        strip.blend_type = "DIFFERENCE"
        strip.blend_alpha = 1.0
        return
    _set_curve(add_modifier(scene, strip, "Invert", "CURVES"), [(0.0, 1.0), (1.0, 0.0)])
    if settings.look == "gray":
        strip.blend_type = "ALPHA_OVER"
        strip.blend_alpha = settings.mix
    else:
        strip.blend_type = "LINEAR_BURN"
        strip.blend_alpha = 1.0


def _adjustment(strips: bpy.types.bpy_prop_collection, name: str, channel: int, span: Span,
                role: str) -> bpy.types.Strip:
    strip = strips.new_effect(name=name, type="ADJUSTMENT", channel=channel,
                              frame_start=span.start, length=span.end - span.start)
    return tag(strip, role)


def _set_curve(modifier: bpy.types.StripModifier, points: list[tuple[float, float]],
               curve: int = COMBINED_CURVE) -> None:
    mapping = modifier.curve_mapping
    mapping.use_clip = True
    mapping.clip_min_x, mapping.clip_max_x = 0.0, CURVE_RANGE
    mapping.clip_min_y, mapping.clip_max_y = 0.0, 1.0
    set_curve_points(mapping.curves[curve], points, handle="VECTOR")
    mapping.update()



# --- trails -------------------------------------------------------------------------------------


def _build_trails(
    scene: bpy.types.Scene, rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings,
    base: str, channel: int, staged: Span, estimates: tuple | None,
) -> int:
    """Trail METAs above the motion, and the code/decode curves around them; return the next free channel."""
    copies = rig_plan.trail_copies(settings, media_frame_count(source))
    code = rig_plan.trail_code(settings)
    coded = settings.still_level != 0
    if coded:
        encode = _adjustment(rig.strips, base + "Trails Encode", channel, staged, TRAIL_CODE)
        _set_curve(add_modifier(scene, encode, "Encode", "CURVES"), rig_plan.table_points(code))
        channel += 1
    for lag, table in enumerate(rig_plan.trail_tables(settings, copies), start=1):
        span = rig_plan.paired_span(settings, media_span(source)).shifted(lag).within(staged)
        if not span:
            break
        trail = _trail_copy(scene, rig, source, settings, base, channel, lag, estimates)
        set_range(trail, span.start, span.end)
        _set_curve(add_modifier(scene, trail, "Decay", "CURVES"), rig_plan.table_points(table))
        trail.blend_type = "LIGHTEN"
        trail.blend_alpha = 1.0
        channel += 1
    if coded:
        decode = _adjustment(rig.strips, base + "Trails Decode", channel, staged, TRAIL_CODE)
        _set_curve(add_modifier(scene, decode, "Decode", "CURVES"), rig_plan.table_points(np.argsort(code)))
        channel += 1
    return channel


def _trail_copy(
    scene: bpy.types.Scene, rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings,
    base: str, channel: int, lag: int, estimates: tuple | None,
) -> bpy.types.MetaStrip:
    """A META with the motion of the whole (untrimmed) media, ``lag`` frames later."""
    media = media_span(source)
    meta = tag(rig.strips.new_meta(name=f"{base}Trail {lag}", channel=channel, frame_start=media.start), TRAIL)
    copy = tag(copy_strip(scene, source, f"{base}Trail {lag} Source", SOURCE_CHANNEL, meta.strips), TRAIL_SOURCE)
    copy_time = timing(copy)
    copy_time.left_handle_offset = copy_time.right_handle_offset = 0
    copy.blend_type, copy.blend_alpha = "ALPHA_OVER", 1.0
    copy_animation(source, copy, 0, skip=BLEND)
    _build_motion(scene, meta.strips, copy, settings, f"{base}Trail {lag} ", estimates)
    set_range(meta, media.start, media.end)
    timing(meta).content_start += lag  # moves the content with it, and the keys animating it
    return meta



# --- compositor modifiers (their node groups: .nodes) ----------------------------------------------


def _compositor(scene: bpy.types.Scene, strip: bpy.types.Strip, name: str,
                group: bpy.types.NodeGroup) -> bpy.types.StripModifier:
    group[ROLE_KEY] = strip[ROLE_KEY]
    modifier = add_modifier(scene, strip, name, "COMPOSITOR")
    modifier.node_group = group
    return modifier



# --- layout ---------------------------------------------------------------------------------------


def _build_layout(
    scene: bpy.types.Scene, rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings,
    base: str, channel: int, span: Span,
) -> None:
    """Move everything below to the right (lower) half and put a copy of the source in the other half."""
    width, height = media_size(source)
    shown_width, shown_height = width * source.transform.scale_x, height * source.transform.scale_y
    if settings.layout == "side":
        motion_offset, original_offset = (shown_width / 2.0, 0.0), (-shown_width / 2.0, 0.0)
    else:  # stacked: the original on top (the sequencer's y axis points up)
        motion_offset, original_offset = (0.0, -shown_height / 2.0), (0.0, shown_height / 2.0)
    layout = _adjustment(rig.strips, base + "Layout", channel, span, LAYOUT)
    layout.transform.offset_x, layout.transform.offset_y = motion_offset
    original = tag(copy_strip(scene, source, base + "Original", channel + 1, rig.strips), ORIGINAL)
    copy_animation(source, original, 0, skip=BLEND)
    original.transform.offset_x += original_offset[0]
    original.transform.offset_y += original_offset[1]
    original.blend_type, original.blend_alpha = "ALPHA_OVER", 1.0

