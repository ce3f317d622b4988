"""The Flamenco job type: compiled under node by a stand-in as strict as Flamenco's job compiler (golden tasks,
field by field), its tasks run here in order as a worker runs them, and its ``eval`` strings run in real bpy."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
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
# The lines a Flamenco worker counts as one step of a blender-render command (its command_blender.go).
WORKER_STEP = re.compile(r"^Time: ([0-9:.]+)")
# What stands in for Blender on a worker: this Python with the bpy module, taking Blender's arguments in their
# order (flags, a .blend to open, --python-expr, --python with Blender's command line as sys.argv).
FAKE_BLENDER = """#!{python}
import runpy
import sys

import bpy

arguments = sys.argv[1:]
assert "-b" in arguments[:arguments.index("--")], arguments
sys.argv = ["blender", *arguments]
exit_code = 0
index = 0
while index < len(arguments):
    argument = arguments[index]
    if argument == "--":
        break
    if argument in ("-b", "-y", "--factory-startup"):
        index += 1
    elif argument == "--python-exit-code":
        exit_code = int(arguments[index + 1])
        index += 2
    elif argument in ("--python-expr", "--python"):
        try:
            if argument == "--python-expr":
                exec(arguments[index + 1], {{}})
            else:
                runpy.run_path(arguments[index + 1], run_name="__main__")
        except SystemExit as exit:
            if exit.code:
                sys.exit(exit.code)
        except Exception:
            import traceback

            traceback.print_exc()
            sys.exit(exit_code)
        index += 2
    elif argument.endswith(".blend"):
        bpy.ops.wm.open_mainfile(filepath=argument)
        index += 1
    else:
        sys.exit(f"fake blender: unknown argument {{argument}}")
