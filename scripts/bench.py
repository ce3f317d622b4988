"""Benchmark: the exact engine, the VSE engine and the alternatives users have, on the same clips in one run.

    .venv/bin/python scripts/bench.py [--quick] [--competitor DIR] [--repeat R] [--chart PATH]

Generates 1080p30 H.264 clips (10 s and 60 s) of the sample scene with a tick every second as
AAC sound, written by our own writer (``media.open_writer``, x264 ``medium``, CRF 18) and cached
in .cache/bench. Then runs every case in a fresh process, so that its peak RSS is its own, and
prints a markdown table of frames per second and peak RSS, then issue 9's targets side by side
(ours, the reference, the ratio, the goal and met / MISSED), then writes a PNG chart if
matplotlib is installed (requirements.txt). Cases:

- decode alone: ``ffmpeg -f null`` (the null-sink target's yardstick), our reader (PyAV to
  4:2:0 planes, as the planar path reads; and to BGR, as the RGB path reads) and an OpenCV read loop;
- a plain transcode of the source (ffmpeg, the same x264 settings, no filter): context, not a ceiling
  (the mostly gray motion is cheaper to encode than the source);
- the exact engine: null sink; to H.264 with x264 at ``veryfast``, CRF 20, GOP 250, 3 B-frames;
  to MPEG-4 part 2 (``--codec mpeg4`` in an .mp4, what the best OpenCV tool writes as mp4v);
  each at N=1 and N=30, on the path the command line chooses (the planar path for these: the
  gray look on the decoded 4:2:0 planes, ``core.planar``), and the null sink and H.264 also on the
  RGB path (``--math rgb``);
- ffmpeg's ``split/tpad/negate/blend`` graph to x264 at exactly those settings, in RGB
  (``format=gbrp`` first: the same math as ours) and in YUV (cheaper math, not the same pixels:
  the stretch anchor);
- the real command line, timed as a whole process: ``motion_extract.py clip.mp4 -o out.mp4``
  (the default: exact engine, H.264 with the clip's sound) and the same with ``--engine vse``
  (the sequencer rig through Blender's FFmpeg, the old default);
- the competitor (``--competitor DIR``, a checkout of Gabriel-Kahen/motion-extraction: its
  ``process_video``, mp4v through OpenCV; it is never copied here);
- the two engines on H.264 inputs (``agree``): the sample clip and ffmpeg's ``testsrc2``, 720p,
  60 frames each, rendered by both engines through the command line to PNG sequences and
  compared level by level.

``--jobs-speedup`` times the command line with ``--jobs 2`` against ``--jobs 1`` on CPU-bound looks
(issue 14: glow radius 10 at 1080p, at least 1.6x faster on two cores), alternating, ``--repeat`` times.

``--motion`` prints only issue 13's figures (scripts/bench_motion.py): what the motion measures cost a
1080p render to H.264, and the flow look's frames per second at 1080p and 640x360, with the profile.

``--frequency`` prints only what ``--spectrum`` and ``--frequency-map`` add to a 1080p render (time, peak RSS;
scripts/bench_frequency.py).
``--rhythm`` prints only what the rhythm costs (scripts/bench_rhythm.py): the displacement per frame and a
window's refit, the live viewer's display thread with and without the readout, Key Motion Data's rhythm keys.

``--align`` prints only issue 11's figures (scripts/bench_align.py): ``--align`` on real footage shaken
by a known path against ffmpeg's vid.stab (deviation from gray and whole-process time), and 1080p fps per model.

``--rig`` prints only what Extract Motion and Update (the default settings) take on a 2 s 4K H.264 clip beside
Blender's own ``new_movie`` of the same file (issue 21's target: each within 1.5x of it), medians of ``--repeat``
(at least 3) rounds in one Blender.

How far the planar path lies from the RGB path on real footage (issue 23's exactness target) is measured by
``scripts/planar_exactness.py``, which prints its own table.

``--looks`` prints only the per-frame cost at 1080p of issue 15's looks (glow and pre-blur at
radius 10 against 25 ms, matte, saturation, tint) and the live view's rate with the glow preset
(against 25 fps), from frames in memory.

Opt-in rows (``--extra``, or name them in ``--cases``): the sequencer with its cache on and a
plain source strip, the engine with two read heads (``max_memory=0``), ffmpeg ``tmix`` and the
graph to a null sink, and naive OpenCV loops (seek per frame; every output frame in a list).

Engine, reader and OpenCV rows time the work inside their process (imports excluded; opening
the clip included); ffmpeg rows use ffmpeg's own ``-benchmark`` real time; the command-line rows
are whole processes, which import the package's modules compiled (as an installed package does; the
bytecode is cached under .cache/bench even where ``PYTHONDONTWRITEBYTECODE`` is set). The table also
shows every row's whole-process fps and CPU time per frame (user and system, of the process and what it
waited for: the work done, which a shared machine's load changes far less than fps). ffmpeg rows run with
``-an``, as the engine rows write no sound; the competitor's row includes its own last step, an ffmpeg pass
copying its video and the clip's sound into its output.
With ``--repeat`` the rows of a clip run round by round, each once a round, so ours and the
competitor's alternate. Slow rows (the sequencer, tmix) run on the shortest clip only unless
``--all-lengths``.

``--sizes 1080p 2160p`` adds the 4K rows (issue 23's scale rows: a 3840x2160 10 s clip; the longer clips stay
1080p) and checks issue 23's targets at each size. ``--profile`` prints only the per-frame cost of each stage
at each of ``--sizes`` (decode, window, look, encode hand-off; from the clip and from frames in memory), and
exits. ``--quick`` runs the 10 s clip only (every target but the
60 s / 10 s memory one), for iteration. This process imports only the standard library and
leaves clips and the engines-agree check to children of its own: on Linux a child's peak RSS
starts at its parent's size, so the parent stays small (the floor is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import repository  # noqa: E402 (the package on sys.path, and the process started as a render's: one BLAS thread)

REPO_ROOT = repository.REPO_ROOT

CACHE = REPO_ROOT / ".cache" / "bench"
CLI = REPO_ROOT / "scripts" / "motion_extract.py"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
FPS = 30
LEAN_MEMORY = 0  # max_memory that makes the engine read partners with a second head

# One x264 configuration for both sides of the H.264 comparison.
X264_PRESET, X264_CRF, X264_GOP, X264_BFRAMES = "veryfast", 20, 250, 3
FFMPEG_X264 = ["-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF), "-g", str(X264_GOP),
               "-bf", str(X264_BFRAMES), "-pix_fmt", "yuv420p", "-an"]
FFMPEG_TIMED = ("ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-benchmark", "-y")  # rtime
OUR_X264 = {"codec": "h264", "crf": X264_CRF, "encoder_preset": X264_PRESET,
            "encoder_options": {"g": str(X264_GOP), "bf": str(X264_BFRAMES)}}
X264_LABEL = f"x264 {X264_PRESET}, CRF {X264_CRF}, GOP {X264_GOP}, {X264_BFRAMES} B-frames"
# x264 settings that are how the encoder is threaded, not what it is asked to do.
X264_THREADING = ("threads", "lookahead_threads", "sliced_threads", "slices")

VSE_FPS_IN_DESIGN = 13.6  # the old default path, as DESIGN.md measured it
AGREE_FRAMES, AGREE_SIZE = 60, (1280, 720)


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    runner: str  # "worker" (a child of this script), "ffmpeg" or "cli" (motion_extract.py, whole process)
    offsets: bool  # runs once per N (else once per clip, N shown as -)
    slow: bool = False  # shortest clip only, unless --all-lengths
    short_only: bool = False  # shortest clip only, always
    default: bool = True  # part of a run without --cases (else --extra)
    quick: bool = True  # part of --quick


CASES = [
    Case("decode-ffmpeg", "decode alone, ffmpeg -f null", "ffmpeg", False),
    Case("decode-planes", "decode alone, our reader (PyAV to 4:2:0 planes)", "worker", False),
    Case("decode-pyav", "decode alone, our reader (PyAV to BGR)", "worker", False),
    Case("ffmpeg-transcode-x264", "plain transcode of the source, ffmpeg, same x264 (context)", "ffmpeg", False),
    Case("decode-opencv", "decode alone, OpenCV loop", "worker", False),
    Case("engine-null", "exact engine, null sink (planar path)", "worker", True),
    Case("engine-null-rgb", "exact engine, null sink, --math rgb", "worker", True),
    Case("engine-h264", f"exact engine to H.264 ({X264_LABEL}; planar path)", "worker", True),
    Case("engine-h264-rgb", "exact engine to H.264, --math rgb", "worker", True),
    Case("ffmpeg-rgb-x264", "ffmpeg split/tpad/negate/blend, format=gbrp (RGB), same x264", "ffmpeg", True),
    Case("ffmpeg-yuv-x264", "ffmpeg split/tpad/negate/blend in YUV, same x264", "ffmpeg", True),
    Case("cli-default", "motion_extract.py clip.mp4 -o out.mp4 (default engine, whole process)", "cli", False),
    Case("ffmpeg-yuv-x264-sound", "ffmpeg's YUV graph, N=1, same x264, the source's sound copied (as the default "
         "output has it; whole process)", "ffmpeg", False),
    Case("cli-vse", "motion_extract.py --engine vse, to .mp4 (whole process)", "cli", False, slow=True),
    Case("engine-mpeg4", "exact engine, MPEG-4 part 2 writer (--codec mpeg4; planar path)", "worker", True),
    Case("competitor", "Gabriel-Kahen/motion-extraction (mp4v)", "worker", True),
    # Opt-in rows (--extra).
    Case("engine-mpeg4-lean", "exact engine, MPEG-4 part 2, max_memory=0 (two heads)", "worker", True,
         default=False),
    Case("vse-on", "VSE engine to H.264, sequencer cache on", "worker", False, slow=True, default=False),
    Case("vse-plain", "VSE, source strip only to H.264 (floor)", "worker", False, slow=True, default=False),
    Case("ffmpeg-rgb-null", "ffmpeg split/tpad/negate/blend, format=gbrp, null", "ffmpeg", True, default=False),
    Case("ffmpeg-yuv-null", "ffmpeg split/tpad/negate/blend in YUV, null", "ffmpeg", True, default=False),
    Case("tmix-null", "ffmpeg tmix=frames=N+1, null", "ffmpeg", True, slow=True, default=False),
    Case("tmix-x264", "ffmpeg tmix=frames=N+1, same x264", "ffmpeg", True, slow=True, default=False),
    # What the encoder alone costs on each side's pixels: ffmpeg's x264 from a lossless FFV1 copy of our planar
    # render, and of the YUV graph's output (the two differ in rounding, not in what moved).
    Case("x264-our-pixels", "ffmpeg's x264 on our planar render's pixels (from FFV1)", "ffmpeg", True, default=False),
    Case("x264-graph-pixels", "ffmpeg's x264 on the YUV graph's pixels (from FFV1)", "ffmpeg", True, default=False),
    Case("opencv-seek", "OpenCV loop, seeks per frame, null", "worker", True, short_only=True, default=False),
    Case("opencv-list", "OpenCV loop, keeps every output frame", "worker", True, short_only=True, default=False),
]
CASE_BY_NAME = {case.name: case for case in CASES}
AGREE = "agree"  # the engines-agree check: not a timed row
RIG = "rig"  # issue 21's Extract Motion and Update against new_movie on a 4K movie (--rig): not a timed row
RIG_TARGET = 1.5  # times new_movie's time
LOOKS = "looks"  # issue 15's per-frame costs of the blur and colour looks (--looks): not a timed row
RHYTHM = "rhythm"  # the live readout's and Key Motion Data's rhythm (--rhythm, scripts/bench_rhythm.py)
MOTION = "motion"  # issue 13's measures and flow look (--motion, scripts/bench_motion.py): not a timed row
ALIGN = "align"  # issue 11's handheld footage against vid.stab (--align, scripts/bench_align.py): not a timed row
LOOK_TARGET_MS, LIVE_TARGET_FPS = 25.0, 25.0
PROFILE = "profile"  # issue 23's per-stage costs (--profile): not a timed row
YUV_TARGET, NULL_TARGET, RSS_BUDGET_MB = 1.0, 0.6, 250.0


# --- clips -------------------------------------------------------------------------------------


def clip_path(size: str, seconds: int) -> Path:
    return CACHE / f"sample_{size}_{seconds}s_h264_aac.mp4"


def generate_clip(size: str, seconds: int) -> Path:
    """The sample scene as an H.264 MP4 with the tick track as AAC, written by our own writer."""
    path = clip_path(size, seconds)
    if path.exists():
        return path
    from blender_addon import media
    from blender_addon.core.sample_clip import SampleClip, write_tick_track

    width, height = SIZES[size]
    clip = SampleClip(width, height, frame_count=FPS * seconds, fps=FPS)
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.name} (once)...", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        ticks = Path(folder) / "ticks.wav"
        write_tick_track(ticks, seconds)
        sound = media.SoundClip(str(ticks), Fraction(0), Fraction(0), Fraction(seconds))
        with media.open_writer(path, FPS, width, height, crf=18, encoder_preset="medium", sound=sound) as writer:
            for frame in clip.read_from(0):
                writer.write(frame)
    return path


def agree_clips() -> list[tuple[str, Path | str]]:
    """The H.264 inputs of the engines-agree check: (label, path), or (label, why it is missing)."""
    from blender_addon import media
    from blender_addon.core.sample_clip import SampleClip

    width, height = AGREE_SIZE
    CACHE.mkdir(parents=True, exist_ok=True)
    sample = CACHE / f"agree_sample_{height}p_{AGREE_FRAMES}f_h264.mp4"
    if not sample.exists():
        clip = SampleClip(width, height, frame_count=AGREE_FRAMES, fps=FPS)
        with media.open_writer(sample, FPS, width, height, crf=18, encoder_preset="medium") as writer:
            for frame in clip.read_from(0):
                writer.write(frame)
    clips: list[tuple[str, Path | str]] = [(f"sample clip, {height}p H.264 (our writer)", sample)]
    label = f"ffmpeg testsrc2, {height}p H.264 (ffmpeg's x264)"
    synthetic = CACHE / f"agree_testsrc2_{height}p_{AGREE_FRAMES}f_h264.mp4"
    if synthetic.exists():
        clips.append((label, synthetic))
    elif shutil.which("ffmpeg") is None:
        clips.append((label, "ffmpeg is not installed"))
    else:
        partial = CACHE / f".partial_{synthetic.name}"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", f"testsrc2=size={width}x{height}:rate={FPS}", "-frames:v", str(AGREE_FRAMES),
             "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", str(partial)],
            check=True,
        )
        os.replace(partial, synthetic)
        clips.append((label, synthetic))
    return clips


# --- workers (run in a child process each) ------------------------------------------------------


def x264_settings(path: Path) -> str | None:
    """The settings x264 wrote into the stream (its SEI message), or ``None``."""
    with open(path, "rb") as file:
        data = file.read(4 << 20)
    match = re.search(rb"x264 - core (\d+).*?options: ([^\x00]*)", data, re.DOTALL)
    if match is None:
        return None
    return f"core {match.group(1).decode()}: {match.group(2).decode(errors='replace')}"


def _preload(case: str) -> None:
    """Imports a worker needs, done before its clock starts."""
    import cv2  # noqa: F401
    import numpy  # noqa: F401

    if case.startswith(("engine", "decode-pyav", "decode-planes")):
        import av  # noqa: F401

        from blender_addon import media
        from blender_addon.core import engine  # noqa: F401

        media.MovieWriter, media.MovieSource  # noqa: B018 (imports the PyAV modules)


def _timed(function) -> dict:
    started = time.perf_counter()
    result = function()
    frames, extra = result if isinstance(result, tuple) else (result, {})
    return {"frames": frames, "seconds": time.perf_counter() - started, **extra}


def _decode_opencv(clip: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    frames = 0
    ok, image = capture.read()
    while ok:
        frames += 1
        ok, image = capture.read(image)
    capture.release()
    return frames


def _decode_pyav(clip: Path, planes: bool = False) -> int:
    from blender_addon import media

    source = media.open_source(clip)
    return sum(1 for _ in (source.read_planes(0) if planes else source.read_from(0)))


def _engine(clip: Path, offset: int, output: str | None, max_memory: int | None = None, rgb: bool = False,
            **writer_options) -> int | tuple[int, dict]:
    """The engine on the path the command line chooses (``rgb``: the RGB path, as ``--math rgb``)."""
    from blender_addon import media
    from blender_addon.core.engine import DEFAULT_MAX_MEMORY, extract_motion
    from blender_addon.core.settings import Settings

    source = media.open_source(clip)
    memory = DEFAULT_MAX_MEMORY if max_memory is None else max_memory
    frames = 0
    settings = Settings(offset=offset)
    planar = not rgb and not media.planar_reasons(source, None if output is None else f"out{output}",
                                                  writer_options.get("codec"), settings)
    if output is None:
        for _ in extract_motion(source, settings, max_memory=memory, planar=planar):
            frames += 1
        return frames, {"path": "planar" if planar else "rgb"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out{output}"
        with media.open_writer(path, source.rate, source.width, source.height, planes=planar,
                               **writer_options) as writer:
            # As a render does: the planar path renders into the writer's own pictures.
            for frame in extract_motion(source, settings, max_memory=memory, planar=planar,
                                        planar_target=writer.lend if planar else None):
                writer.write(frame)
                frames += 1
        return frames, {"x264": x264_settings(path), "path": "planar" if planar else "rgb"}


def _competitor_module(folder: Path):
    """The competitor's module, from --competitor DIR (imported before the clock starts, as ours are)."""
    sys.path.insert(0, str(folder))
    import motion_extraction

    return motion_extraction


