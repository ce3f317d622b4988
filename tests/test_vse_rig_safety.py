"""The rig when things go wrong around it (issue 16, items 5-7): missing media, a damaged rig in the panel,
channel 128, presets on helpers and names, several selected strips, locked strips, proxies, uninstalling.

Renders are of lossless PNG sequences, compared with the exact engine at 0 levels.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import bpy
import pytest
from edit_helpers import engine_frames, places, render_alone, reports, run, two_shots_and_a_title
from vse_helpers import (
    FRAMES,
    LabelLayout,
    add_image_strip,
    max_mean_difference,
    new_scene,
    user_scripts_in,
    write_ffv1,
    write_png_sequence,
)

import blender_addon
from blender_addon.core.presets import PRESETS, preset_settings
from blender_addon.core.sample_clip import SampleClip
from blender_addon.core.settings import Settings
from blender_addon.ui import operators, panel, presets, props
from blender_addon.vse import bake, strips
from blender_addon.vse.compat import timing
from blender_addon.vse.rig import build, checks, record

pytestmark = pytest.mark.usefixtures("registered")  # the add-on, registered once per module (conftest)

PRESET_MENU = "SEQUENCER_MT_motion_extraction_presets"


@pytest.fixture
def own_pngs(clip, tmp_path) -> list[Path]:
    """The sample clip as PNGs in a folder of the test's own, which the test may take away."""
    return write_png_sequence(clip, tmp_path / "shot")


def hidden(folder: Path) -> Path:
    """Move ``folder`` aside (the media goes missing); return where it went."""
    return Path(shutil.move(folder, folder.with_name(folder.name + "-away")))


# --- 5. missing media is said ----------------------------------------------------------------------


def test_extract_on_missing_images_is_refused_and_works_once_they_are_back(own_pngs, clip, tmp_path):
    scene = new_scene()
    shot = add_image_strip(scene, own_pngs, channel=1, start=1, name="shot")
    folder = own_pngs[0].parent
    away = hidden(folder)
    before = places(scene)
    scene.sequence_editor.active_strip = shot
    missing = f"'shot': its media is missing ({own_pngs[0]} and 15 more): relink it or put it back, then try again"
    assert missing in drawn(scene)  # the panel says so before Extract is pressed
    with pytest.raises(RuntimeError, match=rf"^Error: 'shot': its media is missing \({own_pngs[0]} and 15 more\): "
                                           r"relink it or put it back, then try again\n?$"):
        run("motion_extract", scene, shot)
    assert places(scene) == before
    shutil.move(away, folder)
    assert missing not in drawn(scene)
    assert run("motion_extract", scene, shot, offset=2) == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    assert max_mean_difference(render_alone(scene, found, tmp_path / "rig"),
                               engine_frames([clip.frame(i) for i in range(FRAMES)], Settings(offset=2))) == (0, 0.0)


def test_extract_on_a_missing_movie_is_refused(clip, tmp_path):
    movie = write_ffv1(clip, tmp_path / "shot.mkv")
    scene = new_scene()
    shot = scene.sequence_editor.strips.new_movie(name="shot", filepath=str(movie), channel=1, frame_start=1)
    movie.rename(tmp_path / "elsewhere.mkv")
    with pytest.raises(RuntimeError, match=rf"^Error: 'shot': its media is missing \({movie}\): relink it or put "
                                           r"it back, then try again\n?$"):
        run("motion_extract", scene, shot)
    assert shot.parent_meta() is None and len(scene.sequence_editor.strips) == 1


def test_a_rig_whose_media_went_missing_says_so_keeps_its_helpers_and_heals_when_it_returns(own_pngs, clip, tmp_path):
    scene = new_scene()
    shot = add_image_strip(scene, own_pngs, channel=1, start=1, name="shot")
    assert run("motion_extract", scene, shot, offset=2, look="difference") == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    helpers = [(strip.name, timing(strip).content_start) for strip in found.strips]
    folder = own_pngs[0].parent
    away = hidden(folder)
    missing = f"'shot': its media is missing ({own_pngs[0]} and 15 more): relink it or put it back, then try again"
    assert missing in operators.rig_limits(scene, found)  # the panel's notes
    with pytest.raises(RuntimeError, match=r"^Error: 'shot': its media is missing"):
        bpy.ops.sequencer.motion_extract_update(offset=4)
    assert [(strip.name, timing(strip).content_start) for strip in found.strips] == helpers
    assert record.rig_settings(found).offset == 2
    shutil.move(away, folder)
    assert missing not in operators.rig_limits(scene, found)
    expected = engine_frames([clip.frame(i) for i in range(FRAMES)], Settings(offset=2, look="difference"))
    assert max_mean_difference(render_alone(scene, found, tmp_path / "back"), expected) == (0, 0.0)


