"""GPT-2's WebText path, read top to bottom:

  1. links: Reddit submissions (dumps and/or the live API) -> karma >= 3 and the link rules
  2. pages: fetched into WARC (--fetch), or WARC files of pages fetched before (--pages)
  3. map (per WARC, in parallel): join with the links -> extract -> language -> Gopher / C4 /
     FineWeb rules -> PII
  4. global: exact and near-duplicate dedup (OpenWebText: MinHash LSH at 0.5), decontamination
  5. shards, manifest, report, and the MinHash signatures Common Crawl is deduplicated against

    python -m pipelines.build_webtext                      # the shipped sample dump and pages
    python -m pipelines.build_webtext --dump 'dumps/RS_2017-*.zst' --links-only --output out/webtext
    python -m pipelines.build_webtext --dump RS_2017-11.zst --pages 'fetched/*.warc.gz' --workers 8
    python -m pipelines.build_webtext --dump RS_2017-11.zst --fetch --output out/webtext
    python -m pipelines.build_webtext --subreddit news science --listing top --time-filter year --fetch

Links come from dumps (--dump) and/or the live API (--subreddit, credentials from praw.ini or the
praw_client_id / praw_client_secret environment variables). Pages come from WARC files (--pages)
and/or are fetched (--fetch) into the work folder's fetch/; both feed the same map stage. Work files
(links table, fetched pages, parts) go to --work-dir, by default <output's parent>/_work/<output's name>.
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
from corpus.executor import ExecutorConfig, make_executor, merge_stats
from corpus.extract.extractor import Extractor
from corpus.extract.sandbox import close_sandboxes
from corpus.fetch import FetchConfig, fetch_links
from corpus.readers.inputs import expand_inputs
from corpus.readers.warc import read_warc
from corpus.sources.link_harvest import HarvestSettings, harvest_to_table
from corpus.sources.link_join import LinkIndex, LinkJoin, ensure_link_index
from corpus.sources.links import LinkRules, iter_posted_urls
from corpus.sources.reddit_api import (
    LISTINGS,
    TIME_FILTERS,
    RedditApiConfig,
    harvest_api,
)
from corpus.steps import StepStats, run_steps
from corpus.writers.atomic import atomic_write_json
from corpus.writers.publish import print_summary
from pipelines.cleaning import CleaningConfig, text_filters
from pipelines.cli import default_workers, setup_logging, unix_time, work_folder
from pipelines.global_stage import GlobalConfig, global_passes, write_output

log = logging.getLogger("build_webtext")
PROG = "python -m pipelines.build_webtext"
REDDIT_API = "live Reddit API (credentials: praw.ini or praw_client_id/praw_client_secret)"
SOURCE = "webtext"


@dataclass
class WebTextConfig:
    """Everything a WebText run depends on; defaults run on the shipped sample."""

    dumps: list[str] = field(default_factory=lambda: ["data/samples/RS_sample.zst"])
    pages: list[str] = field(default_factory=lambda: ["data/samples/webtext_pages.warc.gz"])
    output: str = field(default="data/shards/webtext", metadata=flag("output folder: the dataset", name="--output"))
    work_dir: str | None = field(default=None, metadata=flag(
        "work folder: links table, fetched pages, parts, the output's signatures "
        "(default: <output's parent>/_work/<output's name>)", name="--work-dir", metavar="DIR"))
    workers: int = field(default_factory=default_workers, metadata=flag("processes", name="--workers", minimum=1))
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)  # --engine, --ray-address
    min_karma: int = field(default=3, metadata=flag("GPT-2: 3", name="--min-karma"))
    karma_mode: str = field(default="submission", metadata=flag(
        "threshold each submission (OpenWebText) or the sum over a URL (OpenWebText2)", name="--karma-mode",
        choices=["submission", "url"]))
    keep_over_18: bool = field(default=False, metadata=flag("keep NSFW submissions", name="--keep-over-18"))
    keep_wikipedia: bool = field(default=False, metadata=flag(
        "keep Wikipedia links (GPT-2 removed them to avoid test-set overlap)", name="--keep-wikipedia"))
    blocked_domains: list[str] = field(default_factory=list, metadata=flag(
        "registered domains or hosts to drop", name="--block-domain", metavar="DOMAIN", nargs="*"))
    links_only: bool = field(default=False, metadata=flag("stop after writing the links table", name="--links-only"))
    # The live Reddit API (praw); used when `subreddits` is not empty.
    subreddits: list[str] = field(default_factory=list, metadata=flag(
        "harvest these subreddits", name="--subreddit", metavar="NAME", group=REDDIT_API))
    listings: tuple[str, ...] = field(default=("top",), metadata=flag(
        "listings to page through", name="--listing", choices=LISTINGS, group=REDDIT_API))
    time_filter: str = field(default="all", metadata=flag(
        "for top", name="--time-filter", choices=TIME_FILTERS, group=REDDIT_API))
    limit: int | None = field(default=None, metadata=flag(
        "submissions per subreddit and listing", name="--limit", metavar="N", minimum=1, group=REDDIT_API))
    since: int | None = field(default=None, metadata=flag(  # unix seconds
        "skip submissions created before (YYYY-MM-DD or unix seconds, UTC)",
        name="--since", metavar="DATE", parse=unix_time,
        group=REDDIT_API))
    until: int | None = field(default=None, metadata=flag(
        "... or at/after this", name="--until", metavar="DATE", parse=unix_time, group=REDDIT_API))
    praw_site: str | None = field(default=None, metadata=flag(
        "praw.ini section with the credentials", name="--praw-site", metavar="SECTION", group=REDDIT_API))
    reddit_api_url: str | None = field(default=None, metadata=flag(
        "another API endpoint (mirror, test server)", name="--reddit-api-url", metavar="URL", group=REDDIT_API))
    # Fetching the links' pages into <work>/fetch/ (else `pages` are read as they are).
    fetch: bool = field(default=False, metadata=flag(
        "fetch the links' pages into <work>/fetch/ (robots.txt, SSRF guard, resumable)", name="--fetch"))
    fetch_config: FetchConfig = field(default_factory=FetchConfig)
    fetch_tasks: int | None = field(default=None, metadata=flag(
        "split the fetch by host into N tasks on --engine (default: one process with --engine local, 64 tasks "
        "with --engine ray; a fetch folder keeps the count it was first split into)",
        name="--fetch-tasks", metavar="N", minimum=1))
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    dedup: bool = field(default=True, metadata=flag("skip exact and fuzzy de-duplication", name="--no-dedup"))
    dedup_preset: str = field(default="openwebtext", metadata=flag(  # as OpenWebText did
        "MinHash LSH settings (openwebtext: threshold 0.5; fineweb: 14x8 bands; gpt3)",
        name="--dedup-preset", choices=sorted(PRESETS)))
    decontaminate: list[str] = field(default_factory=list, metadata=flag(
        "benchmark JSONL files whose 13-grams are cut out (GPT-3's rule)",
        name="--decontaminate", metavar="FILE", nargs="*"))
    progress: bool = field(default=True, metadata=flag("no progress bars", name="--no-progress"))

    def links_path(self) -> Path:
        return self.work_path() / "links" / "links.parquet"

    def fetch_dir(self) -> Path:
        return self.work_path() / "fetch"

    def work_path(self) -> Path:
        return work_folder(self.output, self.work_dir)

    def reddit_api_config(self) -> RedditApiConfig:
        return RedditApiConfig(subreddits=self.subreddits, listings=self.listings, time_filter=self.time_filter,
                               limit=self.limit, since=self.since, until=self.until, site_name=self.praw_site,
                               api_url=self.reddit_api_url)


def harvest_links(config: WebTextConfig) -> tuple[list[StepStats], list[str]]:
    """Read the dumps and/or the live API, apply the link rules and write the links table.

    Returns the counters and the submission files read (dumps, and the API harvest's JSONL).
    """
    api_stats: list[StepStats] = []
    inputs = expand_inputs(config.dumps) if config.dumps else []
    if config.subreddits:
        api = harvest_api(config.reddit_api_config(), config.work_path() / "reddit_api")
        api_stats.append(api.stats)
        inputs.append(str(api.path))
    if not inputs:
        raise UserError("no submissions to harvest: give --dump and/or --subreddit")
    rules = LinkRules(min_karma=config.min_karma, karma_mode=config.karma_mode,
                      drop_over_18=not config.keep_over_18, drop_wikipedia=not config.keep_wikipedia,
                      domain_blocklist=frozenset(d.lower() for d in config.blocked_domains))
    # Out of core: a candidate run per dump file (reused by a rerun), then DuckDB groups them by URL key.
    settings = HarvestSettings(workers=config.workers, threads=config.workers, progress=config.progress)
    harvest_stats, n_links = harvest_to_table(inputs, rules, config.links_path(), config.links_path().parent,
                                              settings)
    stats = api_stats + harvest_stats
    atomic_write_json(config.links_path().with_name("links_stats.json"), [s.to_dict() for s in stats])
    log.info("%d links with karma >= %d written to %s", n_links, config.min_karma, config.links_path())
    return stats, inputs


def fetch_pages(config: WebTextConfig) -> tuple[StepStats, list[str]]:
    """Fetch every harvested link into WARC files under `<output>/_fetch/` (resumable).

    Returns the fetch step's counters (each link fetched, or dropped under its failure reason)
    and the finished WARC files.
    """
    from corpus.fetch.sharded import FetchSource, choose_tasks, fetch_sharded

    tasks = choose_tasks(config.fetch_tasks, config.executor.engine, config.fetch_dir())
    if tasks is None:  # one process, on this machine
        # The URL as posted, not the canonical form: that is only the key the pages are joined by.
        # Streamed from the table: a list of strings, never a dict of every link's row.
        urls = list(iter_posted_urls(config.links_path()))
        report = fetch_links(urls, config.fetch_dir(), config.fetch_config)
    else:
        # Split by host into tasks on the run's engine (fetch/task-NNNN/); each task reads its own
        # share of the table. A Ray started here gets --workers CPUs, as the map stage expects.
        local = config.executor.engine == "local"
        executor = make_executor(config.executor, min(tasks, config.workers) if local else config.workers,
                                 config.progress)
        report = fetch_sharded(FetchSource(str(config.links_path()), "links"), config.fetch_dir(),
                               config.fetch_config, tasks, executor)
    return report.stats, [str(p) for p in report.warc_files]


def links_with_redirects(config: WebTextConfig) -> str:
    """Build (or reuse) the join's on-disk index, once, in the driver: the links by URL key plus the
    final URL of every link the fetcher reached by redirects. Returns the links table's sha256.

    Each WARC's join then looks up only its own pages' keys (`LinkIndex`), whatever the number of links.
    """
    return ensure_link_index(config.links_path(), config.links_path().with_name("link_index.sqlite"),
                             config.fetch_dir())


def map_pages(config: WebTextConfig, path: str):
    """The per-file part of the recipe: one WARC of fetched pages through every map step."""
    read_stats = StepStats("read_warc")
    steps = [
        # WebText keeps only pages of harvested links (index built by `links_with_redirects` in the driver).
        LinkJoin(LinkIndex(config.links_path().with_name("link_index.sqlite"))),
        Extractor(config.cleaning.extraction),
        *text_filters(config.cleaning),           # language -> Gopher / C4 / FineWeb -> PII
    ]
    docs = run_steps(read_warc(path, SOURCE, read_stats), steps)
    return docs, [read_stats] + [s.stats for s in steps]


def run(config: WebTextConfig) -> dict | None:
    out = Path(config.output)
    link_stats, submission_files = harvest_links(config)
    if config.links_only:
        return None
    pages = expand_inputs(config.pages) if config.pages else []
    if config.fetch:
        fetch_stats, fetched = fetch_pages(config)
        link_stats.append(fetch_stats)
        pages = fetched + pages
    # What the parts depend on: not where pages came from, nor how politely they were fetched.
    ignored = ("pages", "output", "work_dir", "workers", "progress", "fetch_config", "fetch_tasks", "praw_site",
               "reddit_api_url", "dedup", "dedup_preset", "decontaminate", "executor")
    fingerprint = {k: v for k, v in asdict(config).items() if k not in ignored}
    fingerprint["links_sha256"] = links_with_redirects(config)  # builds the join's key index once
    work = config.work_path()
    executor = make_executor(config.executor, config.workers, config.progress)
    parts = executor.map_stage(partial(map_pages, config), pages, work / "clean", desc="WARC files",
                               fingerprint=fingerprint)
    close_sandboxes()  # extraction children of an in-process run are not needed any more
    files = [f for p in parts for f in p.files]

    # Global: exact and near-duplicate dedup, decontamination, each a step built from its pass.
    passes = global_passes(files, GlobalConfig(config.dedup, config.dedup_preset, [], config.decontaminate),
                           work, executor)
    manifest = write_output(passes, out, executor, pipeline="build_webtext", inputs=submission_files + pages,
                            parameters=asdict(config), earlier=link_stats + merge_stats(parts),
                            extra={"links": str(config.links_path())})
    return manifest


def parse_args(argv: list[str] | None = None) -> WebTextConfig:
    d = WebTextConfig()
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # Not generated: the samples are the defaults only where no real source is named.
    p.add_argument("--dump", nargs="+", default=None, metavar="PATH|GLOB",
                   help="Pushshift submission dumps: RS_*.zst, .jsonl, .jsonl.gz (default: the sample, "
                        "unless --subreddit is given)")
    p.add_argument("--pages", nargs="+", default=None, metavar="WARC",
                   help="WARC files of already-fetched pages (default: the sample, unless --fetch is given)")
    add_config_flags(p, WebTextConfig)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    dumps = a.dump if a.dump is not None else ([] if a.subreddits else d.dumps)
    pages = a.pages if a.pages is not None else ([] if a.fetch else d.pages)
    return config_from_flags(WebTextConfig, a, dumps=dumps, pages=pages)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    with user_errors(PROG):
        manifest = run(config)
    if manifest is None:
        print(f"links: {config.links_path()}")
    else:
        print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
