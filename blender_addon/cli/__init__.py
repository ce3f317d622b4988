"""The ``motion_extract`` command line: arguments, engine choice, input and output checks, progress, exit codes.

``scripts/motion_extract.py`` is a thin wrapper around :func:`main`. The package: ``arguments`` and
``data_arguments`` (the parser), ``main`` (the run, its checks, and the request it makes of ``render``),
``blender`` (the vse engine's side). Two engines render:

- ``exact``: the render service (``render``), the core engine with FFmpeg's libraries (PyAV) and OpenCV (``media``): the
  reference, and the default for every output (H.264, HEVC, AV1, VP9, ProRes, FFV1, MJPG with
  the source's sound, and image sequences);
- ``vse``: the Blender rig through ``vse.batch`` and Blender's FFmpeg (H.264 + AAC, ProRes,
  FFV1), for rendering the rig itself, and for ``--blend``.

bpy is imported only when the vse engine runs, and its path never imports OpenCV or PyAV, so
it works inside a real Blender that has neither.

Exit codes: 0 success, 1 input or output failure (including an interrupted render),
2 bad arguments. Every error is one line on stderr, ``motion_extract: error: ...``, never a
traceback. stdout carries only ``wrote PATH``.
"""

from ..core.settings import Settings
from ..frontend import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SIGNAL,
    EXIT_USAGE,
    REPO_ROOT,
    OneLineParser,
    Progress,
    RunError,
    UsageError,
    add_progress_arguments,
    add_settings_arguments,
    explicit_options,
    has_own_flag,
    option_flag,
    preset_listing,
    report,
    run_command,
    script_arguments,
    settings_from_args,
)
from .arguments import (
    ALL_CODECS,
    ENGINES,
    MOVIE_OUTPUTS,
    PROG,
    SAMPLES,
    build_parser,
    parse_frame_range,
    parse_jobs,
    parse_size,
)
from .main import choose_engine, default_output, ensure_sample_clip, main, request_from_args, run

__all__ = [
    "ALL_CODECS", "ENGINES", "EXIT_FAILED", "EXIT_OK", "EXIT_SIGNAL", "EXIT_USAGE", "MOVIE_OUTPUTS", "PROG",
    "REPO_ROOT", "SAMPLES", "OneLineParser", "Progress", "RunError", "Settings", "UsageError",
    "add_progress_arguments", "add_settings_arguments", "build_parser", "choose_engine", "default_output",
    "ensure_sample_clip", "explicit_options", "has_own_flag", "main", "option_flag", "parse_frame_range",
    "parse_jobs", "parse_size", "preset_listing", "report", "request_from_args", "run", "run_command",
    "script_arguments", "settings_from_args",
]
