"""--spectrum across chunks: each chunk carries its motion signals beside it, and the chunk join takes the whole
render's spectrum from them (the same JSON, to the byte), or refuses in one line what it cannot join."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from blender_addon import join
from blender_addon.core.measures import Region
from blender_addon.core.settings import Settings
from blender_addon.media.names import signals_path
from blender_addon.render import DataRequest, FrequencyRequest, RenderRequest, render
from blender_addon.render.chunk_record import ChunkSignals
from tests.frequency_helpers import Swing, kept_frames, write_swinging_clip

REGIONS = (Region("left", 0, 0, 80, 120), Region("right", 80, 0, 80, 120))


@pytest.fixture(scope="module")
def swinging(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("swing") / "swing.mkv"
    write_swinging_clip(path, [Swing(0.9, 20, 40), Swing(2.4, 100, 40, amplitude=3)], frames=240, noise=3.0)
    return path


def request(clip: Path, output: Path, settings: Settings, frames=(None, None), spectrum: Path | None = None,
            regions=REGIONS, jobs: int = 1, **frequency) -> RenderRequest:
    return RenderRequest(clip, output, settings, frames=frames, jobs=jobs, data=DataRequest(regions=regions),
                         frequency=FrequencyRequest(spectrum=None if spectrum is None else str(spectrum), **frequency))


def run_join(*argv) -> tuple[int, str]:
    stderr = io.StringIO()
    code = join.main([str(arg) for arg in argv], stdout=io.StringIO(), stderr=stderr)
    return code, stderr.getvalue()


def render_chunks(clip: Path, folder: Path, settings: Settings, cuts: list[int], jobs: int = 1,
                  **kwargs) -> list[Path]:
    chunks = []
    for first, stop in zip(cuts, cuts[1:], strict=False):
        chunk = folder / f"c{first}.mkv"
        render(request(clip, chunk, settings, (first, stop), folder / f"c{first}.json", jobs=jobs, **kwargs))
        chunks.append(chunk)
    return chunks


@pytest.mark.parametrize(("parts", "settings", "jobs"), [
    (2, Settings(), 1),
    (3, Settings(), 2),  # a chunk of --jobs 2: its parent measures the signals
    (3, Settings(offset=3, edges="trim"), 1),  # the whole render's spectrum starts at the frame before its first
    (2, Settings(align="similarity"), 1),  # the camera's motion into a chunk's first frame is taken out too
])
def test_joined_chunks_give_the_whole_render_spectrum(swinging, tmp_path, parts, settings, jobs):
    whole = render(request(swinging, tmp_path / "whole.mkv", settings, spectrum=tmp_path / "whole.json"))
    total = whole.frames[1]
    assert not list(tmp_path.glob("*.signals.json"))  # a whole render records no signals
    cuts = [total * part // parts for part in range(parts + 1)]
    chunks = render_chunks(swinging, tmp_path, settings, cuts, jobs)
    code, stderr = run_join(*reversed(chunks), "-o", tmp_path / "joined.mkv", "--spectrum", tmp_path / "joined.json",
                            "--spectrum-plot", tmp_path / "joined.png")
    assert code == 0, stderr
    assert (tmp_path / "joined.json").read_text() == (tmp_path / "whole.json").read_text()
    assert (tmp_path / "joined.png").read_bytes()[:4] == b"\x89PNG"
    assert "join_chunks: swing.mkv: frequency: right: 2.4 Hz (144 per minute)" in stderr
    # A chunk's own spectrum covers its own range only: not the whole render's.
    assert (tmp_path / "c0.json").read_text() != (tmp_path / "whole.json").read_text()


def test_chunks_of_a_variable_rate_input_carry_their_frames_times(tmp_path):
    clip = tmp_path / "vfr.mkv"
    write_swinging_clip(clip, [Swing(0.9, 20, 40), Swing(2.4, 100, 40, amplitude=3)], frames=240, noise=3.0,
                        kept=kept_frames(240))
    whole = render(request(clip, tmp_path / "whole.mkv", Settings(), spectrum=tmp_path / "whole.json"))
    total = whole.frames[1]
    assert abs(whole.frequency.peaks["right"].hz - 2.4) <= 0.024
    chunks = render_chunks(clip, tmp_path, Settings(), [0, total // 2, total])
    signals = ChunkSignals.from_text(Path(signals_path(chunks[1])).read_text())
    assert signals.times is not None and len(signals.times) == total - total // 2 and signals.nyquist > 15
    code, stderr = run_join(*chunks, "-o", tmp_path / "joined.mkv", "--spectrum", tmp_path / "joined.json")
    assert code == 0, stderr
    assert (tmp_path / "joined.json").read_text() == (tmp_path / "whole.json").read_text()


def test_a_chunk_lists_its_signals_and_they_hold_a_few_floats_a_frame(swinging, tmp_path):
    chunk = tmp_path / "c.mkv"
    result = render(request(swinging, chunk, Settings(), (40, 100), spectrum_plot=str(tmp_path / "c.png")))
    assert Path(signals_path(chunk)) in result.written
    signals = ChunkSignals.from_text(Path(signals_path(chunk)).read_text())
    assert (signals.first, signals.stop, signals.lead) == (40, 100, False)
    assert signals.steps.shape == (60, 3, 2) and signals.names == ["frame", "left", "right"]
    # Signals only (a cluster's chunk): no spectrum of its own, no report.
    only = render(request(swinging, tmp_path / "d.mkv", Settings(), (0, 60), signals=True))
    assert only.frequency is None and sorted(path.name for path in tmp_path.iterdir()) == [
        "c.mkv", "c.mkv.signals.json", "c.png", "d.mkv", "d.mkv.signals.json"]


@pytest.fixture(scope="module")
def chunks(swinging, tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("chunks")
    return render_chunks(swinging, folder, Settings(), [0, 100, 240])


def copies(chunks: list[Path], folder: Path) -> list[Path]:
    for chunk in chunks:
        shutil.copy(chunk, folder)
        shutil.copy(signals_path(chunk), folder)
    return [folder / chunk.name for chunk in chunks]


def no_signals(swinging, chunks, folder):
    render(request(swinging, folder / "c100.mkv", Settings(), (100, 240)))
    return [folder / "c0.mkv", folder / "c100.mkv"]


def missing(swinging, chunks, folder):
    Path(signals_path(chunks[1])).unlink()
    return chunks


def swapped(swinging, chunks, folder):
    shutil.copy(signals_path(chunks[0]), signals_path(chunks[1]))
    return chunks


def other_regions(swinging, chunks, folder):
    render(request(swinging, folder / "c100.mkv", Settings(), (100, 240), folder / "x.json", regions=REGIONS[:1]))
    return [folder / "c0.mkv", folder / "c100.mkv"]


def other_band(swinging, chunks, folder):
    render(request(swinging, folder / "c100.mkv", Settings(), (100, 240), folder / "x.json", band=(0.5, 5.0)))
    return [folder / "c0.mkv", folder / "c100.mkv"]


@pytest.mark.parametrize(("spoil", "message"), [
    (no_signals, "c100.mkv: carries no motion signals: render each chunk with --spectrum"),
    (missing, "c100.mkv.signals.json are missing: keep them beside the chunk"),
    (swapped, "are not the motion signals of"),
    (other_regions, "chunks of one render share its --roi"),
    (other_band, "chunks of one render share its band"),
])
def test_the_join_refuses_signals_it_cannot_join_in_one_line(swinging, chunks, tmp_path, spoil, message):
    folder = tmp_path / "in"
    folder.mkdir()
    if spoil in (missing, swapped):
        given = spoil(swinging, copies(chunks, folder), folder)
    else:
        copies(chunks[:1], folder)
        given = spoil(swinging, chunks, folder)
    code, stderr = run_join(*given, "-o", tmp_path / "joined.mkv", "--spectrum", tmp_path / "joined.json")
    assert code == 1 and message in stderr and stderr.count("\n") == 1, stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in"]


def test_the_join_refuses_a_frequency_map_naming_the_way_out(chunks, tmp_path):
    code, stderr = run_join(*chunks, "-o", tmp_path / "joined.mkv", "--frequency-map", tmp_path / "map.png")
    assert code == 2 and "render the whole clip with --frequency-map (with --jobs N" in stderr, stderr
    assert stderr.count("\n") == 1 and not list(tmp_path.iterdir())


def test_a_bad_spectrum_name_is_refused_before_anything_is_written(chunks, tmp_path):
    code, stderr = run_join(*chunks, "-o", tmp_path / "joined.mkv", "--spectrum", tmp_path / "s.txt")
    assert code == 2 and "a spectrum is written as .csv or .json" in stderr and stderr.count("\n") == 1, stderr
    assert not list(tmp_path.iterdir())


def test_an_existing_spectrum_is_kept_and_nothing_is_written(chunks, tmp_path):
    (tmp_path / "joined.json").write_text("taken")
    code, stderr = run_join(*chunks, "-o", tmp_path / "joined.mkv", "--spectrum", tmp_path / "joined.json")
    assert code == 2 and "joined.json already exists" in stderr, stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["joined.json"]
    assert (tmp_path / "joined.json").read_text() == "taken"


def test_a_stream_copy_join_takes_the_whole_render_spectrum(swinging, chunks, tmp_path):
    render(request(swinging, tmp_path / "whole.mkv", Settings(), spectrum=tmp_path / "whole.json"))
    code, stderr = run_join(*chunks, "-o", tmp_path / "joined.mkv", "--stream-copy", "--spectrum",
                            tmp_path / "joined.json")
    assert code == 0, stderr
    assert (tmp_path / "joined.json").read_text() == (tmp_path / "whole.json").read_text()
    assert "join_chunks: swing.mkv: frequency: right: 2.4 Hz (144 per minute)" in stderr
