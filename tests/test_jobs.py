"""``--jobs N``: the frames of one process, the sound kept, nothing left behind when a process fails or is stopped."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from chunk_helpers import decoded, durations, write_clip

from blender_addon import cli
from blender_addon.core.sample_clip import SampleClip
from blender_addon.render import jobs

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "motion_extract.py"


def render(*args: str | os.PathLike) -> tuple[int, str]:
    stderr = io.StringIO()
    code = cli.main([str(arg) for arg in args], io.StringIO(), stderr)
    return code, stderr.getvalue()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("jobs") / "walk.mkv", SampleClip(160, 90, 30, 24.0))


@pytest.mark.parametrize("options", [
    ["--offset", "2", "--trails", "0.7", "--glow", "1", "--glow-radius", "3"],  # trails: pre-roll renders
    ["--offset", "-3", "--time-colour"],  # partners after the frame
    ["--mode", "freeze", "--reference", "20", "--layout", "side"],
    ["--edges", "trim", "--offset", "4", "--frames", "3:24"],
], ids=["trails", "negative offset", "freeze", "trim and frames"])
def test_jobs_render_the_frames_of_one_process(clip, tmp_path, options):
    one, three = tmp_path / "one.mkv", tmp_path / "three.mkv"
    assert render(clip, "-o", one, *options, "-q") == (0, "")
    assert render(clip, "-o", three, *options, "--jobs", "3", "-q") == (0, "")
    expected, got = decoded(one), decoded(three)
    assert len(got) == len(expected)
    for index, (a, b) in enumerate(zip(expected, got, strict=True)):
        assert np.array_equal(a, b), f"frame {index}"
    assert sorted(os.listdir(tmp_path)) == ["one.mkv", "three.mkv"]  # the work folder is gone


def test_jobs_to_mp4_keep_the_sound_and_image_sequences_work_too(clip, tmp_path):
    output = tmp_path / "motion.mp4"
    assert render(clip, "-o", output, "--glow", "1", "--jobs", "2", "-q") == (0, "")
    video, audio = durations(output)
    assert len(decoded(output)) == 30 and abs(video - audio) <= 1 / 24
    frames = tmp_path / "frames" / "%04d.png"
    assert render(clip, "-o", frames, "--glow", "1", "--jobs", "4", "--frames", "5:30", "-q") == (0, "")
    assert sorted(os.listdir(frames.parent)) == [f"{number:04d}.png" for number in range(5, 30)]


def test_jobs_under_blender(clip, tmp_path):
    """Run as Blender runs the script (bpy imported, its arguments after ``--``), the children find what it found."""
    output = tmp_path / "motion.mkv"
    argv = ["blender", "-b", "--python", str(SCRIPT), "--", str(clip), "-o", str(output), "--glow", "1", "--jobs", "2"]
    code = f"import sys, bpy, runpy; sys.argv = {argv!r}; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    one = tmp_path / "one.mkv"
    assert render(clip, "-o", one, "--glow", "1", "-q") == (0, "")
    assert all(np.array_equal(a, b) for a, b in zip(decoded(one), decoded(output), strict=True))


def test_jobs_refusals(clip, tmp_path):
    code, errors = render(clip, "-o", tmp_path / "a.mkv", "--jobs", "0")
    assert code == 2 and "invalid number of jobs '0'" in errors
    code, errors = render(clip, "-o", tmp_path / "a.mkv", "--jobs", "2", "--engine", "vse")
    assert code == 2 and "--jobs renders files with the exact engine, not with --engine vse" in errors
    code, errors = render("http://example.invalid/clip.mp4", "-o", tmp_path / "a.mkv", "--jobs", "2")
    assert code == 2 and "is a stream" in errors
    code, errors = render(clip, "-o", tmp_path / "a.mkv", "--jobs", "2", "--print-ffmpeg")
    assert code == 2 and "--jobs: --print-ffmpeg prints one ffmpeg command; leave --jobs out" in errors


def test_jobs_say_when_the_disk_cannot_hold_the_intermediates(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs.shutil, "disk_usage", lambda folder: type("Usage", (), {"free": 1000})())
    code, errors = render(clip, "-o", tmp_path / "a.mkv", "--jobs", "2")
    assert code == 1 and "--jobs needs 0.3 GB free beside the output for its intermediate frames" in errors, errors
    assert os.listdir(tmp_path) == []


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        children.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return children


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the children in /proc")
@pytest.mark.parametrize("victim", ["child", "parent"])
def test_a_failed_or_stopped_process_leaves_nothing_behind(tmp_path, victim):
    clip = write_clip(tmp_path / "long.mkv", SampleClip(320, 180, 240, 24.0), sound=False)
    output = tmp_path / "out" / "motion.mkv"
    render_process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(clip), "-o", str(output), "--trails", "0.9", "--glow", "1", "--jobs", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while len(children := _children_of(render_process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(children) == 2, "the children did not start"
    time.sleep(0.5)
    os.kill(children[0] if victim == "child" else render_process.pid, signal.SIGKILL if victim == "child"
            else signal.SIGTERM)
    _, errors = render_process.communicate(timeout=60)
    assert render_process.returncode == (1 if victim == "child" else 128 + signal.SIGTERM)
    if victim == "child":
        assert "(a process of --jobs) failed: exit code -9" in errors, errors
    else:
        assert "interrupted: no output was written" in errors, errors
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{child}") for child in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{child}") for child in children)
    assert not output.parent.exists()  # the folder made for the output went with it


def test_a_process_that_fails_silently_on_a_full_disk_is_said_to_have_filled_it(tmp_path, monkeypatch):
    log = tmp_path / "chunk10.log"
    log.write_text("")  # the child could not write its error either
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    process.wait()
    child = jobs._Child(process, str(tmp_path / "chunk10.raw"), 10, 20, str(log))
    assert child.failure() == "chunk 10:20 (a process of --jobs) failed: exit code 1"
    monkeypatch.setattr(jobs.shutil, "disk_usage", lambda folder: type("Usage", (), {"free": 4096})())
    assert child.failure() == "chunk 10:20 (a process of --jobs) failed: the disk is full"


def test_jobs_start_only_the_processes_that_help(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs.os, "sched_getaffinity", lambda pid: {0, 1})  # two cores
    assert [jobs.useful_jobs(count, frames) for count, frames in [(64, 50), (3, 30), (3, 21), (2, 9), (8, 4)]] == [
        4, 3, 3, 1, 1]
    started = []
    start_child = jobs._start_child
    monkeypatch.setattr(jobs, "_start_child", lambda *args: started.append(args) or start_child(*args))
    one, many = tmp_path / "one.mkv", tmp_path / "many.mkv"
    assert render(clip, "-o", one, "-q") == (0, "")
    assert render(clip, "-o", many, "--jobs", "64", "-q") == (0, "")
    assert len(started) == 3  # four processes, this one included
    for index, (a, b) in enumerate(zip(decoded(one), decoded(many), strict=True)):
        assert np.array_equal(a, b), f"frame {index}"
