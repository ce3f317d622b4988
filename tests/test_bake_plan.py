"""Bake Motion's pure parts: which output frames a trimmed strip shows (core.timing.output_range)."""

from __future__ import annotations

import pytest

from blender_addon.core.settings import Settings
from blender_addon.core.timing import output_frame_count, output_range, plan_frame

CASES = [
    Settings(offset=3),
    Settings(offset=3, edges="trim"),
    Settings(offset=-4, edges="trim"),
    Settings(offset=2, edges="gray"),
    Settings(offset=2, edges="source"),
    Settings(offset=2, time_colour=True, edges="trim"),
    Settings(offset=-1, time_colour=True, red_delay=3, edges="trim"),
    Settings(mode="freeze", reference=7),
]


@pytest.mark.parametrize("settings", CASES, ids=lambda s: f"{s.describe()}_{s.edges}{'_tc' if s.time_colour else ''}")
@pytest.mark.parametrize("first, stop", [(0, 20), (5, 12), (0, 3), (18, 20), (9, 10)])
def test_output_range_is_the_frames_whose_input_the_strip_shows(settings, first, stop):
    frame_count = 20
    total = output_frame_count(settings, frame_count)
    expected = [i for i in range(total) if first <= plan_frame(settings, frame_count, i).frame < stop]
    assert list(output_range(settings, frame_count, first, stop)) == expected
