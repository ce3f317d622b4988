"""The command line on a Dask cluster (``--cluster``) and several inputs in one command: a real LocalCluster of
worker processes on localhost; chunks and their join equal a whole render, a worker killed mid-chunk costs
that chunk only, a bad input fails alone, the local cluster listens on the loopback address only."""

from __future__ import annotations

import io
import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from chunk_helpers import decoded, write_clip
from frequency_helpers import Swing, write_swinging_clip
from media_helpers import write_frames

from blender_addon import cli, cluster
from blender_addon.cluster import tasks
from blender_addon.core.sample_clip import SampleClip
from blender_addon.core.settings import Settings
from blender_addon.render import RenderRequest, render

SETTINGS = Settings(offset=2, trails=0.5)


@pytest.fixture(scope="module")
def client():
    with cluster.connect("local:2") as client:
        yield client


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("cluster") / "walk.mkv", SampleClip(160, 90, 40, 24.0))


def run_cli(*args: str | os.PathLike) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([str(arg) for arg in args], stdout, stderr, cluster=cluster.run_requests)
    return code, stdout.getvalue(), stderr.getvalue()


def test_chunks_and_their_join_equal_a_whole_render(client, clip, tmp_path):
    whole = tmp_path / "whole.mkv"
    render(RenderRequest(clip, whole, SETTINGS))
    out = tmp_path / "out"
    out.mkdir()
    heard = []
    outcomes = cluster.run(client, [RenderRequest(clip, out / "walk.mkv", SETTINGS)], jobs=3,
                           progress=lambda done, total: heard.append((done, total)))
    assert [outcome.error for outcome in outcomes] == [None]
    assert all(np.array_equal(a, b) for a, b in zip(decoded(whole), decoded(out / "walk.mkv"), strict=True))
    assert len(decoded(out / "walk.mkv")) == 40
    assert heard[-1] == (40, 40) and os.listdir(out) == ["walk.mkv"]  # the chunks' work folder is gone


@pytest.mark.parametrize(("name", "path", "math"), [("walk.mp4", "planar", "auto"), ("walk.mov", "rgb", "auto"),
                                                     ("walk.mp4", "planar", "planar")])
def test_chunks_take_the_path_of_the_whole_render(client, tmp_path, name, path, math):
    """On a 4:2:0 input the lossless chunks hold what the whole render's path makes: its planes for an H.264 output
    (the planar path), RGB for a ProRes one, so the join equals the whole render either way; ``--math planar`` too
    (it failed late: the chunks' FFV1 output was taken for one that needs RGB)."""
    from media_helpers import smooth_frames, yuv420p_movie

    from blender_addon.render import EncodeOptions, whole_render_math

    source = yuv420p_movie(tmp_path / "smooth.mkv", smooth_frames(40, 64, 48))
    encode = EncodeOptions(crf=0) if name.endswith(".mp4") else EncodeOptions()
    whole = tmp_path / f"whole{Path(name).suffix}"
    render(RenderRequest(source, whole, Settings(offset=2), encode=encode, math=math))
    out = tmp_path / "out"
    out.mkdir()
    request = RenderRequest(source, out / name, Settings(offset=2), encode=encode, math=math)
    assert whole_render_math(request) == path
    outcomes = cluster.run(client, [request], jobs=3)
    assert [outcome.error for outcome in outcomes] == [None]
    assert all(np.array_equal(a, b) for a, b in zip(decoded(whole), decoded(out / name), strict=True))


