"""The ``motion_extract`` command line: arguments, engine choice, input and output checks, progress, exit codes.

``scripts/motion_extract.py`` is a thin wrapper around :func:`main`. Two engines render:

- ``exact``: the core engine with FFmpeg's libraries (PyAV) and OpenCV (``media``): the
  reference, and the default for every output (H.264, HEVC, AV1, VP9, ProRes, FFV1, MJPG with
  the source's sound, and image sequences);
- ``vse``: the Blender rig through ``vse.batch`` and Blender's FFmpeg (H.264 + AAC, ProRes,
  FFV1), for rendering the rig itself, and for ``--blend``.

bpy is imported only when the vse engine runs, and its path never imports OpenCV or PyAV, so
it works inside a real Blender that has neither.

Exit codes: 0 success, 1 input or output failure (including an interrupted render),
2 bad arguments. Every error is one line on stderr, ``motion_extract: error: ...``, never a
traceback. stdout carries only ``wrote PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import TextIO

from . import motion_data
from .core.engine import DEFAULT_MAX_MEMORY, SourceEndedEarly, extract_motion
from .core.ffmpeg_graph import ffmpeg_command
from .core.presets import PRESET_DESCRIPTIONS, PRESETS, preset_settings
from .core.rates import exact_rate
from .core.settings import OPTIONS, OPTIONS_BY_NAME, Option, Settings, SettingsError
from .core.timing import FrameRangeError, frame_range, output_frame_count, output_size, plan_frame
from .media.paths import MOVIE_FORMATS, ffmpeg_input_arguments, is_url

PROG = "motion_extract"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_SIGNAL = 128  # plus the signal's number when a render is interrupted, as a shell reports it
REPO_ROOT = Path(__file__).resolve().parent.parent
# The built-in sample clips, written on first use: the tripod shot and the same filmed handheld.
SAMPLES = {"tripod": REPO_ROOT / ".cache" / "sample_clip.mkv", "handheld": REPO_ROOT / ".cache" / "sample_handheld.mkv"}
DEFAULT_OUTPUT_DIR_FOR_SAMPLE = Path("out")
ENGINES = ("auto", "exact", "vse")
# The movie extensions each engine writes.
MOVIE_OUTPUTS = {"exact": tuple(MOVIE_FORMATS), "vse": (".mp4", ".mov", ".mkv")}
MOVIE_OUTPUTS["auto"] = MOVIE_OUTPUTS["exact"]
ALL_CODECS = tuple(dict.fromkeys(codec for movie in MOVIE_FORMATS.values() for codec in movie.codecs))
INTERRUPTED = f"\n{PROG}: interrupted: no output was written\n"


class UsageError(Exception):
    """A bad argument: exit code 2."""


class RunError(Exception):
    """Input or output failed: exit code 1."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (a :class:`UsageError`), not argparse's usage block."""

    def error(self, message: str) -> None:
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
    if stop is not None and stop <= (start or 0):
        raise argparse.ArgumentTypeError(f"empty frame range {text!r}: B must be greater than A")
    return start, stop


