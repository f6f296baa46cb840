"""The page fetcher against a local server that misbehaves in every way the web does.

Every link ends as a fetched page (in a WARC file) or as a failure record with a named reason.
The server runs on 127.0.0.1; host names (`*.test`) reach it through a static resolver, which
gives the per-host rules distinct hosts to work on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from warcio.archiveiterator import ArchiveIterator

from corpus.extract.engines import decode_html
from corpus.fetch import DEFAULT_USER_AGENT, FetchConfig, FetchState, fetch_links
from corpus.readers.warc import read_warc
from tests.helpers.localserver import StaticResolver, serving

PAGE = "<html><head><title>t</title></head><body><p>Hello from {path}</p></body></html>"


class MisbehavingSite:
    """One aiohttp app; what it does depends on the path (and, for robots.txt, on the host)."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str, float, str]] = []  # host, path, time, user agent
        self.calls: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.app = web.Application(middlewares=[self.track])
        r = self.app.router
        r.add_get("/robots.txt", self.robots)
        r.add_get("/page/{name}", self.page)
        r.add_get("/slow", self.slow)
        r.add_get("/drip", self.drip)
        r.add_get("/reset", self.reset)
        r.add_get("/flaky429/{key}", self.flaky429)
        r.add_get("/flaky500/{key}", self.flaky500)
        r.add_get("/always500", self.always500)
        r.add_get("/redirect/{n}", self.redirect)
        r.add_get("/loop", self.loop)
        r.add_get("/big", self.big)
        r.add_get("/big-chunked", self.big_chunked)
        r.add_get("/image", self.image)
        r.add_get("/plain", self.plain)
        r.add_get("/badcharset", self.badcharset)
        r.add_get("/gone", self.gone)
        r.add_get("/private/{name}", self.page)
        r.add_get("/held/{name}", self.held)

    @web.middleware
    async def track(self, request, handler):
        host = request.host.split(":")[0]
        self.hits.append((host, request.path, time.monotonic(), request.headers.get("User-Agent", "")))
        self.calls[request.path] += 1
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            return await handler(request)
        finally:
            self.in_flight[host] -= 1

    def page_hits(self, host: str | None = None) -> list[str]:
        return [p for h, p, _, _ in self.hits if p != "/robots.txt" and (host is None or h == host)]

    async def robots(self, request):
        host = request.host.split(":")[0]
        if host.startswith("robots500"):
            return web.Response(status=503)
        if host.startswith("robots404"):
            return web.Response(status=404)
        if host.startswith("slowhost"):
            return web.Response(text="User-agent: *\nCrawl-delay: 1\n")
        return web.Response(text="User-agent: webtext\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n")

    async def page(self, request):
        return web.Response(text=PAGE.format(path=request.path), content_type="text/html", charset="utf-8")

    async def held(self, request):
        await asyncio.sleep(0.1)
        return await self.page(request)

    async def slow(self, request):
        await asyncio.sleep(5)
        return await self.page(request)

    async def drip(self, request):
        # Each byte arrives before the read timeout, but the whole body never ends in time.
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"<p>x</p>")
            await asyncio.sleep(0.1)
        return resp

    async def reset(self, request):
        request.transport.abort()  # the connection dies with no response at all
        await asyncio.sleep(0.1)
        return web.Response()

    async def flaky429(self, request):
        if self.calls[request.path] == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return await self.page(request)

    async def flaky500(self, request):
        if self.calls[request.path] <= 2:
            return web.Response(status=500)
        return await self.page(request)

    async def always500(self, request):
        return web.Response(status=502)

    async def redirect(self, request):
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/redirect/{n - 1}" if n > 1 else "/page/landed#frag")

    async def loop(self, request):
        raise web.HTTPMovedPermanently("/loop")

    async def big(self, request):
        return web.Response(body=b"<p>" + b"x" * 300_000 + b"</p>", content_type="text/html")

    async def big_chunked(self, request):
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(400):  # 400 x 1 KiB, no Content-Length: only counting can stop it
            await resp.write(b"y" * 1024)
        return resp

    async def image(self, request):
        return web.Response(body=b"\x89PNG\r\n\x1a\n", content_type="image/png")

    async def plain(self, request):
        return web.Response(text="plain words", content_type="text/plain")

    async def badcharset(self, request):
        body = "<html><body><p>caf\u00e9 cr\u00e8me</p></body></html>".encode("latin-1") + b"\xff\xfe"
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=x-no-such-charset"})

    async def gone(self, request):
        return web.Response(status=410)


