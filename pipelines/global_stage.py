"""The global end of both recipes: the passes that need the whole corpus, then the output.

Every pass is tasks on the executor (local processes or Ray) over the parts, with what a driver
keeps bounded to a few bytes per document (see each module):

    exact_duplicate_pass   hash-partitioned: "duplicate_id", "duplicate_text"       corpus/dedup/exact.py
    near_duplicate_pass    per-part MinHash index, band tasks, union-find:           corpus/dedup/near_duplicates.py
                           "near_duplicate", "near_duplicate_of_reference"
    decontamination counts per part, summed: 13-grams too common to be leaks          corpus/dedup/decontamination.py

The first two mark one reason code per document in the run's `DropCodes`. Then `write_output`
runs one task per part that streams its documents through the steps built from those passes
(`DroppedRows` for exact and near-duplicates, `Decontaminator`) into its own shards of the
staged output, with the MinHash signatures of the final text beside; the report, card and
manifest follow and the staged folder is swapped in. Each task's files and counters are its
own, so the output is the same whatever ran where.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from corpus.dedup.decontamination import BenchmarkIndex, Decontaminator, count_ngram_documents, frequent_ngrams
from corpus.dedup.drops import EXACT_CODES, KEEP, NEAR_CODES, DropCodes, DroppedRows, PartTable, file_identity
from corpus.dedup.exact import exact_duplicate_pass
from corpus.dedup.minhash import MinHashConfig, MinHasher
from corpus.dedup.near_duplicates import PRESETS, near_duplicate_pass
from corpus.dedup.signatures import (
    reference_signature_files,
    signature_fingerprint,
    signature_paths,
    signature_schema,
    signature_table,
)
from corpus.executor import Executor, part_key
from corpus.readers.shards import iter_batches, read_documents, shard_paths
from corpus.steps import Step, StepStats, run_steps
from corpus.writers.atomic import atomic_path, atomic_write_json
from corpus.writers.publish import Staging, finish_output, published_signatures
from corpus.writers.shard_writer import ShardFile, ShardWriter

log = logging.getLogger(__name__)


@dataclass
class GlobalConfig:
    dedup: bool = True
    dedup_preset: str = "fineweb"
    dedup_against: list[str] = field(default_factory=list)  # reference corpora (shard folders)
    decontaminate: list[str] = field(default_factory=list)  # benchmark JSONL files


@dataclass
class GlobalPasses:
    """What the global passes decided, for the per-part output tasks and the report."""

    parts: PartTable
    codes: Path | None           # the run's DropCodes (None: no dedup)
    frequent: Path | None        # the 13-grams decontamination ignores (None: no decontamination)
    config: GlobalConfig
    folder: Path                 # this run's global work folder
    report: dict[str, Any]


def global_passes(parts: Sequence[Path], config: GlobalConfig, work: Path, executor: Executor) -> GlobalPasses:
    """Run exact dedup, near-dedup and the decontamination counts over `parts`.

    Task outputs are kept under `work/global/<digest of the parts and settings>/`, so a killed
    run, started again, redoes only what it had not finished; indexes and keys of unchanged parts
    are kept across runs in `work/index/` and `work/keys/`.
    """
    table = PartTable.of(parts)
    digest = hashlib.sha256(json.dumps([table.digest(), asdict(config)], sort_keys=True).encode()).hexdigest()[:16]
    folder = work / "global" / digest
    for old in (work / "global").glob("*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"fuzzy_dedup": None}
    codes = None
    if config.dedup:
        codes = DropCodes.create(folder / "codes.npy", table.total)  # re-marked from the tasks' files
        report["exact_dedup"] = exact_duplicate_pass(table, codes, folder / "exact", executor, work / "keys")
        (folder / "near").mkdir(exist_ok=True)
        near = near_duplicate_pass(table, codes, PRESETS[config.dedup_preset], folder / "near", executor,
                                   _references(config, work), index_dir=work / "index")
        report["fuzzy_dedup"] = near.to_report()
        # Indexes and keys of parts no longer in the run (remade under other parameters) go.
        _prune(work / "index", {p.name for p in near.indexes})
        _prune(work / "keys", {part_key(file_identity(p)) for p in table.paths})
    frequent = None
    if config.decontaminate:
        # Counted after dedup: ten copies of one page would make its 13-grams look common.
        jobs = [(CountJob(p, table.span(i), codes.path if codes else None, tuple(config.decontaminate)),
                 folder / "ngram_counts" / f"{i:06d}.json") for i, p in enumerate(table.paths)]
        executor.file_stage(count_part_ngrams, jobs, desc="benchmark 13-grams")
        total: Counter = Counter()
        for _, dst in jobs:
            total.update(json.loads(dst.read_text()))
        frequent = folder / "frequent_ngrams.json"
        atomic_write_json(frequent, sorted(frequent_ngrams(total)))
    return GlobalPasses(table, codes.path if codes else None, frequent, config, folder, report)


def _prune(folder: Path, keep: set[str]) -> None:
    for child in folder.iterdir() if folder.exists() else ():
        if child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def _references(config: GlobalConfig, work: Path) -> list[Path]:
    minhash = PRESETS[config.dedup_preset].minhash
    return [f for d in config.dedup_against if Path(d).exists() and shard_paths(d)
            for f in reference_signatures(d, minhash, work)]


def reference_signatures(reference: str, minhash: MinHashConfig, work: Path) -> list[Path]:
    """A reference corpus's signatures: those its manifest points to when made with `minhash`,
    else computed from its shards into this run's work folder (once)."""
    published = published_signatures(reference)
    if published is not None:
        files = signature_paths(published)
        if files and all(signature_fingerprint(f) == minhash.fingerprint() for f in files):
            return files
    return reference_signature_files(reference, minhash, work / "reference" / part_key(reference))


