"""Project Gutenberg plain-text books as documents: one per book, or one per chapter.

What happens to a book file (`.txt`, optionally `.gz`/`.bz2`/`.zst`):

1. **Decoding.** A byte order mark, else UTF-8 when the bytes are valid UTF-8, else the header's
   "Character set encoding:" if the bytes decode strictly in it, else the detected encoding
   (`corpus.sources.text_files.decode_bytes`). Line endings become `\\n`.
2. **Licence header and footer.** The text starts after the last START marker before the END
   marker ("*** START OF THE/THIS PROJECT GUTENBERG EBOOK ...", or the 1990s
   "*END*THE SMALL PRINT! ..." that closes the old licence header) and stops at the first END
   marker after it ("*** END OF THE/THIS PROJECT GUTENBERG EBOOK", "End of the Project Gutenberg
   EBook of", "End of Project Gutenberg's ...", or the full licence's "*** START: FULL LICENSE
   ***" when the END line is missing: that line and all after it go). A file without a
   START marker keeps its text from the top (counted `no_start_marker`), one without an END
   marker keeps it to the end (`no_end_marker`); both still give the book.
3. **Metadata** from the header: "Title:", "Author:", "Translator:", "Language:", "Release
   Date:" and the ebook number ("[EBook #1342]", "eBook #1342"; else a Gutenberg file name such
   as `pg1342.txt` or `1342-0.txt`, when the file has a START marker) go into
   `Document.metadata`; the language also into `lang` as an ISO 639-1 code ("English" -> "en").
4. **Leftovers dropped**: credit blocks at the top of the text ("Produced by", "E-text prepared
   by", blocks naming Distributed Proofreaders or the Internet Archive), transcriber's notes
   and "[Illustration: ...]" tags, each counted in `stats.counts`.
5. **Hard wraps undone.** Blank lines separate paragraphs. A block whose longest line comes near
   the book's wrap width (80% of the 90th percentile of its line lengths) is a wrapped paragraph:
   in it, a line is joined to the next when it is nearly as long as the block's longest line, or
   when the next line's first word would not have fitted on it (that is why the editor broke it
   there). A shorter line ended on purpose (a signature, an address) and keeps its break, and a
   block of short lines (verse, a list, a contents list) keeps all of them, so verse stays
   verse; a stanza of long lines is joined like prose (rare, and harmless for a language model).
   A line ending in a hyphen or dash is joined without a space. Indentation is dropped.
6. **Chapters** (`unit="chapter"`): a block that opens with "CHAPTER I", "Chapter 1.",
   "BOOK ONE", "PART II", "Chapter the First", "STAVE III", "ACT IV", "LETTER 2", "ADVENTURE V"
   (or a PROLOGUE / EPILOGUE) and has at most a title under it starts a chapter; a book with no
   chapter-level heading is split at bare roman-numeral lines ("IV.", "II. THE RED-HEADED
   LEAGUE") if it has two or more. Headings with (next to) no text under them join the chapter
   that follows ("PART II" above "CHAPTER I"), unless one kind repeats among them: that is a
   contents list, dropped up to where its first entry comes again in the text. Everything before
   the first chapter (title page, contents, dedication, an untitled preface, an etymology) is
   front matter and is dropped in chapter mode (counted `front_matter_dropped`). A book without
   chapter headings gives one document, as in book mode (counted `no_chapters`). Each chapter's
   metadata adds `chapter` (k) and `chapter_title` (its heading with the title line under it:
   "CHAPTER II. A COLD SATURDAY").

Urls are `https://www.gutenberg.org/ebooks/<n>` when the ebook number is known, else the file's
`file:` URI, with `#chapter-<k>` (k from 1, counted before `min_chars`) in chapter mode; ids are
`document_id(source, url)`. A document shorter than `min_chars` is dropped as `too_short`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import UserError
from corpus.records import Document, document_id
from corpus.sources.text_files import (
    READ_ERRORS,
    count_broken,
    decode_bytes,
    file_name,
    file_uri,
    open_decompressed,
)
from corpus.steps import StepStats

log = logging.getLogger(__name__)

UNITS = ("book", "chapter")
GUTENBERG_EBOOK_URL = "https://www.gutenberg.org/ebooks/{}"


@dataclass(frozen=True)
class GutenbergConfig:
    """One document per `book`, or per `chapter` (front matter dropped); shorter ones than
    `min_chars` characters are dropped."""

    unit: str = "book"
    min_chars: int = 500

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise UserError(f"gutenberg unit {self.unit!r}: not one of {', '.join(UNITS)}")
        if self.min_chars < 0:
            raise UserError(f"min_chars must be >= 0, not {self.min_chars}")


# -- licence header and footer -----------------------------------------------------------------

_START = re.compile(r"^\s*(?:\*+\s*start of (?:the|this) project gutenberg|\*?\s*end\s*\*?\s*the small print)",
                    re.I)
_END = re.compile(r"^\s*(?:\**\s*end of (?:the |this )?project gutenberg|\*+\s*start:\s*full licen[cs]e)", re.I)
HEADER_LINES_WITHOUT_MARKER = 100  # where metadata is looked for in a file without a START marker


def split_licence(lines: list[str]) -> tuple[list[str], list[str], bool, bool]:
    """(header, body, START found, END found) of a book's lines.

    The body starts after the last START marker that comes before the END marker (an old file
    can carry both a "*** START" line and the small print's end) and stops at the END marker.
    """
    starts = [i for i, line in enumerate(lines) if _START.match(line)]
    begin = starts[0] + 1 if starts else 0
    end = next((i for i in range(begin, len(lines)) if _END.match(lines[i])), None)
    later = [i for i in starts if i >= begin and (end is None or i < end)]
    if later:
        begin = later[-1] + 1
    header = lines[:begin - 1] if starts else lines[:HEADER_LINES_WITHOUT_MARKER]
    return header, lines[begin:end], bool(starts), end is not None


# -- metadata ----------------------------------------------------------------------------------

_FIELD = re.compile(r"^(title|author|authors|translator|translated by|editor|language|release date|posting date)"
                    r"\s*:\s*(.*)$", re.I)
_FIELD_KEYS = {"authors": "author", "translated by": "translator", "posting date": "release_date",
               "release date": "release_date"}
_EBOOK_NUMBER = re.compile(r"\be-?(?:book|text)\s*(?:no\.?\s*)?#\s*(\d+)", re.I)
_MARKER_NUMBER = re.compile(r"project gutenberg e-?book\s+#?(\d+)\s*\**\s*$", re.I)
_FILE_NUMBER = re.compile(r"^(?:pg)?(\d+)(?:-\d+)?(?:\.txt)?(?:\.(?:gz|bz2|zst))?$", re.I)
_FIRST_LINE = re.compile(r"^\W*the project gutenberg'?s?\s+e-?(?:book|text)\s+of\s+(.+?)(?:,?\s+by\s+(.+?))?"
                         r"[\s*]*$", re.I)
_ENCODING_HINT = re.compile(rb"^[ \t]*character set encoding[ \t]*:[ \t]*([^\r\n]+)", re.I | re.M)
# The labels Gutenberg headers use that the WHATWG list does not know.
_ENCODING_LABELS = {"iso latin-1": "iso-8859-1", "iso-latin-1": "iso-8859-1", "latin-1": "iso-8859-1",
                    "unicode utf-8": "utf-8", "unicode": "utf-8", "utf8": "utf-8", "ascii": "us-ascii"}
# Project Gutenberg's languages by name (its catalogue's spelling), as ISO 639-1 codes.
LANGUAGE_CODES = {
    "english": "en", "french": "fr", "german": "de", "finnish": "fi", "dutch": "nl", "italian": "it",
    "spanish": "es", "portuguese": "pt", "chinese": "zh", "greek": "el", "swedish": "sv", "latin": "la",
    "esperanto": "eo", "danish": "da", "tagalog": "tl", "norwegian": "no", "hungarian": "hu",
    "catalan": "ca", "welsh": "cy", "czech": "cs", "polish": "pl", "russian": "ru", "japanese": "ja",
    "icelandic": "is", "irish": "ga", "hebrew": "he", "arabic": "ar", "romanian": "ro", "afrikaans": "af",
    "galician": "gl", "serbian": "sr", "croatian": "hr", "slovenian": "sl", "slovak": "sk",
    "ukrainian": "uk", "bulgarian": "bg", "turkish": "tr", "korean": "ko", "hindi": "hi", "bengali": "bn",
    "sanskrit": "sa", "persian": "fa", "indonesian": "id", "malay": "ms", "estonian": "et", "latvian": "lv",
    "lithuanian": "lt", "basque": "eu", "breton": "br", "scottish gaelic": "gd", "gaelic": "gd",
    "frisian": "fy", "occitan": "oc", "yiddish": "yi", "interlingua": "ia", "volapuk": "vo",
}


def encoding_hint(payload: bytes) -> str | None:
    """The charset a Gutenberg header declares ("Character set encoding: ISO-8859-1"), as a
    label `corpus.charset` knows, or None."""
    m = _ENCODING_HINT.search(payload, 0, 1 << 16)
    if m is None:
        return None
    label = m.group(1).decode("ascii", "replace").strip().lower()
    return _ENCODING_LABELS.get(label, label) or None


def language_code(language: str | None) -> str | None:
    """An ISO 639-1 code for a header's "Language:" ("English", "English, French", "en")."""
    if not language:
        return None
    first = re.split(r",|;|\band\b|/", language.strip().lower())[0].strip()
    if re.fullmatch(r"[a-z]{2}", first):
        return first
    return LANGUAGE_CODES.get(first)


def book_metadata(header: list[str], start_marker: str | None, name: str) -> dict[str, Any]:
    """Title, author, translator, language, release date and ebook number from a header."""
    meta: dict[str, Any] = {}
    last: str | None = None
    for line in header:
        m = _FIELD.match(line.strip())
        if m:
            key = m.group(1).lower()
            last = _FIELD_KEYS.get(key, key)
            if last not in meta and m.group(2).strip():
                meta[last] = m.group(2).strip()
            else:
                last = None
        elif last in ("title", "author", "translator") and line[:1].isspace() and line.strip():
            meta[last] += " " + line.strip()  # a field that goes on over indented lines
        else:
            last = None
    for line in header[:5]:  # "The Project Gutenberg EBook of Emma, by Jane Austen"
        m = _FIRST_LINE.match(line)
        if m:
            meta.setdefault("title", m.group(1).strip())
            if m.group(2):
                meta.setdefault("author", m.group(2).strip())
            break
    number = _EBOOK_NUMBER.search("\n".join(header))
    number = number or (_MARKER_NUMBER.search(start_marker) if start_marker else None)
    number = number or (_FILE_NUMBER.match(name) if start_marker else None)
    if number:
        meta["ebook"] = int(number.group(1))
    return meta


# -- the text: leftovers, paragraphs -----------------------------------------------------------

CREDIT_BLOCKS = 8  # credits are looked for among the body's first blocks only
MAX_NOTE_LINES = 200  # a bracketed note that does not close within this many lines is one block
_CREDIT = re.compile(r"^(?:produced by|e-?text prepared by|this e-?(?:text|book) was (?:prepared|produced|made) by"
                     r"|transcribed (?:from|by)|prepared by|credits?\s*:|scanned (?:and proofed )?by|proofread by"
                     r"|html version by)", re.I)
_CREDIT_WORDS = re.compile(r"distributed\s+proofread|pgdp\.net|internet\s+archive|project\s+gutenberg", re.I)
_NOTE = re.compile(r"^\[?\s*transcriber['’]?s?\s+notes?\b", re.I)
_ILLUSTRATION = re.compile(r"^\[\s*(?:illustration|frontispiece)\b", re.I)


def blocks_of(lines: list[str]) -> list[list[str]]:
    """The blank-line separated blocks of `lines` (trailing whitespace removed)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _bracket_end(blocks: list[list[str]], i: int) -> tuple[int, int] | None:
    """(block, line) where the bracket opened at the start of block `i` closes, or None."""
    depth, seen = 0, 0
    for b in range(i, len(blocks)):
        for k, line in enumerate(blocks[b]):
            depth += line.count("[") - line.count("]")
            seen += 1
            if depth <= 0:
                return b, k
            if seen >= MAX_NOTE_LINES:
                return None
    return None


def drop_leftovers(blocks: list[list[str]], counts: Counter) -> list[list[str]]:
    """The blocks without credits (at the top), transcriber's notes and illustration tags."""
    out: list[list[str]] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        first = block[0].strip()
        if _NOTE.match(first) or _ILLUSTRATION.match(first):
            counts["transcriber_notes_dropped" if _NOTE.match(first) else "illustrations_dropped"] += 1
            closes = _bracket_end(blocks, i) if first.startswith("[") else None
            if closes is None:  # unbracketed, or a bracket that never closes: this block only
                i += 1
                continue
            b, k = closes
            dropped = [line for note in blocks[i:b] for line in note] + blocks[b][:k + 1]
            # A chapter heading set inside a picture's caption ("[Illustration: ... Chapter I.]") is
            # the chapter's only heading: it stays, as a block of its own.
            out.extend([text] for line in dropped if keyword_heading(text := line.strip().strip("[]").strip()))
            rest = blocks[b][k + 1:]
            if rest:
                out.append(rest)
            i = b + 1
            continue
        if i < CREDIT_BLOCKS and (_CREDIT.match(first) or _CREDIT_WORDS.search(" ".join(block))):
            counts["credit_blocks_dropped"] += 1
            i += 1
            continue
        out.append(block)
        i += 1
    return out


def wrap_width(blocks: list[list[str]]) -> int:
    """The width a book's lines were wrapped at: the 90th percentile of their lengths."""
    lengths = sorted(len(line) for block in blocks for line in block)
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0


PROSE_WIDTH = 0.8  # a block whose longest line is shorter than this share of the book's width is verse-like
FULL_LINE = 0.75   # in a wrapped block, a line this long (as a share of the block's width) was wrapped


def rejoin(block: list[str], book_width: int) -> str:
    """A block's hard-wrapped lines joined into a paragraph, keeping breaks made on purpose.

    Only a block whose longest line comes near the book's wrap width is a wrapped paragraph (a
    stanza of short lines is verse). In one, a line is joined to the next when it is nearly as
    long as the block's longest line, or when the next line's first word would not have fitted
    on it (one book can be wrapped at 65 in one place and 75 in another, hence the block's own
    width); a shorter line ended on purpose (a signature, an address) and keeps its break. A line
    ending in a hyphen or dash is joined without a space; no line is joined to a chapter heading
    (contents lists).
    """
    width = max(len(line) for line in block)
    if width < PROSE_WIDTH * book_width:
        return "\n".join(line.strip() for line in block)
    out: list[str] = []
    current = ""
    for k, line in enumerate(block):
        text = line.strip()
        current = text if not current else current + ("" if current.endswith(("-", "—")) else " ") + text
        nxt = block[k + 1].strip() if k + 1 < len(block) else ""
        wrapped = len(line) >= FULL_LINE * width or len(line) + 1 + len(nxt.split(None, 1)[0] if nxt else "") > width
        if not nxt or not wrapped or keyword_heading(nxt) is not None:
            out.append(current)
            current = ""
    return "\n".join(out)


# -- chapters ----------------------------------------------------------------------------------

MAX_HEADING_CHARS = 80
EMPTY_SECTION_CHARS = 200  # a heading with less text than this under it is stacked or listed
_ROMAN = r"(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_WORD_NUMBER = (rf"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:{_UNITS}))?"
                rf"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|{_UNITS})")
