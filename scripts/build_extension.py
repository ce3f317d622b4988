"""Build and validate the Blender extension zip: ``dist/motion_extraction-<version>.zip``.

Uses Blender's own packaging tool, ``blender_ext.py``, from the installed bpy wheel (it is a
standard-library script, so no Blender binary is needed), with Blender's list of valid tags.
The package is staged from ``blender_manifest.toml`` and the ``blender_addon`` folder.

    python scripts/build_extension.py [--output-dir dist]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "blender_addon"
MANIFEST = ROOT / "blender_manifest.toml"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


class BuildError(Exception):
    """The extension could not be built or did not validate; the message says why."""


def blender_scripts_dir() -> Path:
    """The ``scripts`` folder of the installed bpy module (found without importing bpy)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise BuildError("the bpy module is not installed (pip install bpy)")
    scripts = sorted(Path(spec.origin).parent.glob("*/scripts"))
    if not scripts:
        raise BuildError(f"no scripts folder beside {spec.origin}")
    return scripts[-1]


def _tool_args() -> tuple[list[str], list[str]]:
    scripts = blender_scripts_dir()
    tool = scripts / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    return [sys.executable, str(tool)], [f"--valid-tags={tags}"]


def _run(args: list[str]) -> str:
    result = subprocess.run(args, capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise BuildError(output or f"{' '.join(args)} failed with code {result.returncode}")
    return output


def zip_name() -> str:
    with MANIFEST.open("rb") as file:
        manifest = tomllib.load(file)
    return f"{manifest['id']}-{manifest['version']}.zip"


def validate(path: Path) -> None:
    """Validate a package folder or zip with Blender's tool; raise :class:`BuildError` if invalid."""
    tool, tags = _tool_args()
    _run([*tool, "validate", *tags, str(path)])


def build(output_dir: Path = ROOT / "dist") -> Path:
    """Build the extension zip into ``output_dir``, validate it, and return its path."""
    tool, tags = _tool_args()
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / zip_name()
    with tempfile.TemporaryDirectory(prefix="motion_extraction_build_") as staging:
        source = Path(staging) / "motion_extraction"
        shutil.copytree(PACKAGE, source, ignore=IGNORED)
        shutil.copy2(MANIFEST, source / MANIFEST.name)
        validate(source)
        _run([*tool, "build", *tags, "--source-dir", str(source), "--output-filepath", str(target)])
    validate(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist", help="where to put the zip (default: dist)")
    args = parser.parse_args(argv)
    try:
        path = build(args.output_dir)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
