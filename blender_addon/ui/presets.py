"""Blender's preset menu for the Motion panel, with the built-in presets generated from ``core.presets``.

Presets are Python files in the user's ``scripts/presets/motion_extraction`` folder, as Blender's
own preset menus use: the menu lists them, *Add Preset* writes the panel's settings to a new file,
and executing one sets the settings the panel shows (the active rig's, else the scene's).

At register, each preset of ``core.presets`` is written there as a file when missing. A generated
file carries a fingerprint of its body in its first line; it is rewritten when the core's preset
changes, but only while the body still matches the fingerprint, so files the user edited (or
saved over with *Add Preset*) are never touched.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import bpy
from bl_operators.presets import AddPresetBase

from ..core.presets import PRESETS, preset_settings
from ..core.settings import OPTIONS, Settings
from ..vse.rig.record import RIG_KEY
from .props import PROPERTY_NAME, to_property

log = logging.getLogger(__name__)

PRESET_SUBDIR = "motion_extraction"
GENERATED_TAG = "# Motion Extraction built-in preset"

# Lines run before a preset's values: ``settings`` is the group the panel shows. One statement a
# line: Blender's AddPresetBase runs each on its own when it saves a preset.
PRESET_DEFINES = [
    'scene = getattr(bpy.context, "sequencer_scene", None) or bpy.context.scene',
    "strip = scene.sequence_editor.active_strip if scene.sequence_editor else None",
    "rig = strip",  # the rig the active strip is, or belongs to at any depth (a helper's, say)
    f'while rig is not None and "{RIG_KEY}" not in rig: rig = rig.parent_meta()',
    f'settings = getattr(rig if rig is not None else scene, "{PROPERTY_NAME}")',
]
PRESET_VALUES = [f"settings.{option.name}" for option in OPTIONS]


def preset_folder(create: bool = True) -> Path:
    """The user's folder of Motion Extraction presets."""
    return Path(bpy.utils.user_resource("SCRIPTS", path=os.path.join("presets", PRESET_SUBDIR), create=create))


def preset_file_name(name: str) -> str:
    """``time-colour`` -> ``time_colour.py`` (Blender shows it as "Time Colour")."""
    return AddPresetBase.as_filename(name.replace("-", " ")) + ".py"


def preset_text(settings: Settings) -> str:
    """A preset file body setting every option, in the format Blender's Add Preset writes."""
    lines = ["import bpy", *PRESET_DEFINES, ""]
    lines += [f"settings.{option.name} = {to_property(option, getattr(settings, option.name))!r}" for option in OPTIONS]
    return "\n".join(lines) + "\n"


def _fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def _generated(name: str) -> str:
    body = preset_text(preset_settings(name))
    return f"{GENERATED_TAG} '{name}' {_fingerprint(body)}\n{body}"


def _untouched_generation(text: str) -> bool:
    """Whether ``text`` is a generated preset file that nobody has edited since."""
    header, _, body = text.partition("\n")
    return header.startswith(GENERATED_TAG) and header.endswith(_fingerprint(body))


def remove_builtin_presets(folder: Path | None = None) -> list[Path]:
    """Delete the built-in preset files nobody has edited (and the folder, once empty); the user's stay."""
    folder = preset_folder(create=False) if folder is None else folder
    removed = []
    for name in PRESETS:
        path = folder / preset_file_name(name)
        if path.is_file() and _untouched_generation(path.read_text(encoding="utf-8")):
            path.unlink()
            removed.append(path)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return removed


def write_builtin_presets(folder: Path | None = None) -> list[Path]:
    """Write each core preset as a preset file where it is missing or an unedited older generation."""
    folder = preset_folder() if folder is None else folder
    written = []
    for name in PRESETS:
        path = folder / preset_file_name(name)
        text = _generated(name)
        if path.exists():
            current = path.read_text(encoding="utf-8")
            if current == text or not _untouched_generation(current):
                continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


class SEQUENCER_MT_motion_extraction_presets(bpy.types.Menu):
    """Named starting points for the motion extraction settings"""

    bl_label = "Motion Presets"
    preset_subdir = PRESET_SUBDIR
    preset_operator = "script.execute_preset"
    preset_add_operator = "sequencer.motion_extraction_preset_add"  # adds a remove button per preset
    draw = bpy.types.Menu.draw_preset


class SEQUENCER_OT_motion_extraction_preset_add(AddPresetBase, bpy.types.Operator):
    """Save the motion extraction settings shown in the panel as a preset, or remove the chosen preset"""

    bl_idname = "sequencer.motion_extraction_preset_add"
    bl_label = "Add Motion Extraction Preset"
    bl_options = {"REGISTER"}  # writes a file: nothing in the scene to undo
    preset_menu = SEQUENCER_MT_motion_extraction_presets.__name__
    preset_subdir = PRESET_SUBDIR
    preset_defines = PRESET_DEFINES
    preset_values = PRESET_VALUES

    @staticmethod
    def as_filename(name: str) -> str:
        """Blender's file name for ``name``, or the preset's that differs from it only in case: the menu shows
        ``glow.py`` as "Glow", so saving "Glow" must find it rather than write ``Glow.py`` beside it."""
        plain = AddPresetBase.as_filename(name)
        folder = preset_folder(create=False)
        existing = sorted(folder.glob("*.py")) if folder.is_dir() else []
        return next((path.stem for path in existing if path.stem.lower() == plain.lower()), plain)


classes = (SEQUENCER_MT_motion_extraction_presets, SEQUENCER_OT_motion_extraction_preset_add)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    try:
        write_builtin_presets()
    except OSError as error:  # a read-only home must not stop the add-on from loading
        log.warning("could not write the built-in presets: %s", error)


def unregister() -> None:
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
    try:
        remove_builtin_presets()
    except OSError as error:
        log.warning("could not remove the built-in presets: %s", error)
