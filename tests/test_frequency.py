"""The dominant frequency of a part moving back and forth, read from its signed displacement."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from blender_addon.core.frequency import (
    CONFIDENT_STRENGTH,
    DisplacementSpectra,
    FrequencyError,
    RegionDisplacement,
    Spectra,
    check_band,
    default_band,
    region_names,
    sampling,
    segment_length,
)
from tests.frequency_helpers import Swing, kept_frames, swinging_clip

FPS = 30.0
WHOLE = (0, 0, 160, 120)


def peaks(frames, regions=(WHOLE,), count=300, band=None):
    length = segment_length(count, FPS)
    band = band or default_band(length, FPS)
    spectra = Spectra(FPS, length, band, signals=len(regions))
    tracker = None
    for frame in frames:
        tracker = tracker or RegionDisplacement(frame.shape, regions)
        spectra.add(tracker.add(frame))
    return spectra.peaks()


def within(found: float, truth: float) -> bool:
    return abs(found - truth) <= max(0.01 * truth, 0.02)


@pytest.mark.parametrize("square", [False, True], ids=["sine", "square"])
@pytest.mark.parametrize("noise", [0.0, 8.0], ids=["clean", "noisy"])
@pytest.mark.parametrize("hz", [0.2, 0.7, 1.35, 3.0, 6.0, 12.0])
def test_dominant_frequency_of_a_swinging_part(hz, noise, square):
    amplitude = 5.0 if hz < 5 else 2.5  # a few pixels a frame at most, as a camera sees a vibration
    swing = Swing(hz, 60, 40, amplitude=amplitude, square=square)
    (peak,) = peaks(swinging_clip([swing], noise=noise))
    assert within(peak.hz, hz), (peak.hz, hz)
    assert peak.confident, peak.strength


def test_two_regions_at_two_rates_are_told_apart():
    left, right = Swing(0.9, 20, 40), Swing(2.4, 100, 40)
    found = peaks(swinging_clip([left, right], noise=4.0), regions=[(0, 0, 80, 120), (80, 0, 80, 120)])
    assert within(found[0].hz, 0.9) and within(found[1].hz, 2.4), [peak.hz for peak in found]


def test_a_still_region_is_not_a_confident_rhythm():
    (moving, still) = peaks(swinging_clip([Swing(1.5, 20, 40)], noise=8.0), regions=[(0, 0, 80, 120),
                                                                                    (90, 0, 70, 120)])
    assert moving.confident and within(moving.hz, 1.5)
    assert not still.confident, still.strength
    assert still.strength < CONFIDENT_STRENGTH / 2


def test_after_lossy_compression(tmp_path):
    path = tmp_path / "swing.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(30))
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"crf": "28", "preset": "veryfast"}
        for frame in swinging_clip([Swing(2.2, 60, 40)], noise=3.0):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    with av.open(str(path)) as container:
        decoded = [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]
    (peak,) = peaks(iter(decoded), count=len(decoded))
    assert within(peak.hz, 2.2) and peak.confident


def test_long_signals_are_averaged_over_segments_of_bounded_length():
    rate, seconds, hz = 30.0, 200, 1.7
    length = segment_length(int(seconds * rate), rate)
    assert length == 1800  # a minute: the clip is cut in overlapping segments
    spectrum = Spectra(rate, length, default_band(length, rate))
    rng = np.random.default_rng(3)
    for index in range(int(seconds * rate)):
        spectrum.add([3 * np.sin(2 * np.pi * hz * index / rate) + rng.normal(0, 1) + index * 0.01, 0.0])
    assert spectrum.segments >= 5
    (peak,) = spectrum.peaks()
    assert within(peak.hz, hz) and peak.confident


def test_band_is_checked_against_what_a_segment_can_show():
    assert default_band(300, 30) == (0.2, 15.0)
    assert check_band((0.0, 100.0), 300, 30) == (0.2, 15.0)
    with pytest.raises(FrequencyError, match="outside"):
        check_band((20.0, 30.0), 300, 30)
    with pytest.raises(FrequencyError, match="LO:HI"):
        check_band((3.0, 1.0), 300, 30)


def test_a_band_limits_the_search():
    (peak,) = peaks(swinging_clip([Swing(1.0, 20, 40), Swing(4.0, 100, 40, amplitude=3)]), band=(2.0, 8.0))
    assert within(peak.hz, 4.0)


def test_frequency_map_colours_each_block_by_its_rate():
    from blender_addon.core.frequency_map import FrequencyMap

    swings = [Swing(0.8, 10, 20, size=40, amplitude=4), Swing(3.1, 110, 60, size=40, amplitude=3)]
    frequency_map = None
    for frame in swinging_clip(swings, noise=3.0):
        frequency_map = frequency_map or FrequencyMap(frame.shape, FPS, 300)
        frequency_map.add(frame)
    hz, strength = frequency_map.result()
    block = frequency_map.layout.block
    confident = strength >= CONFIDENT_STRENGTH
    left = hz[(20 + 20) // block, (10 + 20) // block]
    right = hz[(60 + 20) // block, (110 + 20) // block]
    assert within(left, 0.8) or abs(left - 0.8) < 0.1, left  # the map's resolution is 0.1 Hz
    assert abs(right - 3.1) < 0.1, right
    corner = confident[0, -1], confident[-1, 0]  # still background, far from both
    assert not any(corner), strength


def test_the_frequency_map_of_a_1080p_clip_holds_little_memory():
    """The map's blocks are sized from its budget, and its fit and peak search work on bounded arrays: at 1080p,
    what it holds at its peak (fed 20 s of every block's displacement, then read) stays under 32 MB."""
    import tracemalloc

    from blender_addon.core.frequency_map import FrequencyMap

    samples = np.random.default_rng(0).normal(size=(64, 64 * 36, 2))
    tracemalloc.start()
    try:
        frequency_map = FrequencyMap((1080, 1920), FPS, 1800)
        for index in range(600):
            frequency_map.spectra.add(samples[index % 64, :frequency_map.layout.blocks])
        frequency_map.result()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, peak / (1 << 20)


def test_frequency_map_blocks_grow_to_fit_the_budget():
    from blender_addon.core.frequency_map import bytes_per_block, map_layout

    small = map_layout(1920, 1080, 1800, 30, None, budget=8 << 20)
    large = map_layout(1920, 1080, 1800, 30, None, budget=64 << 20)
    assert small.block > large.block
    for layout in (small, large):
        band = (0.2, 15.0)
        assert layout.blocks * bytes_per_block(layout.length, 30, band) <= (8 << 20 if layout is small else 64 << 20)


def small_report():
    """A report as a render makes it: each region's steps (the whole frame first) fed to the spectra."""
    regions = [("left", 0, 0, 80, 120)]
    spectra = DisplacementSpectra(region_names(regions), FPS, 120)
    displacement = None
    for frame in swinging_clip([Swing(1.1, 20, 40)], frames=120):
        displacement = displacement or RegionDisplacement(frame.shape, [WHOLE, *(r[1:] for r in regions)])
        spectra.add(displacement.step(frame))
    return spectra.report()


def test_spectrum_files(tmp_path):
    import csv
    import json

    from blender_addon.media.spectrum import SpectrumPlotWriter, SpectrumWriter

    report = small_report()
    assert list(report.peaks) == ["frame", "left"]
    for name in ("s.json", "s.csv", "s.png"):
        writer = (SpectrumPlotWriter if name.endswith(".png") else SpectrumWriter)(tmp_path / name)
        writer.commit(report)
    found = json.loads((tmp_path / "s.json").read_text())
    assert found["rate"] == FPS and found["band"] == list(report.band)
    left = found["regions"]["left"]
    assert within(left["dominant_hz"], 1.1) and left["per_minute"] == 60 * left["dominant_hz"]
    assert left["strength"] > CONFIDENT_STRENGTH and len(left["spectrum"][0]) == 2
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert {row["region"] for row in rows} == {"frame", "left"}
    assert len(rows) == 2 * len(report.peaks["left"].spectrum)
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["s.csv", "s.json", "s.png"]  # no temporaries


def test_spectrum_files_refuse_other_names_and_leave_nothing_when_discarded(tmp_path):
    from blender_addon.media.errors import MediaError
    from blender_addon.media.spectrum import FrequencyMapWriter, SpectrumWriter

    with pytest.raises(MediaError, match="spectrum is written as .csv or .json"):
        SpectrumWriter(tmp_path / "s.txt")
    with pytest.raises(MediaError, match=".png"):
        FrequencyMapWriter(tmp_path / "m.jpg")
    (tmp_path / "taken.json").write_text("{}")
    with pytest.raises(MediaError):
        SpectrumWriter(tmp_path / "taken.json")
    writer = SpectrumWriter(tmp_path / "s.json")
    writer.discard()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken.json"]


def test_sliding_frequency_follows_a_change_of_rate():
    from blender_addon.core.frequency import SlidingFrequency

    sliding = SlidingFrequency(FPS, seconds=6.0)
    readings = []
    for index in range(int(24 * FPS)):
        phase = 2 * np.pi * (0.5 * min(index, 12 * FPS) + 2.0 * max(index - 12 * FPS, 0)) / FPS
        sliding.add([4 * np.sin(phase) + 0.2 * np.sin(index * 7.1), 0.0])
        if index % 30 == 0:
            readings.append((index / FPS, sliding.current()))
    assert readings[1][1] is None  # under 3 s of samples
    at = dict(readings)
    assert within(at[10.0].hz, 0.5) and within(at[23.0].hz, 2.0) and at[23.0].confident


def test_a_still_flat_region_beside_a_swinging_part_does_not_take_its_rhythm():
    """Optical flow smears motion over flat areas: a flat gray region 20 px from a textured swinging patch must
    not read the patch's rate (the flow is only read where either frame has texture)."""
    import cv2

    from tests.frequency_helpers import texture

    patch = texture(40, 40, 1)
    frames = []
    for index in range(240):
        frame = np.full((240, 320), 128, np.uint8)
        x = round(100 + 20 * np.sin(2 * np.pi * 1.5 * index / FPS))
        frame[100:140, x:x + 40] = patch
        frames.append(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    flat, moving = peaks(iter(frames), regions=[(0, 0, 60, 60), (60, 80, 120, 80)], count=240)
    assert within(moving.hz, 1.5) and moving.confident
    assert flat.hz is None or not flat.confident, (flat.hz, flat.strength)


def test_the_camera_s_motion_given_is_taken_out_of_the_flow():
    """A shaking camera moves every pixel: given how it moved between frames (as ``--align`` estimates it), the
    region reads the part's own rate; without it, the shake's."""
    import cv2

    def camera(index: int) -> tuple[float, float]:
        seconds = index / FPS
        return 6 * np.sin(2 * np.pi * 2.2 * seconds), 4 * np.sin(2 * np.pi * 2.2 * seconds + 1)

    frames = [cv2.warpAffine(frame, np.float32([[1, 0, camera(index)[0]], [0, 1, camera(index)[1]]]), (160, 120),
                             borderMode=cv2.BORDER_REFLECT)
              for index, frame in enumerate(swinging_clip([Swing(0.9, 60, 40)], frames=300))]
    moves = [None, *(np.array([[1, 0, camera(index)[0] - camera(index - 1)[0]],
                               [0, 1, camera(index)[1] - camera(index - 1)[1]], [0, 0, 1]]) for index in range(1, 300))]
    for given, truth in ((True, 0.9), (False, 2.2)):
        spectra = Spectra(FPS, 300, default_band(300, FPS))
        tracker = RegionDisplacement(frames[0].shape, [(30, 30, 100, 60)])
        for frame, move in zip(frames, moves, strict=True):
            spectra.add(tracker.add(frame, move if given else None))
        (peak,) = spectra.peaks()
        assert within(peak.hz, truth) and peak.confident, (given, peak.hz, peak.strength)


def test_a_band_is_checked_once_where_it_is_searched(monkeypatch):
    """The frequency map checks its band once (its layout carries it), and the band a render checks up front
    (``spectrum_band``) is the one the spectrum searches."""
    from blender_addon.core import frequency, frequency_map

    checked = []
    real = frequency_map.check_band
    monkeypatch.setattr(frequency_map, "check_band", lambda *args: checked.append(args) or real(*args))
    made = frequency_map.FrequencyMap((120, 160), FPS, 300, (0.5, 5.0))
    assert len(checked) == 1 and made.band == made.layout.band == (0.5, 5.0)
    for band in ((0.5, 5.0), (0.0, 99.0), None):
        spectra = DisplacementSpectra(["frame"], FPS, 300, band)
        assert spectra.band == frequency.spectrum_band(band, 300, FPS)
    with pytest.raises(FrequencyError):
        frequency.spectrum_band((20.0, 30.0), 300, FPS)


def test_frames_at_uneven_times_are_read_at_their_own_times():
    kept = kept_frames(300)  # a variable-rate capture: about a quarter of the frames dropped at random
    frames = list(swinging_clip([Swing(1.5, 60, 40)]))
    rate, nyquist = sampling(FPS, [Fraction(index, 30) for index in kept])
    assert rate == (len(kept) - 1) / Fraction(kept[-1], 30) and nyquist == 15.0
    tracker = RegionDisplacement(frames[0].shape, [WHOLE])
    steps = [tracker.step(frames[index]) for index in kept]
    timed, even = (DisplacementSpectra(["frame"], rate, len(kept), nyquist=nyquist if on else None)
                   for on in (True, False))
    for index, step in zip(kept, steps, strict=True):
        timed.add(step, index / FPS)
        even.add(step)
    peak = timed.report().peaks["frame"]
    assert within(peak.hz, 1.5) and peak.confident, (peak.hz, peak.strength)
    assert timed.report().band[1] == 15.0
    assert not within(even.report().peaks["frame"].hz, 1.5)  # what reading them as evenly spaced gave
    assert sampling(FPS, None) == (FPS, None) and sampling(FPS, [Fraction(i, 30) for i in range(5)])[1] == 15.0


@pytest.mark.parametrize(("aspect", "shown"), [(None, 720 / 576), (Fraction(16, 15), 4 / 3)])
def test_frequency_map_is_drawn_at_the_display_aspect_with_plain_hz(monkeypatch, tmp_path, aspect, shown):
    from blender_addon.media import spectrum

    drawn = []
    monkeypatch.setattr(spectrum, "_save", lambda figure, file: drawn.append(figure))
    hz, strength = np.array([[2.5, 4.0], [8.0, np.nan]]), np.array([[50.0, 20.0], [40.0, 0.0]])
    spectrum.FrequencyMapWriter(tmp_path / "m.png").commit(np.zeros((576, 720), np.uint8), hz, strength, (2.0, 12.0),
                                                          360, aspect)
    (figure,) = drawn
    figure.canvas.draw()
    picture, bar = figure.axes
    box = picture.get_window_extent()
    assert abs(box.width / box.height - shown) < 0.01, (box.width, box.height)
    labels = [label.get_text() for label in bar.xaxis.get_majorticklabels()]
    assert labels == ["2", "3", "4", "5", "6", "8", "10"]
    assert not any(label.get_text() for label in bar.xaxis.get_minorticklabels())  # no 3×10⁰


def test_tiny_frames_are_measured_enlarged():
    # A part swinging at 1.5 Hz seen in a strip 48 x 6 pixels: DIS takes no frame so short.
    frames = [cv2.resize(frame, (48, 6), interpolation=cv2.INTER_AREA)
              for frame in swinging_clip([Swing(1.5, 40, 40, amplitude=20)])]
    (peak,) = peaks(frames, regions=[(0, 0, 48, 6)])
    assert within(peak.hz, 1.5), (peak.hz, peak.strength)