"""


def compile_job(**settings) -> dict:
    """The job compiled from exactly ``settings`` (as the Manager passes what the submitter sent)."""
    return _compile(JOB_SCRIPT, settings)


def _compile(script: Path, settings: dict) -> dict:
    assert NODE is not None, "node is not installed: run scripts/test.sh, which installs it"
    result = subprocess.run([NODE, str(STANDIN), str(script), json.dumps(settings)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def job_settings(**changes) -> dict:
    settings = {"input": "/shots/walk.mov", "output": "/renders/walk_motion.mp4", "frames": "0-29",
                "chunk_size": 12, "scripts_dir": "/tools/motion-extraction/scripts", "effect_options": EFFECT}
    settings.update(changes)
    return settings


def blender_render(args: list[str], steps: int, blendfile: str = "") -> dict:
    return {"name": "blender-render", "totalStepCount": steps, "parameters": {
        "exe": "{blender}", "exeArgs": "{blenderArgs}", "argsBefore": ["-b", "--factory-startup"],
        "blendfile": blendfile, "args": args}}


def test_the_job_type_declares_its_settings():
    job = compile_job(**job_settings())
    assert job["jobTypeName"] == "motion-extraction" and job["jobType"]["label"] == "Motion Extraction"
    settings = {setting["key"]: setting for setting in job["jobType"]["settings"]}
    assert list(settings) == ["input", "output", "frames", "chunk_size", "effect_options", "output_options",
                              "no_audio", "scripts_dir", "blendfile", "input_scene", "input_strip"]
    assert [key for key, setting in settings.items() if setting.get("required")] == [
        "input", "output", "frames", "scripts_dir"]
    assert {key: setting["type"] for key, setting in settings.items() if setting["type"] != "string"} == {
        "chunk_size": "int32", "no_audio": "bool"}
    assert {key: setting["default"] for key, setting in settings.items() if "default" in setting} == {
        "chunk_size": 250, "effect_options": "", "output_options": "", "no_audio": False}
    assert settings["blendfile"]["visible"] == "web"  # the add-on fills it with the packed .blend's path
    assert settings["input_scene"]["visible"] == settings["input_strip"]["visible"] == "hidden"


# --- golden tasks: each settings map compiled, the tasks asserted field by field ------------------------------

def test_golden_only_the_required_settings_get_the_defaults():
    job = compile_job(input="/shots/walk.mov", output="/renders/walk_motion.mp4", frames="0-599",
                      scripts_dir="/tools/scripts")
    assert job["settings"] == {"input": "/shots/walk.mov", "output": "/renders/walk_motion.mp4", "frames": "0-599",
                               "scripts_dir": "/tools/scripts", "chunk_size": 250, "effect_options": "",
                               "output_options": "", "no_audio": False}
    tasks = job["tasks"]
    assert [task["name"] for task in tasks] == ["render-0-249", "render-250-499", "render-500-599", "join"]
    assert [task["type"] for task in tasks] == ["blender"] * 4 and [task["priority"] for task in tasks] == [50] * 4
    assert [task["dependencies"] for task in tasks] == [[], [], [], ["render-0-249", "render-250-499",
                                                                     "render-500-599"]]
    for task, (first, stop) in zip(tasks, ((0, 250), (250, 500), (500, 600)), strict=False):
        assert task["commands"] == [blender_render([
            "--python-exit-code", "1", "--python", "/tools/scripts/motion_extract.py", "--", "/shots/walk.mov",
            "-o", f"/renders/walk_motion-chunks/chunk-{first}-{stop - 1}.mkv", "--frames", f"{first}:{stop}",
            "--no-audio", "--overwrite", "--farm-progress"], stop - first)]
    assert tasks[3]["commands"] == [blender_render([
        "--python-exit-code", "1", "--python", "/tools/scripts/join_chunks.py", "--",
        "/renders/walk_motion-chunks/chunk-0-249.mkv", "/renders/walk_motion-chunks/chunk-250-499.mkv",
        "/renders/walk_motion-chunks/chunk-500-599.mkv", "-o", "/renders/walk_motion.mp4", "--overwrite",
        "--farm-progress", "--audio-from", "/shots/walk.mov"], 600)]


def test_golden_submitted_from_blender_reads_the_packed_movie():
    job = compile_job(
        input="C:\\shots\\walk.mov", output="C:\\renders\\walk_motion.mp4", frames="0..25", chunk_size=12,
        scripts_dir="S:\\tools\\scripts", effect_options='--tint "light blue" --offset 2',
        output_options="--crf 18 --encoder-preset 'very slow'", no_audio=False,
        blendfile="{jobs}/2026-12-07-walk/shot.flamenco.blend", input_scene='Edit "1"', input_strip="walk.mov")
    tasks = job["tasks"]
    assert [task["name"] for task in tasks] == ["render-0-11", "render-12-23", "render-24-25", "join"]
    assert tasks[3]["dependencies"] == ["render-0-11", "render-12-23", "render-24-25"]
    strip = 'bpy.data.scenes["Edit \\"1\\""].sequence_editor.strips_all["walk.mov"]'
    find_input = (f'import bpy, sys; a = sys.argv; a[a.index("--") + 1] = bpy.path.abspath({strip}.filepath, '
                  f'library={strip}.id_data.library)')
    find_sound = find_input.replace('"--"', '"--audio-from"')
    assert tasks[2]["commands"] == [blender_render([
        "--python-exit-code", "1", "--python-expr", find_input, "--python", "S:/tools/scripts/motion_extract.py",
        "--", "C:\\shots\\walk.mov", "-o", "C:/renders/walk_motion-chunks/chunk-24-25.mkv", "--frames", "24:26",
        "--no-audio", "--overwrite", "--farm-progress", "--tint", "light blue", "--offset", "2"], 2,
        "{jobs}/2026-12-07-walk/shot.flamenco.blend")]
    assert tasks[0]["commands"][0]["parameters"]["args"][10:13] == ["--frames", "0:12", "--no-audio"]
    assert tasks[3]["commands"] == [blender_render([
        "--python-exit-code", "1", "--python-expr", find_sound, "--python", "S:/tools/scripts/join_chunks.py", "--",
        "C:/renders/walk_motion-chunks/chunk-0-11.mkv", "C:/renders/walk_motion-chunks/chunk-12-23.mkv",
        "C:/renders/walk_motion-chunks/chunk-24-25.mkv", "-o", "C:\\renders\\walk_motion.mp4", "--overwrite",
        "--farm-progress", "--audio-from", "C:\\shots\\walk.mov", "--crf", "18", "--encoder-preset", "very slow"], 26,
        "{jobs}/2026-12-07-walk/shot.flamenco.blend")]


def test_golden_no_sound_and_input_typed_by_hand_open_no_blend():
    typed = compile_job(**job_settings(frames="0-1", chunk_size=1, blendfile="/jobs/a/shot.flamenco.blend",
                                       input_scene="", input_strip="", effect_options=""))
    assert [task["name"] for task in typed["tasks"]] == ["render-0-0", "render-1-1", "join"]
    assert typed["tasks"][1]["commands"] == [blender_render([
        "--python-exit-code", "1", "--python", "/tools/motion-extraction/scripts/motion_extract.py", "--",
        "/shots/walk.mov", "-o", "/renders/walk_motion-chunks/chunk-1-1.mkv", "--frames", "1:2", "--no-audio",
        "--overwrite", "--farm-progress"], 1)]
    quiet = compile_job(**job_settings(frames="0,1", chunk_size=5, no_audio=True, blendfile="/jobs/a/s.blend",
                                       input_scene="Scene", input_strip="walk", effect_options="",
                                       output_options="--codec ffv1"))
    assert [task["name"] for task in quiet["tasks"]] == ["render-0-1", "join"]
    assert quiet["tasks"][0]["commands"][0]["parameters"]["blendfile"] == "/jobs/a/s.blend"
    assert quiet["tasks"][1]["commands"] == [blender_render([
        "--python-exit-code", "1", "--python", "/tools/motion-extraction/scripts/join_chunks.py", "--",
        "/renders/walk_motion-chunks/chunk-0-1.mkv", "-o", "/renders/walk_motion.mp4", "--overwrite",
        "--farm-progress", "--codec", "ffv1"], 2)]


@pytest.mark.parametrize("changes, message", [
    ({"frames": "0-9,12-20"}, 'frames "0-9,12-20" has a gap after frame 9'),
    ({"frames": "5-29"}, "frames must start at 0"),
    ({"frames": "all"}, 'frames "all" is not a frame range such as 0-299'),
    ({"chunk_size": 0}, 'chunk_size must be a whole number of frames, 1 or more (got "0")'),
    ({"output": " "}, 'the setting "output" is required'),
    ({"effect_options": '--tint "light blue'}, "effect_options cannot be split into words"),
])
def test_compiling_refuses_what_cannot_be_rendered(changes, message):
    assert message in compile_job(**job_settings(**changes))["error"]


def test_a_missing_required_setting_is_named():
    settings = job_settings()
    del settings["scripts_dir"]
    assert compile_job(**settings)["error"] == 'the setting "scripts_dir" is required'


# --- the stand-in is as strict as Flamenco ---------------------------------------------------------------------

PROBE = """const JOB_TYPE = { label: "Probe", settings: [{ key: "size", type: "int32", default: 3 }] };
function attempt(fn) { try { return fn(); } catch (error) { return `threw ${error}`; } }
function compileJob(job) {
    const seen = {
        settings: Object.keys(job.settings),
        fields: ["jobID", "workerTagUUID", "name", "jobType", "priority", "status", "created", "settings",
                 "metadata", "storage"].filter((key) => job[key] === undefined),
        globals: [typeof console, typeof require, typeof Intl, typeof process.platform, typeof process.cwd()],
        sloppy: attempt(() => { undeclared = 1; return "assigned"; }),
        emptyName: attempt(() => author.Task(" ", "blender")),
        emptyType: attempt(() => author.Task("render", "")),
        emptyRange: attempt(() => frameChunker("", 4)),
        noSize: attempt(() => frameChunker("0-9", job.settings.size)),
        chunks: frameChunker("1..10,20..25,40", 4),
        count: frameCount("1-10,20..25,40"),
        words: shellSplit(`--tint "light blue" --data 'my data/m.csv' a\\\\ b # a comment`),
        unclosed: attempt(() => shellSplit("--tint 'blue")),
        paths: [path.join("C:\\\\renders", "shot", "../walk-chunks", "a.mkv"),
                path.dirname("C:\\\\renders\\\\walk.mp4"),
                path.basename("C:\\\\renders\\\\walk.mp4"), path.stem("/r/walk.motion.mp4"), path.dirname("walk.mp4")],
        command: author.Command("echo", { message: "hi" }),
    };
    job.addTask(author.Task(JSON.stringify(seen), "probe"));
}
"""


def test_the_standin_is_as_strict_as_flamenco(tmp_path):
    probe = tmp_path / "probe.js"
    probe.write_text(PROBE)
    job = _compile(probe, {"other": 1})
    seen = json.loads(job["tasks"][0]["name"])
    assert seen["settings"] == ["other"]  # no defaults filled in
    assert seen["fields"] == []
    assert seen["globals"] == ["undefined", "undefined", "undefined", "string", "string"]
    assert seen["sloppy"].startswith("threw ReferenceError")  # compiled strict
    assert "author.Task(name, type): name is required" in seen["emptyName"]
    assert "author.Task(name, type): type is required" in seen["emptyType"]
    assert 'invalid range "": empty range' in seen["emptyRange"]
    assert "invalid chunk size, must be positive number: 0" in seen["noSize"]
    assert seen["chunks"] == ["1-4", "5-8", "9,10,20,21", "22-25", "40"]
    assert seen["count"] == 17
    assert seen["words"] == ["--tint", "light blue", "--data", "my data/m.csv", "a b"]
    assert "EOF found when expecting closing quote" in seen["unclosed"]
    assert seen["paths"] == ["C:/renders/walk-chunks/a.mkv", "C:/renders", "walk.mp4", "walk.motion", "."]
    assert seen["command"] == {"name": "echo", "parameters": {"message": "hi"}, "totalStepCount": 0}
    assert job["jobTypeName"] == "probe"


# --- the tasks run here as a worker runs them ------------------------------------------------------------------

def test_farm_progress_prints_a_line_the_worker_counts_per_frame(tmp_path):
    clip = write_clip(tmp_path / "walk.mkv", SampleClip(128, 72, 12, 24.0), sound=False)
    stderr = io.StringIO()
    assert cli.main([str(clip), "-o", str(tmp_path / "part.mkv"), "--frames", "2:9", "--farm-progress"],
                    stdout=io.StringIO(), stderr=stderr) == 0
    steps = [line for line in stderr.getvalue().splitlines() if WORKER_STEP.match(line)]
    assert len(steps) == 7 and steps[-1].endswith("(frame 7/7)")
    quiet = ["-o", str(tmp_path / "quiet.mkv"), "--farm-progress", "-q"]
    assert cli.main([str(clip), *quiet], stdout=io.StringIO(), stderr=io.StringIO()) == 2  # one or the other


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


def _run_as_worker(command: dict, blender: Path) -> list[str]:
    """A blender-render command run as Flamenco's worker runs it: {blender} and {blenderArgs} (its default
    ``-b -y``) expanded, exeArgs split with shlex, then argsBefore, the blendfile when not empty, args."""
    assert command["name"] == "blender-render"
    parameters = command["parameters"]
    for key in ("exe", "exeArgs", "blendfile"):
        assert isinstance(parameters[key], str), key
    assert all(isinstance(word, str) for word in parameters["argsBefore"] + parameters["args"])
    argv = [parameters["exe"].replace("{blender}", str(blender)),
            *shlex.split(parameters["exeArgs"].replace("{blenderArgs}", "-b -y")), *parameters["argsBefore"],
            *([parameters["blendfile"]] if parameters["blendfile"] else []), *parameters["args"]]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in (result.stdout + result.stderr).splitlines() if WORKER_STEP.match(line)]


def _saved_shot(folder: Path, clip: SampleClip, sound: bool = True) -> Path:
    """``folder/shot.blend``, its scene "Edit" with an active movie strip "walk" reading ``//footage/walk.mkv``
    (as Blender stores a relative path); returns the movie's path."""
    import bpy

    (folder / "footage").mkdir(parents=True)
    movie = write_clip(folder / "footage" / "walk.mkv", clip, sound=sound)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.data.scenes[0]
    scene.name = "Edit"
    scene.sequence_editor_create()
    strip = scene.sequence_editor.strips.new_movie(name="walk", filepath=str(movie), channel=1, frame_start=1)
    scene.sequence_editor.active_strip = strip
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "shot.blend"))
    strip.filepath = "//footage/walk.mkv"
    bpy.ops.wm.save_mainfile()
    return movie


