"""What "words" means in webtext: one module, two notions, each defined once.

**Matching words** (`normalize`, `words`, `word_spans`) decide whether two texts are the same:
exact dedup (`corpus.dedup.exact`), MinHash shingles (`corpus.dedup.minhash`) and benchmark
decontamination (`corpus.dedup.decontamination`) all use them, so "Café" and "cafe" are one word
to each of them. A text is normalised by compatibility decomposition (NFKD: "ﬁ" -> "fi", full-width
letters -> ASCII), with combining marks (accents) removed and case folded to lower; its words are
the maximal runs of letters and digits of the result (punctuation, `_` and spaces separate them).

**Surface tokens** (`tokens`) measure how a text looks, as the Gopher, C4 and FineWeb rules do:
whitespace-separated tokens with surrounding punctuation stripped, case and accents kept ("It's"
is one token, its mean length counts the apostrophe). They are deliberately not normalised: a rule
on mean word length or on symbols must see the text as written.

The shard column `n_words` is `len(text.split())`, the plain whitespace count.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from functools import cache

PUNCTUATION = frozenset(string.punctuation + "“”‘’«»…–—·•")
_STRIP = "".join(PUNCTUATION)  # built once: str.strip takes the characters as a string
# What a line or sentence ends with when it is prose (datatrove's TERMINAL_PUNCTUATION, abridged).
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "'", "”", "’", "。", "！", "？", "…", ":", ";", ")")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
WORD = re.compile(r"[^\W_]+")  # a run of letters and digits (str.isalnum), in normalised text
_WHITESPACE_TOKEN = re.compile(r"\S+")


@cache
def _combining_marks() -> dict[int, None]:
    """str.translate table deleting every combining mark (built once per process, ~0.1 s).

    translate runs in C; testing `unicodedata.combining` per character in Python would cost
    ~50x more on the non-ASCII texts that need it.
    """
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))}


def normalize(text: str) -> str:
    """`text` as matching sees it: NFKD, combining marks removed, lower case.

    ASCII text (most of an English corpus) is only lower-cased: NFKD leaves it unchanged.
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_combining_marks()).lower()


def words(text: str) -> list[str]:
    """The matching words of `text`: runs of letters and digits of `normalize(text)`."""
    return WORD.findall(normalize(text))


def word_spans(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The matching words of `text` and, for each, the (start, end) of its characters in `text`.

    The words are exactly `words(text)`. Normalisation can change lengths (NFKD, lower-casing),
    so it is applied per whitespace token: words of an ASCII token get their own offsets; the
    words of a token with other characters all get the token's span (a cut at those offsets
    also takes the punctuation that clings to such a token).
    """
    found, spans = [], []
    for token in _WHITESPACE_TOKEN.finditer(text):
        start = token.start()
        if token.group().isascii():
            for m in WORD.finditer(token.group()):
                found.append(m.group().lower())
                spans.append((start + m.start(), start + m.end()))
        else:
            for w in words(token.group()):
                found.append(w)
                spans.append(token.span())
    return found, spans


def tokens(text: str) -> list[str]:
    """Surface tokens: whitespace tokens with surrounding punctuation stripped, pure punctuation
    removed; case and accents kept (the Gopher rules' "words")."""
    out = []
    for token in text.split():
        w = token.strip(_STRIP)
        if w:
            out.append(w)
    return out


def lines(text: str) -> list[str]:
    """Non-empty lines, stripped."""
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def paragraphs(text: str) -> list[str]:
    """Non-empty blocks separated by blank lines, stripped."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]
