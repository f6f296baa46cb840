"""GPT-3's Common Crawl path: WARC -> URL filter -> text -> language -> heuristics -> PII -> dedup -> shards.

    python -m pipelines.clean_commoncrawl                       # the shipped sample
    python -m pipelines.clean_commoncrawl --input 'crawl/*.warc.gz' --output out/cc --workers 8
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from corpus.cleaning import CleaningConfig, cleaning_steps
from corpus.dedup import ExactDeduplicator
from corpus.executor import merge_stats, run_map_stage
from corpus.extract import ENGINES, ExtractionConfig
from corpus.filters.url import URLFilter, load_domain_list
from corpus.inputs import COMMONCRAWL_BASE_URL, expand_inputs, split_inputs
from corpus.langid import LanguageConfig
from corpus.publish import print_summary, publish
from corpus.shards import iter_rows
from corpus.steps import StepStats, run_steps
from corpus.warc import read_warc
from pipelines.cli import default_workers, setup_logging

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
    dedup: bool = True


def map_warc(config: CleanConfig, path: str):
    """The per-file part of the recipe: every document of one WARC, through every map step."""
    read_stats = StepStats("read_warc")
    blocked = load_domain_list(config.url_blocklist) if config.url_blocklist else frozenset()
    steps = [URLFilter(blocked)] + cleaning_steps(config.cleaning)
    docs = run_steps(read_warc(path, SOURCE, read_stats), steps)
    return docs, [read_stats] + [s.stats for s in steps]


def _map_parameters(config: CleanConfig) -> dict:
    """What the parts depend on: everything but where they go and how many processes make them."""
    return {k: v for k, v in asdict(config).items() if k not in ("inputs", "output", "workers", "base_url", "split_mb")}


def run(config: CleanConfig) -> dict:
    inputs = expand_inputs(config.inputs, config.base_url)
    out = Path(config.output)
    tasks = split_inputs(inputs, config.split_mb << 20)
    log.info("cleaning %d WARC file(s) (%d tasks) with %d worker(s) into %s",
             len(inputs), len(tasks), config.workers, out)
    parts = run_map_stage(partial(map_warc, config), tasks, out / "_work", config.workers,
                          desc="WARC files", fingerprint=_map_parameters(config))
    part_files = [f for p in parts for f in p.files]
    global_steps = [ExactDeduplicator()] if config.dedup else []
    rows = global_steps[0](part_files) if global_steps else iter_rows(part_files)
    return publish(rows, out, "clean_commoncrawl", inputs, asdict(config),
                   steps=lambda: merge_stats(parts) + [s.stats for s in global_steps])


def parse_args(argv: list[str] | None = None) -> CleanConfig:
    d, dc, de = CleanConfig(), CleaningConfig(), ExtractionConfig()
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
    p.add_argument("--extractor", choices=ENGINES, default=de.engine)
    p.add_argument("--extraction-timeout", type=float, default=de.timeout_s,
                   help="seconds per page before it is killed and dropped (0: no limit, in-process)")
    p.add_argument("--languages", nargs="+", default=list(dc.language.languages), help="lid.176 codes to keep")
    p.add_argument("--min-lang-score", type=float, default=dc.language.min_score)
    p.add_argument("--min-words", type=int, default=dc.min_words)
    p.add_argument("--max-words", type=int, default=dc.max_words)
    p.add_argument("--url-blocklist", metavar="FILE", help="domains to drop, one per line")
    p.add_argument("--no-heuristics", action="store_true", help="skip the Gopher, C4 and FineWeb rules")
    p.add_argument("--no-pii", action="store_true", help="keep e-mail and IP addresses as they are")
    p.add_argument("--no-dedup", action="store_true", help="skip de-duplication")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    cleaning = CleaningConfig(
        extraction=ExtractionConfig(engine=a.extractor, timeout_s=a.extraction_timeout),
        language=LanguageConfig(tuple(a.languages), a.min_lang_score),
        min_words=a.min_words, max_words=a.max_words,
        heuristics=not a.no_heuristics, anonymize_pii=not a.no_pii)
    return CleanConfig(inputs=a.input, output=a.output, workers=a.workers, base_url=a.base_url,
                       split_mb=a.split_mb, url_blocklist=a.url_blocklist,
                       cleaning=cleaning, dedup=not a.no_dedup)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    manifest = run(config)
    print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
