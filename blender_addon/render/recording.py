"""A render's motion data (``--data``, ``--motiongram``, ``--plot``): its writers opened before the first frame,
and each output frame's measures (``core.measures``) recorded as the frame passes.

These are outputs of a render, not options of the effect (they change no pixel). The exact engine
makes them; with ``--jobs``, each process measures its chunk and this one records them in order
(``render.jobs``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.measures import DEFAULT_THRESHOLD, MotionMeasures
from ..core.settings import Settings
from ..core.timing import plan_frame
from .request import DataRequest


def recorder(request: DataRequest, settings: Settings, source, input_path: Path | str, output: Path, start: int,
             overwrite: bool) -> object | None:
    """The :class:`~.media.data.MotionRecorder` ``request`` asks for (``None`` for none): files checked
    and opened (as temporaries), regions checked against the frame (``ValueError``)."""
    if not request.wanted:
        return None
    from ..media.data import MotionRecorder

    measures = MotionMeasures(settings, (source.height, source.width), list(request.regions),
                              DEFAULT_THRESHOLD if request.threshold is None else request.threshold)
    first = plan_frame(settings, source.frame_count, start).frame
    protect = [input_path, output]
    return MotionRecorder(
        measures, record(request, settings, source, input_path, measures), data=request.data,
        motiongram=request.motiongram, plot=request.plot, rate=float(source.rate),
        first_time=float(source.time_of(first)), overwrite=overwrite,
        protect=[path for path in protect if not isinstance(path, str)],
    )


def record(request: DataRequest, settings: Settings, source, input_path: Path | str,
           measures: MotionMeasures) -> dict:
    """How a data file was made: the exact command, the settings and the measuring options."""
    return {
        "tool": "motion_extract",
        "command": None if request.command is None else list(request.command),
        "working_directory": os.getcwd(),
        "input": str(input_path),
        "frame_rate": _rate_text(source.rate),
        "input_frames": source.frame_count,
        "frame_size": [source.width, source.height],
        "settings": settings.to_dict(),
        "motion_threshold": measures.threshold,
        "regions": [{"name": region.name, "x": region.x, "y": region.y, "width": region.width,
                     "height": region.height} for region in measures.regions[1:]],
    }


def _rate_text(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def recorded(frames: Iterator[np.ndarray], recorder, settings: Settings, source, start: int) -> Iterator[np.ndarray]:
    """``frames`` (output frames from ``start``, measured into ``recorder.measures``) with each frame's
    measures recorded as it passes; the files are published when the frames run out, discarded if
    the render stops before."""
    try:
        with recorder:
            for index, frame in enumerate(frames, start=start):
                time = float(source.time_of(plan_frame(settings, source.frame_count, index).frame))
                recorder.add(index, time)
                yield frame
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()
