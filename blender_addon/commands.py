"""The installed commands (pyproject.toml's entry points): each front end's ``main``, and for
``motion-extract`` the command line composed with the cluster front end (``--cluster``), as
``scripts/motion_extract.py`` composes them. Dask is imported only when a cluster is asked for.

:func:`start_process` is what every command and script does before it imports numpy, and :func:`settle_process`
what the rendering ones do once they have imported their modules, before they render."""

from __future__ import annotations

import gc
import os

_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")  # what OpenBLAS reads, in its order


def start_process() -> None:
    """Set up this process before numpy is imported: numpy's OpenBLAS would start a thread per core, which a
    render leaves idle beside its decoder and encoder threads (and its products on whole frames run slower
    threaded). One thread, unless the user's environment sets any of the counts OpenBLAS reads."""
    if not any(name in os.environ for name in _BLAS_THREADS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def settle_process() -> None:
    """Once a command's modules are imported, before it renders: import what every render needs (PyAV, OpenCV)
    and freeze what the garbage collector tracks by then, the modules' objects, which live as long as the process,
    so that neither the render's full collections nor the process's exit walk them again. Only for a command's
    own process: a program calling a front end's ``main`` keeps its collector as it was."""
    from .render import RenderError, load_media

    try:
        load_media()
    except RenderError:  # Blender without OpenCV or PyAV: its sequencer renders without them (the exact engine says)
        pass
    gc.freeze()


def run_on_cluster(*args: object, **kwargs: object) -> object:
    """``--cluster``: the cluster front end's ``run_requests``, imported only when a render asks for it."""
    from .cluster import run_requests

    return run_requests(*args, **kwargs)


def motion_extract() -> int:
    """``motion-extract``: the command line, with ``--cluster`` served by the cluster front end."""
    start_process()
    from .cli import main

    settle_process()
    return main(cluster=run_on_cluster)


def motion_join() -> int:
    """``motion-join``: the chunk join's command line, as ``scripts/join_chunks.py``."""
    start_process()
    from .join import main

    return main()


def motion_live() -> int:
    """``motion-live``: the live viewer, as ``scripts/live.py``."""
    start_process()
    from .live.command import main

    return main()
