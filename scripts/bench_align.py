"""Issue 11's figures for ``bench.py --align``: handheld footage, ours against ffmpeg's vid.stab.

Real footage: ``vtest.avi`` (768x576, 10 fps, a street filmed from a tripod; OpenCV's sample
data, fetched once with ``apt-get download opencv-doc`` into .cache/bench). Its first
:data:`FRAMES` frames are cut in the middle to 640x480 twice, both to H.264 (x264 ``veryfast``,
CRF 18, as a phone would give them):

- ``tripod``: the fixed crop: the render every alignment tries to reach;
- ``shaken``: the crop moved along a known path by ffmpeg (:data:`SHAKE`: whole-pixel pans of up to
  18 px and a roll of up to 1.15 degrees), i.e. the same street from a shaky hand.

Then, each a whole process, timed by the wall clock:

- ours: ``motion_extract.py shaken.mp4 --align MODEL -o out.mp4`` for each model;
- vid.stab, as its users run it: ``vidstabdetect`` (pass 1), ``vidstabtransform`` with
  ``smoothing=0`` (a static camera: all camera motion removed; x264 at the same settings), then
  ``motion_extract.py`` on the stabilised file; the time is the three together;
- no alignment at all, and the tripod crop, for reference.

The figure of merit is the mean deviation from the still level (128) of every output frame, over the
central 560x400 (every method's borders excluded: vid.stab leaves black ones, ours the still
level), as a multiple of the tripod render's. Then the handheld sample clip (whose true camera path
is known) at 1080p, 10 s, rendered with each model: frames per second against no alignment.

Run in a child of bench.py (``--worker align``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = REPO_ROOT / ".cache" / "bench"
CLI = REPO_ROOT / "scripts" / "motion_extract.py"
FRAMES = 300
SIZE = (640, 480)
MODELS = ("shift", "similarity", "perspective")
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
# The camera path, in seconds t: a sway and a tremor in x and y (whole pixels: crop's offsets) and a roll.
SHAKE = {
    "x": "64+12*sin(2*PI*0.9*t)+6*sin(2*PI*2.3*t+1)",
    "y": "48+9*sin(2*PI*1.1*t+2)+4*sin(2*PI*2.9*t)",
    "angle": "0.02*sin(2*PI*0.7*t)",
}
CENTRE_MARGIN = (40, 40)


def real_clip(name: str = "vtest.avi") -> Path | str:
    """``name`` (``vtest.avi``, ``tree.avi``, ``Megamind.avi``: OpenCV's sample footage) from Debian's opencv-doc,
    cached; or why it could not be had."""
    target = CACHE / name
    if target.exists():
        return target
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "needs apt-get and dpkg-deb (Debian) to fetch OpenCV's sample footage"
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        fetched = subprocess.run(["apt-get", "download", "opencv-doc"], cwd=folder, capture_output=True, text=True)
        debs = list(Path(folder).glob("opencv-doc_*.deb"))
        if fetched.returncode != 0 or not debs:
            return f"apt-get download opencv-doc failed: {fetched.stderr.strip()[-200:]}"
        member = f"./usr/share/doc/opencv-doc/examples/data/{name}"
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[0])], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", folder, member], stdin=tar.stdout, check=True)
        tar.wait()
        partial = CACHE / f".partial_{name}"
        shutil.copyfile(Path(folder) / member, partial)
        partial.replace(target)
    return target


def _ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)], check=True)


def prepare(real: Path) -> dict[str, Path]:
    """The tripod and shaken 640x480 H.264 cuts of the real clip (cached)."""
    width, height = SIZE
    clips = {"tripod": CACHE / f"vtest_tripod_{FRAMES}f.mp4", "shaken": CACHE / f"vtest_shaken_{FRAMES}f.mp4"}
    graphs = {
        "tripod": f"crop={width}:{height}:64:48",
        "shaken": (f"format=gbrp,rotate=a='{SHAKE['angle']}':c=black,"
                   f"crop={width}:{height}:x='{SHAKE['x']}':y='{SHAKE['y']}':exact=1"),
    }
    for name, path in clips.items():
        if not path.exists():
            partial = path.with_name(f".partial_{path.name}")
            _ffmpeg("-i", real, "-frames:v", FRAMES, "-vf", graphs[name], *X264, "-an", "-f", "mp4", partial)
            partial.replace(path)
    return clips


def _run(command: list) -> float:
    began = time.perf_counter()
    done = subprocess.run(list(map(str, command)), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, command))} failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - began


def _extract(clip: Path, output: Path, *options: str) -> list:
    return [sys.executable, CLI, clip, "-o", output, "--overwrite", "-q", *options]


def centre_deviation(path: Path) -> float:
    """Mean |level - 128| of every frame's centre (see :data:`CENTRE_MARGIN`), all channels."""
    import numpy as np

    from blender_addon import media

    left, top = CENTRE_MARGIN
    total, count = 0.0, 0
    source = media.open_source(path)
    for frame in source.read_from(0):
        centre = frame[top : frame.shape[0] - top, left : frame.shape[1] - left]
        total += float(np.abs(centre.astype(np.int16) - 128).mean())
        count += 1
    return total / count


def vidstab(shaken: Path, folder: Path) -> tuple[float, Path]:
    """vid.stab's two passes: the seconds they took and the stabilised clip."""
    transforms = folder / "transforms.trf"
    stabilised = folder / "stabilised.mp4"
    seconds = _run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", shaken,
                    "-vf", f"vidstabdetect=shakiness=10:accuracy=15:result={transforms}", "-f", "null", "-"])
    seconds += _run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", shaken,
                     "-vf", f"vidstabtransform=input={transforms}:smoothing=0:optzoom=0:crop=black",
                     *X264, stabilised])
    return seconds, stabilised


