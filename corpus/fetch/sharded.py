"""The fetch split into tasks by host, so that an executor (local processes, Ray) runs them anywhere.

    report = fetch_sharded(FetchSource("links.parquet", "links"), Path("out/fetch"), FetchConfig(),
                           tasks=64, executor=make_executor(ExecutorConfig("ray"), workers=8))

Every URL goes to task `shard_of(url, tasks)`: a stable hash of its host key (scheme, host and
port: `politeness.host_key`), so each host, with its robots.txt, per-host limit and delays, lives
in exactly one task and is never visited by two at once. Task k runs `fetch_links` over its share
into `out_dir/task-{k:04d}/` (its own WARC files, `fetched.jsonl` and `failures.jsonl`), so each
task resumes on its own, and ends by writing `task-{k:04d}/done.json` (its counters and WARC
files) atomically. A task is handed `(source, k, tasks)` and streams its own share from the
source itself: no list of millions of URLs is pickled, and the driver holds none.

Reruns: a task whose done file was written for the same source and left nothing to retry is
skipped; every other task runs again and, resuming from its logs, fetches only what is missing
(new links, transient failures, links past `--fetch-limit`), as a rerun of `fetch_links` does.
The number of tasks is the folder's layout, recorded in `sharding.json`: a host's pages are
where its task put them, so a folder keeps its count for good.

The one politeness limit: a redirect to a host of another task is fetched by the task that
followed it, under that task's own count for the host. Hosts reached only by redirects (a URL
shortener's targets) may then be visited by several tasks at once, each within its own
per-host limit, delay and robots.txt rules; links themselves never are.

Per task, `FetchConfig.concurrency` is the requests in flight of that task; a run has up to
(tasks running at once) x concurrency in flight.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp.abc import AbstractResolver

from corpus.errors import UserError
from corpus.fetch.config import FetchConfig
from corpus.fetch.crawl import fetch_links
from corpus.fetch.failures import PERMANENT
from corpus.fetch.politeness import host_key
from corpus.fetch.state import FETCHED_LOG, TASK_PREFIX
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_json

if TYPE_CHECKING:
    from corpus.executor.base import Executor

log = logging.getLogger(__name__)

SOURCE_KINDS = ("links", "urls")
LAYOUT_FILE = "sharding.json"   # the folder's task count, fixed by its first sharded run
DONE_FILE = "done.json"
# --engine ray without --fetch-tasks: a fixed count, not one derived from the cluster's size, since
# it is the folder's layout for good. Many more tasks than a small cluster's CPUs, so a share of
# slow hosts does not hold up the end of the run.
DEFAULT_RAY_TASKS = 64


@dataclass(frozen=True)
class FetchSource:
    """Where the links come from: a links Parquet table (`links`) or a text file, one URL a line (`urls`).

    Small and picklable: each task opens the file itself and reads its own share.
    """

    path: str
    kind: str = "links"

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {SOURCE_KINDS}, not {self.kind!r}")

    def check(self) -> None:
        """A clear error for a missing file, before any task starts."""
        if not Path(self.path).is_file():
            raise UserError(f"{'--links' if self.kind == 'links' else '--urls'} {self.path}: no such file")

    def iter_urls(self) -> Iterator[str]:
        """Every URL, streamed (never the whole file at once)."""
        if self.kind == "links":
            from corpus.sources.links import iter_posted_urls  # pyarrow: only for a table

            yield from iter_posted_urls(self.path)
        else:
            yield from iter_url_lines(self.path)

    def stamp(self) -> dict[str, Any]:
        """What a done file was written for: a changed source (new links) reruns every task."""
        st = Path(self.path).stat()
        return {"path": str(Path(self.path).resolve()), "kind": self.kind, "size": st.st_size,
                "mtime_ns": st.st_mtime_ns}


def iter_url_lines(path: Path | str) -> Iterator[str]:
    """The URLs of a text file, one a line; blank lines and `#` comments are skipped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            url = line.strip()
            if url and not url.startswith("#"):
                yield url


def shard_of(url: str, tasks: int) -> int:
    """The task that fetches `url`: a stable hash of its host key (the same in every process and run,
    unlike `hash()`), so all of a host's URLs go to one task."""
    try:
        key = host_key(url)
    except ValueError:  # unparsable (`http://[x`): any task will do, it fails as bad_url there
        key = url
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % tasks


