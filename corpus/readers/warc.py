"""Reading web pages out of WARC, WET and ARC files with warcio, tolerant of broken archives.

What a broken file costs: the broken bytes only, each stretch counted once under a named reason.
The reader cuts the file into records itself before warcio parses one: by gzip member (what
crawlers write: one record per member), then within a member or an uncompressed file by each
record's `Content-Length`, which must be a number and must end where the record's two closing
newlines and the next `WARC/` header (or the end) are. A record that breaks these rules is counted
(`malformed_record`, or `incomplete_record` when its bytes stop short of its length), and reading
resumes at the next gzip member that inflates to a record header, or at the next `WARC/` line:

- a clipped gzip member (a crawl that died mid-write, then more records appended) costs that
  member only: zlib runs into the next member's bytes and fails, and reading resumes there
  (a stream that cannot seek, an HTTP download, goes back over the last 16 MiB it read);
- a `Content-Length` that is negative, not a number, or longer or shorter than the record costs
  that record only: the next record's header is found by scanning, even inside the bytes the
  wrong length claimed (in an uncompressed file that is where the next good record is);
- a whole-file gzip is one member holding every record, framed the same way (a member is
  inflated into memory, or into a temporary file past 32 MiB, before it is framed);
- a record that a writer cut into several gzip members is read across them;
- a truncated download keeps every complete record before the cut.

HTTP bodies are decoded here (`Content-Encoding` gzip, deflate, br, zstd, and lists of them),
not by warcio: its brotli call does not match brotli 1.2's API (every br page was lost), and a
body that fails to decode is counted (`bad_content_encoding`) unless it is text already.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import zlib
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from corpus.charset import decode_declared, decode_detected
from corpus.readers.inputs import RewindableStream, open_input, parse_range
from corpus.records import Document, document_id
from corpus.steps import StepStats
from corpus.urls import canonical_url, registered_domain

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)  # kept as they are: the fetcher archives plain-text pages too
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/"
# An ARC record's first line: URL, IP address, 14-digit date, ... (ARC v1 and v2).
_ARC_LINE = re.compile(rb"^\S+ [0-9a-fA-F.:-]+ \d{12,14} ")
_BLANK = b"\r\n\t \x00"   # what may separate records (some writers pad with NULs)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\S*)[ \t]*\r?$", re.I | re.M)
_WARC_LINE = re.compile(rb"\nWARC/\d")
_READ = 1 << 16            # compressed bytes per step
_INFLATE_STEP = 1 << 20    # decompressed bytes per zlib call: a small member cannot expand unbounded
_MAX_HEADER = 1 << 16      # a WARC header block longer than this is not one
_SPOOL = 32 << 20          # a member's decompressed bytes are kept in memory up to this, then on disk
_SCAN = 1 << 20

Report = Callable[[str, str], None]


class IncompleteRecord(Exception):
    """A record whose payload is shorter than its Content-Length: a cut file or broken chunking."""


class UndecodableBody(Exception):
    """An HTTP body that its `Content-Encoding` cannot decode; `reason` is the drop reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        try:  # ARC dates: 20140216050221
            return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
        except ValueError:
            return None


def _declared_charset(content_type: str) -> str | None:
    m = _CHARSET.search(content_type)
    return m.group(1).lower() if m else None


# -- cutting a file into records ------------------------------------------------------------


def iter_records(stream: IO[bytes], name: str, stats: StepStats,
                 begin: int = 0, end: int | None = None) -> Iterator:
    """Every record of a WARC/ARC stream that warcio can parse, resynchronising after broken ones.

    Each broken stretch is counted once in `stats` (as a record in, and dropped) under its
    reason, and logged. With `begin`/`end`, only the gzip members that start in [begin, end) are
    read: byte ranges of one file then split its records between workers with no overlap and no
    gap. An uncompressed file is read whole by its first range (`split_inputs` never splits one).
    """
    from warcio.recordloader import ArcWarcRecordLoader

    def report(reason: str, detail: str) -> None:
        stats.n_in += 1
        stats.drop(reason)
        log.warning("%s: %s: %s", name, reason.replace("_", " "), detail)

    loader = ArcWarcRecordLoader(verify_http=False, arc2warc=False)
    src = RewindableStream(stream)
    if src.peek(len(_GZIP_MAGIC)) == _GZIP_MAGIC:
        yield from _gzip_records(src, loader, report, begin, end)
    elif begin == 0:
        yield from _plain_records(stream, src, name, loader, report)


