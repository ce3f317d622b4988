"""A render's warnings and notes: logged through ``logging`` by the modules that find them, and collected,
per render, into its result.

Renders run on threads of their own (Bake Motion's), so a render collects only the records logged on
its own thread. Notes (such as what a time in seconds became) are INFO records and warnings WARNING
ones; both are a render's notes, so the package's logger lets INFO through while anyone listens.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

PACKAGE = __name__.rpartition(".")[0].rpartition(".")[0]  # the add-on's top package, whatever it is installed as
_lock = threading.Lock()
_listeners = 0
_saved_level = logging.NOTSET


@contextlib.contextmanager
def notes_enabled() -> Iterator[logging.Logger]:
    """The package's logger, letting INFO records through while the block runs (restored after the last one)."""
    global _listeners, _saved_level
    logger = logging.getLogger(PACKAGE)
    with _lock:
        if _listeners == 0:
            _saved_level = logger.level
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
        _listeners += 1
    try:
        yield logger
    finally:
        with _lock:
            _listeners -= 1
            if _listeners == 0:
                logger.setLevel(_saved_level)


class _ThreadCollector(logging.Handler):
    """Keeps the messages of the records logged on one thread."""

    def __init__(self, thread: int) -> None:
        super().__init__(logging.INFO)
        self.thread = thread
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextlib.contextmanager
def collected() -> Iterator[list[str]]:
    """The messages (notes and warnings) the package logs on this thread while the block runs, in order."""
    collector = _ThreadCollector(threading.get_ident())
    with notes_enabled() as logger:
        logger.addHandler(collector)
        try:
            yield collector.messages
        finally:
            logger.removeHandler(collector)
