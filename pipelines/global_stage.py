"""The global end of both recipes: steps that need to know the whole corpus first.

Each global step is built from what its global pass over all parts computed, and then runs over
the stream of documents like every other step:

    exact_duplicate_keepers(parts)      -> ExactDeduplicator      (one document per normalised text)
    signatures per part, find_near_...  -> NearDuplicateFilter    (MinHash LSH clusters, references)
    benchmark 13-gram document counts   -> Decontaminator         (GPT-3's rule)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from corpus.dedup.decontamination import (
    BenchmarkIndex,
    Decontaminator,
    count_ngram_documents_in_parts,
    frequent_ngrams,
)
from corpus.dedup.exact import ExactDeduplicator, exact_duplicate_keepers
from corpus.dedup.minhash import MinHashConfig
from corpus.dedup.near_duplicates import PRESETS, FuzzyDedupResult, find_near_duplicates
from corpus.dedup.signatures import reference_signature_files, signature_fingerprint, write_signatures
from corpus.executor import Executor, part_key
from corpus.readers.shards import shard_paths
from corpus.steps import Step
from corpus.writers.publish import published_signatures


@dataclass
class GlobalConfig:
    dedup: bool = True
    dedup_preset: str = "fineweb"
    dedup_against: list[str] = field(default_factory=list)  # reference corpora (shard folders)
    decontaminate: list[str] = field(default_factory=list)  # benchmark JSONL files


@dataclass
class GlobalSteps:
    """The final stage's steps, in order, and what the report shows of their global passes."""

    steps: list[Step]
    report: dict[str, Any]


def global_steps(parts: Sequence[Path], config: GlobalConfig, work: Path, executor: Executor) -> GlobalSteps:
    """Run the global passes over `parts` and build the steps of the final stage."""
    near = near_duplicates(parts, config, work, executor) if config.dedup else None
    steps: list[Step] = []
    if config.dedup:
        steps += [ExactDeduplicator(exact_duplicate_keepers(parts)), near.filter()]
    if config.decontaminate:
        index = BenchmarkIndex.from_files(config.decontaminate)
        # Counted after near-dedup: ten copies of one page would make its 13-grams look common.
        counts = count_ngram_documents_in_parts(parts, index, skip=near.drop_ids if near else frozenset())
        steps.append(Decontaminator(index, frequent_ngrams(counts)))
    return GlobalSteps(steps, {"fuzzy_dedup": near.to_report() if near else None})


def signatures_of(preset: str, src: Path, dst: Path) -> None:
    """One part's MinHash signatures (a file task: module level, so a process can run it)."""
    write_signatures([src], dst, PRESETS[preset].minhash)


def near_duplicates(parts: Sequence[Path], config: GlobalConfig, work: Path, executor: Executor) -> FuzzyDedupResult:
    """Signatures of every part (in parallel, each kept for a restart), then the clusters."""
    preset = PRESETS[config.dedup_preset]
    sig_dir = work / "signatures"
    # Keyed by the part's path, size and mtime: a part rewritten since (new parameters, a new
    # quality model) gets new signatures; an unchanged one keeps those of the killed run.
    pairs = [(f, sig_dir / f"{part_key(_identity(f))}.parquet") for f in parts]
    executor.file_stage(partial(signatures_of, config.dedup_preset), pairs, desc="MinHash")
    references = [f for d in config.dedup_against if Path(d).exists() and shard_paths(d)
                  for f in reference_signatures(d, preset.minhash, work)]
    return find_near_duplicates([dst for _, dst in pairs], preset, references)


def _identity(path: Path) -> str:
    st = Path(path).stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def reference_signatures(reference: str, minhash: MinHashConfig, work: Path) -> list[Path]:
    """A reference corpus's signatures: those its manifest points to when made with `minhash`,
    else computed from its shards into this run's work folder (once)."""
    published = published_signatures(reference)
    if published is not None and signature_fingerprint(published) == minhash.fingerprint():
        return [published]
    return reference_signature_files(reference, minhash, work / "reference" / part_key(reference))
