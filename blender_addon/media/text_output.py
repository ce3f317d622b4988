"""Text outputs beside a render (reports, data tables): written to a temporary, published whole.

The same rules as every output (:class:`.publish.PendingFile`): never the input, never an existing
file without ``overwrite``, a full disk is an error, and a render that fails or is interrupted
leaves no file behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TextIO

from .errors import MediaError, cannot_write
from .publish import PendingFile


@contextlib.contextmanager
def text_output(path: str | os.PathLike, protect: list, overwrite: bool) -> Iterator[TextIO]:
    """A text stream whose contents become ``path`` when the block ends without an exception."""
    pending = PendingFile(os.fspath(path), overwrite, protect)
    try:
        with open(pending.temp, "w", encoding="utf-8", newline="") as stream:
            yield stream
        pending.commit()
    except OSError as error:
        raise MediaError(cannot_write(os.path.dirname(pending.path) or ".", error)) from None
    finally:
        pending.discard()
