"""Main-text extraction from HTML with trafilatura."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from corpus.records import Document
from corpus.steps import Step

log = logging.getLogger(__name__)


@dataclass
class ExtractionConfig:
    """trafilatura settings; the defaults are FineWeb's (precision first, no comments)."""

    favor_precision: bool = True
    include_comments: bool = False
    include_tables: bool = False


def decode_html(payload: bytes, charset: str | None) -> str | bytes:
    """Decode with the declared charset; without one, hand bytes to trafilatura, which detects it."""
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # a charset name Python does not know
            pass
    return payload


class TrafilaturaExtractor(Step):
    """Replaces each document's HTML by its main text; pages with no main text are dropped."""

    name = "extract"

    def __init__(self, config: ExtractionConfig | None = None) -> None:
        super().__init__()
        self.config = config or ExtractionConfig()

    def extract(self, html: str | bytes, url: str | None = None) -> str | None:
        import trafilatura

        return trafilatura.extract(
            html,
            url=url,
            favor_precision=self.config.favor_precision,
            include_comments=self.config.include_comments,
            include_tables=self.config.include_tables,
            deduplicate=False,
        )

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            self.stats.n_in += 1
            try:
                text = self.extract(decode_html(doc.html or b"", doc.charset), url=doc.url)
            except Exception as err:  # one bad page must not stop the run
                log.warning("extraction failed for %s: %s", doc.url, err)
                self.stats.drop("extraction_error")
                continue
            doc.html = None  # the HTML is large and never needed again
            text = (text or "").strip()
            if not text:
                self.stats.drop("no_main_text")
                continue
            doc.text = text
            self.stats.n_out += 1
            yield doc