_ORDINAL = (r"(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
            r"|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|last)")
_NUMBER = rf"(?P<number>{_ROMAN}|\d{{1,3}}|(?i:{_WORD_NUMBER})|(?i:{_ORDINAL}))"
_AFTER_NUMBER = r"(?=\s*$|\s*[.:—–-]|\s+[A-Z0-9\"“‘'_(\[])"  # the end, punctuation, or a title
_KEYWORD_HEADING = re.compile(
    r"^(?P<kind>CHAPTER|Chapter|CHAP\.|Chap\.|BOOK|Book|PART|Part|VOLUME|Volume|VOL\.|Vol\.|STAVE|Stave|ACT|Act"
    rf"|LETTER|Letter|ADVENTURE|Adventure)\s+{_NUMBER}{_AFTER_NUMBER}"
    r"|^(?P<alone>PROLOGUE|Prologue|EPILOGUE|Epilogue)(?=\.?\s*$|[.:—–-]\s*\S)")
_ROMAN_HEADING = re.compile(rf"^(?P<number>{_ROMAN})(?:\.?\s*$|\.\s+[^a-z]+$)")
_KIND_NAMES = {"CHAP.": "CHAPTER", "VOL.": "VOLUME"}
# Headings above chapters: a book with only these may number its chapters with bare roman numerals.
_DIVISIONS = frozenset({"BOOK", "PART", "VOLUME", "PROLOGUE", "EPILOGUE"})
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}

