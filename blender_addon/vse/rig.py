"""The motion rig: native sequencer strips that render what the exact engine computes.

Extract Motion wraps the artist's strip (the *source*, a movie or image sequence) in a META
strip together with the helpers below, so the rig moves as one and stays editable by hand.
Channels inside the rig, bottom up (the later ones only when their option is on)::

    1       source                  the artist's strip, untouched
    2       partner                 a copy of the source (same media, settings and modifiers), or with
                                    time colour a META of one copy per channel lag ("Partner"); in
                                    freeze mode a copy holding media frame K over the whole strip ("Reference")
    3       COLOR      "Edge"       edges=gray: the flat still level where no partner exists
    4       ADJUSTMENT "Amplify"    CURVES modifier: the amplify line around the still level
    5...    trails                  "Trails Encode" (gray look), one META per trail frame, "Trails Decode"
    next    ADJUSTMENT "Glow"       COMPOSITOR modifier: threshold, Gaussian blur, add back
    next    ADJUSTMENT "Colour"     COMPOSITOR modifier: tint, then saturation
    next    ADJUSTMENT "Overlay"    COMPOSITOR modifier with the source as its mask: multiply or screen
    next    ADJUSTMENT "Layout"     side/stacked: moves the motion to the right (or lower) half ...
    next    copy       "Original"   ... and a copy of the source fills the other half

**Motion** (channels 1-4). The look is set on the partner strip (the copy or the Partner META):

- ``gray``: CURVES modifier inverting it, blend ALPHA_OVER at ``mix``;
- ``difference``: blend DIFFERENCE;
- ``subtract``: inverted as for gray, blend LINEAR_BURN (``A + (255 - B) - 255``, clipped).
  The SUBTRACT blend is not used: on byte images it computes ``A - (B * 255 >> 8)``, one level off.
- ``matte``, and any look with **pre-blur**: no blend can do them, so a COMPOSITOR modifier on the
  partner ("Motion", with the source as its mask) computes the look from both frames in float, and
  the partner covers the source (ALPHA_OVER at 1). Pre-blur there is Blender's Gaussian, not the
  engine's 8-bit one: the rig marks it approximate (``core.rig_plan.approximations``).

**Seconds.** Times given in seconds become frames with the source's own rate (a movie's, else the
scene's) by ``Settings.in_frames``, the rule every renderer uses; the rig records the settings as
given, so a rig in seconds keeps them in seconds.

With **time colour** the Partner META holds one copy per distinct channel lag; a CURVES modifier on
each keeps only the channels with that lag (the others go to 0) and they are combined with LIGHTEN
(the maximum: exact, where ADD on byte images loses a level at 255). The META is then inverted and
blended as a single partner, exactly as the engine assembles it.

**Trails** are unrolled (see ``core.rig_plan``): trail META k holds a complete copy of the motion
shifted k frames later, with a CURVES modifier mapping each level to its k-times decayed level,
blended LIGHTEN. For the gray look the levels around mid-gray are first re-coded so that
the code grows with the distance from mid-gray ("Trails Encode"; a bijection of the 256 levels)
and decoded after the maximum ("Trails Decode"). This equals the engine except where two opposite
deviations of exactly equal strength meet (the rig keeps the brighter, the engine the newer), and
when the trails last longer than ``core.rig_plan.MAX_TRAIL_COPIES`` frames, where the rig cuts them off.

**Glow**, **Colour** and **Overlay** are compositor node groups (:mod:`.nodes`) doing the engine's
formulas, so they are editable in the node editor.

Frames are counted in the source's *media*: shift mode shows media frame ``t - N`` as the partner
of media frame ``t`` (trimmed-away media still serves as a partner) and the reference frame K of
freeze mode is media frame K. On an untrimmed strip this is exactly the exact engine's clip.
Where the partner falls outside the media, the ``edges`` policy applies (see ``core.timing``).

The rig's META strip carries a record (an ID property) with the settings it was built with, the
range it was built to show and each helper's blend and modifiers as built. Helpers are tagged with
their role, so the rig can be rebuilt in place (:func:`update_rig`) and removed (:func:`remove_rig`)
even after hand edits.

**In the edit.** The rig takes the source's place: its channel, range, blend and opacity (with
their keys), and the effect strips that took the source as an input (transitions, blurs) take the
rig. The partners copy the source's keys at their lag (freeze mode's reference takes the values at
its frame), so they show its picture as animated.
Update keeps the range and channel the artist gave the rig (the record tells a hand trim from the
build's) and the blends and modifiers set by hand on helpers rebuilt alike, and returns a line for
each it could not keep; Remove gives the source back as the rig shows it. What the rig cannot show
as the edit does (retiming; frames held past the media but under edges hold or freeze mode without
trails, where a held frame is paired as the frame it holds) is refused with the reason
(:func:`edit_problem`).
"""