def parse_jobs(text: str) -> int:
    """A number of processes, 1 or more."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid number of jobs {text!r} (use 1 or more)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description=(
            "Motion extraction: compare every frame of a clip with a shifted (or frozen) copy of itself, "
            "so still areas cancel to flat gray and everything that moved lights up."
        ),
        epilog=(
            "Outputs, written by the exact engine with the input's sound: .mp4 (H.264), .mov (ProRes 422 HQ), "
            ".mkv (lossless FFV1), .webm (VP9), .avi (MJPG), or image sequences such as out/%05d.png. "
            "Exit codes: 0 success, 1 input or output failed, 2 bad arguments."
        ),
    )
    parser.add_argument("input", nargs="?", help="movie file, image folder, or image pattern such as frames/%%05d.png")
    parser.add_argument(
        "--sample", nargs="?", const="tripod", choices=tuple(SAMPLES), metavar="NAME",
        help="use a built-in synthetic sample clip as input: tripod (the default) or handheld (the same scene "
        "filmed through a known shaky camera path, for --align)",
    )
    parser.add_argument(
        "--blend", metavar="FILE.blend",
        help="instead of an INPUT, render the sequencer of this .blend as it is, with Blender (the effect "
        "options do not apply; default output: <stem>_render.mp4 beside it)",
    )
    parser.add_argument(
        "-o", "--output",
        help="output path (default: <input stem>_motion_<look>_<mode><N>.<ext> next to the input; "
        "for --sample, in ./out/)",
    )
    parser.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="exact: the core engine with FFmpeg's libraries (fast, the reference); "
        "vse: the Blender rig rendered by Blender's sequencer (.mp4, .mov, .mkv, PNG sequences); "
        "auto: exact (default: auto)",
    )
    add_settings_arguments(parser)
    movie = parser.add_argument_group("movie output (exact engine)")
    movie.add_argument(
        "--codec", choices=ALL_CODECS,
        help="video codec: .mp4 h264 (default), h265, av1, mpeg4; .mov prores (default), h264, h265; "
        ".mkv ffv1 (default), h264, h265, av1, vp9; .webm vp9 (default), av1; .avi mjpeg",
    )
    movie.add_argument(
        "--crf", type=int, metavar="N",
        help="quality of h264/h265 (0-51, default 20/24), av1/vp9 (0-63, default 32): lower is better and bigger",
    )
    movie.add_argument(
        "--encoder-preset", metavar="NAME",
        help="encoder speed: x264/x265 preset names (ultrafast ... veryslow; default veryfast), "
        "SVT-AV1 0-13 (default 10), VP9 cpu-used 0-8 (default 5)",
    )
    movie.add_argument("--no-audio", action="store_true", help="leave the input's sound out of a movie output")
    motion_data.add_data_arguments(parser)
    parser.add_argument(
        "--align-report", metavar="FILE.csv",
        help="with --align: write per output frame the estimated transform of each partner onto its frame and "
        "how well it fit (see the README for the columns)",
    )
    parser.add_argument(
        "--print-ffmpeg", action="store_true",
        help="print an ffmpeg command that reproduces these settings on INPUT (notes on what ffmpeg cannot "
        "do go to stderr) and exit without rendering",
    )
    parser.add_argument(
        "--frames", type=parse_frame_range, metavar="A:B", default=(None, None),
        help="render only output frames A to B-1 (half-open, like a Python slice; either end may be "
        "left out); each frame equals the same frame of a whole render, so chunks can be split across machines",
    )
    parser.add_argument(
        "--jobs", type=parse_jobs, metavar="N", default=1,
        help="exact engine: render in N processes at once, each a chunk of the frames, joined in order into the "
        "same output (the same frames as one process; for looks that keep one core busy, such as a screen overlay, "
        "on a machine with N cores; --max-memory is shared between them) (default: 1)",
    )
    parser.add_argument(
        "--max-memory", type=parse_size, metavar="SIZE", default=DEFAULT_MAX_MEMORY,
        help="exact engine: memory for buffered frames; above it a second reader follows N frames behind "
        "instead (default: 1G)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    add_progress_arguments(parser)
    return parser


def add_progress_arguments(parser: argparse.ArgumentParser) -> None:
    """``--progress``, ``--farm-progress`` and ``-q``: how much the command prints while it works."""
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    noise.add_argument("--farm-progress", action="store_true", help="print one line per frame done, as Blender "
                       "prints a rendered frame ('Time: 00:00.04 ...'), which a render farm's worker (Flamenco) "
                       "counts as one step of its task")
    noise.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """``--preset``, ``--list-presets`` and one flag per setting: the effect options every front end shares."""
    parser.add_argument(
        "--preset", choices=tuple(PRESETS), metavar="NAME",
        help=f"start from a named preset ({', '.join(PRESETS)}); options given explicitly override it",
    )
    parser.add_argument("--list-presets", action="store_true", help="list the presets with what they set, and exit")
    for option in OPTIONS:
        if has_own_flag(option):
            add_option_argument(parser, option)


# Options reached through another option's flag: a time in seconds (``--offset 0.5s`` sets
# ``offset_seconds`` and its unit) and a value of an on/off flag (``--tint orange``).
UNIT_OPTIONS = frozenset(option.unit for option in OPTIONS if option.unit)
SECONDS_OWNERS = {option.seconds: option for option in OPTIONS if option.seconds}
VALUES_OF = {option.value_of: option for option in OPTIONS if option.value_of}


class Seconds(float):
    """A time option given in seconds on the command line, such as ``0.5s``."""


def has_own_flag(option: Option) -> bool:
    """Whether a setting has a flag of its own (else it is given through another one's flag)."""
    return option.unit is None and option.name not in UNIT_OPTIONS and option.value_of is None


def parse_time(kind: type) -> Callable[[str], object]:
    """A flag value that is a number of frames (``kind``) or a time in seconds (``0.5s``, a :class:`Seconds`)."""

    def parse(text: str) -> object:
        stripped = text.strip().lower()
        try:
            return Seconds(float(stripped[:-1])) if stripped.endswith("s") else kind(stripped)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value {text!r} (a number, or seconds such as 0.5s)") from None

    return parse


def preset_listing() -> str:
    """The presets, one per line with their description and options."""
    lines = []
    for name, values in PRESETS.items():
        flags = " ".join(
            filter(None, (_flag_text(OPTIONS_BY_NAME[key], value, values) for key, value in values.items()))
        )
        lines.append(f"{name:12} {PRESET_DESCRIPTIONS[name]}\n{'':12} {flags or '(the defaults)'}")
    return "\n".join(lines) + "\n"


def _flag_text(option: Option, value: object, values: Mapping[str, object]) -> str:
    """How a preset's option reads on the command line (empty for one another flag carries)."""
    if option.name in SECONDS_OWNERS:
        return f"{option_flag(SECONDS_OWNERS[option.name])} {value:g}s"
    if not has_own_flag(option):
        return ""
    if option.kind is bool:
        colour = values.get(VALUES_OF[option.name].name) if value and option.name in VALUES_OF else None
        return (option_flag(option) + (f" {colour}" if colour else "")) if value else "--no-" + option_flag(option)[2:]
    return f"{option_flag(option)} {value}"


def option_flag(option: Option) -> str:
    """The command-line flag of a setting: ``glow_radius`` -> ``--glow-radius``."""
    return "--" + option.name.replace("_", "-")


def add_option_argument(parser: argparse.ArgumentParser, option: Option) -> None:
    """One argument per setting, generated from the settings table.

    The default stays ``None`` (the settings model fills it in), so an option given explicitly
    can be told from one left out; the help shows the real default.
    """
    description = option.description.replace("%", "%%")
    kwargs: dict = {"dest": option.name, "default": None}
    if option.kind is bool and option.name in VALUES_OF:  # --tint, --tint COLOUR, --no-tint
        value = VALUES_OF[option.name]
        kwargs.update(nargs="?", const=True, metavar="COLOUR")
        kwargs["help"] = (f"{description}; a COLOUR (#rrggbb, R,G,B or a name such as orange) also sets the "
                          f"{value.label.lower()} (default: off, {value.default})")
        parser.add_argument(option_flag(option), **kwargs)
        parser.add_argument("--no-" + option_flag(option)[2:], dest=option.name, action="store_const", const=False,
                            help=f"{option.label} off")
        return
    if option.kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
        kwargs["help"] = f"{description} (default: {'on' if option.default else 'off'})"
    elif option.choices:
        kwargs["choices"] = option.choice_values
        meanings = "; ".join(f"{choice.value}: {choice.description}" for choice in option.choices)
        kwargs["help"] = f"{description}. {meanings.replace('%', '%%')} (default: {option.default})"
    else:
        kwargs["type"] = option.kind
        kwargs["metavar"] = {"offset": "N", "reference": "K"}.get(option.name, "N" if option.kind is int else "F")
        kwargs["help"] = f"{description} (default: {option.default})"
        if option.seconds:
            kwargs["type"] = parse_time(option.kind)
            kwargs["metavar"] += "|Ts"
            kwargs["help"] = (f"{description}; or a time in seconds such as 0.5s, the nearest frame at the clip's "
                              f"frame rate (default: {option.default})")
    parser.add_argument(option_flag(option), **kwargs)


def explicit_options(args: argparse.Namespace) -> list[Option]:
    """The settings given on the command line."""
    return [option for option in OPTIONS if getattr(args, option.name, None) is not None]


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings: the preset (or the defaults) with the explicitly given options on top."""
    explicit = _unfold({option.name: getattr(args, option.name) for option in explicit_options(args)})
    try:
        return preset_settings(args.preset, **explicit) if getattr(args, "preset", None) else Settings(**explicit)
    except SettingsError as error:
        raise UsageError(_in_flag_terms(str(error))) from None


def _unfold(given: dict[str, object]) -> dict[str, object]:
    """The flags' values as settings: a time in seconds sets its seconds form and unit, a frame
    count the frames unit; a colour after ``--tint`` sets the tint colour too."""
    values: dict[str, object] = {}
    chosen: dict[str, tuple[str, str]] = {}  # unit option -> (unit, the flag that chose it)
    for name, value in given.items():
        option = OPTIONS_BY_NAME[name]
        if option.seconds:
            form = OPTIONS_BY_NAME[option.seconds]
            unit = "seconds" if isinstance(value, Seconds) else OPTIONS_BY_NAME[form.unit].default
            first = chosen.setdefault(form.unit, (unit, option_flag(option)))
            if first[0] != unit:
                raise UsageError(f"{first[1]}, {option_flag(option)}: give them all in seconds (such as 0.5s) or none")
            values[form.unit] = unit
            values[form.name if unit == "seconds" else name] = float(value) if unit == "seconds" else value
        elif name in VALUES_OF and isinstance(value, str):
            values[name], values[VALUES_OF[name].name] = True, value
        else:
            values[name] = value
    return values


def _in_flag_terms(message: str) -> str:
    """A settings message told with the flag of the option it starts with (``glow_radius`` -> ``--glow-radius``)."""
    name = message.split(" ", 1)[0]
    if name in SECONDS_OWNERS:
        return option_flag(SECONDS_OWNERS[name]) + " (in seconds)" + message[len(name):]
    if name in OPTIONS_BY_NAME and OPTIONS_BY_NAME[name].value_of:  # tint_colour -> --tint COLOUR
        return f"{option_flag(OPTIONS_BY_NAME[OPTIONS_BY_NAME[name].value_of])} COLOUR{message[len(name):]}"
    return option_flag(OPTIONS_BY_NAME[name]) + message[len(name):] if name in OPTIONS_BY_NAME else message


def _in_frames(settings: Settings, rate: Fraction, stderr: TextIO, quiet: bool) -> Settings:
    """``settings`` with its times in seconds turned into frames at ``rate``; what each became goes to stderr."""
    try:
        frames = settings.in_frames(rate)
    except SettingsError as error:
        raise UsageError(_in_flag_terms(str(error))) from None
    if not quiet:
        for line in settings.seconds_in_frames(rate):
            stderr.write(f"{PROG}: {line}\n")
    return frames


class Progress:
    """Frames done / total, speed and time left on stderr; a redrawn line on a terminal.

    With ``steps``, one line per frame instead, in the form Blender prints for a rendered frame
    (``Time: MM:SS.cc``): the line a render farm's worker (Flamenco's) counts as one step of its task.
    """

    def __init__(self, total: int, enabled: bool, stream: TextIO = sys.stderr, steps: bool = False) -> None:
        self.total, self.enabled, self.stream, self.steps = total, enabled, stream, steps
        self.interactive = stream.isatty()
        self.started = time.monotonic()
        self._last_shown = 0.0
        self._stepped, self._last_step = 0, self.started

    def update(self, done: int, total: int | None = None) -> None:
        """Report ``done`` frames (of ``total``, when the renderer tells it)."""
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        now = time.monotonic()
        if self.steps:
            self._step_lines(done, now)
            return
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

    def _step_lines(self, done: int, now: float) -> None:
        count = done - self._stepped
        if count <= 0:
            return
        each = (now - self._last_step) / count
        for frame in range(self._stepped + 1, done + 1):
            self.stream.write(f"Time: {int(each // 60):02d}:{each % 60:05.2f} (frame {frame}/{self.total})\n")
        self._stepped, self._last_step = done, now
        self.stream.flush()


def default_output(input_path: Path, settings: Settings, frame_range: tuple, sample: bool,
                   engine: str = "auto") -> Path:
    """``<stem>_motion_<look>_<mode><N>[_framesA-B].<ext>`` beside the input (in ./out for the sample).

    A movie keeps its extension when ``engine`` writes it, else becomes ``.mp4``; image folders
    and patterns become a lossless ``.mkv`` beside the folder; a stream URL, ``.mp4`` in the
    current folder.
    """
    name = f"_motion_{settings.describe()}{_chunk_tag(frame_range)}"
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


def _chunk_tag(frame_range: tuple) -> str:
    return "" if frame_range == (None, None) else f"_frames{frame_range[0] or 0}-{frame_range[1] or 'end'}"


def choose_engine(requested: str, args: argparse.Namespace) -> str:
    """The engine: ``auto`` is the exact engine, for every output."""
    engine = "exact" if requested == "auto" else requested
    if engine == "vse":
        given = [flag for flag, value in (("--codec", args.codec), ("--crf", args.crf),
                                          ("--encoder-preset", args.encoder_preset)) if value is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: the exact engine's movie options; --engine vse uses Blender's "
                             "encoder settings")
    return engine


def ensure_sample_clip(name: str = "tripod") -> Path:
    """Write the built-in sample clip ``name`` on first use and return its path: FFV1 pictures, a tick every second."""
    path = SAMPLES[name]
    if path.exists():
        return path
    from .core.sample_clip import HandheldClip, SampleClip, write_tick_track

    media = _media()
    clip = HandheldClip() if name == "handheld" else SampleClip()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as folder:
        ticks = Path(folder) / "ticks.wav"
        write_tick_track(ticks, clip.frame_count / clip.fps)
        rate = exact_rate(clip.fps)
        sound = media.SoundClip(str(ticks), Fraction(0), Fraction(0), clip.frame_count / rate)
        with media.open_writer(path, rate, clip.width, clip.height, sound=sound, overwrite=True) as writer:
            for frame in clip.read_from(0):
                writer.write(frame)
    return path


def _media() -> ModuleType:
    try:
        from . import media

        media.MovieWriter  # noqa: B018 (imports PyAV and OpenCV now, so a missing one is reported here)
    except ImportError as error:
        raise RunError(
            f"the exact engine needs PyAV, OpenCV and numpy ({error}); install them with "
            "'pip install -r requirements.txt'"
        ) from None
    return media


def _vse_batch() -> ModuleType:
    # Importing bpy can log on stdout (Blender 5.1+ prints "Using OCIO=..." when $OCIO is set, as it is
    # in any process Blender started), so file descriptor 1 points at the null device meanwhile.
    saved_stdout = _point_stdout_at_null()
    try:
        from .vse import batch
    except ImportError as error:
        raise RunError(
            f"the vse engine runs inside Blender ({error}): use 'blender -b --python scripts/motion_extract.py "
            "-- ...' or the bpy module from requirements.txt, or --engine exact"
        ) from None
    finally:
        _restore_stdout(saved_stdout)
    return batch


class _Terminated(KeyboardInterrupt):
    """SIGTERM, which a render takes as Ctrl-C (and exits with the code a shell gives it)."""


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise _Terminated


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> Path | None:
    """Do what the arguments ask; returns the path written, or ``None`` when nothing was rendered."""
    if args.list_presets:
        stdout.write(preset_listing())
        return None
    if args.blend is not None:
        return _run_blend(args, stderr)
    settings = settings_from_args(args)
    if args.sample and args.input:
        raise UsageError("give an INPUT or --sample, not both")
    if not args.sample and not args.input:
        raise UsageError("no input given: name a video, an image folder or pattern, or use --sample (or --blend)")
    # A stream URL stays text: as a Path, "http://host/a" would become "http:/host/a".
    input_path = SAMPLES[args.sample] if args.sample else args.input if is_url(args.input) else Path(args.input)
    _refuse_options_that_do_nothing(args, settings)
    output = Path(args.output) if args.output else default_output(
        input_path, settings, args.frames, args.sample, args.engine
    )
    if _same_path(output, input_path):
        raise UsageError(f"output {output} is the input: choose another output path")
    problem = motion_data.refusal(args, args.engine, args.print_ffmpeg) or motion_data.look_refusal(
        settings, args.engine, args.print_ffmpeg)
    if problem:
        raise UsageError(problem)
    if args.print_ffmpeg:
        if args.frames != (None, None):
            raise UsageError("--frames: --print-ffmpeg prints the command for the whole clip; leave --frames out")
        if args.jobs > 1:
            raise UsageError("--jobs: --print-ffmpeg prints one ffmpeg command; leave --jobs out")
        _print_ffmpeg(settings, input_path, output, stdout, stderr)
        return None
    batch = _vse_batch() if choose_engine(args.engine, args) == "vse" else None
    if batch is not None and isinstance(input_path, str):
        raise UsageError(f"{input_path}: the vse engine reads files only; streams are read by --engine exact")
    if args.jobs > 1 and (batch is not None or isinstance(input_path, str)):
        raise UsageError("--jobs renders files with the exact engine" + (
            ", not with --engine vse" if batch is not None else f"; {input_path} is a stream"))
    _check_align_report(args, settings, batch is not None, output, input_path)
    if args.sample:
        ensure_sample_clip(args.sample)
    progress = _progress(args, stderr)
    if batch is not None:
        _render_with_blender(
            batch, stderr, batch.render_with_vse, input_path, output, settings, args.frames[0] or 0, args.frames[1],
            progress=progress.update, overwrite=args.overwrite, expected_frames=_vse_can_render(input_path),
            report=None if args.quiet else lambda line: stderr.write(f"{PROG}: {line}\n"),
        )
    else:
        render_exact(args, settings, input_path, output, progress)
    return output


def _check_align_report(args: argparse.Namespace, settings: Settings, vse: bool, output: Path,
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
        if _same_path(report, path):
            raise UsageError(f"{report}: the report would replace the {name}")


def _progress(args: argparse.Namespace, stderr: TextIO) -> Progress:
    return Progress(0, enabled=(args.progress or args.farm_progress or stderr.isatty()) and not args.quiet,
                    stream=stderr, steps=args.farm_progress)


def _vse_can_render(input_path: Path) -> int | None:
    """The input's frame count, after refusing what Blender's sequencer would render wrong.

    Checked with the exact engine's readers where they are at hand (not in a Blender without
    PyAV and OpenCV): a variable frame rate (Blender assumes a constant one), transparency
    (the rig would lose it) and damage all make the sequencer's frames differ from the file's.
    """
    try:
        media = _media()
    except RunError:
        return None
    try:
        source = media.open_source(input_path)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    if source.timestamps is not None:
        raise RunError(f"{input_path}: has a variable frame rate, which Blender's sequencer renders wrong: "
                       "use --engine exact")
    if source.has_alpha:
        raise RunError(f"{input_path}: has transparency, which the sequencer rig does not keep: use --engine exact")
    return source.frame_count


def _refuse_options_that_do_nothing(args: argparse.Namespace, settings: Settings) -> None:
    """An option given where it does nothing (the option table's ``applies_with``: ``--mix`` with another look than
    gray, ``--glow-radius`` without ``--glow``): say so rather than ignore it. Values from a preset, and switching
    an on/off option off, are let be."""

    def flag(option: Option) -> str:
        return option_flag(option) if has_own_flag(option) else option.label.lower()

    given = _unfold({option.name: getattr(args, option.name) for option in explicit_options(args)})
    for name, value in given.items():
        unmet = () if value is False or name in UNIT_OPTIONS else OPTIONS_BY_NAME[name].unmet(settings)
        if unmet:
            needed = OPTIONS_BY_NAME[unmet[0].name]
            have = getattr(settings, needed.name)
            have = ("on" if have else "off") if needed.kind is bool else f"{have:g}" if needed.kind is float else have
            raise UsageError(_in_flag_terms(f"{name} applies with {' and '.join(when.text(flag) for when in unmet)} "
                                            f"only; this render has {flag(needed)} {have}"))


def _print_ffmpeg(settings: Settings, input_path: Path, output: Path, stdout: TextIO, stderr: TextIO) -> None:
    media = _media()
    try:
        source = media.open_source(input_path)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    settings = _in_frames(settings, source.rate, stderr, quiet=False)
    try:
        settings.validate_for_clip(source.frame_count)
    except SettingsError as error:
        raise UsageError(f"{input_path}: {error}") from None
    files = getattr(source, "files", None)
    try:
        input_arguments = None if files is None else ffmpeg_input_arguments(str(input_path), list(files), source.rate)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    try:
        command = ffmpeg_command(settings, str(input_path), str(output), source.frame_count, source.fps,
                                 input_arguments, (source.width, source.height))
    except SettingsError as error:
        raise UsageError(str(error)) from None
    stdout.write(command.shell() + "\n")
    for note in command.notes:
        stderr.write(f"{PROG}: note: {note}\n")


def _run_blend(args: argparse.Namespace, stderr: TextIO) -> Path:
    """``--blend FILE.blend``: render the file's sequencer as it is."""
    given = explicit_options(args)
    if given:
        flags = ", ".join(option_flag(option) for option in given)
        raise UsageError(
            f"{flags}: effect options do not apply to --blend, which renders the file's sequencer as it is "
            "(its rigs keep their own settings)"
        )
    if args.input or args.sample:
        raise UsageError("give one of INPUT, --sample or --blend")
    if args.engine == "exact":
        raise UsageError("--blend renders with Blender's sequencer: use --engine vse (or auto), not exact")
    blend = Path(args.blend)
    output = Path(args.output) if args.output else blend.parent / f"{blend.stem}_render{_chunk_tag(args.frames)}.mp4"
    if _same_path(output, blend):
        raise UsageError(f"output {output} is the input: choose another output path")
    batch = _vse_batch()
    _render_with_blender(
        batch, stderr, batch.render_blend_file, blend, output, args.frames[0] or 0, args.frames[1],
        progress=_progress(args, stderr).update, overwrite=args.overwrite,
    )
    return output


