"""Settings of the page fetcher; the defaults are polite and safe for a crawl of the open web."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_USER_AGENT = "webtext/0.1 (+https://github.com/webtext)"


@dataclass
class FetchConfig:
    """How the fetcher behaves towards the sites it visits and what it accepts from them."""

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = 64               # requests in flight overall
    per_host: int = 2                   # requests in flight to one host (scheme://host:port)
    host_delay: float = 1.0             # seconds between the starts of two requests to a host
    max_crawl_delay: float = 30.0       # a robots.txt Crawl-delay is honoured up to this
    connect_timeout: float = 10.0
    read_timeout: float = 30.0          # longest silence while reading
    total_timeout: float = 60.0         # one request from connect to last byte (slow-drip guard)
    max_body_bytes: int = 5 << 20       # bodies are streamed and cut off past this
    max_redirects: int = 5
    max_retries: int = 2                # on 429, 5xx, timeouts and connection errors
    backoff_base: float = 1.0           # retry n waits backoff_base * 2**n seconds
    max_retry_after: float = 120.0      # a longer Retry-After gives up (and the next run retries)
    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")
    respect_robots: bool = True
    allow_private: bool = False         # --allow-private: switch the SSRF guard off
    trusted_networks: tuple[str, ...] = ()  # networks exempt from the guard (deliberate exceptions)
    warc_max_bytes: int = 128 << 20     # WARC files rotate past this size
    warc_prefix: str = "webtext"
    limit: int | None = None            # fetch at most this many links (a trial run)
    progress: bool = True

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        if self.max_redirects < 0 or self.max_retries < 0 or self.max_body_bytes < 1:
            raise ValueError("max_redirects, max_retries must be >= 0 and max_body_bytes >= 1")
        self.content_types = tuple(t.lower() for t in self.content_types)
        self.trusted_networks = tuple(self.trusted_networks)