from __future__ import annotations

import bpy
import numpy as np

from ..core import rig_plan
from ..core.rig_plan import CURVE_RANGE, Span
from ..core.settings import Settings, SettingsError
from ..core.timing import output_size
from . import align_keys, hand_edits
from .compat import timing
from .nodes import colour_group, glow_group, motion_group, overlay_group
from .strips import (
    add_modifier,
    animated_property,
    copy_animation,
    copy_modifiers,
    copy_strip,
    hold_animation,
    media_frame_count,
    media_rate,
    media_size,
    missing_media,
    move_animation,
    remove_animation,
    set_curve_points,
    set_range,
    strip_fcurves,
)

RIG_KEY = "motion_extraction_rig"
ROLE_KEY = "motion_extraction_role"
RECORD_VERSION = 1
SOURCE_TYPES = ("MOVIE", "IMAGE")
MAX_CHANNEL = 128
MAX_FRAME = 1048574  # Blender's last frame

PARTNER, EDGE, AMPLIFY = "partner", "edge", "amplify"
CHANNEL_PARTNER, TRAIL, TRAIL_SOURCE, TRAIL_CODE = "channel-partner", "trail", "trail-source", "trail-code"
GLOW, COLOUR, OVERLAY, LAYOUT, ORIGINAL = "glow", "colour", "overlay", "layout", "original"
CHANNELS = {PARTNER: 2, EDGE: 3, AMPLIFY: 4}
SOURCE_CHANNEL = 1
FIRST_LOOK_CHANNEL = CHANNELS[AMPLIFY] + 1

COMBINED_CURVE = 3  # curve_mapping.curves: red, green, blue, then the combined curve

# How the source sits over the strips below it in the edit: the rig takes these over (and gives them back).
BLEND = ("blend_type", "blend_alpha")
EFFECT_INPUTS = ("input_1", "input_2")


class RigError(Exception):
    """The rig cannot be built, updated or removed; the message says why, in one line."""


# --- finding rigs ---------------------------------------------------------------------------


def is_rig(strip: bpy.types.Strip | None) -> bool:
    return strip is not None and strip.type == "META" and RIG_KEY in strip


def rig_of(strip: bpy.types.Strip | None) -> bpy.types.MetaStrip | None:
    """The rig ``strip`` is, or belongs to (at any depth); ``None`` for any other strip."""
    while strip is not None:
        if is_rig(strip):
            return strip
        strip = strip.parent_meta()
    return None


def rig_source(rig: bpy.types.MetaStrip) -> bpy.types.Strip:
    """The artist's strip inside the rig: the one without a role."""
    for strip in rig.strips:
        if ROLE_KEY not in strip:
            return strip
    raise RigError(f"rig '{rig.name}' has lost its source strip")


def rig_settings(rig: bpy.types.MetaStrip) -> Settings:
    """The settings the rig was last built with (raises ``RigError`` when a script damaged the record)."""
    try:
        return Settings.from_mapping(dict(rig[RIG_KEY]["settings"]))
    except (SettingsError, KeyError, TypeError, ValueError) as error:
        raise RigError(f"rig '{rig.name}' has damaged settings ({error})") from None


def rig_problem(rig: bpy.types.MetaStrip) -> str | None:
    """What is wrong with a rig and how to recover, in one line; ``None`` when it is whole."""
    try:
        rig_source(rig)
    except RigError as error:
        return f"{_sentence(error)}: Remove deletes what is left of the rig, Undo may bring the source back"
    try:
        rig_settings(rig)
    except RigError as error:
        return f"{_sentence(error)}: Update rebuilds it with the settings shown here"
    return None


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:]


