"""The extraction engines: trafilatura (FineWeb's settings) or resiliparse, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.charset import decode_declared, decode_detected
from corpus.cli_flags import CLEANING, flag

ENGINES = ("trafilatura", "resiliparse")


@dataclass
class ExtractionConfig:
    """Which engine, and how. trafilatura's settings are FineWeb's (precision first, no comments,
    tables kept: trafilatura's default)."""

    engine: str = field(default="trafilatura", metadata=flag(
        "text extraction engine", name="--extractor", choices=ENGINES, group=CLEANING))
    timeout_s: float = field(default=5.0, metadata=flag(
        "seconds per page before it is killed and dropped (0: no limit, in-process)",
        name="--extraction-timeout", metavar="S", minimum=0, group=CLEANING))
    # trafilatura without its readability/jusText fallbacks, unless that finds no text: 1.5x the
    # pages per CPU-second for 0.012 less F1 (bench/extraction_f1.py, 424 real pages, 331 scored).
    fast: bool = field(default=True, metadata=flag(
        "trafilatura with its fallback extractors on every page: +0.012 F1, 1.5x slower",
        name="--precise-extraction", group=CLEANING))
    favor_precision: bool = True
    include_comments: bool = False
    # Pages laid out with <table> (older sites, forums, many news templates) have their article in
    # one: without tables trafilatura returns nothing there, and the page is lost as no_main_text.
    include_tables: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown extractor {self.engine!r}; choose from {ENGINES}")


def decode_html(payload: bytes, charset: str | None) -> str | bytes:
    """The page as text when its declared charset holds (see `decode_declared`); otherwise its
    bytes, for the engine to detect the encoding as it does for an undeclared page."""
    text = decode_declared(payload, charset)
    return payload if text is None else text


def extract_text(html: str | bytes, url: str | None, config: ExtractionConfig) -> str | None:
    """The main text of a page with the configured engine, or None when there is none."""
    if config.engine == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text((html if isinstance(html, str) else decode_detected(html)), main_content=True, alt_texts=False, links=False,
                                  list_bullets=False, preserve_formatting=True, comments=False)
    import trafilatura

    def run(fast: bool) -> str | None:
        return trafilatura.extract(html, url=url, fast=fast, favor_precision=config.favor_precision,
                                   include_comments=config.include_comments,
                                   include_tables=config.include_tables, deduplicate=False)

    # Fast mode finds nothing in some layouts (an article inside a layout <table>): only then pay
    # for the fallback extractors, so no page is lost to speed.
    return run(True) or run(False) if config.fast else run(False)
