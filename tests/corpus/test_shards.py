import pyarrow.parquet as pq
import pytest

from corpus.readers.shards import iter_batches, read_documents, shard_paths
from corpus.records import Document, document_id
from corpus.schema import SCHEMA
from corpus.writers.shard_writer import ShardWriter


def docs(n, words=50):
    for i in range(n):
        text = " ".join(f"w{i}_{j}" for j in range(words))
        yield Document(id=document_id("test", str(i)), url=f"https://x.example/{i}", source="test",
                       text=text, karma=i, lang="en", lang_score=0.9)


def test_writer_rotates_files_and_row_groups_and_reader_streams_back(tmp_path):
    with ShardWriter(tmp_path, max_file_bytes=20_000, row_group_bytes=5_000) as w:
        w.write_all(docs(200))
    files = w.files
    assert len(files) > 3
    assert [f.path.name for f in files] == [f"part-{i:05d}.parquet" for i in range(len(files))]
    assert sum(f.rows for f in files) == 200
    pf = pq.ParquetFile(files[0].path)
    assert pf.schema_arrow.equals(SCHEMA) and pf.num_row_groups > 1
    assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
    back = list(read_documents(tmp_path))
    assert [d.id for d in back] == [d.id for d in docs(200)]
    assert back[5].karma == 5 and back[5].text.startswith("w5_0")
    # Streaming: no batch is bigger than a row group.
    assert max(b.num_rows for b in iter_batches(shard_paths(tmp_path))) < 200
    assert not list(tmp_path.glob("*.tmp"))


def test_n_chars_and_n_words_are_derived_from_the_text(tmp_path):
    with ShardWriter(tmp_path) as w:
        w.write(Document(id="a", url="u", source="s", text="two words"))
    row = pq.read_table(w.files[0].path).to_pylist()[0]
    assert (row["n_chars"], row["n_words"]) == (9, 2)


def test_a_failed_write_leaves_no_shard_behind(tmp_path):
    def boom():
        yield from docs(10)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path, row_group_bytes=100) as w:
            w.write_all(boom())
    assert list(tmp_path.iterdir()) == []


def test_shard_paths_skip_work_folders(tmp_path):
    for rel in ("part-00000.parquet", "_work/parts/x/part-00000.parquet", "_links/links.parquet",
                "sub/part-00001.parquet"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in shard_paths(tmp_path)] == [
        "part-00000.parquet", "sub/part-00001.parquet"]
