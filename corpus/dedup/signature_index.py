"""The map side of near-duplicate dedup at scale: one on-disk signature index per part.

A part (Parquet documents) or a signature file (`corpus.dedup.signatures`, e.g. a reference
corpus's) becomes a folder of plain numpy arrays, the shape FineWeb's MinHash stages use:

    signatures.npy   uint32 [n, num_perm]   memory-mapped: the global side gathers only the rows
                                            of the pairs it verifies
    meta.npy         per row: quality (NaN: none), id key (`corpus.dedup.drops.id_keys`), n_shingles
    ids.parquet      the ids as text (for the report's examples, never loaded whole by a driver)
    band_keys.npy    uint64 [bands, m]      per band, the bucket key of each row with shingles, sorted
    band_rows.npy    uint32 [bands, m]      ... and the row it belongs to

Because each band's keys are sorted, the task for band b and key range [lo, hi) reads a
contiguous slice of every part's `band_keys[b]` (two binary searches on a memory map): memory per
task is the documents in its range, never the corpus.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpus.dedup.drops import id_keys, key_slice
from corpus.dedup.lsh import band_keys
from corpus.dedup.minhash import MinHashConfig, MinHasher
from corpus.dedup.signatures import signature_fingerprint
from corpus.readers.shards import iter_batches
from corpus.writers.atomic import atomic_dir

IDS_ROW_GROUP = 4096
META = np.dtype([("quality", "<f4"), ("id_hi", "<u8"), ("id_lo", "<u4"), ("id_hash", "<u8"), ("n_shingles", "<i4")])


def build_signature_index(src: Path | str, dst: Path | str, minhash: MinHashConfig, bands: int, rows: int) -> None:
    """Index one part of documents (computing their signatures) or one signature file, into `dst`.

    Written as a whole folder, atomically: an existing `dst` is a finished index.
    """
    src = Path(src)
    names = set(pq.read_schema(src).names)
    with atomic_dir(dst) as tmp:
        if "signature" in names:
            got = signature_fingerprint(src)
            if got != minhash.fingerprint():
                raise ValueError(f"{src}: signatures made with {got}, expected {minhash.fingerprint()}; recompute them")
            batches = _signature_batches(src)
        else:
            batches = _document_batches(src, MinHasher(minhash), "quality_score" in names)
        n = pq.ParquetFile(src).metadata.num_rows
        sigs = np.lib.format.open_memmap(tmp / "signatures.npy", mode="w+", dtype=np.uint32, shape=(n, minhash.num_perm))
        meta = np.zeros(n, dtype=META)
        ids: list[pa.Array] = []
        row = 0
        for batch_ids, quality, batch_sigs, n_shingles in batches:
            end = row + len(batch_ids)
            sigs[row:end] = batch_sigs
            meta["quality"][row:end] = quality
            meta["id_hi"][row:end], meta["id_lo"][row:end], meta["id_hash"][row:end] = id_keys(batch_ids.to_pylist())
            meta["n_shingles"][row:end] = n_shingles
            ids.append(batch_ids.cast(pa.string()))
            row = end
        sigs.flush()
        np.save(tmp / "meta.npy", meta)
        # Small row groups: the report's examples read a few ids, never a whole part's.
        pq.write_table(pa.table({"id": pa.chunked_array(ids, pa.string())}), tmp / "ids.parquet",
                       row_group_size=IDS_ROW_GROUP)
        # Rows without shingles (empty or very short texts) are never near-duplicates: no buckets.
        active = np.flatnonzero(meta["n_shingles"] > 0)
        keys = np.empty((bands, active.size), dtype=np.uint64)
        order_rows = np.empty((bands, active.size), dtype=np.uint32)
        for b in range(bands):
            k = band_keys(np.asarray(sigs[active, b * rows:(b + 1) * rows]))
            order = np.argsort(k, kind="stable")
            keys[b], order_rows[b] = k[order], active[order]
        np.save(tmp / "band_keys.npy", keys)
        np.save(tmp / "band_rows.npy", order_rows)


def _signature_batches(path: Path):
    for batch in iter_batches([path], columns=["id", "quality_score", "n_shingles", "signature"]):
        flat = batch.column("signature").flatten().to_numpy(zero_copy_only=False)
        yield (batch.column("id"), batch.column("quality_score").to_numpy(zero_copy_only=False),
               flat.reshape(batch.num_rows, -1), batch.column("n_shingles").to_numpy())


def _document_batches(path: Path, hasher: MinHasher, has_quality: bool):
    columns = ["id", "text"] + (["quality_score"] if has_quality else [])
    for batch in iter_batches([path], columns=columns):
        sigs, n_shingles = hasher.signatures(batch.column("text").to_pylist())
        quality = (batch.column("quality_score").to_numpy(zero_copy_only=False) if has_quality
                   else np.full(batch.num_rows, np.nan, dtype=np.float32))
        yield batch.column("id"), quality, sigs, n_shingles


def _random_access(array: np.ndarray) -> np.ndarray:
    """Tell the kernel a map is read at random rows: no read-ahead around each row gathered
    (which would page in, and count in RSS, hundreds of KB per pair verified)."""
    raw = getattr(array, "_mmap", None)  # numpy's memmap keeps its mmap.mmap here
    if raw is not None and hasattr(raw, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        raw.madvise(mmap.MADV_RANDOM)
    return array


@dataclass(frozen=True)
class IndexedSource:
    """One index in the global numbering: its rows are global indices `offset` ... `offset + n - 1`."""

    path: Path
    offset: int
    rows: int


class SignatureStore:
    """Many indexes as one: gathers signature values and metadata by global index.

    Every gather maps the files it needs, takes its rows and unmaps them: the pages of an open
    map count in a process's RSS, and a band task that kept a crawl's signature files mapped
    would look as large as them (5 GB at 10M documents) though it needs a few thousand rows at a
    time. The pages stay in the OS's cache, so the next gather does not read the disk again.
    """

    def __init__(self, sources: Sequence[IndexedSource]) -> None:
        self.sources = list(sources)
        self.starts = np.array([s.offset for s in self.sources], dtype=np.int64)

    def _map(self, i: int, name: str) -> np.ndarray:
        return _random_access(np.load(self.sources[i].path / f"{name}.npy", mmap_mode="r"))

    def _by_source(self, index: np.ndarray):
        index = np.asarray(index, dtype=np.int64)
        which = np.searchsorted(self.starts, index, side="right") - 1
        for i in np.unique(which):
            at = np.flatnonzero(which == i)
            yield int(i), at, index[at] - self.starts[i]

    def signatures(self, index: np.ndarray, cols: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Signature values (columns `cols`) of the given global indices, in their order."""
        index = np.asarray(index, dtype=np.int64)
        out: np.ndarray | None = None
        for i, at, rows in self._by_source(index):
            sigs = self._map(i, "signatures")
            values = sigs[rows][:, cols]
            del sigs
            if out is None:
                out = np.empty((index.size, values.shape[1]), dtype=np.uint32)
            out[at] = values
        return out if out is not None else np.empty((0, 0), dtype=np.uint32)

    def meta(self, index: np.ndarray) -> np.ndarray:
        """The `META` records of the given global indices, in their order."""
        index = np.asarray(index, dtype=np.int64)
        out = np.zeros(index.size, dtype=META)
        for i, at, rows in self._by_source(index):
            meta = self._map(i, "meta")
            out[at] = meta[rows]
            del meta
        return out

    def ids(self, index: np.ndarray) -> list[str]:
        """The ids (text) of a few global indices: for examples in the report. Reads only the
        row groups that hold them."""
        index = np.asarray(index, dtype=np.int64)
        out = [""] * index.size
        for i, at, rows in self._by_source(index):
            ids = pq.ParquetFile(self.sources[i].path / "ids.parquet")
            sizes = [ids.metadata.row_group(g).num_rows for g in range(ids.num_row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes)])
            groups = np.searchsorted(starts, rows, side="right") - 1
            for group in np.unique(groups):
                column = ids.read_row_group(int(group), columns=["id"]).column(0)
                for a, r in zip(at[groups == group], rows[groups == group]):
                    out[a] = column[int(r - starts[group])].as_py()
        return out

    def band_slice(self, i: int, band: int, lo: int, hi: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(keys, global indices) of source i's rows whose band key is in [lo, hi) (hi None: no end)."""
        keys = np.load(self.sources[i].path / "band_keys.npy", mmap_mode="r")[band]
        at = key_slice(keys, lo, hi)
        rows = np.load(self.sources[i].path / "band_rows.npy", mmap_mode="r")[band, at]
        return np.array(keys[at]), rows.astype(np.int64) + self.starts[i]
