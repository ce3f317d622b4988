"""A chunk's record: what a movie of output frames ``[first, stop)`` says of itself, so the chunk join
(``join``) knows each chunk's range, place in time, size, input (its name, length and fingerprint) and
settings without trusting file names.

Every movie the exact render writes carries one, in a container tag. A chunk rendered with a spectrum also
carries its motion signals (:class:`ChunkSignals`) in a file beside it, published with it and named in its
record, so the join can take the spectrum of the whole render.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..core.frequency import region_names

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
    signals: dict | None = None  # {"file": name beside the movie, "token": its token}: its ChunkSignals, if any

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
        if self.signals is not None:
            record["signals"] = self.signals
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
                record.get("signals"),
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None


def chunk_tags(settings, source, first: int, stop: int, total: int, begin: Fraction, end: Fraction,
               width: int, height: int, math: str = "rgb", signals: dict | None = None) -> dict[str, str]:
    """The tags a render writes into a movie of output frames ``[first, stop)`` of ``source``, the look computed
    on the ``math`` path, its motion signals in the file ``signals`` names (if any)."""
    from ..media.fingerprint import fingerprint

    time_base = getattr(source, "time_base", None) if source.timestamps is not None else None
    return ChunkRecord(first, stop, total, begin, end, source.rate, time_base, width, height,
                       os.path.basename(str(source.path)), source.frame_count, settings.to_dict(),
                       fingerprint(source.path), math, signals).to_tags()


SIGNALS_VERSION = 1


@dataclass(frozen=True)
class ChunkSignals:
    """A chunk's motion signals: each region's displacement step (x, y) at each of its output frames
    ``[first, stop)``, as the whole render's spectrum sums them (``steps``: frames x regions x 2, float32, exact);
    a chunk's first step is measured from the input frame before its first, so no step between two chunks is
    lost. ``regions`` are the ``--roi`` regions ``(name, x, y, width, height)`` (the whole ``frame`` comes first in
    ``steps``); ``band`` the ``--band`` asked for; ``lead``: the whole render's spectrum starts with one sample more,
    at the input frame before its first output frame's (only a chunk from frame 0 says so). ``token`` ties the
    signals to their movie's record. From a variable-rate source, ``times`` holds each sample's time in seconds
    (the lead's first), and ``rate`` and ``nyquist`` the whole source's (``core.frequency.sampling``); else all
    three are ``None``."""

    token: str
    first: int
    stop: int
    regions: tuple[tuple[str, int, int, int, int], ...]
    band: tuple[float, float] | None
    lead: bool
    steps: np.ndarray
    times: np.ndarray | None = None
    nyquist: float | None = None
    rate: Fraction | None = None

    @property
    def names(self) -> list[str]:
        return region_names(self.regions)

    def to_text(self) -> str:
        steps = np.ascontiguousarray(self.steps, "<f4")
        record = {
            "version": SIGNALS_VERSION, "token": self.token, "frames": [self.first, self.stop],
            "regions": [list(region) for region in self.regions],
            "band": None if self.band is None else list(self.band), "lead": self.lead,
            "steps": base64.b64encode(steps.tobytes()).decode("ascii"),
        }
        if self.times is not None:
            record["times"] = base64.b64encode(np.ascontiguousarray(self.times, "<f8").tobytes()).decode("ascii")
            record["nyquist"], record["rate"] = self.nyquist, _fraction(self.rate)
        return json.dumps(record, separators=(",", ":")) + "\n"

    @classmethod
    def from_text(cls, text: str) -> ChunkSignals | None:
        """The signals in ``text``; ``None`` when it holds none, an unknown version, or steps of the wrong size."""
        try:
            record = json.loads(text)
            if record.get("version") != SIGNALS_VERSION:
                return None
            first, stop = (int(value) for value in record["frames"])
            regions = tuple((str(name), int(x), int(y), int(w), int(h)) for name, x, y, w, h in record["regions"])
            steps = np.frombuffer(base64.b64decode(record["steps"], validate=True), "<f4")
            if steps.size != (stop - first) * (len(regions) + 1) * 2:
                return None
            band = record["band"]
            lead = bool(record["lead"])
            times, nyquist, rate = None, None, None
            if "times" in record:
                times = np.frombuffer(base64.b64decode(record["times"], validate=True), "<f8")
                nyquist, rate = float(record["nyquist"]), Fraction(record["rate"])
                if times.size != stop - first + lead:
                    return None
            return cls(str(record["token"]), first, stop, regions,
                       None if band is None else (float(band[0]), float(band[1])), lead,
                       steps.reshape(stop - first, len(regions) + 1, 2), times, nyquist, rate)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError):
            return None
