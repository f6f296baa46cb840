from corpus.readers.warc import read_warc
from corpus.steps import StepStats


def test_read_warc_keeps_html_responses_and_counts_the_rest(make_warc, english_page):
    path = make_warc([
        ("https://a.example/1", english_page, "text/html; charset=utf-8", "200 OK"),
        ("https://a.example/2", english_page, "application/xhtml+xml", "200 OK"),
        ("https://a.example/img", b"\x89PNG....", "image/png", "200 OK"),
        ("https://a.example/old", "", "text/html", "301 Moved Permanently"),
        ("https://a.example/gone", "<html>not here</html>", "text/html", "404 Not Found"),
        ("https://a.example/blank", "   ", "text/html", "200 OK"),
    ])
    stats = StepStats("read_warc")
    docs = list(read_warc(path, "commoncrawl", stats))
    assert [d.url for d in docs] == ["https://a.example/1", "https://a.example/2"]
    assert docs[0].charset == "utf-8" and docs[0].html.startswith(b"<html>")
    assert docs[0].warc_file == path.name and docs[0].warc_record_id.startswith("<urn:uuid:")
    assert docs[0].fetch_time is not None and docs[0].domain == "a.example"
    assert docs[0].id != docs[1].id
    assert stats.dropped == {"not_response:request": 6, "not_html": 1, "http_redirect": 1,
                             "http_error": 1, "empty_payload": 1}
    assert stats.balanced()


def test_malformed_tail_keeps_the_records_before_it(make_warc, english_page):
    good = [(f"https://a.example/{i}", english_page, "text/html", "200 OK") for i in range(3)]
    path = make_warc(good, tail=b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 999\r\n\r\ngarbage")
    stats = StepStats("read_warc")
    docs = list(read_warc(path, "commoncrawl", stats))
    assert len(docs) == 3
    assert stats.dropped["malformed_record"] == 1 and stats.balanced()


def test_truncated_gzip_member_ends_the_file_without_losing_earlier_pages(make_warc, english_page, tmp_path):
    good = [(f"https://a.example/{i}", english_page * 3, "text/html", "200 OK") for i in range(5)]
    path = make_warc(good)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[:-200])
    stats = StepStats("read_warc")
    docs = list(read_warc(cut, "commoncrawl", stats))
    assert len(docs) == 4
    assert stats.dropped["incomplete_record"] == 1 and stats.balanced()


def pages(n, body):
    return [(f"https://a.example/{i}", body, "text/html", "200 OK") for i in range(n)]


def test_a_broken_record_in_the_middle_costs_only_that_record(make_warc, english_page, tmp_path):
    import gzip

    first = make_warc(pages(3, english_page), name="first.warc.gz").read_bytes()
    second = make_warc([(f"https://b.example/{i}", english_page, "text/html", "200 OK") for i in range(2)],
                       name="second.warc.gz").read_bytes()
    broken = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 50\r\n\r\n<html>")
    path = tmp_path / "middle.warc.gz"
    path.write_bytes(first + broken + b"\x1f\x8b\x08 junk that is not gzip " + second)
    stats = StepStats("read_warc")
    urls = [d.url for d in read_warc(path, "cc", stats)]
    assert urls == [f"https://a.example/{i}" for i in range(3)] + [f"https://b.example/{i}" for i in range(2)]
    assert stats.dropped["malformed_record"] >= 1 and stats.balanced()


def test_uncompressed_and_whole_file_gzip_warcs(make_warc, english_page, tmp_path):
    import gzip

    plain = tmp_path / "plain.warc"
    with gzip.open(make_warc(pages(3, english_page)), "rb") as f:
        plain.write_bytes(f.read())  # multi-member gzip decompresses to the plain WARC
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, whole):
        stats = StepStats("read_warc")
        assert len(list(read_warc(path, "cc", stats))) == 3, path
        assert stats.balanced() and not stats.dropped.get("malformed_record")


def test_wet_conversion_records_arrive_with_their_text(tmp_path):
    import io

    from warcio.warcwriter import WARCWriter

    path = tmp_path / "x.warc.wet.gz"
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        w.write_record(w.create_warcinfo_record("x.warc.wet.gz", {"software": "test"}))
        text = "A page of text.\nWith two lines.".encode()
        w.write_record(w.create_warc_record("https://a.example/p", "conversion", payload=io.BytesIO(text),
                                            warc_content_type="text/plain"))
    stats = StepStats("read_warc")
    (doc,) = list(read_warc(path, "cc", stats))
    assert doc.text == "A page of text.\nWith two lines." and doc.html is None
    assert stats.dropped == {"not_response:warcinfo": 1}


def test_remote_warc_over_http_survives_a_dropped_connection(make_warc, english_page):
    import http.server
    import threading

    data = make_warc(pages(4, english_page)).read_bytes()
    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            rng = self.headers.get("Range")
            start = int(rng.split("=")[1].rstrip("-")) if rng else 0
            calls.append(start)
            self.send_response(206 if rng else 200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            if not rng:  # the first connection dies half way through the body
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/crawl/x.warc.gz"
        stats = StepStats("read_warc")
        docs = list(read_warc(url, "cc", stats))
    finally:
        server.shutdown()
    assert [d.url for d in docs] == [f"https://a.example/{i}" for i in range(4)]
    assert calls[0] == 0 and len(calls) == 2 and calls[1] > 0
    assert docs[0].warc_file == "x.warc.gz"


def test_byte_ranges_split_a_file_with_no_overlap_and_no_gap(make_warc, english_page):
    from corpus.readers.inputs import split_inputs

    path = make_warc([(f"https://a.example/{i}", english_page[: 200 + 37 * i], "text/html", "200 OK")
                      for i in range(40)])
    whole = [d.url for d in read_warc(path, "cc")]
    for chunk in (500, 1733, 4096):
        ranges = split_inputs([str(path)], chunk)
        assert len(ranges) > 2
        stats = StepStats("read_warc")
        pieces = [d.url for r in ranges for d in read_warc(r, "cc", stats)]
        assert pieces == whole and len(whole) == 40
        assert stats.n_in == 80 and stats.balanced()


def test_plain_text_pages_come_with_their_text_and_pass_extraction(make_warc):
    from corpus.extract.engines import ExtractionConfig
    from corpus.extract.extractor import Extractor

    body = "Plain words in a plain file.\nSecond line, in Latin-1: café.".encode("latin-1")
    path = make_warc([("https://a.example/notes.txt", body, "text/plain; charset=iso-8859-1", "200 OK")])
    (doc,) = list(read_warc(path, "cc"))
    assert doc.html is None and doc.text.endswith("café.")
    ex = Extractor(ExtractionConfig(timeout_s=0))
    (out,) = list(ex([doc]))
    assert out.text == doc.text and ex.stats.counts["already_text"] == 1
