"""How one movie stream's decoded frames become the engine's pictures: compact 4:2:0 planes, or 8-bit BGR.

See ``media.movie``'s notes on pictures: 8-bit 4:2:0 is kept as planes (lent as FFmpeg decoded them, or
copied into an even-sized buffer) and converted by the stream's tagged matrix when used; other YUV formats
are reduced once to 8-bit 4:2:0; RGB, gray and alpha formats become BGR straight away; rotation tags apply.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from .colour import BT709, FULL_RANGE, convert_i420, limited_yuv_to_bgr, plane_pixels, reduce_to_i420, unmanaged_colours
from .sequence import to_bgr8
from .streams import _FramePool

QUARTER_TURNS = (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE)
ROTATIONS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, -270: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180,
              -180: cv2.ROTATE_180, -90: cv2.ROTATE_90_CLOCKWISE, 270: cv2.ROTATE_90_CLOCKWISE}


class Picture:
    """How one stream's decoded frames become BGR: compact 4:2:0 planes, or BGR straight away."""

    def __init__(self, frame: av.VideoFrame) -> None:
        name = frame.format.name
        self.rotation = ROTATIONS.get(round(frame.rotation or 0) % 360 if frame.rotation else 0)
        if frame.rotation and round(frame.rotation) % 360 == 0:
            self.rotation = None
        self.alpha = name.startswith(("yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya", "pal8"))
        self.rgb = self.alpha or name.startswith(("rgb", "bgr", "gbr", "gray", "0rgb", "0bgr", "monow", "monob"))
        # Rotated pictures are expanded on the read head's thread: their compact form would need rotating planes.
        self.compact = not self.rgb and self.rotation is None
        self.width, self.height = frame.width, frame.height
        self.even_width, self.even_height = frame.width + frame.width % 2, frame.height + frame.height % 2
        # The tagged matrix converts the planes, as players and Blender's sequencer convert them; untagged is BT.601.
        self.matrix = "bt709" if not self.rgb and frame.colorspace == BT709 else "bt601"
        self._from_709 = limited_yuv_to_bgr(0.2126, 0.0722) if self.matrix == "bt709" else None
        self.unmanaged = unmanaged_colours(frame) if not self.rgb else None

    @property
    def compact_shape(self) -> tuple[int, int]:
        return self.even_height * 3 // 2, self.even_width

    def convert(self, frame: av.VideoFrame, pool: _FramePool,
                lend: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The frame as compact I420 planes (2-D) or as BGR (3-D), in one of the pool's buffers when compact;
        ``lend``: compact frames of even size as views of the decoded picture's Y, U and V planes instead (the
        views keep the picture, and FFmpeg decodes into it again only once they are gone)."""
        if self.rgb:
            image = frame.to_ndarray(format="bgra" if self.alpha else "bgr24")
            image = to_bgr8(image)
        else:
            if frame.format.name != "yuv420p" or frame.color_range == FULL_RANGE:
                frame = reduce_to_i420(frame)
            if lend and self.compact and (self.width, self.height) == (self.even_width, self.even_height):
                return plane_pixels(frame, 0), plane_pixels(frame, 1), plane_pixels(frame, 2)
            planes = pool.take()
            self._copy_planes(frame, planes)
            if self.compact:
                return planes
            image = self.expand(planes)
        if self.rotation is not None:
            image = cv2.rotate(image, self.rotation)
        return image

    def _copy_planes(self, frame: av.VideoFrame, out: np.ndarray) -> None:
        """FFmpeg's Y, U and V planes into one I420 buffer of even size, an odd last row or column repeated."""
        height, width = self.height, self.width
        even_height, even_width = self.even_height, self.even_width
        luma = out[:even_height]
        luma[:height, :width] = plane_pixels(frame, 0)
        if width != even_width:
            luma[:height, width] = luma[:height, width - 1]
        if height != even_height:
            luma[height] = luma[height - 1]
        chroma_size = (even_height // 2) * (even_width // 2)
        flat = out[even_height:].reshape(-1)
        for index in (1, 2):
            start = (index - 1) * chroma_size
            flat[start:start + chroma_size].reshape(even_height // 2, even_width // 2)[:] = plane_pixels(frame, index)

    def expand(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim == 3:
            return frame
        if self._from_709 is not None:
            image = convert_i420(frame, self._from_709)
        else:
            image = cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_I420)
        if (self.even_height, self.even_width) != (self.height, self.width):
            image = np.ascontiguousarray(image[: self.height, : self.width])
        return image
