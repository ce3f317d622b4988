"""Key Motion Data: the exact engine's measures keyed on the rig (or strip) as custom properties, for drivers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import bpy
import cv2
import pytest
from vse_helpers import FPS, HEIGHT, WIDTH, LabelLayout, new_scene, sample_clip, select_only, write_ffv1

from blender_addon import cli
from blender_addon.core.frequency import CONFIDENT_STRENGTH
from blender_addon.core.settings import LOOKS, MODES, OPTIONS_BY_NAME, Settings, acting_options
from blender_addon.vse import motion_keys
from blender_addon.vse.rig import record
from blender_addon.vse.strips import channelbag
from tests.frequency_helpers import Swing, swinging_clip

pytestmark = pytest.mark.usefixtures("registered")  # the add-on, registered once per module (conftest)
START = 10  # the scene frame where the clip starts


@pytest.fixture(scope="module")
def movie(tmp_path_factory) -> Path:
    return write_ffv1(sample_clip(16), tmp_path_factory.mktemp("keys") / "clip.mkv")


def keyed_properties(scene: bpy.types.Scene, strip: bpy.types.Strip) -> dict[str, int]:
    """The ``motion_*`` properties of ``strip`` that have keys, and how many each."""
    channels = channelbag(scene)
    if channels is None:
        return {}
    prefix = f'{strip.path_from_id()}["'
    return {curve.data_path[len(prefix):-2]: len(curve.keyframe_points) for curve in channels.fcurves
            if curve.data_path.startswith(prefix + motion_keys.PREFIX)}


def cli_rows(movie: Path, folder: Path, *options: str) -> list[dict[str, str]]:
    data = folder / "motion.csv"
    code = cli.main([str(movie), "-o", str(folder / "out.mkv"), "--data", str(data), "--overwrite", *options],
                    stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    with open(data, newline="") as stream:
        return list(csv.DictReader(stream))


def add_movie(scene: bpy.types.Scene, movie: Path) -> bpy.types.Strip:
    strip = scene.sequence_editor.strips.new_movie(name="clip", filepath=str(movie), channel=2, frame_start=START)
    select_only(scene, strip)
    return strip


def test_the_rig_is_keyed_with_the_command_lines_measures_and_drives_a_property(movie, tmp_path):
    scene = new_scene()
    add_movie(scene, movie)
    assert bpy.ops.sequencer.motion_extract(offset=2, look="difference") == {"FINISHED"}
    found = record.rig_of(scene.sequence_editor.active_strip)
    assert bpy.ops.sequencer.motion_key() == {"FINISHED"}
    keyed = keyed_properties(scene, found)
    assert sorted(keyed) == sorted(name for name in motion_keys.PROPERTIES.values() if "speed" not in name
                                   and "direction" not in name)
    assert keyed["motion_quantity"] == 16
    # A driver reads the motion: the rig's opacity follows the quantity of motion.
    driver = found.driver_add("blend_alpha").driver
    driver.type = "SCRIPTED"
    variable = driver.variables.new()
    variable.targets[0].id_type, variable.targets[0].id = "SCENE", scene
    variable.targets[0].data_path = f'{found.path_from_id()}["motion_quantity"]'
    driver.expression = f"{variable.name} / 10"
    rows = cli_rows(movie, tmp_path, "--offset", "2", "--look", "difference")
    assert len(rows) == 16
    for row in rows:
        scene.frame_set(START + int(row["frame"]))
        assert found["motion_quantity"] == pytest.approx(float(row["quantity"]), abs=1e-5), row["frame"]
        assert found.blend_alpha == pytest.approx(min(float(row["quantity"]) / 10, 1.0), abs=1e-5)
        if row["centroid_x"]:
            assert found["motion_x"] == pytest.approx(float(row["centroid_x"]), abs=1e-4)

    # Keyed again with other settings: the keys are replaced, not added to.
    assert bpy.ops.sequencer.motion_extract_update(offset=3) == {"FINISHED"}
    assert bpy.ops.sequencer.motion_key() == {"FINISHED"}
    assert keyed_properties(scene, found) == keyed
    rows = cli_rows(movie, tmp_path, "--offset", "3", "--look", "difference")
    for row in rows[::5]:
        scene.frame_set(START + int(row["frame"]))
        assert found["motion_quantity"] == pytest.approx(float(row["quantity"]), abs=1e-5), row["frame"]
    assert motion_keys.clear_keys(scene, found) == len(keyed)
    assert keyed_properties(scene, found) == {}


def test_a_plain_strip_is_keyed_with_the_flow_measures(movie, tmp_path):
    scene = new_scene()
    strip = add_movie(scene, movie)
    scene.motion_extraction.look = "flow"
    assert bpy.ops.sequencer.motion_key() == {"FINISHED"}
    keyed = keyed_properties(scene, strip)
    assert set(keyed) == set(motion_keys.PROPERTIES.values())
    rows = cli_rows(movie, tmp_path, "--look", "flow")
    row = rows[7]
    scene.frame_set(START + 7)
    assert strip["motion_speed"] == pytest.approx(float(row["flow_speed"]), abs=1e-5)
    assert "keyed by Key Motion Data" in strip.id_properties_ui("motion_speed").as_dict()["description"]


def test_key_motion_data_takes_the_settings_as_keywords(movie, tmp_path):
    scene = new_scene()
    strip = add_movie(scene, movie)
    scene.motion_extraction.look = "difference"  # set in the panel, not given by the script
    assert bpy.ops.sequencer.motion_key(offset=3) == {"FINISHED"}
    rows = cli_rows(movie, tmp_path, "--offset", "3", "--look", "difference")
    assert keyed_properties(scene, strip)["motion_quantity"] == len(rows) == 16
    for row in rows[::4]:
        scene.frame_set(START + int(row["frame"]))
        assert strip["motion_quantity"] == pytest.approx(float(row["quantity"]), abs=1e-5), row["frame"]
    assert scene.motion_extraction.offset == 1  # the panel's own settings are left as they were


def test_key_motion_data_is_greyed_out_without_a_strip():
    new_scene()
    assert not bpy.ops.sequencer.motion_key.poll()


def test_the_rig_refuses_the_flow_look_which_bake_motion_renders(movie):
    scene = new_scene()
    add_movie(scene, movie)
    with pytest.raises(RuntimeError, match="look flow: the sequencer rig cannot compute optical flow"):
        bpy.ops.sequencer.motion_extract(look="flow")
    assert record.rig_of(scene.sequence_editor.active_strip) is None


class Layout:
    """A stand-in for a UILayout that records what a panel draws."""

    def __init__(self) -> None:
        self.drawn: list[str] = []
        self.use_property_split = self.use_property_decorate = False

    def prop(self, group, name: str, **options) -> None:
        self.drawn.append(name)

    def label(self, text: str = "", **options) -> None:
        self.drawn.append(text)

    def column(self, **options) -> Layout:
        return self

    def row(self, **options) -> Layout:
        return self


def test_the_panel_shows_the_flow_options_with_the_flow_look():
    from blender_addon.ui.panel import draw_settings

    scene = new_scene()
    group = scene.motion_extraction
    for look, shown in (("gray", False), ("flow", True)):
        group.look = look
        layout = Layout()
        draw_settings(layout, group)
        assert ("flow_scale" in layout.drawn and "flow_legend" in layout.drawn) is shown
        assert any("Bake Motion renders it" in line for line in layout.drawn) is shown


def test_the_panel_draws_exactly_the_options_that_act():
    from blender_addon.ui.panel import draw_settings

    group = new_scene().motion_extraction
    for look, mode in ((look.value, mode.value) for look in LOOKS for mode in MODES):
        for gates in ({}, {"glow": 1.5, "tint": True, "overlay": "multiply", "delay_unit": "seconds"},
                      {"time_colour": True, "channel_delay_unit": "seconds"}):
            for name, value in {"look": look, "mode": mode, "glow": 0.0, "tint": False, "overlay": "none",
                                "delay_unit": "frames", "time_colour": False, **gates}.items():
                setattr(group, name, value)
            layout = Layout()
            draw_settings(layout, group)
            drawn = [name for name in layout.drawn if name in OPTIONS_BY_NAME]
            assert drawn == [option.name for option in acting_options(group)], (look, mode, gates)
            assert ("glow_radius" in drawn, "tint_colour" in drawn) == (bool(gates.get("glow")), "tint" in gates)


def test_key_motion_data_under_way_shows_progress_and_esc_leaves_the_keys(movie, monkeypatch):
    """What the modal operator does with a window: the measures on a thread, the progress on the timer, Esc."""
    import time

    from blender_addon.ui.bake import BakeRun
    from blender_addon.vse import bake

    def paced(plan, progress, cancelled):  # 30 ms a frame, so there is time to cancel part way
        def report(done: int) -> None:
            time.sleep(0.03)
            progress(done)

        return motion_keys.measure_plan(plan, report, cancelled)

    scene = new_scene()
    strip = add_movie(scene, movie)
    plan = bake.plan_bake(scene, strip, Settings(offset=2, look="difference"), ".mkv")
    assert bpy.ops.sequencer.motion_key() == {"FINISHED"}  # the panel's settings (offset 1, gray): the keys before
    before = keyed_properties(scene, strip)
    scene.frame_set(START + 5)
    quantity_before = strip["motion_quantity"]

    run = BakeRun(bpy.context, plan, paced, "Measuring motion")
    while run.job.done < 3:
        assert run.job.running, run.job.error
        time.sleep(0.01)
    run.show()
    run.cancel()
    assert run.job.cancelled and not run.job.running and run.job.error is None and run.job.result is None
    assert 3 <= run.job.done < plan.frame_count == 16
    assert keyed_properties(scene, strip) == before
    scene.frame_set(START + 5)
    assert strip["motion_quantity"] == quantity_before

    run = BakeRun(bpy.context, plan, paced, "Measuring motion")  # left to finish, as the timer events see it
    while run.job.running:
        run.show()
        time.sleep(0.02)
    run.end()
    assert run.job.error is None and run.job.done == 16
    motion_keys.key_measures(scene, plan, run.job.result)
    assert keyed_properties(scene, strip) == before
    scene.frame_set(START + 5)
    expected = motion_keys.measure_plan(plan).values["motion_quantity"][5]
    assert strip["motion_quantity"] == pytest.approx(expected, abs=1e-5)
    assert abs(expected - quantity_before) > 0.01  # other settings, other values: the keys did change


def swinging_movie(path: Path, hz: float, seconds: float) -> Path:
    """A movie at the scene's rate whose textured patch swings at ``hz`` (lossless: FFV1)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), FPS, (WIDTH, HEIGHT))
    for frame in swinging_clip([Swing(hz, 60, 25)], frames=int(seconds * FPS), fps=FPS, size=(HEIGHT, WIDTH),
                               noise=3.0):
        writer.write(frame)
    writer.release()
    return path


