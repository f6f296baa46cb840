"""GPT-2's WebText path: Reddit links with karma >= 3 -> pages -> text -> filters -> exact dedup -> shards.

    python -m pipelines.build_webtext                      # the shipped sample dump and pages
    python -m pipelines.build_webtext --dump 'dumps/RS_2017-*.zst' --links-only --output out/webtext
    python -m pipelines.build_webtext --dump RS_2017-11.zst --pages 'fetched/*.warc.gz' --workers 8
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from tqdm import tqdm

from corpus.dedup import ExactDeduplicator
from corpus.executor import merge_stats, run_map_stage
from corpus.extract import TrafilaturaExtractor
from corpus.filters import LengthFilter
from corpus.join import LinkJoin
from corpus.langid import LanguageConfig, LanguageFilter
from corpus.links import LinkHarvester, LinkRules, read_links, write_links
from corpus.manifest import write_json_atomic
from corpus.publish import print_summary, publish
from corpus.reddit_dumps import expand_inputs, read_submissions
from corpus.shards import file_sha256
from corpus.steps import StepStats, run_steps
from corpus.warc import read_warc
from pipelines.cli import default_workers, setup_logging

log = logging.getLogger("build_webtext")
SOURCE = "webtext"


@dataclass
class WebTextConfig:
    """Everything a WebText run depends on; defaults run on the shipped sample."""

    dumps: list[str] = field(default_factory=lambda: ["data/samples/RS_sample.zst"])
    pages: list[str] = field(default_factory=lambda: ["data/samples/webtext_pages.warc.gz"])
    output: str = "data/shards/webtext"
    workers: int = field(default_factory=default_workers)
    min_karma: int = 3
    karma_mode: str = "submission"
    keep_over_18: bool = False
    keep_wikipedia: bool = False
    blocked_domains: list[str] = field(default_factory=list)
    links_only: bool = False
    languages: tuple[str, ...] = ("en",)
    min_lang_score: float = 0.65
    min_words: int = 50
    max_words: int = 100_000

    def links_path(self) -> Path:
        # Underscore: Parquet tools (pyarrow datasets, Spark, the trainer) skip it as non-data.
        return Path(self.output) / "_links" / "links.parquet"


def harvest_links(config: WebTextConfig) -> list[StepStats]:
    """Read the dumps, apply the link rules and write the links table; returns the counters."""
    rules = LinkRules(min_karma=config.min_karma, karma_mode=config.karma_mode,
                      drop_over_18=not config.keep_over_18, drop_wikipedia=not config.keep_wikipedia,
                      domain_blocklist=frozenset(d.lower() for d in config.blocked_domains))
    read_stats = StepStats("read_submissions")
    harvester = LinkHarvester(rules)
    subs = read_submissions(expand_inputs(config.dumps), read_stats)
    harvester.add(tqdm(subs, desc="submissions", unit="sub"))
    links = harvester.links()
    write_links(links, config.links_path())
    stats = [read_stats, harvester.rule_stats, harvester.karma_stats]
    write_json_atomic(config.links_path().with_name("links_stats.json"), [s.to_dict() for s in stats])
    log.info("%d links with karma >= %d written to %s", len(links), config.min_karma, config.links_path())
    return stats


def map_pages(config: WebTextConfig, path: str):
    """The per-file part of the recipe: one WARC of fetched pages through every map step."""
    read_stats = StepStats("read_warc")
    steps = [
        LinkJoin(read_links(config.links_path())),
        TrafilaturaExtractor(),
        LanguageFilter(LanguageConfig(config.languages, config.min_lang_score)),
        LengthFilter(config.min_words, config.max_words),
    ]
    docs = run_steps(read_warc(path, SOURCE, read_stats), steps)
    return docs, [read_stats] + [s.stats for s in steps]


def run(config: WebTextConfig) -> dict | None:
    out = Path(config.output)
    link_stats = harvest_links(config)
    if config.links_only:
        return None
    pages = expand_inputs(config.pages)
    fingerprint = {k: v for k, v in asdict(config).items() if k not in ("pages", "output", "workers")}
    fingerprint["links_sha256"] = file_sha256(config.links_path())
    parts = run_map_stage(partial(map_pages, config), pages, out / "_work", config.workers,
                          desc="WARC files", fingerprint=fingerprint)
    dedup = ExactDeduplicator()
    rows = dedup([f for p in parts for f in p.files])
    return publish(rows, out, "build_webtext", expand_inputs(config.dumps) + pages, asdict(config),
                   steps=lambda: link_stats + merge_stats(parts) + [dedup.stats],
                   extra={"links": str(config.links_path())})


def parse_args(argv: list[str] | None = None) -> WebTextConfig:
    d = WebTextConfig()
    p = argparse.ArgumentParser(prog="python -m pipelines.build_webtext", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dump", nargs="+", default=d.dumps, metavar="PATH|GLOB",
                   help="Pushshift submission dumps: RS_*.zst, .jsonl, .jsonl.gz (default: the sample)")
    p.add_argument("--pages", nargs="+", default=d.pages, metavar="WARC",
                   help="WARC files of already-fetched pages (default: the sample)")
    p.add_argument("--output", default=d.output, help=f"output folder (default {d.output})")
    p.add_argument("--workers", type=int, default=d.workers, help="processes (default: cores)")
    p.add_argument("--min-karma", type=int, default=d.min_karma, help="GPT-2: 3")
    p.add_argument("--karma-mode", choices=["submission", "url"], default=d.karma_mode,
                   help="threshold each submission (OpenWebText) or the sum over a URL (OpenWebText2)")
    p.add_argument("--keep-over-18", action="store_true", help="keep NSFW submissions")
    p.add_argument("--keep-wikipedia", action="store_true",
                   help="keep Wikipedia links (GPT-2 removed them to avoid test-set overlap)")
    p.add_argument("--block-domain", nargs="*", default=d.blocked_domains, dest="blocked_domains",
                   metavar="DOMAIN", help="registered domains or hosts to drop")
    p.add_argument("--links-only", action="store_true", help="stop after writing the links table")
    p.add_argument("--languages", nargs="+", default=list(d.languages), help="lid.176 codes to keep")
    p.add_argument("--min-lang-score", type=float, default=d.min_lang_score)
    p.add_argument("--min-words", type=int, default=d.min_words)
    p.add_argument("--max-words", type=int, default=d.max_words)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    return WebTextConfig(dumps=a.dump, pages=a.pages, output=a.output, workers=a.workers,
                         min_karma=a.min_karma, karma_mode=a.karma_mode, keep_over_18=a.keep_over_18,
                         keep_wikipedia=a.keep_wikipedia, blocked_domains=a.blocked_domains,
                         links_only=a.links_only, languages=tuple(a.languages),
                         min_lang_score=a.min_lang_score, min_words=a.min_words, max_words=a.max_words)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    manifest = run(config)
    if manifest is None:
        print(f"links: {config.links_path()}")
    else:
        print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
