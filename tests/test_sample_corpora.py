"""Tests for the curated-corpus samples: the Wikipedia multistream dump and the Gutenberg-style
books (data/samples/sample_wikipedia.py, sample_books.py, written by generate.py).

What the README in data/samples promises: Wikimedia's real formats (the export-0.11 schema, one
bz2 stream for the header, up to 100 pages per stream, one for the footer, an index whose
offsets are stream starts), page kinds that match the labels, real wikitext in the articles,
Gutenberg headers, markers, encodings and line ends, byte-identical regeneration and small
sizes. The checks read the files with lxml, bz2 and plain bytes, not with the generator's code.
"""

from __future__ import annotations

import bz2
import collections
import hashlib
import html
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
from lxml import etree

from tests.helpers.samples import load_generator

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
DUMP = "wiki_sample-pages-articles-multistream.xml.bz2"
INDEX = "wiki_sample-pages-articles-multistream-index.txt.bz2"
WIKI_LABELS = "wiki_sample_labels.json"
BOOK_LABELS = "pg_sample_labels.json"
BOOKS = ("books/pg_sample_90001.txt", "books/pg_sample_90002.txt", "books/pg_sample_90003.txt")
FILES = (DUMP, INDEX, WIKI_LABELS, BOOK_LABELS, *BOOKS)
MW = "{http://www.mediawiki.org/xml/export-0.11/}"
KINDS = ("article", "stub", "redirect", "disambiguation", "other_namespace")
DAB_TEMPLATE = re.compile(r"\{\{\s*(?:disambiguation|disambig|dab|hndis|geodis)\s*[|}]", re.I)


gen = load_generator()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    return gen.generate_corpora(tmp_path_factory.mktemp("corpora"))


@pytest.fixture(scope="module")
def dump_bytes(fresh: dict[str, pathlib.Path]) -> bytes:
    return fresh[DUMP].read_bytes()


@pytest.fixture(scope="module")
def pages(dump_bytes: bytes) -> list[dict]:
    """Every <page> of the dump, parsed with lxml from the concatenated streams."""
    root = etree.fromstring(bz2.decompress(dump_bytes))
    out = []
    for page in root.iter(f"{MW}page"):
        rev = page.find(f"{MW}revision")
        text = rev.find(f"{MW}text")
        redirect = page.find(f"{MW}redirect")
        out.append({"title": page.findtext(f"{MW}title"), "ns": int(page.findtext(f"{MW}ns")),
                    "id": int(page.findtext(f"{MW}id")),
                    "redirect": redirect.get("title") if redirect is not None else None,
                    "text": text.text or "", "text_attrib": dict(text.attrib), "rev": rev})
    return out


@pytest.fixture(scope="module")
def wiki_labels(fresh: dict[str, pathlib.Path]) -> dict:
    return json.loads(fresh[WIKI_LABELS].read_text("utf-8"))


@pytest.fixture(scope="module")
def book_labels(fresh: dict[str, pathlib.Path]) -> dict[str, dict]:
    return {b["file"]: b for b in json.loads(fresh[BOOK_LABELS].read_text("utf-8"))["books"]}


def stream_starts(data: bytes) -> list[int]:
    """Byte offsets of every bz2 stream in a multistream file, found by decompressing it."""
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        d = bz2.BZ2Decompressor()
        d.decompress(data[pos:])
        assert d.eof, f"stream at {pos} is cut short"
        pos = len(data) - len(d.unused_data)
    return starts


def one_stream(data: bytes, offset: int) -> str:
    return bz2.BZ2Decompressor().decompress(data[offset:]).decode("utf-8")


def index_lines(fresh: dict[str, pathlib.Path]) -> list[tuple[int, int, str]]:
    text = bz2.decompress(fresh[INDEX].read_bytes()).decode("utf-8")
    assert text.endswith("\n")
    out = []
    for line in text.splitlines():
        offset, page_id, title = line.split(":", 2)   # titles may contain colons themselves
        out.append((int(offset), int(page_id), title))
    return out


def kind_of(page: dict) -> str:
    """A page's kind read from the XML alone, the way a dump reader would decide it."""
    if page["redirect"] is not None:
        return "redirect"
    if page["ns"] != 0:
        return "other_namespace"
    if DAB_TEMPLATE.search(page["text"]):
        return "disambiguation"
    if re.search(r"\{\{[\w-]*-stub\}\}", page["text"]):
        return "stub"
    return "article"