def render_exact(args: argparse.Namespace, settings: Settings, input_path: Path | str, output: Path,
                 progress: Progress, fps: Fraction | None = None) -> None:
    """Render ``output`` with the exact engine as ``args`` ask (the command line's and Bake Motion's one path).

    ``fps`` replaces the input's frame rate (Blender's scene rate for an image sequence). Errors are
    :class:`UsageError` or :class:`RunError`; an exception from ``progress.update`` stops the render
    and leaves no output.
    """
    media = _media()
    try:  # what the output can be is known before the input is opened: a bad name or option is a usage error
        kind = media.output_kind(output)
        if kind == "movie":
            media.check_encoder_options(str(output), args.codec, args.crf, args.encoder_preset)
        elif (args.codec, args.crf, args.encoder_preset) != (None, None, None):
            raise media.MediaError(f"{output}: --codec, --crf and --encoder-preset apply to movie outputs")
    except media.MediaError as error:
        raise UsageError(str(error)) from None
    try:
        source = media.open_source(input_path, fps)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    if source.timestamps is not None and kind == "movie" and output.suffix.lower() == ".avi" and not args.quiet:
        progress.stream.write(
            f"{PROG}: warning: {output.name}: AVI stores a constant frame rate, so {source.path}'s variable "
            "timing is lost and its sound drifts; .mp4, .mov, .mkv and .webm keep it\n"
        )
    settings = _in_frames(settings, source.rate, progress.stream, args.quiet)
    try:
        settings.validate_for_clip(source.frame_count)
    except SettingsError as error:
        raise UsageError(f"{source.path}: {error}") from None
    if not args.quiet:
        for warning in source.warnings:
            progress.stream.write(f"{PROG}: warning: {warning}\n")

    total = output_frame_count(settings, source.frame_count)
    try:
        frames = frame_range(total, args.frames[0] or 0, args.frames[1])
    except FrameRangeError as error:
        raise UsageError(str(error)) from None
    start, stop = frames.start, frames.stop

    def input_frame(index: int) -> int:
        return plan_frame(settings, source.frame_count, index).frame

    # The output's time runs with the input frames it shows; the sound is cut to the same span.
    first, last = input_frame(start), input_frame(stop - 1)
    begin = source.time_of(first)
    end = source.time_of(last + 1) if last + 1 < source.frame_count else source.time_of(last) + 1 / source.rate
    sound = None
    if getattr(source, "has_audio", False) and not args.no_audio and kind == "movie":
        sound = media.SoundClip(source.path, source.start_time, begin, end)

    width, height = output_size(settings, source.width, source.height)
    from .join import chunk_tags  # a movie's record, by which join_chunks.py knows a chunk

    metadata = chunk_tags(settings, source, start, stop, total, begin, end, width, height)
    progress.total = stop - start
    alignments = _AlignmentLog(source, settings)
    try:
        with _align_report(args, [input_path, output]) as report, media.open_writer(
            output, source.rate, width, height, overwrite=args.overwrite, protect=[input_path],
            first_number=start, frame_count=stop - start, codec=args.codec, crf=args.crf,
            encoder_preset=args.encoder_preset, sound=sound, whole=(start, stop) == (0, total),
            time_base=getattr(source, "time_base", None) if source.timestamps is not None else None, start=begin,
            metadata=metadata,
        ) as writer, contextlib.closing(
            _frames(args, source, input_path, settings, start, stop, output, alignments if alignments else None)
        ) as frames:
            alignments.report = report
            for done, frame in enumerate(frames, start=1):
                writer.write(frame, source.time_of(input_frame(start + done - 1)))
                progress.update(done)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    except SourceEndedEarly as error:
        raise RunError(f"{source.path}: the video is truncated or corrupt ({error})") from None


    if alignments and not args.quiet:
        for warning in alignments.warnings():
            progress.stream.write(f"{PROG}: warning: {warning}\n")


