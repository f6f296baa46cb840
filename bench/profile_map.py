"""Where the map stage of `clean_commoncrawl` spends its time: seconds per step, and a cProfile.

    .venv/bin/python bench/profile_map.py --input 'bench/out/warc/x1/*.warc.gz' --engine resiliparse
    .venv/bin/python bench/profile_map.py --input ... --engine trafilatura --cprofile 25

Runs the map steps of `pipelines.clean_commoncrawl` (read_warc -> URL filter -> `pipelines.cleaning`
steps; not the raw-text tap, nor the part writing) in this process over every input, consuming
the documents without writing them. Each step's own time is measured by timing the iterator between
steps (time spent in `next()` on step i's output, minus the same on step i-1's output), so the
figures add up to the total. CPU time (process_time) is used, so other load on the machine does
not inflate them. With the default `--timeout 0` extraction runs in-process (what the pipeline's
sandbox child would spend); `--timeout 5` measures the sandbox's round trips as seen by the parent.
"""

from __future__ import annotations

import argparse
import cProfile
import glob
import io
import logging
import pstats
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.extract.engines import ENGINES, ExtractionConfig  # noqa: E402
from corpus.extract.extractor import Extractor  # noqa: E402
from corpus.filters.url import URLFilter  # noqa: E402
from corpus.readers.warc import read_warc  # noqa: E402
from corpus.steps import StepStats  # noqa: E402
from pipelines.cleaning import CleaningConfig, text_filters  # noqa: E402


class Timed:
    """An iterator that adds the CPU time spent producing each item to `self.seconds`."""

    def __init__(self, items: Iterable) -> None:
        self._it = iter(items)
        self.seconds = 0.0

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        t0 = time.process_time()
        try:
            return next(self._it)
        finally:
            self.seconds += time.process_time() - t0


def profile_steps(paths: list[str], engine: str, timeout: float) -> tuple[list[tuple[str, float, int]], int]:
    """Per step: (name, own CPU seconds, documents out); and the number of pages read."""
    names, totals, outs = ["read_warc"], None, None
    n_pages = 0
    for path in paths:
        read_stats = StepStats("read_warc")
        cleaning = CleaningConfig(extraction=ExtractionConfig(engine, timeout))
        steps = [URLFilter(), Extractor(cleaning.extraction), *text_filters(cleaning)]
        timers = [Timed(read_warc(path, "commoncrawl", read_stats))]
        for step in steps:
            timers.append(Timed(step(timers[-1])))
        for _ in timers[-1]:
            pass
        inclusive = [t.seconds for t in timers]
        own = [inclusive[0]] + [b - a for a, b in zip(inclusive, inclusive[1:])]
        counts = [read_stats.n_out] + [s.stats.n_out for s in steps]
        names = ["read_warc"] + [s.name for s in steps]
        totals = own if totals is None else [a + b for a, b in zip(totals, own)]
        outs = counts if outs is None else [a + b for a, b in zip(outs, counts)]
        n_pages += read_stats.n_out
    return list(zip(names, totals, outs)), n_pages


def format_steps(rows: list[tuple[str, float, int]], n_pages: int) -> str:
    total = sum(s for _, s, _ in rows)
    lines = [f"{'step':<18} {'CPU s':>8} {'share':>6} {'ms/page':>8} {'docs out':>9}"]
    for name, seconds, out in rows:
        lines.append(f"{name:<18} {seconds:>8.2f} {seconds / total:>6.1%} {1000 * seconds / max(n_pages, 1):>8.2f} "
                     f"{out:>9}")
    lines.append(f"{'total':<18} {total:>8.2f} {'':>6} {1000 * total / max(n_pages, 1):>8.2f}   "
                 f"-> {n_pages / total:.0f} pages per CPU-second")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", nargs="+", required=True, help="WARC files or globs")
    p.add_argument("--engine", choices=ENGINES, default="trafilatura")
    p.add_argument("--timeout", type=float, default=0.0, help="0: extract in-process (default)")
    p.add_argument("--cprofile", type=int, default=0, metavar="N", help="also print cProfile's top N by own time")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for noisy in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    paths = [f for pattern in a.input for f in sorted(glob.glob(pattern))]
    if not paths:
        sys.exit(f"no input matches {a.input}")
    # Imports and lazy model loads happen once per worker; keep them out of the per-page figures.
    profile_steps(paths[:1], a.engine, a.timeout)
    rows, n_pages = profile_steps(paths, a.engine, a.timeout)
    print(f"map stage, engine={a.engine}, timeout={a.timeout}, {len(paths)} file(s), {n_pages} pages "
          f"(after one warm-up file)\n")
    print(format_steps(rows, n_pages))
    if a.cprofile:  # a second pass: the profiler's overhead must not distort the figures above
        profiler = cProfile.Profile()
        profiler.runcall(profile_steps, paths, a.engine, a.timeout)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(a.cprofile)
        print("\ncProfile (second pass; its overhead inflates pure-Python code):\n" + out.getvalue())
    print("command: " + " ".join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