def test_a_rig_reopened_without_its_movie_says_so_and_renders_right_once_it_is_back(clip, tmp_path):
    movie = write_ffv1(clip, tmp_path / "shot.mkv")
    scene = new_scene()
    shot = scene.sequence_editor.strips.new_movie(name="shot", filepath=str(movie), channel=1, frame_start=1)
    assert run("motion_extract", scene, shot, offset=2) == {"FINISHED"}
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "edit.blend"))
    away = movie.rename(tmp_path / "elsewhere.mkv")
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "edit.blend"))
    scene = bpy.context.scene
    found = scene.sequence_editor.strips["shot Motion"]
    missing = f"'shot': its media is missing ({movie}): relink it or put it back, then try again"
    assert missing in operators.rig_limits(scene, found)
    scene.sequence_editor.active_strip = found
    with pytest.raises(RuntimeError, match="^Error: 'shot': its media is missing"):
        bpy.ops.sequencer.motion_extract_update(offset=3)
    assert [timing(strip).content_duration for strip in found.strips] == [FRAMES, FRAMES]  # no 1-frame partner
    away.rename(movie)
    assert operators.rig_limits(scene, found) == []
    expected = engine_frames([clip.frame(i) for i in range(FRAMES)], Settings(offset=2))
    assert max_mean_difference(render_alone(scene, found, tmp_path / "back"), expected) == (0, 0.0)


# --- 6. the panel never raises ---------------------------------------------------------------------


def motion_panels() -> list[type]:
    """Every panel of the sidebar's Motion tab (the add-on's own and its sub-panels)."""
    found = [cls for cls in bpy.types.Panel.__subclasses__() if getattr(cls, "bl_category", None) == "Motion"]
    assert panel.SEQUENCER_PT_motion_extraction in found and len(found) > 1
    return found


def drawn(scene: bpy.types.Scene) -> list[str]:
    """The labels the Motion tab's panels draw for the active strip (each that polls true)."""
    labels: list[str] = []
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        for cls in motion_panels():
            if not hasattr(cls, "poll") or cls.poll(bpy.context):
                cls.draw(SimpleNamespace(layout=LabelLayout(labels)), bpy.context)
    return labels


def fit_layout_poll(scene: bpy.types.Scene) -> bool:
    """Fit Scene to Layout's poll; on the way, every Motion operator's poll runs (none may raise)."""
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        polls = {name: getattr(bpy.ops.sequencer, name).poll() for name in dir(bpy.ops.sequencer)
                 if name.startswith("motion")}
    assert len(polls) > 4
    return polls["motion_extract_fit_layout"]


def test_a_rig_with_damaged_settings_is_shown_with_the_way_back(png_files):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    assert run("motion_extract", scene, a, offset=2, layout="side") == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    assert "Fit Scene to Layout" not in drawn(scene) and fit_layout_poll(scene)
    found[record.RIG_KEY]["settings"] = {"offset": "banana"}  # a script damages the record
    problem = "Rig 'a Motion' has damaged settings ("
    assert any(line.startswith(problem) and line.endswith("): Update rebuilds it with the settings shown here")
               for line in drawn(scene))
    assert not fit_layout_poll(scene)
    assert bpy.ops.sequencer.motion_extract_update() == {"FINISHED"}  # the way back
    assert checks.rig_problem(found) is None and record.rig_settings(found) == Settings(offset=2, layout="side")
    assert not any(line.startswith(problem) for line in drawn(scene))


