"""URLs: the form a URL is requested in, canonical forms (the dedup key), registered domains, and
matching hosts against domain lists.

Two forms of one URL, for two jobs:

- `request_url`: the URL as posted, only made safe to send (what the fetcher requests and what
  the WARC records). The server decides what its URL means, so nothing that might change the page
  is touched: `?amp` stays `?amp`, `?x=1;y=2` stays as it is, `?ref=v1.0` is kept.
- `canonical_url` / `url_key`: the dedup key, under which spellings of one page are merged
  (scheme and host case, default ports, fragments, tracking parameters, `www.`, a trailing slash).
  It is never fetched.

`canonical_url(request_url(u)) == canonical_url(u)`: a page fetched at its request form is
joined back to its link by key.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from yarl import URL

# Query parameters that only track the click and never change the page.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
    "ref", "ref_src", "ref_url", "referrer", "share", "cmpid", "_ga", "spm",
})
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# A URL that canonical_url would return unchanged (but for an empty path): lower-case scheme and
# host, no user info, port, query or fragment, a path of characters that need no escaping and no
# dot segments (request_url would resolve those and re-spell escapes: such URLs take the full path).
_CANONICAL = re.compile(r"https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
                        r"(?:/(?!\.\.?(?:/|\Z))[A-Za-z0-9._~!$&'()*+,;=:@-]*)*\Z")
# What WHATWG's URL parser removes anywhere in a URL before reading it.
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


@lru_cache(maxsize=1 << 16)
def request_url(url: str) -> str | None:
    """The URL as posted, made safe to send; None if it cannot be parsed at all.

    Only what a browser would do before sending it: surrounding whitespace trimmed (and tabs and
    newlines inside removed), the fragment and any user info dropped, the host lower-cased and
    IDNA-encoded, characters that may not appear in a request percent-encoded (non-ASCII as
    UTF-8), escapes of unreserved characters decoded and dot segments resolved (both by `yarl`,
    which aiohttp would apply anyway). The scheme is not checked here: the fetcher names an
    unsupported one. Idempotent.
    """
    if not isinstance(url, str):  # a dump's `url` of another JSON type
        return None
    try:
        parsed = URL(_TAB_OR_NEWLINE.sub("", url.strip()))
        parsed = parsed.with_fragment(None)
        if parsed.absolute and (parsed.raw_user is not None or parsed.raw_password is not None):
            parsed = parsed.with_user(None)  # credentials in a posted link are not ours to send
        return str(parsed)
    except (ValueError, TypeError, UnicodeError):
        return None


def _canonical_query(query: str) -> str:
    """The query without tracking parameters and empty pieces; what remains is kept as written."""
    kept = [piece for piece in query.split("&") if piece and not _is_tracking(piece.split("=", 1)[0])]
    return "&".join(kept)


# The link harvest asks for the same URL's canonical form several times in a row (the rules,
# the URL key, the kept link): caching it saves a third of the harvest's time.
@lru_cache(maxsize=1 << 16)
def canonical_url(url: str) -> str | None:
    """Canonical form of an http(s) URL, or None when it is not one.

    Starts from `request_url`, then lower-cases scheme and host, drops default ports, user info,
    fragments and tracking parameters, and gives an empty path as "/". Everything else (path
    case, the other parameters, their order and spelling) can change the page, so it stays.
    An IPv6 host keeps its brackets: `http://[::1]:8080/x`.
    """
    if not isinstance(url, str):
        return None
    if _CANONICAL.match(url):
        # Most links already are canonical; parsing is the harvest's hottest call, so skip it.
        return url if url.count("/") > 2 else url + "/"
    safe = request_url(url)
    if safe is None:
        return None
    try:
        parts = urlsplit(safe)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 literal: urlsplit took its brackets off
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", _canonical_query(parts.query), ""))


def host_and_path(canon: str) -> tuple[str, str]:
    """Host and path of a URL that `canonical_url` returned, without urlsplit's cost."""
    netloc, _, tail = canon.split("://", 1)[1].partition("/")
    if ":" in netloc:  # a port or an IPv6 literal: rare, let urlsplit handle it
        return urlsplit(canon).hostname or "", urlsplit(canon).path
    return netloc, "/" + tail.split("?", 1)[0]


def url_key(url: str) -> str | None:
    """The key under which two URLs count as the same page: canonical, without scheme, `www.`
    or a trailing slash.

    The same article is posted as http and https, with and without `www.`; a fetch of either
    lands on the same text.
    """
    canon = canonical_url(url)
    if canon is None:
        return None
    rest = canon.split("://", 1)[1]
    rest = rest[4:] if rest.startswith("www.") else rest
    # `/story/` and `/story` are one page on almost every server (one redirects to the other).
    path, sep, query = rest.partition("?")
    if path.endswith("/") and path.count("/") > 1:
        path = path.rstrip("/")
    return path + sep + query


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # The suffix list snapshot bundled with tldextract: nothing is fetched at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registered_domain(host_or_url: str) -> str | None:
    """The registered domain (eTLD+1) of a host or URL, e.g. `news.bbc.co.uk` -> `bbc.co.uk`."""
    ext = _extractor()(host_or_url.lower())
    if ext.top_domain_under_public_suffix:
        return ext.top_domain_under_public_suffix
    # No public suffix (an intranet name, `.example`, an IP address): the host is the domain.
    host = urlsplit(host_or_url.lower()).hostname if "://" in host_or_url else host_or_url.lower()
    return host or None


@lru_cache(maxsize=65536)
def _host_and_parents(host: str) -> tuple[str, ...]:
    """`a.b.example` -> (`a.b.example`, `b.example`, `example`)."""
    labels = host.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


def host_listed(host: str, domains: Collection[str]) -> bool:
    """True if `host` or any parent domain of it is in `domains` (`a.b.example` matches `b.example`).

    The one rule for block and allow lists of domains: a listed domain covers its subdomains.
    """
    names = _host_and_parents(host)  # the link rules ask about one host against several lists
    if isinstance(domains, (set, frozenset)):
        return not domains.isdisjoint(names)
    return any(name in domains for name in names)
