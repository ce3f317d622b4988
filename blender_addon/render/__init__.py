"""The render service beneath every front end: a :class:`RenderRequest` in, a :class:`RenderResult` out.

``render(request, progress=None, cancelled=None)`` is the one exact render (``exact``); ``--jobs`` splits it
over processes (``jobs``); every movie it writes carries its chunk record (``chunk_record``); its motion
data is recorded frame by frame (``recording``), and how fast things move back and forth (``frequency``);
its warnings go through ``logging`` and into its result (``log``). It imports ``core`` and ``media`` only
(PyAV and OpenCV once a render starts), never a front end.
"""

from .exact import render, whole_render_math
from .inputs import in_frames, load_media, planned_frames, sequencer_frames_problem
from .request import (
    AlignmentSummary,
    DataRequest,
    EncodeOptions,
    FrequencyRequest,
    RenderCancelled,
    RenderError,
    RenderRequest,
    RenderResult,
    RequestError,
    in_flag_terms,
    option_flag,
)

__all__ = [
    "AlignmentSummary", "DataRequest", "EncodeOptions", "FrequencyRequest", "RenderCancelled", "RenderError",
    "RenderRequest", "RenderResult", "RequestError", "in_flag_terms", "in_frames", "load_media", "option_flag",
    "planned_frames", "render", "sequencer_frames_problem", "whole_render_math",
]
