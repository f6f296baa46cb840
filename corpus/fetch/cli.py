"""Command-line flags of the fetcher, shared by `python -m corpus.fetch` and `build_webtext`."""

from __future__ import annotations

import argparse

from corpus.fetch.config import FetchConfig


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fetcher's tuning flags (all optional; defaults are `FetchConfig`'s)."""
    d = FetchConfig()
    g = parser.add_argument_group("fetching")
    g.add_argument("--allow-private", action="store_true",
                   help="switch the SSRF guard off: allow loopback/private/link-local addresses (tests, intranets)")
    g.add_argument("--concurrency", type=int, default=d.concurrency, help=f"requests in flight (default {d.concurrency})")
    g.add_argument("--per-host", type=int, default=d.per_host, help=f"requests in flight per host (default {d.per_host})")
    g.add_argument("--host-delay", type=float, default=d.host_delay,
                   help=f"seconds between request starts to one host (default {d.host_delay})")
    g.add_argument("--connect-timeout", type=float, default=d.connect_timeout)
    g.add_argument("--read-timeout", type=float, default=d.read_timeout)
    g.add_argument("--total-timeout", type=float, default=d.total_timeout, help="one request, connect to last byte")
    g.add_argument("--max-body", type=int, default=d.max_body_bytes, metavar="BYTES",
                   help=f"bodies are cut off past this (default {d.max_body_bytes})")
    g.add_argument("--max-redirects", type=int, default=d.max_redirects)
    g.add_argument("--max-retries", type=int, default=d.max_retries)
    g.add_argument("--user-agent", default=d.user_agent, help=f"default: {d.user_agent!r}")
    g.add_argument("--ignore-robots", action="store_true", help="do not read robots.txt (only for your own sites)")
    g.add_argument("--warc-max-bytes", type=int, default=d.warc_max_bytes, metavar="BYTES")
    g.add_argument("--fetch-limit", type=int, default=None, metavar="N", help="fetch at most N links this run")


def fetch_config_from_args(a: argparse.Namespace, progress: bool = True) -> FetchConfig:
    return FetchConfig(
        user_agent=a.user_agent, concurrency=a.concurrency, per_host=a.per_host, host_delay=a.host_delay,
        connect_timeout=a.connect_timeout, read_timeout=a.read_timeout, total_timeout=a.total_timeout,
        max_body_bytes=a.max_body, max_redirects=a.max_redirects, max_retries=a.max_retries,
        respect_robots=not a.ignore_robots, allow_private=a.allow_private, warc_max_bytes=a.warc_max_bytes,
        limit=a.fetch_limit, progress=progress)
