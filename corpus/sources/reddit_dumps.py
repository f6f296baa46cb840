"""Pushshift-style Reddit submission dumps: `RS_*.zst`, `.jsonl`, `.jsonl.gz`, streamed.

Bad input costs only itself, counted under a named reason: a broken line (`bad_json`, ...), a
zstd frame that cannot be decoded (`zstd_window_too_large`, `undecodable_zstd`: reading resumes at
the next frame, so a corrupt frame, trailing garbage or a file that is not zstd at all ends no
run), a file cut short (`truncated_file`). A field of the wrong type or out of range (a score of
`Infinity`, karma above int32, a `created_utc` no date can hold, a `url` that is a number) is read
as missing and counted in `counts` as `invalid_<field>`: the submission goes on, and the link rules
then drop it if the field was needed (`missing_score`, `missing_url`). The format is told by the
file's first bytes, not its name; a UTF-8 BOM is skipped; `"false"` is false.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from corpus.readers.inputs import RewindableStream, open_input
from corpus.steps import StepStats

log = logging.getLogger(__name__)

# Pushshift compressed its dumps with a 2 GiB long-distance window; zstandard's default
# decoder limit (128 MiB) refuses them with "Frame requires too much memory".
ZSTD_MAX_WINDOW = 2**31
# What a value must fall in to be kept: the links table stores karma as int32, and a time is
# kept only if a datetime can hold it (before the year 10000).
SCORE_RANGE = (-(2**31), 2**31 - 1)
CREATED_UTC_RANGE = (0, 253402300799)

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n\x00"
_ZSTD_READ = 1 << 14        # compressed bytes per step (fastest, and bounds what one step inflates to)
_ZSTD_LOOK_BACK = 4 << 20   # a frame after a broken one starts at most this far before the failure
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})


@dataclass(frozen=True)
class Submission:
    """The fields of a submission that link harvesting needs, with types made uniform."""

    id: str
    subreddit: str | None
    url: str | None
    score: int | None
    created_utc: int | None
    is_self: bool
    over_18: bool
    title: str | None


def dump_format(head: bytes, path: str) -> str:
    """"zstd", "gzip" or "plain", from a dump's first bytes; the name decides only when they do not
    (a damaged `.zst` still goes to the zstd reader, which finds the frames it can)."""
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.lstrip(_BLANK).removeprefix(_BOM).lstrip(_BLANK)[:1] in (b"{", b"["):
        return "plain"
    return "zstd" if path.endswith(".zst") else "gzip" if path.endswith(".gz") else "plain"


def _open_sniffed(path: str) -> tuple[IO[bytes], str]:
    """The raw stream of a dump and its format (a stream that cannot seek is opened again)."""
    stream = open_input(path)
    head = stream.read(4)
    if stream.seekable():
        stream.seek(0)
    else:
        stream.close()
        stream = open_input(path)
    return stream, dump_format(head, path)


def open_dump(path: str | Path) -> IO[bytes]:
    """A binary stream of the dump's decompressed NDJSON, whatever its compression.

    For reading a whole good dump fast (benchmarks); `read_submissions` is the reader that
    survives broken frames and counts what it skips.
    """
    stream, fmt = _open_sniffed(str(path))
    if fmt == "zstd":
        import zstandard

        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        return io.BufferedReader(dctx.stream_reader(stream, closefd=True, read_across_frames=True))
    if fmt == "gzip":
        return gzip.open(stream, "rb")
    return stream


def _count(stats: StepStats, reason: str, path: str, detail: str) -> None:
    """A stretch of the file that gave no lines: one record in, dropped under `reason`."""
    stats.n_in += 1
    stats.drop(reason)
    log.warning("%s: %s: %s", path, reason.replace("_", " "), detail)


def _zstd_chunks(raw: IO[bytes], path: str, stats: StepStats) -> Iterator[bytes | None]:
    """The decompressed bytes of every zstd frame that decodes, in order.

    A frame that fails (a window larger than `ZSTD_MAX_WINDOW`, corrupt data, bytes that are no
    frame at all) is counted and skipped, and reading resumes at the next frame that decodes.
    None is yielded where bytes were skipped: the line in progress there is lost with them.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    src = RewindableStream(raw)
    while True:
        frame_start = failed_at = src.tell()
        if not src.peek(_ZSTD_READ).strip(_BLANK):  # the end, or padding after the last frame
            return
        frame = dctx.decompressobj()
        try:
            while not frame.eof:
                failed_at = src.tell()
                data = src.read(_ZSTD_READ)
                if not data:
                    _count(stats, "truncated_file", path, f"zstd frame at byte {frame_start} cut short")
                    yield None
                    return
                if out := frame.decompress(data):
                    yield out
        except zstandard.ZstdError as err:
            too_big = "too much memory" in str(err)
            nxt = _next_frame(src, dctx, max(frame_start + 1, failed_at - _ZSTD_LOOK_BACK))
            _count(stats, "zstd_window_too_large" if too_big else "undecodable_zstd", path,
                   f"{err} (frame at byte {frame_start}); "
                   + (f"resuming at byte {nxt}" if nxt is not None else "no good frame after it"))
            yield None
            if nxt is None:
                return
            continue
        src.seek(src.tell() - len(frame.unused_data))


