"""Broken WARCs cost only their broken part: good records before and after it all come out, and
the broken part is counted under a named reason. Each file is built here: warcio writes the good
records, the damage is done by hand."""

from __future__ import annotations

import gzip
import io
import random
import re
import signal
from contextlib import contextmanager

import pytest

from corpus.readers.warc import iter_records, read_warc
from corpus.steps import StepStats

HTML = b"<html><body><p>A page with a few words on it.</p></body></html>"


def response(url: str, body: bytes = HTML, gz: bool = True, headers: list | None = None) -> bytes:
    """One response record (one gzip member when `gz`), as a crawler writes it."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    headers = headers or [("Date", "Sat, 08 Aug 2020 17:39:43 GMT"), ("Server", "nginx"),
                          ("Content-Type", "text/html; charset=utf-8")]
    http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return buf.getvalue()


def page(n: int, gz: bool = True) -> bytes:
    return response(f"https://a.example/{n}", gz=gz)


def with_content_length(record: bytes, value: str, gz: bool) -> bytes:
    """The record with its WARC Content-Length replaced by `value`."""
    raw = gzip.decompress(record) if gz else record
    raw = re.sub(rb"Content-Length: \d+", f"Content-Length: {value}".encode(), raw, count=1)
    return gzip.compress(raw) if gz else raw


def long_page(n_words: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    words = "the harbour council met on tuesday to decide whether old grain sheds become a market".split()
    return b"<html><body><p>" + " ".join(rng.choice(words) for _ in range(n_words)).encode() + b"</p></body></html>"


def incompressible(n: int) -> bytes:
    """Bytes deflate stores as they are: a member cut inside them is a realistic clipped crawl."""
    rng = random.Random(7)
    return b"<html>" + bytes(rng.randrange(256) for _ in range(n)) + b"</html>"


class Hung(BaseException):
    """Not an Exception: a reader's own `except Exception` must not swallow it and go on looping."""


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging: a reader that loops at one byte must not stall the suite."""
    def timeout(*_):
        raise Hung(f"reader still running after {seconds}s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def read(tmp_path, data: bytes, name: str) -> tuple[list[str], StepStats]:
    path = tmp_path / name
    path.write_bytes(data)
    stats = StepStats("read_warc")
    with deadline(10):
        urls = [d.url for d in read_warc(path, "cc", stats)]
    assert stats.balanced()
    return urls, stats


GOOD = [f"https://a.example/{n}" for n in (1, 2, 3)]


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "uncompressed"])
@pytest.mark.parametrize("length", ["-1", "-5000", "12x", ""])
def test_a_content_length_that_is_not_a_length_costs_only_that_record(tmp_path, gz, length):
    # After a long page, the old reader looped forever at one byte on such a record (gzip), or
    # counted it twice; after a short one it crashed on a negative seek.
    bad = with_content_length(response("https://a.example/bad", long_page(2000, seed=2), gz=gz), length, gz)
    before = response("https://a.example/1", long_page(30_000), gz=gz)
    urls, stats = read(tmp_path, before + bad + page(2, gz) + page(3, gz), "neg.warc" + ".gz" * gz)
    assert urls == GOOD
    assert stats.dropped == {"malformed_record": 1}


def test_a_clipped_gzip_member_then_more_records_costs_only_that_member(tmp_path):
    # A crawl died mid-write, and a later run appended to the file: the old reader inflated the
    # next members as the rest of the clipped one, and every record after it was silently gone.
    member = response("https://a.example/clipped", incompressible(30_000))
    for cut in (len(member) // 4, len(member) // 2, len(member) - 40):
        urls, stats = read(tmp_path, page(1) + member[:cut] + page(2) + page(3), "clipped.warc.gz")
        assert urls == GOOD, cut
        assert sum(stats.dropped.values()) == 1, stats.dropped
        assert set(stats.dropped) <= {"incomplete_record", "malformed_record"}


def test_a_clipped_member_over_a_stream_that_cannot_seek(tmp_path):
    # An HTTP download cannot seek: the reader goes back over the bytes it kept.
    class Unseekable(io.RawIOBase):
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self.inner.readinto(buffer)

    member = response("https://a.example/clipped", incompressible(30_000))
    data = page(1) + member[: len(member) // 2] + page(2) + page(3)
    stats = StepStats("read_warc")
    with deadline(10):
        records = list(iter_records(io.BufferedReader(Unseekable(data)), "x.warc.gz", stats))
    assert [r.rec_headers.get_header("WARC-Target-URI") for r in records] == GOOD
    assert stats.n_in == 1 and stats.balanced()


def test_byte_ranges_of_a_file_with_a_clipped_member_read_every_good_record_once(tmp_path):
    from corpus.readers.inputs import split_inputs

    member = response("https://a.example/clipped", incompressible(30_000))
    good = [page(n) for n in range(10)]
    path = tmp_path / "ranges.warc.gz"
    path.write_bytes(b"".join(good[:5]) + member[: len(member) // 2] + b"".join(good[5:]))
    for chunk in (700, 4096, 20_000):
        stats = StepStats("read_warc")
        urls = [d.url for r in split_inputs([str(path)], chunk) for d in read_warc(r, "cc", stats)]
        assert urls == [f"https://a.example/{n}" for n in range(10)], chunk
        assert sum(stats.dropped.values()) == 1 and stats.balanced()


@pytest.mark.parametrize("delta", [300, -20], ids=["too long", "too short"])
def test_a_wrong_content_length_in_an_uncompressed_warc_does_not_swallow_the_next_record(tmp_path, delta):
    # Too long, the old reader read the next record's header as this record's body: the next
    # good record was gone, and the bad one came out with it inside.
    bad = response("https://a.example/bad", gz=False)
    length = int(re.search(rb"Content-Length: (\d+)", bad).group(1))
    bad = with_content_length(bad, str(length + delta), gz=False)
    urls, stats = read(tmp_path, page(1, False) + bad + page(2, False) + page(3, False), "long.warc")
    assert urls == GOOD
    assert stats.dropped == {"malformed_record": 1}


def test_a_record_cut_into_several_gzip_members_is_read_across_them(tmp_path):
    # Valid gzip (members concatenate into one stream); warcio's own test data has such a file.
    raw = gzip.decompress(response("https://a.example/2"))
    split = gzip.compress(raw[:300]) + gzip.compress(raw[300:])
    urls, stats = read(tmp_path, page(1) + split + page(3), "chunks.warc.gz")
    assert urls == GOOD and not stats.dropped


def encoded_page(name: str, body: bytes, encoding: str) -> bytes:
    return response(f"https://a.example/{name}", body, headers=[("Content-Type", "text/html"),
                                                                 ("Content-Encoding", encoding)])


def test_brotli_pages_are_decoded(tmp_path):
    # warcio's brotli call does not match brotli 1.2's API: every br page was lost.
    import brotli

    html = b"<html><body><p>" + "Brotli, décodé ici.".encode() * 50 + b"</p></body></html>"
    data = page(1) + encoded_page("br", brotli.compress(html), "br") + page(2)
    path = tmp_path / "br.warc.gz"
    path.write_bytes(data)
    stats = StepStats("read_warc")
    docs = list(read_warc(path, "cc", stats))
    assert [d.url for d in docs] == ["https://a.example/1", "https://a.example/br", "https://a.example/2"]
    assert docs[1].html == html
    assert not stats.dropped and stats.balanced()


def test_content_encodings_are_decoded_or_counted(tmp_path):
    import zlib

    import brotli
    import zstandard

    html = b"<html><body><p>" + b"Words of a page. " * 40 + b"</p></body></html>"
    deflated = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw_deflate = deflated.compress(html) + deflated.flush()
    data = (page(1)
            + encoded_page("gzip", gzip.compress(html), "gzip")
            + encoded_page("deflate", zlib.compress(html), "deflate")
            + encoded_page("raw-deflate", raw_deflate, "deflate")
            + encoded_page("zstd", zstandard.ZstdCompressor().compress(html), "zstd")
            + encoded_page("gzip-then-br", brotli.compress(gzip.compress(html)), "gzip, br")
            + encoded_page("stored-decoded", html, "gzip")  # an archiver that kept the header only
            + encoded_page("unknown", b"\x1f\x9d\x90 compressed", "compress")
            + encoded_page("broken-br", bytes(range(256)) * 4, "br")
            + page(2))
    path = tmp_path / "encodings.warc.gz"
    path.write_bytes(data)
    stats = StepStats("read_warc")
    docs = list(read_warc(path, "cc", stats))
    names = [d.url.rsplit("/", 1)[1] for d in docs]
    assert names == ["1", "gzip", "deflate", "raw-deflate", "zstd", "gzip-then-br", "stored-decoded", "2"]
    assert all(d.html == html for d in docs[1:-1])
    assert stats.dropped == {"unsupported_content_encoding": 1, "bad_content_encoding": 1}
    assert stats.balanced()


def test_a_body_that_inflates_past_the_payload_limit_is_dropped_without_inflating_it_all(tmp_path):
    bomb = gzip.compress(b"<html>" + b" " * (20 << 20))
    data = page(1) + encoded_page("bomb", bomb, "gzip") + page(2)
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(data)
    stats = StepStats("read_warc")
    urls = [d.url for d in read_warc(path, "cc", stats, max_payload_bytes=1 << 20)]
    assert urls == ["https://a.example/1", "https://a.example/2"]
    assert stats.dropped == {"payload_too_large": 1}
