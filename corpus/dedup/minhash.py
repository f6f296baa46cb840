"""MinHash signatures over word n-grams, vectorised with numpy and compatible with datasketch.

A document's shingles are its word n-grams (default 5) of `corpus.text.words` (NFKD, accents
removed, lower case, runs of letters and digits), and a shingle is the
n words joined by single spaces, UTF-8 encoded (`shingles(text)` returns exactly these bytes).
A document with fewer than n words has one shingle, all its words; one with no words has none
(its signature is all 2^32 - 1, datasketch's empty MinHash).

The permutations are datasketch 2.0's default scheme, "affine32", reproduced bit for bit: each
32-bit shingle hash is pre-mixed with the MurmurHash3 32-bit finaliser, then permutation k maps
it to `a_k * h + b_k mod 2^32` with `(a, b)` drawn from `np.random.RandomState(seed)` exactly as
`datasketch.MinHash(num_perm, seed)` draws them. So a signature here equals
`datasketch.MinHash(num_perm=..., seed=..., hashfunc=...)` updated with `shingles(text)`, where
`hashfunc` is `datasketch_hashfunc(config)`:

- `hash="poly"` (default): a polynomial hash of the shingle's code points mod 2^64, finalised
  with MurmurHash3's 64-bit mixer and cut to 32 bits (`poly_hash32`). Because a polynomial hash
  of a concatenation is a sum of shifted hashes, the hashes of all shingles of a whole batch of
  documents come out of a few numpy prefix sums, with no Python call per shingle.
- `hash="sha1"`: datasketch's own default `sha1_hash32`, one `hashlib.sha1` call per shingle;
  identical to a plain `datasketch.MinHash(num_perm, seed)`, ~2.5x slower than "poly".

Why by hand: datasketch's `update` loop is one Python call and one 128-wide numpy operation per
shingle (~240 docs/s on 3 KB documents here); `MinHash.bulk` still hashes per shingle in Python
(~1,700 docs/s). Here the text of a batch of documents is tokenised as one array of code points,
hashed with prefix sums, and permuted in cache-sized blocks with a `minimum.reduceat` per
document: `bench/bench_minhash.py` measures the difference (more than 20x the update loop).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import numpy as np

from corpus.text import normalize, words

# datasketch's "affine32" constants (datasketch/minhash.py): MurmurHash3's 32-bit finaliser.
_M32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
# MurmurHash3's 64-bit finaliser, to spread the polynomial hash before it is cut to 32 bits.
_M64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(33), np.uint64(0xC4CEB9FE1A85EC53),
        np.uint64(33))
_MASK64 = (1 << 64) - 1
# The polynomial base: odd, so that it is invertible mod 2^64 (the prefix-sum trick needs P^-1).
_POLY_BASE = 0x9E3779B97F4A7C15
_POLY_BASE_INV = pow(_POLY_BASE, -1, 1 << 64)
_SPACE = 32
MAX_HASH = np.uint32(0xFFFFFFFF)
HASHES = ("poly", "sha1")


@dataclass(frozen=True)
class MinHashConfig:
    """What a signature depends on; signatures made under different configs cannot be compared.

    GPT-3 / FineWeb / OpenWebText all shingle by word 5-grams. `seed=1` is datasketch's default,
    so the permutations equal those of a default `datasketch.MinHash(num_perm)`.
    """

    num_perm: int = 128
    ngram: int = 5
    seed: int = 1
    hash: str = "poly"

    def __post_init__(self) -> None:
        if self.hash not in HASHES:
            raise ValueError(f"hash must be one of {HASHES}, got {self.hash!r}")
        if self.num_perm < 1 or self.ngram < 1:
            raise ValueError("num_perm and ngram must be positive")

    def fingerprint(self) -> dict[str, Any]:
        """Stored with every signature file and checked before signatures are compared."""
        return {**asdict(self), "scheme": "affine32", "words": "corpus.text.words: NFKD, no marks, lower, [^\\W_]+", "version": 2}


# ---------------------------------------------------------------------------------------------
# The reference (per-shingle) definitions: slow, obviously correct, and what datasketch is fed.

def shingles(text: str, ngram: int = 5) -> list[bytes]:
    """The shingles of a text as datasketch would be fed them: word n-grams, space-joined, UTF-8."""
    w = words(text)
    if not w:
        return []
    if len(w) < ngram:
        return [" ".join(w).encode("utf-8")]
    return [" ".join(w[i:i + ngram]).encode("utf-8") for i in range(len(w) - ngram + 1)]


def poly_hash32(data: bytes) -> int:
    """The "poly" shingle hash, one shingle at a time (the vectorised path computes the same).

    sum_i (cp_i + 1) * P^i mod 2^64 over the code points of the UTF-8 string, then the 64-bit
    MurmurHash3 finaliser, low 32 bits. Pass it to datasketch as `hashfunc`.
    """
    h, p = 0, 1
    for ch in data.decode("utf-8", errors="surrogatepass"):
        h = (h + (ord(ch) + 1) * p) & _MASK64
        p = (p * _POLY_BASE) & _MASK64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    h ^= h >> 33
    return h & 0xFFFFFFFF


def sha1_hash32(data: bytes) -> int:
    """datasketch's default hash function (`datasketch.hashfunc.sha1_hash32`)."""
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little")


