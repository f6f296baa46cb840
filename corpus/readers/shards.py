"""Reading the shards of record: finding them, and streaming them one row group at a time.

Memory stays bounded by the largest row group however large the shards are. `shard_paths` is the
one definition of "the shards under a folder": work folders (`_*`, `.*`) and temp files are not
shards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.records import Document
from corpus.schema import row_document


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


def read_documents(shards: Path | str | Iterable[Path]) -> Iterator[Document]:
    """Stream every document of the shards under a folder (or of the given files), in file and
    row order."""
    paths = shard_paths(shards) if isinstance(shards, (str, Path)) else shards
    for batch in iter_batches(paths):
        for row in batch.to_pylist():
            yield row_document(row)
