"""The formats table: every movie the renders write, its codecs and every setting their encoders get.

The one authority on containers and codecs. The exact engine's writer (``media.encode``) applies
these settings, ``--print-ffmpeg`` (``media.ffmpeg_command``) prints the same ones, the sequencer
engine and Bake Motion read which movies Blender's own FFmpeg writes and reads back, and the
command line and the preferences list the choices from here. Plain data: no PyAV, no bpy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from .errors import MediaError

# How the engine's colours are tagged (FFmpeg's names): BT.601 matrix (as OpenCV converts), BT.709
# primaries and transfer; the range is the codec's (``Codec.colour_range``).
COLOUR_MATRIX = "smpte170m"
COLOUR_PRIMARIES = "bt709"
COLOUR_TRANSFER = "bt709"

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")


@dataclass(frozen=True)
class Codec:
    """A video codec as the engine writes it: the encoder and every setting it gets."""

    name: str  # the --codec name
    label: str  # how people call it
    encoder: str  # FFmpeg's encoder
    pixel_format: str
    colour_range: str | None  # "tv" (limited) or "pc" (full); None: RGB, untagged
    crf: int | None = None  # the default quality (--crf)
    crf_range: tuple[int, int] | None = None
    preset_option: str | None = None  # the encoder's option that --encoder-preset sets
    preset: str | None = None  # its default
    presets: tuple[str, ...] = ()
    qscale: int | None = None  # fixed quantiser (2 best .. 31 worst), for the codecs without a CRF
    profile: str | None = None  # the encoder's profile option
    options: tuple[tuple[str, str], ...] = ()  # further encoder options, as ffmpeg's -name value
    max_size: tuple[int, int] = (65500, 65500)  # the widest and tallest picture its encoder takes (measured)

    @property
    def even_size(self) -> bool:
        """THE even-size rule: colour stored at half resolution (4:2:0, 4:2:2) needs an even width and height."""
        return self.pixel_format.startswith(("yuv420p", "yuvj420p", "yuv422p"))


# FFmpeg's largest picture (av_image_check_size: (width + 128) * (height + 128) < INT_MAX / 8): its decoders, scaler
# and encoders refuse a larger one, so it bounds every input and output (a frame of at most about 800 MB as BGR).
_PICTURE_AREA = (2**31 - 1) // 8
_PICTURE_PADDING = 128


def check_picture_size(path: str, width: int, height: int, codec: Codec | None = None) -> None:
    """:class:`MediaError` naming ``path`` when a ``width`` x ``height`` picture is larger than FFmpeg takes, or
    than ``codec``'s encoder takes."""
    if (width + _PICTURE_PADDING) * (height + _PICTURE_PADDING) >= _PICTURE_AREA:
        raise MediaError(f"{path}: the pictures are {width}x{height}, larger than FFmpeg takes (about 16000x16000, "
                         f"{_PICTURE_AREA // 1_000_000} million pixels with its margins): scale them down first")
    if codec is not None and (width > codec.max_size[0] or height > codec.max_size[1]):
        movie = MOVIE_FORMATS.get(os.path.splitext(path)[1].lower())
        takers = [name for name in (movie.codecs if movie else ())
                  if width <= CODECS[name].max_size[0] and height <= CODECS[name].max_size[1]]
        instead = f"--codec {' or '.join(takers)}" if takers else "another container, or scale them down"
        raise MediaError(f"{path}: {codec.label} takes pictures up to {codec.max_size[0]}x{codec.max_size[1]}, "
                         f"not {width}x{height}: use {instead}")


def _codecs(*codecs: Codec) -> dict[str, Codec]:
    return {codec.name: codec for codec in codecs}


CODECS = _codecs(
    Codec("h264", "H.264", "libx264", "yuv420p", "tv", crf=20, crf_range=(0, 51), preset_option="preset",
          preset="veryfast", presets=X264_PRESETS, max_size=(16384, 16384)),
    Codec("h265", "HEVC", "libx265", "yuv420p", "tv", crf=24, crf_range=(0, 51), preset_option="preset",
          preset="veryfast", presets=X264_PRESETS,
          options=(("x265-params", "log-level=error"),)),
    Codec("av1", "AV1", "libsvtav1", "yuv420p", "tv", crf=32, crf_range=(0, 63), preset_option="preset",
          preset="10", presets=tuple(str(n) for n in range(14)), max_size=(16384, 8704)),
    Codec("vp9", "VP9", "libvpx-vp9", "yuv420p", "tv", crf=32, crf_range=(0, 63), preset_option="cpu-used",
          preset="5", presets=tuple(str(n) for n in range(9)),
          options=(("b", "0"), ("row-mt", "1"), ("deadline", "good"))),
    # One thread: its slice threads hold about 30 MB more (1080p) for little speed where decoding shares the cores.
    Codec("mpeg4", "MPEG-4 part 2", "mpeg4", "yuv420p", "tv", qscale=2, options=(("threads", "1"),),
          max_size=(8191, 8191)),  # 13 bits a side
    Codec("prores", "ProRes", "prores_ks", "yuv422p10le", "tv", profile="hq"),
    Codec("ffv1", "FFV1", "ffv1", "bgr0", None, options=(("level", "3"), ("slices", "4"), ("slicecrc", "1"))),
    Codec("mjpeg", "Motion JPEG", "mjpeg", "yuvj420p", "pc", qscale=2),
)

