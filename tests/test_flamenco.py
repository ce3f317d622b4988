"""The Flamenco job type: compiled under node with a stand-in for Flamenco's globals, its tasks run here in order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from chunk_helpers import decoded, durations, write_clip

from blender_addon import cli
from blender_addon.core.sample_clip import SampleClip

ROOT = Path(__file__).resolve().parent.parent
JOB_SCRIPT = ROOT / "scripts" / "flamenco" / "motion_extraction.js"
STANDIN = Path(__file__).resolve().parent / "flamenco_standin.js"
NODE = shutil.which("node")
EFFECT = "--offset 2 --trails 0.5 --glow 1 --glow-radius 3"
# What stands in for Blender on a worker: this Python with the bpy module, running the --python script
# with Blender's command line as sys.argv (which is how the scripts find their arguments after "--").
FAKE_BLENDER = """#!{python}
import runpy
import sys

import bpy  # noqa: F401

arguments = sys.argv[1:]
assert arguments[0] == "-b", arguments
sys.argv = ["blender", *arguments]
runpy.run_path(arguments[arguments.index("--python") + 1], run_name="__main__")
"""


def compile_job(**settings) -> dict:
    assert NODE is not None, "node is not installed: run scripts/test.sh, which installs it"
    result = subprocess.run([NODE, str(STANDIN), str(JOB_SCRIPT), json.dumps(settings)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def job_settings(**changes) -> dict:
    settings = {"input": "/shots/walk.mov", "output": "/renders/walk_motion.mp4", "frames": "0-29",
                "chunk_size": 12, "scripts_dir": "/tools/motion-extraction/scripts", "effect_options": EFFECT}
    settings.update(changes)
    return settings


def test_the_job_type_declares_its_settings():
    job_type = compile_job(**job_settings())["jobType"]
    assert job_type["label"] == "Motion Extraction"
    settings = {setting["key"]: setting for setting in job_type["settings"]}
    assert {"input", "output", "frames", "chunk_size", "effect_options", "output_options", "no_audio", "scripts_dir",
            "blender"} <= set(settings)
    assert all(settings[key].get("required") for key in ("input", "output", "frames", "scripts_dir"))
    assert settings["blender"]["default"] == "{blender}" and settings["chunk_size"]["type"] == "int32"


def test_one_task_per_chunk_and_a_join_that_waits_for_them_all():
    tasks = compile_job(**job_settings(frames="0-25"))["tasks"]
    assert [task["name"] for task in tasks] == ["render-0-11", "render-12-23", "render-24-25", "join"]
    assert all(task["type"] == "blender" for task in tasks)
    assert tasks[-1]["dependencies"] == ["render-0-11", "render-12-23", "render-24-25"]
    assert all(task["dependencies"] == [] for task in tasks[:-1])
    render = tasks[2]["commands"]  # its chunk comes from frameChunker as "24,25"
    assert render == [{"name": "exec", "parameters": {"exe": "{blender}", "args": [
        "-b", "--factory-startup", "--python-exit-code", "1", "--python",
        "/tools/motion-extraction/scripts/motion_extract.py", "--", "/shots/walk.mov",
        "-o", "/renders/walk_motion-chunks/chunk-24-25.mkv", "--frames", "24:26", "--no-audio", "--overwrite",
        "--progress", *EFFECT.split()]}}]
    join = tasks[-1]["commands"][0]["parameters"]["args"]
    assert join[:7] == ["-b", "--factory-startup", "--python-exit-code", "1", "--python",
                        "/tools/motion-extraction/scripts/join_chunks.py", "--"]
    assert join[7:] == [f"/renders/walk_motion-chunks/chunk-{a}-{b}.mkv" for a, b in ((0, 11), (12, 23), (24, 25))] + [
        "-o", "/renders/walk_motion.mp4", "--overwrite", "--progress", "--audio-from", "/shots/walk.mov"]
    quiet = compile_job(**job_settings(no_audio=True, output_options="--crf 18", blender="/opt/blender/blender"))
    join = quiet["tasks"][-1]["commands"][0]["parameters"]
    assert join["exe"] == "/opt/blender/blender" and join["args"][-4:] == ["--overwrite", "--progress", "--crf", "18"]


@pytest.mark.parametrize("frames, message", [
    ("0-9,12-20", 'frames "0-9,12-20" has a gap after frame 9'),
    ("5-29", "frames must start at 0"),
    ("all", 'frames "all" is not a frame range such as 0-299'),
])
def test_compiling_refuses_frames_the_join_cannot_put_together(frames, message):
    assert message in compile_job(**job_settings(frames=frames))["error"]


def _in_dependency_order(tasks: list[dict]) -> list[dict]:
    done: list[str] = []
    ordered = []
    while len(ordered) < len(tasks):
        ready = [task for task in tasks if task["name"] not in done and set(task["dependencies"]) <= set(done)]
        assert ready, "a dependency cycle"
        for task in ready:
            ordered.append(task)
            done.append(task["name"])
    return ordered


def test_the_compiled_tasks_run_here_make_the_whole_render(tmp_path):
    clip = write_clip(tmp_path / "walk.mkv", SampleClip(160, 90, 30, 24.0))
    blender = tmp_path / "blender"
    blender.write_text(FAKE_BLENDER.format(python=sys.executable))
    blender.chmod(0o755)
    output = tmp_path / "renders" / "walk_motion.mkv"
    job = compile_job(**job_settings(input=str(clip), output=str(output), scripts_dir=str(ROOT / "scripts"),
                                     chunk_size=11))
    for task in _in_dependency_order(job["tasks"]):
        for command in task["commands"]:
            assert command["name"] == "exec"
            parameters = command["parameters"]
            exe = parameters["exe"].replace("{blender}", str(blender))  # Flamenco's variable, as a worker has it
            result = subprocess.run([exe, *parameters["args"]], capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"{task['name']}: {result.stderr}"
    whole = tmp_path / "whole.mkv"
    assert cli.main([str(clip), "-o", str(whole), *EFFECT.split(), "-q"]) == 0
    expected, got = decoded(whole), decoded(output)
    assert len(got) == len(expected) == 30
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))
    video, audio = durations(output)
    assert abs(video - audio) <= 1 / 24
    assert sorted(os.listdir(output.parent / "walk_motion-chunks")) == [
        "chunk-0-10.mkv", "chunk-11-21.mkv", "chunk-22-29.mkv"]