class _AlignmentLog:
    """What ``--align`` did, frame by frame: rows for ``--align-report`` and the pairs it could not align."""

    def __init__(self, source, settings: Settings) -> None:
        self.active = settings.align != "none"
        self._source = source
        self.report = None  # a csv writer once the report is open
        self.failed: list[list] = []  # [output frame, why]
        self.pairs = 0

    def __bool__(self) -> bool:
        return self.active

    def heard(self, plan, alignments: tuple) -> None:
        self.pairs += len(alignments)
        self.failed += [[plan.index, alignment.failure] for alignment in alignments if alignment.failure]
        if self.report is not None:
            from .core.align import report_row

            time = float(self._source.time_of(plan.frame))
            for partner, alignment in zip(plan.partners or (None,), alignments or (None,), strict=True):
                self.report.writerow(report_row(plan.index, time, plan.frame, partner, alignment))

    def merge(self, pairs: int, failed: list) -> None:
        """What ``--jobs`` processes report of their chunks (see ``parallel``): pairs, and [frame, why] unaligned."""
        self.pairs += pairs
        self.failed += failed

    def warnings(self) -> list[str]:
        if not self.failed:
            return []
        first = ", ".join(f"{frame} ({why})" for frame, why in self.failed[:3])
        more = "" if len(self.failed) <= 3 else ", ..."
        return [f"alignment failed for {len(self.failed)} of {self.pairs} frame pairs, which are compared as they "
                f"are: output frame {first}{more}"]


