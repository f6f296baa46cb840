"""Where inputs come from: local paths and globs, http(s) URLs, s3://, and Common Crawl path listings.

A local input that is no readable file is an `InputError` (a `UserError`: one line, exit status 2).
`RewindableStream` lets the archive and dump readers go back after a broken part, on a local
file or an HTTP download alike.
"""

from __future__ import annotations

import glob
import gzip
import http.client
import io
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from corpus.errors import UserError
from corpus.retry import BackoffPolicy, GaveUp, Retry, retry_call

log = logging.getLogger(__name__)

COMMONCRAWL_BASE_URL = "https://data.commoncrawl.org/"
USER_AGENT = "webtext/0.1"  # downloads of archives (Common Crawl); the page fetcher has its own
REMOTE_SCHEMES = ("http://", "https://", "s3://")


def is_remote(path: str) -> bool:
    return str(path).startswith(REMOTE_SCHEMES)


def _is_listing(path: str) -> bool:
    return str(path).endswith(("paths.gz", ".paths"))


def read_listing(path: str, base_url: str = COMMONCRAWL_BASE_URL) -> list[str]:
    """A Common Crawl `warc.paths.gz` (or `.paths`) listing as full URLs (or paths under `base_url`)."""
    with open_input(path) as raw:
        data = raw.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    lines = [ln.strip() for ln in data.decode("utf-8").splitlines() if ln.strip()]
    base = base_url if base_url.endswith("/") else base_url + "/"
    return [ln if is_remote(ln) or Path(ln).is_absolute() else base + ln for ln in lines]


class InputError(UserError, FileNotFoundError):
    """A local input that names no readable file: a missing path, a glob that matches nothing, a
    directory, a file that cannot be read. Its message is one line; command lines show it with exit
    status 2 (a `UserError`), and code that expects a `FileNotFoundError` still catches it."""


def expand_inputs(patterns: Iterable[str], base_url: str = COMMONCRAWL_BASE_URL) -> list[str]:
    """Paths, globs, URLs and path listings to a de-duplicated list of inputs, in a stable order.

    A local input that is not a readable file raises `InputError`: a typo must not give an empty
    run, nor a traceback from deep inside a reader. Folders that a glob matches are passed over
    (`crawl/*` beside a `logs/` folder); a folder named on its own is an error.
    """
    out: list[str] = []
    for pattern in patterns:
        pattern = str(pattern)
        if is_remote(pattern):
            out.extend(read_listing(pattern, base_url) if _is_listing(pattern) else [pattern])
            continue
        if glob.has_magic(pattern):
            matched = [p for p in sorted(glob.glob(pattern)) if not Path(p).is_dir()]
            if not matched:
                raise InputError(f"no input matches {pattern!r}")
        else:
            matched = [pattern]
        for path in matched:
            _check_readable_file(path)
            out.extend(read_listing(path, base_url) if _is_listing(path) else [path])
    return list(dict.fromkeys(out))


