"""Where inputs come from: local paths and globs, http(s) URLs, s3://, and Common Crawl path listings."""

from __future__ import annotations

import glob
import gzip
import http.client
import io
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from corpus.retry import BackoffPolicy, GaveUp, Retry, retry_call

log = logging.getLogger(__name__)

COMMONCRAWL_BASE_URL = "https://data.commoncrawl.org/"
USER_AGENT = "webtext/0.1 (+https://github.com/webtext/webtext)"
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


def expand_inputs(patterns: Iterable[str], base_url: str = COMMONCRAWL_BASE_URL) -> list[str]:
    """Paths, globs, URLs and path listings to a de-duplicated list of inputs, in a stable order.

    A local pattern that matches nothing is an error: a typo must not give an empty run.
    """
    out: list[str] = []
    for pattern in patterns:
        pattern = str(pattern)
        if _is_listing(pattern):
            out.extend(read_listing(pattern, base_url))
        elif is_remote(pattern):
            out.append(pattern)
        else:
            matched = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
            if not matched or not all(Path(p).exists() for p in matched):
                raise FileNotFoundError(f"no input matches {pattern!r}")
            out.extend(matched)
    return list(dict.fromkeys(out))


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