def _gzip_records(src: RewindableStream, loader, report: Report, begin: int, end: int | None) -> Iterator:
    """The records of a gzipped file, member by member; a broken member costs only itself.

    A record whose bytes go on in the next member (a writer that cut one record into several
    members: valid gzip, one stream) is read across them: members that do not begin a record
    are inflated onto the one before.
    """
    pos = _next_member(src, begin) if begin > 0 else 0
    while pos is not None and (end is None or pos < end):
        src.seek(pos)
        if not src.peek(1):
            return
        reported: list[str] = []

        def note(reason: str, detail: str, at: int = pos) -> None:
            reported.append(reason)
            report(reason, f"{detail} (gzip member at byte {at})")

        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as member:
            problem = _inflate_member(src, member)
            frame_from = 0
            while True:
                size = member.tell()
                more = problem is None and _continues_record(src)
                short = yield from _framed_records(member, size, loader, note, frame_from, defer_short=more)
                if short is None:
                    break
                member.seek(size)
                problem, frame_from = _inflate_member(src, member), short
        if problem is None:
            pos = src.tell()
            continue
        nxt = _next_member(src, pos + 1)
        if not reported and not _only_padding(src, pos, nxt):
            report(problem[0], f"{problem[1]} at byte {pos}; "
                   + (f"resuming at byte {nxt}" if nxt is not None else "nothing readable after it"))
        pos = nxt


def _continues_record(src: RewindableStream) -> bool:
    """Whether a gzip member starts at `src`'s position and inflates to something other than the
    start of a record: the rest of the record before it."""
    head = src.peek(1 << 12)
    if not head.startswith(_GZIP_MAGIC):
        return False
    try:
        data = zlib.decompressobj(31).decompress(head, 256).lstrip(_BLANK)
    except zlib.error:
        return False
    return bool(data) and not data.startswith(_WARC_MAGIC) and not _ARC_LINE.match(data)


def _inflate_member(src: RewindableStream, out: IO[bytes]) -> tuple[str, str] | None:
    """Decompress the gzip member at `src`'s position into `out` and leave `src` just after it.

    Returns None for a whole member, or (reason, detail) when it is cut short or does not inflate;
    `out` then holds what did inflate, whose complete records are still read.
    """
    inflater = zlib.decompressobj(31)
    while not inflater.eof:
        data = inflater.unconsumed_tail or src.read(_READ)
        if not data:
            return "incomplete_record", "gzip member cut short"
        try:
            out.write(inflater.decompress(data, _INFLATE_STEP))
        except zlib.error as err:
            return "malformed_record", f"not a readable gzip member ({err})"
    src.seek(src.tell() - len(inflater.unused_data))
    return None


def _next_member(src: RewindableStream, start: int) -> int | None:
    """Offset of the next gzip member at or after `start` that inflates to a WARC or ARC record
    (the magic bytes alone also occur inside compressed data), or None."""
    def is_record(data: bytes) -> bool:
        try:
            head = zlib.decompressobj(31).decompress(data[:1 << 12], 256).lstrip(_BLANK)
        except zlib.error:
            return False
        return head.startswith(_WARC_MAGIC) or bool(_ARC_LINE.match(head))

    return src.resync(start, _GZIP_MAGIC, is_record, "record")


def _only_padding(src: RewindableStream, start: int, stop: int | None) -> bool:
    """Whether the bytes from `start` to `stop` (or the end) are blank: padding, not a lost record."""
    try:
        src.seek(start)
    except OSError:
        return False
    while stop is None or src.tell() < stop:
        chunk = src.read(min(_SCAN, stop - src.tell()) if stop is not None else _SCAN)
        if not chunk:
            break
        if chunk.strip(_BLANK):
            return False
    return True


