"""Registering a ui module's classes, and its entry in the Sequencer's Strip menu, in one place."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bpy


def classes_with_strip_menu(classes: Sequence[type], draw_entry: Callable) -> tuple[Callable, Callable]:
    """``register`` and ``unregister`` for ``classes`` (in order, then in reverse) and the Strip menu
    entry drawn by ``draw_entry`` (added after the classes, removed before them)."""
    register_classes, unregister_classes = bpy.utils.register_classes_factory(tuple(classes))

    def register() -> None:
        register_classes()
        bpy.types.SEQUENCER_MT_strip.append(draw_entry)

    def unregister() -> None:
        bpy.types.SEQUENCER_MT_strip.remove(draw_entry)
        unregister_classes()

    return register, unregister