def align_figures(sample_1080p_seconds: int = 10) -> dict:
    """Every figure of the module's notes, as a dict (see :func:`print_align_figures`)."""
    real = real_clip()
    result: dict = {"frames": FRAMES, "size": f"{SIZE[0]}x{SIZE[1]}"}
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        if isinstance(real, str):
            result["real_missing"] = real
        elif shutil.which("ffmpeg") is None:
            result["real_missing"] = "needs Debian's ffmpeg (vid.stab)"
        else:
            clips = prepare(real)
            rows = []
            seconds = _run(_extract(clips["tripod"], folder / "tripod.mp4"))
            rows.append(("tripod crop, no alignment", seconds, centre_deviation(folder / "tripod.mp4")))
            seconds = _run(_extract(clips["shaken"], folder / "none.mp4"))
            rows.append(("shaken, no alignment", seconds, centre_deviation(folder / "none.mp4")))
            passes, stabilised = vidstab(clips["shaken"], folder)
            for label, options in (("", ()), (", --pre-blur 1", ("--pre-blur", "1"))):
                output = folder / f"vidstab{len(options)}.mp4"
                seconds = passes + _run(_extract(stabilised, output, *options))
                rows.append((f"shaken, vid.stab (2 passes) then extraction{label}", seconds, centre_deviation(output)))
            for model in MODELS:
                output = folder / f"{model}.mp4"
                seconds = _run(_extract(clips["shaken"], output, "--align", model))
                rows.append((f"shaken, ours --align {model}", seconds, centre_deviation(output)))
            output = folder / "preset.mp4"
            seconds = _run(_extract(clips["shaken"], output, "--preset", "handheld"))
            label = "shaken, ours --preset handheld (similarity, --pre-blur 1)"
            rows.append((label, seconds, centre_deviation(output)))
            result["real"] = rows
        result["fps_1080p"] = _sample_fps(folder, sample_1080p_seconds)
    result["ms_1080p"] = _alignment_costs()
    return result


