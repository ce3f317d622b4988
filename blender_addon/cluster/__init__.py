"""Renders spread over a Dask cluster (``motion_extract.py INPUT... --cluster ADDRESS|local[:N]``).

Beside the command line, below it: :func:`run` takes render requests (one per input, as the command
line names them) and gives each input's :class:`Outcome`. It imports core, media and render, and
Dask's ``distributed`` only here, when a cluster is asked for; the extension never imports it.

- Many inputs are many tasks, each rendering its input whole; an input is split into chunks as
  ``--jobs`` splits a render (``core.chunks.split_for_jobs``) when ``jobs`` asks for them, or when the
  inputs are fewer than the workers (so that every worker has work). Each chunk is a task
  (``tasks.render_chunk``, retried when it raises; the scheduler reschedules one whose worker died)
  writing a lossless chunk under a name of its attempt's own in a hidden work folder beside the
  output; the input's join is a task that depends on its chunks' futures and publishes the output
  atomically; with a spectrum, each chunk carries its motion signals and the join takes the spectrum from
  them. A render with other side files (motion data, a frequency map, an alignment report) is one task (its
  files follow the frames in order).
- Before the first task, every worker must see the inputs and the output folders under the client's
  paths (shared storage): a worker that does not is named with the path, and nothing starts.
- Progress comes back as worker events: the frames done of all inputs, and of each input under way.
  Ctrl-C sets the run's cancel event (each task stops at its next frame), cancels every future and
  removes the work folders; whatever a dead attempt left is removed with its input's work folder once
  the input is done.
- A bad input fails alone (its :class:`Outcome` says why in one line); a scheduler that goes away ends
  the run with a :class:`RenderError`: an output is published complete or not at all (a worker may
  still finish the task it had), and the work folders are removed.
- ``local[:N]`` starts N worker processes (default: the cores) with the scheduler, the workers and the
  dashboard listening on the loopback address only: a scheduler runs whatever its clients send.
  ``tls://`` takes Dask's security settings (its configuration's ``distributed.comm.tls`` entries,
  ``DASK_DISTRIBUTED__COMM__TLS__...`` in the environment); a plain ``tcp://`` on another host is warned of.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import secrets
import shutil
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..core.chunks import split_for_jobs
from ..media.errors import MediaError
from ..media.publish import check_output, process_alive, remove_created
from ..render import RenderError, RenderRequest, RequestError, planned_frames
from ..render.jobs import MIN_CHUNK
from . import tasks

RETRIES = 2  # a task that raised runs this many more times (a worker that died is the scheduler's to count)
CONNECT_TIMEOUT = "10s"
CANCEL_GRACE = 10.0  # seconds the running tasks get to stop after Ctrl-C before their folders are removed
WORK_TAIL = ".cluster-"  # hidden work folders: .<output name>.cluster-<client's host>-<its process id>-<run>


@dataclass(frozen=True)
class Outcome:
    """One input's end: ``error`` is ``None`` when its output was written, else one line saying why not."""

    request: RenderRequest
    error: str | None = None
    frames: int = 0


def _distributed():
    try:
        import distributed
    except ImportError:
        raise RequestError("--cluster needs Dask's distributed: pip install -r requirements.txt") from None
    return distributed


def local_workers(address: str) -> int | None:
    """The worker count of ``local`` or ``local:N`` (``0``: one per core), ``None`` for a scheduler's address;
    :class:`RequestError` for a bad ``N``."""
    if address != "local" and not address.startswith("local:"):
        return None
    count = address.partition(":")[2]
    if count and (not count.isdigit() or int(count) < 1):
        raise RequestError(f"--cluster {address}: use local or local:N with N 1 or more")
    return int(count) if count else 0


def _split(address: str) -> urllib.parse.SplitResult:
    """A scheduler's address in its parts (``tcp://`` where it names no protocol, as Dask takes it)."""
    return urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}")


