"""The one pending-file mechanism: a file or a numbered sequence written beside its output, published whole."""

from __future__ import annotations

import os

import numpy as np
import pytest

from blender_addon.media import open_writer
from blender_addon.media.errors import MediaError
from blender_addon.media.publish import PendingFile, is_temporary, published_together


def test_a_pending_file_is_published_whole_or_not_at_all(tmp_path):
    target = tmp_path / "report.csv"
    pending = PendingFile(str(target), overwrite=False)
    assert is_temporary(pending.temp) and os.listdir(tmp_path) == [os.path.basename(pending.temp)]
    with open(pending.temp, "w") as stream:
        stream.write("a,b\n")
    pending.commit()
    pending.discard()  # after a commit: nothing to remove
    assert os.listdir(tmp_path) == ["report.csv"] and target.read_text() == "a,b\n"
    with pytest.raises(MediaError, match="already exists"):
        PendingFile(str(target), overwrite=False)
    PendingFile(str(target), overwrite=True).discard()
    assert os.listdir(tmp_path) == ["report.csv"] and target.read_text() == "a,b\n"


def test_a_pending_sequence_publishes_its_frames_and_refuses_one_that_appeared(tmp_path):
    pattern = str(tmp_path / "frames" / "%03d.png")
    pending = PendingFile(pattern, overwrite=False, numbers=range(5, 8))
    for number in range(5, 8):
        with open(pending.frame_path(number), "wb") as stream:
            stream.write(bytes([number]))
    (tmp_path / "frames" / "006.png").write_bytes(b"someone else's")
    with pytest.raises(MediaError, match=r"006\.png appeared while rendering"):
        pending.commit(range(5, 8))
    pending.discard()
    assert sorted(os.listdir(tmp_path / "frames")) == ["006.png"]
    assert (tmp_path / "frames" / "006.png").read_bytes() == b"someone else's"

    pending = PendingFile(pattern, overwrite=True, numbers=range(5, 8), whole=True)
    for number in range(5, 8):
        with open(pending.frame_path(number), "wb") as stream:
            stream.write(bytes([number]))
    (tmp_path / "frames" / "009.png").write_bytes(b"an old render's")
    pending.commit(range(5, 8))
    assert sorted(os.listdir(tmp_path / "frames")) == ["005.png", "006.png", "007.png"]
    assert (tmp_path / "frames" / "006.png").read_bytes() == bytes([6])


def test_the_writers_write_through_their_pending_file(tmp_path, monkeypatch):
    made: list[PendingFile] = []
    original = PendingFile.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(PendingFile, "__init__", recording)
    for name in ("out.mkv", "frames/%02d.png"):
        with open_writer(tmp_path / name, 25, 8, 6, frame_count=1) as writer:
            assert writer._pending is made[-1] and os.path.exists(made[-1].temp)
            writer.write(np.zeros((6, 8, 3), np.uint8))
        assert not os.path.exists(made[-1].temp)
    assert sorted(os.listdir(tmp_path)) == ["frames", "out.mkv"] and os.listdir(tmp_path / "frames") == ["00.png"]


def test_outputs_published_together_publish_none_when_one_cannot_be(tmp_path):
    """A file that appeared at the last output's name: the first is not published either."""
    first, second = PendingFile(str(tmp_path / "a.csv"), False), PendingFile(str(tmp_path / "b.json"), False)
    with pytest.raises(MediaError, match="b.json appeared while rendering"), published_together():
        for pending in (first, second):
            with open(pending.temp, "w") as stream:
                stream.write("x")
            pending.commit()
        (tmp_path / "b.json").write_text("theirs")
    assert os.listdir(tmp_path) == ["b.json"] and (tmp_path / "b.json").read_text() == "theirs"


def test_a_grouped_sequence_is_checked_once_and_the_group_alone_removes_the_folders_it_made(tmp_path, monkeypatch):
    """Inside published_together, a numbered sequence is checked once before anything is published; the folders
    made for the outputs are the block's, removed when it fails (and, left empty, when it ends)."""
    checked = []
    real = PendingFile._check
    monkeypatch.setattr(PendingFile, "_check", lambda self, numbers: checked.append(numbers) or real(self, numbers))
    with published_together():
        pending = PendingFile(str(tmp_path / "frames" / "%02d.png"), False, numbers=range(2))
        assert pending.created == []  # the block's, not the file's
        for number in range(2):
            with open(pending.frame_path(number), "wb") as stream:
                stream.write(b"x")
        pending.commit(range(2))
        unwritten = PendingFile(str(tmp_path / "new" / "side" / "report.csv"), False)
        unwritten.discard()
    assert checked == [range(2)] and sorted(os.listdir(tmp_path)) == ["frames"]
    assert sorted(os.listdir(tmp_path / "frames")) == ["00.png", "01.png"]
    with pytest.raises(RuntimeError), published_together():  # the second's temporary kept the first's folder
        files = [PendingFile(str(tmp_path / "a" / "b" / "report.csv"), False),
                 PendingFile(str(tmp_path / "a" / "movie.mkv"), False)]
        for pending in files:
            pending.discard()
        raise RuntimeError
    assert sorted(os.listdir(tmp_path)) == ["frames"]
