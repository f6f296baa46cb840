"""Exact de-duplication on normalised text, hash-partitioned, global over all parts of a run.

Three kinds of tasks on the executor, so that no process holds a key per document of the corpus:

1. **Keys, per part** (`exact_keys`): for each row, a 128-bit hash of its normalised text, its
   quality score and its id keys, sorted twice into memory-mappable arrays: by id hash and by
   text hash. Kept in the work folder: a rerun reuses them.
2. **Same page twice, per id-hash partition** (`id_partition_task`): the rows of every part whose
   id hash falls in the partition (a contiguous slice of each sorted array); of rows with one id
   (the same URL captured twice) the best is kept: highest quality, then smallest text hash.
   Drop reason "duplicate_id".
3. **Same text, per text-hash partition** (`text_partition_task`), over the rows still in: one
   document per normalised text, the highest quality score (a missing score ranks lowest), then
   the smallest id. Drop reason "duplicate_text".

Each task writes the global indices it drops; the driver marks them in the run's `DropCodes`
(`corpus.dedup.drops`). The keep rules look at scores and ids only, never at positions, so the
result does not depend on input order or the number of workers, and they agree with fuzzy dedup's
rule, so the two never drop both copies of a text.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from corpus.dedup.drops import CODES, KEEP, DropCodes, PartTable, file_identity, id_keys, key_ranges, key_slice
from corpus.executor.base import Executor, part_key
from corpus.readers.shards import iter_batches
from corpus.text import words
from corpus.writers.atomic import atomic_dir, atomic_path

KEYS = np.dtype([("h1", "<u8"), ("h2", "<u8"), ("quality", "<f4"), ("id_hi", "<u8"), ("id_lo", "<u4"),
                 ("id_hash", "<u8"), ("row", "<u4")])
ROWS_PER_PARTITION = 2_000_000  # ~100 bytes each while a partition task sorts them


def normalize_for_dedup(text: str) -> str:
    """Case, accents, punctuation and whitespace do not make two pages different."""
    return " ".join(words(text))


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(normalize_for_dedup(text).encode("utf-8"), digest_size=16).digest()


def exact_keys(part: Path, dst: Path) -> None:
    """Map: the keys of every row of one part, into the folder `dst` (atomically):
    `by_id.npy` sorted by id hash and `by_text.npy` sorted by text hash."""
    n = pq.ParquetFile(part).metadata.num_rows
    keys = np.zeros(n, dtype=KEYS)
    has_quality = "quality_score" in pq.read_schema(part).names
    row = 0
    for batch in iter_batches([part], columns=["id", "text"] + (["quality_score"] if has_quality else [])):
        end = row + batch.num_rows
        digests = b"".join(text_hash(t) for t in batch.column("text").to_pylist())
        pairs = np.frombuffer(digests, dtype=">u8").reshape(-1, 2)
        keys["h1"][row:end], keys["h2"][row:end] = pairs[:, 0], pairs[:, 1]
        keys["quality"][row:end] = (batch.column("quality_score").to_numpy(zero_copy_only=False)
                                    if has_quality else np.nan)
        keys["id_hi"][row:end], keys["id_lo"][row:end], keys["id_hash"][row:end] = id_keys(
            batch.column("id").to_pylist())
        keys["row"][row:end] = np.arange(row, end)
        row = end
    with atomic_dir(dst) as tmp:
        np.save(tmp / "by_id.npy", keys[np.argsort(keys["id_hash"], kind="stable")])
        np.save(tmp / "by_text.npy", keys[np.argsort(keys["h1"], kind="stable")])


@dataclass(frozen=True)
class PartitionJob:
    """One partition task: rows whose key (`field` of `file`) is in [lo, hi) (hi None: no end)."""

    keys: tuple[Path, ...]      # each part's keys folder, in part order
    offsets: tuple[int, ...]    # each part's first global index
    file: str                   # "by_id" or "by_text"
    field: str                  # "id_hash" or "h1"
    lo: int
    hi: int | None
    codes: Path | None          # rows already dropped take no part (text pass)


def _partition_rows(job: PartitionJob) -> tuple[np.ndarray, np.ndarray]:
    """The keys of the partition's rows, and their global indices."""
    rows, index = [], []
    for folder, offset in zip(job.keys, job.offsets):
        keys = np.load(folder / f"{job.file}.npy", mmap_mode="r")
        chunk = np.array(keys[key_slice(keys[job.field], job.lo, job.hi)])
        rows.append(chunk)
        index.append(chunk["row"].astype(np.int64) + offset)
    rows_ = np.concatenate(rows) if rows else np.zeros(0, KEYS)
    index_ = np.concatenate(index) if index else np.zeros(0, np.int64)
    if job.codes is not None and index_.size:
        keep = np.load(job.codes, mmap_mode="r")[index_] == KEEP
        rows_, index_ = rows_[keep], index_[keep]
    return rows_, index_


