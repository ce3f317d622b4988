"""The command line's motion data: ``--data``, ``--roi``, ``--motiongram``, ``--plot``, ``--motion-threshold``,
and its frequency: ``--spectrum``, ``--spectrum-plot``, ``--frequency-map``, ``--band``.

These are outputs of a render, not options of the effect (they change no pixel), so they live
here rather than in the settings table: their arguments, the checks made before the input is
opened, and the :class:`~..render.DataRequest` and :class:`~..render.FrequencyRequest` they make
(``render.recording`` and ``render.frequency`` write them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.measures import DEFAULT_THRESHOLD, Region, parse_region
from ..core.settings import Settings
from ..media.errors import MediaError
from ..media.names import check_picture, data_kind, extension
from ..render import DataRequest, FrequencyRequest

DATA_FLAGS = ("--data", "--motiongram", "--plot")
FREQUENCY_FLAGS = ("--spectrum", "--spectrum-plot", "--frequency-map")


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
        "NAME_quantity, ... (and its own spectrum with --spectrum); repeatable",
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
    frequency = parser.add_argument_group(
        "motion frequency (exact engine; how to read it: docs/frequency.md)"
    )
    frequency.add_argument(
        "--spectrum", metavar="FILE.json|FILE.csv",
        help="write, for the whole frame and each --roi, the spectrum of its back-and-forth motion over the "
        "rendered frames and its dominant frequency (Hz and per minute) with a strength (its peak against the "
        "power around it; 30 or more is a clear rhythm)",
    )
    frequency.add_argument(
        "--spectrum-plot", metavar="FILE.png", help="draw each region's spectrum, its dominant frequency marked",
    )
    frequency.add_argument(
        "--frequency-map", metavar="FILE.png",
        help="draw the clip's first frame with each block coloured by its dominant frequency (a legend in Hz) "
        "and faded where it has no clear rhythm",
    )
    frequency.add_argument(
        "--band", metavar="LO:HI", type=_band,
        help="look for the dominant frequency between LO and HI Hz only (default: from two cycles over the "
        "clip, up to a minute, to half the frame rate)",
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


def _band(text: str) -> tuple[float, float]:
    low, colon, high = text.partition(":")
    try:
        band = float(low), float(high)
    except ValueError:
        band = None
    if not colon or band is None or not 0 <= band[0] < band[1]:
        raise argparse.ArgumentTypeError(f"invalid band {text!r} (use LO:HI in Hz, such as 0.5:3)")
    return band


def wanted(args: argparse.Namespace) -> bool:
    """Whether the arguments ask for any motion data output."""
    return any(getattr(args, name, None) for name in ("data", "motiongram", "plot"))


def refusal(args: argparse.Namespace, engine: str, print_ffmpeg: bool) -> str | None:
    """Why these motion-data arguments cannot be honoured by this render, or ``None``."""
    measured = [flag for flag in DATA_FLAGS if _given(args, flag)]
    rhythm = [flag for flag in FREQUENCY_FLAGS if _given(args, flag)]
    given = measured + rhythm
    if getattr(args, "band", None) is not None and not rhythm:
        return "--band: the band limits --spectrum, --spectrum-plot and --frequency-map: add one"
    if getattr(args, "motion_threshold", None) is not None and not measured:
        return "--motion-threshold: measures only go to --data, --motiongram or --plot: add one"
    if getattr(args, "roi", None) and not given:
        return "--roi: measures only go to --data, --motiongram, --plot or --spectrum: add one"
    if not given:
        return None
    what = ", ".join(given)
    if print_ffmpeg:
        return f"{what}: --print-ffmpeg renders nothing, so there is no motion to measure"
    if engine == "vse":
        return f"{what}: motion data is measured by the exact engine: use --engine exact (or auto)"
    paths = [Path(_given(args, flag)) for flag in given]
    if len({path.resolve() for path in paths}) < len(paths):
        return f"{what}: give each output its own file"
    try:  # the names are known before the input is opened
        if getattr(args, "data", None):
            data_kind(args.data)
        if getattr(args, "spectrum", None) and extension(args.spectrum) not in (".csv", ".json"):
            return f"{args.spectrum}: a spectrum is written as .csv or .json"
        for name in ("motiongram", "plot", "spectrum_plot", "frequency_map"):
            if getattr(args, name, None):
                check_picture(getattr(args, name))
    except MediaError as error:
        return str(error)
    return None


def _given(args: argparse.Namespace, flag: str) -> str | None:
    return getattr(args, flag[2:].replace("-", "_"), None)


def frequency_request(args: argparse.Namespace) -> FrequencyRequest:
    """What the frequency arguments ask of a render."""
    return FrequencyRequest(getattr(args, "spectrum", None), getattr(args, "spectrum_plot", None),
                            getattr(args, "frequency_map", None), getattr(args, "band", None))


def data_request(args: argparse.Namespace) -> DataRequest:
    """What the motion-data arguments ask of a render, with the exact command for a data file's record."""
    command = getattr(args, "command", None)
    return DataRequest(getattr(args, "data", None), getattr(args, "motiongram", None), getattr(args, "plot", None),
                       tuple(getattr(args, "roi", None) or ()), getattr(args, "motion_threshold", None),
                       None if command is None else tuple(command))


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
