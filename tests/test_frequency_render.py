"""--spectrum, --spectrum-plot, --frequency-map and --band through the command line and the render service."""

from __future__ import annotations

import io
import json

import pytest

from blender_addon import cli
from blender_addon.core.settings import Settings
from blender_addon.render import FrequencyRequest, RenderRequest, render
from tests.frequency_helpers import Swing, kept_frames, write_swinging_clip


def run(*argv: str) -> tuple[int, str]:
    stderr = io.StringIO()
    code = cli.main([str(arg) for arg in argv], stdout=io.StringIO(), stderr=stderr)
    return code, stderr.getvalue()


@pytest.fixture(scope="module")
def swinging(tmp_path_factory):
    path = tmp_path_factory.mktemp("swing") / "swing.mkv"
    write_swinging_clip(path, [Swing(0.9, 20, 40), Swing(2.4, 100, 40, amplitude=3)], frames=240, noise=3.0)
    return path


def test_spectrum_of_each_region_through_the_command_line(swinging, tmp_path):
    spectrum = tmp_path / "s.json"
    code, stderr = run(swinging, "-o", tmp_path / "m.mp4", "--spectrum", spectrum, "--spectrum-plot",
                       tmp_path / "s.png", "--frequency-map", tmp_path / "map.png", "--roi", "left=0,0,80,120",
                       "--roi", "right=80,0,80,120")
    assert code == 0, stderr
    regions = json.loads(spectrum.read_text())["regions"]
    assert abs(regions["left"]["dominant_hz"] - 0.9) <= 0.02 and regions["left"]["confident"]
    assert abs(regions["right"]["dominant_hz"] - 2.4) <= 0.024 and regions["right"]["confident"]
    assert "frequency: left: 0.9 Hz (54 per minute)" in stderr
    for name in ("s.png", "map.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_with_several_inputs_each_frequency_note_names_its_input(swinging, tmp_path):
    inputs = [tmp_path / name for name in ("first.mkv", "second.mkv")]
    for path in inputs:
        path.write_bytes(swinging.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    code, stderr = run(*inputs, "-o", f"{out}/", "--spectrum", "s.json", "--roi", "left=0,0,80,120")
    assert code == 0, stderr
    notes = [line for line in stderr.splitlines() if "frequency: " in line]
    assert len(notes) == 4, stderr
    for path in inputs:
        assert sum(line.startswith(f"motion_extract: {path}: frequency: ") for line in notes) == 2, stderr


def test_jobs_and_one_process_find_the_same_frequency(swinging, tmp_path):
    found = []
    for jobs in ("1", "2"):
        spectrum = tmp_path / f"s{jobs}.json"
        code, stderr = run(swinging, "-o", tmp_path / f"m{jobs}.mkv", "--jobs", jobs, "--spectrum", spectrum)
        assert code == 0, stderr
        found.append(json.loads(spectrum.read_text()))
    assert found[0] == found[1]


def test_in_one_process_the_frequency_reads_the_frames_the_engine_decodes(swinging, tmp_path, monkeypatch):
    """No read head of its own (a second decoder): the engine hands over each frame it decodes; from a later
    first frame, the frame before it alone is read apart. The numbers are those of a read head of its own."""
    from blender_addon.media.streams import VideoSource

    opened = []
    read_from = VideoSource.read_from
    monkeypatch.setattr(VideoSource, "read_from", lambda source, start, compact=False: (
        opened.append(start), read_from(source, start, compact))[1])
    counts, found = [], []
    for frames in ((None, None), (31, 200)):
        for frequency in (FrequencyRequest(), FrequencyRequest(spectrum=str(tmp_path / f"s{frames[0]}.json"),
                                                               frequency_map=str(tmp_path / f"m{frames[0]}.png"))):
            opened.clear()
            result = render(RenderRequest(swinging, tmp_path / "m.mkv", Settings(), frames=frames, overwrite=True,
                                          frequency=frequency))
            counts.append(len(opened))
        found.append(result.frequency)
        own = render(RenderRequest(swinging, tmp_path / "j.mkv", Settings(), frames=frames, overwrite=True, jobs=2,
                                   frequency=FrequencyRequest(spectrum=str(tmp_path / "j.json"))))
        assert own.frequency == result.frequency
    assert counts[1] == counts[0] and counts[3] == counts[2] + 1, counts


def test_an_error_measuring_the_frequency_stops_the_render_and_leaves_nothing(swinging, tmp_path, monkeypatch):
    from blender_addon.core.frequency import RegionDisplacement
    from blender_addon.render import RenderError

    def fails(self, frame, camera=None):
        raise MemoryError("measuring")

    monkeypatch.setattr(RegionDisplacement, "step", fails)
    with pytest.raises((MemoryError, RenderError)):
        render(RenderRequest(swinging, tmp_path / "m.mkv", Settings(),
                             frequency=FrequencyRequest(spectrum=str(tmp_path / "s.json"))))
    assert not list(tmp_path.iterdir())


def test_the_result_carries_the_report_and_a_band_limits_it(swinging, tmp_path):
    request = RenderRequest(swinging, tmp_path / "m.mkv", Settings(),
                            frequency=FrequencyRequest(spectrum=str(tmp_path / "s.csv"), band=(1.5, 5.0)))
    result = render(request)
    assert abs(result.frequency.peaks["frame"].hz - 2.4) <= 0.024
    assert result.frequency.band == (1.5, 5.0)
    assert tmp_path / "s.csv" in result.written
    assert (tmp_path / "s.csv").read_text().startswith("region,hz,per_minute,power,dominant_hz,strength,confident\n")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--band", "1:3"], "--band: the band limits --spectrum"),
    (["--spectrum", "s.txt"], "a spectrum is written as .csv or .json"),
    (["--frequency-map", "m.jpg"], ".png"),
    (["--spectrum", "s.json", "--band", "3:1"], "invalid band"),
    (["--spectrum", "s.json", "--band", "40:50"], "--band: band 40:50 Hz is outside"),
    (["--spectrum", "same.png", "--spectrum-plot", "same.png"], "own file"),
    (["--data", "s.csv", "--spectrum", "s.csv.json"], "s.csv.json: this render would write it twice: give each "
                                                      "output its own file"),  # the data's record
    (["--motiongram", "m.png", "--spectrum-plot", "m_horizontal.png"], "m_horizontal.png: this render would write "
                                                                        "it twice"),  # a motiongram's picture
    (["--spectrum", "s.json", "--engine", "vse"], "exact engine"),
    (["--spectrum", "s.json", "--roi", "a=4000,4000,10,10"], "region a (4000,4000,10,10) is not inside the"),
    (["--spectrum", "s.json", "--roi", "a=0,0,10,10", "--roi", "a=5,5,10,10"], "region a is given twice"),
    (["--spectrum", "s.json", "--print-ffmpeg"], "--print-ffmpeg renders nothing"),
])
def test_frequency_refusals_are_one_line_and_leave_nothing(swinging, tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    code, stderr = run(swinging, "-o", tmp_path / "m.mkv", *arguments)
    assert code == 2, stderr
    assert message in stderr and stderr.count("\n") == 1, stderr
    assert not list(tmp_path.iterdir())


def test_a_stream_is_not_read_twice(tmp_path):
    code, stderr = run("http://127.0.0.1:9/none.mp4", "-o", tmp_path / "m.mkv", "--spectrum", tmp_path / "s.json")
    assert code == 2 and "read once" in stderr


def pendulum_reading(sample: str, folder, *options: str) -> dict:
    """The regions of ``--spectrum`` for a pendulum sample, with the docs' ``--roi pendulum``."""
    spectrum = folder / f"{sample}.json"
    code, stderr = run("--sample", sample, "-o", folder / f"{sample}.mkv", "--overwrite", "--spectrum", spectrum,
                       "--roi", "pendulum=200,60,240,280", *options)
    assert code == 0, stderr
    return json.loads(spectrum.read_text())["regions"]


@pytest.fixture(scope="module")
def tripod_pendulum(tmp_path_factory) -> dict:
    return pendulum_reading("pendulum", tmp_path_factory.mktemp("pendulum"))


def test_the_pendulum_sample_reads_its_known_rate(tripod_pendulum):
    from blender_addon.cli.arguments import PENDULUM_HZ

    for name in ("frame", "pendulum"):
        peak = tripod_pendulum[name]
        assert abs(peak["dominant_hz"] - PENDULUM_HZ) <= 0.02 and peak["confident"], (name, peak)


def test_the_handheld_pendulum_with_align_reads_as_on_the_tripod(tripod_pendulum, tmp_path):
    """--align takes the camera's shake out of the flow: the handheld take reads the tripod's rate, within 1 % or
    0.02 Hz; without it, the whole frame reads the shake (docs/frequency.md)."""
    aligned = pendulum_reading("handheld-pendulum", tmp_path, "--align", "similarity")
    for name in ("frame", "pendulum"):
        truth = tripod_pendulum[name]["dominant_hz"]
        peak = aligned[name]
        assert abs(peak["dominant_hz"] - truth) <= max(0.01 * truth, 0.02) and peak["confident"], (name, peak)
    shaken = pendulum_reading("handheld-pendulum", tmp_path)["frame"]
    assert abs(shaken["dominant_hz"] - tripod_pendulum["frame"]["dominant_hz"]) > 0.1, shaken


def test_a_variable_rate_input_is_read_at_its_frames_own_times(tmp_path):
    clip = tmp_path / "vfr.mkv"
    kept = kept_frames(300)
    write_swinging_clip(clip, [Swing(1.5, 60, 40)], kept=kept)
    spectrum = tmp_path / "s.json"
    code, stderr = run(clip, "-o", tmp_path / "m.mkv", "--spectrum", spectrum)
    assert code == 0, stderr
    report = json.loads(spectrum.read_text())
    found = report["regions"]["frame"]
    assert abs(found["dominant_hz"] - 1.5) <= 0.02 and found["confident"], found
    # The mean rate of the frames' steps (the file keeps milliseconds), the band up to half the median rate.
    assert abs(report["rate"] - (len(kept) - 1) / (kept[-1] / 30)) < 0.01 and report["band"][1] > 15


@pytest.mark.parametrize("size", [(8, 8), (1, 320), (240, 2)])
def test_frames_under_what_the_flow_takes_are_measured_and_mapped(tmp_path, size):
    clip = tmp_path / "tiny.mkv"
    write_swinging_clip(clip, [Swing(1.5, 0, 0, size=4, amplitude=2)], frames=30, size=size)
    code, stderr = run(clip, "-o", tmp_path / "m.mkv", "--spectrum", tmp_path / "s.json", "--frequency-map",
                       tmp_path / "map.png")
    assert code == 0 and "Traceback" not in stderr, stderr
    assert json.loads((tmp_path / "s.json").read_text())["regions"]["frame"]["strength"] >= 0
    import cv2

    height, width = cv2.imread(str(tmp_path / "map.png")).shape[:2]
    assert width == 1000 and height < 1800  # a frame far taller than wide is drawn no taller than a page
