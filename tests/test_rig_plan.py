"""The sequencer rig's numbers without Blender: spans from the time plan, curves that reproduce their
tables at every 8-bit level, trails unrolled as the engine decays them."""

from __future__ import annotations

import numpy as np
import pytest

from blender_addon.core import rig_plan
from blender_addon.core.effect import trail_decay_table
from blender_addon.core.settings import Settings
from blender_addon.core.timing import COMBINE, Span, output_size, paired_frames, plan_frames, trail_length

SETTINGS = [
    Settings(offset=3), Settings(offset=3, edges="source"), Settings(offset=-2, edges="gray"),
    Settings(offset=4, edges="trim"), Settings(offset=-3, edges="trim"), Settings(mode="freeze", reference=5),
    Settings(offset=2, time_colour=True, edges="source"), Settings(offset=-1, time_colour=True, edges="trim"),
]


def curve_levels(points: rig_plan.Points) -> np.ndarray:
    """What a CURVES modifier with VECTOR handles gives each 8-bit level: the polyline, to the nearest level."""
    xs, ys = zip(*points, strict=True)
    values = np.interp(rig_plan.LEVELS / 255.0, xs, ys) * 255.0
    return np.floor(values + 0.5).astype(int)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.describe()}_{s.edges}")
def test_paired_frames_are_those_the_time_plan_combines_inside_the_clip(settings):
    frame_count = 20
    combined = {plan.frame for plan in plan_frames(settings, frame_count) if plan.fill == COMBINE
                and all(0 <= partner < frame_count for partner in plan.partners)}
    assert set(paired_frames(settings, frame_count)) == combined


def test_spans_place_the_paired_frames_where_the_media_sits():
    media, visible = Span(10, 30), Span(12, 27)  # 20 media frames, trimmed by 2 and 3
    assert rig_plan.paired_span(Settings(offset=3, edges="gray"), media) == Span(13, 30)
    assert rig_plan.paired_span(Settings(offset=-2, edges="trim"), media) == Span(10, 28)
    assert rig_plan.paired_span(Settings(offset=3), media) == media  # hold pairs every frame
    gray = Settings(offset=3, edges="gray")
    paired = rig_plan.paired_span(gray, media).within(visible)
    assert paired == Span(13, 27) and len(paired) == 14 and not Span(5, 5)
    assert rig_plan.staged_span(gray, visible, paired) == visible
    assert rig_plan.shown_span(gray, visible, paired) == visible
    trim = Settings(offset=3, edges="trim")
    assert rig_plan.shown_span(trim, visible, paired) == rig_plan.staged_span(trim, visible, paired) == paired
    assert rig_plan.staged_span(Settings(offset=3, edges="source"), visible, paired) == paired


def test_output_size_doubles_for_the_layouts():
    assert output_size(Settings(), 160, 90) == (160, 90)
    assert output_size(Settings(layout="side"), 160, 90) == (320, 90)
    assert output_size(Settings(layout="stacked"), 160, 90) == (160, 180)


@pytest.mark.parametrize("amplify, look", [(1.0, "gray"), (2.5, "gray"), (0.4, "gray"), (3.0, "difference")])
def test_amplify_curve_gives_the_engines_levels(amplify, look):
    settings = Settings(amplify=amplify, look=look)
    pivot = settings.still_level
    expected = np.clip(np.floor(pivot + amplify * (rig_plan.LEVELS - pivot) + 0.5), 0, 255).astype(int)
    assert np.array_equal(curve_levels(rig_plan.amplify_points(settings)), expected)


def test_table_points_reproduce_any_table_with_one_point_per_change_of_slope():
    rng = np.random.default_rng(1)
    table = np.sort(rng.integers(0, 256, 256))
    assert np.array_equal(curve_levels(rig_plan.table_points(table)), table)
    assert len(rig_plan.table_points(np.arange(256))) == 2  # a straight line needs its ends only