def _alignment_costs(frames: int = 30) -> list:
    """Milliseconds per 1080p frame of each model's estimate and warp alone, from handheld frames in memory."""
    from blender_addon.core.align import Aligner
    from blender_addon.core.sample_clip import HandheldClip

    clip = HandheldClip(1920, 1080, frame_count=frames + 1)
    images = [clip.frame(index) for index in range(frames + 1)]
    rows = []
    for model in MODELS:
        aligner = Aligner(model)
        began = time.perf_counter()
        for index in range(1, frames + 1):
            aligner.align_all(images[index], [images[index - 1]], index, [index - 1])
        rows.append((model, (time.perf_counter() - began) / frames * 1000))
    return rows


def _sample_fps(folder: Path, seconds: int) -> list:
    """The handheld sample at 1080p, ``seconds`` long, as H.264: frames per second of whole renders by model."""
    from blender_addon import media
    from blender_addon.core.sample_clip import HandheldClip

    clip = CACHE / f"handheld_1080p_{seconds}s_h264.mp4"
    if not clip.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        scene = HandheldClip(1920, 1080, frame_count=30 * seconds, fps=30)
        partial = clip.with_name(f".partial_{clip.name}")
        with media.open_writer(partial, 30, 1920, 1080, crf=18, encoder_preset="medium", overwrite=True) as writer:
            for frame in scene.read_from(0):
                writer.write(frame)
        partial.replace(clip)
    frames = 30 * seconds
    rows = []
    for model in ("none", *MODELS):
        wall = _run(_extract(clip, folder / f"sample_{model}.mp4", "--align", model))
        rows.append((model, frames / wall))
    return rows


def print_align_figures(result: dict, load: str) -> None:
    print(f"## Handheld footage (issue 11), {load}\n")
    if "real_missing" in result:
        print(f"Real footage rows skipped: {result['real_missing']}\n")
    else:
        rows = result["real"]
        tripod = rows[0][2]
        plain, blurred = rows[2], rows[3]
        print(f"vtest.avi (a real street from a tripod), {result['frames']} frames cut to {result['size']}, "
              "shaken by a known path with ffmpeg; mean deviation from gray of the central 560x400:\n")
        print("| render | seconds | fps | mean deviation | x tripod |")
        print("|---|---|---|---|---|")
        for label, seconds, deviation in rows:
            print(f"| {label} | {seconds:.1f} | {result['frames'] / seconds:.1f} | {deviation:.2f} | "
                  f"{deviation / tripod:.2f}x |")
        print("\n| target | ours | vid.stab | verdict |")
        print("|---|---|---|---|")
        for label, seconds, deviation in rows[4:]:
            ours = label.split("ours ")[1]
            reference = blurred if "pre-blur" in ours else plain  # like for like: the same extraction after it
            lower, faster = deviation < reference[2], seconds <= reference[1]
            with_blur = " (both with pre-blur 1)" if reference is blurred else ""
            print(f"| {ours}: deviation lower than vid.stab's{with_blur} | {deviation:.2f} | "
                  f"{reference[2]:.2f} | {'met' if lower else 'MISSED'} |")
            print(f"| {ours}: no slower than vid.stab + extraction | {seconds:.1f} s | "
                  f"{reference[1]:.1f} s | {'met' if faster else 'MISSED'} |")
    print("\nAlignment alone (estimate and warp) per 1080p frame of the handheld sample, frames in memory:\n")
    print("| --align | ms per frame | fps |")
    print("|---|---|---|")
    for model, ms in result["ms_1080p"]:
        print(f"| {model} | {ms:.1f} | {1000 / ms:.0f} |")
    print("\nHandheld sample, 1080p30 H.264, 10 s, whole command line to H.264 (x264 spends less on the flat"
          " gray of an aligned render than on the shake of an unaligned one):\n")
    print("| --align | fps |")
    print("|---|---|")
    for model, fps in result["fps_1080p"]:
        print(f"| {model} | {fps:.1f} |")
