"""What a render is asked (:class:`RenderRequest`), what it gives back (:class:`RenderResult`), and how it fails.

A front end (the command line, Bake Motion, a farm task) turns its own input into a request; the
errors name options by their command-line flags (``--glow-radius``), the one spelling every front
end shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..core.engine import DEFAULT_MAX_MEMORY
from ..core.frequency import FrequencyReport
from ..core.measures import Region
from ..core.settings import OPTIONS, OPTIONS_BY_NAME, Option, Settings
from ..media.names import data_files
from ..media.publish import input_overlap


class RequestError(Exception):
    """A request the render cannot honour (a bad option, name or frame range): a front end's exit code 2."""


class RenderError(Exception):
    """The render failed (an unreadable input, an unwritable output, a failed process): exit code 1."""


class RenderCancelled(Exception):
    """The render was cancelled through its event; it left nothing behind."""


@dataclass(frozen=True)
class EncodeOptions:
    """A movie output's encoder options; ``None`` is the container's default."""

    codec: str | None = None
    crf: int | None = None
    encoder_preset: str | None = None

    @property
    def given(self) -> bool:
        return (self.codec, self.crf, self.encoder_preset) != (None, None, None)


@dataclass(frozen=True)
class DataRequest:
    """The motion data a render also writes (``--data``, ``--motiongram``, ``--plot``), what it measures
    (regions, threshold) and ``command``, the record a data file keeps of how it was made."""

    data: str | None = None
    motiongram: str | None = None
    plot: str | None = None
    regions: tuple[Region, ...] = ()
    threshold: int | None = None
    command: tuple[str, ...] | None = None

    @property
    def wanted(self) -> bool:
        return any((self.data, self.motiongram, self.plot))

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for path in (self.data, self.motiongram, self.plot) if path)

    @property
    def files(self) -> tuple[str, ...]:
        """Every file these outputs write: a CSV's record and a motiongram's pictures too."""
        return tuple(file for kind, path in (("data", self.data), ("motiongram", self.motiongram),
                                             ("plot", self.plot)) if path for file in data_files(path, kind))


MATHS = ("auto", "rgb", "planar")  # how the look is computed: see RenderRequest.math


@dataclass(frozen=True)
class FrequencyRequest:
    """How fast things move back and forth, which a render also writes: ``spectrum`` (each region's spectrum and
    dominant frequency, .json or .csv), ``spectrum_plot`` and ``frequency_map`` (.png), within ``band`` (Hz;
    ``None``: all a segment can show). The regions are the motion data's (``DataRequest.regions``)."""

    spectrum: str | None = None
    spectrum_plot: str | None = None
    frequency_map: str | None = None
    band: tuple[float, float] | None = None
    signals: bool = False  # a chunk movie records its motion signals even without a spectrum of its own

    @property
    def wanted(self) -> bool:
        """Whether the render reads the input's motion for a frequency (its files, or a chunk's signals)."""
        return any(self.paths) or self.signals

    @property
    def chunk_signals(self) -> bool:
        """Whether a chunk movie (``frames`` short of the whole render) records its motion signals beside it
        (``render.chunk_record.ChunkSignals``), from which the chunk join takes the whole render's spectrum."""
        return self.signals or bool(self.spectrum or self.spectrum_plot)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for path in (self.spectrum, self.spectrum_plot, self.frequency_map) if path)