Heading = tuple[str, str]  # (kind, number): "CHAPTER I" and "Chapter 1." are ("CHAPTER", "1")


def _number_key(number: str) -> str:
    """A heading's number in one spelling: roman and arabic numerals as a decimal string."""
    if number.isdigit():
        return str(int(number))
    if re.fullmatch(_ROMAN, number):
        values = [_ROMAN_VALUES[c] for c in number]
        return str(sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)))
    return " ".join(number.upper().split()).removeprefix("THE ")


def keyword_heading(line: str) -> Heading | None:
    """The heading a line is ("CHAPTER IV.", "Book One", "PART 2: ...", "EPILOGUE"), or None."""
    m = _KEYWORD_HEADING.match(line)
    if m is None:
        return None
    if m.group("alone"):
        return m.group("alone").upper(), ""
    kind = m.group("kind").upper()
    return _KIND_NAMES.get(kind, kind), _number_key(m.group("number"))


def roman_heading(line: str) -> Heading | None:
    """A bare roman-numeral heading ("IV.", "II. THE RED-HEADED LEAGUE"), or None."""
    m = _ROMAN_HEADING.match(line)
    return ("ROMAN", _number_key(m.group("number"))) if m else None


def any_heading(line: str) -> Heading | None:
    return keyword_heading(line) or roman_heading(line)


