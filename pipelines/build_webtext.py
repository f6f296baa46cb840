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
and/or are fetched (--fetch) into <output>/_fetch/; both feed the same map stage.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from tqdm import tqdm

from corpus.dedup.near_duplicates import PRESETS
from corpus.executor import LocalExecutor, merge_stats
from corpus.extract.extractor import Extractor, close_sandboxes
from corpus.fetch import FetchConfig, fetch_links
from corpus.fetch.cli import add_fetch_arguments, fetch_config_from_args
from corpus.fetch.state import read_redirect_aliases
from corpus.readers.inputs import expand_inputs
from corpus.readers.shards import read_documents
from corpus.readers.warc import read_warc
from corpus.sources.link_join import LinkJoin
from corpus.sources.links import LinkHarvester, LinkRules, read_links, write_links
from corpus.sources.reddit_api import (
    LISTINGS,
    TIME_FILTERS,
    RedditApiConfig,
    harvest_api,
)
from corpus.sources.reddit_dumps import read_submissions
from corpus.steps import StepStats, run_steps
from corpus.urls import url_key
from corpus.writers.atomic import write_json_atomic
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
    # The live Reddit API (praw); used when `subreddits` is not empty.
    subreddits: list[str] = field(default_factory=list)
    listings: tuple[str, ...] = ("top",)
    time_filter: str = "all"
    limit: int | None = None            # submissions per subreddit and listing
    since: int | None = None            # unix seconds; submissions created before are skipped
    until: int | None = None
    praw_site: str | None = None        # praw.ini section with the credentials
    reddit_api_url: str | None = None   # another endpoint than Reddit's (a mirror, a test server)
    # Fetching the links' pages into <output>/_fetch/ (else `pages` are read as they are).
    fetch: bool = False
    fetch_config: FetchConfig = field(default_factory=FetchConfig)
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    dedup: bool = True
    dedup_preset: str = "openwebtext"  # 5-gram MinHash LSH at threshold 0.5, as OpenWebText did
    decontaminate: list[str] = field(default_factory=list)

    def links_path(self) -> Path:
        # Underscore: Parquet tools (pyarrow datasets, Spark, the trainer) skip it as non-data.
        return Path(self.output) / "_links" / "links.parquet"

    def fetch_dir(self) -> Path:
        return Path(self.output) / "_fetch"

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
        api = harvest_api(config.reddit_api_config(), Path(config.output) / "_reddit_api")
        api_stats.append(api.stats)
        inputs.append(str(api.path))
    if not inputs:
        raise ValueError("no submissions to harvest: give --dump and/or --subreddit")
    rules = LinkRules(min_karma=config.min_karma, karma_mode=config.karma_mode,
                      drop_over_18=not config.keep_over_18, drop_wikipedia=not config.keep_wikipedia,
                      domain_blocklist=frozenset(d.lower() for d in config.blocked_domains))
    read_stats = StepStats("read_submissions")
    harvester = LinkHarvester(rules)
    subs = read_submissions(inputs, read_stats)
    harvester.add(tqdm(subs, desc="submissions", unit="sub"))
    links = harvester.links()
    write_links(links, config.links_path())
    stats = api_stats + [read_stats, harvester.rule_stats, harvester.karma_stats]
    write_json_atomic(config.links_path().with_name("links_stats.json"), [s.to_dict() for s in stats])
    log.info("%d links with karma >= %d written to %s", len(links), config.min_karma, config.links_path())
    return stats, inputs


def fetch_pages(config: WebTextConfig) -> tuple[StepStats, list[str]]:
    """Fetch every harvested link into WARC files under `<output>/_fetch/` (resumable).

    Returns the fetch step's counters (each link fetched, or dropped under its failure reason)
    and the finished WARC files.
    """
    urls = [link.url for link in read_links(config.links_path()).values()]
    report = fetch_links(urls, config.fetch_dir(), config.fetch_config)
    return report.stats, [str(p) for p in report.warc_files]


def links_with_redirects(config: WebTextConfig) -> dict:
    """The links by URL key, plus the final URL of every link the fetcher reached by redirects."""
    links = read_links(config.links_path())
    for final_url, link_url in read_redirect_aliases(config.fetch_dir()).items():
        final_key, link_key = url_key(final_url), url_key(link_url)
        if final_key and link_key in links and final_key not in links:
            links[final_key] = links[link_key]
    return links


