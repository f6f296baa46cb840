import random

import numpy as np
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash, MinHashLSH

from corpus.dedup.lsh import band_buckets, bucket_pairs, connected_components
from corpus.dedup.minhash import MinHashConfig, MinHasher
from corpus.dedup.near_duplicates import (
    PRESETS,
    FuzzyDedupConfig,
    NearDuplicateFilter,
    find_near_duplicates,
    with_preset,
)
from corpus.dedup.signatures import signature_table, write_signatures
from corpus.readers.shards import read_documents
from corpus.records import Document
from corpus.writers.shard_writer import ShardWriter


def random_text(rng: random.Random, n: int = 300) -> list[str]:
    return [f"w{rng.randrange(10**6)}" for _ in range(n)]


def edit(words: list[str], n_edits: int, rng: random.Random) -> list[str]:
    """Replace `n_edits` evenly spaced words: each touches <= 5 of the ~300 5-gram shingles."""
    out = list(words)
    step = len(out) // n_edits
    for k in range(n_edits):
        out[k * step + step // 2] = f"edit{rng.randrange(10**6)}"
    return out


@pytest.fixture(scope="module")
def corpus():
    """(id, text, quality) rows: 30 distinct docs, 10 pairs and 5 triples of near-duplicates
    (2-3 edits in 300 words: Jaccard ~0.9); the expected drops under "best quality, lowest id"."""
    rng = random.Random(3)
    rows, expected_drop = [], set()
    for i in range(30):
        rows.append((f"solo{i:02d}", " ".join(random_text(rng)), rng.random()))
    for i in range(10):
        base = random_text(rng)
        # The copy has the higher score: it is kept, although its id sorts after the original.
        rows.append((f"pair{i:02d}a", " ".join(base), 0.2))
        rows.append((f"pair{i:02d}b", " ".join(edit(base, 2, rng)), 0.8))
        expected_drop.add(f"pair{i:02d}a")
    for i in range(5):
        base = random_text(rng)
        # Equal scores: the lowest id is kept.
        for s in "abc":
            rows.append((f"tri{i:02d}{s}", " ".join(edit(base, 3, rng) if s != "a" else base), 0.5))
        expected_drop |= {f"tri{i:02d}b", f"tri{i:02d}c"}
    return rows, expected_drop


def write_sig_files(tmp_path, rows, n_files: int, seed: int, config=MinHashConfig()):
    """Signature files of `rows` shuffled with `seed` and split into `n_files` files."""
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    hasher = MinHasher(config)
    paths = []
    for k in range(n_files):
        chunk = rows[k::n_files]
        sigs, counts = hasher.signatures([t for _, t, _ in chunk])
        path = tmp_path / f"sig-{seed}-{n_files}-{k}.parquet"
        pq.write_table(signature_table([i for i, _, _ in chunk], [q for _, _, q in chunk], sigs, counts,
                                       config), path)
        paths.append(path)
    return paths


def test_planted_near_duplicates_are_removed_and_distinct_documents_kept(tmp_path, corpus):
    rows, expected_drop = corpus
    result = find_near_duplicates(write_sig_files(tmp_path, rows, 1, 0))
    assert set(result.drop) == expected_drop
    assert set(result.drop.values()) == {"near_duplicate"}
    assert result.stats.n_in == len(rows) and result.stats.balanced()
    assert result.cluster_sizes == {2: 10, 3: 5}
    ex = result.examples[0]
    assert ex["removed"] in expected_drop and ex["kept"] not in expected_drop and ex["jaccard"] > 0.7


def test_result_does_not_depend_on_order_or_file_split(tmp_path, corpus):
    rows, _ = corpus
    first = find_near_duplicates(write_sig_files(tmp_path, rows, 1, 0))
    for n_files, seed in [(2, 1), (5, 2), (7, 3)]:
        files = write_sig_files(tmp_path, rows, n_files, seed)
        random.Random(seed).shuffle(files)
        other = find_near_duplicates(files)
        assert other.drop == first.drop
        assert other.stats.to_dict() == first.stats.to_dict()
        assert other.cluster_sizes == first.cluster_sizes
        assert other.examples == first.examples


def test_reference_near_duplicates_remove_only_the_crawl_side(tmp_path):
    rng = random.Random(5)
    ref_texts = [random_text(rng) for _ in range(3)]
    ref_rows = [(f"ref{i}", " ".join(t), 0.0) for i, t in enumerate(ref_texts)]
    ref_rows.append(("ref_copy", " ".join(edit(ref_texts[0], 1, rng)), 0.0))  # never removed either
    pair = random_text(rng)
    cc_rows = [
        ("cc_a", " ".join(edit(ref_texts[0], 2, rng)), 0.99),  # near a reference doc: removed
        ("cc_b", " ".join(edit(ref_texts[1], 2, rng)), 0.99),
        ("cc_c", " ".join(pair), 0.9),                          # near each other only
        ("cc_d", " ".join(edit(pair, 2, rng)), 0.1),
        ("cc_e", " ".join(random_text(rng)), 0.5),              # distinct
    ]
    (tmp_path / "ref").mkdir()
    ref_files = write_sig_files(tmp_path / "ref", ref_rows, 2, 0)
    cc_files = write_sig_files(tmp_path, cc_rows, 2, 1)
    result = find_near_duplicates(cc_files, reference_files=ref_files)
    assert result.drop == {"cc_a": "near_duplicate_of_reference", "cc_b": "near_duplicate_of_reference",
                           "cc_d": "near_duplicate"}
    assert result.stats.n_in == len(cc_rows) and result.stats.balanced()
    assert result.stats.counts["reference_docs"] == len(ref_rows)
    assert {e["reference"] for e in result.examples if "reference" in e} <= {"ref0", "ref_copy", "ref1"}
    # Without the reference, only the crawl's own near-duplicates go.
    alone = find_near_duplicates(cc_files)
    assert alone.drop == {"cc_d": "near_duplicate"}


def test_candidates_are_exactly_those_of_datasketch_minhashlsh(tmp_path):
    rng = random.Random(11)
    rows = []
    for i in range(40):
        base = random_text(rng, 120)
        rows.append((f"d{i:02d}a", " ".join(base), 0.5))
        # Edits from 1 to 12 in 120 words: Jaccard from ~0.9 down to ~0.3, around the threshold.
        rows.append((f"d{i:02d}b", " ".join(edit(base, 1 + i % 12, rng)), 0.5))
    config = FuzzyDedupConfig(bands=14, rows=8, verify_threshold=None)  # banding alone
    files = write_sig_files(tmp_path, rows, 1, 0)
    result = find_near_duplicates(files, config)
    # The same with datasketch's LSH and a plain union-find; keep the lowest id per component.
    sigs, _ = MinHasher(config.minhash).signatures([t for _, t, _ in rows])
    lsh = MinHashLSH(num_perm=128, params=(14, 8))
    mhs = {i: MinHash(num_perm=128, hashvalues=s, scheme="affine32") for (i, _, _), s in zip(rows, sigs)}
    for key, mh in mhs.items():
        lsh.insert(key, mh)
    parent = {k: k for k in mhs}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for key, mh in mhs.items():
        for other in lsh.query(mh):
            a, b = sorted((find(key), find(other)))
            parent[b] = a
    expected = {k for k in mhs if find(k) != k}
    assert set(result.drop) == expected
    assert 10 < len(expected) < 35  # some pairs below the threshold, some above


def test_connected_components_match_a_plain_union_find():
    rng = np.random.default_rng(0)
    for n, m in [(1, 0), (10, 0), (50, 30), (200, 150), (500, 2000)]:
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        labels = connected_components(n, u, v)
        parent = list(range(n))

        def find(x):
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in zip(u.tolist(), v.tolist()):
            ra, rb = sorted((find(a), find(b)))
            parent[rb] = ra
        assert labels.tolist() == [find(x) for x in range(n)]


def test_band_buckets_compare_values_not_just_keys(monkeypatch):
    import corpus.dedup.lsh as fd

    band = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4]], dtype=np.uint32)
    order, group = band_buckets(band)
    assert sorted(map(sorted, _groups(order, group))) == [[0, 2], [1, 4]]
    # Every key colliding must not put different values into one bucket.
    monkeypatch.setattr(fd, "band_keys", lambda b: np.zeros(len(b), dtype=np.uint64))
    order, group = band_buckets(np.array([[1, 2], [1, 2], [3, 4], [3, 4], [7, 7]], dtype=np.uint32))
    assert sorted(map(sorted, _groups(order, group))) == [[0, 1], [2, 3]]


