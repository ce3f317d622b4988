"""Several inputs in one command, here or on a Dask cluster: ``INPUT... -o FOLDER/ [--jobs N] [--cluster ADDRESS]``.

Each input's movie and side files (``--data``, ``--plot``, ``--motiongram``, ``--spectrum``,
``--spectrum-plot``, ``--frequency-map``, ``--align-report``) go into FOLDER, the movie under the name a
single render gives it by default, the side files after it (``<movie stem>.csv``, ``<movie stem>_plot.png``,
``<movie stem>_motiongram.png``, ``<movie stem>_spectrum.json``, ``<movie stem>_spectrum_plot.png``,
``<movie stem>_frequency_map.png``, ``<movie stem>_align.csv``; the extension from the name given)),
so two inputs with one base name (``a/clip.mp4``, ``b/clip.mp4``) are refused up front, before anything
renders, rather than written over each other. Without a cluster the inputs render one after another,
each with ``--jobs``; with ``--cluster`` the ``cluster`` package spreads them (and their chunks) over
the workers. A bad input fails alone: the others finish, a line per failure sums up, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from ..core.settings import Settings
from ..frontend import RunError, UsageError, progress_line, report
from ..media.names import is_url
from ..render import RenderError, RenderRequest, RequestError, planned_frames, render
from . import data_arguments
from .arguments import PROG
from .outputs import check_align_report, check_stream, default_output, request_from_args


def wanted(args: argparse.Namespace) -> bool:
    """Whether the arguments ask for the batch: several inputs, or a cluster."""
    return len(args.input) > 1 or args.cluster is not None


# The cluster front end's runner (``cluster.run_requests``), handed in by whoever starts the command line
# (``scripts/motion_extract.py``): the front ends stand apart. It hears the address, the requests, the chunks
# per input (0: its choice), then progress ``(done, total)``, each input's end ``(request, error)``, notes,
# and the inputs under way (``(name, done, total)`` each).
ClusterRunner = Callable[[str, list[RenderRequest], int, Callable, Callable, Callable, Callable], None]


def run_batch(args: argparse.Namespace, settings: Settings, stdout: TextIO, stderr: TextIO,
              cluster: ClusterRunner | None = None) -> None:
    """Render every input of ``args`` (on ``cluster`` with ``--cluster``); see the module's notes. :class:`RunError`
    when any failed."""
    if args.cluster is not None and cluster is None:
        raise UsageError("--cluster: run scripts/motion_extract.py, which starts the command line with its cluster "
                         "front end")
    requests = plan(args, settings)
    progress = progress_line(args, stderr)
    failures: list[str] = []
    written: list[RenderRequest] = []

    def finished(request: RenderRequest, error: str | None) -> None:
        if error is not None:
            if str(request.input) not in error:
                error = f"{request.input}: {error}"
            failures.append(error)
            stderr.write(f"{PROG}: error: {error}\n")
        else:
            written.append(request)
            if not args.quiet:
                report(stdout, f"wrote {request.output}\n")

    try:
        if args.cluster is None:
            _run_here(requests, progress.update, finished, progress.under_way)
        else:
            def note(line: str) -> None:
                if not args.quiet or line.startswith("warning"):
                    stderr.write(f"{PROG}: {line}\n")

            cluster(args.cluster, requests, args.jobs if args.jobs > 1 else 0, progress.update, finished, note,
                    progress.under_way)
    except KeyboardInterrupt as interrupt:
        if written:
            interrupt.written = _written_before(written, len(requests))
        raise
    if failures:
        raise RunError(f"{len(failures)} of {len(requests)} inputs failed (each named above)")


def _written_before(written: list[RenderRequest], inputs: int) -> str:
    """What an interrupted batch leaves: the inputs it finished, whose files stay, complete."""
    shown = ", ".join(str(request.output) for request in written[:3]) + (
        f" and {len(written) - 3} more" if len(written) > 3 else "")
    whose = "its" if len(written) == 1 else "their"
    sides = f" with {whose} side files" if any(len(request.outputs) > 1 for request in written) else ""
    return (f"{len(written)} of {inputs} inputs were written before it and stay ({shown}{sides}); the others "
            "were not written")


def plan(args: argparse.Namespace, settings: Settings) -> list[RenderRequest]:
    """Each input's request, with its output and side files named; :class:`UsageError` for what cannot be."""
    # A stream URL stays text: as a Path, "http://host/a" would become "http:/host/a".
    inputs = [name if is_url(name) else Path(name) for name in args.input]
    for flag, given in (("--sample", args.sample), ("--blend", args.blend), ("--print-ffmpeg", args.print_ffmpeg),
                        ("--frames", args.frames != (None, None)), ("--engine vse", args.engine == "vse")):
        if given:
            raise UsageError(f"{flag}: not with several inputs or --cluster (render such inputs one by one)")
    problem = data_arguments.refusal(args, "exact", False) or data_arguments.look_refusal(settings, "exact", False)
    if problem:
        raise UsageError(problem)
    folder = _folder(args)
    seen: dict[str, Path] = {}
    requests = []
    for path in inputs:
        check_stream(args, path)
        key = path if isinstance(path, str) else os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{path}: given twice")
        seen[key] = path
        if folder is None:
            output = Path(args.output) if args.output else default_output(path, settings, args.frames, False)
        else:
            output = folder / default_output(path, settings, args.frames, False).name
        check_align_report(args, settings, False, output, path)
        request = request_from_args(args, settings, path, output)
        requests.append(_side_files(args, request) if folder is not None else request)
    _refuse_shared_names(requests)
    return requests


