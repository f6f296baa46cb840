from corpus.steps import StepStats
from corpus.warc import read_warc


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
    assert stats.dropped["truncated_record"] == 1 and stats.balanced()
