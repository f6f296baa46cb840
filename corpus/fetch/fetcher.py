"""Fetching one page: the SSRF guard, robots.txt, redirects followed by hand, retries, limits.

The link is requested as given, only made safe to send (`corpus.urls.request_url`), never in its
canonical form: the server decides what its URL means. Redirects are not left to aiohttp: each hop
is checked like the first URL (address, scheme, robots.txt of its host) and waits for its host's
turn (per-host limit and delay) before any request is sent to it. Bodies are streamed and cut off
at the cap, and the content type is checked before the body is read at all.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urldefrag, urljoin, urlsplit

import aiohttp
from yarl import URL

from corpus.fetch.config import FetchConfig
from corpus.fetch.failures import Failure
from corpus.fetch.politeness import HostQueue, Turn
from corpus.fetch.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache
from corpus.fetch.safety import AddressPolicy, literal_refusal, private_address_error
from corpus.retry import BackoffPolicy, GaveUp, Retry, retry_call_async
from corpus.urls import request_url

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Statuses worth asking again after a pause: rate limited, timed out, or the server in trouble.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 section 2.3.1.2
# Transfer framing that aiohttp has already undone: the WARC holds the de-chunked entity.
_FRAMING_HEADERS = frozenset({"transfer-encoding", "content-length"})


@dataclass
class Exchange:
    """One HTTP request and its response, with what a WARC needs to record them."""

    url: str
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    request_line: str
    request_headers: list[tuple[str, str]]
    body: bytes
    ip: str | None
    date: datetime
    attempts: int = 1

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def archived_headers(self) -> list[tuple[str, str]]:
        """Response headers as stored: framing replaced by the length of the stored body."""
        kept = [(k, v) for k, v in self.headers if k.lower() not in _FRAMING_HEADERS]
        return kept + [("Content-Length", str(len(self.body)))]


@dataclass
class Page:
    """A fetched page: the link it was fetched for, the final exchange and the hops before it."""

    url: str
    exchange: Exchange
    redirects: list[str] = field(default_factory=list)
    attempts: int = 1

    @property
    def final_url(self) -> str:
        return self.exchange.url


def status_reason(status: int) -> str:
    """The failure reason of an HTTP status that ends a fetch."""
    if status == 429:
        return "http_429"
    if status == 408:
        return "timeout"
    if 400 <= status < 500:
        return "http_4xx"
    if 500 <= status < 600:
        return "http_5xx"
    return "http_other"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def redirect_target(url: str, location: str) -> str | None:
    """Where a Location header leads from `url`, made safe to send; None if it cannot be read.

    Header values arrive as latin-1 text; servers that put non-ASCII in a Location mean UTF-8
    (as browsers read it), so the bytes are decoded as UTF-8 when they are valid UTF-8.
    """
    try:
        location = location.strip().encode("latin-1").decode("utf-8")
    except UnicodeError:
        location = location.strip()
    try:
        return request_url(urldefrag(urljoin(url, location))[0])
    except ValueError:
        return None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _peer_ip(resp: aiohttp.ClientResponse) -> str | None:
    """The address the response came from (WARC-IP-Address).

    aiohttp releases the connection as soon as a small body has arrived with the headers, so
    `resp.connection` is often None already; the response keeps its protocol (a private
    attribute, hence the care), whose transport still knows the peer.
    """
    conn = resp.connection
    protocol = conn.protocol if conn is not None else getattr(resp, "_protocol", None)
    transport = getattr(protocol, "transport", None)
    peer = transport.get_extra_info("peername") if transport is not None else None
    return peer[0] if peer else None


async def _read_capped(resp: aiohttp.ClientResponse, cap: int, truncate: bool) -> bytes | None:
    """The body, streamed; past `cap` bytes None (or the first `cap` bytes if `truncate`)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > cap:
            if not truncate:
                return None
            chunks.append(chunk[: len(chunk) - (size - cap)])
            break
        chunks.append(chunk)
    return b"".join(chunks)


# Decides from the status and headers whether to read the body: a Failure stops the exchange.
Acceptor = Callable[[str, aiohttp.ClientResponse], Failure | None]