@pytest.mark.parametrize("look", ["gray", "difference"])
def test_trail_code_is_a_bijection_growing_with_the_distance_from_the_still_level(look):
    settings = Settings(look=look, trails=0.8)
    code = rig_plan.trail_code(settings)
    assert sorted(code) == list(range(256))
    distance = np.abs(rig_plan.LEVELS - settings.still_level)
    order = np.argsort(code)
    assert np.all(np.diff(distance[order]) >= 0)


@pytest.mark.parametrize("look", ["gray", "difference"])
def test_trail_tables_decay_each_level_k_times_as_the_engine_does(look):
    settings = Settings(look=look, trails=0.7)
    pivot, decay = settings.still_level, trail_decay_table(settings.trails)
    decode = np.argsort(rig_plan.trail_code(settings))
    tables = rig_plan.trail_tables(settings, 3)
    level = 200
    magnitude = abs(level - pivot)
    for table in tables:
        magnitude = int(decay[magnitude])
        assert decode[table[level]] == pivot + magnitude
    assert len(tables) == 3


def test_trails_are_cut_off_and_said_to_be_approximate():
    assert rig_plan.approximations(Settings(offset=2, trails=0.5, overlay="screen", layout="side"), 100) == []
    assert rig_plan.approximations(Settings(glow=1.0), 100) == []
    long_trails = rig_plan.approximations(Settings(trails=0.95), 1000)
    assert len(long_trails) == 1 and long_trails[0].startswith(f"Trails are cut after {rig_plan.MAX_TRAIL_COPIES}")
    assert rig_plan.trail_copies(Settings(trails=0.95), 1000) == rig_plan.MAX_TRAIL_COPIES
    assert rig_plan.trail_copies(Settings(trails=0.95), 10) == 9  # never longer than the clip
    assert rig_plan.trail_copies(Settings(trails=0.5), 1000) == trail_length(0.5) < rig_plan.MAX_TRAIL_COPIES
    assert rig_plan.approximations(Settings(pre_blur=1.5), 100)[0].startswith("Pre-blur is Blender's Gaussian")


def test_stacked_compositor_passes_are_said_to_be_approximate():
    assert rig_plan.compositor_passes(Settings(look="matte", glow=1.0, tint=True, overlay="screen")) == [
        "the look", "glow", "colour", "overlay"]
    assert rig_plan.compositor_passes(Settings(pre_blur=1.0, saturation=0.5)) == ["the look", "colour"]
    assert rig_plan.approximations(Settings(glow=1.0, saturation=0.5), 100) == []  # two: within a level or two
    assert rig_plan.approximations(Settings(glow=1.0, tint=True, overlay="multiply"), 100) == [
        "Glow, colour and overlay are stacked compositor passes: the rig is up to about 4 levels from the exact "
        "engine"]


def test_the_note_is_given_where_the_rig_was_measured_four_levels_or_more_from_the_engine():
    """Measured against the bake on a lossless clip: (settings, the most levels apart)."""
    measured = [(dict(look="matte"), 2), (dict(tint=True), 2), (dict(saturation=2.0), 2), (dict(glow=0.6), 1),
                (dict(tint=True, saturation=1.5), 3), (dict(tint=True, glow=0.3), 3),
                (dict(look="matte", saturation=1.5), 3), (dict(look="matte", amplify=1.5), 3),
                (dict(look="matte", amplify=3.0), 5), (dict(look="matte", amplify=4.0), 6),
                (dict(tint=True, saturation=1.5, glow=0.3), 4), (dict(tint=True, saturation=1.5, overlay="screen"), 4)]
    for options, levels in measured:
        settings = Settings(offset=2).replace(**options)
        assert rig_plan.compositor_levels(settings) >= levels, options
        noted = [note for note in rig_plan.approximations(settings, 100) if "compositor pass" in note]
        assert bool(noted) == (levels >= rig_plan.APPROXIMATE_LEVELS), options
    assert rig_plan.approximations(Settings(look="matte", amplify=3.0), 100) == [
        "The look (amplified 3x) is a compositor pass: the rig is up to about 6 levels from the exact engine"]
    blurred = rig_plan.approximations(Settings(pre_blur=1.0, glow=1.0, overlay="screen"), 100)
    assert len(blurred) == 2 and blurred[1].startswith("The look, glow and overlay are stacked")
