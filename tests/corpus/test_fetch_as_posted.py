"""The fetcher requests a link as it was posted, only made safe to send; never its canonical form.

The server answers only the exact request it expects (by raw path and query), so a fetch of the
canonical form (`?amp=`, `?x=1%3By%3D2`, no `?ref=`) finds nothing. The pages then join their
links by key.
"""

from __future__ import annotations

import socket

import pytest
from aiohttp import web

from corpus.fetch import FetchConfig, fetch_links
from corpus.readers.warc import read_warc
from corpus.sources.link_join import LinkJoin
from corpus.sources.links import LinkHarvester, LinkRules
from corpus.sources.reddit_dumps import Submission
from tests.helpers.localserver import LocalServer, StaticResolver

# Posted (after the origin) -> the raw request line target the server must see.
POSTED = {
    "/q?amp": "/q?amp",                                     # canonical: ?amp=
    "/q2?x=1;y=2": "/q2?x=1;y=2",                           # canonical: ?x=1%3By%3D2 (before), or as is
    "/blob/main/f.py?ref=v1.0": "/blob/main/f.py?ref=v1.0",  # canonical: ?ref= stripped (another page on GitHub)
    "/a?utm_source=reddit&id=3": "/a?utm_source=reddit&id=3",
    "/caf\u00e9 cr\u00e8me?q=\u00e9": "/caf%C3%A9%20cr%C3%A8me?q=%C3%A9",  # non-ASCII and spaces escaped as UTF-8
    "/story#comments": "/story",                            # the fragment is never sent
}


class ExactSite:
    """Answers a page only for the request targets it expects; 404 for anything else."""

    def __init__(self, expected) -> None:
        self.expected = set(expected)
        self.seen: list[tuple[str, str, str | None]] = []  # Host header, raw target, Authorization
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.host, request.raw_path, request.headers.get("Authorization")))
        if request.path == "/robots.txt":
            return web.Response(status=404)
        if request.raw_path not in self.expected:
            return web.Response(status=404)
        return web.Response(text=f"<html><body><p>page at {request.raw_path}</p></body></html>",
                            content_type="text/html")


def config() -> FetchConfig:
    return FetchConfig(allow_private=True, host_delay=0.0, per_host=4, progress=False)


def test_each_link_is_requested_as_posted_and_joins_its_link_by_key(tmp_path):
    site = ExactSite(POSTED.values())
    with LocalServer(site.app) as server:
        base = f"http://posted.test:{server.port}"
        posted = {base + path: sent for path, sent in POSTED.items()}
        posted[f"  {base}/padded \n"] = "/padded"                       # whitespace around it trimmed
        posted[f"http://user:pw@posted.test:{server.port}/creds"] = "/creds"  # credentials are not sent
        site.expected |= {"/padded", "/creds"}
        # As build_webtext does: the links table's posted URL is what is fetched.
        harvester = LinkHarvester(LinkRules())
        harvester.add([Submission(id=str(i), subreddit="news", url=url, score=10, created_utc=1500000000,
                                  is_self=False, over_18=False, title="t") for i, url in enumerate(posted)])
        links = {link.url_key: link for link in harvester.links()}
        report = fetch_links([link.posted_url for link in links.values()], tmp_path / "f", config(),
                             resolver=StaticResolver())
    requested = {target for _, target, _ in site.seen if target != "/robots.txt"}
    assert requested == set(posted.values())
    assert report.stats.n_out == len(posted) and not report.stats.dropped
    assert all(auth is None for _, _, auth in site.seen)
    # The WARC names each page by the URL requested, and every page joins its link by key.
    docs = [doc for path in report.warc_files for doc in read_warc(path, "webtext")]
    join = LinkJoin(links)
    joined = [doc for doc in docs if join.filter(doc) is True]
    assert len(joined) == len(posted) and join.stats.dropped == {}
    assert sorted(doc.reddit_id for doc in joined) == sorted(link.reddit_id for link in links.values())


def test_an_international_host_is_sent_idna_encoded(tmp_path):
    site = ExactSite({"/stra%C3%9Fe"})
    resolver = StaticResolver()
    with LocalServer(site.app) as server:
        report = fetch_links([f"http://b\u00fccher.test:{server.port}/stra\u00dfe"], tmp_path / "f", config(),
                             resolver=resolver)
    assert report.stats.n_out == 1
    assert "xn--bcher-kva.test" in resolver.lookups
    assert (f"xn--bcher-kva.test:{server.port}", "/stra%C3%9Fe", None) in site.seen


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_an_ipv6_literal_is_fetched_and_keyed(tmp_path):
    site = ExactSite({"/x"})
    with LocalServer(site.app, host="::1") as server:
        url = f"http://[::1]:{server.port}/x"
        harvester = LinkHarvester(LinkRules())
        harvester.add([Submission(id="v6", subreddit="news", url=url, score=10, created_utc=1500000000,
                                  is_self=False, over_18=False, title="t")])
        (link,) = harvester.links()  # the canonical form keeps the brackets: the link is not lost
        report = fetch_links([link.posted_url], tmp_path / "f", config())
    assert link.url == link.posted_url == url and link.url_key == f"[::1]:{server.port}/x"
    assert report.stats.n_out == 1
    (doc,) = [doc for path in report.warc_files for doc in read_warc(path, "webtext")]
    assert LinkJoin({link.url_key: link}).filter(doc) is True
