"""The SSRF guard: without --allow-private no request reaches a private address, redirects included."""

from __future__ import annotations

import asyncio
import ipaddress
import json

import pytest
from aiohttp import web

from corpus.fetch import FetchConfig, fetch_links
from corpus.fetch.safety import (
    AddressPolicy,
    PrivateAddressError,
    SafeResolver,
    address_refusal,
)
from tests.helpers.localserver import LocalServer, StaticResolver


@pytest.mark.parametrize("ip, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
    ("192.168.1.1", "private"), ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"), ("240.0.0.1", "reserved"), ("100.64.0.1", "not-global"), ("::1", "loopback"),
    ("fe80::1", "link-local"), ("fc00::1", "private"), ("ff02::1", "multicast"), ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
    ("93.184.215.14", None), ("1.1.1.1", None), ("2606:4700:4700::1111", None),
])
def test_address_refusal(ip, kind):
    assert address_refusal(ipaddress.ip_address(ip)) == kind


def test_policy_allows_trusted_networks_and_the_switch():
    policy = AddressPolicy.build(trusted_networks=["127.0.0.2/32"])
    assert policy.refusal("127.0.0.2") is None and policy.refusal("127.0.0.1") == "loopback 127.0.0.1"
    assert AddressPolicy.build(allow_private=True).refusal("10.0.0.1") is None


def test_resolver_hands_on_only_checked_addresses():
    inner = StaticResolver(hosts={"mixed.test": ["93.184.215.14", "127.0.0.1", "10.0.0.7"],
                                  "inside.test": ["10.0.0.7", "::1"]})
    safe = SafeResolver(inner, AddressPolicy())

    async def lookups():
        kept = await safe.resolve("mixed.test", 80)
        with pytest.raises(PrivateAddressError, match="private 10.0.0.7, loopback ::1"):
            await safe.resolve("inside.test", 80)
        return kept

    # aiohttp connects to exactly these: a second lookup (DNS rebinding) never happens.
    assert [r["host"] for r in asyncio.run(lookups())] == ["93.184.215.14"]


class CountingServer:
    def __init__(self, redirects: dict[str, str] | None = None) -> None:
        self.hits: list[str] = []
        self.redirects = redirects or {}
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        if request.path in self.redirects:
            raise web.HTTPFound(self.redirects[request.path])
        if request.path == "/robots.txt":
            return web.Response(status=404)
        return web.Response(text="<html><body>secret</body></html>", content_type="text/html")


def reasons(out) -> dict[str, tuple[str, str]]:
    lines = (out / "failures.jsonl").read_text().splitlines()
    return {e["url"]: (e["reason"], e["detail"]) for e in map(json.loads, lines)}


def test_private_addresses_are_refused_by_default_and_nothing_reaches_them(tmp_path):
    inside = CountingServer()
    with LocalServer(inside.app) as server:
        port = server.port
        links = [f"http://127.0.0.1:{port}/a", f"http://localhost:{port}/b", f"http://[::1]:{port}/c",
                 f"http://inside.test:{port}/d", f"http://[::ffff:127.0.0.1]:{port}/e", "http://10.0.0.1/f",
                 "http://169.254.169.254/latest/meta-data/"]
        resolver = StaticResolver(hosts={"localhost": "127.0.0.1", "inside.test": "127.0.0.1"})
        report = fetch_links(links, tmp_path / "f", FetchConfig(progress=False, connect_timeout=1), resolver=resolver)
        found = reasons(tmp_path / "f")
        assert {url: r for url, (r, _) in found.items()} == {url: "private_address" for url in links}
        assert found[f"http://inside.test:{port}/d"][1].endswith("loopback 127.0.0.1")
        assert found["http://169.254.169.254/latest/meta-data/"][1] == "link-local 169.254.169.254"
        assert inside.hits == [] and report.stats.n_out == 0
        # --allow-private switches the guard off: the same server is reachable.
        allowed = fetch_links(links[:1], tmp_path / "g", FetchConfig(progress=False, allow_private=True))
        assert allowed.stats.n_out == 1 and inside.hits == ["/robots.txt", "/a"]


def test_redirects_to_private_addresses_are_refused_before_any_request(tmp_path):
    inside = CountingServer()
    with LocalServer(inside.app) as private_server:
        p = private_server.port
        # The "public" site: on 127.0.0.2, which this test (and only this test) trusts.
        public = CountingServer(redirects={
            "/to-loopback": f"http://127.0.0.1:{p}/secret", "/to-ten": "http://10.0.0.1/secret",
            "/to-name": f"http://inside.test:{p}/secret", "/to-metadata": "http://169.254.169.254/",
            "/hop": "/to-loopback", "/fine": "/page"})
        with LocalServer(public.app, host="127.0.0.2") as public_server:
            q = public_server.port
            resolver = StaticResolver(hosts={"public.test": "127.0.0.2", "inside.test": "127.0.0.1"})
            config = FetchConfig(progress=False, trusted_networks=("127.0.0.2/32",), host_delay=0, connect_timeout=1)
            links = [f"http://public.test:{q}{path}" for path in ("/to-loopback", "/to-ten", "/to-name",
                                                                  "/to-metadata", "/hop", "/fine")]
            report = fetch_links(links, tmp_path / "f", config, resolver=resolver)
    found = reasons(tmp_path / "f")
    assert {u: r for u, (r, _) in found.items()} == {u: "private_address" for u in links[:5]}
    assert found[links[0]][1] == "loopback 127.0.0.1"
    assert found[links[4]][1] == "loopback 127.0.0.1"  # two hops deep
    assert report.stats.n_out == 1 and report.stats.dropped == {"private_address": 5}
    assert inside.hits == []  # not even robots.txt
    assert "/page" in public.hits
