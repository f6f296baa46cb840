"""The record that flows through every pipeline step."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Document:
    """One web document on its way from an archive to a shard.

    Fields mirror the shard schema (see `corpus.writers.shard_writer.SCHEMA`); `html` is only carried between
    the reader and the extractor and is never written out.
    """

    id: str
    url: str
    source: str
    text: str = ""
    html: bytes | None = None
    charset: str | None = None
    domain: str | None = None
    lang: str | None = None
    lang_score: float | None = None
    quality_score: float | None = None
    karma: int | None = None
    subreddit: str | None = None
    reddit_id: str | None = None
    warc_file: str | None = None
    warc_record_id: str | None = None
    fetch_time: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def document_id(source: str, key: str) -> str:
    """A stable id: the same source and canonical URL (or WARC-Record-ID) always give the same id."""
    return hashlib.blake2b(f"{source}\x00{key}".encode("utf-8"), digest_size=12).hexdigest()
