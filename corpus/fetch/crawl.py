"""Fetch a list of links into WARC files: the workers, the politeness queue and the logs.

    report = fetch_links(urls, Path("out/_fetch"), FetchConfig())

Runs resume: links done by an earlier run (fetched, or failed for good) are skipped, and the
WARC file a killed run left open is finished first (see `corpus.fetch.state`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from tqdm import tqdm

from corpus.fetch.config import DEFAULT_USER_AGENT, FetchConfig
from corpus.fetch.failures import Failure
from corpus.fetch.fetcher import Page, PageFetcher
from corpus.fetch.journal import Journal
from corpus.fetch.politeness import HostQueue, interleave_hosts
from corpus.fetch.safety import AddressPolicy, SafeResolver
from corpus.fetch.state import FAILURE_LOG, FETCHED_LOG, FetchState
from corpus.fetch.warc_writer import RotatingWarcWriter
from corpus.steps import StepStats

log = logging.getLogger(__name__)

ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"
# Names that never reach the open web (RFC 2606, RFC 6761, RFC 6762, RFC 8375).
LOCAL_SUFFIXES = ("localhost", "test", "example", "invalid", "local", "internal", "home.arpa",
                  "example.com", "example.net", "example.org")


def is_local_host(host: str) -> bool:
    """True for a host of no one else's: a reserved name (`*.test`, `localhost`) or a non-public address."""
    host = host.lower().rstrip(".")
    try:
        return not ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).is_global
    except ValueError:
        return any(host == s or host.endswith("." + s) for s in LOCAL_SUFFIXES)


def default_agent_warning(urls: Iterable[str], user_agent: str) -> str | None:
    """The warning for a crawl of other people's sites under the default User-Agent, or None.

    The default names the software but no one to contact; a site owner who sees a crawl should
    be able to reach whoever runs it.
    """
    if user_agent != DEFAULT_USER_AGENT:
        return None
    public = next((host for url in urls if (host := _hostname(url)) and not is_local_host(host)), None)
    if public is None:
        return None
    return (f"fetching from public hosts (e.g. {public}) with the default User-Agent {DEFAULT_USER_AGENT!r}, "
            f"which names no contact. Site owners should be able to reach whoever runs a crawl: pass "
            f"--user-agent 'webtext/0.1 (+https://your.site/crawler; you@example.org)'.")


def _hostname(url: str) -> str:
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


@dataclass
class FetchReport:
    """What a fetch run did and where its output is."""

    stats: StepStats                     # over all links given: fetched (this run or before) or why not
    warc_files: list[Path]               # every finished WARC in the fetch folder
    fetched_now: int = 0
    failed_now: int = 0
    skipped_done: int = 0                # done by an earlier run
    redirect_aliases: dict[str, str] = field(default_factory=dict)