def source_problem(strip: bpy.types.Strip | None) -> str | None:
    """Why ``strip`` cannot be the source of a new rig, or ``None`` when it can."""
    if strip is None:
        return "No active strip"
    if strip.type not in SOURCE_TYPES:
        return f"'{strip.name}' is a {strip.type.lower()} strip, not a movie or image strip"
    if strip.lock:
        return f"'{strip.name}' is locked: unlock it to extract its motion"
    return None


def media_problem(strip: bpy.types.Strip) -> str | None:
    """Why the sequencer cannot read ``strip``'s media now (missing files), or ``None``."""
    missing = missing_media(strip)
    if not missing:
        return None
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    return f"'{strip.name}': its media is missing ({missing[0]}{more}): relink it or put it back, then try again"


def framing_note(source: bpy.types.Strip) -> str | None:
    """Where the rig differs from the exact engine because the source does not fill the frame, or ``None``."""
    move, crop = source.transform, source.crop
    placed = (move.offset_x, move.offset_y, move.rotation, move.scale_x - 1.0, move.scale_y - 1.0,
              crop.min_x, crop.max_x, crop.min_y, crop.max_y)
    animated = [fcurve for fcurve in strip_fcurves(source)
                if animated_property(source, fcurve).startswith(("transform.", "crop."))]
    if not any(placed) and not animated:
        return None
    return (f"'{source.name}' is moved, scaled or cropped in the frame: where that leaves the frame empty, the rig "
            "is transparent and the exact engine sees black")


def edit_problem(strip: bpy.types.Strip, settings: Settings) -> str | None:
    """Why the rig cannot show ``strip`` as the edit does (its retiming, its held frames, for alignment its
    transform), or ``None``."""
    speed = [other.name for other in _effect_users(strip) if other.type == "SPEED"]
    if len(strip.retiming_keys) or speed:
        by = f" by '{speed[0]}'" if speed else ""
        return (f"'{strip.name}' is retimed{by}: the rig cannot pair retimed frames yet; bake it without the "
                "retiming (Bake Motion) and retime the baked strip")
    time = timing(strip)
    held = time.left_handle_offset < 0 or time.right_handle_offset < 0
    if held and (settings.trails > 0 or (settings.mode == "shift" and settings.edges != "hold")):
        return (f"'{strip.name}' holds frames past the ends of its media: the rig pairs them with edges hold or in "
                "freeze mode, without trails; trim it to its media, or use Bake Motion")
    animated = [animated_property(strip, fcurve) for fcurve in strip_fcurves(strip)]
    animated = [name for name in animated if name not in BLEND]
    if settings.align != "none":
        return align_keys.align_problem(strip, settings, animated)
    return None


# --- the scene's resolution -------------------------------------------------------------------------


def layout_problem(scene: bpy.types.Scene, rig: bpy.types.MetaStrip) -> str | None:
    """Why ``scene``'s resolution does not show the whole of the rig's layout, or ``None``."""
    settings = rig_settings(rig)
    if settings.layout == "motion":
        return None
    wanted = output_size(settings, *media_size(rig_source(rig)))
    render = scene.render
    if (render.resolution_x, render.resolution_y) != wanted:
        return (
            f"The {settings.layout} layout needs a {wanted[0]}x{wanted[1]} scene "
            f"(it is {render.resolution_x}x{render.resolution_y})"
        )
    return None


# --- building ---------------------------------------------------------------------------------


def build_rig(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings) -> bpy.types.MetaStrip:
    """Wrap the movie or image strip ``strip`` in a new rig made for ``settings``; return the rig."""
    problem = source_problem(strip)
    if problem:
        raise RigError(problem)
    if rig_of(strip) is not None:
        raise RigError(f"'{strip.name}' is already part of the rig '{rig_of(strip).name}'")
    _check_media(strip)
    frames = _check_settings(scene, strip, settings)
    _check_edit(strip, frames)
    strips = container(strip)
    channel = strip.channel
    spare = free_channel(strips, _visible(strip))  # where the rig is assembled before it takes the source's
    if spare is None:
        raise RigError(f"no free channel at frames {_visible(strip).start}-{_visible(strip).end - 1} to assemble "
                       "the rig")
    rig = strips.new_meta(name=f"{strip.name} Motion", channel=spare, frame_start=timing(strip).left_handle)
    _hand_over_inputs(strip, rig)  # before the move: a transition from the source would follow it into the rig
    strip.move_to_meta(rig)
    strip.channel = SOURCE_CHANNEL
    _hand_over_blend(strip, rig)  # the rig sits in the edit as the source did; inside, the source is opaque
    strip.blend_type, strip.blend_alpha = "ALPHA_OVER", 1.0
    rig[RIG_KEY] = {"version": RECORD_VERSION, "settings": settings.to_dict()}
    _build_helpers(scene, rig, strip, frames)
    rig.channel = channel
    make_active(scene, rig)
    return rig


