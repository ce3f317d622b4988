"""The chunk join: chunks of one render checked and joined into the final movie (one encode, or a stream copy).

The engine beneath ``join`` (``scripts/join_chunks.py``) and the cluster's join task. A chunk is a movie
the exact render wrote with ``frames`` A:B: every movie it writes carries a *record*
(``chunk_record``: the output frames it holds, the whole render's length, its place in time, frame
rate, size, input and settings), so the join knows each chunk's range without trusting file names.
Before writing anything the join refuses:

- a gap, an overlap, or frames missing at either end (``core.chunks.check_coverage`` names them);
- chunks of different sizes, rates, inputs or settings (the differing flag is named);
- chunks of two different inputs, even when they share a name and length (the record's fingerprint of
  the input), and an ``--audio-from`` file that is not the chunks' input;
- a chunk still being written (a render's hidden ``.partial-`` temporary, or a live render to
  that path) and one whose file holds fewer frames than its record (never finalised, or cut short);
- a damaged chunk, naming it and its frame: FFV1 chunks by their slice checksums, and with
  ``--stream-copy`` every chunk is decoded first with FFmpeg's error detection on;
- lossy chunks, unless ``--stream-copy``: only lossless ones (FFV1) make the exact join;
- with ``--spectrum`` or ``--spectrum-plot``, a chunk without its motion signals (rendered without a spectrum,
  or its signals file missing or another render's), and chunks that measured other regions or another band.

With a spectrum asked for, the chunks' signals (``chunk_record.ChunkSignals``: each region's displacement step
per frame, the step into a chunk's first frame measured from the frame before it) are put end to end and the
spectrum is taken as a whole render takes it (``frequency.joined_report``): the same numbers. The movie and its
spectrum files are published together.

The exact join decodes the chunks in order and encodes once, with the same writer and options
as the command line (``--codec``, ``--crf``, ``--encoder-preset``), every frame at the time a
whole render gives it, with ``--audio-from INPUT``'s sound cut to the covered range: its decoded
frames equal those of a whole render with the same output settings. ``--stream-copy`` joins
chunks that are already in the final codec (such as H.264 ``.mp4`` chunks) packet for packet
instead: fast, but not a whole render's bytes, since each chunk was encoded on its own (its own
keyframes and rate control), so frames near the seams differ by the codec's loss.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.chunks import CoverageError, check_coverage
from ..core.frequency import FrequencyReport
from ..core.rates import rate_text
from ..core.settings import OPTIONS_BY_NAME
from ..core.timing import Span
from ..media.formats import MOVIE_FORMATS, PLANE_CODECS, movie_codec
from ..media.names import extension
from ..media.publish import input_overlap, is_temporary, published_together, render_under_way
from .chunk_record import ChunkRecord, ChunkSignals
from .frequency import joined_report, log_report
from .inputs import load_media
from .request import RenderError, RequestError, option_flag

LOSSLESS_CODECS = ("ffv1",)


@dataclass(frozen=True)
class Chunk:
    """A chunk movie, checked to be finished: its record, video codec and frame count."""

    path: str
    record: ChunkRecord
    codec: str

    @property
    def span(self) -> Span:
        return Span(self.record.first, self.record.stop, os.path.basename(self.path))


def open_chunk(path: str) -> Chunk:
    """The chunk at ``path``; :class:`RenderError` for a temporary, a render under way, no record, or missing frames."""
    media = load_media()
    from ..media.concat import movie_info

    if is_temporary(path):
        raise RenderError(f"{path}: is a render's temporary (still being written, or left by a killed render), "
                          "not a finished chunk")
    if not os.path.lexists(path):
        pid = render_under_way(path)
        if pid is not None:
            raise RenderError(f"{path}: is still being written (by process {pid}); join it once its render has "
                              "finished")
        raise RenderError(f"{path}: no such file")
    if extension(path) not in MOVIE_FORMATS:
        raise RenderError(f"{path}: not a movie; chunks are movies written by motion_extract.py --frames A:B "
                          "(image-sequence chunks of one render already fit side by side, numbered by output frame)")
    try:
        info = movie_info(path, checksums=True)  # this product's FFV1 always carries slice checksums
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    record = ChunkRecord.from_tags(info.tags)
    if record is None:
        raise RenderError(f"{path}: has no chunk record; render chunks with motion_extract.py --frames A:B and the "
                          "exact engine (its movies carry one; the vse engine's do not)")
    expected = record.stop - record.first
    if info.packets != expected:
        raise RenderError(f"{path}: holds {info.packets} of its {expected} frames ({record.first} to "
                          f"{record.stop - 1}): it is incomplete (still being written, never finalised, or cut short)")
    if info.damaged is not None and info.codec == "ffv1":
        raise RenderError(damaged_chunk(path, record, info.damaged, "its FFV1 slice checksums do not match"))
    return Chunk(path, record, info.codec)


def damaged_chunk(path: str, record: ChunkRecord, frame: int, why: str) -> str:
    """The one line that refuses a damaged chunk, naming it, its frame and the render's frame."""
    return (f"{path}: is damaged at its frame {frame} (output frame {record.first + frame}): {why}; "
            "render this chunk again")


