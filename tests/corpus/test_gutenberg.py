"""Project Gutenberg books: licence header and footer off, metadata read, encodings detected,
hard wraps undone, chapters split (issue 13)."""

import bz2
import gzip
import textwrap

import pytest
import zstandard

from corpus.errors import UserError
from corpus.records import document_id
from corpus.sources.gutenberg import GutenbergConfig, language_code, read_gutenberg
from corpus.steps import StepStats

SENTENCES = [
    "The harbour council met on Tuesday to decide whether the old grain sheds should become a public market.",
    "Several traders argued that the building had stood empty for a decade and that the town needed a place "
    "where farmers could sell directly to families.",
    "Engineers who surveyed the roof found that most of the timber was sound, although the western gutters "
    "would have to be replaced before winter.",
    "Not everyone was convinced, and a group of neighbours asked the council to study parking and deliveries "
    "before any money was spent on the building itself.",
]
PARAGRAPH = " ".join(SENTENCES)
STANZA = ["The tide came in across the bay,", "  The gulls were crying overhead,",
          "And all the boats were out that day,", "  Until the sky grew dark and red."]
HEADER = """\
The Project Gutenberg eBook of The Harbour Town, by Ada Example

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost and with almost no restrictions
whatsoever. You may copy it, give it away or re-use it under the terms
of the Project Gutenberg License included with this ebook or online
at www.gutenberg.org.

Title: The Harbour Town
       A Chronicle of the Quay

Author: Ada Example

Release date: March 3, 2004 [eBook #4242]
                Most recently updated: May 1, 2021

Language: English

Character set encoding: {encoding}

*** START OF THE PROJECT GUTENBERG EBOOK THE HARBOUR TOWN ***
"""
FOOTER = """\
*** END OF THE PROJECT GUTENBERG EBOOK THE HARBOUR TOWN ***

Updated editions will replace the previous one--the old editions will
be renamed.

*** START: FULL LICENSE ***

THE FULL PROJECT GUTENBERG LICENSE
PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK
"""


def wrapped(text: str, width: int = 70) -> str:
    """A paragraph hard-wrapped the way Gutenberg's plain-text files are."""
    return textwrap.fill(text, width)


def chapter(number: str, title: str, extra: str = "") -> str:
    body = "\n\n".join(wrapped(f"{title} {i}. " + PARAGRAPH) for i in range(3))
    return f"\n\n\nCHAPTER {number}.\n\n{title}\n\n\n{body}\n{extra}\n"


def body(chapters: str | None = None) -> str:
    """A book's text between the markers: credits, a title page, contents, three chapters."""
    chapters = chapters if chapters is not None else (
        "\n\nPART ONE\n" + chapter("I", "The Quay") + chapter("II", "The Market", "\n" + "\n".join(STANZA) + "\n")
        + chapter("III", "The Storm"))
    return ("\n\n\n\nProduced by Jane Volunteer and the Online Distributed\n"
            "Proofreading Team at https://www.pgdp.net\n\n\n\n"
            "                          THE HARBOUR TOWN\n\n"
            "                            by Ada Example\n\n\n"
            "CONTENTS\n\n"
            "     CHAPTER I.    The Quay\n"
            "     CHAPTER II.   The Market\n"
            "     CHAPTER III.  The Storm\n\n"
            "[Transcriber's Note: Obvious printing errors have been corrected\n"
            "silently; the spelling of the original is kept.]\n\n"
            "[Illustration: The old grain sheds\n\non the quay]\n"
            + chapters + "\n\n\n\n")


def book(encoding: str = "UTF-8", header: str = HEADER, footer: str = FOOTER, chapters: str | None = None) -> str:
    return header.format(encoding=encoding) + body(chapters) + footer


