"""The vse engine's side of the command line: Blender's batch renderer loaded, checked inputs, and a render
session that keeps Blender's console lines off stdout and lets Ctrl-C stop it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TextIO

from ..frontend import EXIT_SIGNAL, RunError, UsageError
from ..render import RenderError, load_media, sequencer_frames_problem
from .arguments import INTERRUPTED

logger = logging.getLogger(__name__)


def _vse_batch() -> ModuleType:
    # Importing bpy can log on stdout (Blender 5.1+ prints "Using OCIO=..." when $OCIO is set, as it is
    # in any process Blender started), so file descriptor 1 points at the null device meanwhile.
    saved_stdout = _point_stdout_at_null()
    try:
        from ..vse import batch
    except ImportError as error:
        raise RunError(
            f"the vse engine runs inside Blender ({error}): use 'blender -b --python scripts/motion_extract.py "
            "-- ...' or the bpy module from requirements.txt, or --engine exact"
        ) from None
    finally:
        _restore_stdout(saved_stdout)
    return batch


def _vse_can_render(input_path: Path) -> tuple[int | None, list[str]]:
    """The input's frame count, after refusing what Blender's sequencer would render wrong, and the warnings
    the exact engine would give about the input (colours it does not manage, a file cut short), for the
    front end to say once the sequencer has rendered.

    Checked with the exact engine's readers where they are at hand (not in a Blender without
    PyAV and OpenCV): a variable frame rate (Blender assumes a constant one), transparency
    (the rig would lose it) and damage all make the sequencer's frames differ from the file's.
    """
    try:
        media = load_media()
    except RenderError:
        return None, []
    try:
        source = media.open_source(input_path)
    except media.MediaError as error:
        raise RunError(str(error)) from None
    problem = sequencer_frames_problem(input_path, source.frame_count, source.timestamps is not None, None)
    if problem:
        raise RunError(f"{problem}: use --engine exact")
    if source.has_alpha:
        raise RunError(f"{input_path}: has transparency, which the sequencer rig does not keep: use --engine exact")
    return source.frame_count, list(source.warnings)


def _say(warnings: list[str]) -> None:
    for warning in warnings:
        logger.warning("%s", warning)


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
