"""The Blender user interface: settings, preferences, operators, presets, the "Motion" panel, Bake Motion,
Key Motion Data."""

from __future__ import annotations

from . import bake, motion_keys, operators, panel, preferences, presets, props

modules = (props, preferences, operators, presets, panel, bake, motion_keys)


def register() -> None:
    for module in modules:
        module.register()


def unregister() -> None:
    for module in reversed(modules):
        module.unregister()