def task_dir(out_dir: Path | str, k: int) -> Path:
    """Task k's folder: its WARC files, its logs and its done file."""
    return Path(out_dir) / f"{TASK_PREFIX}{k:04d}"


def recorded_tasks(out_dir: Path | str) -> int | None:
    """The task count a fetch folder was split into, or None if it never was."""
    path = Path(out_dir) / LAYOUT_FILE
    return int(json.loads(path.read_text())["tasks"]) if path.is_file() else None


def choose_tasks(requested: int | None, engine: str, out_dir: Path | str) -> int | None:
    """How many tasks a fetch into `out_dir` runs as, or None for today's single process and layout.

    The folder's recorded count wins (asking for another is an error); else `requested`; else 1
    process unsplit with the local engine and `DEFAULT_RAY_TASKS` with Ray.
    """
    recorded = recorded_tasks(out_dir)
    if requested is not None and requested < 1:
        raise UserError(f"--fetch-tasks {requested}: must be at least 1")
    if recorded is not None:
        if requested is not None and requested != recorded:
            raise UserError(f"{out_dir} was fetched as {recorded} tasks; a host's pages are in its task's folder, "
                            f"so it stays split that way: pass --fetch-tasks {recorded} or fetch into a new folder")
        return recorded
    if requested is not None and (requested > 1 or engine != "local"):
        return requested
    return None if engine == "local" else (requested or DEFAULT_RAY_TASKS)


@dataclass
class ShardedFetchReport:
    """What a sharded fetch did: `FetchReport`'s counters summed over the tasks.

    No `redirect_aliases`: a crawl has millions, and the driver keeps none. Readers take them
    from the folder (`corpus.fetch.state.read_redirect_aliases`), which reads every task's log.
    """

    stats: StepStats                     # over all links given: fetched (this run or before) or why not
    warc_files: list[Path]               # every finished WARC of every task, sorted
    fetched_now: int = 0
    failed_now: int = 0
    skipped_done: int = 0                # done by an earlier run
    tasks: int = 1
    tasks_run: int = 0                   # tasks this run ran (the others were done already)
    per_task: list[dict[str, Any]] = field(default_factory=list)


def fetch_task(out_dir: str, config: FetchConfig, resolver: AbstractResolver | None,
               job: tuple[FetchSource, int, int], dst: Path) -> None:
    """One task of `fetch_sharded`: fetch the share `k` of `tasks` of the source, then write `dst`.

    Runs in a worker process (or a Ray task): it reads the source itself and keeps only its share.
    """
    source, k, tasks = job
    urls = [url for url in source.iter_urls() if shard_of(url, tasks) == k]
    folder = task_dir(out_dir, k)
    report = fetch_links(urls, folder, config, resolver)
    stats = report.stats
    # What the next run would try again: transient failures, and links past --fetch-limit.
    pending = sum(n for reason, n in stats.dropped.items() if reason not in PERMANENT)
    atomic_write_json(dst, {
        "task": k, "tasks": tasks, "source": source.stamp(), "stats": stats.to_dict(), "pending": pending,
        "warc_files": [p.name for p in report.warc_files], "fetched_now": report.fetched_now,
        "failed_now": report.failed_now, "skipped_done": report.skipped_done,
    })


