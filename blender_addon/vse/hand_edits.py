"""Hand edits on a motion rig: kept across a rebuild where they can be, named where they cannot.

The rig records each helper's blend and modifiers as it built them (:func:`record_helpers`). At the next
Update, what differs from that record is the artist's: :func:`take` holds it while the helpers are
rebuilt and :func:`put_back` returns it to the rebuilt helper in the same place, where that helper is
rebuilt alike, and returns a line for each edit that had to go. A helper's place is its name as built,
less the source's name (``Partner``, ``Trail 2``), kept on the helper (:data:`SLOT_KEY`): it survives
the renames Blender makes when the artist splits or copies the rig. :func:`picture_edits` names the rig's
own settings that Remove cannot hand to the source.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy

from .compat import timing
from .strips import copy_modifiers

SLOT_KEY = "motion_extraction_slot"  # a helper's place in the rig (see the module's text)


def slot(strip: bpy.types.Strip) -> str:
    """``strip``'s place in its rig (its name, for a helper built before places were kept)."""
    return strip.get(SLOT_KEY, strip.name)


@dataclass
class HandEdit:
    """A helper's blend or added modifiers as the artist left them (the modifiers held on ``holder``)."""

    name: str  # the helper's name when the edit was taken (for the notes)
    slot: str
    built_blend: tuple[str, float]
    blend: tuple[str, float] | None
    modifiers: list[str]
    holder: bpy.types.Strip | None


def record_helpers(helpers: list[bpy.types.Strip], base: str) -> dict:
    """What the rig's record keeps of its helpers as built, by place: each one's blend and modifiers' names.
    Marks each helper with its place: its name less ``base`` (the source's name and a space)."""
    built = {}
    for strip in helpers:
        strip[SLOT_KEY] = strip.name.removeprefix(base)
        built[strip[SLOT_KEY]] = {"blend_type": strip.blend_type, "blend_alpha": strip.blend_alpha,
                                  "modifiers": [modifier.name for modifier in strip.modifiers]}
    return built


def take(scene: bpy.types.Scene, rig: bpy.types.MetaStrip, helpers: list[bpy.types.Strip],
         built: dict) -> list[HandEdit]:
    """The blends and modifiers set by hand on ``helpers`` (``built``: their states as built, by place); added
    modifiers are copied to a holder strip in the rig, which :func:`put_back` removes."""
    edits = []
    channel = max((strip.channel for strip in rig.strips), default=0)
    for strip in helpers:
        state = built.get(slot(strip))
        if state is None:
            continue
        built_blend = (state["blend_type"], state["blend_alpha"])
        blend = (strip.blend_type, strip.blend_alpha)
        added = [modifier.name for modifier in strip.modifiers if modifier.name not in state["modifiers"]]
        if blend == built_blend and not added:
            continue
        holder = None
        if added:
            channel += 1
            holder = rig.strips.new_effect(name=f"{strip.name} (kept)", type="COLOR", channel=channel,
                                           frame_start=int(timing(strip).left_handle), length=1)
            copy_modifiers(scene, strip, holder, added)
        edits.append(HandEdit(strip.name, slot(strip), built_blend, None if blend == built_blend else blend, added,
                              holder))
    return edits


def put_back(scene: bpy.types.Scene, rig: bpy.types.MetaStrip, edits: list[HandEdit], built: dict) -> list[str]:
    """Put ``edits`` back on the rebuilt helpers in the same place (``built``: their states as rebuilt, by
    place) where they are rebuilt alike; one line for each edit that could not be kept."""
    notes = []
    for edit in edits:
        strip = next((strip for strip in rig.strips if strip != edit.holder and slot(strip) == edit.slot
                      and edit.slot in built), None)
        if edit.blend is not None:
            state = built.get(edit.slot)
            if strip is not None and (state["blend_type"], state["blend_alpha"]) == edit.built_blend:
                strip.blend_type, strip.blend_alpha = edit.blend
            else:
                notes.append(f"'{edit.name}': its blend ({edit.blend[0].lower()} at {edit.blend[1]:.3g}), set by "
                             "hand, was reset for the new settings")
        if edit.holder is not None:
            if strip is not None:
                copy_modifiers(scene, edit.holder, strip)
            else:
                notes.append(f"'{edit.name}' is not part of the rig for the new settings: its modifiers "
                             f"{', '.join(edit.modifiers)} were dropped")
            rig.strips.remove(edit.holder)
    return notes


def picture_edits(strip: bpy.types.Strip) -> list[str]:
    """``strip``'s own transform, crop and colour settings that differ from Blender's defaults."""
    edits = []
    for struct, names, prefix in ((strip.transform, ("offset_x", "offset_y", "scale_x", "scale_y", "rotation"),
                                   "transform."),
                                  (strip.crop, ("min_x", "max_x", "min_y", "max_y"), "crop."),
                                  (strip, ("color_saturation", "color_multiply"), "")):
        defaults = struct.bl_rna.properties
        edits += [prefix + name for name in names if getattr(struct, name) != defaults[name].default]
    return edits
