"""The command line's arguments: the parser, its value types, and the names it offers (engines, samples, codecs)."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from ..core.engine import DEFAULT_MAX_MEMORY
from ..frontend import ALL_CODECS, REPO_ROOT, OneLineParser, add_progress_arguments, add_settings_arguments
from ..media import formats
from ..media.formats import BLENDER_MOVIES, MOVIE_FORMATS
from ..render.request import MATHS
from . import data_arguments

PROG = "motion_extract"


def sample_folder(root: Path = REPO_ROOT) -> Path:
    """Where the sample clips are kept: a checkout's ``.cache/`` (where its tests and scripts find them), else, for
    the package installed by pip, the user's cache (never inside the installed package)."""
    if (root / "scripts").is_dir():
        return root / ".cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "motion-extraction"


# The built-in sample clips, written on first use: the tripod shot, the same filmed handheld, and a longer take
# whose pendulum swings at a known rate (for the motion frequency), on the tripod and handheld.
SAMPLES = {"tripod": sample_folder() / "sample_clip.mkv", "handheld": sample_folder() / "sample_handheld.mkv",
           "pendulum": sample_folder() / "sample_pendulum.mkv",
           "handheld-pendulum": sample_folder() / "sample_handheld_pendulum.mkv"}
PENDULUM_HZ = 0.8
# How each differs from the tripod shot (``handheld``: filmed through the known shaky camera path).
SAMPLE_CLIPS = {"handheld": {"handheld": True}, "pendulum": {"frame_count": 300, "swing_hz": PENDULUM_HZ},
                "handheld-pendulum": {"handheld": True, "frame_count": 300, "swing_hz": PENDULUM_HZ}}
DEFAULT_OUTPUT_DIR_FOR_SAMPLE = Path("out")
ENGINES = ("auto", "exact", "vse")
# The movie extensions each engine writes.
MOVIE_OUTPUTS = {"exact": tuple(MOVIE_FORMATS), "vse": BLENDER_MOVIES}
MOVIE_OUTPUTS["auto"] = MOVIE_OUTPUTS["exact"]
INTERRUPTED = f"\n{PROG}: interrupted: no output was written\n"


