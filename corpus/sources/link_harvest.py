"""The out-of-core link harvest: per dump file a Parquet run of candidates, then one DuckDB aggregation.

Step 1 (per file, resumable, in parallel over files): read the dump, apply the link rules, and
stream each surviving submission as one row into `<work>/runs-<rules>/<file>.parquet`, with a
`.done.json` marker holding the file's identity and counters. A rerun reuses the runs of files
that did not change; a changed rule set writes into another folder (and the old one is removed).
Step 2: DuckDB groups the runs by URL key with the same rules as `LinkHarvester.links()`
(spilling to disk past `memory_limit`), and the kept links are streamed, sorted by key, into the
links table in row groups of `LINKS_ROW_GROUP` rows.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.progress import progress
from corpus.sources.links import INT32_MAX, INT32_MIN, LINKS_ROW_GROUP, LINKS_SCHEMA, LinkRules, candidate_reason
from corpus.sources.reddit_dumps import read_submissions
from corpus.steps import StepStats
from corpus.urls import host_and_path, registered_domain, request_url, url_key
from corpus.writers.atomic import atomic_path, atomic_write_json

# Bump when the candidate rows or the rule step change: runs written before are then redone.
CANDIDATES_VERSION = 1
CANDIDATE_SCHEMA = pa.schema([
    pa.field("url_key", pa.string(), nullable=False),
    pa.field("row", pa.int64(), nullable=False),  # the submission's place in its file: ties keep input order
    pa.field("id", pa.string(), nullable=False),
    pa.field("subreddit", pa.string()),
    pa.field("score", pa.int64()),
    pa.field("created_utc", pa.int64()),
    pa.field("title", pa.string()),
    pa.field("canon", pa.string(), nullable=False),
    pa.field("url", pa.string(), nullable=False),  # as posted: the best one's is what gets fetched
])
RUN_BATCH_ROWS = 1 << 16


@dataclass
class HarvestSettings:
    """How the out-of-core harvest runs (not what it computes: the output does not depend on these)."""

    workers: int = 1               # processes for the per-file rule step
    threads: int = 2               # DuckDB threads for the aggregation
    memory_limit: str = "1GB"      # DuckDB's memory limit: past it, the aggregation spills to disk
    progress: bool = False


def rules_fingerprint(rules: LinkRules) -> str:
    """What the candidate runs depend on: the rule step (not `min_karma`, applied when aggregating)."""
    rule_step = {"version": CANDIDATES_VERSION, "karma_mode": rules.karma_mode, "drop_over_18": rules.drop_over_18,
                 "drop_wikipedia": rules.drop_wikipedia, "domain_blocklist": sorted(rules.domain_blocklist)}
    return hashlib.sha256(json.dumps(rule_step, sort_keys=True).encode()).hexdigest()[:16]


def source_identity(source: str) -> dict[str, Any]:
    """What tells a dump file's run is still valid: its name, and for a local file its size and time."""
    try:
        st = os.stat(source)
    except OSError:  # a URL or s3 path, or a file that is not there (counted when read)
        return {"source": source}
    return {"source": source, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


@dataclass
class CandidateRun:
    """One dump file's candidates on disk, with the counters of reading it and of its rule step."""

    source: str
    path: Path
    rows: int
    read_stats: StepStats
    rule_stats: StepStats


def _utf8_safe(values: list) -> list:
    """The strings with lone surrogates (a JSON `\\ud83d` alone) replaced: Arrow takes only UTF-8."""
    return [v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v for v in values]


def _batch(columns: dict[str, list]) -> pa.RecordBatch:
    try:
        return pa.RecordBatch.from_pydict(columns, schema=CANDIDATE_SCHEMA)
    except (UnicodeEncodeError, pa.ArrowException):
        return pa.RecordBatch.from_pydict({k: _utf8_safe(v) for k, v in columns.items()}, schema=CANDIDATE_SCHEMA)


def candidate_run(source: str, rules: LinkRules, runs_dir: Path, show_progress: bool = False) -> CandidateRun:
    """The link rule step over one dump file, streamed into a Parquet run; reused if already done.

    The run and its `.done.json` marker are written atomically, the marker last: a run without a
    marker, or whose marker names another identity of the file, is written again.
    """
    name = hashlib.sha256(source.encode()).hexdigest()[:24]
    run_path, marker = runs_dir / f"{name}.parquet", runs_dir / f"{name}.done.json"
    identity = source_identity(source)
    done = _read_marker(marker)
    if done is not None and done.get("identity") == identity and run_path.exists():
        return CandidateRun(source, run_path, done["rows"], StepStats.from_dict(done["read_stats"]),
                            StepStats.from_dict(done["rule_stats"]))
    read_stats, rule_stats = StepStats("read_submissions"), StepStats("link_rules")
    cols: dict[str, list] = {name: [] for name in CANDIDATE_SCHEMA.names}
    keys, rows, ids, subreddits, scores, times, titles, canons, urls = cols.values()
    subs = read_submissions([source], read_stats)
    if show_progress:
        subs = progress(subs, desc=f"submissions {Path(source).name}", unit="sub")
    n = 0
    with atomic_path(run_path) as tmp, pq.ParquetWriter(tmp, CANDIDATE_SCHEMA, compression="zstd") as writer:
        for row, sub in enumerate(subs):  # the hot loop: one submission at a time, nothing kept
            rule_stats.n_in += 1
            reason, canon = candidate_reason(sub, rules)
            if reason:
                rule_stats.drop(reason)
                continue
            rule_stats.n_out += 1
            keys.append(url_key(sub.url))
            rows.append(row)
            ids.append(sub.id)
            subreddits.append(sub.subreddit)
            scores.append(sub.score)
            times.append(sub.created_utc)
            titles.append(sub.title)
            canons.append(canon)
            urls.append(sub.url)
            if len(keys) >= RUN_BATCH_ROWS:
                writer.write_batch(_batch(cols))
                n += len(keys)
                for values in cols.values():
                    values.clear()
        if keys:
            writer.write_batch(_batch(cols))
            n += len(keys)
    atomic_write_json(marker, {"identity": identity, "rows": n, "read_stats": read_stats.to_dict(),
                               "rule_stats": rule_stats.to_dict()})
    return CandidateRun(source, run_path, n, read_stats, rule_stats)


def _read_marker(path: Path) -> dict | None:
    try:
        done = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return done if isinstance(done, dict) and {"identity", "rows", "read_stats", "rule_stats"} <= done.keys() else None


def candidate_runs(sources: list[str], rules: LinkRules, work_dir: Path,
                   settings: HarvestSettings | None = None) -> list[CandidateRun]:
    """The candidate run of every source (in the order given), making the ones not done yet.

    Runs of another rule set (other `runs-*` folders) are removed: they can never be used again.
    """
    settings = settings or HarvestSettings()
    runs_dir = work_dir / f"runs-{rules_fingerprint(rules)}"
    runs_dir.mkdir(parents=True, exist_ok=True)
    for stale in work_dir.glob("runs-*"):
        if stale != runs_dir and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    unique = list(dict.fromkeys(sources))
    done: dict[str, CandidateRun] = {}
    if settings.workers > 1 and len(unique) > 1:
        ctx = multiprocessing.get_context("spawn")  # no fork: the caller may hold threads (DuckDB, tqdm)
        with ProcessPoolExecutor(min(settings.workers, len(unique)), mp_context=ctx) as pool:
            futures = {pool.submit(candidate_run, s, rules, runs_dir): s for s in unique}
            for future in progress(as_completed(futures), enabled=settings.progress, total=len(futures),
                                   desc="dump files", unit="file"):
                done[futures[future]] = future.result()
    else:
        for source in unique:
            done[source] = candidate_run(source, rules, runs_dir, settings.progress)
    return [done[s] for s in sources]


def _aggregate_sql(rules: LinkRules) -> str:
    """The GROUP BY of `LinkHarvester.links()`, rule for rule; `f`, `row` order ties as input order."""
    passing = "n_pass" if rules.karma_mode == "submission" else "CASE WHEN total >= $min_karma THEN n ELSE 0 END"
    karma = ("best_karma" if rules.karma_mode == "submission"
             else f"CAST(greatest({INT32_MIN}, least(total, {INT32_MAX})) AS INTEGER)")
    return f"""
    CREATE TEMP TABLE g AS
    SELECT *, {passing} AS passing, {karma} AS karma FROM (
      SELECT url_key,
        count(*) AS n,
        max(s0) AS best_karma,
        sum(s0) AS total,
        count(*) FILTER (WHERE s0 >= $min_karma) AS n_pass,
        -- best submission: max (score, id), the first in input order on a tie
        arg_max(struct_pack(id := id, subreddit := subreddit, url := url),
                struct_pack(s := s0, i := id, f := -f, r := -"row")) AS best,
        -- the link's name: https first, then the smallest
        arg_min(canon, struct_pack(h := NOT starts_with(canon, 'https'), u := canon)) AS canon,
        list(DISTINCT subreddit) FILTER (WHERE subreddit <> '') AS subreddits,
        min(created_utc) AS first_created_utc,
        -- the first submission's title: by time (unknown last), then id, then input order
        arg_min(struct_pack(t := title),
                struct_pack(u := created_utc IS NULL, c := coalesce(created_utc, 0), i := id, f := f, r := "row")).t
          AS title,
        -- the URLs whose request form could be the https twin of the best one's (a superset:
        -- `posted_url` in Python decides, as for the in-memory harvest)
        list(DISTINCT url) FILTER (WHERE contains(lower(regexp_replace(url, '[\\t\\n\\r]', '', 'g')), 'https'))
          AS https_urls
      FROM (SELECT files.f, c.*, coalesce(c.score, 0) AS s0
            FROM read_parquet($runs, filename = true) AS c JOIN files USING (filename))
      GROUP BY url_key)
    """


def _posted(best_url: str, https_urls: list[str] | None) -> str:
    """`posted_url` from the best submission's URL and the group's URLs that may be its https twin."""
    url = request_url(best_url) or best_url.strip()
    if url.startswith("http://"):
        https = "https://" + url[len("http://"):]
        if any(request_url(u) == https for u in https_urls or ()):
            return https
    return url


def aggregate_runs(runs: list[Path], rules: LinkRules, out: Path, tmp_dir: Path,
                   settings: HarvestSettings | None = None) -> tuple[StepStats, int]:
    """Group candidate runs (`runs[i]` is input file i) by URL key with DuckDB and write the links
    table, sorted by key, atomically. Returns the `link_karma` counters and the number of links."""
    import duckdb

    settings = settings or HarvestSettings()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    stats = StepStats("link_karma")
    con = duckdb.connect(config={"memory_limit": settings.memory_limit, "threads": max(1, settings.threads),
                                 "temp_directory": str(tmp_dir), "preserve_insertion_order": False})
    try:
        unique = list(dict.fromkeys(str(p) for p in runs))
        con.execute("CREATE TEMP TABLE files (f INTEGER, filename VARCHAR)")
        # read_parquet names each file as it was given; duplicated inputs join once per place.
        con.executemany("INSERT INTO files VALUES (?, ?)", [(i, str(p)) for i, p in enumerate(runs)])
        con.execute(_aggregate_sql(rules), {"runs": unique, "min_karma": rules.min_karma})
        n_in, below, n_out, merged = con.execute(
            "SELECT coalesce(sum(n), 0), coalesce(sum(n - passing), 0), count(*) FILTER (WHERE passing > 0), "
            "coalesce(sum(passing - 1) FILTER (WHERE passing > 0), 0) FROM g").fetchall()[0]
        stats.n_in, stats.n_out = int(n_in), int(n_out)
        stats.drop("below_min_karma", int(below))
        stats.drop("merged_duplicate_url", int(merged))
        result = con.sql("""
            SELECT url_key, canon, best.url AS best_url, https_urls, karma, best_karma, n, subreddits,
                   best.id AS reddit_id, best.subreddit AS subreddit, first_created_utc, title
            FROM g WHERE passing > 0 ORDER BY url_key""")
        written = 0
        with atomic_path(out) as tmp, pq.ParquetWriter(tmp, LINKS_SCHEMA, compression="zstd") as writer:
            # A stream of record batches; duckdb 2 renamed 1.x's `fetch_arrow_reader`.
            reader = getattr(result, "to_arrow_reader", None) or result.fetch_arrow_reader
            for batch in reader(LINKS_ROW_GROUP):
                table = _links_batch(batch.to_pydict())
                writer.write_table(table, row_group_size=LINKS_ROW_GROUP)
                written += table.num_rows
    finally:
        con.close()
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return stats, written


def _links_batch(rows: dict[str, list]) -> pa.Table:
    """One batch of aggregated groups as rows of the links table (the two columns SQL cannot give:
    the URL to fetch, which needs `request_url`, and the registered domain)."""
    canon = rows["canon"]
    return pa.table({
        "url": canon,
        "url_key": rows["url_key"],
        "posted_url": [_posted(u, h) for u, h in zip(rows["best_url"], rows["https_urls"])],
        "domain": [registered_domain(host_and_path(c)[0]) for c in canon],
        "karma": rows["karma"],
        "best_karma": rows["best_karma"],
        "n_submissions": rows["n"],
        "subreddits": [sorted(s) if s else [] for s in rows["subreddits"]],
        "reddit_id": rows["reddit_id"],
        "subreddit": rows["subreddit"],
        "first_created_utc": rows["first_created_utc"],
        "title": rows["title"],
    }, schema=LINKS_SCHEMA)


def harvest_to_table(sources: list[str], rules: LinkRules, out: Path | str, work_dir: Path | str,
                     settings: HarvestSettings | None = None) -> tuple[list[StepStats], int]:
    """Dump files -> the links table at `out`, out of core and resumable per file.

    Returns the counters (`read_submissions`, `link_rules`, `link_karma`, the same as
    `LinkHarvester` gives for the same input) and the number of links. The table is identical to
    `write_links(LinkHarvester(rules).links())` over the same submissions in the same order. A rerun
    reuses each unchanged file's run and, when nothing changed at all, the table itself.
    """
    settings = settings or HarvestSettings()
    out, work_dir = Path(out), Path(work_dir)
    runs = candidate_runs([str(s) for s in sources], rules, work_dir, settings)
    read_stats, rule_stats = StepStats("read_submissions"), StepStats("link_rules")
    for run in runs:
        read_stats.merge(run.read_stats)
        rule_stats.merge(run.rule_stats)
    # The table depends on the runs (by their files' identities) and on every rule.
    digest = {"rules": {**vars(rules), "domain_blocklist": sorted(rules.domain_blocklist)},
              "version": CANDIDATES_VERSION, "inputs": [source_identity(r.source) for r in runs]}
    marker = out.with_name(out.name + ".done.json")
    done = _read_json(marker)
    if out.exists() and done.get("digest") == digest and "link_karma" in done:
        return [read_stats, rule_stats, StepStats.from_dict(done["link_karma"])], int(done.get("links", 0))
    marker.unlink(missing_ok=True)
    karma_stats, n_links = aggregate_runs([r.path for r in runs], rules, out, work_dir / "duckdb_tmp", settings)
    atomic_write_json(marker, {"digest": digest, "link_karma": karma_stats.to_dict(), "links": n_links})
    return [read_stats, rule_stats, karma_stats], n_links


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
