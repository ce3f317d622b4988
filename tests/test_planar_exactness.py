"""scripts/planar_exactness.py on a small real-looking clip as users bring it (interlaced MPEG-2 in MPEG-TS): the
planar path lies within a level of the RGB path wherever colours are inside RGB, as README's "Two paths" says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from blender_addon.core.sample_clip import SampleClip

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import planar_exactness  # noqa: E402

WIDTH, HEIGHT = 128, 72


@pytest.fixture(scope="module")
def interlaced_ts(tmp_path_factory) -> Path:
    """The textured sample clip with a camera's noise, fields woven from frame pairs, as interlaced MPEG-2: its
    ringing and noise put some colours outside RGB, as real footage has them."""
    clip = SampleClip(width=WIDTH, height=HEIGHT, frame_count=24, fps=24.0)
    rng = np.random.default_rng(5)
    raw = b"".join(np.clip(clip.frame(index) + rng.normal(0, 6, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8).tobytes()
                   for index in range(clip.frame_count))
    path = tmp_path_factory.mktemp("exactness") / "interlaced.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{WIDTH}x{HEIGHT}",
                    "-r", "24", "-i", "-", "-vf", "tinterlace=mode=interleave_top,setfield=tff", "-c:v", "mpeg2video",
                    "-flags", "+ilme+ildct", "-top", "1", "-b:v", "1M", "-f", "mpegts", str(path)],
                   input=raw, check=True)
    return path


@pytest.mark.parametrize("options", [{}, {"layout": "stacked", "edges": "source"},
                                     {"mix": 0.3, "offset": 2, "edges": "gray"}])
def test_inside_rgb_the_planar_path_is_within_a_level_of_the_rgb_path(interlaced_ts, tmp_path, options):
    row = planar_exactness.compare(interlaced_ts, options, tmp_path)
    assert not row.refused and row.planar_as_computed
    assert 0.5 < row.inside / row.samples < 1  # most samples, not all: the clip has colours outside RGB
    assert row.inside_max <= 1 and row.inside_mean <= 0.2
    assert row.outside_max > 1  # where the RGB path clipped a colour, the two may differ by more


def test_a_colour_is_inside_rgb_where_no_channel_clips():
    luma = np.array([[16, 235, 10, 240], [126, 126, 81, 81]], np.uint8)  # black, white, below black, above white
    u = np.array([[128, 128]], np.uint8)
    v = np.array([[128, 128]], np.uint8)
    buffer = np.concatenate([luma.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(3, 4)
    assert planar_exactness.inside_rgb(buffer).tolist() == [[True, True, False, False], [True, True, True, True]]
    u[0, 1] = 16  # Cb far below gray under luma 81: blue would fall below 0
    buffer = np.concatenate([luma.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(3, 4)
    assert planar_exactness.inside_rgb(buffer).tolist() == [[True, True, False, False], [True, True, False, False]]
