"""Helpers for the tests of the rig in a real edit: a small edit of shots, where each strip sits, renders
of the edit with some strips muted, the exact engine's frames of a strip as the sequencer shows it."""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
from frame_helpers import FrameList
from vse_helpers import add_image_strip, render_frames, select_only

from blender_addon.core.engine import extract_motion
from blender_addon.core.settings import Settings
from blender_addon.ui import props
from blender_addon.vse.compat import timing
from blender_addon.vse.rig import record


def two_shots_and_a_title(scene: bpy.types.Scene, files: list[Path]) -> tuple[bpy.types.Strip, ...]:
    """Shot "a" (frames 1-16) cut to shot "b" (17-32, the clip backwards) on channel 1, and a half-transparent
    "title" (9-24, the clip) above the cut on channel 2."""
    a = add_image_strip(scene, files, channel=1, start=1, name="a")
    b = add_image_strip(scene, files[::-1], channel=1, start=17, name="b")
    title = add_image_strip(scene, files, channel=2, start=9, name="title")
    title.blend_type, title.blend_alpha = "ALPHA_OVER", 0.5
    return a, b, title


def places(scene: bpy.types.Scene) -> dict[str, tuple]:
    """Every strip that is not part of a rig: name -> (type, channel, shown range, content start, META)."""
    return {
        strip.name: (strip.type, strip.channel, timing(strip).left_handle, timing(strip).right_handle,
                     timing(strip).content_start, getattr(strip.parent_meta(), "name", None))
        for strip in scene.sequence_editor.strips_all if record.rig_of(strip) is None
    }


def render_muted(scene: bpy.types.Scene, muted: list[bpy.types.Strip], first: int, end: int,
                 folder: Path) -> list[np.ndarray]:
    """Scene frames ``first`` to ``end - 1`` rendered with ``muted`` switched off (and back on after)."""
    before = [strip.mute for strip in muted]
    for strip in muted:
        strip.mute = True
    try:
        return render_frames(scene, first, end, folder)
    finally:
        for strip, mute in zip(muted, before, strict=True):
            strip.mute = mute


def render_alone(scene: bpy.types.Scene, strip: bpy.types.Strip, folder: Path) -> list[np.ndarray]:
    """The frames ``strip`` shows, with every other top-level strip muted."""
    others = [other for other in scene.sequence_editor.strips if other != strip]
    return render_muted(scene, others, timing(strip).left_handle, timing(strip).right_handle, folder)


def engine_frames(frames: list[np.ndarray], settings: Settings) -> list[np.ndarray]:
    """The exact engine's output for ``frames`` (a strip as the sequencer showed it)."""
    return [frame.copy() for frame in extract_motion(FrameList(frames), settings)]


def run(operator: str, scene: bpy.types.Scene, strip: bpy.types.Strip | None = None, **options) -> set[str]:
    """Call ``bpy.ops.sequencer.<operator>`` with ``strip`` (if given) the only selected and active strip."""
    if strip is not None:
        select_only(scene, strip)
    return getattr(bpy.ops.sequencer, operator)(**options)


def extract(scene: bpy.types.Scene, strip: bpy.types.Strip, settings: Settings) -> set[str]:
    """Extract Motion on ``strip`` with ``settings`` set in the panel, as an artist would."""
    props.settings_to_group(settings, scene.motion_extraction)
    return run("motion_extract", scene, strip)


def reports(captured: str) -> list[str]:
    """The operator reports in captured standard output, as ``Kind: text`` lines."""
    return [line for line in captured.splitlines() if line.split(":")[0] in ("Info", "Warning", "Error")]