@dataclass(frozen=True)
class CountJob:
    part: Path
    span: slice
    codes: Path | None
    benchmarks: tuple[str, ...]


def count_part_ngrams(job: CountJob, dst: Path) -> None:
    """Map: in how many of the part's remaining documents each benchmark 13-gram occurs."""
    index = BenchmarkIndex.from_files(list(job.benchmarks))
    keep = np.load(job.codes, mmap_mode="r")[job.span] == KEEP if job.codes else None
    counts: Counter = Counter()
    row = 0
    for batch in iter_batches([job.part], columns=["text"]):
        texts = batch.column("text").to_pylist()
        if keep is not None:
            texts = [t for t, k in zip(texts, keep[row:row + len(texts)]) if k]
        row += batch.num_rows
        counts.update(count_ngram_documents(texts, index))
    atomic_write_json(dst, dict(sorted(counts.items())))


@dataclass(frozen=True)
class OutputJob:
    """One output task: part number `number` of the run into the staged output's data folder."""

    part: Path
    number: int
    span: slice
    codes: Path | None
    frequent: Path | None
    benchmarks: tuple[str, ...]
    data_dir: Path
    signatures: Path
    minhash: MinHashConfig
    max_file_bytes: int


def output_steps(job: OutputJob) -> list[Step]:
    """The final stage's steps for one part: the global passes' drops, then decontamination."""
    steps: list[Step] = []
    if job.codes is not None:
        codes = np.load(job.codes, mmap_mode="r")[job.span]
        exact = DroppedRows("exact_dedup", codes, EXACT_CODES)
        steps += [exact, DroppedRows("fuzzy_dedup", exact.passed_on(), NEAR_CODES)]
    if job.frequent is not None:
        ignored = frozenset(json.loads(job.frequent.read_text()))
        steps.append(Decontaminator(BenchmarkIndex.from_files(list(job.benchmarks)), ignored))
    return steps


def write_part_output(job: OutputJob, dst: Path) -> None:
    """Map: one part through `output_steps` into its shards (`part-<number>-*.parquet`) and the
    MinHash signatures of their final text; `dst` (JSON) lists the files and the counters."""
    prefix = f"part-{job.number:05d}"
    for old in job.data_dir.glob(f"{prefix}-*.parquet"):
        old.unlink()  # shards of a killed attempt at this part
    steps = output_steps(job)
    hasher = MinHasher(job.minhash)
    with atomic_path(job.signatures) as tmp, \
            pq.ParquetWriter(tmp, signature_schema(job.minhash), compression="zstd") as sig_writer, \
            ShardWriter(job.data_dir, prefix=prefix, max_file_bytes=job.max_file_bytes) as writer:
        batch = []
        for doc in run_steps(read_documents([job.part]), steps):
            writer.write(doc)
            batch.append(doc)
            if len(batch) == 1024:
                _write_signatures(sig_writer, hasher, batch, job.minhash)
                batch = []
        _write_signatures(sig_writer, hasher, batch, job.minhash)
    atomic_write_json(dst, {"files": [{"path": str(f.path), "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256}
                                      for f in writer.files],
                            "stats": [s.stats.to_dict() for s in steps]})


def _write_signatures(writer: pq.ParquetWriter, hasher: MinHasher, docs: list, config: MinHashConfig) -> None:
    if docs:
        sigs, n_shingles = hasher.signatures([d.text for d in docs])
        writer.write_table(signature_table([d.id for d in docs], [d.quality_score for d in docs], sigs,
                                           n_shingles, config))


def write_output(passes: GlobalPasses, out: Path, executor: Executor, *, pipeline: str, inputs: list[str],
                 parameters: dict[str, Any], earlier: list[StepStats], extra: dict[str, Any],
                 max_file_bytes: int = 256 << 20) -> dict[str, Any]:
    """The output folder: per-part tasks into a staged folder, then report, card, manifest, and
    the swap (`corpus.writers.publish.Staging`). Returns the manifest.

    The output's MinHash signatures (`<work>/global/<digest>/output_signatures/`) let another run
    deduplicate against this output (`--dedup-against`) without recomputing them.
    """
    config = passes.config
    staging = Staging(out, {"global": passes.folder.name, "pipeline": pipeline, "parameters": parameters})
    sig_dir = passes.folder / "output_signatures"
    minhash = PRESETS[config.dedup_preset].minhash
    jobs = [(OutputJob(p, i, passes.parts.span(i), passes.codes, passes.frequent, tuple(config.decontaminate),
                       staging.data_dir, sig_dir / f"signatures-{i:05d}.parquet", minhash, max_file_bytes),
             staging.path / ".tasks" / f"{i:05d}.json") for i, p in enumerate(passes.parts.paths)]
    executor.file_stage(write_part_output, jobs, desc="writing shards")
    files: list[ShardFile] = []
    merged: dict[str, StepStats] = {}
    for _, dst in jobs:
        done = json.loads(dst.read_text())
        files += [ShardFile(Path(f["path"]), f["rows"], f["bytes"], f["sha256"]) for f in done["files"]]
        for s in done["stats"]:
            merged.setdefault(s["name"], StepStats(s["name"])).merge(StepStats.from_dict(s))
    shutil.rmtree(staging.path / ".tasks", ignore_errors=True)  # none when no part had documents
    extra = {**extra, **passes.report, "signatures": os.path.relpath(sig_dir, out)}
    return finish_output(staging, pipeline, inputs, parameters, earlier + list(merged.values()), files, extra)
