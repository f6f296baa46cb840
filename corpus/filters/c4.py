"""C4's line and document rules (Raffel et al. 2020), as FineWeb applies them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.records import Document
from corpus.steps import Step
from corpus.text import TERMINAL_PUNCTUATION

POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                     "use of cookies", "use cookies")
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.I)
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


@dataclass
class C4Config:
    min_words_per_line: int = 3
    max_word_length: int = 1000
    min_sentences: int = 5
    remove_citations: bool = True
    # FineWeb turned this off and uses its own document-level punctuation rule instead.
    drop_lines_without_terminal_punct: bool = False


class C4Filter(Step):
    """Removes boilerplate lines, then drops documents that are code, placeholders or too short.

    Line removals change the text but not the document count; they are tallied in
    `stats.counts` as `lines_removed:<reason>`, while dropped documents get named reasons.
    """

    name = "c4"

    def __init__(self, config: C4Config | None = None) -> None:
        super().__init__()
        self.config = config or C4Config()

    def clean_lines(self, text: str) -> list[str]:
        c = self.config
        kept = []
        for line in text.split("\n"):
            line = line.strip()
            if not line:
                continue
            if c.remove_citations:
                line = _CITATION.sub("", line)
            lower = line.lower()
            if c.drop_lines_without_terminal_punct and not line.endswith(TERMINAL_PUNCTUATION):
                self.stats.counts["lines_removed:no_terminal_punct"] += 1
            elif len(line.split()) < c.min_words_per_line:
                self.stats.counts["lines_removed:too_few_words"] += 1
            elif max((len(w) for w in line.split()), default=0) > c.max_word_length:
                self.stats.counts["lines_removed:word_too_long"] += 1
            elif "javascript" in lower:
                self.stats.counts["lines_removed:javascript"] += 1
            elif any(p in lower for p in POLICY_SUBSTRINGS):
                self.stats.counts["lines_removed:policy"] += 1
            else:
                kept.append(line)
        return kept

    def __call__(self, docs):
        for doc in docs:
            self.stats.n_in += 1
            reason = self._check(doc)
            if reason:
                self.stats.drop(reason, doc=doc)
                continue
            self.stats.keep(doc)
            yield doc

    def _check(self, doc: Document) -> str | None:
        lower = doc.text.lower()
        if "lorem ipsum" in lower:
            return "c4_lorem_ipsum"
        if "{" in doc.text:  # code, templates, JSON: not natural language
            return "c4_curly_bracket"
        kept = self.clean_lines(doc.text)
        text = "\n".join(kept)
        if len(_SENTENCE_END.findall(text)) < self.config.min_sentences:
            return "c4_too_few_sentences"
        doc.text = text
        return None