def _groups(order, group):
    out: dict[int, list[int]] = {}
    for o, g in zip(order.tolist(), group.tolist()):
        out.setdefault(g, []).append(o)
    return list(out.values())


def test_map_stage_files_and_the_filter_over_rows(tmp_path, corpus):
    rows, expected_drop = corpus
    parts = []
    for k in range(3):
        with ShardWriter(tmp_path / f"part{k}") as w:
            for doc_id, text, q in rows[k::3]:
                w.write(Document(id=doc_id, url=f"https://x.example/{doc_id}", source="commoncrawl",
                                 text=text, quality_score=q))
        parts.append(w.files[0].path)
    sig_files = [tmp_path / "_signatures" / f"s{k}.parquet" for k in range(3)]
    assert sum(write_signatures([p], s) for p, s in zip(parts, sig_files)) == len(rows)
    result = find_near_duplicates(sig_files)
    assert set(result.drop) == expected_drop
    filt = result.filter()
    kept = [d.id for d in filt(read_documents(parts))]
    assert set(kept) == {i for i, _, _ in rows} - expected_drop
    assert filt.stats.balanced() and filt.stats.dropped == {"near_duplicate": len(expected_drop)}
    docs = [Document(id=i, url="u", source="s", text=t) for i, t, _ in rows]
    assert {d.id for d in NearDuplicateFilter(result.drop)(docs)} == set(kept)