@dataclass(frozen=True)
class RenderRequest:
    """One exact render: ``input`` (a file, folder, pattern or stream URL) with ``settings`` into ``output``.

    ``frames`` is a half-open range of output frames (either end ``None``); ``fps`` replaces the input's
    frame rate (Blender's scene rate for an image sequence); ``jobs`` processes share ``max_memory``.
    ``math``: ``"auto"`` computes the look on the decoded 4:2:0 planes where nothing needs RGB (the planar path,
    ``core.planar``), else in RGB; ``"rgb"`` always in RGB, the reference; ``"planar"`` refuses a render that
    cannot take the planar path.
    """

    input: Path | str
    output: Path
    settings: Settings
    frames: tuple[int | None, int | None] = (None, None)
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    sound: bool = True
    jobs: int = 1
    max_memory: int = DEFAULT_MAX_MEMORY
    data: DataRequest = field(default_factory=DataRequest)
    frequency: FrequencyRequest = field(default_factory=FrequencyRequest)
    align_report: str | None = None
    overwrite: bool = False
    fps: Fraction | None = None
    math: str = "auto"

    @property
    def outputs(self) -> tuple[Path, ...]:
        """Every file the render writes: the output, then its data (with a CSV's record and a motiongram's
        pictures), frequency and report files."""
        return (Path(self.output), *map(Path, self.data.files), *map(Path, self.frequency.paths),
                *(() if self.align_report is None else (Path(self.align_report),)))

    def shared_output(self) -> str | None:
        """Why two of the files this render writes are one file (one line), or ``None``."""
        seen: dict[str, Path] = {}
        for path in self.outputs:
            key = os.path.realpath(path)
            if key in seen:
                same = "" if seen[key] == path else f" (as {seen[key]})"
                return f"{path}{same}: this render would write it twice: give each output its own file"
            seen[key] = path
        return None

    def output_problem(self, inputs: list[Path | str]) -> str | None:
        """Why this render's files cannot be written beside ``inputs`` (one line), or ``None``: a file it would
        write twice, or one that would overwrite or join one of ``inputs`` (for a front end of several inputs,
        another input's output named as an input)."""
        return self.shared_output() or next(
            filter(None, (input_overlap(path, inputs) for path in self.outputs)), None)

    @property
    def joinable(self) -> bool:
        """Whether chunks and their join can write all this render writes: its movie, and a spectrum (from the
        signals the chunks carry); motion data, a frequency map and an alignment report follow the frames in one
        process."""
        return not (self.data.wanted or self.frequency.frequency_map or self.align_report)


@dataclass(frozen=True)
class AlignmentSummary:
    """What ``--align`` did: the frame pairs aligned, and those it could not (``(output frame, why)`` each)."""

    pairs: int
    failed: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RenderResult:
    """What a render wrote: the paths it was asked for (the output first, then its data files and alignment
    report, as named in the request), its output frames ``[start, stop)``, the notes and warnings it logged
    (in order), with ``--align``, what the alignment did, with a frequency output, what it found; ``math``, the path
    the look took (``"planar"`` or ``"rgb"``), and ``rgb_reasons``, what sent it to the RGB path (empty when it was
    asked for)."""

    written: tuple[Path, ...]
    frames: tuple[int, int]
    warnings: tuple[str, ...]
    alignment: AlignmentSummary | None = None
    frequency: FrequencyReport | None = None  # with a frequency output: each region's dominant frequency
    math: str = "rgb"
    rgb_reasons: tuple[str, ...] = ()


# Options reached through another option's flag: a time in seconds (``--offset 0.5s`` sets
# ``offset_seconds`` and its unit) and a value of an on/off flag (``--tint orange``).
SECONDS_OWNERS = {option.seconds: option for option in OPTIONS if option.seconds}


def option_flag(option: Option) -> str:
    """The command-line flag of a setting: ``glow_radius`` -> ``--glow-radius``."""
    return "--" + option.name.replace("_", "-")


def in_flag_terms(message: str) -> str:
    """A settings message told with the flag of the option it starts with (``glow_radius`` -> ``--glow-radius``)."""
    name = message.split(" ", 1)[0]
    if name in SECONDS_OWNERS:
        return option_flag(SECONDS_OWNERS[name]) + " (in seconds)" + message[len(name):]
    if name in OPTIONS_BY_NAME and OPTIONS_BY_NAME[name].value_of:  # tint_colour -> --tint COLOUR
        return f"{option_flag(OPTIONS_BY_NAME[OPTIONS_BY_NAME[name].value_of])} COLOUR{message[len(name):]}"
    return option_flag(OPTIONS_BY_NAME[name]) + message[len(name):] if name in OPTIONS_BY_NAME else message


def output_tag(settings: Settings, frames: tuple[int | None, int | None] = (None, None)) -> str:
    """What a default output name adds to its input's: ``_motion_<look>_<mode><N>[_framesA-B]``."""
    return f"_motion_{settings.describe()}{chunk_tag(frames)}"


def chunk_tag(frames: tuple[int | None, int | None]) -> str:
    """``_framesA-B`` for a range of output frames, empty for the whole render."""
    return "" if frames == (None, None) else f"_frames{frames[0] or 0}-{frames[1] or 'end'}"