def write(tmp_path, name: str, text: str, encoding: str = "utf-8", newline: str = "\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def read(path, unit: str = "book", min_chars: int = 500, source: str = "gutenberg"):
    stats = StepStats("read_gutenberg")
    docs = list(read_gutenberg(path, source, stats, GutenbergConfig(unit=unit, min_chars=min_chars)))
    assert stats.balanced()
    return docs, stats


def test_licence_header_and_footer_go_and_the_header_fills_the_metadata(tmp_path):
    (doc,), stats = read(write(tmp_path, "harbour.txt", book()))
    assert "Project Gutenberg" not in doc.text and "LICENSE" not in doc.text and "START" not in doc.text
    assert "Updated editions" not in doc.text and "Character set" not in doc.text
    assert doc.text.startswith("THE HARBOUR TOWN\n\nby Ada Example") and doc.text.endswith("building itself.")
    assert doc.metadata["title"] == "The Harbour Town A Chronicle of the Quay"
    assert doc.metadata["author"] == "Ada Example" and doc.metadata["language"] == "English"
    assert doc.metadata["ebook"] == 4242 and doc.lang == "en"
    assert doc.url == "https://www.gutenberg.org/ebooks/4242" and doc.domain == "gutenberg.org"
    assert doc.id == document_id("gutenberg", doc.url) and doc.source == "gutenberg"
    assert "no_start_marker" not in stats.counts and "no_end_marker" not in stats.counts
    assert stats.n_out == 1


def test_credits_transcribers_notes_and_illustrations_are_dropped(tmp_path):
    (doc,), stats = read(write(tmp_path, "harbour.txt", book()))
    for gone in ("Produced by", "pgdp", "Distributed", "Transcriber", "printing errors", "Illustration",
                 "grain sheds\n", "on the quay]"):
        assert gone not in doc.text
    assert stats.counts["credit_blocks_dropped"] == 1
    assert stats.counts["transcriber_notes_dropped"] == 1 and stats.counts["illustrations_dropped"] == 1


def test_hard_wrapped_paragraphs_are_rejoined_and_verse_keeps_its_lines(tmp_path):
    (doc,), _ = read(write(tmp_path, "harbour.txt", book()))
    paragraphs = doc.text.split("\n\n")
    assert "The Quay 0. " + PARAGRAPH in paragraphs  # seven wrapped lines made one paragraph again
    assert "\n".join(line.strip() for line in STANZA) in paragraphs  # short lines on purpose: kept
    assert "\n\n\n" not in doc.text


def test_hyphen_and_dash_line_ends_join_without_a_space(tmp_path):
    text = ("He took a watch out of its waistcoat-pocket, and looked at it, and then hurried on, and she\n"
            "ran across the field after it, and fortunately was just in time to see it pop down a large rabbit-\n"
            "hole under the hedge, and never once considered how in the world she was to get out again, so--\n"
            "she followed it down and down.\n")
    (doc,), _ = read(write(tmp_path, "hole.txt", HEADER.format(encoding="ASCII") + (text + "\n") * 3 + FOOTER))
    assert "large rabbit-hole under" in doc.text and "out again, so--she followed" in doc.text
    assert "\n" not in doc.text.split("\n\n")[0]


def test_a_book_without_its_footer_is_kept_to_the_end(tmp_path):
    (doc,), stats = read(write(tmp_path, "harbour.txt", book(footer="")))
    assert stats.counts["no_end_marker"] == 1 and "no_start_marker" not in stats.counts
    assert doc.text.endswith("building itself.") and doc.metadata["ebook"] == 4242


def test_a_book_without_its_header_is_kept_from_the_top(tmp_path):
    path = write(tmp_path, "harbour.txt", body() + FOOTER)
    (doc,), stats = read(path)
    assert stats.counts["no_start_marker"] == 1 and "no_end_marker" not in stats.counts
    assert "ebook" not in doc.metadata and doc.lang is None
    assert doc.url == path.resolve().as_uri() and doc.domain is None
    assert doc.id == document_id("gutenberg", doc.url)
    assert "THE HARBOUR TOWN" in doc.text and "FULL LICENSE" not in doc.text


@pytest.mark.parametrize("end", [
    "End of the Project Gutenberg EBook of The Harbour Town, by Ada Example\n\n"
    "*** END OF THIS PROJECT GUTENBERG EBOOK THE HARBOUR TOWN ***\n\nmore licence\n",
    "End of Project Gutenberg's The Harbour Town, by Ada Example\n\nmore licence\n",
    "            *** END OF THE PROJECT GUTENBERG EBOOK THE HARBOUR TOWN ***\n",
    "***END OF THE PROJECT GUTENBERG EBOOK THE HARBOUR TOWN***\n",
    "*** START: FULL LICENSE ***\n\nTHE FULL PROJECT GUTENBERG LICENSE, more licence\n",
], ids=["end-of-the-ebook-then-marker", "end-of-projects", "indented", "no-spaces", "full-licence-only"])
def test_each_footer_variant_ends_the_text(tmp_path, end):
    (doc,), stats = read(write(tmp_path, "harbour.txt", book(footer=end)))
    assert doc.text.endswith("building itself.") and "licence" not in doc.text and "End of" not in doc.text
    assert "no_end_marker" not in stats.counts


def test_a_1990s_file_starts_after_the_small_print(tmp_path):
    header = ("**The Project Gutenberg Etext of The Harbour Town**\n\n"
              "The Harbour Town\n\nMarch, 1994  [Etext #11]\n\n"
              "***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN ETEXTS**START***\n"
              "Why is this \"Small Print!\" statement here?  You know: lawyers.\n"
              "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n")
    footer = "End of The Project Gutenberg Etext of The Harbour Town\n"
    (doc,), stats = read(write(tmp_path, "alice30.txt", book(header=header, footer=footer)))
    assert "Small Print" not in doc.text and "lawyers" not in doc.text and "Etext" not in doc.text
    assert doc.metadata["ebook"] == 11 and doc.url == "https://www.gutenberg.org/ebooks/11"
    assert doc.metadata["title"] == "The Harbour Town"
    assert not stats.counts["no_start_marker"] and not stats.counts["no_end_marker"]


def test_the_ebook_number_comes_from_a_gutenberg_file_name_when_the_header_has_none(tmp_path):
    header = "Title: The Harbour Town\n\n*** START OF THE PROJECT GUTENBERG EBOOK THE HARBOUR TOWN ***\n"
    (doc,), _ = read(write(tmp_path, "pg4343.txt", book(header=header)))
    assert doc.metadata["ebook"] == 4343 and doc.url.endswith("/ebooks/4343")
    (doc,), _ = read(write(tmp_path, "4344-0.txt", book(header=header)))
    assert doc.metadata["ebook"] == 4344
    # Without a START marker a file is not known to be Gutenberg's: its name is just a name.
    (doc,), _ = read(write(tmp_path, "17.txt", body()))
    assert "ebook" not in doc.metadata and doc.url.startswith("file:")


def test_a_latin1_book_is_decoded_by_its_declaration_or_by_detection(tmp_path):
    accented = "Le café du port, où la crème brûlée était célèbre, ouvrait à l'aube. " * 4
    text = book("ISO-8859-1", chapters=chapter("I", "Le Quai", "\n" + wrapped(accented) + "\n"))
    (declared,), _ = read(write(tmp_path, "declared.txt", text, encoding="latin-1"))
    (detected,), _ = read(write(tmp_path, "detected.txt", text.replace("ISO-8859-1", "unknown"), encoding="latin-1"))
    for doc in (declared, detected):
        assert accented.strip() in doc.text and "\ufffd" not in doc.text and "Ã" not in doc.text
    assert declared.metadata["encoding"] == "iso-8859-1"


def test_a_utf8_bom_and_crlf_line_ends_leave_no_trace(tmp_path):
    (plain,), _ = read(write(tmp_path, "plain.txt", book()))
    (doc,), _ = read(write(tmp_path, "bom.txt", book(), encoding="utf-8-sig", newline="\r\n"))
    assert doc.text == plain.text and "\ufeff" not in doc.text and "\r" not in doc.text
    assert doc.metadata["title"] == plain.metadata["title"] and doc.metadata["encoding"] == "utf-8-sig"


def test_chapters_split_with_front_matter_and_contents_dropped(tmp_path):
    docs, stats = read(write(tmp_path, "harbour.txt", book()), unit="chapter")
    assert [d.metadata["chapter"] for d in docs] == [1, 2, 3]
    assert [d.url for d in docs] == [f"https://www.gutenberg.org/ebooks/4242#chapter-{k}" for k in (1, 2, 3)]
    assert len({d.id for d in docs}) == 3 and all(d.id == document_id("gutenberg", d.url) for d in docs)
    # "PART ONE" has nothing under it: it heads the chapter that follows.
    assert docs[0].metadata["chapter_title"] == "PART ONE / CHAPTER I. The Quay"
    assert docs[1].metadata["chapter_title"] == "CHAPTER II. The Market"
    assert docs[0].text.startswith("PART ONE\n\nCHAPTER I.\n\nThe Quay\n\nThe Quay 0.")
    assert docs[1].text.startswith("CHAPTER II.") and docs[2].text.endswith("The Storm 2. " + PARAGRAPH)
    everything = "\n".join(d.text for d in docs)
    assert "by Ada Example" not in everything and "CONTENTS" not in everything
    assert stats.counts["front_matter_dropped"] == 1 and stats.counts["contents_lists_dropped"] == 1
    assert all(d.metadata["title"].startswith("The Harbour Town") and d.lang == "en" for d in docs)


@pytest.mark.parametrize("heading", ["Chapter {n}.", "CHAPTER {R}", "BOOK {w}", "Chapter the {o}", "{R}.",
                                     "Chapter {n}: A Title", "STAVE {R}."])
def test_chapter_headings_in_their_usual_spellings(tmp_path, heading):
    words, ordinals, romans = ["ONE", "TWO", "THREE"], ["First", "Second", "Third"], ["I", "II", "III"]
    chapters = "".join(
        "\n\n\n" + heading.format(n=k + 1, R=romans[k], w=words[k], o=ordinals[k]) + "\n\n"
        + "\n\n".join(wrapped(f"Part {k} {i}. " + PARAGRAPH) for i in range(2)) + "\n" for k in range(3))
    docs, stats = read(write(tmp_path, "book.txt", book(chapters=chapters)), unit="chapter")
    assert [d.text.split("\n")[0] for d in docs] == [heading.format(n=k + 1, R=romans[k], w=words[k], o=ordinals[k])
                                                     for k in range(3)]
    assert "no_chapters" not in stats.counts


def test_a_chapter_heading_inside_an_illustration_caption_is_kept(tmp_path):
    chapters = ("\n\n[Illustration: THE HARBOUR\n\n         Chapter I.]\n\n\n" + wrapped(PARAGRAPH) + "\n"
                + chapter("II", "The Market"))
    docs, _ = read(write(tmp_path, "book.txt", book(chapters=chapters)), unit="chapter")
    assert [d.metadata["chapter_title"] for d in docs] == ["Chapter I.", "CHAPTER II. The Market"]
    assert docs[0].text == "Chapter I.\n\n" + PARAGRAPH


def test_a_book_without_chapter_headings_is_one_document_in_chapter_mode(tmp_path):
    chapters = "\n\n" + "\n\n".join(wrapped(PARAGRAPH) for _ in range(3)) + "\n"
    (doc,), stats = read(write(tmp_path, "book.txt", book(chapters=chapters)), unit="chapter")
    assert stats.counts["no_chapters"] == 1 and doc.url == "https://www.gutenberg.org/ebooks/4242"


def test_short_documents_are_dropped_and_counted(tmp_path):
    docs, stats = read(write(tmp_path, "book.txt", book()), unit="chapter", min_chars=10_000)
    assert docs == [] and stats.dropped == {"too_short": 3} and stats.n_in == 3


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, zstandard.ZstdCompressor().compress],
                         ids=["gz", "bz2", "zst"])