def fetch_sharded(source: FetchSource, out_dir: Path | str, config: FetchConfig, tasks: int,
                  executor: Executor, resolver: AbstractResolver | None = None) -> ShardedFetchReport:
    """Fetch the links of `source` into `out_dir` as `tasks` tasks on `executor`; see the module docstring.

    `resolver` replaces DNS in every task (tests, benchmarks), so it must pickle. `config.limit`
    (--fetch-limit) is shared out over the tasks: at most that many links in all this run.
    """
    out_dir = Path(out_dir)
    source.check()
    if tasks < 1:
        raise UserError(f"--fetch-tasks {tasks}: must be at least 1")
    if (out_dir / FETCHED_LOG).exists():
        raise UserError(f"{out_dir} holds a fetch of one process ({FETCHED_LOG}): continue it with --engine local "
                        "and --fetch-tasks 1, or fetch as tasks into a new folder")
    recorded = recorded_tasks(out_dir)
    if recorded is not None and recorded != tasks:
        raise UserError(f"{out_dir} was fetched as {recorded} tasks, not {tasks}: fetch into a new folder")
    if resolver is not None:
        try:
            pickle.dumps(resolver)
        except Exception as err:
            raise TypeError(f"the resolver goes to every task, so it must pickle: {err}") from err
    out_dir.mkdir(parents=True, exist_ok=True)
    if recorded is None:
        atomic_write_json(out_dir / LAYOUT_FILE, {"tasks": tasks, "hash": "blake2b-64(host_key(url)) mod tasks"})

    stamp = source.stamp()
    pairs = []
    for k in range(tasks):
        dst = task_dir(out_dir, k) / DONE_FILE
        _discard_unfinished(dst, stamp)
        pairs.append(((source, k, tasks), dst))
    ran = {k for (_, k, _), dst in pairs if not dst.exists()}
    log.info("fetching %s as %d tasks (%d to run) into %s", source.path, tasks, len(ran), out_dir)
    # One bar for the tasks (the executor's), none per task: K bars in K processes would interleave.
    task_config = config
    if config.progress:
        task_config = replace(task_config, progress=False)
    if config.limit is not None:
        # --fetch-limit shared out: at most `limit` links this run in all; a rerun continues.
        per_task = share_limit(config.limit, links_per_task(source, tasks))
        fn = partial(_limited_task, str(out_dir), task_config, resolver, per_task)
    else:
        fn = partial(fetch_task, str(out_dir), task_config, resolver)
    executor.file_stage(fn, pairs, desc="fetch tasks")
    return _merge(out_dir, tasks, ran)


def links_per_task(source: FetchSource, tasks: int) -> list[int]:
    """How many of the source's links each task holds (one streaming pass; memory O(tasks))."""
    counts = [0] * tasks
    for url in source.iter_urls():
        counts[shard_of(url, tasks)] += 1
    return counts


def share_limit(limit: int, counts: list[int]) -> list[int]:
    """`limit` links shared over tasks in proportion to the links each holds (largest remainder, ties to
    the lower task number), never more than a task holds: an even split would waste the share of a task
    with few links (or none, which happens: hosts hash to tasks)."""
    total = sum(counts)
    if total <= limit:
        return list(counts)
    exact = [limit * c / total for c in counts]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda k: (-(exact[k] - shares[k]), k))
    for k in by_remainder[: limit - sum(shares)]:
        shares[k] += 1
    return shares


def _limited_task(out_dir: str, config: FetchConfig, resolver: AbstractResolver | None, limits: list[int],
                  job: tuple[FetchSource, int, int], dst: Path) -> None:
    fetch_task(out_dir, replace(config, limit=limits[job[1]]), resolver, job, dst)


def _discard_unfinished(dst: Path, stamp: dict[str, Any]) -> None:
    """Remove a done file that does not close its task for good: written for another source, or
    leaving links to retry. Its task then runs again and resumes from its logs."""
    if not dst.exists():
        return
    try:
        done = json.loads(dst.read_text())
        keep = done.get("source") == stamp and done.get("pending") == 0
    except (OSError, ValueError):
        keep = False
    if not keep:
        dst.unlink()


def _merge(out_dir: Path, tasks: int, ran: set[int]) -> ShardedFetchReport:
    """One report from the tasks' done files: counters summed, WARC files of all tasks sorted."""
    stats = StepStats("fetch")
    report = ShardedFetchReport(stats, [], tasks=tasks, tasks_run=len(ran))
    for k in range(tasks):
        folder = task_dir(out_dir, k)
        done = json.loads((folder / DONE_FILE).read_text())
        task_stats = StepStats.from_dict(done["stats"])
        stats.merge(task_stats)
        report.warc_files += [folder / name for name in done["warc_files"]]
        if k in ran:
            report.fetched_now += done["fetched_now"]
            report.failed_now += done["failed_now"]
            report.skipped_done += done["skipped_done"]
        else:  # done by an earlier run: every link of it counts as skipped
            report.skipped_done += task_stats.n_in
        report.per_task.append({"task": k, "links": task_stats.n_in, "fetched": task_stats.n_out,
                                "warc_files": len(done["warc_files"])})
    report.warc_files.sort()
    return report


def default_workers(tasks: int) -> int:
    """Local processes for `tasks` fetch tasks: one a CPU at most (each is an asyncio crawl of its own)."""
    return max(1, min(tasks, os.cpu_count() or 1))
