"""What earlier runs of a fetch left behind, so that the next run continues where they stopped.

The fetch folder holds the WARC files, `fetched.jsonl` (one line per page written, with its WARC
file and byte range) and `failures.jsonl` (one line per failed attempt at a link). A link is done
when a finished WARC holds it or when its last failure is permanent; everything else is fetched
(again) by the next run. The `.tmp` WARC of a killed run is first cut back to the pages its log
recorded and finished, so a `kill -9` loses only the pages that were in flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.fetch.journal import read_journal
from corpus.fetch.warc_writer import TMP_SUFFIX, WARC_SUFFIX, recover_warc
from corpus.steps import StepStats

FETCHED_LOG = "fetched.jsonl"
FAILURE_LOG = "failures.jsonl"
TASK_PREFIX = "task-"  # the task folders of a fetch split by host (`corpus.fetch.sharded`)


@dataclass
class FetchState:
    """The outcome so far of every link an earlier run tried."""

    root: Path
    # Kept small, since a crawl has millions of links: only what resuming and counting need.
    fetched: dict[str, str] = field(default_factory=dict)             # link URL -> final URL ("" if same)
    failed: dict[str, tuple[str, bool]] = field(default_factory=dict)  # link URL -> (last reason, permanent)

    @classmethod
    def load(cls, root: Path | str) -> "FetchState":
        """Read the logs under `root`, finishing the WARC files of an interrupted run first."""
        root = Path(root)
        state = cls(root)
        if not root.exists():
            return state
        entries = list(read_journal(root / FETCHED_LOG))
        for tmp in sorted(root.glob(f"*{WARC_SUFFIX}{TMP_SUFFIX}")):
            name = tmp.name[: -len(TMP_SUFFIX)]
            size = tmp.stat().st_size
            ends = [e["end"] for e in entries if e.get("warc") == name and e.get("end", 0) <= size]
            recover_warc(tmp, max(ends, default=0))
        sizes = {p.name: p.stat().st_size for p in root.glob(f"*{WARC_SUFFIX}")}
        for entry in entries:
            # Only pages that a finished WARC really holds count as fetched.
            if entry.get("end", 0) <= sizes.get(entry.get("warc", ""), -1):
                state.record_page(entry)
        del entries
        for failure in read_journal(root / FAILURE_LOG):
            state.record_failure(failure)
        return state

    def is_done(self, url: str) -> bool:
        """Fetched, or failed for a reason a new attempt would meet again."""
        return url in self.fetched or self.failed.get(url, ("", False))[1]

    def record_page(self, entry: dict[str, Any]) -> None:
        """Note a `fetched.jsonl` entry."""
        final = entry.get("final_url") or ""
        self.fetched[entry["url"]] = "" if final == entry["url"] else final

    def record_failure(self, entry: dict[str, Any]) -> None:
        """Note a `failures.jsonl` entry; the latest failure of a URL is the one that counts."""
        self.failed[entry["url"]] = (entry["reason"], bool(entry.get("permanent")))

    def warc_files(self) -> list[Path]:
        """The finished WARC files, in name order."""
        return sorted(self.root.glob(f"*{WARC_SUFFIX}")) if self.root.exists() else []

    def redirect_aliases(self) -> dict[str, str]:
        """Final URL -> link URL for every page that was reached through redirects."""
        return {final: url for url, final in self.fetched.items() if final}

    def stats(self, urls: Iterable[str], name: str = "fetch") -> StepStats:
        """The fetch step's counters over `urls`: fetched, or dropped under the last failure reason."""
        stats = StepStats(name)
        reasons: Counter[str] = Counter()
        for url in urls:
            stats.n_in += 1
            if url in self.fetched:
                stats.n_out += 1
            elif url in self.failed:
                reasons[self.failed[url][0]] += 1
            else:
                reasons["not_attempted"] += 1
        for reason, n in reasons.items():
            stats.drop(reason, n)
        return stats


def fetch_logs(root: Path | str) -> list[Path]:
    """The `fetched.jsonl` logs of a fetch folder, in reading order: its own, then those of its task
    folders (`task-*/`, a fetch split by host: `corpus.fetch.sharded`) in name order.

    Only the logs that exist; a folder of either layout, or of none yet, reads the same way.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    logs = [root / FETCHED_LOG, *sorted(p / FETCHED_LOG for p in root.glob(f"{TASK_PREFIX}*") if p.is_dir())]
    return [p for p in logs if p.is_file()]


def read_redirect_aliases(root: Path | str) -> dict[str, str]:
    """Final URL -> link URL from a fetch folder's logs (every task's too), without touching its files
    (for readers)."""
    return {e["final_url"]: e["url"] for log in fetch_logs(root) for e in read_journal(log)
            if e.get("final_url") and e.get("url") and e["final_url"] != e["url"]}
