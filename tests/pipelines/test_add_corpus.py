"""pipelines.add_corpus end to end: each format into shards of record, with the per-format steps."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.errors import UserError
from corpus.readers.shards import shard_paths
from pipelines import add_corpus
from pipelines.add_corpus import AddCorpusConfig, guess_format
from tests.pipelines.test_pipelines import assert_manifest_adds_up

HEAD = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" xml:lang="en"><siteinfo>'
        "<sitename>Wikipedia</sitename><dbname>enwiki</dbname>"
        "<base>https://en.wikipedia.org/wiki/Main_Page</base><namespaces>"
        '<namespace key="0" case="first-letter" /><namespace key="1" case="first-letter">Talk</namespace>'
        "</namespaces></siteinfo>")


def page(pid: int, title: str, text: str, ns: int = 0, redirect: str | None = None) -> str:
    red = f'<redirect title="{redirect}" />' if redirect else ""
    return (f"<page><title>{title}</title><ns>{ns}</ns><id>{pid}</id>{red}<revision><id>{pid}0</id>"
            f"<timestamp>2024-01-0{pid % 9 + 1}T00:00:00Z</timestamp><model>wikitext</model>"
            f'<format>text/x-wiki</format><text xml:space="preserve">{text}</text></revision></page>')


def article(topic: str) -> str:
    body = " ".join(f"The {topic} of the valley was studied by many people in year {i}." for i in range(12))
    return (f"'''{topic.title()}''' is a subject.{{{{Infobox thing|name={topic}|size={{{{convert|3|km}}}}}}}}"
            f"\n\n== History ==\n{body}&lt;ref&gt;{{{{cite web|title=x}}}}&lt;/ref&gt;\n\n"
            f"== See also ==\n* [[Other]]\n")


def write_multistream(folder: Path, pages: list[str], per_stream: int = 2) -> Path:
    """A dump like Wikimedia's: header stream, streams of pages, closing stream, and the index."""
    dump = folder / "testwiki-pages-articles-multistream.xml.bz2"
    streams, index, offset = [bz2.compress(HEAD.encode())], [], 0
    offset = len(streams[0])
    for i in range(0, len(pages), per_stream):
        chunk = pages[i:i + per_stream]
        for p in chunk:
            pid = p.split("<id>")[1].split("<")[0]
            title = p.split("<title>")[1].split("<")[0]
            index.append(f"{offset}:{pid}:{title}")
        data = bz2.compress("".join(chunk).encode())
        streams.append(data)
        offset += len(data)
    streams.append(bz2.compress(b"</mediawiki>"))
    dump.write_bytes(b"".join(streams))
    (folder / "testwiki-pages-articles-multistream-index.txt.bz2").write_bytes(bz2.compress(("\n".join(index) + "\n").encode()))
    return dump


@pytest.fixture
def wiki_dump(tmp_path: Path) -> Path:
    pages = [page(i, t.title(), article(t)) for i, t in enumerate(["harbour", "orchard", "railway", "lighthouse"], 1)]
    pages += [page(5, "Harbor", "#REDIRECT [[Harbour]]", redirect="Harbour"),
              page(6, "Mercury", "'''Mercury''' may refer to:\n* [[Mercury (planet)]]\n{{disambiguation}}"),
              page(7, "Talk:Harbour", "Some talk " * 40, ns=1),
              page(8, "Orchard (copy)", article("orchard"))]  # the same text as page 2: exact duplicate
    (tmp_path / "dump").mkdir()
    return write_multistream(tmp_path / "dump", pages)


def config(tmp_path: Path, name: str, inputs: list[str], **kw) -> AddCorpusConfig:
    return AddCorpusConfig(name=name, inputs=inputs, output=str(tmp_path / "out" / name), workers=1,
                           progress=False, **kw)