def map_pages(config: WebTextConfig, path: str):
    """The per-file part of the recipe: one WARC of fetched pages through every map step."""
    read_stats = StepStats("read_warc")
    steps = [
        LinkJoin(links_with_redirects(config)),  # WebText keeps only pages of harvested links
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
    ignored = ("pages", "output", "workers", "fetch_config", "praw_site", "reddit_api_url",
               "dedup", "dedup_preset", "decontaminate")
    fingerprint = {k: v for k, v in asdict(config).items() if k not in ignored}
    fingerprint["links_sha256"] = file_sha256(config.links_path())
    work = out / "_work"
    executor = LocalExecutor(config.workers)
    parts = executor.map_stage(partial(map_pages, config), pages, work / "clean", desc="WARC files",
                               fingerprint=fingerprint)
    close_sandboxes()  # extraction children of an in-process run are not needed any more
    files = [f for p in parts for f in p.files]

    # Global: exact and near-duplicate dedup, decontamination, each a step built from its pass.
    final = global_steps(files, GlobalConfig(config.dedup, config.dedup_preset, [], config.decontaminate),
                         work, executor)
    manifest = publish(run_steps(read_documents(files), final.steps), out, "build_webtext",
                       submission_files + pages, asdict(config),
                       steps=lambda: link_stats + merge_stats(parts) + [s.stats for s in final.steps],
                       extra={"links": str(config.links_path()), **final.report})
    write_output_signatures(out)
    return manifest


def unix_time(value: str) -> int:
    """A date (YYYY-MM-DD, UTC) or unix seconds, as unix seconds."""
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or unix time: {value!r}") from None


def parse_args(argv: list[str] | None = None) -> WebTextConfig:
    d = WebTextConfig()
    p = argparse.ArgumentParser(prog="python -m pipelines.build_webtext", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dump", nargs="+", default=None, metavar="PATH|GLOB",
                   help="Pushshift submission dumps: RS_*.zst, .jsonl, .jsonl.gz (default: the sample, "
                        "unless --subreddit is given)")
    p.add_argument("--pages", nargs="+", default=None, metavar="WARC",
                   help="WARC files of already-fetched pages (default: the sample, unless --fetch is given)")
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
    api = p.add_argument_group("live Reddit API (credentials: praw.ini or praw_client_id/praw_client_secret)")
    api.add_argument("--subreddit", nargs="+", default=[], metavar="NAME", help="harvest these subreddits")
    api.add_argument("--listing", nargs="+", choices=LISTINGS, default=list(d.listings), help="default: top")
    api.add_argument("--time-filter", choices=TIME_FILTERS, default=d.time_filter, help="for top (default all)")
    api.add_argument("--limit", type=int, default=None, metavar="N", help="submissions per subreddit and listing")
    api.add_argument("--since", type=unix_time, default=None, metavar="DATE",
                     help="skip submissions created before (YYYY-MM-DD or unix seconds, UTC)")
    api.add_argument("--until", type=unix_time, default=None, metavar="DATE", help="... or at/after this")
    api.add_argument("--praw-site", default=None, metavar="SECTION", help="praw.ini section to use")
    api.add_argument("--reddit-api-url", default=None, metavar="URL", help="another API endpoint (mirror, test server)")
    p.add_argument("--fetch", action="store_true",
                   help="fetch the links' pages into <output>/_fetch/ (robots.txt, SSRF guard, resumable)")
    add_fetch_arguments(p)
    add_cleaning_arguments(p)
    p.add_argument("--dedup-preset", choices=sorted(PRESETS), default=d.dedup_preset,
                   help="MinHash LSH settings (openwebtext: threshold 0.5; fineweb: 14x8 bands; gpt3)")
    p.add_argument("--no-dedup", action="store_true", help="skip exact and fuzzy de-duplication")
    p.add_argument("--decontaminate", nargs="*", default=d.decontaminate, metavar="FILE",
                   help="benchmark JSONL files whose 13-grams are cut out (GPT-3's rule)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    # The samples are the defaults only where no real source is named.
    dumps = a.dump if a.dump is not None else ([] if a.subreddit else d.dumps)
    pages = a.pages if a.pages is not None else ([] if a.fetch else d.pages)
    return WebTextConfig(dumps=dumps, pages=pages, output=a.output, workers=a.workers,
                         min_karma=a.min_karma, karma_mode=a.karma_mode, keep_over_18=a.keep_over_18,
                         keep_wikipedia=a.keep_wikipedia, blocked_domains=a.blocked_domains,
                         links_only=a.links_only, cleaning=cleaning_config_from_args(a), dedup=not a.no_dedup,
                         dedup_preset=a.dedup_preset, decontaminate=a.decontaminate,
                         subreddits=a.subreddit, listings=tuple(a.listing), time_filter=a.time_filter,
                         limit=a.limit, since=a.since, until=a.until, praw_site=a.praw_site,
                         reddit_api_url=a.reddit_api_url, fetch=a.fetch, fetch_config=fetch_config_from_args(a))


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    manifest = run(config)
    if manifest is None:
        print(f"links: {config.links_path()}")
    else:
        print_summary(manifest, Path(config.output))


if __name__ == "__main__":
    main()
