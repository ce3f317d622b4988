"""A chunk's record: what a movie of output frames ``[first, stop)`` says of itself, so the chunk join
(``join``) knows each chunk's range, place in time, size, input (its name, length and fingerprint) and
settings without trusting file names.

Every movie the exact render writes carries one, in a container tag.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction

TAG = "motion_extraction"  # the container tag that holds a chunk's record (Matroska stores it in capitals)
RECORD_VERSION = 1


def _fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


@dataclass(frozen=True)
class ChunkRecord:
    """What a chunk movie says of itself: the output frames ``[first, stop)`` of a render of ``total`` frames."""

    first: int
    stop: int
    total: int
    begin: Fraction  # seconds from the input's first frame to the chunk's first frame
    end: Fraction  # ... to the end of its last frame
    rate: Fraction
    time_base: Fraction | None  # the input's, when its frame rate varies
    width: int
    height: int
    input_name: str
    input_frames: int
    settings: dict
    input_fingerprint: str | None = None  # media.fingerprint's, of the input (records written before it: None)
    math: str = "rgb"  # the path the look took (RenderRequest.math); records without it were rendered in RGB

    def to_tags(self) -> dict[str, str]:
        record = {
            "version": RECORD_VERSION, "frames": [self.first, self.stop], "total": self.total,
            "begin": _fraction(self.begin), "end": _fraction(self.end), "rate": _fraction(self.rate),
            "time_base": None if self.time_base is None else _fraction(self.time_base),
            "size": [self.width, self.height], "input": {"name": self.input_name, "frames": self.input_frames,
                                                            "fingerprint": self.input_fingerprint},
            "settings": self.settings,
        }
        if self.math != "rgb":  # the RGB path's record stays as it was before the planar path
            record["math"] = self.math
        return {TAG: json.dumps(record, separators=(",", ":"))}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> ChunkRecord | None:
        """The record in a movie's tags (names in lower case); ``None`` when it has none or an unknown one."""
        try:
            record = json.loads(tags[TAG])
            if record.get("version") != RECORD_VERSION:
                return None
            return cls(
                record["frames"][0], record["frames"][1], record["total"], Fraction(record["begin"]),
                Fraction(record["end"]), Fraction(record["rate"]),
                None if record["time_base"] is None else Fraction(record["time_base"]),
                record["size"][0], record["size"][1], record["input"]["name"], record["input"]["frames"],
                record["settings"], record["input"].get("fingerprint"), record.get("math", "rgb"),
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None


def chunk_tags(settings, source, first: int, stop: int, total: int, begin: Fraction, end: Fraction,
               width: int, height: int, math: str = "rgb") -> dict[str, str]:
    """The tags a render writes into a movie of output frames ``[first, stop)`` of ``source``, the look computed
    on the ``math`` path."""
    from ..media.fingerprint import fingerprint

    time_base = getattr(source, "time_base", None) if source.timestamps is not None else None
    return ChunkRecord(first, stop, total, begin, end, source.rate, time_base, width, height,
                       os.path.basename(str(source.path)), source.frame_count, settings.to_dict(),
                       fingerprint(source.path), math).to_tags()