@contextlib.contextmanager
def _align_report(args: argparse.Namespace, protect: list) -> Iterator:
    """A csv writer for ``--align-report`` with its header written (``None`` without one); the file appears
    only when the render succeeds."""
    if args.align_report is None:
        yield None
        return
    import csv

    from .core.align import REPORT_COLUMNS
    from .media.text_output import text_output

    with text_output(args.align_report, protect, args.overwrite) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        yield writer


def _frames(args: argparse.Namespace, source, input_path: Path, settings: Settings, start: int, stop: int,
            output: Path, alignments: _AlignmentLog | None = None) -> Iterator:
    """The output frames ``[start, stop)``, from this process or from ``--jobs`` processes; ``alignments`` hears
    what ``--align`` did."""
    try:  # --data, --motiongram, --plot: their files are opened now, before the first frame
        recorder = motion_data.recorder(args, settings, source, input_path, output, start)
    except ValueError as error:
        raise UsageError(f"{source.path}: {error}") from None
    measures = None if recorder is None else recorder.measures
    if args.jobs == 1:
        frames = extract_motion(source, settings, start, stop, max_memory=args.max_memory,
                                on_alignment=None if alignments is None else alignments.heard, measure=measures)
    else:
        from .parallel import parallel_frames

        frames = parallel_frames(source, str(input_path), settings, start, stop, args.jobs, str(output),
                                 args.max_memory, RunError,
                                 on_alignment=None if alignments is None else alignments.heard,
                                 on_child_alignment=None if alignments is None else alignments.merge,
                                 measures=measures)
    return frames if recorder is None else motion_data.recorded(frames, recorder, settings, source, start)


