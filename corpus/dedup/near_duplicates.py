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
take part in the banding; a document that shares a band bucket with any reference document is
removed ("near_duplicate_of_reference"); reference documents are never removed. The remaining
documents are then clustered among themselves as above ("near_duplicate").

**Banding** is `corpus.dedup.lsh` (numpy, not `datasketch.MinHashLSH`: same candidate pairs,
far less memory); `bench/bench_fuzzy_dedup.py` compares time and memory.

**Settings** (`PRESETS`):

- `fineweb` (default): 14 bands x 8 rows of a 128-permutation signature (the first 112 values),
  word 5-grams. A pair at Jaccard J becomes a candidate with probability 1 - (1 - J^8)^14:
  0.5 at J ~ 0.72 (the threshold (1/b)^(1/r)), 0.92 at 0.8, 0.05 at 0.5.
- `gpt3`: GPT-3 used "Spark's MinHashLSH with 10 hashes". Spark's MinHashLSH only ORs its hash
  tables (one hash per table) and its similarity join then checks each candidate's distance; we
  read it as 10 bands x 1 row, candidates verified by the Jaccard estimated from the whole
  128-value signature (>= 0.5, the threshold OpenWebText used; GPT-3 does not give one).
- `openwebtext`: 5-gram MinHash LSH at threshold 0.5, as `datasketch.MinHashLSH(threshold=0.5,
  num_perm=128)` sets itself up: 25 bands x 5 rows (its optimal (b, r) for equal weights on
  false positives and negatives).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from corpus.dedup.lsh import band_buckets, bucket_edges, connected_components
from corpus.dedup.minhash import MinHashConfig
from corpus.dedup.signatures import SignatureSet, load_signatures
from corpus.records import Document
from corpus.steps import Filter, StepStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FuzzyDedupConfig:
    """LSH settings: `bands` x `rows` values of each signature form the bucket keys."""

    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    bands: int = 14
    rows: int = 8
    # Candidates must also reach this Jaccard, estimated from the loaded signature values; None
    # keeps every candidate (FineWeb does not verify).
    verify_threshold: float | None = None
    max_examples: int = 20  # removed pairs shown per reason

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.minhash.num_perm:
            raise ValueError(f"{self.bands} bands x {self.rows} rows need {self.bands * self.rows} "
                             f"permutations; the signatures have {self.minhash.num_perm}")

    @property
    def threshold(self) -> float:
        """The Jaccard at which a pair becomes a candidate with probability ~0.5: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


PRESETS: dict[str, FuzzyDedupConfig] = {
    "fineweb": FuzzyDedupConfig(bands=14, rows=8),
    "gpt3": FuzzyDedupConfig(bands=10, rows=1, verify_threshold=0.5),
    "openwebtext": FuzzyDedupConfig(bands=25, rows=5),
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

    Reference documents (`reference_files`, e.g. WebText) are never dropped; a document sharing
    a bucket with one is ("near_duplicate_of_reference"). The rest are clustered and all but
    the best of each cluster dropped ("near_duplicate"): highest quality_score, then lowest id.
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
              "verify_threshold": config.verify_threshold, **config.minhash.fingerprint(),
              "reference_files": [str(f) for f in reference_files]}
    return FuzzyDedupResult(drop, stats, dict(sorted(cluster_sizes.items())), examples, params)


def _estimate(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.mean(a == b)), 4)


def _verified(sigs_a: np.ndarray, sigs_b: np.ndarray, threshold: float | None,
              chunk: int = 1 << 16) -> np.ndarray:
    """Which pairs (row i of a, row i of b) reach `threshold` estimated Jaccard (all if None)."""
    if threshold is None:
        return np.ones(len(sigs_a), dtype=bool)
    out = np.empty(len(sigs_a), dtype=bool)
    for lo in range(0, len(sigs_a), chunk):
        eq = sigs_a[lo:lo + chunk] == sigs_b[lo:lo + chunk]
        out[lo:lo + chunk] = eq.mean(axis=1) >= threshold
    return out


def _bands(config: FuzzyDedupConfig, progress: bool, desc: str) -> Iterator[slice]:
    for b in tqdm(range(config.bands), desc=desc, unit="band", disable=not progress):
        yield slice(b * config.rows, (b + 1) * config.rows)


def _reference_collisions(docs: SignatureSet, ref: SignatureSet, active: np.ndarray,
                          config: FuzzyDedupConfig, stats: StepStats, progress: bool
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Documents sharing a bucket with a reference document, and (one) such reference row."""
    ref_active = np.flatnonzero(ref.n_shingles > 0)
    n_docs = active.size
    removed = np.zeros(len(docs), dtype=bool)
    partner = np.full(len(docs), -1, dtype=np.int64)
    for cols in _bands(config, progress, "reference bands"):
        band = np.concatenate([docs.sigs[active, cols], ref.sigs[ref_active, cols]])
        order, group = band_buckets(band)
        if order.size == 0:  # no two rows share this band's bucket
            continue
        is_ref = order >= n_docs
        # The first reference row of each bucket that has one (buckets are contiguous).
        starts = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))
        pos = np.where(is_ref, np.arange(order.size), order.size)
        first_ref = np.minimum.reduceat(pos, starts) if starts.size else pos[:0]
        bucket = np.cumsum(np.concatenate([[True], group[1:] != group[:-1]])) - 1
        hit = ~is_ref & (first_ref[bucket] < order.size)
        doc_rows = active[order[hit]]
        ref_rows = ref_active[order[first_ref[bucket[hit]]] - n_docs]
        ok = _verified(docs.sigs[doc_rows], ref.sigs[ref_rows], config.verify_threshold)
        stats.counts["band_collisions_reference"] += int(hit.sum())
        stats.counts["rejected_by_verify"] += int((~ok).sum())
        new = doc_rows[ok][~removed[doc_rows[ok]]]
        partner[new] = ref_rows[ok][~removed[doc_rows[ok]]]
        removed[new] = True
    return removed, partner


def _cluster(docs: SignatureSet, active: np.ndarray, config: FuzzyDedupConfig, stats: StepStats,
             progress: bool) -> np.ndarray:
    """Component label (smallest row of the component) of every row; inactive rows are alone."""
    us, vs = [], []
    for cols in _bands(config, progress, "bands"):
        order, group = band_buckets(docs.sigs[active, cols])
        u, v = bucket_edges(order, group)
        u, v = active[u], active[v]
        ok = _verified(docs.sigs[u], docs.sigs[v], config.verify_threshold)
        stats.counts["band_collisions"] += int(u.size)
        stats.counts["rejected_by_verify"] += int((~ok).sum())
        us.append(u[ok])
        vs.append(v[ok])
    u = np.concatenate(us) if us else np.empty(0, np.int64)
    v = np.concatenate(vs) if vs else np.empty(0, np.int64)
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