def _plain_records(stream: IO[bytes], src: RewindableStream, name: str, loader, report: Report) -> Iterator:
    """The records of an uncompressed file (framed in place; a stream that cannot seek is first
    copied to a temporary file, since framing looks ahead and back)."""
    if stream.seekable():
        stream.seek(src.tell())
        size = stream.seek(0, io.SEEK_END)
        yield from _framed_records(stream, size, loader, report)
        return
    log.info("%s: uncompressed and not seekable: copying it to a temporary file first", name)
    with tempfile.TemporaryFile() as copy:
        while chunk := src.read(_SCAN):
            copy.write(chunk)
        yield from _framed_records(copy, copy.tell(), loader, report)


def _framed_records(f: IO[bytes], size: int, loader, report: Report, start: int = 0,
                    defer_short: bool = False) -> Generator[object, None, int | None]:
    """The records in bytes [start, size) of a seekable uncompressed WARC (a file, or a gzip member).

    A record is yielded only once its framing holds: a `WARC/` header block, a `Content-Length`
    that is a number, and the record's end followed by blank bytes and the next `WARC/` line or the
    end. Otherwise the record is reported and reading resumes at the next `WARC/` line after its
    start. ARC records, which have no such framing, are handed to warcio as they come.

    With `defer_short`, a last record cut by the end is not reported: its offset is returned, for
    the caller to add the bytes that follow and frame again from there.
    """
    from warcio.archiveiterator import ArchiveIterator

    pos = start
    while pos < size:
        f.seek(pos)
        head = f.read(_MAX_HEADER)
        blank = len(head) - len(head.lstrip(_BLANK))
        if blank:
            pos += blank
            continue
        problem = stop = None
        if head.startswith(_WARC_MAGIC):
            problem, stop = _record_frame(f, pos, head, size)
        elif _ARC_LINE.match(head):
            try:
                yield from ArchiveIterator(io.BufferedReader(_FileView(f, pos, size)), check_digests=False)
            except Exception as err:  # ARC has no framing to resume by: the rest of this part is lost
                report("malformed_record", f"ARC record: {_first_line(err)}")
            return None
        else:
            problem = ("malformed_record", f"no WARC header at byte {pos}")
        if problem is None:
            try:
                record = loader.parse_record_stream(io.BufferedReader(_FileView(f, pos, stop)))
            except Exception as err:  # headers warcio cannot parse: the framing lets us skip it
                report("malformed_record", f"record at byte {pos}: {_first_line(err)}")
            else:
                yield record
            pos = stop
            continue
        if defer_short and problem[0] == "incomplete_record":
            return pos
        report(*problem)
        nxt = _next_warc_line(f, pos + 1)
        if nxt is None:
            return None
        pos = nxt
    return None


def _record_frame(f: IO[bytes], pos: int, head: bytes, size: int) -> tuple[tuple[str, str] | None, int | None]:
    """(None, end) for a record at `pos` whose framing holds; else ((reason, detail), None)."""
    blank_line = _HEADER_END.search(head)
    if blank_line is None:
        if pos + len(head) >= size:  # the data ends inside the header block
            return ("incomplete_record", f"record at byte {pos}: cut inside its header"), None
        return ("malformed_record", f"record at byte {pos}: header block not ended"), None
    found = _CONTENT_LENGTH.search(head, 0, blank_line.start() + 2)
    value = found.group(1) if found else b"(none)"
    if not value.isdigit():
        return ("malformed_record", f"record at byte {pos}: Content-Length {value.decode('latin-1')!r}"), None
    stop = pos + blank_line.end() + int(value)
    if stop > size:
        return ("incomplete_record", f"record at byte {pos}: {stop - size} bytes short of its Content-Length"), None
    f.seek(stop)
    after = f.read(256).lstrip(_BLANK)
    if after and not after.startswith(_WARC_MAGIC):
        return ("malformed_record", f"record at byte {pos}: Content-Length {int(value)} does not end it"), None
    return None, stop


def _next_warc_line(f: IO[bytes], start: int) -> int | None:
    """Offset of the next line at or after `start` that begins `WARC/<digit>`, or None."""
    pos = max(start - 1, 0)
    while True:
        f.seek(pos)
        chunk = f.read(_SCAN + 8)
        if len(chunk) < 7:
            return None
        m = _WARC_LINE.search(chunk)
        if m:
            return pos + m.start() + 1
        pos += _SCAN


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [repr(err)])[0]


