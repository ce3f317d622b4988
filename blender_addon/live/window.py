"""The live viewer's window: the view drawn from a processed frame and its overlay, the highgui window and its loop."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from ..core.pixels import still_frame
from ..core.settings import Settings
from ..frontend import RunError
from .frequency import Region, RegionDrag
from .keys import QUIT, help_lines
from .pipeline import LiveFrame, LivePipeline
from .status import QuantityHistory

WINDOW_TITLE = "Motion Extraction (live)"

TEXT_HEIGHT = 15  # pixels on the screen of a line of the overlay's text (capitals), whatever the window's scale
GRAPH_SIZE = (300, 70)  # the quantity-of-motion graph on the screen: width, height in pixels
GRAPH_COLOUR = (0, 230, 255)  # BGR: amber
REGION_COLOUR = (255, 255, 0)  # BGR: cyan, the region whose rhythm is read


def view_size(frame: LiveFrame, settings: Settings) -> tuple[int, int]:
    """The (width, height) of what the window shows for ``frame``."""
    height, width = frame.original.shape[:2]
    if frame.output is None or settings.layout == "motion":
        return 2 * width, height
    return frame.output.shape[1], frame.output.shape[0]


def compose(frame: LiveFrame, settings: Settings, lines: Sequence[str], history: QuantityHistory | None = None,
            display_scale: float = 1.0, regions: Sequence[Region] = ()) -> np.ndarray:
    """What the window shows: original and motion side by side (unless the layout already holds the original),
    with ``lines`` of text over the top left and, given a ``history``, the quantity of motion as a moving graph
    at the bottom left; text and graph keep their size on the screen when the window shows the view at
    ``display_scale``. Each of ``regions`` (rectangles of the frame) is outlined on the original and the motion."""
    if frame.output is None:
        view = np.hstack([frame.original, still_frame(settings, frame.original.shape)])
    elif settings.layout == "motion":
        view = np.hstack([frame.original, frame.output])
    else:
        view = frame.output.copy()
    unit = 1.0 / max(display_scale, 1e-3)  # view pixels per screen pixel
    _draw_regions(view, regions, frame.original.shape, max(1, round(unit * 2)))
    font_scale = TEXT_HEIGHT * unit / 22.0  # FONT_HERSHEY_SIMPLEX's capitals are 22 pixels tall at scale 1
    thickness = max(1, round(unit * 1.2))
    line_height = round((TEXT_HEIGHT + 10) * unit)
    top = 0
    for line in _wrapped(lines, view.shape[1] - round(12 * unit), font_scale, thickness):
        (width, height), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        cv2.rectangle(view, (0, top), (width + round(12 * unit), top + line_height), (0, 0, 0), cv2.FILLED)
        cv2.putText(view, line, (round(6 * unit), top + (line_height + height) // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, (255, 255, 255), thickness, cv2.LINE_AA)
        top += line_height
    if history is not None:
        _draw_graph(view, history, unit, font_scale, thickness)
    return view


def _draw_regions(view: np.ndarray, regions: Sequence[Region], shape: tuple[int, ...], thickness: int) -> None:
    """Outline each region in every frame-sized tile of ``view`` (the original and the motion)."""
    height, width = shape[:2]
    for top in range(0, view.shape[0] - height + 1, height):
        for left in range(0, view.shape[1] - width + 1, width):
            for x, y, w, h in regions:
                cv2.rectangle(view, (left + x, top + y), (left + x + w - 1, top + y + h - 1), REGION_COLOUR, thickness)


def _wrapped(lines: Sequence[str], width: int, font_scale: float, thickness: int) -> list[str]:
    """``lines`` broken at their `` | `` separators (then at spaces) so that each fits ``width`` view pixels."""
    def fits(text: str) -> bool:
        return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)[0][0] <= width

    result = []
    for line in lines:
        for separator in (" | ", " "):
            parts, line_parts = line.split(separator), []
            current = ""
            for part in parts:
                joined = part if not current else current + separator + part
                if current and not fits(joined):
                    line_parts.append(current)
                    current = part
                else:
                    current = joined
            line_parts.append(current)
            if all(fits(part) for part in line_parts) or separator == " ":
                result += line_parts
                break
    return result


def _draw_graph(view: np.ndarray, history: QuantityHistory, unit: float, font_scale: float, thickness: int) -> None:
    """The quantity of motion of the latest frames as a line over a dark panel at the bottom left of ``view``."""
    width = min(round(GRAPH_SIZE[0] * unit), view.shape[1])
    height = min(round(GRAPH_SIZE[1] * unit), view.shape[0] // 2)
    if width < 8 or height < 8:
        return
    panel = view[view.shape[0] - height :, :width]
    panel //= 3  # darkened, the picture still showing through
    points = history.points(width, height - round(4 * unit))
    if len(points) > 1:
        cv2.polylines(panel, [points.reshape(-1, 1, 2) + [0, round(2 * unit)]], False, GRAPH_COLOUR, thickness,
                      cv2.LINE_AA)
    latest = history.latest
    label = "motion" + ("" if latest is None else f" {latest:.2f}") + f"  (top {history.top:.1f})"
    small = font_scale * 0.8
    (_, text_height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, small, thickness)
    cv2.putText(panel, label, (round(6 * unit), text_height + round(6 * unit)), cv2.FONT_HERSHEY_SIMPLEX, small,
                GRAPH_COLOUR, thickness, cv2.LINE_AA)


def overlay_lines(pipeline: LivePipeline) -> list[str]:
    state = pipeline.state
    lines = [pipeline.status()]
    if pipeline.data is not None:
        lines[0] += f" | DATA {Path(pipeline.data.path).name}"
    if pipeline.rhythm is not None:
        lines.append(pipeline.rhythm.text())
    if state.message:
        lines.append(state.message)
    return lines + (help_lines() if state.show_help else ["h: help"])


# --- sources and window ------------------------------------------------------------------------


def open_window() -> None:
    """Open the viewer window, or raise :class:`RunError` when there is no window system or no highgui."""
    advice = "use --no-window to record without one, or scripts/motion_extract.py for files"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise RunError(f"no window system (DISPLAY is not set): {advice}")
    try:
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
    except cv2.error:
        raise RunError(f"this OpenCV has no window support (opencv-python-headless?): {advice}") from None


def run_window(pipeline: LivePipeline, frames: int | None) -> None:
    """Show the pipeline in the window until q/Esc, the window is closed, the source ends or ``frames`` are done."""
    shown = False
    fitted, display_scale, screen = None, 1.0, screen_size()
    drag = RegionDrag()
    cv2.setMouseCallback(WINDOW_TITLE, mouse_handler(pipeline, drag))
    try:
        while not pipeline.finished and (frames is None or pipeline.processed < frames):
            pipeline.step(timeout=0.05)
            if pipeline.latest is not None:  # redrawn even without a new frame: keys change the overlay
                size = view_size(pipeline.latest, pipeline.state.settings)
                if size != fitted:  # the first frame, or a layout of another size: the window takes its size
                    fitted, display_scale = size, fit_window(size, screen)
                view = compose(pipeline.latest, pipeline.state.settings, overlay_lines(pipeline), pipeline.history,
                               display_scale, drawn_regions(pipeline, drag))
                cv2.imshow(WINDOW_TITLE, view)
                shown = True
            if pipeline.handle_key(cv2.waitKey(1)) == QUIT:
                break
            if shown and cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1:
                break  # closed with the mouse
    finally:
        cv2.destroyAllWindows()


def frame_size(pipeline: LivePipeline) -> tuple[int, int] | None:
    if pipeline.latest is None:
        return None
    height, width = pipeline.latest.original.shape[:2]
    return width, height


def drawn_regions(pipeline: LivePipeline, drag: RegionDrag) -> list[Region]:
    """The rectangles to outline: the region whose rhythm is read and the one being dragged out."""
    size = frame_size(pipeline)
    regions = [pipeline.rhythm.region] if pipeline.rhythm is not None else []
    if size is not None:
        regions.append(drag.rectangle(size))
    return [region for region in regions if region is not None]


def mouse_handler(pipeline: LivePipeline, drag: RegionDrag) -> Callable[[int, int, int, int, object], None]:
    """The window's mouse callback: a drag with the left button picks the region whose rhythm is read.
    OpenCV gives the points in the view's pixels, however the window scales it."""
    def on_mouse(event: int, x: int, y: int, flags: int, param: object) -> None:
        if event == cv2.EVENT_LBUTTONDOWN:
            drag.press(x, y)
        elif event == cv2.EVENT_MOUSEMOVE:
            drag.move(x, y)
        elif event == cv2.EVENT_LBUTTONUP:
            size = frame_size(pipeline)
            region = drag.release(x, y, size) if size is not None else None
            if region is not None:
                pipeline.set_rhythm_region(region)

    return on_mouse


