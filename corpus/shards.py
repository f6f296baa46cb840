"""The shard of record: Parquet files with one schema for every source.

Shards are written atomically (a `.tmp` file renamed into place on close), with row groups sized
for streaming and files rotated by size. Readers stream one row group at a time, so memory stays
bounded however large the shards are.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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


@dataclass
class ShardFile:
    """A finished shard: where it is, how many rows, and its checksum."""

    path: Path
    rows: int
    bytes: int
    sha256: str

    def to_dict(self, root: Path) -> dict[str, Any]:
        return {"path": str(self.path.relative_to(root)), "rows": self.rows,
                "bytes": self.bytes, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ShardWriter:
    """Writes documents into size-rotated, zstd-compressed Parquet shards, each atomically.

    Row groups close after `row_group_bytes` of text, files after `max_file_bytes`; both are
    measured on uncompressed text, which is what a streaming reader has to hold in memory.
    Use as a context manager; an exception leaves no partial shard behind, only `.tmp` files
    that the next run overwrites.
    """

    def __init__(self, out_dir: Path | str, prefix: str = "part",
                 max_file_bytes: int = 256 << 20, row_group_bytes: int = 32 << 20,
                 compression: str = "zstd") -> None:
        self.out_dir = Path(out_dir)
        self.prefix = prefix
        self.max_file_bytes = max_file_bytes
        self.row_group_bytes = row_group_bytes
        self.compression = compression
        self.files: list[ShardFile] = []
        self._rows: list[dict[str, Any]] = []
        self._rows_bytes = 0
        self._file_bytes = 0
        self._file_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None

    def __enter__(self) -> "ShardWriter":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    def _final_path(self) -> Path:
        return self.out_dir / f"{self.prefix}-{len(self.files):05d}.parquet"

    def write(self, doc: Document) -> None:
        self.write_row(document_row(doc))

    def write_row(self, row: dict[str, Any]) -> None:
        size = len(row["text"].encode("utf-8"))
        self._rows.append(row)
        self._rows_bytes += size
        self._file_bytes += size
        if self._rows_bytes >= self.row_group_bytes:
            self._flush_row_group()
        if self._file_bytes >= self.max_file_bytes:
            self._finish_file()

    def write_all(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self.write(doc)

    def write_all_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.write_row(row)

    def _flush_row_group(self) -> None:
        if not self._rows:
            return
        if self._writer is None:
            self._tmp = self._final_path().with_suffix(".parquet.tmp")
            self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression=self.compression)
        self._writer.write_table(pa.Table.from_pylist(self._rows, schema=SCHEMA))
        self._file_rows += len(self._rows)
        self._rows, self._rows_bytes = [], 0

    def _finish_file(self) -> None:
        self._flush_row_group()
        if self._writer is None:
            return
        self._writer.close()
        final = self._final_path()
        os.replace(self._tmp, final)
        self.files.append(ShardFile(final, self._file_rows, final.stat().st_size, file_sha256(final)))
        self._writer, self._tmp = None, None
        self._file_bytes = self._file_rows = 0

    def close(self) -> list[ShardFile]:
        """Finish the open shard and return every shard written."""
        self._finish_file()
        return self.files

    def _abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._tmp.unlink(missing_ok=True)
            self._writer = None


def shard_paths(root: Path | str) -> list[Path]:
    """The finished shards under `root`, sorted; work folders and temp files are not shards."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.parquet")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts))


def iter_batches(paths: Iterable[Path], columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """Stream record batches one row group at a time: memory is bounded by the largest row group."""
    for path in paths:
        pf = pq.ParquetFile(path)
        for i in range(pf.num_row_groups):
            yield from pf.read_row_group(i, columns=columns).to_batches()


def iter_rows(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Stream the rows of the given shards as dicts, one row group in memory at a time."""
    for batch in iter_batches(paths):
        yield from batch.to_pylist()


def read_documents(root: Path | str) -> Iterator[Document]:
    """Stream every document of the shards under `root`, in file and row order."""
    for batch in iter_batches(shard_paths(root)):
        for row in batch.to_pylist():
            yield row_document(row)
