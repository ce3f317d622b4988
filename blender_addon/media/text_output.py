"""Text outputs beside a render (reports, data tables): written to a temporary, published whole.

The same rules as the movie writers (:mod:`.paths`): never the input, never an existing file
without ``overwrite``, a full disk is an error, and a render that fails or is interrupted
leaves no file behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TextIO

from .paths import MediaError, cannot_write, check_output, create_temp_file, flush_to_disk, publish


@contextlib.contextmanager
def text_output(path: str | os.PathLike, protect: list, overwrite: bool) -> Iterator[TextIO]:
    """A text stream whose contents become ``path`` when the block ends without an exception."""
    text = os.fspath(path)
    check_output(text, protect, overwrite)
    temp = create_temp_file(text)
    try:
        with open(temp, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
        flush_to_disk(temp)
        publish(temp, text, overwrite)
    except OSError as error:
        raise MediaError(cannot_write(os.path.dirname(text) or ".", error)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
