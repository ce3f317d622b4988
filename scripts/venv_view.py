"""Fill a new venv's site-packages with links to some distributions of another venv (run by that venv's Python).

    python venv_view.py TARGET_SITE_PACKAGES NAME [NAME ...]

Links every top-level file and folder of the named distributions and of what they require (extras
left out, environment markers evaluated), and nothing else. scripts/venv.sh uses it for the bare venvs
(bpy, numpy and pytest without OpenCV or PyAV): the same installed files as the full venv at no cost
in disk or time, where a second install of bpy would take a gigabyte and a minute per Blender.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement  # every venv made with pip has it


def closure(names: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``names`` name and those they require, each once."""
    found: dict[str, importlib.metadata.Distribution] = {}
    wanted = [_normal(name) for name in names]
    waiting = list(wanted)
    while waiting:
        name = waiting.pop()
        if name in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if name in wanted:
                raise SystemExit(f"error: {name} is not installed in {sys.prefix}") from None
            continue  # an optional requirement this venv never installed
        found[name] = dist
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                waiting.append(_normal(requirement.name))
    return list(found.values())


def _normal(name: str) -> str:
    """A distribution's name as metadata lookups compare it."""
    return name.lower().replace("_", "-")


def top_level_entries(dist: importlib.metadata.Distribution) -> set[str]:
    """The names directly in site-packages that ``dist`` installed (its folders, modules and metadata)."""
    entries = {Path(str(file)).parts[0] for file in dist.files or ()}
    return entries - {"..", "__pycache__"}  # not scripts in bin/, nor the compiled files of other modules


def main(argv: list[str]) -> int:
    target, names = Path(argv[0]), argv[1:]
    source = Path(next(path for path in sys.path if path.endswith("site-packages")))
    for dist in closure(names):
        for entry in top_level_entries(dist):
            link = target / entry
            if (source / entry).exists() and not link.exists():
                os.symlink(source / entry, link)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
