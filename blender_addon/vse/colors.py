"""Colour settings under which a render of the rig is in the exact engine's terms.

The exact engine works on 8-bit sRGB values as stored in the files. The sequencer matches it
when its colour space is sRGB and the output is written with the Standard view transform,
no look, no exposure/gamma change and an sRGB display. The add-on never changes a user's
scene behind their back: the panel reports :func:`color_problems`, and
:func:`use_exact_colors_on_output` changes only the output's colour management (an override
on the render output), leaving what the artist sees in the preview alone.
"""

from __future__ import annotations

import bpy

EXACT_VIEW = "Standard"
EXACT_SPACE = "sRGB"


def _view_problems(view: bpy.types.ColorManagedViewSettings, display: bpy.types.ColorManagedDisplaySettings,
                   where: str) -> list[str]:
    problems = []
    if view.view_transform != EXACT_VIEW:
        problems.append(f"{where} view transform is {view.view_transform}, not {EXACT_VIEW}")
    if view.look != "None":
        problems.append(f"{where} look is {view.look}, not None")
    if view.exposure != 0.0 or view.gamma != 1.0 or view.use_curve_mapping or view.use_white_balance:
        problems.append(f"{where} exposure, gamma, curves or white balance are changed")
    if display.display_device != EXACT_SPACE:
        problems.append(f"{where} display is {display.display_device}, not {EXACT_SPACE}")
    return problems


def color_problems(scene: bpy.types.Scene) -> list[str]:
    """Why renders of ``scene`` would not match the exact engine (empty when they will)."""
    problems = []
    space = scene.sequencer_colorspace_settings.name
    if space != EXACT_SPACE:
        problems.append(f"Sequencer color space is {space}, not {EXACT_SPACE}")
    output = scene.render.image_settings
    if output.color_management == "OVERRIDE":
        problems += _view_problems(output.view_settings, output.display_settings, "Output")
    else:
        problems += _view_problems(scene.view_settings, scene.display_settings, "Scene")
    return problems


def _set_exact_view(view: bpy.types.ColorManagedViewSettings, display: bpy.types.ColorManagedDisplaySettings) -> None:
    display.display_device = EXACT_SPACE
    view.view_transform = EXACT_VIEW
    view.look = "None"
    view.exposure = 0.0
    view.gamma = 1.0
    view.use_curve_mapping = False
    view.use_white_balance = False


def use_exact_colors_on_output(scene: bpy.types.Scene) -> None:
    """Render ``scene``'s output with the exact engine's colours; the preview keeps its own."""
    output = scene.render.image_settings
    output.color_management = "OVERRIDE"
    _set_exact_view(output.view_settings, output.display_settings)


def use_exact_colors(scene: bpy.types.Scene) -> None:
    """Give a scene the add-on owns (a batch render's) the exact engine's colours everywhere."""
    scene.sequencer_colorspace_settings.name = EXACT_SPACE
    _set_exact_view(scene.view_settings, scene.display_settings)
    scene.render.image_settings.color_management = "FOLLOW_SCENE"
