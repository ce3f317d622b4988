"""The render service: a request in, a result out, on any thread; progress, cancelling, each render's own
warnings; and no module outside the command line imports it."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import pytest
from import_scan import imports
from media_helpers import smooth_frames, write_frames

from blender_addon.core.settings import Settings
from blender_addon.render import RenderCancelled, RenderRequest, jobs, render

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_frames(tmp_path_factory.mktemp("render") / "clip.mkv", smooth_frames(12), fps=10)


def test_progress_hears_done_and_total(clip, tmp_path):
    heard = []
    result = render(RenderRequest(clip, tmp_path / "out.mkv", Settings(), (2, 7)),
                    lambda done, total: heard.append((done, total)))
    assert heard == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert result.frames == (2, 7) and result.written == (tmp_path / "out.mkv",) and result.warnings == ()
    assert (tmp_path / "out.mkv").exists()


def test_a_render_cancelled_on_its_thread_leaves_nothing(clip, tmp_path):
    cancelled, heard, outcome = threading.Event(), [], []
    folder = tmp_path / "cancel"
    folder.mkdir()

    def progress(done: int, total: int) -> None:
        heard.append(done)
        if done == 3:
            cancelled.set()

    def work() -> None:
        try:
            render(RenderRequest(clip, folder / "out.mkv", Settings(align="shift"),
                                 align_report=str(folder / "align.csv")), progress, cancelled)
        except RenderCancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert outcome == ["cancelled"] and heard == [1, 2, 3]
    assert list(folder.iterdir()) == []


def test_renders_on_two_threads_each_collect_only_their_own_warnings(clip, tmp_path):
    """Both renders run at once (a barrier holds each at its first frame, where each logs a warning), so each
    render's collector is listening while the other logs its notes and its warning."""
    both_started = threading.Barrier(2, timeout=60)
    results, errors = {}, []

    def work(name: str, offset: str) -> None:
        def progress(done: int, total: int) -> None:
            if done == 1:
                both_started.wait()
                logging.getLogger("blender_addon.render.exact").warning("%s: first frame", name)
                both_started.wait()

        settings = Settings(delay_unit="seconds", offset_seconds=float(offset))
        try:
            results[name] = render(RenderRequest(clip, tmp_path / f"{name}.mkv", settings), progress).warnings
        except Exception as error:  # noqa: BLE001 (reported by the assertion)
            errors.append(error)

    threads = [threading.Thread(target=work, args=args) for args in (("a", "0.1"), ("b", "0.3"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert results == {"a": ("offset 0.1 s = 1 frame at 10 fps", "a: first frame"),
                       "b": ("offset 0.3 s = 3 frames at 10 fps", "b: first frame")}


def _imports_cli(names: list[str]) -> bool:
    return any(name == "blender_addon.cli" or name.startswith("blender_addon.cli.") for name in names)


def test_the_import_scan_sees_imports_inside_functions():
    hidden = "def late():\n    from .. import cli\n    return cli\n"
    assert _imports_cli(imports(hidden, "blender_addon.vse"))
    assert _imports_cli(imports("from .cli.main import run\n", "blender_addon"))
    assert not _imports_cli(imports("from . import cli\n", "blender_addon.render"))  # blender_addon.render.cli


def test_no_module_outside_the_command_line_imports_it():
    files = [*(ROOT / "blender_addon").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]
    outside = [path for path in files if not path.is_relative_to(ROOT / "blender_addon" / "cli")
               and path not in (ROOT / "scripts" / "motion_extract.py", ROOT / "blender_addon" / "commands.py")]
    # (the command line's own entry points: the script, and the installed command)
    assert len(outside) > 20
    offenders = [str(path.relative_to(ROOT)) for path in outside
                 if _imports_cli(imports(path.read_text(encoding="utf-8"),
                                          ".".join(path.relative_to(ROOT).parts[:-1])))]
    assert offenders == []


def test_a_jobs_child_hands_its_warnings_back(clip, tmp_path, monkeypatch, capsys):
    """A ``--jobs`` child renders outside this process: what it logs comes back on its report line, which the
    parent reads (and logs again, into its own render's result)."""
    real = jobs.extract_motion

    def warning_extract(*args, **kwargs):
        logging.getLogger("blender_addon.core.engine").warning("a chunk's own warning")
        yield from real(*args, **kwargs)

    monkeypatch.setattr(jobs, "extract_motion", warning_extract)
    raw = tmp_path / "chunk.raw"
    argv = [str(clip), str(raw), "2", "5", json.dumps(Settings().to_dict()), str(1 << 28), str(os.getppid()), "null",
            "rgb"]
    assert jobs.chunk_main(argv) == 0
    log = tmp_path / "chunk.log"
    log.write_text(capsys.readouterr().err, encoding="utf-8")
    child = jobs._Child(None, str(raw), 2, 5, str(log))
    assert child.report() == {"pairs": 0, "failed": [], "warnings": ["a chunk's own warning"]}
