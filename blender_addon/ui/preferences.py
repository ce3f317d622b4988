"""The add-on's preferences: the movie format Bake Motion writes, and whether it carries the source's sound."""

from __future__ import annotations

import bpy

from ..media.formats import BAKE_FORMATS, bake_format_name

# The preferences belong to the add-on's own package (this module's parent), as Blender looks them up.
ADDON_PACKAGE = __package__.rpartition(".")[0]
FORMAT_ITEMS = [
    (extension[1:], bake_format_name(extension), note.capitalize())
    for extension, note in BAKE_FORMATS.items()
]


class MotionExtractionPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    bake_format: bpy.props.EnumProperty(
        name="Bake Format", description="The movie format Bake Motion writes", items=FORMAT_ITEMS,
        default=FORMAT_ITEMS[0][0],
    )
    bake_sound: bpy.props.BoolProperty(
        name="Bake Sound", description="Bake Motion's movie carries the source's sound (the part the strip shows), "
        "so the file is whole outside Blender", default=True,
    )

    def draw(self, context: bpy.types.Context) -> None:
        self.layout.prop(self, "bake_format")
        self.layout.prop(self, "bake_sound")


def addon_preferences(context: bpy.types.Context) -> MotionExtractionPreferences | None:
    """The preferences, or ``None`` when the package is registered without being enabled as an add-on (tests)."""
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return addon.preferences if addon is not None else None


def bake_extension(context: bpy.types.Context) -> str:
    """The extension Bake Motion writes: the preference, else the first format."""
    preferences = addon_preferences(context)
    return "." + (preferences.bake_format if preferences is not None else FORMAT_ITEMS[0][0])


def bake_sound(context: bpy.types.Context) -> bool:
    """Whether Bake Motion's movie carries the source's sound: the preference, else yes."""
    preferences = addon_preferences(context)
    return preferences.bake_sound if preferences is not None else True


classes = (MotionExtractionPreferences,)

register, unregister = bpy.utils.register_classes_factory(classes)