def _packed_shot(tmp_path: Path, clip: SampleClip) -> tuple[Path, Path]:
    """A saved shot and its pack on "shared storage" (the .blend and the movie copied as the add-on's packing lays
    them out); the original movie is gone after."""
    project = tmp_path / "project"
    movie = _saved_shot(project, clip)
    pack = tmp_path / "jobs" / "2026-12-07-walk"
    (pack / "footage").mkdir(parents=True)
    shutil.copy(project / "shot.blend", pack / "shot.flamenco.blend")
    shutil.move(movie, pack / "footage" / "walk.mkv")
    return movie, pack


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "plain"])
def test_the_compiled_tasks_run_here_make_the_whole_render(tmp_path, packed):
    clip = SampleClip(160, 90, 30, 24.0)
    if packed:
        original, pack = _packed_shot(tmp_path, clip)
        movie = pack / "footage" / "walk.mkv"
        sent = {"input": str(original), "blendfile": str(pack / "shot.flamenco.blend"), "input_scene": "Edit",
                "input_strip": "walk"}
    else:
        movie = write_clip(tmp_path / "walk.mkv", clip)
        sent = {"input": str(movie)}
    blender = tmp_path / "blender"
    blender.write_text(FAKE_BLENDER.format(python=sys.executable))
    blender.chmod(0o755)
    output = tmp_path / "renders" / "walk_motion.mkv"
    job = compile_job(output=str(output), frames="0-29", scripts_dir=str(ROOT / "scripts"), chunk_size=11,
                      effect_options=EFFECT, **sent)
    for task in _in_dependency_order(job["tasks"]):
        for command in task["commands"]:
            steps = _run_as_worker(command, blender)
            assert len(steps) == command["totalStepCount"], task["name"]
    whole = tmp_path / "whole.mkv"
    assert cli.main([str(movie), "-o", str(whole), *EFFECT.split(), "-q"]) == 0
    expected, got = decoded(whole), decoded(output)
    assert len(got) == len(expected) == 30
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))
    video, audio = durations(output)
    assert abs(video - audio) <= 1 / 24
    assert sorted(os.listdir(output.parent / "walk_motion-chunks")) == [
        "chunk-0-10.mkv", "chunk-11-21.mkv", "chunk-22-29.mkv"]


