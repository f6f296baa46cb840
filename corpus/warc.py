"""Reading web pages out of WARC files with warcio, tolerant of broken archives."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from corpus.records import Document, document_id
from corpus.steps import StepStats
from corpus.urls import canonical_url, registered_domain

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)


class TruncatedRecord(Exception):
    """The file ended inside a record."""


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


def _declared_charset(content_type: str) -> str | None:
    m = _CHARSET.search(content_type)
    return m.group(1).lower() if m else None


def read_warc(path: str | Path, source: str, stats: StepStats | None = None,
              max_payload_bytes: int = 10 << 20) -> Iterator[Document]:
    """Yield one document per HTML `response` record of a WARC, with its raw payload in `html`.

    Every record is counted: the ones that are not HTML pages are dropped under a named reason.
    A record that cannot be parsed ends the file: the records before it are kept, and the
    reason is counted as `malformed_record` (warcio cannot resynchronise inside a broken file).
    """
    from warcio.archiveiterator import ArchiveIterator

    stats = stats if stats is not None else StepStats("read_warc")
    name = Path(str(path)).name
    with open(path, "rb") as stream:
        records = iter(ArchiveIterator(stream, check_digests=False))
        while True:
            counted = False
            try:
                record = next(records)
                stats.n_in += 1
                counted = True
                doc = _page(record, name, source, stats, max_payload_bytes)
            except StopIteration:
                return
            except Exception as err:  # warcio and gzip raise many types for broken input
                reason = "truncated_record" if isinstance(err, TruncatedRecord) else "malformed_record"
                log.warning("%s: %s, stopping this file: %s", name, reason, err)
                stats.n_in += 0 if counted else 1
                stats.drop(reason)
                return
            if doc is not None:
                yield doc


def _page(record, warc_name: str, source: str, stats: StepStats,
          max_payload_bytes: int) -> Document | None:
    if record.rec_type is None:  # warcio's reading of bytes that are not a WARC header
        raise ValueError("record without a WARC-Type")
    if record.rec_type != "response":
        stats.drop(f"not_response:{record.rec_type}")
        return None
    http = record.http_headers
    if http is None:
        stats.drop("no_http_headers")
        return None
    status = http.get_statuscode() or ""
    if not status.startswith("2"):
        stats.drop("http_redirect" if status.startswith("3") else "http_error")
        return None
    content_type = (http.get_header("Content-Type") or "").lower()
    if not content_type.startswith(HTML_TYPES):
        stats.drop("not_html")
        return None
    target = record.rec_headers.get_header("WARC-Target-URI") or ""
    url = canonical_url(target)
    if url is None:
        stats.drop("bad_target_uri")
        return None
    payload = record.content_stream().read(max_payload_bytes + 1)
    if len(payload) > max_payload_bytes:
        stats.drop("payload_too_large")
        return None
    # warcio stops silently at the end of a cut gzip member; what Content-Length promised but
    # never arrived is the only sign of a truncated download.
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise TruncatedRecord(f"{record.raw_stream.limit} bytes missing")
    if not payload.strip():
        stats.drop("empty_payload")
        return None
    record_id = record.rec_headers.get_header("WARC-Record-ID") or ""
    stats.n_out += 1
    return Document(
        id=document_id(source, url),
        url=url,
        source=source,
        html=payload,
        charset=_declared_charset(content_type),
        domain=registered_domain(url),
        warc_file=warc_name,
        warc_record_id=record_id,
        fetch_time=_warc_date(record.rec_headers.get_header("WARC-Date")),
    )
