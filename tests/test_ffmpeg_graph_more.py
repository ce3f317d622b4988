"""--print-ffmpeg for the looks of issue 15: the matte look, tint and saturation exactly (``geq`` on the
planes), pre-blur close (``gblur``) and noted. Needs Debian's ffmpeg on PATH, as test_ffmpeg_graph."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from media_helpers import run_printed_command

from blender_addon import cli, media
from blender_addon.core.engine import extract_motion
from blender_addon.core.sample_clip import SampleClip
from blender_addon.core.settings import Settings
from blender_addon.media.ffmpeg_command import ffmpeg_command

ROOT = Path(__file__).resolve().parent.parent


def differences(settings: Settings, source: Path, output: Path, clip) -> list[np.ndarray]:
    ffmpeg_frames = run_printed_command(settings, source, output, clip)
    engine_frames = [frame.copy() for frame in extract_motion(clip, settings)]
    assert len(ffmpeg_frames) == len(engine_frames)
    return [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(ffmpeg_frames, engine_frames, strict=True)]


@pytest.mark.parametrize("settings", [
    Settings(look="matte"),
    Settings(look="matte", offset=3, amplify=2.0, edges="source", layout="side"),
    Settings(look="matte", offset=2, time_colour=True, matte_threshold=5, matte_softness=1, overlay="multiply"),
    Settings(tint=True, tint_colour="#00ccff"),
    Settings(look="difference", tint=True, saturation=1.5),
    Settings(saturation=0.0),
    Settings(saturation=2.3, amplify=2.0, edges="gray", offset=2),
], ids=lambda s: "-".join(f"{k}={v}" for k, v in s.to_dict().items() if v != getattr(Settings(), k)))
def test_ffmpeg_reproduces_the_new_looks_exactly(settings, lossless_input, small_clip, tmp_path):
    assert max(d.max() for d in differences(settings, lossless_input, tmp_path / "out.mkv", small_clip)) == 0
    assert ffmpeg_command(settings, "in.mp4", "out.mp4", 30, 30.0).notes == []


def test_ffmpeg_approximates_pre_blur_and_says_so(lossless_input, small_clip, tmp_path):
    # gblur (6 steps) against the engine's 8-bit Gaussian: 5 levels at most, mean 0.06 measured.
    found = differences(Settings(pre_blur=2.0), lossless_input, tmp_path / "out.mkv", small_clip)
    assert max(d.max() for d in found) <= 8 and np.mean([d.mean() for d in found]) <= 0.5
    notes = ffmpeg_command(Settings(pre_blur=2.0), "in.mp4", "out.mp4", 30, 30.0).notes
    assert notes == ["pre-blur: gblur approximates the engine's 8-bit Gaussian: close, not exact"]


@pytest.mark.parametrize("layout", ["motion", "side", "stacked"])
def test_an_odd_sized_clip_gets_an_even_picture_for_h264_as_the_engine_writes_it(tmp_path, layout):
    """x264 takes even sizes only: the printed command repeats the last column and row, as the engine's writer."""
    clip = SampleClip(160, 90, 6, 25.0)
    frames = [cv2.resize(clip.frame(index), (161, 91)) for index in range(6)]
    source = tmp_path / "odd.mkv"
    with media.open_writer(source, 25.0, 161, 91) as writer:  # FFV1 keeps the odd size
        for frame in frames:
            writer.write(frame)
    ours, theirs = tmp_path / "engine.mp4", tmp_path / "ffmpeg.mp4"
    assert cli.main([str(source), "-o", str(ours), "--layout", layout, "-q", "--no-audio"]) == 0
    printed = subprocess.run([sys.executable, str(ROOT / "scripts" / "motion_extract.py"), str(source), "-o",
                              str(theirs), "--layout", layout, "--print-ffmpeg"], capture_output=True, text=True)
    arguments = shlex.split(printed.stdout)
    subprocess.run([arguments[0], "-v", "error", "-y", *arguments[1:]], check=True, timeout=120)
    engine, ffmpeg = media.open_source(ours), media.open_source(theirs)
    assert (ffmpeg.width, ffmpeg.height) == (engine.width, engine.height)
    assert engine.width % 2 == 0 and engine.height % 2 == 0
    for a, b in zip(engine.read_from(0), ffmpeg.read_from(0), strict=True):
        # the same picture, through x264 on both sides (CRF 18 printed, the engine's own default 20)
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 4
