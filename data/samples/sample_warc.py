"""Deterministic WARC writing on top of warcio, plus the HTTP header helpers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import uuid
import zlib
from typing import Iterable
from urllib.parse import urlsplit

import sample_html as H
from sample_common import rng_for
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


class _CCStyleWriter(WARCWriter):
    """Common Crawl writes no digests on request and metadata records; neither do we (it also
    keeps the shipped files smaller)."""

    def ensure_digest(self, record, block=True, payload=True):  # type: ignore[no-untyped-def]
        if record.rec_type in ("request", "metadata"):
            return
        super().ensure_digest(record, block, payload)


class DeterministicWarc:
    """warcio WARCWriter wrapper with reproducible record ids and dates.

    warcio would otherwise stamp records with uuid4 ids and the current time. gzip members are
    written by warcio with zlib (mtime 0), one member per record, as in Common Crawl files.
    """

    def __init__(self, name: str) -> None:
        self.buf = io.BytesIO()
        self.writer = _CCStyleWriter(self.buf, gzip=True, warc_version="1.1")
        self.id_rng = rng_for("warc-ids", name)
        self.name = name
        self.warcinfo_id: str | None = None
        self.counts: dict[str, int] = {}

    def new_id(self) -> str:
        return f"<urn:uuid:{uuid.UUID(int=self.id_rng.getrandbits(128), version=4)}>"

    def _write(self, record_type: str, uri: str, headers: dict[str, str], payload: bytes,
               http_headers: StatusAndHeaders | None = None, content_type: str | None = None) -> str:
        rec_id = headers.setdefault("WARC-Record-ID", self.new_id())
        if self.warcinfo_id and record_type != "warcinfo":
            headers.setdefault("WARC-Warcinfo-ID", self.warcinfo_id)
        record = self.writer.create_warc_record(
            uri, record_type, payload=io.BytesIO(payload), length=len(payload),
            warc_headers_dict=headers, http_headers=http_headers, warc_content_type=content_type or "")
        self.writer.write_record(record)
        self.counts[record_type] = self.counts.get(record_type, 0) + 1
        return rec_id

    def warcinfo(self, date: dt.datetime, fields: dict[str, str], filename: str) -> str:
        body = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        self.warcinfo_id = self._write("warcinfo", "", {"WARC-Date": warc_date(date), "WARC-Filename": filename},
                                       body, content_type="application/warc-fields")
        return self.warcinfo_id

    def request(self, url: str, date: dt.datetime, ip: str, user_agent: str,
                extra: Iterable[tuple[str, str]] = ()) -> str:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("User-Agent", user_agent),
                   ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                   ("Accept-Language", "en-US,en;q=0.5"), ("Accept-Encoding", "br,gzip"),
                   ("Host", parts.netloc), ("Connection", "Keep-Alive"), *extra]
        http = StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)
        return self._write("request", url, {"WARC-Date": warc_date(date), "WARC-IP-Address": ip}, b"", http)

    def response(self, url: str, date: dt.datetime, ip: str, status: str, http_headers: list[tuple[str, str]],
                 body: bytes, concurrent_to: str | None = None, extra: dict[str, str] | None = None) -> str:
        http = StatusAndHeaders(status, http_headers, protocol="HTTP/1.1")
        headers = {"WARC-Date": warc_date(date), "WARC-IP-Address": ip}
        if concurrent_to:
            headers["WARC-Concurrent-To"] = concurrent_to
        headers.update(extra or {})
        return self._write("response", url, headers, body, http)

    def metadata(self, url: str, date: dt.datetime, concurrent_to: str, fields: dict[str, str]) -> str:
        body = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8") + b"\r\n"
        return self._write("metadata", url, {"WARC-Date": warc_date(date), "WARC-Concurrent-To": concurrent_to},
                           body, content_type="application/warc-fields")

    def revisit(self, url: str, date: dt.datetime, ip: str, refers_to: str, refers_to_date: str,
                refers_to_uri: str, digest: str, http_headers: list[tuple[str, str]], status: str) -> str:
        record = self.writer.create_revisit_record(
            url, digest, refers_to_uri, refers_to_date,
            http_headers=StatusAndHeaders(status, http_headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Record-ID": self.new_id(), "WARC-Date": warc_date(date),
                               "WARC-IP-Address": ip, "WARC-Refers-To": refers_to,
                               **({"WARC-Warcinfo-ID": self.warcinfo_id} if self.warcinfo_id else {})})
        self.writer.write_record(record)
        self.counts["revisit"] = self.counts.get("revisit", 0) + 1
        return record.rec_headers.get_header("WARC-Record-ID")

    def raw_member(self, data: bytes) -> None:
        """Append bytes as one gzip member (used for the deliberately malformed records)."""
        self.buf.write(gzip_member(data))

    def getvalue(self) -> bytes:
        return self.buf.getvalue()


def gzip_member(data: bytes) -> bytes:
    # Same settings as warcio's GzippingWrapper: level 9, gzip header with mtime 0.
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return comp.compress(data) + comp.flush()


def warc_date(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest value warcio writes (base32 SHA-1), for revisit records."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def html_headers(body: bytes, when: dt.datetime, server: str, content_type: str = "text/html; charset=utf-8",
                 extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    return [("Date", H.http_date(when)), ("Server", server), ("Content-Type", content_type),
            ("Content-Length", str(len(body))), *extra, ("Connection", "close")]
