"""Reading web pages out of WARC, WET and ARC files with warcio, tolerant of broken archives.

What a broken file costs: the bad record only. For files compressed record by record (what crawlers
write), reading resumes at the next gzip member after a bad one; for a whole-file gzip or an
uncompressed file, at the next `WARC/` header line. A truncated download ends the file with every
complete record before the cut kept.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from corpus.readers.inputs import open_input, parse_range
from corpus.records import Document, document_id
from corpus.steps import StepStats
from corpus.urls import canonical_url, registered_domain

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)  # kept as they are: the fetcher archives plain-text pages too
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/"
_SCAN_CHUNK = 1 << 20


class IncompleteRecord(Exception):
    """A record whose payload is shorter than its Content-Length: a cut file or broken chunking."""


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


def _next_record_start(stream: IO[bytes], magic: bytes, start: int) -> int | None:
    """Offset of the next plausible record at or after `start`: a gzip member that inflates to a
    `WARC/` header (the magic bytes alone also occur inside compressed data), or a `WARC/` line."""
    pos = start
    while (cand := _find(stream, magic, pos)) is not None:
        if magic != _GZIP_MAGIC:
            return cand
        stream.seek(cand)
        try:
            head = zlib.decompressobj(31).decompress(stream.read(1 << 12), 16)
        except zlib.error:
            head = b""
        if head.startswith(_WARC_MAGIC):
            return cand
        pos = cand + 1
    return None


def _find(stream: IO[bytes], magic: bytes, start: int) -> int | None:
    """Offset of the next `magic` at or after `start` in a seekable stream, or None."""
    pos = start
    while True:
        stream.seek(pos)
        chunk = stream.read(_SCAN_CHUNK + len(magic))
        if len(chunk) < len(magic):
            return None
        i = chunk.find(magic)
        if i >= 0:
            return pos + i
        pos += _SCAN_CHUNK


def _bytes_left(stream: IO[bytes], offset: int) -> bool:
    """Whether anything but whitespace follows `offset` in a seekable stream."""
    stream.seek(offset)
    while chunk := stream.read(1 << 16):
        if chunk.strip():
            return True
    return False


def iter_records(stream: IO[bytes], name: str, stats: StepStats,
                 begin: int = 0, end: int | None = None) -> Iterator:
    """Every record warcio can parse, resynchronising after broken ones (seekable streams only).

    Each failure is counted once in `stats` (as a record in, and dropped) under its reason.
    With `begin`/`end`, only the records that start in [begin, end) are read: byte ranges of one
    file then split its records between workers with no overlap and no gap.
    """
    from warcio.archiveiterator import ArchiveIterator

    seekable = stream.seekable()
    magic = _GZIP_MAGIC
    if seekable:
        magic = _GZIP_MAGIC if stream.read(3) == _GZIP_MAGIC else _WARC_MAGIC
    start = 0
    if begin > 0:
        found = _next_record_start(stream, magic, begin) if seekable and magic == _GZIP_MAGIC else None
        if found is None:
            return
        start = found
    while end is None or start < end:
        if seekable:
            stream.seek(start)
        it = ArchiveIterator(stream, check_digests=False)
        offset, n_yielded = start, 0
        try:
            for record in it:
                if end is not None and offset >= end:  # the next range's first record
                    return
                if record.rec_type is None:  # warcio's reading of bytes that are no record header
                    raise ValueError("record without a type")
                n_yielded += 1
                yield record
                # Known once the record has been read to its end, i.e. after the consumer: where
                # the next record starts, which is where a failure must have happened.
                offset = it.get_record_offset() + it.get_record_length()  # absolute: warcio uses tell()
            if not seekable or not _bytes_left(stream, offset):
                return
            # warcio sometimes just stops at bytes it cannot decompress: not the end of the file.
            detail = f"unreadable bytes at {offset}"
        except Exception as err:  # warcio and gzip raise many types for broken input
            if "non-chunked gzip" in str(err) and seekable:
                yield from _whole_file_gzip(stream, name, stats, skip=n_yielded if start == 0 else 0)
                return
            detail = (str(err).strip().splitlines() or [repr(err)])[0]
        stats.n_in += 1
        stats.drop("malformed_record")
        nxt = _next_record_start(stream, magic, offset + 1) if seekable else None  # past the bad start
        log.warning("%s: malformed record (%s); %s", name, detail,
                    f"resuming at byte {nxt}" if nxt is not None else "stopping this file")
        if nxt is None:
            return
        start = nxt


def _whole_file_gzip(stream: IO[bytes], name: str, stats: StepStats, skip: int) -> Iterator:
    """A WARC gzipped as one member: decompress it as a whole, skipping records already read."""
    from warcio.archiveiterator import ArchiveIterator

    log.info("%s is gzipped as a whole file, not per record: reading it sequentially", name)
    stream.seek(0)
    with gzip.GzipFile(fileobj=stream) as unzipped:
        try:
            for i, record in enumerate(ArchiveIterator(unzipped, check_digests=False)):
                if i >= skip:
                    yield record
        except Exception as err:  # no resync inside one gzip stream
            log.warning("%s: malformed record, stopping this file: %s", name, err)
            stats.n_in += 1
            stats.drop("malformed_record")


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
            except Exception as err:  # a payload that fails to decompress, ...
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


def decode_text(payload: bytes, charset: str) -> str:
    try:
        return payload.decode(charset, errors="replace").strip()
    except LookupError:  # a charset name Python does not know
        return payload.decode("utf-8", errors="replace").strip()


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
    payload = record.content_stream().read(max_payload_bytes + 1)
    if len(payload) > max_payload_bytes:
        return None
    # warcio stops silently at the end of a cut gzip member or at broken chunking; what
    # Content-Length promised but never arrived is the only sign.
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise IncompleteRecord(f"{record.raw_stream.limit} bytes missing")
    return payload


def _document(record, url: str, warc_name: str, source: str) -> Document:
    headers = record.rec_headers
    record_id = headers.get_header("WARC-Record-ID") or ""
    return Document(
        id=document_id(source, url), url=url, source=source, domain=registered_domain(url),
        warc_file=warc_name, warc_record_id=record_id,
        fetch_time=_warc_date(headers.get_header("WARC-Date") or headers.get_header("archive-date")))
