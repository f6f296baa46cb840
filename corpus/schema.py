"""The shard of record's schema: one row per document, the same columns for every source.

`document_row` and `row_document` turn a `Document` into a shard row and back; writers and readers
both go through them, so the schema is written down once.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from corpus.records import Document

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("quality_score", pa.float32()),
        pa.field("karma", pa.int32()),
        pa.field("subreddit", pa.string()),
        pa.field("reddit_id", pa.string()),
        pa.field("warc_file", pa.string()),
        pa.field("warc_record_id", pa.string()),
        pa.field("fetch_time", pa.timestamp("ms", tz="UTC")),
        pa.field("n_chars", pa.int32(), nullable=False),
        pa.field("n_words", pa.int32(), nullable=False),
    ]
)


def document_row(doc: Document) -> dict[str, Any]:
    """The shard row of a document (the schema's columns, in order)."""
    return {
        "id": doc.id,
        "text": doc.text,
        "url": doc.url,
        "domain": doc.domain,
        "source": doc.source,
        "lang": doc.lang,
        "lang_score": doc.lang_score,
        "quality_score": doc.quality_score,
        "karma": doc.karma,
        "subreddit": doc.subreddit,
        "reddit_id": doc.reddit_id,
        "warc_file": doc.warc_file,
        "warc_record_id": doc.warc_record_id,
        "fetch_time": doc.fetch_time,
        "n_chars": len(doc.text),
        "n_words": len(doc.text.split()),
    }


def row_document(row: dict[str, Any]) -> Document:
    """Rebuild a document from a shard row (the inverse of `document_row`)."""
    fields = {k: v for k, v in row.items() if k not in ("n_chars", "n_words")}
    return Document(**fields)
