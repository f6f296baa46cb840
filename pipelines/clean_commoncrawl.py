"""GPT-3's Common Crawl path, read top to bottom:

  1. map (per WARC or byte range, in parallel): read -> URL filter -> extract -> language ->
     Gopher / C4 / FineWeb rules -> PII
  2. quality classifier: the given model, or one trained on WebText vs the raw extracted crawl
  3. map (per part): quality score, kept by GPT-3's Pareto rule; MinHash signatures
  4. global: near-duplicate clusters, within the crawl and against WebText
  5. global: benchmark 13-grams seen in more than 10 documents (decontamination)
  6. stream: exact dedup -> near-duplicate filter -> decontamination -> shards, manifest, report

    python -m pipelines.clean_commoncrawl                       # the shipped sample
    python -m pipelines.clean_commoncrawl --input 'crawl/*.warc.gz' --output out/cc --workers 8
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from corpus.cli_flags import add_config_flags, config_from_flags, flag
from corpus.dedup.near_duplicates import PRESETS
from corpus.errors import UserError, user_errors
from corpus.executor import ExecutorConfig, make_executor, merge_stats, part_key
from corpus.extract.extractor import Extractor
from corpus.extract.sandbox import close_sandboxes
from corpus.filters.url import URLFilter, load_domain_list
from corpus.quality.classifier import QualityConfig, QualityScorer
from corpus.quality.raw_text_tap import RawTextTap
from corpus.quality.training import DEFAULT_MIN_AUC, QualityTrainConfig, ensure_quality_model
from corpus.readers.inputs import COMMONCRAWL_BASE_URL, expand_inputs, split_inputs
from corpus.readers.shards import read_documents
from corpus.readers.warc import read_warc
from corpus.steps import StepStats, run_steps
from corpus.writers.publish import print_summary
from corpus.writers.shard_writer import file_sha256
from pipelines.cleaning import CleaningConfig, text_filters
from pipelines.cli import default_workers, setup_logging, work_folder
from pipelines.global_stage import GlobalConfig, global_passes, write_output

log = logging.getLogger("clean_commoncrawl")
PROG = "python -m pipelines.clean_commoncrawl"
SOURCE = "commoncrawl"


@dataclass
class CleanConfig:
    """Everything a Common Crawl cleaning run depends on; defaults run on the shipped sample."""

    inputs: list[str] = field(default_factory=lambda: ["data/samples/cc_sample*.warc.gz"], metadata=flag(
        "WARC/WET files, globs, http(s)/s3 URLs or warc.paths.gz listings", name="--input", metavar="PATH|GLOB"))
    base_url: str = field(default=COMMONCRAWL_BASE_URL, metadata=flag("prefix for the paths of a listing",
            name="--base-url"))
    output: str = field(default="data/shards/commoncrawl", metadata=flag("output folder: the dataset", name="--output"))
    work_dir: str | None = field(default=None, metadata=flag(
        "work folder: parts, raw text, the classifier, signatures "
        "(default: <output's parent>/_work/<output's name>)", name="--work-dir", metavar="DIR"))
    workers: int = field(default_factory=default_workers, metadata=flag("processes", name="--workers", minimum=1))
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)  # --engine, --ray-address: not in fingerprints
    split_mb: int = field(default=256, metadata=flag(
        "read local .warc.gz files larger than this as ranges, in parallel (0: never)", name="--split-mb", minimum=0))
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    url_blocklist: str | None = field(default=None, metadata=flag("domains to drop, one per line",
            name="--url-blocklist", metavar="FILE"))
    quality_model: str | None = field(default=None, metadata=flag(
        "fastText quality classifier (default: train one on --quality-positive vs the raw crawl text, "
        "as GPT-3 did)", name="--quality-model", metavar="PATH"))
    quality_positive: list[str] = field(default_factory=lambda: ["data/shards/webtext"], metadata=flag(
        "shards of high-quality text to train the classifier on; several corpora as GPT-3 did (WebText, "
        "Wikipedia, books: see pipelines.add_corpus)", name="--quality-positive", metavar="DIR", nargs="*"))
    quality_balance: str = field(default="natural", metadata=flag(
        "several --quality-positive corpora: sampled in proportion to their sizes (natural) or the same "
        "number from each (equal)", name="--quality-balance", choices=["natural", "equal"]))
    quality_mode: str = field(default="pareto", metadata=flag(
        "keep by GPT-3's Pareto rule, by a threshold, or only score",
        name="--quality-mode", choices=["pareto", "threshold", "score"]))
    pareto_alpha: float = field(default=9.0, metadata=flag("GPT-3: 9", name="--pareto-alpha", minimum=0))
    quality_threshold: float = field(default=0.5, metadata=flag("for --quality-mode threshold",
            name="--quality-threshold", minimum=0,
                                                                maximum=1))
    min_quality_auc: float = field(default=DEFAULT_MIN_AUC, metadata=flag(
        "stop when the quality classifier's held-out ROC AUC is below this",
        name="--min-quality-auc", minimum=0, maximum=1))
    allow_weak_classifier: bool = field(default=False, metadata=flag(
        "go on with a quality classifier below --min-quality-auc", name="--allow-weak-classifier"))
    quality_filter: bool = field(default=True, metadata=flag("skip the quality classifier",
                                                             name="--no-quality-filter"))
    dedup_preset: str = field(default="fineweb", metadata=flag(
        "MinHash LSH settings (fineweb: 14x8 bands, gpt3: 10 hashes, openwebtext)",
        name="--dedup-preset", choices=sorted(PRESETS)))
    dedup_against: list[str] = field(default_factory=lambda: ["data/shards/webtext"], metadata=flag(
        "remove near-duplicates of these corpora (their shards or _signatures/)",
        name="--dedup-against", metavar="DIR", nargs="*"))
    decontaminate: list[str] = field(default_factory=list, metadata=flag(
        "benchmark JSONL files whose 13-grams are cut out (GPT-3's rule)",
        name="--decontaminate", metavar="FILE", nargs="*"))
    dedup: bool = field(default=True, metadata=flag("skip exact and fuzzy de-duplication", name="--no-dedup"))
    progress: bool = field(default=True, metadata=flag("no progress bars", name="--no-progress"))

    def work_path(self) -> Path:
        return work_folder(self.output, self.work_dir)


def map_warc(config: CleanConfig, work: Path, path: str):
    """Stage 1, per input: every document of one WARC (or byte range) through the map steps."""
    read_stats = StepStats("read_warc")
    blocked = load_domain_list(config.url_blocklist) if config.url_blocklist else frozenset()
    steps = [
        URLFilter(blocked),
        Extractor(config.cleaning.extraction),
        RawTextTap(work / "raw" / part_key(path)),  # unfiltered text: the classifier's negatives (GPT-3)
        *text_filters(config.cleaning),             # language -> Gopher / C4 / FineWeb -> PII
    ]
    docs = run_steps(read_warc(path, SOURCE, read_stats), steps)
    return docs, [read_stats] + [s.stats for s in steps]


def score_part(quality: QualityConfig, path: str):
    """Stage 3, per part: quality score and keep-or-drop by the Pareto rule."""
    scorer = QualityScorer(quality)
    return scorer(read_documents([Path(path)])), [scorer.stats]


def _map_parameters(config: CleanConfig) -> dict:
    """What stage-1 parts depend on: the cleaning settings, not where or how fast they run."""
    return {"url_blocklist": config.url_blocklist, "cleaning": asdict(config.cleaning)}


def run(config: CleanConfig) -> dict:
    for name, path in (("--quality-model", config.quality_model), ("--url-blocklist", config.url_blocklist)):
        if path and not Path(path).is_file():
            raise UserError(f"{name} {path}: no such file")
    inputs = expand_inputs(config.inputs, config.base_url)
    out = Path(config.output)
    work = config.work_path()
    tasks = split_inputs(inputs, config.split_mb << 20)
    log.info("cleaning %d WARC file(s) (%d tasks) with %d worker(s) into %s",
             len(inputs), len(tasks), config.workers, out)

    executor = make_executor(config.executor, config.workers, config.progress)

    # 1. Extract and filter every input.
    parts = executor.map_stage(partial(map_warc, config, work), tasks, work / "clean", desc="WARC files",
                               fingerprint=_map_parameters(config))
    close_sandboxes()  # extraction children of an in-process run are not needed any more
    files = [f for p in parts for f in p.files]
    stages = [merge_stats(parts)]

    # 2-3. Score with the quality classifier, keep by GPT-3's rule.
    model = None
    if config.quality_filter:
        model = ensure_quality_model(config.quality_model, config.quality_positive, work / "raw",
                                     work / "quality", QualityTrainConfig(positive_balance=config.quality_balance),
                                     min_auc=config.min_quality_auc,
                                     allow_weak=config.allow_weak_classifier)
    if model is not None:
        quality = QualityConfig(str(model.path), config.quality_mode, config.pareto_alpha, config.quality_threshold)
        scored = executor.map_stage(partial(score_part, quality), [str(f) for f in files], work / "scored",
                                    desc="quality", fingerprint={**asdict(quality), "model_sha256": file_sha256(model.path),
                                                                 "parts": _map_parameters(config)})
        files = [f for p in scored for f in p.files]
        stages.append(merge_stats(scored))

    # 4-6. Global: exact duplicates, near-duplicates (within the crawl and against WebText),
    # benchmark 13-grams; each a step built from its pass, run over the survivors into the shards.
    passes = global_passes(files, GlobalConfig(config.dedup, config.dedup_preset, config.dedup_against,
                                               config.decontaminate), work, executor)
    manifest = write_output(
        passes, out, executor, pipeline="clean_commoncrawl", inputs=inputs, parameters=asdict(config),
        earlier=[s for stage in stages for s in stage],
        extra={"quality_model": str(model.path) if model else None,
               "quality_classifier": model.manifest_entry() if model else None})
    return manifest


def parse_args(argv: list[str] | None = None) -> CleanConfig:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(p, CleanConfig)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    return config_from_flags(CleanConfig, a)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    with user_errors(PROG):
        manifest = run(config)
    print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
