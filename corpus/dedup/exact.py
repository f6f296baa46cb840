"""Exact de-duplication on normalised text, global over all parts of a run.

A global pass (`exact_duplicate_keepers`) reads the text of every part once and chooses, for each
distinct normalised text, the document that keeps it; `ExactDeduplicator` is then an ordinary
step that drops every other copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from corpus.readers.shards import iter_batches
from corpus.records import Document
from corpus.steps import Filter
from corpus.text import words


def normalize_for_dedup(text: str) -> str:
    """Case, accents, punctuation and whitespace do not make two pages different."""
    return " ".join(words(text))


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(normalize_for_dedup(text).encode("utf-8"), digest_size=16).digest()


def exact_duplicate_keepers(parts: Sequence[Path]) -> dict[bytes, str]:
    """The global pass: for each distinct normalised text (by hash), the id of the document kept.

    The keeper is the highest quality score (a missing score ranks lowest), then the smallest
    id. Choosing by score and id, not by position, makes the result independent of input order
    and worker count, and agrees with fuzzy dedup's rule, so the two never drop both copies.
    Memory: 16 bytes of hash, the score and the id per distinct text.
    """
    best: dict[bytes, tuple[float, str]] = {}
    for batch in iter_batches(parts, columns=["id", "text", "quality_score"]):
        for doc_id, text, score in zip(*(batch.column(c).to_pylist() for c in ("id", "text", "quality_score"))):
            h = text_hash(text)
            rank = (-(score if score is not None else -1.0), doc_id)
            if h not in best or rank < best[h]:
                best[h] = rank
    return {h: rank[1] for h, rank in best.items()}


class ExactDeduplicator(Filter):
    """Keeps the one document per normalised text that `exact_duplicate_keepers` chose.

    Drop reasons: "duplicate_text" (another document keeps this text), "duplicate_id" (the
    same page captured twice: its second copy).
    """

    name = "exact_dedup"

    def __init__(self, keepers: dict[bytes, str]) -> None:
        super().__init__()
        self.keepers = keepers
        self.emitted: set[str] = set()

    def filter(self, doc: Document) -> bool | str:
        if self.keepers.get(text_hash(doc.text)) != doc.id:
            return "duplicate_text"
        if doc.id in self.emitted:
            return "duplicate_id"
        self.emitted.add(doc.id)
        return True
