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

from corpus.dedup.near_duplicates import PRESETS
from corpus.executor import LocalExecutor, merge_stats, part_key
from corpus.extract.extractor import Extractor, close_sandboxes
from corpus.filters.url import URLFilter, load_domain_list
from corpus.quality.classifier import QualityConfig, QualityScorer
from corpus.quality.model_stage import ensure_quality_model
from corpus.quality.raw_text_tap import RawTextTap
from corpus.readers.inputs import COMMONCRAWL_BASE_URL, expand_inputs, split_inputs
from corpus.readers.shards import read_documents
from corpus.readers.warc import read_warc
from corpus.steps import StepStats, run_steps
from corpus.writers.publish import print_summary, publish
from corpus.writers.shards import file_sha256
from pipelines.cleaning import CleaningConfig, text_filters
from pipelines.cli import (
    add_cleaning_arguments,
    cleaning_config_from_args,
    default_workers,
    setup_logging,
)
from pipelines.global_stage import GlobalConfig, global_steps, write_output_signatures

log = logging.getLogger("clean_commoncrawl")
SOURCE = "commoncrawl"


@dataclass
class CleanConfig:
    """Everything a Common Crawl cleaning run depends on; defaults run on the shipped sample."""

    inputs: list[str] = field(default_factory=lambda: ["data/samples/cc_sample*.warc.gz"])
    output: str = "data/shards/commoncrawl"
    workers: int = field(default_factory=default_workers)
    base_url: str = COMMONCRAWL_BASE_URL  # where the paths of a warc.paths.gz listing live
    split_mb: int = 256  # large local .warc.gz files are read as ranges of this size, in parallel
    url_blocklist: str | None = None
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    quality_filter: bool = True
    quality_model: str | None = None  # None: train one on `quality_positive` vs the raw crawl
    quality_positive: list[str] = field(default_factory=lambda: ["data/shards/webtext"])
    quality_mode: str = "pareto"
    pareto_alpha: float = 9.0
    quality_threshold: float = 0.5
    dedup: bool = True
    dedup_preset: str = "fineweb"
    dedup_against: list[str] = field(default_factory=lambda: ["data/shards/webtext"])
    decontaminate: list[str] = field(default_factory=list)


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
    inputs = expand_inputs(config.inputs, config.base_url)
    out = Path(config.output)
    work = out / "_work"
    tasks = split_inputs(inputs, config.split_mb << 20)
    log.info("cleaning %d WARC file(s) (%d tasks) with %d worker(s) into %s",
             len(inputs), len(tasks), config.workers, out)

    executor = LocalExecutor(config.workers)

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
                                     work / "quality")
    if model is not None:
        quality = QualityConfig(str(model), config.quality_mode, config.pareto_alpha, config.quality_threshold)
        scored = executor.map_stage(partial(score_part, quality), [str(f) for f in files], work / "scored",
                                    desc="quality", fingerprint={**asdict(quality), "model_sha256": file_sha256(model),
                                                                 "parts": _map_parameters(config)})
        files = [f for p in scored for f in p.files]
        stages.append(merge_stats(scored))

    # 4-6. Global: exact duplicates, near-duplicates (within the crawl and against WebText),
    # benchmark 13-grams; each a step built from its pass, run over the survivors into the shards.
    final = global_steps(files, GlobalConfig(config.dedup, config.dedup_preset, config.dedup_against,
                                             config.decontaminate), work, executor)
    manifest = publish(
        run_steps(read_documents(files), final.steps), out, "clean_commoncrawl", inputs, asdict(config),
        steps=lambda: [s for stage in stages for s in stage] + [s.stats for s in final.steps],
        extra={"quality_model": str(model) if model else None, **final.report})
    write_output_signatures(out)
    return manifest


def parse_args(argv: list[str] | None = None) -> CleanConfig:
    d = CleanConfig()
    p = argparse.ArgumentParser(prog="python -m pipelines.clean_commoncrawl", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", nargs="+", default=d.inputs, metavar="PATH|GLOB",
                   help="WARC/WET files, globs, http(s)/s3 URLs or warc.paths.gz listings "
                        "(default: the shipped sample)")
    p.add_argument("--base-url", default=d.base_url, help="prefix for the paths of a listing")
    p.add_argument("--output", default=d.output, help=f"output folder (default {d.output})")
    p.add_argument("--workers", type=int, default=d.workers, help="processes (default: cores)")
    p.add_argument("--split-mb", type=int, default=d.split_mb,
                   help="read local .warc.gz files larger than this as ranges, in parallel (0: never)")
    add_cleaning_arguments(p)
    p.add_argument("--url-blocklist", metavar="FILE", help="domains to drop, one per line")
    p.add_argument("--quality-model", metavar="PATH", help="fastText quality classifier "
                   "(default: train one on --quality-positive vs the raw crawl text, as GPT-3 did)")
    p.add_argument("--quality-positive", nargs="*", default=d.quality_positive, metavar="DIR",
                   help="shards of high-quality text to train the classifier on")
    p.add_argument("--quality-mode", choices=["pareto", "threshold", "score"], default=d.quality_mode,
                   help="keep by GPT-3's Pareto rule, by a threshold, or only score")
    p.add_argument("--pareto-alpha", type=float, default=d.pareto_alpha)
    p.add_argument("--quality-threshold", type=float, default=d.quality_threshold)
    p.add_argument("--no-quality-filter", action="store_true", help="skip the quality classifier")
    p.add_argument("--dedup-preset", choices=sorted(PRESETS), default=d.dedup_preset,
                   help="MinHash LSH settings (fineweb: 14x8 bands, gpt3: 10 hashes, openwebtext)")
    p.add_argument("--dedup-against", nargs="*", default=d.dedup_against, metavar="DIR",
                   help="remove near-duplicates of these corpora (their shards or _signatures/)")
    p.add_argument("--decontaminate", nargs="*", default=d.decontaminate, metavar="FILE",
                   help="benchmark JSONL files whose 13-grams are cut out (GPT-3's rule)")
    p.add_argument("--no-dedup", action="store_true", help="skip exact and fuzzy de-duplication")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    cleaning = cleaning_config_from_args(a)
    return CleanConfig(
        inputs=a.input, output=a.output, workers=a.workers, base_url=a.base_url, split_mb=a.split_mb,
        url_blocklist=a.url_blocklist, cleaning=cleaning, quality_filter=not a.no_quality_filter,
        quality_model=a.quality_model, quality_positive=a.quality_positive, quality_mode=a.quality_mode,
        pareto_alpha=a.pareto_alpha, quality_threshold=a.quality_threshold, dedup=not a.no_dedup,
        dedup_preset=a.dedup_preset, dedup_against=a.dedup_against, decontaminate=a.decontaminate)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    manifest = run(config)
    print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
