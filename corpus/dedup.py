"""Exact de-duplication on normalised text, global over all parts of a run."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus.shards import iter_batches, row_document
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
    """Keeps one document per normalised text: the one with the smallest id.

    Two passes over the parts: the first finds each text's keeper (16 bytes of hash and the id
    per distinct text in memory), the second streams the rows and yields the keepers. Choosing
    by id, not by position, makes the result independent of input order and worker count.
    """

    name = "exact_dedup"

    def __init__(self) -> None:
        self.stats = StepStats(self.name)

    def __call__(self, parts: Sequence[Path]) -> Iterator[dict[str, Any]]:
        keeper: dict[bytes, str] = {}
        for batch in iter_batches(parts, columns=["id", "text"]):
            for doc_id, text in zip(batch.column("id").to_pylist(), batch.column("text").to_pylist()):
                h = text_hash(text)
                if h not in keeper or doc_id < keeper[h]:
                    keeper[h] = doc_id
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
