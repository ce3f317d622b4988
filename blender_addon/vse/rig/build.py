"""The rig's builders: wrap a strip in a new rig, rebuild a rig in place for new settings, remove it."""

from __future__ import annotations

import bpy

from ...core.settings import Settings
from ...core.timing import Span
from .. import hand_edits
from ..compat import timing
from ..strips import (
    EFFECT_INPUTS,
    container,
    copy_modifiers,
    effect_users,
    forget_cached_pictures,
    free_channel,
    make_active,
    move_animation,
    remove_animation,
    set_range,
    visible_span,
)
from .checks import check_edit, check_media, check_scene, check_settings, source_problem
from .layers import build_helpers, prepare_helpers, shown_span
from .record import (
    BLEND,
    RECORD_VERSION,
    RIG_KEY,
    ROLE_KEY,
    SOURCE_CHANNEL,
    SOURCE_TYPES,
    RigError,
    helper_strips,
    is_rig,
    is_trimmed,
    nested_strips,
    rig_of,
    rig_source,
)

MAX_FRAME = 1048574  # Blender's last frame


def build_rig(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings) -> bpy.types.MetaStrip:
    """Wrap the movie or image strip ``strip`` in a new rig made for ``settings``; return the rig."""
    check_scene(scene)
    problem = source_problem(strip)
    if problem:
        raise RigError(problem)
    if rig_of(strip) is not None:
        raise RigError(f"'{strip.name}' is already part of the rig '{rig_of(strip).name}'")
    check_media(strip)
    frames = check_settings(scene, strip, settings)
    check_edit(strip, frames)
    estimates = prepare_helpers(scene, strip, frames)
    strips = container(strip)
    channel = strip.channel
    shown = visible_span(strip)
    spare = free_channel(strips, shown)  # where the rig is assembled before it takes the source's
    if spare is None:
        raise RigError(f"no free channel at frames {shown.start}-{shown.end - 1} to assemble the rig")
    rig = strips.new_meta(name=f"{strip.name} Motion", channel=spare, frame_start=timing(strip).left_handle)
    _hand_over_inputs(strip, rig)  # before the move: a transition from the source would follow it into the rig
    strip.move_to_meta(rig)
    strip.channel = SOURCE_CHANNEL
    _hand_over_blend(strip, rig)  # the rig sits in the edit as the source did; inside, the source is opaque
    strip.blend_type, strip.blend_alpha = "ALPHA_OVER", 1.0
    rig[RIG_KEY] = {"version": RECORD_VERSION, "settings": settings.to_dict()}
    build_helpers(scene, rig, strip, frames, estimates)
    rig.channel = channel
    make_active(scene, rig)
    return rig


def update_rig(scene: bpy.types.Scene, rig: bpy.types.MetaStrip, settings: Settings) -> list[str]:
    """Rebuild the rig's helpers for new ``settings``, in place.

    The rig keeps its name, channel and the range the artist trimmed it to (an untrimmed rig follows the
    settings, into free room on its channel only); helpers keep the blends and modifiers set on them by hand
    where they are rebuilt alike. Returns one line for each hand edit that had to go.
    """
    check_scene(scene)
    if not is_rig(rig):
        raise RigError(f"'{rig.name}' is not a motion rig")
    if rig.lock:
        raise RigError(f"'{rig.name}' is locked: unlock it to update the rig")
    source = rig_source(rig)
    check_media(source)
    frames = check_settings(scene, source, settings)
    check_edit(source, frames)
    placed = _kept_span(rig, source, frames)
    estimates = prepare_helpers(scene, source, frames)
    channel = rig.channel
    tweaks = hand_edits.take(scene, rig, helper_strips(rig), rig[RIG_KEY].get("helpers", {}))
    _remove_helpers(rig)
    rig[RIG_KEY]["settings"] = settings.to_dict()
    build_helpers(scene, rig, source, frames, estimates, placed)
    rig.channel = channel
    return hand_edits.put_back(scene, rig, tweaks, rig[RIG_KEY]["helpers"])


def remove_rig(scene: bpy.types.Scene, rig: bpy.types.MetaStrip) -> tuple[bpy.types.Strip | None, list[str]]:
    """Delete the rig and put its source back as the rig shows it: its place, channel, trims and blend, and
    the rig's modifiers after the source's own. Returns the source (``None`` if the rig had lost it) and a
    line for each edit of the rig that moved onto the source or was lost."""
    check_scene(scene)
    if not is_rig(rig):
        raise RigError(f"'{rig.name}' is not a motion rig")
    if rig.lock:
        raise RigError(f"'{rig.name}' is locked: unlock it to remove the rig")
    channel, shown = rig.channel, visible_span(rig)
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
    here = visible_span(source)
    kept = shown.within(here) if is_trimmed(rig, source) else here.within(_free_room(rig))
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
    forget_cached_pictures([source])
    make_active(scene, source)
    return source, notes


def _hand_over_inputs(source: bpy.types.Strip, target: bpy.types.Strip) -> None:
    """Make the effect strips that take ``source`` as an input take ``target`` instead."""
    for other in effect_users(source):
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
    here, room = visible_span(strip), Span(-MAX_FRAME, MAX_FRAME)
    for other in container(strip):
        if other == strip or other.channel != strip.channel:
            continue
        span = visible_span(other)
        if span.end <= here.start:
            room = Span(max(room.start, span.end), room.end)
        elif span.start >= here.end:
            room = Span(room.start, min(room.end, span.start))
    return room


def _kept_span(rig: bpy.types.MetaStrip, source: bpy.types.Strip, settings: Settings) -> Span:
    """Where the rig shows after an update to ``settings``: within the artist's trims, never over a neighbour."""
    shown, current = shown_span(source, settings), visible_span(rig)
    kept = current.within(shown) if is_trimmed(rig, source) else shown.within(_free_room(rig))
    if not kept:
        raise RigError(f"'{rig.name}' is trimmed to frames {current.start}-{current.end - 1}, where these settings "
                       f"show nothing of '{source.name}'")
    return kept


def _remove_helpers(rig: bpy.types.MetaStrip) -> None:
    for strip in nested_strips(rig):
        if ROLE_KEY in strip:
            remove_animation(strip)
    groups = set()
    for strip in rig.strips:
        for modifier in strip.modifiers if ROLE_KEY in strip else ():
            if modifier.type == "COMPOSITOR" and modifier.node_group is not None:
                groups.add(modifier.node_group)
                modifier.node_group = None  # let go of the group, so it can be deleted below
    # Effect strips first: removing an input also removes the effects that use it.
    helpers = helper_strips(rig)
    helpers.sort(key=lambda strip: strip.type in SOURCE_TYPES)
    for strip in helpers:
        if strip.name in rig.strips:
            rig.strips.remove(strip)
    for group in groups:
        if ROLE_KEY in group and group.users == 0:
            bpy.data.node_groups.remove(group)

