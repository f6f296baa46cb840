"""Writing the shard of record: Parquet files in the schema of `corpus.schema`.

Shards are written atomically (a hidden temporary file renamed into place on close, `corpus.writers.atomic`), with row groups sized
for streaming and files rotated by size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.records import Document
from corpus.schema import SCHEMA, document_row
from corpus.writers.atomic import commit, temp_name


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
    Use as a context manager; an exception leaves no partial shard behind.
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

    def _flush_row_group(self) -> None:
        if not self._rows:
            return
        if self._writer is None:
            self._tmp = temp_name(self._final_path())
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
        commit(self._tmp, final)
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
