"""The extension zip: built and validated with Blender's own tool, installed into an isolated
user directory with ``extensions.package_install_files``, enabled, and disabled cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
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
         "SEQUENCER_OT_motion_extract_output_colors", "SEQUENCER_PT_motion_extraction")
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


def test_build_validate_install_enable_disable(tmp_path):
    path = build_extension.build(tmp_path / "dist")
    assert path.name == "motion_extraction-0.1.0.zip"
    build_extension.validate(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"blender_manifest.toml", "__init__.py", "ui/operators.py", "vse/rig.py", "core/settings.py"} <= names
    assert not any("__pycache__" in name for name in names)

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
    import tomllib

    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    assert manifest["id"] == "motion_extraction" and manifest["blender_version_min"] == "5.0.0"
    assert manifest["tags"] == ["Sequencer"] and manifest["license"]
    assert list(manifest["permissions"]) == ["files"] and manifest["permissions"]["files"]
