"""The installed commands (pyproject.toml's entry points): each front end's ``main``, and for
``motion-extract`` the command line composed with the cluster front end (``--cluster``), as
``scripts/motion_extract.py`` composes them. Dask is imported only when a cluster is asked for.

:func:`start_process` is what every command and script does before it imports numpy."""

from __future__ import annotations

import os


def start_process() -> None:
    """Set up this process before numpy is imported: numpy's OpenBLAS would start a thread per core, which a
    render leaves idle beside its decoder and encoder threads (and its products on whole frames run slower
    threaded). One thread, unless the user's environment asks for more."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run_on_cluster(*args, **kwargs):
    """``--cluster``: the cluster front end's ``run_requests``, imported only when a render asks for it."""
    from .cluster import run_requests

    return run_requests(*args, **kwargs)


def motion_extract() -> int:
    """``motion-extract``: the command line, with ``--cluster`` served by the cluster front end."""
    start_process()
    from .cli import main

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