def fetch_config(**kw) -> FetchConfig:
    base = dict(allow_private=True, host_delay=0.0, per_host=4, concurrency=16, connect_timeout=1.0,
                read_timeout=0.3, total_timeout=0.8, max_retries=2, backoff_base=0.01, max_body_bytes=100_000,
                progress=False)
    return FetchConfig(**{**base, **kw})


def failures(out: Path) -> dict[str, dict]:
    return {json.loads(line)["url"]: json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()}


def warc_responses(out: Path) -> dict[str, tuple]:
    """Target URI -> (http headers, payload, WARC headers) of every response record."""
    found = {}
    for path in sorted(out.glob("*.warc.gz")):
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type == "response":
                    found[rec.rec_headers.get_header("WARC-Target-URI")] = (
                        rec.http_headers, rec.content_stream().read(), rec.rec_headers)
    return found


@pytest.fixture(scope="module")
def site():
    with serving(MisbehavingSite()) as site:
        yield site


def url(site, path: str, host: str = "ok.test") -> str:
    return f"http://{host}:{site.server.port}{path}"


def test_each_misbehaviour_ends_in_a_page_or_a_named_failure(site, tmp_path):
    cases = {  # path -> expected failure reason, or None for a fetched page
        "/page/a": None, "/plain": None, "/badcharset": None, "/flaky429/a": None, "/flaky500/a": None,
        "/redirect/3": None, "/slow": "timeout", "/drip": "timeout", "/reset": "connection_error",
        "/always500": "http_5xx", "/redirect/9": "too_many_redirects", "/loop": "redirect_loop",
        "/big": "body_too_large", "/big-chunked": "body_too_large", "/image": "bad_content_type",
        "/gone": "http_4xx",
    }
    urls = {url(site, path, host=f"h{i}.test"): want for i, (path, want) in enumerate(cases.items())}
    urls[url(site, "/private/x", host="robots.test")] = "robots_disallowed"
    urls[url(site, "/page/x", host="robots500.test")] = "robots_unavailable"
    urls[url(site, "/page/x", host="robots404.test")] = None
    out = tmp_path / "fetch"
    report = fetch_links(list(urls), out, fetch_config(max_redirects=5), resolver=StaticResolver())
    failed, pages = failures(out), warc_responses(out)
    for link, want in urls.items():
        if want is None:
            assert link not in failed, failed.get(link)
        else:
            assert failed[link]["reason"] == want, (link, failed[link])
    assert report.stats.n_out == sum(w is None for w in urls.values()) == report.fetched_now
    assert report.stats.balanced() and report.stats.n_in == len(urls)
    # Details worth keeping: status, permanence, the URL the redirects had reached.
    assert failed[url(site, "/always500", "h9.test")]["status"] == 502
    assert failed[url(site, "/always500", "h9.test")]["attempts"] == 3
    assert failed[url(site, "/always500", "h9.test")]["permanent"] is False
    assert failed[url(site, "/gone", "h15.test")]["status"] == 410
    assert failed[url(site, "/image", "h14.test")]["detail"] == "image/png"
    assert failed[url(site, "/redirect/9", "h10.test")]["final_url"].endswith("/redirect/3")  # not requested
    assert site.page_hits("h10.test") == [f"/redirect/{n}" for n in range(9, 3, -1)]  # 1 + 5 redirects
    assert failed[url(site, "/robots.txt", "robots.test").replace("/robots.txt", "/private/x")]["permanent"]
    # The body cut-off never read far past the cap.
    assert site.calls["/big-chunked"] == 1
    # Retried pages: the 429 waited for its Retry-After, the 500s were retried twice.
    assert site.calls["/flaky429/a"] == 2 and site.calls["/flaky500/a"] == 3
    times = [t for h, p, t, _ in site.hits if p == "/flaky429/a"]
    assert times[1] - times[0] >= 0.95
    # Redirects: the page is archived under its final URL, without the fragment.
    landed = url(site, "/page/landed", "h5.test")
    assert landed in pages and pages[landed][1] == PAGE.format(path="/page/landed").encode()
    assert report.redirect_aliases == {landed: url(site, "/redirect/3", "h5.test")}
    # A page with a charset nobody knows is kept as it came; decoding copes later.
    headers, body, _ = pages[url(site, "/badcharset", "h2.test")]
    assert headers.get_header("Content-Type") == "text/html; charset=x-no-such-charset"
    assert "caf" in str(decode_html(body, "x-no-such-charset"))
    assert pages[url(site, "/plain", "h1.test")][0].get_header("Content-Type").startswith("text/plain")