def _check_readable_file(path: str) -> None:
    """Raise `InputError` unless `path` is a local file this process can read."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path} is a folder, not a file: name its files, e.g. {str(p / '*')!r}")
    if not p.exists():
        raise InputError(f"no such file: {path}")
    if not os.access(p, os.R_OK):
        raise InputError(f"{path} is not readable (permission denied)")


class HttpStream(io.RawIOBase):
    """A read-only stream over an HTTP(S) body that survives dropped connections.

    On a connection error mid-body it reconnects with a `Range` request from the byte it had
    reached, with exponential backoff, so a flaky link costs a retry instead of the whole file.
    Connecting makes up to `retries + 1` attempts, waiting `backoff * 2**n` seconds before retry n
    (`corpus.retry`); 5xx, 429 and network errors are retried, other HTTP errors are not.
    """

    def __init__(self, url: str, retries: int = 5, timeout: float = 60.0, backoff: float = 1.0,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.url, self.retries, self.timeout, self.backoff = url, retries, timeout, backoff
        self.sleep = time.sleep if sleep is None else sleep
        self.pos = 0
        self.size: int | None = None
        self._resp = None
        self._connect()

    def _open(self, attempt: int) -> Retry | None:
        """One request for the body from `pos` on; a `Retry` if it failed in a way worth repeating."""
        headers = {"User-Agent": USER_AGENT}
        if self.pos:
            headers["Range"] = f"bytes={self.pos}-"
        try:
            resp = urllib.request.urlopen(urllib.request.Request(self.url, headers=headers), timeout=self.timeout)
        except urllib.error.HTTPError as err:
            if err.code < 500 and err.code != 429:
                raise OSError(f"{self.url}: HTTP {err.code}") from err
            return Retry(err)
        except OSError as err:  # URLError, timeouts, refused and reset connections
            return Retry(err)
        if self.pos and resp.status != 206:
            resp.close()
            return Retry(OSError(f"server ignored the Range request (status {resp.status})"))
        self._resp = resp
        length = resp.headers.get("Content-Length")
        self.size = self.pos + int(length) if length and length.isdigit() else None
        return None

    def _connect(self) -> None:
        def log_retry(failed: Retry, wait: float, attempt: int) -> None:
            log.warning("%s: %s; retrying in %.1fs", self.url, failed.reason, wait)

        try:
            retry_call(self._open, BackoffPolicy(self.retries, self.backoff), sleep=self.sleep, on_retry=log_retry)
        except GaveUp as gave_up:
            last = gave_up.reason
            raise OSError(f"{self.url}: giving up after {gave_up.attempts} attempts: {last}") from last

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        def read(attempt: int) -> int | Retry:
            try:
                n = self._resp.readinto(buffer)
                if n == 0 and self.size is not None and self.pos < self.size and len(buffer):
                    raise ConnectionError(f"body ended at byte {self.pos} of {self.size}")
            except (OSError, TimeoutError, http.client.HTTPException) as err:
                return Retry(err)
            self.pos += n
            return n

        def resume(failed: Retry, wait: float, attempt: int) -> None:
            log.warning("%s: connection lost at byte %d (%s); resuming", self.url, self.pos, failed.reason)
            self._resp.close()
            self._connect()  # which waits with backoff between its own attempts

        # No wait of its own between reads: reconnecting is what backs off.
        try:
            return retry_call(read, BackoffPolicy(self.retries, 0.0), sleep=_no_wait, on_retry=resume)
        except GaveUp as gave_up:
            last = gave_up.reason
            raise OSError(f"{self.url}: connection keeps failing at byte {self.pos}: {last}") from last

    def close(self) -> None:
        if self._resp is not None:
            self._resp.close()
        super().close()


def _no_wait(seconds: float) -> None:
    pass


_RANGE = re.compile(r"^(.*)#bytes=(\d+)-(\d+)$")


def parse_range(path: str) -> tuple[str, int, int | None]:
    """`file#bytes=START-END` -> (file, START, END); a plain path -> (path, 0, None)."""
    m = _RANGE.match(path)
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else (path, 0, None)


def split_inputs(paths: Iterable[str], chunk_bytes: int) -> list[str]:
    """Split large local gzipped WARCs into byte ranges, so that several workers share one file
    and a restart loses at most one range. Other inputs stay whole: a remote stream cannot seek,
    and in an uncompressed file `WARC/` can occur inside a payload."""
    out: list[str] = []
    for path in paths:
        size = Path(path).stat().st_size if not is_remote(path) else 0
        if chunk_bytes <= 0 or size <= chunk_bytes or not str(path).endswith(".gz"):
            out.append(path)
            continue
        out.extend(f"{path}#bytes={lo}-{min(lo + chunk_bytes, size)}" for lo in range(0, size, chunk_bytes))
    return out


def open_input(path: str | Path) -> IO[bytes]:
    """A binary stream for a local path, an http(s) URL (streamed, retried) or an s3:// URL."""
    path = str(path)
    if path.startswith(("http://", "https://")):
        return io.BufferedReader(HttpStream(path), buffer_size=1 << 20)
    if path.startswith("s3://"):
        try:
            import fsspec

            return fsspec.open(path, "rb").open()
        except ImportError as err:
            raise OSError(f"reading {path} needs s3fs: pip install s3fs") from err
    return open(path, "rb")


