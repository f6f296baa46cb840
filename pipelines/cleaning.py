"""The text-cleaning steps both recipes share: extraction, then language -> heuristics -> PII.

The order is FineWeb's: cheap, high-yield filters first; PII last so filters see the original text.
A pipeline lists `Extractor(config.extraction)` and then `*text_filters(config)`, with whatever
it needs between them (Common Crawl taps the raw text there for the quality classifier).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.extract.extractor import ExtractionConfig
from corpus.filters import (
    C4Filter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LengthFilter,
)
from corpus.filters.gopher import GopherQualityConfig
from corpus.filters.language import LanguageConfig, LanguageFilter
from corpus.filters.pii import PIIAnonymizer
from corpus.steps import Step


@dataclass
class CleaningConfig:
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    min_words: int = 50
    max_words: int = 100_000
    heuristics: bool = True  # Gopher, C4 and FineWeb rules
    anonymize_pii: bool = True


def text_filters(config: CleaningConfig) -> list[Step]:
    """The steps after extraction, as fresh objects (with zeroed counters) for one input."""
    steps: list[Step] = [LanguageFilter(config.language)]
    if config.heuristics:
        steps += [
            GopherRepetitionFilter(),
            GopherQualityFilter(GopherQualityConfig(min_words=config.min_words, max_words=config.max_words)),
            C4Filter(),
            FineWebQualityFilter(),
        ]
    else:
        steps.append(LengthFilter(config.min_words, config.max_words))
    if config.anonymize_pii:
        steps.append(PIIAnonymizer())
    return steps
