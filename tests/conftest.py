"""Fixtures that build small, real input files (WARC, Reddit dumps) for the corpus tests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

PARAGRAPHS = [
    "The harbour council met on Tuesday to decide whether the old grain sheds should become a "
    "public market. Several traders argued that the building had stood empty for a decade and "
    "that the town needed a place where farmers could sell directly to families.",
    "Engineers who surveyed the roof found that most of the timber was sound, although the "
    "western gutters would have to be replaced before winter. The estimate for the repairs was "
    "lower than many residents had feared, and the council asked for a detailed plan by spring.",
    "Not everyone was convinced. A group of neighbours said that weekend traffic would clog the "
    "narrow streets around the quay, and they asked the council to study parking and deliveries "
    "before any money was spent on the building itself.",
]


def article_html(title: str, paragraphs: list[str]) -> str:
    """A page with navigation, an article and a footer, like a small news site."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            "<nav><a href='/'>Home</a> | <a href='/news'>News</a> | <a href='/about'>About</a></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer>Copyright 2017 Harbour Gazette. All rights reserved.</footer></body></html>")


@pytest.fixture
def english_page() -> str:
    return article_html("Grain sheds may become a market", PARAGRAPHS)


@pytest.fixture
def make_warc(tmp_path: Path) -> Callable[..., Path]:
    """Build a gzipped WARC from (url, body, content_type, status) tuples, with request records."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def build(pages: list[tuple], name: str = "test.warc.gz", tail: bytes = b"") -> Path:
        path = tmp_path / name
        with open(path, "wb") as f:
            writer = WARCWriter(f, gzip=True)
            for url, body, content_type, status in pages:
                payload = body.encode("utf-8") if isinstance(body, str) else body
                req = writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
                writer.write_record(req)
                http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
                rec = writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                http_headers=http)
                writer.write_record(rec)
            f.write(tail)
        return path

    return build


@pytest.fixture
def make_dump(tmp_path: Path) -> Callable[..., Path]:
    """Write submissions (dicts, or raw bytes for broken lines) as a .zst, .jsonl or .jsonl.gz dump."""

    def build(lines: list, name: str = "RS_test.zst") -> Path:
        raw = b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n"
                       for line in lines)
        path = tmp_path / name
        if name.endswith(".zst"):
            import zstandard

            # A long window, as in real Pushshift dumps, which the reader must accept.
            params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)
            path.write_bytes(zstandard.ZstdCompressor(compression_params=params).compress(raw))
        elif name.endswith(".gz"):
            import gzip

            path.write_bytes(gzip.compress(raw))
        else:
            path.write_bytes(raw)
        return path

    return build


@pytest.fixture
def make_article() -> Callable[[str, list[str]], str]:
    return article_html


NOUNS = ("council harbour market farmer bridge river library teacher student engineer budget museum "
         "garden orchard railway station festival bakery clinic doctor nurse painter novel theatre "
         "village forest mountain valley lake island ferry lighthouse factory workshop tailor mayor "
         "committee volunteer neighbour architect sculptor choir orchestra stadium bicycle tram road "
         "school college archive chapel tower castle meadow vineyard harvest storm winter summer").split()
VERBS = ("built repaired opened closed praised questioned visited painted described measured planned "
         "funded delayed welcomed studied restored moved crossed protected designed").split()
ADJECTIVES = ("old new quiet busy narrow wide famous modest bright dark ancient modern small large "
              "careful generous patient curious local distant").split()


def distinct_prose(i: int, paragraphs: int = 3, sentences: int = 5) -> list[str]:
    """Grammatical, varied English for page `i`: pages share few 5-grams, so none are near-duplicates."""
    import random

    rng = random.Random(i)
    out = []
    for _ in range(paragraphs):
        sents = []
        for _ in range(sentences):
            a, b = rng.sample(NOUNS, 2)
            sents.append(f"The {rng.choice(ADJECTIVES)} {a} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} "
                         f"{b} of the {rng.choice(NOUNS)} with the {rng.choice(NOUNS)} and the {rng.choice(NOUNS)}.")
        out.append(" ".join(sents))
    return out


@pytest.fixture
def make_prose() -> Callable[[int], list[str]]:
    return distinct_prose
