"""Several inputs in one command without a cluster (``INPUT... -o FOLDER/ --jobs N``): names, side files, a bad
input failing alone, two inputs of one base name refused up front."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
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


@pytest.mark.parametrize("where", [[], ["--cluster", "local:2"]])
def test_an_output_named_as_another_input_is_refused_before_anything_renders(tmp_path, where):
    """``x.mp4`` writes ``x_motion_gray_shift1.mp4``, which is given as an input too: with ``--overwrite`` it was
    replaced, then rendered from."""
    x, other = clips(tmp_path, "x.mkv", "x_motion_gray_shift1.mkv")
    before = other.read_bytes()
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([str(x), str(other), "-o", f"{tmp_path}/", "--overwrite", *where], stdout, stderr,
                    cluster=lambda *_: pytest.fail("the cluster was asked"))
    assert code == 2 and stderr.getvalue() == (f"motion_extract: error: output {other} would overwrite the input: "
                                               "choose another output path\n"), stderr.getvalue()
    assert sorted(os.listdir(tmp_path)) == ["x.mkv", "x_motion_gray_shift1.mkv"] and other.read_bytes() == before
    code, _, stderr = run_cli(x, other, "-o", f"{tmp_path}/", "--data", "d.csv", "--overwrite")
    assert code == 2 and "would overwrite the input" in stderr


def test_the_front_ends_of_several_inputs_share_one_output_check(tmp_path):
    """``RenderRequest.output_problem``: what the batch and the cluster refuse an output for, in one line each."""
    from blender_addon import frontend
    from blender_addon.cli import batch
    from blender_addon.cluster import _check_outputs
    from blender_addon.core.settings import Settings
    from blender_addon.render import RenderRequest, RequestError
    from blender_addon.render.request import DataRequest

    a, b = tmp_path / "a.mkv", tmp_path / "b.mkv"
    fine = RenderRequest(a, tmp_path / "out.mkv", Settings())
    assert fine.output_problem([a, b]) is None
    over = RenderRequest(a, b, Settings())
    assert over.output_problem([a, b]) == f"output {b} would overwrite the input: choose another output path"
    twice = RenderRequest(a, tmp_path / "out.mkv", Settings(), data=DataRequest(data=str(tmp_path / "out.mkv")))
    assert "this render would write it twice" in twice.output_problem([a])
    for request in (over, twice):
        with pytest.raises(frontend.UsageError, match=re.escape(request.output_problem([a, b]))):
            batch._refuse_shared_names([request, RenderRequest(b, tmp_path / "c.mkv", Settings())])
        with pytest.raises(RequestError, match=re.escape(request.output_problem([a, b]))):
            _check_outputs(request, [str(a), str(b)])
    assert os.listdir(tmp_path) == []


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


def test_progress_names_the_input_under_way_with_its_frames_and_q_is_silent(tmp_path):
    a, b = clips(tmp_path / "in", "a.mkv", "b.mkv")
    out = tmp_path / "out"
    out.mkdir()
    code, _, stderr = run_cli(a, b, "-o", f"{out}/", "--progress")
    assert code == 0, stderr
    lines = [line for line in stderr.splitlines() if " frames " in line]
    # The first line, as the first input starts; the last, as the second ends: 14 output frames each.
    assert lines[0].startswith("1/28 frames") and lines[0].endswith("[a.mkv 1/14]"), lines
    assert lines[-1].startswith("28/28 frames") and lines[-1].endswith("[b.mkv 14/14]"), lines
    for quiet in ((), ("-q",)):  # on a terminal, progress is shown by default; -q silences it
        stdout, terminal = io.StringIO(), Terminal()
        code = cli.main([str(a), str(b), "-o", f"{out}/", "--overwrite", *quiet], stdout, terminal)
        assert code == 0 and ("[b.mkv 14/14]" in terminal.getvalue()) == (not quiet), terminal.getvalue()
    assert terminal.getvalue() == stdout.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_stays_one_line_for_a_hundred_inputs(monkeypatch):
    import shutil
    import time

    from blender_addon.frontend import Progress

    def drawn(columns: int, inputs) -> tuple[Progress, str]:
        monkeypatch.setattr(shutil, "get_terminal_size", lambda *args: os.terminal_size((columns, 24)))
        progress = Progress(0, enabled=True, stream=Terminal())
        progress.started = time.monotonic() - 100  # 10 fps
        progress.under_way(inputs)
        progress.update(1000, 30000)
        return progress, progress.stream.getvalue()

    hundred = [(f"input_with_a_rather_long_name_{index:03d}.mp4", index, 300) for index in range(100)]
    progress, line = drawn(120, hundred)
    assert line.startswith("\r1000/30000 frames") and "\n" not in line and len(line) <= 120, line
    assert line.endswith("  [input_wit..._000.mp4 0/300, input_wit..._001.mp4 1/300, 98 more]"), line  # as many as fit
    assert drawn(80, hundred)[1].endswith("  [100 inputs under way]")
    wide = Progress(0, enabled=True, stream=io.StringIO())  # not a terminal: lines of their own, never cut
    wide.under_way([(f"clip{index}.mp4", index, 300) for index in range(100)])
    wide.update(1000, 30000)
    assert wide.stream.getvalue().rstrip("\n").endswith("[clip0.mp4 0/300, clip1.mp4 1/300, clip2.mp4 2/300, "
                                                        "97 more]")
    progress.under_way([("a.mp4", 5, 10)])
    progress._last_shown = 0.0  # the next redraw is due
    progress.update(1005, 30000)
    redrawn = progress.stream.getvalue()[len(line):]
    assert redrawn.startswith("\r1005/30000 frames") and redrawn.rstrip().endswith("[a.mp4 5/10]")
    assert len(redrawn) == len(line)  # the shorter line covers the longer one it replaces


def test_a_cluster_runner_names_the_inputs_under_way_on_the_progress_line(tmp_path):
    a, b = clips(tmp_path / "in", "a.mkv", "b.mkv")
    out = tmp_path / "out"
    out.mkdir()

    def runner(address, requests, jobs, progress, finished, note, under_way):
        under_way((("a.mkv", 3, 14), ("b.mkv", 5, 14)))
        progress(8, 28)
        for request in requests:
            finished(request, "stopped by the test")

    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([str(a), str(b), "-o", f"{out}/", "--cluster", "local:2", "--progress"], stdout, stderr,
                    cluster=runner)
    assert code == 1 and "8/28 frames" in stderr.getvalue() and "[a.mkv 3/14, b.mkv 5/14]" in stderr.getvalue()


def test_an_interrupt_says_which_inputs_were_written(tmp_path, monkeypatch):
    """Ctrl-C during the second input: the first one's movie and spectrum stay, and the line says so (it said "no
    output was written")."""
    from blender_addon.cli import batch

    a, b = clips(tmp_path / "in", "a.mkv", "b.mkv")
    out = tmp_path / "out"
    out.mkdir()
    rendered = batch.render

    def interrupted_at_b(request, progress=None, cancelled=None):
        if Path(request.input).name == "b.mkv":
            raise KeyboardInterrupt
        return rendered(request, progress, cancelled)

    monkeypatch.setattr(batch, "render", interrupted_at_b)
    code, _, stderr = run_cli(a, b, "-o", f"{out}/", "--spectrum", "s.json", "-q")
    assert code == 130 and stderr == ("\nmotion_extract: interrupted: 1 of 2 inputs were written before it and stay "
                                      f"({out}/a_motion_gray_shift1.mkv with its side files); the others were not "
                                      "written\n"), stderr
    assert sorted(os.listdir(out)) == ["a_motion_gray_shift1.mkv", "a_motion_gray_shift1_spectrum.json"]
    monkeypatch.setattr(batch, "render", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    code, _, stderr = run_cli(a, b, "-o", f"{tmp_path}/in/", "-q")
    assert code == 130 and stderr.endswith("interrupted: no output was written\n"), stderr