def panel_labels(scene: bpy.types.Scene) -> list[str]:
    """The rhythm lines the Motion panel draws for the active strip."""
    from blender_addon.ui.panel import SEQUENCER_PT_motion_extraction

    labels: list[str] = []
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        SEQUENCER_PT_motion_extraction.draw(SimpleNamespace(layout=LabelLayout(labels)), bpy.context)
    return [label for label in labels if label.startswith("Rhythm")]


def test_the_rhythm_is_keyed_over_a_sliding_window_and_the_panel_shows_it(tmp_path):
    seconds, window, hz = 7.0, 4.0, 1.35
    scene = new_scene()
    strip = add_movie(scene, swinging_movie(tmp_path / "swing.mkv", hz, seconds))
    assert panel_labels(scene) == ["Rhythm: not keyed (Key Motion Data keys it)"]
    assert bpy.ops.sequencer.motion_key(frequency_window=window) == {"FINISHED"}
    keyed = keyed_properties(scene, strip)
    frames = int(seconds * FPS)
    first_reading = int(3 * FPS) - 1  # the window's first 3 s
    assert keyed[motion_keys.STRENGTH] == frames - first_reading
    assert keyed[motion_keys.FREQUENCY] == frames - first_reading  # a clear rhythm wherever it is read
    for frame in range(int(window * FPS), frames, 7):  # once the window is full
        scene.frame_set(START + frame)
        assert strip[motion_keys.FREQUENCY] == pytest.approx(hz, rel=0.01), frame
        assert strip[motion_keys.STRENGTH] >= CONFIDENT_STRENGTH
    (label,) = panel_labels(scene)
    found = strip[motion_keys.FREQUENCY]
    assert label == f"Rhythm: {found:.3g} Hz, {60 * found:.1f} per minute (from Key Motion Data's keys)"
    assert "clear rhythm" in strip.id_properties_ui(motion_keys.STRENGTH).as_dict()["description"]

    # Keyed again without the rhythm: its keys go with the others'.
    assert bpy.ops.sequencer.motion_key(frequency_window=0) == {"FINISHED"}
    assert not {motion_keys.FREQUENCY, motion_keys.STRENGTH} & set(keyed_properties(scene, strip))
    assert panel_labels(scene) == ["Rhythm: not keyed (Key Motion Data keys it)"]  # no stale reading


