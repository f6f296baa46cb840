"""Fuzzy dedup at scale: wall time and peak memory, and near-duplicate quality on planted pairs.

    python bench/bench_fuzzy_dedup.py                      # 1,000,000 documents, 2 workers
    python bench/bench_fuzzy_dedup.py --n 100000 --preset gpt3 --lsh-compare 0

The run is the pipeline's two stages:

1. map (`--workers` processes): generate synthetic documents (~`--chars` each, Zipf words),
   compute MinHash signatures (`corpus.dedup.minhash`) and write signature files
   (`corpus.dedup.signatures.signature_table`), `--chunk` documents per file;
2. global (this process): `find_near_duplicates` over all the files.

A share of the documents (`--planted`) comes in pairs: a base and a copy with evenly spread
words replaced, at Jaccard similarities (of their 5-gram shingle sets, computed exactly) spread
from ~0.1 to 1. A pair is "found" when one of the two is dropped. Reported: recall at J >= 0.8,
the false-positive rate at J < 0.5 (and per-bin rates beside the LSH S-curve's prediction), and
unrelated documents dropped (should be 0). Peak RSS: this process (global stage) and the
largest worker (map stage), from `resource.getrusage`.

`--lsh-compare N` also runs `datasketch.MinHashLSH` (insert + query every document) over the
first N signatures in a fresh process, against our banding over the same N.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq  # noqa: E402

from corpus.dedup.lsh import candidate_probability  # noqa: E402
from corpus.dedup.minhash import MinHasher, shingles  # noqa: E402
from corpus.dedup.near_duplicates import PRESETS, find_near_duplicates  # noqa: E402
from corpus.dedup.signatures import signature_table  # noqa: E402

VOCAB_SIZE = 100_000


def _vocab(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-words (some capitalised, some with a comma) and the CDF of a Zipf law over them."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    lens = rng.integers(2, 11, VOCAB_SIZE)
    chars = rng.choice(letters, int(lens.sum()))
    ends = np.cumsum(lens)
    words = np.array(["".join(chars[e - n:e]) for e, n in zip(ends, lens)], dtype=object)
    words[::11] = [w.capitalize() for w in words[::11]]
    words[::13] = [w + "," for w in words[::13]]
    p = 1.0 / np.arange(1, VOCAB_SIZE + 1) ** 1.05
    return words, np.cumsum(p / p.sum())


def _edit(words: np.ndarray, n_edits: int, rng: np.random.Generator, vocab: np.ndarray) -> np.ndarray:
    out = words.copy()
    if n_edits:
        pos = np.linspace(0, len(out) - 1, n_edits).astype(int)
        out[pos] = vocab[rng.integers(0, VOCAB_SIZE, n_edits)]  # uniform: rarely a word it replaces
    return out


def map_chunk(args: tuple) -> dict:
    """One worker task: `count` documents from `start`, their signatures into one file."""
    start, count, out_dir, words_per_doc, planted, preset, seed = args
    vocab, cdf = _vocab()
    rng = np.random.default_rng([seed, start])
    config = PRESETS[preset].minhash
    ids, texts, pairs = [], [], []
    i = start
    while len(texts) < count:
        words = vocab[np.minimum(np.searchsorted(cdf, rng.random(words_per_doc)), VOCAB_SIZE - 1)]
        ids.append(f"doc{i:09d}")
        texts.append(" ".join(words))
        if rng.random() < planted / 2 and len(texts) < count:
            # Edits from 0 to 45% of the words: Jaccard from 1 down to ~0.1.
            copy = _edit(words, int(rng.integers(0, int(0.45 * words_per_doc))), rng, vocab)
            ids.append(f"doc{i:09d}c")
            texts.append(" ".join(copy))
            a, b = set(shingles(texts[-2])), set(shingles(texts[-1]))
            pairs.append((ids[-2], ids[-1], len(a & b) / len(a | b)))
        i += 1
    sigs, counts = MinHasher(config).signatures(texts)
    quality = rng.random(len(texts)).astype(np.float32)
    path = Path(out_dir) / f"sig-{start:09d}.parquet"
    pq.write_table(signature_table(ids, quality, sigs, counts, config), path)
    return {"path": str(path), "pairs": pairs, "docs": len(texts),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def lsh_compare(files: list[str], n: int, preset: str) -> dict:
    """datasketch MinHashLSH (insert + query) over the first n signatures, in this process."""
    from datasketch import MinHash, MinHashLSH

    cfg = PRESETS[preset]
    sigs, ids = [], []
    for f in files:
        t = pq.read_table(f, columns=["id", "signature"])
        sigs.append(t.column("signature").combine_chunks().flatten().to_numpy().reshape(len(t), -1))
        ids += t.column("id").to_pylist()
        if len(ids) >= n:
            break
    sigs = np.concatenate(sigs)[:n]
    ids = ids[:n]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    lsh = MinHashLSH(num_perm=cfg.minhash.num_perm, params=(cfg.bands, cfg.rows))
    mhs = [MinHash(num_perm=cfg.minhash.num_perm, hashvalues=s, scheme="affine32") for s in sigs]
    with lsh.insertion_session() as session:
        for key, m in zip(ids, mhs):
            session.insert(key, m, check_duplication=False)
    t_insert = time.perf_counter() - t0
    pairs = sum(len(lsh.query(m)) - 1 for m in mhs)
    t_total = time.perf_counter() - t0
    return {"n": n, "insert_s": t_insert, "insert_query_s": t_total, "candidate_links": pairs,
            "rss_growth_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base}


def ours_compare(files: list[str], n: int, preset: str) -> dict:
    """Our global stage over the first n signatures (written to one file), in this process."""
    import pyarrow as pa

    tables, total = [], 0
    for f in files:
        tables.append(pq.read_table(f))
        total += len(tables[-1])
        if total >= n:
            break
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sub.parquet"
        pq.write_table(pa.concat_tables(tables).slice(0, n), path)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        find_near_duplicates([path], PRESETS[preset])
        return {"n": n, "seconds": time.perf_counter() - t0,
                "rss_growth_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base}


def predicted(jaccard: np.ndarray, cfg) -> np.ndarray:
    """P(found) of pairs at these Jaccards: the LSH S-curve, times, when candidates are
    verified, P(Binomial(num_perm, J) / num_perm >= verify_threshold)."""
    p = candidate_probability(jaccard, cfg.bands, cfg.rows)
    if cfg.verify_threshold is None:
        return p
    k = cfg.minhash.num_perm
    need = int(np.ceil(cfg.verify_threshold * k - 1e-9))
    tail = np.array([sum(math.comb(k, x) * j**x * (1 - j) ** (k - x) for x in range(need, k + 1))
                     for j in np.asarray(jaccard, float)])
    return p * tail


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="documents")
    ap.add_argument("--chars", type=int, default=3000, help="approximate characters per document")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=20_000, help="documents per signature file")
    ap.add_argument("--planted", type=float, default=0.02, help="share of documents in planted pairs")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="fineweb")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lsh-compare", type=int, default=100_000,
                    help="also time datasketch MinHashLSH over this many documents (0: skip)")
    ap.add_argument("--work-dir", default=None, help="keep the signature files here (default: temp)")
    a = ap.parse_args(argv)
    cfg = PRESETS[a.preset]
    words_per_doc = max(10, a.chars // 6)
    tmp = tempfile.TemporaryDirectory(prefix="bench-fuzzy-") if a.work_dir is None else None
    out_dir = Path(a.work_dir or tmp.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    # Map stage.
    tasks = [(s, min(a.chunk, a.n - s), str(out_dir), words_per_doc, a.planted, a.preset, a.seed)
             for s in range(0, a.n, a.chunk)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.workers) as pool:
        results = list(tqdm(pool.map(map_chunk, tasks), total=len(tasks), desc="map: docs -> signatures",
                            unit="file"))
    t_map = time.perf_counter() - t0
    files = [r["path"] for r in results]
    pairs = [p for r in results for p in r["pairs"]]
    n_docs = sum(r["docs"] for r in results)
    worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    # Global stage.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    result = find_near_duplicates(files, cfg, progress=True)
    t_global = time.perf_counter() - t0
    rss_global = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # Quality on planted pairs.
    planted_ids = {i for a_, b_, _ in pairs for i in (a_, b_)}
    found = np.array([(x in result.drop) or (y in result.drop) for x, y, _ in pairs])
    jac = np.array([j for _, _, j in pairs])
    unrelated_dropped = sum(1 for i in result.drop if i not in planted_ids)
    hi, lo = jac >= 0.8, jac < 0.5

    print(f"\nfuzzy dedup, {n_docs:,} synthetic docs of ~{a.chars} chars, preset {a.preset} "
          f"({cfg.bands} bands x {cfg.rows} rows, threshold ~{cfg.threshold:.2f}, verify {cfg.verify_threshold}), "
          f"{a.workers} workers, {os.cpu_count()} cores")
    print(f"{'stage':34s} {'wall s':>9s} {'docs/s':>10s} {'peak RSS MB':>12s}")
    print(f"{'map: generate + signatures':34s} {t_map:9.1f} {n_docs / t_map:10,.0f} {worker_rss:12,.0f}  "
          "(largest worker)")
    print(f"{'global: load + LSH + clusters':34s} {t_global:9.1f} {n_docs / t_global:10,.0f} {rss_global:12,.0f}  "
          f"(this process; {rss_before:,.0f} before)")
    print(f"{'total':34s} {t_map + t_global:9.1f}")
    print(f"dropped: {dict(result.stats.dropped)}; clusters: {result.stats.counts['clusters']:,}; "
          f"sizes: {dict(list(result.cluster_sizes.items())[:6])}")
    print(f"\nplanted pairs: {len(pairs):,}")
    print(f"  recall at J >= 0.8:          {found[hi].mean():.4f}  ({found[hi].sum()}/{hi.sum()})")
    print(f"  false positives at J < 0.5:  {found[lo].mean():.4f}  ({found[lo].sum()}/{lo.sum()})")
    print(f"  unrelated documents dropped: {unrelated_dropped}")
    print(f"  {'J bin':12s} {'pairs':>7s} {'found':>8s} {'expected':>8s}  (S-curve 1-(1-J^r)^b"
          f"{', x P(estimate >= verify)' if cfg.verify_threshold is not None else ''})")
    for lo_, hi_ in [(0, .3), (.3, .4), (.4, .5), (.5, .6), (.6, .7), (.7, .8), (.8, .9), (.9, 1.01)]:
        m = (jac >= lo_) & (jac < hi_)
        if m.any():
            pred = predicted(jac[m], cfg).mean()
            print(f"  [{lo_:.1f}, {min(hi_, 1):.1f}) {m.sum():7d} {found[m].mean():8.3f} {pred:8.3f}")
    report = {"n": n_docs, "map_s": t_map, "global_s": t_global, "worker_rss_mb": worker_rss,
              "global_rss_mb": rss_global, "recall_j_ge_0.8": float(found[hi].mean()),
              "fp_j_lt_0.5": float(found[lo].mean()), "unrelated_dropped": unrelated_dropped}

    if a.lsh_compare:
        k = min(a.lsh_compare, n_docs)
        with ProcessPoolExecutor(1) as pool:  # fresh processes: clean RSS figures
            ds = pool.submit(lsh_compare, files, k, a.preset).result()
        with ProcessPoolExecutor(1) as pool:
            ours = pool.submit(ours_compare, files, k, a.preset).result()
        print(f"\nglobal stage over {k:,} docs      {'seconds':>9s} {'RSS growth MB':>14s}")
        print(f"{'datasketch MinHashLSH insert+query':34s} {ds['insert_query_s']:9.1f} {ds['rss_growth_mb']:14,.0f}"
              f"  (insert only {ds['insert_s']:.1f} s)")
        print(f"{'corpus.dedup.near_duplicates (whole stage)':34s} {ours['seconds']:9.1f} {ours['rss_growth_mb']:14,.0f}")
        report["lsh_compare"] = {"datasketch": ds, "ours": ours}
    print("\n" + json.dumps(report))
    print("command: python bench/bench_fuzzy_dedup.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
