"""The rig's record: what a rig is, the roles its strips are tagged with and what it stores on them."""

from __future__ import annotations

import bpy

from ...core.settings import Settings, SettingsError
from ...core.timing import Span
from .. import hand_edits
from ..compat import timing
from ..strips import visible_span

RIG_KEY = "motion_extraction_rig"
ROLE_KEY = "motion_extraction_role"
RECORD_VERSION = 1
SOURCE_TYPES = ("MOVIE", "IMAGE")

PARTNER, EDGE, AMPLIFY = "partner", "edge", "amplify"
CHANNEL_PARTNER, TRAIL, TRAIL_SOURCE, TRAIL_CODE = "channel-partner", "trail", "trail-source", "trail-code"
GLOW, COLOUR, OVERLAY, LAYOUT, ORIGINAL = "glow", "colour", "overlay", "layout", "original"
CHANNELS = {PARTNER: 2, EDGE: 3, AMPLIFY: 4}
SOURCE_CHANNEL = 1
FIRST_LOOK_CHANNEL = CHANNELS[AMPLIFY] + 1

# How the source sits over the strips below it in the edit: the rig takes these over (and gives them back).
BLEND = ("blend_type", "blend_alpha")


class RigError(Exception):
    """The rig cannot be built, updated or removed; the message says why, in one line."""


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


def helper_strips(rig: bpy.types.MetaStrip) -> list[bpy.types.Strip]:
    """The rig's own strips (not inside its METAs) that it built: all but the source."""
    return [strip for strip in rig.strips if ROLE_KEY in strip]


def nested_strips(meta: bpy.types.MetaStrip) -> list[bpy.types.Strip]:
    """Every strip inside ``meta``, at any depth."""
    inside = []
    for strip in meta.strips:
        inside.append(strip)
        if strip.type == "META":
            inside += nested_strips(strip)
    return inside


def tag(strip: bpy.types.Strip, role: str) -> bpy.types.Strip:
    strip[ROLE_KEY] = role
    return strip


def is_trimmed(rig: bpy.types.MetaStrip, source: bpy.types.Strip) -> bool:
    """Whether the rig shows other frames than it was built to (the artist trimmed or split it)."""
    built = rig[RIG_KEY].get("shown")
    start = int(timing(source).content_start)
    return built is None or visible_span(rig) != Span(built[0] + start, built[1] + start)


def record_build(rig: bpy.types.MetaStrip, source: bpy.types.Strip, shown: Span) -> None:
    """Remember what was built, to tell the artist's edits from the build's at the next update."""
    start = int(timing(source).content_start)
    record = rig[RIG_KEY]
    record["shown"] = [shown.start - start, shown.end - start]
    record["helpers"] = hand_edits.record_helpers(helper_strips(rig), f"{source.name} ")  # the build's base name