def test_the_rhythm_is_refitted_four_times_a_second_and_held_between(tmp_path, monkeypatch):
    from blender_addon import media
    from blender_addon.core.frequency import SlidingFrequency

    seconds, frames = 5.0, int(5.0 * FPS)
    source = media.open_source(swinging_movie(tmp_path / "swing.mkv", 1.35, seconds))
    fitted, fit = [], SlidingFrequency.current
    monkeypatch.setattr(SlidingFrequency, "current", lambda self: fitted.append(len(self._window)) or fit(self))
    rhythm = motion_keys.FrameRhythm(source, FPS, 0, 4.0)
    try:
        strengths = [rhythm.values(frame)[motion_keys.STRENGTH] for frame in range(frames)]
    finally:
        rhythm.close()
    first, every = int(3 * FPS) - 1, round(FPS / 4)
    assert strengths[first - 1] is None and None not in strengths[first:]  # a value at every frame from the first
    refits = range(first, frames, every)
    assert len([count for count in fitted if count >= first + 1]) == len(refits)
    assert all(strengths[frame] == strengths[frame - 1] for frame in range(first + 1, frames) if frame not in refits)



def test_a_clip_too_short_for_a_reading_says_why_the_rhythm_is_not_keyed(tmp_path, capfd):
    scene = new_scene()
    strip = add_movie(scene, swinging_movie(tmp_path / "short.mkv", 1.35, 2.0))
    assert bpy.ops.sequencer.motion_key() == {"FINISHED"}
    keyed = keyed_properties(scene, strip)
    assert not {motion_keys.FREQUENCY, motion_keys.STRENGTH} & set(keyed)
    reason = "the 2.0 s shown are less than the 3 s its first reading needs"
    assert f"'clip': {len(keyed)} properties, {int(2.0 * FPS)} frames; no rhythm: {reason}" in capfd.readouterr().out
    assert panel_labels(scene) == [f"Rhythm: not keyed ({reason})"]

    assert bpy.ops.sequencer.motion_key(frequency_window=0) == {"FINISHED"}  # no rhythm asked for: none missed
    assert panel_labels(scene) == ["Rhythm: not keyed (Key Motion Data keys it)"]
