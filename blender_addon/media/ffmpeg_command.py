"""An ffmpeg command line that reproduces a settings object, for people who work in ffmpeg (``--print-ffmpeg``).

Two graphs, as the exact engine has two paths. Where the engine works on the 4:2:0 planes (``planar``:
the gray look and what ``core.planar`` computes), the graph blends the ``yuv420p`` planes with the same
expressions (luma against 251, chroma against 256) and matches it to the level. Elsewhere it works in
planar RGB (``gbrp``) and spells the pixel contract out as ``blend`` expressions, so the motion layer,
amplify, edges, time colour, the matte look (a ``geq`` builds the matte from the three planes), tint and
saturation (``geq`` on the planes) and overlay match the exact engine to the level on RGB pictures; a 4:2:0
picture goes to RGB and back with the chroma taken as the engine's OpenCV conversions take it (nearest
sample, top-left siting), which ffmpeg's scaler rounds within a level of them (``tests/test_ffmpeg_graph.py``
measures both). Glow and pre-blur use ffmpeg's ``gblur``, a different Gaussian from the engine's 8-bit one
(``core.blur``), so they are close but not exact; trails use ``lagfun``, which only exists for the looks on
black. What ffmpeg cannot do is listed in :attr:`FfmpegCommand.notes`. Times in seconds must be turned into
frames first (``Settings.in_frames``). A movie is encoded with the exact engine's own settings
(``media.formats``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import PurePath

from ..core.colour import LUMA_WEIGHTS
from ..core.planar import CHROMA_WHITE, LIMITED, luma_white, still_luma
from ..core.rates import exact_rate
from ..core.settings import Settings, SettingsError, colour_levels
from ..core.timing import output_frame_count, output_size
from . import formats
from .formats import Codec, check_encoder_options, encoder_options


@dataclass
class FfmpegCommand:
    arguments: list[str]
    notes: list[str] = field(default_factory=list)

    def shell(self) -> str:
        """The command as one line for a POSIX shell."""
        return " ".join(_quote(argument) for argument in self.arguments)


def _quote(argument: str) -> str:
    # Filter graphs hold single quotes and commas but no shell specials: double quotes read best.
    if any(char in argument for char in "\"$`\\!") or not any(char in argument for char in " '(;[,|&<>*?"):
        return shlex.quote(argument)
    return f'"{argument}"'


def _number(value: float) -> str:
    return f"{value:.6g}"


def _motion_expression(settings: Settings, a: str = "A", b: str = "B", white: float = 255.0) -> str:
    """Stages 1 and 2 of the pixel contract (combine, then amplify) as an ffmpeg expression; ``white``: what the
    gray look inverts against (255 in RGB; on the planes, ``core.planar``'s luma or chroma white, clipped)."""
    if settings.look == "gray":
        mix = _number(settings.mix)
        combined = f"floor({a}*(1-{mix})+({_number(white)}-{b})*{mix}+0.5)"
        if white != 255.0:
            combined = f"clip({combined},0,255)"
    elif settings.look == "difference":
        combined = f"abs({a}-{b})"
    elif settings.look == "subtract":
        combined = f"max({a}-{b},0)"
    else:  # matte: A is the untouched frame, B its matte
        combined = f"floor({a}*{b}/255+0.5)"
    if settings.amplify == 1.0:
        return combined
    pivot = settings.still_level
    return f"clip(floor({pivot}+{_number(settings.amplify)}*({combined}-{pivot})+0.5),0,255)"


_LUMA = "floor(({}*r(X,Y)+{}*g(X,Y)+{}*b(X,Y)+128)/256)".format(*LUMA_WEIGHTS)


def _colour_chains(settings: Settings, last: str) -> tuple[list[str], str]:
    """Tint, then saturation (``core.colour``) as ``geq`` filters on the planes: exact."""
    chains = []
    if settings.tint:
        pivot = settings.still_level
        strength = f"min(abs({_LUMA}-{pivot})/{255 - pivot},1)"
        planes = {
            plane: f"clip(floor({pivot}+{strength}*({level}-{pivot})+0.5),0,255)"
            for plane, level in zip("rgb", colour_levels(settings.tint_colour), strict=True)
        }
        chains.append(f"[{last}]geq=r='{planes['r']}':g='{planes['g']}':b='{planes['b']}'[tinted]")
        last = "tinted"
    if settings.saturation != 1.0:
        amount = _number(settings.saturation)
        planes = {plane: f"clip(floor({_LUMA}+{amount}*({plane}(X,Y)-{_LUMA})+0.5),0,255)" for plane in "rgb"}
        chains.append(f"[{last}]geq=r='{planes['r']}':g='{planes['g']}':b='{planes['b']}'[saturated]")
        last = "saturated"
    return chains, last


def encoder_arguments(codec: Codec, crf: int | None = None, preset: str | None = None,
                      size: tuple[int, int] | None = None) -> list[str]:
    """ffmpeg's output arguments that encode a picture of ``size`` as the engine's writer does (``media.formats``)."""
    arguments = ["-c:v", codec.encoder]
    for name, value in encoder_options(codec, crf, preset, size).items():
        arguments += [f"-{name}:v", value]
    arguments += ["-pix_fmt", codec.pixel_format]
    if codec.qscale is not None:
        arguments += ["-q:v", str(codec.qscale)]
    return arguments


# RGB to the planes as the engine's writer does (OpenCV's BT.601 conversion: each 2x2 block's chroma from its
# top-left pixel); ffmpeg's default scaler averages and sites chroma elsewhere (tens of levels at colour edges).
_TO_PLANES = "scale=flags=neighbor+full_chroma_inp:out_h_chr_pos=0:out_v_chr_pos=0:out_color_matrix=bt601:out_range=tv,"
# The planes to RGB as the engine's reader does (OpenCV's conversion: the nearest chroma sample, no interpolation).
_TO_RGB = "scale=flags=neighbor,format=gbrp"


def _colour_tags(codec: Codec | None, planar: bool = False) -> str:
    """The graph's last filter: the frames converted to the codec's pixel format (``planar``: they are in it) and
    tagged with the engine's colours (encoders such as ProRes write the frame's tags, not the stream's)."""
    if codec is None or codec.colour_range is None:
        return "null"
    convert = "" if planar or codec.name not in formats.PLANAR_CODECS else _TO_PLANES
    return (f"{convert}format={codec.pixel_format},setparams=range={codec.colour_range}:"
            f"colorspace={formats.COLOUR_MATRIX}:color_primaries={formats.COLOUR_PRIMARIES}:"
            f"color_trc={formats.COLOUR_TRANSFER}")


def ffmpeg_command(
    settings: Settings, input_path: str, output_path: str, frame_count: int, fps: float,
    input_arguments: list[str] | None = None, size: tuple[int, int] | None = None,
    codec: str | None = None, crf: int | None = None, encoder_preset: str | None = None, sound: bool = True,
    planar: bool = False,
) -> FfmpegCommand:
    """The ffmpeg command for ``settings`` on a clip of ``frame_count`` frames at ``fps``.

    ``input_arguments`` replace ``-i input_path`` (an image sequence needs its rate and pattern).
    A movie output gets the engine's encoder settings for ``codec``, ``crf`` and ``encoder_preset``
    (``None``: the container's defaults; a choice it does not take raises ``MediaError``). ``size``
    (the input's width and height) makes an odd-sized picture even for the codecs that need it, by
    repeating its last column or row, as the engine's writer does. Without ``sound`` (``--no-audio``) the
    command writes no sound. ``planar``: the engine renders this on the 4:2:0 planes (``media.planar_reasons``
    is empty), so the graph does too.
    """
    if settings.align != "none":
        raise SettingsError(
            f"align {settings.align}: ffmpeg has no pairwise alignment (vid.stab smooths one camera path for the "
            "whole clip); render with the exact engine"
        )
    notes: list[str] = []
    total = output_frame_count(settings, frame_count)
    pivot = settings.still_level
    chains: list[str] = []

    if settings.mode == "freeze":
        lags: tuple[int, ...] = ()
        partner_streams = 1
    else:
        lags = settings.partner_lags
        partner_streams = len(lags)
    matte = settings.look == "matte"
    source_uses = 1 + matte + (settings.overlay != "none") + (settings.layout != "motion")
    source_labels = [f"s{index}" for index in range(source_uses)]
    partner_labels = [f"p{index}" for index in range(partner_streams)]
    outputs = "".join(f"[{label}]" for label in source_labels + partner_labels)
    # Count time in frames (time base 1/fps, pts = frame number), so delayed copies line up
    # frame for frame whatever the container's time stamps were rounded to.
    rate = exact_rate(fps)
    chains.append(
        f"[0:v]{'format=yuv420p' if planar else _TO_RGB},settb={rate.denominator}/{rate.numerator},setpts=N,"
        f"split={len(source_labels) + len(partner_labels)}{outputs}"
    )

    # Partner streams: frame t of each shows the partner frame of t (edge frames held).
    delayed = []
    if settings.mode == "freeze":
        reference = settings.reference
        chains.append(
            f"[p0]trim=start_frame={reference}:end_frame={reference + 1},setpts=PTS-STARTPTS,"
            "loop=loop=-1:size=1,setpts=N[d0]"
        )
        delayed.append("d0")
    else:
        for index, lag in enumerate(lags):
            if lag > 0:
                chains.append(f"[p{index}]tpad=start={lag}:start_mode=clone[d{index}]")
            elif lag < 0:
                chains.append(
                    f"[p{index}]trim=start_frame={-lag},setpts=PTS-STARTPTS,"
                    f"tpad=stop={-lag}:stop_mode=clone[d{index}]"
                )
            else:
                chains.append(f"[p{index}]null[d{index}]")
            delayed.append(f"d{index}")
    partner = delayed[0]
    if settings.time_colour:
        # gbrp planes: 0 green, 1 blue, 2 red; each taken from the stream of its channel's lag.
        green, blue, red = (
            delayed[lags.index(lag)] for lag in (settings.channel_lags[1], settings.channel_lags[0],
                                                  settings.channel_lags[2])
        )
        chains.append(
            f"[{green}][{blue}][{red}]mergeplanes=map0s=0:map0p=0:map1s=1:map1p=1:map2s=2:map2p=2:format=gbrp[partner]"
        )
        partner = "partner"

    current = "s0"
    if settings.pre_blur > 0:
        sigma = _number(settings.pre_blur)
        chains.append(f"[s0]gblur=sigma={sigma}:steps=6[b0]")
        chains.append(f"[{partner}]gblur=sigma={sigma}:steps=6[bp]")
        current, partner = "b0", "bp"
        notes.append("pre-blur: gblur approximates the engine's 8-bit Gaussian: close, not exact")
    if matte:  # the strongest plane's change, opened from threshold over softness, as every plane
        threshold, softness = settings.matte_threshold, settings.matte_softness
        strength = "max(max(r(X,Y),g(X,Y)),b(X,Y))"
        opening = f"clip(floor(255*({strength}-{threshold})/{softness}+0.5),0,255)"
        chains.append(f"[{current}][{partner}]blend=all_expr='abs(A-B)':shortest=1[change]")
        chains.append(f"[change]geq=r='{opening}':g='{opening}':b='{opening}'[matte]")
        current, partner = source_labels[1], "matte"
    if planar:  # luma and chroma, each against its own white, with gray edges their own still level
        whites = (luma_white(LIMITED), CHROMA_WHITE)
        stills = (str(still_luma(pivot, LIMITED)), "128")
    else:
        whites, stills = (255.0,), (str(pivot),)
    motions = []
    for white, still in zip(whites, stills, strict=True):
        motion = _motion_expression(settings, white=white)
        if settings.mode == "shift" and settings.edges in ("source", "gray"):
            reach = settings.reach
            positive = max(settings.channel_lags) > 0
            frame = f"floor(T*{rate.numerator}/{rate.denominator}+0.5)"  # blend's N is not 0-based everywhere
            edge = f"lt({frame},{reach})" if positive else f"gte({frame},{frame_count - reach})"
            fill = "A" if settings.edges == "source" else still
            motion = f"if({edge},{fill},{motion})"
        motions.append(motion)
    if planar:
        expressions = f"c0_expr='{motions[0]}':c1_expr='{motions[1]}':c2_expr='{motions[1]}'"
    else:
        expressions = f"all_expr='{motions[0]}'"
    chains.append(f"[{current}][{partner}]blend={expressions}:shortest=1[m]")
    last = "m"

    if settings.trails > 0:
        if settings.look == "gray":
            notes.append("trails: lagfun keeps only brighter values, so it cannot trail the gray look: left out")
        else:
            chains.append(f"[{last}]lagfun=decay={_number(settings.trails)}[trails]")
            last = "trails"
            notes.append("trails: lagfun decays in float, the engine in whole levels: close, not exact")

    if settings.glow > 0:
        threshold = settings.glow_threshold
        excess = f"max(abs(val-{pivot})-{threshold},0)"
        chains.append(f"[{last}]split[glowbase][glowsource]")
        chains.append(
            f"[glowsource]lutrgb=r='{excess}':g='{excess}':b='{excess}',"
            f"gblur=sigma={_number(settings.glow_radius)}[halo]"
        )
        chains.append(
            f"[glowbase][halo]blend=all_expr='clip(floor(A+{_number(settings.glow)}*B+0.5),0,255)'[glow]"
        )
        last = "glow"
        notes.append("glow: gblur approximates the engine's 8-bit Gaussian: close, not exact")

    colour, last = _colour_chains(settings, last)
    chains += colour

    if settings.overlay != "none":
        strength = _number(settings.overlay_strength)
        if settings.overlay == "multiply":
            blended = f"A*(128+B-{pivot})/128"
        else:
            gain = 2 if settings.look == "gray" else 1
            blended = f"255-(255-A)*(255-min(255,{gain}*abs(B-{pivot})))/255"
        chains.append(
            f"[{source_labels[1 + matte]}][{last}]blend=all_expr='clip(floor(A+{strength}*({blended}-A)+0.5),0,255)'"
            ":shortest=1[overlay]"
        )
        last = "overlay"

    if settings.mode == "shift" and settings.edges == "trim":
        leading = max(0, max(settings.channel_lags))
        notes.append("edges=trim: the audio is mapped untrimmed")
        chains.append(f"[{last}]trim=start_frame={leading}:end_frame={leading + total},setpts=PTS-STARTPTS[trimmed]")
        last = "trimmed"

    if settings.layout != "motion":
        stack = "hstack" if settings.layout == "side" else "vstack"
        original = source_labels[-1]
        if settings.mode == "shift" and settings.edges == "trim":
            leading = max(0, max(settings.channel_lags))
            chains.append(f"[{original}]trim=start_frame={leading},setpts=PTS-STARTPTS[original]")
            original = "original"
        chains.append(f"[{original}][{last}]{stack}=shortest=1[laid]")
        last = "laid"

    chosen = stored = None
    if PurePath(output_path).suffix.lower() in formats.MOVIE_FORMATS:
        chosen = check_encoder_options(output_path, codec, crf, encoder_preset)
        if planar:  # as the engine's writer stores the planes (FFV1 in 4:2:0)
            chosen = formats.storing_planes(chosen)
    if size is not None and chosen is not None:
        width, height = stored = output_size(settings, *size)
        if chosen.even_size and (width % 2 or height % 2):
            chains.append(f"[{last}]pad=ceil(iw/2)*2:ceil(ih/2)*2,"
                          f"fillborders=right={width % 2}:bottom={height % 2}:mode=smear[even]")
            last = "even"
            stored = width + width % 2, height + height % 2
    arguments = [
        "ffmpeg", *(input_arguments or ["-i", input_path]),
        "-filter_complex", ";".join(chains) + f";[{last}]{_colour_tags(chosen, planar)}[out]",
        "-map", "[out]", *(["-map", "0:a?"] if sound else ["-an"]), "-frames:v", str(total),
        *(encoder_arguments(chosen, crf, encoder_preset, stored) if chosen is not None else []), output_path,
    ]
    return FfmpegCommand(arguments, notes)
