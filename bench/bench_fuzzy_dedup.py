"""Fuzzy dedup at scale: wall time and peak memory, and near-duplicate quality on planted pairs.

    python bench/bench_fuzzy_dedup.py                      # 1,000,000 documents, 2 workers
    python bench/bench_fuzzy_dedup.py --n 100000 --preset gpt3 --lsh-compare 0
    python bench/bench_fuzzy_dedup.py --shared-template    # pages sharing site templates, every preset

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

`--shared-template` (default `--n 20000` pages) measures what random documents cannot: pages of
many sites, each page a distinct article inside its site's nav, sidebar and footer (Jaccard
~0.1-0.4 between pages of a site, the exact figures printed), some sites also sharing a cookie
banner or a "powered by" line, site sizes from 2 to ~2,000 pages (a skewed, log-normal mix). A
share of the pages (`--planted`, default 0.05) gets a near-duplicate on its own site (the same
page with words of its article replaced: exact Jaccard from 0.8 to 1). For every preset (or
`--preset`): the share of distinct pages kept (pages with no planted copy; the goal is >= 0.99),
the share of planted pairs found (one of the two dropped; goal >= 0.95), pairs of which both
went, and the global stage's wall time. Unverified banding (`verify_threshold=None`) is shown
beside each preset for comparison.
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
from corpus.dedup.near_duplicates import PRESETS, find_near_duplicates, with_preset  # noqa: E402
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


# ---------------------------------------------------------------------------------------------
# Shared-template corpus: pages of sites that share nav, sidebar and footer.

def _zipf_words(rng: np.random.Generator, n: int, vocab: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    return vocab[np.minimum(np.searchsorted(cdf, rng.random(n)), VOCAB_SIZE - 1)]


def shared_template_corpus(n_pages: int, planted: float, seed: int = 0) -> dict:
    """Pages of many sites: (ids, texts, quality), planted pairs (base, copy), distinct ids.

    A site's template is a nav (30-80 words), a sidebar (40-200) and a footer (20-60); 40% of
    sites add one cookie banner and 30% one "powered by" line common to all of them. Each page's
    article is drawn so that it is 0.8 to 4 times the template's length: two pages of one site
    are at Jaccard ~1 / (1 + 2 x that ratio), 0.11 to 0.38. A planted copy is a page with
    evenly spread words of its article replaced, at a Jaccard drawn from [0.8, 1].
    """
    vocab, cdf = _vocab()
    rng = np.random.default_rng([seed, 7])
    banner = _zipf_words(rng, 25, vocab, cdf)
    powered = _zipf_words(rng, 8, vocab, cdf)
    ids, texts, site_of, pairs = [], [], [], []
    site = 0
    while len(texts) < n_pages:
        size = int(min(2000, max(2, round(rng.lognormal(np.log(30), 1.0)))))
        nav, side, foot = (_zipf_words(rng, int(rng.integers(lo, hi)), vocab, cdf)
                           for lo, hi in [(30, 81), (40, 201), (20, 61)])
        if rng.random() < 0.4:
            foot = np.concatenate([foot, banner])
        if rng.random() < 0.3:
            foot = np.concatenate([foot, powered])
        template = len(nav) + len(side) + len(foot)
        for page in range(size):
            if len(texts) >= n_pages:
                break
            article = _zipf_words(rng, int(template * rng.uniform(0.8, 4.0)), vocab, cdf)
            page_id = f"site{site:05d}/page{page:05d}"
            ids.append(page_id)
            texts.append(" ".join(np.concatenate([nav, article, side, foot])))
            site_of.append(site)
            if rng.random() < planted and len(texts) < n_pages:
                # J ~ (S - 5e) / (S + 5e) for e edits in S shingles: e for a target J in [0.8, 1].
                target = rng.uniform(0.8, 1.0)
                n_shingles = template + len(article)
                edits = min(len(article), int(n_shingles * (1 - target) / (5 * (1 + target))))
                copy = _edit(article, edits, rng, vocab) if edits else article
                ids.append(page_id + "-copy")
                texts.append(" ".join(np.concatenate([nav, copy, side, foot])))
                site_of.append(site)
                pairs.append((page_id, page_id + "-copy"))
        site += 1
    quality = rng.random(len(texts)).astype(np.float32)
    in_pair = {i for pair in pairs for i in pair}
    distinct = [i for i in ids if i not in in_pair]
    return {"ids": ids, "texts": texts, "quality": quality, "site_of": np.array(site_of), "pairs": pairs,
            "distinct": distinct, "n_sites": site}


def exact_jaccards(texts: list[str], site_of: np.ndarray, pairs: list[tuple[int, int]], ngram: int = 5
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Exact shingle Jaccard of the given pairs (row indices), and of each page with the most
    similar other page of its site (its planted copy excluded), from 32-bit shingle hashes."""
    hasher = MinHasher(PRESETS["fineweb"].minhash)
    sets = []
    for lo in range(0, len(texts), 2000):
        hashes, doc = hasher._shingle_hashes(texts[lo:lo + 2000])
        bounds = np.searchsorted(doc, np.arange(len(texts[lo:lo + 2000]) + 1))
        sets += [np.unique(hashes[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    pair_j = np.array([len(np.intersect1d(sets[a], sets[b], assume_unique=True))
                       / len(np.union1d(sets[a], sets[b])) for a, b in pairs])
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    best = np.zeros(len(texts))
    for site in np.unique(site_of):
        rows = np.flatnonzero(site_of == site)
        if rows.size < 2:
            continue
        # Pages x shingles seen on two or more of the site's pages (the rest add to no overlap).
        allh = np.concatenate([sets[r] for r in rows])
        uniq, counts = np.unique(allh, return_counts=True)
        shared = uniq[counts >= 2]
        m = np.stack([np.isin(shared, sets[r], assume_unique=True) for r in rows]).astype(np.float32)
        inter = m @ m.T
        sizes = np.array([len(sets[r]) for r in rows], dtype=np.float32)
        jac = inter / (sizes[:, None] + sizes[None, :] - inter)
        np.fill_diagonal(jac, 0)
        for i, r in enumerate(rows):
            if r in partner:
                jac[i, np.flatnonzero(rows == partner[r])] = 0
        best[rows] = jac.max(axis=1)
    return pair_j, best


def run_shared_template(a: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    corpus = shared_template_corpus(a.n, a.planted, a.seed)
    ids, texts = corpus["ids"], corpus["texts"]
    row = {i: k for k, i in enumerate(ids)}
    pair_rows = [(row[x], row[y]) for x, y in corpus["pairs"]]
    t_gen = time.perf_counter() - t0
    pair_j, mate_j = exact_jaccards(texts, corpus["site_of"], pair_rows)
    distinct_rows = np.array([row[i] for i in corpus["distinct"]])
    t0 = time.perf_counter()
    minhash = PRESETS["fineweb"].minhash
    assert all(c.minhash == minhash for c in PRESETS.values()), "one signature set serves every preset"
    sigs, counts = MinHasher(minhash).signatures(texts)
    t_sig = time.perf_counter() - t0
    sizes = np.bincount(corpus["site_of"])
    q = np.quantile(mate_j[distinct_rows], [0.5, 0.9, 0.99, 1.0])
    print(f"shared-template corpus: {len(ids):,} pages on {corpus['n_sites']:,} sites "
          f"(pages per site: median {int(np.median(sizes))}, max {sizes.max():,}), generated in {t_gen:.1f} s; "
          f"signatures {t_sig:.1f} s")
    print(f"  distinct pages: {len(distinct_rows):,}; Jaccard to the most similar page of their site: "
          f"median {q[0]:.2f}, p90 {q[1]:.2f}, p99 {q[2]:.2f}, max {q[3]:.2f}")
    print(f"  planted pairs: {len(pair_j):,}, exact Jaccard {pair_j.min():.2f} to {pair_j.max():.2f}")
    presets = [a.preset] if a.preset else sorted(PRESETS)
    runs = [(name, PRESETS[name]) for name in presets]
    runs += [(f"{name}, unverified", with_preset(name, verify_threshold=None)) for name in presets]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-fuzzy-template-") as tmp:
        path = Path(tmp) / "signatures.parquet"
        pq.write_table(signature_table(ids, corpus["quality"], sigs, counts, minhash), path)
        for name, cfg in runs:
            t0 = time.perf_counter()
            result = find_near_duplicates([path], cfg)
            seconds = time.perf_counter() - t0
            dropped = np.array([i in result.drop for i in ids])
            found = np.array([dropped[x] or dropped[y] for x, y in pair_rows])
            both = np.array([dropped[x] and dropped[y] for x, y in pair_rows])
            hi = pair_j >= 0.8
            results.append({"preset": name, "bands": cfg.bands, "rows": cfg.rows,
                            "verify": cfg.verify_threshold, "window": cfg.bucket_window,
                            "distinct_kept": float(1 - dropped[distinct_rows].mean()),
                            "distinct_dropped": int(dropped[distinct_rows].sum()),
                            "planted_found": float(found[hi].mean()), "planted_pairs": int(hi.sum()),
                            "both_dropped": int(both.sum()), "seconds": seconds,
                            "counts": dict(result.stats.counts)})
    print("\n| preset | bands x rows | verify | distinct pages kept | planted pairs found (J >= 0.8) "
          "| both of a pair dropped | global stage s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['preset']} | {r['bands']} x {r['rows']} | {r['verify']} | {r['distinct_kept']:.4f} "
              f"({r['distinct_dropped']:,} dropped) | {r['planted_found']:.4f} of {r['planted_pairs']:,} "
              f"| {r['both_dropped']} | {r['seconds']:.2f} |")
    for r in results:
        c = r["counts"]
        print(f"  {r['preset']:24s} candidate pairs {c.get('candidate_pairs', 0):,}, rejected by verify "
              f"{c.get('rejected_by_verify', 0):,}, pairs not compared (oversized buckets) "
              f"{c.get('pairs_not_compared', 0):,}, clusters {c.get('clusters', 0):,}")
    print("\n" + json.dumps({"n": len(ids), "signatures_s": t_sig, "runs": results}))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=None,
                    help="documents (default 1,000,000; with --shared-template 20,000 pages)")
    ap.add_argument("--chars", type=int, default=3000, help="approximate characters per document")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=20_000, help="documents per signature file")
    ap.add_argument("--planted", type=float, default=None,
                    help="share of documents in planted pairs (default 0.02; with --shared-template: "
                         "share of pages given a near-duplicate copy, 0.05)")
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None,
                    help="LSH settings (default fineweb; with --shared-template every preset)")
    ap.add_argument("--shared-template", action="store_true",
                    help="pages sharing site templates plus planted near-duplicates, every preset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lsh-compare", type=int, default=100_000,
                    help="also time datasketch MinHashLSH over this many documents (0: skip)")
    ap.add_argument("--work-dir", default=None, help="keep the signature files here (default: temp)")
    a = ap.parse_args(argv)
    if a.shared_template:
        a.n = a.n or 20_000
        a.planted = 0.05 if a.planted is None else a.planted
        run_shared_template(a)
        print("command: python bench/bench_fuzzy_dedup.py " + " ".join(argv if argv is not None else sys.argv[1:]))
        return
    a.n = a.n or 1_000_000
    a.planted = 0.02 if a.planted is None else a.planted
    a.preset = a.preset or "fineweb"
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
    result = find_near_duplicates(files, cfg)
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
