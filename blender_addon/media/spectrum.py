"""Motion frequency on disk: ``--spectrum`` (JSON or CSV), ``--spectrum-plot`` and ``--frequency-map`` (PNG).

Each file is written to a hidden temporary beside it and published only when the render ends well, as the
other data outputs are (``paths.PendingFile``). The figures use matplotlib's Agg canvas. No bpy.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from ..core.frequency import CONFIDENT_STRENGTH, MIN_PROMINENCE, FrequencyReport
from .data import _figure, _require_matplotlib, cell
from .errors import MediaError, os_error
from .names import check_picture, data_kind, extension
from .publish import PendingFile

MAP_PIXELS = 1000  # the frequency map's picture is drawn at most this wide (the figure's width)
MAP_TALLEST = 15.0  # inches: the map's picture is drawn at most this tall (the figure is 10 wide)
CSV_COLUMNS = ("region", "hz", "per_minute", "power", "dominant_hz", "strength", "confident")


class SpectrumWriter:
    """``--spectrum FILE.json|FILE.csv``: each region's spectrum and dominant frequency. The CSV has a row per
    region and frequency (the region's dominant frequency and strength repeated on each of its rows)."""

    def __init__(self, path: str | os.PathLike, overwrite: bool = False,
                 protect: Sequence[str | os.PathLike] = ()) -> None:
        self.path = os.fspath(path)
        try:
            self.kind = data_kind(self.path)
        except MediaError:
            raise MediaError(f"{self.path}: a spectrum is written as .csv or .json, not "
                             f"{extension(self.path) or 'a file without an extension'}") from None
        self._file = PendingFile(self.path, overwrite, protect)

    def commit(self, report: FrequencyReport) -> None:
        try:
            with open(self._file.temp, "w", encoding="utf-8", newline="") as stream:
                if self.kind == "json":
                    json.dump(report.to_dict(), stream, indent=1)
                    stream.write("\n")
                else:
                    rows = csv.writer(stream, lineterminator="\n")
                    rows.writerow(CSV_COLUMNS)
                    for name, peak in report.peaks.items():
                        for hz, power in peak.spectrum:
                            rows.writerow([name, cell(hz), cell(60 * hz), cell(power), cell(peak.hz),
                                           cell(peak.strength), int(peak.confident)])
        except OSError as error:
            raise os_error(self.path, error) from None
        self._file.commit()

    def discard(self) -> None:
        self._file.discard()


class SpectrumPlotWriter:
    """``--spectrum-plot FILE.png``: each region's spectrum, its dominant frequency marked and labelled."""

    def __init__(self, path: str | os.PathLike, overwrite: bool = False,
                 protect: Sequence[str | os.PathLike] = ()) -> None:
        check_picture(path)
        _require_matplotlib(path)
        self._file = PendingFile(os.fspath(path), overwrite, protect)

    def commit(self, report: FrequencyReport) -> None:
        names = list(report.peaks)
        figure = _figure(10, 1.2 + 2.4 * len(names))
        axes_list = np.atleast_1d(figure.subplots(len(names), 1, sharex=True))
        for axes, name in zip(axes_list, names, strict=True):
            peak = report.peaks[name]
            hz = [pair[0] for pair in peak.spectrum]
            power = np.array([pair[1] for pair in peak.spectrum])
            axes.plot(hz, power, linewidth=1.2, color="#4477aa")
            if peak.hz is not None:
                level = float(np.interp(peak.hz, hz, power))
                colour = "#cc3311" if peak.confident else "#999999"
                axes.axvline(peak.hz, color=colour, linewidth=1, linestyle="--")
                axes.annotate(f"{peak.hz:.3g} Hz = {peak.per_minute:.3g}/min\nstrength {peak.strength:.0f}"
                              + ("" if peak.confident else " (no clear rhythm)"),
                              (peak.hz, level), xytext=(8, -4), textcoords="offset points", va="top", color=colour)
            axes.set(title=f"{name}", ylabel="power (px²)")
            axes.grid(alpha=0.3)
        axes_list[-1].set_xlabel(f"frequency (Hz; band {report.band[0]:.3g} to {report.band[1]:.3g})")
        figure.suptitle("Spectrum of the signed motion")
        _save(figure, self._file)

    def discard(self) -> None:
        self._file.discard()


class FrequencyMapWriter:
    """``--frequency-map FILE.png``: the clip's first frame with each block coloured by its dominant frequency
    (hue, on a log scale over the band, with a legend in Hz) and its strength (how opaque the colour is)."""

    def __init__(self, path: str | os.PathLike, overwrite: bool = False,
                 protect: Sequence[str | os.PathLike] = ()) -> None:
        check_picture(path)
        _require_matplotlib(path)
        self._file = PendingFile(os.fspath(path), overwrite, protect)

    def commit(self, still: np.ndarray, hz: np.ndarray, strength: np.ndarray, band: tuple[float, float],
               block: int, sample_aspect: Fraction | None = None) -> None:
        """Draw ``still`` (the first frame) under each block's colour (``hz`` and ``strength`` per block of ``block``
        pixels) at the display aspect (``sample_aspect``: a pixel's width over its height, where not square)."""
        import cv2
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import LogNorm
        from matplotlib.ticker import NullFormatter

        height, width = still.shape[:2]
        # Drawn at about the figure's own width: a 4K still at full size would cost hundreds of MB of floats.
        scale = min(1.0, MAP_PIXELS / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = still if still.ndim == 2 else cv2.cvtColor(still, cv2.COLOR_BGR2GRAY)
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        low = max(band[0], band[1] / 1000)
        norm = LogNorm(low, band[1])
        colours = colormaps["turbo"](norm(np.clip(np.nan_to_num(hz, nan=low), low, band[1])))[..., :3]
        # Opaque from a clear rhythm up, fading out to nothing at noise.
        span = np.log(CONFIDENT_STRENGTH) - np.log(MIN_PROMINENCE)
        opacity = np.clip((np.log(np.maximum(strength, 1e-9)) - np.log(MIN_PROMINENCE)) / span, 0, 1)
        opacity[np.isnan(hz)] = 0
        # Each block drawn over the frame pixels it covers (the last row and column of blocks may be cut short).
        covered = (round(hz.shape[1] * block * scale), round(hz.shape[0] * block * scale))
        colours = cv2.resize(colours.astype(np.float32), covered, interpolation=cv2.INTER_NEAREST)[:size[1], :size[0]]
        opacity = cv2.resize(opacity.astype(np.float32), covered,
                             interpolation=cv2.INTER_NEAREST)[:size[1], :size[0], None]
        # Mixed in place and handed over as 8-bit: matplotlib turns a float picture into several float64 copies.
        colours *= opacity * 255
        colours += (gray[..., None] * np.float32(0.6)) * (1 - opacity)
        picture = np.clip(colours, 0, 255, out=colours).round(out=colours).astype(np.uint8)
        del colours, opacity, gray
        # The picture's pixels shown as wide as the input's; a frame far taller than wide is drawn no taller than this.
        pixel = float(sample_aspect or 1)
        figure = _figure(10, min(10 * height / (width * pixel), MAP_TALLEST) + 1.6)
        axes = figure.subplots()
        axes.imshow(picture, interpolation="nearest", aspect=1 / pixel)
        axes.set(title="Dominant frequency of motion per block (faint: no clear rhythm)", xticks=[], yticks=[])
        bar = figure.colorbar(ScalarMappable(norm, colormaps["turbo"]), ax=axes, orientation="horizontal",
                              fraction=0.05, pad=0.02)
        ticks = _ticks(low, band[1])
        bar.set_ticks(ticks, labels=[f"{tick:g}" for tick in ticks])
        bar.ax.xaxis.set_minor_formatter(NullFormatter())  # a log axis labels its minor ticks as 3×10⁰ in a short band
        bar.set_label("Hz")
        _save(figure, self._file)

    def discard(self) -> None:
        self._file.discard()


def _ticks(low: float, high: float) -> list[float]:
    """Round frequencies from ``low`` to ``high`` on a log scale: 1, 2 and 5 a decade, finer in a short band."""
    for steps in ((1, 2, 5), (1, 1.5, 2, 3, 4, 5, 6, 8), (1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9)):
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        ticks = [float(f"{step}e{power}") for power in decades for step in steps
                 if low <= float(f"{step}e{power}") <= high]
        if len(ticks) >= 4:
            return ticks
    return [low, high]


def _save(figure, file: PendingFile) -> None:
    try:
        figure.savefig(file.temp, format="png")
    except OSError as error:
        raise os_error(file.path, error) from None
    file.commit()