# --- every eval in real bpy, as Flamenco's add-on runs it -----------------------------------------------------

PROPERTY_TYPES = {"string": str, "int32": int, "float": float, "bool": bool}


def _job_type_settings_group(job_type: dict):
    """A PropertyGroup made from the job type as the add-on makes it (one property per setting, of the
    setting's type, and an ``autoeval_KEY`` toggle, on by default, per setting with a link button)."""
    import bpy

    properties = {"bool": bpy.props.BoolProperty, "string": bpy.props.StringProperty,
                  "int32": bpy.props.IntProperty, "float": bpy.props.FloatProperty}
    annotations = {}
    for setting in job_type["settings"]:
        keywords = {"options": set()}
        if "default" in setting:
            keywords["default"] = PROPERTY_TYPES[setting["type"]](setting["default"])
        if "subtype" in setting:
            keywords["subtype"] = setting["subtype"].upper().replace("HASHED_FILE_PATH", "FILE_PATH")
        annotations[setting["key"]] = properties[setting["type"]](**keywords)
        if setting.get("evalInfo", {}).get("showLinkButton"):
            annotations[f"autoeval_{setting['key']}"] = bpy.props.BoolProperty(default=True)
    return type("MotionExtractionJobSettings", (bpy.types.PropertyGroup,), {"__annotations__": annotations})


