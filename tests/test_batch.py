"""Several inputs in one command without a cluster (``INPUT... -o FOLDER/ --jobs N``): names, side files, a bad
input failing alone, two inputs of one base name refused up front."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from chunk_helpers import decoded
from media_helpers import smooth_frames, write_frames

from blender_addon import cli


def run_cli(*args: str | os.PathLike) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([str(arg) for arg in args], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def clips(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_frames(folder / name, smooth_frames(14), fps=10) for name in names]


def test_several_inputs_render_into_a_folder_with_their_side_files(tmp_path):
    a, b = clips(tmp_path / "in", "a.mkv", "b.mp4")
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, stderr = run_cli(a, b, "-o", f"{out}/", "--jobs", "2", "--data", "x.csv", "--plot", "x.png")
    assert code == 0, stderr
    assert sorted(os.listdir(out)) == sorted([
        "a_motion_gray_shift1.mkv", "a_motion_gray_shift1.csv", "a_motion_gray_shift1.csv.json",
        "a_motion_gray_shift1_plot.png", "b_motion_gray_shift1.mp4", "b_motion_gray_shift1.csv",
        "b_motion_gray_shift1.csv.json", "b_motion_gray_shift1_plot.png"])
    assert stdout == f"wrote {out}/a_motion_gray_shift1.mkv\nwrote {out}/b_motion_gray_shift1.mp4\n"
    single = tmp_path / "single.mkv"
    assert run_cli(a, "-o", single)[0] == 0
    assert all(np.array_equal(x, y) for x, y in zip(decoded(single), decoded(out / "a_motion_gray_shift1.mkv"),
                                                     strict=True))


def test_two_inputs_of_one_base_name_are_refused_before_anything_renders(tmp_path):
    (a,) = clips(tmp_path / "day1", "clip.mkv")
    (b,) = clips(tmp_path / "day2", "clip.mkv")
    (c,) = clips(tmp_path, "other.mkv")
    out = tmp_path / "out"
    out.mkdir()
    code, _, stderr = run_cli(c, a, b, "-o", f"{out}/")
    assert code == 2 and stderr == (f"motion_extract: error: {a} and {b} would both write {out}/clip_motion_gray_"
                                    "shift1.mkv: rename one of them or render them into different folders\n"), stderr
    assert os.listdir(out) == []
    code, _, stderr = run_cli(c, a, "-o", out / "one.mkv")
    assert code == 2 and "several inputs write into a folder: end it with /" in stderr
    code, _, stderr = run_cli(c, c, "-o", f"{out}/")
    assert code == 2 and "given twice" in stderr


def test_a_bad_input_fails_alone_with_a_summary_line(tmp_path):
    a, b = clips(tmp_path, "a.mkv", "b.mkv")
    missing = tmp_path / "missing.mp4"
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, stderr = run_cli(a, missing, b, "-o", f"{out}/", "-q")
    assert code == 1
    assert stderr.splitlines() == [f"motion_extract: error: {missing}: no such file",
                                   "motion_extract: error: 1 of 3 inputs failed (each named above)"]
    assert sorted(os.listdir(out)) == ["a_motion_gray_shift1.mkv", "b_motion_gray_shift1.mkv"]
