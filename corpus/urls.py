"""URLs: canonical forms (the dedup key), registered domains, and matching hosts against domain lists."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the click and never change the page.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
    "ref", "ref_src", "ref_url", "referrer", "share", "cmpid", "_ga", "spm",
})
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# A URL that canonical_url would return unchanged (but for an empty path): lower-case scheme and
# host, no user info, port, query or fragment, a path of safe characters.
_CANONICAL = re.compile(r"https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?\Z")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


# The link harvest asks for the same URL's canonical form several times in a row (the rules,
# the URL key, the kept link): caching it saves a third of the harvest's time.
@lru_cache(maxsize=1 << 16)
def canonical_url(url: str) -> str | None:
    """Canonical form of an http(s) URL, or None when it is not one.

    Lower-cases scheme and host, drops default ports, user info, fragments and tracking
    parameters, and gives an empty path as "/". Everything else (path case, the order of
    the remaining parameters) can change the page, so it stays.
    """
    if _CANONICAL.match(url):
        # Most links already are canonical; urlsplit is the harvest's hottest call, so skip it.
        return url if url.count("/") > 2 else url + "/"
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = parts.query and urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                                       if not _is_tracking(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


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


def host_listed(host: str, domains: Collection[str]) -> bool:
    """True if `host` or any parent domain of it is in `domains` (`a.b.example` matches `b.example`).

    The one rule for block and allow lists of domains: a listed domain covers its subdomains.
    """
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))
