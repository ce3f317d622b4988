"""Minimal reproduction of two native crashes in PyAV 18.1 (FFmpeg 8) with 7.1 sound, for an upstream report.

Run: ``python docs/pyav_channel_layouts.py layout`` or ``... planes`` (needs ``av``, numpy and, for
``layout``, the ``ffmpeg`` command line, which makes the input). Each crashes the interpreter
(abort "double free or corruption", or SIGSEGV) instead of raising.

1. ``layout``: a layout in FFmpeg's custom channel order (PCM 7.1 in a MOV whose channel-layout
   atom lists the side channels before the back ones) is copied by value into an ``AudioLayout``
   (``get_audio_layout``), whose ``__dealloc__`` calls ``av_channel_layout_uninit`` and frees the
   channel map the codec context (or frame) still owns: reading ``stream.layout`` (or
   ``codec_context.channels``, or decoding a frame) frees the map a second time later.
2. ``planes``: ``AudioFrame.planes`` counts planes with ``while extended_data[i]``; for a planar
   frame of 8 channels ``extended_data`` is ``data`` (8 pointers, no terminating NULL), so the loop
   reads ``linesize[0]`` as a 9th plane pointer; ``to_ndarray()`` and ``from_ndarray()`` then read or
   write through it.

Motion Extraction works around both (``blender_addon/media/sound.py``): the stream's layout is read
once and replaced on the decoder, before it opens, by the same channels in standard order, and
samples are handled only in packed form (one plane).
"""

import os
import subprocess
import sys
import tempfile

import av


def _pcm_71_mov() -> str:
    """A second of PCM 7.1 in a MOV by the ``ffmpeg`` command line (5.1 here): FFmpeg 8 reads it in custom order."""
    path = os.path.join(tempfile.mkdtemp(), "pcm71.mov")
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", "-af", "pan=7.1|c0=c0|c7=c0",
                    "-c:a", "pcm_s16le", path], check=True)
    return path


def layout_crash() -> None:
    with av.open(_pcm_71_mov()) as container:
        stream = container.streams.audio[0]
        print(stream.layout.name, flush=True)  # the AudioLayout frees the context's channel map here...
    print("closed", flush=True)  # ...and closing the container frees it again


def planes_crash() -> None:
    frame = av.AudioFrame(format="fltp", layout="7.1", samples=1024)
    print(len(frame.planes), flush=True)  # 9 or more, not 8
    frame.to_ndarray()


if __name__ == "__main__":
    {"layout": layout_crash, "planes": planes_crash}[sys.argv[1] if len(sys.argv) > 1 else "layout"]()