def _session(config: FetchConfig, policy: AddressPolicy, resolver: AbstractResolver | None) -> aiohttp.ClientSession:
    inner = resolver or aiohttp.ThreadedResolver()
    connector = aiohttp.TCPConnector(
        limit=config.concurrency + 8, limit_per_host=0, ttl_dns_cache=300,
        resolver=inner if policy.allow_all else SafeResolver(inner, policy))
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, trust_env=False,  # never route through a proxy from the env
        cookie_jar=aiohttp.DummyCookieJar(),  # stateless: one site's cookies never travel to another
        auto_decompress=False,  # the WARC keeps the body as sent; readers decode Content-Encoding
        headers={"User-Agent": config.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"})


def _page_entry(page: Page, location) -> dict:
    ex = page.exchange
    return {"url": page.url, "final_url": page.final_url, "status": ex.status, "warc": location.warc,
            "offset": location.offset, "end": location.end, "ip": ex.ip,
            "time": ex.date.isoformat(timespec="milliseconds"), "redirects": page.redirects}


async def crawl(urls: Sequence[str], out_dir: Path | str, config: FetchConfig,
                resolver: AbstractResolver | None = None) -> FetchReport:
    """Fetch every link of `urls` not done yet; see `fetch_links`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = FetchState.load(out_dir)
    urls = list(dict.fromkeys(urls))
    todo = [u for u in urls if not state.is_done(u)]
    skipped = len(urls) - len(todo)
    if config.limit is not None:
        todo = todo[: max(0, config.limit)]
    if skipped:
        log.info("resuming: %d of %d links done by an earlier run", skipped, len(urls))
    if warning := default_agent_warning(todo, config.user_agent):
        log.warning(warning)
    policy = AddressPolicy.build(config.allow_private, config.trusted_networks)
    queue = HostQueue(interleave_hosts(todo), config.per_host, config.host_delay,
                      window=max(256, 8 * config.concurrency), probe_first=config.respect_robots)
    counts = {"fetched": 0, "failed": 0}
    info = {"robots": "obey" if config.respect_robots else "ignore", "http-header-user-agent": config.user_agent}

    with RotatingWarcWriter(out_dir, config.warc_prefix, config.warc_max_bytes, info) as warcs, \
            Journal(out_dir / FETCHED_LOG) as fetched_log, Journal(out_dir / FAILURE_LOG) as failure_log, \
            tqdm(total=len(todo), desc="fetching", unit="page", disable=not config.progress) as bar:
        async with _session(config, policy, resolver) as session:
            def robots_known(host: str, crawl_delay: float | None) -> None:
                if crawl_delay:
                    queue.set_host_delay(host, min(crawl_delay, config.max_crawl_delay))
                queue.mark_known(host)

            fetcher = PageFetcher(session, config, policy, on_robots_rules=robots_known, hosts=queue)

            def record(result: Page | Failure) -> None:
                # Written in the event loop, one page at a time: the log line follows the WARC bytes.
                if isinstance(result, Page):
                    entry = _page_entry(result, warcs.write(result))
                    fetched_log.append(entry)
                    state.record_page(entry)
                    counts["fetched"] += 1
                else:
                    entry = result.to_dict()
                    failure_log.append(entry)
                    state.record_failure(entry)
                    counts["failed"] += 1
                    log.debug("%s: %s %s", result.url, result.reason, result.detail)
                bar.update(1)

            async def worker() -> None:
                while (turn := await queue.get()) is not None:
                    try:
                        result = await fetcher.fetch(turn.url, turn)  # releases the turns it holds
                    except Exception as err:  # a bug on one page must not stop the crawl or lose the URL
                        log.exception("unexpected error fetching %s", turn.url)
                        result = Failure(turn.url, "fetch_error", detail=f"{type(err).__name__}: {err}")
                    record(result)

            await asyncio.gather(*(worker() for _ in range(min(config.concurrency, max(1, len(todo))))))

    log.info("fetched %d pages, %d failures this run; %d WARC files in %s",
             counts["fetched"], counts["failed"], len(state.warc_files()), out_dir)
    return FetchReport(state.stats(urls), state.warc_files(), counts["fetched"], counts["failed"], skipped,
                       state.redirect_aliases())


class FetchTerminated(SystemExit):
    """SIGTERM stopped the fetch after finishing its WARC file; a rerun continues."""


async def _crawl_until_terminated(urls, out_dir, config, resolver) -> FetchReport:
    """`crawl`, with SIGTERM turned into a cancellation so the open WARC file is finished."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated = []

    def on_sigterm() -> None:
        terminated.append(True)
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        pass
    try:
        return await crawl(urls, out_dir, config, resolver)
    except asyncio.CancelledError:
        if terminated:
            raise FetchTerminated("fetch stopped by SIGTERM; its output is complete, rerun to continue") from None
        raise
    finally:
        try:
            loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass


def fetch_links(urls: Sequence[str], out_dir: Path | str, config: FetchConfig | None = None,
                resolver: AbstractResolver | None = None) -> FetchReport:
    """Fetch `urls` into WARC files under `out_dir`, politely and safely; resumable.

    Each link ends as a page in a WARC file (`fetched.jsonl` says where) or as a line in
    `failures.jsonl` with a named reason. `resolver` replaces DNS (tests and benchmarks map
    host names to a local server with it); the SSRF guard still checks what it returns.
    """
    config = config or FetchConfig()
    log.info("fetch settings: %s", {k: v for k, v in asdict(config).items() if k != "progress"})
    return asyncio.run(_crawl_until_terminated(urls, out_dir, config, resolver))
