"""Hands out URLs so that every host is visited politely, without idling the other workers.

A worker asks for the next URL; it gets one whose host has fewer than `per_host` requests in
flight and whose last request started at least the host's delay ago. Until a host's robots.txt
is known (`mark_known`), it gets one request at a time: its Crawl-delay may ask for less. A bounded window of
upcoming URLs is kept, grouped by host, so a busy host never blocks the queue for the others.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit


def host_key(url: str) -> str:
    """The unit of politeness and of robots.txt: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def interleave_hosts(urls: Iterable[str], active_hosts: int = 4096,
                     key: Callable[[str], str] = host_key) -> Iterator[str]:
    """Reorder URLs round-robin over a rolling set of `active_hosts` hosts (stable within a host).

    Links sorted by URL put a site's pages side by side; spreading them lets the window of
    upcoming URLs hold many hosts, so the per-host limit rarely leaves workers idle. A host
    stays in the set until its last URL is out, so its robots.txt is needed only while it is
    there: the robots cache stays small however many hosts the crawl has.
    """
    by_host: dict[str, deque[str]] = {}
    for url in urls:
        by_host.setdefault(key(url), deque()).append(url)
    waiting = iter(by_host.values())
    active: deque[deque[str]] = deque()
    for queue in waiting:
        active.append(queue)
        if len(active) >= active_hosts:
            break
    while active:
        queue = active.popleft()
        yield queue.popleft()
        if queue:
            active.append(queue)
        else:
            nxt = next(waiting, None)
            if nxt is not None:
                active.append(nxt)


class HostQueue:
    """The politeness scheduler: `await get()` a URL, `release(url)` when its request is done."""

    def __init__(self, urls: Iterable[str], per_host: int, delay: float, window: int = 1024,
                 key: Callable[[str], str] = host_key, clock: Callable[[], float] = time.monotonic,
                 probe_first: bool = False) -> None:
        self.per_host = per_host
        self.delay = delay
        self.window = window
        self.key = key
        self.clock = clock
        self._source: Iterator[str] = iter(urls)
        self._exhausted = False
        self._pending: dict[str, deque[str]] = {}
        self._n_pending = 0
        self._active: Counter[str] = Counter()
        self._next_start: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}
        self._slot_start: dict[str, tuple[float, float]] = {}  # url -> (host's earlier next start, ours)
        self._changed = asyncio.Event()
        self.probe_first = probe_first
        self._known: set[str] = set()
        self._releases = 0

    def set_host_delay(self, host: str, delay: float) -> None:
        """A longer delay for one host (its robots.txt Crawl-delay), counted from now."""
        self._host_delay[host] = max(delay, self.delay)
        self._next_start[host] = max(self._next_start.get(host, 0.0), self.clock() + self._host_delay[host])

    def mark_known(self, host: str) -> None:
        """The host's robots.txt has been read: it may now take `per_host` requests at a time."""
        if host not in self._known:
            self._known.add(host)
            self._changed.set()

    def _refill(self) -> None:
        while not self._exhausted and self._n_pending < self.window:
            try:
                url = next(self._source)
            except StopIteration:
                self._exhausted = True
                break
            self._pending.setdefault(self.key(url), deque()).append(url)
            self._n_pending += 1

    def _take_ready(self) -> tuple[str | None, float | None]:
        """A URL whose host may be visited now, or None and the time the next host is ready."""
        now = self.clock()
        wake: float | None = None
        for host, urls in self._pending.items():
            limit = self.per_host if not self.probe_first or host in self._known else 1
            if self._active[host] >= limit:
                continue
            ready_at = self._next_start.get(host, 0.0)
            if ready_at > now:
                wake = ready_at if wake is None else min(wake, ready_at)
                continue
            url = urls.popleft()
            if not urls:
                del self._pending[host]
            self._n_pending -= 1
            self._active[host] += 1
            self._next_start[host] = now + self._host_delay.get(host, self.delay)
            self._slot_start[url] = (ready_at, self._next_start[host])
            return url, None
        return None, wake

    async def get(self) -> str | None:
        """The next URL to fetch, waiting for a host to become free; None when all are handed out."""
        while True:
            self._refill()
            if not self._pending and self._exhausted:
                return None
            url, wake = self._take_ready()
            if url is not None:
                return url
            self._changed.clear()
            timeout = None if wake is None else max(0.0, wake - self.clock())
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def release(self, url: str, sent_request: bool = True) -> None:
        """The request for `url` is over: its host may take another.

        A URL refused before any request (robots.txt, a refused address) gives its turn back:
        the host's next start is what it was before, unless another URL has taken a turn since.
        """
        host = self.key(url)
        earlier, ours = self._slot_start.pop(url, (None, None))
        if not sent_request and earlier is not None and self._next_start.get(host) == ours:
            self._next_start[host] = earlier
        self._active[host] -= 1
        if self._active[host] <= 0:
            del self._active[host]
        self._releases += 1
        if self._releases % 10_000 == 0:
            self._forget_idle_hosts()
        self._changed.set()

    def _forget_idle_hosts(self) -> None:
        """Drop the bookkeeping of hosts with nothing queued or running whose delay has passed.

        Such a host is as if never seen (apart from a Crawl-delay, which is kept): memory stays
        bounded by the hosts in play, not by every host of the crawl.
        """
        now = self.clock()
        for host in [h for h, t in self._next_start.items()
                     if t <= now and h not in self._pending and h not in self._active]:
            del self._next_start[host]
            self._known.discard(host)
