"""Frame exactness of the streaming engine on the self-describing sample clip.

Every output frame is decoded back into the input frames that produced it, and compared with
the pairing the settings promise, written out here independently of ``core.timing``.
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from frame_helpers import FrameList

from blender_addon.core.engine import EngineStats, SourceEndedEarly, extract_motion
from blender_addon.core.sample_clip import SampleClip, decode_frame
from blender_addon.core.settings import Settings, SettingsError
from blender_addon.core.timing import FrameRangeError, frame_range, output_frame_count


def promised_pairs(settings: Settings, frame_count: int) -> list[tuple[int, int | str]]:
    """(current frame, partner frame or 'source'/'still') for every output frame, in order."""
    if settings.mode == "freeze":
        return [(t, settings.reference) for t in range(frame_count)]
    pairs: list[tuple[int, int | str]] = []
    for t in range(frame_count):
        p = t - settings.offset
        if 0 <= p < frame_count:
            pairs.append((t, p))
        elif settings.edges == "hold":
            pairs.append((t, 0 if p < 0 else frame_count - 1))
        elif settings.edges == "source":
            pairs.append((t, "source"))
        elif settings.edges == "gray":
            pairs.append((t, "still"))
    return pairs


def render(source, settings: Settings, **kwargs) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(source, settings, **kwargs)]


def assert_frames_match_promise(frames: list[np.ndarray], settings: Settings, frame_count: int) -> None:
    promised = promised_pairs(settings, frame_count)
    assert len(frames) == len(promised) == output_frame_count(settings, frame_count)
    for index, (frame, (t, partner)) in enumerate(zip(frames, promised, strict=True)):
        code = decode_frame(frame)
        if partner == "source":
            assert (code.kind, code.frame) == ("raw", t), f"output {index}"
        elif partner == "still" or partner == t:
            assert code.kind == "same", f"output {index}: {code}"
            if partner == "still":
                assert np.all(frame == 128), f"output {index} is not flat still gray"
        else:
            assert (code.kind, code.frame, code.partner) == ("pair", t, partner), f"output {index}"


SHIFTS = [1, 5, -3]
EDGES = ["hold", "source", "gray", "trim"]


@pytest.mark.parametrize("edges", EDGES)
@pytest.mark.parametrize("offset", SHIFTS)
def test_shift_pairs_every_frame_with_t_minus_n(small_clip, offset, edges):
    settings = Settings(offset=offset, edges=edges)
    assert_frames_match_promise(render(small_clip, settings), settings, small_clip.frame_count)


@pytest.mark.parametrize("reference", [0, 11, 29])
def test_freeze_pairs_every_frame_with_the_reference(small_clip, reference):
    settings = Settings(mode="freeze", reference=reference)
    frames = render(small_clip, settings)
    assert_frames_match_promise(frames, settings, small_clip.frame_count)
    assert np.all(frames[reference] == 128)


def test_edge_frame_counts(small_clip):
    count = small_clip.frame_count
    assert len(render(small_clip, Settings(offset=5, edges="trim"))) == count - 5
    assert len(render(small_clip, Settings(offset=-3, edges="trim"))) == count - 3
    assert len(render(small_clip, Settings(offset=5, edges="hold"))) == count


CHUNKED = [
    Settings(offset=5),
    Settings(offset=-3),
    Settings(offset=4, edges="trim"),
    Settings(offset=-4, edges="source"),
    Settings(mode="freeze", reference=17),
]


@pytest.mark.parametrize("settings", CHUNKED, ids=lambda s: s.describe() + "-" + s.edges)
def test_chunks_equal_the_whole_render(small_clip, settings):
    whole = render(small_clip, settings)
    cuts = [0, 1, 7, 13, len(whole) - 2, len(whole)]
    chunks = []
    for start, stop in zip(cuts, cuts[1:], strict=False):
        chunks += render(small_clip, settings, start=start, stop=stop)
    assert len(chunks) == len(whole)
    for index, (chunk_frame, whole_frame) in enumerate(zip(chunks, whole, strict=True)):
        assert np.array_equal(chunk_frame, whole_frame), f"output frame {index}"


class CountingSource:
    """Wraps a clip and counts how many of its decoded frames are alive at once."""

    def __init__(self, clip: SampleClip) -> None:
        self.clip = clip
        self.frame_count, self.width, self.height = clip.frame_count, clip.width, clip.height
        self.alive = 0
        self.peak_alive = 0

    def _track(self, frame: np.ndarray) -> np.ndarray:
        self.alive += 1
        self.peak_alive = max(self.peak_alive, self.alive)
        weakref.finalize(frame, self._release)
        return frame

    def _release(self) -> None:
        self.alive -= 1

    def read_from(self, start):
        for index in range(start, self.clip.frame_count):
            yield self._track(self.clip.frame(index))


@pytest.mark.parametrize("offset", [1, 5, -3, 12])
def test_window_and_two_heads_are_byte_identical_and_bounded(small_clip, offset):
    settings = Settings(offset=offset)
    window_source, heads_source = CountingSource(small_clip), CountingSource(small_clip)
    window_stats, heads_stats = EngineStats(), EngineStats()
    window = render(window_source, settings, stats=window_stats)
    heads = render(heads_source, settings, max_memory=0, stats=heads_stats)
    assert window_stats.strategy == "window" and heads_stats.strategy == "two-heads"
    assert len(window) == len(heads)
    assert all(np.array_equal(a, b) for a, b in zip(window, heads, strict=True))
    assert window_source.peak_alive <= abs(offset) + 1
    assert window_stats.max_frames_held <= abs(offset) + 1
    assert heads_source.peak_alive <= 2
    assert window_stats.frames_decoded == small_clip.frame_count
    assert heads_stats.heads_opened == 2


def test_memory_budget_picks_the_strategy(small_clip):
    frame_bytes = small_clip.width * small_clip.height * 3
    settings = Settings(offset=5)
    stats = EngineStats()
    render(small_clip, settings, max_memory=6 * frame_bytes, stats=stats)
    assert stats.strategy == "window"
    render(small_clip, settings, max_memory=6 * frame_bytes - 1, stats=stats)
    assert stats.strategy == "two-heads"


def test_freeze_holds_two_frames_whatever_the_reference(small_clip):
    source = CountingSource(small_clip)
    render(source, Settings(mode="freeze", reference=25))
    assert source.peak_alive <= 2


def test_settings_that_do_not_fit_the_clip_fail_before_reading(small_clip):
    with pytest.raises(SettingsError, match="out of range"):
        next(extract_motion(small_clip, Settings(offset=30)))
    with pytest.raises(SettingsError, match="outside the clip"):
        next(extract_motion(small_clip, Settings(mode="freeze", reference=30)))


def test_a_source_that_ends_early_is_reported(small_clip):
    class ShortSource(CountingSource):
        def read_from(self, start):
            for index in range(start, 10):
                yield self.clip.frame(index)

    with pytest.raises(SourceEndedEarly, match="decoding stopped at frame 10 of 30"):
        render(ShortSource(small_clip), Settings(offset=2))


def test_output_range_outside_the_clip_is_an_error(small_clip):
    with pytest.raises(ValueError, match="outside the output"):
        render(small_clip, Settings(offset=2, edges="trim"), start=20, stop=29)


@pytest.mark.parametrize(("start", "stop"), [(0, 0), (5, 3), (-1, 4), (0, 11), (10, None)])
def test_one_frame_range_check_with_one_message(start, stop):
    with pytest.raises(FrameRangeError) as raised:
        frame_range(10, start, stop)
    shown = 10 if stop is None else stop
    assert str(raised.value) == f"frame range {start}:{shown} is outside the output (frames 0 to 9)"
    assert frame_range(10, 3) == range(3, 10) and frame_range(10) == range(10)


def test_the_engine_refuses_a_range_with_the_one_check(small_clip):
    with pytest.raises(FrameRangeError, match=r"^frame range 0:31 is outside the output \(frames 0 to 29\)$"):
        next(extract_motion(small_clip, Settings(offset=2), 0, 31))


def test_frame_list_is_a_source(small_clip):
    frames = [small_clip.frame(index) for index in range(5)]
    source = FrameList(frames)
    assert (source.frame_count, source.width, source.height) == (5, small_clip.width, small_clip.height)
    assert all(np.array_equal(a, b) for a, b in zip(source.read_from(2), frames[2:], strict=True))
    with pytest.raises(ValueError, match="at least one frame"):
        FrameList([])