def update_rig(scene: bpy.types.Scene, rig: bpy.types.MetaStrip, settings: Settings) -> list[str]:
    """Rebuild the rig's helpers for new ``settings``, in place.

    The rig keeps its name, channel and the range the artist trimmed it to (an untrimmed rig follows the
    settings, into free room on its channel only); helpers keep the blends and modifiers set on them by hand
    where they are rebuilt alike. Returns one line for each hand edit that had to go.
    """
    if not is_rig(rig):
        raise RigError(f"'{rig.name}' is not a motion rig")
    if rig.lock:
        raise RigError(f"'{rig.name}' is locked: unlock it to update the rig")
    source = rig_source(rig)
    _check_media(source)
    frames = _check_settings(scene, source, settings)
    _check_edit(source, frames)
    placed = _kept_span(rig, source, frames)
    channel = rig.channel
    tweaks = hand_edits.take(scene, rig, _helpers(rig), rig[RIG_KEY].get("helpers", {}))
    _remove_helpers(rig)
    rig[RIG_KEY]["settings"] = settings.to_dict()
    _build_helpers(scene, rig, source, frames, placed)
    rig.channel = channel
    return hand_edits.put_back(scene, rig, tweaks, rig[RIG_KEY]["helpers"])


def remove_rig(scene: bpy.types.Scene, rig: bpy.types.MetaStrip) -> tuple[bpy.types.Strip | None, list[str]]:
    """Delete the rig and put its source back as the rig shows it: its place, channel, trims and blend, and
    the rig's modifiers after the source's own. Returns the source (``None`` if the rig had lost it) and a
    line for each edit of the rig that moved onto the source or was lost."""
    if not is_rig(rig):
        raise RigError(f"'{rig.name}' is not a motion rig")
    if rig.lock:
        raise RigError(f"'{rig.name}' is locked: unlock it to remove the rig")
    channel, shown = rig.channel, _visible(rig)
    try:
        source = rig_source(rig)
    except RigError:
        _remove_helpers(rig)
        if len(rig.strips):
            rig.separate()
        else:
            container(rig).remove(rig)
        return None, []
    # Trimmed by hand: the source takes the rig's trims; else its own range (edges=trim's missing frames back).
    kept = shown.within(_visible(source)) if _trimmed(rig, source) else _visible(source).within(_free_room(rig))
    if not kept:
        raise RigError(f"'{rig.name}' shows none of '{source.name}' (frames {shown.start}-{shown.end - 1})")
    notes = []
    _remove_helpers(rig)
    set_range(source, kept.start, kept.end)
    _hand_over_blend(rig, source)
    if len(rig.modifiers):
        copy_modifiers(scene, rig, source)
        names = ", ".join(f"'{modifier.name}'" for modifier in rig.modifiers)
        notes.append(f"The rig's modifiers {names} now follow the modifiers of '{source.name}'")
    dropped = hand_edits.picture_edits(rig)
    if dropped:
        notes.append(f"The rig's {', '.join(dropped)} set by hand cannot be carried to '{source.name}': set it again")
    remove_animation(rig)  # what is left: keys of the edits just named
    source.channel = channel
    _hand_over_inputs(rig, source)  # transitions and effects on the rig would go with it
    rig.separate()
    source.channel = channel  # separating may have shuffled it clear of the rig it came from
    _forget_cached_pictures([source])
    make_active(scene, source)
    return source, notes


