"""Fuzzy (near-duplicate) de-duplication with MinHash LSH, global and order-independent.

Two stages, on the seam the executor already has:

1. **Map** (one call per part, in the worker pool, `corpus.dedup.signatures`): `write_signatures` turns
   documents into a signature file: Parquet with `id`, `quality_score`, `n_shingles` and
   `signature` (fixed-size list of `num_perm` uint32), the MinHash parameters in the schema
   metadata so that signatures made under other parameters are refused, never mixed.
2. **Global** (once): `find_near_duplicates(signature_files, config, reference_files)` loads every
   signature, finds candidate pairs by LSH banding (`bands` x `rows`), joins them into clusters
   (connected components), keeps one document per cluster and returns the ids to drop, with the
   counters, the cluster-size histogram and example pairs for the report. `NearDuplicateFilter`
   then drops those ids from the stream of documents.

**Which document a cluster keeps:** the highest `quality_score` (a missing score ranks lowest),
then the smallest id. Documents are put in id order on load, so nothing depends on the order of
the files or of the rows in them, nor on how the documents were split into files.

**Against a reference corpus** (GPT-3 removed WebText from Common Crawl): reference signatures
take part in the banding; a document met in a bucket by a reference document, and verified
against that very document, is removed ("near_duplicate_of_reference"); reference documents
are never removed. The remaining documents are then clustered among themselves as above
("near_duplicate").

**Banding** is `corpus.dedup.lsh` (numpy, not `datasketch.MinHashLSH`: same candidate pairs,
far less memory); `bench/bench_fuzzy_dedup.py` compares time and memory.

**Every edge is verified.** Banding alone joins pages that merely share a site's template: at
Jaccard ~0.33 (nav, sidebar, footer) a pair collides in some band of 25 x 5 with probability
0.09, and a site's pages chain into one cluster of which one survives. So a pair met in a bucket
becomes an edge only if the Jaccard estimated from the two whole signatures (128 values,
standard error <= 0.045) reaches the preset's `verify_threshold`, as NeMo Curator's
false-positive check and Spark's similarity join (GPT-3) do. The pairs compared are real pairs
of documents (`corpus.dedup.lsh.bucket_pairs`): all pairs of a bucket, or in an oversized
bucket each document with its `bucket_window` nearest in signature order; never only each
member against the bucket's first row, which misses two identical pages in a bucket headed by
an unrelated one. A pair met in several bands is compared once (again only if it met in
oversized buckets alone). Clusters are the connected components of the verified edges: a chain
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
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from corpus.dedup.lsh import band_buckets, bucket_edges, bucket_pairs, bucket_sizes, connected_components
from corpus.dedup.minhash import MinHashConfig
from corpus.dedup.signatures import SignatureSet, load_signatures
from corpus.records import Document
from corpus.steps import Filter, StepStats

log = logging.getLogger(__name__)


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
class FuzzyDedupResult:
    """What the global stage found: the ids to drop and what the report shows."""

    drop: dict[str, str]                     # id -> reason
    stats: StepStats                         # over the non-reference documents
    cluster_sizes: dict[int, int]            # cluster size (>= 2) -> number of clusters
    examples: list[dict[str, Any]]           # a few removed pairs, ids and estimated Jaccard
    parameters: dict[str, Any]

    @property
    def drop_ids(self) -> set[str]:
        return set(self.drop)

    def to_report(self) -> dict[str, Any]:
        """The summary for the manifest and the report (no per-document data)."""
        return {"parameters": self.parameters, "stats": self.stats.to_dict(),
                "cluster_sizes": {str(k): v for k, v in sorted(self.cluster_sizes.items())},
                "examples": self.examples}

    def filter(self) -> "NearDuplicateFilter":
        return NearDuplicateFilter(self.drop)


def find_near_duplicates(signature_files: Sequence[Path | str], config: FuzzyDedupConfig | None = None,
                         reference_files: Sequence[Path | str] = (), progress: bool = False
                         ) -> FuzzyDedupResult:
    """Global stage: the documents of `signature_files` to drop as near-duplicates.

    Reference documents (`reference_files`, e.g. WebText) are never dropped; a document that
    meets one in a bucket and is verified against it is ("near_duplicate_of_reference"). The
    rest are clustered by verified edges and all but the best of each cluster dropped
    ("near_duplicate"): highest quality_score, then lowest id.
    """
    config = config or FuzzyDedupConfig()
    width = config.bands * config.rows
    columns = config.minhash.num_perm if config.verify_threshold is not None else width
    docs = load_signatures(signature_files, config.minhash, columns)
    ref = load_signatures(reference_files, config.minhash, columns) if reference_files else None
    stats = StepStats("fuzzy_dedup")
    stats.n_in = len(docs)
    stats.counts["no_shingles"] = int((docs.n_shingles == 0).sum())
    drop: dict[str, str] = {}
    examples: list[dict[str, Any]] = []
    active = np.flatnonzero(docs.n_shingles > 0)

    def id_list(rows: np.ndarray, table: SignatureSet = docs) -> list[str]:
        return table.ids.take(pa.array(rows, pa.int64())).to_pylist()

    if ref is not None and len(ref):
        stats.counts["reference_docs"] = len(ref)
        removed, partner = _reference_collisions(docs, ref, active, config, stats, progress)
        rows = np.flatnonzero(removed)
        drop.update(dict.fromkeys(id_list(rows), "near_duplicate_of_reference"))
        shown = rows[:config.max_examples]
        for i, doc_id, ref_id in zip(shown, id_list(shown), id_list(partner[shown], ref)):
            examples.append({"removed": doc_id, "reference": ref_id,
                             "jaccard": _estimate(docs.sigs[i], ref.sigs[partner[i]]),
                             "reason": "near_duplicate_of_reference"})
        active = active[~removed[active]]

    labels = _cluster(docs, active, config, stats, progress)
    keeper = _keepers(docs, labels)
    rows = np.arange(len(labels))
    in_cluster = labels != rows                 # members hanging on a root ...
    in_cluster[labels[in_cluster]] = True       # ... and those roots
    sizes = np.bincount(labels[in_cluster], minlength=len(labels))
    cluster_sizes = Counter(sizes[sizes >= 2].tolist())
    stats.counts["clusters"] = int((sizes >= 2).sum())
    dups = np.flatnonzero(in_cluster & (keeper[labels] != rows))
    drop.update(dict.fromkeys(id_list(dups), "near_duplicate"))
    shown = dups[:config.max_examples]
    kept = keeper[labels[shown]]
    for i, k, doc_id, kept_id in zip(shown, kept, id_list(shown), id_list(kept)):
        examples.append({"removed": doc_id, "kept": kept_id, "jaccard": _estimate(docs.sigs[i], docs.sigs[k]),
                         "reason": "near_duplicate"})
    for reason, n in Counter(drop.values()).items():
        stats.drop(reason, n)
    stats.n_out = stats.n_in - len(drop)
    params = {"bands": config.bands, "rows": config.rows, "threshold": round(config.threshold, 4),
              "verify_threshold": config.verify_threshold, "bucket_window": config.bucket_window,
              **config.minhash.fingerprint(),
              "reference_files": [str(f) for f in reference_files]}
    return FuzzyDedupResult(drop, stats, dict(sorted(cluster_sizes.items())), examples, params)


def _estimate(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.mean(a == b)), 4)


def _bands(config: FuzzyDedupConfig, progress: bool, desc: str) -> Iterator[tuple[int, slice]]:
    for b in tqdm(range(config.bands), desc=desc, unit="band", disable=not progress):
        yield b, slice(b * config.rows, (b + 1) * config.rows)


@dataclass
class _Banded:
    """The rows banded together: entry e is row `rows_of[e]` of `docs` if e < n_docs, else of
    `ref` (documents first, then reference documents)."""

    docs: SignatureSet
    ref: SignatureSet | None
    rows_of: np.ndarray
    n_docs: int

    def values(self, entries: np.ndarray, cols: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Signature values (columns `cols`) of the given entries."""
        def take(sigs: np.ndarray, rows: np.ndarray) -> np.ndarray:
            if isinstance(cols, slice):
                return sigs.take(rows, axis=0) if cols == slice(None) else sigs[rows, cols]
            return sigs[rows[:, None], cols[None, :]]

        if self.ref is None:
            return take(self.docs.sigs, self.rows_of[entries])
        is_doc = entries < self.n_docs
        first = take(self.docs.sigs, self.rows_of[entries[is_doc]])
        out = np.empty((entries.size, first.shape[1]), dtype=first.dtype)
        out[is_doc] = first
        out[~is_doc] = take(self.ref.sigs, self.rows_of[entries[~is_doc]])
        return out

    def sort_keys(self, band: int, config: FuzzyDedupConfig) -> Callable[[np.ndarray], np.ndarray]:
        """For `bucket_pairs`: the 8 signature values after band `band` (wrapping round). An
        oversized bucket is put in their order, so that similar signatures meet."""
        k = self.docs.sigs.shape[1]
        cols = (np.arange(min(8, k)) + (band + 1) * config.rows) % k
        return lambda entries: self.values(entries, cols)


