"""Writing outputs whole or not at all: hidden temporaries beside the output, leftovers, pending files, publishing.

Every writer (movies, image sequences, motion data, motiongrams and plots, text reports) writes
through a :class:`PendingFile`: the output is checked first (:func:`check_output`: never an input,
never an existing file without ``overwrite``), written to a hidden temporary beside it
(:func:`temp_path_for`; a folder for an image sequence) and published by :meth:`PendingFile.commit`,
which never replaces a file that appeared meanwhile unless asked to; :meth:`PendingFile.discard`
leaves nothing behind; within :func:`published_together`, the outputs of one render are published
together once all are finished. A killed render's temporaries are swept by the next render to the same path.
Needs neither OpenCV nor bpy, nor FFmpeg.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar

from .errors import MediaError, cannot_write, os_error
from .names import (
    FLOAT_IMAGE_EXTENSIONS,
    IMAGE_EXTENSIONS,
    PNG_SIGNATURE,
    NumberedName,
    extension,
    is_url,
    not_a_regular_file,
    same_file,
)

_TEMP_MARK = ".partial-"
_TEMP_TAIL = re.compile(re.escape(_TEMP_MARK) + r"(\d+)-[0-9a-f]{8}(\.[^.]*)?$")  # the process id, group 1


def check_output(
    path: str | os.PathLike, protect: list[str | os.PathLike], overwrite: bool, numbers: range | None = None,
) -> list[str]:
    """Refuse an output that would overwrite an input or (without ``overwrite``) an existing file; create its folder.

    For a numbered sequence, ``numbers`` are the file numbers it will write (``None``: any
    number counts). Raises :class:`MediaError` with one line. Returns the folders it created, outermost first
    (:func:`remove_created` removes them again when the output is not written); inside :func:`published_together`
    the block owns them (it removes them once every output's temporary is gone) and none are returned.
    """
    text = os.fspath(path)
    numbered = NumberedName.parse(text)
    sweep_leftovers(text)
    targets = _targets(text, numbered, numbers)
    problem = _input_overlap(text, numbered, targets, protect)
    if problem:
        raise MediaError(problem)
    if numbered is None and os.path.isdir(text):
        raise MediaError(f"{text}: is a folder")
    present = [target for target in targets if os.path.lexists(target)]
    special = next(filter(None, map(not_a_regular_file, present)), None)
    if special:
        raise MediaError(special)
    if present and not overwrite:
        if numbered is not None:
            raise MediaError(f"{text}: {len(present)} frame files already exist (use --overwrite to replace them)")
        raise MediaError(f"{text} already exists (use --overwrite to replace it)")
    folder = numbered.folder if numbered is not None else os.path.dirname(text)
    created = []
    if folder:
        missing = os.path.normpath(folder)
        while missing and not os.path.isdir(missing) and missing not in created:
            created.insert(0, missing)
            missing = os.path.dirname(missing)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            remove_created(created)
            raise MediaError(cannot_write(folder, exc)) from None
    if not os.access(folder or ".", os.W_OK):
        remove_created(created)
        raise MediaError(cannot_write(folder, PermissionError()))
    together = _CREATED.get()
    if together is not None:
        together += created
        return []
    return created


def remove_created(folders: list[str]) -> None:
    """Remove the ``folders`` :func:`check_output` created (outermost first), innermost first, where they are
    empty: an output that was not written leaves no folder of its own behind (one published in it keeps it)."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # not empty: something else is in it (another program's file)
            os.rmdir(folder)


def input_overlap(path: str | os.PathLike, protect: list[str | os.PathLike]) -> str | None:
    """Why an output at ``path`` would replace or join one of the inputs ``protect`` (one line), or ``None``.

    A front end asks before it starts, so that an output aimed at its input is a bad argument whatever the
    input is (a movie, an image folder or pattern)."""
    text = os.fspath(path)
    numbered = NumberedName.parse(text)
    return _input_overlap(text, numbered, _targets(text, numbered, None), protect)


def _targets(text: str, numbered: NumberedName | None, numbers: range | None) -> list[str]:
    """The files an output writes over: itself, or a sequence's existing files in ``numbers`` and its first new one."""
    if numbered is None:
        return [text]
    existing = numbered.existing()
    targets = [file for number, file in existing.items() if numbers is None or number in numbers]
    first_new = None if numbers is None else next((n for n in numbers if n not in existing), None)
    if first_new is not None:
        targets.append(numbered.path(first_new))
    return targets


def _input_overlap(text: str, numbered: NumberedName | None, targets: list[str],
                   protect: list[str | os.PathLike]) -> str | None:
    for protected in map(os.fspath, protect):
        if is_url(protected):
            continue
        protected_numbered = None if os.path.lexists(protected) else NumberedName.parse(protected)
        if any(same_file(target, protected) for target in targets) or (
            numbered is not None and os.path.isdir(protected) and same_file(numbered.folder or ".", protected)
        ) or (protected_numbered is not None and _share_a_file(targets, protected_numbered)):
            return f"output {text} would overwrite the input: choose another output path"
        if any(_joins_sequence(target, protected, protected_numbered) for target in targets):
            return (f"output {text} would be read as a frame of the input image sequence {protected}: "
                    "choose another output path")
    return None


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
        if process_alive(pid):
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
    return next((pid for _, pid in _temporaries(path) if process_alive(pid)), None)


def is_temporary(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a render's hidden temporary (see :func:`temp_path_for`), not a finished output."""
    name = os.path.basename(os.fspath(path))
    return _TEMP_TAIL.search(name) is not None


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine still runs (one that cannot be told of counts as running)."""
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


def _appeared(path: str) -> MediaError:
    """The failure of a render whose output ``path`` appeared while it rendered (never replaced)."""
    return MediaError(f"{path} appeared while rendering (another render?); it was left as it is")


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
        raise _appeared(path) from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(path):
            raise _appeared(path) from None
        os.replace(temp, path)
        return
    os.remove(temp)


# The outputs finished inside published_together(), each as (publish it, discard it, check it can be), in order.
_Entry = tuple[Callable[[], None], Callable[[], None], Callable[[], None]]
_TOGETHER: ContextVar[list[_Entry] | None] = ContextVar("published_together", default=None)
# The folders check_output created inside published_together(): the block's alone, removed again where empty.
_CREATED: ContextVar[list[str] | None] = ContextVar("created_together", default=None)


def publish_when_done(action: Callable[[], None], discard: Callable[[], None],
                      check: Callable[[], None] = lambda: None) -> None:
    """Publish a finished output by ``action`` now or, inside :func:`published_together`, when its block ends
    without an exception (``discard`` removes the temporary instead when it does not). ``check`` raises
    :class:`MediaError` when ``action`` would fail (a file appeared at its name): the block checks them all before
    it publishes any."""
    group = _TOGETHER.get()
    if group is None:
        check()
        action()
    else:
        group.append((action, discard, check))


@contextlib.contextmanager
def published_together() -> Iterator[None]:
    """The outputs finished in the block (a movie, its data, plot, motiongrams, report) are published when
    the block ends without an exception, and none otherwise: a full disk on the last leaves no first one
    published. Each is finished and flushed before it waits, so publishing is only renaming. Nested
    blocks belong to the outermost. The folders made for the outputs are the block's: when it ends, those left
    empty (none published, or an output not written) are removed."""
    if _TOGETHER.get() is not None:
        yield
        return
    group: list[_Entry] = []
    created: list[str] = []
    token, folders = _TOGETHER.set(group), _CREATED.set(created)
    try:
        try:
            yield
            for _, _, check in group:  # a file that appeared at one name publishes none of them
                check()
        except BaseException:
            _discard_all(group)
            raise
        finally:
            _TOGETHER.reset(token)
            _CREATED.reset(folders)
        for index, (action, _, _) in enumerate(group):
            try:
                action()
            except BaseException:
                _discard_all(group[index:])
                raise
    finally:
        remove_created(sorted(created, key=len))  # every output's, emptied by all the discards


def _discard_all(group: list[_Entry]) -> None:
    for _, discard, _ in group:
        with contextlib.suppress(OSError):
            discard()


class PendingFile:
    """An output written to a hidden temporary beside ``path`` (:attr:`temp`) and published whole by :meth:`commit`.

    Checked like every output first (:func:`check_output`): never one of ``protect``, never an
    existing file without ``overwrite``. A numbered image sequence (``numbers``: the file numbers it
    will write) gets a temporary folder, its frames written there under their own names
    (:meth:`frame_path`); ``whole``: the sequence is a whole render, so overwriting it also removes
    the old render's frames of other numbers. :meth:`discard` removes the temporary (after a
    commit, nothing: within :func:`published_together` the block publishes or discards it).
    """

    def __init__(self, path: str, overwrite: bool, protect: Sequence[str | os.PathLike] = (),
                 numbers: range | None = None, whole: bool = False) -> None:
        self.created = check_output(path, list(protect), overwrite, numbers)  # removed again unless published
        self.path, self.overwrite, self.whole = path, overwrite, whole
        self.numbered = NumberedName.parse(path) if numbers is not None else None
        try:
            self.temp = create_temp_file(path) if self.numbered is None else create_temp_folder(path)
        except BaseException:
            remove_created(self.created)
            raise
        self._committed = False

    def frame_path(self, number: int) -> str:
        """Where a sequence's frame file ``number`` is written until it is published."""
        return os.path.join(self.temp, self.numbered.name(number))

    def commit(self, numbers: range | None = None) -> None:
        """Publish the file, or the frame files ``numbers`` of a sequence (each complete once written): now, or
        when the :func:`published_together` block it was finished in ends."""
        if self.numbered is None:
            flush_to_disk(self.temp)
        publish_when_done(lambda: self._publish(numbers), self._remove, lambda: self._check(numbers))
        self._committed = True

    def _check(self, numbers: range | None) -> None:
        """Refuse to publish over a file that appeared while rendering (without ``overwrite``)."""
        if self.overwrite:
            return
        paths = [self.path] if self.numbered is None else [self.numbered.path(number) for number in numbers]
        appeared = next((path for path in paths if os.path.lexists(path)), None)
        if appeared is not None:
            raise _appeared(appeared)

    def _publish(self, numbers: range | None) -> None:
        """Publish (checked first by :func:`publish_when_done`, so a sequence publishes all its frames or none)."""
        if self.numbered is None:
            publish(self.temp, self.path, self.overwrite)
            return
        for number in numbers:
            publish(self.frame_path(number), self.numbered.path(number), self.overwrite)
        os.rmdir(self.temp)
        # Files of other numbers stay (they may be other chunks of the same render), unless this
        # whole render replaces an old one: then no frame of the old one may stay beside it.
        if self.overwrite and self.whole:
            remove_other_frames(self.numbered, numbers)

    def discard(self) -> None:
        if not self._committed:
            self._remove()

    def _remove(self) -> None:
        if self.numbered is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.temp)
        remove_created(self.created)


def pending_files(paths: Sequence[str], overwrite: bool, protect: Sequence[str | os.PathLike]) -> list[PendingFile]:
    """A :class:`PendingFile` for each of ``paths`` (none replacing another), every one checked before any
    temporary is made: a refused path leaves nothing behind."""
    created: list[str] = []
    try:
        for index, path in enumerate(paths):
            created += check_output(path, [*protect, *paths[:index]], overwrite)
    except BaseException:
        remove_created(created)
        raise
    files: list[PendingFile] = []
    try:
        for index, path in enumerate(paths):
            files.append(PendingFile(path, overwrite, [*protect, *paths[:index]]))
    except BaseException:
        for file in reversed(files):
            file.discard()
        remove_created(created)
        raise
    for file in files:  # whichever is discarded last finds the folders empty and removes them
        file.created = created
    return files


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
