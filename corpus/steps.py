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


MAX_EXAMPLES = 3  # dropped documents kept per reason, for the report
HIST_BINS = 20


@dataclass
class StepStats:
    """Counters of one step: documents in, out, and dropped by reason.

    Beside the counts: bytes of what went out (payload bytes for readers, text bytes after
    extraction), a few examples of dropped documents per reason, and fixed-bin histograms of
    scores in [0, 1] (language, quality) for the report.
    """

    name: str
    n_in: int = 0
    n_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    # Tallies that are not documents dropped: lines removed, addresses anonymised, ...
    counts: Counter = field(default_factory=Counter)
    bytes_out: int = 0
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    histograms: dict[str, list[int]] = field(default_factory=dict)

    def keep(self, doc: Document) -> None:
        self.n_out += 1
        self.bytes_out += len(doc.text.encode("utf-8")) if doc.text else len(doc.html or b"")

    def drop(self, reason: str, n: int = 1, doc: Document | None = None) -> None:
        if not n:
            return
        self.dropped[reason] += n
        if doc is not None:
            examples = self.examples.setdefault(reason, [])
            if len(examples) < MAX_EXAMPLES:
                examples.append({"url": doc.url, "text": doc.text[:600]})

    def observe(self, name: str, value: float) -> None:
        """Count a score in [0, 1] into the step's histogram `name`."""
        bins = self.histograms.setdefault(name, [0] * HIST_BINS)
        bins[min(max(int(value * HIST_BINS), 0), HIST_BINS - 1)] += 1

    def merge(self, other: "StepStats") -> None:
        """Add another worker's counters for the same step (examples: first come, first kept)."""
        self.n_in += other.n_in
        self.n_out += other.n_out
        self.dropped.update(other.dropped)
        self.counts.update(other.counts)
        self.bytes_out += other.bytes_out
        for reason, examples in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(examples[: MAX_EXAMPLES - len(mine)])
        for name, bins in other.histograms.items():
            mine = self.histograms.setdefault(name, [0] * len(bins))
            self.histograms[name] = [a + b for a, b in zip(mine, bins)]

    def balanced(self) -> bool:
        return self.n_in == self.n_out + sum(self.dropped.values())

    def to_dict(self, details: bool = True) -> dict[str, Any]:
        """The counters as JSON; `details` adds examples and histograms (kept out of the manifest)."""
        d = {
            "name": self.name,
            "in": self.n_in,
            "out": self.n_out,
            "dropped": dict(sorted(self.dropped.items())),
            "counts": dict(sorted(self.counts.items())),
            "bytes_out": self.bytes_out,
        }
        if details:
            d["examples"] = self.examples
            d["histograms"] = self.histograms
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StepStats":
        return cls(d["name"], d["in"], d["out"], Counter(d["dropped"]), Counter(d.get("counts", {})),
                   d.get("bytes_out", 0), d.get("examples", {}), d.get("histograms", {}))


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
                self.stats.keep(doc)
                yield doc
            else:
                self.stats.drop(reason, doc=doc)


def run_steps(docs: Iterable[Document], steps: list[Step]) -> Iterator[Document]:
    """Chain steps lazily: the output of each is the input of the next."""
    for step in steps:
        docs = step(docs)
    yield from docs
