import numpy as np
import pytest

from corpus.dedup import exact
from corpus.dedup.drops import EXACT_CODES, DropCodes, DroppedRows, PartTable
from corpus.dedup.exact import exact_duplicates, normalize_for_dedup
from corpus.executor import LocalExecutor
from corpus.readers.shards import read_documents
from corpus.records import Document
from corpus.writers.shard_writer import ShardWriter


def write_part(path, items):
    with ShardWriter(path) as w:
        for doc_id, text, *quality in items:
            w.write(Document(id=doc_id, url=f"https://x.example/{doc_id}", source="t", text=text,
                             quality_score=quality[0] if quality else None))
    return w.files[0].path


def kept_ids(parts, codes):
    table = PartTable.of(parts)
    kept, stats = [], None
    for i, part in enumerate(table.paths):
        step = DroppedRows("exact_dedup", codes.read()[table.span(i)], EXACT_CODES)
        kept += [d.id for d in step(read_documents([part]))]
        stats = step.stats if stats is None else (stats.merge(step.stats) or stats)
    return sorted(kept), stats


def test_normalisation_ignores_case_accents_punctuation_and_spacing():
    assert normalize_for_dedup("Café,  au LAIT!\n") == normalize_for_dedup("cafe au lait")
    assert normalize_for_dedup("cafe au lait") != normalize_for_dedup("cafe au the")


def test_keeps_the_smallest_id_per_text_whatever_the_part_order(tmp_path):
    a = write_part(tmp_path / "a", [("d3", "Same text."), ("d1", "Other text"), ("d9", "unique one")])
    b = write_part(tmp_path / "b", [("d2", "same   TEXT"), ("d1", "Other text")])
    for k, order in enumerate(([a, b], [b, a])):
        codes = exact_duplicates(order, tmp_path / f"work{k}")
        kept, stats = kept_ids(order, codes)
        assert kept == ["d1", "d2", "d9"]
        assert stats.dropped == {"duplicate_text": 1, "duplicate_id": 1}
        assert stats.balanced()


def test_quality_then_id_decides_and_one_page_captured_twice_keeps_its_best_copy(tmp_path):
    a = write_part(tmp_path / "a", [("a1", "the text", 0.2), ("z9", "The text!", 0.9), ("p", "old version", 0.1)])
    b = write_part(tmp_path / "b", [("p", "new version", 0.7), ("b2", "the text", None)])
    codes = exact_duplicates([a, b], tmp_path / "work")
    kept, stats = kept_ids([a, b], codes)
    assert kept == ["p", "z9"]  # z9 has the best score for "the text"; p's better-scored capture
    assert codes.counts() == {"duplicate_id": 1, "duplicate_text": 2}


def test_partitions_and_workers_do_not_change_the_result(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    texts = [f"text number {int(x)}" for x in rng.integers(0, 40, 300)]
    parts = [write_part(tmp_path / f"p{k}", [(f"{k:02d}{i:04d}", t, float(rng.random()))
                                              for i, t in enumerate(texts[k::3])]) for k in range(3)]
    one = exact_duplicates(parts, tmp_path / "one").read().copy()
    monkeypatch.setattr(exact, "ROWS_PER_PARTITION", 17)  # 18 partitions for 300 rows
    many = exact_duplicates(parts, tmp_path / "many", LocalExecutor(2, show_progress=False)).read()
    assert np.array_equal(one, many) and (one != 0).sum() == 300 - len(set(texts))


def test_a_part_changed_under_the_run_is_an_error_not_a_silent_shift(tmp_path):
    a = write_part(tmp_path / "a", [("d1", "one"), ("d2", "one")])
    codes = DropCodes.create(tmp_path / "codes.npy", 3)
    with pytest.raises(RuntimeError, match="the part changed"):
        list(DroppedRows("exact_dedup", codes.read(), EXACT_CODES)(read_documents([a])))
