"""The link harvest at scale: out of core (per-file candidate runs + DuckDB) against the plain
json.loads loop and the old in-memory `LinkHarvester`, with the peak RSS of each whole process tree.

Each side runs as its own process (its children included in the RSS, polled from /proc every
0.2 s). The synthetic dump is Pushshift-shaped (2017-era lines, ~2.5 KB each, split into monthly
.zst files) and cached under bench/out/link_harvest/ so a second run skips generating it.

    python bench/bench_link_harvest.py --n 5000000 --files 8 --workers 2
    python bench/bench_link_harvest.py --n 200000 --files 2                 # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "bench" / "out" / "link_harvest"


def fast_line(rng: random.Random, i: int, tail: str) -> str:
    """A line shaped like `bench_links.synthetic_line` (same fields, ~2.5 KB), at a fraction of the
    cost: the fields the harvest reads vary per line, the rest is one pre-encoded tail."""
    from bench_links import DOMAINS

    domain = DOMAINS[rng.randrange(len(DOMAINS))]
    is_self = domain.startswith("self.")
    if is_self:
        url = f"https://www.reddit.com/r/news/comments/{i:x}/"
    else:
        # ~1 in 4 URLs is posted again (another spelling of an earlier one): the merging the harvest does.
        j = rng.randrange(max(1, i)) if rng.random() < 0.25 else i
        url = (f"{'https' if rng.random() < 0.5 else 'http'}://{domain}/news/{j}-story-about-{j % 977}"
               + ("", "?utm_source=reddit", ".jpg")[rng.randrange(3)])
    head = {"id": f"{i:x}", "url": url, "score": (0, 1, 1, 2, 3, 5, 12, 40, 300)[rng.randrange(9)],
            "created_utc": 1509000000 + i, "is_self": is_self, "over_18": rng.random() < 0.03,
            "subreddit": ("news", "worldnews", "technology")[rng.randrange(3)], "domain": domain,
            "title": f"Title of story {i} " * (1 + i % 5), "permalink": f"/r/news/comments/{i:x}/story/"}
    return json.dumps(head)[:-1] + tail


def make_file(path: str, start: int, n: int) -> str:
    """Submissions start..start+n-1 as one zstd dump, streamed (bounded memory)."""
    import zstandard
    from bench_links import synthetic_line

    rng = random.Random(start)
    rest = synthetic_line(random.Random(0), 0)
    for name in ("id", "url", "score", "created_utc", "is_self", "over_18", "subreddit", "domain", "title",
                 "permalink"):
        rest.pop(name)
    tail = ", " + json.dumps(rest)[1:]
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27)
    tmp = path + ".part"
    with open(tmp, "wb") as raw, zstandard.ZstdCompressor(compression_params=params).stream_writer(raw) as out:
        lines = []
        for i in range(start, start + n):
            lines.append(fast_line(rng, i, tail))
            if len(lines) == 10000:
                out.write(("\n".join(lines) + "\n").encode())
                lines.clear()
        if lines:
            out.write(("\n".join(lines) + "\n").encode())
    os.replace(tmp, path)
    return path


def dumps(n: int, files: int, workers: int) -> list[str]:
    folder = OUT / f"dumps-v2-{n}-{files}"
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-n // files)
    jobs = [(str(folder / f"RS_{f:03d}.zst"), f * per, min(per, n - f * per)) for f in range(files)]
    todo = [j for j in jobs if not Path(j[0]).exists()]
    if todo:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(make_file, *zip(*todo)))
        print(f"generated {len(todo)} dump files in {time.perf_counter() - t0:.0f} s", flush=True)
    return [j[0] for j in jobs]


# --- the sides, each run in a child process ------------------------------------------------------

def side_plain(paths: list[str]) -> dict:
    """OpenWebText's extract_urls.py, in essence: json.loads each line, keep good URLs, dedup."""
    from corpus.sources.reddit_dumps import open_dump

    urls, n = set(), 0
    for path in paths:
        with open_dump(path) as f:
            for line in f:
                n += 1
                post = json.loads(line)
                if post.get("score", 0) >= 3 and not post.get("is_self") and post.get("url"):
                    urls.add(post["url"])
    return {"submissions": n, "links": len(urls)}


def side_new(paths: list[str], work: str, workers: int, memory_limit: str) -> dict:
    from corpus.sources.link_harvest import HarvestSettings, harvest_to_table
    from corpus.sources.links import LinkRules

    stats, links = harvest_to_table(paths, LinkRules(), Path(work) / "links.parquet", Path(work),
                                    HarvestSettings(workers=workers, threads=workers, memory_limit=memory_limit))
    return {"submissions": stats[0].n_in, "links": links}


