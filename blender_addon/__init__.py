"""Motion Extraction: reveal motion in video by comparing each frame with an earlier one.

The package is a Blender extension (see ``blender_manifest.toml``) and a library. Importing it,
or anything under ``core``, does not import bpy: the command line and the tests use the exact
engine without Blender. The Blender parts (``ui`` and ``vse``) are imported by :func:`register`.
"""

from __future__ import annotations

from types import ModuleType


def _submodules() -> tuple[ModuleType, ...]:
    from . import ui  # imports bpy: only when Blender registers the extension

    return (ui,)


def register() -> None:
    for module in _submodules():
        module.register()


def unregister() -> None:
    for module in reversed(_submodules()):
        module.unregister()