def _folder(args: argparse.Namespace) -> Path | None:
    """The output folder of several inputs, or of one given ``-o FOLDER/`` (``None`` for one input's file)."""
    if len(args.input) == 1 and not (args.output and (args.output.endswith(("/", os.sep))
                                                       or Path(args.output).is_dir())):
        return None
    if not args.output:
        raise UsageError("several inputs write into a folder: give -o FOLDER/")
    folder = Path(args.output)
    if not (args.output.endswith(("/", os.sep)) or folder.is_dir()):
        raise UsageError(f"-o {args.output}: several inputs write into a folder: end it with / (-o {args.output}/)")
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    return folder


def _side_files(args: argparse.Namespace, request: RenderRequest) -> RenderRequest:
    """``request`` with its side files named after its movie, in its folder."""
    base = request.output.with_suffix("")

    def named(given: str | None, tail: str) -> str | None:
        return None if given is None else f"{base}{tail}{Path(given).suffix.lower()}"

    data, frequency = request.data, request.frequency
    return replace(request, data=replace(data, data=named(data.data, ""), motiongram=named(data.motiongram,
                                                                                          "_motiongram"),
                                         plot=named(data.plot, "_plot")),
                   frequency=replace(frequency, spectrum=named(frequency.spectrum, "_spectrum"),
                                     spectrum_plot=named(frequency.spectrum_plot, "_spectrum_plot"),
                                     frequency_map=named(frequency.frequency_map, "_frequency_map")),
                   align_report=named(request.align_report, "_align"))


def _refuse_shared_names(requests: list[RenderRequest]) -> None:
    """Two inputs that would write one file (the same base name), a render that would write one file twice, and
    any file written over an input (another input's output named as an input) are refused before anything
    renders."""
    inputs = [request.input for request in requests]
    owners: dict[str, RenderRequest] = {}
    for request in requests:
        problem = request.output_problem(inputs)
        if problem:
            raise UsageError(problem)
        for path in request.outputs:
            key = os.path.abspath(path)
            other = owners.setdefault(key, request)
            if other is not request:
                raise UsageError(f"{other.input} and {request.input} would both write {path}: rename one of them "
                                 "or render them into different folders")


def _run_here(requests: list[RenderRequest], progress, finished, under_way=None) -> None:
    """The inputs one after another in this process (each with its ``--jobs``); a failure is its input's only.
    ``under_way`` hears the input being rendered, ``(name, its frames done, its frames)``, before each progress."""
    planned: list[tuple[RenderRequest, int | None, str | None]] = []
    for request in requests:
        try:
            start, stop, _ = planned_frames(request)
            planned.append((request, stop - start, None))
        except (RenderError, RequestError) as error:
            planned.append((request, None, str(error)))
    total = sum(frames or 0 for _, frames, _ in planned)
    done = 0
    for request, frames, error in planned:
        if error is None:
            try:
                def heard(count: int, of: int, before: int = done, name: str = Path(str(request.input)).name):
                    if under_way is not None:
                        under_way(((name, count, of),))
                    progress(before + count, total)

                render(request, heard)
                done += frames or 0
            except (RenderError, RequestError) as failure:
                error = str(failure)
            if under_way is not None:
                under_way(())
        finished(request, error)