def _add_on_locals(context, settings) -> dict:
    """The locals Flamenco's add-on gives an ``eval`` (its abspath returns a pathlib.Path)."""
    import bpy

    def abspath(filepath) -> Path:
        return Path(os.path.abspath(bpy.path.abspath(str(filepath))))

    def last_n_dir_parts(n: int, filepath=None) -> Path:
        folder = Path(bpy.path.abspath(str(filepath or bpy.data.filepath))).parent
        return Path(*folder.parts[-n:]) if n > 0 else Path()

    return {"bpy": bpy, "C": context, "D": bpy.data, "jobname": "walk", "Path": Path, "abspath": abspath,
            "last_n_dir_parts": last_n_dir_parts, "settings": settings}


def _evaluate_every_setting(job_type: dict, settings) -> dict:
    """Each setting with an ``eval``, evaluated and assigned to its property as the add-on does; the values."""
    import bpy

    values = {}
    for setting in job_type["settings"]:
        if "eval" not in setting:
            continue
        value = eval(setting["eval"], {}, _add_on_locals(bpy.context, settings))
        assert type(value) is PROPERTY_TYPES[setting["type"]], (setting["key"], value)
        setattr(settings, setting["key"], value)  # a wrong type raises TypeError here, as in the add-on
        values[setting["key"]] = value
    return values


