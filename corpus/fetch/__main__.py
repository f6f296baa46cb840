"""Fetch links into WARC files on their own (build_webtext does this too, with `--fetch`).

    python -m corpus.fetch --links data/shards/_work/webtext/links/links.parquet --output fetched/
    python -m corpus.fetch --urls urls.txt --output fetched/ --concurrency 128
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from corpus.cli_flags import add_config_flags, config_from_flags
from corpus.errors import UserError, user_errors
from corpus.fetch.config import FetchConfig
from corpus.fetch.crawl import fetch_links

PROG = "python -m corpus.fetch"


def read_url_list(links: str | None, urls: str | None) -> list[str]:
    """Links from a links Parquet table or a text file, one URL a line.

    From the table, each link's `posted_url` (its URL as posted): the canonical `url` is only a
    key, and may name another page (`?amp` is not `?amp=`). A table older than that column gives `url`.
    """
    path = links or urls
    if path is None or not Path(path).is_file():
        raise UserError(f"{'--links' if links else '--urls'} {path}: no such file")
    if links:
        import pyarrow.parquet as pq

        # Batch by batch, one column: the list of URL strings is all the fetcher needs.
        table = pq.ParquetFile(links)
        column = "posted_url" if "posted_url" in table.schema_arrow.names else "url"
        return [url for batch in table.iter_batches(batch_size=1 << 16, columns=[column])
                for url in batch.column(0).to_pylist()]
    return [line.strip() for line in Path(urls).read_text().splitlines() if line.strip() and not line.startswith("#")]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--links", help="a links Parquet table (build_webtext's <work>/links/links.parquet)")
    src.add_argument("--urls", help="a text file with one URL a line")
    p.add_argument("--output", required=True, help="folder for the WARC files and the fetch logs")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    add_config_flags(p, FetchConfig)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    with user_errors(PROG):
        urls = read_url_list(a.links, a.urls)
    report = fetch_links(urls, a.output, config_from_flags(FetchConfig, a, progress=not a.no_progress))
    s = report.stats
    drops = ", ".join(f"{r}={n}" for r, n in sorted(s.dropped.items(), key=lambda kv: -kv[1]))
    print(f"fetch: {s.n_in} links, {s.n_out} fetched ({report.fetched_now} this run), {drops or 'no failures'}")
    print(f"WARC files: {len(report.warc_files)} in {a.output}")


if __name__ == "__main__":
    main()