def _competitor(motion_extraction, clip: Path, offset: int) -> int:
    with tempfile.TemporaryDirectory() as out:
        args = motion_extraction.parse_args([str(clip), str(Path(out) / "out.mp4"), "--frame-offset", str(offset)])
        return motion_extraction.process_video(args)


def _naive_pair_math(current, partner, out):
    import cv2

    return cv2.addWeighted(current, 0.5, partner, -0.5, 127.75, dst=out)


def _opencv_seek(clip: Path, offset: int) -> int:
    """A loop that seeks to each frame's partner (what simple scripts do): correct, slow."""
    import cv2
    import numpy as np

    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    out = None
    for index in range(count):
        capture.set(cv2.CAP_PROP_POS_FRAMES, max(0, index - offset))
        _, partner = capture.read()
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        _, current = capture.read()
        out = np.empty_like(current) if out is None else out
        _naive_pair_math(current, partner, out)
    capture.release()
    return count


def _opencv_list(clip: Path, offset: int) -> int:
    """A loop that keeps every decoded and output frame in lists, writing at the end."""
    import cv2

    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    frames, outputs = [], []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        outputs.append(_naive_pair_math(frame, frames[max(0, len(frames) - 1 - offset)], None))
        ok, frame = capture.read()
    capture.release()
    return len(outputs)


