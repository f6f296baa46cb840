"""Attach Reddit link data to fetched pages: WebText keeps only pages of harvested links.

At OpenWebText's scale (~23M links) the links cannot be a dict in every worker: reading the table
costs ~16 µs and ~835 B per link, per WARC. The join reads an on-disk index instead
(`ensure_link_index`, built once per run in the driver, streamed from the sorted links table):
an SQLite B-tree of URL key -> the three columns the join copies, plus the final URL of every link
the fetcher reached by redirects. A page costs one indexed lookup, O(log links), so the cost of a
WARC's join does not grow with the number of links, for WARCs our fetcher wrote and for any other
(`--pages`, Common Crawl captures) alike.

SQLite (the standard library's) rather than DuckDB or a Parquet scan: point lookups by key are
what a B-tree is for; a columnar scan filtered by key touches every row group once a WARC's keys
are spread over the key space, as they are.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow.parquet as pq

from corpus.fetch.journal import read_journal
from corpus.fetch.state import fetch_logs
from corpus.records import Document
from corpus.sources.links import LINKS_ROW_GROUP, Link
from corpus.steps import Filter
from corpus.urls import url_key
from corpus.writers.atomic import atomic_path
from corpus.writers.shard_writer import file_sha256

log = logging.getLogger(__name__)

INDEX_VERSION = 1


class JoinedLink(NamedTuple):
    """What the join copies from a link onto its page."""

    karma: int
    subreddit: str | None
    reddit_id: str


class LinkJoin(Filter):
    """Keeps pages whose URL is a harvested link and copies its karma and subreddit.

    The join is by URL key (`corpus.urls.url_key`), never by URL text: a link is fetched as posted
    (`?amp`, tracking parameters and all) and its page is named by the URL requested, while
    `links` is keyed by the canonical form. `url_key` gives all three the same key.

    `links` is anything with `get(key)`: a `LinkIndex` (the pipeline), or a dict of `Link` by key
    (`read_links`, for small tables and tests).
    """

    name = "join_links"

    def __init__(self, links: Mapping[str, Link] | LinkIndex) -> None:
        super().__init__()
        self.links = links

    def filter(self, doc: Document) -> bool | str:
        link = self.links.get(url_key(doc.url) or "")
        if link is None:
            return "not_a_harvested_link"
        doc.karma = link.karma
        doc.subreddit = link.subreddit
        doc.reddit_id = link.reddit_id
        return True


class LinkIndex:
    """The join's read-only view of an index written by `ensure_link_index`: `get(url_key)`.

    Opened per worker (cheap: no table is read); each `get` is one B-tree lookup.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no link index (built by ensure_link_index)")
        # immutable: the file never changes while it is read (a new one is renamed over it), so
        # SQLite takes no locks and any number of workers read it at once.
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    def get(self, key: str, default: Any = None) -> JoinedLink | Any:
        """The link data for a URL key, or `default`."""
        row = self._db.execute("SELECT karma, subreddit, reddit_id FROM links WHERE key = ?", (key,)).fetchone()
        return JoinedLink(*row) if row is not None else default

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM links").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __getstate__(self) -> dict:  # a worker opens the file again rather than pickling a connection
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])


def _identity(links_path: Path, logs: list[Path]) -> dict[str, Any]:
    """What the index depends on: the links table's bytes and the fetch logs' lengths.

    Logs only grow, so their total changes whenever any of them (the folder's own or a task's) does.
    """
    log_size = sum(p.stat().st_size for p in logs)
    return {"version": INDEX_VERSION, "links_sha256": file_sha256(links_path), "fetch_log_bytes": log_size}


def _stored_identity(index_path: Path) -> dict[str, Any] | None:
    if not index_path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
        try:
            return dict(db.execute("SELECT name, value FROM meta").fetchall())
        finally:
            db.close()
    except sqlite3.Error:
        return None


def ensure_link_index(links_path: Path | str, index_path: Path | str, fetch_dir: Path | str | None = None) -> str:
    """Build the join's index of `links_path` (plus the redirects logged in `fetch_dir`) at
    `index_path`, atomically, unless the one there was built from the same inputs.
    Returns the links table's sha256."""
    links_path, index_path = Path(links_path), Path(index_path)
    logs = fetch_logs(fetch_dir) if fetch_dir else []  # the folder's log, or each task's (a sharded fetch)
    identity = _identity(links_path, logs)
    if _stored_identity(index_path) == identity:
        return identity["links_sha256"]
    with atomic_path(index_path) as tmp:
        _build(links_path, tmp, logs, identity)
    return identity["links_sha256"]


def _build(links_path: Path, tmp: Path, logs: list[Path], identity: dict[str, Any]) -> None:
    db = sqlite3.connect(tmp)
    try:
        # A throwaway file until it is renamed: no journal, no fsync per statement (atomic_path
        # fsyncs the finished file).
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value)")
        db.executemany("INSERT INTO meta VALUES (?, ?)", identity.items())
        db.execute("CREATE TABLE links (key TEXT PRIMARY KEY, karma INTEGER, subreddit TEXT, reddit_id TEXT) "
                   "WITHOUT ROWID")
        table = pq.ParquetFile(links_path)
        columns = ["url_key", "karma", "subreddit", "reddit_id"]
        for batch in table.iter_batches(batch_size=LINKS_ROW_GROUP, columns=columns):
            # OR REPLACE: a table of another origin might repeat a key; the last row wins, as in read_links.
            db.executemany("INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?)",
                           zip(*(batch.column(c).to_pylist() for c in columns)))
        if logs:
            _add_redirects(db, logs)
        db.commit()
    finally:
        db.close()


def _add_redirects(db: sqlite3.Connection, logs: list[Path]) -> None:
    """The final URL of each redirected fetch, as another key of its link.

    The same rules as before the index existed (`read_redirect_aliases`, then a dict): for a
    final URL logged more than once, its last link counts; aliases go in the order their final
    URL first appeared; a key that is a link (or an earlier alias) already is not replaced. The
    logs (a sharded fetch has one a task) are read one after the other, in `fetch_logs` order, and
    staged in SQLite, not in a dict: a crawl has millions of lines.
    """
    db.execute("CREATE TEMP TABLE hops (seq INTEGER PRIMARY KEY, final_url TEXT, link_url TEXT)")
    rows = ((e["final_url"], e["url"]) for log_path in logs for e in read_journal(log_path)
            if e.get("final_url") and e.get("url") and e["final_url"] != e["url"])
    db.executemany("INSERT INTO hops (final_url, link_url) VALUES (?, ?)", rows)
    db.execute("CREATE INDEX temp.hops_final ON hops (final_url, seq)")
    cursor = db.cursor()
    cursor.execute("""
        SELECT h.final_url, h.link_url FROM hops h
        JOIN (SELECT final_url, min(seq) AS first, max(seq) AS last FROM hops GROUP BY final_url) m
          ON h.final_url = m.final_url AND h.seq = m.last
        ORDER BY m.first""")
    insert = db.cursor()
    n = 0
    for final_url, link_url in cursor:
        final_key, link_key = url_key(final_url), url_key(link_url)
        if final_key and link_key:
            insert.execute("INSERT OR IGNORE INTO links SELECT ?, karma, subreddit, reddit_id FROM links WHERE key = ?",
                           (final_key, link_key))
            n += insert.rowcount
    db.execute("DROP TABLE temp.hops")
    log.info("link index: %d redirect aliases", n)