# 8-bit limited-range 4:2:0 as OpenCV's BT.601 conversion makes it: the codecs the engine's planar path writes to.
PLANAR_CODECS = tuple(
    name for name, codec in CODECS.items() if (codec.pixel_format, codec.colour_range) == ("yuv420p", "tv")
)
# A lossless codec stores what the look made: FFV1 keeps the planar path's 4:2:0 planes (limited range, tagged as
# PLANAR_CODECS are) exactly, and the RGB path's pictures in its own pixel format.
LOSSLESS_PLANES = "yuv420p"
PLANE_CODECS = (*PLANAR_CODECS, "ffv1")


def storing_planes(codec: Codec) -> Codec:
    """``codec`` as it stores the planar path's planes (one of :data:`PLANE_CODECS`)."""
    if codec.name in PLANAR_CODECS:
        return codec
    if codec.name not in PLANE_CODECS:
        raise ValueError(f"{codec.label} does not take 4:2:0 planes as they are")
    return replace(codec, pixel_format=LOSSLESS_PLANES, colour_range="tv")


@dataclass(frozen=True)
class BlenderMovie:
    """How Blender's own FFmpeg writes a movie (the sequencer engine): its ``render.ffmpeg`` names and quality."""

    container: str
    codec: str
    audio_codec: str
    constant_rate_factor: str | None = None
    preset: str | None = None


@dataclass(frozen=True)
class MovieFormat:
    """What a movie extension is written as: its container, video codecs and audio handling."""

    container: str  # FFmpeg's muxer name
    codecs: tuple[str, ...]  # the --codec choices; the first is the default
    audio_copy: frozenset[str]  # audio codecs the container takes as they are
    audio_encoder: str  # what other audio is re-encoded to
    description: str
    blender: BlenderMovie | None = None  # how Blender writes it, when it can (in the default codec)
    audio_rate: int | None = None  # the re-encoded sound's rate, where its encoder takes one only (else the source's)

    @property
    def default_codec(self) -> Codec:
        return CODECS[self.codecs[0]]


_PCM = frozenset({"pcm_s16le", "pcm_s24le", "pcm_f32le"})
MOVIE_FORMATS = {
    ".mp4": MovieFormat("mp4", ("h264", "h265", "av1", "mpeg4"),
                        frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus"}),
                        "aac", "H.264 (or --codec h265, av1, mpeg4) with AAC sound",
                        BlenderMovie("MPEG4", "H264", "AAC", constant_rate_factor="HIGH", preset="GOOD")),
    ".mov": MovieFormat("mov", ("prores", "h264", "h265"),
                        frozenset({"aac", "alac", "pcm_s16be", "pcm_s24be"}) | _PCM,
                        "pcm_s16le", "ProRes 422 HQ with PCM sound", BlenderMovie("QUICKTIME", "PRORES", "PCM")),
    ".mkv": MovieFormat("matroska", ("ffv1", "h264", "h265", "av1", "vp9"),
                        frozenset({"aac", "mp3", "ac3", "eac3", "flac", "opus", "vorbis", "alac"}) | _PCM,
                        "flac", "lossless FFV1 with the source's sound", BlenderMovie("MKV", "FFV1", "FLAC")),
    ".webm": MovieFormat("webm", ("vp9", "av1"), frozenset({"opus", "vorbis"}),
                         "libopus", "VP9 (or AV1) with Opus sound", audio_rate=48000),
    # AVI does not store where its sound starts, so copied packets could not be cut to the frame.
    ".avi": MovieFormat("avi", ("mjpeg",), frozenset(),
                        "pcm_s16le", "Motion JPEG with PCM sound"),
}
# Layouts a sound encoder cannot take (or would write as "unknown"), and the standard one of as many channels, or
# fewer, that it gets instead: Opus takes its mapping family 1's (side channels become back ones), AAC its channel
# configurations, FLAC its own orders. Other layouts, and other encoders, keep the source's.
_ENCODER_LAYOUTS = {
    "libopus": {"2.1": "stereo", "4.0": "quad", "5.0(side)": "5.0", "5.1(side)": "5.1"},
    "aac": {"5.0(side)": "5.0", "5.1(side)": "5.1"},
    "flac": {"2.1": "stereo", "4.0": "quad"},
}


def encoder_layout(encoder: str, layout: str) -> str:
    """The channel layout ``encoder`` writes sound of ``layout`` in."""
    return _ENCODER_LAYOUTS.get(encoder, {}).get(layout, layout)