def test_a_spectrum_on_the_cluster_is_the_whole_render_spectrum(tmp_path, monkeypatch):
    """The chunks carry their motion signals and the join takes the spectrum: the same JSON as a whole render."""

    def whole(*args):
        raise AssertionError("rendered in one task, not in chunks")

    monkeypatch.setattr(tasks, "render_whole", whole)  # sent to the workers by value
    clip = tmp_path / "swing.mkv"
    write_swinging_clip(clip, [Swing(0.9, 20, 40), Swing(2.4, 100, 40, amplitude=3)], frames=150, noise=3.0)
    roi = ("--roi", "left=0,0,80,120")
    code, _, stderr = run_cli(clip, "-o", tmp_path / "whole.mkv", "--spectrum", tmp_path / "whole.json", *roi, "-q")
    assert code == 0, stderr
    out = tmp_path / "out"
    out.mkdir()
    code, _, stderr = run_cli(clip, "-o", out / "swing.mkv", "--cluster", "local:2", "--jobs", "3", "--spectrum",
                              out / "swing.json", *roi, "-q")
    assert code == 0, stderr
    assert (out / "swing.json").read_text() == (tmp_path / "whole.json").read_text()
    assert sorted(os.listdir(out)) == ["swing.json", "swing.mkv"]  # the chunks' signals went with the work folder


def test_a_spectrum_is_joined_from_chunks_and_other_side_files_render_whole(clip, tmp_path):
    from blender_addon.render import DataRequest, FrequencyRequest

    def joinable(**fields) -> bool:
        return RenderRequest(clip, tmp_path / "m.mkv", SETTINGS, **fields).joinable

    assert joinable() and joinable(frequency=FrequencyRequest(spectrum="s.json", spectrum_plot="s.png"))
    assert not joinable(frequency=FrequencyRequest(frequency_map="m.png"))
    assert not joinable(data=DataRequest(data="d.csv")) and not joinable(align_report="a.csv")


def test_progress_names_each_input_under_way_with_its_frames(client, clip, tmp_path):
    other = tmp_path / "other.mkv"
    shutil.copy(clip, other)
    out = tmp_path / "out"
    out.mkdir()
    heard: list = []
    outcomes = cluster.run(client, [RenderRequest(source, out / f"{source.stem}.mkv", SETTINGS)
                                    for source in (clip, other)],
                           progress=lambda done, total: heard.append(("all", done, total)),
                           finished=lambda outcome: heard.append(("finished", Path(outcome.request.input).name)),
                           under_way=lambda inputs: heard.append(("under way", inputs)))
    assert [outcome.error for outcome in outcomes] == [None, None]
    seen = [inputs for kind, inputs, *_ in heard if kind == "under way" and inputs]
    assert seen, heard  # each input is named while it renders, not only once it ends
    for inputs in seen:
        assert all(name in ("walk.mkv", "other.mkv") and 0 < done <= total == 40 for name, done, total in inputs)
    for index, (kind, name, *_) in enumerate(heard):  # a finished input is no longer under way
        if kind == "finished":
            assert not any(any(part[0] == name for part in event[1]) for event in heard[index:]
                           if event[0] == "under way"), heard


def worker_killer(client, task_prefix: str):
    """A progress callback that kills (SIGKILL) the first worker seen processing a task named ``task_prefix...``
    once frames are done, and the list it notes the killed worker in."""
    pids = client.run(os.getpid)
    killed = []

    def progress(done: int, total: int) -> None:
        if killed or done == 0:
            return
        for worker, keys in client.processing().items():
            if any(str(key).startswith(task_prefix) for key in keys) and worker in pids:
                os.kill(pids[worker], signal.SIGKILL)
                killed.append(worker)
                return

    return progress, killed


def killing_run(client, tmp_path: Path, frames: int, task_prefix: str):
    """A clip of ``frames``, its whole render, an empty output folder, and :func:`worker_killer`'s progress callback
    and list for tasks named ``task_prefix...``."""
    source = write_clip(tmp_path / "long.mkv", SampleClip(320, 180, frames, 24.0))
    whole = tmp_path / "whole.mkv"
    render(RenderRequest(source, whole, SETTINGS))
    out = tmp_path / "out"
    out.mkdir()
    return source, whole, out, *worker_killer(client, task_prefix)


def test_a_worker_killed_mid_chunk_costs_that_chunk_only(client, tmp_path):
    source, whole, out, progress, killed = killing_run(client, tmp_path, 150, "chunk-")

    outcomes = cluster.run(client, [RenderRequest(source, out / "long.mkv", SETTINGS)], jobs=2, progress=progress)
    assert killed and [outcome.error for outcome in outcomes] == [None]
    assert all(np.array_equal(a, b) for a, b in zip(decoded(whole), decoded(out / "long.mkv"), strict=True))
    assert os.listdir(out) == ["long.mkv"]  # what the dead attempt left went with the work folder
    client.wait_for_workers(2, timeout=240)  # the nanny restarts the killed worker; slow on a busy machine


