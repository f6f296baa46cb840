"""Fetched pages into WARC/1.1 files: a request and a response record per page, rotated by size.

A file is written as `NAME.warc.gz.tmp` and renamed to `NAME.warc.gz` when it is closed, so a
finished name always means a complete file. Each record is its own gzip member and the file is
flushed after every page, which is what lets `recover_warc` turn the `.tmp` file of a killed run
into a finished one holding every page the fetch log had recorded.

Why not `corpus.writers.atomic`'s temporary names: those belong to one process and a crash makes
them litter; this one is found again by the next run (a fixed name, no pid) and finished from the
fetch log, because a WARC holds pages that cost minutes of polite fetching to get again. The final
rename goes through the same `commit`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from corpus.fetch.fetcher import Page
from corpus.writers.atomic import commit

log = logging.getLogger(__name__)

WARC_SUFFIX = ".warc.gz"
TMP_SUFFIX = ".tmp"  # a partial WARC a later run resumes: see the module docstring


@dataclass(frozen=True)
class WarcLocation:
    """Where a page's records lie: the finished file name and the byte range of the pair."""

    warc: str
    offset: int
    end: int


def _warc_date(page_date) -> str:
    return page_date.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _next_index(out_dir: Path, prefix: str) -> int:
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+){re.escape(WARC_SUFFIX)}(?:{re.escape(TMP_SUFFIX)})?$")
    used = [int(m.group(1)) for p in out_dir.iterdir() if (m := pattern.match(p.name))]
    return max(used, default=-1) + 1


class RotatingWarcWriter:
    """Appends pages to `<prefix>-NNNNN.warc.gz`, starting a new file past `max_bytes`.

    Use as a context manager: leaving it (normally or by an exception) finishes the open file.
    """

    def __init__(self, out_dir: Path | str, prefix: str = "webtext", max_bytes: int = 128 << 20,
                 info: dict[str, Any] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.info = info or {}
        self.finished: list[Path] = []
        self._file: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        self._final: Path | None = None

    def __enter__(self) -> "RotatingWarcWriter":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        name = f"{self.prefix}-{_next_index(self.out_dir, self.prefix):05d}{WARC_SUFFIX}"
        self._final = self.out_dir / name
        self._file = open(self._final.with_name(name + TMP_SUFFIX), "wb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        info = {"software": "webtext (corpus.fetch)", "format": "WARC File Format 1.1",
                "hostname": socket.gethostname(), **self.info}
        self._writer.write_record(self._writer.create_warcinfo_record(name, info))
        self._file.flush()

    def write(self, page: Page) -> WarcLocation:
        """Write the page's response and request records; they are on disk when this returns."""
        if self._file is None:
            self._open()
        assert self._file is not None and self._writer is not None and self._final is not None
        ex = page.exchange
        date = _warc_date(ex.date)
        warc_headers = {"WARC-Date": date}
        if ex.ip:
            warc_headers["WARC-IP-Address"] = ex.ip
        response = self._writer.create_warc_record(
            ex.url, "response", payload=io.BytesIO(ex.body),
            http_headers=StatusAndHeaders(f"{ex.status} {ex.reason}".strip(), ex.archived_headers(),
                                          protocol=ex.http_version),
            warc_headers_dict=dict(warc_headers))
        request = self._writer.create_warc_record(
            ex.url, "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(ex.request_line, ex.request_headers, is_http_request=True),
            warc_headers_dict=dict(warc_headers))
        offset = self._file.tell()
        self._writer.write_request_response_pair(request, response)
        self._file.flush()
        end = self._file.tell()
        location = WarcLocation(self._final.name, offset, end)
        if end >= self.max_bytes:
            self._finish()
        return location

    def _finish(self) -> None:
        if self._file is None:
            return
        self._file.close()
        assert self._final is not None
        commit(self._final.with_name(self._final.name + TMP_SUFFIX), self._final)
        self.finished.append(self._final)
        self._file = self._writer = self._final = None

    def close(self) -> None:
        """Finish the open file, if any."""
        self._finish()


def recover_warc(tmp_path: Path, complete_bytes: int) -> Path | None:
    """Finish the `.tmp` WARC of a killed run, keeping its first `complete_bytes` bytes.

    `complete_bytes` is where the last page the fetch log recorded ends; anything after it is a
    page the log never heard of and is cut. With nothing to keep, the file is removed.
    """
    final = tmp_path.with_name(tmp_path.name[: -len(TMP_SUFFIX)])
    size = tmp_path.stat().st_size
    if complete_bytes <= 0 or complete_bytes > size:
        if complete_bytes > size:
            log.warning("%s is shorter than its log says; dropping it", tmp_path.name)
        tmp_path.unlink()
        return None
    if complete_bytes < size:
        os.truncate(tmp_path, complete_bytes)
    commit(tmp_path, final)
    log.info("recovered %s (%d bytes) from an interrupted run", final.name, complete_bytes)
    return final
