"""Bake Motion from the installed extension: the platform zip in an isolated user directory, run by a bpy
whose Python has neither OpenCV nor PyAV (the bpy version these tests run with, alone in a venv of its own
that scripts/test.sh makes: ``.venv-blender-bare`` for 5.0, ``.venv-blender51-bare`` ...), so only the
bundled wheels can serve, on Python 3.11 and 3.13. The baked file equals the command line's exact render
of the same settings and frames; Re-bake updates the strip in place; a cancelled bake leaves no file and no
strip; undo removes the strip.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from blender_addon import cli, media
from blender_addon.core.sample_clip import SampleClip

ROOT = Path(__file__).resolve().parent.parent
MODULE = "bl_ext.user_default.motion_extraction"

# Runs in the bare venv: argv = zip, clip, work folder. Prints one JSON line of what it saw.
BAKE_SCRIPT = r"""
import importlib, importlib.util, json, os, sys, threading
zip_path, clip, work = sys.argv[1:4]
seen = {f"{name}_before": importlib.util.find_spec(name) is not None for name in ("cv2", "av")}
import bpy
installed = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert installed == {"FINISHED"}, installed
import av, cv2
seen.update(av=av.__file__, cv2=cv2.__file__)
bake = importlib.import_module("MODULE.vse.bake")
compat = importlib.import_module("MODULE.vse.compat")
Settings = importlib.import_module("MODULE.core.settings").Settings

scene = bpy.context.scene
scene.render.fps, scene.render.fps_base = 24, 1.0
editor = scene.sequence_editor_create()
source = editor.strips.new_movie(name="clip", filepath=clip, channel=2, frame_start=10)
placed = compat.timing(source)
placed.left_handle_offset, placed.right_handle_offset = 3, 2  # the sequencer shows media frames 3 to 24
editor.active_strip = source
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "edit.blend"))

def state(strip):
    return {"name": strip.name, "channel": strip.channel, "start": compat.timing(strip).left_handle,
            "duration": compat.timing(strip).duration, "path": bpy.path.abspath(strip.filepath),
            "frames": list(strip[bake.BAKE_KEY]["frames"]), "count": len(scene.sequence_editor.strips_all)}

seen["source"] = {"start": placed.left_handle, "duration": placed.duration, "channel": source.channel}
bpy.ops.ed.undo_push(message="before baking")
seen["bake"] = list(bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=2, look="difference", glow=0.5))
bpy.ops.ed.undo_push(message="Bake Motion")  # an operator called from Python leaves its undo step to the caller
seen["baked"] = state(scene.sequence_editor.active_strip)

bpy.ops.ed.undo()
scene = bpy.context.scene  # undo reloads the data: old references are stale
seen["after_undo"] = sorted(strip.name for strip in scene.sequence_editor.strips_all)
bpy.ops.ed.redo()
scene = bpy.context.scene
seen["after_redo"] = sorted(strip.name for strip in scene.sequence_editor.strips_all)

editor = scene.sequence_editor
editor.active_strip = editor.strips_all[seen["baked"]["name"]]
seen["rebake"] = list(bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=3))  # the rest: the strip's own settings
seen["rebaked"] = state(editor.active_strip)

# Cancel part way, as Esc does (the job's event), at the third frame; then a job cancelled on its thread.
editor.active_strip = editor.strips_all["clip"]
baked = editor.strips_all[seen["baked"]["name"]]
settings = Settings.from_mapping(dict(baked[bake.BAKE_KEY]["settings"])).replace(offset=4)  # as last baked
plan = bake.plan_bake(scene, editor.active_strip, settings, ".mkv")
stop = threading.Event()
frames_done = []
def progress(done):
    frames_done.append(done)
    if done == 3:
        stop.set()
try:
    bake.render_bake(plan, progress, stop)
    seen["cancelled"] = False
except bake.BakeCancelled:
    seen["cancelled"] = True
job = bake.BakeJob(plan)
job.cancel()
job.start()
job.wait()
seen.update(cancel_frames=frames_done, cancel_output=plan.output, job_error=job.error, job_cancelled=job.cancelled,
            cancel_folder=sorted(os.listdir(os.path.dirname(plan.output))),
            cancel_count=len(editor.strips_all))
