"""A tap on the document stream: keeps a copy of raw extracted text for the quality classifier.

GPT-3 trained its classifier against *unfiltered* Common Crawl text. The map stage extracts every
page anyway, so the tap saves up to `max_docs` texts per input as they go by, instead of a second
extraction pass later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from corpus.records import Document
from corpus.steps import Step
from corpus.writers.shard_writer import ShardWriter


class RawTextTap(Step):
    """Passes every document on unchanged, writing the first `max_docs` to `out_dir`.

    The file is finished (renamed into place) when the stream ends; a killed run leaves only a
    temp file, and the rerun of the same input writes the same file again.
    """

    name = "raw_tap"

    def __init__(self, out_dir: Path, max_docs: int = 2000) -> None:
        super().__init__()
        self.out_dir = Path(out_dir)
        self.max_docs = max_docs

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        with ShardWriter(self.out_dir, prefix="raw") as writer:
            for doc in docs:
                self.stats.n_in += 1
                if self.stats.counts["tapped"] < self.max_docs:
                    writer.write(doc)
                    self.stats.counts["tapped"] += 1
                self.stats.keep(doc)
                yield doc