def _vse_cache_on(clip: Path) -> int:
    """``render_with_vse`` with the sequencer's raw and final caches and prefetching on."""
    import bpy  # noqa: F401 - fails here when the bpy module is not installed

    from blender_addon.core.settings import Settings
    from blender_addon.vse import batch

    def caches_on(scene) -> None:
        editor = scene.sequence_editor
        editor.use_cache_raw = editor.use_cache_final = editor.use_prefetch = True

    batch._quiet_caches = caches_on
    with tempfile.TemporaryDirectory() as folder:
        return batch.render_with_vse(clip, Path(folder) / "out.mp4", Settings()).frame_count


def _vse_plain(clip: Path) -> int:
    """The source strip alone through the VSE engine's output settings: what the sequencer costs without the rig."""
    import bpy

    scene = bpy.data.scenes.new("plain")
    strip = scene.sequence_editor_create().strips.new_movie("clip", str(clip), channel=1, frame_start=1)
    scene.frame_start, scene.frame_end = 1, strip.frame_final_duration
    editor = scene.sequence_editor
    editor.use_cache_raw = editor.use_cache_final = editor.use_prefetch = False
    render = scene.render
    render.resolution_x, render.resolution_y = strip.elements[0].orig_width, strip.elements[0].orig_height
    render.resolution_percentage = 100
    render.fps, render.fps_base = FPS, 1.0
    scene.view_settings.view_transform = "Standard"
    render.image_settings.media_type = "VIDEO"
    render.image_settings.file_format = "FFMPEG"
    render.ffmpeg.format, render.ffmpeg.codec = "MPEG4", "H264"
    render.ffmpeg.constant_rate_factor, render.ffmpeg.ffmpeg_preset = "HIGH", "GOOD"
    with tempfile.TemporaryDirectory() as folder:
        render.filepath = str(Path(folder) / "plain.mp4")
        bpy.ops.render.render(animation=True, scene=scene.name)
    return strip.frame_final_duration


def prepare_clip(size: str, seconds: int) -> dict:
    """Generates a clip if needed; its path, frame count and the default settings' output frame count."""
    from blender_addon import media
    from blender_addon.core.settings import Settings
    from blender_addon.core.timing import output_frame_count

    path = generate_clip(size, seconds)
    frame_count = media.open_source(path).frame_count
    return {"path": str(path), "frames": frame_count, "output_frames": output_frame_count(Settings(), frame_count)}


def run_worker(case: str, clip: Path, offset: int, competitor: Path | None) -> dict | list:
    if case.startswith("prepare:"):
        _, size, seconds = case.split(":")
        return prepare_clip(size, int(seconds))
    if case == AGREE:
        return engines_agree()
    if case == "versions":
        return {"versions": library_versions()}
    if case == LOOKS:
        return look_costs()
    if case.startswith(PROFILE):
        return stage_costs(case.partition(":")[2])
    if case.startswith(RIG):
        return rig_costs(int(case.partition(":")[2] or 3))
    if case == ALIGN:
        from bench_align import align_figures

        return align_figures()
    if case == RHYTHM:
        from bench_rhythm import rhythm_figures

        return rhythm_figures()
    if case == MOTION:
        from bench_motion import motion_figures

        return motion_figures(prepare_clip("1080p", 10)["path"], OUR_X264)
    _preload(case)
    if case == "decode-opencv":
        return _timed(lambda: _decode_opencv(clip))
    if case == "decode-pyav":
        return _timed(lambda: _decode_pyav(clip))
    if case == "decode-planes":
        return _timed(lambda: _decode_pyav(clip, planes=True))
    if case in ("engine-null", "engine-null-rgb"):
        return _timed(lambda: _engine(clip, offset, None, rgb=case.endswith("rgb")))
    if case in ("engine-h264", "engine-h264-rgb"):
        return _timed(lambda: _engine(clip, offset, ".mp4", rgb=case.endswith("rgb"), **OUR_X264))
    if case in ("engine-mpeg4", "engine-mpeg4-lean"):
        memory = LEAN_MEMORY if case.endswith("lean") else None
        return _timed(lambda: _engine(clip, offset, ".mp4", memory, codec="mpeg4"))
    if case == "competitor":
        module = _competitor_module(competitor)
        return _timed(lambda: _competitor(module, clip, offset))
    if case == "opencv-seek":
        return _timed(lambda: _opencv_seek(clip, offset))
    if case == "opencv-list":
        return _timed(lambda: _opencv_list(clip, offset))
    if case == "vse-on":
        return _timed(lambda: _vse_cache_on(clip))
    if case == "vse-plain":
        return _timed(lambda: _vse_plain(clip))
    raise SystemExit(f"bench: unknown worker case {case}")


# --- measuring ---------------------------------------------------------------------------------


def blend_graph(offset: int, rgb: bool) -> str:
    """ffmpeg's ``split/tpad/negate/blend`` motion graph; in planar RGB when ``rgb`` (the same math as ours)."""
    head = "[0:v]format=gbrp,split[a][b]" if rgb else "[0:v]split[a][b]"
    return f"{head};[b]tpad=start={offset}:start_mode=clone,negate[c];[a][c]blend=all_mode=average:shortest=1"


def lossless_pixels(case: str, clip: Path, offset: int) -> Path:
    """An FFV1 copy of our planar render of ``clip`` (``x264-our-pixels``) or of the YUV graph's output, made once,
    both by the same ffmpeg FFV1 command (so that decoding them costs the same)."""
    path = CACHE / "pixels" / f"{clip.stem}_N{offset}_{case.split('-')[1]}.mkv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"partial_{path.name}")
        source, graph = clip, ["-filter_complex", blend_graph(offset, rgb=False)]
        if case == "x264-our-pixels":
            source, graph = path.with_name(f"render_{path.name}"), []
            subprocess.run([sys.executable, str(CLI), str(clip), "-o", str(source), "--offset", str(offset),
                            "--overwrite", "--no-audio", "-q"], check=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), *graph, "-an", "-c:v", "ffv1",
                        str(partial)], check=True)
        if source != clip:
            source.unlink()
        partial.replace(path)
    return path


def ffmpeg_command(case: str, clip: Path, offset: int, output: Path) -> list[str]:
    if case.startswith("x264-"):
        return [*FFMPEG_TIMED, "-i", str(lossless_pixels(case, clip, offset)), *FFMPEG_X264, str(output)]
    if case == "ffmpeg-yuv-x264-sound":  # what the command line's default output holds: the motion and the sound
        silent = [argument for argument in FFMPEG_X264 if argument != "-an"]
        return [*FFMPEG_TIMED, "-i", str(clip), "-filter_complex", blend_graph(1, rgb=False) + "[motion]",
                "-map", "[motion]", "-map", "0:a?", "-c:a", "copy", *silent, str(output)]
    graph = None
    if case.startswith("tmix"):
        graph = f"tmix=frames={offset + 1}"
    elif case.startswith("ffmpeg-"):
        graph = blend_graph(offset, rgb=case.startswith("ffmpeg-rgb"))
    command = list(FFMPEG_TIMED)
    command += ["-i", str(clip)]
    if graph is not None:
        command += ["-filter_complex", graph]
    if case == "ffmpeg-transcode-x264":
        command += ["-map", "0:v"]
    if case.endswith("x264"):
        return command + FFMPEG_X264 + [str(output)]
    return command + ["-an", "-f", "null", "-"]


