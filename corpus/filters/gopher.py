"""Gopher's quality and repetition rules (Rae et al. 2021, App. A), with FineWeb's thresholds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from corpus.records import Document
from corpus.steps import Filter
from corpus.text import lines, paragraphs, tokens

STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
BULLETS = ("•", "●", "○", "■", "□", "▪", "▫", "-", "*", "‣", "⁃", "◦")


@dataclass
class GopherQualityConfig:
    min_words: int = 50
    max_words: int = 100_000
    min_avg_word_length: float = 3
    max_avg_word_length: float = 10
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    min_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2


class GopherQualityFilter(Filter):
    """Drops documents that do not look like prose: wrong length, odd words, lists, no stop words."""

    name = "gopher_quality"

    def __init__(self, config: GopherQualityConfig | None = None) -> None:
        super().__init__()
        self.config = config or GopherQualityConfig()

    def filter(self, doc: Document) -> bool | str:
        c = self.config
        text = doc.text
        ws = tokens(text)
        n = len(ws)
        if n < c.min_words:
            return "gopher_short_doc"
        if n > c.max_words:
            return "gopher_long_doc"
        avg = sum(len(w) for w in ws) / n
        if avg < c.min_avg_word_length or avg > c.max_avg_word_length:
            return "gopher_avg_word_length"
        symbols = text.count("#") + text.count("...") + text.count("…")
        if symbols / n > c.max_symbol_word_ratio:
            return "gopher_symbol_word_ratio"
        ls = lines(text)
        if ls and sum(ln.startswith(BULLETS) for ln in ls) / len(ls) > c.max_bullet_lines_ratio:
            return "gopher_bullet_lines"
        if ls and sum(ln.endswith(("...", "…")) for ln in ls) / len(ls) > c.max_ellipsis_lines_ratio:
            return "gopher_ellipsis_lines"
        raw = text.split()
        if sum(any(ch.isalpha() for ch in t) for t in raw) / len(raw) < c.min_alpha_words_ratio:
            return "gopher_alpha_words"
        if sum(w.lower() in STOP_WORDS for w in ws) < c.min_stop_words:
            return "gopher_stop_words"
        return True


def duplicate_counts(items: list[str]) -> tuple[int, int]:
    """How many items repeat an earlier one, and how many characters those repeats hold."""
    seen: set[str] = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_items, dup_chars


def top_ngram_chars(ws: list[str], n: int) -> int:
    """Characters covered by the most frequent word n-gram (its length times its count)."""
    # Tuples, not joined strings: half the time, and the same answer (words hold no spaces, so a
    # gram's length is its words' lengths plus n - 1 separators).
    grams = Counter(zip(*(ws[k:] for k in range(n))))
    if not grams:
        return 0
    gram, count = grams.most_common(1)[0]
    return (sum(map(len, gram)) + n - 1) * count if count > 1 else 0


def duplicated_ngram_chars(ws: list[str], n: int) -> int:
    """Characters of words inside n-grams that occurred before, each word counted once."""
    seen: set[tuple[str, ...]] = set()
    counted = [False] * len(ws)
    for i in range(len(ws) - n + 1):
        gram = tuple(ws[i:i + n])
        if gram in seen:
            for j in range(i, i + n):
                counted[j] = True
        else:
            seen.add(gram)
    return sum(len(w) for w, c in zip(ws, counted) if c)


@dataclass
class GopherRepetitionConfig:
    max_dup_line_frac: float = 0.3
    max_dup_para_frac: float = 0.3
    max_dup_line_char_frac: float = 0.2
    max_dup_para_char_frac: float = 0.2
    top_ngram_char_frac: tuple[tuple[int, float], ...] = ((2, 0.20), (3, 0.18), (4, 0.16))
    dup_ngram_char_frac: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


class GopherRepetitionFilter(Filter):
    """Drops documents that repeat themselves: lines, paragraphs, or word n-grams."""

    name = "gopher_repetition"

    def __init__(self, config: GopherRepetitionConfig | None = None) -> None:
        super().__init__()
        self.config = config or GopherRepetitionConfig()

    def filter(self, doc: Document) -> bool | str:
        c = self.config
        text = doc.text
        total = max(len(text), 1)
        paras = paragraphs(text)
        dup, chars = duplicate_counts(paras)
        if paras and dup / len(paras) > c.max_dup_para_frac:
            return "gopher_dup_paragraphs"
        if chars / total > c.max_dup_para_char_frac:
            return "gopher_dup_paragraph_chars"
        ls = lines(text)
        dup, chars = duplicate_counts(ls)
        if ls and dup / len(ls) > c.max_dup_line_frac:
            return "gopher_dup_lines"
        if chars / total > c.max_dup_line_char_frac:
            return "gopher_dup_line_chars"
        ws = [w.lower() for w in tokens(text)]
        for n, frac in c.top_ngram_char_frac:
            if top_ngram_chars(ws, n) / total > frac:
                return f"gopher_top_{n}gram"
        for n, frac in c.dup_ngram_char_frac:
            if duplicated_ngram_chars(ws, n) / total > frac:
                return f"gopher_dup_{n}gram"
        return True
