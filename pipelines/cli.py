"""Small helpers shared by the pipeline entry points: logging, worker counts, cleaning flags."""

from __future__ import annotations

import argparse
import logging
import os

from corpus.extract.extractor import ENGINES, ExtractionConfig
from corpus.filters.language import LanguageConfig
from pipelines.cleaning import CleaningConfig


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    # trafilatura logs every page it finds no text in; that is counted in the stats instead.
    for noisy in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def add_cleaning_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of the text-cleaning steps both pipelines share (`pipelines.cleaning`)."""
    dc, de = CleaningConfig(), ExtractionConfig()
    g = p.add_argument_group("text cleaning")
    g.add_argument("--extractor", choices=ENGINES, default=de.engine, help=f"default {de.engine}")
    g.add_argument("--precise-extraction", action="store_true",
                   help="trafilatura with its fallback extractors: +0.016 F1, 1.6x slower")
    g.add_argument("--extraction-timeout", type=float, default=de.timeout_s, metavar="S",
                   help="seconds per page before it is killed and dropped (0: no limit, in-process)")
    g.add_argument("--languages", nargs="+", default=list(dc.language.languages), help="lid.176 codes to keep")
    g.add_argument("--min-lang-score", type=float, default=dc.language.min_score)
    g.add_argument("--min-words", type=int, default=dc.min_words)
    g.add_argument("--max-words", type=int, default=dc.max_words)
    g.add_argument("--no-heuristics", action="store_true", help="skip the Gopher, C4 and FineWeb rules")
    g.add_argument("--no-pii", action="store_true", help="keep e-mail and IP addresses as they are")


def cleaning_config_from_args(a: argparse.Namespace) -> CleaningConfig:
    return CleaningConfig(
        extraction=ExtractionConfig(engine=a.extractor, timeout_s=a.extraction_timeout,
                                    fast=not a.precise_extraction),
        language=LanguageConfig(tuple(a.languages), a.min_lang_score),
        min_words=a.min_words, max_words=a.max_words,
        heuristics=not a.no_heuristics, anonymize_pii=not a.no_pii)