def cli_command(case: str, clip: Path, output: Path) -> list[str]:
    command = [sys.executable, str(CLI), str(clip), "-o", str(output)]
    return command + (["--engine", "vse"] if case == "cli-vse" else [])


def run_child(command: list[str]) -> tuple[str, int, float, float]:
    """Runs ``command``; returns its stdout+stderr, exit code, peak RSS in MB and wall seconds."""
    return run_child_cpu(command)[:4]


def run_child_cpu(command: list[str]) -> tuple[str, int, float, float, float]:
    """:func:`run_child`, and the CPU seconds (user and system) the child and what it waited for used."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.stdout.close()
    cpu = usage.ru_utime + usage.ru_stime
    return output, os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, wall, cpu  # Linux reports KiB


def measure(case: str, clip: Path, offset: int, frame_count: int, output_frames: int,
            competitor: Path | None) -> dict | str:
    """One run of a case in a child process: frames, seconds, fps, peak RSS; or why it was skipped."""
    runner = CASE_BY_NAME[case].runner
    if runner == "ffmpeg":
        if shutil.which("ffmpeg") is None:
            return "ffmpeg is not installed"
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "out.mp4"
            output, code, rss, wall, cpu = run_child_cpu(ffmpeg_command(case, clip, offset, out))
            settings = x264_settings(out) if "x264" in case and out.exists() else None
        match = re.search(r"rtime=([\d.]+)s", output)
        if code != 0 or match is None:
            raise SystemExit(f"bench: ffmpeg case {case} failed:\n{output[-3000:]}")
        result = {"frames": frame_count, "seconds": float(match.group(1)), "x264": settings}
    elif runner == "cli":
        with tempfile.TemporaryDirectory() as folder:
            if case not in _WARMED:  # once, untimed: the modules a render imports are compiled (cached_bytecode)
                _WARMED.add(case)
                run_child(cli_command(case, clip, Path(folder) / "warm.mp4") + ["--frames", "0:10"])
            output, code, rss, wall, cpu = run_child_cpu(cli_command(case, clip, Path(folder) / "out.mp4"))
        if code != 0:
            if case == "cli-vse" and "the vse engine runs inside Blender" in output:
                return "the bpy module is not installed"
            raise SystemExit(f"bench: case {case} failed with exit code {code}:\n{output[-3000:]}")
        result = {"frames": output_frames, "seconds": wall}
    else:
        if case == "competitor" and competitor is None:
            return "competitor: not given (--competitor DIR)"
        command = [sys.executable, __file__, "--worker", case, "--clip", str(clip), "--offset", str(offset)]
        if competitor is not None:
            command += ["--competitor", str(competitor)]
        output, code, rss, wall, cpu = run_child_cpu(command)
        if code != 0:
            if case.startswith("vse") and "No module named 'bpy'" in output:
                return "the bpy module is not installed"
            raise SystemExit(f"bench: case {case} failed with exit code {code}:\n{output[-3000:]}")
        result = json.loads(output.strip().splitlines()[-1])
    result["fps"] = result["frames"] / result["seconds"]
    result["process_fps"] = result["frames"] / wall
    result["rss_mb"] = rss
    result["cpu_ms"] = 1000 * cpu / result["frames"]  # the whole process's, per frame: the work, whatever the load
    return result


_WARMED: set[str] = set()  # command-line cases run once untimed, so that their bytecode is cached


def cached_bytecode() -> str:
    """Lets every child import the package's modules compiled, as an installed package does (pip and Blender
    compile them on install), even where the environment says not to write bytecode: a whole-process row would
    otherwise time Python compiling the package on every run. The bytecode goes under .cache/bench (with a
    prefix, Python keeps every module's there, the libraries' too: a short untimed render compiles those)."""
    folder = CACHE / "bytecode"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(folder)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO_ROOT / "blender_addon"),
                    str(REPO_ROOT / "scripts")], check=True, stdout=subprocess.DEVNULL)
    return f"the package compiled once, into {folder.relative_to(REPO_ROOT)} (PYTHONPYCACHEPREFIX)"


def call_worker(case: str) -> dict | list:
    """Runs a helper worker of this script (its stderr passes through); returns what it printed."""
    done = subprocess.run([sys.executable, __file__, "--worker", case], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: the {case} worker failed with exit code {done.returncode}:\n{done.stdout[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    return {
        "frames": runs[0]["frames"],
        "fps": statistics.median(run["fps"] for run in runs),
        "fps_all": [round(run["fps"], 1) for run in runs],
        "process_fps": statistics.median(run["process_fps"] for run in runs),
        "rss_mb": statistics.median(run["rss_mb"] for run in runs),
        "cpu_ms": statistics.median(run["cpu_ms"] for run in runs),
        "x264": runs[0].get("x264"),
        "path": runs[0].get("path"),
    }


def look_costs(frames: int = 16) -> list[dict]:
    """Median ms per 1080p frame of each look's own stage (the look's render less the plain one's), and the
    live view's frames per second with the glow preset, on the sample scene in memory (no decoding)."""
    from blender_addon.core.effect import MotionEffect
    from blender_addon.core.plan import resolve
    from blender_addon.core.presets import preset_settings
    from blender_addon.core.sample_clip import SampleClip
    from blender_addon.core.settings import Settings
    from blender_addon.core.timing import COMBINE
    from blender_addon.live.motion import LiveMotion

    clip = SampleClip(width=1920, height=1080, frame_count=frames + 1, fps=FPS)
    pictures = [clip.frame(index) for index in range(frames + 1)]

    def per_frame(settings: Settings) -> float:
        effect, times = MotionEffect(resolve(settings, pictures[0].shape)), []
        effect.render(pictures[1], (pictures[0],), COMBINE, (1, 0))  # tables and checks made once
        for index in range(2, frames + 1):
            began = time.perf_counter()
            effect.render(pictures[index], (pictures[index - 1],), COMBINE, (index, index - 1))
            times.append(time.perf_counter() - began)
        return 1000 * statistics.median(times)

    plain = per_frame(Settings())
    rows = [{"look": label, "ms": per_frame(settings) - plain, "target": target} for label, settings, target in (
        ("glow, radius 10", Settings(glow=1.5, glow_radius=10.0), LOOK_TARGET_MS),
        ("pre-blur, radius 10", Settings(pre_blur=10.0), LOOK_TARGET_MS),
        ("pre-blur, radius 2", Settings(pre_blur=2.0), None),
        ("matte look", Settings(look="matte"), None),
        ("saturation 0", Settings(saturation=0.0), None),
        ("tint", Settings(tint=True), None),
    )]
    live = LiveMotion(preset_settings("glow"))
    live.push(pictures[0])  # tables and checks made once
    began = time.perf_counter()
    for picture in pictures[1:]:
        live.push(picture)
    rows.append({"look": "live view, glow preset (fps)", "fps": frames / (time.perf_counter() - began),
                 "target": LIVE_TARGET_FPS})
    return rows


