"""Settings of the page fetcher; the defaults are polite and safe for a crawl of the open web."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.cli_flags import FETCHING, flag

# The software's name and version, and nothing it cannot vouch for: the project has no website,
# and the person to contact about a crawl is whoever runs it, whom only they can name. So the
# default carries no contact, and `crawl` warns when it is sent to the open web (see
# `default_agent_warning`): for a real crawl, pass `--user-agent "webtext/0.1 (+URL; EMAIL)"` with
# your own page and address. Keep the `webtext` product token: robots.txt groups are matched by it.
DEFAULT_USER_AGENT = "webtext/0.1"


@dataclass
class FetchConfig:
    """How the fetcher behaves towards the sites it visits and what it accepts from them."""

    user_agent: str = field(default=DEFAULT_USER_AGENT, metadata=flag(
        "User-Agent header; for the open web add your contact: 'webtext/0.1 (+https://you.example/bot; you@example.org)'",
        name="--user-agent",
        group=FETCHING))
    concurrency: int = field(default=64, metadata=flag("requests in flight",
            name="--concurrency", minimum=1, group=FETCHING))
    per_host: int = field(default=2, metadata=flag(  # a host is scheme://host:port
        "requests in flight per host", name="--per-host", minimum=1, group=FETCHING))
    host_delay: float = field(default=1.0, metadata=flag(
        "seconds between request starts to one host", name="--host-delay", minimum=0, group=FETCHING))
    max_crawl_delay: float = 30.0       # a robots.txt Crawl-delay (fractions too) is honoured up to this
    connect_timeout: float = field(default=10.0, metadata=flag("seconds to connect",
            name="--connect-timeout", minimum=0, group=FETCHING))
    read_timeout: float = field(default=30.0, metadata=flag(
        "longest silence while reading, seconds", name="--read-timeout", minimum=0, group=FETCHING))
    total_timeout: float = field(default=60.0, metadata=flag(  # the slow-drip guard
        "one request, connect to last byte, seconds", name="--total-timeout", minimum=0, group=FETCHING))
    max_body_bytes: int = field(default=5 << 20, metadata=flag(
        "a larger body is dropped (body_too_large)", name="--max-body", metavar="BYTES", minimum=1, group=FETCHING))
    max_redirects: int = field(default=5, metadata=flag("redirects followed",
            name="--max-redirects", minimum=0, group=FETCHING))
    max_retries: int = field(default=2, metadata=flag(
        "retries on 429, 5xx, timeouts and connection errors", name="--max-retries", minimum=0, group=FETCHING))
    backoff_base: float = 1.0           # retry n waits backoff_base * 2**n seconds
    max_retry_after: float = 120.0      # a longer Retry-After gives up (and the next run retries)
    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")
    respect_robots: bool = field(default=True, metadata=flag(
        "do not read robots.txt (only for your own sites)", name="--ignore-robots", group=FETCHING))
    allow_private: bool = field(default=False, metadata=flag(
        "switch the SSRF guard off: allow loopback/private/link-local addresses (tests, intranets)",
        name="--allow-private",
        group=FETCHING))
    trusted_networks: tuple[str, ...] = ()  # networks exempt from the guard (deliberate exceptions)
    warc_max_bytes: int = field(default=128 << 20, metadata=flag(
        "WARC files rotate past this size", name="--warc-max-bytes", metavar="BYTES", minimum=1, group=FETCHING))
    warc_prefix: str = "webtext"
    limit: int | None = field(default=None, metadata=flag(
        "fetch at most N links this run", name="--fetch-limit", metavar="N", minimum=0, group=FETCHING))
    progress: bool = True

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        if self.max_redirects < 0 or self.max_retries < 0 or self.max_body_bytes < 1:
            raise ValueError("max_redirects, max_retries must be >= 0 and max_body_bytes >= 1")
        self.content_types = tuple(t.lower() for t in self.content_types)
        self.trusted_networks = tuple(self.trusted_networks)