def _verified_pairs(banded: _Banded, config: FuzzyDedupConfig, stats: StepStats, progress: bool,
                    desc: str, against_reference: bool) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per band, the pairs of entries (u, v) compared and verified, with their estimated Jaccard.

    Each pair met in a bucket (`bucket_pairs`) is compared on all the loaded signature values.
    With `against_reference`, only (document, reference) pairs count, as (u=document, v=reference).
    A pair that met in an earlier band in a bucket small enough to compare all its pairs was
    compared there and is skipped; one met only in oversized buckets is compared again.
    """
    n = banded.rows_of.size
    counter = "candidate_pairs_reference" if against_reference else "candidate_pairs"
    # compared_all[b, e]: entry e's bucket in band b was small enough that all its pairs were compared.
    compared_all = np.zeros((config.bands, n), dtype=bool)
    for b, cols in _bands(config, progress, desc):
        order, group = band_buckets(banded.values(np.arange(n), cols))
        compared_all[b, order] = bucket_sizes(order, group) <= config.bucket_window + 1
        u, v, skipped = bucket_pairs(order, group, config.bucket_window, banded.sort_keys(b, config))
        stats.counts["pairs_not_compared"] += skipped
        if against_reference:
            mixed = (u < banded.n_docs) != (v < banded.n_docs)  # one document, one reference
            u, v = np.where(u < banded.n_docs, u, v)[mixed], np.where(u < banded.n_docs, v, u)[mixed]
        jaccard, earlier = _compare(banded, u, v, b, compared_all[:b], config)
        u, v, jaccard = u[~earlier], v[~earlier], jaccard[~earlier]
        ok = jaccard >= config.verify_threshold
        stats.counts[counter] += int(u.size)
        stats.counts["rejected_by_verify"] += int((~ok).sum())
        yield u[ok], v[ok], jaccard[ok]


def _compare(banded: _Banded, u: np.ndarray, v: np.ndarray, band: int, compared_all: np.ndarray,
             config: FuzzyDedupConfig, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """For each pair of entries (u[i], v[i]) met in band `band`: the Jaccard estimated from all
    the loaded signature values, and whether the pair was already compared in an earlier band
    (it met in a bucket of that band whose pairs were all compared). Gathering the two rows
    of each pair is most of the cost; chunks of a few thousand pairs stay in cache."""
    jaccard = np.empty(u.size, dtype=np.float32)
    earlier = np.zeros(u.size, dtype=bool)
    width = band * config.rows
    for lo in range(0, u.size, chunk):
        uc, vc = u[lo:lo + chunk], v[lo:lo + chunk]
        eq = banded.values(uc) == banded.values(vc)
        # A byte sum is twice as fast as eq.mean here; the division is exact.
        jaccard[lo:lo + chunk] = eq.view(np.uint8).sum(axis=1, dtype=np.uint32) / eq.shape[1]
        if band:
            met = eq[:, :width] if config.rows == 1 else eq[:, :width].reshape(-1, band, config.rows).all(axis=2)
            earlier[lo:lo + chunk] = (met & compared_all[:, uc].T).any(axis=1)
    return jaccard, earlier


def _reference_collisions(docs: SignatureSet, ref: SignatureSet, active: np.ndarray,
                          config: FuzzyDedupConfig, stats: StepStats, progress: bool
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Documents near a reference document, and for each the most similar such reference row
    (ties: the smallest row). With verification, each (document, reference) pair met in a
    bucket is compared on its own; without, sharing a bucket with any reference is enough."""
    ref_active = np.flatnonzero(ref.n_shingles > 0)
    banded = _Banded(docs, ref, np.concatenate([active, ref_active]), active.size)
    found = []
    if config.verify_threshold is None:
        for _, cols in _bands(config, progress, "reference bands"):
            order, group = band_buckets(banded.values(np.arange(banded.rows_of.size), cols))
            d, r = _first_reference_in_bucket(order, group, banded.n_docs)
            stats.counts["candidate_pairs_reference"] += int(d.size)
            found.append((d, r, np.ones(d.size, dtype=np.float32)))
    else:
        found = list(_verified_pairs(banded, config, stats, progress, "reference bands", against_reference=True))
    removed = np.zeros(len(docs), dtype=bool)
    partner = np.full(len(docs), -1, dtype=np.int64)
    if found:
        d = banded.rows_of[np.concatenate([f[0] for f in found])]
        r = banded.rows_of[np.concatenate([f[1] for f in found])]
        j = np.concatenate([f[2] for f in found])
        # Best partner first for each document: highest estimate, then smallest reference row.
        order = np.lexsort((r, -j, d))
        first = np.concatenate([[True], d[order][1:] != d[order][:-1]]) if d.size else np.empty(0, bool)
        removed[d] = True
        partner[d[order][first]] = r[order][first]
    return removed, partner


