"""Which rows the global passes drop: one byte per document, on disk, shared by every task.

At scale nothing may hold a set of ids per dropped document in a driver. Instead every document
of a run gets an integer index: the parts are numbered in input order and a part's rows follow
one another (`PartTable`). The global passes (exact dedup, near-dedup) write a reason code per
index into one file (`DropCodes`, a uint8 array memory-mapped by whoever needs it: 10 MB for 10M
documents); the tasks that write the final shards read their part's slice of it and drop each
marked row under its reason, counted by step as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from corpus.records import Document
from corpus.steps import Filter
from corpus.writers.atomic import atomic_path

KEEP = 0
# The code of each reason; the step that drops it (`STEP_OF`) and its reason string.
REASONS = {1: "duplicate_id", 2: "duplicate_text", 3: "near_duplicate", 4: "near_duplicate_of_reference"}
CODES = {reason: code for code, reason in REASONS.items()}
EXACT_CODES = (1, 2)
NEAR_CODES = (3, 4)


@dataclass(frozen=True)
class PartTable:
    """The parts of a run in order, with their row counts: global index = offset + row."""

    paths: tuple[Path, ...]
    rows: np.ndarray      # int64 per part
    offsets: np.ndarray   # int64 per part, and the total at the end

    @classmethod
    def of(cls, paths: Sequence[Path | str]) -> "PartTable":
        """Row counts from the Parquet footers (no data is read)."""
        rows = np.array([pq.ParquetFile(p).metadata.num_rows for p in paths], dtype=np.int64)
        return cls(tuple(Path(p) for p in paths), rows, np.concatenate([[0], np.cumsum(rows)]).astype(np.int64))

    @property
    def total(self) -> int:
        return int(self.offsets[-1])

    def __len__(self) -> int:
        return len(self.paths)

    def span(self, part: int) -> slice:
        return slice(int(self.offsets[part]), int(self.offsets[part + 1]))

    def digest(self) -> str:
        """Names the set of parts and their contents' identity (path, size, mtime), in order."""
        h = hashlib.sha256()
        for p in self.paths:
            h.update(f"{file_identity(p)}\n".encode())
        return h.hexdigest()[:16]


def key_ranges(count: int) -> list[tuple[int, int | None]]:
    """`count` ranges [lo, hi) splitting the 64-bit hash space evenly (the last one has no end:
    2^64 is not a uint64). A partition task takes the keys of one range from every part."""
    bounds = [(r << 64) // count for r in range(count)]
    return list(zip(bounds, bounds[1:] + [None]))


def key_slice(sorted_keys: np.ndarray, lo: int, hi: int | None) -> slice:
    """Where the keys in [lo, hi) lie in `sorted_keys` (uint64, sorted; memory-mapped is fine:
    two binary searches touch a few pages)."""
    start = int(np.searchsorted(sorted_keys, np.uint64(lo))) if lo else 0
    stop = int(np.searchsorted(sorted_keys, np.uint64(hi))) if hi is not None else sorted_keys.size
    return slice(start, stop)


def file_identity(path: Path | str) -> str:
    """A file's path, size and mtime: what work derived from it (indexes, keys) is keyed by, so
    a part rewritten since gets new work and an unchanged one keeps that of a killed run."""
    st = Path(path).stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


class DroppedRows(Filter):
    """Drops the rows of one part that a global pass marked, under their reasons.

    `codes` are the marks of the documents this step will see, in the order it sees them (a
    part's slice of the run's `DropCodes`, less the rows earlier steps dropped); only the
    codes in `reasons` are this step's to drop. A part with more or fewer rows than marks was
    changed under the run, which is an error, not a skip.
    """

    def __init__(self, name: str, codes: np.ndarray, reasons: Sequence[int]) -> None:
        self.name = name
        super().__init__()
        self.codes = np.asarray(codes)
        self.reasons = frozenset(reasons)
        self.seen = 0

    def filter(self, doc: Document) -> bool | str:
        if self.seen >= self.codes.size:
            raise RuntimeError(f"{self.name}: more documents than marks ({self.codes.size}): the part changed")
        code = int(self.codes[self.seen])
        self.seen += 1
        return REASONS[code] if code in self.reasons else True

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        yield from super().__call__(docs)
        if self.seen != self.codes.size:
            raise RuntimeError(f"{self.name}: {self.seen} documents for {self.codes.size} marks: the part changed")

    def passed_on(self) -> np.ndarray:
        """The marks of the documents this step keeps: the next step's `codes`."""
        return self.codes[~np.isin(self.codes, list(self.reasons))]


class DropCodes:
    """The uint8 reason code of every document of a run (0: kept so far), memory-mapped."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, path: Path | str, total: int) -> "DropCodes":
        """A fresh array of `total` zeros, written atomically."""
        with atomic_path(path) as tmp:
            np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(total,)).flush()
        return cls(path)

    def read(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r")

    def mark(self, index: np.ndarray, code: int) -> None:
        """Set `code` at the given global indices, unless a pass before already dropped them.

        Only the driver marks, one pass at a time, so there is a single writer.
        """
        codes = np.load(self.path, mmap_mode="r+")
        index = np.asarray(index, dtype=np.int64)
        free = codes[index] == KEEP
        codes[index[free]] = code
        codes.flush()
        del codes

    def counts(self) -> dict[str, int]:
        """How many documents each reason drops."""
        codes = self.read()
        found = np.zeros(max(REASONS) + 1, dtype=np.int64)
        for start in range(0, codes.size, 1 << 22):  # bincount casts to int64: a chunk at a time
            found += np.bincount(codes[start:start + (1 << 22)], minlength=found.size)
        return {REASONS[c]: int(found[c]) for c in REASONS if found[c]}


def id_keys(ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer keys of ids: (high uint64, low uint32, hash uint64) per id.

    The first two are the id's first 12 bytes (UTF-8, zero-padded), so they sort like the ids
    ("smallest id" is the keep rules' tie-break) as far as those bytes go; the ids that tie on
    them are compared as text where it matters (`corpus.dedup.near_duplicates`). The third is a
    64-bit hash of the whole id, to find ids that are equal.
    """
    hi = np.empty(len(ids), dtype=np.uint64)
    lo = np.empty(len(ids), dtype=np.uint32)
    whole = np.empty(len(ids), dtype=np.uint64)
    for i, doc_id in enumerate(ids):
        raw = doc_id.encode("utf-8")
        head = raw[:12].ljust(12, b"\0")
        hi[i], lo[i] = int.from_bytes(head[:8], "big"), int.from_bytes(head[8:], "big")
        whole[i] = int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")
    return hi, lo, whole
