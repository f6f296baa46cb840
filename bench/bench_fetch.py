"""Fetcher throughput: pages/s against a local server that answers every request after 50 ms.

The server runs in its own process (so it does not share the fetcher's core). Host names
`h0.bench` ... resolve to it through a static resolver, so the per-host rules see many hosts.
The webtext fetcher (robots.txt, SSRF-guard resolver, politeness queue, retries, WARC writing
with gzip) is compared with a bare aiohttp loop that only downloads (the ceiling), and with the
latency bound (connections / latency).

    python bench/bench_fetch.py
    python bench/bench_fetch.py --pages 4000 --hosts 400 --concurrency 64 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from corpus.fetch import FetchConfig, fetch_links  # noqa: E402
from tests.helpers.localserver import StaticResolver  # noqa: E402

PARAGRAPH = "<p>" + "The harbour council met on Tuesday to decide the future of the grain sheds. " * 8 + "</p>"


def serve(latency: float, page_bytes: int, conn) -> None:
    """The server process: every response waits `latency` seconds."""
    body = ("<html><body>" + PARAGRAPH * max(1, page_bytes // len(PARAGRAPH)) + "</body></html>").encode()

    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        if request.path == "/robots.txt":
            return web.Response(text="User-agent: *\nDisallow: /private/\n")
        return web.Response(body=body, content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{path:.*}", page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        conn.send(site._server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def bare_aiohttp(urls: list[str], concurrency: int) -> int:
    """The ceiling: download with a semaphore, nothing else."""
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, resolver=StaticResolver())
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(url: str) -> int:
            async with sem, session.get(url) as resp:
                return len(await resp.read())
        return sum(1 for n in await asyncio.gather(*(one(u) for u in urls)) if n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pages", type=int, default=3000)
    p.add_argument("--hosts", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--per-host", type=int, default=2)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--page-bytes", type=int, default=20_000)
    a = p.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(a.latency, a.page_bytes, child), daemon=True)
    server.start()
    port = parent.recv()
    urls = [f"http://h{i % a.hosts}.bench:{port}/page/{i}" for i in range(a.pages)]
    results = []
    try:
        start = time.perf_counter()
        n = asyncio.run(bare_aiohttp(urls, a.concurrency))
        results.append(("bare aiohttp (download only)", n, time.perf_counter() - start))
        with tempfile.TemporaryDirectory() as tmp:
            # The SSRF guard stays on (every address checked; only the bench's loopback is trusted);
            # no host delay, as the bare client has none: the two differ only in what webtext adds.
            config = FetchConfig(concurrency=a.concurrency, per_host=a.per_host, host_delay=0.0,
                                 trusted_networks=("127.0.0.0/8",), user_agent="webtext-bench/0.1",
                                 progress=False)
            start = time.perf_counter()
            report = fetch_links(urls, Path(tmp) / "fetch", config, resolver=StaticResolver())
            elapsed = time.perf_counter() - start
            size = sum(f.stat().st_size for f in report.warc_files)
            results.append(("webtext fetcher (+robots, SSRF, WARC)", report.stats.n_out, elapsed))
    finally:
        server.terminate()
    print(f"\ncommand: python bench/bench_fetch.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"{a.pages:,} pages of {a.page_bytes / 1000:.0f} kB over {a.hosts} hosts, {a.latency * 1000:.0f} ms latency, "
          f"{a.concurrency} connections, per-host limit {a.per_host} (webtext), 1 core for the client\n")
    print(f"{'client':<34}{'pages':>8}{'seconds':>10}{'pages/s':>10}")
    for name, n, sec in results:
        print(f"{name:<34}{n:>8,}{sec:>10.2f}{n / sec:>10,.0f}")
    print(f"{'latency bound (connections/latency)':<34}{'':>8}{'':>10}{a.concurrency / a.latency:>10,.0f}")
    print(f"\nwebtext wrote {size / 2**20:.1f} MiB of WARC and fetched {a.hosts} robots.txt files on the way")


if __name__ == "__main__":
    main()