def _setting_text(name: str, value: object) -> str:
    option = OPTIONS_BY_NAME.get(name)
    if option is None:
        return f"{name} {value}"
    if option.kind is bool:
        return option_flag(option) if value else "--no-" + option_flag(option)[2:]
    return f"{option_flag(option)} {value}"


def check_chunks(chunks: Sequence[Chunk], lossless: bool) -> list[Chunk]:
    """The chunks in frame order, once they are known to make one whole render; :class:`RenderError` otherwise."""
    first = chunks[0]
    name = os.path.basename(first.path)
    for chunk in chunks[1:]:
        a, b, other = first.record, chunk.record, os.path.basename(chunk.path)
        if (a.input_name, a.input_frames) != (b.input_name, b.input_frames):
            raise RenderError(f"{other} was rendered from {b.input_name} ({b.input_frames} frames), {name} from "
                              f"{a.input_name} ({a.input_frames} frames): chunks of one render share its input")
        if a.settings != b.settings:
            differ = next(key for key in sorted(set(a.settings) | set(b.settings))
                          if a.settings.get(key) != b.settings.get(key))
            raise RenderError(f"{other} was rendered with {_setting_text(differ, b.settings.get(differ))}, {name} "
                              f"with {_setting_text(differ, a.settings.get(differ))}: chunks of one render share its "
                              "settings")
        if a.math != b.math:
            raise RenderError(f"{other} was rendered on the {b.math} path, {name} on the {a.math} path (--math): "
                              "chunks of one render share its path")
        if (a.width, a.height) != (b.width, b.height):
            raise RenderError(f"{other} is {b.width}x{b.height}, {name} {a.width}x{a.height}: chunks of one render "
                              "share its size")
        if (a.rate, a.time_base) != (b.rate, b.time_base):
            raise RenderError(f"{other} runs at {rate_text(b.rate)} fps, {name} at {rate_text(a.rate)}: chunks of one "
                              "render share its frame rate")
        if a.total != b.total:
            raise RenderError(f"{other} belongs to a render of {b.total} frames, {name} to one of {a.total}")
        if a.input_fingerprint != b.input_fingerprint:
            raise RenderError(f"{other} and {name} were rendered from two different files named {a.input_name} "
                              f"({a.input_frames} frames each): chunks of one render share its input")
    if lossless:
        lossy = next((chunk for chunk in chunks if chunk.codec not in LOSSLESS_CODECS), None)
        if lossy is not None:
            raise RenderError(f"{lossy.path}: is {lossy.codec}, not lossless: render chunks to .mkv (FFV1) for an "
                              "exact join, or join these by --stream-copy (not byte-equal to a whole render)")
    try:
        check_coverage([chunk.span for chunk in chunks], 0, first.record.total)
    except CoverageError as error:
        raise RenderError(str(error)) from None
    return sorted(chunks, key=lambda chunk: (chunk.record.first, chunk.record.stop))


def _sound(media, audio_from: str | None, chunks: list[Chunk], note: Callable[[str], object] | None):
    """The input's sound for the chunks' frames (``None`` without ``--audio-from`` or when it has none)."""
    if audio_from is None:
        return None
    first, last = chunks[0].record, chunks[-1].record
    try:
        source = media.open_source(audio_from)
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    if source.frame_count != first.input_frames:
        raise RenderError(f"{audio_from}: has {source.frame_count} frames, but the chunks were rendered from "
                          f"{first.input_name} of {first.input_frames}")
    if first.input_fingerprint is not None:
        from ..media.fingerprint import fingerprint

        try:
            same = fingerprint(audio_from) == first.input_fingerprint
        except media.MediaError as error:
            raise RenderError(str(error)) from None
        if not same:
            raise RenderError(f"{audio_from}: is not the file the chunks were rendered from ({first.input_name} of "
                              f"{first.input_frames} frames: its size, streams or first pictures differ)")
    if not getattr(source, "has_audio", False):
        if note is not None:
            note(f"{audio_from} has no sound; the output has none")
        return None
    return media.SoundClip(source.path, source.start_time, first.begin, last.end, getattr(source, "sound_jumps", None))


