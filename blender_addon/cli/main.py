"""The command line's run: arguments to an output path, the checks made before anything renders, and
which engine renders (see the package's notes)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TextIO

from ..core.rates import exact_rate
from ..core.settings import OPTIONS_BY_NAME, Option, Settings, SettingsError
from ..frontend import (
    UNIT_OPTIONS,
    RunError,
    UsageError,
    command_line,
    explicit_options,
    has_own_flag,
    logging_to,
    option_flag,
    preset_listing,
    progress_line,
    report,
    run_command,
    settings_from_args,
    unfold,
)
from ..media.ffmpeg_command import ffmpeg_command
from ..media.names import ffmpeg_input_arguments, is_url
from ..media.publish import input_overlap
from ..render import EncodeOptions, RenderRequest, RenderResult, RequestError, in_frames, load_media, render
from ..render.exact import choose_math
from ..render.request import chunk_tag, in_flag_terms
from . import data_arguments
from .arguments import (
    INTERRUPTED,
    PROG,
    SAMPLE_CLIPS,
    SAMPLES,
    build_parser,
)
from .batch import ClusterRunner, run_batch
from .batch import wanted as batch_wanted
from .blender import _render_with_blender, _say, _vse_batch, _vse_can_render
from .outputs import check_align_report, check_stream, default_output, request_from_args


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
    from ..core.sample_clip import HandheldClip, SampleClip, write_tick_track

    media = load_media()
    options = dict(SAMPLE_CLIPS.get(name, {}))
    clip = (HandheldClip if options.pop("handheld", False) else SampleClip)(**options)
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


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO,
        cluster: ClusterRunner | None = None) -> Path | None:
    """Do what the arguments ask; returns the path written, or ``None`` when nothing was rendered."""
    if args.list_presets:
        stdout.write(preset_listing())
        return None
    if batch_wanted(args):
        run_batch(args, settings_from_args(args), stdout, stderr, cluster)
        return None
    args.input = args.input[0] if args.input else None
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
    overlap = input_overlap(output, [input_path])
    if overlap:
        raise UsageError(overlap)
    problem = data_arguments.refusal(args, args.engine, args.print_ffmpeg) or data_arguments.look_refusal(
        settings, args.engine, args.print_ffmpeg)
    if problem:
        raise UsageError(problem)
    if args.print_ffmpeg:
        if args.frames != (None, None):
            raise UsageError("--frames: --print-ffmpeg prints the command for the whole clip; leave --frames out")
        if args.jobs > 1:
            raise UsageError("--jobs: --print-ffmpeg prints one ffmpeg command; leave --jobs out")
        if args.sample:  # the printed command reads the sample clip: it must exist
            ensure_sample_clip(args.sample)
        _print_ffmpeg(settings, input_path, output, stdout, stderr, (args.codec, args.crf, args.encoder_preset),
                      sound=not args.no_audio, math=args.math)
        return None
    batch = _vse_batch() if choose_engine(args.engine, args) == "vse" else None
    check_stream(args, input_path, batch is not None)
    if batch is not None and args.math != "auto":
        raise UsageError("--math chooses how the exact engine computes the look; leave it out with --engine vse")
    if args.jobs > 1 and batch is not None:
        raise UsageError("--jobs renders files with the exact engine, not with --engine vse")
    check_align_report(args, settings, batch is not None, output, input_path)
    if args.sample:
        ensure_sample_clip(args.sample)
    progress = progress_line(args, stderr)
    if batch is not None:
        expected, warnings = _vse_can_render(input_path)
        _render_with_blender(
            batch, stderr, batch.render_with_vse, input_path, output, settings, args.frames[0] or 0, args.frames[1],
            progress=progress.update, overwrite=args.overwrite, expected_frames=expected,
            report=None if args.quiet else lambda line: stderr.write(f"{PROG}: {line}\n"),
        )
        _say(warnings)  # once rendered: a refusal of the sequencer's says why alone
    else:
        result = render(request_from_args(args, settings, input_path, output), progress.update)
        if not args.quiet:
            stderr.write(f"{PROG}: {summary(result)}\n")
    return output


def summary(result: RenderResult) -> str:
    """The render's summary line: its frames and the path its look took (and what sent it to the RGB path)."""
    count = result.frames[1] - result.frames[0]
    if result.math == "planar":
        return f"rendered {count} frames on the planar path (the look on the 4:2:0 planes as decoded)"
    why = f": {', '.join(result.rgb_reasons)}" if result.rgb_reasons else " (--math rgb)"
    return f"rendered {count} frames on the RGB path{why}"


def _refuse_options_that_do_nothing(args: argparse.Namespace, settings: Settings) -> None:
    """An option given where it does nothing (the option table's ``applies_with``: ``--mix`` with another look than
    gray, ``--glow-radius`` without ``--glow``): say so rather than ignore it. Values from a preset, and switching
    an on/off option off, are let be."""

    def flag(option: Option) -> str:
        return option_flag(option) if has_own_flag(option) else option.label.lower()

    given = unfold({option.name: getattr(args, option.name) for option in explicit_options(args)})
    for name, value in given.items():
        unmet = () if value is False or name in UNIT_OPTIONS else OPTIONS_BY_NAME[name].unmet(settings)
        if unmet:
            needed = OPTIONS_BY_NAME[unmet[0].name]
            have = getattr(settings, needed.name)
            have = ("on" if have else "off") if needed.kind is bool else f"{have:g}" if needed.kind is float else have
            raise UsageError(in_flag_terms(f"{name} applies with {' and '.join(when.text(flag) for when in unmet)} "
                                           f"only; this render has {flag(needed)} {have}"))


def _print_ffmpeg(settings: Settings, input_path: Path, output: Path, stdout: TextIO, stderr: TextIO,
                  encoder: tuple[str | None, int | None, str | None] = (None, None, None), sound: bool = True,
                  math: str = "auto") -> None:
    """The ffmpeg command of the graph for the path a render would take (``math``, as ``--math`` chooses it)."""
    media = load_media()
    try:
        source = media.open_source(input_path)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    settings = in_frames(settings, source.rate)
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
        planar = choose_math(RenderRequest(input_path, output, settings, encode=EncodeOptions(*encoder), math=math),
                             source, settings)[0] == "planar"
        command = ffmpeg_command(settings, str(input_path), str(output), source.frame_count, source.fps,
                                 input_arguments, (source.width, source.height), *encoder, sound=sound, planar=planar)
    except (SettingsError, media.MediaError, RequestError) as error:
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
    output = Path(args.output) if args.output else blend.parent / f"{blend.stem}_render{chunk_tag(args.frames)}.mp4"
    overlap = input_overlap(output, [blend])
    if overlap:
        raise UsageError(overlap)
    batch = _vse_batch()
    _render_with_blender(
        batch, stderr, batch.render_blend_file, blend, output, args.frames[0] or 0, args.frames[1],
        progress=progress_line(args, stderr).update, overwrite=args.overwrite,
    )
    return output


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr,
         cluster: ClusterRunner | None = None) -> int:
    """Run the command line on ``argv`` (``None``: this process's arguments); returns the exit code."""
    arguments, command = command_line(argv, "motion_extract.py")

    def work() -> None:
        args = build_parser().parse_args(arguments)
        args.command = command
        with logging_to(stderr, PROG, args.quiet):
            output = run(args, stdout, stderr, cluster)
        if output is not None and not args.quiet:
            report(stdout, f"wrote {output}\n")

    return run_command(PROG, work, stderr, INTERRUPTED)