def _check_settings(scene: bpy.types.Scene, source: bpy.types.Strip, settings: Settings) -> Settings:
    """``settings`` with times in seconds turned into frames at the source's rate, checked against its length."""
    try:
        frames = settings.in_frames(media_rate(scene, source))
        frames.validate_for_clip(media_frame_count(source))
    except SettingsError as error:
        raise RigError(f"'{source.name}': {error}") from None
    if frames.look == "flow":
        raise RigError("look flow: the sequencer rig cannot compute optical flow; use Bake Motion or the exact engine")
    return frames


def _check_media(source: bpy.types.Strip) -> None:
    problem = media_problem(source)
    if problem:
        raise RigError(problem)


def _check_edit(source: bpy.types.Strip, settings: Settings) -> None:
    problem = edit_problem(source, settings)
    if problem:
        raise RigError(problem)


def container(strip: bpy.types.Strip) -> bpy.types.bpy_prop_collection:
    """The strips ``strip`` is one of: its META's, else its scene's top level."""
    parent = strip.parent_meta()
    return parent.strips if parent is not None else strip.id_data.sequence_editor.strips


def _effect_users(strip: bpy.types.Strip) -> list[bpy.types.Strip]:
    """The effect strips (transitions, blurs, speed) that take ``strip`` as an input."""
    return [other for other in strip.id_data.sequence_editor.strips_all
            if any(getattr(other, name, None) == strip for name in EFFECT_INPUTS)]


def _hand_over_inputs(source: bpy.types.Strip, target: bpy.types.Strip) -> None:
    """Make the effect strips that take ``source`` as an input take ``target`` instead."""
    for other in _effect_users(source):
        for name in EFFECT_INPUTS:
            if getattr(other, name, None) == source:
                setattr(other, name, target)
        # Blender 5.2 finds an effect's inputs through a lookup that setting an input leaves stale (separating a
        # META then deletes effects that once took it); renaming the effect refreshes the lookup.
        other.name = other.name


def _hand_over_blend(source: bpy.types.Strip, target: bpy.types.Strip) -> None:
    """Give ``source``'s blend (and its animation) to ``target``."""
    target.blend_type, target.blend_alpha = source.blend_type, source.blend_alpha
    move_animation(source, target, BLEND)


def _free_room(strip: bpy.types.Strip) -> Span:
    """The frames around ``strip`` up to its neighbours on its channel."""
    here, room = _visible(strip), Span(-MAX_FRAME, MAX_FRAME)
    for other in container(strip):
        if other == strip or other.channel != strip.channel:
            continue
        span = _visible(other)
        if span.end <= here.start:
            room = Span(max(room.start, span.end), room.end)
        elif span.start >= here.end:
            room = Span(room.start, min(room.end, span.start))
    return room


def _kept_span(rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings) -> Span:
    """Where the rig shows after an update to ``settings``: within the artist's trims, never over a neighbour."""
    shown, current = shown_span(source, settings), _visible(rig)
    kept = current.within(shown) if _trimmed(rig, source) else shown.within(_free_room(rig))
    if not kept:
        raise RigError(f"'{rig.name}' is trimmed to frames {current.start}-{current.end - 1}, where these settings "
                       f"show nothing of '{source.name}'")
    return kept


def _trimmed(rig: bpy.types.MetaStrip, source: bpy.types.Strip) -> bool:
    """Whether the rig shows other frames than it was built to (the artist trimmed or split it)."""
    built = rig[RIG_KEY].get("shown")
    start = int(timing(source).content_start)
    return built is None or _visible(rig) != Span(built[0] + start, built[1] + start)


def _record_build(rig: bpy.types.MetaStrip, source: bpy.types.Strip, shown: Span) -> None:
    """Remember what was built, to tell the artist's edits from the build's at the next update."""
    start = int(timing(source).content_start)
    record = rig[RIG_KEY]
    record["shown"] = [shown.start - start, shown.end - start]
    record["helpers"] = hand_edits.record_helpers(_helpers(rig), f"{source.name} ")  # the build's base name


def _helpers(rig: bpy.types.MetaStrip) -> list[bpy.types.Strip]:
    """The rig's own strips (not inside its METAs) that it built: all but the source."""
    return [strip for strip in rig.strips if ROLE_KEY in strip]


def free_channel(strips: bpy.types.bpy_prop_collection, span: Span, lowest: int = 1) -> int | None:
    """The lowest channel from ``lowest`` up where none of ``strips`` shows during ``span``; None if all are taken."""
    used = {strip.channel for strip in strips if _visible(strip).within(span)}
    return next((channel for channel in range(lowest, MAX_CHANNEL + 1) if channel not in used), None)


