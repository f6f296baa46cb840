import re

import numpy as np
import pytest
from datasketch import MinHash

from corpus.dedup.minhash import (
    MinHashConfig,
    MinHasher,
    _word_table,
    datasketch_hashfunc,
    jaccard,
    poly_hash32,
    shingles,
    words,
)

TEXTS = [
    "The harbour council met on Tuesday, to decide whether the old grain sheds should become a "
    "public market -- several traders argued (loudly!) that the building had stood empty.",
    "Ünïcödé İstanbul STRASSE straße ΣΊΣΥΦΟΣ 数字 テスト “quoted” — dash… emoji👍here snake_case_word 42",
    "four words only here",
    "one",
    "",
    "   ,,, ... !!! ",
    "a b c d e",
    "\n".join(f"Line {i}: item_{i} costs ${i}.99" for i in range(40)),
]


def datasketch_signature(text: str, config: MinHashConfig, default_hash: bool = False) -> np.ndarray:
    kwargs = {} if default_hash else {"hashfunc": datasketch_hashfunc(config)}
    m = MinHash(num_perm=config.num_perm, seed=config.seed, **kwargs)
    sh = shingles(text, config.ngram)
    if sh:
        m.update_batch(sh)
    return m.hashvalues


@pytest.mark.parametrize("config", [MinHashConfig(), MinHashConfig(num_perm=64, ngram=3, seed=7),
                                    MinHashConfig(num_perm=16, ngram=1, seed=42)])
def test_poly_signatures_equal_datasketch_with_the_same_hashfunc(config):
    sigs, counts = MinHasher(config).signatures(TEXTS)
    for text, sig, count in zip(TEXTS, sigs, counts):
        assert count == len(shingles(text, config.ngram))
        np.testing.assert_array_equal(sig, datasketch_signature(text, config))


def test_sha1_signatures_equal_a_default_datasketch_minhash():
    config = MinHashConfig(hash="sha1")
    sigs, _ = MinHasher(config).signatures(TEXTS)
    for text, sig in zip(TEXTS, sigs):
        np.testing.assert_array_equal(sig, datasketch_signature(text, config, default_hash=True))


def test_batching_and_blocking_do_not_change_signatures():
    rng = np.random.default_rng(0)
    vocab = [f"word{i}" for i in range(300)] + ["Ünï", "ΣΊΣ", "数字"]
    texts = [" ".join(rng.choice(vocab, int(rng.integers(0, 120)))) for _ in range(60)] + TEXTS
    whole, whole_counts = MinHasher(MinHashConfig()).signatures(texts)
    small, small_counts = MinHasher(MinHashConfig(), batch_chars=300, block_shingles=7).signatures(texts)
    np.testing.assert_array_equal(whole, small)
    np.testing.assert_array_equal(whole_counts, small_counts)
    one_by_one = np.stack([MinHasher(MinHashConfig()).signature(t) for t in texts])
    np.testing.assert_array_equal(whole, one_by_one)


def test_shingles_are_lowercase_word_ngrams_without_punctuation():
    assert words("Hello, WORLD! it's_a test-case") == ["hello", "world", "it", "s", "a", "test", "case"]
    assert shingles("A b, C! d e f", ngram=5) == [b"a b c d e", b"b c d e f"]
    assert shingles("just three words", ngram=5) == [b"just three words"]
    assert shingles(" ... ", ngram=5) == []


def test_empty_document_has_the_empty_signature():
    sig = MinHasher(MinHashConfig()).signature("")
    assert (sig == np.iinfo(np.uint32).max).all()


def test_word_table_is_exactly_pythons_word_class():
    pattern = re.compile(r"[^\W_]")
    table = _word_table()
    sample = range(0, 0x110000, 5)  # every 5th code point keeps this fast
    assert all(bool(table[c]) == bool(pattern.match(chr(c))) for c in sample)


def test_poly_hash_of_a_known_string_is_stable():
    # Signatures stored on disk must not change between versions: pin the function.
    assert poly_hash32(b"a b c d e") == poly_hash32("a b c d e".encode())
    assert poly_hash32(b"the quick brown fox jumps") == 220827227


def test_estimated_jaccard_tracks_the_true_one():
    rng = np.random.default_rng(1)
    base = [f"w{i}" for i in rng.integers(0, 10**6, 400)]
    edited = list(base)
    for i in range(0, 400, 40):  # 10 single-word edits -> ~50 of 396 shingles change
        edited[i] = "changed"
    a, b = " ".join(base), " ".join(edited)
    sa, sb = set(shingles(a)), set(shingles(b))
    true = len(sa & sb) / len(sa | sb)
    hasher = MinHasher(MinHashConfig(num_perm=256))
    assert abs(jaccard(hasher.signature(a), hasher.signature(b)) - true) < 0.1
