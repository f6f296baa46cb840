"""robots.txt read as RFC 9309 says: wildcards, the `$` anchor, the longest match, our product token,
fractional Crawl-delay; checked on the parser alone and on a crawl of a local server."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from corpus.fetch import DEFAULT_USER_AGENT, FetchConfig, fetch_links
from corpus.fetch.robots import RobotsAnswer, RobotsCache, product_token
from tests.helpers.localserver import LocalServer, StaticResolver

RFC9309_ROBOTS = """\
User-agent: *
Disallow: /*.pdf$
Disallow: /*?sessionid=
Disallow: /private/
Allow: /private/public-page
Crawl-delay: 0.5
"""

# URL path -> may it be fetched, under RFC9309_ROBOTS.
RFC9309_CASES = {
    "/paper.pdf": False,                  # `/*.pdf$`: wildcard and end anchor
    "/docs/2017/report.pdf": False,
    "/paper.pdf?download=1": True,        # ... `$`: the URL does not end in .pdf
    "/paper.pdfs": True,
    "/story?sessionid=abc": False,        # `/*?sessionid=`: a wildcard before the query
    "/story?id=3&x=1": True,
    "/private/": False,
    "/private/notes": False,
    "/private/public-page": True,         # the longest match wins: the Allow (20 chars) over the Disallow (9)
    "/private/public-page/more": True,
    "/public": True,
}


def verdicts(robots_txt: str, paths, user_agent: str = DEFAULT_USER_AGENT) -> tuple[dict[str, bool], float | None]:
    """Ask a RobotsCache about each path of one host whose robots.txt is `robots_txt`."""
    delays: list[float | None] = []

    async def fetch(url: str) -> RobotsAnswer:
        return RobotsAnswer(status=200, body=robots_txt.encode())

    async def run() -> dict[str, bool]:
        cache = RobotsCache(fetch, user_agent, on_rules=lambda host, delay: delays.append(delay))
        return {path: (await cache.check(f"https://site.example{path}")).allowed for path in paths}

    found = asyncio.run(run())
    return found, delays[0]


def test_wildcards_end_anchor_and_the_longest_match():
    found, delay = verdicts(RFC9309_ROBOTS, RFC9309_CASES)
    assert found == RFC9309_CASES
    assert delay == 0.5  # fractional, as written (urllib.robotparser could only read whole seconds)


def test_groups_are_chosen_by_our_product_token():
    robots = ("User-agent: github\nDisallow: /\n\n"       # a token that appears in a contact URL
              "User-agent: WebText\nDisallow: /only-for-us\n\n"
              "User-agent: *\nDisallow: /everyone\n")
    ua = "webtext/0.1 (+https://github.com/someone/crawl; me@example.org)"
    assert product_token(ua) == "webtext" and product_token(DEFAULT_USER_AGENT) == "webtext"
    found, _ = verdicts(robots, ["/a", "/only-for-us", "/everyone"], user_agent=ua)
    assert found == {"/a": True, "/only-for-us": False, "/everyone": True}  # our group only, matched case-insensitively
    found, _ = verdicts(robots, ["/a", "/only-for-us", "/everyone"], user_agent="OtherBot/2.0")
    assert found == {"/a": True, "/only-for-us": True, "/everyone": False}


def test_a_byte_order_mark_does_not_hide_the_first_line():
    found, _ = verdicts("\ufeffUser-agent: *\nDisallow: /x\n", ["/x", "/y"])
    assert found == {"/x": False, "/y": True}


class RobotsSite:
    """Serves RFC9309_ROBOTS (with a given Crawl-delay) and a page on every other path."""

    def __init__(self, crawl_delay: str) -> None:
        self.crawl_delay = crawl_delay
        self.hits: list[tuple[str, float]] = []
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append((request.path_qs, time.monotonic()))
        if request.path == "/robots.txt":
            return web.Response(text=RFC9309_ROBOTS.replace("Crawl-delay: 0.5", f"Crawl-delay: {self.crawl_delay}"))
        return web.Response(text=f"<html><body><p>{request.path_qs}</p></body></html>", content_type="text/html")

    def page_starts(self) -> list[float]:
        return sorted(t for path, t in self.hits if path != "/robots.txt")


def config(**kw) -> FetchConfig:
    return FetchConfig(**{"allow_private": True, "host_delay": 0.0, "per_host": 4, "progress": False, **kw})


def test_the_crawl_requests_only_what_rfc9309_allows(tmp_path):
    site = RobotsSite("0")
    with LocalServer(site.app) as server:
        links = [f"http://rules.test:{server.port}{path}" for path in RFC9309_CASES]
        report = fetch_links(links, tmp_path / "f", config(), resolver=StaticResolver())
    requested = {path for path, _ in site.hits}
    assert {path for path in RFC9309_CASES if path in requested} == {p for p, ok in RFC9309_CASES.items() if ok}
    assert report.stats.dropped == {"robots_disallowed": sum(not ok for ok in RFC9309_CASES.values())}


@pytest.mark.parametrize("crawl_delay, max_crawl_delay, low, high", [
    ("0.4", 30.0, 0.35, 1.5),   # a fractional delay is honoured as written, not rounded to 0 or 1
    ("60", 0.3, 0.25, 1.5),     # a long one is capped by max_crawl_delay
])
def test_crawl_delay_fractions_are_honoured_up_to_the_cap(tmp_path, crawl_delay, max_crawl_delay, low, high):
    site = RobotsSite(crawl_delay)
    with LocalServer(site.app) as server:
        links = [f"http://slow.test:{server.port}/page/{i}" for i in range(3)]
        report = fetch_links(links, tmp_path / "f", config(max_crawl_delay=max_crawl_delay), resolver=StaticResolver())
    starts = site.page_starts()
    assert report.stats.n_out == 3 and len(starts) == 3
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(low <= gap < high for gap in gaps), gaps