def _render_with_blender(batch: ModuleType, stderr: TextIO, render: Callable[..., object], *args, **kwargs) -> None:
    """Call one of ``batch``'s renderers inside a :func:`_blender_session`, its errors turned into ours."""
    with _blender_session(batch, stderr):
        try:
            render(*args, **kwargs)
        except batch.VseSettingsError as error:
            raise UsageError(str(error)) from None
        except batch.VseRenderError as error:
            raise RunError(str(error)) from None


@contextlib.contextmanager
def _blender_session(batch: ModuleType, stderr: TextIO) -> Iterator[None]:
    """Around a Blender render: its per-frame console lines kept off stdout, and Ctrl-C that works.

    Blender prints "Saved: ..." and "Video append frame ..." on the process's stdout, which is
    for ``wrote PATH`` only, so file descriptor 1 points at the null device meanwhile. Blender's
    render loop cannot be cancelled from Python (an exception in a render handler is printed and
    dropped), so SIGINT and SIGTERM delete the partial output and end the process at once.
    """

    def stop_now(signum, frame) -> None:
        batch.clean_up_before_exit()
        stderr.write(INTERRUPTED)
        stderr.flush()
        os._exit(EXIT_SIGNAL + signum)

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, stop_now)
        except ValueError:  # not the main thread
            pass
    saved_stdout = _point_stdout_at_null()
    try:
        yield
    finally:
        _restore_stdout(saved_stdout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _point_stdout_at_null() -> int | None:
    """Send file descriptor 1 to the null device; returns a copy of the old one (``None`` if it has none)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        return None
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
    finally:
        os.close(null)
    return saved


def _restore_stdout(saved: int | None) -> None:
    if saved is None:
        return
    _flush_c_stdout()  # what Blender's printf left in the C library's buffer belongs to the null device
    os.dup2(saved, 1)
    os.close(saved)


def _flush_c_stdout() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (ImportError, OSError, TypeError, AttributeError):  # no C library handle (Windows): nothing buffered there
        pass


def _same_path(output: Path, input_path: Path | str) -> bool:
    if isinstance(input_path, str):  # a stream URL
        return False
    try:
        return output.resolve() == input_path.resolve() or (output.exists() and output.samefile(input_path))
    except OSError:
        return False


def run_command(prog: str, work: Callable[[], object], stderr: TextIO, interrupted: str) -> int:
    """Run ``work`` as a command: its errors become one line and an exit code, SIGTERM acts as Ctrl-C."""
    previous_handler = None
    try:
        try:
            previous_handler = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        except ValueError:  # not the main thread
            pass
        work()
    except UsageError as error:
        stderr.write(f"{prog}: error: {error}\n")
        return EXIT_USAGE
    except RunError as error:
        stderr.write(f"{prog}: error: {error}\n")
        return EXIT_FAILED
    except KeyboardInterrupt as error:
        stderr.write(interrupted)
        return EXIT_SIGNAL + (signal.SIGTERM if isinstance(error, _Terminated) else signal.SIGINT)
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run the command line; returns the exit code."""

    def work() -> None:
        args = build_parser().parse_args(argv)
        # The exact command, for the record a data file keeps (main always gets the script's arguments).
        args.command = ["python", str(REPO_ROOT / "scripts" / "motion_extract.py"), *(argv or [])]
        output = run(args, stdout, stderr)
        if output is not None and not args.quiet:
            report(stdout, f"wrote {output}\n")

    return run_command(PROG, work, stderr, INTERRUPTED)


def report(stdout: TextIO, line: str) -> None:
    """Write ``line`` to stdout; a closed or full stdout (``| true``, ``>/dev/full``) cannot fail a finished render."""
    try:
        stdout.write(line)
        stdout.flush()
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):  # spare Python's own complaint at exit
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stdout.fileno())
            os.close(null)


def script_arguments(argv: Sequence[str]) -> list[str]:
    """The script's own arguments, under ``blender -b --python script.py -- ...`` or plain Python."""
    if "bpy" in sys.modules and "--" in argv:
        return list(argv[argv.index("--") + 1 :])
    return list(argv[1:])