def _first_reference_in_bucket(order: np.ndarray, group: np.ndarray, n_docs: int
                               ) -> tuple[np.ndarray, np.ndarray]:
    """(document entry, the bucket's first reference entry) for each document in a bucket that
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


def _cluster(docs: SignatureSet, active: np.ndarray, config: FuzzyDedupConfig, stats: StepStats,
             progress: bool) -> np.ndarray:
    """Component label (smallest row of the component) of every row; inactive rows are alone.

    With verification, an edge is a pair of documents compared with each other whose estimated
    Jaccard reaches the threshold (`_verified_pairs`); without, every bucket joins its members.
    """
    banded = _Banded(docs, None, active, active.size)
    us, vs = [], []
    if config.verify_threshold is None:
        for _, cols in _bands(config, progress, "bands"):
            u, v = bucket_edges(*band_buckets(docs.sigs[active, cols]))
            stats.counts["candidate_pairs"] += int(u.size)
            us.append(u)
            vs.append(v)
    else:
        for u, v, _ in _verified_pairs(banded, config, stats, progress, "bands", against_reference=False):
            us.append(u)
            vs.append(v)
    u = active[np.concatenate(us)] if us else np.empty(0, np.int64)
    v = active[np.concatenate(vs)] if vs else np.empty(0, np.int64)
    return connected_components(len(docs), u, v)


def _keepers(docs: SignatureSet, labels: np.ndarray) -> np.ndarray:
    """keeper[label] = the row a cluster keeps: highest quality (missing lowest), then lowest id.

    Rows are in id order, so "lowest id" is "lowest row".
    """
    n = len(labels)
    quality = np.nan_to_num(docs.quality.astype(np.float64), nan=-np.inf)
    order = np.lexsort((np.arange(n), -quality, labels))
    first = np.concatenate([[True], labels[order][1:] != labels[order][:-1]]) if n else np.empty(0, bool)
    keeper = np.arange(n)
    keeper[labels[order][first]] = order[first]
    return keeper


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