@dataclass
class Section:
    """A chapter in the making: its blocks, the headings that open it, its title."""

    blocks: list[list[str]]
    headings: list[Heading]
    title: str
    body_chars: int = 0

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.headings]


MAX_TITLE_LINES = 4  # lines a heading block may have after its headings (the chapter's title)


def _opening_headings(block: list[str], heading_of, full_line: float) -> list[Heading]:
    """The headings a block begins with (several in a contents list).

    None when the block is a paragraph that happens to begin like a heading ("BOOK I. (Folio),
    CHAPTER I. (Sperm Whale).--This whale, ..."): more than a title follows the headings, or
    the heading line is as long as a wrapped line and more than the end of its title (one line)
    follows it.
    """
    headings = []
    for line in block:
        text = line.strip()
        heading = heading_of(text) if len(text) <= MAX_HEADING_CHARS else None
        if heading is None:
            break
        headings.append(heading)
    rest = len(block) - len(headings)
    if rest > MAX_TITLE_LINES or (headings and rest > 1 and len(block[len(headings) - 1]) >= full_line):
        return []
    return headings


MAX_TITLE_CHARS = 60


def _with_title(heading: str, title: str) -> str:
    """"CHAPTER II." and "A COLD SATURDAY" as "CHAPTER II. A COLD SATURDAY"."""
    return heading + (" " if heading[-1:] in ".:—-" else ". ") + title


