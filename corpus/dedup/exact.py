"""Exact de-duplication on normalised text, global over all parts of a run."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus.readers.shards import iter_batches
from corpus.schema import row_document
from corpus.steps import StepStats

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_for_dedup(text: str) -> str:
    """Case, accents, punctuation and whitespace do not make two pages different."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text).strip()


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(normalize_for_dedup(text).encode("utf-8"), digest_size=16).digest()


class ExactDeduplicator:
    """Keeps one document per normalised text: the highest quality score, then the smallest id.

    Two passes over the parts: the first finds each text's keeper (16 bytes of hash, the score
    and the id per distinct text in memory), the second streams the rows and yields the keepers.
    Choosing by score and id, not by position, makes the result independent of input order and
    worker count, and agrees with fuzzy dedup's rule, so the two never drop both copies.
    """

    name = "exact_dedup"

    def __init__(self) -> None:
        self.stats = StepStats(self.name)

    def __call__(self, parts: Sequence[Path]) -> Iterator[dict[str, Any]]:
        best: dict[bytes, tuple[float, str]] = {}
        for batch in iter_batches(parts, columns=["id", "text", "quality_score"]):
            for doc_id, text, score in zip(*(batch.column(c).to_pylist() for c in ("id", "text", "quality_score"))):
                h = text_hash(text)
                rank = (-(score if score is not None else -1.0), doc_id)  # a missing score ranks lowest
                if h not in best or rank < best[h]:
                    best[h] = rank
        keeper = {h: rank[1] for h, rank in best.items()}
        del best
        emitted: set[str] = set()
        for batch in iter_batches(parts):
            for row in batch.to_pylist():
                self.stats.n_in += 1
                if keeper.get(text_hash(row["text"])) != row["id"]:
                    self.stats.drop("duplicate_text", doc=row_document(row))
                elif row["id"] in emitted:  # the same page captured twice
                    self.stats.drop("duplicate_id", doc=row_document(row))
                else:
                    emitted.add(row["id"])
                    self.stats.keep(row_document(row))
                    yield row
