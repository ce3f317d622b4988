"""Motion data from the command line: --data (CSV, JSON, sidecar), --roi, --motiongram, --plot, and their errors."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from blender_addon import media
from blender_addon.core.measures import FLOW_COLUMNS, FRAME_COLUMNS, MOTION_COLUMNS
from blender_addon.media.data import DataWriter
from blender_addon.media.errors import MediaError
from blender_addon.media.publish import is_temporary

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "motion_extract.py"


def run_cli(*args: str | os.PathLike, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, small_clip) -> Path:
    path = tmp_path_factory.mktemp("clip") / "walk.mkv"
    with media.open_writer(path, small_clip.fps, small_clip.width, small_clip.height) as writer:
        for frame in small_clip.read_from(0):
            writer.write(frame)
    return path


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as stream:
        table = list(csv.reader(stream))
    return table[0], table[1:]


def test_readme_documents_every_column_with_its_unit():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Motion data", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", section, re.MULTILINE))
    for column in (*FRAME_COLUMNS, *MOTION_COLUMNS, *FLOW_COLUMNS):
        assert documented.get(column.name) == column.unit, column.name


def test_csv_rows_columns_times_and_record(clip, tmp_path, small_clip):
    data = tmp_path / "motion.csv"
    result = run_cli(clip, "-o", tmp_path / "out.mkv", "--data", data, "--roi", "left=0,0,80,90", "--offset", "2",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, rows = read_csv(data)
    names = [column.name for column in (*FRAME_COLUMNS, *MOTION_COLUMNS)]
    assert header == names + [f"left_{name}" for name in names[2:]]
    assert len(rows) == small_clip.frame_count
    assert [int(row[0]) for row in rows] == list(range(small_clip.frame_count))
    assert [float(row[1]) for row in rows] == pytest.approx([t / small_clip.fps for t in range(small_clip.frame_count)],
                                                            abs=1e-6)
    quantities = [float(row[2]) for row in rows]
    assert quantities[0] == 0 and max(quantities) > 0  # frame 0 is held against itself: nothing moved
    assert all(0 <= float(row[3]) <= 1 for row in rows)
    record = json.loads((tmp_path / "motion.csv.json").read_text())
    assert record["settings"]["offset"] == 2 and record["regions"][0]["name"] == "left"
    assert record["command"][2:] == [str(clip), "-o", str(tmp_path / "out.mkv"), "--data", str(data), "--roi",
                                     "left=0,0,80,90", "--offset", "2"]
    assert [column["unit"] for column in record["columns"]][:3] == ["frame", "s", "levels"]
    # The record reproduces the result: its command, run again where it ran, writes the same rows.
    again = subprocess.run([sys.executable, *record["command"][1:], "--overwrite"], capture_output=True, text=True,
                           cwd=record["working_directory"], timeout=120)
    assert again.returncode == 0, again.stderr
    assert read_csv(data) == (header, rows)


def test_json_holds_the_same_rows_as_the_csv(clip, tmp_path):
    assert run_cli(clip, "-o", tmp_path / "a.mkv", "--data", tmp_path / "m.csv", "--look", "flow").returncode == 0
    assert run_cli(clip, "-o", tmp_path / "b.mkv", "--data", tmp_path / "m.json", "--look", "flow").returncode == 0
    header, rows = read_csv(tmp_path / "m.csv")
    document = json.loads((tmp_path / "m.json").read_text())
    assert [column["name"] for column in document["columns"]] == header
    assert header[-2:] == ["flow_speed", "flow_direction"]
    for csv_row, json_row in zip(rows, document["rows"], strict=True):
        assert [None if cell == "" else float(cell) for cell in csv_row] == json_row
    assert not (tmp_path / "m.json.json").exists()


@pytest.mark.parametrize("look", ["difference", "flow"])
def test_jobs_write_the_data_and_pictures_of_one_process(clip, tmp_path, look):
    """With --jobs each process measures its chunk: the files are byte for byte those of one process."""
    options = ["--look", look, "--trails", "0.5", "--roi", "box=40,20,60,40", "--roi", "top=0,0,160,30"]
    outputs = {}
    for jobs in ("1", "2"):
        folder = tmp_path / f"jobs{jobs}"
        folder.mkdir()
        result = run_cli(clip, "-o", folder / "out.mkv", "--jobs", jobs, "--data", folder / "m.csv",
                         "--motiongram", folder / "gram.png", "--plot", folder / "plot.png", *options)
        assert result.returncode == 0, result.stderr
        outputs[jobs] = {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))
                         if name not in ("out.mkv", "m.csv.json")}
        assert sorted(os.listdir(folder)) == ["gram.png", "gram_horizontal.png", "gram_vertical.png", "m.csv",
                                              "m.csv.json", "out.mkv", "plot.png"]
    assert outputs["1"].keys() == outputs["2"].keys()
    for name, content in outputs["1"].items():
        assert outputs["2"][name] == content, name
    header, rows = read_csv(tmp_path / "jobs2" / "m.csv")
    assert len(rows) == 30 and any(row[4] for row in rows)  # centroids: the children's values, not empty


def test_chunks_write_the_rows_of_the_whole_render(clip, tmp_path):
    options = ["--look", "difference", "--trails", "0.5", "--roi", "box=40,20,60,40"]
    assert run_cli(clip, "-o", tmp_path / "whole.mkv", "--data", tmp_path / "whole.csv", *options).returncode == 0
    parts = []
    for span in ("0:11", "11:30"):
        data = tmp_path / f"part{span.replace(':', '-')}.csv"
        result = run_cli(clip, "-o", tmp_path / f"part{span.replace(':', '-')}.mkv", "--frames", span, "--data", data,
                         *options)
        assert result.returncode == 0, result.stderr
        parts += read_csv(data)[1]
    assert parts == read_csv(tmp_path / "whole.csv")[1]


def test_motiongrams_are_frames_by_width_and_height_by_frames(clip, tmp_path, small_clip):
    result = run_cli(clip, "-o", tmp_path / "out.mkv", "--motiongram", tmp_path / "gram.png",
                     "--plot", tmp_path / "plot.png", "--roi", "top=0,0,160,45")
    assert result.returncode == 0, result.stderr
    horizontal = cv2.imread(str(tmp_path / "gram_horizontal.png"), cv2.IMREAD_UNCHANGED)
    vertical = cv2.imread(str(tmp_path / "gram_vertical.png"), cv2.IMREAD_UNCHANGED)
    assert horizontal.shape == (small_clip.frame_count, small_clip.width)
    assert vertical.shape == (small_clip.height, small_clip.frame_count)
    assert horizontal.max() == 255 and vertical.max() == 255 and not horizontal[0].any()
    for figure in ("gram.png", "plot.png"):
        picture = cv2.imread(str(tmp_path / figure))
        assert picture is not None and picture.shape[1] >= 800 and picture.std() > 10  # a drawn figure
    assert sorted(os.listdir(tmp_path)) == ["gram.png", "gram_horizontal.png", "gram_vertical.png", "out.mkv",
                                            "plot.png"]


@pytest.mark.parametrize("arguments, message", [
    (["--data", "m.txt"], "motion data is written as .csv or .json, not .txt"),
    (["--motiongram", "gram.jpg"], "are written as .png, not .jpg"),
    (["--roi", "hand=1,2,3"], "invalid region 'hand=1,2,3'"),
    (["--data", "m.csv", "--roi", "big=100,0,61,10"], "region big (100,0,61,10) is not inside the 160x90 frame"),
    (["--roi", "a=0,0,1,1"], "--roi: measures only go to --data, --motiongram, --plot or --spectrum"),
    (["--data", "m.csv", "--engine", "vse"], "--data: motion data is measured by the exact engine"),
    (["--look", "flow", "--print-ffmpeg"], "--look flow: ffmpeg has no optical flow"),
    (["--look", "flow", "--engine", "vse"], "--look flow: the sequencer rig cannot compute optical flow"),
    (["--data", "m.csv", "--plot", "m.csv"], "give each output its own file"),
    (["--data", "m.csv", "--motion-threshold", "300"], "invalid motion threshold '300'"),
    (["--look", "flow", "--time-colour"], "time colour does not apply to the flow look"),
])
def test_bad_data_arguments_are_one_line(clip, tmp_path, arguments, message):
    result = run_cli(clip, "-o", tmp_path / "out.mkv", *arguments, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("existing, flags", [
    ("m.csv.json", ["--data", "m.csv"]),  # the data file's record is in the way
    ("gram_vertical.png", ["--motiongram", "gram.png"]),  # the last of the motiongram's three files
])
def test_a_refused_companion_file_leaves_no_temporaries(clip, tmp_path, existing, flags):
    (tmp_path / existing).write_text("precious\n")
    result = run_cli(clip, "-o", tmp_path / "out.mkv", *flags, cwd=tmp_path)
    assert result.returncode == 1 and f"{existing} already exists" in result.stderr, result.stderr
    assert sorted(os.listdir(tmp_path)) == [existing] and (tmp_path / existing).read_text() == "precious\n"


def test_an_existing_data_file_is_kept_and_nothing_is_left_behind(clip, tmp_path):
    (tmp_path / "m.csv").write_text("precious\n")
    result = run_cli(clip, "-o", tmp_path / "out.mkv", "--data", tmp_path / "m.csv", "--plot", tmp_path / "p.png")
    assert result.returncode == 1
    assert "m.csv already exists (use --overwrite to replace it)" in result.stderr and result.stderr.count("\n") == 1
    assert (tmp_path / "m.csv").read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["m.csv"]
    assert run_cli(clip, "-o", tmp_path / "out.mkv", "--data", clip).returncode == 2  # .mkv: not data


@pytest.mark.parametrize("flag", ["--plot", "--motiongram"])
def test_a_figure_without_matplotlib_is_refused_before_the_render(clip, tmp_path, flag):
    """matplotlib is optional (the package's ``plots`` extra): without it, one line and nothing written."""
    blocked = f"import sys, runpy; sys.modules['matplotlib'] = None; sys.argv = ['x', *sys.argv[1:]]; " \
              f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", blocked, str(clip), "-o", str(tmp_path / "out.mkv"),
                             flag, str(tmp_path / "figure.png")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "figure.png: drawing this figure needs matplotlib (pip install matplotlib)" in result.stderr
    assert os.listdir(tmp_path) == []


def test_data_writer_discards_its_temporaries(tmp_path):
    from blender_addon.core.measures import columns

    writer = DataWriter(tmp_path / "m.csv", columns(), {"tool": "test"})
    writer.write([0, 0.0] + [0.0] * 8)
    with pytest.raises(ValueError, match="a row has 10 values, not 3"):
        writer.write([1, 2, 3])
    assert any(is_temporary(name) for name in os.listdir(tmp_path))
    writer.discard()
    assert os.listdir(tmp_path) == []
    with pytest.raises(MediaError, match="would overwrite the input"):
        DataWriter(tmp_path / "in.csv", columns(), {}, protect=[tmp_path / "in.csv"])


def test_data_rows_are_numbers_to_six_decimals(tmp_path):
    from blender_addon.core.measures import columns

    writer = DataWriter(tmp_path / "m.csv", columns(), {})
    writer.write([3, 0.1 + 0.2, 1 / 3, 0.5, None, None, np.int64(4), 5, 6, 7])
    writer.commit()
    assert (tmp_path / "m.csv").read_text().splitlines()[1] == "3,0.3,0.333333,0.5,,,4,5,6,7"
    assert json.loads((tmp_path / "m.csv.json").read_text())["columns"][2]["unit"] == "levels"
