"""MPEG transport streams (``.ts``, ``.m2ts``): how much of a file's end is not transport packets.

A transport stream keeps no index and no frame count, and its duration is FFmpeg's estimate from the
packets it could read: when the bytes after some point are damaged, the demuxer skips them and the file
looks whole but short. Its packets have a fixed size (188 bytes; 192 in M2TS, 204 with error correction)
and each starts with the sync byte, so damage shows as bytes between packets. Only the end of the file is
read, from a given position on, and at most :data:`MAX_TAIL` bytes of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SYNC = 0x47
TS_PACKET = 188  # a packet from its sync byte on (M2TS puts 4 bytes before it, error correction 16 after)
PACKET_SIZES = (TS_PACKET, 192, 204)
MAX_TAIL = 16 << 20  # bytes read at most: enough to tell damage from a clean end
DAMAGED_BYTES = 1000  # unreadable bytes at the end that make a damaged file (fewer: a stray write at its end)
_READ = 1 << 20


@dataclass(frozen=True)
class Tail:
    """What the end of a transport stream holds besides whole packets."""

    unreadable: int  # bytes that are not packets (damage)
    cut: bool  # the file ends inside a packet (it was cut short there)


def read_tail(path: str | os.PathLike, start: int) -> Tail:
    """The end of ``path`` from ``start`` on (up to :data:`MAX_TAIL` bytes): the bytes that are not whole
    transport packets (a last packet cut short is not counted: it is ``cut``); nothing where no packet size fits."""
    with open(path, "rb") as stream:
        stream.seek(max(0, start))
        data = b""
        while len(data) < MAX_TAIL and (more := stream.read(min(_READ, MAX_TAIL - len(data)))):
            data += more
        whole = not stream.read(1)
    found = _first_packet(data)
    if found is None:
        return Tail(len(data) if len(data) > max(PACKET_SIZES) else 0, False)
    offset, size = found
    lost, last = _lost(data, offset, size)
    return Tail(lost, whole and last is not None and len(data) - last < TS_PACKET)


def _first_packet(data: bytes) -> tuple[int, int] | None:
    """Where the first of three packets in a row starts, and their size."""
    for offset in range(max(PACKET_SIZES)):
        for size in PACKET_SIZES:
            if all(offset + size * index < len(data) and data[offset + size * index] == SYNC for index in range(3)):
                return offset, size
    return None


def _lost(data: bytes, index: int, size: int) -> tuple[int, int | None]:
    """Bytes between packets of ``size`` from ``index`` on (a packet is a sync byte followed, ``size`` bytes
    later, by the next one's, or the end of the data), and where the last packet's sync byte is (None: none
    after the last damage)."""
    lost, end = 0, len(data)
    while index + size < end:
        if data[index] == SYNC and data[index + size] == SYNC:
            index += size
            continue
        after = index + 1  # the next place packets resume
        while (after := data.find(b"\x47", after)) >= 0 and after + size < end and data[after + size] != SYNC:
            after += 1
        if after < 0:
            return lost + end - index, None
        lost += after - index
        index = after
    return lost, index
