"""An aiohttp server on 127.0.0.1 in a background thread, for the tests and the benchmark.

    with LocalServer(app) as server:
        fetch_links([server.url("/page")], out, FetchConfig(allow_private=True))

It runs its own event loop, so the code under test can run its own (`asyncio.run`) or none
(praw), or live in another process.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult


class LocalServer:
    """Serves `app` on a free port of `host` until the `with` block ends."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the free port the OS chose

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path


@contextmanager
def serving(site: Any) -> Iterator[Any]:
    """Serve `site.app` for the block, with `site.server` set to the running `LocalServer`."""
    with LocalServer(site.app) as server:
        site.server = server
        yield site


class StaticResolver(AbstractResolver):
    """DNS for tests and benchmarks: every name resolves to `address` (or to what `hosts` says).

    The SSRF guard still checks what it returns, so it cannot be used to slip past the guard.
    """

    def __init__(self, address: str = "127.0.0.1", hosts: dict[str, str] | None = None) -> None:
        self.address = address
        self.hosts = hosts or {}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        address = self.hosts.get(host, self.address)
        addresses = [address] if isinstance(address, str) else list(address)
        return [{"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for a in addresses]

    async def close(self) -> None:
        return None
