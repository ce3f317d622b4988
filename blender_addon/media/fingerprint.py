"""A source's fingerprint: what tells two inputs apart when their names and frame counts agree.

A chunk's record carries its input's fingerprint, so the chunk join refuses chunks of two different
files that share a name and length, and an ``--audio-from`` file that is not the chunks' input. It
hashes what is cheap to read and differs between files: a movie's size in bytes, its duration, every
stream's parameters and the bytes of its first video packets; an image sequence's file names and sizes
and its first image. The same bytes under another path (a copy on another machine) give the same one.
"""

from __future__ import annotations

import hashlib
import os

import av

from .errors import MediaError, os_error
from .movie import open_container
from .names import image_sequence_files, is_url
from .sound import take_layout

_PACKETS = 16  # the first video packets hashed: enough to tell recordings apart, cheap to read
_IMAGE_BYTES = 1 << 20


def fingerprint(path: str | os.PathLike) -> str:
    """``path``'s fingerprint (32 hex digits); :class:`MediaError` when it cannot be read."""
    text = os.fspath(path)
    digest = hashlib.sha256()
    files = None if is_url(text) else image_sequence_files(text)
    try:
        if files is not None:
            for file in files:
                digest.update(f"{os.path.basename(file)}:{os.path.getsize(file)}\n".encode())
            with open(files[0], "rb") as stream:
                digest.update(stream.read(_IMAGE_BYTES))
            return digest.hexdigest()[:32]
        if not is_url(text):
            digest.update(f"size:{os.path.getsize(text)}\n".encode())
    except OSError as exc:
        raise os_error(text, exc) from None
    _movie_fingerprint(text, digest)
    return digest.hexdigest()[:32]


def _movie_fingerprint(path: str, digest) -> None:
    container = open_container(path, headers_only=True)
    try:
        digest.update(f"duration:{container.duration}\n".encode())
        for stream in container.streams:
            context = stream.codec_context  # None for a data track (a .mov's timecode)
            # A sound's layout is read the one safe way (a custom channel order is freed twice otherwise).
            channels = av.AudioLayout(take_layout(stream)[0]).nb_channels if stream.type == "audio" else None
            shape = (getattr(context, "width", None), getattr(context, "height", None),
                     getattr(context, "sample_rate", None), channels)
            name = context.name if context is not None else None
            digest.update(f"{stream.type}:{name}:{shape}:{stream.time_base}:{stream.frames}\n".encode())
        if container.streams.video:
            for count, packet in enumerate(container.demux(container.streams.video[0])):
                if count == _PACKETS:
                    break
                digest.update(bytes(packet))
    except av.error.FFmpegError as error:
        raise MediaError(f"{path}: cannot be read ({(error.strerror or type(error).__name__).lower()})") from None
    finally:
        container.close()
