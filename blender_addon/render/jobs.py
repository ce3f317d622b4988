"""``--jobs N``: one render split over N processes and put back together in order, frame for frame.

This process renders the first chunk and hands its frames straight to the output's writer, while
N-1 child processes render the other chunks, each into a lossless intermediate: the raw BGR bytes
of its frames, one after another, in a file of a hidden work folder beside the output (on the planar
path, ``core.planar``, the compact 4:2:0 buffers: half the bytes). Once its own
chunk is written, this process appends the children's frames, in order, to the same writer, reading
each chunk's file as its child writes it: the output is encoded once, with the same frames and
times as one process gives it. Chunk boundaries give every process the same work, pre-roll
included (``core.chunks.split_for_jobs``); this process also encodes, yet measured here it still
finished its chunk before its child, which starts later (imports, opening the input, seeking), so
it gets as many frames as the others.

Why raw frames, not FFV1 or PNG: every millisecond an intermediate costs is taken from the renders.
A 1080p frame costs ~2 ms to write raw and ~2 ms to read; OpenCV's PNG ~18 and ~20 ms for a mostly
flat motion frame and ~70 and ~50 ms for a busy one (overlay, noisy footage); FFV1 ~45 and ~25 ms.
With PNG, ``--jobs 2`` was slower than one process here. The price is disk space: the children's
frames take width x height x 3 bytes each (6.2 MB at 1080p) until they are appended, which is
checked before anything starts.

A measured render (``--data``, ``--motiongram``, ``--plot``) has each child measure its own chunk and
write each frame's measures to a small file beside its frames, before the frame: this process reads
them back as it appends the frame, so the data files are those of one process.

Children run :func:`chunk_main` with this process's ``sys.path`` (so they find what it found, in a
Blender too), get the settings as JSON (the very object this render uses), and stop when this
process ends. Whatever way the render ends, the children are stopped and the work folder deleted;
a child's error becomes this render's, naming its chunk.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..core.chunks import split_for_jobs
from ..core.engine import SourceEndedEarly, extract_motion
from ..core.measures import MotionMeasures, Region
from ..core.planar import buffer_shape
from ..core.settings import Settings
from ..core.timing import output_size
from ..media.errors import MediaError, cannot_write
from ..media.publish import create_temp_folder
from .log import collected
from .request import RenderError, RequestError

logger = logging.getLogger(__name__)
POLL_EVERY = 8  # frames between looks at whether a child has failed
WAIT = 0.005  # seconds between looks at a chunk file that its child is still writing
SPARE_BYTES = 256 << 20  # room left on the disk beyond the intermediates
MIN_CHUNK = 5  # frames: a process starts Python, its libraries and the input before its first frame
FULL_BYTES = 1 << 20  # less room than this beside a failed child's frames, and its disk is taken as full
_PACKAGE = __name__.rpartition(".")[0]  # this module's package, whatever the add-on is installed as
_BOOT = ("import sys; sys.path[:0] = {path!r}; from {package}.jobs import chunk_main; "
         "sys.exit(chunk_main(sys.argv[1:]))")


@dataclass
class _Child:
    """A child process rendering output frames ``[first, stop)`` into the raw file ``path`` (and, when the
    render is measured, each frame's measures into ``path`` + :data:`MEASURES` before the frame)."""

    process: subprocess.Popen
    path: str
    first: int
    stop: int
    log: str

    @property
    def name(self) -> str:
        return f"chunk {self.first}:{self.stop}"

    def failure(self) -> str | None:
        """Why the child failed (its last line on stderr), once it has; ``None`` while it runs or when it succeeded."""
        code = self.process.poll()
        if code in (None, 0):
            return None
        try:
            with open(self.log, encoding="utf-8", errors="replace") as stream:
                lines = [line.strip() for line in stream if line.strip()]
        except OSError:
            lines = []
        if lines:
            reason = lines[-1].split(": error: ", 1)[-1]
        else:  # a child that could not even write its error to the log beside its frames: the disk is full
            reason = "the disk is full" if _disk_full(self.path) else f"exit code {code}"
        return f"{self.name} (a process of --jobs) failed: {reason}"

    def report(self) -> dict:
        """What the child's chunk did, from its last words on stderr: frame pairs aligned, those that could not
        be (``[output frame, why]`` each), and the warnings it logged."""
        with open(self.log, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.startswith(REPORT_LINE):
                    return json.loads(line[len(REPORT_LINE):])
        return {"pairs": 0, "failed": [], "warnings": []}

    def stop_now(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def useful_jobs(jobs: int, frames: int) -> int:
    """The processes that help: at most two per core, each with :data:`MIN_CHUNK` frames or more (to pay for its
    start); more only start processes."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(jobs, 2 * cores, frames // MIN_CHUNK))


def _start_child(input_path: str, settings: Settings, first: int, stop: int, path: str, max_memory: int,
                 log: str, measures: MotionMeasures | None, planar: bool) -> _Child:
    boot = _BOOT.format(path=[entry for entry in sys.path if entry], package=_PACKAGE)
    arguments = [input_path, path, str(first), str(stop), json.dumps(settings.to_dict()), str(max_memory),
                 str(os.getpid()), json.dumps(_measuring(measures)), "planar" if planar else "rgb"]
    with open(log, "wb") as errors:
        process = subprocess.Popen([sys.executable, "-c", boot, *arguments], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=errors)
    return _Child(process, path, first, stop, log)


def parallel_frames(source, input_path: str, settings: Settings, start: int, stop: int, jobs: int, output: str,
                    max_memory: int,
                    on_alignment: Callable | None = None,
                    on_child_alignment: Callable[[int, list], None] | None = None,
                    measures: MotionMeasures | None = None, planar: bool = False) -> Iterator[np.ndarray]:
    """Output frames ``start`` to ``stop - 1`` of ``source``, rendered by ``jobs`` processes; see the module's notes.

    ``planar``: every process takes the planar path (:func:`extract_motion`'s), and the frames are compact 4:2:0
    buffers.
    A child's failure or too little disk space is a :class:`RenderError`.
    With ``settings.align``, ``on_alignment`` is :func:`extract_motion`'s for this process's chunk, and
    ``on_child_alignment(pairs, failed)`` hears, for each child's chunk in turn, how many frame pairs
    were aligned and which could not be (``[output frame, why]`` each).
    ``measures`` (as :func:`extract_motion`'s ``measure``) holds each frame's measures when it is yielded,
    whichever process measured it (a child measures its chunk with the same regions and threshold).
    Close the iterator (or use it to the end) to stop the children and delete the work folder.
    """
    chunks = split_for_jobs(settings, start, stop, useful_jobs(jobs, stop - start))
    memory = max(0, max_memory // len(chunks))
    if len(chunks) == 1:
        yield from extract_motion(source, settings, start, stop, max_memory=max_memory, on_alignment=on_alignment,
                                  measure=measures, planar=planar)
        return
    width, height = output_size(settings, source.width, source.height)
    shape = buffer_shape(width, height) if planar else (height, width, 3)
    work = create_temp_folder(output)
    children: list[_Child] = []
    try:
        _check_room(work, (stop - chunks[0][1]) * int(np.prod(shape)))
        for first, end in chunks[1:]:
            path, log = os.path.join(work, f"chunk{first}.raw"), os.path.join(work, f"chunk{first}.log")
            children.append(_start_child(str(input_path), settings, first, end, path, memory, log, measures, planar))
        for done, frame in enumerate(extract_motion(source, settings, *chunks[0], max_memory=memory,
                                                    on_alignment=on_alignment, measure=measures, planar=planar),
                                     start=1):
            if done % POLL_EVERY == 0:
                for child in children:
                    if (message := child.failure()) is not None:
                        raise RenderError(message)
            yield frame
        for child in children:
            yield from _follow(child, shape, measures)
            child.process.wait()  # every frame is in; the chunk counts only if its process ends well too
            if (message := child.failure()) is not None:
                raise RenderError(message)
            report = child.report()
            for warning in report["warnings"]:
                logger.warning("%s", warning)
            if on_child_alignment is not None:
                on_child_alignment(report["pairs"], report["failed"])
            os.remove(child.path)
    finally:
        for child in children:
            child.stop_now()
        shutil.rmtree(work, ignore_errors=True)


def _disk_full(path: str) -> bool:
    try:
        return shutil.disk_usage(os.path.dirname(path) or ".").free < FULL_BYTES
    except OSError:
        return False


def _check_room(folder: str, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed + SPARE_BYTES:
        raise RenderError(f"--jobs needs {(needed + SPARE_BYTES) / 1e9:.1f} GB free beside the output for its "
                          f"intermediate frames, and {folder and os.path.dirname(folder) or '.'} has "
                          f"{free / 1e9:.1f} GB: use fewer frames per render (--frames) or no --jobs")


def _follow(child: _Child, shape: tuple[int, ...], measures: MotionMeasures | None = None) -> Iterator[np.ndarray]:
    """The frames of a child's chunk, each as soon as the child has written it (one buffer, reused), with
    ``measures`` holding its measures as the child wrote them."""
    frame = np.empty(shape, dtype=np.uint8)
    size = frame.nbytes
    view = memoryview(frame).cast("B")
    stream = None
    measured = None if measures is None else _MeasuresReader(child.path + MEASURES, measures)
    try:
        for index in range(child.stop - child.first):
            while stream is None or os.fstat(stream.fileno()).st_size < (index + 1) * size:
                if (message := child.failure()) is not None:
                    raise RenderError(message)
                if child.process.poll() == 0 and stream is not None:
                    raise RenderError(f"{child.name} (a process of --jobs) ended after {index} of its "
                               f"{child.stop - child.first} frames")
                if stream is None and os.path.exists(child.path):
                    stream = open(child.path, "rb", buffering=0)  # noqa: SIM115 (closed below)
                    continue
                time.sleep(WAIT)
            read = 0
            while read < size:
                read += stream.readinto(view[read:])
            if measured is not None:
                measured.next_frame()
            yield frame
    finally:
        if stream is not None:
            stream.close()
        if measured is not None:
            measured.close()


MEASURES = ".measures"  # a child's measures file: its name is the chunk file's with this added
# A child's measures of a frame: the values as one JSON line (None, int and float kept as they are), then the
# motiongram rows as float64 bytes; all of it written before the frame's raw bytes.


def _measuring(measures: MotionMeasures | None) -> dict | None:
    """What a child needs to measure as ``measures`` does (JSON), or ``None`` when the render is not measured."""
    if measures is None:
        return None
    return {"regions": [[region.name, region.x, region.y, region.width, region.height]
                        for region in measures.regions[1:]],
            "threshold": measures.threshold, "flow": measures.flow}


def _write_measures(stream, measures: MotionMeasures) -> None:
    line = (json.dumps(measures.values) + "\n").encode()
    stream.write(len(line).to_bytes(4, "little") + line)
    stream.write(np.ascontiguousarray(measures.column_means, np.float64).tobytes())
    stream.write(np.ascontiguousarray(measures.row_means, np.float64).tobytes())


class _MeasuresReader:
    """Reads a child's measures, frame by frame, into ``measures`` (the child wrote each before its frame)."""

    def __init__(self, path: str, measures: MotionMeasures) -> None:
        self.path, self.measures, self.stream = path, measures, None

    def next_frame(self) -> None:
        if self.stream is None:
            self.stream = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        measures, stream = self.measures, self.stream
        length = int.from_bytes(stream.read(4), "little")
        measures.values = json.loads(stream.read(length))
        measures.column_means = np.frombuffer(stream.read(8 * measures.width), np.float64)
        measures.row_means = np.frombuffer(stream.read(8 * measures.height), np.float64)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


REPORT_LINE = "chunk report: "  # how a child tells the parent, on stderr, what ``--align`` did and what it logged


def chunk_main(argv: list[str]) -> int:
    """A child of :func:`parallel_frames`: renders one chunk into its raw file; returns the exit code."""
    from .alignment import AlignmentLog
    from .inputs import load_media, truncated

    input_path, path, first, stop, settings_json, max_memory, parent, measuring, math = argv
    first, stop, parent, measuring = int(first), int(stop), int(parent), json.loads(measuring)
    name = f"motion_extract chunk {first}:{stop}"

    def work() -> AlignmentLog:
        media = load_media()
        settings = Settings.from_mapping(json.loads(settings_json))
        try:
            with open(path, "wb", buffering=0) as out, contextlib.ExitStack() as files:
                source = media.open_source(input_path)
                count = AlignmentLog(source, settings)
                measures = measured = None
                if measuring is not None:
                    measures = MotionMeasures(settings, (source.height, source.width),
                                              [Region(*region) for region in measuring["regions"]],
                                              measuring["threshold"], measuring["flow"])
                    measured = files.enter_context(open(path + MEASURES, "wb"))
                for frame in extract_motion(source, settings, first, stop, max_memory=int(max_memory),
                                            on_alignment=count.heard, measure=measures, planar=math == "planar"):
                    if os.getppid() != parent:
                        raise RenderError("the render that started this chunk has ended")
                    if measured is not None:
                        _write_measures(measured, measures)
                        measured.flush()  # on disk before the frame that tells the parent it is there
                    view = memoryview(np.ascontiguousarray(frame)).cast("B")
                    while view:
                        view = view[out.write(view):]
                if (damage := source.damage_warning()) is not None:
                    logger.warning("%s", damage)
        except OSError as error:
            raise RenderError(cannot_write(os.path.dirname(path), error)) from None
        except MediaError as error:
            raise RenderError(str(error)) from None
        except SourceEndedEarly as error:
            raise truncated(input_path, error) from None
        return count

    try:
        with collected() as warnings:
            count = work()
    except (RenderError, RequestError) as error:  # the parent reads the last line after ": error: "
        sys.stderr.write(f"{name}: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{name}: interrupted\n")
        return 128 + signal.SIGINT
    sys.stderr.write(REPORT_LINE + json.dumps({"pairs": count.pairs, "failed": count.failed, "warnings": warnings})
                     + "\n")
    return 0