def datasketch_hashfunc(config: MinHashConfig):
    """The `hashfunc` that makes `datasketch.MinHash(num_perm, seed, hashfunc=...)` equal ours."""
    return poly_hash32 if config.hash == "poly" else sha1_hash32


# ---------------------------------------------------------------------------------------------
# The vectorised implementation.

@cache
def _word_table() -> np.ndarray:
    """is-word-character for every code point: exactly `[^\\W_]` of Python's `re`, i.e. isalnum().

    Built once per process (~0.2 s, 1.1 MB); a lookup into it classifies a whole batch of text
    in one numpy operation, where a regex would cost ~0.2 us per word boundary (it was the
    single largest cost before: ~120 us per 3 KB document).
    """
    return np.fromiter((chr(c).isalnum() for c in range(0x110000)), dtype=bool, count=0x110000)


def _fmix(h: np.ndarray, constants: tuple) -> np.ndarray:
    """MurmurHash3's finaliser; `_M32` or `_M64` picks the 32- or 64-bit variant."""
    s1, m1, s2, m2, s3 = constants
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def datasketch_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of datasketch's affine32 scheme, drawn as `MinHash._init_permutations` draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class MinHasher:
    """Computes MinHash signatures of many documents at once.

    >>> sigs, n_shingles = MinHasher(MinHashConfig()).signatures(["some text ...", "another ..."])

    Holds the permutations and a cache of powers of the polynomial base; one per process.
    """

    def __init__(self, config: MinHashConfig | None = None, batch_chars: int = 1 << 20,
                 block_shingles: int = 8192) -> None:
        self.config = config or MinHashConfig()
        self.a, self.b = datasketch_permutations(self.config.num_perm, self.config.seed)
        # Documents are tokenised and hashed together up to ~batch_chars characters at a time
        # (bounded memory: ~40 bytes per character); the permutation step works in blocks of
        # block_shingles shingles (128 perms x 8192 x 4 B = 4 MB: measured here, 1k..64k blocks
        # run within 2x of each other and 4-8k was the fastest; one array per batch is slower).
        self.batch_chars = batch_chars
        self.block_shingles = block_shingles
        self._pow = np.ones(1, dtype=np.uint64)
        self._ipow = np.ones(1, dtype=np.uint64)

    # -- public -----------------------------------------------------------------------------

    def signature(self, text: str) -> np.ndarray:
        """The signature (uint32[num_perm]) of one document."""
        return self.signatures([text])[0][0]

    def signatures(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Signatures (uint32[n, num_perm]) and shingle counts (int32[n]) of the given texts."""
        n = len(texts)
        sigs = np.full((n, self.config.num_perm), MAX_HASH, dtype=np.uint32)
        counts = np.zeros(n, dtype=np.int32)
        start = 0
        while start < n:
            stop, size = start, 0
            while stop < n and (stop == start or size + len(texts[stop]) <= self.batch_chars):
                size += len(texts[stop])
                stop += 1
            hashes, doc_of = self._shingle_hashes(texts[start:stop])
            self._permute_min(hashes, doc_of, sigs[start:stop], counts[start:stop])
            start = stop
        return sigs, counts

    # -- shingle hashes ---------------------------------------------------------------------

    def _shingle_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """32-bit hashes of every shingle of `texts`, and the document index of each, in order."""
        if self.config.hash == "sha1":
            # datasketch's own hash: one hashlib call per shingle, no way around it.
            hs, docs = [], []
            for i, text in enumerate(texts):
                sh = shingles(text, self.config.ngram)
                digest = b"".join([hashlib.sha1(s).digest() for s in sh])
                hs.append(np.frombuffer(digest, dtype="<u4")[::5])
                docs.append(np.full(len(sh), i, dtype=np.int64))
            if not hs:
                return np.empty(0, np.uint32), np.empty(0, np.int64)
            return np.concatenate(hs).astype(np.uint32), np.concatenate(docs)
        return self._poly_hashes(texts)

    def _powers(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """P^i and P^-i mod 2^64 for i < n (uint64 arithmetic wraps: that is the modulo)."""
        if len(self._pow) < n:
            size = max(n, 2 * len(self._pow))
            self._pow = np.cumprod(np.full(size, _POLY_BASE, dtype=np.uint64))
            self._pow = np.concatenate([[np.uint64(1)], self._pow[:-1]])
            self._ipow = np.cumprod(np.full(size, _POLY_BASE_INV, dtype=np.uint64))
            self._ipow = np.concatenate([[np.uint64(1)], self._ipow[:-1]])
        return self._pow[:n], self._ipow[:n]

    def _poly_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        ngram = self.config.ngram
        # One string for the batch; "\0" (not a word character) ends every document, so no word
        # crosses a document boundary and every word is followed by a non-word character.
        lowered = [normalize(t) for t in texts]
        joined = "\0".join(lowered) + "\0"
        offsets = np.zeros(len(lowered), dtype=np.int64)
        np.cumsum(np.fromiter((len(t) + 1 for t in lowered[:-1]), np.int64, len(lowered) - 1),
                  out=offsets[1:])
        try:  # most pages are Latin-1: one byte per character, not four, and a 256-entry table
            cps = np.frombuffer(joined.encode("latin-1"), dtype=np.uint8)
            is_word = _word_table()[:256][cps]
        except UnicodeEncodeError:
            cps = np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
            is_word = _word_table()[cps]
        edges = np.diff(is_word.view(np.int8), prepend=np.int8(0))
        word_start = np.flatnonzero(edges == 1)
        if word_start.size == 0:
            return np.empty(0, np.uint32), np.empty(0, np.int64)
        word_len = np.flatnonzero(edges == -1) - word_start
        # The normalised text, virtually: each word's characters and one space after it (the
        # first character of each non-word run that follows a word; the others are dropped).
        keep = is_word.copy()
        keep[word_start + word_len] = True
        virtual = np.where(is_word, cps.astype(np.uint64) + np.uint64(1), np.uint64(_SPACE + 1))[keep]
        pw, ipw = self._powers(virtual.size)
        prefix = np.zeros(virtual.size + 1, dtype=np.uint64)
        np.cumsum(virtual * pw, out=prefix[1:])
        # Each word's span [ws, we) in the virtual text, and its document.
        ws = np.arange(word_start.size, dtype=np.int64)
        ws[1:] += np.cumsum(word_len[:-1])
        we = ws + word_len
        word_doc = np.searchsorted(offsets, word_start, side="right") - 1
        n_words = word_start.size
        # Shingle k = words k .. k+n-1 of one document: span [ws[k], we[k+n-1]).
        if n_words >= ngram:
            k = np.flatnonzero(word_doc[:n_words - ngram + 1] == word_doc[ngram - 1:])
            s, e, d = ws[k], we[k + ngram - 1], word_doc[k]
        else:
            s = e = d = np.empty(0, dtype=np.int64)
        # A document with 1..n-1 words is one shingle: all of its words.
        wc = np.bincount(word_doc, minlength=len(texts))
        short = np.flatnonzero((wc > 0) & (wc < ngram))
        if short.size:
            first_word = np.searchsorted(word_doc, short)
            last_word = first_word + wc[short] - 1
            s = np.concatenate([s, ws[first_word]])
            e = np.concatenate([e, we[last_word]])
            d = np.concatenate([d, short])
            order = np.argsort(d, kind="stable")
            s, e, d = s[order], e[order], d[order]
        raw = (prefix[e] - prefix[s]) * ipw[s]
        return (_fmix(raw, _M64) & np.uint64(0xFFFFFFFF)).astype(np.uint32), d

    # -- permutations -----------------------------------------------------------------------

    def _permute_min(self, hashes: np.ndarray, doc_of: np.ndarray, sigs: np.ndarray,
                     counts: np.ndarray) -> None:
        """sigs[d] = min over the shingles of d of (a * fmix32(h) + b) mod 2^32, in place."""
        if hashes.size == 0:
            return
        counts += np.bincount(doc_of, minlength=len(counts)).astype(np.int32)
        h = _fmix(hashes, _M32)
        a, b = self.a[:, None], self.b[:, None]
        # Permutations along rows, shingles along columns: the per-document minimum then runs
        # along contiguous memory, 2.2x faster than the transposed layout (measured here).
        block = np.empty((self.config.num_perm, min(self.block_shingles, h.size)), dtype=np.uint32)
        for lo in range(0, h.size, self.block_shingles):
            hi = min(lo + self.block_shingles, h.size)
            buf = block[:, :hi - lo]
            np.multiply(a, h[lo:hi], out=buf)  # wraps mod 2^32, as datasketch's does
            np.add(buf, b, out=buf)
            d = doc_of[lo:hi]
            seg = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]]))
            docs = d[seg]
            # Documents are contiguous within a block, so each appears once in `docs`.
            sigs[docs] = np.minimum(sigs[docs], np.minimum.reduceat(buf, seg, axis=1).T)


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The Jaccard similarity estimated from two signatures (fraction of equal values)."""
    return float(np.mean(sig_a == sig_b))
