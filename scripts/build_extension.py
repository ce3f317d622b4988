"""Build and validate the Blender extension: one zip per platform, ``dist/motion_extraction-<version>-<platform>.zip``.

Uses Blender's own packaging tool, ``blender_ext.py``, from the installed bpy wheel (it is a
standard-library script, so no Blender binary is needed), with Blender's list of valid tags.
The package is staged from ``blender_manifest.toml`` and the ``blender_addon`` folder, with the
wheels of OpenCV and PyAV (the versions pinned in ``requirements.txt``) for each platform the
manifest names in ``wheels/``, listed in the staged manifest's ``wheels``; ``build
--split-platforms`` then gives each platform a zip with its own wheels only. numpy is not
bundled: Blender ships it.

The wheels are downloaded once with pip into a cache (``~/.cache/motion-extraction/wheels``,
or ``--wheel-cache``); a build whose pins are cached needs no network.

    python scripts/build_extension.py [--output-dir dist] [--wheel-cache DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "blender_addon"
MANIFEST = ROOT / "blender_manifest.toml"
REQUIREMENTS = ROOT / "requirements.txt"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
WHEELS_FOLDER = "wheels"
# What the exact engine needs beyond Blender (which ships numpy), pinned in requirements.txt.
BUNDLED = ("opencv-python-headless", "av")
# Blender 5.0 runs Python 3.11, 5.1 and later 3.13; abi3 wheels serve both.
PYTHON_VERSIONS = ("3.11", "3.13")
# pip's platform tags for each Blender platform, best first (Blender 5.0 needs glibc 2.28, macOS 11.2).
_MACOS = (15, 14, 13, 12, 11)
WHEEL_PLATFORMS = {
    "linux-x64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "windows-x64": ("win_amd64",),
    "macos-arm64": tuple(f"macosx_{major}_0_arm64" for major in _MACOS),
    "macos-x64": tuple(f"macosx_{major}_0_x86_64" for major in _MACOS),
}


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
        last = output.splitlines()[-1] if output else f"{' '.join(args)} failed with code {result.returncode}"
        raise BuildError(last)
    return output


def _manifest() -> dict:
    with MANIFEST.open("rb") as file:
        return tomllib.load(file)


def platforms() -> list[str]:
    """The Blender platforms the manifest declares, each of which gets its own zip."""
    return list(_manifest()["platforms"])


def zip_names() -> dict[str, str]:
    """Each platform's zip name, as ``blender_ext.py build --split-platforms`` names it."""
    manifest = _manifest()
    return {platform: f"{manifest['id']}-{manifest['version']}-{platform.replace('-', '_')}.zip"
            for platform in manifest["platforms"]}


def bundled_pins() -> list[str]:
    """``name==version`` of each bundled package, as ``requirements.txt`` pins it."""
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+).*", line)
        if match:
            pins[match.group(1).lower()] = f"{match.group(1)}=={match.group(2)}"
    missing = [name for name in BUNDLED if name not in pins]
    if missing:
        raise BuildError(f"{REQUIREMENTS.name} pins no version of {', '.join(missing)}")
    return [pins[name] for name in BUNDLED]


def default_wheel_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "motion-extraction" / "wheels"


def platform_wheels(platform: str, cache: Path) -> list[Path]:
    """The pinned wheels for ``platform``, from ``cache`` (downloaded with pip the first time)."""
    if platform not in WHEEL_PLATFORMS:
        raise BuildError(f"no wheel platform tags known for {platform} (add it to WHEEL_PLATFORMS)")
    folder = cache / platform
    record = "\n".join([*bundled_pins(), *PYTHON_VERSIONS]) + "\n"
    stamp = folder / "pins.txt"
    if not (stamp.is_file() and stamp.read_text() == record):
        _download(platform, folder, record)
    wheels = sorted(folder.glob("*.whl"))
    for wheel in wheels:
        if "-abi3-" not in wheel.name and not any(f"-cp{v.replace('.', '')}-" in wheel.name for v in PYTHON_VERSIONS):
            raise BuildError(f"{wheel.name} is neither abi3 nor built for Python {' or '.join(PYTHON_VERSIONS)}")
    return wheels


def _download(platform: str, folder: Path, record: str) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{platform}-", dir=folder.parent))
    try:
        tags = [argument for tag in WHEEL_PLATFORMS[platform] for argument in ("--platform", tag)]
        for version in PYTHON_VERSIONS:  # the same abi3 file serves both; pip does not fetch it twice
            _run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                  "--only-binary=:all:", "--no-deps", "--implementation", "cp", "--python-version", version,
                  *tags, "--dest", str(staging), *bundled_pins()])
        (staging / "pins.txt").write_text(record)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def validate(path: Path) -> None:
    """Validate a package folder or zip with Blender's tool; raise :class:`BuildError` if invalid."""
    tool, tags = _tool_args()
    _run([*tool, "validate", *tags, str(path)])


def _stage(source: Path, wheels: list[Path]) -> None:
    """The package in ``source``: the add-on, the wheels, and the manifest listing them."""
    shutil.copytree(PACKAGE, source, ignore=IGNORED)
    (source / WHEELS_FOLDER).mkdir()
    for wheel in wheels:
        shutil.copy2(wheel, source / WHEELS_FOLDER / wheel.name)
    listing = "wheels = [\n" + "".join(f'  "./{WHEELS_FOLDER}/{wheel.name}",\n' for wheel in wheels) + "]\n"
    text = MANIFEST.read_text()
    first_table = re.search(r"^\[", text, re.MULTILINE)  # top-level keys go before the first [table]
    at = first_table.start() if first_table else len(text)
    (source / MANIFEST.name).write_text(text[:at] + listing + "\n" + text[at:])


def build(output_dir: Path = ROOT / "dist", wheel_cache: Path | None = None) -> dict[str, Path]:
    """Build one validated zip per platform into ``output_dir``; returns each platform's zip."""
    tool, tags = _tool_args()
    cache = wheel_cache or default_wheel_cache()
    wheels = [wheel for platform in platforms() for wheel in platform_wheels(platform, cache)]
    output_dir.mkdir(parents=True, exist_ok=True)
    targets = {platform: output_dir / name for platform, name in zip_names().items()}
    with tempfile.TemporaryDirectory(prefix="motion_extraction_build_") as staging:
        source = Path(staging) / "motion_extraction"
        _stage(source, wheels)
        validate(source)
        _run([*tool, "build", *tags, "--split-platforms", "--source-dir", str(source),
              "--output-dir", str(output_dir)])
    for target in targets.values():
        if not target.is_file():
            raise BuildError(f"blender_ext.py did not write {target}")
        validate(target)
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist", help="where to put the zips (default: dist)")
    parser.add_argument("--wheel-cache", type=Path,
                        help=f"where downloaded wheels are kept (default: {default_wheel_cache()})")
    args = parser.parse_args(argv)
    try:
        paths = build(args.output_dir, args.wheel_cache)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