def side_old(paths: list[str], work: str) -> dict:
    from corpus.sources.links import LinkHarvester, LinkRules, write_links
    from corpus.sources.reddit_dumps import read_submissions
    from corpus.steps import StepStats

    stats = StepStats("read_submissions")
    harvester = LinkHarvester(LinkRules())
    harvester.add(read_submissions(paths, stats))
    links = harvester.links()
    write_links(links, Path(work) / "links_old.parquet")
    return {"submissions": stats.n_in, "links": len(links)}


# --- measuring -----------------------------------------------------------------------------------

def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measure(side: str, args: dict) -> dict:
    """Run one side in a child process; wall time, CPU time of the tree and its peak RSS."""
    cmd = [sys.executable, __file__, "--side", side, "--side-args", json.dumps(args)]
    t0 = time.perf_counter()
    before = os.times()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    after = os.times()
    out = proc.stdout.read()
    if proc.returncode:
        raise SystemExit(f"{side} failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {**result, "wall_s": wall, "cpu_s": cpu, "peak_rss": peak}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1_000_000, help="synthetic submissions in all")
    p.add_argument("--files", type=int, default=8, help="dump files they are split into")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="1GB", help="DuckDB's limit for the aggregation")
    p.add_argument("--plain-files", type=int, default=2, help="files the json.loads loop reads (its rate is per sub)")
    p.add_argument("--old-files", type=int, default=2, help="files the in-memory LinkHarvester reads (0: skip)")
    p.add_argument("--side", help=argparse.SUPPRESS)
    p.add_argument("--side-args", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.side:
        result = {"plain": side_plain, "new": side_new, "old": side_old}[a.side](**json.loads(a.side_args))
        print(json.dumps(result))
        return
    paths = dumps(a.n, a.files, a.workers)
    size = sum(Path(x).stat().st_size for x in paths)
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = {}
    rows["json.loads loop, 1 process"] = measure("plain", {"paths": paths[: a.plain_files]})
    if a.old_files:
        rows["old LinkHarvester, 1 process"] = measure("old", {"paths": paths[: a.old_files], "work": str(work)})
    args = {"paths": paths, "work": str(work), "workers": a.workers, "memory_limit": a.memory_limit}
    rows[f"out of core, {a.workers} workers"] = measure("new", args)
    rows["  rerun (every file done)"] = measure("new", args)
    print(f"\ncommand: python bench/bench_link_harvest.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"input: {a.n:,} synthetic submissions in {a.files} .zst files ({size / 2**20:,.0f} MiB on disk); "
          f"{os.cpu_count()} CPUs; DuckDB memory_limit {a.memory_limit}\n")
    print(f"{'path':<32}{'submissions':>13}{'links':>12}{'wall s':>9}{'CPU s':>9}{'subs/s':>10}"
          f"{'subs/CPU-s':>12}{'peak RSS':>11}")
    for name, r in rows.items():
        print(f"{name:<32}{r['submissions']:>13,}{r['links']:>12,}{r['wall_s']:>9.1f}{r['cpu_s']:>9.1f}"
              f"{r['submissions'] / r['wall_s']:>10,.0f}{r['submissions'] / max(r['cpu_s'], 1e-9):>12,.0f}"
              f"{r['peak_rss'] / 2**20:>8,.0f} MiB")
    new = rows[f"out of core, {a.workers} workers"]
    plain = rows["json.loads loop, 1 process"]
    print(f"\nout of core: {new['peak_rss'] / 2**30:.2f} GiB peak RSS for {new['submissions']:,} submissions "
          f"(target <= 2 GB); {plain['submissions'] / plain['cpu_s'] / (new['submissions'] / new['cpu_s']):.2f}x "
          f"the json.loads loop's CPU per submission")
    if "old LinkHarvester, 1 process" in rows:
        old = rows["old LinkHarvester, 1 process"]
        print(f"old in-memory: {old['peak_rss'] / old['submissions']:,.0f} B of RSS per submission read "
              f"(-> {old['peak_rss'] / old['submissions'] * new['submissions'] / 2**30:.1f} GiB at "
              f"{new['submissions']:,}); out of core: {new['peak_rss'] / new['submissions']:,.0f} B")
    (OUT / "results.json").write_text(json.dumps({"n": a.n, "files": a.files, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