def chunk_signals(chunk: Chunk) -> ChunkSignals:
    """The motion signals beside ``chunk``, checked to be its own; :class:`RenderError` otherwise."""
    named = chunk.record.signals
    if not isinstance(named, dict) or not isinstance(named.get("file"), str):
        raise RenderError(f"{chunk.path}: carries no motion signals: render each chunk with --spectrum (a chunk "
                          "then records them beside it) to join a spectrum")
    path = os.path.join(os.path.dirname(chunk.path), os.path.basename(named["file"]))
    try:
        with open(path, encoding="utf-8") as stream:
            signals = ChunkSignals.from_text(stream.read())
    except FileNotFoundError:
        raise RenderError(f"{chunk.path}: its motion signals {path} are missing: keep them beside the chunk") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RenderError(f"{path}: cannot be read ({error})") from None
    record = chunk.record
    if signals is None or signals.token != named.get("token") or (signals.first, signals.stop) != (record.first,
                                                                                                  record.stop):
        raise RenderError(f"{path}: are not the motion signals of {chunk.path} (damaged, or another render's)")
    return signals


def check_signals(chunks: Sequence[Chunk]) -> list[ChunkSignals]:
    """The chunks' motion signals (the chunks in frame order), once they are known to measure the same regions in
    the same band; :class:`RenderError` otherwise."""
    found = [chunk_signals(chunk) for chunk in chunks]
    first, name = found[0], os.path.basename(chunks[0].path)
    for chunk, signals in zip(chunks[1:], found[1:], strict=True):
        other = os.path.basename(chunk.path)
        if signals.regions != first.regions:
            raise RenderError(f"{other} measured the regions {_regions_text(signals.regions)}, {name} "
                              f"{_regions_text(first.regions)}: chunks of one render share its --roi")
        if signals.band != first.band:
            raise RenderError(f"{other} was rendered with {_band_text(signals.band)}, {name} with "
                              f"{_band_text(first.band)}: chunks of one render share its band")
        if (signals.times is None, signals.rate, signals.nyquist) != (first.times is None, first.rate, first.nyquist):
            raise RenderError(f"{other} and {name} were rendered from inputs timed differently (one at a variable "
                              "rate, or another input): chunks of one render share its input")
    return found


def _regions_text(regions) -> str:
    return " ".join(f"{name}={x},{y},{w},{h}" for name, x, y, w, h in regions) or "(the frame only)"


def _band_text(band) -> str:
    return "no --band" if band is None else f"--band {band[0]:g}:{band[1]:g}"


def join(paths: Sequence[str], output: str, audio_from: str | None = None, codec: str | None = None,
         crf: int | None = None, encoder_preset: str | None = None, overwrite: bool = False,
         stream_copy: bool = False, note: Callable[[str], object] | None = None,
         progress: Callable[[int, int], object] | None = None, spectrum: str | None = None,
         spectrum_plot: str | None = None) -> FrequencyReport | None:
    """Join the chunk movies ``paths`` into ``output``, and with ``spectrum`` (.json or .csv) or ``spectrum_plot``
    (.png), the whole render's spectrum from the chunks' signals (its report is returned); see the module's
    notes. Errors are :class:`RenderError` (:class:`RequestError` for bad arguments); ``note`` hears a note;
    ``progress`` hears the frames written and the total, as a render's does."""
    media = load_media()
    if len(set(map(os.path.realpath, paths))) != len(paths):
        raise RequestError("a chunk is given twice")
    protect = [*paths, *([audio_from] if audio_from else [])]
    for path in filter(None, (output, spectrum, spectrum_plot)):  # aimed at an input: a bad argument, as for a render
        overlap = input_overlap(path, protect)
        if overlap:
            raise RequestError(overlap)
    chunks = check_chunks([open_chunk(path) for path in paths], lossless=not stream_copy)
    signals = check_signals(chunks) if spectrum or spectrum_plot else None
    try:
        with published_together():  # the movie and its spectrum appear together, or none
            writers = _spectrum_writers(spectrum, spectrum_plot, overwrite, [*protect, output])
            try:
                report = None
                if signals is not None:
                    report = joined_report(signals, chunks[0].record.total, chunks[0].record.rate)
                _join(media, chunks, output, audio_from, codec, crf, encoder_preset, overwrite, stream_copy, note,
                      progress, protect)
                for writer in writers:
                    writer.commit(report)
            finally:
                for writer in writers:
                    writer.discard()
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    if report is not None:
        log_report(report, chunks[0].record.input_name)
    return report


