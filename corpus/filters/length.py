"""Document-level heuristic filters."""

from __future__ import annotations

from corpus.records import Document
from corpus.steps import Filter


class LengthFilter(Filter):
    """Drops documents with too few or too many words (Gopher: 50 to 100,000)."""

    name = "length"

    def __init__(self, min_words: int = 50, max_words: int = 100_000) -> None:
        super().__init__()
        self.min_words = min_words
        self.max_words = max_words

    def filter(self, doc: Document) -> bool | str:
        n = len(doc.text.split())
        if n < self.min_words:
            return "too_few_words"
        if n > self.max_words:
            return "too_many_words"
        return True