def _is_title(block: list[str]) -> bool:
    """Whether a block is a chapter's title on its own ("Down the Rabbit-Hole", "A COLD
    SATURDAY"): one short line in capitals or title case, not a sentence of the text."""
    if len(block) != 1 or len(text := block[0].strip()) > MAX_TITLE_CHARS:
        return False
    return text.isupper() or all(word[0].isupper() or not word[0].isalpha() for word in text.split() if len(word) > 3)


def _sections(blocks: list[list[str]], heading_of) -> tuple[list[list[str]], list[Section]]:
    """(front matter, sections): each block that begins with a heading opens a section, titled
    by its heading block and the title block under it, if any."""
    full_line = FULL_LINE * wrap_width(blocks)
    front: list[list[str]] = []
    sections: list[Section] = []
    for block in blocks:
        headings = _opening_headings(block, heading_of, full_line)
        body = sum(len(line.strip()) for line in block[len(headings):])
        if headings:
            title = block[0].strip()
            if len(headings) == 1 and len(block) > 1:
                title = _with_title(title, " ".join(line.strip() for line in block[1:]))
            sections.append(Section([block], headings, title, body))
        elif sections:
            section = sections[-1]
            if len(section.blocks) == 1 and len(section.blocks[0]) == 1 and _is_title(block):
                section.title = _with_title(section.title, block[0].strip())
            section.blocks.append(block)
            section.body_chars += body
        else:
            front.append(block)
    return front, sections


