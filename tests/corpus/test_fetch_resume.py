"""A fetch killed with SIGKILL and run again ends with the same pages as one that never stopped."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from aiohttp import web
from warcio.archiveiterator import ArchiveIterator

from corpus.fetch import FetchConfig, FetchState, fetch_links
from tests.helpers.localserver import LocalServer, StaticResolver

REPO = Path(__file__).resolve().parents[2]
N_PAGES = 60


def site() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(0.03)
        if request.path.endswith("/7"):
            return web.Response(status=404)
        return web.Response(text=f"<html><body><p>page {request.path}</p>{'x' * 500}</body></html>",
                            content_type="text/html")

    async def robots(request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nDisallow: /no/\n")

    app = web.Application()
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/{path:.*}", page)
    return app


def links(port: int) -> list[str]:
    return [f"http://h{i % 4}.test:{port}/{'no' if i % 10 == 3 else 'p'}/{i}" for i in range(N_PAGES)]


CONFIG = dict(allow_private=True, host_delay=0.0, per_host=2, concurrency=4, warc_max_bytes=4_000, progress=False)


def archived_urls(out: Path) -> Counter:
    """Target URI of every response record in the finished WARC files."""
    found: Counter = Counter()
    for path in sorted(out.glob("*.warc.gz")):
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type == "response":
                    found[rec.rec_headers.get_header("WARC-Target-URI")] += 1
    return found


def test_kill_minus_nine_then_rerun_equals_an_uninterrupted_run(tmp_path):
    with LocalServer(site()) as server:
        urls = links(server.port)
        whole = fetch_links(urls, tmp_path / "whole", FetchConfig(**CONFIG), resolver=StaticResolver())

        out = tmp_path / "killed"
        script = ("import json, sys; from corpus.fetch import FetchConfig, fetch_links; "
                  "from tests.helpers.localserver import StaticResolver; "
                  "fetch_links(json.loads(sys.argv[1]), sys.argv[2], FetchConfig(**json.loads(sys.argv[3])), "
                  "resolver=StaticResolver())")
        proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(urls), str(out), json.dumps(CONFIG)],
                                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        log = out / "fetched.jsonl"

        def mid_fetch() -> bool:  # pages logged, and a WARC file open (not just rotated): kill now
            return log.exists() and log.read_text().count("\n") >= 15 and bool(list(out.glob("*.warc.gz.tmp")))

        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not mid_fetch():
                time.sleep(0.002)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        done_at_kill = log.read_text().count("\n")
        assert 15 <= done_at_kill < N_PAGES - 12, "the kill did not land mid-fetch"
        assert list(out.glob("*.warc.gz.tmp")), "a WARC file was open at the kill"

        resumed = fetch_links(urls, out, FetchConfig(**CONFIG), resolver=StaticResolver())

    assert not list(out.glob("*.tmp"))
    assert resumed.skipped_done >= done_at_kill
    assert archived_urls(out) == archived_urls(tmp_path / "whole")  # same pages, each exactly once
    assert set(archived_urls(out)) == set(FetchState.load(out).fetched)
    assert resumed.stats.to_dict() == whole.stats.to_dict()
    assert whole.stats.dropped == {"robots_disallowed": 6, "http_4xx": 1} and whole.stats.n_out == N_PAGES - 7


def test_recovery_cuts_a_torn_record_and_keeps_the_logged_pages(tmp_path):
    with LocalServer(site()) as server:
        urls = links(server.port)[:6]
        fetch_links(urls, tmp_path, FetchConfig(**{**CONFIG, "warc_max_bytes": 1 << 30}), resolver=StaticResolver())
    (warc,) = tmp_path.glob("*.warc.gz")
    entries = [json.loads(line) for line in (tmp_path / "fetched.jsonl").read_text().splitlines()]
    # Rebuild the state a kill leaves: the file still open (.tmp), the last page logged but a
    # further record half-written, and the log's own last line torn.
    tmp = warc.with_name(warc.name + ".tmp")
    data = warc.read_bytes()
    warc.unlink()
    tmp.write_bytes(data[: entries[-1]["end"]] + data[entries[1]["offset"]: entries[1]["offset"] + 100])
    with open(tmp_path / "fetched.jsonl", "ab") as f:
        f.write(b'{"url": "http://torn')
    state = FetchState.load(tmp_path)
    assert set(state.fetched) == {e["url"] for e in entries}
    assert warc.exists() and warc.stat().st_size == entries[-1]["end"] and not tmp.exists()
    with open(warc, "rb") as f:
        records = [r.rec_type for r in ArchiveIterator(io.BytesIO(f.read()))]
    assert Counter(records) == Counter({"response": len(entries), "request": len(entries), "warcinfo": 1})


def test_sigterm_finishes_the_open_warc_file(tmp_path):
    with LocalServer(site()) as server:
        urls = links(server.port)
        out = tmp_path / "stopped"
        script = ("import json, sys; from corpus.fetch import FetchConfig, fetch_links; "
                  "from tests.helpers.localserver import StaticResolver; "
                  "fetch_links(json.loads(sys.argv[1]), sys.argv[2], FetchConfig(**json.loads(sys.argv[3])), "
                  "resolver=StaticResolver())")
        config = {**CONFIG, "warc_max_bytes": 1 << 30}  # one file, open until the end
        proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(urls), str(out), json.dumps(config)],
                                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)
        log = out / "fetched.jsonl"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < 10):
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and b"stopped by SIGTERM" in err
    assert not list(out.glob("*.tmp")) and len(list(out.glob("*.warc.gz"))) == 1
    logged = {json.loads(line)["url"] for line in log.read_text().splitlines()}
    assert set(archived_urls(out)) == logged and 10 <= len(logged) < N_PAGES - 7