@pytest.mark.parametrize("where", ["one-scene", "sequencer-scene-elsewhere", "linked-scene"])
def test_every_eval_returns_its_settings_type_in_bpy(tmp_path, where, monkeypatch):
    import bpy

    job_type = compile_job(**job_settings())["jobType"]
    movie = _saved_shot(tmp_path, SampleClip(128, 72, 20, 24.0), sound=False)
    edit = bpy.data.scenes["Edit"]
    if where == "linked-scene":  # the strip's //footage/walk.mkv is beside the library, not the open file
        bpy.ops.wm.read_factory_settings(use_empty=True)
        with bpy.data.libraries.load(str(tmp_path / "shot.blend"), link=True) as (_, linked):
            linked.scenes = ["Edit"]
        edit = linked.scenes[0]
        (tmp_path / "elsewhere").mkdir()
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "elsewhere" / "main.blend"))
        job = compile_job(**job_settings(blendfile="main.blend", input_scene="Edit", input_strip="walk"))
        args = job["tasks"][0]["commands"][0]["parameters"]["args"]
        monkeypatch.setattr(sys, "argv", ["blender", "--", "typed"])
        exec(args[args.index("--python-expr") + 1], {})  # what the worker runs to find the packed movie
        assert os.path.normpath(sys.argv[2]) == str(movie)
    if where != "one-scene":
        layout = bpy.data.scenes.new("Layout")
        bpy.context.window.scene = layout
        bpy.context.workspace.sequencer_scene = edit
        assert bpy.context.scene == layout and bpy.context.sequencer_scene == edit
    group = _job_type_settings_group(job_type)
    bpy.utils.register_class(group)
    try:
        bpy.types.Scene.motion_extraction_job = bpy.props.PointerProperty(type=group)
        settings = bpy.context.scene.motion_extraction_job
        values = _evaluate_every_setting(job_type, settings)
        assert values == {"input": str(movie), "frames": "0-19", "input_scene": "Edit", "input_strip": "walk"}
        settings.autoeval_input = False  # Input typed by hand: no strip is named, so the job reads Input
        assert _evaluate_every_setting(job_type, settings)["input_strip"] == ""
    finally:
        del bpy.types.Scene.motion_extraction_job
        bpy.utils.unregister_class(group)
