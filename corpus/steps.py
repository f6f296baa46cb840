"""The contract every pipeline step follows, and the counters it keeps.

A step takes an iterator of documents and yields documents. It counts what came in, what went
out and, for every document it did not pass on, a named reason. The counters of all steps end
up in the run's manifest, where `n_in == n_out + sum(dropped.values())` must hold for each step.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from corpus.records import Document

log = logging.getLogger(__name__)


@dataclass
class StepStats:
    """Counters of one step: documents in, out, and dropped by reason."""

    name: str
    n_in: int = 0
    n_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    # Tallies that are not documents dropped: lines removed, addresses anonymised, ...
    counts: Counter = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        if n:
            self.dropped[reason] += n

    def merge(self, other: "StepStats") -> None:
        """Add another worker's counters for the same step."""
        self.n_in += other.n_in
        self.n_out += other.n_out
        self.dropped.update(other.dropped)
        self.counts.update(other.counts)

    def balanced(self) -> bool:
        return self.n_in == self.n_out + sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.n_in,
            "out": self.n_out,
            "dropped": dict(sorted(self.dropped.items())),
            "counts": dict(sorted(self.counts.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StepStats":
        return cls(d["name"], d["in"], d["out"], Counter(d["dropped"]), Counter(d.get("counts", {})))


class Step:
    """Base class of a step over an iterator of documents."""

    name: str = "step"

    def __init__(self) -> None:
        self.stats = StepStats(self.name)

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        raise TypeError(f"{type(self).__name__} must implement __call__")


class Filter(Step):
    """A step that keeps or drops each document; subclasses implement only `filter`.

    `filter(doc)` returns True to keep, or a reason string (or `(False, reason)`) to drop.
    """

    def filter(self, doc: Document) -> bool | str | tuple[bool, str]:
        raise TypeError(f"{type(self).__name__} must implement filter()")

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            self.stats.n_in += 1
            verdict = self.filter(doc)
            if isinstance(verdict, tuple):
                keep, reason = verdict
            elif isinstance(verdict, str):
                keep, reason = False, verdict
            else:
                keep, reason = bool(verdict), self.name
            if keep:
                self.stats.n_out += 1
                yield doc
            else:
                self.stats.drop(reason)


def run_steps(docs: Iterable[Document], steps: list[Step]) -> Iterator[Document]:
    """Chain steps lazily: the output of each is the input of the next."""
    for step in steps:
        docs = step(docs)
    yield from docs
