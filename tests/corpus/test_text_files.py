"""Bring-your-own text: `.txt`, JSONL and Parquet inputs as documents, with bad records counted
and ids that stay the same from run to run (issue 13)."""

import bz2
import gzip
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from corpus.errors import UserError
from corpus.records import document_id
from corpus.sources.text_files import TextConfig, read_jsonl, read_parquet, read_text_file
from corpus.steps import StepStats

COMPRESSORS = {"gz": gzip.compress, "bz2": bz2.compress, "zst": zstandard.ZstdCompressor().compress}
TEXTS = ["The harbour council met on Tuesday to decide about the old grain sheds.",
         "Engineers found that most of the timber in the roof was sound.",
         "A group of neighbours asked the council to study parking first."]


def run(reader, path, config=TextConfig(), source="mytext"):
    stats = StepStats(reader.__name__)
    docs = list(reader(path, source, stats, config))
    assert stats.balanced()
    return docs, stats


def jsonl(path, records, raw_lines=()):
    lines = [json.dumps(r) for r in records] + list(raw_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- .txt ------------------------------------------------------------------------------------------


def test_a_text_file_is_one_document_with_its_line_ends_made_plain(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(("\n\n".join(TEXTS) + "\n\n").replace("\n", "\r\n").encode())
    (doc,), stats = run(read_text_file, path)
    assert doc.text == "\n\n".join(TEXTS) and doc.source == "mytext"
    assert doc.id == document_id("mytext", "notes.txt") and doc.url == path.resolve().as_uri()
    assert doc.metadata["encoding"] == "utf-8" and stats.n_out == 1 and doc.domain is None


def test_paragraph_mode_splits_on_blank_lines_and_drops_short_ones(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text(f"{TEXTS[0]}\nsecond line of it\n\n   \n{TEXTS[1]}\n\n\nok\n\n{TEXTS[2]}", encoding="utf-8")
    docs, stats = run(read_text_file, path, TextConfig(unit="paragraph", min_chars=10))
    assert [d.text for d in docs] == [f"{TEXTS[0]}\nsecond line of it", TEXTS[1], TEXTS[2]]
    assert [d.metadata["paragraph"] for d in docs] == [1, 2, 4]  # numbered before min_chars: "ok" was 3
    assert docs[2].id == document_id("mytext", "notes.txt#paragraph-4") and docs[2].url.endswith("#paragraph-4")
    assert stats.dropped == {"too_short": 1} and stats.n_in == 4


@pytest.mark.parametrize("unit", ["file", "paragraph"])
def test_legacy_encodings_and_a_bom_are_decoded(tmp_path, unit):
    text = "Le café du port, où la crème brûlée était célèbre – “ouvrait” à l'aube."
    cp1252 = tmp_path / "cp1252.txt"
    cp1252.write_bytes((text + "\n\n" + text).encode("cp1252"))
    bom = tmp_path / "bom.txt"
    bom.write_bytes((text + "\n\n" + text).encode("utf-8-sig"))
    for path in (cp1252, bom):
        docs, _ = run(read_text_file, path, TextConfig(unit=unit))
        assert {d.text for d in docs} == ({text} if unit == "paragraph" else {text + "\n\n" + text})


def test_empty_text_files_are_counted(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("  \n\n \n")
    assert run(read_text_file, path)[1].dropped == {"empty_text": 1}
    docs, stats = run(read_text_file, path, TextConfig(unit="paragraph"))
    assert docs == [] and stats.n_in == 0


# -- JSONL -----------------------------------------------------------------------------------------


def test_jsonl_bad_lines_cost_only_themselves(tmp_path):
    path = jsonl(tmp_path / "docs.jsonl", [{"text": TEXTS[0]}, {"body": "no text field"}, {"text": 42},
                                           {"text": None}, {"text": "   "}],
                 raw_lines=['{"text": "cut off', "", "[1, 2]", "not json at all", json.dumps({"text": TEXTS[1]})])
    docs, stats = run(read_jsonl, path)
    assert [d.text for d in docs] == [TEXTS[0], TEXTS[1]]
    assert stats.dropped == {"missing_text_field": 3, "empty_text": 1, "bad_json": 3}
    assert stats.n_in == 9  # the blank line is no record
    assert [d.metadata["line"] for d in docs] == [1, 10]
    assert docs[1].id == document_id("mytext", "docs.jsonl#line-10")


def test_jsonl_undecodable_bytes_are_a_bad_line_and_a_bom_is_skipped(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": TEXTS[0]}).encode() + b"\n"
                     + b'{"text": "caf\xe9"}\n' + json.dumps({"text": TEXTS[1]}).encode() + b"\n")
    docs, stats = run(read_jsonl, path)
    assert [d.text for d in docs] == [TEXTS[0], TEXTS[1]] and stats.dropped == {"bad_json": 1}


def test_jsonl_id_and_url_fields(tmp_path):
    path = jsonl(tmp_path / "docs.jsonl", [
        {"text": TEXTS[0], "doc_id": "a-1", "link": "HTTPS://News.Example.co.uk/story?utm_source=x"},
        {"text": TEXTS[1], "doc_id": 17},
        {"text": TEXTS[2], "link": "https://b.example/"},
        {"text": TEXTS[2], "doc_id": True}])
    docs, stats = run(read_jsonl, path, TextConfig(id_field="doc_id", url_field="link"))
    assert [d.id for d in docs] == [document_id("mytext", "a-1"), document_id("mytext", "17")]
    assert docs[0].url == "https://news.example.co.uk/story" and docs[0].domain == "example.co.uk"
    assert docs[1].url == path.resolve().as_uri() + "#line-2" and docs[1].domain is None
    assert stats.dropped == {"missing_id_field": 2} and stats.counts["missing_url_field"] == 1


def test_ids_are_stable_across_runs_and_folders(tmp_path):
    path = jsonl(tmp_path / "docs.jsonl", [{"text": t} for t in TEXTS])
    first = [d.id for d in run(read_jsonl, path)[0]]
    (tmp_path / "moved").mkdir()
    moved = shutil.copy(path, tmp_path / "moved" / "docs.jsonl")
    assert first == [d.id for d in run(read_jsonl, path)[0]] == [d.id for d in run(read_jsonl, moved)[0]]
    assert len(set(first)) == 3 and first != [d.id for d in run(read_jsonl, path, source="other")[0]]


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_compressed_inputs_read_as_the_plain_files_do(tmp_path, kind):
    plain = jsonl(tmp_path / "docs.jsonl", [{"text": t} for t in TEXTS * 50])
    packed = tmp_path / f"docs.jsonl.{kind}"
    packed.write_bytes(COMPRESSORS[kind](plain.read_bytes()))
    misnamed = tmp_path / "docs-packed.jsonl"  # told by its bytes, not its name
    misnamed.write_bytes(packed.read_bytes())
    expected = [d.text for d in run(read_jsonl, plain)[0]]
    assert [d.text for d in run(read_jsonl, packed)[0]] == expected == [d.text for d in run(read_jsonl, misnamed)[0]]
    txt = tmp_path / "notes.txt"
    txt.write_text("\n\n".join(TEXTS), encoding="utf-8")
    packed_txt = tmp_path / f"notes.txt.{kind}"
    packed_txt.write_bytes(COMPRESSORS[kind](txt.read_bytes()))
    for unit in ("file", "paragraph"):
        assert ([d.text for d in run(read_text_file, packed_txt, TextConfig(unit=unit))[0]]
                == [d.text for d in run(read_text_file, txt, TextConfig(unit=unit))[0]])


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_a_cut_compressed_file_keeps_the_lines_before_the_cut(tmp_path, kind):
    # bzip2 works in blocks of 900 kB: a cut costs the block it falls in, so the file spans several.
    records = [{"text": f"{TEXTS[i % 3]} ({i})"} for i in range(30_000 if kind == "bz2" else 3000)]
    packed = COMPRESSORS[kind](jsonl(tmp_path / "docs.jsonl", records).read_bytes())
    cut = tmp_path / f"cut.jsonl.{kind}"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    docs, stats = run(read_jsonl, cut)
    assert 0 < len(docs) < len(records) and [d.text for d in docs] == [r["text"] for r in records[: len(docs)]]
    assert stats.dropped["truncated_file"] == 1
    assert run(read_text_file, cut)[1].dropped == {"truncated_file": 1}


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_a_compressed_file_with_broken_bytes_is_counted_not_raised(tmp_path, kind):
    packed = bytearray(COMPRESSORS[kind]("".join(json.dumps({"text": f"{TEXTS[0]} {i}"}) + "\n"
                                                 for i in range(200)).encode()))
    packed[40:70] = b"\xff" * 30
    path = tmp_path / f"broken.jsonl.{kind}"
    path.write_bytes(bytes(packed))
    docs, stats = run(read_jsonl, path)
    assert stats.dropped["undecodable_file"] == 1 and len(docs) < 200


# -- Parquet ---------------------------------------------------------------------------------------


def parquet(path, table, row_group_size=2):
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def test_parquet_rows_are_read_one_row_group_at_a_time(tmp_path, monkeypatch):
    table = pa.table({"content": [TEXTS[0], None, TEXTS[1], "", TEXTS[2]], "n": [1, 2, 3, 4, 5]})
    path = parquet(tmp_path / "docs.parquet", table)
    assert pq.ParquetFile(path).num_row_groups == 3

    def whole_file(*args, **kwargs):
        raise AssertionError("read the whole file")

    monkeypatch.setattr(pq.ParquetFile, "read", whole_file)
    monkeypatch.setattr(pq, "read_table", whole_file)
    docs, stats = run(read_parquet, path, TextConfig(text_field="content"))
    assert [d.text for d in docs] == TEXTS and [d.metadata["row"] for d in docs] == [0, 2, 4]
    assert docs[2].id == document_id("mytext", "docs.parquet#row-4") and docs[2].url.endswith("#row-4")
    assert stats.dropped == {"missing_text_field": 1, "empty_text": 1}


def test_parquet_id_and_url_columns(tmp_path):
    table = pa.table({"text": TEXTS, "key": ["k1", "k2", None], "url": ["https://a.example/1", None, "x"]})
    path = parquet(tmp_path / "docs.parquet", table)
    docs, stats = run(read_parquet, path, TextConfig(id_field="key", url_field="url"))
    assert [d.id for d in docs] == [document_id("mytext", "k1"), document_id("mytext", "k2")]
    assert docs[0].url == "https://a.example/1" and docs[0].domain == "a.example"
    assert stats.dropped == {"missing_id_field": 1} and stats.counts["missing_url_field"] == 1


@pytest.mark.parametrize("config, message", [
    (TextConfig(text_field="body"), "no column 'body'"),
    (TextConfig(id_field="uuid"), "no column 'uuid'"),
    (TextConfig(text_field="n"), "not a string column"),
])
def test_a_parquet_file_without_the_column_is_one_clear_error(tmp_path, config, message):
    path = parquet(tmp_path / "docs.parquet", pa.table({"text": TEXTS, "n": [1, 2, 3]}))
    with pytest.raises(UserError, match=message) as raised:
        run(read_parquet, path, config)
    assert "\n" not in str(raised.value) and "docs.parquet" in str(raised.value)


def test_a_file_that_is_not_parquet_is_a_user_error(tmp_path):
    path = tmp_path / "docs.parquet"
    path.write_text("not parquet")
    with pytest.raises(UserError, match="not a readable Parquet file"):
        run(read_parquet, path)


def test_dictionary_encoded_text_columns_are_read(tmp_path):
    table = pa.table({"text": pa.array(TEXTS).dictionary_encode()})
    docs, _ = run(read_parquet, parquet(tmp_path / "docs.parquet", table))
    assert [d.text for d in docs] == TEXTS


def test_an_unknown_unit_is_a_user_error():
    with pytest.raises(UserError, match="sentence"):
        TextConfig(unit="sentence")