def parse_size(text: str) -> int:
    """Bytes from ``512M``, ``1G``, ``1.5GiB``, ``800000`` (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (use e.g. 512M or 2G)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def parse_frame_range(text: str) -> tuple[int | None, int | None]:
    """``A:B`` (either end may be left out) as a half-open range of output frames."""
    match = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid frame range {text!r} (use A:B, A: or :B)")
    start, stop = (int(group) if group else None for group in match.groups())
    if stop is not None and stop <= (start or 0):
        raise argparse.ArgumentTypeError(f"empty frame range {text!r}: B must be greater than A")
    return start, stop


def parse_jobs(text: str) -> int:
    """A number of processes, 1 or more."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid number of jobs {text!r} (use 1 or more)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description=(
            "Motion extraction: compare every frame of a clip with a shifted (or frozen) copy of itself, "
            "so still areas cancel to flat gray and everything that moved lights up."
        ),
        epilog=(
            "Outputs, written by the exact engine with the input's sound: .mp4 (H.264), .mov (ProRes 422 HQ), "
            ".mkv (lossless FFV1), .webm (VP9), .avi (MJPG), or image sequences such as out/%05d.png. "
            "Exit codes: 0 success, 1 input or output failed, 2 bad arguments."
        ),
    )
    parser.add_argument("input", nargs="*", metavar="INPUT",
                        help="movie file, image folder, or image pattern such as frames/%%05d.png; several inputs "
                        "render into the folder -o FOLDER/ names, each as its own render")
    parser.add_argument(
        "--sample", nargs="?", const="tripod", choices=tuple(SAMPLES), metavar="NAME",
        help="use a built-in synthetic sample clip as input: tripod (the default), handheld (the same scene "
        "filmed through a known shaky camera path, for --align), pendulum (10 s of the tripod shot, its pendulum "
        f"swinging {PENDULUM_HZ:g} times a second, for --spectrum) or handheld-pendulum (the same filmed handheld)",
    )
    parser.add_argument(
        "--blend", metavar="FILE.blend",
        help="instead of an INPUT, render the sequencer of this .blend as it is, with Blender (the effect "
        "options do not apply; default output: <stem>_render.mp4 beside it)",
    )
    parser.add_argument(
        "-o", "--output",
        help="output path (default: <input stem>_motion_<look>_<mode><N>.<ext> next to the input; "
        "for --sample, in ./out/)",
    )
    parser.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="exact: the core engine with FFmpeg's libraries (fast, the reference); "
        "vse: the Blender rig rendered by Blender's sequencer (.mp4, .mov, .mkv, PNG sequences); "
        "auto: exact (default: auto)",
    )
    add_settings_arguments(parser)
    movie = parser.add_argument_group("movie output (exact engine)")
    movie.add_argument(
        "--codec", choices=ALL_CODECS, help=formats.codec_help())
    movie.add_argument("--crf", type=int, metavar="N", help=formats.crf_help())
    movie.add_argument("--encoder-preset", metavar="NAME", help=formats.preset_help())
    movie.add_argument("--no-audio", action="store_true", help="leave the input's sound out of a movie output")
    data_arguments.add_data_arguments(parser)
    parser.add_argument(
        "--align-report", metavar="FILE.csv",
        help="with --align: write per output frame the estimated transform of each partner onto its frame and "
        "how well it fit (see the README for the columns)",
    )
    parser.add_argument(
        "--print-ffmpeg", action="store_true",
        help="print an ffmpeg command that reproduces these settings on INPUT and exit without rendering: the "
        "graph of the path the exact engine takes, the same levels on the 4:2:0 planes and in RGB, within 1 level "
        "for each 4:2:0 conversion the RGB graph adds (notes on what ffmpeg cannot do go to stderr)",
    )
    parser.add_argument(
        "--frames", type=parse_frame_range, metavar="A:B", default=(None, None),
        help="render only output frames A to B-1 (half-open, like a Python slice; either end may be "
        "left out); each frame equals the same frame of a whole render, so chunks can be split across machines",
    )
    parser.add_argument(
        "--jobs", type=parse_jobs, metavar="N", default=1,
        help="exact engine: render in N processes at once, each a chunk of the frames, joined in order into the "
        "same output (the same frames as one process; for looks that keep one core busy, such as a screen overlay, "
        "on a machine with N cores; --max-memory is shared between them) (default: 1)",
    )
    parser.add_argument(
        "--cluster", metavar="ADDRESS",
        help="render on a Dask cluster: a scheduler's address (tls://host:8786, tcp://host:8786; the inputs and "
        "the output folder on storage every worker sees under the same paths) or local[:N] (N worker processes "
        "on this machine, listening on the loopback address only); each input's chunks (--jobs N of them, or one "
        "per worker) are tasks, joined into its output (see the README)",
    )
    parser.add_argument(
        "--max-memory", type=parse_size, metavar="SIZE", default=DEFAULT_MAX_MEMORY,
        help="exact engine: memory for buffered frames; above it a second reader follows N frames behind "
        "instead (default: 1G)",
    )
    parser.add_argument(
        "--math", choices=MATHS, default="auto",
        help="exact engine: how the look is computed. auto: on the decoded 4:2:0 planes as they are (the planar "
        "path: a movie to H.264, HEVC, AV1, VP9 or MPEG-4, the gray look, amplify 1, nothing else that needs RGB), "
        "else in RGB; rgb: always in RGB, the reference (the planar path is within 1 level of it where colours lie "
        "inside RGB); planar: the planar path, or an error saying why not (default: auto)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    add_progress_arguments(parser)
    return parser