def _drop_contents(sections: list[Section], counts: Counter) -> list[Section]:
    """The sections without contents lists.

    A contents list is a run of headings with (next to) no text under them (or a block of
    several headings) in which one kind repeats ("CHAPTER I", "CHAPTER II", ...). It ends where its
    earliest heading that comes again does (the text proper begins); everything from the list to
    there goes, as front matter does (Moby-Dick's etymology and extracts sit between its contents
    and "CHAPTER 1"). A list none of whose headings comes again loses only its own run.
    """
    out: list[Section] = []
    i = 0
    while i < len(sections):
        j = i
        while j < len(sections) and (len(sections[j].headings) > 1 or sections[j].body_chars < EMPTY_SECTION_CHARS):
            j += 1
        if j == i:
            out.append(sections[i])
            i += 1
            continue
        kinds = [kind for s in sections[i:j] for kind in s.kinds()]
        if len(set(kinds)) == len(kinds):
            out.extend(sections[i:j])
            i = j
            continue
        counts["contents_lists_dropped"] += 1
        i = _text_after_contents(sections, i, j)
    return out


def _text_after_contents(sections: list[Section], i: int, j: int) -> int:
    """Where the text proper begins after the contents list `sections[i:j]`: at the next
    section opening with the list's earliest heading that comes again, else at `j`; in both
    cases with the lone headings right above it that come nowhere later ("PART ONE" over the
    real "CHAPTER I", where the list named only chapters)."""
    for k in range(i, j):
        for heading in sections[k].headings:
            again = next((m for m in range(k + 1, len(sections)) if sections[m].headings[0] == heading), None)
            if again is not None:
                return _with_headings_above(sections, again, k)
    return _with_headings_above(sections, j, i)


def _with_headings_above(sections: list[Section], start: int, floor: int) -> int:
    """`start` moved up over the lone, empty headings above it (down to `floor`, excluded) that
    come nowhere later and whose kinds differ: the divisions a contents list runs into."""
    later = {h for s in sections[start:] for h in s.headings}
    kinds = set(sections[start].kinds()) if start < len(sections) else set()
    while start - 1 > floor:
        above = sections[start - 1]
        if (len(above.headings) != 1 or above.body_chars >= EMPTY_SECTION_CHARS
                or above.headings[0] in later or above.headings[0][0] in kinds):
            break
        kinds.add(above.headings[0][0])
        start -= 1
    return start


def _stack_headings(sections: list[Section]) -> list[Section]:
    """Headings with (next to) nothing under them joined to the chapter that follows: "PART II"
    over "CHAPTER I". Those after the last chapter stay on their own (short ones are dropped)."""
    out: list[Section] = []
    pending: list[Section] = []
    for section in sections:
        if section.body_chars < EMPTY_SECTION_CHARS:
            pending.append(section)
            continue
        if pending:
            stacked = [*pending, section]
            section = Section([b for s in stacked for b in s.blocks], [h for s in stacked for h in s.headings],
                              " / ".join(s.title for s in stacked), sum(s.body_chars for s in stacked))
            pending = []
        out.append(section)
    return out + pending


