"""What the command line names and asks of a render: the default output name, the request the arguments make,
and the checks of an output against its input (shared by one render and several inputs, ``batch``)."""

from __future__ import annotations

import argparse
import re
import urllib.parse
from pathlib import Path

from ..core.settings import Settings
from ..frontend import UsageError
from ..media.names import is_url
from ..render import EncodeOptions, RenderRequest
from ..render.request import output_tag
from . import data_arguments
from .arguments import DEFAULT_OUTPUT_DIR_FOR_SAMPLE, MOVIE_OUTPUTS


def default_output(input_path: Path, settings: Settings, frame_range: tuple, sample: bool,
                   engine: str = "auto") -> Path:
    """``<stem>_motion_<look>_<mode><N>[_framesA-B].<ext>`` beside the input (in ./out for the sample).

    A movie keeps its extension when ``engine`` writes it, else becomes ``.mp4``; image folders
    and patterns become a lossless ``.mkv`` beside the folder; a stream URL, ``.mp4`` in the
    current folder.
    """
    name = output_tag(settings, frame_range)
    if sample:
        prefix = "sample" if sample in (True, "tripod") else f"sample_{sample}"
        return DEFAULT_OUTPUT_DIR_FOR_SAMPLE / f"{prefix}{name}.mp4"
    if is_url(str(input_path)):
        parts = urllib.parse.urlsplit(str(input_path))  # the path's last name, not the query's or the fragment's
        last = urllib.parse.unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or parts.hostname or ""
        stem = re.sub(r"[^\w.-]+", "_", last) or "stream"
        return Path(f"{Path(stem).stem}{name}.mp4")
    if input_path.is_file():
        suffix = input_path.suffix.lower()
        extension = suffix if suffix in MOVIE_OUTPUTS[engine] else ".mp4"
        return input_path.parent / f"{input_path.stem}{name}{extension}"
    # An image folder or pattern: write a lossless movie beside the folder.
    folder = input_path if input_path.is_dir() else input_path.parent
    folder = folder.resolve()
    return folder.parent / f"{folder.name}{name}.mkv"


def request_from_args(args: argparse.Namespace, settings: Settings, input_path: Path | str,
                      output: Path) -> RenderRequest:
    """The render the arguments ask of the exact engine."""
    return RenderRequest(
        input_path, output, settings, args.frames, EncodeOptions(args.codec, args.crf, args.encoder_preset),
        sound=not args.no_audio, jobs=args.jobs, max_memory=args.max_memory,
        data=data_arguments.data_request(args), frequency=data_arguments.frequency_request(args),
        align_report=args.align_report, overwrite=args.overwrite, math=args.math,
    )


def check_align_report(args: argparse.Namespace, settings: Settings, vse: bool, output: Path,
                        input_path: Path | str) -> None:
    """Refuse an ``--align-report`` that would not be written, or would replace the output or the input."""
    if args.align_report is None:
        return
    if settings.align == "none":
        raise UsageError("--align-report reports --align: give --align shift, similarity or perspective")
    if vse or args.jobs > 1:
        raise UsageError("--align-report is written by the exact engine in one process: leave out "
                         + ("--engine vse" if vse else "--jobs"))
    report = Path(args.align_report)
    if report.suffix.lower() != ".csv":
        raise UsageError(f"{report}: --align-report writes a .csv file")
    for name, path in (("output", output), ("input", input_path)):
        if same_path(report, path):
            raise UsageError(f"{report}: the report would replace the {name}")


def same_path(output: Path, input_path: Path | str) -> bool:
    if isinstance(input_path, str):  # a stream URL
        return False
    try:
        return output.resolve() == input_path.resolve() or (output.exists() and output.samefile(input_path))
    except OSError:
        return False


def check_stream(args: argparse.Namespace, input_path: Path | str, vse: bool = False) -> None:
    """Refuse a stream URL input (read once, by this process) where the render would read it twice or elsewhere:
    a frequency output, ``--jobs``, ``--cluster``, the vse engine."""
    if not isinstance(input_path, str):
        return
    if data_arguments.frequency_request(args).wanted:
        raise UsageError(f"{input_path}: the motion frequency reads the input a second time, and a stream is read "
                         "once: save it to a file first")
    if vse:
        raise UsageError(f"{input_path}: the vse engine reads files only; streams are read by --engine exact")
    if args.cluster is not None:
        raise UsageError(f"--cluster renders files every worker reads; {input_path} is a stream: save it to a file "
                         "first")
    if args.jobs > 1:
        raise UsageError(f"--jobs renders files with the exact engine; {input_path} is a stream")
