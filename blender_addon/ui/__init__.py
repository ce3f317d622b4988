"""The Blender user interface: settings property group, operators, presets, the "Motion" panel and menu entries."""

from __future__ import annotations

from . import operators, panel, presets, props

modules = (props, operators, presets, panel)


def register() -> None:
    for module in modules:
        module.register()


def unregister() -> None:
    for module in reversed(modules):
        module.unregister()
