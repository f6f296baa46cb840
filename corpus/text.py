"""Text helpers shared by the heuristic filters: words, lines, paragraphs, punctuation."""

from __future__ import annotations

import re
import string

PUNCTUATION = frozenset(string.punctuation + "“”‘’«»…–—·•")
_STRIP = "".join(PUNCTUATION)  # built once: str.strip takes the characters as a string
# What a line or sentence ends with when it is prose (datatrove's TERMINAL_PUNCTUATION, abridged).
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "'", "”", "’", "。", "！", "？", "…", ":", ";", ")")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")


def words(text: str) -> list[str]:
    """Whitespace words with surrounding punctuation stripped; pure-punctuation tokens removed."""
    out = []
    for token in text.split():
        w = token.strip(_STRIP)
        if w:
            out.append(w)
    return out


def lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]
