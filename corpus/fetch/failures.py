"""Why a page was not fetched: named reasons, which of them are final, and the failure record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

# Reasons a later run would meet again: the URL is not tried again.
PERMANENT = frozenset({
    "robots_disallowed",    # robots.txt forbids it for our user agent
    "private_address",      # the SSRF guard refused the address (first URL or a redirect)
    "too_many_redirects",
    "redirect_loop",
    "bad_redirect",         # a Location that is missing, malformed or not http(s)
    "bad_url",
    "unsupported_scheme",
    "body_too_large",
    "bad_content_type",     # not HTML, XHTML or plain text
    "http_4xx",             # 404, 410, 403, ... (408 and 429 are retried: see below)
    "tls_error",            # certificate or handshake failure
})
# Reasons that may pass with time: the URL is tried again by the next run.
TRANSIENT = frozenset({
    "timeout",
    "connection_error",     # refused, reset, closed mid-body
    "dns_error",
    "http_429",             # still rate limited after the retries
    "http_5xx",             # still failing after the retries
    "http_other",           # 1xx or a non-standard status
    "robots_unavailable",   # robots.txt answered 5xx or could not be read: RFC 9309 says wait
    "fetch_error",          # an unexpected error in the fetcher itself (logged with its traceback)
})
REASONS = PERMANENT | TRANSIENT


@dataclass
class Failure:
    """A URL that ended without a page, and why."""

    url: str
    reason: str
    status: int | None = None
    detail: str = ""
    final_url: str | None = None  # where the redirects had led when it failed
    attempts: int = 1
    time: str = ""

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown failure reason {self.reason!r}")
        if not self.time:
            self.time = datetime.now(timezone.utc).isoformat(timespec="milliseconds")

    @property
    def permanent(self) -> bool:
        return self.reason in PERMANENT

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "permanent": self.permanent}
