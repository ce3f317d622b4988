"""The installed commands (pyproject.toml's entry points): each front end's ``main``, and for
``motion-extract`` the command line composed with the cluster front end (``--cluster``), as
``scripts/motion_extract.py`` composes them. Dask is imported only when a cluster is asked for."""

from __future__ import annotations


def motion_extract() -> int:
    """``motion-extract``: the command line, with ``--cluster`` served by the cluster front end."""
    from .cli import main
    from .cluster import run_requests

    return main(cluster=run_requests)
