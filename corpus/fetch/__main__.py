"""Fetch links into WARC files on their own (build_webtext does this too, with `--fetch`).

    python -m corpus.fetch --links data/shards/_work/webtext/links/links.parquet --output fetched/
    python -m corpus.fetch --urls urls.txt --output fetched/ --concurrency 128
    python -m corpus.fetch --links links.parquet --output fetched/ --engine ray --ray-address auto

With --engine local and no --fetch-tasks: one process, the WARC files and logs in --output.
With --fetch-tasks N (or --engine ray: 64 tasks unless told) the links are split by host into N
tasks, each fetching into --output/task-NNNN/ (its own WARC files and logs, resumable on its own);
a folder keeps the count it was first split into. --concurrency is then per task.
"""

from __future__ import annotations

import argparse
import logging
import os

from corpus.cli_flags import add_config_flags, config_from_flags, number
from corpus.errors import user_errors
from corpus.executor import ExecutorConfig, make_executor
from corpus.fetch.config import FetchConfig
from corpus.fetch.crawl import fetch_links
from corpus.fetch.sharded import FetchSource, choose_tasks, default_workers, fetch_sharded

PROG = "python -m corpus.fetch"


def read_url_list(links: str | None, urls: str | None) -> list[str]:
    """Links from a links Parquet table or a text file, one URL a line.

    From the table, each link's `posted_url` (its URL as posted): the canonical `url` is only a
    key, and may name another page (`?amp` is not `?amp=`). A table older than that column gives `url`.
    """
    source = source_of(links, urls)
    source.check()
    # Streamed (`iter_posted_urls` for a table: batch by batch, one column): the list of URL strings
    # is all the fetcher needs.
    return list(source.iter_urls())


def source_of(links: str | None, urls: str | None) -> FetchSource:
    """The `--links` table or the `--urls` text file as a source the fetch tasks read themselves."""
    return FetchSource(links, "links") if links else FetchSource(str(urls), "urls")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--links", help="a links Parquet table (build_webtext's <work>/links/links.parquet)")
    src.add_argument("--urls", help="a text file with one URL a line")
    p.add_argument("--output", required=True, help="folder for the WARC files and the fetch logs")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--fetch-tasks", type=number(int, minimum=1), default=None, metavar="N",
                   help="split the links by host into N tasks, run on --engine (default: 1 process with "
                        "--engine local, 64 tasks with --engine ray; a folder keeps the count it was first "
                        "split into)")
    add_config_flags(p, FetchConfig)
    add_config_flags(p, ExecutorConfig)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    config = config_from_flags(FetchConfig, a, progress=not a.no_progress)
    engine = config_from_flags(ExecutorConfig, a)
    with user_errors(PROG):
        tasks = choose_tasks(a.fetch_tasks, engine.engine, a.output)
        if tasks is None:  # today's single process and layout
            report = fetch_links(read_url_list(a.links, a.urls), a.output, config)
        else:
            # Local: one process a task, up to a CPU each; Ray started here gets this machine's CPUs.
            workers = default_workers(tasks) if engine.engine == "local" else (os.cpu_count() or 1)
            executor = make_executor(engine, workers, show_progress=not a.no_progress)
            report = fetch_sharded(source_of(a.links, a.urls), a.output, config, tasks, executor)
    s = report.stats
    drops = ", ".join(f"{r}={n}" for r, n in sorted(s.dropped.items(), key=lambda kv: -kv[1]))
    print(f"fetch: {s.n_in} links, {s.n_out} fetched ({report.fetched_now} this run), {drops or 'no failures'}")
    where = f"{a.output}/task-*/ ({tasks} tasks)" if tasks is not None else a.output
    print(f"WARC files: {len(report.warc_files)} in {where}")


if __name__ == "__main__":
    main()