def test_signatures_of_other_parameters_are_refused(tmp_path, corpus):
    rows, _ = corpus
    files = write_sig_files(tmp_path, rows[:5], 1, 0, MinHashConfig(ngram=3))
    with pytest.raises(ValueError, match="recompute"):
        find_near_duplicates(files)


def test_repeated_ids_and_empty_documents(tmp_path, corpus):
    rows, expected_drop = corpus
    extra = [(rows[0][0], rows[0][1] + " more words here", 0.1), ("empty1", "", None), ("empty2", "...", None)]
    result = find_near_duplicates(write_sig_files(tmp_path, rows + extra, 3, 4))
    assert set(result.drop) == expected_drop  # empty documents are never near-duplicates
    assert result.stats.n_in == len(rows) + 2 and result.stats.counts["no_shingles"] == 2
    again = find_near_duplicates(write_sig_files(tmp_path, rows + extra, 2, 9))
    assert again.drop == result.drop and again.stats.to_dict() == result.stats.to_dict()


def test_gpt3_preset_verifies_candidates(tmp_path):
    rng = random.Random(8)
    base = random_text(rng)
    rows = [("a", " ".join(base), 0.5), ("b", " ".join(edit(base, 2, rng)), 0.5),
            ("c", " ".join(edit(base, 40, rng)), 0.5)]  # Jaccard ~0.2 with a: rejected
    result = find_near_duplicates(write_sig_files(tmp_path, rows, 1, 0), PRESETS["gpt3"])
    assert result.drop == {"b": "near_duplicate"}
    assert PRESETS["fineweb"].threshold == pytest.approx(0.719, abs=1e-3)


def test_a_reference_that_collides_with_nothing_removes_nothing(tmp_path):
    rng = random.Random(11)
    (tmp_path / "ref").mkdir()
    ref_files = write_sig_files(tmp_path / "ref", [("ref0", " ".join(random_text(rng)), 0.0)], 1, 0)
    cc_files = write_sig_files(tmp_path, [("cc_a", " ".join(random_text(rng)), 0.5),
                                          ("cc_b", " ".join(random_text(rng)), 0.5)], 1, 1)
    result = find_near_duplicates(cc_files, reference_files=ref_files)
    assert result.drop == {} and result.stats.n_out == 2 and result.stats.balanced()


# ---------------------------------------------------------------------------------------------
# Pages sharing a site template; every edge verified between the two documents it joins.

