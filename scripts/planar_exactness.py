"""How far the planar path lies from the RGB path (``--math planar`` against ``--math rgb``) on real footage.

    .venv/bin/python scripts/planar_exactness.py [--frames 48] [--keep FOLDER]

Real footage: OpenCV's sample videos (``vtest.avi``, a street from a tripod; ``tree.avi``, a tree in the
wind; ``Megamind.avi``, an animated film's trailer; fetched once with ``apt-get download opencv-doc``
into .cache/bench, as ``bench.py --align`` does). Their first ``--frames`` frames are converted by
ffmpeg into the formats users bring (:data:`VARIANTS`: H.264 in limited and full range, BT.601- and
BT.709-tagged, interlaced MPEG-2 in MPEG-TS and interlaced H.264, a phone's rotation, odd sizes, 4:2:2,
10-bit HEVC, RGB, each clip as it ships), and each is rendered
with the settings of :data:`CASES` (the gray look, mixes, offsets, freeze, every edge policy, side and
stacked layouts) twice through the render service: once with ``math="planar"``, once with
``math="rgb"``, both written losslessly in 4:2:0 (x264 at CRF 0). The two movies' planes are compared
sample by sample.

A sample counts as inside RGB when every pixel it is made from has a colour inside RGB, as the engine
reads it (its luma and its block's chroma converted by BT.601 limited range without clipping, each channel
within -0.5..255.5): a luma sample is made from its pixel in the current and partner frames (the source
frame alone for a source picture or an edge frame, nothing for the still gray), a chroma sample from its
2x2 block's top-left pixel, the one the writer's conversion takes the chroma of. Outside RGB the RGB path
clips the colour when it converts the input, so there the two may differ by far more; README ("Two
paths") states both.

Each row also checks the planar movie against ``core.planar`` computed in memory on the planes the
reader yields (so the lossless write and the render's plumbing are checked too). A case the planar path
refuses (``--math planar`` says why in one line) is listed with its reason.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from blender_addon.core.plan import resolve  # noqa: E402
from blender_addon.core.planar import PlanarEffect, planes  # noqa: E402
from blender_addon.core.settings import Settings  # noqa: E402
from blender_addon.core.timing import COMBINE, SOURCE, STILL, output_frame_count, plan_frame  # noqa: E402

FRAMES = 48
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18"]
BT709_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]


@dataclass(frozen=True)
class Variant:
    """A clip as users bring it: ``source`` (OpenCV's sample) through ffmpeg's ``options`` (``None``: its first
    frames copied as they are) into a file ending in ``suffix``."""

    name: str
    source: str
    options: tuple[str, ...] | None
    suffix: str = ".mp4"
    tags: tuple[str, ...] = ()  # set by a second pass that copies the stream (ffmpeg drops a rotation it encodes)


VARIANTS = (
    Variant("vtest, as it ships (MS MPEG-4 v3 AVI, 768x576)", "vtest.avi", None, ".avi"),
    Variant("vtest, H.264 yuv420p limited range, untagged", "vtest.avi", (*X264, "-pix_fmt", "yuv420p")),
    Variant("vtest, H.264 yuv420p, tagged BT.601 (smpte170m)", "vtest.avi",
            (*X264, "-pix_fmt", "yuv420p", "-colorspace", "smpte170m", "-color_primaries", "smpte170m",
             "-color_trc", "smpte170m")),
    Variant("vtest, H.264 yuvj420p full range", "vtest.avi", (*X264, "-pix_fmt", "yuvj420p")),
    Variant("vtest, H.264 tagged BT.709", "vtest.avi",
            ("-vf", "scale=out_color_matrix=bt709", *X264, "-pix_fmt", "yuv420p", *BT709_TAGS)),
    Variant("vtest, MPEG-2 interlaced (fields woven, TFF) in MPEG-TS, 720x576 anamorphic (16:15)", "vtest.avi",
            ("-vf", "scale=720:576,tinterlace=mode=interleave_top,setfield=tff,setsar=16/15", "-c:v", "mpeg2video",
             "-flags", "+ilme+ildct", "-top", "1", "-b:v", "8M", "-f", "mpegts"), ".ts"),
    Variant("vtest, H.264 interlaced (MBAFF, fields woven, TFF)", "vtest.avi",
            ("-vf", "tinterlace=mode=interleave_top,setfield=tff", *X264, "-pix_fmt", "yuv420p",
             "-flags", "+ilme+ildct", "-x264-params", "tff=1")),
    Variant("vtest, H.264 rotated a quarter turn (a phone's display matrix)", "vtest.avi",
            (*X264, "-pix_fmt", "yuv420p"), tags=("-metadata:s:v:0", "rotate=90")),
    Variant("vtest, VP9 odd size 637x475 (WebM)", "vtest.avi",
            ("-vf", "scale=637:475", "-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "realtime",
             "-cpu-used", "8", "-pix_fmt", "yuv420p"), ".webm"),
    Variant("vtest, MPEG-4 part 2 odd height 640x475 (AVI)", "vtest.avi",
            ("-vf", "scale=640:475", "-c:v", "mpeg4", "-q:v", "3", "-pix_fmt", "yuv420p"), ".avi"),
    Variant("vtest, H.264 4:2:2 (yuv422p)", "vtest.avi", (*X264, "-pix_fmt", "yuv422p")),
    Variant("vtest, HEVC 10-bit (yuv420p10le)", "vtest.avi",
            ("-c:v", "libx265", "-preset", "ultrafast", "-crf", "22", "-pix_fmt", "yuv420p10le",
             "-x265-params", "log-level=error")),
    Variant("tree, QuickTime Animation (RGB, 320x240)", "tree.avi", ("-c:v", "qtrle"), ".mov"),
    Variant("tree, H.264 yuv420p limited range", "tree.avi", (*X264, "-pix_fmt", "yuv420p")),
    Variant("Megamind, as it ships (MPEG-4 part 2 AVI, 720x528)", "Megamind.avi", None, ".avi"),
    Variant("Megamind, H.264 yuvj420p full range", "Megamind.avi", (*X264, "-pix_fmt", "yuvj420p")),
)


@dataclass(frozen=True)
class Case:
    """``variant`` rendered with ``settings`` (Settings fields) in ``jobs`` processes."""

    variant: str
    label: str
    settings: dict = field(default_factory=dict)
    jobs: int = 1


_DEFAULT = "gray look, defaults (offset 1, mix 0.5, hold)"
_H264, _FULL, _MPEG2, _VP9_ODD, _MPEG4_ODD = (
    next(variant.name for variant in VARIANTS if variant.name.startswith(start))
    for start in ("vtest, H.264 yuv420p limited", "vtest, H.264 yuvj420p", "vtest, MPEG-2", "vtest, VP9 odd",
                  "vtest, MPEG-4 part 2 odd"))
CASES = (
    *(Case(variant.name, _DEFAULT) for variant in VARIANTS),
    Case(_H264, "mix 0.3", {"mix": 0.3}),
    Case(_H264, "mix 0.75", {"mix": 0.75}),
    Case(_H264, "offset 5, edges gray", {"offset": 5, "edges": "gray"}),
    Case(_H264, "offset -3, edges source", {"offset": -3, "edges": "source"}),
    Case(_H264, "offset 4, edges trim", {"offset": 4, "edges": "trim"}),
    Case(_H264, "freeze on frame 10", {"mode": "freeze", "reference": 10}),
    Case(_H264, "side layout", {"layout": "side"}),
    Case(_H264, "stacked layout", {"layout": "stacked"}),
    Case(_H264, "2 processes (--jobs 2)", {}, jobs=2),
    Case(_FULL, "side layout, mix 0.75", {"layout": "side", "mix": 0.75}),
    Case(_MPEG2, "stacked layout, edges source", {"layout": "stacked", "edges": "source"}),
    Case(_VP9_ODD, "side layout", {"layout": "side"}),
    Case(_MPEG4_ODD, "side layout", {"layout": "side"}),
    Case(_MPEG4_ODD, "stacked layout", {"layout": "stacked"}),
    Case(_MPEG4_ODD, "offset 2, edges gray, 2 processes", {"offset": 2, "edges": "gray"}, jobs=2),
)


@dataclass
class Row:
    """One case's comparison, or ``refused`` (why the planar path cannot take it)."""

    variant: str
    case: str
    refused: str = ""
    samples: int = 0
    inside: int = 0
    inside_max: int = 0
    inside_mean: float = 0.0
    outside_max: int = 0
    outside_mean: float = 0.0
    mean: float = 0.0
    planar_as_computed: bool = True  # the planar movie holds core.planar's planes, to the level


def _ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)], check=True)