# The movies Blender's own FFmpeg writes (the sequencer engine), and its image sequences.
BLENDER_MOVIES = tuple(extension for extension, movie in MOVIE_FORMATS.items() if movie.blender is not None)
BLENDER_SEQUENCES = {".png": "PNG"}
# The movies a bake can be (each in its container's default codec, which Blender reads back), best first.
BAKE_FORMATS = {
    ".mkv": "lossless: exactly the engine's frames, large files",
    ".mov": "ProRes 422 HQ: near lossless",
    ".mp4": "H.264: lossy, small files",
}


def bake_format_name(extension: str) -> str:
    """A bake format as Blender's preferences name it: its codec and extension, ``H264 (.mp4)``."""
    return f"{MOVIE_FORMATS[extension].codecs[0].upper()} ({extension})"


# Matroska and WebM keep a pixel aspect only in the codec's own stream (H.264, HEVC, MPEG-4): PyAV cannot set the
# container's, so FFV1, VP9 and AV1 there show anamorphic pixels square. MP4, MOV and AVI keep it for every codec.
_ASPECT_IN_STREAM_ONLY = frozenset({"matroska", "webm"})
_CODECS_WITH_ASPECT = frozenset({"h264", "h265", "mpeg4"})


def keeps_sample_aspect(path: str | os.PathLike, codec: str) -> bool:
    """Whether a movie ``path`` written with ``codec`` keeps a non-square pixel aspect (anamorphic video)."""
    movie = MOVIE_FORMATS.get(os.path.splitext(os.fspath(path))[1].lower())
    return movie is None or movie.container not in _ASPECT_IN_STREAM_ONLY or codec in _CODECS_WITH_ASPECT


def codec_help() -> str:
    """``--codec``'s help: each container's codecs, its default first."""
    return "video codec: " + "; ".join(
        f"{extension} {movie.codecs[0]}" + (" (default), " + ", ".join(movie.codecs[1:]) if movie.codecs[1:] else "")
        for extension, movie in MOVIE_FORMATS.items()
    )


def crf_help() -> str:
    """``--crf``'s help: each codec's range and default."""
    ranges = ", ".join(f"{codec.name} ({codec.crf_range[0]}-{codec.crf_range[1]}, default {codec.crf})"
                       for codec in CODECS.values() if codec.crf is not None)
    return f"quality of {ranges}: lower is better and bigger"


def preset_help() -> str:
    """``--encoder-preset``'s help: each codec's presets and default."""
    return "encoder speed: " + ", ".join(
        f"{codec.name} {codec.preset_option} {codec.presets[0]} ... {codec.presets[-1]} (default {codec.preset})"
        for codec in CODECS.values() if codec.preset is not None
    )


def movie_codec(path: str | os.PathLike, codec: str | None) -> Codec:
    """The video codec of a movie output: ``codec`` when its container takes it, else the container's default."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    movie = MOVIE_FORMATS[extension]
    if codec is None:
        return movie.default_codec
    if codec not in movie.codecs:
        raise MediaError(f"{os.fspath(path)}: {extension} takes --codec {', '.join(movie.codecs)}, not {codec}")
    return CODECS[codec]


def check_encoder_options(path: str, codec: str | None, crf: int | None, preset: str | None) -> Codec:
    """The codec ``path`` gets; :class:`MediaError` for a codec, CRF or preset it does not take."""
    chosen = movie_codec(path, codec)
    *others, last = (name for name, known in CODECS.items() if known.crf is not None)
    takes_crf = f"{', '.join(others)} and {last}"
    if crf is not None:
        if chosen.crf_range is None:
            raise MediaError(f"{path}: --crf applies to {takes_crf}, not {chosen.name}")
        low, high = chosen.crf_range
        if not low <= crf <= high:
            raise MediaError(f"{path}: --crf for {chosen.name} is {low} to {high}, not {crf}")
    if preset is not None:
        if not chosen.presets:
            raise MediaError(f"{path}: --encoder-preset applies to {takes_crf}, "
                             f"not {chosen.name}")
        if preset not in chosen.presets:
            raise MediaError(
                f"{path}: --encoder-preset for {chosen.name} is one of {', '.join(chosen.presets)}, not {preset}"
            )
    return chosen


def encoder_options(codec: Codec, crf: int | None = None, preset: str | None = None,
                    size: tuple[int, int] | None = None) -> dict[str, str]:
    """The encoder's own options for ``codec`` at ``crf`` and ``preset`` (``None``: the defaults) for a picture of
    ``size`` (the stored width and height), in the order ffmpeg's command line would give them; the pixel format,
    colour tags and quantiser are :class:`Codec`'s fields."""
    options = {}
    if codec.crf is not None:
        options["crf"] = str(codec.crf if crf is None else crf)
    if codec.preset_option is not None:
        options[codec.preset_option] = preset or codec.preset
    if codec.profile is not None:
        options["profile"] = codec.profile
    options.update(codec.options)
    if "slices" in options and size is not None and min(size) < 2:
        options["slices"] = "1"  # FFV1 cannot slice a picture one line high or wide
    return options
