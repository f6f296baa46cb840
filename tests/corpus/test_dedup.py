from corpus.dedup.exact import ExactDeduplicator, exact_duplicate_keepers, normalize_for_dedup
from corpus.readers.shards import read_documents
from corpus.records import Document
from corpus.writers.shard_writer import ShardWriter


def write_part(path, items):
    with ShardWriter(path) as w:
        for doc_id, text in items:
            w.write(Document(id=doc_id, url=f"https://x.example/{doc_id}", source="t", text=text))
    return w.files[0].path


def test_normalisation_ignores_case_accents_punctuation_and_spacing():
    assert normalize_for_dedup("Café,  au LAIT!\n") == normalize_for_dedup("cafe au lait")
    assert normalize_for_dedup("cafe au lait") != normalize_for_dedup("cafe au the")


def test_keeps_the_smallest_id_per_text_whatever_the_part_order(tmp_path):
    a = write_part(tmp_path / "a", [("d3", "Same text."), ("d1", "Other text"), ("d9", "unique one")])
    b = write_part(tmp_path / "b", [("d2", "same   TEXT"), ("d1", "Other text")])
    for order in ([a, b], [b, a]):
        dedup = ExactDeduplicator(exact_duplicate_keepers(order))
        kept = sorted(d.id for d in dedup(read_documents(order)))
        assert kept == ["d1", "d2", "d9"]
        assert dedup.stats.dropped == {"duplicate_text": 1, "duplicate_id": 1}
        assert dedup.stats.balanced()
