"""The command line's motion data: ``--data``, ``--roi``, ``--motiongram``, ``--plot``, ``--motion-threshold``.

These are outputs of a render, not options of the effect (they change no pixel), so they live
here rather than in the settings table: their arguments, the checks made before the input is
opened, and :func:`recorded`, which feeds a render's measures (``core.measures``) to the writers
of ``media.data`` frame by frame. The exact engine makes them (with ``--jobs``, each process measures
its chunk and this one records them in order: ``parallel``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from .core.measures import DEFAULT_THRESHOLD, MotionMeasures, Region, parse_region
from .core.settings import Settings
from .core.timing import plan_frame
from .media.paths import MediaError, check_picture, data_kind

DATA_FLAGS = ("--data", "--motiongram", "--plot")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The motion-data arguments, as their own group of the help."""
    group = parser.add_argument_group(
        "motion data (exact engine; the columns and units are listed in the README)"
    )
    group.add_argument(
        "--data", metavar="FILE.csv|FILE.json",
        help="write one row of motion measures per output frame (quantity, active share, centroid, bounding box; "
        "with --look flow also speed and direction), with its time in seconds; a CSV gets FILE.csv.json beside it "
        "with the settings and the exact command",
    )
    group.add_argument(
        "--roi", metavar="NAME=x,y,w,h", action="append", type=_region, default=[],
        help="measure this region too (pixels of the input frame, from its top-left corner), as columns "
        "NAME_quantity, ...; repeatable",
    )
    group.add_argument(
        "--motiongram", metavar="FILE.png",
        help="write the horizontal and vertical motiongrams (column and row means of the motion over time) as "
        "FILE_horizontal.png (frames x width), FILE_vertical.png (height x frames) and FILE.png with time axes",
    )
    group.add_argument(
        "--plot", metavar="FILE.png",
        help="draw the quantity of motion over time, one line per region, in seconds",
    )
    group.add_argument(
        "--motion-threshold", metavar="N", type=_threshold, default=None,
        help=f"motion (in levels, 0-255) above which a pixel counts as moving for the active share and the "
        f"bounding box (default: {DEFAULT_THRESHOLD})",
    )


def _region(text: str) -> Region:
    try:
        return parse_region(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _threshold(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 255:
        raise argparse.ArgumentTypeError(f"invalid motion threshold {text!r} (use a whole number from 0 to 255)")
    return int(text)


def wanted(args: argparse.Namespace) -> bool:
    """Whether the arguments ask for any motion data output."""
    return any(getattr(args, name, None) for name in ("data", "motiongram", "plot"))


def refusal(args: argparse.Namespace, engine: str, print_ffmpeg: bool) -> str | None:
    """Why these motion-data arguments cannot be honoured by this render, or ``None``."""
    given = [flag for flag in DATA_FLAGS if getattr(args, flag[2:], None)]
    extras = [flag for flag, present in (("--roi", getattr(args, "roi", None)),
                                         ("--motion-threshold", getattr(args, "motion_threshold", None) is not None))
              if present]
    if not given:
        return f"{', '.join(extras)}: measures only go to --data, --motiongram or --plot: add one" if extras else None
    what = ", ".join(given)
    if print_ffmpeg:
        return f"{what}: --print-ffmpeg renders nothing, so there is no motion to measure"
    if engine == "vse":
        return f"{what}: motion data is measured by the exact engine: use --engine exact (or auto)"
    paths = [Path(getattr(args, flag[2:])) for flag in given]
    if len({path.resolve() for path in paths}) < len(paths):
        return f"{what}: give each output its own file"
    try:  # the names are known before the input is opened
        if getattr(args, "data", None):
            data_kind(args.data)
        for name in ("motiongram", "plot"):
            if getattr(args, name, None):
                check_picture(getattr(args, name))
    except MediaError as error:
        return str(error)
    return None


def recorder(args: argparse.Namespace, settings: Settings, source, input_path: Path | str, output: Path,
             start: int) -> object | None:
    """The :class:`~.media.data.MotionRecorder` these arguments ask for (``None`` for none): files checked
    and opened (as temporaries), regions checked against the frame (``ValueError``)."""
    if not wanted(args):
        return None
    from .media.data import MotionRecorder

    regions: Sequence[Region] = getattr(args, "roi", None) or []
    threshold = getattr(args, "motion_threshold", None)
    measures = MotionMeasures(settings, (source.height, source.width), regions,
                              DEFAULT_THRESHOLD if threshold is None else threshold)
    first = plan_frame(settings, source.frame_count, start).frame
    protect = [input_path, output]
    return MotionRecorder(
        measures, record(args, settings, source, input_path, measures), data=getattr(args, "data", None),
        motiongram=getattr(args, "motiongram", None), plot=getattr(args, "plot", None), rate=float(source.rate),
        first_time=float(source.time_of(first)), overwrite=args.overwrite,
        protect=[path for path in protect if not isinstance(path, str)],
    )


def record(args: argparse.Namespace, settings: Settings, source, input_path: Path | str,
           measures: MotionMeasures) -> dict:
    """How a data file was made: the exact command, the settings and the measuring options."""
    command = getattr(args, "command", None)
    return {
        "tool": "motion_extract",
        "command": command,
        "working_directory": os.getcwd(),
        "input": str(input_path),
        "frame_rate": _rate_text(source.rate),
        "input_frames": source.frame_count,
        "frame_size": [source.width, source.height],
        "settings": settings.to_dict(),
        "motion_threshold": measures.threshold,
        "regions": [{"name": region.name, "x": region.x, "y": region.y, "width": region.width,
                     "height": region.height} for region in measures.regions[1:]],
    }


def _rate_text(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def recorded(frames: Iterator[np.ndarray], recorder, settings: Settings, source, start: int) -> Iterator[np.ndarray]:
    """``frames`` (output frames from ``start``, measured into ``recorder.measures``) with each frame's
    measures recorded as it passes; the files are published when the frames run out, discarded if
    the render stops before."""
    try:
        with recorder:
            for index, frame in enumerate(frames, start=start):
                time = float(source.time_of(plan_frame(settings, source.frame_count, index).frame))
                recorder.add(index, time)
                yield frame
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def look_refusal(settings: Settings, engine: str, print_ffmpeg: bool) -> str | None:
    """Why this render cannot draw the flow look, which only the exact engine draws, or ``None``."""
    if settings.look != "flow":
        return None
    if print_ffmpeg:
        return "--look flow: ffmpeg has no optical flow filter to print; render it with the exact engine"
    if engine == "vse":
        return ("--look flow: the sequencer rig cannot compute optical flow: use --engine exact (in Blender, "
                "Bake Motion)")
    return None