print("BAKE-RESULT " + json.dumps(seen))
""".replace("MODULE", MODULE)


@pytest.fixture(scope="module")
def bare_python() -> Path:
    """The Python of the bare venv holding the bpy these tests run with."""
    major, minor = importlib.metadata.version("bpy").split(".")[:2]
    name = ".venv-blender-bare" if (major, minor) == ("5", "0") else f".venv-blender{major}{minor}-bare"
    python = ROOT / name / "bin" / "python"
    assert python.is_file(), f"no {name}: scripts/test.sh makes it"
    return python


def _read(path: Path | str) -> list[np.ndarray]:
    return list(media.open_source(path).read_from(0))


def _cli_render(clip: Path, output: Path, *flags: str) -> list[np.ndarray]:
    assert cli.main([str(clip), "-o", str(output), "--no-audio", "-q", *flags]) == 0
    return _read(output)


def test_bake_from_the_installed_zip_with_only_the_bundled_wheels(extension_zips, bare_python, tmp_path):
    clip_data = SampleClip(width=160, height=90, frame_count=27, fps=24.0)
    clip = tmp_path / "clip.mkv"
    with media.open_writer(clip, clip_data.fps, clip_data.width, clip_data.height) as writer:
        for frame in clip_data.read_from(0):
            writer.write(frame)
    work = tmp_path / "work"
    work.mkdir()
    script = tmp_path / "bake.py"
    script.write_text(BAKE_SCRIPT)
    user = tmp_path / "user"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "BLENDER_USER_RESOURCES": str(user)}
    result = subprocess.run([str(bare_python), str(script), str(extension_zips["linux-x64"]), str(clip), str(work)],
                            capture_output=True, text=True, env=env, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("BAKE-RESULT ")]
    assert result.returncode == 0 and lines, result.stdout[-3000:] + result.stderr[-3000:]
    seen = json.loads(lines[0].removeprefix("BAKE-RESULT "))

    # Only the zip's wheels can serve: the bare Python has neither, and they load from the user directory.
    assert not seen["cv2_before"] and not seen["av_before"]
    for name in ("av", "cv2"):
        assert Path(seen[name]).resolve().is_relative_to(user.resolve()), seen[name]

    # The bake: a strip above the source, on screen exactly where the source is, of the frames it shows.
    assert seen["bake"] == ["FINISHED"]
    baked, source = seen["baked"], seen["source"]
    assert baked["channel"] == source["channel"] + 1
    assert (baked["start"], baked["duration"]) == (source["start"], source["duration"]) == (13, 22)
    assert baked["frames"] == [3, 25]
    assert Path(baked["path"]).parent == work / "motion"
    frames = _read(baked["path"])
    expected = _cli_render(clip, tmp_path / "cli.mkv", "--frames", "3:25", "--offset", "2", "--look", "difference",
                           "--glow", "0.5")
    assert len(frames) == len(expected) == 22
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected, strict=True))
    assert len({frame.tobytes() for frame in frames}) > 1  # motion, not a still

    # Undo removes the strip; redo brings it back.
    assert baked["name"] not in seen["after_undo"] and baked["name"] in seen["after_redo"]

    # Re-bake: the same strip, updated in place, with the new settings over its own.
    assert seen["rebake"] == ["FINISHED"]
    rebaked = seen["rebaked"]
    assert {key: rebaked[key] for key in ("name", "channel", "start", "duration", "count")} == {
        key: baked[key] for key in ("name", "channel", "start", "duration", "count")}
    assert rebaked["path"] != baked["path"] and rebaked["frames"] == [3, 25]
    expected = _cli_render(clip, tmp_path / "cli3.mkv", "--frames", "3:25", "--offset", "3", "--look", "difference",
                           "--glow", "0.5")
    assert all(np.array_equal(a, b) for a, b in zip(_read(rebaked["path"]), expected, strict=True))

    # Cancelled part way, and on its thread: no file (not even a temporary), no strip.
    assert seen["cancelled"] and seen["cancel_frames"] == [1, 2, 3]
    assert seen["job_cancelled"] and seen["job_error"] is None
    assert not Path(seen["cancel_output"]).exists()
    assert sorted(seen["cancel_folder"]) == sorted({Path(baked["path"]).name, Path(rebaked["path"]).name})
    assert seen["cancel_count"] == rebaked["count"]

