"""One timed run of webtext's Common Crawl recipe: the map stage and the shards, no classifier, no dedup.

Called by `bench/bench_throughput.py` in a fresh process (so that its memory and CPU time are
its own); usable by hand:

    .venv/bin/python bench/run_webtext.py --input 'bench/out/warc/x1/*.warc.gz' --engine resiliparse --workers 2
    .venv/bin/python bench/run_webtext.py --input 'bench/out/warc/x1/*.warc.gz' --workers 2 -- --precise-extraction

It is `python -m pipelines.clean_commoncrawl --no-quality-filter --no-dedup` (the issue's interface,
which stays stable while the code behind it changes), with the output folder emptied first so that
nothing is resumed. Prints one JSON line: the documents read (HTML pages) and kept, and the seconds
`run()` took.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus.extract.engines import ENGINES, ExtractionConfig  # noqa: E402
from pipelines.clean_commoncrawl import parse_args as pipeline_args  # noqa: E402
from pipelines.clean_commoncrawl import run  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", nargs="+", required=True, help="WARC files or globs")
    p.add_argument("--output", default="bench/out/run/webtext", help="emptied first: a rerun must not resume")
    p.add_argument("--engine", choices=ENGINES, default="trafilatura")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--timeout", type=float, default=ExtractionConfig().timeout_s,
                   help="per-page extraction limit in seconds (0: in-process, no limit)")
    p.add_argument("pipeline_flags", nargs="*", help="more clean_commoncrawl flags, after --")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    shutil.rmtree(a.output, ignore_errors=True)
    config = pipeline_args(["--input", *a.input, "--output", a.output, "--workers", str(a.workers),
                            "--extractor", a.engine, "--extraction-timeout", str(a.timeout),
                            "--no-quality-filter", "--no-dedup", *a.pipeline_flags])
    logging.getLogger().setLevel(logging.WARNING)
    t0 = time.perf_counter()
    manifest = run(config)
    seconds = time.perf_counter() - t0
    steps = {s["name"]: s for s in manifest["steps"]}
    print(json.dumps({"docs_in": steps["read_warc"]["out"], "docs_out": manifest["rows"], "run_s": seconds,
                      "steps": [{k: s[k] for k in ("name", "in", "out", "dropped")} for s in manifest["steps"]]}))


if __name__ == "__main__":
    main()