def test_compressed_books_read_as_the_plain_file_does(tmp_path, compress):
    plain = write(tmp_path, "4242.txt", book())
    packed = tmp_path / "4242.txt.packed"
    packed.write_bytes(compress(plain.read_bytes()))
    assert [d.text for d in read(packed)[0]] == [d.text for d in read(plain)[0]]
    cut = tmp_path / "cut.txt.packed"
    cut.write_bytes(packed.read_bytes()[:len(packed.read_bytes()) // 2])
    docs, stats = read(cut)
    assert docs == [] and stats.dropped == {"truncated_file": 1}


def test_ids_are_stable_across_runs(tmp_path):
    path = write(tmp_path, "book.txt", book())
    first = [d.id for d in read(path, unit="chapter")[0]]
    assert first == [d.id for d in read(path, unit="chapter")[0]] and len(set(first)) == 3
    assert first != [d.id for d in read(path, unit="chapter", source="books")[0]]


def test_languages_map_to_iso_codes():
    assert language_code("English") == "en" and language_code("French, English") == "fr"
    assert language_code("de") == "de" and language_code("Klingon") is None and language_code(None) is None


def test_an_unknown_unit_is_a_user_error():
    with pytest.raises(UserError, match="paragraph"):
        GutenbergConfig(unit="paragraph")


def test_text_between_the_contents_and_the_first_chapter_is_front_matter(tmp_path):
    # Moby-Dick: contents, then an etymology and extracts under no chapter heading, then CHAPTER 1.
    contents = "\n\n".join(f"CHAPTER {k}. Title {k}." for k in (1, 2, 3)) + "\n\nEpilogue\n\n"
    etymology = "ETYMOLOGY.\n\n" + wrapped("The pale Usher, threadbare in coat, heart, body and brain. " * 6)
    chapters = "".join(f"\n\n\nCHAPTER {k}. Title {k}.\n\n" + wrapped(f"Chapter {k} text. " + PARAGRAPH) + "\n"
                       for k in (1, 2, 3)) + "\n\n\nEpilogue\n\n" + wrapped("The drama's done. " + PARAGRAPH)
    text = HEADER.format(encoding="UTF-8") + contents + etymology + chapters + "\n" + FOOTER
    docs, stats = read(write(tmp_path, "moby.txt", text), unit="chapter")
    assert [d.metadata["chapter_title"] for d in docs] == ["CHAPTER 1. Title 1.", "CHAPTER 2. Title 2.",
                                                           "CHAPTER 3. Title 3.", "Epilogue"]
    assert not any("Usher" in d.text for d in docs) and stats.counts["contents_lists_dropped"] == 1


def test_a_paragraph_that_begins_like_a_heading_stays_in_its_chapter(tmp_path):
    cetology = wrapped("BOOK I. (Folio), CHAPTER I. (Sperm Whale).--This whale, among the English of old "
                       "vaguely known as the Trumpa whale, is without doubt the largest inhabitant of the globe. "
                       + PARAGRAPH)
    chapters = chapter("I", "Cetology", "\n" + cetology + "\n") + chapter("II", "The Chart")
    docs, _ = read(write(tmp_path, "book.txt", book(chapters=chapters)), unit="chapter")
    assert [d.metadata["chapter_title"] for d in docs] == ["CHAPTER I. Cetology", "CHAPTER II. The Chart"]
    assert "BOOK I. (Folio), CHAPTER I. (Sperm Whale).--This whale, among" in docs[0].text


def test_bare_roman_chapters_under_part_headings(tmp_path):
    # Little Women: "PART FIRST", then chapters headed by a roman numeral and a title only.
    chapters = "\n\n\nPART FIRST\n" + "".join(
        f"\n\n\n{r}.\n\nTHE TITLE {r}.\n\n" + wrapped(f"Chapter {r}. " + PARAGRAPH) + "\n" for r in ("I", "II", "III"))
    docs, _ = read(write(tmp_path, "book.txt", book(chapters=chapters)), unit="chapter")
    assert [d.metadata["chapter_title"] for d in docs] == ["PART FIRST / I. THE TITLE I.", "II. THE TITLE II.",
                                                           "III. THE TITLE III."]
