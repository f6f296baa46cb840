"""The global end of both recipes: exact dedup, near-duplicates, decontamination, in one stream.

    signatures (map, per part) -> near-duplicate clusters (global) -> 13-gram counts (global)
    -> rows: exact dedup -> near-duplicate filter -> decontamination -> the caller's shards
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from corpus.dedup.decontamination import (BenchmarkIndex, Decontaminator, count_ngram_documents_in_parts,
                                  frequent_ngrams)
from corpus.dedup.exact import ExactDeduplicator
from corpus.executor.local import part_key, run_file_stage
from corpus.dedup.near_duplicates import (PRESETS, SIGNATURES_DIR, FuzzyDedupResult, find_near_duplicates,
                                reference_signature_files, write_signatures)
from corpus.readers.shards import iter_rows, shard_paths


@dataclass
class GlobalConfig:
    dedup: bool = True
    dedup_preset: str = "fineweb"
    dedup_against: list[str] = field(default_factory=list)  # reference corpora (shard folders)
    decontaminate: list[str] = field(default_factory=list)  # benchmark JSONL files


def signatures_of(preset: str, src: Path, dst: Path) -> None:
    """One part's MinHash signatures (a map task: module level, so a process pool can run it)."""
    write_signatures([src], dst, PRESETS[preset].minhash)


def near_duplicates(files: Sequence[Path], config: GlobalConfig, work: Path, workers: int) -> FuzzyDedupResult:
    """Signatures of every part (in parallel, each kept for a restart), then the clusters."""
    preset = PRESETS[config.dedup_preset]
    sig_dir = work / "signatures"
    # Keyed by the part's path, size and mtime: a part rewritten since (new parameters, a new
    # quality model) gets new signatures; an unchanged one keeps those of the killed run.
    pairs = [(f, sig_dir / f"{part_key(_identity(f))}.parquet") for f in files]
    run_file_stage(partial(signatures_of, config.dedup_preset), pairs, workers, desc="MinHash")
    references = [f for d in config.dedup_against if Path(d).exists() and shard_paths(d)
                  for f in reference_signature_files(d, preset.minhash, work / "reference" / part_key(d))]
    return find_near_duplicates([dst for _, dst in pairs], preset, references)


def _identity(path: Path) -> str:
    st = Path(path).stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


@dataclass
class GlobalStage:
    """The final row stream, its steps (for the manifest) and what the report shows of them."""

    rows: Iterator[dict[str, Any]]
    steps: list
    extra: dict[str, Any]


def run_global_stage(files: Sequence[Path], config: GlobalConfig, work: Path, workers: int) -> GlobalStage:
    near = near_duplicates(files, config, work, workers) if config.dedup else None
    decontaminator = None
    if config.decontaminate:
        index = BenchmarkIndex.from_files(config.decontaminate)
        # Counted after near-dedup: ten copies of one page would make its 13-grams look common.
        counts = count_ngram_documents_in_parts(files, index, skip=near.drop_ids if near else frozenset())
        decontaminator = Decontaminator(index, frequent_ngrams(counts))
    exact = ExactDeduplicator() if config.dedup else None
    near_filter = near.filter() if near else None
    rows = exact(files) if exact else iter_rows(files)
    if near_filter:
        rows = near_filter.filter_rows(rows)
    if decontaminator:
        rows = decontaminator.filter_rows(rows)
    steps = [s for s in (exact, near_filter, decontaminator) if s is not None]
    return GlobalStage(rows, steps, {"fuzzy_dedup": near.to_report() if near else None})


def write_output_signatures(out: Path, preset: str = "fineweb") -> None:
    """Signatures of a finished output, so that other runs can `--dedup-against` it cheaply."""
    write_signatures(shard_paths(out), out / SIGNATURES_DIR / "signatures-00000.parquet", PRESETS[preset].minhash)
