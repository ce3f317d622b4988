"""Motion data and pictures on disk: per-frame rows as CSV or JSON with their record, motiongrams and plots.

- :class:`DataWriter` streams one row per frame (the columns of ``core.measures``) into a CSV or
  JSON file. A CSV's record (the settings, the exact command, the columns with their units) goes
  in a sidecar beside it (``names.sidecar_path``); a JSON file holds its record itself.
- :class:`MotiongramWriter` keeps each frame's motiongram rows (the column and row means of the
  motion, ``width + height`` numbers a frame) and writes the motiongrams one pixel per frame, and a
  figure of both with their time axes in seconds.
- :class:`PlotWriter` keeps each frame's quantity of motion per region and draws them over time.
- :class:`MotionRecorder` feeds all of them from one :class:`~..core.measures.MotionMeasures`.

Every file is written to a hidden temporary beside it and published (its ``publish.PendingFile``) only when
the render ends well; inputs are never overwritten, nor (without ``overwrite``) existing files.
The plots use matplotlib's Agg canvas (no window, no global backend). No bpy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.measures import Column, MotionMeasures
from .errors import MediaError, os_error
from .names import check_picture, data_kind, motiongram_paths, sidecar_path
from .publish import PendingFile, pending_files

DECIMALS = 6  # digits after the point in data files: a millionth of a level or pixel


def cell(value: float | int | None) -> float | int | None:
    """A measure as data files hold it: whole numbers as they are, others to :data:`DECIMALS` places."""
    if value is None or isinstance(value, (int, np.integer)):
        return None if value is None else int(value)
    return round(float(value), DECIMALS)


def column_records(columns: Sequence[Column]) -> list[dict[str, str]]:
    return [{"name": column.name, "unit": column.unit, "description": column.description} for column in columns]


class DataWriter:
    """Rows of measures into ``path`` (.csv or .json), streamed; ``record`` describes how they were made."""

    def __init__(self, path: str | os.PathLike, columns: Sequence[Column], record: dict[str, Any],
                 overwrite: bool = False, protect: Sequence[str | os.PathLike] = ()) -> None:
        text = self.path = os.fspath(path)
        self.kind = data_kind(text)
        self.columns = list(columns)
        self.record = {**record, "columns": column_records(self.columns)}
        side = sidecar_path(text)
        self._files = pending_files([text] if side is None else [text, side], overwrite, protect)
        self._rows = 0
        try:
            self._stream = open(self._files[0].temp, "w", encoding="utf-8", newline="")
        except OSError as error:
            self.discard()
            raise os_error(text, error) from None
        if self.kind == "csv":
            self._stream.write(",".join(column.name for column in self.columns) + "\n")
        else:
            head = json.dumps(self.record, indent=1)[:-2]  # the record's object, left open for the rows
            self._stream.write(head + ',\n "rows": [')

    def write(self, values: Sequence[float | int | None]) -> None:
        """One frame's row, in column order (``None``: an empty cell, ``null`` in JSON)."""
        if len(values) != len(self.columns):
            raise ValueError(f"a row has {len(self.columns)} values, not {len(values)}")
        cells = [cell(value) for value in values]
        try:
            if self.kind == "csv":
                self._stream.write(",".join("" if value is None else repr(value) for value in cells) + "\n")
            else:
                self._stream.write(("\n  " if self._rows == 0 else ",\n  ") + json.dumps(cells))
        except OSError as error:
            raise os_error(self._files[0].path, error) from None
        self._rows += 1

    def commit(self) -> None:
        """Finish the files and publish them (the sidecar first, so the data never lacks its record)."""
        try:
            if self.kind == "json":
                self._stream.write("\n ]\n}\n")
            self._stream.close()
        except OSError as error:
            raise os_error(self._files[0].path, error) from None
        if len(self._files) > 1:
            with open(self._files[1].temp, "w", encoding="utf-8") as stream:
                json.dump(self.record, stream, indent=1)
                stream.write("\n")
        for pending in reversed(self._files):
            pending.commit()

    def discard(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None:
            stream.close()
        for pending in self._files:
            pending.discard()


class MotiongramWriter:
    """The motiongrams of a render: ``NAME_horizontal.png`` (frames x width, time down) and
    ``NAME_vertical.png`` (height x frames, time to the right), each level the mean motion of that
    column (row) scaled so the strongest is white, and ``NAME.png``, both drawn with time axes in seconds.

    Each frame adds ``width + height`` 16-bit numbers (the means in 256ths of a level): the only
    per-frame memory a render with motiongrams keeps.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, first_time: float, rate: float,
                 overwrite: bool = False, protect: Sequence[str | os.PathLike] = ()) -> None:
        figure, horizontal, vertical = motiongram_paths(path)
        _require_matplotlib(figure)
        self._files = pending_files([figure, horizontal, vertical], overwrite, protect)
        self.width, self.height = width, height
        self.first_time, self.rate = first_time, rate
        self._columns: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []

    def add(self, column_means: np.ndarray, row_means: np.ndarray) -> None:
        self._columns.append(np.round(column_means * 256).astype(np.uint16))
        self._rows.append(np.round(row_means * 256).astype(np.uint16))

    def pictures(self) -> tuple[np.ndarray, np.ndarray]:
        """The horizontal (frames, width) and vertical (height, frames) motiongrams as uint8."""
        horizontal = np.stack(self._columns) if self._columns else np.zeros((0, self.width), np.uint16)
        vertical = np.stack(self._rows).T if self._rows else np.zeros((self.height, 0), np.uint16)
        return _stretch(horizontal), _stretch(vertical)

    def commit(self) -> None:
        import cv2

        horizontal, vertical = self.pictures()
        figure, horizontal_file, vertical_file = self._files
        for pending, picture in ((horizontal_file, horizontal), (vertical_file, vertical)):
            if not cv2.imwrite(pending.temp, picture):
                raise MediaError(f"{pending.path}: could not write the motiongram")
        _draw_motiongrams(figure.temp, horizontal, vertical, self.first_time, self.rate)
        for pending in self._files:
            pending.commit()

    def discard(self) -> None:
        for pending in self._files:
            pending.discard()


def _stretch(values: np.ndarray) -> np.ndarray:
    """``values`` scaled so that the largest is 255 (all black when nothing moved), as uint8."""
    peak = int(values.max()) if values.size else 0
    if peak == 0:
        return np.zeros(values.shape, np.uint8)
    return np.round(values.astype(np.float64) * (255.0 / peak)).astype(np.uint8)


def _require_matplotlib(path: str | os.PathLike) -> None:
    """Refuse a figure before the render, not after it, where matplotlib (an optional dependency) is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MediaError(f"{os.fspath(path)}: drawing this figure needs matplotlib (pip install matplotlib)") from None


def _figure(width: float, height: float):
    """A matplotlib figure on the Agg canvas (no window, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _draw_motiongrams(path: str, horizontal: np.ndarray, vertical: np.ndarray, first_time: float,
                      rate: float) -> None:
    frames = horizontal.shape[0]
    start, end = first_time, first_time + frames / rate
    figure = _figure(11, 8)
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1))
    top.imshow(horizontal, cmap="gray", aspect="auto", interpolation="nearest",
               extent=(-0.5, horizontal.shape[1] - 0.5, end, start))
    top.set(title="Horizontal motiongram (column means of the motion)", xlabel="x (px)", ylabel="time (s)")
    bottom.imshow(vertical, cmap="gray", aspect="auto", interpolation="nearest",
                  extent=(start, end, vertical.shape[0] - 0.5, -0.5))
    bottom.set(title="Vertical motiongram (row means of the motion)", xlabel="time (s)", ylabel="y (px)")
    figure.savefig(path, format="png")


class PlotWriter:
    """The quantity of motion over time, one line per region (the whole frame first), as a PNG."""

    def __init__(self, path: str | os.PathLike, names: Sequence[str], overwrite: bool = False,
                 protect: Sequence[str | os.PathLike] = ()) -> None:
        check_picture(path)
        _require_matplotlib(path)
        self._file = PendingFile(os.fspath(path), overwrite, protect)
        self.names = list(names)
        self._times: list[float] = []
        self._values: list[list[float]] = []

    def add(self, time: float, quantities: Sequence[float]) -> None:
        self._times.append(time)
        self._values.append(list(quantities))

    def commit(self) -> None:
        figure = _figure(10, 4.5)
        axes = figure.subplots()
        values = np.array(self._values, dtype=np.float64).reshape(len(self._times), len(self.names))
        for index, name in enumerate(self.names):
            axes.plot(self._times, values[:, index], label=name, linewidth=1.2)
        axes.set(title="Quantity of motion", xlabel="time (s)", ylabel="quantity of motion (mean level, 0-255)")
        axes.grid(alpha=0.3)
        axes.legend(loc="upper right")
        figure.savefig(self._file.temp, format="png")
        self._file.commit()

    def discard(self) -> None:
        self._file.discard()


class MotionRecorder:
    """Every data and picture output of a render, fed frame by frame from ``measures``.

    Use as a context manager: the files are published when the block ends without an exception
    and discarded otherwise. Call :meth:`add` after each output frame has been measured.
    """

    def __init__(self, measures: MotionMeasures, record: dict[str, Any], data: str | os.PathLike | None = None,
                 motiongram: str | os.PathLike | None = None, plot: str | os.PathLike | None = None,
                 rate: float = 25.0, first_time: float = 0.0, overwrite: bool = False,
                 protect: Sequence[str | os.PathLike] = ()) -> None:
        self.measures = measures
        self.outputs: list[DataWriter | MotiongramWriter | PlotWriter] = []
        protect = list(protect)
        try:
            if data is not None:
                self.data = DataWriter(data, measures.columns(), record, overwrite, protect)
                self.outputs.append(self.data)
                protect += [file.path for file in self.data._files]
            if motiongram is not None:
                self.motiongram = MotiongramWriter(motiongram, measures.width, measures.height, first_time, rate,
                                                   overwrite, protect)
                self.outputs.append(self.motiongram)
                protect += [file.path for file in self.motiongram._files]
            if plot is not None:
                names = ["whole frame", *(region.name for region in measures.regions[1:])]
                self.plot = PlotWriter(plot, names, overwrite, protect)
                self.outputs.append(self.plot)
        except BaseException:
            self.discard()
            raise

    def add(self, index: int, time: float) -> None:
        """Record the measures of output frame ``index``, shown at ``time`` seconds."""
        values = self.measures.values
        for output in self.outputs:
            if isinstance(output, DataWriter):
                output.write([index, time, *values])
            elif isinstance(output, MotiongramWriter):
                output.add(self.measures.column_means, self.measures.row_means)
            else:
                output.add(time, self.measures.quantities())

    def commit(self) -> None:
        for output in self.outputs:
            output.commit()

    def discard(self) -> None:
        for output in self.outputs:
            output.discard()

    def __enter__(self) -> MotionRecorder:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()