def make_variant(variant: Variant, source: Path, folder: Path, frames: int) -> Path:
    """``variant`` of ``source``'s first ``frames`` frames, made once in ``folder``."""
    key = hashlib.sha256(repr((variant.source, variant.options, variant.tags, frames)).encode()).hexdigest()[:12]
    target = folder / f"{Path(variant.source).stem}_{key}{variant.suffix}"
    if not target.exists():
        options = ("-c", "copy") if variant.options is None else variant.options
        made = target.with_name(f"made_{target.name}") if variant.tags else target
        _ffmpeg("-i", source, "-an", "-frames:v", str(frames), *options, made)
        if variant.tags:
            _ffmpeg("-i", made, "-c", "copy", *variant.tags, target)
            made.unlink()
    return target


def inside_rgb(buffer: np.ndarray) -> np.ndarray:
    """Per pixel of a compact I420 ``buffer`` (8-bit limited range, BT.601, as the reader yields it): whether its
    colour lies inside RGB, i.e. the RGB path's conversion clips none of its channels."""
    y, u, v = (plane.astype(np.float32) for plane in planes(buffer))
    u, v = (np.repeat(np.repeat(plane, 2, 0), 2, 1) for plane in (u, v))
    y, pb, pr = (y - 16) * (255 / 219), (u - 128) * (255 / 224), (v - 128) * (255 / 224)
    red, blue = y + 1.402 * pr, y + 1.772 * pb
    green = (y - 0.299 * red - 0.114 * blue) / 0.587
    inside = np.ones(y.shape, bool)
    for channel in (red, green, blue):
        inside &= (channel >= -0.5) & (channel <= 255.5)
    return inside


