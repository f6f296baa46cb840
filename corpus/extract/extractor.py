"""Main-text extraction from HTML: trafilatura or resiliparse, with a real per-document time limit."""

from __future__ import annotations

import logging
import multiprocessing as mp
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from corpus.cli_flags import CLEANING, flag
from corpus.records import Document
from corpus.steps import Step

log = logging.getLogger(__name__)

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


class ExtractionTimeout(Exception):
    pass


def _sandbox_loop(conn, config: ExtractionConfig) -> None:
    """Child process: extract whatever arrives until the parent closes the pipe."""
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    while True:
        try:
            html, url = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", extract_text(html, url, config)))
        except Exception as err:  # reported to the parent, which counts it
            conn.send(("error", f"{type(err).__name__}: {err}"))


class ExtractionSandbox:
    """Runs extraction in a child process so that a pathological page can be killed.

    A signal-based alarm cannot interrupt lxml's C code, and a thread cannot be killed at all;
    a process can. The child lives for the whole run, so the cost is one pipe round trip per page.
    """

    def __init__(self, config: ExtractionConfig) -> None:
        self.config = config
        self._ctx = mp.get_context("spawn")  # no inherited threads or locks from the parent
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_sandbox_loop, args=(child, self.config), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def extract(self, html: str | bytes, url: str | None) -> str | None:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send((html, url))
        if not self._conn.poll(self.config.timeout_s):
            self.close()
            raise ExtractionTimeout(f"no result after {self.config.timeout_s}s")
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as err:  # the child died (killed, out of memory)
            self.close()
            raise RuntimeError(f"extraction process died: {err!r}") from err
        if status == "error":
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        """Stop the child; the next `extract` starts a new one."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
            self._proc = self._conn = None


_SANDBOXES: dict[str, ExtractionSandbox] = {}


def shared_sandbox(config: ExtractionConfig) -> ExtractionSandbox:
    """This process's sandbox for `config`, kept across inputs: starting a child costs 0.4-0.6 s
    of CPU (it imports trafilatura), 10-20% of a run's time when spawned for every input file.
    A daemon child, it ends with its worker process; `close_sandboxes` ends it sooner."""
    key = repr(config)
    if key not in _SANDBOXES:
        _SANDBOXES[key] = ExtractionSandbox(config)
    return _SANDBOXES[key]


def close_sandboxes() -> None:
    """Stop this process's extraction children (at the end of a map stage run in-process)."""
    for sandbox in _SANDBOXES.values():
        sandbox.close()
    _SANDBOXES.clear()


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
