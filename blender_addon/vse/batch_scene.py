"""The scene a headless sequencer render runs in: a fresh scene, the input as a strip with its sound, its frame size,
Blender's output format and caches; and the errors a render through the sequencer raises."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import bpy

from ..media.errors import MediaError, os_error
from ..media.formats import BLENDER_SEQUENCES, MOVIE_FORMATS
from ..media.names import extension, image_sequence_files
from .strips import absolute_path


class VseRenderError(Exception):
    """A render through the VSE cannot be done; the one-line message names the file and the problem."""


class VseSettingsError(VseRenderError):
    """The settings or the frame range do not fit the input (the caller's mistake, not a failure)."""


@contextlib.contextmanager
def media_errors() -> Iterator[None]:
    """Turn the :class:`MediaError` of ``media`` into :class:`VseRenderError`, message unchanged."""
    try:
        yield
    except MediaError as error:
        raise VseRenderError(str(error)) from None


@contextlib.contextmanager
def fresh_scene(name: str) -> Iterator[bpy.types.Scene]:
    """A new scene with a sequencer, removed afterwards with the sounds it loaded."""
    scene = bpy.data.scenes.new(name)
    sounds_before = set(bpy.data.sounds)
    try:
        scene.sequence_editor_create()
        yield scene
    finally:
        bpy.data.scenes.remove(scene)
        for sound in set(bpy.data.sounds) - sounds_before:
            bpy.data.sounds.remove(sound)


def add_source(scene: bpy.types.Scene, input_path: Path) -> bpy.types.Strip:
    strips = scene.sequence_editor.strips
    text = os.fspath(input_path)
    with media_errors():
        files = image_sequence_files(text)
    if files is not None:
        strip = strips.new_image(name="Source", filepath=files[0], channel=1, frame_start=1)
        for file in files[1:]:
            strip.elements.append(os.path.basename(file))
        return strip
    if not input_path.is_file():
        raise VseRenderError(f"{text}: no such file")
    try:
        with open(input_path, "rb"):
            pass
    except OSError as error:
        raise VseRenderError(str(os_error(text, error))) from None
    try:
        strip = strips.new_movie(name="Source", filepath=text, channel=1, frame_start=1)
    except RuntimeError:
        raise VseRenderError(f"{text}: Blender cannot decode this file") from None
    # An unreadable file still makes a strip, one frame long with no rate and no size.
    if strip.fps <= 0 or not strip.elements[0].orig_width:
        raise VseRenderError(f"{text}: Blender cannot decode this file (not a video, or damaged)")
    return strip


def add_audio(scene: bpy.types.Scene, input_path: Path, channel: int) -> bool:
    """Add the movie's sound as a strip; ``False`` (and no strip) when it has none."""
    strips = scene.sequence_editor.strips
    try:
        strip = strips.new_sound(name="Audio", filepath=os.fspath(input_path), channel=channel, frame_start=1)
    except RuntimeError:
        return False
    if strip.sound.samplerate <= 0:  # a movie without an audio stream still makes an empty strip
        strips.remove(strip)
        return False
    try:  # PyAV reads the delay where it is at hand (not in a Blender without it)
        from ..media.sound import sound_delay
    except ImportError:
        return True
    # Blender starts a movie's sound with its pictures; the file may start it later (or earlier).
    strip.sound_offset = float(sound_delay(os.fspath(input_path)))
    return True


def source_size(strip: bpy.types.Strip) -> tuple[int, int]:
    element = strip.elements[0]
    width, height = element.orig_width, element.orig_height
    if not width or not height:
        image = bpy.data.images.load(absolute_path(strip, os.path.join(strip.directory, element.filename)))
        try:
            width, height = image.size
        finally:
            bpy.data.images.remove(image)
    if not width or not height:
        raise VseRenderError(f"{strip.name}: cannot read the frame size")
    return int(width), int(height)


def set_output(scene: bpy.types.Scene, kind: str, suffix: str, audio: bool) -> None:
    render = scene.render
    settings = render.image_settings
    if kind == "movie":
        blender = MOVIE_FORMATS[suffix].blender
        settings.media_type = "VIDEO"  # before file_format: Blender 5.0 filters formats by media type
        settings.file_format = "FFMPEG"
        render.ffmpeg.format = blender.container
        render.ffmpeg.codec = blender.codec
        if blender.constant_rate_factor is not None:
            render.ffmpeg.constant_rate_factor = blender.constant_rate_factor
        if blender.preset is not None:
            render.ffmpeg.ffmpeg_preset = blender.preset
        render.ffmpeg.audio_codec = blender.audio_codec if audio else "NONE"
        if audio:
            render.ffmpeg.audio_channels = "STEREO"
            render.ffmpeg.audio_mixrate = 48000
    else:
        settings.media_type = "IMAGE"
        settings.file_format = BLENDER_SEQUENCES[suffix]
        settings.color_mode = "RGB"
        settings.color_depth = "8"
    render.use_file_extension = kind == "sequence"


def check_even_size(output: Path, kind: str, width: int, height: int) -> None:
    """Blender refuses odd frame sizes for the codecs that need even ones (``Codec.even_size``)."""
    movie = MOVIE_FORMATS[extension(output)] if kind == "movie" else None
    if movie is not None and movie.default_codec.even_size and (width % 2 or height % 2):
        raise VseRenderError(
            f"{output}: Blender's {movie.blender.codec} writer needs an even width and height, not "
            f"{width}x{height} (use --engine exact, which pads the frame, or a .mkv or PNG sequence output)"
        )


def quiet_caches(scene: bpy.types.Scene) -> None:
    editor = scene.sequence_editor
    editor.use_cache_raw = False
    editor.use_cache_final = False
    editor.use_prefetch = False
