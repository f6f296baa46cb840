"""robots.txt, fetched once per host and cached, read with `protego` (RFC 9309 rules).

RFC 9309 matching, which `urllib.robotparser` does not do: `*` wildcards and the `$` end anchor
in paths (`Disallow: /*.pdf$`, `Disallow: /*?sessionid=`), and the longest matching rule wins
(`Allow: /private/public-page` under `Disallow: /private/`), an allow on a tie. Groups are chosen by
our product token (`webtext` in `webtext/0.1 (...)`), not by the whole User-Agent header.

- 2xx: the rules apply, and a Crawl-delay (fractional seconds too) for our group. A file larger
  than 512 KiB is read up to that point (RFC 9309 asks crawlers to parse at least 500 KiB).
- 4xx (including 401/403): no rules, everything is allowed (RFC 9309 section 2.3.1.3).
- 5xx, timeouts, connection errors: the site is treated as fully disallowed for this run
  (`robots_unavailable`, retried by the next run), as RFC 9309 section 2.3.1.4 asks.
- A refused address: the page fails as `private_address`, without any request.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from protego import Protego

from corpus.fetch.politeness import host_key

ROBOTS_MAX_BYTES = 512 << 10
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")  # RFC 9309 section 2.2.1: letters, "_" and "-"


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against: `webtext` in `webtext/0.1 (+...)`.

    Matching the whole header would let words of its comment (a contact URL's host) pick
    another crawler's group.
    """
    match = _PRODUCT_TOKEN.match(user_agent.strip())
    return match.group(0) if match else user_agent.strip()


@dataclass(frozen=True)
class RobotsAnswer:
    """What robots.txt fetching gave: a status and body, or the failure reason that stopped it."""

    status: int | None = None
    body: bytes = b""
    failure: str | None = None  # "robots_unavailable" or "private_address"
    detail: str = ""


@dataclass(frozen=True)
class RobotsVerdict:
    """Whether a URL may be fetched; `reason` names the refusal."""

    allowed: bool
    reason: str | None = None
    detail: str = ""


@dataclass
class _HostRules:
    parser: Protego | None          # None: no rules (allow all)
    refusal: RobotsVerdict | None   # set: every URL of the host is refused
    crawl_delay: float | None


def _rules_from(answer: RobotsAnswer, token: str) -> _HostRules:
    if answer.failure:
        return _HostRules(None, RobotsVerdict(False, answer.failure, answer.detail), None)
    status = answer.status or 0
    if 400 <= status < 500:
        return _HostRules(None, None, None)
    if not 200 <= status < 300:
        return _HostRules(None, RobotsVerdict(False, "robots_unavailable", f"robots.txt status {status}"), None)
    # RFC 9309 section 2.3: UTF-8; a leading byte order mark is not part of the first line.
    parser = Protego.parse(answer.body.decode("utf-8", errors="replace").removeprefix("\ufeff"))
    return _HostRules(parser, None, parser.crawl_delay(token))  # protego drops negative or NaN delays


class RobotsCache:
    """Answers "may this URL be fetched?", fetching each host's robots.txt at most once.

    `fetch(robots_url)` does the HTTP work (with the SSRF guard and redirects) and is shared by
    concurrent callers for the same host. `on_rules(host, crawl_delay)` hears when a host's
    rules are known (crawl_delay is None without a Crawl-delay line).
    The cache keeps `max_hosts` hosts, least recently used first out.
    """

    def __init__(self, fetch: Callable[[str], Awaitable[RobotsAnswer]], user_agent: str,
                 on_rules: Callable[[str, float | None], None] | None = None, max_hosts: int = 100_000) -> None:
        self.fetch = fetch
        self.user_agent = user_agent
        self.token = product_token(user_agent)
        self.on_rules = on_rules
        self.max_hosts = max_hosts
        self._hosts: OrderedDict[str, asyncio.Future[_HostRules]] = OrderedDict()

    async def _rules(self, host: str) -> _HostRules:
        future = self._hosts.get(host)
        if future is not None:
            self._hosts.move_to_end(host)
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._hosts[host] = future
        if len(self._hosts) > self.max_hosts:
            self._hosts.popitem(last=False)
        try:
            rules = _rules_from(await self.fetch(f"{host}/robots.txt"), self.token)
        except BaseException as err:  # cancelled: let the next caller try again
            self._hosts.pop(host, None)
            future.set_exception(err)
            future.exception()  # mark retrieved: waiters get it, nobody else needs to
            raise
        future.set_result(rules)
        if self.on_rules is not None:
            self.on_rules(host, rules.crawl_delay)
        return rules

    def known(self, url: str) -> bool:
        """True if the rules of `url`'s host are at hand: a check would send no request."""
        future = self._hosts.get(host_key(url))
        return future is not None and future.done() and not future.cancelled() and future.exception() is None

    async def check(self, url: str) -> RobotsVerdict:
        """May `url` be fetched by our user agent?"""
        rules = await self._rules(host_key(url))
        if rules.refusal is not None:
            return rules.refusal
        if rules.parser is not None and not rules.parser.can_fetch(url, self.token):
            return RobotsVerdict(False, "robots_disallowed")
        return RobotsVerdict(True)