def test_a_worker_killed_mid_render_of_a_whole_input_costs_that_input_one_attempt(client, tmp_path):
    """Two inputs on two workers: a task each, rendered whole; the killed one's attempt folder goes with the run."""
    source, whole, out, progress, killed = killing_run(client, tmp_path, 120, "whole-")

    requests = [RenderRequest(source, out / name, SETTINGS) for name in ("a.mkv", "b.mkv")]
    outcomes = cluster.run(client, requests, progress=progress)
    assert killed and [outcome.error for outcome in outcomes] == [None, None]
    for name in ("a.mkv", "b.mkv"):
        assert all(np.array_equal(x, y) for x, y in zip(decoded(whole), decoded(out / name), strict=True))
    assert sorted(os.listdir(out)) == ["a.mkv", "b.mkv"]
    client.wait_for_workers(2, timeout=240)  # the nanny restarts the killed worker; slow on a busy machine


def test_a_bad_input_among_four_good_ones_fails_alone(tmp_path):
    """On the command line, with their data files: each good input's files land, the bad one is named."""
    names = []
    for index in range(4):
        names.append(write_frames(tmp_path / f"good{index}.mkv", [np.full((36, 64, 3), 10 * index + value, np.uint8)
                                                                  for value in range(12)], fps=12))
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"not a movie")
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, stderr = run_cli(names[0], names[1], bad, names[2], names[3], "-o", f"{out}/", "--cluster",
                                   "local:2", "-q", "--data", "x.csv")
    assert code == 1, stderr
    lines = stderr.strip().splitlines()
    assert lines == [f"motion_extract: error: {bad}: not a movie FFmpeg can read (invalid data found when "
                     "processing input)", "motion_extract: error: 1 of 5 inputs failed (each named above)"], stderr
    assert sorted(os.listdir(out)) == sorted(f"good{index}_motion_gray_shift1{tail}" for index in range(4)
                                             for tail in (".mkv", ".csv", ".csv.json"))  # side files beside
    assert stdout == ""


def test_an_input_that_writes_nothing_leaves_no_folder_made_for_its_files(client, clip, tmp_path):
    """The up-front check of each input's files makes the folders of its side files; an input that fails (when
    planned, or in its render) removes them again, while a written one keeps its own."""
    from blender_addon.render import DataRequest

    def request(input_path: Path, name: str, **given) -> RenderRequest:
        return RenderRequest(input_path, tmp_path / f"{name}.mkv", given.pop("settings", Settings()),
                             data=DataRequest(data=str(tmp_path / name / "deeper" / "data.csv")), **given)

    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"not a movie")
    outcomes = cluster.run(client, [request(bad, "broken"), request(clip, "kept", frames=(0, 3)),
                                    request(clip, "late", settings=Settings(offset=400))])  # fails when planned
    assert [outcome.error is None for outcome in outcomes] == [False, True, False]
    assert sorted(os.listdir(tmp_path)) == ["bad.mkv", "kept", "kept.mkv"]
    assert "data.csv" in os.listdir(tmp_path / "kept" / "deeper")


def test_the_local_cluster_listens_on_the_loopback_address_only(client):
    pids = {os.getpid(), *client.run(os.getpid).values()}
    import psutil  # distributed's own dependency

    pids |= {psutil.Process(pid).ppid() for pid in pids if pid != os.getpid()}  # the nannies
    listening = [(pid, connection.laddr.ip) for pid in pids for connection in psutil.Process(pid).net_connections()
                 if connection.status == psutil.CONN_LISTEN]
    assert listening and all(ip in ("127.0.0.1", "::1") for _, ip in listening), listening