def make_active(scene: bpy.types.Scene, strip: bpy.types.Strip) -> None:
    """Select ``strip`` alone and make it the active strip."""
    for other in scene.sequence_editor.strips_all:
        other.select = False
    strip.select = True
    scene.sequence_editor.active_strip = strip


def _remove_helpers(rig: bpy.types.MetaStrip) -> None:
    for strip in _nested(rig):
        if ROLE_KEY in strip:
            remove_animation(strip)
    groups = set()
    for strip in rig.strips:
        for modifier in strip.modifiers if ROLE_KEY in strip else ():
            if modifier.type == "COMPOSITOR" and modifier.node_group is not None:
                groups.add(modifier.node_group)
                modifier.node_group = None  # let go of the group, so it can be deleted below
    # Effect strips first: removing an input also removes the effects that use it.
    helpers = _helpers(rig)
    helpers.sort(key=lambda strip: strip.type in SOURCE_TYPES)
    for strip in helpers:
        if strip.name in rig.strips:
            rig.strips.remove(strip)
    for group in groups:
        if ROLE_KEY in group and group.users == 0:
            bpy.data.node_groups.remove(group)


def _forget_cached_pictures(strips: list[bpy.types.Strip]) -> None:
    """Drop the sequencer's cached pictures of ``strips`` (and what uses them). Blender 5.1 otherwise showed a
    rig built after one was removed with the removed rig's pictures in places, until the file was reopened."""
    for strip in strips:
        strip.invalidate_cache("RAW")


def _nested(meta: bpy.types.MetaStrip) -> list[bpy.types.Strip]:
    """Every strip inside ``meta``, at any depth."""
    inside = []
    for strip in meta.strips:
        inside.append(strip)
        if strip.type == "META":
            inside += _nested(strip)
    return inside


def _tag(strip: bpy.types.Strip, role: str) -> bpy.types.Strip:
    strip[ROLE_KEY] = role
    return strip


def _visible(strip: bpy.types.Strip) -> Span:
    """The scene frames ``strip`` shows."""
    time = timing(strip)
    return Span(time.left_handle, time.right_handle)


def _media(strip: bpy.types.Strip) -> Span:
    """The scene frames ``strip``'s whole media would cover, untrimmed."""
    start = int(timing(strip).content_start)
    return Span(start, start + media_frame_count(strip))


def partner_span(source: bpy.types.Strip, settings: Settings) -> Span:
    """Scene frames of the source's visible range that are combined with a partner. Frames held past the
    media's ends show its first or last frame, and are paired as that frame is."""
    media, visible = _media(source), _visible(source)
    paired = rig_plan.paired_span(settings, media)
    held = Span(visible.start if paired.start == media.start else paired.start,
                visible.end if paired.end == media.end else paired.end)
    return held.within(visible)


def shown_span(source: bpy.types.Strip, settings: Settings) -> Span:
    """Scene frames the rig shows: the source's, less those without a partner under ``edges=trim``."""
    return rig_plan.shown_span(settings, _visible(source), partner_span(source, settings))


def _build_helpers(
    scene: bpy.types.Scene, rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings,
    placed: Span | None = None,
) -> None:
    """The helpers around ``source`` for ``settings``; the rig shows ``placed`` (by default, all it can show)."""
    visible = _visible(source)
    paired = partner_span(source, settings)
    if not paired:
        raise RigError(f"offset {settings.offset} leaves no frame of '{source.name}' with a partner")
    base = f"{source.name} "
    estimates = None  # the alignment's, made once for the partner and every trail copy
    if settings.align != "none":
        try:
            estimates = align_keys.partner_keys(scene, source, settings)
        except align_keys.AlignKeysError as error:
            raise RigError(str(error)) from None
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
    if settings.tint or settings.saturation != 1.0:
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
    _record_build(rig, source, shown)
    _forget_cached_pictures([rig, *_nested(rig)])