def test_a_rig_that_lost_its_source_is_shown_and_removed(png_files, capfd):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    before = places(scene)
    assert run("motion_extract", scene, a, offset=2) == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    found.strips.remove(found.strips["a"])  # a script deletes the source
    message = ("Rig 'a Motion' has lost its source strip: Remove deletes what is left of the rig, Undo may bring "
               "the source back")
    assert message in drawn(scene)
    capfd.readouterr()
    assert not fit_layout_poll(scene)
    for name in ("motion_bake", "motion_key"):  # the panel's line as the reason, no traceback
        with pytest.raises(RuntimeError) as refused:
            getattr(bpy.ops.sequencer, name)()
        assert str(refused.value).endswith(message)
    assert "Traceback" not in "".join(capfd.readouterr())
    with pytest.raises(RuntimeError, match="has lost its source strip"):
        bpy.ops.sequencer.motion_extract_update()
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    assert places(scene) == {name: place for name, place in before.items() if name != "a"}
    assert "a Partner" not in scene.sequence_editor.strips_all


# --- a rig in a linked scene ---------------------------------------------------------------------------


def test_a_rig_in_a_linked_scene_reads_its_librarys_media_and_is_not_changed(clip, tmp_path, monkeypatch):
    for folder in ("library/media", "work/media"):
        (tmp_path / folder).mkdir(parents=True)
    real = write_ffv1(clip, tmp_path / "library" / "media" / "shot.mkv")
    work = tmp_path / "work"
    decoy = write_ffv1(SampleClip(width=128, height=72, frame_count=8, fps=clip.fps), work / "media" / "shot.mkv")
    scene = new_scene()
    shot = scene.sequence_editor.strips.new_movie(name="shot", filepath=str(real), channel=1, frame_start=1)
    assert build.build_rig(scene, shot, Settings(offset=2)).name == "shot Motion"
    library = tmp_path / "library" / "library.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(library), relative_remap=True)
    assert shot.filepath == "//media/shot.mkv"
    bpy.ops.wm.read_factory_settings(use_empty=True)
    with bpy.data.libraries.load(str(library), link=True) as (_, linked):
        linked.scenes = ["Scene"]
    linked = linked.scenes[0]
    bpy.context.window.scene = linked
    bpy.context.workspace.sequencer_scene = linked
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "main.blend"))
    monkeypatch.chdir(work)  # the decoy sits at the relative path from here and from the open file
    found = linked.sequence_editor.active_strip
    source = record.rig_source(found)
    assert strips.strip_input(linked, source)[0] == str(real)
    assert strips.media_size(source) == (clip.width, clip.height)
    decoy.unlink()
    assert checks.media_problem(source) is None and checks.layout_problem(linked, found) is None
    assert not any("missing" in note for note in operators.rig_limits(linked, found))
    refusal = "'Scene' is a linked scene: make it local first"
    names = sorted(strip.name for strip in linked.sequence_editor.strips_all)
    for name in ("motion_extract", "motion_extract_update", "motion_extract_remove", "motion_bake", "motion_key"):
        with pytest.raises(RuntimeError) as refused:
            getattr(bpy.ops.sequencer, name)()
        assert str(refused.value).endswith(refusal) and "\n" not in str(refused.value).strip(), name
    with pytest.raises(record.RigError, match=f"^{refusal}$"):
        build.update_rig(linked, found, Settings(offset=3))
    with pytest.raises(record.RigError, match=f"^{refusal}$"):
        build.remove_rig(linked, found)
    with pytest.raises(bake.BakeError, match=f"^{refusal}$"):
        bake.plan_bake(linked, found, Settings(), ".mkv")
    assert sorted(strip.name for strip in linked.sequence_editor.strips_all) == names
    assert sorted(path.name for path in work.iterdir()) == ["main.blend", "media"]


# --- 7. smaller things -------------------------------------------------------------------------------