def screen_size() -> tuple[int, int] | None:
    """The (width, height) of the screen the window opens on, when the platform tells (X11, Windows)."""
    try:
        import ctypes
        import ctypes.util

        if sys.platform == "win32":
            metrics = ctypes.windll.user32.GetSystemMetrics
            return metrics(0), metrics(1)
        library = ctypes.util.find_library("X11")
        if library is None or not os.environ.get("DISPLAY"):
            return None
        x11 = ctypes.CDLL(library)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XDefaultScreen.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = x11.XDefaultScreen(display)
            return x11.XDisplayWidth(display, screen), x11.XDisplayHeight(display, screen)
        finally:
            x11.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None


def fitted_size(size: tuple[int, int], screen: tuple[int, int] | None) -> tuple[tuple[int, int], float]:
    """The window's (width, height) for a view of ``size``: its natural size, scaled down (never up) to fit
    most of the screen (1280x720 when the screen is unknown), and that scale."""
    available = (0.92 * screen[0], 0.85 * screen[1]) if screen else (1280, 720)
    scale = min(1.0, available[0] / size[0], available[1] / size[1])
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))), scale


def fit_window(size: tuple[int, int], screen: tuple[int, int] | None) -> float:
    """Give the window its :func:`fitted_size` for a view of ``size``; returns the scale it shows the view at."""
    (width, height), scale = fitted_size(size, screen)
    cv2.resizeWindow(WINDOW_TITLE, width, height)
    return scale


def run_headless(pipeline: LivePipeline, frames: int | None) -> None:
    """Process frames until the source ends or ``frames`` are done."""
    while not pipeline.finished and (frames is None or pipeline.processed < frames):
        pipeline.step()