def _build_motion(
    scene: bpy.types.Scene, strips: bpy.types.bpy_prop_collection, source: bpy.types.Strip,
    settings: Settings, base: str, estimates: tuple | None = None,
) -> None:
    """The motion layer of ``source`` on channels 2-4 of ``strips`` (which holds ``source`` on channel 1);
    ``estimates``: the alignment's (``align_keys.partner_keys``), with ``settings.align``."""
    visible = _visible(source)
    paired = partner_span(source, settings)
    if settings.align != "none":
        top = _aligned_partner(scene, strips, source, settings, base, estimates)
    elif settings.mode == "freeze":
        top = _tag(copy_strip(scene, source, base + "Reference", CHANNELS[PARTNER], strips), PARTNER)
        _hold(top, settings.reference, visible)
        _hold_animation(source, top, settings.reference)
    elif settings.time_colour:
        top = _time_colour_partner(scene, strips, source, settings, base, paired)
    else:
        top = _tag(copy_strip(scene, source, base + "Partner", CHANNELS[PARTNER], strips), PARTNER)
        _shift(top, source, settings.offset, hold=settings.edges == "hold")
    _apply_look(scene, top, settings, source)

    if settings.mode == "shift" and settings.edges == "gray":
        for gap in (Span(visible.start, paired.start), Span(paired.end, visible.end)):
            if gap:
                edge = strips.new_effect(
                    name=base + "Edge", type="COLOR", channel=CHANNELS[EDGE],
                    frame_start=gap.start, length=gap.end - gap.start,
                )
                _tag(edge, EDGE).color = (settings.still_level / 255.0,) * 3
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
    visible = _visible(source)
    shown = range(visible.start, visible.end)
    keys, failed = estimates
    meta = _tag(strips.new_meta(name=base + "Partner", channel=CHANNELS[PARTNER], frame_start=visible.start), PARTNER)
    fill = _tag(copy_strip(scene, source, base + "Fill", 1, meta.strips), CHANNEL_PARTNER)
    copy_animation(source, fill, 0, skip=BLEND)
    # The bottom of the META: REPLACE. Blender 5.2 left an ALPHA_OVER fill out of one frame of the handheld
    # test (as if the moved partner covered it), so the partner's uncovered border stayed transparent.
    fill.blend_type = "REPLACE"
    moved = _tag(copy_strip(scene, source, base + "Partner Aligned", 2, meta.strips), CHANNEL_PARTNER)
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
    meta = _tag(strips.new_meta(name=base + "Partner", channel=CHANNELS[PARTNER], frame_start=span.start), PARTNER)
    lags_rgb = tuple(reversed(settings.channel_lags))  # channel_lags is in OpenCV's B, G, R order
    for index, lag in enumerate(settings.partner_lags):
        copy = _tag(copy_strip(scene, source, f"{base}Partner {lag:+d}", index + 1, meta.strips), CHANNEL_PARTNER)
        _shift(copy, source, lag, hold=True)  # the META's range cuts what edges leave out
        keep = add_modifier(scene, copy, "Channels", "CURVES")
        for channel, channel_lag in enumerate(lags_rgb):
            _set_curve(keep, [(0.0, 0.0), (1.0, 1.0 if channel_lag == lag else 0.0)], curve=channel)
        copy.blend_type = "LIGHTEN" if index else "ALPHA_OVER"
        copy.blend_alpha = 1.0
    set_range(meta, span.start, span.end)
    return meta


def _apply_look(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings, source: bpy.types.Strip) -> None:
    if settings.look == "matte" or settings.pre_blur > 0:  # no blend does these: the compositor does the look
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
    return _tag(strip, role)


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
        span = rig_plan.paired_span(settings, _media(source)).shifted(lag).within(staged)
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
    media = _media(source)
    meta = _tag(rig.strips.new_meta(name=f"{base}Trail {lag}", channel=channel, frame_start=media.start), TRAIL)
    copy = _tag(copy_strip(scene, source, f"{base}Trail {lag} Source", SOURCE_CHANNEL, meta.strips), TRAIL_SOURCE)
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
    original = _tag(copy_strip(scene, source, base + "Original", channel + 1, rig.strips), ORIGINAL)
    copy_animation(source, original, 0, skip=BLEND)
    original.transform.offset_x += original_offset[0]
    original.transform.offset_y += original_offset[1]
    original.blend_type, original.blend_alpha = "ALPHA_OVER", 1.0
