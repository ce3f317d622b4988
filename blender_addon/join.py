"""``join_chunks``: the chunk join's command line (its engine is ``render.chunk_join``).

``scripts/join_chunks.py`` is a thin wrapper around :func:`main`. A chunk is a movie that
``motion_extract.py --frames A:B`` wrote; see ``render.chunk_join`` for what the join checks and refuses,
and how it joins (one encode of lossless chunks, or ``--stream-copy``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .frontend import (
    ALL_CODECS,
    OneLineParser,
    UsageError,
    add_progress_arguments,
    logging_to,
    progress_line,
    report,
    run_command,
)
from .media.errors import MediaError
from .media.formats import MOVIE_FORMATS, check_encoder_options
from .media.names import output_kind
from .render.chunk_join import join

PROG = "join_chunks"
INTERRUPTED = f"\n{PROG}: interrupted: no output was written\n"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Join the chunk movies of one motion_extract.py render (--frames A:B) into the final movie: "
        "checks that they cover the render with no gap or overlap and share its settings, then encodes once "
        "(or, with --stream-copy, copies the chunks' packets).",
        epilog="Exit codes: 0 success, 1 a chunk or the output failed, 2 bad arguments.",
    )
    parser.add_argument("chunks", nargs="+", metavar="CHUNK", help="chunk movies (lossless .mkv for the exact join)")
    parser.add_argument("-o", "--output", required=True, help="the final movie (.mp4, .mov, .mkv, .webm, .avi)")
    parser.add_argument("--audio-from", metavar="INPUT", help="the render's input: its sound, cut to the chunks' "
                        "frames, goes with the pictures (default: no sound)")
    parser.add_argument("--codec", choices=ALL_CODECS, help="video codec, as motion_extract.py's --codec")
    parser.add_argument("--crf", type=int, metavar="N", help="quality, as motion_extract.py's --crf")
    parser.add_argument("--encoder-preset", metavar="NAME", help="encoder speed, as motion_extract.py's "
                        "--encoder-preset")
    parser.add_argument("--stream-copy", action="store_true", help="copy the chunks' packets instead of encoding "
                        "(chunks already in the final codec, such as H.264 .mp4: fast, but not byte-equal to a whole "
                        "render)")
    parser.add_argument("--spectrum", metavar="FILE.json|FILE.csv", help="the whole render's spectrum and dominant "
                        "frequency per region, as motion_extract.py's --spectrum, from the signals the chunks carry "
                        "(render each chunk with --spectrum)")
    parser.add_argument("--spectrum-plot", metavar="FILE.png", help="the whole render's spectrum plot, as "
                        "motion_extract.py's --spectrum-plot")
    parser.add_argument("--frequency-map", metavar="FILE.png", help=argparse.SUPPRESS)
    parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    add_progress_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run ``join_chunks``; returns the exit code."""

    def work() -> None:
        args = build_parser().parse_args(argv)
        if args.frequency_map is not None:
            raise UsageError("--frequency-map: chunks do not carry its blocks' spectra; render the whole clip with "
                             "--frequency-map (with --jobs N to use more processes)")
        _check_output(args)
        with logging_to(stderr, PROG, args.quiet):  # the spectrum's notes, as a render gives them
            join(args.chunks, args.output, args.audio_from, args.codec, args.crf, args.encoder_preset, args.overwrite,
                 args.stream_copy, None if args.quiet else lambda line: stderr.write(f"{PROG}: note: {line}\n"),
                 progress_line(args, stderr).update, args.spectrum, args.spectrum_plot)
        if not args.quiet:
            for path in (args.output, args.spectrum, args.spectrum_plot):
                if path is not None:
                    report(stdout, f"wrote {Path(path)}\n")

    return run_command(PROG, work, stderr, INTERRUPTED)


def _check_output(args: argparse.Namespace) -> None:
    """A bad output name or encoder option is a bad argument (exit 2), said before the chunks are read."""
    try:
        movie = output_kind(args.output) == "movie"
    except MediaError:
        movie = False
    if not movie:
        raise UsageError(f"{args.output}: the join writes a movie: {', '.join(MOVIE_FORMATS)}")
    try:
        check_encoder_options(args.output, args.codec, args.crf, args.encoder_preset)
    except MediaError as error:
        raise UsageError(str(error)) from None