def _spectrum_writers(spectrum: str | None, spectrum_plot: str | None, overwrite: bool, protect: list) -> list:
    from ..media.spectrum import SpectrumPlotWriter, SpectrumWriter

    media = load_media()
    writers: list = []
    try:
        for path, kind in ((spectrum, SpectrumWriter), (spectrum_plot, SpectrumPlotWriter)):
            if path is not None:
                writers.append(kind(path, overwrite, protect))
                protect = [*protect, path]
    except media.MediaError as error:
        for writer in writers:
            writer.discard()
        raise RequestError(str(error)) from None
    return writers


def _join(media, chunks: list[Chunk], output: str, audio_from: str | None, codec, crf, encoder_preset,
          overwrite: bool, stream_copy: bool, note, progress, protect: list[str]) -> None:
    if media.output_kind(output) != "movie":
        raise RenderError(f"{output}: the join writes a movie ({', '.join(MOVIE_FORMATS)})")
    if stream_copy and (codec, crf, encoder_preset) != (None, None, None):
        raise RequestError("--codec, --crf and --encoder-preset do not apply to --stream-copy, which keeps "
                           "the chunks' own pictures")
    media.check_encoder_options(output, codec, crf, encoder_preset)
    sound = _sound(media, audio_from, chunks, note)
    if stream_copy:
        from ..media.concat import DamagedMovie, check_decodes, concat_movies

        for chunk in chunks:  # a copy carries damage along unseen: decode each chunk first
            try:
                check_decodes(chunk.path, checksums=chunk.codec == "ffv1")
            except DamagedMovie as damage:
                raise RenderError(damaged_chunk(chunk.path, chunk.record, damage.frame, damage.why)) from None

        base = chunks[0].record.begin
        concat_movies([(chunk.path, chunk.record.begin - base) for chunk in chunks], output, sound, overwrite,
                      protect)
        return
    _encode_once(media, chunks, output, sound, codec, crf, encoder_preset, overwrite, protect, progress)


def _encode_once(media, chunks: list[Chunk], output: str, sound, codec, crf, encoder_preset, overwrite: bool,
                 protect: list[str], progress) -> None:
    """Decode the lossless chunks in order into one writer, each frame at its time in a whole render."""
    first = chunks[0].record
    done = 0
    # Planar chunks hold the planes the look made: a writer that takes planes gets them as they are, as in the
    # whole render; another codec gets them converted to BGR.
    planes = first.math == "planar" and movie_codec(output, codec).name in PLANE_CODECS
    stored = (first.width, first.height)
    if first.math == "planar":  # 4:2:0 is stored at an even size, an odd last row or column repeated
        stored = (first.width + first.width % 2, first.height + first.height % 2)
    with media.open_writer(
        output, first.rate, first.width, first.height, overwrite=overwrite, protect=protect, codec=codec, crf=crf,
        encoder_preset=encoder_preset, sound=sound, time_base=first.time_base, start=first.begin, planes=planes,
    ) as writer:
        for chunk in chunks:
            source = media.open_source(chunk.path)
            if (source.width, source.height) != stored:
                raise RenderError(f"{chunk.path}: is {source.width}x{source.height}, but its record says "
                                  f"{first.width}x{first.height}")
            if first.math == "planar" and not getattr(source, "yields_planes", False):
                raise RenderError(f"{chunk.path}: its record says the planar path, but it holds no 4:2:0 planes")
            record = chunk.record
            decoded = 0
            for frame in source.read_from(0, compact=first.math == "planar"):
                if record.time_base is None:  # a constant rate: frame i of the chunk is i frames after its start
                    shown = decoded / record.rate
                else:  # a variable one: the chunk's own times (Matroska keeps them to the millisecond)
                    shown = (source.pts[decoded] - source.pts[0]) * source.time_base
                if not planes and frame.ndim == 2:
                    frame = source.expand(frame)[: first.height, : first.width]
                writer.write(frame, record.begin + shown)
                decoded += 1
                if progress is not None:
                    progress(done + decoded, first.total)
            done += decoded
            if decoded != record.stop - record.first:
                raise RenderError(f"{chunk.path}: decoded {decoded} of its {record.stop - record.first} frames")
