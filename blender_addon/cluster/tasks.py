"""What a cluster's workers run: each task gets a render request (never a command line) and returns a small record.

- :func:`render_chunk`: output frames ``[A, B)`` of an input as a lossless chunk (FFV1 ``.mkv``, no
  sound; on the path the whole render takes, its 4:2:0 planes or RGB; with a spectrum, its motion signals
  beside it) in the input's work folder, under a name of this attempt's own, so a rescheduled or retried
  attempt never meets what an earlier one left;
- :func:`join_chunks`: the chunks of one input joined into its output (``render.chunk_join``, one encode
  with the input's sound, and the spectrum from the chunks' signals), published atomically as every output is;
- :func:`render_whole`: an input rendered in one task, for renders that record motion data, a frequency map or
  an alignment report (their files follow the frames in order, in one process);
- :func:`storage_problem`: whether this worker sees the inputs and the output folders.

Progress goes to the client as worker events (``run``'s topic), a few a second; cancelling is the run's
:class:`distributed.Event`, looked at twice a second, which stops the render at its next frame.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from ..media.errors import MediaError
from ..media.publish import publish
from ..render import (
    DataRequest,
    EncodeOptions,
    FrequencyRequest,
    RenderCancelled,
    RenderError,
    RenderRequest,
    RequestError,
    render,
    whole_render_math,
)
from ..render.chunk_join import join

CHUNK_EXTENSION = ".mkv"  # FFV1: lossless, so the join gives the whole render's frames
PROGRESS_EVERY = 0.5  # seconds between a task's progress events
CANCEL_POLL = 0.5  # seconds between a task's looks at the run's cancel event
T = TypeVar("T")


class TaskFailure(Exception):
    """A task's failure as it travels to the client: its ``kind`` (``"request"``, ``"render"`` or ``"cancelled"``)
    and its one-line ``message``, two strings, which Dask always sends whole."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(kind, message)
        self.kind, self.message = kind, message

    def __str__(self) -> str:
        return self.message


def _plain_errors(task: Callable[..., T]) -> Callable[..., T]:
    """``task`` with its failure raised again as a :class:`TaskFailure`, unchained: Dask sends a task's exception
    with its chain, and one in the chain that cannot be rebuilt on the client (an exception with arguments of its
    own, such as the engine's "source ended early") turns the whole into a Python repr."""

    @functools.wraps(task)
    def plain(*args):
        try:
            return task(*args)
        except RenderCancelled as error:
            failure = TaskFailure("cancelled", _line(error))
        except RequestError as error:
            failure = TaskFailure("request", _line(error))
        except (RenderError, MediaError) as error:  # a MediaError: publishing
            failure = TaskFailure("render", _line(error))
        raise failure  # outside the handler: no chain

    return plain


def _line(error: BaseException) -> str:
    """An error's first line (its kind's name when it says nothing)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def topic(run: str) -> str:
    """The worker-event topic that carries a run's progress."""
    return f"motion-extraction-progress-{run}"


def cancel_event_name(run: str) -> str:
    return f"motion-extraction-cancel-{run}"


@_plain_errors
def render_chunk(request: RenderRequest, folder: str, run: str, task: str) -> str:
    """Render ``request``'s frames into a chunk of this attempt's own in ``folder``; returns its path."""
    first, stop = request.frames
    path = Path(folder) / f"chunk-{first:07d}-{stop:07d}-{secrets.token_hex(4)}{CHUNK_EXTENSION}"
    frequency = FrequencyRequest(band=request.frequency.band, signals=request.frequency.chunk_signals)
    chunk = replace(request, output=path, sound=False, jobs=1, encode=EncodeOptions(),
                    data=DataRequest(regions=request.data.regions), frequency=frequency, align_report=None,
                    overwrite=False, math=whole_render_math(request))
    with _watched(run, task) as (progress, cancelled):
        render(chunk, progress, cancelled)
    return str(path)


@_plain_errors
def join_chunks(chunks: list[str], request: RenderRequest, run: str, task: str) -> str:
    """Join ``chunks`` (the paths :func:`render_chunk` returned) into ``request``'s output; returns its path."""
    encode = request.encode
    with _watched(run, task) as (progress, _):
        join(chunks, str(request.output), str(request.input) if request.sound else None, encode.codec, encode.crf,
             encode.encoder_preset, request.overwrite, progress=progress, spectrum=request.frequency.spectrum,
             spectrum_plot=request.frequency.spectrum_plot)
    return str(request.output)


@_plain_errors
def render_whole(request: RenderRequest, folder: str, run: str, task: str) -> str:
    """Render ``request`` in this task (with its data files and report); returns its output's path.

    The render writes into a folder of this attempt's own inside ``folder`` (each output folder a
    subfolder of it), and its files move to their places only once all are complete: an attempt whose
    worker died leaves its files in ``folder``, which the client removes."""
    attempt = Path(folder) / f"attempt-{secrets.token_hex(4)}"
    finals = request.outputs
    places = {parent: attempt / str(index) for index, parent in enumerate(dict.fromkeys(f.parent for f in finals))}
    for place in places.values():
        place.mkdir(parents=True)

    def inside(path: str | None) -> str | None:
        return None if path is None else str(places[Path(path).parent] / Path(path).name)

    data, frequency = request.data, request.frequency
    here = replace(request, output=Path(inside(str(request.output))), jobs=1, overwrite=False,
                   data=replace(data, data=inside(data.data), motiongram=inside(data.motiongram),
                                plot=inside(data.plot)),
                   frequency=replace(frequency, spectrum=inside(frequency.spectrum),
                                     spectrum_plot=inside(frequency.spectrum_plot),
                                     frequency_map=inside(frequency.frequency_map)),
                   align_report=inside(request.align_report))
    with _watched(run, task) as (progress, cancelled):
        render(here, progress, cancelled)
    for final_folder, place in places.items():
        for name in sorted(os.listdir(place)):
            publish(str(place / name), str(final_folder / name), request.overwrite)
    return str(request.output)


def storage_problem(inputs: list[str], folders: list[str], probe: str) -> str | None:
    """The first path this worker cannot see as the client does (``None`` when it sees them all): an input it
    cannot read, an output folder it cannot write, or the client's ``probe`` file missing from the first
    folder (the same path, another disk)."""
    for path in inputs:
        if not os.access(path, os.R_OK):
            return path
    for folder in folders:
        if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            return folder
    return None if os.path.exists(probe) else os.path.dirname(probe)


@contextlib.contextmanager
def _watched(run: str, task: str) -> Iterator[tuple]:
    """A progress callable that sends events to the client, and a :class:`threading.Event` set when the run is
    cancelled; outside a worker (a test calling a task directly), neither does anything."""
    try:
        from distributed import Event, get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        yield None, None
        return
    cancelled, stop = threading.Event(), threading.Event()
    attempt = secrets.token_hex(4)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            worker.log_event(topic(run), {"task": task, "attempt": attempt, "done": done, "total": total})

    def watch() -> None:
        event = Event(cancel_event_name(run))
        while not stop.wait(CANCEL_POLL):
            with contextlib.suppress(Exception):  # a scheduler gone: the client ends the run
                if event.is_set():
                    cancelled.set()
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield progress, cancelled
    finally:
        stop.set()
