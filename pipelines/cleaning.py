"""The text-cleaning steps both recipes share: extraction, then language -> heuristics -> PII.

The order is FineWeb's: cheap, high-yield filters first; PII last so filters see the original text.
A pipeline lists `Extractor(config.extraction)` and then `*text_filters(config)`, with whatever
it needs between them (Common Crawl taps the raw text there for the quality classifier).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.cli_flags import CLEANING, flag
from corpus.extract.engines import ExtractionConfig
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
    min_words: int = field(default=50, metadata=flag("fewer words: dropped",
            name="--min-words", minimum=0, group=CLEANING))
    max_words: int = field(default=100_000, metadata=flag("more words: dropped",
            name="--max-words", minimum=1, group=CLEANING))
    heuristics: bool = field(default=True, metadata=flag(
        "skip the Gopher, C4 and FineWeb rules", name="--no-heuristics", group=CLEANING))
    anonymize_pii: bool = field(default=True, metadata=flag(
        "keep e-mail and IP addresses as they are", name="--no-pii", group=CLEANING))


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
