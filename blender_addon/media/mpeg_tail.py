"""MPEG transport and program streams (``.ts``, ``.m2ts``, ``.mpg``): how much of a file's end is not packets.

These containers keep no index and no frame count, and their duration is FFmpeg's estimate from the packets
it could read: when the bytes after some point are damaged, the demuxer skips them and the file looks whole
but short. Their packets are easy to walk: a transport stream's have a fixed size (188 bytes; 192 in M2TS,
204 with error correction), each starting with a sync byte; a program stream's start with a start code
(``00 00 01``) and say their own length. Damage shows as bytes between packets. Only the end of the file is
read, from a given position on, and at most :data:`MAX_TAIL` bytes of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CONTAINERS = {"mpegts": "MPEG-TS", "mpeg": "MPEG-PS"}  # FFmpeg's names for the formats walked here, and ours
SYNC = 0x47
TS_PACKET = 188  # a packet from its sync byte on (M2TS puts 4 bytes before it, error correction 16 after)
PACKET_SIZES = (TS_PACKET, 192, 204)
START_CODE = b"\x00\x00\x01"
MAX_TAIL = 16 << 20  # bytes read at most: enough to tell damage from a clean end
DAMAGED_BYTES = 1000  # unreadable bytes at the end that make a damaged file (fewer: a stray write at its end)


@dataclass(frozen=True)
class Tail:
    """What the end of a file holds besides whole packets."""

    unreadable: int  # bytes that are not packets (damage)
    cut: bool  # the file ends inside a packet (it was cut short there)


def read_tail(path: str | os.PathLike, start: int, container: str) -> Tail:
    """The end of ``path`` (a ``container`` of :data:`CONTAINERS`) from ``start`` on, up to :data:`MAX_TAIL`
    bytes: the bytes that are not whole packets (a last packet cut short is not counted: it is ``cut``)."""
    with open(path, "rb") as stream:
        stream.seek(max(0, start))
        data = stream.read(MAX_TAIL)  # a regular file: one read returns it all, up to the limit
        whole = not stream.read(1)
    tail = _program_tail(data) if container == "mpeg" else _transport_tail(data)
    return Tail(tail.unreadable, whole and tail.cut)


# --- transport streams ----------------------------------------------------------------------------------------


def _transport_tail(data: bytes) -> Tail:
    found = _first_packet(data)
    if found is None:
        return Tail(len(data) if len(data) > max(PACKET_SIZES) else 0, False)
    offset, size = found
    lost, last = _lost(data, offset, size)
    return Tail(lost, last is not None and len(data) - last < TS_PACKET)


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
        while (after := data.find(bytes((SYNC,)), after)) >= 0 and after + size < end and data[after + size] != SYNC:
            after += 1
        if after < 0:
            return lost + end - index, None
        lost += after - index
        index = after
    return lost, index


# --- program streams ------------------------------------------------------------------------------------------


def _program_tail(data: bytes) -> Tail:
    """Packs, system headers and packets from the first start code on, each as long as it says."""
    index = _next_unit(data, 0)
    if index is None:
        return Tail(len(data), False)
    lost, end, chained = 0, len(data), True  # chained: reached from the unit before (after damage, a start code
    while index < end:                         # found must be followed by another to be taken for one)
        length = _unit_length(data, index)
        if length is not None and chained and index + length >= end:
            return Tail(lost, index + length > end)
        if length is not None and (chained or _next_unit(data, index + length) == index + length):
            index, chained = index + length, True
            continue
        after = _next_unit(data, index + 1)
        if after is None:
            return Tail(lost + end - index, False)
        lost, index, chained = lost + after - index, after, False
    return Tail(lost, False)


def _next_unit(data: bytes, index: int) -> int | None:
    """Where the next start code of a pack, header or packet is, from ``index`` on."""
    while (index := data.find(START_CODE, index)) >= 0:
        if index + 3 < len(data) and data[index + 3] >= 0xB9:
            return index
        index += 1
    return None


def _unit_length(data: bytes, index: int) -> int | None:
    """The length of the pack, header or packet starting at ``index`` (None where none starts)."""
    if data[index:index + 3] != START_CODE or index + 6 > len(data):
        return None
    code = data[index + 3]
    if code == 0xB9:  # the program's end
        return 4
    if code == 0xBA:  # a pack header: MPEG-2's says how much stuffing follows it, MPEG-1's is fixed
        if data[index + 4] >> 6 == 1:
            return 14 + (data[index + 13] & 7) if index + 14 <= len(data) else 14
        return 12
    if code > 0xBA:
        return 6 + int.from_bytes(data[index + 4:index + 6], "big")
    return None
