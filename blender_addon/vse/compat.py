"""Strip timing under Blender 5.1's names, on every Blender the add-on supports (5.0 on).

Blender 5.1 renamed the strip timing properties and deprecates the old names (each use warns;
removal is planned for 6.0). The add-on reads and sets them only through :func:`timing`, which
uses the new names where they exist and the 5.0 names before::

    timing(strip).content_start += 3   # strip.frame_start on Blender 5.0
"""

from __future__ import annotations

import bpy

# Blender 5.1's name -> Blender 5.0's name, for every timing property that was renamed.
RENAMED = {
    "content_start": "frame_start",  # scene frame where the media's first frame would be
    "content_duration": "frame_duration",  # frames in the media (read-only)
    "left_handle": "frame_final_start",  # first scene frame shown
    "right_handle": "frame_final_end",  # first scene frame after the strip
    "duration": "frame_final_duration",  # frames shown
    "left_handle_offset": "frame_offset_start",  # frames hidden at the start by the handle
    "right_handle_offset": "frame_offset_end",  # frames hidden at the end by the handle
    "content_trim_start": "animation_offset_start",  # media frames cut away at the start
    "content_trim_end": "animation_offset_end",  # media frames cut away at the end
}
NEW_NAMES = "content_start" in bpy.types.Strip.bl_rna.properties

# Where the strip sits in time: what a copy of a strip does not take over as such (see strips.copy_strip).
PLACEMENT = frozenset(
    name for new in ("content_start", "content_duration", "left_handle", "right_handle", "duration",
                     "left_handle_offset", "right_handle_offset")
    for name in (new, RENAMED[new])
) | {"content_end"}


class _Renamed:
    """A timing property under its 5.1 name, on the strip that :class:`StripTiming` wraps."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name if NEW_NAMES else RENAMED[name]

    def __get__(self, timing: StripTiming, owner: type | None = None) -> int | float:
        return getattr(timing.strip, self.attribute)

    def __set__(self, timing: StripTiming, value: int | float) -> None:
        setattr(timing.strip, self.attribute, value)


class StripTiming:
    """A strip's timing properties by their Blender 5.1 names (see :data:`RENAMED`)."""

    __slots__ = ("strip",)

    content_start = _Renamed()
    content_duration = _Renamed()
    left_handle = _Renamed()
    right_handle = _Renamed()
    duration = _Renamed()
    left_handle_offset = _Renamed()
    right_handle_offset = _Renamed()
    content_trim_start = _Renamed()
    content_trim_end = _Renamed()

    def __init__(self, strip: bpy.types.Strip) -> None:
        self.strip = strip


def timing(strip: bpy.types.Strip) -> StripTiming:
    """``strip``'s timing properties under Blender 5.1's names."""
    return StripTiming(strip)


def is_deprecated(prop: bpy.types.Property) -> bool:
    """Whether Blender marks the RNA property ``prop`` deprecated (another name serves it)."""
    return bool(getattr(prop, "is_deprecated", False))
