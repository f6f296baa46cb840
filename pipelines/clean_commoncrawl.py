"""GPT-3's Common Crawl path: WARC -> text -> language -> filters -> exact dedup -> shards.

    python -m pipelines.clean_commoncrawl                       # the shipped sample
    python -m pipelines.clean_commoncrawl --input 'crawl/*.warc.gz' --output out/cc --workers 8
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from corpus.dedup import ExactDeduplicator
from corpus.executor import merge_stats, run_map_stage
from corpus.extract import TrafilaturaExtractor
from corpus.filters import LengthFilter
from corpus.langid import LanguageConfig, LanguageFilter
from corpus.publish import print_summary, publish
from corpus.reddit_dumps import expand_inputs
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
    languages: tuple[str, ...] = ("en",)
    min_lang_score: float = 0.65
    min_words: int = 50
    max_words: int = 100_000


def map_warc(config: CleanConfig, path: str):
    """The per-file part of the recipe: every document of one WARC, through every map step."""
    read_stats = StepStats("read_warc")
    steps = [
        TrafilaturaExtractor(),
        LanguageFilter(LanguageConfig(config.languages, config.min_lang_score)),
        LengthFilter(config.min_words, config.max_words),
    ]
    docs = run_steps(read_warc(path, SOURCE, read_stats), steps)
    return docs, [read_stats] + [s.stats for s in steps]


def _map_parameters(config: CleanConfig) -> dict:
    """What the parts depend on: everything but where they go and how many processes make them."""
    return {k: v for k, v in asdict(config).items() if k not in ("inputs", "output", "workers")}


def run(config: CleanConfig) -> dict:
    inputs = expand_inputs(config.inputs)
    out = Path(config.output)
    log.info("cleaning %d WARC file(s) with %d worker(s) into %s", len(inputs), config.workers, out)
    parts = run_map_stage(partial(map_warc, config), inputs, out / "_work", config.workers,
                          desc="WARC files", fingerprint=_map_parameters(config))
    dedup = ExactDeduplicator()
    rows = dedup([f for p in parts for f in p.files])
    return publish(rows, out, "clean_commoncrawl", inputs, asdict(config),
                   steps=lambda: merge_stats(parts) + [dedup.stats])


def parse_args(argv: list[str] | None = None) -> CleanConfig:
    d = CleanConfig()
    p = argparse.ArgumentParser(prog="python -m pipelines.clean_commoncrawl", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", nargs="+", default=d.inputs, metavar="PATH|GLOB",
                   help="WARC files or globs (default: the shipped sample)")
    p.add_argument("--output", default=d.output, help=f"output folder (default {d.output})")
    p.add_argument("--workers", type=int, default=d.workers, help="processes (default: cores)")
    p.add_argument("--languages", nargs="+", default=list(d.languages), help="lid.176 codes to keep")
    p.add_argument("--min-lang-score", type=float, default=d.min_lang_score)
    p.add_argument("--min-words", type=int, default=d.min_words)
    p.add_argument("--max-words", type=int, default=d.max_words)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    return CleanConfig(inputs=a.input, output=a.output, workers=a.workers, languages=tuple(a.languages),
                       min_lang_score=a.min_lang_score, min_words=a.min_words, max_words=a.max_words)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    manifest = run(config)
    print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