class _FileView(io.RawIOBase):
    """Bytes [start, stop) of a seekable file, read with their own position (the framer seeks too)."""

    def __init__(self, f: IO[bytes], start: int, stop: int) -> None:
        self.f, self.pos, self.stop = f, start, stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.stop - self.pos)
        if n <= 0:
            return 0
        self.f.seek(self.pos)
        data = self.f.read(n)
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


# -- records to documents ---------------------------------------------------------------------


def read_warc(path: str | Path, source: str, stats: StepStats | None = None,
              max_payload_bytes: int = 10 << 20) -> Iterator[Document]:
    """Yield one document per page of a WARC/WET/ARC file (local path, URL or s3://).

    HTML `response` records come with their raw payload in `html` for the extractor; WET
    `conversion` records come with `text` already set. Every record is counted; those that are
    not pages are dropped under a named reason. A path may name a byte range of a file
    (`file.warc.gz#bytes=START-END`, see `corpus.readers.inputs.split_inputs`).
    """
    stats = stats if stats is not None else StepStats("read_warc")
    path, begin, end = parse_range(str(path))
    name = path.rstrip("/").rsplit("/", 1)[-1]
    with open_input(path) as stream:
        for record in iter_records(stream, name, stats, begin, end):
            stats.n_in += 1
            try:
                doc = _page(record, name, source, stats, max_payload_bytes)
            except IncompleteRecord as err:
                log.warning("%s: incomplete record: %s", name, err)
                stats.drop("incomplete_record")
                continue
            except UndecodableBody as err:
                log.warning("%s: %s: %s", name, err.reason.replace("_", " "), err)
                stats.drop(err.reason)
                continue
            except Exception as err:  # a payload that fails to parse, ...
                log.warning("%s: unreadable record: %s", name, err)
                stats.drop("malformed_record")
                continue
            if doc is not None:
                yield doc
def _target_uri(record) -> str:
    headers = record.rec_headers
    return headers.get_header("WARC-Target-URI") or headers.get_header("uri") or ""


def _page(record, warc_name: str, source: str, stats: StepStats,
          max_payload_bytes: int) -> Document | None:
    """The page in one record, or None with the reason counted."""
    # WET conversion records and plain-text pages carry text already; the rest is HTML.
    is_text, charset = record.rec_type == "conversion", "utf-8"
    if not is_text:
        reason = _not_a_page(record)
        if reason:
            stats.drop(reason)
            return None
        content_type = (record.http_headers.get_header("Content-Type") or "").lower()
        is_text = content_type.startswith(TEXT_TYPES)
        charset = _declared_charset(content_type) or ("utf-8" if is_text else None)
    url = canonical_url(_target_uri(record))
    if url is None:
        stats.drop("bad_target_uri")
        return None
    payload = _read_payload(record, max_payload_bytes)
    if payload is None:
        stats.drop("payload_too_large")
        return None
    if not payload.strip():
        stats.drop("empty_payload")
        return None
    doc = _document(record, url, warc_name, source)
    if is_text:
        doc.text = decode_text(payload, charset)
    else:
        doc.html, doc.charset = payload, charset
    stats.keep(doc)
    return doc


def decode_text(payload: bytes, charset: str | None) -> str:
    """A plain-text page's text: its declared charset if that decodes strictly (the rule HTML pages
    follow, `corpus.charset`), else the detected one."""
    text = decode_declared(payload, charset)
    return (decode_detected(payload) if text is None else text).strip()


def _not_a_page(record) -> str | None:
    """Why a record is not a successful HTML or text response, or None if it is one."""
    if record.rec_type != "response":
        return f"not_response:{record.rec_type}"
    http = record.http_headers
    if http is None:
        return "no_http_headers"
    status = http.get_statuscode() or ""
    if not status.startswith("2"):
        return "http_redirect" if status.startswith("3") else "http_error"
    if not (http.get_header("Content-Type") or "").lower().startswith(HTML_TYPES + TEXT_TYPES):
        return "not_html"
    return None