def template_site_rows(seed: int, n_sites: int = 6, pages: int = 25, copies: int = 8,
                       article: tuple[int, int] = (160, 300)):
    """(rows, expected drops, planted pairs): pages of `n_sites` sites, each page a distinct
    article (`article` words: by default 160-300) inside its site's nav, sidebar and footer
    (180 words): Jaccard 0.22-0.35 between pages of a site by default. `copies` pages get a
    near-duplicate on their site (3 words replaced: Jaccard ~0.92) whose id sorts after the
    original: with equal scores it is the one dropped."""
    rng = random.Random(seed)
    rows, pairs = [], []
    for s in range(n_sites):
        nav, side, foot = random_text(rng, 60), random_text(rng, 70), random_text(rng, 50)
        for p in range(pages):
            body = random_text(rng, rng.randrange(*article))
            rows.append((f"s{s}p{p:02d}", nav + body + side + foot))
    for k in rng.sample(range(len(rows)), copies):
        doc_id, words = rows[k]
        rows.append((doc_id + "copy", edit(words, 3, rng)))
        pairs.append((doc_id, doc_id + "copy"))
    return [(i, " ".join(w), 0.5) for i, w in rows], {b for _, b in pairs}, pairs


# Site pages for each preset: at Jaccard 0.22-0.35 to each other, well under the 0.5 of gpt3
# and openwebtext; fineweb (0.7, and 14 x 8 bands rarely meet pages at 0.3) gets shorter articles,
# at 0.38-0.5 to each other: pages that banding alone joins there.
ARTICLE_WORDS = {"fineweb": (90, 140), "gpt3": (160, 300), "openwebtext": (160, 300)}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_pages_sharing_a_template_are_not_chained(tmp_path, preset):
    # Before: unverified banding (openwebtext, fineweb) joined pages of a site into clusters and
    # dropped all but one of each.
    rows, expected, pairs = template_site_rows(seed=1, article=ARTICLE_WORDS[preset])
    hasher = MinHasher(PRESETS[preset].minhash)
    sigs = dict(zip([i for i, _, _ in rows], hasher.signatures([t for _, t, _ in rows])[0]))
    a, b = sigs["s0p00"], sigs["s0p01"]
    assert 0.15 < np.mean(a == b) < 0.55  # the site's pages share their template, no more
    result = find_near_duplicates(write_sig_files(tmp_path, rows, 2, 0), PRESETS[preset])
    assert result.drop == dict.fromkeys(expected, "near_duplicate")
    assert result.stats.counts["rejected_by_verify"] > 0  # template pairs met, compared, refused
    assert result.cluster_sizes == {2: len(pairs)}
    assert all(e["jaccard"] >= PRESETS[preset].verify_threshold for e in result.examples)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_unverified_banding_chains_template_pages(tmp_path, preset):
    """What verification prevents: the same corpus, banding alone, drops distinct pages."""
    rows, expected, _ = template_site_rows(seed=1, article=ARTICLE_WORDS[preset])
    result = find_near_duplicates(write_sig_files(tmp_path, rows, 1, 0),
                                  with_preset(preset, verify_threshold=None))
    assert len(set(result.drop) - expected) > 10


def crafted_signatures(tmp_path, sigs: dict[str, np.ndarray], name: str = "crafted"):
    """A signature file holding exactly these signatures (128 values each), all at quality 0.5."""
    ids = sorted(sigs)
    path = tmp_path / f"{name}.parquet"
    pq.write_table(signature_table(ids, [0.5] * len(ids), np.stack([sigs[i] for i in ids]),
                                   np.full(len(ids), 100), MinHashConfig()), path)
    return [path]


def bucket_mates(n: int, shared: int, rng: np.random.Generator, prefix: str = "a") -> dict[str, np.ndarray]:
    """n unrelated signatures whose first `shared` values are equal: they meet in every bucket
    of those columns (as pages whose smallest hash is the same template shingle)."""
    out = {}
    for k in range(n):
        sig = rng.integers(0, 2**32, 128, dtype=np.uint32)
        sig[:shared] = np.arange(shared, dtype=np.uint32) + 7
        out[f"{prefix}{k:03d}"] = sig
    return out