def _not_first(order: np.ndarray, *same_keys: np.ndarray) -> np.ndarray:
    """Entries of `order` (sorted by the keys, best first) that repeat the previous entry's keys."""
    repeat = np.ones(max(order.size - 1, 0), dtype=bool)
    for key in same_keys:
        k = key[order]
        repeat &= k[1:] == k[:-1]
    return np.concatenate([[False], repeat]) if order.size else np.zeros(0, bool)


def id_partition_task(job: PartitionJob, dst: Path) -> None:
    """Rows repeating an id (equal id hash and first id bytes): all but the best, to `dst`."""
    rows, index = _partition_rows(job)
    quality = np.nan_to_num(rows["quality"].astype(np.float64), nan=-np.inf)
    order = np.lexsort((index, rows["h2"], rows["h1"], -quality, rows["id_lo"], rows["id_hi"], rows["id_hash"]))
    _save(dst, index[order][_not_first(order, rows["id_hash"], rows["id_hi"], rows["id_lo"])])


def text_partition_task(job: PartitionJob, dst: Path) -> None:
    """Rows repeating a normalised text: all but the best, to `dst`."""
    rows, index = _partition_rows(job)
    quality = np.nan_to_num(rows["quality"].astype(np.float64), nan=-np.inf)
    order = np.lexsort((index, rows["id_lo"], rows["id_hi"], -quality, rows["h2"], rows["h1"]))
    _save(dst, index[order][_not_first(order, rows["h1"], rows["h2"])])


def _save(dst: Path, index: np.ndarray) -> None:
    with atomic_path(dst) as tmp, open(tmp, "wb") as f:
        np.save(f, np.sort(index))


def exact_duplicate_pass(parts: PartTable, codes: DropCodes, work: Path, executor: Executor,
                         keys_dir: Path | None = None) -> dict[str, int]:
    """Mark "duplicate_id" then "duplicate_text" in `codes`; returns the number of partitions."""
    keys_dir = keys_dir or work / "keys"
    folders = [keys_dir / part_key(file_identity(p)) for p in parts.paths]
    executor.file_stage(exact_keys, list(zip(parts.paths, folders)), desc="exact keys")
    ranges = key_ranges(max(1, math.ceil(parts.total / ROWS_PER_PARTITION)))
    offsets = tuple(int(o) for o in parts.offsets[:-1])
    for name, file, fld, task, code_path in (
            ("duplicate_id", "by_id", "id_hash", id_partition_task, None),
            ("duplicate_text", "by_text", "h1", text_partition_task, codes.path)):
        jobs = [(PartitionJob(tuple(folders), offsets, file, fld, lo, hi, code_path), work / f"{name}-{m:04d}.npy")
                for m, (lo, hi) in enumerate(ranges)]
        executor.file_stage(task, jobs, desc=name.replace("_", " "))
        for _, dst in jobs:
            codes.mark(np.load(dst), CODES[name])
    return {"partitions": len(ranges)}


def exact_duplicates(parts: Sequence[Path | str], work: Path, executor: Executor | None = None) -> DropCodes:
    """The exact pass alone over `parts` (tests, benchmarks): the codes, in `work/codes.npy`."""
    from corpus.executor.local import LocalExecutor

    table = PartTable.of(parts)
    codes = DropCodes.create(Path(work) / "codes.npy", table.total)
    exact_duplicate_pass(table, codes, Path(work), executor or LocalExecutor(1, show_progress=False))
    return codes

