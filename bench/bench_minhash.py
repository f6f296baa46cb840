"""MinHash signatures/s: corpus.dedup.minhash (vectorised) vs datasketch, on the same documents.

    python bench/bench_minhash.py                    # 1,000 synthetic ~3 KB documents
    python bench/bench_minhash.py --docs 2000 --num-perm 128 --ngram 5

Every method goes from text to a 128-value signature (word 5-grams; datasketch paths use
`corpus.dedup.minhash.shingles` for the same shingles and pay for them). Rates are given in wall time
and in CPU time of this process: on a shared machine the CPU-time figure is the steadier one.
Before timing, the signatures are checked equal (ours "sha1" == datasketch default; ours "poly"
== datasketch with `hashfunc=poly_hash32`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus.dedup.minhash import MinHashConfig, MinHasher, poly_hash32, shingles  # noqa: E402


def synthetic_docs(n: int, chars: int = 3000, seed: int = 0) -> list[str]:
    """English-looking documents: Zipf-distributed words, capitals and punctuation, ~`chars` long."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    freq = np.array([12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0,
                     2.0, 1.9, 1.5, 1.0, 0.8, 0.15, 0.15, 0.1, 0.07])
    vocab = ["".join(rng.choice(letters, size=int(rng.integers(1, 10)), p=freq / freq.sum()))
             for _ in range(50_000)]
    vocab = [w.capitalize() if i % 9 == 0 else w + "," if i % 13 == 0 else w + "." if i % 17 == 0 else w
             for i, w in enumerate(vocab)]
    vocab_arr = np.array(vocab, dtype=object)
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    p /= p.sum()
    words_per_doc = chars // 6
    return [" ".join(vocab_arr[rng.choice(len(vocab), size=words_per_doc, p=p)]) for _ in range(n)]


def timed(fn, reps: int = 1) -> tuple[float, float, object]:
    """Best wall and CPU seconds of `reps` runs, and the last result."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--chars", type=int, default=3000, help="approximate characters per document")
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--baseline-docs", type=int, default=None,
                    help="documents for the slow update loop (default: all)")
    a = ap.parse_args(argv)
    from datasketch import MinHash

    docs = synthetic_docs(a.docs, a.chars)
    n_base = a.baseline_docs or a.docs
    poly_cfg = MinHashConfig(num_perm=a.num_perm, ngram=a.ngram)
    sha_cfg = MinHashConfig(num_perm=a.num_perm, ngram=a.ngram, hash="sha1")
    MinHasher(poly_cfg).signatures(docs[:2])  # the per-process word table, built once

    def ours(cfg):
        return lambda: MinHasher(cfg).signatures(docs)[0]

    def ds_update(hashfunc=None):
        def run():
            out = []
            for text in docs[:n_base]:
                m = MinHash(num_perm=a.num_perm, **({"hashfunc": hashfunc} if hashfunc else {}))
                for s in shingles(text, a.ngram):
                    m.update(s)
                out.append(m.hashvalues)
            return np.array(out)
        return run

    def ds_bulk():
        return np.array([m.hashvalues for m in MinHash.bulk((shingles(t, a.ngram) for t in docs),
                                                            num_perm=a.num_perm)])

    # Correctness first.
    check = docs[:50]
    ours_sha = MinHasher(sha_cfg).signatures(check)[0]
    ours_poly = MinHasher(poly_cfg).signatures(check)[0]
    for i, text in enumerate(check):
        m = MinHash(num_perm=a.num_perm)
        m.update_batch(shingles(text, a.ngram))
        assert np.array_equal(m.hashvalues, ours_sha[i]), "sha1 signatures differ from datasketch"
        m = MinHash(num_perm=a.num_perm, hashfunc=poly_hash32)
        m.update_batch(shingles(text, a.ngram))
        assert np.array_equal(m.hashvalues, ours_poly[i]), "poly signatures differ from datasketch"

    rows = []
    for name, fn, n, reps in [
        ("datasketch MinHash.update per shingle", ds_update(), n_base, 1),
        ("datasketch MinHash.bulk", ds_bulk, a.docs, 1),
        ("corpus.dedup.minhash hash=sha1", ours(sha_cfg), a.docs, 3),
        ("corpus.dedup.minhash hash=poly (default)", ours(poly_cfg), a.docs, 3),
    ]:
        wall, cpu, _ = timed(fn, reps)
        rows.append((name, n / wall, n / cpu))
    base_cpu = rows[0][2]
    size = sum(map(len, docs)) / len(docs)
    print(f"\nMinHash signatures, {a.docs} synthetic docs of ~{size:,.0f} chars, word {a.ngram}-grams, "
          f"{a.num_perm} permutations, 1 process")
    print(f"{'method':40s} {'docs/s wall':>12s} {'docs/s CPU':>12s} {'x update (CPU)':>15s}")
    for name, w, c in rows:
        print(f"{name:40s} {w:12,.0f} {c:12,.0f} {c / base_cpu:14.1f}x")
    print("signatures checked equal to datasketch's (sha1: default MinHash; poly: hashfunc=poly_hash32)")
    print("command: python bench/bench_minhash.py " + " ".join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
