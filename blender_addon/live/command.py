"""The live viewer's command line (``scripts/live.py``): arguments from the settings model, the window or none,
one-line errors. Exit codes: 0 success, 1 source, window or output failure, 2 bad arguments. Errors go to
stderr as ``live: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .. import media
from ..core.settings import Settings, SettingsError
from ..frontend import (
    OneLineParser,
    RunError,
    UsageError,
    add_settings_arguments,
    command_line,
    logging_to,
    preset_listing,
    run_command,
    settings_from_args,
)
from ..media.names import data_kind
from ..render import RequestError, in_frames
from .capture import open_live_source
from .frequency import DEFAULT_WINDOW, MAX_WINDOW, MIN_WINDOW
from .motion import DEFAULT_HISTORY, check_live
from .pipeline import LivePipeline
from .window import open_window, run_headless, run_window

PROG = "live"



def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _window_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value != 0 and not MIN_WINDOW <= value <= MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or {MIN_WINDOW:g} to {MAX_WINDOW:g} seconds, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description=(
            "Live motion extraction: a camera, file or stream beside its motion, in a window. "
            "Press h in the window for the keys."
        ),
        epilog="Exit codes: 0 success, 1 source, window or output failed, 2 bad arguments.",
    )
    parser.add_argument(
        "source", nargs="?", default="0",
        help="camera index (0, 1, ...) or /dev/videoN, a video file, or a stream URL (default: camera 0)",
    )
    add_settings_arguments(parser)  # the same flags as motion_extract, so options carry over between the two
    parser.add_argument(
        "--history", type=_positive, default=DEFAULT_HISTORY, metavar="N",
        help=f"frames kept for the offset keys to reach back (memory: N+1 frames; default: {DEFAULT_HISTORY})",
    )
    parser.add_argument(
        "--frequency-window", type=_window_seconds, metavar="SECONDS",
        help=f"the rhythm readout: the dominant frequency of the whole frame (or of a rectangle dragged out with "
        f"the mouse) over the last SECONDS, in the window; 0 turns it off (default: {DEFAULT_WINDOW:g})",
    )
    parser.add_argument("--no-window", action="store_true", help="run without a window (e.g. to record on a server)")
    parser.add_argument("--frames", type=_positive, metavar="N", help="stop after N processed frames")
    parser.add_argument(
        "--record", metavar="PATH",
        help="record the motion from the start to PATH (.mp4, .avi, .mkv or a pattern such as out/%%05d.png)",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=Path("."), metavar="DIR",
        help="where the r and s keys save recordings and snapshots (default: the current folder)",
    )
    parser.add_argument(
        "--data", metavar="FILE.csv|FILE.json",
        help="record the motion data from the start: a row per frame (the columns of motion_extract --data, "
        "time from the start); the d key starts and stops it too",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the --record output if it exists")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def _checked_capacity(args: argparse.Namespace, settings: Settings) -> int:
    """The frames of history for ``settings``, after checking that a live source can honour them."""
    capacity = max(args.history, settings.reach)
    try:
        check_live(settings, capacity)
    except SettingsError as error:
        raise UsageError(str(error)) from None
    return capacity


def run(args: argparse.Namespace, stdout: TextIO) -> None:
    if args.list_presets:
        stdout.write(preset_listing())
        return
    settings = settings_from_args(args)
    if args.data:
        try:  # a bad name is known before the source is opened
            data_kind(args.data)
        except media.MediaError as error:
            raise UsageError(str(error)) from None
    rhythm_window = DEFAULT_WINDOW if args.frequency_window is None else args.frequency_window
    if args.no_window:
        if args.frequency_window:
            raise UsageError("--frequency-window: the rhythm readout shows in the window, and --no-window has none")
        rhythm_window = 0.0
    capacity = _checked_capacity(args, settings) if not settings.needs_rate else 0
    if not args.no_window:
        open_window()
    try:
        source = open_live_source(args.source)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    if settings.needs_rate:  # times in seconds: the source's rate makes them frames
        try:
            if source.fps is None:
                raise UsageError(f"{args.source} reports no frame rate, so times in seconds cannot become frames: "
                                 "give them in frames")
            settings = in_frames(settings, source.fps)
            capacity = _checked_capacity(args, settings)
        except (RequestError, SettingsError) as error:
            source.capture.release()
            raise UsageError(str(error)) from None
    pipeline = LivePipeline(
        source.capture, settings, capacity=capacity, source_fps=source.fps,
        pace=source.kind == "stream" or (source.kind == "file" and not args.no_window), keep_all=source.kind == "file",
        first_frame=source.first_frame, output_dir=args.output_dir, overwrite=args.overwrite,
        rhythm_window=rhythm_window,
    )
    pipeline.record_info = {"command": getattr(args, "command", None), "source": args.source}
    interrupted = False
    try:
        with pipeline:
            if args.record:
                pipeline.start_recording(Path(args.record))
            if args.data:
                pipeline.start_data(Path(args.data))
            try:
                (run_headless if args.no_window else run_window)(pipeline, args.frames)
            except KeyboardInterrupt:
                interrupted = True  # the normal way to stop a headless recording: keep it
    except media.MediaError as error:
        raise RunError(str(error)) from None
    if pipeline.capture.error is not None:
        raise RunError(f"{args.source}: reading stopped: {pipeline.capture.error}")
    if not args.quiet:
        stopped = " (interrupted)" if interrupted else ""
        stdout.write(f"processed {pipeline.processed} frames, dropped {pipeline.dropped}{stopped}\n")
        stdout.writelines(f"wrote {path}\n" for path in pipeline.saved)


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run the live viewer on ``argv`` (``None``: this process's arguments); returns the exit code."""
    arguments, command = command_line(argv, "live.py")

    # Ctrl-C before the source delivered: nothing to keep (a recording is kept by the pipeline).
    def work() -> None:
        args = build_parser().parse_args(arguments)
        args.command = command
        with logging_to(stderr, PROG, args.quiet):
            run(args, stdout)

    return run_command(PROG, work, stderr, f"\n{PROG}: interrupted\n")