def visible_text(wikitext: str) -> str:
    """A rough plain text: no refs, comments, templates, tables, categories or files."""
    text = re.sub(r"<ref[^>]*/>|<ref[^>]*>.*?</ref>|<!--.*?-->", "", wikitext, flags=re.S)
    for _ in range(4):
        text = re.sub(r"\{\{[^{}]*\}\}", "", text)
    text = re.sub(r"\{\|.*?\|\}", "", text, flags=re.S)
    text = re.sub(r"\[\[(?:Category|File|Image):[^\]]*\]\]", "", text)
    text = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", text)
    text = re.sub(r"^=+.*=+$", "", text, flags=re.M)
    return " ".join(text.replace("'''", "").split())


def sha1_base36(text: str) -> str:
    n, digits = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16), ""
    while n:
        n, r = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
    return digits.rjust(31, "0")


# ---- determinism ---------------------------------------------------------------------

def test_regeneration_is_byte_identical(fresh: dict[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
    again = gen.generate_corpora(tmp_path)
    assert sorted(again) == sorted(fresh) == sorted(FILES)
    for name in FILES:
        assert again[name].read_bytes() == fresh[name].read_bytes(), name


def test_regeneration_under_another_hash_seed(fresh: dict[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
    script = ("import importlib.util, pathlib, sys\n"
              f"spec = importlib.util.spec_from_file_location('g', {str(SAMPLES / 'generate.py')!r})\n"
              "g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)\n"
              "g.generate_corpora(pathlib.Path(sys.argv[1]))\n")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, check=True, capture_output=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == fresh[name].read_bytes(), name


def test_shipped_corpora_are_up_to_date(fresh: dict[str, pathlib.Path]) -> None:
    """The files in data/samples are what the generator writes. bz2 files are compared after
    decompression (index offsets aside), so another libbz2 build does not fail this."""
    for name in FILES:
        shipped = SAMPLES / name
        assert shipped.exists(), f"{shipped} missing: run python data/samples/generate.py"
        if name == DUMP:
            assert bz2.decompress(shipped.read_bytes()) == bz2.decompress(fresh[name].read_bytes()), name
        elif name == INDEX:
            def strip_offsets(path: pathlib.Path) -> list[str]:
                return [line.split(":", 1)[1] for line in bz2.decompress(path.read_bytes()).decode().splitlines()]
            assert strip_offsets(shipped) == strip_offsets(fresh[name]), name
        elif name == WIKI_LABELS:
            assert json.loads(shipped.read_bytes()) == json.loads(fresh[name].read_bytes()), name
        else:
            assert shipped.read_bytes() == fresh[name].read_bytes(), f"{name} is stale: run python data/samples/generate.py"


def test_sizes_are_capped(fresh: dict[str, pathlib.Path]) -> None:
    assert fresh[DUMP].stat().st_size + fresh[INDEX].stat().st_size < 400_000
    sizes = [fresh[name].stat().st_size for name in BOOKS]
    assert sum(sizes) < 250_000
    assert all(40_000 <= s <= 80_000 for s in sizes), sizes


# ---- the Wikipedia dump: schema ------------------------------------------------------

def test_dump_header_and_siteinfo(dump_bytes: bytes) -> None:
    root = etree.fromstring(bz2.decompress(dump_bytes))
    assert root.tag == f"{MW}mediawiki" and root.get("version") == "0.11"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    info = root.find(f"{MW}siteinfo")
    assert info.findtext(f"{MW}dbname") == "samplewiki"
    assert info.findtext(f"{MW}base") == "https://en.wikipedia.org/wiki/Main_Page"
    assert info.findtext(f"{MW}sitename") and info.findtext(f"{MW}generator").startswith("MediaWiki ")
    assert info.findtext(f"{MW}case") == "first-letter"
    namespaces = {int(ns.get("key")): ns.text or "" for ns in info.find(f"{MW}namespaces")}
    assert {0: "", 1: "Talk", 2: "User", 3: "User talk", 4: "Wikipedia", 6: "File", 10: "Template",
            14: "Category"}.items() <= namespaces.items()


def test_pages_follow_the_export_schema(pages: list[dict]) -> None:
    ids = [p["id"] for p in pages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)          # dumps are in page-id order
    assert len({p["title"] for p in pages}) == len(pages)
    contributors = collections.Counter()
    for p in pages:
        rev = p["rev"]
        rev_id = int(rev.findtext(f"{MW}id"))
        parent = rev.findtext(f"{MW}parentid")
        assert parent is None or int(parent) < rev_id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rev.findtext(f"{MW}timestamp"))
        who = rev.find(f"{MW}contributor")
        contributors["ip" if who.find(f"{MW}ip") is not None else "user"] += 1
        if who.find(f"{MW}username") is not None:
            assert who.findtext(f"{MW}id").isdigit()
        assert rev.findtext(f"{MW}model") == "wikitext" and rev.findtext(f"{MW}format") == "text/x-wiki"
        attrib = p["text_attrib"]
        assert attrib["{http://www.w3.org/XML/1998/namespace}space"] == "preserve"
        assert int(attrib["bytes"]) == len(p["text"].encode("utf-8"))
        assert attrib["sha1"] == rev.findtext(f"{MW}sha1") == sha1_base36(p["text"])
        # Schema order inside <revision>, as Wikimedia writes it.
        tags = [child.tag.removeprefix(MW) for child in rev]
        order = ["id", "parentid", "timestamp", "contributor", "minor", "comment", "origin", "model", "format",
                 "text", "sha1"]
        assert tags == [t for t in order if t in tags]
    assert contributors["ip"] > 0 and contributors["user"] > 0


# ---- the Wikipedia dump: multistream layout and index ------------------------------------

def test_streams_are_header_pages_footer(dump_bytes: bytes, pages: list[dict]) -> None:
    starts = stream_starts(dump_bytes)
    header = one_stream(dump_bytes, starts[0])
    assert header.startswith("<mediawiki ") and header.endswith("</siteinfo>\n") and "<page>" not in header
    assert one_stream(dump_bytes, starts[-1]) == "</mediawiki>\n"
    counts = []
    for start in starts[1:-1]:
        chunk = one_stream(dump_bytes, start)
        assert chunk.lstrip().startswith("<page>") and chunk.endswith("</page>\n")
        counts.append(chunk.count("<page>"))
        assert chunk.count("<page>") == chunk.count("</page>")
    assert all(c == 100 for c in counts[:-1]) and 0 < counts[-1] <= 100
    assert sum(counts) == len(pages)


def test_index_offsets_are_stream_starts_and_name_their_pages(fresh: dict[str, pathlib.Path], dump_bytes: bytes,
                                                              pages: list[dict]) -> None:
    lines = index_lines(fresh)
    starts = stream_starts(dump_bytes)
    assert sorted({offset for offset, _, _ in lines}) == starts[1:-1]
    by_offset: dict[int, list[int]] = collections.defaultdict(list)
    for offset, page_id, _ in lines:
        by_offset[offset].append(page_id)
    for offset, ids in by_offset.items():
        chunk = one_stream(dump_bytes, offset)
        assert chunk.lstrip().startswith("<page>")
        assert [int(x) for x in re.findall(r"^    <id>(\d+)</id>$", chunk, re.M)] == ids, offset
    # Every page once, in dump order, titles as they appear in the XML (escaped: &amp;, &quot;).
    assert [(page_id, html.unescape(title)) for _, page_id, title in lines] == [(p["id"], p["title"]) for p in pages]
    assert any(":" in title for _, _, title in lines)


# ---- the Wikipedia dump: page kinds --------------------------------------------------

def test_page_kinds_match_the_labels(pages: list[dict], wiki_labels: dict) -> None:
    labelled = wiki_labels["pages"]
    assert sorted(labelled, key=int) == [str(p["id"]) for p in pages]
    for p in pages:
        label = labelled[str(p["id"])]
        assert (label["title"], label["ns"]) == (p["title"], p["ns"])
        assert kind_of(p) == label["kind"], p["title"]
        assert label.get("redirect") == p["redirect"]
    counts = collections.Counter(kind_of(p) for p in pages)
    assert dict(counts) == wiki_labels["counts"]
    assert wiki_labels["pages_total"] == len(pages)
    assert counts["article"] >= 200 and counts["redirect"] >= 25 and counts["disambiguation"] >= 12
    assert counts["other_namespace"] >= 20 and 3 <= counts["stub"] <= 15


def test_redirects_point_at_articles(pages: list[dict]) -> None:
    articles = {p["title"] for p in pages if kind_of(p) == "article"}
    for p in pages:
        if p["redirect"] is None:
            continue
        m = re.match(r"#redirect\s*\[\[([^\]#]+)(#[^\]]+)?\]\]", p["text"], re.I)
        assert m and m.group(1) == p["redirect"] and p["redirect"] in articles, p["title"]


def test_other_namespaces_have_prefixed_titles(pages: list[dict]) -> None:
    prefixes = {1: "Talk:", 2: "User:", 3: "User talk:", 4: "Wikipedia:", 6: "File:", 10: "Template:",
                14: "Category:"}
    seen = set()
    for p in pages:
        if p["ns"] != 0:
            assert p["title"].startswith(prefixes[p["ns"]]), p["title"]
            seen.add(p["ns"])
        else:
            assert not any(p["title"].startswith(x) for x in prefixes.values())
    assert {1, 2, 10, 14} <= seen


def test_disambiguation_pages_list_entries(pages: list[dict]) -> None:
    templates = set()
    for p in pages:
        if kind_of(p) == "disambiguation":
            assert "may refer to:" in p["text"]
            assert len(re.findall(r"^\* \[\[", p["text"], re.M)) >= 2
            templates.add(DAB_TEMPLATE.search(p["text"]).group(0).lower())
    assert len(templates) >= 4        # several spellings: {{disambiguation}}, {{dab}}, {{hndis|, ...


# ---- the Wikipedia dump: wikitext ------------------------------------------------------

def test_articles_are_real_wikitext(pages: list[dict]) -> None:
    articles = [p["text"] for p in pages if kind_of(p) == "article"]
    features = {
        "infobox": r"\{\{Infobox ", "nested_birth_date": r"\| birth_date\s+= \{\{birth date",
        "convert": r"\{\{convert\|", "coord": r"\{\{coord\|", "cite_web": r"\{\{cite web \|",
        "cite_book": r"\{\{cite book ", "named_ref": r'<ref name="?\w+"?>', "ref_reuse": r'<ref name="?\w+"? ?/>',
        "piped_link": r"\[\[[^\]|]+\|[^\]]+\]\]", "link_trail": r"\]\][a-z]", "file": r"\[\[(?:File|Image):[^\]]+\|thumb",
        "category": r"\[\[Category:", "table": r'\{\| class="wikitable', "section": r"^== [^=]+ ==$",
        "subsection": r"^=== [^=]+ ===$", "bullets": r"^\* ", "references": r"^== References ==\n(?:\{\{[Rr]eflist|<references />)",
        "see_also": r"^== See also ==", "comment": r"<!--.*?-->", "nbsp": r"&nbsp;", "bold_title": r"'''[^']+'''",
        "short_description": r"^\{\{Short description\|", "blockquote": r"\{\{Blockquote\|",
    }
    for name, pattern in features.items():
        hits = sum(1 for text in articles if re.search(pattern, text, re.M))
        assert hits >= 5, f"{name}: only {hits} articles"
    for text in articles:
        assert text.count("{{") == text.count("}}") and text.count("[[") == text.count("]]")
        assert text.count("<ref") - len(re.findall(r"<ref[^>]*/>", text)) == text.count("</ref>")
        defined = set(re.findall(r'<ref name="?([\w]+)"?>', text))
        assert set(re.findall(r'<ref name="?([\w]+)"? ?/>', text)) <= defined
        assert "== References ==" in text and len(visible_text(text)) > 1000


def test_article_wikitext_parses(pages: list[dict]) -> None:
    mwp = pytest.importorskip("mwparserfromhell")
    nested = 0
    for p in pages:
        if kind_of(p) != "article":
            continue
        code = mwp.parse(p["text"])
        names = [str(t.name).strip() for t in code.filter_templates(recursive=True)]
        assert "Short description" in names
        for t in code.filter_templates(recursive=False):
            if str(t.name).strip().startswith("Infobox"):
                nested += bool(t.params and any(v.value.filter_templates() for v in t.params))
    assert nested >= 100


def test_stubs_are_very_short(pages: list[dict]) -> None:
    for p in pages:
        if kind_of(p) == "stub":
            assert 20 < len(visible_text(p["text"])) < 200, p["title"]


# ---- the books ----------------------------------------------------------------------

def decoded(fresh: dict[str, pathlib.Path], name: str, label: dict) -> str:
    data = fresh[name].read_bytes()
    if label["bom"]:
        assert data.startswith(b"\xef\xbb\xbf")
        data = data[3:]
    return data.decode(label["encoding"])


def test_book_headers_markers_and_licence(fresh: dict[str, pathlib.Path], book_labels: dict[str, dict]) -> None:
    assert sorted(book_labels) == sorted(pathlib.Path(b).name for b in BOOKS)
    styles = collections.Counter()
    for name in BOOKS:
        label = book_labels[pathlib.Path(name).name]
        text = decoded(fresh, name, label).replace("\r\n", "\n")
        title, upper, number = label["title"], label["title"].upper(), label["ebook"]
        assert number >= 90001
        assert f"\nTitle: {title}\n" in text and f"\nAuthor: {label['author']}\n" in text
        assert "\nLanguage: English\n" in text
        assert f"\nCharacter set encoding: {label['encoding'].upper()}\n" in text
        styles[label["header_style"]] += 1
        if label["header_style"] == "modern":
            assert text.startswith(f"The Project Gutenberg eBook of {title}\n")
            assert "This ebook is for the use of anyone anywhere" in text
            assert re.search(rf"\nRelease date: \w+ \d+, \d{{4}} \[eBook #{number}\]\n", text)
            start, end = f"*** START OF THE PROJECT GUTENBERG EBOOK {upper} ***", f"*** END OF THE PROJECT GUTENBERG EBOOK {upper} ***"
            licence = "\nSTART: FULL LICENSE\n"
        else:
            assert text.startswith(f"The Project Gutenberg EBook of {title}, by {label['author']}\n")
            assert "This eBook is for the use of anyone anywhere" in text
            assert re.search(rf"\nRelease Date: \w+ \d+, \d{{4}} \[EBook #{number}\]\n", text)
            start, end = f"*** START OF THIS PROJECT GUTENBERG EBOOK {upper} ***", f"*** END OF THIS PROJECT GUTENBERG EBOOK {upper} ***"
            licence = "\n*** START: FULL LICENSE ***\n"
            assert f"\nEnd of the Project Gutenberg EBook of {title}, by {label['author']}\n" in text
        assert text.count(start) == 1 and text.count(end) == 1 and text.index(start) < text.index(end)
        tail = text[text.index(end):]
        assert licence in tail and "\nTHE FULL PROJECT GUTENBERG LICENSE\n" in tail
        assert all(f"\nSection {n}. " in tail for n in range(1, 6))
        assert "Stand-in text." in tail            # our own words under the real headings
        inner = text[text.index(start) + len(start):text.index(end)]
        if label["header_style"] == "old":
            inner = inner[:inner.index("End of the Project Gutenberg EBook")]
        assert len(inner.split()) == label["words_between_markers"]
    assert styles == {"modern": 2, "old": 1}


def test_book_encodings_and_line_ends(fresh: dict[str, pathlib.Path], book_labels: dict[str, dict]) -> None:
    crlf = 0
    for name in BOOKS:
        label = book_labels[pathlib.Path(name).name]
        data = fresh[name].read_bytes()
        if label["encoding"] == "iso-8859-1":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            text = data.decode("iso-8859-1")
            assert "Hélène" in text and "Søren" in text and "\u201c" not in text
        else:
            text = data.decode("utf-8")
            assert "\u201c" in text and "\u2014" in text      # curly quotes, em dashes
        if label["newline"] == "CRLF":
            crlf += 1
            assert data.count(b"\r\n") == data.count(b"\n") > 1000
        else:
            assert b"\r" not in data
    assert crlf == 1


def test_books_are_wrapped_with_contents_and_chapters(fresh: dict[str, pathlib.Path],
                                                      book_labels: dict[str, dict]) -> None:
    numerals = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"]
    for name in BOOKS:
        label = book_labels[pathlib.Path(name).name]
        text = decoded(fresh, name, label).replace("\r\n", "\n")
        body = text[text.index("*** START OF"):text.index("*** END OF")].split("\n", 1)[1]
        body = body.split("End of the Project Gutenberg EBook")[0]     # the old style's closing line
        assert max(len(line) for line in body.split("\n")) <= 70
        contents = body[body.index("\nCONTENTS\n"):]
        toc = re.findall(r"^  CHAPTER ([IVXLC]+)\.\s+(.+)$", contents, re.M)
        headings = re.findall(r"^CHAPTER ([IVXLC]+)\.\n\n(.+)\n", body, re.M)
        n = label["chapters"]
        assert [num for num, _ in toc] == [num for num, _ in headings] == numerals[:n]
        assert [t for _, t in toc] == label["chapter_titles"]
        assert [t for _, t in headings] == [t.upper() for t in label["chapter_titles"]]
