#!/usr/bin/env python
"""Write the deterministic, synthetic sample inputs that ship with webtext.

    python data/samples/generate.py [--out data/samples]

Files written (see README.md in this folder for what each contains and why):

* ``RS_sample.zst``              Pushshift-style Reddit submissions dump (zstd NDJSON).
* ``webtext_pages.warc.gz``      the pages those submissions link to, "as if already fetched".
* ``cc_sample.warc.gz``          a Common-Crawl-like WARC shard with good, bad and odd records,
                                 ending in a few malformed records.
* ``cc_sample_truncated.warc.gz`` a small valid WARC whose last gzip member is cut in half.
* ``labels.json.gz``             ground truth for tests: what every line / record is meant to be.
* ``tasks/``                     evaluation tasks in public formats, from new articles that share no
                                 13-word window with the two WARCs: ``lastword.jsonl`` (LAMBADA),
                                 ``continuation_{train,test}.jsonl`` (HellaSwag),
                                 ``topic_{train,dev,test}.jsonl`` (text classification).
* ``wiki_sample-pages-articles-multistream.xml.bz2`` + ``...-index.txt.bz2``
                                 a MediaWiki XML dump in Wikimedia's multistream layout, with
                                 ``wiki_sample_labels.json`` (what every page is meant to be).
* ``books/pg_sample_*.txt``      three Project-Gutenberg-style plain-text books, with
                                 ``pg_sample_labels.json``.

Everything is generated from fixed seeds: no clock, no ``uuid4``, no set iteration order, gzip
headers with mtime 0 (warcio's zlib wrapper writes 0) and zstd without threads, so two runs
produce byte-identical files. The text is synthetic (``sample_prose``); nothing is copied from
the web.

Module map (all in this folder; ``data/`` is not a package):

* ``sample_topics.py``       hand-written vocabulary and sentences for 21 topics
* ``sample_prose.py``        ``ProseGenerator``: articles, titles and self-post text
* ``sample_html.py``         ``Site`` and the HTML page renderers; PDF/JPEG/PNG/JSON payloads
* ``sample_lowquality.py``   boilerplate, spam, lorem ipsum, shop and non-English pages
* ``sample_machinetext.py``  machine-made text that survives extraction: SEO, listings, legal,
                             guestbook spam, near-empty pages (the classifier's negatives)
* ``sample_common.py``       file names, seeds, clocks, ``canonicalize_url``, ``atomic_write``
* ``sample_warc.py``         ``DeterministicWarc``: warcio with reproducible ids and dates
* ``sample_webtext.py``      the WebText sites, pages and ``write_webtext_pages``
* ``sample_reddit.py``       the submissions and ``write_submissions_dump``
* ``sample_commoncrawl.py``  the CC shard: ``write_commoncrawl_shard``, ``write_truncated_shard``
* ``sample_tasks.py``        the evaluation tasks: ``write_tasks``
* ``sample_wikipedia.py``    the Wikipedia dump, its index and labels: ``write_wikipedia_sample``
* ``sample_books.py``        the Gutenberg-style books and their labels: ``write_books``
* ``generate.py``            this file: ``generate(out_dir)``, ``generate_tasks(out_dir)``,
                             ``generate_corpora(out_dir)``, the labels file and the CLI
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import pathlib
import sys

# The helper modules live next to this file; data/ is not a package, so put this folder on
# the path whether we run as a script or are imported by the tests through importlib.
_HERE = pathlib.Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from sample_books import write_books  # noqa: E402
from sample_common import (  # noqa: E402
    CC_TRUNCATED_WARC,
    CC_WARC,
    LABELS,
    REDDIT_DUMP,
    SEED,
    WEBTEXT_WARC,
    atomic_write,
    canonicalize_url,
    rng_for,
)
from sample_commoncrawl import CCPlan, build_commoncrawl_plan, write_commoncrawl_shard, write_truncated_shard  # noqa: E402
from sample_prose import ProseGenerator  # noqa: E402
from sample_reddit import URL_VARIANTS, Submission, build_dump_lines, write_submissions_dump  # noqa: E402
from sample_tasks import TASKS_DIR, write_tasks  # noqa: E402
from sample_webtext import WebtextPlan, build_webtext_plan, write_webtext_pages  # noqa: E402
from sample_wikipedia import write_wikipedia_sample  # noqa: E402

__all__ = ["generate", "generate_tasks", "generate_corpora", "main", "canonicalize_url", "rng_for", "build_webtext_plan",
           "build_dump_lines", "build_commoncrawl_plan", "write_submissions_dump", "write_webtext_pages",
           "write_commoncrawl_shard", "write_truncated_shard", "CCPlan", "WebtextPlan", "REDDIT_DUMP", "WEBTEXT_WARC", "CC_WARC",
           "CC_TRUNCATED_WARC", "LABELS", "SEED"]


def build_labels(lines: list[bytes], subs: list[Submission], broken: list[dict[str, object]], webtext: WebtextPlan,
                 webtext_counts: dict[str, int], cc_counts: dict[str, int], cc_labels: list[dict[str, object]],
                 trunc_counts: dict[str, int]) -> dict[str, object]:
    by_url: dict[str, list[Submission]] = {}
    for s in subs:
        if s.kind == "article" and s.canonical:
            by_url.setdefault(s.canonical, []).append(s)
    kinds: dict[str, int] = {}
    for s in subs:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    created_types: dict[str, int] = {}
    for s in subs:
        name = type(s.fields["created_utc"]).__name__
        created_types[name] = created_types.get(name, 0) + 1
    pages = []
    for p in webtext.pages:
        posts = by_url.get(p.url, [])
        scores = [int(s.fields["score"]) for s in posts if "score" in s.fields]
        pages.append({
            "url": p.url, "kind": p.kind, "status": p.status, "in_dump": p.in_dump,
            "n_submissions": len(posts), "max_score": max(scores) if scores else None,
            "sum_score": sum(scores) if scores else None,
            "over_18": any(bool(s.fields.get("over_18")) for s in posts),
            **({"group": p.group} if p.group else {}), **({"location": p.location} if p.location else {}),
        })
    cc_kinds: dict[str, int] = {}
    for lab in cc_labels:
        k = str(lab["kind"])
        cc_kinds[k] = cc_kinds.get(k, 0) + 1
    return {
        "generator": "data/samples/generate.py",
        "seed": SEED,
        "canonicalization": canonicalize_url.__doc__.strip().splitlines()[2].strip(),
        REDDIT_DUMP: {
            "lines": len(lines), "submissions": len(subs), "broken_lines": broken,
            "submission_kinds": kinds,
            "created_utc_types": created_types,
            "missing_fields": {f: sum(1 for s in subs if f"missing_{f}" in s.flags)
                               for f in ("score", "url", "is_self", "over_18")},
            "over_18": sum(1 for s in subs if s.fields.get("over_18") is True),
            "article_urls_distinct": len(by_url),
            "article_urls_reposted": sum(1 for v in by_url.values() if len(v) > 1),
            "url_variants": {v: sum(1 for s in subs if s.variant == v) for v in URL_VARIANTS},
            "sum_only_urls": sorted({s.canonical for s in subs if "sum_only" in s.flags}),
        },
        WEBTEXT_WARC: {"records": webtext_counts, "pages": pages},
        CC_WARC: {"records": cc_counts, "kinds": cc_kinds, "responses": cc_labels},
        CC_TRUNCATED_WARC: {"records": trunc_counts},
    }


def dump_labels(obj: object, indent: int = 0) -> str:
    """JSON with nested objects indented but each list item on one line: readable and diffable
    without the size of fully indented JSON."""
    pad = " " * indent
    if isinstance(obj, dict) and any(isinstance(v, (dict, list)) for v in obj.values()):
        items = [f'{pad} {json.dumps(k)}: {dump_labels(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}" + ("\n" if indent == 0 else "")
    if isinstance(obj, list) and obj and isinstance(obj[0], (dict, list)):
        items = [f"{pad} {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for v in obj]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def generate(out_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write every sample input into ``out_dir``; returns {file name: path}. The evaluation tasks
    are built from these files by ``generate_tasks``; the command line runs both."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = ProseGenerator()
    webtext = build_webtext_plan(gen)
    lines, subs, broken = build_dump_lines(gen, webtext)
    paths = {REDDIT_DUMP: write_submissions_dump(out_dir / REDDIT_DUMP, lines)}
    paths[WEBTEXT_WARC], webtext_counts = write_webtext_pages(out_dir / WEBTEXT_WARC, webtext)
    cc_plan = build_commoncrawl_plan(gen, webtext)
    paths[CC_WARC], cc_counts, cc_labels = write_commoncrawl_shard(out_dir / CC_WARC, cc_plan)
    paths[CC_TRUNCATED_WARC], trunc_counts = write_truncated_shard(out_dir / CC_TRUNCATED_WARC, cc_plan)
    labels = build_labels(lines, subs, broken, webtext, webtext_counts, cc_counts, cc_labels, trunc_counts)
    # gzip with mtime=0 and no file name in the header, so the bytes do not depend on the clock.
    atomic_write(out_dir / LABELS, gzip.compress(dump_labels(labels).encode("utf-8"), 9, mtime=0))
    paths[LABELS] = out_dir / LABELS
    return paths


def generate_tasks(out_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write the evaluation tasks into ``out_dir/tasks``, clear of every 13-gram of the WARCs in
    ``out_dir`` (so run ``generate`` first); returns {"tasks/<file name>": path}. Kept apart from
    ``generate``, whose files are the pipelines' inputs: the tasks only read them."""
    out_dir = pathlib.Path(out_dir)
    warcs = [out_dir / name for name in (WEBTEXT_WARC, CC_WARC, CC_TRUNCATED_WARC)]
    return {f"{TASKS_DIR}/{name}": path for name, path in write_tasks(out_dir / TASKS_DIR, warcs).items()}


def generate_corpora(out_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write the curated-corpus inputs into ``out_dir``: the Wikipedia multistream dump, its index
    and labels, and the Gutenberg-style books in ``books/`` with their labels; returns {name: path}.
    Independent of the web samples (own seeds, reads nothing), so kept apart from ``generate``."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = ProseGenerator()
    return {**write_wikipedia_sample(out_dir, gen), **write_books(out_dir, gen)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=_HERE, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for name, path in {**generate(args.out), **generate_tasks(args.out), **generate_corpora(args.out)}.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.stat().st_size:>10,}  {digest[:16]}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
