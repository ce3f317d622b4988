"""The Blender user interface: settings property group, operators, the "Motion" panel and menu entries."""

from __future__ import annotations

from . import operators, panel, props

modules = (props, operators, panel)


def register() -> None:
    for module in modules:
        module.register()


def unregister() -> None:
    for module in reversed(modules):
        module.unregister()
