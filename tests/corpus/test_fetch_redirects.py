"""Every request waits for its own host's turn, redirect hops included: a hop to another host obeys
that host's robots.txt, its per-host limit and its delay (Crawl-delay too), like a link of its own."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

from aiohttp import web

from corpus.fetch import FetchConfig, fetch_links
from tests.helpers.localserver import LocalServer, StaticResolver


class ShortenerAndTarget:
    """`short*.test/go/N` redirect to `target.test/page/N`; target.test has rules and a Crawl-delay."""

    def __init__(self, crawl_delay: float = 0.0) -> None:
        self.crawl_delay = crawl_delay
        self.port = 0
        self.hits: list[tuple[str, str, float]] = []  # host, path, start
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        host, path = request.host.split(":")[0], request.path
        self.hits.append((host, path, time.monotonic()))
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            if path == "/robots.txt":
                if host == "target.test":
                    return web.Response(text=f"User-agent: *\nDisallow: /page/secret\nCrawl-delay: {self.crawl_delay}\n")
                return web.Response(status=404)
            if path.startswith("/go/"):
                raise web.HTTPFound(f"http://target.test:{self.port}/page/{path.rsplit('/', 1)[1]}")
            if path.startswith("/same/"):
                raise web.HTTPFound(path.replace("/same/", "/page/"))
            await asyncio.sleep(0.05)  # long enough for concurrent requests to overlap
            return web.Response(text=f"<html><body><p>{path}</p></body></html>", content_type="text/html")
        finally:
            self.in_flight[host] -= 1

    def starts(self, host: str, prefix: str = "/page/") -> list[float]:
        return sorted(t for h, p, t in self.hits if h == host and p.startswith(prefix))


def config(**kw) -> FetchConfig:
    return FetchConfig(**{"allow_private": True, "host_delay": 0.0, "per_host": 4, "concurrency": 16,
                          "progress": False, **kw})


def test_a_redirect_to_another_host_waits_for_that_hosts_turn_and_obeys_its_robots(tmp_path):
    site = ShortenerAndTarget(crawl_delay=0.2)
    with LocalServer(site.app) as server:
        site.port = server.port
        # Eight links on eight shortener hosts: each host is free, so all eight start at once...
        links = [f"http://short{i}.test:{server.port}/go/{i}" for i in range(8)]
        links.append(f"http://short8.test:{server.port}/go/secret")
        report = fetch_links(links, tmp_path / "f", config(per_host=1), resolver=StaticResolver())
    # ... but their hops all go to target.test: one at a time (--per-host 1), Crawl-delay apart.
    starts = site.starts("target.test")
    assert len(starts) == 8 and site.max_in_flight["target.test"] == 1
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.18, gaps
    assert sum(1 for h, p, _ in site.hits if h == "target.test" and p == "/robots.txt") == 1
    # target.test's robots.txt refuses the hop to /page/secret: no request is sent there.
    assert ("target.test", "/page/secret") not in {(h, p) for h, p, _ in site.hits}
    failed = {e["url"]: e for e in map(json.loads, (tmp_path / "f" / "failures.jsonl").read_text().splitlines())}
    assert failed[links[-1]]["reason"] == "robots_disallowed"
    assert failed[links[-1]]["final_url"] == f"http://target.test:{server.port}/page/secret"
    assert report.stats.n_out == 8 and report.stats.dropped == {"robots_disallowed": 1}


def test_a_redirect_within_a_host_waits_the_host_delay(tmp_path):
    site = ShortenerAndTarget()
    with LocalServer(site.app) as server:
        site.port = server.port
        report = fetch_links([f"http://one.test:{server.port}/same/1"], tmp_path / "f",
                             config(host_delay=0.3), resolver=StaticResolver())
    (first,), (second,) = site.starts("one.test", "/same/"), site.starts("one.test", "/page/")
    assert report.stats.n_out == 1 and second - first >= 0.28


def test_a_waiting_redirect_goes_before_the_hosts_queued_links():
    from corpus.fetch.politeness import HostQueue

    async def run():
        queue = HostQueue(["http://b/1", "http://b/2"], per_host=1, delay=0.0)
        held = await queue.get()                          # b/1 is in flight: b is at its limit
        hop = asyncio.create_task(queue.acquire("http://b/landing"))
        await asyncio.sleep(0)                            # the hop is waiting for b
        nxt = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        assert not hop.done() and not nxt.done()          # nobody goes past the limit
        queue.release(held)
        turn = await hop                                  # the hop, not the queued b/2, gets b's turn
        await asyncio.sleep(0.01)
        assert not nxt.done()
        queue.release(turn)
        return turn.url, (await nxt).url

    assert asyncio.run(run()) == ("http://b/landing", "http://b/2")
