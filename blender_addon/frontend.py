"""What every front end shares (the command line, the chunk join, the live viewer): exit codes, one-line
errors, the argument parser that says them, the effect options as flags, the terminal progress line, and
the safe write of a result line on stdout.

A front end turns its input into work and prints what it likes; this module keeps the way they speak
the same: ``PROG: error: ...`` on stderr and an exit code (0 success, 1 failure, 2 bad arguments,
128 + the signal's number when interrupted), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from .core.presets import PRESET_DESCRIPTIONS, PRESETS, preset_settings
from .core.settings import OPTIONS, OPTIONS_BY_NAME, Option, Settings, SettingsError
from .media.formats import CODECS
from .render.log import notes_enabled
from .render.request import (
    SECONDS_OWNERS,
    RenderError,
    RequestError,
    in_flag_terms,
    option_flag,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_SIGNAL = 128  # plus the signal's number when a render is interrupted, as a shell reports it
REPO_ROOT = Path(__file__).resolve().parent.parent
ALL_CODECS = tuple(CODECS)


class UsageError(RequestError):
    """A bad argument: exit code 2 (as is any bad render request)."""


class RunError(RenderError):
    """Input or output failed: exit code 1 (as does any failed render)."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (a :class:`UsageError`), not argparse's usage block."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see --help)")


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
# ``offset_seconds`` and its unit, ``render.request.SECONDS_OWNERS``) and a value of an on/off flag (``--tint orange``).
UNIT_OPTIONS = frozenset(option.unit for option in OPTIONS if option.unit)
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
    explicit = unfold({option.name: getattr(args, option.name) for option in explicit_options(args)})
    try:
        return preset_settings(args.preset, **explicit) if getattr(args, "preset", None) else Settings(**explicit)
    except SettingsError as error:
        raise UsageError(in_flag_terms(str(error))) from None


def unfold(given: dict[str, object]) -> dict[str, object]:
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


class Progress:
    """Frames done / total, speed and time left on stderr; a redrawn line on a terminal (cut to its width).
    With several inputs, the line also names those under way with their own frames done / total (a few; the
    others counted), so a run of a hundred inputs stays one readable line.

    With ``steps``, one line per frame instead, in the form Blender prints for a rendered frame
    (``Time: MM:SS.cc``): the line a render farm's worker (Flamenco's) counts as one step of its task.
    """

    SHOWN_INPUTS = 3  # inputs named on the line at most
    NAME_WIDTH = 20  # characters of an input's name shown at most

    def __init__(self, total: int, enabled: bool, stream: TextIO = sys.stderr, steps: bool = False) -> None:
        self.total, self.enabled, self.stream, self.steps = total, enabled, stream, steps
        self.interactive = stream.isatty()
        self.started = time.monotonic()
        self._last_shown = 0.0
        self._stepped, self._last_step = 0, self.started
        self._inputs: tuple[tuple[str, int, int], ...] = ()
        self._drawn = 0  # the redrawn line's length, so a shorter one covers it

    def under_way(self, inputs: Sequence[tuple[str, int, int]]) -> None:
        """The inputs being rendered now, each ``(name, its frames done, its frames)``, shown from the next
        :meth:`update` on."""
        self._inputs = tuple(inputs)

    def _inputs_text(self, room: int | None = None) -> str:
        """The inputs under way: as many as :data:`SHOWN_INPUTS` and ``room`` (characters) allow, the others
        counted."""
        if not self._inputs:
            return ""
        shown: list[str] = []
        for name, done, total in self._inputs[:self.SHOWN_INPUTS]:
            part = f"{_shortened(name, self.NAME_WIDTH)} {done}/{total}"
            more = len(self._inputs) - len(shown) - 1
            tail = f", {more} more]" if more else "]"
            if room is not None and len("  [" + ", ".join([*shown, part]) + tail) > room:
                break
            shown.append(part)
        more = len(self._inputs) - len(shown)
        if not shown:
            return f"  [{more} inputs under way]"
        return "  [" + ", ".join(shown) + (f", {more} more" if more else "") + "]"

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
        if self.interactive:  # one line, redrawn: never wider than the terminal, covering the last one
            width = max(shutil.get_terminal_size().columns - 1, 20)
            line = (line + self._inputs_text(width - len(line)))[:width]
            line, self._drawn = line.ljust(self._drawn), len(line)
        else:
            line += self._inputs_text()
        self.stream.write(f"\r{line}" if self.interactive else f"{line}\n")
        if self.interactive and done >= self.total:
            self.stream.write("\n")
            self._drawn = 0
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


def _shortened(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters: its start and end kept, the middle left out."""
    if len(name) <= width:
        return name
    keep = width - 3
    return f"{name[:keep - keep // 2]}...{name[len(name) - keep // 2:]}"


def progress_line(args: argparse.Namespace, stderr: TextIO) -> Progress:
    """The progress a front end's ``--progress``, ``--farm-progress`` and ``-q`` ask for (shown on a terminal by
    default)."""
    return Progress(0, enabled=(args.progress or args.farm_progress or stderr.isatty()) and not args.quiet,
                    stream=stderr, steps=args.farm_progress)


class _Lines(logging.Formatter):
    """``PROG: warning: ...`` for a warning, ``PROG: ...`` for a note."""

    def __init__(self, prog: str) -> None:
        super().__init__()
        self.prog = prog

    def format(self, record: logging.LogRecord) -> str:
        kind = "warning: " if record.levelno >= logging.WARNING else ""
        return f"{self.prog}: {kind}{record.getMessage()}"


@contextlib.contextmanager
def logging_to(stream: TextIO, prog: str, quiet: bool = False) -> Iterator[None]:
    """The package's notes and warnings on ``stream`` as ``prog``'s lines while the block runs (``quiet``:
    none; errors are the front end's own line)."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.ERROR if quiet else logging.INFO)
    handler.setFormatter(_Lines(prog))
    with notes_enabled() as logger:
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, which a render takes as Ctrl-C (and exits with the code a shell gives it)."""


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise _Terminated


def run_command(prog: str, work: Callable[[], object], stderr: TextIO, interrupted: str) -> int:
    """Run ``work`` as a command: its errors become one line and an exit code, SIGTERM acts as Ctrl-C (and
    ``interrupted`` is said, unless the interrupt carries ``written``: what was written before it)."""
    previous_handler = None
    try:
        try:
            previous_handler = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        except ValueError:  # not the main thread
            pass
        work()
    except RequestError as error:
        stderr.write(f"{prog}: error: {error}\n")
        return EXIT_USAGE
    except RenderError as error:
        stderr.write(f"{prog}: error: {error}\n")
        return EXIT_FAILED
    except KeyboardInterrupt as error:
        # What the work had finished before it was interrupted, when it says so (``error.written``).
        written = getattr(error, "written", None)
        stderr.write(f"\n{prog}: interrupted: {written}\n" if written else interrupted)
        return EXIT_SIGNAL + (signal.SIGTERM if isinstance(error, _Terminated) else signal.SIGINT)
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    return EXIT_OK


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


def command_line(argv: Sequence[str] | None, script: str) -> tuple[list[str], list[str]]:
    """A front end's arguments and, for the record a data file keeps, the command that gave them: ``argv``
    from the script ``scripts/SCRIPT`` beside the package, or (``None``) this process's own, as an installed
    command such as ``motion-extract`` (pyproject.toml's entry points) is run."""
    if argv is None:
        arguments = script_arguments(sys.argv)
        return arguments, [os.path.basename(sys.argv[0]), *arguments]
    return list(argv), ["python", str(REPO_ROOT / "scripts" / script), *argv]
