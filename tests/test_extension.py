"""The extension zips: one per platform, built and validated with Blender's own tool, each holding its
platform's OpenCV and PyAV wheels; installed into an isolated user directory with
``extensions.package_install_files``, enabled, and disabled cleanly."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import build_extension  # noqa: E402

INSTALL_AND_CHECK = """
import sys, bpy, addon_utils
module = "bl_ext.user_default.motion_extraction"
result = bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default", enable_on_install=True)
assert result == {"FINISHED"}, result
assert addon_utils.check(module) == (True, True)
names = ("SEQUENCER_OT_motion_extract", "SEQUENCER_OT_motion_extract_update", "SEQUENCER_OT_motion_extract_remove",
         "SEQUENCER_OT_motion_extract_output_colors", "SEQUENCER_PT_motion_extraction", "SEQUENCER_OT_motion_bake",
         "SEQUENCER_PT_motion_bake")
prefs = bpy.context.preferences.addons[module].preferences
assert prefs.bake_format == "mkv", prefs.bake_format
assert all(hasattr(bpy.types, name) for name in names), [n for n in names if not hasattr(bpy.types, n)]
assert all("motion_extraction" in owner.bl_rna.properties for owner in (bpy.types.Scene, bpy.types.Strip))
assert bpy.types.SEQUENCER_OT_motion_extract.bl_idname == "sequencer.motion_extract"
bpy.ops.preferences.addon_disable(module=module)
left = [name for name in names if hasattr(bpy.types, name)]
left += [f"{owner.__name__}.motion_extraction" for owner in (bpy.types.Scene, bpy.types.Strip)
         if "motion_extraction" in owner.bl_rna.properties]
assert not left, left
print("INSTALLED-AND-REMOVED")
"""


# How each platform's wheels are tagged (pip's platform tags), told independently of the build's table.
PLATFORM_TAGS = {"linux-x64": ("manylinux", "x86_64"), "windows-x64": ("win", "amd64"),
                 "macos-arm64": ("macosx", "arm64"), "macos-x64": ("macosx", "x86_64")}


def test_each_platform_zip_validates_and_holds_its_own_wheels(extension_zips):
    assert sorted(extension_zips) == sorted(PLATFORM_TAGS)
    pins = dict(pin.split("==") for pin in build_extension.bundled_pins())
    assert set(pins) == {"opencv-python-headless", "av"}
    for platform, path in extension_zips.items():
        assert path.name == f"motion_extraction-0.1.0-{platform.replace('-', '_')}.zip"
        build_extension.validate(path)
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
        assert {"blender_manifest.toml", "__init__.py", "ui/operators.py", "vse/rig/build.py",
                "core/settings.py"} <= names
        assert not any("__pycache__" in name for name in names)
        wheels = sorted(name for name in names if name.endswith(".whl"))
        assert [f"./{name}" for name in wheels] == sorted(manifest["build"]["generated"]["wheels"])
        assert manifest["build"]["generated"]["platforms"] == [platform]
        # exactly one wheel of each pinned package, for this platform, serving Python 3.11 and 3.13; no numpy
        found = {}
        for name in wheels:
            distribution, version, python, abi, tag = name.removeprefix("wheels/").removesuffix(".whl").split("-")
            found[distribution.replace("_", "-")] = version
            system, machine = PLATFORM_TAGS[platform]
            assert tag.startswith(system) and tag.endswith(machine), (platform, name)
            assert abi == "abi3" and int(python.removeprefix("cp")) <= 311, name
        assert found == pins, (platform, wheels)


def imported_modules(package: Path = ROOT / "blender_addon") -> set[str]:
    """The package's files that its ``__init__`` imports, directly or through others (also inside functions)."""
    files = {path.relative_to(package).as_posix(): path for path in package.rglob("*.py")}

    def named(module: str) -> str | None:
        base = module.replace(".", "/")
        return next((name for name in (f"{base}.py", f"{base}/__init__.py".lstrip("/")) if name in files), None)

    found, todo = set(), ["__init__.py"]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        parts = name.removesuffix(".py").split("/")
        here = parts[:-1]  # the package a module is in (an __init__ is in its own)
        todo += [f"{'/'.join(parts[:i])}/__init__.py" for i in range(1, len(parts))]
        for node in ast.walk(ast.parse(files[name].read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join([*here[:len(here) - node.level + 1], *([node.module] if node.module else [])])
                todo += [hit for hit in (named(base), *(named(f"{base}.{alias.name}".lstrip(".")) for alias in
                                                        node.names)) if hit]
    return found


def test_a_zip_holds_the_modules_the_extension_imports_and_no_others(extension_zips):
    """Everything register() and the code it runs import is in the zip; the live viewer (outside Blender) is not."""
    with zipfile.ZipFile(extension_zips["linux-x64"]) as archive:
        modules = {name for name in archive.namelist() if name.endswith(".py")}
    assert not any(name.startswith("live/") for name in modules)
    assert modules == imported_modules()


def test_build_install_enable_disable(extension_zips, tmp_path):
    path = extension_zips["linux-x64"]

    home = tmp_path / "home"
    home.mkdir()
    script = tmp_path / "install.py"
    script.write_text(INSTALL_AND_CHECK)
    env = {**os.environ, "HOME": str(home)}
    env.pop("BLENDER_USER_RESOURCES", None)
    result = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INSTALLED-AND-REMOVED" in result.stdout
    assert (home / ".config" / "blender").is_dir()  # installed into the isolated home, nowhere else


def test_importing_the_package_does_not_import_bpy():
    code = "import sys, blender_addon, blender_addon.core.engine; assert 'bpy' not in sys.modules; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_manifest_declares_what_the_issue_asks():
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    assert manifest["id"] == "motion_extraction" and manifest["blender_version_min"] == "5.0.0"
    assert manifest["tags"] == ["Sequencer"] and manifest["license"]
    assert list(manifest["permissions"]) == ["files"] and manifest["permissions"]["files"]


def test_manifest_range_is_the_blenders_the_tests_run_on():
    """Every bpy that scripts/test.sh tests lies in the manifest's range, and its newest minor is the last one in it."""
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    low, high = (tuple(map(int, manifest[key].split("."))) for key in ("blender_version_min", "blender_version_max"))
    tested = sorted({
        tuple(map(int, line.split("==")[1].split(".")))
        for path in ROOT.glob("requirements*.txt") for line in path.read_text().splitlines() if line.startswith("bpy==")
    })
    assert [version[:2] for version in tested] == [(5, 0), (5, 1), (5, 2)]
    assert low <= tested[0] and tested[-1] < high and high[:2] == (tested[-1][0], tested[-1][1] + 1)