def _next_frame(src: RewindableStream, dctx, start: int) -> int | None:
    """Offset of the next zstd frame at or after `start` whose start decodes, or None."""
    import zstandard

    def decodes(data: bytes) -> bool:
        try:
            dctx.decompressobj().decompress(data[:_ZSTD_READ])
            return True
        except zstandard.ZstdError:
            return False

    return src.resync(start, _ZSTD_MAGIC, decodes, "frame")


def _split_lines(chunks: Iterable[bytes | None]) -> Iterator[bytes]:
    """Lines (with their newline; the last one may have none) of a stream given in chunks; at a
    None, the line in progress is dropped (its bytes were partly skipped and are counted there)."""
    pending = b""
    for chunk in chunks:
        if chunk is None:
            pending = b""
            continue
        lines = chunk.split(b"\n")
        lines[0] = pending + lines[0]
        pending = lines.pop()
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


def _stream_lines(stream: IO[bytes], path: str, stats: StepStats) -> Iterator[bytes]:
    """Lines of a gzip or plain stream; a stream cut short ends with its earlier lines kept."""
    while True:
        try:
            line = stream.readline()
        except (OSError, EOFError, ValueError, zlib.error) as err:  # a gzip stream cut short or damaged
            _count(stats, "truncated_file", path, f"ends early: {err}")
            return
        if not line:
            return
        yield line


def dump_lines(path: str, stats: StepStats) -> Iterator[bytes]:
    """The raw lines of one dump file, whatever its compression, with broken stretches counted in
    `stats`. Raises `OSError` at once if the file cannot be opened."""
    stream, fmt = _open_sniffed(path)
    return _lines_of(stream, fmt, path, stats)


def _lines_of(stream: IO[bytes], fmt: str, path: str, stats: StepStats) -> Iterator[bytes]:
    with stream:
        if fmt == "zstd":
            yield from _split_lines(_zstd_chunks(stream, path, stats))
        elif fmt == "gzip":
            with gzip.GzipFile(fileobj=stream) as unzipped:
                yield from _stream_lines(unzipped, path, stats)
        else:
            yield from _stream_lines(stream, path, stats)


def _as_int(value: Any, bounds: tuple[int, int]) -> tuple[int | None, bool]:
    """(an int within `bounds`, True); (None, True) if absent; (None, False) if it is not a finite
    number in range. Pushshift stored numbers as int, float or string depending on the era."""
    if value is None or value == "":
        return None, True
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None, False
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, False
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, False
        value = int(value)
    return (value, True) if bounds[0] <= value <= bounds[1] else (None, False)


def _as_bool(value: Any, default: bool) -> tuple[bool, bool]:
    """(the flag, True) from a JSON bool, 0/1 or a string such as "false"; (default, False) otherwise."""
    if value is None:
        return default, True
    if isinstance(value, bool):
        return value, True
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), True
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE, True
    return default, False


