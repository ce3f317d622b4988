"""Where a movie's sound does not follow on: the one rule for whether its packets can be copied as they are.

A stream of joined recordings may jump in time or change its sample rate; copied packet for packet into a
container that declares one rate and rising times, such sound would play wrong, so it is decoded and
resampled instead (:mod:`.sound`). The first audio stream's packets are heard as a movie is first demuxed
(:func:`.movie.open_movie` reads every packet once anyway), so a render need not read the file again to know.
"""

from __future__ import annotations

from fractions import Fraction

import av

Jumps = tuple[tuple[Fraction, Fraction], ...]  # (a packet's time, the next one's) where the next does not follow


class SoundJumps:
    """Hears the first audio stream's packets in order and keeps where one does not follow the last as its duration
    says (more than a tick and 1% of that duration apart), in seconds of the file."""

    def __init__(self, stream: av.AudioStream) -> None:
        self.stream = stream
        self._time_base = stream.time_base
        self._last: tuple[int, int] | None = None  # the last packet's time and duration, in time-base units
        self._jumps: list[tuple[Fraction, Fraction]] = []

    def hear(self, packet: av.Packet) -> None:
        if packet.pts is None or packet.size == 0:
            return
        if self._last is not None:
            pts, duration = self._last
            if duration and abs(packet.pts - pts - duration) > 1 + duration / 100:
                self._jumps.append((pts * self._time_base, packet.pts * self._time_base))
        self._last = packet.pts, packet.duration

    @property
    def jumps(self) -> Jumps:
        return tuple(self._jumps)


def steady_between(jumps: Jumps, begin: Fraction, end: Fraction) -> bool:
    """Whether the sound from ``begin`` to ``end`` seconds of the file follows on: no packet in that span lands
    elsewhere than where the one before it ends."""
    return not any(begin < after <= end for _, after in jumps)
