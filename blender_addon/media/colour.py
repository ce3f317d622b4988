"""Colours of decoded movies: the YUV matrix and range a stream's planes are converted by, and what is not managed."""

from __future__ import annotations

import av
import cv2
import numpy as np

BT709, BT2020 = 1, (9, 10)  # FFmpeg's AVColorSpace: BT.709, BT.2020 (non-constant and constant luminance)
PQ, HLG = 16, 18  # FFmpeg's AVColorTransferCharacteristic: SMPTE ST 2084 and ARIB STD-B67
LIMITED_RANGE, FULL_RANGE = 1, 2  # FFmpeg's AVCOL_RANGE_MPEG and AVCOL_RANGE_JPEG


def limited_yuv_to_bgr(kr: float, kb: float) -> np.ndarray:
    """The 3x4 affine matrix from limited-range Y, U, V (one pixel's channels) to B, G, R for luma weights
    ``kr`` and ``kb``."""
    kg = 1 - kr - kb
    luma, chroma = 255 / 219, 255 / 224
    rows = [
        [luma, chroma * 2 * (1 - kb), 0.0],
        [luma, -chroma * 2 * (1 - kb) * kb / kg, -chroma * 2 * (1 - kr) * kr / kg],
        [luma, 0.0, chroma * 2 * (1 - kr)],
    ]
    matrix = np.array([[*row, -16 * row[0] - 128 * (row[1] + row[2])] for row in rows], dtype=np.float64)
    return matrix


def convert_i420(frame: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Compact I420 planes to BGR by ``matrix`` (:func:`limited_yuv_to_bgr`), each chroma sample covering its 2x2
    pixels as OpenCV's ``COLOR_YUV2BGR_I420`` does; rounded and clipped to 8 bits."""
    even_height, even_width = frame.shape[0] * 2 // 3, frame.shape[1]
    size = (even_height // 2) * (even_width // 2)
    flat = frame[even_height:].reshape(-1)
    chroma = [cv2.resize(flat[start:start + size].reshape(even_height // 2, even_width // 2), (even_width, even_height),
                         interpolation=cv2.INTER_NEAREST) for start in (0, size)]
    return cv2.transform(cv2.merge([frame[:even_height], *chroma]), matrix)


def unmanaged_colours(frame: av.VideoFrame) -> str | None:
    """What of a frame's tagged colours the 8-bit BT.601/BT.709 display conversion does not manage (``None``:
    nothing): BT.2020 colours, PQ or HLG (HDR) light."""
    if frame.color_trc in (PQ, HLG):
        return f"HDR ({'PQ' if frame.color_trc == PQ else 'HLG'})"
    if frame.colorspace in BT2020:
        return "BT.2020"
    return None


def reduce_to_i420(frame: av.VideoFrame) -> av.VideoFrame:
    """Any YUV frame as 8-bit limited-range 4:2:0 (swscale); full range (``yuvj``, JPEG range) is scaled down to it."""
    if frame.color_range == FULL_RANGE or frame.format.name.startswith("yuvj"):
        return frame.reformat(format="yuv420p", src_color_range=FULL_RANGE, dst_color_range=LIMITED_RANGE)
    return frame.reformat(format="yuv420p")


def plane_pixels(frame: av.VideoFrame, index: int) -> np.ndarray:
    """Plane ``index`` of an 8-bit frame as rows of its pixels, without the line padding (a view, not a copy)."""
    plane = frame.planes[index]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]
