"""File names and paths for every renderer: numbered names, natural order, extension tables, temporaries, publishing.

The one authority on which files a render reads and writes, shared by the exact engine's
writers (``media.movie``, ``media.sequence``) and the sequencer engine (``vse.batch``). It needs
neither OpenCV nor bpy, nor FFmpeg.

- Inputs: a movie, a folder of images (its most common image extension, in natural order) or
  a numbered pattern (``frames/%05d.png`` or ``frames/#####.png``), numbered consecutively
  from the lowest number present; a missing number is an error naming it.
- Outputs: a movie whose extension picks the container and default codecs
  (:data:`MOVIE_FORMATS`), or a numbered image sequence whose file numbers are output frame
  indices, so the chunks of one render fit side by side.
- Writing: a hidden temporary beside the output (:func:`temp_path_for`), published into place
  by :func:`publish`, which never replaces a file that appeared meanwhile unless asked to; within
  :func:`published_together`, the outputs of one render are published together once all are finished.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction

from .errors import MediaError, cannot_write, os_error
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
_TEMP_MARK = ".partial-"
_TEMP_TAIL = re.compile(re.escape(_TEMP_MARK) + r"(\d+)-[0-9a-f]{8}(\.[^.]*)?$")  # the process id, group 1


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


# --- outputs -----------------------------------------------------------------------------------


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


def output_kind(path: str | os.PathLike, blender: bool = False) -> str:
    """``"movie"`` or ``"sequence"`` for an output path; :class:`MediaError` for names nothing writes.

    ``blender``: only the outputs Blender's own FFmpeg writes (the sequencer engine).
    """
    text = os.fspath(path)
    suffix = extension(text)
    if os.path.isdir(text):
        raise MediaError(f"{text}: is a folder; name a file in it, such as {os.path.join(text, 'motion.mp4')}")
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


def check_output(
    path: str | os.PathLike, protect: list[str | os.PathLike], overwrite: bool, numbers: range | None = None,
) -> None:
    """Refuse an output that would overwrite an input or (without ``overwrite``) an existing file; create its folder.

    For a numbered sequence, ``numbers`` are the file numbers it will write (``None``: any
    number counts). Raises :class:`MediaError` with one line.
    """
    text = os.fspath(path)
    numbered = NumberedName.parse(text)
    sweep_leftovers(text)
    if numbered is None:
        targets = [text]
    else:
        existing = numbered.existing()
        targets = [file for number, file in existing.items() if numbers is None or number in numbers]
        first_new = None if numbers is None else next((n for n in numbers if n not in existing), None)
        if first_new is not None:
            targets.append(numbered.path(first_new))
    for protected in map(os.fspath, protect):
        if is_url(protected):
            continue
        protected_numbered = None if os.path.lexists(protected) else NumberedName.parse(protected)
        if any(same_file(target, protected) for target in targets) or (
            numbered is not None and os.path.isdir(protected) and same_file(numbered.folder or ".", protected)
        ) or (protected_numbered is not None and _share_a_file(targets, protected_numbered)):
            raise MediaError(f"{text}: the output would overwrite the input")
        if any(_joins_sequence(target, protected, protected_numbered) for target in targets):
            raise MediaError(f"{text}: the output would be read as a frame of the input image sequence {protected}")
    if numbered is None and os.path.isdir(text):
        raise MediaError(f"{text}: is a folder")
    present = [target for target in targets if os.path.lexists(target)]
    if present and not overwrite:
        if numbered is not None:
            raise MediaError(f"{text}: {len(present)} frame files already exist (use --overwrite to replace them)")
        raise MediaError(f"{text} already exists (use --overwrite to replace it)")
    folder = numbered.folder if numbered is not None else os.path.dirname(text)
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise MediaError(cannot_write(folder, exc)) from None
    if not os.access(folder or ".", os.W_OK):
        raise MediaError(cannot_write(folder, PermissionError()))


def _joins_sequence(target: str, protected: str, numbered: NumberedName | None) -> bool:
    """Whether a file written at ``target`` would become one of an image-sequence input's frames: any visible
    image in an input folder, any number of an input pattern (a new number too: it lengthens the sequence)."""
    folder, name = os.path.split(target)
    if os.path.isdir(protected):
        return (not name.startswith(".") and extension(name) in IMAGE_EXTENSIONS | FLOAT_IMAGE_EXTENSIONS
                and same_file(folder or ".", protected))
    if numbered is None:
        return False
    digits = re.compile(re.escape(numbered.prefix) + r"\d+" + re.escape(numbered.suffix), re.ASCII)
    return digits.fullmatch(name) is not None and same_file(folder or ".", numbered.folder or ".")


def _share_a_file(targets: list[str], numbered: NumberedName) -> bool:
    """Whether a numbered input's files include one of ``targets`` (the same files, spelled another way)."""
    files = {os.path.realpath(file) for file in numbered.existing().values()}
    return any(os.path.realpath(target) in files for target in targets)


