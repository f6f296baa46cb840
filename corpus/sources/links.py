"""From Reddit submissions to the WebText link list: GPT-2's karma rule plus OpenWebText's hygiene."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.sources.reddit_dumps import Submission
from corpus.steps import StepStats
from corpus.urls import canonical_url, host_and_path, host_listed, registered_domain, request_url, url_key
from corpus.writers.atomic import atomic_path

# Every list below is matched with `host_listed`: a listed domain covers its subdomains.
# Reddit's own pictures, videos and their previews: a link to them is no outbound page.
REDDIT_MEDIA_HOSTS = frozenset({
    "i.redd.it", "v.redd.it", "preview.redd.it", "external-preview.redd.it",
    "reddituploads.com",  # i.reddituploads.com, Reddit's image host before i.redd.it
    "redditmedia.com",    # i., g., a.thumbs., b.thumbs. ...
})
# Reddit itself: comment pages, short links, static files.
REDDIT_DOMAINS = frozenset({"reddit.com", "redd.it", "redditstatic.com"})
WIKIPEDIA_DOMAINS = frozenset({"wikipedia.org", "wikimedia.org"})
# Hosts that serve pictures, video or audio rather than text pages.
MEDIA_DOMAINS = frozenset({
    "imgur.com", "gfycat.com", "youtube.com", "youtu.be", "vimeo.com", "streamable.com",
    "giphy.com", "flickr.com", "instagram.com", "twitch.tv", "soundcloud.com", "spotify.com",
    "tiktok.com", "dailymotion.com",
})
# File types with no prose to extract (OpenWebText's extension blocklist, abridged).
NON_TEXT_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".gifv", ".webp", ".bmp", ".svg", ".tif", ".tiff", ".ico",
    ".mp4", ".webm", ".mov", ".avi", ".mkv", ".wmv", ".flv", ".m4v", ".mp3", ".wav", ".ogg",
    ".flac", ".m4a", ".pdf", ".zip", ".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".exe",
    ".dmg", ".apk", ".iso", ".bin", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".csv",
    ".json", ".xml", ".swf", ".torrent",
})

INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
LINKS_ROW_GROUP = 1 << 16  # rows per row group of the links table: bounded reads, useful statistics
LINKS_SCHEMA = pa.schema([
    pa.field("url", pa.string(), nullable=False),
    pa.field("url_key", pa.string(), nullable=False),
    pa.field("posted_url", pa.string(), nullable=False),
    pa.field("domain", pa.string()),
    pa.field("karma", pa.int32(), nullable=False),
    pa.field("best_karma", pa.int32(), nullable=False),
    pa.field("n_submissions", pa.int32(), nullable=False),
    pa.field("subreddits", pa.list_(pa.string())),
    pa.field("reddit_id", pa.string(), nullable=False),
    pa.field("subreddit", pa.string()),
    pa.field("first_created_utc", pa.int64()),
    pa.field("title", pa.string()),
])


@dataclass
class LinkRules:
    """Which submissions give WebText links. Defaults reproduce GPT-2 / OpenWebText."""

    min_karma: int = 3
    karma_mode: str = "submission"  # "submission" (OpenWebText) or "url" (OpenWebText2: summed)
    drop_over_18: bool = True
    drop_wikipedia: bool = True  # GPT-2 removed Wikipedia to avoid overlap with test sets
    domain_blocklist: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.karma_mode not in ("submission", "url"):
            raise ValueError(f"karma_mode must be 'submission' or 'url', not {self.karma_mode!r}")


@dataclass
class Link:
    """One kept URL with what its submissions say about it."""

    url: str  # the canonical form (https preferred): what the link is, never what is fetched
    url_key: str  # the dedup key: pages join their link by it
    posted_url: str  # the best submission's URL as posted, made safe to send: what is fetched
    domain: str | None
    karma: int  # the karma the threshold was applied to: best (submission mode) or sum (url mode)
    best_karma: int
    n_submissions: int
    subreddits: list[str]
    reddit_id: str  # the best-scored submission
    subreddit: str | None  # ... and where it was posted
    first_created_utc: int | None
    title: str | None


def rejection_reason(sub: Submission, rules: LinkRules) -> str | None:
    """Why a submission gives no link, or None if its link is a candidate."""
    return _rule(sub, rules)[0]


def _rule(sub: Submission, rules: LinkRules) -> tuple[str | None, str | None]:
    """(why the submission gives no link or None, its canonical URL): the harvest needs both."""
    if sub.is_self:
        return "self_post", None
    if not sub.url:
        return "missing_url", None
    canon = canonical_url(sub.url)
    if canon is None:
        return "bad_url", None
    if sub.over_18 and rules.drop_over_18:
        return "over_18", canon
    host, path = host_and_path(canon)  # this function runs for every submission
    if host_listed(host, REDDIT_MEDIA_HOSTS):  # before reddit_link: i.redd.it is media, not a thread
        return "reddit_media", canon
    if host_listed(host, REDDIT_DOMAINS):
        return "reddit_link", canon
    if rules.drop_wikipedia and host_listed(host, WIKIPEDIA_DOMAINS):
        return "wikipedia", canon
    if host_listed(host, MEDIA_DOMAINS):
        return "media_host", canon
    # posixpath rather than PurePosixPath: the same suffix, at a fraction of the cost.
    if posixpath.splitext(path.rstrip("/"))[1].lower() in NON_TEXT_EXTENSIONS:
        return "non_text_extension", canon
    if host_listed(host, rules.domain_blocklist):
        return "blocked_domain", canon
    return None, canon


def candidate_reason(sub: Submission, rules: LinkRules) -> tuple[str | None, str | None]:
    """The `link_rules` step for one submission: (why it gives no link or None, its canonical URL).

    `rejection_reason` plus the one rule that depends on the karma mode: a submission without a
    score cannot pass a per-submission threshold.
    """
    reason, canon = _rule(sub, rules)
    if reason is None and sub.score is None and rules.karma_mode == "submission":
        reason = "missing_score"
    return reason, canon


class LinkHarvester:
    """Aggregates submissions into links in memory, keeping per-step counters.

    Two steps are counted, both in submissions: `link_rules` (self posts, NSFW, media, ...) and
    `link_karma` (below the karma threshold, or merged into an earlier submission of the same URL).

    Every candidate is held as a Python object (~650 B): for tests, the live API's few thousand
    submissions and other small inputs. Dumps go through `harvest_to_table`, which gives the same
    table out of core; this class is the reference its tests compare against.
    """

    def __init__(self, rules: LinkRules) -> None:
        self.rules = rules
        self.rule_stats = StepStats("link_rules")
        self.karma_stats = StepStats("link_karma")
        self._by_key: dict[str, list[Submission]] = {}

    def add(self, subs: Iterable[Submission]) -> None:
        for sub in subs:
            self.rule_stats.n_in += 1
            reason, _ = candidate_reason(sub, self.rules)
            if reason:
                self.rule_stats.drop(reason)
                continue
            self.rule_stats.n_out += 1
            self._by_key.setdefault(url_key(sub.url), []).append(sub)

    def links(self) -> list[Link]:
        """The kept links, sorted by URL key so the output does not depend on input order."""
        out: list[Link] = []
        stats = self.karma_stats
        for key in sorted(self._by_key):
            subs = self._by_key[key]
            stats.n_in += len(subs)
            scores = [s.score or 0 for s in subs]
            if self.rules.karma_mode == "submission":
                passing = [s for s in subs if (s.score or 0) >= self.rules.min_karma]
                stats.drop("below_min_karma", len(subs) - len(passing))
                karma = max(scores)
            else:
                passing = subs if sum(scores) >= self.rules.min_karma else []
                stats.drop("below_min_karma", len(subs) - len(passing))
                # The shard column is int32 (the schema of record); a sum past it is clamped, not lost.
                karma = max(INT32_MIN, min(sum(scores), INT32_MAX))
            if not passing:
                continue
            stats.n_out += 1
            stats.drop("merged_duplicate_url", len(passing) - 1)
            best = max(subs, key=lambda s: (s.score or 0, s.id))
            # The link's name: the https spelling if any; the key ignores the scheme anyway.
            canon = sorted((canonical_url(s.url) for s in subs), key=lambda u: (not u.startswith("https"), u))[0]
            times = [s.created_utc for s in subs if s.created_utc is not None]
            first = min(subs, key=lambda s: (s.created_utc is None, s.created_utc or 0, s.id))
            out.append(Link(
                url=canon, url_key=key, posted_url=posted_url(best, subs),
                domain=registered_domain(host_and_path(canon)[0]),
                karma=karma, best_karma=max(scores), n_submissions=len(subs),
                subreddits=sorted({s.subreddit for s in subs if s.subreddit}),
                reddit_id=best.id, subreddit=best.subreddit, first_created_utc=min(times) if times else None,
                title=first.title,
            ))
        return out


def posted_url(best: Submission, subs: list[Submission]) -> str:
    """The URL to fetch for a link: as the best submission posted it, made safe to send.

    Never the canonical form: a server may tell `?amp` from `?amp=`, and a parameter that tracks
    clicks on one site (`ref`) names a branch on another. The one change: a plain-http URL that
    another submission posted, identical, over https is fetched over https.
    """
    url = request_url(best.url) or best.url.strip()  # always parsed: the link rules did the same
    if url.startswith("http://"):
        https = "https://" + url[len("http://"):]
        if any(request_url(s.url) == https for s in subs):
            return https
    return url


def write_links(links: list[Link], path: Path) -> None:
    """Write the links table atomically."""
    table = pa.Table.from_pylist([vars(link) for link in links], schema=LINKS_SCHEMA)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=LINKS_ROW_GROUP)


def read_links(path: Path) -> dict[str, Link]:
    """The links table as a dict by URL key.

    A table written before `posted_url` existed fetches its canonical `url`, as it did then.
    """
    rows = pq.read_table(path).to_pylist()
    return {row["url_key"]: Link(**{"posted_url": row["url"], **row}) for row in rows}


def iter_posted_urls(path: Path | str, batch_rows: int = LINKS_ROW_GROUP) -> Iterator[str]:
    """Every link's URL to fetch, streamed from the table in batches (never the whole table at once).

    A table written before `posted_url` existed gives its canonical `url`, as `read_links` does.
    """
    table = pq.ParquetFile(path)
    column = "posted_url" if "posted_url" in table.schema_arrow.names else "url"
    for batch in table.iter_batches(batch_size=batch_rows, columns=[column]):
        yield from batch.column(0).to_pylist()
