"""Whether a movie holds what its headers promise, and what to say when it does not.

A movie's frame count and times come from its packets (``media.movie``); its headers promise a count
(the stream's, or its duration times its rate). Frames missing from that promise are:

- an error naming them when they leave holes in otherwise evenly spaced frames (damage mid-file), or when
  an MPEG stream's tail after its last frame is not packets (``media.mpeg_tail``);
- nothing when they are an AVI's null frames (a capture that dropped frames: players show the frame before)
  or more holes than damage leaves (a rate that changed);
- a warning when a stream-copied cut dropped its last B-frames, when an MPEG stream ends inside a packet, or
  when the file simply ends early (truncated).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av

from .errors import MediaError
from .mpeg_tail import DAMAGED_BYTES, Tail
from .streams import VideoSource

MAX_HOLES = 3  # stretches of missing frames a damaged file shows; more whole-frame gaps are a rate that changed
MAX_CUT_B_FRAMES = 3  # B-frames in a row that a stream-copied cut can drop at its end (x264's default)


@dataclass(frozen=True)
class Promise:
    """What a movie's headers promise: ``frames`` (None: nothing), from a frame count in the file (``counted``) or
    its duration; ``discarded`` packets an edit list hides; the ``container`` format's FFmpeg name."""

    frames: int | None
    counted: bool
    discarded: int
    container: str


def check_promise(source: VideoSource, promise: Promise, pts: list[int], time_base: Fraction,
                  rate_given: bool) -> None:
    """Raise :class:`MediaError` for frames ``source`` lacks through damage, or add a warning for frames it lacks
    honestly (see the module's notes); ``pts`` are its frames' times, ``rate_given`` when its rate was replaced."""
    # Packets an edit list hides are left out of the promise; one whose time was damaged can hide a frame too.
    hidden = promise.discarded if promise.counted else 0
    promised = promise.frames
    if promised is not None and promised + hidden > source.frame_count:
        hole = missing_frames(pts, time_base, source.rate) if not rate_given else None
        if hole is not None and hole[2] > MAX_HOLES and (not promise.counted or promised <= source.frame_count):
            return  # the rate changed: no count to hold it to
        if hole is not None and source.frame_count + hole[1] >= promised - 1:  # the holes are the frames it lacks
            # An AVI's null frames (a capture that dropped frames): players show the frame before over them, so its
            # frames are variable-rate, at their times, not damaged.
            if promise.container == "avi":
                return
            before, missing, holes = hole
            if holes == 1 and cut_by_stream_copy(before, missing, source.frame_count):
                source.warnings.append(
                    f"{source.path}: {missing} frames are missing after frame {before} "
                    f"({float(source.time_of(before)):.2f} s), near its end (a stream-copied cut drops the "
                    "B-frames past it); rendering its frames at their times, the one before shown over the gap")
                return
            raise MediaError(f"{source.path}: the file is damaged: {missing} frames are missing after frame {before} "
                             f"({float(source.time_of(before)):.2f} s)")
    if promised is not None and promised > source.frame_count:
        source.warnings.append(
            f"{source.path}: the file promises {promised} frames but holds {source.frame_count} (truncated?); "
            f"rendering the {source.frame_count} it holds"
        )


def check_tail(source: VideoSource, tail: Tail, container: str) -> None:
    """An MPEG stream damaged after its last frame is an error; one cut short there, a warning naming it."""
    last = source.frame_count - 1
    where = f"frame {last} ({float(source.time_of(last)):.2f} s)"
    if tail.unreadable >= DAMAGED_BYTES:
        raise MediaError(f"{source.path}: the file is damaged: the {tail.unreadable / 1000:.0f} KB after {where} "
                         f"are not {container} packets, and the frames there are lost")
    if tail.cut:
        source.warnings.append(f"{source.path}: the file ends inside a packet after {where}: it was cut short "
                               f"(truncated?); rendering the {source.frame_count} frames it holds")


def promised_frames(container: av.container.InputContainer, stream: av.VideoStream,
                     rate: Fraction | None, discarded: int = 0) -> int | None:
    """The frame count the file's headers promise: the stream's count (less the ``discarded`` frames an edit list
    hides), else its duration times its rate."""
    if stream.frames:
        return stream.frames - discarded
    if rate is None:
        return None
    if stream.duration and stream.time_base:
        return round(stream.duration * stream.time_base * rate)
    end = _tag_seconds(stream.metadata.get("DURATION"))  # Matroska's per-track end time (ffmpeg, mkvmerge)
    if end is not None and stream.start_time is not None and stream.time_base:
        return round((end - stream.start_time * stream.time_base) * rate)
    if container.duration and len(container.streams) == 1:  # else another stream may outlast the pictures
        return round(Fraction(container.duration, av.time_base) * rate)
    return None


def _tag_seconds(text: str | None) -> Fraction | None:
    """``HH:MM:SS.fraction`` as seconds, or None."""
    try:
        hours, minutes, seconds = (text or "").split(":")
        return Fraction(int(hours) * 3600 + int(minutes) * 60) + Fraction(seconds)
    except ValueError:
        return None


def cut_by_stream_copy(before: int, missing: int, frame_count: int) -> bool:
    """Whether one hole of ``missing`` frames after frame ``before`` is what cutting a stream by copying its packets
    (``ffmpeg -t ... -c copy``) leaves at the end: the B-frames whose packets lie past the cut are dropped, the
    reference frame decoded before them is kept, so a few frames are missing just before the last few."""
    return missing <= MAX_CUT_B_FRAMES and frame_count - 1 - before <= MAX_CUT_B_FRAMES


def missing_frames(pts: list[int], time_base: Fraction, rate: Fraction) -> tuple[int, int, int] | None:
    """Holes in frames otherwise at a constant ``rate``: (the frame before the first, how many frames are missing,
    in how many holes). None when there is no hole, or when the steps are not whole frames (a variable rate)."""
    step = 1 / rate
    tolerance = max(time_base, Fraction(1, 1000)) * 1.5
    before, missing, holes = None, 0, 0
    for index in range(1, len(pts)):
        gap = (pts[index] - pts[index - 1]) * time_base
        if abs(gap - step) <= tolerance:
            continue
        frames = round(gap * rate)
        if frames < 2 or abs(gap - frames * step) > tolerance:
            return None
        missing += frames - 1
        holes += 1
        before = index - 1 if before is None else before
    return None if before is None else (before, missing, holes)