def test_a_source_that_does_not_fill_the_frame_gets_the_framing_note(png_files, tmp_path):
    scene = new_scene()  # 160x90
    portrait = write_png_sequence(SampleClip(width=108, height=192, frame_count=4, fps=24.0), tmp_path / "portrait")
    shot = add_image_strip(scene, portrait, channel=1, start=1, name="shot")
    note = ("'shot' (108x192) does not fill the 160x90 frame: the rig leaves transparent bars, which the exact engine "
            "(at the clip's own size) has not")
    scene.sequence_editor.active_strip = shot
    assert note in drawn(scene)  # before Extract
    found = build.build_rig(scene, shot, Settings(offset=1))
    assert note in operators.rig_limits(scene, found)
    scene.render.resolution_x, scene.render.resolution_y = 108, 192
    assert not any("does not fill" in line for line in operators.rig_limits(scene, found))
    filling = add_image_strip(scene, png_files, channel=2, start=1, name="filling")
    scene.render.resolution_x, scene.render.resolution_y = 160, 90
    assert checks.framing_note(filling, Settings()) is None
    side = build.build_rig(scene, filling, Settings(offset=1, layout="side"))  # the layout's size check speaks
    assert checks.framing_note(filling, Settings(layout="side")) is None
    assert any(line.startswith("The side layout needs a 320x90 scene") for line in operators.rig_limits(scene, side))


def test_a_strip_on_channel_128_blocks_nothing(png_files):
    scene = new_scene()
    top = add_image_strip(scene, png_files, channel=128, start=1, name="top")
    shot = add_image_strip(scene, png_files, channel=1, start=1, name="shot")
    assert run("motion_extract", scene, shot) == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    assert record.is_rig(found) and found.channel == 1 and (top.channel, timing(top).left_handle) == (128, 1)


def test_a_preset_applied_on_a_helper_deep_in_the_rig_sets_the_rigs_settings(png_files, registered):
    scene = new_scene()
    shot = add_image_strip(scene, png_files, channel=1, start=1, name="shot")
    assert run("motion_extract", scene, shot, offset=2, time_colour=True, red_delay=1, blue_delay=3) == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    deep = next(strip for strip in scene.sequence_editor.strips_all
                if strip.get(record.ROLE_KEY) == record.CHANNEL_PARTNER)
    assert deep.parent_meta() != found  # inside the Partner META, two levels down
    scene.sequence_editor.active_strip = deep
    path = registered / "presets" / "motion_extraction" / presets.preset_file_name("glow")
    assert bpy.ops.script.execute_preset(filepath=str(path), menu_idname=PRESET_MENU) == {"FINISHED"}
    assert props.settings_from_group(found.motion_extraction) == preset_settings("glow")
    assert props.settings_from_group(scene.motion_extraction) == Settings()


def test_saving_a_preset_named_as_a_built_in_one_lists_it_once(registered, capfd):
    scene = new_scene()
    props.settings_to_group(Settings(glow=2.0), scene.motion_extraction)
    folder = registered / "presets" / "motion_extraction"
    assert bpy.ops.sequencer.motion_extraction_preset_add(name="Glow") == {"CANCELLED"}
    assert reports(capfd.readouterr().out) == ['Warning: Cannot create preset "Glow", as the name already exists']
    listed = [bpy.path.display_name(path.name) for path in folder.glob("*.py")]
    assert listed.count("Glow") == 1


def test_several_selected_strips_each_get_a_rig_or_a_word_why_not(png_files, tmp_path, capfd):
    scene = new_scene()
    a, b, title = two_shots_and_a_title(scene, png_files)
    title.lock = True
    tone = tmp_path / "tone.wav"
    import wave

    with wave.open(str(tone), "wb") as file:
        file.setnchannels(1), file.setsampwidth(2), file.setframerate(8000), file.writeframes(bytes(1600))
    sound = scene.sequence_editor.strips.new_sound(name="tone", filepath=str(tone), channel=3, frame_start=1)
    for strip in (a, b, title, sound):
        strip.select = True
    scene.sequence_editor.active_strip = a
    capfd.readouterr()
    assert bpy.ops.sequencer.motion_extract(offset=2) == {"FINISHED"}
    assert reports(capfd.readouterr().out) == [
        "Info: Built motion rigs 'a Motion', 'b Motion' (gray_shift2)",
        "Warning: Not extracted: 'title' is locked: unlock it to extract its motion",
        "Warning: Not extracted: 'tone' is a sound strip, not a movie or image strip",
    ]
    rigs = [strip for strip in scene.sequence_editor.strips if record.is_rig(strip)]
    assert [(found.name, found.channel, timing(found).left_handle) for found in rigs] == [
        ("a Motion", 1, 1), ("b Motion", 1, 17)]
    assert title.parent_meta() is None and sound.parent_meta() is None
    assert scene.sequence_editor.active_strip == rigs[0] and all(found.select for found in rigs)
    assert bpy.ops.sequencer.motion_extract_update(offset=3) == {"FINISHED"}
    assert reports(capfd.readouterr().out) == [
        "Info: Updated 'a Motion' (gray_shift3)",
        "Warning: Only the active rig 'a Motion' was changed: 1 other selected strip(s) left as they were"]
    assert (record.rig_settings(rigs[0]).offset, record.rig_settings(rigs[1]).offset) == (3, 2)
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    assert reports(capfd.readouterr().out)[-1] == (
        "Warning: Only the active rig 'a Motion' was removed: 1 other selected strip(s) left as they were")


