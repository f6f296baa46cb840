"""Fuzzy (near-duplicate) de-duplication with MinHash LSH, global and order-independent.

In the shape FineWeb used at tens of billions of documents, as three kinds of tasks on the
executor (local processes or Ray), so that no process ever holds the corpus's signatures:

1. **Index, per part** (`corpus.dedup.signature_index`): the part's MinHash signatures as a
   memory-mapped array, and per band its bucket keys sorted (a part is documents, or a signature
   file such as a reference corpus's). Kept in the work folder: a rerun reuses it.
2. **Buckets, per band and key range** (`band_task`): the slice of every part's sorted keys in the
   range, merged; buckets of equal band values; the pairs to compare (`bucket_pairs`), each
   verified on the two whole signatures (gathered from the memory maps) before it is an edge.
   Writes its verified edges (and matches against reference documents) to a file.
3. **Clusters, once** (`near_duplicate_pass`): the edges of all band tasks, streamed file by file
   into a union-find over integer document indices (`corpus.dedup.lsh.UnionFind`, 8 bytes per
   document), the keep rule per cluster, and one reason code per dropped document written to the
   run's `DropCodes` (`corpus.dedup.drops`). Driver memory: ~25 bytes per document.

`find_near_duplicates(signature_files, config, reference_files)` runs the three in this process
and returns the ids to drop by reason (for tests, benchmarks and small corpora);
`NearDuplicateFilter` drops such ids from a stream of documents.

**Which document a cluster keeps:** the highest `quality_score` (a missing score ranks lowest),
then the smallest id (compared as integers: our ids are 96-bit hex digests), so nothing depends on
the order of the files or of the rows in them, nor on how the documents were split into files.
A pair that meets in several bands is verified in each (band tasks run independently); the edges
it gives are the same, so only the "candidate_pairs" counter sees it more than once.

**Against a reference corpus** (GPT-3 removed WebText from Common Crawl): reference signatures
take part in the banding; a document met in a bucket by a reference document, and verified
against that very document, is removed ("near_duplicate_of_reference"); reference documents
are never removed. The remaining documents are then clustered among themselves as above
("near_duplicate").

**Banding** is `corpus.dedup.lsh` (numpy, not `datasketch.MinHashLSH`: same candidate pairs,
far less memory); `bench/bench_fuzzy_dedup.py` compares time and memory, and
`bench/bench_scale_dedup.py` measures memory and time from 1M to 10M documents.

**Every edge is verified.** Banding alone joins pages that merely share a site's template: at
Jaccard ~0.33 (nav, sidebar, footer) a pair collides in some band of 25 x 5 with probability
0.09, and a site's pages chain into one cluster of which one survives. So a pair met in a bucket
becomes an edge only if the Jaccard estimated from the two whole signatures (128 values,
standard error <= 0.045) reaches the preset's `verify_threshold`, as NeMo Curator's
false-positive check and Spark's similarity join (GPT-3) do. The pairs compared are real pairs
of documents (`corpus.dedup.lsh.bucket_pairs`): all pairs of a bucket, or in an oversized
bucket each document with its `bucket_window` nearest in signature order; never only each
member against the bucket's first row, which misses two identical pages in a bucket headed by
an unrelated one. Clusters are the connected components of the verified edges: a chain
needs every link at the threshold. Counted in the stats: "candidate_pairs" compared,
"rejected_by_verify", "pairs_not_compared" (left out of oversized buckets).

**Settings** (`PRESETS`), each with its verify threshold:

- `fineweb` (default): 14 bands x 8 rows of a 128-permutation signature (the first 112 values),
  word 5-grams. A pair at Jaccard J becomes a candidate with probability 1 - (1 - J^8)^14:
  0.5 at J ~ 0.72 (the threshold (1/b)^(1/r)), 0.92 at 0.8, 0.05 at 0.5. Verified at 0.7
  (FineWeb itself does not verify): just under the curve's own threshold, so verification only
  removes candidates that got in by chance (a template pair at 0.33 collides with probability
  0.002, thousands of times on a large site) while a pair at J >= 0.8 passes with
  probability > 0.99.
- `gpt3`: GPT-3 used "Spark's MinHashLSH with 10 hashes". Spark's MinHashLSH only ORs its hash
  tables (one hash per table) and its similarity join then checks each candidate's distance; we
  read it as 10 bands x 1 row, candidates verified by the Jaccard estimated from the whole
  128-value signature (>= 0.5, the threshold OpenWebText used; GPT-3 does not give one).
  1-row buckets are large (every page whose smallest hash is a template shingle): this is the
  preset where `bucket_window` matters.
- `openwebtext`: 5-gram MinHash LSH at threshold 0.5, as `datasketch.MinHashLSH(threshold=0.5,
  num_perm=128)` sets itself up: 25 bands x 5 rows (its optimal (b, r) for equal weights on
  false positives and negatives). Verified at that same 0.5 (OpenWebText did not verify, and
  chained template pages).
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from corpus.dedup.drops import CODES, KEEP, DropCodes, PartTable, file_identity, key_ranges
from corpus.dedup.lsh import UnionFind, band_buckets, bucket_edges, bucket_pairs
from corpus.dedup.minhash import MinHashConfig
from corpus.dedup.signature_index import IndexedSource, SignatureStore, build_signature_index
from corpus.executor.base import Executor, part_key
from corpus.records import Document
from corpus.steps import Filter, StepStats
from corpus.writers.atomic import atomic_path

log = logging.getLogger(__name__)

# Entries (documents with shingles) per band task: ~16 bytes each while sorting, plus the pairs.
ENTRIES_PER_TASK = 2_000_000


@dataclass(frozen=True)
class FuzzyDedupConfig:
    """LSH settings: `bands` x `rows` values of each signature form the bucket keys.

    `verify_threshold`: a pair of documents met in a bucket becomes an edge only if the Jaccard
    estimated from their whole signatures (`num_perm` values) reaches it; None keeps every
    collision (unverified LSH, as datasketch's MinHashLSH: pages sharing a template chain).
    `bucket_window`: buckets of up to `bucket_window + 1` documents have all their pairs
    compared; in a larger one each document is compared with the `bucket_window` that follow it
    in signature order (`corpus.dedup.lsh.bucket_pairs`), counted as "pairs_not_compared".
    """

    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    bands: int = 14
    rows: int = 8
    verify_threshold: float | None = 0.7
    bucket_window: int = 64
    max_examples: int = 20  # removed pairs shown per reason

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.minhash.num_perm:
            raise ValueError(f"{self.bands} bands x {self.rows} rows need {self.bands * self.rows} "
                             f"permutations; the signatures have {self.minhash.num_perm}")
        if self.verify_threshold is not None and not 0 < self.verify_threshold <= 1:
            raise ValueError(f"verify_threshold must be in (0, 1], got {self.verify_threshold}")
        if self.bucket_window < 1:
            raise ValueError(f"bucket_window must be >= 1, got {self.bucket_window}")

    @property
    def threshold(self) -> float:
        """The Jaccard at which a pair becomes a candidate with probability ~0.5: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


PRESETS: dict[str, FuzzyDedupConfig] = {
    "fineweb": FuzzyDedupConfig(bands=14, rows=8, verify_threshold=0.7),
    "gpt3": FuzzyDedupConfig(bands=10, rows=1, verify_threshold=0.5),
    "openwebtext": FuzzyDedupConfig(bands=25, rows=5, verify_threshold=0.5),
}


@dataclass
class NearDuplicates:
    """What the near-duplicate pass found, for the manifest and the report (no per-document data:
    the drops themselves are in the run's `DropCodes`)."""

    stats: StepStats                         # over the documents that entered the pass
    cluster_sizes: dict[int, int]            # cluster size (>= 2) -> number of clusters
    examples: list[dict[str, Any]]           # a few removed pairs, ids and estimated Jaccard
    parameters: dict[str, Any]
    indexes: list[Path] = field(default_factory=list)  # the signature indexes used (kept for a rerun)

    def to_report(self) -> dict[str, Any]:
        return {"parameters": self.parameters, "stats": self.stats.to_dict(),
                "cluster_sizes": {str(k): v for k, v in sorted(self.cluster_sizes.items())},
                "examples": self.examples}


@dataclass(frozen=True)
class BandJob:
    """One band task: band `band`, bucket keys in [lo, hi) (hi None: to the end)."""

    sources: tuple[IndexedSource, ...]   # documents first, then reference documents
    n_docs: int                          # global indices >= n_docs are reference documents
    codes: Path | None                   # documents already dropped (exact dedup) take no part
    band: int
    lo: int
    hi: int | None
    config: FuzzyDedupConfig


def band_task(job: BandJob, dst: Path) -> None:
    """Buckets of one band and key range: verified edges between documents, and verified
    matches of documents with reference documents, written to `dst` (.npz, atomically)."""
    config = job.config
    store = SignatureStore(job.sources)
    keys, index = [], []
    for i in range(len(job.sources)):
        k, g = store.band_slice(i, job.band, job.lo, job.hi)
        keys.append(k)
        index.append(g)
    keys = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    index = np.concatenate(index) if index else np.empty(0, np.int64)
    if job.codes is not None and index.size:
        codes = np.load(job.codes, mmap_mode="r")
        is_doc = index < job.n_docs
        active = ~is_doc
        active[is_doc] = codes[index[is_doc]] == KEEP
        keys, index = keys[active], index[active]
    order = np.lexsort((index, keys))
    keys, index = keys[order], index[order]
    # Entries sharing their key with a neighbour; their band values then split true buckets
    # from 64-bit key collisions (`band_buckets` compares values).
    same = keys[1:] == keys[:-1] if keys.size else np.empty(0, bool)
    member = np.zeros(keys.size, dtype=bool)
    member[1:] |= same
    member[:-1] |= same
    members = index[member]
    cols = slice(job.band * config.rows, (job.band + 1) * config.rows)
    pos, group = band_buckets(store.signatures(members, cols)) if members.size > 1 else (members, members)
    order, group = members[pos], group
    counts = Counter()
    if config.verify_threshold is None:
        ref_d, ref_r = _first_reference_in_bucket(order, group, job.n_docs)
        ref_j = np.ones(ref_d.size, dtype=np.float32)
        docs_only = order < job.n_docs
        u, v = bucket_edges(order[docs_only], group[docs_only])
        counts["candidate_pairs"] += int(u.size)
        counts["candidate_pairs_reference"] += int(ref_d.size)
    else:
        # An oversized bucket is put in the order of the 8 values after the band (wrapping round),
        # so that similar signatures meet (`bucket_pairs`).
        width = config.minhash.num_perm
        after = (np.arange(min(8, width)) + (job.band + 1) * config.rows) % width
        u, v, skipped = bucket_pairs(order, group, config.bucket_window, lambda e: store.signatures(e, after))
        counts["pairs_not_compared"] += skipped
        u_doc, v_doc = u < job.n_docs, v < job.n_docs
        mixed = u_doc != v_doc
        ref_d = np.where(u_doc, u, v)[mixed]
        ref_r = np.where(u_doc, v, u)[mixed]
        both = u_doc & v_doc
        u, v = u[both], v[both]
        j_doc, j_ref = _jaccard(store, u, v), _jaccard(store, ref_d, ref_r)
        ok, ok_ref = j_doc >= config.verify_threshold, j_ref >= config.verify_threshold
        counts["candidate_pairs"] += int(u.size)
        counts["candidate_pairs_reference"] += int(ref_d.size)
        counts["rejected_by_verify"] += int((~ok).sum() + (~ok_ref).sum())
        u, v = u[ok], v[ok]
        ref_d, ref_r, ref_j = ref_d[ok_ref], ref_r[ok_ref], j_ref[ok_ref]
    names = sorted(counts)
    with atomic_path(dst) as tmp, open(tmp, "wb") as f:
        np.savez(f, u=u, v=v, ref_d=ref_d, ref_r=ref_r, ref_j=ref_j,
                 count_names=np.array(names, dtype=str), count_values=np.array([counts[n] for n in names], np.int64))


def _jaccard(store: SignatureStore, u: np.ndarray, v: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """The Jaccard estimated from the two whole signatures of each pair (u[i], v[i])."""
    out = np.empty(u.size, dtype=np.float32)
    for lo in range(0, u.size, chunk):
        eq = store.signatures(u[lo:lo + chunk]) == store.signatures(v[lo:lo + chunk])
        # A byte sum is twice as fast as eq.mean here; the division is exact.
        out[lo:lo + chunk] = eq.view(np.uint8).sum(axis=1, dtype=np.uint32) / eq.shape[1]
    return out


def _first_reference_in_bucket(order: np.ndarray, group: np.ndarray, n_docs: int
                               ) -> tuple[np.ndarray, np.ndarray]:
    """(document, the bucket's first reference document) for each document in a bucket that
    has a reference (unverified LSH: sharing the bucket is the whole test)."""
    if order.size == 0:
        return order, order
    is_ref = order >= n_docs
    new = np.concatenate([[True], group[1:] != group[:-1]])
    pos = np.where(is_ref, np.arange(order.size), order.size)
    first_ref = np.minimum.reduceat(pos, np.flatnonzero(new))
    bucket = np.cumsum(new) - 1
    hit = ~is_ref & (first_ref[bucket] < order.size)
    return order[hit], order[first_ref[bucket[hit]]]


def index_sources(files: PartTable, index_dir: Path, config: FuzzyDedupConfig, executor: Executor,
                  offset: int = 0, desc: str = "MinHash") -> list[IndexedSource]:
    """The signature index of every file (parts of documents or signature files), built where
    missing; numbered from `offset` in file order (the table's row counts)."""
    # Keyed by the file's path, size and mtime and by the parameters: a part rewritten since gets
    # a new index; an unchanged one keeps that of the killed run.
    params = {**config.minhash.fingerprint(), "bands": config.bands, "rows": config.rows}
    pairs = [(f, index_dir / part_key(f"{file_identity(f)}:{sorted(params.items())}")) for f in files.paths]
    build = partial(build_signature_index, minhash=config.minhash, bands=config.bands, rows=config.rows)
    executor.file_stage(build, pairs, desc=desc)
    return [IndexedSource(dst, offset + int(start), int(n))
            for (_, dst), start, n in zip(pairs, files.offsets, files.rows)]


def near_duplicate_pass(parts: PartTable, codes: DropCodes, config: FuzzyDedupConfig, work: Path,
                        executor: Executor, reference_files: Sequence[Path] = (), index_dir: Path | None = None,
                        ) -> NearDuplicates:
    """Mark the near-duplicates among `parts` in `codes`: "near_duplicate_of_reference" (met
    and verified against a reference document) and "near_duplicate" (all but the keeper of each
    cluster). Documents `codes` already drops take no part. `work` holds this run's band files;
    `index_dir` the reusable per-part indexes (default: inside `work`)."""
    index_dir = index_dir or work / "index"
    docs = index_sources(parts, index_dir, config, executor)
    refs = index_sources(PartTable.of(reference_files), index_dir, config, executor, offset=parts.total,
                         desc="MinHash (reference)")
    store = SignatureStore(docs + refs)
    entries = sum(s.rows for s in docs + refs)
    ranges = key_ranges(max(1, math.ceil(entries / ENTRIES_PER_TASK)))
    jobs = [(BandJob(tuple(docs + refs), parts.total, codes.path, b, lo, hi, config), work / f"band-{b:03d}-{r:04d}.npz")
            for b in range(config.bands) for r, (lo, hi) in enumerate(ranges)]
    executor.file_stage(band_task, jobs, desc="LSH bands")
    log.debug("%d band tasks done", len(jobs))

    stats = StepStats("fuzzy_dedup")
    before = codes.read()
    entering = before == KEEP
    stats.n_in = int(entering.sum())
    stats.counts["no_shingles"] = sum(int(((np.load(s.path / "meta.npy", mmap_mode="r")["n_shingles"] == 0)
                                           & entering[s.offset:s.offset + s.rows]).sum()) for s in docs)
    del before, entering
    if refs:
        stats.counts["reference_docs"] = sum(s.rows for s in refs)
    counters: Counter = Counter()
    shown = None  # the reference matches of the documents the report will show, so far
    for _, dst in jobs:  # one band file at a time: matches are never all in memory
        with np.load(dst) as f:
            counters.update(dict(zip(f["count_names"].tolist(), f["count_values"].tolist())))
            d, r, j = f["ref_d"], f["ref_r"], f["ref_j"]
        if d.size:
            codes.mark(np.unique(d), CODES["near_duplicate_of_reference"])
            shown = _best_reference_matches(store, (d, r, j), shown, config.max_examples)
    stats.counts.update(counters)
    examples: list[dict[str, Any]] = []
    if shown is not None:
        examples += _reference_examples(store, *shown)

    log.debug("reference matches marked")
    # Clusters over the documents still in: edges streamed one band file at a time.
    forest = UnionFind(parts.total)
    current = codes.read()
    for _, dst in jobs:
        with np.load(dst) as f:
            u, v = f["u"], f["v"]
        keep = (current[u] == KEEP) & (current[v] == KEEP)
        forest.union(u[keep], v[keep])
    labels = forest.roots()
    log.debug("union-find done")
    # Members of a cluster: nodes hooked under another, and the roots they hang on. Masks, not
    # a size per node: the driver keeps ~10 bytes per document.
    in_cluster = labels != np.arange(labels.size, dtype=labels.dtype)
    in_cluster[labels[in_cluster]] = True
    members = np.flatnonzero(in_cluster)
    del in_cluster
    _, sizes = np.unique(labels[members], return_counts=True)
    values, counts = np.unique(sizes, return_counts=True)
    cluster_sizes = dict(zip(values.tolist(), counts.tolist()))
    stats.counts["clusters"] = int(sizes.size)
    del sizes
    meta = store.meta(members)
    quality = np.nan_to_num(meta["quality"].astype(np.float64), nan=-np.inf)
    order = np.lexsort((members, meta["id_lo"], meta["id_hi"], -quality, labels[members]))
    ranked = members[order]
    first = np.concatenate([[True], labels[ranked][1:] != labels[ranked][:-1]]) if ranked.size else ranked.astype(bool)
    _break_id_ties(store, ranked, first, quality[order], meta[order])
    dups = np.sort(ranked[~first])
    codes.mark(dups, CODES["near_duplicate"])
    log.debug("%d near-duplicates marked", dups.size)
    shown_dups = _smallest_ids(store, dups, config.max_examples)
    keepers = ranked[first]  # one per cluster, in label order
    kept = keepers[np.searchsorted(labels[keepers], labels[shown_dups])]
    examples += _cluster_examples(store, shown_dups, kept)
    log.debug("examples chosen")
    for reason, n in codes.counts().items():
        if reason in ("near_duplicate", "near_duplicate_of_reference"):
            stats.drop(reason, n)
    stats.n_out = stats.n_in - sum(stats.dropped.values())
    params = {"bands": config.bands, "rows": config.rows, "threshold": round(config.threshold, 4),
              "verify_threshold": config.verify_threshold, "bucket_window": config.bucket_window,
              **config.minhash.fingerprint(), "reference_files": [str(f) for f in reference_files],
              "band_tasks": len(jobs)}
    return NearDuplicates(stats, cluster_sizes, examples, params, [s.path for s in docs + refs])


def _break_id_ties(store: SignatureStore, ranked: np.ndarray, first: np.ndarray, quality: np.ndarray,
                   meta: np.ndarray) -> None:
    """Where a cluster's best two tie on quality and on the ids' first 12 bytes, put the member
    with the smallest whole id first (in place). Rare: ids of other tools with a common prefix."""
    tie = np.zeros(ranked.size, dtype=bool)
    tie[1:] = (~first[1:] & (quality[1:] == quality[:-1]) & (meta["id_hi"][1:] == meta["id_hi"][:-1])
               & (meta["id_lo"][1:] == meta["id_lo"][:-1]))
    starts = np.flatnonzero(first)
    for start in starts[np.flatnonzero(tie[np.minimum(starts + 1, ranked.size - 1)] & (starts + 1 < ranked.size))]:
        stop = start + 1
        while stop < ranked.size and tie[stop]:
            stop += 1
        group = ranked[start:stop]
        ids = store.ids(group)
        ranked[start:stop] = group[np.argsort(np.array(ids, dtype=object), kind="stable")]


def _estimate(store: SignatureStore, a: int, b: int) -> float:
    sigs = store.signatures(np.array([a, b]))
    return round(float(np.mean(sigs[0] == sigs[1])), 4)


def _best_reference_matches(store: SignatureStore, new: tuple[np.ndarray, np.ndarray, np.ndarray],
                            so_far: tuple[np.ndarray, np.ndarray, np.ndarray] | None, limit: int
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of the removed documents seen so far, the `limit` with the smallest ids, each with its best
    reference match (highest estimate, then smallest reference index): (document, reference,
    estimate) arrays, merged band file by band file."""
    d, r, j = new if so_far is None else (np.concatenate([a, b]) for a, b in zip(so_far, new))
    order = np.lexsort((r, -j, d))
    d, r, j = d[order], r[order], j[order]
    first = np.concatenate([[True], d[1:] != d[:-1]])
    d, r, j = d[first], r[first], j[first]
    at = np.searchsorted(d, _smallest_ids(store, d, limit))  # d is sorted and distinct here
    return d[at], r[at], j[at]


def _reference_examples(store: SignatureStore, d: np.ndarray, r: np.ndarray, j: np.ndarray) -> list[dict[str, Any]]:
    return [{"removed": a, "reference": b, "jaccard": round(float(x), 4), "reason": "near_duplicate_of_reference"}
            for a, b, x in zip(store.ids(d), store.ids(r), j)]


def _smallest_ids(store: SignatureStore, index: np.ndarray, limit: int) -> np.ndarray:
    """The `limit` documents of `index` with the smallest ids (by their first 12 bytes), in that
    order: the examples shown do not depend on how the corpus was split into parts."""
    meta = store.meta(index)
    return index[np.lexsort((meta["id_lo"], meta["id_hi"]))[:limit]]


def _cluster_examples(store: SignatureStore, shown: np.ndarray, kept: np.ndarray) -> list[dict[str, Any]]:
    return [{"removed": a, "kept": b, "jaccard": _estimate(store, int(i), int(k)), "reason": "near_duplicate"}
            for i, k, a, b in zip(shown, kept, store.ids(shown), store.ids(kept))]


@dataclass
class FuzzyDedupResult:
    """`find_near_duplicates`' answer: the ids to drop, by reason, and what the report shows."""

    drop: dict[str, str]
    stats: StepStats
    cluster_sizes: dict[int, int]
    examples: list[dict[str, Any]]
    parameters: dict[str, Any]

    def filter(self) -> "NearDuplicateFilter":
        return NearDuplicateFilter(self.drop)


def find_near_duplicates(signature_files: Sequence[Path | str], config: FuzzyDedupConfig | None = None,
                         reference_files: Sequence[Path | str] = (), executor: Executor | None = None
                         ) -> FuzzyDedupResult:
    """The documents of `signature_files` (signature files or parts of documents) to drop as
    near-duplicates, by id: `near_duplicate_pass` in a temporary folder, in this process unless
    an executor is given.

    An id found in several rows (the same page captured twice) stands for one document: its row
    with the highest quality, then the first, takes part. Holds the ids of the dropped documents
    in memory: for tests, benchmarks and small corpora; the pipelines use the pass itself.
    """
    from corpus.executor.local import LocalExecutor

    config = config or FuzzyDedupConfig()
    files = [Path(f) for f in signature_files]
    executor = executor or LocalExecutor(1, show_progress=False)
    with tempfile.TemporaryDirectory(prefix="near-dup-") as tmp:
        work = Path(tmp)
        parts = PartTable.of(files)
        codes = DropCodes.create(work / "codes.npy", parts.total)
        docs = index_sources(parts, work / "index", config, executor)
        store = SignatureStore(docs)
        meta = store.meta(np.arange(parts.total))
        codes.mark(_repeated_ids(meta), CODES["duplicate_id"])
        result = near_duplicate_pass(parts, codes, config, work, executor, [Path(f) for f in reference_files],
                                     index_dir=work / "index")
        current = codes.read()
        drop: dict[str, str] = {}
        for code in (CODES["near_duplicate_of_reference"], CODES["near_duplicate"]):
            rows = np.flatnonzero(current == code)
            drop.update(dict.fromkeys(store.ids(rows), _REASON_OF[code]))
        del current
    return FuzzyDedupResult(drop, result.stats, result.cluster_sizes, result.examples, result.parameters)


_REASON_OF = {code: reason for reason, code in CODES.items()}


def _repeated_ids(meta: np.ndarray) -> np.ndarray:
    """Rows whose id an earlier-ranked row has: all but the best (quality, then first) per id."""
    quality = np.nan_to_num(meta["quality"].astype(np.float64), nan=-np.inf)
    rows = np.arange(meta.size)
    order = np.lexsort((rows, -quality, meta["id_hash"]))
    same = meta["id_hash"][order]
    repeat = np.concatenate([[False], same[1:] == same[:-1]]) if order.size else order.astype(bool)
    return np.sort(order[repeat])


# ---------------------------------------------------------------------------------------------
# Applying the result.

class NearDuplicateFilter(Filter):
    """Drops the ids `find_near_duplicates` chose, each under its reason.

    The last step of the global pass `find_near_duplicates`: built from its result, it runs over
    the stream of documents like any other step.
    """

    name = "fuzzy_dedup"

    def __init__(self, drop: dict[str, str]) -> None:
        super().__init__()
        self.drop = drop

    def filter(self, doc: Document) -> bool | str:
        return self.drop.get(doc.id, True)


def with_preset(name: str, **overrides: Any) -> FuzzyDedupConfig:
    """A preset (`fineweb`, `gpt3`, `openwebtext`) with some fields replaced."""
    return replace(PRESETS[name], **overrides)