def read_planes(path: Path) -> tuple[object, list[np.ndarray]]:
    """The source and its frames as the engine's planar path reads them (compact I420 buffers)."""
    from blender_addon import media

    source = media.open_source(path)
    heads = source.read_from(0, compact=True)
    try:
        return source, [np.array(frame) for frame in heads]
    finally:
        heads.close()


def decoded_planes(path: Path) -> list[np.ndarray]:
    """A 4:2:0 movie's frames as compact I420 buffers, exactly as stored."""
    import av

    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(video=0):
            if frame.format.name not in ("yuv420p", "yuvj420p"):
                raise ValueError(f"{path} holds {frame.format.name}, not 4:2:0")
            frames.append(frame.to_ndarray())
        return frames


def render_both(path: Path, settings: Settings, folder: Path, jobs: int = 1) -> dict[str, Path] | str:
    """``path`` rendered with ``settings`` on each path into lossless 4:2:0 movies; or why the planar path
    refuses it."""
    from blender_addon.render import EncodeOptions, RenderRequest, RequestError, render

    outputs = {}
    for math in ("planar", "rgb"):
        output = folder / f"{math}.mp4"
        request = RenderRequest(input=path, output=output, settings=settings, sound=False, math=math, jobs=jobs,
                                encode=EncodeOptions(crf=0, encoder_preset="ultrafast"), overwrite=True)
        try:
            result = render(request)
        except RequestError as error:
            return str(error).split(" needs the RGB path for ", 1)[-1]
        if result.math != math:
            raise RuntimeError(f"asked for the {math} path, took the {result.math} path")
        outputs[math] = output
    return outputs


def _output_mask(plan, masks: list[np.ndarray], layout: str) -> np.ndarray:
    """Per output pixel: whether every pixel it is made from lies inside RGB."""
    source = masks[plan.frame]
    if plan.fill == COMBINE:
        motion = source & np.logical_and.reduce([masks[partner] for partner in plan.partners])
    elif plan.fill == SOURCE:
        motion = source
    else:
        assert plan.fill == STILL
        motion = np.ones_like(source)
    if layout == "side":
        return np.concatenate([source, motion], axis=1)
    if layout == "stacked":
        return np.concatenate([source, motion], axis=0)
    return motion