def test_a_locked_strip_is_not_moved_into_a_rig(png_files):
    scene = new_scene()
    shot = add_image_strip(scene, png_files, channel=1, start=1, name="shot")
    shot.lock = True
    assert checks.source_problem(shot) == "'shot' is locked: unlock it to extract its motion"
    with pytest.raises(RuntimeError, match="poll"):
        run("motion_extract", scene, shot)
    with pytest.raises(record.RigError, match="^'shot' is locked: unlock it to extract its motion$"):
        build.build_rig(scene, shot, Settings())
    assert shot.parent_meta() is None


def test_the_partner_keeps_the_sources_custom_proxy_folder(png_files):
    scene = new_scene()
    shot = add_image_strip(scene, png_files, channel=1, start=1, name="shot")
    shot.use_proxy = True
    shot.proxy.use_proxy_custom_directory = True
    shot.proxy.directory = "//proxies/shot/"
    shot.proxy.build_50 = True
    found = build.build_rig(scene, shot, Settings(offset=2))
    partner = found.strips["shot Partner"]
    assert partner.use_proxy and partner.proxy.use_proxy_custom_directory
    assert (partner.proxy.directory, partner.proxy.build_50) == ("//proxies/shot/", True)


def test_uninstalling_removes_the_built_in_presets_but_not_the_users(tmp_path):
    with user_scripts_in(tmp_path):
        blender_addon.unregister()
        blender_addon.register()
        folder = presets.preset_folder(create=False)
        assert sorted(path.name for path in folder.glob("*.py")) == sorted(map(presets.preset_file_name, PRESETS))
        edited = folder / presets.preset_file_name("glow")
        edited.write_text(edited.read_text().replace("settings.glow = 1.5", "settings.glow = 2.5"))
        (folder / "mine.py").write_text("import bpy\n")
        blender_addon.unregister()
        assert sorted(path.name for path in folder.glob("*.py")) == ["glow.py", "mine.py"]
        (folder / "mine.py").unlink()
        edited.unlink()
        blender_addon.register()
        blender_addon.unregister()
        assert not folder.exists()  # nothing of the user's left in it: the folder goes too
        blender_addon.register()  # for the module's other tests (the fixture unregisters)


@pytest.mark.parametrize("first_look", ["matte", "difference"])
def test_a_rig_built_where_one_was_removed_renders_its_own_pictures(png_files, tmp_path, first_look):
    """Blender 5.1 kept the removed rig's cached pictures and showed them in the new rig (off by up to 254 levels
    until the file was reopened): the rig drops its strips' cached pictures when it is built and removed."""
    scene = new_scene()
    editor = scene.sequence_editor
    shot = add_image_strip(scene, png_files, channel=2, start=1, name="shot")
    alone = render_alone(scene, shot, tmp_path / "alone")
    assert run("motion_extract", scene, shot, offset=2, look=first_look) == {"FINISHED"}
    render_alone(scene, editor.active_strip, tmp_path / "first")  # its pictures are now in the sequencer's cache
    assert run("motion_extract_remove", scene, editor.active_strip) == {"FINISHED"}
    assert max_mean_difference(render_alone(scene, editor.active_strip, tmp_path / "back"), alone) == (0, 0.0)
    settings = Settings(offset=3, look="gray", glow=0.5)
    assert run("motion_extract", scene, editor.active_strip, offset=3, look="gray", glow=0.5) == {"FINISHED"}
    rendered = render_alone(scene, editor.active_strip, tmp_path / "second")
    assert max_mean_difference(rendered, engine_frames(alone, settings))[0] <= 1
