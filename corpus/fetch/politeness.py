"""Hands out URLs so that every host is visited politely, without idling the other workers.

A worker asks for the next URL; it gets one whose host has fewer than `per_host` requests in
flight and whose last request started at least the host's delay ago. Until a host's robots.txt
is known (`mark_known`), it gets one request at a time: its Crawl-delay may ask for less. A bounded window of
upcoming URLs is kept, grouped by host, so a busy host never blocks the queue for the others.

Every request holds a `Turn` of its host, not only a link's first one: a redirect to another
host (or another request to the same one) waits for that host's turn with `acquire`, ahead of
the links queued for it, so a link shortener or a site's `http` -> `https` hop cannot crowd a host.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


@dataclass(eq=False)
class Turn:
    """One request's hold on its host, from `get` or `acquire` until `release`."""

    url: str
    host: str
    earlier: float  # the host's next start before this turn took it
    ours: float     # the next start this turn set


class HostQueue:
    """The politeness scheduler: `await get()` a link's turn, `await acquire(url)` a redirect's,
    `release(turn)` when its request is done."""

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
        self._waiting: Counter[str] = Counter()  # redirects waiting for a host: they go first
        self._next_start: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}
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

    def _limit(self, host: str) -> int:
        return self.per_host if not self.probe_first or host in self._known else 1

    def _take(self, url: str, host: str, now: float) -> Turn:
        """Start a request to `host` now: count it in flight and push the host's next start."""
        earlier = self._next_start.get(host, 0.0)
        self._active[host] += 1
        self._next_start[host] = now + self._host_delay.get(host, self.delay)
        return Turn(url, host, earlier, self._next_start[host])

    def _take_ready(self) -> tuple[Turn | None, float | None]:
        """A queued URL whose host may be visited now, or None and the time the next host is ready."""
        now = self.clock()
        wake: float | None = None
        for host, urls in self._pending.items():
            if self._waiting[host] or self._active[host] >= self._limit(host):
                continue
            ready_at = self._next_start.get(host, 0.0)
            if ready_at > now:
                wake = ready_at if wake is None else min(wake, ready_at)
                continue
            url = urls.popleft()
            if not urls:
                del self._pending[host]
            self._n_pending -= 1
            return self._take(url, host, now), None
        return None, wake

    async def _wait_change(self, wake: float | None) -> None:
        self._changed.clear()
        timeout = None if wake is None else max(0.0, wake - self.clock())
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def get(self) -> Turn | None:
        """The next queued URL's turn, waiting for a host to become free; None when all are handed out."""
        while True:
            self._refill()
            if not self._pending and self._exhausted:
                return None
            turn, wake = self._take_ready()
            if turn is not None:
                return turn
            await self._wait_change(wake)

    async def acquire(self, url: str) -> Turn:
        """A turn for `url`'s host (a redirect target), under the same limit and delay as a queued URL.

        Waiting redirects go before the queued URLs of their host: the link they belong to has
        already waited its turn once.
        """
        host = self.key(url)
        self._waiting[host] += 1
        try:
            while True:
                now = self.clock()
                wake: float | None = None
                if self._active[host] < self._limit(host):
                    wake = self._next_start.get(host, 0.0)
                    if wake <= now:
                        return self._take(url, host, now)
                await self._wait_change(wake)
        finally:
            self._waiting[host] -= 1
            if self._waiting[host] <= 0:
                del self._waiting[host]
            self._changed.set()  # the host's queued URLs may go again

    def release(self, turn: Turn, sent_request: bool = True) -> None:
        """The request of `turn` is over: its host may take another.

        A URL refused before any request (robots.txt, a refused address) gives its turn back:
        the host's next start is what it was before, unless another URL has taken a turn since.
        """
        host = turn.host
        if not sent_request and self._next_start.get(host) == turn.ours:
            self._next_start[host] = turn.earlier
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
                     if t <= now and h not in self._pending and h not in self._active and h not in self._waiting]:
            del self._next_start[host]
            self._known.discard(host)