def split_chapters(blocks: list[list[str]], counts: Counter) -> list[Section] | None:
    """The chapters of a book's blocks, front matter and contents lists dropped; None when the
    book has no chapter headings outside its contents list."""
    found: Counter = Counter()
    front, sections = _sections(blocks, keyword_heading)
    kept = _drop_contents(sections, found)
    if all(kind in _DIVISIONS for s in kept for kind in s.kinds()):
        # No chapter-level keyword in the text: its chapters may be bare roman numerals ("I."
        # under "PART FIRST"; "CHAPTER I." may be in the contents list only).
        found_r: Counter = Counter()
        front_r, sections_r = _sections(blocks, any_heading)
        kept_r = _drop_contents(sections_r, found_r)
        if sum(kind == "ROMAN" for s in kept_r for kind in s.kinds()) >= 2:
            front, sections, kept, found = front_r, sections_r, kept_r, found_r
    chapters = _stack_headings(kept)
    if not chapters:
        return None
    counts.update(found)
    if front or chapters[0].blocks[0] is not sections[0].blocks[0]:
        counts["front_matter_dropped"] += 1
    return chapters


# -- the reader --------------------------------------------------------------------------------


@dataclass
class Book:
    """A book file read and cleaned: its metadata and its text as blocks of lines."""

    metadata: dict[str, Any]
    blocks: list[list[str]]
    has_start: bool
    has_end: bool
    counts: Counter


def parse_book(payload: bytes, name: str) -> Book:
    """Decode a Gutenberg file and take it apart: licence off, metadata out, leftovers dropped."""
    text, encoding = decode_bytes(payload, encoding_hint(payload))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header, body, has_start, has_end = split_licence(lines)
    start_marker = lines[len(header)] if has_start else None
    metadata = book_metadata(header, start_marker, name)
    metadata["encoding"] = encoding
    metadata["file"] = name
    counts: Counter = Counter()
    blocks = drop_leftovers(blocks_of(body), counts)
    return Book(metadata, blocks, has_start, has_end, counts)


def _render(blocks: list[list[str]], width: int) -> str:
    return "\n\n".join(rejoin(block, width) for block in blocks).strip()


def read_gutenberg(path: str | Path, source: str, stats: StepStats,
                   config: GutenbergConfig = GutenbergConfig()) -> Iterator[Document]:
    """Documents of one Project Gutenberg plain-text book: the whole book, or its chapters.

    See the module docstring for what is removed and how; counts land in `stats.counts`
    (`no_start_marker`, `no_end_marker`, ...), drops in `stats.dropped` (`too_short`,
    `empty_text`, `truncated_file`).
    """
    path = str(path)
    name = file_name(path)
    try:
        with open_decompressed(path) as stream:
            payload = stream.read()
    except READ_ERRORS as err:
        count_broken(stats, path, err)
        return
    book = parse_book(payload, name)
    stats.counts.update(book.counts)
    if not book.has_start:
        stats.counts["no_start_marker"] += 1
        log.info("%s: no START marker: the text is kept from the top", name)
    if not book.has_end:
        stats.counts["no_end_marker"] += 1
        log.info("%s: no END marker: the text is kept to the end", name)
    meta = book.metadata
    url = GUTENBERG_EBOOK_URL.format(meta["ebook"]) if "ebook" in meta else file_uri(path)
    width = wrap_width(book.blocks)
    chapters = split_chapters(book.blocks, stats.counts) if config.unit == "chapter" else None
    if config.unit == "chapter" and chapters is None:
        stats.counts["no_chapters"] += 1
    if chapters is None:
        pieces = [(url, _render(book.blocks, width), meta)]
    else:
        pieces = [(f"{url}#chapter-{k}", _render(chapter.blocks, width),
                   {**meta, "chapter": k, "chapter_title": chapter.title})
                  for k, chapter in enumerate(chapters, 1)]
    lang = language_code(meta.get("language"))
    for doc_url, text, metadata in pieces:
        doc = Document(id=document_id(source, doc_url), url=doc_url, source=source, text=text, lang=lang,
                       domain="gutenberg.org" if doc_url.startswith("https://") else None, metadata=metadata)
        stats.n_in += 1
        if not text:
            stats.drop("empty_text", doc=doc)
        elif len(text) < config.min_chars:
            stats.drop("too_short", doc=doc)
        else:
            stats.keep(doc)
            yield doc
