"""The one error every media module raises, with its one-line messages for the operating system's failures."""

from __future__ import annotations

import errno


class MediaError(Exception):
    """A file cannot be read or written; the one-line message names the file and the problem."""


def os_error(path: str, exc: OSError) -> MediaError:
    return MediaError(f"{path}: {(exc.strerror or str(exc)).lower()}")


def cannot_write(folder: str, exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        reason = "permission denied"
    elif isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a file is in the way of this folder"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "the disk is full"
    else:
        reason = (exc.strerror or str(exc)).lower()
    return f"cannot write to {folder or '.'}: {reason}"