def test_ctrl_c_cancels_every_task_and_leaves_nothing(client, tmp_path):
    source = write_clip(tmp_path / "long.mkv", SampleClip(320, 180, 150, 24.0))
    out = tmp_path / "out"
    out.mkdir()

    def progress(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cluster.run(client, [RenderRequest(source, out / name, SETTINGS) for name in ("a.mkv", "b.mkv")],
                    progress=progress)
    assert os.listdir(out) == []
    assert not any(client.processing().values())


def test_a_worker_that_cannot_see_a_path_is_named_before_anything_starts(clip, tmp_path):
    class Client:
        def run(self, function, *args):
            return {"tcp://10.0.0.7:40100": None, "tcp://10.0.0.8:40100": "/mnt/clips/walk.mkv"}

    with pytest.raises(cluster.RenderError, match="worker tcp://10.0.0.8:40100 cannot see /mnt/clips/walk.mkv: the "
                       "inputs and the output folder must be on storage every worker sees under the same path"):
        cluster._check_storage(Client(), [RenderRequest(clip, tmp_path / "out.mkv", SETTINGS)], "run")
    assert os.listdir(tmp_path) == []
    assert tasks.storage_problem([str(clip)], [str(tmp_path)], str(clip)) is None
    assert tasks.storage_problem([str(tmp_path / "gone.mkv")], [str(tmp_path)], str(clip)) == str(tmp_path / "gone.mkv")


def test_a_plain_tcp_scheduler_on_another_host_is_warned_of():
    assert "any machine that can reach the scheduler can run code on its workers" in cluster.insecure_warning(
        "tcp://10.1.2.3:8786")
    assert cluster.insecure_warning("tcp://127.0.0.1:8786") is None
    assert cluster.insecure_warning("tls://10.1.2.3:8786") is None
    assert cluster.local_workers("local:3") == 3 and cluster.local_workers("tcp://x:1") is None
    with pytest.raises(cluster.RequestError):
        cluster.local_workers("local:0")


def test_a_scheduler_that_goes_away_ends_the_run_clearly_with_nothing_half_written(tmp_path):
    source = write_clip(tmp_path / "long.mkv", SampleClip(320, 180, 150, 24.0))
    out = tmp_path / "out"
    out.mkdir()
    import distributed

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local, distributed.Client(local) as client:
        def progress(done: int, total: int) -> None:
            if done > 0 and client.status == "running":
                client.shutdown()  # the scheduler and its workers go away

        with pytest.raises(cluster.RenderError, match=r"the Dask scheduler went away mid-run: 2 of 2 inputs "
                           r"unfinished \(an output is published complete or not at all\)"):
            cluster.run(client, [RenderRequest(source, out / name, SETTINGS) for name in ("a.mkv", "b.mkv")],
                        progress=progress)
    for name in os.listdir(out):  # a worker may finish its task before it goes too: never half of an output
        assert name in ("a.mkv", "b.mkv") and len(decoded(out / name)) == 150, name


@pytest.mark.parametrize(("address", "message"), [
    ("foo", "--cluster 'foo': give a scheduler's address with its port (tcp://HOST:8786 or tls://HOST:8786) or "
            "local[:N]"),
    ("LOCAL", "--cluster 'LOCAL': give a scheduler's address"),
    ("", "--cluster '': give a scheduler's address"),
    ("http://127.0.0.1:8786", "--cluster 'http://127.0.0.1:8786': give a scheduler's address"),
    ("tls://127.0.0.1:1", "--cluster tls://127.0.0.1:1: tls:// needs Dask's certificate settings "
                          "(DASK_DISTRIBUTED__COMM__TLS__CA_FILE and DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT; "
                          "see the README)"),
])
def test_a_bad_cluster_address_is_a_bad_argument_in_one_line(clip, tmp_path, address, message):
    code, _, stderr = run_cli(clip, "-o", tmp_path / "a.mkv", "--cluster", address)
    assert code == 2 and stderr.startswith(f"motion_extract: error: {message}") and stderr.count("\n") == 1, stderr
    assert os.listdir(tmp_path) == []


def test_a_stream_input_is_refused_in_one_line(clip, tmp_path):
    """A URL stayed a URL: it was made a path the workers could not see (``http:/host/a.mp4``)."""
    url = "http://127.0.0.1:9/a.mp4"
    code, _, stderr = run_cli(url, "-o", tmp_path / "a.mkv", "--cluster", "local:2")
    assert code == 2 and stderr == (f"motion_extract: error: --cluster renders files every worker reads; {url} is a "
                                    "stream: save it to a file first\n"), stderr
    code, _, stderr = run_cli(clip, url, "-o", f"{tmp_path}/", "--jobs", "2")
    assert code == 2 and stderr == (f"motion_extract: error: --jobs renders files with the exact engine; {url} is a "
                                    "stream\n"), stderr
    assert os.listdir(tmp_path) == []


def test_a_task_failure_reaches_the_client_as_its_line_not_a_repr():
    """An error carrying what Dask cannot send was sent as ``Exception("RenderError('...')")`` and shown so:
    ``clip.mkv: Exception: RenderError('.../chunk-....mkv: the disk is full')``."""
    import distributed
    from distributed import protocol
    from distributed.core import error_message

    def failing() -> None:
        error = cluster.RenderError("/o/chunk.mkv: the disk is full")
        error.writer = threading.Lock()  # something it carries that no pickle sends
        raise error

    def sent(task) -> BaseException:
        try:
            task()
        except Exception as error:
            return protocol.pickle.loads(error_message(error)["exception"].data)  # as a worker sends it
        raise AssertionError("the task did not fail")

    request = RenderRequest("clip.mkv", Path("o.mkv"), SETTINGS)
    assert type(sent(failing)) is Exception  # what the tasks' own wrapper spares them: a repr
    arrived = sent(tasks._plain_errors(failing))  # the error travels as its kind and its line, no repr parsed
    assert (type(arrived), arrived.kind, arrived.message) == (tasks.TaskFailure, "render", "/o/chunk.mkv: the disk is "
                                                              "full")
    assert arrived.__cause__ is None and arrived.__context__ is None
    assert cluster._reason(distributed, request, arrived) == "/o/chunk.mkv: the disk is full"
    for error, kind, reason in ((cluster.RequestError("--band: no\nmore"), "request", "--band: no"),
                                (tasks.RenderCancelled(), "cancelled", "clip.mkv: cancelled")):
        def raising(error=error):
            raise error

        arrived = sent(tasks._plain_errors(raising))
        assert arrived.kind == kind and cluster._reason(distributed, request, arrived) == reason
    assert cluster._reason(distributed, request, ValueError("a defect")) == "clip.mkv: ValueError: a defect"


def test_a_killed_client_s_work_folder_is_removed_by_the_next_run(client, clip, tmp_path):
    """A client killed with SIGKILL left ``.walk.mkv.cluster-.../`` with its chunks; a re-run removes it, as a
    ``--jobs`` re-run removes a killed render's temporaries, and leaves a live client's and another host's."""
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    stale, live, other = (tmp_path / f".walk.mkv.cluster-{owner}-0badc0de" for owner in (
        f"{host}-{dead.pid}", f"{host}-{os.getpid()}", f"elsewhere-{dead.pid}"))
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "chunk-0000000-0000010-12345678.mkv").write_bytes(b"partial")
    outcomes = cluster.run(client, [RenderRequest(clip, tmp_path / "walk.mkv", SETTINGS)], jobs=2)
    assert [outcome.error for outcome in outcomes] == [None]
    assert sorted(os.listdir(tmp_path)) == sorted(["walk.mkv", live.name, other.name])


def test_an_output_named_as_another_input_fails_before_it_renders(client, clip, tmp_path):
    """``cluster.run`` itself checks every output against every input: with ``overwrite`` the second input was
    replaced by the first one's output while the second rendered from it."""
    other = tmp_path / "other.mkv"
    shutil.copy(clip, other)
    before = other.read_bytes()
    requests = [RenderRequest(clip, other, SETTINGS, overwrite=True),
                RenderRequest(other, tmp_path / "b.mkv", SETTINGS, overwrite=True)]
    outcomes = cluster.run(client, requests)
    assert outcomes[0].error == f"output {other} would overwrite the input: choose another output path"
    assert outcomes[1].error is None and other.read_bytes() == before