class PageFetcher:
    """Fetches pages over one aiohttp session, under the SSRF guard, robots.txt and, when `hosts`
    is given, the per-host politeness of every request."""

    def __init__(self, session: aiohttp.ClientSession, config: FetchConfig, policy: AddressPolicy,
                 on_robots_rules: Callable[[str, float | None], None] | None = None,
                 sleep: Callable[[float], Awaitable[object]] | None = None,
                 hosts: HostQueue | None = None) -> None:
        self.session = session
        self.config = config
        self.policy = policy
        self.sleep = sleep  # waits between retries; None: asyncio.sleep
        self.hosts = hosts  # None: no per-host limits (a single fetch, a test)
        self.robots = (RobotsCache(self.fetch_robots, config.user_agent, on_robots_rules)
                       if config.respect_robots else None)

    # --- one URL, one request -------------------------------------------------------------

    def _precheck(self, url: str) -> Failure | None:
        """Refuse what must not be requested at all: other schemes, refused IP literals."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as err:
            return Failure(url, "bad_url", detail=str(err))
        if parts.scheme not in ("http", "https"):
            return Failure(url, "unsupported_scheme", detail=parts.scheme)
        if not host:
            return Failure(url, "bad_url", detail="no host")
        refusal = literal_refusal(host, self.policy)
        if refusal:
            return Failure(url, "private_address", detail=refusal)
        return None

    async def _attempt(self, url: str, accept: Acceptor | None, max_body: int,
                       truncate: bool) -> Exchange | Failure | Retry:
        started = datetime.now(timezone.utc)  # WARC-Date: when the capture began
        try:
            async with asyncio.timeout(self.config.total_timeout):
                # encoded=True: sent exactly as recorded, with no second round of quoting.
                async with self.session.get(URL(url, encoded=True), allow_redirects=False) as resp:
                    ip = _peer_ip(resp)  # now: the connection is released once the body is read
                    if resp.status in RETRY_STATUSES:
                        failure = Failure(url, status_reason(resp.status), resp.status)
                        return Retry(failure, retry_after_seconds(resp.headers.get("Retry-After")))
                    body = b""
                    if 200 <= resp.status < 300:
                        refused = accept(url, resp) if accept else None
                        if refused is not None:
                            return refused
                        if resp.content_length is not None and resp.content_length > max_body and not truncate:
                            return Failure(url, "body_too_large", resp.status,
                                           f"Content-Length {resp.content_length} > {max_body}")
                        read = await _read_capped(resp, max_body, truncate)
                        if read is None:
                            return Failure(url, "body_too_large", resp.status, f"more than {max_body} bytes")
                        body = read
                    info = resp.request_info
                    return Exchange(
                        url=url, status=resp.status, reason=resp.reason or "",
                        http_version=f"HTTP/{resp.version.major}.{resp.version.minor}" if resp.version else "HTTP/1.1",
                        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers],
                        request_line=f"{info.method} {info.url.raw_path_qs or '/'} HTTP/1.1",
                        request_headers=list(info.headers.items()),
                        body=body, ip=ip, date=started,
                    )
        except TimeoutError as err:  # includes aiohttp's connect and read timeouts
            return Retry(Failure(url, "timeout", detail=type(err).__name__))
        except aiohttp.ClientConnectorDNSError as err:
            refused = private_address_error(err)
            if refused is not None:
                return Failure(url, "private_address", detail=str(refused))
            return Retry(Failure(url, "dns_error", detail=str(err.os_error)))
        except (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError) as err:
            return Failure(url, "tls_error", detail=str(err))
        except aiohttp.InvalidURL as err:
            return Failure(url, "bad_url", detail=str(err))
        except (aiohttp.ClientError, OSError) as err:  # refused, reset, closed mid-body, bad framing
            return Retry(Failure(url, "connection_error", detail=f"{type(err).__name__}: {err}"))

    async def exchange(self, url: str, accept: Acceptor | None = None, max_body: int | None = None,
                       truncate: bool = False) -> Exchange | Failure:
        """One request with retries: 429 (honouring Retry-After), 5xx, timeouts, connection errors.

        Up to `max_retries + 1` attempts, retry n waiting the server's Retry-After or else
        `backoff_base * 2**n` seconds; a wait over `max_retry_after` gives up at once (`corpus.retry`).
        """
        cfg = self.config
        max_body = cfg.max_body_bytes if max_body is None else max_body
        backoff = BackoffPolicy(cfg.max_retries, cfg.backoff_base, cfg.max_retry_after, long_wait="give_up")

        async def attempt(number: int) -> Exchange | Failure | Retry:
            result = await self._attempt(url, accept, max_body, truncate)
            (result.reason if isinstance(result, Retry) else result).attempts = number
            return result

        try:
            return await retry_call_async(attempt, backoff, sleep=self.sleep, on_retry=_log_retry)
        except GaveUp as gave_up:
            failure: Failure = gave_up.reason
            if gave_up.refused_wait is not None:
                asked = "Retry-After" if gave_up.last.wait is not None else "backoff"
                failure.detail = f"{asked} {gave_up.refused_wait:.0f}s is longer than {cfg.max_retry_after:.0f}s"
            return failure

    # --- robots.txt -------------------------------------------------------------------------

    async def fetch_robots(self, robots_url: str) -> RobotsAnswer:
        """A host's robots.txt, following up to 5 redirects, each checked by the guard."""
        url = robots_url
        for _ in range(ROBOTS_MAX_REDIRECTS + 1):
            failure = self._precheck(url)
            if failure is None:
                result = await self.exchange(url, max_body=ROBOTS_MAX_BYTES, truncate=True)
                failure = result if isinstance(result, Failure) else None
            if failure is not None:
                if failure.reason == "private_address":
                    return RobotsAnswer(failure="private_address", detail=failure.detail)
                if failure.reason == "http_4xx":
                    return RobotsAnswer(status=failure.status)
                return RobotsAnswer(failure="robots_unavailable", detail=f"{failure.reason} {failure.detail}".strip())
            location = result.header("Location")
            if result.status in REDIRECT_STATUSES and location:
                target = redirect_target(url, location)
                if target is None:
                    return RobotsAnswer(status=404)  # an unreadable redirect: as if there were no file
                url = target
                continue
            return RobotsAnswer(status=result.status, body=result.body)
        return RobotsAnswer(status=404)  # too many redirects: RFC 9309 treats it as unavailable

    # --- a page -----------------------------------------------------------------------------

    def _accept_page(self, url: str, resp: aiohttp.ClientResponse) -> Failure | None:
        kind = media_type(resp.headers.get("Content-Type"))
        if kind not in self.config.content_types:
            return Failure(url, "bad_content_type", resp.status, kind or "no Content-Type")
        return None

    async def fetch(self, link_url: str, turn: Turn | None = None) -> Page | Failure:
        """Fetch a link: a `Page`, or a `Failure` whose reason says why not.

        `turn` is the link's host turn from the politeness queue (taken here if None); it is
        released here, and every redirect hop waits for the turn of the host it goes to.
        """
        hops: list[str] = []
        attempts = 0
        url = request_url(link_url)
        if url is None:
            if turn is not None and self.hosts is not None:
                self.hosts.release(turn, sent_request=False)
            return _for_link(Failure(link_url, "bad_url", detail="cannot be parsed"), link_url, link_url, 0)
        sent = False  # whether this turn sent a request to its host (robots.txt or the page)
        try:
            for hop in range(self.config.max_redirects + 1):
                if self.hosts is not None and (turn is None or hop > 0):
                    if turn is not None:
                        self.hosts.release(turn, sent)
                        turn = None
                    turn = await self.hosts.acquire(url)
                    sent = False
                result = self._precheck(url)
                if result is None and self.robots is not None:
                    asks_robots = not self.robots.known(url)
                    verdict = await self.robots.check(url)
                    sent = sent or (asks_robots and verdict.reason != "private_address")
                    if not verdict.allowed:
                        result = Failure(url, verdict.reason or "robots_disallowed", detail=verdict.detail)
                if result is None:
                    sent = True
                    result = await self.exchange(url, accept=self._accept_page)
                    attempts += result.attempts
                if isinstance(result, Failure):
                    return _for_link(result, link_url, url, attempts)
                if result.status in REDIRECT_STATUSES:
                    location = result.header("Location")
                    if not location:
                        return _for_link(Failure(url, "bad_redirect", result.status, "no Location"),
                                         link_url, url, attempts)
                    target = redirect_target(url, location)
                    if target is None:
                        return _for_link(Failure(url, "bad_redirect", result.status, location[:200]),
                                         link_url, url, attempts)
                    if target == url or target in hops:
                        return _for_link(Failure(url, "redirect_loop", result.status, target), link_url, url, attempts)
                    hops.append(url)
                    url = target
                    continue
                if 200 <= result.status < 300:
                    return Page(link_url, result, hops, max(attempts, 1))
                return _for_link(Failure(url, status_reason(result.status), result.status), link_url, url, attempts)
            return _for_link(Failure(url, "too_many_redirects", detail=f"more than {self.config.max_redirects}"),
                             link_url, url, attempts)
        finally:
            if turn is not None and self.hosts is not None:
                self.hosts.release(turn, sent)


def _log_retry(failed: Retry, wait: float, attempt: int) -> None:
    failure: Failure = failed.reason
    log.debug("%s: %s%s; retrying in %.1fs (attempt %d)", failure.url, failure.reason,
              f" ({failure.detail})" if failure.detail else "", wait, attempt)


def _for_link(failure: Failure, link_url: str, url: str, attempts: int) -> Failure:
    """Report a failure under the link it was fetched for, noting where the redirects had led."""
    failure.url = link_url
    failure.final_url = url if url != link_url else None
    failure.attempts = max(attempts, failure.attempts, 1)
    return failure
