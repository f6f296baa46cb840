"""MinHash signature files: what a corpus publishes so that others can deduplicate against it.

`write_signatures(parts, path, config)` turns documents into a signature file: Parquet with `id`,
`quality_score`, `n_shingles` and `signature` (fixed-size list of `num_perm` uint32), the MinHash
parameters in the schema metadata so that signatures made under other parameters are refused,
never mixed. Run it per part in the worker pool; the order of rows and files does not matter.
Near-dedup reads them (and parts of documents) through per-part indexes (`corpus.dedup.signature_index`), never all
at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from corpus.dedup.minhash import MinHashConfig, MinHasher
from corpus.readers.shards import iter_batches, shard_paths
from corpus.writers.atomic import atomic_path, is_temporary

log = logging.getLogger(__name__)

SIGNATURES_DIR = "_signatures"  # where a run keeps its signature files (not shards: starts with _)
_META_KEY = b"webtext.minhash"


def signature_schema(config: MinHashConfig) -> pa.Schema:
    """The schema of a signature file; the MinHash parameters travel in its metadata."""
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("quality_score", pa.float32()),
            pa.field("n_shingles", pa.int32(), nullable=False),
            pa.field("signature", pa.list_(pa.uint32(), config.num_perm), nullable=False),
        ],
        metadata={_META_KEY: json.dumps(config.fingerprint(), sort_keys=True).encode()},
    )


def signature_table(ids: Sequence[str], quality: Sequence[float | None], sigs: np.ndarray,
                    n_shingles: np.ndarray, config: MinHashConfig) -> pa.Table:
    """A table of signatures in the signature-file schema."""
    flat = pa.array(np.ascontiguousarray(sigs, dtype=np.uint32).reshape(-1), type=pa.uint32())
    return pa.Table.from_arrays(
        [_arrow(ids, pa.string()), _arrow(quality, pa.float32()),
         pa.array(n_shingles, pa.int32()), pa.FixedSizeListArray.from_arrays(flat, config.num_perm)],
        schema=signature_schema(config))


def _arrow(values: Any, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.cast(type_)
    return pa.array(values, type_)


def write_signatures(parts: Sequence[Path | str], output: Path | str,
                     config: MinHashConfig | None = None, progress: bool = False) -> int:
    """Map stage: the signatures of every document in `parts` (Parquet with `id`, `text` and
    optionally `quality_score`) into one signature file at `output`, written atomically.

    Returns the number of documents. Run it per part in the worker pool; the order of rows and
    files does not matter to `find_near_duplicates`.
    """
    config = config or MinHashConfig()
    hasher = MinHasher(config)
    n = 0
    with atomic_path(output) as tmp, pq.ParquetWriter(tmp, signature_schema(config), compression="zstd") as writer:
        for path in tqdm(list(map(Path, parts)), desc="signatures", unit="file", disable=not progress):
            names = set(pq.ParquetFile(path).schema_arrow.names)
            columns = ["id", "text"] + (["quality_score"] if "quality_score" in names else [])
            for batch in iter_batches([path], columns=columns):
                texts = batch.column("text").to_pylist()
                sigs, counts = hasher.signatures(texts)
                quality = (batch.column("quality_score") if "quality_score" in columns
                           else pa.nulls(len(texts), pa.float32()))
                writer.write_table(signature_table(batch.column("id"), quality, sigs, counts, config))
                n += len(texts)
    return n


def signature_paths(root: Path | str) -> list[Path]:
    """Signature files under `root`: the file itself, or the `*.parquet` of a folder, sorted."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.parquet") if not is_temporary(p))


def reference_signature_files(reference: Path | str, config: MinHashConfig,
                              work_dir: Path | str) -> list[Path]:
    """Signature files of a reference corpus (`--dedup-against DIR`).

    Uses `DIR/_signatures/` if it holds signatures made with `config`; otherwise computes them
    from the shards of DIR into `work_dir` (once: a later call finds them there).
    """
    reference, work_dir = Path(reference), Path(work_dir)
    for candidate in (reference / SIGNATURES_DIR, work_dir):
        files = signature_paths(candidate) if candidate.exists() else []
        if files and all(signature_fingerprint(f) == config.fingerprint() for f in files):
            return files
    shards = shard_paths(reference)
    if not shards:
        raise FileNotFoundError(f"no shards or signatures under {reference}")
    out = work_dir / "reference-00000.parquet"
    log.info("computing MinHash signatures of %d reference shard(s) from %s", len(shards), reference)
    write_signatures(shards, out, config, progress=True)
    return [out]


def signature_fingerprint(path: Path) -> dict[str, Any] | None:
    """The MinHash parameters a signature file was made with (None: not a signature file of ours)."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[_META_KEY]) if _META_KEY in meta else None
