"""The ``motion_extract`` command line: arguments, input and output checks, progress, exit codes.

``scripts/motion_extract.py`` is a thin wrapper around :func:`main`. Exit codes: 0 success,
1 input or output failure (including an interrupted render), 2 bad arguments. Every error is
one line on stderr, ``motion_extract: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .core.engine import DEFAULT_MAX_MEMORY, SourceEndedEarly, extract_motion
from .core.settings import OPTIONS, Settings, SettingsError
from .core.timing import output_frame_count

PROG = "motion_extract"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PATH = REPO_ROOT / ".cache" / "sample_clip.mkv"
DEFAULT_OUTPUT_DIR_FOR_SAMPLE = Path("out")
SUPPORTED_MOVIE_OUTPUTS = (".mp4", ".avi", ".mkv")


class UsageError(Exception):
    """A bad argument: exit code 2."""


class RunError(Exception):
    """Input or output failed: exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see --help)")


def parse_size(text: str) -> int:
    """Bytes from ``512M``, ``1G``, ``1.5GiB``, ``800000`` (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (use e.g. 512M or 2G)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def parse_frame_range(text: str) -> tuple[int | None, int | None]:
    """``A:B`` (either end may be left out) as a half-open range of output frames."""
    match = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid frame range {text!r} (use A:B, A: or :B)")
    start, stop = (int(group) if group else None for group in match.groups())
    if start is not None and stop is not None and stop <= start:
        raise argparse.ArgumentTypeError(f"empty frame range {text!r}: B must be greater than A")
    return start, stop


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Motion extraction: compare every frame of a clip with a shifted (or frozen) copy of itself, "
            "so still areas cancel to flat gray and everything that moved lights up."
        ),
        epilog=(
            "Output kinds by extension: .mp4 (mp4v), .avi (MJPG), .mkv (lossless FFV1), or an image "
            "sequence when the path holds a printf pattern such as out/%05d.png. "
            "Exit codes: 0 success, 1 input or output failed, 2 bad arguments."
        ),
    )
    parser.add_argument("input", nargs="?", help="movie file, image folder, or image pattern such as frames/%%05d.png")
    parser.add_argument("--sample", action="store_true", help="use the built-in synthetic sample clip as input")
    parser.add_argument(
        "-o", "--output",
        help="output path (default: <input stem>_motion_<look>_<mode><N>.<ext> next to the input; "
        "for --sample, in ./out/)",
    )
    for option in OPTIONS:
        kwargs: dict = {"help": f"{option.description} (default: {option.default})", "default": option.default}
        if option.choices:
            kwargs["choices"] = option.choice_values
            meanings = "; ".join(f"{choice.value}: {choice.description}" for choice in option.choices)
            kwargs["help"] = f"{option.description}. {meanings} (default: {option.default})"
        else:
            kwargs["type"] = option.kind
            kwargs["metavar"] = {"offset": "N", "reference": "K"}.get(option.name, "F")
        parser.add_argument(f"--{option.name}", **kwargs)
    parser.add_argument(
        "--frames", type=parse_frame_range, metavar="A:B", default=(None, None),
        help="render only output frames A to B-1 (half-open, like a Python slice; either end may be "
        "left out); each frame equals the same frame of a whole render, so chunks can be split across machines",
    )
    parser.add_argument(
        "--max-memory", type=parse_size, metavar="SIZE", default=DEFAULT_MAX_MEMORY,
        help="memory for buffered frames; above it a second reader follows N frames behind "
        "instead (default: 1G)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    noise.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    try:
        return Settings(**{option.name: getattr(args, option.name) for option in OPTIONS})
    except SettingsError as error:
        raise UsageError(str(error)) from None


class Progress:
    """Frames done / total, speed and time left on stderr; a redrawn line on a terminal."""

    def __init__(self, total: int, enabled: bool, stream: TextIO = sys.stderr) -> None:
        self.total, self.enabled, self.stream = total, enabled, stream
        self.interactive = stream.isatty()
        self.started = time.monotonic()
        self._last_shown = 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        interval = 0.2 if self.interactive else 5.0
        if done < self.total and now - self._last_shown < interval:
            return
        self._last_shown = now
        elapsed = max(now - self.started, 1e-6)
        fps = done / elapsed
        left = (self.total - done) / fps if fps > 0 else 0.0
        line = (
            f"{done}/{self.total} frames {100 * done / max(self.total, 1):3.0f}%  "
            f"{fps:6.1f} fps  ETA {int(left // 60)}:{int(left % 60):02d}"
        )
        self.stream.write(f"\r{line}" if self.interactive else f"{line}\n")
        if self.interactive and done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def default_output(input_path: Path, settings: Settings, frame_range: tuple, sample: bool) -> Path:
    """``<stem>_motion_<look>_<mode><N>[_framesA-B].<ext>`` beside the input (in ./out for the sample)."""
    chunk = "" if frame_range == (None, None) else f"_frames{frame_range[0] or 0}-{frame_range[1] or 'end'}"
    name = f"_motion_{settings.describe()}{chunk}"
    if sample:
        return DEFAULT_OUTPUT_DIR_FOR_SAMPLE / f"sample{name}.mp4"
    if input_path.is_file():
        suffix = input_path.suffix.lower()
        extension = suffix if suffix in SUPPORTED_MOVIE_OUTPUTS else ".mp4"
        return input_path.parent / f"{input_path.stem}{name}{extension}"
    # An image folder or pattern: write a lossless movie beside the folder.
    folder = input_path if input_path.is_dir() else input_path.parent
    folder = folder.resolve()
    return folder.parent / f"{folder.name}{name}.mkv"


def ensure_sample_clip() -> Path:
    """Write the built-in sample clip (lossless) on first use and return its path."""
    if SAMPLE_PATH.exists():
        return SAMPLE_PATH
    from .core.sample_clip import SampleClip
    from .video_io import open_writer

    clip = SampleClip()
    SAMPLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    with open_writer(SAMPLE_PATH, clip.fps, clip.width, clip.height) as writer:
        for frame in clip.read_from(0):
            writer.write(frame)
    return SAMPLE_PATH


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, stderr: TextIO) -> Path:
    settings = settings_from_args(args)
    if args.sample and args.input:
        raise UsageError("give an INPUT or --sample, not both")
    if not args.sample and not args.input:
        raise UsageError("no input given: name a video, an image folder or pattern, or use --sample")
    try:
        from . import video_io
    except ImportError as error:
        raise RunError(
            f"the exact engine needs OpenCV and numpy ({error}); install them with "
            "'pip install -r requirements.txt'"
        ) from None

    try:
        input_path = ensure_sample_clip() if args.sample else Path(args.input)
        source = video_io.open_source(input_path)
    except video_io.MediaError as error:
        raise RunError(str(error)) from None
    try:
        settings.validate_for_clip(source.frame_count)
    except SettingsError as error:
        raise UsageError(f"{source.path}: {error}") from None

    total = output_frame_count(settings, source.frame_count)
    start = args.frames[0] or 0
    stop = total if args.frames[1] is None else args.frames[1]
    if start >= total or stop > total:
        raise UsageError(f"frame range {start}:{stop} is outside the output (frames 0 to {total - 1})")

    output = Path(args.output) if args.output else default_output(input_path, settings, args.frames, args.sample)
    if _same_path(output, input_path):
        raise UsageError(f"output {output} is the input: choose another output path")

    progress = Progress(stop - start, enabled=(args.progress or stderr.isatty()) and not args.quiet, stream=stderr)
    try:
        with video_io.open_writer(
            output, source.fps, source.width, source.height, overwrite=args.overwrite, protect=[input_path],
            first_number=start, frame_count=stop - start,
        ) as writer:
            for done, frame in enumerate(
                extract_motion(source, settings, start, stop, max_memory=args.max_memory), start=1
            ):
                writer.write(frame)
                progress.update(done)
    except video_io.MediaError as error:
        raise RunError(str(error)) from None
    except SourceEndedEarly as error:
        raise RunError(f"{source.path}: the video is truncated or corrupt ({error})") from None
    return output


def _same_path(output: Path, input_path: Path) -> bool:
    try:
        return output.resolve() == input_path.resolve() or (output.exists() and output.samefile(input_path))
    except OSError:
        return False


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    previous_handler = None
    try:
        args = parser.parse_args(argv)
        try:
            previous_handler = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        except ValueError:  # not the main thread
            pass
        output = run(args, stderr)
    except UsageError as error:
        stderr.write(f"{PROG}: error: {error}\n")
        return EXIT_USAGE
    except RunError as error:
        stderr.write(f"{PROG}: error: {error}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        stderr.write(f"\n{PROG}: interrupted: no output was written\n")
        return EXIT_FAILED
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    if not args.quiet:
        stdout.write(f"wrote {output}\n")
    return EXIT_OK


def script_arguments(argv: Sequence[str]) -> list[str]:
    """The script's own arguments, under ``blender -b --python script.py -- ...`` or plain Python."""
    if "bpy" in sys.modules and "--" in argv:
        return list(argv[argv.index("--") + 1 :])
    return list(argv[1:])

