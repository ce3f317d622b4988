"""The settings as a Blender PropertyGroup, generated from ``core.settings.OPTIONS``.

There is one definition of every option (the core's table); this module only translates it.
The group sits on scenes (the settings the next Extract Motion uses) and on strips (a rig's
own settings, shown in the panel while the rig is selected).
"""

from __future__ import annotations

from typing import Any

import bpy

from ..core.settings import OPTIONS, Colour, Option, Settings, colour_levels, parse_colour

PROPERTY_NAME = "motion_extraction"


def to_property(option: Option, value: Any) -> Any:
    """A setting's value as its Blender property holds it (a colour as three floats from 0 to 1)."""
    if option.kind is Colour:
        return tuple(level / 255 for level in colour_levels(value))
    return value


def _property(option: Option) -> Any:
    common = {"name": option.label, "description": option.description, "default": option.default}
    if option.kind is bool:
        return bpy.props.BoolProperty(**common)
    if option.kind is Colour:  # a colour picker, in display-referred (sRGB) values as the engine uses them
        common["default"] = to_property(option, option.default)
        return bpy.props.FloatVectorProperty(**common, subtype="COLOR_GAMMA", size=3, min=0.0, max=1.0)
    if option.choices:
        items = [(choice.value, choice.label, choice.description) for choice in option.choices]
        return bpy.props.EnumProperty(items=items, **common)
    limits = {
        key: value
        for key, value in (
            ("min", option.minimum), ("max", option.maximum),
            ("soft_min", option.soft_minimum), ("soft_max", option.soft_maximum),
        )
        if value is not None
    }
    if option.kind is int:
        return bpy.props.IntProperty(**common, **{key: int(value) for key, value in limits.items()})
    return bpy.props.FloatProperty(**common, **limits, precision=3, step=1)


def settings_annotations() -> dict[str, Any]:
    """One Blender property per option: for the property group and for the operators that take settings."""
    return {option.name: _property(option) for option in OPTIONS}


class MotionExtractionSettings(bpy.types.PropertyGroup):
    """Motion extraction settings; the properties are generated from the core's option table."""

    __annotations__ = settings_annotations()


def settings_from_group(group: MotionExtractionSettings) -> Settings:
    """The group's values as a validated :class:`Settings` (raises ``SettingsError``)."""
    values = {option.name: _from_property(option, getattr(group, option.name)) for option in OPTIONS}
    return Settings.from_mapping(values)


def _from_property(option: Option, value: Any) -> Any:
    """A property's value in the settings' terms.

    Blender keeps float properties in single precision, so a slider at a maximum of 0.99 reads
    back as 0.99000001, beyond the option's range; seven significant digits restore the number set.
    """
    if option.kind is Colour:
        return parse_colour([round(component * 255) for component in value])
    return float(f"{value:.7g}") if option.kind is float else value


def settings_to_group(settings: Settings, group: Any) -> None:
    """Write ``settings`` into a property group, or into an operator's properties."""
    for option in OPTIONS:
        setattr(group, option.name, to_property(option, getattr(settings, option.name)))


def settings_from_operator(operator: bpy.types.Operator, fallback: MotionExtractionSettings) -> Settings:
    """The operator's settings: each option given to it (by a script, the redo panel or invoke), else ``fallback``'s."""
    properties = operator.properties
    values = {
        option.name: _from_property(
            option, getattr(operator if properties.is_property_set(option.name) else fallback, option.name)
        )
        for option in OPTIONS
    }
    return Settings.from_mapping(values)


def fill_unset_properties(operator: bpy.types.Operator, source: MotionExtractionSettings) -> None:
    """Set the operator's options not given explicitly from ``source``, so the redo panel shows what was used."""
    properties = operator.properties
    for option in OPTIONS:
        if not properties.is_property_set(option.name):
            setattr(operator, option.name, getattr(source, option.name))


classes = (MotionExtractionSettings,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    for owner in (bpy.types.Scene, bpy.types.Strip):
        setattr(owner, PROPERTY_NAME, bpy.props.PointerProperty(type=MotionExtractionSettings))


def unregister() -> None:
    for owner in (bpy.types.Strip, bpy.types.Scene):
        delattr(owner, PROPERTY_NAME)
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