def stage_costs(size: str, frames: int = 60) -> dict:
    """Median ms per frame of each stage on ``size``'s 10 s clip: decoding (to planes, to BGR), the window and
    Python around the look (the planar null sink less decoding and the look), the look on the planes (into a
    buffer of its own, and into the writer's picture as a render does) and in RGB, the RGB path's conversions,
    and the copy of a frame into the writer's picture that rendering there saves; decoding and the null sinks
    also in CPU time per frame, FFmpeg's threads included."""
    import av
    import cv2
    import numpy as np

    from blender_addon import media
    from blender_addon.core.engine import extract_motion
    from blender_addon.core.pixels import Combiner
    from blender_addon.core.plan import resolve
    from blender_addon.core.planar import PlanarEffect, planes
    from blender_addon.core.settings import Settings
    from blender_addon.core.timing import COMBINE
    from blender_addon.media.colour import plane_pixels

    clip = Path(prepare_clip(size, 10)["path"])
    source = media.open_source(clip)
    count = source.frame_count

    cpu_ms: dict[str, float] = {}  # the same runs in CPU time of every thread, which the load changes far less

    def per_frame_of(run, name: str) -> float:
        began, cpu = time.perf_counter(), time.process_time()
        run()
        cpu_ms[f"{name}, CPU of every thread"] = 1000 * (time.process_time() - cpu) / count
        return 1000 * (time.perf_counter() - began) / count

    def drain(frames) -> None:
        for _ in frames:
            pass

    decode_planes = per_frame_of(lambda: drain(source.read_planes(0)), "decode to planes")
    decode_bgr = per_frame_of(lambda: drain(source.read_from(0)), "decode to BGR")
    null_planar = per_frame_of(lambda: drain(extract_motion(source, Settings(), planar=True)), "null sink, planar")
    null_rgb = per_frame_of(lambda: drain(extract_motion(source, Settings())), "null sink, RGB")
    heads = source.read_from(0, compact=True)
    buffers = [next(heads).copy() for _ in range(3)]
    heads.close()
    heads = source.read_planes(0)
    lent = [next(heads) for _ in range(3)]  # as the planar path's window holds them
    heads.close()
    bgr = [source.expand(buffer).copy() for buffer in buffers]
    picture = av.VideoFrame(buffers[0].shape[1], buffers[0].shape[0] * 2 // 3, "yuv420p")

    def into_picture() -> None:  # what the planar writer does on the caller's thread (media.encode)
        picture.make_writable()
        for index, plane in enumerate(planes(buffers[0])):
            np.copyto(plane_pixels(picture, index), plane)

    def median_ms(function) -> float:
        function()  # tables, checks and buffers made once
        times = []
        for _ in range(frames):
            began = time.perf_counter()
            function()
            times.append(time.perf_counter() - began)
        return 1000 * statistics.median(times)

    settings = Settings()
    planar = PlanarEffect(resolve(settings, (source.height, source.width), count))
    combiner = Combiner(settings, bgr[0].shape)
    out = np.empty_like(bgr[0])
    look_planar = median_ms(lambda: planar.render(lent[1], (lent[0],), COMBINE))
    target = tuple(plane_pixels(picture, index) for index in range(3))
    return {
        "size": size, "clip": clip.name, "frames": count,
        "decode to planes (the decoder's pictures, lent)": decode_planes, "decode to BGR (RGB path)": decode_bgr,
        "planes to BGR, each frame (RGB path)": median_ms(lambda: cv2.cvtColor(buffers[0], cv2.COLOR_YUV2BGR_I420)),
        "look on the planes": look_planar,
        "look on the planes, into the writer's picture (as a render does)":
            median_ms(lambda: planar.render(lent[1], (lent[0],), COMBINE, target)),
        "look in BGR (RGB path)": median_ms(lambda: combiner.combine(bgr[1], bgr[0], out)),
        "BGR to planes for the encoder (RGB path)": median_ms(lambda: cv2.cvtColor(out, cv2.COLOR_BGR2YUV_I420)),
        "a frame's planes copied into the writer's picture (saved by rendering there)": median_ms(into_picture),
        "null sink, planar path (decode, window, look)": null_planar,
        "window and Python around the look, CPU (planar null sink - decode - look)":
            cpu_ms["null sink, planar, CPU of every thread"] - cpu_ms["decode to planes, CPU of every thread"]
            - look_planar,
        "null sink, RGB path": null_rgb,
        **cpu_ms,
    }


def print_stage_costs(profiles: list[dict]) -> None:
    print(f"load average: {load()}\n")
    sizes = [profile["size"] for profile in profiles]
    print("| stage (ms per frame, gray look N=1) | " + " | ".join(sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for key in profiles[0]:
        if key in ("size", "clip", "frames"):
            continue
        print(f"| {key} | " + " | ".join(f"{profile[key]:.2f}" for profile in profiles) + " |")


def print_look_costs(rows: list[dict]) -> None:
    print(f"load average: {load()}\n\n| look (1080p, per frame) | ours | target |\n|---|---|---|")
    for row in rows:
        if "fps" in row:
            value, met = f"{row['fps']:.1f} fps", row["fps"] >= row["target"]
            goal = f">= {row['target']:.0f} fps"
        else:
            value, met = f"{row['ms']:.1f} ms", row["target"] is None or row["ms"] <= row["target"]
            goal = "-" if row["target"] is None else f"<= {row['target']:.0f} ms"
        print(f"| {row['look']} | {value} | {goal}{'' if goal == '-' else (' met' if met else ' MISSED')} |")


def rig_costs(repeat: int) -> dict:
    """Median seconds of Blender's ``new_movie`` on a 2 s 4K clip, and of Extract Motion and Update with the
    default settings on the strip it made, in rounds of a fresh scene each (the file read once before, so
    every round finds it in the page cache)."""
    import bpy

    import blender_addon

    clip = str(generate_clip("2160p", 2))
    blender_addon.register()
    times: dict[str, list[float]] = {"new_movie": [], "extract": [], "update": []}
    for round_ in range(repeat + 1):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.data.scenes[0] if bpy.data.scenes else bpy.data.scenes.new("Scene")
        bpy.context.window.scene = bpy.context.workspace.sequencer_scene = scene
        editor = scene.sequence_editor_create()
        began = time.perf_counter()
        strip = editor.strips.new_movie(name="clip", filepath=clip, channel=1, frame_start=1)
        made = time.perf_counter() - began
        strip.select, editor.active_strip = True, strip
        began = time.perf_counter()
        assert bpy.ops.sequencer.motion_extract() == {"FINISHED"}
        extracted = time.perf_counter() - began
        began = time.perf_counter()
        assert bpy.ops.sequencer.motion_extract_update() == {"FINISHED"}
        updated = time.perf_counter() - began
        if round_:  # the first round warms up: imports, FFmpeg, the page cache
            for name, seconds in zip(times, (made, extracted, updated), strict=True):
                times[name].append(seconds)
    return {"clip": Path(clip).name, **{name: statistics.median(runs) for name, runs in times.items()},
            "runs": {name: [round(run, 2) for run in runs] for name, runs in times.items()}}


def print_rig_costs(costs: dict) -> None:
    print(f"load average: {load()}\n\n| {costs['clip']} (bpy) | seconds (median) | runs | against new_movie | "
          "target |\n|---|---|---|---|---|")
    base = costs["new_movie"]
    for name, label in (("new_movie", "Blender's new_movie"), ("extract", "Extract Motion"), ("update", "Update")):
        ratio = costs[name] / base
        goal = "-" if name == "new_movie" else f"<= {RIG_TARGET}x {'met' if ratio <= RIG_TARGET else 'MISSED'}"
        runs = " / ".join(f"{run:.2f}" for run in costs["runs"][name])
        print(f"| {label} | {costs[name]:.2f} s | {runs} | {ratio:.2f}x | {goal} |")


def engines_agree() -> list[dict]:
    """Both engines render each H.264 clip of :func:`agree_clips` to PNGs through the CLI; levels compared."""
    import cv2
    import numpy as np

    results = []
    for label, clip in agree_clips():
        if isinstance(clip, str):
            results.append({"clip": label, "skipped": clip})
            continue
        print(f"  engines agree: {label}...", file=sys.stderr)
        began = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            renders = {}
            skipped = None
            for engine in ("exact", "vse"):
                target = Path(folder) / engine
                target.mkdir()
                command = [sys.executable, str(CLI), str(clip), "-o", str(target / "%05d.png"), "-q"]
                if engine == "vse":
                    command += ["--engine", "vse"]
                output, code, _, _ = run_child(command)
                if code != 0:
                    if engine == "vse" and "the vse engine runs inside Blender" in output:
                        skipped = "the bpy module is not installed"
                        break
                    raise SystemExit(f"bench: {engine} engine failed on {clip}:\n{output[-3000:]}")
                renders[engine] = sorted(target.glob("*.png"))
            if skipped:
                results.append({"clip": label, "skipped": skipped})
                continue
            exact, vse = renders["exact"], renders["vse"]
            if not exact or len(exact) != len(vse):
                raise SystemExit(f"bench: the engines wrote {len(exact)} and {len(vse)} frames for {clip}")
            largest, total, values, over = 0, 0, 0, 0
            for ours, theirs in zip(exact, vse, strict=True):
                a, b = cv2.imread(str(ours), cv2.IMREAD_COLOR), cv2.imread(str(theirs), cv2.IMREAD_COLOR)
                if a.shape != b.shape:
                    raise SystemExit(f"bench: frame sizes differ: {ours.name} {a.shape}, {theirs.name} {b.shape}")
                difference = cv2.absdiff(a, b)
                largest = max(largest, int(difference.max()))
                total += int(difference.sum(dtype=np.int64))
                values += difference.size
                over += int(np.count_nonzero(difference > 1))
        results.append({
            "clip": label, "frames": len(exact), "max": largest, "mean": total / values, "over_1": over / values,
            "seconds": time.monotonic() - began,
        })
    return results


# --- reporting ---------------------------------------------------------------------------------


def library_versions() -> str:
    """The versions of what the cases run on (imports numpy, OpenCV and PyAV: a worker's job)."""
    import importlib.metadata

    import av
    import cv2
    import numpy

    versions = (f"Python {platform.python_version()}, numpy {numpy.__version__}, OpenCV {cv2.__version__}, "
                f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info})")
    try:
        versions += f", bpy {importlib.metadata.version('bpy')}"
    except importlib.metadata.PackageNotFoundError:
        pass
    return versions


def machine_description(versions: str) -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
        memory = f", {kib / 2**20:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    if shutil.which("ffmpeg"):
        first = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        versions += ", " + " ".join(first.split()[:3])
    return f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}; {versions}"


def load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def table(rows: list[tuple], results: dict) -> str:
    lines = [
        "| clip | case | N | frames | fps (median) | runs | x ffmpeg decode | fps, whole process | peak RSS (MB) "
        "| CPU, whole process (ms/frame) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, seconds, case, offset in rows:
        result = results[size, seconds, case, offset]
        where = f"{size} {seconds} s"
        label = CASE_BY_NAME[case].label
        shown_n = offset if CASE_BY_NAME[case].offsets else "-"
        if isinstance(result, str):
            lines.append(f"| {where} | {label} | {shown_n} | - | skipped: {result} | | | | | |")
            continue
        decode = results.get((size, seconds, "decode-ffmpeg", 0))
        ratio = f"{result['fps'] / decode['fps']:.2f}" if isinstance(decode, dict) else "-"
        runs = " / ".join(str(fps) for fps in result["fps_all"])
        lines.append(
            f"| {where} | {label} | {shown_n} | {result['frames']} | {result['fps']:.1f} | {runs} | {ratio} "
            f"| {result['process_fps']:.1f} | {result['rss_mb']:.0f} | {result['cpu_ms']:.1f} |"
        )
    return "\n".join(lines)


class Targets:
    """Issue 9's targets as a markdown table: ours and the reference side by side, the goal, met or MISSED."""

    def __init__(self) -> None:
        self.lines = [
            "| target | clip | N | ours | reference | ratio | goal | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        self.counts = {"met": 0, "MISSED": 0, "not measured": 0}

    def check(self, target: str, where: str, offset: object, ours: str, reference: str, value: float,
              goal: float, at_least: bool = True, strict: bool = False, verdict: str | None = None) -> None:
        """One measured target: met when ``value`` is at least (or at most; below, if ``strict``) ``goal``."""
        if at_least:
            met, sign = value >= goal, ">="
        else:
            met, sign = (value < goal, "<") if strict else (value <= goal, "<=")
        word = verdict or ("met" if met else "MISSED")
        if word in self.counts:
            self.counts[word] += 1
        self.lines.append(f"| {target} | {where} | {offset} | {ours} | {reference} | {value:.3g} | {sign} {goal:g} "
                          f"| {word} |")

    def missing(self, target: str, where: str, offset: object, why: str) -> None:
        self.counts["not measured"] += 1
        self.lines.append(f"| {target} | {where} | {offset} | | | | | not measured: {why} |")

    def row(self, *cells: object) -> None:
        self.lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")

    def summary(self) -> str:
        return ", ".join(f"{count} {word}" for word, count in self.counts.items())


def _fps(result: dict) -> str:
    return f"{result['fps']:.1f} fps"


def _rss(result: dict) -> str:
    return f"{result['rss_mb']:.0f} MB"


def targets(results: dict, agreement: list[dict] | None, size: str, lengths: list[int], offsets: list[int],
            competitor_given: bool) -> tuple[Targets, list[str]]:
    def get(seconds, case, offset=0):
        result = results.get((size, seconds, case, offset))
        return result if isinstance(result, dict) else None

    def why(seconds, case, offset=0) -> str:
        result = results.get((size, seconds, case, offset))
        return f"{case}: {result}" if isinstance(result, str) else f"{case} was not run"

    board, notes = Targets(), []
    shortest, longest = min(lengths), max(lengths)
    high = 30 if 30 in offsets else max(offsets)

    # 1. Exact engine to H.264 against ffmpeg's RGB graph at the same x264 settings; the YUV graph as the stretch.
    name = "1. exact engine to H.264 / ffmpeg RGB graph, same x264"
    x264_notes: dict[str, list[str]] = {}
    for seconds in lengths:
        where = f"{size} {seconds} s"
        for offset in offsets:
            ours, rgb, yuv = (get(seconds, case, offset) for case in ("engine-h264", "ffmpeg-rgb-x264",
                                                                     "ffmpeg-yuv-x264"))
            if ours and rgb:
                board.check(name, where, offset, _fps(ours), _fps(rgb), ours["fps"] / rgb["fps"], 1.0)
            else:
                board.missing(name, where, offset, why(seconds, "engine-h264" if not ours else "ffmpeg-rgb-x264",
                                                       offset))
            if ours and yuv:
                value = ours["fps"] / yuv["fps"]
                board.row("1. stretch: / ffmpeg YUV graph (not the same pixels)", where, offset, _fps(ours),
                          _fps(yuv), f"{value:.2f}", ">= 1 (stretch)", "reached" if value >= 1 else "not reached")
            for case, result in (("ours", ours), ("ffmpeg", rgb)):
                if result and result.get("x264") is None:
                    notes.append(f"{where} N={offset}: no x264 settings found in {case}'s output")
            if ours and rgb and ours.get("x264") and rgb.get("x264"):
                for note in _compare_x264(ours["x264"], rgb["x264"]):
                    x264_notes.setdefault(note, []).append(f"{where} N={offset}")
    notes.extend(f"{note} ({', '.join(wheres)})" for note, wheres in x264_notes.items())

    # 2. The default .mp4 output against the VSE engine, both through the command line, whole process.
    name = "2. default .mp4 output / --engine vse (CLI, whole process)"
    where = f"{size} {shortest} s"
    default, vse = get(shortest, "cli-default"), get(shortest, "cli-vse")
    if default and vse:
        board.check(name, where, "1", _fps(default), _fps(vse), default["fps"] / vse["fps"], 3.0)
    else:
        board.missing(name, where, "1", why(shortest, "cli-default" if not default else "cli-vse"))
    if default:
        board.check("2. (for reference) default .mp4 output / DESIGN.md's 13.6 fps", where, "1", _fps(default),
                    f"{VSE_FPS_IN_DESIGN} fps", default["fps"] / VSE_FPS_IN_DESIGN, 3.0, verdict="info")
    # 3. Null sink against ffmpeg's own decode.
    name = "3. exact engine null sink / ffmpeg -f null"
    for seconds in lengths:
        where = f"{size} {seconds} s"
        decode = get(seconds, "decode-ffmpeg")
        for offset in offsets:
            null = get(seconds, "engine-null", offset)
            if null and decode:
                board.check(name, where, offset, _fps(null), _fps(decode), null["fps"] / decode["fps"], 0.6)
            else:
                board.missing(name, where, offset, why(seconds, "engine-null" if not null else "decode-ffmpeg",
                                                       offset if not null else 0))
    # 4. MPEG-4 part 2 writer against the competitor at N=30: faster and leaner at once.
    for seconds in lengths:
        where = f"{size} {seconds} s"
        ours, rival = get(seconds, "engine-mpeg4", high), get(seconds, "competitor", high)
        if not competitor_given:
            board.missing("4. MPEG-4 part 2 writer vs competitor", where, high, "competitor: not given")
            continue
        if not (ours and rival):
            board.missing("4. MPEG-4 part 2 writer vs competitor", where, high,
                          why(seconds, "engine-mpeg4" if not ours else "competitor", high))
            continue
        speed, memory = ours["fps"] / rival["fps"], ours["rss_mb"] / rival["rss_mb"]
        board.check("4a. MPEG-4 part 2 writer fps / competitor's", where, high, _fps(ours), _fps(rival), speed, 1.3)
        board.check("4b. MPEG-4 part 2 writer peak RSS / competitor's", where, high, _rss(ours), _rss(rival), memory,
                    0.65, at_least=False)
        board.row("4. both at once", where, high, "", "", "", "", "met" if speed >= 1.3 and memory <= 0.65 else
                  "MISSED")
    # 5. Peak RSS flat with clip length.
    name = (f"5. peak RSS {longest} s / {shortest} s, exact engine to H.264" if longest != shortest
            else "5. peak RSS of the long clip / the short one, exact engine to H.264")
    if longest == shortest:
        board.missing(name, size, high, "needs two clip lengths (--seconds 10 60)")
    else:
        short, long = get(shortest, "engine-h264", high), get(longest, "engine-h264", high)
        if short and long:
            board.check(name, size, high, _rss(long), _rss(short), long["rss_mb"] / short["rss_mb"], 1.10,
                        at_least=False)
        else:
            board.missing(name, size, high, why(shortest if not short else longest, "engine-h264", high))
    # 6. The engines agree on H.264 inputs.
    name = "exact engine vs VSE engine on H.264 input, PNG sequences"
    if agreement is None:
        board.missing(f"6. {name}", "-", 1, "agree was not run")
    for item in agreement or []:
        if "skipped" in item:
            board.missing(f"6. {name}", item["clip"], 1, item["skipped"])
            continue
        good = item["max"] <= 1 and item["mean"] < 0.1
        board.check(f"6a. {name}: max level difference", item["clip"], 1, f"max {item['max']}", "the VSE render",
                    item["max"], 1, at_least=False)
        board.check(f"6b. {name}: mean level difference", item["clip"], 1, f"mean {item['mean']:.4f}",
                    "the VSE render", item["mean"], 0.1, at_least=False, strict=True)
        notes.append(f"{item['clip']}: {item['frames']} frames, {100 * item['over_1']:.4f}% of values more than "
                     f"1 level apart; {'both met' if good else 'not met'} ({item['seconds']:.0f} s)")
    return board, notes


def scale_targets(results: dict, sizes: list[str], lengths: list[int], offsets: list[int]) -> Targets:
    """Issue 23's targets: the default path against ffmpeg's YUV graph and the null sink against ``ffmpeg -f null``
    at every size, and the peak RSS budget of N=30 to MPEG-4 at 1080p, flat with clip length."""
    def get(size, seconds, case, offset=0):
        result = results.get((size, seconds, case, offset))
        return result if isinstance(result, dict) else None

    board, shortest = Targets(), min(lengths)
    for size in sizes:
        where = f"{size} {shortest} s"
        yuv_one = get(size, shortest, "ffmpeg-yuv-x264", 1)
        for offset in offsets:
            for name, ours, theirs, goal in (
                ("23a. exact engine to H.264 (planar path) / ffmpeg YUV graph, same x264",
                 ("engine-h264", offset), ("ffmpeg-yuv-x264", offset), YUV_TARGET),
                ("23b. null sink / ffmpeg -f null", ("engine-null", offset), ("decode-ffmpeg",), NULL_TARGET),
            ):
                found, reference = get(size, shortest, *ours), get(size, shortest, *theirs)
                if found and reference:
                    board.check(name, where, offset, f"{_fps(found)} ({found.get('path')})", _fps(reference),
                                found["fps"] / reference["fps"], goal)
                else:
                    board.missing(name, where, offset, f"{ours[0]} or {theirs[0]} was not run")
        default, sound = get(size, shortest, "cli-default"), get(size, shortest, "ffmpeg-yuv-x264-sound")
        if default and sound:  # both files hold the motion and the source's sound
            board.check("23c. motion_extract.py clip.mp4 (whole process) / ffmpeg YUV graph with the sound copied "
                        "(whole process)", where, 1, f"{default['process_fps']:.1f} fps",
                        f"{sound['process_fps']:.1f} fps", default["process_fps"] / sound["process_fps"], YUV_TARGET)
        else:
            board.missing("23c. motion_extract.py clip.mp4 (whole process) / ffmpeg YUV graph with the sound copied",
                          where, 1, f"{'cli-default' if not default else 'ffmpeg-yuv-x264-sound'} was not run")
        if default and yuv_one:  # the graph's row without sound, as the engine rows compare
            board.check("23c'. motion_extract.py clip.mp4 (whole process) / ffmpeg YUV graph without sound (whole "
                        "process)", where, 1, f"{default['process_fps']:.1f} fps", f"{yuv_one['process_fps']:.1f} fps",
                        default["process_fps"] / yuv_one["process_fps"], YUV_TARGET, verdict="info")
    high = 30 if 30 in offsets else max(offsets)
    for seconds in lengths:
        mpeg4 = get("1080p", seconds, "engine-mpeg4", high)
        name = "23d. peak RSS, N=30 to the MPEG-4 writer (MB)"
        if mpeg4:
            board.check(name, f"1080p {seconds} s", high, _rss(mpeg4), "budget", mpeg4["rss_mb"], RSS_BUDGET_MB,
                        at_least=False)
        else:
            board.missing(name, f"1080p {seconds} s", high, "engine-mpeg4 was not run")
    short, long = get("1080p", min(lengths), "engine-mpeg4", high), get("1080p", max(lengths), "engine-mpeg4", high)
    if short and long and max(lengths) != min(lengths):
        board.check(f"23e. peak RSS {max(lengths)} s / {min(lengths)} s, MPEG-4 writer", "1080p", high, _rss(long),
                    _rss(short), long["rss_mb"] / short["rss_mb"], 1.10, at_least=False)
    return board


def _compare_x264(ours: str, theirs: str) -> list[str]:
    """Notes on how the two x264 streams were configured: a difference other than threading is a warning."""
    def parse(text: str) -> tuple[str, dict[str, str]]:
        core, _, options = text.partition(": ")
        return core, dict(item.split("=", 1) for item in options.split() if "=" in item)

    (our_core, mine), (their_core, yours) = parse(ours), parse(theirs)
    differ = [key for key in sorted(set(mine) | set(yours)) if mine.get(key) != yours.get(key)]
    settings = [key for key in differ if key not in X264_THREADING]
    threading = [key for key in differ if key in X264_THREADING]
    notes = []
    if settings:
        notes.append(f"WARNING: x264 settings differ (ours {our_core}, ffmpeg's {their_core}): "
                     + ", ".join(f"{key} {mine.get(key)} vs {yours.get(key)}" for key in settings))
    else:
        shown = " ".join(f"{key}={mine[key]}" for key in ("keyint", "bframes", "crf", "subme", "ref", "rc_lookahead")
                         if key in mine)
        notes.append(f"x264 settings the same on both sides of 1. but for threading ({shown}; ours {our_core}, "
                     f"ffmpeg's {their_core})")
    if threading:
        notes.append("x264 threading, ours vs ffmpeg's: "
                     + ", ".join(f"{key} {mine.get(key)} vs {yours.get(key)}" for key in threading))
    return notes


def draw_chart(path: Path, rows: list[tuple], results: dict, title: str) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no chart: matplotlib is not installed (pip install -r requirements.txt)"
    shown = [(row, results[row]) for row in rows if isinstance(results[row], dict)]
    labels = [
        f"{CASE_BY_NAME[case].label}" + (f", N={offset}" if CASE_BY_NAME[case].offsets else "")
        for (_, _, case, offset), _ in shown
    ]
    colours = [
        "#2a7ab9" if case.startswith(("engine", "cli-default")) else
        "#8c8c8c" if case.startswith("decode") else
        "#e08a1e" if case.startswith(("vse", "cli-vse")) else "#b04a4a"
        for (_, _, case, _), _ in shown
    ]
    figure, (fps_axis, rss_axis) = plt.subplots(1, 2, figsize=(13, 0.32 * len(shown) + 1.6), sharey=True)
    positions = range(len(shown))
    fps_axis.barh(positions, [result["fps"] for _, result in shown], color=colours)
    fps_axis.set_xscale("log")
    fps_axis.set_xlabel("frames per second (log scale, higher is better)")
    rss_axis.barh(positions, [result["rss_mb"] for _, result in shown], color=colours)
    rss_axis.set_xlabel("peak RSS, MB (lower is better)")
    fps_axis.set_yticks(list(positions), labels, fontsize=8)
    fps_axis.invert_yaxis()
    for axis, key, fmt in ((fps_axis, "fps", "{:.0f}"), (rss_axis, "rss_mb", "{:.0f}")):
        for position, (_, result) in zip(positions, shown, strict=True):
            axis.text(result[key], position, " " + fmt.format(result[key]), va="center", fontsize=7)
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return f"chart: {path}"


def selected(args: argparse.Namespace) -> list[Case]:
    if args.cases:
        return [case for case in CASES if case.name in args.cases]
    return [case for case in CASES if (case.default or args.extra) and (case.quick or not args.quick)]


def plan(args: argparse.Namespace) -> list[tuple]:
    rows = []
    shortest = min(args.seconds)
    cases = selected(args)
    for size in args.sizes:
        for seconds in args.seconds:
            if seconds != shortest and size != "1080p":  # the scale rows: the longer clips stay 1080p
                continue
            for case in cases:
                if seconds != shortest and (case.short_only or (case.slow and not args.all_lengths)):
                    continue
                for offset in (args.offsets if case.offsets else [0]):
                    rows.append((size, seconds, case.name, offset))
    return rows


JOBS_LOOKS = {  # CPU-bound looks for --jobs-speedup: the issue 14 target is on the first
    "glow, radius 10": ["--glow", "1", "--glow-radius", "10"],
    "glow, radius 10, screen overlay": ["--glow", "1", "--glow-radius", "10", "--overlay", "screen"],
}
JOBS_TARGET = 1.6


def jobs_speedup(repeat: int) -> None:
    """``--jobs 2`` against ``--jobs 1`` on the 1080p 10 s clip to H.264, whole processes, alternating; medians."""
    clip = Path(call_worker("prepare:1080p:10")["path"])
    print(f"load average at start: {load()}\n")
    print("| look (1080p 10 s, to H.264) | --jobs 1 | --jobs 2 | speed-up | target |\n|---|---|---|---|---|")
    for label, options in JOBS_LOOKS.items():
        seconds: dict[int, list[float]] = {1: [], 2: []}
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(repeat):
                for jobs in (1, 2):
                    command = [sys.executable, str(CLI), str(clip), "-o", str(Path(folder) / f"jobs{jobs}.mp4"),
                               "--overwrite", "-q", "--jobs", str(jobs), *options]
                    output, code, _, wall = run_child(command)
                    if code != 0:
                        raise SystemExit(f"bench: --jobs {jobs} failed:\n{output[-3000:]}")
                    seconds[jobs].append(wall)
        one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
        met = "met" if one / two >= JOBS_TARGET else "MISSED"
        goal = f">= {JOBS_TARGET}x {met}" if label == next(iter(JOBS_LOOKS)) else "-"
        runs = " / ".join(f"{a:.1f}:{b:.1f}" for a, b in zip(seconds[1], seconds[2], strict=True))
        print(f"| {label} | {one:.1f} s | {two:.1f} s | {one / two:.2f}x (runs {runs}) | {goal} |")
    print(f"\nload average at end: {load()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1080p"], choices=sorted(SIZES))
    parser.add_argument("--seconds", nargs="+", type=int, default=[10, 60], help="clip lengths (default: 10 60)")
    parser.add_argument("--offsets", nargs="+", type=int, default=[1, 30])
    parser.add_argument("--cases", nargs="+", choices=[case.name for case in CASES] + [AGREE],
                        help="run only these cases (agree: the engines-agree check)")
    parser.add_argument("--extra", action="store_true", help="add the opt-in rows (see the module's notes)")
    parser.add_argument("--quick", action="store_true", help="the 10 s clip only (every target but the memory one)")
    parser.add_argument("--all-lengths", action="store_true", help="run the slow rows on every clip length too")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the table shows the median")
    parser.add_argument("--competitor", type=Path, help="a checkout of Gabriel-Kahen/motion-extraction")
    parser.add_argument("--chart", type=Path, help="where to draw the chart (default: docs/benchmarks.png, "
                        "none with --quick)")
    parser.add_argument("--install-ffmpeg", action="store_true", help="apt-get install Debian's ffmpeg if missing")
    parser.add_argument("--rig", action="store_true", help="only Extract Motion and Update against Blender's "
                        "new_movie on a 4K movie (issue 21's target), --repeat rounds (at least 3), and exit")
    parser.add_argument("--profile", action="store_true", help="only the per-frame cost of each stage (decode, "
                        "window, look, encode hand-off) at each of --sizes (issue 23), and exit")
    parser.add_argument("--looks", action="store_true", help="only the per-frame costs of issue 15's looks, and exit")
    parser.add_argument("--motion", action="store_true", help="only what the motion measures cost a 1080p render and "
                        "the flow look's speed (issue 13's targets; scripts/bench_motion.py), and exit")
    parser.add_argument("--frequency", action="store_true", help="only what --spectrum and --frequency-map add to a "
                        "1080p render, 10 s and 60 s, time and peak RSS (scripts/bench_frequency.py)")
    parser.add_argument("--rhythm", action="store_true", help="only what the rhythm costs: the live readout's "
                        "display thread, its refits, Key Motion Data's rhythm keys (scripts/bench_rhythm.py)")
    parser.add_argument("--align", action="store_true", help="only handheld footage: --align against ffmpeg's "
                        "vid.stab on real shaken footage, and 1080p fps per model (issue 11; scripts/bench_align.py)")
    parser.add_argument("--jobs-speedup", action="store_true", help="only --jobs 2 against --jobs 1 on CPU-bound "
                        "looks (issue 14's target), --repeat times each, and exit")
    parser.add_argument("--cluster", action="store_true", help="only four 1080p 10 s clips on a 2-worker local "
                        "Dask cluster against --jobs 2 and four sequential runs (issue 22; scripts/bench_cluster.py), "
                        "--repeat rounds, and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.clip, args.offset, args.competitor)))
        return 0
    if args.looks:
        print_look_costs(call_worker(LOOKS))
        return 0
    if args.profile:
        print_stage_costs([call_worker(f"{PROFILE}:{size}") for size in args.sizes])
        return 0
    if args.rig:
        print_rig_costs(call_worker(f"{RIG}:{max(args.repeat, 3)}"))
        return 0
    if args.jobs_speedup:
        jobs_speedup(args.repeat)
        return 0
    if args.cluster:
        from bench_cluster import cluster_figures

        clip = Path(call_worker("prepare:1080p:10")["path"])
        print(f"load average at start: {load()}\n")
        print("\n".join(cluster_figures(clip, CLI, run_child, args.repeat)))
        print(f"\nload average at end: {load()}")
        return 0
    if args.align:
        from bench_align import print_align_figures

        print_align_figures(call_worker(ALIGN), load())
        return 0
    if args.frequency:
        from bench_frequency import frequency_rows, print_frequency_figures

        before = load()
        clips = {seconds: Path(call_worker(f"prepare:1080p:{seconds}")["path"]) for seconds in (10, 60)}
        print_frequency_figures(frequency_rows(clips, CLI, args.repeat, run_child_cpu), before, load())
        return 0
    if args.rhythm:
        from bench_rhythm import print_rhythm_figures

        print_rhythm_figures(call_worker(RHYTHM), load())
        return 0
    if args.motion:
        from bench_motion import print_motion_figures

        print_motion_figures(call_worker(MOTION), load())
        return 0
    if args.quick:
        args.seconds = [min(args.seconds)]
    if args.chart is None and not args.quick:
        args.chart = REPO_ROOT / "docs" / "benchmarks.png"
    if args.install_ffmpeg and shutil.which("ffmpeg") is None:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "ffmpeg"], check=False)
    if args.competitor is not None and not (args.competitor / "motion_extraction.py").is_file():
        print(f"bench: {args.competitor} has no motion_extraction.py; the competitor rows are skipped", file=sys.stderr)
        args.competitor = None

    # This process imports only the standard library and does its heavy work (clips, the engines-agree check)
    # in children: on Linux a child's peak RSS starts at what its parent had when it was started.
    print(f"bytecode: {cached_bytecode()}")
    rows = plan(args)
    results: dict = {}
    print(f"machine: {machine_description(call_worker('versions')['versions'])}")
    print(f"load average at start: {load()}")
    print(f"peak RSS floor (a child that does nothing): {run_child(['true'])[2]:.0f} MB")
    print("competitor: " + (str(args.competitor) if args.competitor else "not given"))
    began = time.monotonic()
    for size, seconds in dict.fromkeys((row[0], row[1]) for row in rows):
        print(f"preparing {size} {seconds} s clip...", file=sys.stderr)
        prepared = call_worker(f"prepare:{size}:{seconds}")
        clip, frame_count, output_frames = Path(prepared["path"]), prepared["frames"], prepared["output_frames"]
        # Round by round, every row once a round: on a shared machine rows run minutes apart see another load,
        # so each row's runs are spread over the whole time the clip's rows take (ours and theirs alternate).
        clip_rows = [row for row in rows if row[:2] == (size, seconds)]
        runs: dict = {row: [] for row in clip_rows}
        for attempt in range(args.repeat):
            for row in clip_rows:
                if isinstance(runs[row], str):
                    continue
                case, offset = row[2], row[3]
                print(f"  {size} {seconds}s {case} N={offset} run {attempt + 1}...", file=sys.stderr)
                result = measure(case, clip, offset, frame_count, output_frames, args.competitor)
                if isinstance(result, str):
                    print(f"    skipped: {result}", file=sys.stderr)
                    runs[row] = result
                else:
                    runs[row].append(result)
        for row in clip_rows:
            results[row] = runs[row] if isinstance(runs[row], str) else median_of(runs[row])
    agreement = call_worker(AGREE) if not args.cases or AGREE in args.cases else None
    print(f"load average at end: {load()}; {time.monotonic() - began:.0f} s in all; {args.repeat} run(s) per row")
    print()
    print(table(rows, results))
    size = "1080p" if "1080p" in args.sizes else args.sizes[-1]
    board, notes = targets(results, agreement, size, sorted(set(args.seconds)), args.offsets,
                           args.competitor is not None)
    print(f"\ntargets (issue 9; {X264_LABEL} on both sides of 1.):\n")
    print("\n".join(board.lines))
    print(f"\n{board.summary()}")
    scale = scale_targets(results, args.sizes, sorted(set(args.seconds)), args.offsets)
    print("\ntargets (issue 23: the planar path, at every size):\n")
    print("\n".join(scale.lines))
    print(f"\n{scale.summary()}")
    if notes:
        print("\nnotes:")
        print("\n".join(f"- {note}" for note in notes))
    chart_rows = [row for row in rows if row[:2] == (size, min(args.seconds))]
    title = f"{chart_rows[0][0]} {chart_rows[0][1]} s H.264 clip, {os.cpu_count()} cores" if chart_rows else ""
    if args.chart and chart_rows:
        print(draw_chart(args.chart, chart_rows, results, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
