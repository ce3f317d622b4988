"""The rig in a real edit (issue 16, items 1-4): trims, moves and splits of the rig; transitions and effects
around the source; keyframes and retiming; hand edits on the helpers and on the rig.

Each test builds a small edit (two shots cut on channel 1, a half-transparent title over the cut on
channel 2, transitions where the case needs them), runs Extract / Update / Remove through the
operators, and checks that every strip that is not the rig's keeps its place, channel, length and
pixels (the edit rendered with the source muted before, and with the rig muted after, must be equal),
and that the rig's own frames equal the exact engine's frames of the source as the sequencer showed
it. Sources are lossless PNG sequences: the tolerance is 0 levels everywhere the rig claims support.
"""

from __future__ import annotations

import bpy
import pytest
from edit_helpers import (
    engine_frames,
    extract,
    places,
    render_alone,
    render_muted,
    reports,
    run,
    two_shots_and_a_title,
)
from vse_helpers import FRAMES, add_image_strip, max_mean_difference, new_scene, render_frames, select_only

from blender_addon.core.settings import Settings
from blender_addon.vse.compat import timing
from blender_addon.vse.rig import build, record
from blender_addon.vse.strips import animated_property, strip_fcurves

pytestmark = pytest.mark.usefixtures("registered")  # the add-on, registered once per module (conftest)

EDIT_END = 2 * FRAMES + 1  # the edit's frames are 1 to 32


def span(strip: bpy.types.Strip) -> tuple[int, int]:
    return timing(strip).left_handle, timing(strip).right_handle


def without(found: dict, *names: str) -> dict:
    return {name: place for name, place in found.items() if name not in names}


def active(scene: bpy.types.Scene) -> bpy.types.Strip:
    return scene.sequence_editor.active_strip


# --- 1. edits to the rig are respected --------------------------------------------------------------