def parse_submission(obj: dict[str, Any], invalid: Counter | None = None) -> Submission | None:
    """A `Submission` from one dump object, or None if it has no id (or one that is neither a
    string nor a number). A field of the wrong type or out of range is read as missing, and counted
    in `invalid` under `invalid_<field>`."""
    sid = obj.get("id") or obj.get("name")
    if not sid or isinstance(sid, bool) or not isinstance(sid, (str, int)):
        return None
    get = obj.get
    subreddit, url, title = get("subreddit"), get("url"), get("title")
    score, created_utc, is_self, over_18 = get("score"), get("created_utc"), get("is_self"), get("over_18")
    wrong: list[str] = []
    # Each field is tested for the common, well-typed case first (this runs for every line) and
    # converted only when it is something else.
    if subreddit is not None and type(subreddit) is not str:
        subreddit, _ = None, wrong.append("subreddit")
    if url is not None and type(url) is not str:
        url, _ = None, wrong.append("url")
    if title is not None and type(title) is not str:
        title, _ = None, wrong.append("title")
    if type(score) is not int or not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
        score = _converted(_as_int(score, SCORE_RANGE), "score", wrong)
    if type(created_utc) is not int or not CREATED_UTC_RANGE[0] <= created_utc <= CREATED_UTC_RANGE[1]:
        created_utc = _converted(_as_int(created_utc, CREATED_UTC_RANGE), "created_utc", wrong)
    if type(is_self) is not bool:
        is_self = _converted(_as_bool(is_self, False), "is_self", wrong)
    if type(over_18) is not bool:
        over_18 = _converted(_as_bool(over_18, False), "over_18", wrong)
    if wrong and invalid is not None:
        invalid.update(f"invalid_{name}" for name in wrong)
    return Submission(id=str(sid), subreddit=subreddit, url=url or None, score=score, created_utc=created_utc,
                      is_self=is_self, over_18=over_18, title=title)


def _converted(result: tuple[Any, bool], name: str, wrong: list[str]) -> Any:
    """The value of a conversion, noting `name` in `wrong` if the input could not be converted."""
    value, ok = result
    if not ok:
        wrong.append(name)
    return value


@lru_cache(maxsize=1)
def _fast_decoder():
    """A msgspec decoder of just the fields a `Submission` needs, or None without msgspec.

    Dump lines are 2-5 KB of which a Submission needs a few fields; msgspec skips the rest
    without building it (about 6x faster than `json.loads` on real lines). Anything it will not
    take (invalid UTF-8, NaN, not an object, ...) goes down the `json.loads` path unchanged.
    """
    try:
        import msgspec
    except ImportError:
        return None

    class Fields(msgspec.Struct):
        id: Any = None
        name: Any = None
        subreddit: Any = None
        url: Any = None
        score: Any = None
        created_utc: Any = None
        is_self: Any = False
        over_18: Any = False
        title: Any = None

    return msgspec.json.Decoder(Fields), msgspec.MsgspecError, msgspec.structs.asdict


def read_submissions(paths: Iterable[str], stats: StepStats | None = None) -> Iterator[Submission]:
    """Stream submissions from dump files, counting every skipped line under a named reason.

    A broken line (truncated JSON, not an object, no id) is skipped and counted; so is each
    stretch of a file that gives no lines (a bad zstd frame, a file cut short), with the lines
    before and after it kept. Fields of the wrong type are counted in `stats.counts`.
    """
    stats = stats if stats is not None else StepStats("read_submissions")
    fast = _fast_decoder()
    for path in paths:
        path = str(path)
        try:
            lines = dump_lines(path, stats)
        except OSError as err:
            _count(stats, "unreadable_file", path, f"cannot open: {err}")
            continue
        for raw in lines:
            stats.n_in += 1
            if raw.startswith(_BOM):  # a UTF-8 BOM (at the start of a file) is not part of the object
                raw = raw[len(_BOM):]
            if fast is not None:
                try:
                    fields = fast[0].decode(raw)
                except (fast[1], ValueError):  # incl. invalid UTF-8, NaN: the slow path decides
                    fields = None
                if fields is not None and (fields.id or fields.name):
                    sub = parse_submission(fast[2](fields), stats.counts)
                    if sub is not None:
                        stats.n_out += 1
                        yield sub
                        continue
            reason, sub = _parse_line(raw, stats.counts)
            if sub is None:
                stats.drop(reason)
                continue
            stats.n_out += 1
            yield sub


def _parse_line(raw: bytes, invalid: Counter) -> tuple[str, Submission | None]:
    """The submission on one line with `json.loads` (which also takes NaN and Infinity), or the
    reason it has none."""
    # A stray invalid byte in a title must not cost the link: replace, don't drop.
    line = raw.decode("utf-8", errors="replace").strip()
    if not line:
        return "empty_line", None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # incl. numbers of 4300+ digits and very deep nesting
        # zstd streams end silently when cut short; the tell is an unterminated last line.
        return ("bad_json" if raw.endswith(b"\n") else "truncated_file"), None
    if not isinstance(obj, dict):
        return "not_an_object", None
    sub = parse_submission(obj, invalid)
    return ("missing_id", None) if sub is None else ("", sub)
