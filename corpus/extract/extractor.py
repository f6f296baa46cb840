"""The extraction step: each page's HTML replaced by its main text, with a real per-page time limit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from corpus.extract.engines import ExtractionConfig, decode_html, extract_text
from corpus.extract.sandbox import ExtractionTimeout, shared_sandbox
from corpus.records import Document
from corpus.steps import Step

log = logging.getLogger(__name__)


class Extractor(Step):
    """Replaces each document's HTML by its main text; pages with none, or too slow, are dropped."""

    name = "extract"

    def __init__(self, config: ExtractionConfig | None = None) -> None:
        super().__init__()
        self.config = config or ExtractionConfig()

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        sandbox = shared_sandbox(self.config) if self.config.timeout_s > 0 else None
        for doc in docs:
            self.stats.n_in += 1
            if doc.html is None and doc.text:  # WET records and plain-text pages
                self.stats.counts["already_text"] += 1
                self.stats.keep(doc)
                yield doc
                continue
            html = decode_html(doc.html or b"", doc.charset)
            if doc.charset and isinstance(html, bytes):  # unknown label, or bytes it cannot hold
                self.stats.counts["declared_charset_failed"] += 1  # the engine detects the encoding
            doc.html = None  # the HTML is large and never needed again
            try:
                text = (sandbox.extract(html, doc.url) if sandbox
                        else extract_text(html, doc.url, self.config))
            except ExtractionTimeout:
                log.warning("extraction timed out for %s", doc.url)
                self.stats.drop("extraction_timeout", doc=doc)
                continue
            except Exception as err:  # one bad page must not stop the run
                log.warning("extraction failed for %s: %s", doc.url, err)
                self.stats.drop("extraction_error", doc=doc)
                continue
            text = (text or "").strip()
            if not text:
                self.stats.drop("no_main_text", doc=doc)
                continue
            doc.text = text
            self.stats.keep(doc)
            yield doc