def test_warc_records_are_complete_and_files_rotate_atomically(site, tmp_path):
    links = [url(site, f"/page/{i}", host="warc.test") for i in range(12)]
    out = tmp_path / "fetch"
    report = fetch_links(links, out, fetch_config(warc_max_bytes=2_000), resolver=StaticResolver())
    assert len(report.warc_files) > 2 and not list(out.glob("*.tmp"))  # rotated, all finished
    records = []
    for path in report.warc_files:
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f, check_digests=True):
                records.append((rec.rec_type, rec.rec_headers, rec.http_headers, rec.content_stream().read()))
    assert records[0][1].protocol == "WARC/1.1"
    kinds = Counter(kind for kind, *_ in records)
    assert kinds["response"] == kinds["request"] == 12 and kinds["warcinfo"] == len(report.warc_files)
    responses = {h.get_header("WARC-Record-ID"): (h, http, body) for kind, h, http, body in records if kind == "response"}
    for kind, h, http, _ in records:
        if kind == "request":
            resp_headers = responses[h.get_header("WARC-Concurrent-To")][0]
            assert h.get_header("WARC-Target-URI") == resp_headers.get_header("WARC-Target-URI")
            assert http.protocol == "GET" and http.get_header("User-Agent").startswith("webtext/0.1")
    for h, http, body in responses.values():
        assert h.get_header("WARC-IP-Address") == "127.0.0.1"
        assert h.get_header("WARC-Payload-Digest").startswith("sha1:")
        assert h.get_header("WARC-Date").endswith("Z") and "." in h.get_header("WARC-Date")
        assert http.get_statuscode() == "200" and body.startswith(b"<html>")
    # The pipeline's own reader takes these files as they are.
    docs = [d for p in report.warc_files for d in read_warc(p, "webtext")]
    assert sorted(d.url for d in docs) == sorted(links)
    # Every request said who we are.
    assert {ua for h, p, _, ua in site.hits if h == "warc.test"} == {DEFAULT_USER_AGENT}


def test_per_host_limit_and_delay(site, tmp_path):
    links = [url(site, f"/held/{i}", host=h) for i in range(6) for h in ("busy.test", "other.test")]
    out = tmp_path / "fetch"
    start = time.monotonic()
    fetch_links(links, out, fetch_config(per_host=2, host_delay=0.0), resolver=StaticResolver())
    assert site.max_in_flight["busy.test"] == 2 and site.max_in_flight["other.test"] == 2
    assert time.monotonic() - start < 2.0  # the two hosts went in parallel (6 x 0.1 s / 2 each)
    fetch_links([url(site, f"/page/{i}", host="polite.test") for i in range(4)], tmp_path / "f2",
                fetch_config(per_host=4, host_delay=0.25), resolver=StaticResolver())
    starts = sorted(t for h, p, t, _ in site.hits if h == "polite.test" and p != "/robots.txt")
    # (The first page follows robots.txt in the same turn, so measured gaps may be a little short.)
    assert len(starts) == 4 and min(b - a for a, b in zip(starts, starts[1:])) >= 0.2
    assert starts[-1] - starts[0] >= 0.7
    # robots.txt's Crawl-delay (1 s) is longer than ours: it wins, from the first page on.
    fetch_links([url(site, f"/page/{i}", host="slowhost.test") for i in range(2)], tmp_path / "f3",
                fetch_config(per_host=4, host_delay=0.0), resolver=StaticResolver())
    starts = sorted(t for h, p, t, _ in site.hits if h == "slowhost.test" and p != "/robots.txt")
    assert len(starts) == 2 and starts[1] - starts[0] >= 0.95
    # robots.txt was asked once per host, however many pages.
    assert sum(1 for h, p, _, _ in site.hits if h == "busy.test" and p == "/robots.txt") == 1