def check_address(address: str) -> None:
    """Refuse in one line (:class:`RequestError`) a scheduler's address Dask cannot take: one without a host or a
    port, another protocol than ``tcp://`` or ``tls://``, ``tls://`` without Dask's certificate settings."""
    if local_workers(address) is not None:
        return
    parts = _split(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise RequestError(f"--cluster {address!r}: give a scheduler's address with its port (tcp://HOST:8786 or "
                           "tls://HOST:8786) or local[:N]")
    if parts.scheme == "tls":
        from distributed.security import Security

        try:
            context = Security().get_connection_args("client")["ssl_context"]
        except Exception as error:  # a certificate file Dask cannot read
            raise RequestError(f"--cluster {address}: Dask's TLS settings: {error}") from None
        if context is None:
            raise RequestError(f"--cluster {address}: tls:// needs Dask's certificate settings "
                               "(DASK_DISTRIBUTED__COMM__TLS__CA_FILE and DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT; "
                               "see the README)")


def insecure_warning(address: str) -> str | None:
    """The warning a plain ``tcp://`` scheduler on another host deserves (``None`` for TLS or the loopback)."""
    parts = _split(address)
    if parts.scheme != "tcp" or not parts.hostname:
        return None
    try:
        if all(ipaddress.ip_address(info[4][0]).is_loopback
               for info in socket.getaddrinfo(parts.hostname, None)):
            return None
    except (OSError, ValueError):
        pass
    return (f"{address} is not encrypted: any machine that can reach the scheduler can run code on its workers; "
            "use tls:// on a network you do not trust (see the README)")


@contextlib.contextmanager
def connect(address: str, note: Callable[[str], object] | None = None) -> Iterator:
    """A Dask client: of a local cluster on the loopback address (``local[:N]``), or of the scheduler at
    ``address`` (Dask's security settings apply to ``tls://``)."""
    distributed = _distributed()
    check_address(address)
    workers = local_workers(address)
    # Dask's own lines (reconnecting, a worker restarted, tracebacks) stay quiet: the run says what matters.
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "distributed" or name.startswith("distributed.")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with _client(distributed, address, workers, note) as client:
            yield client
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def _client(distributed, address: str, workers: int | None, note: Callable[[str], object] | None) -> Iterator:
    if workers is None:
        warning = insecure_warning(address)
        if warning and note is not None:
            note(f"warning: {warning}")
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise RenderError(f"cannot reach the Dask scheduler at {address} ({error})") from None
        with client:
            yield client
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with distributed.LocalCluster(
        n_workers=workers or cores, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", scheduler_port=0, silence_logs=logging.CRITICAL,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def run_requests(address: str, requests: list[RenderRequest], jobs: int, progress: Callable[[int, int], object],
                 finished: Callable[[RenderRequest, str | None], object], note: Callable[[str], object],
                 under_way: Callable[[tuple[tuple[str, int, int], ...]], object] | None = None) -> None:
    """The command line's ``--cluster``: ``requests`` on the cluster at ``address`` (see :func:`connect` and
    :func:`run`); ``finished`` hears each input's request and its error (``None`` once written)."""
    with connect(address, note) as client:
        run(client, requests, jobs, progress, lambda outcome: finished(outcome.request, outcome.error), under_way)


def run(client, requests: list[RenderRequest], jobs: int = 0,
        progress: Callable[[int, int], object] | None = None,
        finished: Callable[[Outcome], object] | None = None,
        under_way: Callable[[tuple[tuple[str, int, int], ...]], object] | None = None) -> list[Outcome]:
    """Render ``requests`` on ``client``'s cluster; each input's :class:`Outcome`, in order (``finished`` hears
    each as it ends). ``jobs``: chunks per input (``0``: as many as keep the workers busy). ``progress`` hears
    the frames done of all inputs and their frames, a few times a second; ``under_way``, just before it, the
    inputs begun and not yet finished, each ``(its name, its frames done, its frames)``. See the module's
    notes."""
    distributed = _distributed()
    requests = [replace(request, input=_absolute(request.input), output=Path(os.path.abspath(request.output)))
                for request in requests]
    run_id = secrets.token_hex(4)
    workers = len(client.scheduler_info().get("workers", {})) or 1
    _check_storage(client, requests, run_id)
    outcomes: dict[int, Outcome] = {}
    board = _Board()
    client.subscribe_topic(tasks.topic(run_id), board.heard)
    folders: dict[int, Path] = {}
    created: dict[int, list[str]] = {}  # the folders each input's output check made for its files
    joins: dict = {}
    everything: list = []
    try:
        plans = {}
        inputs = [str(request.input) for request in requests]
        for index, request in enumerate(requests):
            try:
                created[index] = _check_outputs(request, inputs)
                plans[index] = planned_frames(request)
            except (RenderError, RequestError) as error:
                outcomes[index] = Outcome(request, str(error))
                if finished is not None:
                    finished(outcomes[index])
        chunks = jobs or -(-workers // max(1, len(plans)))  # inputs enough to keep every worker busy: no chunks
        for index, (start, stop, settings) in plans.items():
            request = requests[index]
            board.expect(index, stop - start)
            futures = _submit(client, request, index, start, stop, settings, chunks, run_id, folders, board)
            everything += futures
            joins[futures[-1]] = index
        _wait(distributed, client, joins, outcomes, requests, folders, board, progress, finished, under_way)
    except KeyboardInterrupt:
        _cancel(distributed, client, run_id, everything)
        raise
    finally:
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        for index, made in created.items():  # an input that wrote nothing leaves no folder made for it
            if index not in outcomes or outcomes[index].error is not None:
                remove_created(made)
    return [outcomes[index] for index in range(len(requests))]


def _check_outputs(request: RenderRequest, inputs: list[str]) -> list[str]:
    """Refuse up front an output or side file that is one of the ``inputs`` (``RenderRequest.output_problem``) or exists
    (without ``overwrite``); returns the folders made for them, outermost first."""
    problem = request.output_problem(inputs)
    if problem:
        raise RequestError(problem)
    created: list[str] = []
    for path in request.outputs:
        try:
            created += check_output(str(path), [], request.overwrite)
        except MediaError as error:
            remove_created(created)
            raise RequestError(str(error)) from None
    return created


def _absolute(path: Path | str) -> Path | str:
    return path if isinstance(path, str) and "://" in path else Path(os.path.abspath(path))


def _submit(client, request: RenderRequest, index: int, start: int, stop: int, settings, chunks: int, run_id: str,
            folders: dict[int, Path], board: _Board) -> list:
    """Submit ``request``'s tasks; returns their futures, the last the one that writes the output (the join, or
    the whole render)."""
    key = f"{index}-{run_id}"
    sweep_work_folders(request.output)
    folder = request.output.parent / f".{request.output.name}{WORK_TAIL}{socket.gethostname()}-{os.getpid()}-{run_id}"
    folder.mkdir()
    folders[index] = folder
    if chunks < 2 or not request.joinable or (stop - start) < 2 * MIN_CHUNK:
        board.tasks[f"whole-{key}"] = index
        return [client.submit(tasks.render_whole, request, str(folder), run_id, f"whole-{key}", key=f"whole-{key}",
                              retries=RETRIES, pure=False)]
    spans = split_for_jobs(settings, start, stop, max(1, min(chunks, (stop - start) // MIN_CHUNK)))
    parts = []
    for first, last in spans:
        task = f"chunk-{first}-{last}-{key}"
        board.tasks[task] = index
        parts.append(client.submit(tasks.render_chunk, replace(request, frames=(first, last)), str(folder), run_id,
                                   task, key=task, retries=RETRIES, pure=False))
    return [*parts, client.submit(tasks.join_chunks, parts, request, run_id, f"join-{key}", key=f"join-{key}",
                                  retries=RETRIES, pure=False)]


def sweep_work_folders(output: Path) -> list[Path]:
    """Remove the work folders that runs to ``output`` left when their client was killed (its process on this
    machine is gone, as :func:`media.publish.sweep_leftovers` tells a killed render's temporaries); returns them.
    A folder of a client on another machine is left: whether it still runs cannot be told from here."""
    prefix = f".{output.name}{WORK_TAIL}"
    swept = []
    with contextlib.suppress(OSError):
        for entry in os.listdir(output.parent):
            owner = entry[len(prefix):].rsplit("-", 2) if entry.startswith(prefix) else []
            if (len(owner) == 3 and owner[0] == socket.gethostname() and owner[1].isdigit()
                    and not process_alive(int(owner[1]))):
                shutil.rmtree(output.parent / entry, ignore_errors=True)
                swept.append(output.parent / entry)
    return swept


def _check_storage(client, requests: list[RenderRequest], run_id: str) -> None:
    """Refuse in one line when a worker does not see an input or an output folder as the client does."""
    inputs = sorted({str(request.input) for request in requests if not str(request.input).startswith(
        ("http://", "https://", "rtmp://", "rtsp://"))})
    folders = sorted({str(request.output.parent) for request in requests})
    for folder in folders:
        if not os.path.isdir(folder):
            raise RequestError(f"{folder}: no such folder")
    probe = os.path.join(folders[0], f".motion-extraction-probe-{run_id}")
    try:
        with open(probe, "w"):
            pass
    except OSError as error:
        raise RenderError(f"{folders[0]}: cannot write there ({error.strerror.lower()})") from None
    try:
        problems = client.run(tasks.storage_problem, inputs, folders, probe)
    finally:
        os.remove(probe)
    for worker, path in sorted(problems.items()):
        if path is not None:
            raise RenderError(f"worker {worker} cannot see {path}: the inputs and the output folder must be on "
                              "storage every worker sees under the same path")


class _Board:
    """Frames done per task (its latest attempt's), from the workers' events, and each input's total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, int] = {}
        self.tasks: dict[str, int] = {}  # task -> its input's index (the joins are not counted)
        self.totals: dict[int, int] = {}

    def expect(self, index: int, frames: int) -> None:
        self.totals[index] = frames

    def heard(self, event) -> None:
        message = event[1] if isinstance(event, tuple) else event
        if isinstance(message, dict) and message.get("task") in self.tasks:
            with self._lock:  # a new attempt starts again from its first frame
                self._done[message["task"]] = message["done"]

    def done(self, index: int | None = None) -> int:
        with self._lock:
            return sum(done for task, done in self._done.items() if index is None or self.tasks[task] == index)


def _wait(distributed, client, joins: dict, outcomes: dict[int, Outcome], requests: list[RenderRequest],
          folders: dict[int, Path], board: _Board, progress, finished, under_way=None) -> None:
    pending = dict(joins)
    total = sum(board.totals.values())
    while pending:
        try:
            done, _ = distributed.wait(list(pending), timeout=0.25, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        except Exception:  # the futures cancelled under us: the scheduler is gone
            if client.status == "running":
                raise
            raise RenderError(_scheduler_gone(len(pending), len(requests))) from None
        if under_way is not None:
            under_way(tuple((Path(str(requests[index].input)).name, board.done(index), board.totals[index])
                            for index in sorted(set(pending.values())) if board.done(index) > 0))
        if progress is not None:
            progress(min(board.done(), total), total)
        for future in done:
            index = pending.pop(future)
            request = requests[index]
            if future.status == "cancelled" or client.status not in ("running", "connecting"):
                raise RenderError(_scheduler_gone(len(pending) + 1, len(requests)))
            error = None if future.status == "finished" else _reason(distributed, request, future.exception())
            outcomes[index] = Outcome(request, error, board.totals.get(index, 0) if error is None else 0)
            folder = folders.pop(index, None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)  # the chunks, and whatever dead attempts left
            if finished is not None:
                finished(outcomes[index])


def _scheduler_gone(unfinished: int, inputs: int) -> str:
    return (f"the Dask scheduler went away mid-run: {unfinished} of {inputs} inputs unfinished (an output is "
            "published complete or not at all)")


def _reason(distributed, request: RenderRequest, error: BaseException) -> str:
    """One line on why an input failed."""
    if isinstance(error, distributed.KilledWorker):
        return (f"{request.input}: the workers rendering it kept dying ({error}); see the workers' logs (out of "
                "memory?)")
    if isinstance(error, tasks.TaskFailure):
        return f"{request.input}: cancelled" if error.kind == "cancelled" else error.message
    return f"{request.input}: {type(error).__name__}: {tasks._line(error)}"  # not the tasks' own: a defect


def _cancel(distributed, client, run_id: str, futures: list) -> None:
    """Ctrl-C: tell the running tasks to stop, cancel every future, and give the tasks a moment to clean up."""
    with contextlib.suppress(Exception):  # a scheduler already gone has nothing left to cancel
        distributed.Event(tasks.cancel_event_name(run_id), client=client).set()
        client.cancel(futures, force=True)
        waited = 0.0
        while waited < CANCEL_GRACE and any(client.processing().values()):
            threading.Event().wait(0.25)
            waited += 0.25
