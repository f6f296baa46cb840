"""Shared constants and helpers of the sample generator: file names, seeds, clocks, the
reference URL canonicalisation, and atomic writes."""

from __future__ import annotations

import datetime as dt
import pathlib
import random
import string
from typing import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sample_html as H

SEED = "webtext-samples-v1"

REDDIT_DUMP = "RS_sample.zst"
WEBTEXT_WARC = "webtext_pages.warc.gz"
CC_WARC = "cc_sample.warc.gz"
CC_TRUNCATED_WARC = "cc_sample_truncated.warc.gz"
LABELS = "labels.json.gz"

# Dump time range (GPT-2 WebText used links posted before December 2017).
DUMP_START = dt.datetime(2015, 1, 1, tzinfo=dt.timezone.utc)
DUMP_END = dt.datetime(2017, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
# Fixed "fetch" clocks for the two WARCs: after the dump, like a real crawl of its links.
WEBTEXT_FETCH_START = dt.datetime(2018, 1, 22, 3, 0, 0, tzinfo=dt.timezone.utc)
CC_FETCH_START = dt.datetime(2018, 1, 16, 18, 0, 0, tzinfo=dt.timezone.utc)
CC_CRAWL = "CC-MAIN-2018-05"

# zstd window of 2**28: like the real Pushshift dumps (compressed with --long), a reader must
# pass max_window_size > 2**27 to decompress it, so a reader that works here works there too.
ZSTD_LEVEL = 10  # 19 saves ~25 KB but takes 4 s; the tests regenerate the samples
ZSTD_WINDOW_LOG = 28


def rng_for(*key: object) -> random.Random:
    """An independent, reproducible random stream per purpose (string seeds hash with SHA-512,
    independent of PYTHONHASHSEED), so changing one part never shifts another part's output."""
    return random.Random(":".join([SEED, *map(str, key)]))


TRACKING_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "fbclid", "gclid")


def canonicalize_url(url: str) -> str:
    """The canonical form used for WARC-Target-URI in webtext_pages.warc.gz.

    https scheme, lower-case host, no default port, no fragment, no tracking parameters
    (utm_*, fbclid, gclid; other parameters kept in order), no trailing slash except for "/".
    Every URL variant in the dump maps back to its page's WARC-Target-URI under this rule.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, urlencode(query), ""))


def make_site(rng: random.Random, host: str, name: str, tagline: str, sections: Iterable[str]) -> H.Site:
    return H.Site(
        host=host, name=name, tagline=tagline,
        theme=rng.choice(H.THEMES),
        url_style=rng.choice(H.URL_STYLES),
        typography=rng.choices(["ascii", "unicode", "entities"], [5, 3, 2])[0],
        ip=H.make_ip(rng),
        server=rng.choice(H.SERVERS),
        sections=tuple(sections),
    )


def atomic_write(path: pathlib.Path, data: bytes) -> None:
    """Write to a temporary name, then rename: a crash never leaves a half-written sample."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def rand_token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))
