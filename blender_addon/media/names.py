"""File names for every renderer: extensions, natural order, URLs, numbered names, image folders, output names.

Which files an input names and what an output path can be, shared by the exact engine's readers
and writers and the sequencer engine (``vse.batch``). It needs neither OpenCV nor bpy, nor FFmpeg.

- Inputs: a movie, a folder of images (its most common image extension, in natural order) or
  a numbered pattern (``frames/%05d.png`` or ``frames/#####.png``), numbered consecutively
  from the lowest number present; a missing number is an error naming it.
- Outputs: a movie whose extension picks the container and its codecs (``formats``), or a
  numbered image sequence whose file numbers are output frame indices, so the chunks of one
  render fit side by side; motion data and pictures beside them; Bake Motion's movies.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from .errors import MediaError, os_error
from .formats import BLENDER_MOVIES, BLENDER_SEQUENCES, MOVIE_FORMATS

# Still images both engines read as frames (8-bit; EXR and other float formats are left out, as
# the effect is defined on display-referred 8-bit values).
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
# Scene-linear float images: refused by name, with the way out.
FLOAT_IMAGE_EXTENSIONS = frozenset({".exr", ".hdr"})
# Image-sequence outputs: extension -> kind.
SEQUENCE_KINDS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".tif": "tif", ".tiff": "tif"}


_PRINTF_NUMBER = re.compile(r"%(0(\d+))?d")
_HASHES = re.compile(r"#+")
_DIGITS = re.compile(r"(\d+)", re.ASCII)


def extension(path: str | os.PathLike) -> str:
    return os.path.splitext(os.fspath(path))[1].lower()


def natural_key(name: str) -> list[int | str]:
    """Sort key that orders ``f2.png`` before ``f10.png``."""
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(_DIGITS.split(name))]


def is_url(path: str) -> bool:
    """Whether ``path`` names something FFmpeg opens by protocol (``http://``, ``rtsp://``, ...), not a file."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", path) is not None


# --- numbered names ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NumberedName:
    """A path whose file name holds one frame number: ``frames/img_%05d.png`` or ``frames/img_#####.png``."""

    folder: str
    prefix: str
    suffix: str
    digits: int

    @classmethod
    def parse(cls, path: str | os.PathLike) -> NumberedName | None:
        folder, name = os.path.split(os.fspath(path))
        for pattern in (_PRINTF_NUMBER, _HASHES):
            matches = list(pattern.finditer(name))
            if len(matches) == 1 and (pattern is _HASHES or name.count("%") == 1):
                match = matches[0]
                digits = len(match.group(0)) if pattern is _HASHES else int(match.group(2) or 1)
                return cls(folder, name[: match.start()], name[match.end():], digits)
        return None

    def name(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}{self.suffix}"

    def path(self, number: int) -> str:
        return os.path.join(self.folder, self.name(number))

    def existing(self) -> dict[int, str]:
        """The numbers of the files in the folder that this pattern names, mapped to their paths."""
        digits = re.compile(re.escape(self.prefix) + r"(\d+)" + re.escape(self.suffix), re.ASCII)
        try:
            entries = os.listdir(self.folder or ".")
        except OSError:
            return {}
        found = {}
        for entry in entries:
            match = digits.fullmatch(entry)
            if match and self.name(int(match.group(1))) == entry:
                found[int(match.group(1))] = os.path.join(self.folder, entry)
        return found


# --- inputs ------------------------------------------------------------------------------------

def image_sequence_files(path: str | os.PathLike) -> list[str] | None:
    """The frame files of an image-sequence input (a folder or a numbered pattern); ``None`` for anything else.

    A folder gives its most common image extension in natural order; a pattern gives the files
    numbered consecutively from the lowest number present. Raises :class:`MediaError` for an
    empty folder, a pattern that matches nothing, or a missing number (named in the message).
    """
    text = os.fspath(path)
    if os.path.isdir(text):
        return _folder_images(text)
    numbered = NumberedName.parse(text)
    if numbered is None or os.path.exists(text):
        return None
    found = numbered.existing()
    if not found:
        raise MediaError(f"{text}: no files match this pattern")
    first, last = min(found), max(found)
    missing = [number for number in range(first, last + 1) if number not in found]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise MediaError(
            f"{text}: {numbered.name(missing[0])} is missing from the sequence {numbered.name(first)} to "
            f"{numbered.name(last)}{more}"
        )
    return [found[number] for number in range(first, last + 1)]


def float_images_error(path: str) -> MediaError:
    return MediaError(f"{path}: EXR and HDR images hold scene-linear light, and the effect is defined on display "
                      "8-bit values: convert them to PNG first (in Blender, or ffmpeg -apply_trc iec61966_2_1)")


def _folder_images(folder: str) -> list[str]:
    try:
        entries = os.listdir(folder)
    except OSError as exc:
        raise os_error(folder, exc) from None
    names = sorted(
        (
            name for name in entries
            if not name.startswith(".") and extension(name) in IMAGE_EXTENSIONS
            and os.path.isfile(os.path.join(folder, name))
        ),
        key=natural_key,
    )
    if not names:
        if any(extension(name) in FLOAT_IMAGE_EXTENSIONS for name in entries):
            raise float_images_error(folder)
        raise MediaError(f"{folder}: no image files in this folder")
    common = Counter(extension(name) for name in names).most_common(1)[0][0]
    return [os.path.join(folder, name) for name in names if extension(name) == common]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # the first 8 bytes of every PNG file


def png_cut_short(head: bytes, tail: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` and last 12 bytes ``tail`` starts as a PNG but does not end
    as one (with its IEND chunk)."""
    return head[:8] == PNG_SIGNATURE and tail[4:8] != b"IEND"


def ffmpeg_input_arguments(path: str, files: list[str], rate: Fraction) -> list[str]:
    """ffmpeg's arguments that read the image sequence ``files`` (from ``path``, a folder or pattern) in our order.

    A numbered pattern becomes ffmpeg's ``%0Nd`` with its first number; a folder, a glob of its
    image extension, which ffmpeg sorts by name: that must be our natural order, else
    :class:`MediaError` says how to get a pattern.
    """
    rate_text = f"{rate.numerator}/{rate.denominator}" if rate.denominator != 1 else str(rate.numerator)
    numbered = NumberedName.parse(path)
    if numbered is not None and not os.path.isdir(path):
        first = int(re.search(r"(\d+)" + re.escape(numbered.suffix) + "$", files[0]).group(1))
        pattern = os.path.join(numbered.folder, f"{numbered.prefix}%0{numbered.digits}d{numbered.suffix}")
        return ["-framerate", rate_text, "-start_number", str(first), "-i", pattern]
    names = [os.path.basename(file) for file in files]
    if sorted(names) != names:
        raise MediaError(
            f"{path}: ffmpeg would read these images in another order (by name, not by number); "
            "give a numbered pattern such as frames/%05d.png instead"
        )
    glob = os.path.join(path, "*" + os.path.splitext(names[0])[1])
    return ["-framerate", rate_text, "-pattern_type", "glob", "-i", glob]


# --- outputs -----------------------------------------------------------------------------------


def not_a_regular_file(path: str) -> str | None:
    """Why an output cannot be written at ``path``, where something other than a file or folder is there (a named
    pipe, a device, a socket): writing it whole would replace it with a file. ``None`` otherwise."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else \
        "a socket" if stat.S_ISSOCK(mode) else "not a file"
    return f"{path}: is {kind}, not a regular file: an output replaces what is there (name a file)"


def output_kind(path: str | os.PathLike, blender: bool = False) -> str:
    """``"movie"`` or ``"sequence"`` for an output path; :class:`MediaError` for names nothing writes.

    ``blender``: only the outputs Blender's own FFmpeg writes (the sequencer engine).
    """
    text = os.fspath(path)
    suffix = extension(text)
    if os.path.isdir(text):
        raise MediaError(f"{text}: is a folder; name a file in it, such as {os.path.join(text, 'motion.mp4')}")
    special = not_a_regular_file(text)
    if special:
        raise MediaError(special)
    numbered = NumberedName.parse(text) is not None
    if blender and not (suffix in BLENDER_SEQUENCES if numbered else suffix in BLENDER_MOVIES):
        movies = ", ".join(f"{name} ({MOVIE_FORMATS[name].default_codec.label})" for name in BLENDER_MOVIES)
        raise MediaError(f"{text}: the VSE engine writes {movies} or a numbered PNG sequence such as frames/%05d.png")
    if suffix in MOVIE_FORMATS:  # one file, whatever its name holds (take#1.mp4, 50%done.mp4)
        return "movie"
    if numbered:
        if suffix in SEQUENCE_KINDS:
            return "sequence"
        raise MediaError(
            f"{text}: image sequences can be .png, .jpg or .tif, not {suffix or 'no extension'}"
        )
    if suffix in SEQUENCE_KINDS:
        raise MediaError(f"{text}: an image output needs a frame number in its name, such as frames/%05d{suffix}")
    raise MediaError(
        f"{text}: cannot write {suffix or 'a file without an extension'}; use "
        f"{', '.join(MOVIE_FORMATS)} or a numbered image sequence such as frames/%05d.png"
    )


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


BAKE_FOLDER = "motion"  # Bake Motion's movies: in this folder beside the .blend


def bake_output(blend_path: str, media_path: str, name: str, made_from: str, shown: str = "") -> str:
    """Bake Motion's movie: ``name`` tagged with a digest of ``made_from`` (the input and every setting), in a
    ``motion`` folder beside the .blend (beside the media while the .blend is unsaved).

    Bakes of other settings or inputs get other names, so a bake never replaces another strip's file.
    The same bake again (Re-bake) alternates between two names, never writing over ``shown``, the file
    its strip shows: Blender has that one open (Windows cannot replace it), and undo gets it back.
    """
    folder = os.path.join(os.path.dirname(blend_path or os.path.normpath(media_path)), BAKE_FOLDER)
    stem, suffix = os.path.splitext(name)
    path = os.path.join(folder, f"{stem}_{hashlib.sha256(made_from.encode()).hexdigest()[:8]}{suffix}")
    if shown and same_file(path, shown):
        return f"{os.path.splitext(path)[0]}-2{suffix}"
    return path


# --- motion data and pictures ------------------------------------------------------------------

DATA_FORMATS = {".csv": "csv", ".json": "json"}  # --data: rows of per-frame measures
PICTURE_EXTENSION = ".png"  # --motiongram and --plot


def data_kind(path: str | os.PathLike) -> str:
    """``"csv"`` or ``"json"`` for a data output; :class:`MediaError` for any other name."""
    kind = DATA_FORMATS.get(extension(path))
    if kind is None:
        raise MediaError(f"{os.fspath(path)}: motion data is written as .csv or .json, not "
                         f"{extension(path) or 'a file without an extension'}")
    return kind


def sidecar_path(path: str | os.PathLike) -> str | None:
    """Where a CSV data file's record (settings, command) goes: ``motion.csv`` -> ``motion.csv.json``;
    ``None`` for JSON data, which holds its record itself."""
    text = os.fspath(path)
    return text + ".json" if data_kind(text) == "csv" else None


def signals_path(movie: str | os.PathLike) -> str:
    """Where a chunk movie's motion signals go (``--spectrum`` on a chunk): ``c0.mkv`` -> ``c0.mkv.signals.json``."""
    return os.fspath(movie) + ".signals.json"


def check_picture(path: str | os.PathLike) -> None:
    """Refuse a picture output (motiongram, plot) that is not a .png."""
    if extension(path) != PICTURE_EXTENSION:
        raise MediaError(f"{os.fspath(path)}: motiongrams and plots are written as .png, not "
                         f"{extension(path) or 'a file without an extension'}")


def motiongram_paths(path: str | os.PathLike) -> tuple[str, str, str]:
    """The files of ``--motiongram NAME.png``: the figure with time axes (``NAME.png``), and the motiongrams
    themselves, one pixel per frame: ``NAME_horizontal.png`` (frames x width) and ``NAME_vertical.png``
    (height x frames)."""
    check_picture(path)
    stem = os.path.splitext(os.fspath(path))[0]
    return os.fspath(path), f"{stem}_horizontal{PICTURE_EXTENSION}", f"{stem}_vertical{PICTURE_EXTENSION}"


def data_files(path: str | os.PathLike, kind: str) -> tuple[str, ...]:
    """Every file a side output named ``path`` writes (``kind``: ``"data"``, ``"motiongram"`` or another): a CSV's
    record beside it, a motiongram's two pictures beside its figure; a name its writer refuses counts as itself."""
    text = os.fspath(path)
    if kind == "data" and extension(text) == ".csv":
        return text, sidecar_path(text)
    if kind == "motiongram" and extension(text) == PICTURE_EXTENSION:
        return motiongram_paths(text)
    return (text,)
