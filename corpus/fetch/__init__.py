"""The page fetcher: links -> WARC files, politely (robots.txt, per-host limits) and safely (SSRF guard).

Modules, one idea each: `config` (settings), `safety` (the SSRF guard), `robots` (robots.txt),
`politeness` (per-host scheduling), `fetcher` (one page: redirects, retries, limits),
`warc_writer` (WARC/1.1 output), `journal` and `state` (logs and resume), `failures` (reasons),
`crawl` (the whole run), `sharded` (the run split by host into tasks for an executor, local or Ray);
`python -m corpus.fetch` (`__main__`) runs it on its own.
"""

from corpus.fetch.config import DEFAULT_USER_AGENT, FetchConfig
from corpus.fetch.crawl import FetchReport, fetch_links
from corpus.fetch.failures import PERMANENT, TRANSIENT, Failure
from corpus.fetch.sharded import FetchSource, ShardedFetchReport, fetch_sharded
from corpus.fetch.state import FetchState, fetch_logs

__all__ = ["DEFAULT_USER_AGENT", "FetchConfig", "FetchReport", "FetchSource", "FetchState", "Failure", "PERMANENT",
           "ShardedFetchReport", "TRANSIENT", "fetch_links", "fetch_logs", "fetch_sharded"]