def test_wikipedia_dump_into_shards_with_the_card_and_counts(tmp_path: Path, wiki_dump: Path) -> None:
    cfg = config(tmp_path, "wikipedia", [str(wiki_dump)], pages_per_task=2)
    manifest = add_corpus.run(cfg)
    out = tmp_path / "out" / "wikipedia"
    assert_manifest_adds_up(out)
    rows = pq.read_table(shard_paths(out)).to_pylist()
    assert sorted(r["url"] for r in rows) == [f"https://en.wikipedia.org/wiki/{t}" for t in
                                              ("Harbour", "Lighthouse", "Orchard", "Railway")]
    assert all(r["source"] == "wikipedia" and "{{" not in r["text"] and "<ref" not in r["text"] for r in rows)
    assert all("History" in r["text"].splitlines() for r in rows)  # headings kept as lines
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["read_wikipedia"]["dropped"] == {"redirect": 1, "disambiguation": 1, "namespace": 1}
    assert steps["exact_dedup"]["dropped"] == {"duplicate_text": 1}
    assert "language" not in steps and "pii" not in steps  # curated: not needed for an encyclopedia
    assert manifest["parameters"]["format"] == "wikipedia"
    assert "as GPT-3 added Wikipedia and books" in (out / "README.md").read_text()
    # Parallel: the multistream dump was read as byte ranges; a rerun reuses every part and changes nothing.
    assert len(list((cfg.work_path() / "clean").rglob("*.parquet"))) >= 2
    before = {p.name: p.read_bytes() for p in shard_paths(out)}
    add_corpus.run(cfg)
    assert {p.name: p.read_bytes() for p in shard_paths(out)} == before


def test_jsonl_gets_language_id_and_pii_and_counts_bad_records(tmp_path: Path) -> None:
    english = "The council met on Tuesday to discuss the harbour plan and the budget for next year. " * 3
    german = "Der Stadtrat hat am Dienstag beschlossen, die alten Speicher am Hafen umzubauen. " * 3
    lines = [json.dumps({"body": english + "Write to jane.doe@example.com for details.", "doc": "a"}),
             json.dumps({"body": german, "doc": "b"}), json.dumps({"title": "no body", "doc": "c"}), "{broken",
             json.dumps({"body": english.replace("council", "committee"), "doc": "d"})]
    src = tmp_path / "papers.jsonl"
    src.write_text("\n".join(lines) + "\n")
    manifest = add_corpus.run(config(tmp_path, "papers", [str(src)], text_field="body", id_field="doc"))
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["read_jsonl"]["dropped"] == {"missing_text_field": 1, "bad_json": 1}
    assert steps["language"]["dropped"] and steps["pii"]["in"] == 2
    rows = pq.read_table(shard_paths(tmp_path / "out" / "papers")).to_pylist()
    assert len(rows) == 2 and all("jane.doe@example.com" not in r["text"] for r in rows)


def test_books_with_their_licence_removed(tmp_path: Path) -> None:
    body = "\n\n".join(f"It was the {i}th morning of the long voyage, and the sea was calm and grey." for i in range(60))
    book = ("The Project Gutenberg eBook of A Voyage\n\nTitle: A Voyage\nAuthor: Ann Example\nLanguage: English\n\n"
            "*** START OF THE PROJECT GUTENBERG EBOOK A VOYAGE ***\n\n" + body +
            "\n\n*** END OF THE PROJECT GUTENBERG EBOOK A VOYAGE ***\n\nSection 1. Licence terms stand-in.\n")
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "pg90001.txt").write_text(book)
    assert guess_format(str(tmp_path / "books" / "pg90001.txt")) == "gutenberg"
    (tmp_path / "pg90001.txt.gz").write_bytes(gzip.compress(book.encode()))
    assert guess_format(str(tmp_path / "pg90001.txt.gz")) == "gutenberg"  # looked into, compressed or not
    manifest = add_corpus.run(config(tmp_path, "books", [str(tmp_path / "books")]))  # a folder
    rows = pq.read_table(shard_paths(tmp_path / "out" / "books")).to_pylist()
    assert len(rows) == 1 and "voyage" in rows[0]["text"] and "PROJECT GUTENBERG" not in rows[0]["text"].upper()
    assert "Licence terms" not in rows[0]["text"] and manifest["parameters"]["format"] == "gutenberg"


def test_inputs_of_several_formats_or_unknown_names_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "b.parquet").write_bytes(b"")
    (tmp_path / "c.pdf").write_bytes(b"%PDF")
    with pytest.raises(UserError, match="several formats"):
        add_corpus.input_tasks(config(tmp_path, "x", [str(tmp_path / "a.jsonl"), str(tmp_path / "b.parquet")]))
    with pytest.raises(UserError, match="give --format"):
        add_corpus.input_tasks(config(tmp_path, "x", [str(tmp_path / "c.pdf")]))
    with pytest.raises(SystemExit):
        add_corpus.main(["--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o"), "--no-progress"])