def compare(path: Path, options: dict, folder: Path, jobs: int = 1) -> Row:
    """``path`` with ``options`` (Settings fields) on both paths in ``jobs`` processes: how far apart, inside and
    outside RGB."""
    settings = Settings(**options)
    row = Row(str(path), "")
    rendered = render_both(path, settings, folder, jobs)
    if isinstance(rendered, str):
        row.refused = rendered
        return row
    source, frames = read_planes(path)
    settings = settings.in_frames(source.rate)
    planar, rgb = (decoded_planes(rendered[math]) for math in ("planar", "rgb"))
    count = output_frame_count(settings, source.frame_count)
    if not len(planar) == len(rgb) == count:
        raise RuntimeError(f"{len(planar)} planar and {len(rgb)} RGB frames, {count} expected")
    masks = [inside_rgb(frame) for frame in frames]
    effect = PlanarEffect(resolve(settings, (source.height, source.width, 3), source.frame_count))
    apart_sum = inside_sum = 0.0
    for index, (a, b) in enumerate(zip(planar, rgb, strict=True)):
        plan = plan_frame(settings, source.frame_count, index)
        partners = None if plan.partners is None else tuple(frames[p] for p in plan.partners)
        if not np.array_equal(effect.render(frames[plan.frame], partners, plan.fill), a):
            row.planar_as_computed = False
        mask = _output_mask(plan, masks, settings.layout)
        for plane, (pa, pb) in enumerate(zip(planes(a), planes(b), strict=True)):
            apart = np.abs(pa.astype(np.int16) - pb)
            inside = mask if plane == 0 else mask[::2, ::2]
            row.samples += apart.size
            row.inside += int(inside.sum())
            apart_sum += float(apart.sum())
            inside_sum += float(apart[inside].sum())
            if inside.any():
                row.inside_max = max(row.inside_max, int(apart[inside].max()))
            if not inside.all():
                row.outside_max = max(row.outside_max, int(apart[~inside].max()))
    outside = row.samples - row.inside
    row.mean = apart_sum / row.samples
    row.inside_mean = inside_sum / row.inside if row.inside else 0.0
    row.outside_mean = (apart_sum - inside_sum) / outside if outside else 0.0
    return row


def run(frames: int, keep: Path | None) -> list[Row]:
    from bench_align import real_clip

    logging.basicConfig(level=logging.ERROR)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        made = {}
        for variant in VARIANTS:
            source = real_clip(variant.source)
            if isinstance(source, str):
                sys.exit(f"planar_exactness: {source}")
            made[variant.name] = make_variant(variant, source, folder, frames)
        for case in CASES:
            out = folder / "out"
            out.mkdir(exist_ok=True)
            row = compare(made[case.variant], case.settings, out, case.jobs)
            row.variant, row.case = case.variant, case.label
            rows.append(row)
            print_row(row, flush=True)
    return rows


HEADER = ("| clip | settings | samples inside RGB | inside: max | inside: mean | outside: max | outside: mean "
          "| all: mean | planar file = core.planar |\n|---|---|---|---|---|---|---|---|---|")


def print_row(row: Row, flush: bool = False) -> None:
    if row.refused:
        print(f"| {row.variant} | {row.case} | RGB path: {row.refused} | | | | | | |", flush=flush)
        return
    share = row.inside / row.samples
    outside = f"{row.outside_max} | {row.outside_mean:.2f}" if row.inside < row.samples else "- | -"
    print(f"| {row.variant} | {row.case} | {share:.1%} | {row.inside_max} | {row.inside_mean:.3f} | {outside} "
          f"| {row.mean:.3f} | {'yes' if row.planar_as_computed else 'NO'} |", flush=flush)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=FRAMES, help=f"frames of each clip (default {FRAMES})")
    parser.add_argument("--keep", type=Path, help="make the clips in this folder and keep them")
    args = parser.parse_args()
    print(HEADER, flush=True)
    rows = run(args.frames, args.keep)
    measured = [row for row in rows if not row.refused]
    worst = max(row.inside_max for row in measured)
    mean = max(row.inside_mean for row in measured)
    print(f"\ninside RGB: at most {worst} level(s) apart, mean at most {mean:.3f} per case "
          f"(target: 1 and 0.2); {len(rows) - len(measured)} case(s) on the RGB path")
    if worst > 1 or mean > 0.2 or not all(row.planar_as_computed for row in measured):
        sys.exit(1)


if __name__ == "__main__":
    main()