def test_update_keeps_a_trimmed_rig_where_the_artist_put_it_with_undo_and_redo(png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    others = render_muted(scene, [a], 1, EDIT_END, tmp_path / "others")
    alone = render_alone(scene, a, tmp_path / "a")
    before = without(places(scene), "a")
    assert run("motion_extract", scene, a, offset=2) == {"FINISHED"}
    found = active(scene)
    timing(found).right_handle = 12  # the artist trims the rig's tail
    bpy.ops.ed.undo_push(message="trim")
    assert bpy.ops.sequencer.motion_extract_update(offset=3) == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Update Motion Rig")
    assert (found.channel, span(found)) == (1, (1, 12))
    assert places(scene) == before  # b and the title where they were
    assert max_mean_difference(render_muted(scene, [found], 1, EDIT_END, tmp_path / "after"), others) == (0, 0.0)
    expected = engine_frames(alone, Settings(offset=3))[:11]
    assert max_mean_difference(render_alone(scene, found, tmp_path / "rig"), expected) == (0, 0.0)

    bpy.ops.ed.undo()
    scene = bpy.context.scene
    found = scene.sequence_editor.strips["a Motion"]
    assert record.rig_settings(found).offset == 2 and (found.channel, span(found)) == (1, (1, 12))
    bpy.ops.ed.redo()
    found = bpy.context.scene.sequence_editor.strips["a Motion"]
    assert record.rig_settings(found).offset == 3 and (found.channel, span(found)) == (1, (1, 12))


def test_remove_gives_the_source_the_rigs_trims_and_place(png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    alone = render_alone(scene, a, tmp_path / "a")
    before = without(places(scene), "a")
    found = build.build_rig(scene, a, Settings(offset=2))
    timing(found).left_handle, timing(found).right_handle = 4, 12
    select = scene.sequence_editor
    select.active_strip = found
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    a = scene.sequence_editor.strips["a"]
    assert (a.channel, span(a), timing(a).content_start) == (1, (4, 12), 1)
    assert places(scene) == {**before, "a": places(scene)["a"]}
    assert max_mean_difference(render_alone(scene, a, tmp_path / "back"), alone[3:11]) == (0, 0.0)


def test_a_moved_rig_is_removed_where_it_is(png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    found = build.build_rig(scene, a, Settings(offset=2))
    timing(found).content_start += 40  # moved as one, past the edit, and up two channels
    found.channel = 3
    scene.sequence_editor.active_strip = found
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    a = scene.sequence_editor.strips["a"]
    assert (a.channel, span(a), timing(a).content_start) == (3, (41, 57), 41)


def test_an_untrimmed_rig_follows_its_settings_into_free_room_only(png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    assert run("motion_extract", scene, a, offset=4, edges="trim") == {"FINISHED"}
    found = active(scene)
    assert span(found) == (5, 17)  # the first 4 frames have no partner
    assert bpy.ops.sequencer.motion_extract_update(edges="hold") == {"FINISHED"}
    assert (found.channel, span(found)) == (1, (1, 17))  # untrimmed: it shows what the settings show
    assert bpy.ops.sequencer.motion_extract_update(edges="trim") == {"FINISHED"}
    assert span(found) == (5, 17)
    # The artist fills the gap with another clip: going back to hold must not cover it.
    cutaway = add_image_strip(scene, png_files[:4], channel=1, start=1, name="cutaway")
    before = places(scene)
    scene.sequence_editor.active_strip = found
    assert bpy.ops.sequencer.motion_extract_update(edges="hold") == {"FINISHED"}
    assert (found.channel, span(found)) == (1, (5, 17)) and places(scene) == before
    assert span(cutaway) == (1, 5)


def test_a_split_rig_is_two_rigs_each_updating_and_removing_within_its_range(png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    whole = render_muted(scene, [title], 1, EDIT_END, tmp_path / "whole")
    alone = render_alone(scene, a, tmp_path / "a")
    before = without(places(scene), "a")
    found = build.build_rig(scene, a, Settings(offset=2))
    second = found.split(frame=9, split_method="SOFT")
    assert record.is_rig(second) and (span(found), span(second)) == ((1, 9), (9, 17))
    for half in (found, second):
        scene.sequence_editor.active_strip = half
        assert bpy.ops.sequencer.motion_extract_update(offset=3, look="difference") == {"FINISHED"}
    assert (span(found), span(second)) == ((1, 9), (9, 17)) and found.channel == second.channel == 1
    assert places(scene) == before
    expected = engine_frames(alone, Settings(offset=3, look="difference"))
    assert max_mean_difference(render_alone(scene, found, tmp_path / "first"), expected[:8]) == (0, 0.0)
    assert max_mean_difference(render_alone(scene, second, tmp_path / "second"), expected[8:]) == (0, 0.0)
    sources = []
    for half in (found, second):
        scene.sequence_editor.active_strip = half
        assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
        sources.append(active(scene))
    assert [(strip.channel, span(strip)) for strip in sources] == [(1, (1, 9)), (1, (9, 17))]
    assert max_mean_difference(render_muted(scene, [title], 1, EDIT_END, tmp_path / "back"), whole) == (0, 0.0)


def test_hand_edits_on_a_split_rigs_renamed_helpers_are_kept(png_files, capfd):
    """Blender renames the second half's helpers ('a Partner.001'); their hand edits are still known as such."""
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    found = build.build_rig(scene, a, Settings(offset=2))
    second = found.split(frame=9, split_method="SOFT")
    partner = next(strip for strip in second.strips if strip.get(record.ROLE_KEY) == record.PARTNER)
    assert partner.name != "a Partner"  # renamed by the split
    partner.blend_alpha = 0.7
    with bpy.context.temp_override(sequencer_scene=scene):
        partner.modifiers.new(name="Hand", type="COLOR_BALANCE")
    bpy.ops.ed.undo_push(message="hand edits")
    capfd.readouterr()
    select_only(scene, second)
    assert bpy.ops.sequencer.motion_extract_update(amplify=2.0) == {"FINISHED"}
    partner = next(strip for strip in second.strips if strip.get(record.ROLE_KEY) == record.PARTNER)
    assert partner.blend_alpha == pytest.approx(0.7) and [m.name for m in partner.modifiers] == ["Invert", "Hand"]
    assert not [line for line in reports(capfd.readouterr().out) if line.startswith("Warning")]
    first_partner = found.strips["a Partner"]  # the first half's own helper is untouched
    assert first_partner.blend_alpha == pytest.approx(0.5) and [m.name for m in first_partner.modifiers] == ["Invert"]


def test_a_rig_inside_the_artists_own_meta_keeps_to_it(png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    scene_strips = scene.sequence_editor.strips
    group = scene_strips.new_meta(name="Scene 1", channel=3, frame_start=1)
    for strip in (a, b):
        strip.move_to_meta(group)
    timing(group).left_handle, timing(group).right_handle = 1, EDIT_END
    whole = render_frames(scene, 1, EDIT_END, tmp_path / "whole")
    before = places(scene)
    assert run("motion_extract", scene, a, offset=2, look="difference") == {"FINISHED"}
    found = active(scene)
    assert found.parent_meta() == group and found.channel == 1 and span(found) == (1, 17)
    assert without(places(scene), "a") == without(before, "a")
    timing(found).right_handle = 12
    assert bpy.ops.sequencer.motion_extract_update(offset=3) == {"FINISHED"}
    assert (found.parent_meta(), found.channel, span(found)) == (group, 1, (1, 12))
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    a = scene.sequence_editor.strips_all["a"]
    assert (a.parent_meta(), a.channel, span(a)) == (group, 1, (1, 12))
    timing(a).right_handle = 17  # the artist drags the tail back: the edit is as it was
    assert places(scene) == before
    assert max_mean_difference(render_frames(scene, 1, EDIT_END, tmp_path / "back"), whole) == (0, 0.0)


# --- 2. neighbours stay out ---------------------------------------------------------------------------


def cross_edit(scene: bpy.types.Scene, files: list) -> tuple[bpy.types.Strip, ...]:
    """Shot "a" (1-16, channel 1) dissolving over frames 13-16 into "b" (13-28, channel 2), and a Gaussian
    blur over the whole of "b" on channel 4."""
    strips = scene.sequence_editor.strips
    a = add_image_strip(scene, files, channel=1, start=1, name="a")
    b = add_image_strip(scene, files[::-1], channel=2, start=13, name="b")
    cross = strips.new_effect(name="Cross", type="CROSS", channel=3, frame_start=13, length=4, input1=a, input2=b)
    blur = strips.new_effect(name="Blur", type="GAUSSIAN_BLUR", channel=4, frame_start=13, length=16, input1=b)
    blur.size_x = blur.size_y = 3
    return a, b, cross, blur


def test_a_transition_from_the_source_stays_in_the_edit_and_takes_the_rig(png_files, tmp_path):
    scene = new_scene()
    a, b, cross, blur = cross_edit(scene, png_files)
    whole = render_frames(scene, 1, 29, tmp_path / "whole")
    alone = render_alone(scene, a, tmp_path / "a")
    before = places(scene)
    bpy.ops.ed.undo_push(message="the edit")
    assert run("motion_extract", scene, a, offset=2) == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Extract Motion")
    found = active(scene)
    assert [strip.name for strip in found.strips] == ["a", "a Partner"]  # nothing else pulled in
    assert without(places(scene), "a") == without(before, "a")
    assert cross.input_1 == found and cross.input_2 == b
    after = render_frames(scene, 1, 29, tmp_path / "after")
    assert max_mean_difference(after[16:], whole[16:]) == (0, 0.0)  # b's own frames, blurred, untouched
    assert max_mean_difference(render_alone(scene, found, tmp_path / "rig"),
                               engine_frames(alone, Settings(offset=2))) == (0, 0.0)
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Remove Motion Rig")
    scene = bpy.context.scene
    assert places(scene) == before and scene.sequence_editor.strips["Cross"].input_1.name == "a"
    assert max_mean_difference(render_frames(scene, 1, 29, tmp_path / "back"), whole) == (0, 0.0)
    bpy.ops.ed.undo()  # back to the rig, the transition taking it
    strips = bpy.context.scene.sequence_editor.strips
    assert record.is_rig(strips["a Motion"]) and strips["Cross"].input_1 == strips["a Motion"]
    bpy.ops.ed.undo()  # back to the edit as it was
    scene = bpy.context.scene
    assert places(scene) == before and scene.sequence_editor.strips["Cross"].input_1.name == "a"
    bpy.ops.ed.redo()
    strips = bpy.context.scene.sequence_editor.strips
    assert strips["Cross"].input_1 == strips["a Motion"] and without(places(bpy.context.scene), "a") == without(
        before, "a")


def test_the_clip_a_transition_leads_into_can_be_extracted_too(png_files, tmp_path):
    scene = new_scene()
    a, b, cross, blur = cross_edit(scene, png_files)
    alone = render_alone(scene, b, tmp_path / "b")
    before = places(scene)
    assert run("motion_extract", scene, b, offset=-2, look="difference") == {"FINISHED"}
    found = active(scene)
    assert found.channel == 2 and span(found) == (13, 29)
    assert (cross.input_2, blur.input_1) == (found, found)
    assert without(places(scene), "b") == without(before, "b")
    assert max_mean_difference(render_alone(scene, found, tmp_path / "rig"),
                               engine_frames(alone, Settings(offset=-2, look="difference"))) == (0, 0.0)


def test_a_speed_effect_on_the_source_is_refused_with_the_reason(png_files):
    scene = new_scene()
    a = add_image_strip(scene, png_files, channel=1, start=1, name="a")
    speed = scene.sequence_editor.strips.new_effect(name="Speed", type="SPEED", channel=2, frame_start=1, length=16,
                                                   input1=a)
    before = places(scene)
    with pytest.raises(RuntimeError, match=r"^Error: 'a' is retimed by 'Speed': the rig cannot pair retimed frames "
                                           r"yet; bake it without the retiming \(Bake Motion\) and retime the "
                                           r"baked strip\n?$"):
        run("motion_extract", scene, a)
    assert places(scene) == before and speed.input_1 == a


# --- 3. the partner is the source, as animated -----------------------------------------------------


def animate(scene: bpy.types.Scene, strip: bpy.types.Strip) -> None:
    """Key ``strip``'s colour multiplier down over its frames, and the brightness of a modifier up."""
    for frame, value in ((1, 1.0), (16, 0.4)):
        strip.color_multiply = value
        strip.keyframe_insert("color_multiply", frame=frame)
    with bpy.context.temp_override(sequencer_scene=scene):
        grade = strip.modifiers.new(name="Grade", type="BRIGHT_CONTRAST")
    for frame, value in ((4, 0.0), (12, 0.3)):
        grade.bright = value
        grade.keyframe_insert("bright", frame=frame)


def value_at(strip: bpy.types.Strip, prop: str, frame: float) -> float:
    """The value ``strip``'s keys give its property ``prop`` at scene ``frame``."""
    (fcurve,) = [fcurve for fcurve in strip_fcurves(strip) if animated_property(strip, fcurve) == prop]
    return fcurve.evaluate(frame)


def key_frames(scene: bpy.types.Scene, strip: bpy.types.Strip, prop: str) -> list[float]:
    """The frames of the keys on ``strip``'s property ``prop``."""
    return [point.co[0] for fcurve in strip_fcurves(strip) if animated_property(strip, fcurve) == prop
            for point in fcurve.keyframe_points]


@pytest.mark.parametrize("settings", [Settings(offset=3, look="difference"),
                                      Settings(offset=2, time_colour=True, red_delay=1, blue_delay=2),
                                      Settings(offset=-2, edges="gray", layout="side"),
                                      Settings(mode="freeze", reference=5, look="difference", amplify=2.0),
                                      Settings(offset=2, look="difference", trails=0.6)],
                         ids=["difference", "time-colour", "side-layout", "freeze", "trails"])
def test_keyframes_of_the_source_carry_to_every_copy_shifted_by_its_lag(settings, png_files, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    animate(scene, a)
    alone = render_alone(scene, a, tmp_path / "a")
    others = render_muted(scene, [a], 1, EDIT_END, tmp_path / "others")
    assert extract(scene, a, settings) == {"FINISHED"}
    found = active(scene)
    copies = [strip for strip in scene.sequence_editor.strips_all
              if record.rig_of(strip) == found and strip.type == "IMAGE" and strip != a]
    assert copies
    for copy in copies:
        if timing(copy).content_duration == 1:  # freeze mode's reference: the source as it is at that frame
            assert not key_frames(scene, copy, "color_multiply")
            frame = timing(a).content_start + settings.reference
            assert copy.color_multiply == pytest.approx(value_at(a, "color_multiply", frame))
            assert copy.modifiers["Grade"].bright == pytest.approx(value_at(a, 'modifiers["Grade"].bright', frame))
            continue
        lag = int(timing(copy).content_start - timing(a).content_start)
        assert key_frames(scene, copy, "color_multiply") == [1 + lag, 16 + lag]
        assert key_frames(scene, copy, 'modifiers["Grade"].bright') == [4 + lag, 12 + lag]
    assert max_mean_difference(render_muted(scene, [found], 1, EDIT_END, tmp_path / "after"), others) == (0, 0.0)
    if settings.layout == "motion":
        assert max_mean_difference(render_alone(scene, found, tmp_path / "rig"),
                                   engine_frames(alone, settings)) == (0, 0.0)


def test_a_fading_source_hands_its_fade_to_the_rig_and_gets_it_back(png_files, tmp_path):
    scene = new_scene()
    b = add_image_strip(scene, png_files[::-1], channel=1, start=1, name="b")
    a = add_image_strip(scene, png_files, channel=2, start=1, name="a")
    alone = render_muted(scene, [b], 1, 17, tmp_path / "a")
    for frame, value in ((1, 0.0), (8, 1.0)):  # a fades in over b: how it sits in the edit, not its picture
        a.blend_alpha = value
        a.keyframe_insert("blend_alpha", frame=frame)
    whole = render_frames(scene, 1, 17, tmp_path / "whole")
    assert run("motion_extract", scene, a, offset=2) == {"FINISHED"}
    found = active(scene)
    assert key_frames(scene, found, "blend_alpha") == [1, 8]
    assert all(not key_frames(scene, strip, "blend_alpha") for strip in found.strips)
    faded_in = render_frames(scene, 8, 17, tmp_path / "rig")  # opaque from frame 8: the motion alone
    expected = engine_frames(alone, Settings(offset=2))[7:]
    assert max_mean_difference(faded_in, expected) == (0, 0.0)
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    a = scene.sequence_editor.strips["a"]
    assert key_frames(scene, a, "blend_alpha") == [1, 8] and span(b) == (1, 17)
    assert max_mean_difference(render_frames(scene, 1, 17, tmp_path / "back"), whole) == (0, 0.0)


def test_a_source_moving_in_the_frame_carries_its_keys_and_says_where_the_rig_differs(png_files, tmp_path, capfd):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    for frame, value in ((1, 0.0), (16, 30.0)):  # a slides right, leaving the left of the frame empty
        a.transform.offset_x = value
        a.transform.keyframe_insert("offset_x", frame=frame)
    alone = render_alone(scene, a, tmp_path / "a")
    others = render_muted(scene, [a], 1, EDIT_END, tmp_path / "others")
    capfd.readouterr()
    assert run("motion_extract", scene, a, offset=2, look="difference") == {"FINISHED"}
    found = active(scene)
    assert reports(capfd.readouterr().out)[1:] == [
        "Warning: 'a' is moved, scaled or cropped in the frame: where that leaves the frame empty, the rig is "
        "transparent and the exact engine sees black"]
    assert key_frames(scene, found.strips["a Partner"], "transform.offset_x") == [3, 18]
    assert max_mean_difference(render_muted(scene, [found], 1, EDIT_END, tmp_path / "after"), others) == (0, 0.0)
    rendered = render_alone(scene, found, tmp_path / "rig")
    expected = engine_frames(alone, Settings(offset=2, look="difference"))
    covered = slice(31, None)  # columns both frames cover at every frame: the slide is at most 30 pixels
    assert max_mean_difference([frame[:, covered] for frame in rendered],
                               [frame[:, covered] for frame in expected]) == (0, 0.0)
    assert max_mean_difference(rendered, expected)[0] > 0  # and it does differ where the frame is empty


HELD = [(Settings(offset=-2, amplify=3.0, look="subtract"), 0, 4), (Settings(offset=2, amplify=3.0), 3, 0),
        (Settings(offset=2, time_colour=True, red_delay=0, blue_delay=2), 3, 4),
        (Settings(mode="freeze", reference=4, look="difference"), 3, 4)]


@pytest.mark.parametrize(("settings", "before", "after"), HELD, ids=["end", "start", "time-colour", "freeze"])
def test_frames_held_past_the_media_are_paired_as_the_frame_they_hold(settings, before, after, png_files, tmp_path):
    scene = new_scene()
    a = add_image_strip(scene, png_files, channel=1, start=11, name="a")
    timing(a).left_handle, timing(a).right_handle = 11 - before, 11 + FRAMES + after  # the ends held
    assert (timing(a).left_handle_offset, timing(a).right_handle_offset) == (-before, -after)
    alone = render_alone(scene, a, tmp_path / "a")
    assert extract(scene, a, settings) == {"FINISHED"}
    found = active(scene)
    assert span(found) == (11 - before, 11 + FRAMES + after)
    # Freeze mode's reference K is media frame K, which the shown frames hold at K + before.
    shown = settings.replace(reference=settings.reference + before) if settings.mode == "freeze" else settings
    assert max_mean_difference(render_alone(scene, found, tmp_path / "rig"), engine_frames(alone, shown)) == (0, 0.0)


@pytest.mark.parametrize("options", [{"edges": "source"}, {"trails": 0.5}], ids=["edges-source", "trails"])
def test_held_frames_the_rig_cannot_pair_are_refused(options, png_files):
    scene = new_scene()
    a = add_image_strip(scene, png_files, channel=1, start=1, name="a")
    timing(a).right_handle = FRAMES + 5  # the last frame held for 4 more
    before = places(scene)
    with pytest.raises(RuntimeError, match=r"^Error: 'a' holds frames past the ends of its media: the rig pairs them "
                                           r"with edges hold or in freeze mode, without trails; trim it to its media, "
                                           r"or use Bake Motion\n?$"):
        run("motion_extract", scene, a, **options)
    assert places(scene) == before


def test_a_retimed_source_is_refused(png_files):
    scene = new_scene()
    a = add_image_strip(scene, png_files, channel=1, start=1, name="a")
    area = bpy.context.screen.areas[0]
    kind, area.type = area.type, "SEQUENCE_EDITOR"
    try:
        select_only(scene, a)
        region = next(region for region in area.regions if region.type == "WINDOW")
        with bpy.context.temp_override(area=area, region=region, scene=scene, sequencer_scene=scene):
            assert bpy.ops.sequencer.retiming_segment_speed_set(speed=200) == {"FINISHED"}
    finally:
        area.type = kind
    assert len(a.retiming_keys) and span(a) == (1, 9)  # twice as fast
    before = places(scene)
    with pytest.raises(RuntimeError, match=r"^Error: 'a' is retimed: the rig cannot pair retimed frames yet; "
                                           r"bake it without the retiming \(Bake Motion\) and retime the baked "
                                           r"strip\n?$"):
        run("motion_extract", scene, a)
    assert places(scene) == before


# --- 4. hand edits are kept or announced ----------------------------------------------------------


def test_hand_edits_on_helpers_are_kept_where_rebuilt_alike_and_announced_where_not(png_files, capfd):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    assert run("motion_extract", scene, a, offset=2) == {"FINISHED"}
    found = active(scene)
    partner = found.strips["a Partner"]
    partner.blend_alpha = 0.7
    with bpy.context.temp_override(sequencer_scene=scene):
        partner.modifiers.new(name="Hand", type="COLOR_BALANCE")
    bpy.ops.ed.undo_push(message="hand edits")
    capfd.readouterr()

    assert bpy.ops.sequencer.motion_extract_update(amplify=2.0) == {"FINISHED"}
    partner = found.strips["a Partner"]
    assert partner.blend_alpha == pytest.approx(0.7) and [m.name for m in partner.modifiers] == ["Invert", "Hand"]
    assert reports(capfd.readouterr().out) == ["Info: Updated 'a Motion' (gray_shift2)"]  # no warning

    assert bpy.ops.sequencer.motion_extract_update(look="difference") == {"FINISHED"}
    partner = found.strips["a Partner"]
    assert (partner.blend_type, partner.blend_alpha) == ("DIFFERENCE", 1.0)
    assert [m.name for m in partner.modifiers] == ["Hand"]
    assert reports(capfd.readouterr().out)[1:] == [
        "Warning: 'a Partner': its blend (alpha_over at 0.7), set by hand, was reset for the new settings"]
    bpy.ops.ed.undo_push(message="Update Motion Rig")

    assert bpy.ops.sequencer.motion_extract_update(mode="freeze") == {"FINISHED"}
    assert "a Partner" not in found.strips and "Hand" not in [m.name for m in found.strips["a Reference"].modifiers]
    assert reports(capfd.readouterr().out)[1:] == [
        "Warning: 'a Partner' is not part of the rig for the new settings: its modifiers Hand were dropped"]
    bpy.ops.ed.undo_push(message="Update Motion Rig")
    bpy.ops.ed.undo()  # one step back: the difference look, the hand modifier on its partner
    partner = bpy.context.scene.sequence_editor.strips["a Motion"].strips["a Partner"]
    assert [m.name for m in partner.modifiers] == ["Hand"]


def test_remove_carries_the_rigs_blend_and_modifiers_to_the_source(png_files, capfd, tmp_path):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    assert run("motion_extract", scene, a, offset=2) == {"FINISHED"}
    found = active(scene)
    found.blend_type, found.blend_alpha = "SCREEN", 0.6
    with bpy.context.temp_override(sequencer_scene=scene):
        found.modifiers.new(name="Hand", type="BRIGHT_CONTRAST").bright = 0.2
    found.transform.offset_x = 10
    capfd.readouterr()
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    a = scene.sequence_editor.strips["a"]
    assert (a.blend_type, a.blend_alpha) == ("SCREEN", pytest.approx(0.6))
    assert [(m.name, m.type) for m in a.modifiers] == [("Hand", "BRIGHT_CONTRAST")]
    assert a.modifiers["Hand"].bright == pytest.approx(0.2)
    assert reports(capfd.readouterr().out) == [
        "Info: Removed the motion rig of 'a'", "Warning: The rig's modifiers 'Hand' now follow the modifiers of 'a'",
        "Warning: The rig's transform.offset_x set by hand cannot be carried to 'a': set it again"]
    assert a.transform.offset_x == 0
