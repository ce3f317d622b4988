"""Shared fixtures: the repository root on sys.path, and small synthetic clips."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from blender_addon.core.sample_clip import SampleClip  # noqa: E402

USES_BPY = re.compile(r"\bbpy\b")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``bpy`` every test in a file that names the bpy module (imports it or runs it in a child process):
    ``scripts/test.sh`` runs those on each Blender the extension supports (``pytest -m bpy``)."""
    named: dict[Path, bool] = {}
    for item in items:
        if item.path not in named:
            named[item.path] = bool(USES_BPY.search(item.path.read_text(encoding="utf-8")))
        if named[item.path]:
            item.add_marker(pytest.mark.bpy)


@pytest.fixture(scope="session")
def small_clip() -> SampleClip:
    """A 30-frame 160x90 sample clip, generated in memory."""
    return SampleClip(width=160, height=90, frame_count=30, fps=24.0)


# --- the bpy tests' shared fixtures (bpy is imported only when a test asks for them) -----------


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """The add-on registered, its user presets in a temporary folder (yielded); unregistered after the module."""
    from vse_helpers import user_scripts_in

    import blender_addon

    with user_scripts_in(tmp_path_factory.mktemp("user_scripts")) as scripts:
        blender_addon.register()
        yield scripts
        blender_addon.unregister()


@pytest.fixture(scope="module")
def clip() -> SampleClip:
    """The bpy tests' sample clip (see vse_helpers)."""
    from vse_helpers import sample_clip

    return sample_clip()


@pytest.fixture(scope="module")
def png_files(clip, tmp_path_factory) -> list[Path]:
    """``clip`` as a numbered PNG sequence, which Blender and OpenCV decode to the same pixels."""
    from vse_helpers import write_png_sequence

    return write_png_sequence(clip, tmp_path_factory.mktemp("png"))


@pytest.fixture(scope="module")
def lossless_input(tmp_path_factory, small_clip) -> Path:
    """``small_clip`` as a lossless FFV1 movie, for the ``--print-ffmpeg`` tests (they run Debian's ffmpeg)."""
    import shutil

    from blender_addon import media

    assert shutil.which("ffmpeg"), "ffmpeg is not installed: run scripts/test.sh, which installs it"
    path = tmp_path_factory.mktemp("ffmpeg") / "in.mkv"
    with media.open_writer(path, small_clip.fps, small_clip.width, small_clip.height) as writer:
        for frame in small_clip.read_from(0):
            writer.write(frame)
    return path


@pytest.fixture(scope="session")
def extension_zips(tmp_path_factory) -> dict:
    """The extension built once per session: each platform's zip (scripts/build_extension.py; wheels from its cache)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_extension

    return build_extension.build(tmp_path_factory.mktemp("dist"))
