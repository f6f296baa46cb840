"""Exact + fuzzy dedup at scale: wall time, peak memory of the whole process tree, and quality
against the planted ground truth of `bench/make_synthetic_corpus.py`.

    python bench/bench_scale_dedup.py --docs 100000 1000000            # corpora made on demand
    python bench/bench_scale_dedup.py --docs 10000000 --data /tmp/scale --workers 2 --preset fineweb

For each size, the corpus `DATA/nDOCS-pPER_PART-sSEED` is generated first if missing (not timed here; the
generator prints its own time). Then one **measured run** in a fresh subprocess (`--child`):
`dedup_once` over the corpus's parts, into an empty work folder. Meanwhile this process polls
`/proc` every 0.1 s and sums the RSS of the subprocess and all its descendants (the executor's
workers): "peak tree RSS". "Driver" is the subprocess alone: its peak (`ru_maxrss`, exact), its
RSS after the imports and before the dedup ("baseline"), and driver bytes/doc =
(peak - baseline) / documents. Wall time is that of `dedup_once` inside the subprocess; "CPU s"
is the subprocess's and its joined workers' user + system time, and "load" the 1-minute load
average when the run started: on a shared machine wall time grows with the load, CPU time hardly.
`--code DIR` measures the library of another checkout (e.g. `git archive HEAD | tar -x -C DIR`
for "before" figures while the working tree changes).

Quality, from the ids `dedup_once` dropped joined with `truth/` (Arrow, in this process; the
measured process never sees the truth):

- exact recall: of the planted exact copies (a group of k documents has k - 1), the share removed
  (a group counts at most k - 1 removals; removing all k is counted as "wiped" groups);
- near recall by planted Jaccard level (0.9 / 0.8 / 0.7 / 0.6), the same count over the
  near-duplicate clusters of that level (the fineweb preset is built to catch >= 0.8 and not 0.6);
- template FP: template pages removed (distinct pages of one site that share its nav, sidebar
  and footer: every removal is a false positive), and unique FP: other unplanted documents removed;
- best kept: of the groups that lost a document and kept one, the share that kept the member with
  the highest quality_score (the keep rule);
- coverage: documents kept / documents in (ideal: 1 - planted removable copies / documents).

`dedup_once` is the only call into the library: switch it to a new API and the rest stays.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
LEVELS = (0.9, 0.8, 0.7, 0.6)


# ---------------------------------------------------------------------------------------------
# The measured side (runs in the subprocess).

def dedup_once(parts: list[Path], work: Path, workers: int, preset: str) -> dict[str, Any]:
    """Exact + fuzzy dedup of `parts` with the library of today; the one place that calls it.

    Returns {"docs_in", "docs_out", "dropped": path of a Parquet file with the `id` of every
    document dropped, "steps": each pass's counters}. Today: the global passes of
    `pipelines.global_stage.global_passes` (hash-partitioned exact dedup, per-part signature
    indexes, band tasks, union-find), which mark a reason code per document; the dropped ids are
    then read off the parts beside their codes, one part at a time (not part of the measured
    dedup's memory: the recipes apply the codes in per-part output tasks).
    """
    import numpy as np

    from corpus.dedup.drops import KEEP, DropCodes, PartTable
    from corpus.executor import LocalExecutor
    from pipelines.global_stage import GlobalConfig, global_passes

    passes = global_passes(parts, GlobalConfig(dedup_preset=preset), work, LocalExecutor(workers, show_progress=False))
    codes = DropCodes(passes.codes)
    table = PartTable.of(parts)
    dropped_path = work / "dropped.parquet"
    with IdWriter(dropped_path) as dropped:
        for i, part in enumerate(table.paths):
            marks = np.asarray(codes.read()[table.span(i)])
            ids = pq.read_table(part, columns=["id"]).column("id").to_pylist()
            for doc_id in np.asarray(ids, dtype=object)[marks != KEEP]:
                dropped.add(doc_id)
    n_in = table.total
    return {"docs_in": n_in, "docs_out": n_in - dropped.count, "dropped": str(dropped_path),
            "steps": {"exact_dedup": codes.counts(), "fuzzy_dedup": passes.report["fuzzy_dedup"]["stats"]}}


class IdWriter:
    """Ids into a one-column Parquet file, 100,000 at a time (bounded memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._ids: list[str] = []
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> "IdWriter":
        self._writer = pq.ParquetWriter(self.path, pa.schema([pa.field("id", pa.string())]))
        return self

    def add(self, doc_id: str) -> None:
        self._ids.append(doc_id)
        self.count += 1
        if len(self._ids) >= 100_000:
            self._flush()

    def _flush(self) -> None:
        if self._ids:
            self._writer.write_table(pa.table({"id": pa.array(self._ids, pa.string())}))
            self._ids = []

    def __exit__(self, *exc: Any) -> None:
        self._flush()
        self._writer.close()


def rss_self() -> int:
    """This process's resident set now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def child(args: argparse.Namespace) -> None:
    """The measured process: the dedup, its wall time and its own memory, as JSON on stdout."""
    sys.path.insert(0, str(Path(args.code).resolve()))  # before the first import of corpus
    import corpus.executor  # (imports count in the baseline, not in the growth)
    import pipelines.global_stage  # noqa: F401
    from corpus.readers.shards import shard_paths

    parts = shard_paths(args.parts)
    baseline = rss_self()
    t0 = time.perf_counter()
    result = dedup_once(parts, Path(args.work), args.workers, args.preset)
    result["wall_s"] = time.perf_counter() - t0
    result["driver_baseline"] = baseline
    result["driver_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # CPU seconds of the driver and of the workers it waited for (the pools are joined by now):
    # unlike wall time, not inflated when other work shares the cores.
    result["cpu_s"] = sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                           resource.getrusage(resource.RUSAGE_CHILDREN)))
    result["code"] = str(Path(corpus.executor.__file__).parents[2])
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# The measuring side.

def tree_rss(root: int) -> tuple[int, int]:
    """(RSS of `root` and all its descendants, RSS of `root`), in bytes, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])  # the name may hold spaces: cut at ")"
        children.setdefault(ppid, []).append(int(entry.name))
    total = own = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss = int(f.read().split()[1]) * PAGE
        except OSError:
            continue
        total += rss
        own = rss if pid == root else own
        todo += children.get(pid, [])
    return total, own


class TreePeak(threading.Thread):
    """Polls the process tree under `pid` every `interval` s; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_tree = self.peak_driver = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            tree, own = tree_rss(self.pid)
            self.peak_tree, self.peak_driver = max(self.peak_tree, tree), max(self.peak_driver, own)
            self.samples += 1
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def measure(parts: Path, work: Path, workers: int, preset: str, code: Path) -> dict[str, Any]:
    """Run `dedup_once` in a fresh subprocess (importing the library from `code`), polling its
    process tree's memory."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load = os.getloadavg()  # other work on the machine shows in wall time, not in CPU time
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--parts", str(parts), "--work", str(work),
           "--workers", str(workers), "--preset", preset, "--code", str(code)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    poll = TreePeak(proc.pid)
    poll.start()
    out, _ = proc.communicate()
    poll.stop()
    if proc.returncode != 0:
        raise SystemExit(f"the measured run failed (exit {proc.returncode}); its stderr is above")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(process_s=time.perf_counter() - t0, peak_tree=poll.peak_tree, samples=poll.samples,
                  driver_peak=max(result["driver_peak"], poll.peak_driver), load_before=load, load_after=os.getloadavg())
    return result


def _group_recall(is_dropped: np.ndarray, cluster: np.ndarray, quality: np.ndarray) -> dict[str, Any]:
    """Removals in groups (rows of one kind): recall over the k - 1 removable of each group,
    groups wiped out, and whether the survivor of each group that lost some is its best."""
    if cluster.size == 0:
        return {"groups": 0, "removable": 0, "removed": 0, "recall": float("nan"), "wiped": 0, "best_kept": float("nan")}
    groups, inv = np.unique(cluster, return_inverse=True)
    size = np.bincount(inv)
    removed = np.bincount(inv, weights=is_dropped).astype(np.int64)
    # The best member: highest quality (ties: any; float32 ties in one group are rare).
    order = np.lexsort((-quality, inv))
    first = order[np.concatenate([[True], inv[order][1:] != inv[order][:-1]])]
    lost_some = (removed > 0) & (removed < size)
    best_kept = ~is_dropped[first]
    return {"groups": int(groups.size), "removable": int((size - 1).sum()),
            "removed": int(np.minimum(removed, size - 1).sum()),
            "recall": float(np.minimum(removed, size - 1).sum() / max(1, (size - 1).sum())),
            "wiped": int((removed == size).sum()),
            "best_kept": float(best_kept[lost_some].mean()) if lost_some.any() else float("nan")}


def evaluate(truth_dir: Path, dropped_path: Path, docs: int) -> dict[str, Any]:
    """Quality of one run against the ground truth, by Arrow joins (no Python set of ids)."""
    truth = pq.read_table(truth_dir, columns=["id", "cluster", "kind", "jaccard", "quality_score"])
    dropped = pq.read_table(dropped_path).column("id")
    is_dropped = pc.is_in(truth.column("id"), value_set=dropped.combine_chunks()).to_numpy(zero_copy_only=False)
    kind = truth.column("kind").to_numpy(zero_copy_only=False)
    cluster = truth.column("cluster").to_numpy()
    jac = truth.column("jaccard").to_numpy(zero_copy_only=False)
    quality = truth.column("quality_score").to_numpy(zero_copy_only=False)
    out: dict[str, Any] = {"docs": docs, "dropped": len(dropped)}
    exact = kind == "exact"
    out["exact"] = _group_recall(is_dropped[exact], cluster[exact], quality[exact])
    near = kind == "near"
    # A near cluster's level: that of its copies (the source's jaccard is null, NaN here).
    _, inv = np.unique(cluster[near], return_inverse=True)
    level = np.full(inv.max() + 1 if inv.size else 0, np.nan)
    np.fmax.at(level, inv, jac[near])
    levels = level[inv]
    out["near"] = {}
    for lv in LEVELS:
        rows = np.flatnonzero(near)[np.isclose(levels, lv)]
        out["near"][str(lv)] = _group_recall(is_dropped[rows], cluster[rows], quality[rows])
    template = kind == "template"
    out["template"] = {"pages": int(template.sum()), "removed": int(is_dropped[template].sum()),
                       "fp_rate": float(is_dropped[template].mean()) if template.any() else float("nan")}
    n_planted = int(len(truth))
    out["unique"] = {"docs": docs - n_planted, "removed": len(dropped) - int(is_dropped.sum())}
    removable = out["exact"]["removable"] + sum(v["removable"] for v in out["near"].values())
    out["coverage"] = (docs - len(dropped)) / docs
    out["ideal_coverage"] = (docs - removable) / docs
    return out


def fmt_bytes(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def row(r: dict[str, Any]) -> str:
    q = r["quality"]
    near = " / ".join(f"{q['near'][str(level)]['recall']:.3f}" for level in LEVELS)
    best = [g["best_kept"] for g in [q["exact"], *q["near"].values()] if g["groups"]]
    return (f"| {r['docs']:,} | {r['wall_s']:.1f} | {r['wall_s'] / r['docs'] * 1e6:.1f} | {r.get('cpu_s', float('nan')):.1f} "
            f"| {r['load_before'][0]:.1f} | {fmt_bytes(r['peak_tree'])} "
            f"| {fmt_bytes(r['driver_peak'])} | {r['driver_bytes_per_doc']:.0f} | {q['exact']['recall']:.4f} | {near} "
            f"| {q['template']['removed']} of {q['template']['pages']:,} | {q['unique']['removed']} "
            f"| {np.nanmin(best) if best else float('nan'):.3f} | {q['coverage']:.4f} ({q['ideal_coverage']:.4f}) |")


HEADER = ("| docs | wall s | s per 1M | CPU s | load | peak tree RSS | driver peak RSS | driver bytes/doc | exact recall "
          "| near recall at J 0.9 / 0.8 / 0.7 / 0.6 | template pages removed (FP) | unique docs removed (FP) "
          "| best kept (min) | coverage (ideal) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[100_000, 1_000_000], help="corpus sizes to measure")
    ap.add_argument("--data", default="/tmp/scale", help="where corpora (nDOCS-pPER_PART-sSEED/) and work folders go")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--preset", default="fineweb", help="near-duplicate preset (corpus.dedup.near_duplicates.PRESETS)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--docs-per-part", type=int, default=None,
                    help="documents per part (default: a tenth of --docs, 10,000 to 100,000, so that every "
                         "size has >= 10 parts for the workers; with 1 part the executor runs in the driver)")
    ap.add_argument("--keep-work", action="store_true", help="keep each run's work folder (signatures, dropped ids)")
    ap.add_argument("--code", default=str(BENCH.parent),
                    help="the checkout whose corpus/ and pipelines/ the measured run imports (default: this "
                         "one), e.g. a `git archive` of an older commit for a before/after comparison")
    ap.add_argument("--json", default=None, help="also write the results here (default DATA/scale_dedup.json)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--parts", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a)
        return
    import make_synthetic_corpus as gen

    data = Path(a.data)
    results = []
    for docs in a.docs:
        per_part = a.docs_per_part or min(100_000, max(10_000, docs // 10))
        corpus = data / f"n{docs}-p{per_part}-s{a.seed}"
        meta = gen.generate(gen.CorpusSpec(docs, a.seed, per_part), corpus, a.workers)
        print(f"corpus {corpus}: {docs:,} docs, {meta['bytes_on_disk'] / 1e9:.2f} GB, generated in {meta['seconds']} s",
              flush=True)
        work = data / f"work-n{docs}"
        r = measure(corpus / "parts", work, a.workers, a.preset, Path(a.code))
        r["docs"] = docs
        r["driver_bytes_per_doc"] = (r["driver_peak"] - r["driver_baseline"]) / docs
        r["quality"] = evaluate(corpus / "truth", Path(r["dropped"]), docs)
        if r["docs_in"] != docs:
            print(f"warning: the run read {r['docs_in']:,} documents, the corpus has {docs:,}")
        if not a.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        results.append(r)
        print(f"  {docs:,} docs: {r['wall_s']:.1f} s, peak tree RSS {fmt_bytes(r['peak_tree'])}, "
              f"driver {fmt_bytes(r['driver_peak'])} ({r['samples']} samples)", flush=True)
    print(f"\nexact + fuzzy dedup (preset {a.preset}, {a.workers} workers, {os.cpu_count()} cores, "
          f"library from {results[0]['code'] if results else a.code})\n")
    print(HEADER)
    for r in results:
        print(row(r))
    if len(results) >= 2:
        lo, hi = results[0], results[-1]
        growth = (hi["driver_peak"] - lo["driver_peak"]) / (hi["docs"] - lo["docs"])
        print(f"\ndriver memory growth {lo['docs']:,} -> {hi['docs']:,} docs: {growth:.0f} bytes per document")
    path = Path(a.json) if a.json else data / "scale_dedup.json"
    from corpus.writers.atomic import atomic_write_json

    atomic_write_json(path, {"preset": a.preset, "workers": a.workers, "runs": results})
    print(f"results: {path}")
    print("command: python bench/bench_scale_dedup.py " + " ".join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
