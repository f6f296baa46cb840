"""Link harvest speed: submissions/s per core from a dump file to the links Parquet.

Compares the real path (`read_submissions` -> `LinkHarvester` -> `write_links`) with a plain
`json.loads` loop like OpenWebText's `extract_urls.py` (score >= 3, not a self post, keep the
URL), both on one core over the same zstd dump. The plain loop does far less (no URL
canonicalisation, no dedup of URL spellings, no domain rules, no counters), so it is the floor.

    python bench/bench_links.py                      # a synthetic dump shaped like real Pushshift lines
    python bench/bench_links.py --n 500000
    python bench/bench_links.py --dump RS_2017-11.zst  # a real dump
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus.sources.links import LinkHarvester, LinkRules, write_links  # noqa: E402
from corpus.sources.reddit_dumps import open_dump, read_submissions  # noqa: E402

DOMAINS = ["nytimes.com", "bbc.co.uk", "theguardian.com", "i.imgur.com", "youtube.com", "i.redd.it",
           "arstechnica.com", "github.com", "en.wikipedia.org", "medium.com", "reuters.com", "self.news"]


def synthetic_line(rng: random.Random, i: int) -> dict:
    """A submission with the field mix and size (~2-3 KB) of a 2017-era Pushshift line."""
    domain = rng.choice(DOMAINS)
    is_self = domain.startswith("self.")
    path = f"/{rng.choice(['news', 'world', 'tech', 'blog'])}/{rng.randrange(10**6)}-story-about-{i % 977}"
    url = (f"https://www.reddit.com/r/news/comments/{i:x}/" if is_self
           else f"{rng.choice(['http', 'https'])}://{domain}{path}" + rng.choice(["", "?utm_source=reddit", ".jpg"]))
    return {
        "archived": False, "author": f"user{rng.randrange(10**5)}", "author_flair_css_class": None,
        "author_flair_text": None, "brand_safe": True, "can_gild": True, "contest_mode": False,
        "created_utc": rng.choice([1509000000 + i, str(1509000000 + i), 1509000000.0 + i]),
        "distinguished": None, "domain": domain, "edited": False, "gilded": 0, "hidden": False,
        "hide_score": False, "id": f"{i:x}", "is_crosspostable": True, "is_reddit_media_domain": False,
        "is_self": is_self, "is_video": False, "link_flair_css_class": None, "link_flair_text": None,
        "locked": False, "media": None, "media_embed": {}, "num_comments": rng.randrange(500),
        "num_crossposts": 0, "over_18": rng.random() < 0.03, "parent_whitelist_status": "all_ads",
        "permalink": f"/r/news/comments/{i:x}/story/", "pinned": False, "retrieved_on": 1512000000,
        "score": rng.choice([0, 1, 1, 2, 3, 5, 12, 40, 300]), "secure_media": None, "secure_media_embed": {},
        "selftext": "" if not is_self else "A few words of self text. " * rng.randrange(1, 30),
        "spoiler": False, "stickied": False, "subreddit": rng.choice(["news", "worldnews", "technology"]),
        "subreddit_id": "t5_2qh3l", "subreddit_type": "public", "thumbnail": "default",
        "thumbnail_height": 78, "thumbnail_width": 140, "title": f"Title of story {i} " * rng.randrange(1, 6),
        "url": url, "whitelist_status": "all_ads",
        "preview": {"images": [{"source": {"url": f"https://i.redditmedia.com/{i:x}.jpg?s=abc", "width": 640,
                                           "height": 480},
                                "resolutions": [{"url": f"https://i.redditmedia.com/{i:x}-{w}.jpg?s=abc", "width": w,
                                                 "height": w * 3 // 4} for w in (108, 216, 320, 640)],
                                "variants": {}, "id": f"img{i:x}"}], "enabled": False},
    }


def make_dump(path: Path, n: int) -> None:
    import zstandard

    rng = random.Random(0)
    buf = io.BytesIO()
    for i in range(n):
        buf.write(json.dumps(synthetic_line(rng, i)).encode() + b"\n")
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27)
    path.write_bytes(zstandard.ZstdCompressor(compression_params=params).compress(buf.getvalue()))


def plain_loop(dump: str, out: Path, min_karma: int = 3) -> int:
    """OpenWebText's extract_urls.py, in essence: json.loads each line, keep good URLs, dedup."""
    urls = []
    n = 0
    with open_dump(dump) as f:
        for line in f:
            n += 1
            post = json.loads(line)
            if post.get("score", 0) >= min_karma and not post.get("is_self") and post.get("url"):
                urls.append(post["url"])
    out.write_text("\n".join(sorted(set(urls))))
    return n


def harvest(dump: str, out: Path) -> int:
    harvester = LinkHarvester(LinkRules())
    from corpus.steps import StepStats

    stats = StepStats("read_submissions")
    harvester.add(read_submissions([dump], stats))
    write_links(harvester.links(), out)
    return stats.n_in


def timed(fn, *args) -> tuple[int, float, float]:
    """Items, wall seconds and CPU seconds of one run (CPU time is what "per core" means, and
    it does not move when other work shares the machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn(*args)
    return n, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dump", help="a dump to read (default: a synthetic one)")
    p.add_argument("--n", type=int, default=200_000, help="submissions in the synthetic dump")
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dump = a.dump
        if dump is None:
            dump = str(tmp / "RS_synthetic.zst")
            make_dump(Path(dump), a.n)
        size = Path(dump).stat().st_size
        paths = {"plain json.loads loop": (plain_loop, tmp / "urls.txt"),
                 "webtext harvest": (harvest, tmp / "links.parquet")}
        runs: dict[str, list] = {name: [] for name in paths}
        for _ in range(a.repeat):  # alternate, so a busy moment does not favour one side
            for name, (fn, out) in paths.items():
                runs[name].append(timed(fn, dump, out))
        results = {name: min(r, key=lambda x: x[2]) for name, r in runs.items()}
    print(f"\ncommand: python bench/bench_links.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"input: {dump if a.dump else f'synthetic, {a.n:,} submissions'} ({size / 2**20:.1f} MiB on disk), "
          f"1 process, best of {a.repeat} by CPU time\n")
    print(f"{'path':<24}{'submissions':>12}{'CPU s':>9}{'wall s':>9}{'subs/s/core':>13}")
    for name, (n, wall, cpu) in results.items():
        print(f"{name:<24}{n:>12,}{cpu:>9.2f}{wall:>9.2f}{n / cpu:>13,.0f}")
    plain, ours = (results[k][2] for k in results)
    print(f"\nwebtext harvest takes {ours / plain:.2f}x the CPU time of the plain loop "
          f"(it canonicalises and merges URLs, applies every rule, counts every drop, writes Parquet)")


if __name__ == "__main__":
    main()
