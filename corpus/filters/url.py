"""URL filter: blocked domains and words in the URL (adult content, spam)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from corpus.records import Document
from corpus.steps import Filter
from corpus.urls import host_listed

# A short built-in list of words that mark adult or spam sites when they appear as a token of the
# URL. Real runs should add a full domain blocklist (e.g. UT1's "adult" list) with --url-blocklist.
DEFAULT_BANNED_WORDS = frozenset({
    "porn", "porno", "xxx", "sex", "sexy", "nude", "nudes", "escort", "escorts", "camgirl", "hentai",
    "casino", "viagra", "cialis", "replica", "payday",
})
_TOKEN = re.compile(r"[a-z0-9]+")


def load_domain_list(path: str | Path) -> frozenset[str]:
    """One domain per line; blank lines and `#` comments ignored."""
    domains = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            domains.add(line)
    return frozenset(domains)


class URLFilter(Filter):
    """Drops documents whose host (or a parent domain) is blocked, or whose URL has a banned word."""

    name = "url"

    def __init__(self, blocked_domains: frozenset[str] = frozenset(),
                 banned_words: frozenset[str] = DEFAULT_BANNED_WORDS) -> None:
        super().__init__()
        self.blocked_domains = blocked_domains
        self.banned_words = banned_words

    def filter(self, doc: Document) -> bool | str:
        host = (urlsplit(doc.url).hostname or "").lower()
        if host_listed(host, self.blocked_domains):
            return "url_blocked_domain"
        if self.banned_words.intersection(_TOKEN.findall(doc.url.lower())):
            return "url_banned_word"
        return True