def test_a_second_run_skips_what_is_done_and_retries_what_may_pass(site, tmp_path):
    out = tmp_path / "fetch"
    ok = [url(site, f"/page/{i}", host="resume.test") for i in range(3)]
    permanent, transient = url(site, "/gone", host="resume.test"), url(site, "/always500", host="resume.test")
    first = fetch_links(ok + [permanent, transient], out, fetch_config(max_retries=0), resolver=StaticResolver())
    assert first.fetched_now == 3 and first.failed_now == 2
    before = Counter(p for h, p, _, _ in site.hits if h == "resume.test")
    second = fetch_links(ok + [permanent, transient], out, fetch_config(max_retries=0), resolver=StaticResolver())
    after = Counter(p for h, p, _, _ in site.hits if h == "resume.test")
    # Only the transient failure is tried again (robots.txt is read afresh by each run).
    assert after - before == Counter({"/always500": 1, "/robots.txt": 1})
    assert second.skipped_done == 4 and second.stats.n_out == 3
    assert second.stats.dropped == {"http_4xx": 1, "http_5xx": 1}
    state = FetchState.load(out)
    assert set(state.fetched) == set(ok) and len(second.warc_files) == 1  # no page, no new file


def test_fetch_limit_counts_the_rest_as_not_attempted(site, tmp_path):
    links = [url(site, f"/page/{i}", host="limit.test") for i in range(5)]
    report = fetch_links(links, tmp_path / "f", fetch_config(limit=2), resolver=StaticResolver())
    assert report.stats.n_out == 2 and report.stats.dropped == {"not_attempted": 3}


def test_interleaving_keeps_a_rolling_set_of_hosts():
    from corpus.fetch.politeness import interleave_hosts

    urls = [f"http://a/{i}" for i in range(4)] + ["http://b/0", "http://b/1", "http://c/0", "http://d/0"]
    assert list(interleave_hosts(urls)) == ["http://a/0", "http://b/0", "http://c/0", "http://d/0",
                                            "http://a/1", "http://b/1", "http://a/2", "http://a/3"]
    # With room for two hosts, a host enters only when another is finished.
    assert list(interleave_hosts(urls, active_hosts=2)) == ["http://a/0", "http://b/0", "http://a/1", "http://b/1",
                                                            "http://a/2", "http://c/0", "http://a/3", "http://d/0"]


def test_host_queue_gives_back_the_turn_of_a_url_refused_without_a_request():
    from corpus.fetch.politeness import HostQueue

    async def run():
        now = [100.0]
        queue = HostQueue(["http://a/1", "http://a/2", "http://a/3"], per_host=1, delay=10.0, clock=lambda: now[0])
        first = await queue.get()
        queue.release(first, sent_request=False)  # e.g. robots.txt said no: no request was made
        second = await queue.get()                # so the host's turn is still free
        queue.release(second)
        now[0] += 10.0                            # a real request: the next waits the delay
        third = await queue.get()
        queue.release(third)
        return first.url, second.url, third.url, await queue.get()

    assert asyncio.run(run()) == ("http://a/1", "http://a/2", "http://a/3", None)


def test_the_default_user_agent_claims_no_contact_and_a_public_crawl_with_it_is_warned(site, tmp_path, caplog):
    from corpus.fetch.crawl import default_agent_warning

    # No placeholder: the default names the software, and only the person running a crawl can name a contact.
    assert DEFAULT_USER_AGENT == "webtext/0.1" and "github.com/webtext" not in DEFAULT_USER_AGENT
    local = [url(site, "/page/a"), "http://127.0.0.1/x", "http://[::1]:8080/x", "http://localhost/x"]
    assert default_agent_warning(local, DEFAULT_USER_AGENT) is None
    assert "--user-agent" in default_agent_warning(local + ["https://news.site.org/a"], DEFAULT_USER_AGENT)
    assert default_agent_warning(["https://news.site.org/a"], "webtext/0.1 (+https://me.org/bot; me@me.org)") is None
    # A crawl of a public name (resolved here to the local server) says so, loudly, once.
    public = [url(site, f"/page/{i}", host="public-site.org") for i in range(3)]
    with caplog.at_level("WARNING", logger="corpus.fetch.crawl"):
        report = fetch_links(public, tmp_path / "f", fetch_config(), resolver=StaticResolver())
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "User-Agent" in r.getMessage()]
    assert report.stats.n_out == 3 and len(warnings) == 1 and "public-site.org" in warnings[0].getMessage()
