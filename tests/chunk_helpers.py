"""Helpers of the chunk, join and --jobs tests: a small clip with sound, decoded frames, lengths in seconds."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from blender_addon import media
from blender_addon.core.rates import exact_rate
from blender_addon.core.sample_clip import SampleClip, write_tick_track


def write_clip(path: Path, clip: SampleClip, sound: bool = True) -> Path:
    """The clip as lossless FFV1, with ticks as sound."""
    seconds = Fraction(clip.frame_count) / exact_rate(clip.fps)
    ticks = path.with_suffix(".wav")
    write_tick_track(ticks, float(seconds))
    clip_sound = media.SoundClip(str(ticks), Fraction(0), Fraction(0), seconds) if sound else None
    with media.open_writer(path, clip.fps, clip.width, clip.height, sound=clip_sound) as writer:
        for frame in clip.read_from(0):
            writer.write(frame)
    return path


def decoded(path: Path) -> list[np.ndarray]:
    return [frame.copy() for frame in media.open_source(path).read_from(0)]


def durations(path: Path) -> tuple[float, float]:
    """The video's length (frames over the rate) and the sound's (its decoded samples over their rate), in seconds."""
    import av

    source = media.open_source(path)
    with av.open(str(path)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
        rate = container.streams.audio[0].rate
    return source.frame_count / source.fps, samples / rate
