"""The per-WARC join of pages with links: cost per WARC at 1M vs 10M links, old vs new.

old: every WARC's task read the whole links table into a dict (`read_links`, then redirect
aliases), then looked each page up in it. new: the driver builds an on-disk SQLite index once per
run (`ensure_link_index`, timed apart); each WARC's task opens it and looks up its own pages only.

The WARC holds `--pages` pages whose URLs are links drawn uniformly from the table (and one in ten
that is no link), as a fetch WARC would. Times are the best of `--repeat`; the index file is in the
OS page cache after it is built (a cold cache adds a disk read per lookup; no root here to drop it).

    python bench/bench_link_join.py --sizes 1000000 10000000 --old-max 2000000
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from corpus.readers.warc import read_warc  # noqa: E402
from corpus.sources.link_join import LinkIndex, LinkJoin, ensure_link_index  # noqa: E402
from corpus.sources.links import LINKS_ROW_GROUP, LINKS_SCHEMA, read_links  # noqa: E402

OUT = ROOT / "bench" / "out" / "link_join"


def key(i: int) -> str:
    return f"site{i % 99991}.example/story/{i:09d}-{(i * 2654435761) % 10**6}"


def make_table(path: Path, n: int) -> None:
    """A links table of `n` links sorted by key, written in row groups as the harvest writes it."""
    if path.exists():
        return
    with pq.ParquetWriter(path, LINKS_SCHEMA, compression="zstd") as writer:
        # Keys sort as the index does (by string): build in chunks of ids whose keys are generated,
        # then sort the whole key column once (10M short strings fit easily).
        keys = sorted(key(i) for i in range(n))
        for start in range(0, n, LINKS_ROW_GROUP):
            chunk = keys[start:start + LINKS_ROW_GROUP]
            m = len(chunk)
            writer.write_table(pa.table({
                "url": [f"https://{k}" for k in chunk], "url_key": chunk, "posted_url": [f"https://{k}" for k in chunk],
                "domain": ["example"] * m, "karma": [3 + (start + j) % 500 for j in range(m)],
                "best_karma": [3] * m, "n_submissions": [1] * m, "subreddits": [["news"]] * m,
                "reddit_id": [f"r{start + j}" for j in range(m)], "subreddit": ["news"] * m,
                "first_created_utc": [1500000000] * m, "title": ["a title"] * m,
            }, schema=LINKS_SCHEMA), row_group_size=LINKS_ROW_GROUP)


def make_warc(path: Path, n_links: int, pages: int, seed: int = 0) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(seed)
    body = ("<html><body><p>" + "A short page about the harbour. " * 40 + "</p></body></html>").encode()
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for p in range(pages):
            url = f"https://{key(rng.randrange(n_links))}" if p % 10 else f"https://nolink.example/{p}"
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http))


def best(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return min(times), value


def join(links, docs) -> int:
    step = LinkJoin(links)
    return sum(1 for _ in step(iter(docs)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--pages", type=int, default=3000, help="pages in the WARC")
    p.add_argument("--old-max", type=int, default=2_000_000,
                   help="largest table the old dict path is run on (it needs ~835 B/link in every worker)")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in a.sizes:
        table, index = OUT / f"links-{n}.parquet", OUT / f"links-{n}.sqlite"
        t0 = time.perf_counter()
        make_table(table, n)
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        ensure_link_index(table, index)
        built = time.perf_counter() - t0
        warc = OUT / f"pages-{n}.warc.gz"
        make_warc(warc, n, a.pages)
        docs = list(read_warc(str(warc), "webtext"))
        read_s, _ = best(lambda: list(read_warc(str(warc), "webtext")), a.repeat)
        new_s, kept = best(lambda: join(LinkIndex(index), docs), a.repeat)
        row = {"links": n, "table_s": made, "index_build_s": built, "index_mb": index.stat().st_size / 2**20,
               "read_warc_s": read_s, "new_s": new_s, "kept": kept, "old_s": None}
        if n <= a.old_max:
            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            row["old_s"], old_kept = best(lambda: join(read_links(table), docs), 1)
            row["old_rss_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
            assert old_kept == kept, (old_kept, kept)
        rows.append(row)
        print(row, flush=True)
    print(f"\ncommand: python bench/bench_link_join.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"one WARC of {a.pages:,} pages (90% of them links), join only (read_warc alone shown for scale); "
          f"best of {a.repeat}\n")
    print(f"{'links':>12}{'old s/WARC':>12}{'new s/WARC':>12}{'new µs/page':>13}{'read_warc s':>13}"
          f"{'index build s':>15}{'index MiB':>11}")
    for r in rows:
        old = f"{r['old_s']:.2f}" if r["old_s"] is not None else "-"
        print(f"{r['links']:>12,}{old:>12}{r['new_s']:>12.4f}{r['new_s'] / a.pages * 1e6:>13.1f}"
              f"{r['read_warc_s']:>13.2f}{r['index_build_s']:>15.1f}{r['index_mb']:>11.0f}")
    if len(rows) > 1:
        lo, hi = rows[0], rows[-1]
        print(f"\nnew: {hi['new_s'] / lo['new_s']:.2f}x the per-WARC join cost at {hi['links']:,} vs {lo['links']:,} "
              f"links (target within 1.10x)")
        olds = [r for r in rows if r["old_s"] is not None]
        if olds:
            per_link = olds[-1]["old_s"] / olds[-1]["links"]
            print(f"old: {per_link * 1e6:.1f} µs per link per WARC -> {per_link * hi['links']:.0f} s per WARC at "
                  f"{hi['links']:,} links (measured up to {olds[-1]['links']:,}; "
                  f"{olds[-1].get('old_rss_mb', 0):,.0f} MiB more RSS there)")


if __name__ == "__main__":
    main()