def _read_payload(record, max_payload_bytes: int) -> bytes | None:
    """The record's payload, de-chunked and decoded per its `Content-Encoding`; None if it is
    larger than `max_payload_bytes` (compressed or not)."""
    from warcio.bufferedreaders import ChunkedDataReader

    http = record.http_headers
    body_stream = record.raw_stream
    encodings: list[str] = []
    if http is not None:
        if "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
            body_stream = ChunkedDataReader(record.raw_stream)
        encodings = [e.strip() for e in (http.get_header("Content-Encoding") or "").lower().split(",")]
    body = body_stream.read(max_payload_bytes + 1)
    if len(body) > max_payload_bytes:
        return None
    # warcio stops silently at the end of a cut gzip member or at broken chunking; what
    # Content-Length promised but never arrived is the only sign.
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise IncompleteRecord(f"{record.raw_stream.limit} bytes missing")
    for encoding in reversed(encodings):  # "gzip, br": br was applied last, so undone first
        if encoding not in ("", "identity"):
            body = _decode_body(body, encoding, max_payload_bytes)
            if len(body) > max_payload_bytes:
                return None
    return body


def _decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """`body` with one content coding undone, at most `limit + 1` bytes of it (a small compressed
    body can inflate to gigabytes). Raises `UndecodableBody`.

    A body that does not decode but is text already is kept as it is: some archivers store the
    decoded body and keep the server's `Content-Encoding` header.
    """
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            # 47: a gzip or zlib header, detected; -15: the raw deflate some servers send.
            wbits = 47 if body[:2] == b"\x1f\x8b" or encoding != "deflate" else 15
            try:
                return zlib.decompressobj(wbits).decompress(body, limit + 1)
            except zlib.error:
                if encoding != "deflate":
                    raise
                return zlib.decompressobj(-15).decompress(body, limit + 1)
        if encoding == "br":
            return _unbrotli(body, limit)
        if encoding == "zstd":
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body), read_across_frames=True) as r:
                return _read_up_to(r, limit + 1)
    except Exception as err:  # each decoder raises its own error type for bad input
        if _is_text(body):
            return body
        raise UndecodableBody("bad_content_encoding", f"{encoding}: {_first_line(err)}") from err
    raise UndecodableBody("unsupported_content_encoding", f"Content-Encoding {encoding!r}")


def _unbrotli(body: bytes, limit: int) -> bytes:
    """Brotli, decoded with the `brotli` package's own API (warcio's call does not match brotli 1.2)."""
    try:
        import brotli
    except ImportError as err:
        raise UndecodableBody("unsupported_content_encoding", "br needs the brotli package") from err
    decoder = brotli.Decompressor()
    try:
        out = decoder.process(body, output_buffer_limit=limit + 1)
    except TypeError:  # brotli < 1.2: no output limit
        out = decoder.process(body)
    if not out and not decoder.is_finished():
        raise ValueError("brotli stream cut short")
    return out  # a cut stream gives what it holds, as a cut gzip body does


def _read_up_to(stream: IO[bytes], n: int) -> bytes:
    parts, got = [], 0
    while got < n and (data := stream.read(n - got)):
        parts.append(data)
        got += len(data)
    return b"".join(parts)


_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])


def _is_text(body: bytes) -> bool:
    """Whether `body` reads as text in an ASCII-compatible charset: compressed bytes are ~10%
    control bytes, text of any such charset (UTF-8, EUC-JP, Latin-1, ...) next to none."""
    head = body[:1024]
    if not head.strip():
        return False
    return len(head) - len(head.translate(None, _CONTROL_BYTES)) <= len(head) // 100


def _document(record, url: str, warc_name: str, source: str) -> Document:
    headers = record.rec_headers
    record_id = headers.get_header("WARC-Record-ID") or ""
    return Document(
        id=document_id(source, url), url=url, source=source, domain=registered_domain(url),
        warc_file=warc_name, warc_record_id=record_id,
        fetch_time=_warc_date(headers.get_header("WARC-Date") or headers.get_header("archive-date")))
