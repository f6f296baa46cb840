"""The extraction engines: trafilatura (FineWeb's settings) or resiliparse, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.cli_flags import CLEANING, flag

ENGINES = ("trafilatura", "resiliparse")


@dataclass
class ExtractionConfig:
    """Which engine, and how. trafilatura's defaults are FineWeb's (precision first, no comments)."""

    engine: str = field(default="trafilatura", metadata=flag(
        "text extraction engine", name="--extractor", choices=ENGINES, group=CLEANING))
    timeout_s: float = field(default=5.0, metadata=flag(
        "seconds per page before it is killed and dropped (0: no limit, in-process)",
        name="--extraction-timeout", metavar="S", minimum=0, group=CLEANING))
    # trafilatura without its readability/jusText fallbacks, unless that finds no text: several
    # times faster, at nearly the same F1 (bench/README.md has the figures).
    fast: bool = field(default=True, metadata=flag(
        "trafilatura with its fallback extractors: +0.016 F1, 1.6x slower", name="--precise-extraction",
        group=CLEANING))
    favor_precision: bool = True
    include_comments: bool = False
    include_tables: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown extractor {self.engine!r}; choose from {ENGINES}")


def decode_html(payload: bytes, charset: str | None) -> str | bytes:
    """Decode with the declared charset; without one, return bytes for the engine to detect."""
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # a charset name Python does not know
            pass
    return payload


def _to_str(html: str | bytes) -> str:
    if isinstance(html, str):
        return html
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return bytes_to_str(html, detect_encoding(html))


def extract_text(html: str | bytes, url: str | None, config: ExtractionConfig) -> str | None:
    """The main text of a page with the configured engine, or None when there is none."""
    if config.engine == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text(_to_str(html), main_content=True, alt_texts=False, links=False,
                                  list_bullets=False, preserve_formatting=True, comments=False)
    import trafilatura

    def run(fast: bool) -> str | None:
        return trafilatura.extract(html, url=url, fast=fast, favor_precision=config.favor_precision,
                                   include_comments=config.include_comments,
                                   include_tables=config.include_tables, deduplicate=False)

    # Fast mode finds nothing in some layouts (an article inside a layout <table>): only then pay
    # for the fallback extractors, so no page is lost to speed.
    return run(True) or run(False) if config.fast else run(False)