def temp_path_for(path: str | os.PathLike, folder_only: bool = False) -> str:
    """A new hidden temporary name beside ``path``: ``.<name>.partial-<pid>-XXXXXXXX<ext>``.

    The same folder makes publishing a rename; the same extension makes FFmpeg pick the same
    container; the process id lets a later render tell a killed render's leftover
    (:func:`sweep_leftovers`) from a live one. A long name is shortened so that the temporary
    fits wherever the output name fits.
    """
    folder, name = os.path.split(os.fspath(path))
    suffix = "" if folder_only else extension(name)
    tail = f"{_TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}{suffix}"
    stem = name[: max(1, 255 - 1 - len(tail))]
    return os.path.join(folder, f".{stem}{tail}")


def sweep_leftovers(path: str | os.PathLike) -> list[str]:
    """Delete the temporaries that renders to ``path`` left behind when killed; returns what was deleted.

    A temporary belongs to the process whose id it carries: it is a leftover only when that
    process no longer runs (so a render under way to the same path keeps its own).
    """
    swept = []
    for leftover, pid in _temporaries(path):
        if _process_alive(pid):
            continue
        try:
            if os.path.isdir(leftover) and not os.path.islink(leftover):
                shutil.rmtree(leftover)
            else:
                os.remove(leftover)
        except OSError:
            continue
        swept.append(leftover)
    return swept


def _temporaries(path: str | os.PathLike) -> list[tuple[str, int]]:
    """The temporaries of renders to ``path`` that are in its folder, each with the id of the process it belongs to."""
    folder, name = os.path.split(os.fspath(path))
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _TEMP_TAIL.search(entry)
        stem = entry[: match.start()] if match is not None else None
        # The whole name, or (a name shortened by temp_path_for to 255 characters) its start.
        if stem == f".{name}" or (stem is not None and len(entry) == 255 and f".{name}".startswith(stem)):
            found.append((os.path.join(folder, entry), int(match.group(1))))
    return found


def render_under_way(path: str | os.PathLike) -> int | None:
    """The id of a live process writing ``path`` (its temporary is beside it), or ``None``."""
    return next((pid for _, pid in _temporaries(path) if _process_alive(pid)), None)


