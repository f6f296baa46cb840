import json

import pytest

from corpus.dedup.decontamination import (
    BenchmarkIndex,
    DecontaminationConfig,
    Decontaminator,
    count_ngram_documents,
    cut_contamination,
    frequent_ngrams,
    merge_counts,
    read_benchmark_texts,
)
from corpus.records import Document
from corpus.schema import document_row

GRAM = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike"
# How the training text spells it: case and punctuation do not matter.
SPELLED = "Alpha, BRAVO charlie-delta echo (foxtrot) golf; hotel india juliet... kilo lima Mike"


def filler(n: int) -> str:
    """n characters of text sharing no word with the benchmark, ending in a space."""
    return ("lorem ipsum dolor sit amet " * (n // 10 + 2))[: n - 1] + " "


@pytest.fixture
def index():
    return BenchmarkIndex.from_texts([f"Question: {GRAM} november oscar?", "too short to count"])


def test_index_holds_13_grams_of_long_texts_only(index):
    assert len(index) == 4  # 16 words ("question" ... "oscar"): 16 - 13 + 1 n-grams
    assert GRAM in index.grams


def test_cut_removes_the_ngram_and_200_chars_either_side(index):
    text = filler(500) + SPELLED + " " + filler(600)
    start, end = 500, 500 + len(SPELLED)
    cut = cut_contamination(text, index)
    assert cut.reason is None and cut.ngrams_cut == 1 and cut.pieces == 2
    assert cut.text == text[: start - 200] + "\n\n" + text[end + 200:]
    assert cut.chars_removed == len(SPELLED) + 400


def test_pieces_shorter_than_200_chars_are_dropped(index):
    text = filler(399) + SPELLED + " " + filler(600)  # 199 chars left of the cut
    cut = cut_contamination(text, index)
    assert cut.text == text[400 + len(SPELLED) + 200 - 1:] and cut.pieces_short == 1
    text = filler(400) + SPELLED + " " + filler(600)  # exactly 200: kept
    assert cut_contamination(text, index).text.startswith(text[:200] + "\n\n")


def test_more_than_ten_pieces_drops_the_document(index):
    def doc(n_hits):
        # Pieces of 300 chars (500 - 200 at the start, 700 - 400 between, 700 - 200 at the end).
        return filler(500) + "".join(SPELLED + " " + filler(700) for _ in range(n_hits))

    ten = cut_contamination(doc(9), index)  # 9 cuts -> 10 pieces: kept
    assert ten.reason is None and ten.pieces == 10 and ten.text.count("\n\n") == 9
    eleven = cut_contamination(doc(10), index)  # 11 pieces
    assert eleven.reason == "contaminated_too_many_pieces" and eleven.text is None


def test_a_document_left_with_only_short_pieces_is_dropped(index):
    cut = cut_contamination(filler(150) + SPELLED + " " + filler(150), index)
    assert cut.reason == "contaminated_all_pieces_short"


def test_overlapping_ngrams_merge_into_one_cut(index):
    text = filler(500) + SPELLED + " November " + filler(600)  # 14 benchmark words: 2 n-grams
    cut = cut_contamination(text, index)
    end = 500 + len(SPELLED) + len(" November")
    assert cut.ngrams_cut == 2 and cut.pieces == 2
    assert cut.text == text[:300] + "\n\n" + text[end + 200:]


def test_clean_documents_are_untouched(index):
    text = filler(1000)
    cut = cut_contamination(text, index)
    assert cut.text is text and cut.ngrams_cut == 0


def test_ngrams_in_more_than_ten_training_documents_are_ignored(index):
    contaminated = [filler(300) + SPELLED + " " + filler(300) for _ in range(11)]
    counts = merge_counts([count_ngram_documents(contaminated[:6], index),
                           count_ngram_documents(contaminated[6:] + [filler(500)], index)])
    assert counts == {GRAM: 11}
    ignored = frequent_ngrams(counts, max_doc_frequency=10)
    assert ignored == {GRAM}
    step = Decontaminator(index, ignored)
    docs = [Document(id=str(i), url="u", source="s", text=t) for i, t in enumerate(contaminated)]
    out = list(step(docs))
    assert [d.text for d in out] == contaminated
    assert step.stats.counts["ngrams_ignored_frequent"] == 11 and "ngrams_cut" not in step.stats.counts
    # Ten documents are not "more than ten": the n-gram counts.
    assert frequent_ngrams(count_ngram_documents(contaminated[:10], index)) == frozenset()


def test_step_counters_and_rows(index):
    texts = [filler(500) + SPELLED + " " + filler(600),                     # cut
             filler(150) + SPELLED + " " + filler(150),                     # all pieces short
             filler(300) + "".join(SPELLED + " " + filler(500) for _ in range(10)),  # 11 pieces
             filler(800)]                                                   # clean
    step = Decontaminator(index)
    docs = [Document(id=str(i), url="u", source="s", text=t) for i, t in enumerate(texts)]
    out = list(step(docs))
    assert [d.id for d in out] == ["0", "3"]
    assert step.stats.dropped == {"contaminated_all_pieces_short": 1, "contaminated_too_many_pieces": 1}
    assert step.stats.balanced()
    c = step.stats.counts
    assert c["docs_cut"] == 1 and c["ngrams_cut"] == 12 and c["chars_removed"] == len(SPELLED) + 400
    # The shard row of a cut document counts the new text.
    row = document_row(out[0])
    assert row["n_chars"] == len(out[0].text) == len(texts[0]) - len(SPELLED) - 400 + 2
    assert row["n_words"] == len(out[0].text.split())
    assert out[1].text == texts[3]


def test_benchmark_files_with_several_fields(tmp_path):
    path = tmp_path / "bench.jsonl"
    records = [{"question": f"{GRAM}", "answers": ["one two three four five six seven eight nine ten "
                                                   "eleven twelve thirteen"], "id": 1},
               {"question": "short", "context": "not indexed: field not chosen " + GRAM}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    texts = list(read_benchmark_texts(path, ("question", "answers")))
    assert texts == [GRAM, records[0]["answers"][0], "short"]
    index = BenchmarkIndex.from_files([path], DecontaminationConfig(fields=("question", "answers")))
    assert len(index) == 2 and index.texts == 3
    # n-grams never span two fields or two records.
    assert "mike one two three four five six seven eight nine ten eleven twelve" not in index.grams


def test_counting_per_part_skips_rows_the_dedup_passes_dropped(tmp_path):
    import numpy as np

    from corpus.dedup.drops import CODES, DropCodes, PartTable
    from corpus.writers.shard_writer import ShardWriter
    from pipelines.global_stage import CountJob, count_part_ngrams

    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"text": GRAM}) + "\n")
    with ShardWriter(tmp_path / "part") as w:
        for i in range(4):
            w.write(Document(id=f"d{i}", url="u", source="s", text=filler(300) + SPELLED + " " + filler(300)))
        w.write(Document(id="clean", url="u", source="s", text=filler(900)))
    parts = PartTable.of([f.path for f in w.files])
    job = CountJob(parts.paths[0], parts.span(0), None, (str(bench),))
    count_part_ngrams(job, tmp_path / "all.json")
    assert json.loads((tmp_path / "all.json").read_text()) == {GRAM: 4}
    codes = DropCodes.create(tmp_path / "codes.npy", parts.total)
    codes.mark(np.array([1, 2]), CODES["near_duplicate"])
    count_part_ngrams(CountJob(parts.paths[0], parts.span(0), codes.path, (str(bench),)), tmp_path / "kept.json")
    assert json.loads((tmp_path / "kept.json").read_text()) == {GRAM: 2}
