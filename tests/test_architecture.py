"""The house drawn the right way up: floors core <- media <- render <- vse <- ui, the front ends beside ui and
apart from each other, no circle (imports inside functions count)."""

from __future__ import annotations

from import_scan import imports, package_modules

PACKAGE = "blender_addon"
FLOORS = {"core": 0, "media": 1, "render": 2, "vse": 3, "ui": 4}
FRONT_ENDS = ("cli", "join", "live", "cluster")  # beside ui: each may use the floors and frontend, not another
SHARED = "frontend"  # what the front ends share
COMPOSED = "commands"  # the installed commands: front ends composed, as the scripts compose them
TOP = 5


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def floor(module: str) -> int:
    name = room(module)
    if name in FLOORS:
        return FLOORS[name]
    return FLOORS["ui"] if name == SHARED else TOP  # the package's face and the front ends stand on top


def test_the_scan_sees_every_kind_of_import():
    found = imports("def late():\n    from ..render import jobs\n", "blender_addon.vse")
    assert "blender_addon.render.jobs" in found
    assert "blender_addon.core" in imports("from . import core\n", "blender_addon")


def test_no_import_runs_from_a_lower_floor_to_a_higher_one():
    modules = package_modules(PACKAGE)
    assert len(modules) > 60
    upward = [f"{module} -> {target}" for module, targets in modules.items() for target in targets
              if floor(target) > floor(module) and target != PACKAGE]  # ``from .. import media`` names the package
    assert upward == []


def test_front_ends_stand_apart():
    modules = package_modules(PACKAGE)
    crossing = [f"{module} -> {target}" for module, targets in modules.items() for target in targets
                if room(module) in FRONT_ENDS and room(target) in FRONT_ENDS and room(target) != room(module)]
    assert crossing == []
    # and nothing but the package's face (register()) reaches a front end from below
    reached = [f"{module} -> {target}" for module, targets in modules.items() for target in targets
               if room(target) in FRONT_ENDS and room(module) not in (*FRONT_ENDS, COMPOSED) and module != PACKAGE]
    assert reached == []


def test_no_circle():
    modules = package_modules(PACKAGE)
    circles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in modules.get(module, ()):
            if target.startswith(module + ".") or target == PACKAGE:  # a package naming its own modules, or
                continue  # ``from .. import media`` naming the package it comes from, is no circle
            if state.get(target) == "open":
                circles.append(" -> ".join([*path[path.index(target):], target]) if target in path else target)
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in modules:
        if module not in state:
            visit(module, [module])
    assert circles == []