@pytest.mark.parametrize("window", [None, 3])
def test_identical_documents_meeting_in_every_band_are_dropped(tmp_path, window):
    # Before: gpt3 compared each member of a bucket with the bucket's first row only ("a000",
    # unrelated), in all 10 bands, so the two identical documents were never joined.
    rng = np.random.default_rng(0)
    sigs = bucket_mates(40, 10, rng)
    twin = rng.integers(0, 2**32, 128, dtype=np.uint32)
    twin[:10] = np.arange(10, dtype=np.uint32) + 7
    sigs["z1"], sigs["z2"] = twin, twin.copy()
    # The preset as it is (42-member buckets: all pairs compared), or a window of 3 (oversized).
    config = PRESETS["gpt3"] if window is None else with_preset("gpt3", bucket_window=window)
    result = find_near_duplicates(crafted_signatures(tmp_path, sigs), config)
    assert result.drop == {"z2": "near_duplicate"}
    assert (result.stats.counts["pairs_not_compared"] > 0) == (window is not None)
    assert result.examples == [{"removed": "z2", "kept": "z1", "jaccard": 1.0, "reason": "near_duplicate"}]


@pytest.mark.parametrize("preset", ["gpt3", "openwebtext"])
def test_reference_matches_are_verified_against_each_reference_document(tmp_path, preset):
    # Before: gpt3 checked a document only against the bucket's first reference ("r000",
    # unrelated) and missed the identical "r_twin"; openwebtext removed "cc_unrelated", which
    # merely shares a band with the references.
    rng = np.random.default_rng(1)
    ref = bucket_mates(5, 10, rng, prefix="r")
    twin = rng.integers(0, 2**32, 128, dtype=np.uint32)
    twin[:10] = np.arange(10, dtype=np.uint32) + 7
    ref["r_twin"] = twin
    cc = {"cc_twin": twin.copy(), **bucket_mates(1, 10, rng, prefix="cc_unrelated")}
    (tmp_path / "ref").mkdir()
    result = find_near_duplicates(crafted_signatures(tmp_path, cc), PRESETS[preset],
                                  reference_files=crafted_signatures(tmp_path / "ref", ref))
    assert result.drop == {"cc_twin": "near_duplicate_of_reference"}
    assert result.examples == [{"removed": "cc_twin", "reference": "r_twin", "jaccard": 1.0,
                                "reason": "near_duplicate_of_reference"}]
    assert result.stats.balanced() and result.stats.counts["rejected_by_verify"] > 0


def test_bucket_pairs_all_pairs_of_small_buckets_a_window_in_large_ones():
    # Buckets [0, 1, 2] and [3..9] (7 rows).
    order, group = np.arange(10), np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    u, v, skipped = bucket_pairs(order, group, window=6)
    assert sorted(zip(u.tolist(), v.tolist())) == sorted(
        [(0, 1), (0, 2), (1, 2)] + [(a, b) for a in range(3, 10) for b in range(a + 1, 10)])
    assert skipped == 0
    # Window 2: the 7-row bucket is oversized, put in key order (9, 8, ..., 3): each row meets
    # the next two; 21 - 11 pairs are left out. The small bucket still gives all three pairs.
    u, v, skipped = bucket_pairs(order, group, window=2, sort_keys=lambda rows: -rows[:, None])
    got = {tuple(sorted(p)) for p in zip(u.tolist(), v.tolist())}
    assert got == {(0, 1), (0, 2), (1, 2)} | {(a, a + d) for a in range(3, 10) for d in (1, 2) if a + d < 10}
    assert skipped == 21 - 11 and len(u) == 3 + 11


def test_template_corpus_result_does_not_depend_on_order_with_oversized_buckets(tmp_path):
    rows, expected, _ = template_site_rows(seed=2, n_sites=3, pages=30, copies=5)
    config = with_preset("gpt3", bucket_window=4)  # most buckets oversized: windows everywhere
    first = find_near_duplicates(write_sig_files(tmp_path, rows, 1, 0), config)
    assert first.stats.counts["pairs_not_compared"] > 0
    assert set(first.drop) == expected
    for n_files, seed in [(3, 1), (4, 2)]:
        other = find_near_duplicates(write_sig_files(tmp_path, rows, n_files, seed), config)
        assert other.drop == first.drop and other.stats.to_dict() == first.stats.to_dict()
        assert other.examples == first.examples


def test_presets_verify_every_edge():
    assert {name: c.verify_threshold for name, c in PRESETS.items()} == {
        "fineweb": 0.7, "gpt3": 0.5, "openwebtext": 0.5}
    with pytest.raises(ValueError, match="verify_threshold"):
        FuzzyDedupConfig(verify_threshold=1.5)
