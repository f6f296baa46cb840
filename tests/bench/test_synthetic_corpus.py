"""The synthetic corpus of the scale benchmarks (bench/make_synthetic_corpus.py): deterministic,
valid shards, and the planted structure is what its ground truth says."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from corpus.dedup.exact import normalize_for_dedup
from corpus.dedup.minhash import shingles
from corpus.readers.shards import read_documents, shard_paths
from corpus.schema import SCHEMA, document_row

ROOT = Path(__file__).resolve().parents[2]
DOCS = 2000


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_synthetic_corpus", ROOT / "bench" / "make_synthetic_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
SPEC = gen.CorpusSpec(DOCS, seed=3, docs_per_part=700)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "c"
    gen.generate(SPEC, out, workers=1, quiet=True)
    return out


@pytest.fixture(scope="module")
def texts(corpus) -> dict[str, str]:
    table = pq.read_table(corpus / "parts", columns=["id", "text"])
    return dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))


@pytest.fixture(scope="module")
def truth(corpus) -> list[dict]:
    return pq.read_table(corpus / "truth").to_pylist()


def _groups(truth: list[dict], kind: str) -> list[list[dict]]:
    by: dict[int, list[dict]] = {}
    for row in truth:
        if row["kind"] == kind:
            by.setdefault(row["cluster"], []).append(row)
    return [sorted(rows, key=lambda r: r["member"]) for rows in by.values()]


def _jaccard(a: str, b: str) -> float:
    sa, sb = set(shingles(a)), set(shingles(b))
    return len(sa & sb) / len(sa | sb)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_same_seed_same_bytes_and_a_restart_redoes_only_missing_parts(corpus, tmp_path):
    again = tmp_path / "again"
    gen.generate(SPEC, again, workers=1, quiet=True)
    assert _files(again) == _files(corpus)
    # A killed run: one part's truth (written last) missing -> that part is redone, identically.
    (again / "truth" / "part-00001.parquet").unlink()
    (again / "corpus.json").unlink()
    gen.generate(SPEC, again, workers=1, quiet=True)
    assert _files(again) == _files(corpus)
    gen.generate(gen.CorpusSpec(DOCS, seed=4, docs_per_part=700), tmp_path / "other", workers=1, quiet=True)
    assert _files(tmp_path / "other").keys() == _files(corpus).keys()
    assert all(x != y for x, y in zip(_files(tmp_path / "other").values(), _files(corpus).values()))
    with pytest.raises(SystemExit, match="another --out"):
        gen.generate(gen.CorpusSpec(DOCS, seed=5, docs_per_part=700), again, workers=1, quiet=True)


def test_parts_are_valid_shards(corpus):
    paths = shard_paths(corpus / "parts")
    assert len(paths) == 3  # 700 + 700 + 600
    assert all(pq.read_schema(p).remove_metadata() == SCHEMA for p in paths)
    rows = pq.read_table(corpus / "parts").to_pylist()
    docs = list(read_documents(corpus / "parts"))
    assert len(docs) == DOCS == len({d.id for d in docs})
    for doc, row in zip(docs, rows):
        assert document_row(doc) == row  # n_chars, n_words as the shard writer computes them
        assert 0 <= doc.quality_score < 1 and doc.source == "synthetic" and doc.url.startswith("https://")
        assert gen.MIN_WORDS <= len(doc.text.split())
    # The truth is not in the parts, and lists only planted documents.
    assert "_truth" not in str(paths) and all(p.parent.name == "parts" for p in paths)


def test_shares_as_planted(corpus, truth):
    meta = json.loads((corpus / "corpus.json").read_text())
    kinds = meta["documents_by_kind"]
    assert sum(kinds.values()) == DOCS and len(truth) == DOCS - kinds["unique"]
    assert abs(meta["removable"]["exact"] - 0.03 * DOCS) <= 2
    assert abs(kinds["near"] - 0.10 * DOCS) <= gen.NEAR_SIZES[0] and abs(kinds["template"] - 0.10 * DOCS) <= gen.SITE_PAGES[0]
    assert all(gen.NEAR_SIZES[0] <= len(g) <= gen.NEAR_SIZES[1] for g in _groups(truth, "near"))
    assert all(2 <= len(g) <= 3 for g in _groups(truth, "exact"))
    # Members of a group are scattered over the parts, as a crawl scatters them.
    ids = pq.read_table(corpus / "parts", columns=["id"]).column("id").to_pylist()
    part_of = {doc_id: i // SPEC.docs_per_part for i, doc_id in enumerate(ids)}
    assert any(len({part_of[r["id"]] for r in g}) > 1 for g in _groups(truth, "near"))


def test_near_duplicates_at_their_planted_jaccard(truth, texts):
    measured: dict[float, list[float]] = {}
    for group in _groups(truth, "near"):
        source, copies = group[0], group[1:]
        assert source["member"] == 0 and source["jaccard"] is None
        for copy in copies:
            j = _jaccard(texts[source["id"]], texts[copy["id"]])
            assert abs(j - copy["jaccard"]) < 0.05, (copy, j)
            measured.setdefault(round(copy["jaccard"], 2), []).append(j)
    assert sorted(measured) == sorted(gen.NEAR_LEVELS)  # every level planted


def test_exact_copies_differ_only_in_case_punctuation_and_spacing(truth, texts):
    changed = 0
    for group in _groups(truth, "exact"):
        source = texts[group[0]["id"]]
        for copy in group[1:]:
            assert normalize_for_dedup(texts[copy["id"]]) == normalize_for_dedup(source)
            changed += texts[copy["id"]] != source
    assert changed > 0.9 * sum(len(g) - 1 for g in _groups(truth, "exact"))


def test_template_pages_share_a_site_not_an_article(corpus, truth, texts):
    domains = dict(zip(*(pq.read_table(corpus / "parts", columns=["id", "domain"]).column(c).to_pylist()
                         for c in ("id", "domain"))))
    sites = _groups(truth, "template")
    assert len(sites) >= 3
    for site in sites:
        assert len({domains[r["id"]] for r in site}) == 1
        planted = site[0]["jaccard"]
        assert gen.TEMPLATE_JACCARD[0] <= planted <= gen.TEMPLATE_JACCARD[1]
        for a, b in zip(site[:5], site[1:6]):
            j = _jaccard(texts[a["id"]], texts[b["id"]])
            assert 0.15 <= j <= 0.45 and abs(j - planted) < 0.05, (a, b, j)


def test_unique_documents_are_unrelated(truth, texts):
    planted = {r["id"] for r in truth}
    unique = [t for i, t in texts.items() if i not in planted][:200]
    sets = [set(shingles(t)) for t in unique]
    rng = np.random.default_rng(0)
    for a, b in rng.integers(0, len(sets), (300, 2)):
        if a != b:
            assert len(sets[a] & sets[b]) / len(sets[a] | sets[b]) < 0.05