def is_temporary(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a render's hidden temporary (see :func:`temp_path_for`), not a finished output."""
    name = os.path.basename(os.fspath(path))
    return _TEMP_TAIL.search(name) is not None


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or a platform that cannot tell: keep its files
    return True


def create_temp_file(path: str | os.PathLike) -> str:
    """Create an empty temporary beside ``path`` (see :func:`temp_path_for`); probes that the folder is writable.

    Unlike ``tempfile.mkstemp`` (mode 0600), the file gets the usual umask permissions.
    """
    temp = temp_path_for(path)
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise MediaError(cannot_write(os.path.dirname(temp), exc)) from None
    return temp


def create_temp_folder(path: str | os.PathLike) -> str:
    """Create the hidden temporary folder beside a numbered sequence ``path`` that its frames are written to."""
    temp = temp_path_for(path, folder_only=True)
    try:
        os.mkdir(temp)
    except OSError as exc:
        raise MediaError(cannot_write(os.path.dirname(temp), exc)) from None
    return temp


def flush_to_disk(path: str) -> None:
    """Make sure the file's bytes are on the disk (a full disk can fail only now, on some file systems)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise os_error(path, exc) from None
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise MediaError(f"{path}: the disk is full") from None
        if exc.errno not in (errno.EINVAL, errno.EROFS):  # file systems that cannot sync
            raise os_error(path, exc) from None
    finally:
        os.close(descriptor)


def remove_other_frames(numbered: NumberedName, keep: range) -> None:
    """Delete the files of ``numbered`` outside ``keep``: what an overwritten whole render leaves of the old one."""
    for number, file in numbered.existing().items():
        if number not in keep:
            try:
                os.remove(file)
            except FileNotFoundError:
                pass


def publish(temp: str, path: str, overwrite: bool) -> None:
    """Move the finished ``temp`` to ``path``.

    Without ``overwrite``, a file that appeared at ``path`` since the render began is never
    replaced (a hard link fails if the name exists, where renaming would replace it); the
    render fails instead and its temporary is left for the caller to discard.
    """
    if overwrite:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)
    except FileExistsError:
        raise MediaError(f"{path} appeared while rendering (another render?); it was left as it is") from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(path):
            raise MediaError(f"{path} appeared while rendering (another render?); it was left as it is") from None
        os.replace(temp, path)
        return
    os.remove(temp)


# The outputs finished inside published_together(), each as (publish it, discard it), in order.
_TOGETHER: ContextVar[list[tuple[Callable[[], None], Callable[[], None]]] | None] = ContextVar(
    "published_together", default=None)


def publish_when_done(action: Callable[[], None], discard: Callable[[], None]) -> None:
    """Publish a finished output by ``action`` now or, inside :func:`published_together`, when its block ends
    without an exception (``discard`` removes the temporary instead when it does not)."""
    group = _TOGETHER.get()
    if group is None:
        action()
    else:
        group.append((action, discard))


@contextlib.contextmanager
def published_together() -> Iterator[None]:
    """The outputs finished in the block (a movie, its data, plot, motiongrams, report) are published when
    the block ends without an exception, and none otherwise: a full disk on the last leaves no first one
    published. Each is finished and flushed before it waits, so publishing is only renaming. Nested
    blocks belong to the outermost."""
    if _TOGETHER.get() is not None:
        yield
        return
    group: list[tuple[Callable[[], None], Callable[[], None]]] = []
    token = _TOGETHER.set(group)
    try:
        yield
    except BaseException:
        _discard_all(group)
        raise
    finally:
        _TOGETHER.reset(token)
    for index, (action, _) in enumerate(group):
        try:
            action()
        except BaseException:
            _discard_all(group[index:])
            raise


def _discard_all(group: list[tuple[Callable[[], None], Callable[[], None]]]) -> None:
    for _, discard in group:
        with contextlib.suppress(OSError):
            discard()


class PendingFile:
    """A file written to a temporary beside ``path`` (:attr:`temp`) and published by :meth:`commit`.

    Checked like every output first (:func:`check_output`): never one of ``protect``, never an
    existing file without ``overwrite``. :meth:`discard` removes the temporary (after a commit, nothing:
    within :func:`published_together` the block publishes or discards it).
    """

    def __init__(self, path: str, overwrite: bool, protect: Sequence[str | os.PathLike]) -> None:
        check_output(path, list(protect), overwrite)
        self.path, self.overwrite = path, overwrite
        self.temp = create_temp_file(path)
        self._committed = False

    def commit(self) -> None:
        flush_to_disk(self.temp)
        publish_when_done(lambda: publish(self.temp, self.path, self.overwrite), self._remove)
        self._committed = True

    def discard(self) -> None:
        if not self._committed:
            self._remove()

    def _remove(self) -> None:
        try:
            os.remove(self.temp)
        except FileNotFoundError:
            pass


def png_cut_short(head: bytes, tail: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` and last 12 bytes ``tail`` starts as a PNG but does not end
    as one (with its IEND chunk)."""
    return head[:8] == PNG_SIGNATURE and tail[4:8] != b"IEND"


def pending_files(paths: Sequence[str], overwrite: bool, protect: Sequence[str | os.PathLike]) -> list[PendingFile]:
    """A :class:`PendingFile` for each of ``paths`` (none replacing another), every one checked before any
    temporary is made: a refused path leaves nothing behind."""
    for index, path in enumerate(paths):
        check_output(path, [*protect, *paths[:index]], overwrite)
    files: list[PendingFile] = []
    try:
        for index, path in enumerate(paths):
            files.append(PendingFile(path, overwrite, [*protect, *paths[:index]]))
    except BaseException:
        for file in files:
            file.discard()
        raise
    return files


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # the first 8 bytes of every PNG file


def complete_png(path: str) -> bool:
    """Whether ``path`` is a PNG file that ends with its IEND chunk (a full disk leaves it empty or cut short)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(8)
            stream.seek(0, os.SEEK_END)
            if stream.tell() < 20:
                return False
            stream.seek(-12, os.SEEK_END)
            return head == PNG_SIGNATURE and stream.read(12)[4:8] == b"IEND"
    except OSError:
        return False


def incomplete_reason(folder: str) -> str:
    """Why a file came out incomplete: a full disk, when the folder's file system has (almost) no room left."""
    try:
        free = shutil.disk_usage(folder or ".").free
    except OSError:
        free = None
    return "the disk is full" if free is not None and free < (1 << 20) else "the file was left incomplete"


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