RESYNC_PEEK = 1 << 16  # bytes a resync candidate is tested on


class RewindableStream:
    """Reads a binary stream forward, and can go back to re-read it after a broken part.

    Readers of damaged archives decode forward, and on a failure go back to just past where the
    broken part began to look for the next good one. A seekable stream (a local file) goes back by
    seeking; a stream that cannot seek (an HTTP download) keeps the last `keep` bytes it read, so
    going back further than that raises `OSError`. Reads are served from a window of at least
    `block` bytes, so the many short reads and small steps back of a record-by-record reader cost
    no system call.
    """

    def __init__(self, raw: IO[bytes], keep: int = 16 << 20, block: int = 1 << 20) -> None:
        self.raw, self.block = raw, block
        self.can_seek = raw.seekable()
        self.keep = block if self.can_seek else max(keep, block)
        self.pos = self._start = raw.tell() if self.can_seek else 0
        self._window = bytearray()  # the stream's bytes [_start, _start + len(_window))

    def tell(self) -> int:
        return self.pos

    def read(self, n: int) -> bytes:
        """Up to `n` bytes from the current position; fewer only at the end of the stream."""
        if n <= 0:
            return b""
        self._fill(self.pos + n)
        i = self.pos - self._start
        data = bytes(self._window[i:i + n])
        self.pos += len(data)
        return data

    def peek(self, n: int) -> bytes:
        """Up to `n` bytes from the current position, without moving past them."""
        pos = self.pos
        data = self.read(n)
        self.pos = pos
        return data

    def find(self, magic: bytes, block: int = 1 << 20) -> int | None:
        """Move to the next occurrence of `magic` at or after the current position and return its
        offset; None (at the end) if there is none."""
        while True:
            pos = self.pos
            chunk = self.peek(block + len(magic))
            if len(chunk) < len(magic):
                return None
            i = chunk.find(magic)
            if i >= 0:
                self.seek(pos + i)
                return pos + i
            self.seek(pos + len(chunk) - len(magic) + 1)

    def resync(self, start: int, magic: bytes, starts_here: Callable[[bytes], bool], what: str) -> int | None:
        """Offset of the next `magic` at or after `start` where `starts_here(the bytes from there)`
        holds, or None: where reading goes on after a broken record or frame (the magic bytes alone
        also occur inside compressed data, so each candidate is tried)."""
        try:
            self.seek(start)
        except OSError as err:  # a stream that cannot go back that far: look on from where it is
            log.warning("%s; looking for the next %s from byte %d", err, what, self.tell())
        while (cand := self.find(magic)) is not None:
            if starts_here(self.peek(RESYNC_PEEK)):
                return cand
            self.seek(cand + 1)
        return None

    def seek(self, offset: int) -> None:
        """Go to `offset`: back (by seeking, or within the kept bytes) or forward."""
        end = self._start + len(self._window)
        if self._start <= offset <= end:
            self.pos = offset
        elif self.can_seek:
            self.raw.seek(offset)
            self._start = self.pos = offset
            self._window.clear()
        elif offset < self._start:
            raise OSError(f"cannot go back to byte {offset}: only bytes from {self._start} on are kept")
        else:  # forward on a stream that cannot seek: read up to it
            self.pos = end
            while self.pos < offset and self.read(min(offset - self.pos, self.block)):
                pass

    def _fill(self, upto: int) -> None:
        """Read until the window reaches byte `upto` (or the end), dropping what is no longer kept."""
        end = self._start + len(self._window)
        while end < upto:
            more = self.raw.read(max(self.block, upto - end))
            if not more:
                break
            self._window += more
            end += len(more)
        # Drop bytes before pos beyond the kept amount (bytearray drops its front cheaply).
        excess = min(self.pos - self._start, len(self._window) - self.keep - self.block)
        if excess > 0:
            del self._window[:excess]
            self._start += excess
