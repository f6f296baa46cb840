"""FineWeb's own rules (Penedo et al. 2024): line punctuation, short lines, duplicated lines, newlines."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.filters.gopher import duplicate_counts
from corpus.records import Document
from corpus.steps import Filter
from corpus.text import TERMINAL_PUNCTUATION, tokens


@dataclass
class FineWebQualityConfig:
    min_punct_line_ratio: float = 0.12
    short_line_length: int = 30
    max_short_line_ratio: float = 0.67
    max_dup_line_char_ratio: float = 0.01
    max_newline_word_ratio: float = 0.3


class FineWebQualityFilter(Filter):
    """Drops list-like and repetitive pages that Gopher and C4 let through."""

    name = "fineweb_quality"

    def __init__(self, config: FineWebQualityConfig | None = None) -> None:
        super().__init__()
        self.config = config or FineWebQualityConfig()

    def filter(self, doc: Document) -> bool | str:
        c = self.config
        ls = [ln for ln in doc.text.split("\n") if ln.strip()]
        if not ls:
            return "fineweb_empty"
        if sum(ln.rstrip().endswith(TERMINAL_PUNCTUATION) for ln in ls) / len(ls) <= c.min_punct_line_ratio:
            return "fineweb_line_punct_ratio"
        if sum(len(ln) <= c.short_line_length for ln in ls) / len(ls) >= c.max_short_line_ratio:
            return "fineweb_short_line_ratio"
        _, dup_chars = duplicate_counts(ls)
        if dup_chars / max(len(doc.text.replace("\n", "")), 1) > c.max_dup_line_char_ratio:
            return "fineweb_char_dup_ratio"
        if doc.text.count("\n") / max(len(tokens(doc.text)), 1) > c.max_newline_word_ratio:
            return "fineweb_list_ratio"
        return True
