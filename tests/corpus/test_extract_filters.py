from corpus.extract.engines import ExtractionConfig, decode_html
from corpus.extract.extractor import Extractor
from corpus.extract.sandbox import close_sandboxes
from corpus.filters import LengthFilter
from corpus.filters.language import LanguageFilter
from corpus.records import Document
from corpus.steps import run_steps


def page(html, url="https://x.example/a"):
    return Document(id=url, url=url, source="test", html=html.encode("utf-8"), charset="utf-8")


def test_extractor_keeps_the_article_and_drops_navigation(english_page):
    ex = Extractor()
    out = list(ex([page(english_page), page("<html><body><script>var a = 1;</script></body></html>")]))
    assert len(out) == 1
    assert "grain sheds" in out[0].text and "public market" in out[0].text
    assert "Home" not in out[0].text and "Copyright" not in out[0].text
    assert out[0].html is None
    assert ex.stats.dropped == {"no_main_text": 1} and ex.stats.balanced()


def test_decode_html_uses_the_declared_charset_and_survives_unknown_ones():
    assert decode_html("café".encode("latin-1"), "iso-8859-1") == "café"
    assert decode_html(b"abc", "no-such-charset") == b"abc"
    assert decode_html(b"abc", None) == b"abc"


def text_doc(text):
    return Document(id=text[:10], url="u", source="test", text=text)


def test_language_filter_labels_every_document_and_keeps_english():
    en = text_doc("The council decided to turn the old grain sheds into a market for local farmers.")
    de = text_doc("Der Stadtrat hat beschlossen, die alten Getreidespeicher in einen Markt umzuwandeln.")
    f = LanguageFilter()
    kept = list(f([en, de]))
    assert kept == [en]
    assert en.lang == "en" and en.lang_score > 0.65
    assert de.lang == "de"
    assert f.stats.dropped == {"other_language": 1}


def test_length_filter_counts_short_and_long_documents():
    f = LengthFilter(min_words=3, max_words=5)
    kept = list(f([text_doc("one two"), text_doc("one two three"), text_doc("a b c d e f")]))
    assert [d.text for d in kept] == ["one two three"]
    assert f.stats.dropped == {"too_few_words": 1, "too_many_words": 1} and f.stats.balanced()


def test_steps_chain_lazily_and_each_counts_its_own_input(english_page):
    steps = [Extractor(), LanguageFilter(), LengthFilter(min_words=10)]
    out = list(run_steps([page(english_page), page("<html></html>")], steps))
    assert len(out) == 1
    assert [(s.stats.n_in, s.stats.n_out) for s in steps] == [(2, 1), (1, 1), (1, 1)]


def test_resiliparse_engine_extracts_the_article(english_page):
    ex = Extractor(ExtractionConfig(engine="resiliparse", timeout_s=0))
    (out,) = list(ex([page(english_page)]))
    assert "grain sheds" in out.text and "Copyright" not in out.text


def test_sandbox_gives_the_same_text_as_in_process(english_page):
    inproc = list(Extractor(ExtractionConfig(timeout_s=0))([page(english_page)]))
    sandboxed = list(Extractor(ExtractionConfig(timeout_s=30))([page(english_page)]))
    assert [d.text for d in sandboxed] == [d.text for d in inproc]


def test_a_page_that_hangs_is_killed_and_the_next_one_extracted(english_page, monkeypatch):
    # A page that never finishes: the sandbox child sleeps on this marker (see hanging_extract).
    ex = Extractor(ExtractionConfig(timeout_s=1.0))
    monkeypatch.setattr("corpus.extract.sandbox._sandbox_loop", hanging_sandbox_loop)
    try:
        out = list(ex([page("<html>HANG</html>"), page(english_page)]))
    finally:
        close_sandboxes()  # its child runs the test's loop: not for later tests
    assert len(out) == 1 and "grain sheds" in out[0].text
    assert ex.stats.dropped == {"extraction_timeout": 1} and ex.stats.balanced()


def hanging_sandbox_loop(conn, config):
    """Like the real child loop, but hangs forever on a page containing HANG."""
    import time

    from corpus.extract.engines import extract_text

    while True:
        try:
            html, url = conn.recv()
        except EOFError:
            return
        if "HANG" in (html if isinstance(html, str) else html.decode()):
            while True:
                time.sleep(1)
        conn.send(("ok", extract_text(html, url, config)))


def test_fast_mode_falls_back_when_it_finds_nothing():
    # An article inside a layout table: trafilatura's fast mode alone returns nothing here.
    paras = "".join(f"<p>Paragraph {i} tells how the harbour council planned the new market for the "
                    f"farmers of the valley, and why the neighbours asked for a study first.</p>" for i in range(6))
    html = ("<html><body><table><tr><td><aside><ul><li><a href='/a'>Most read</a></li></ul></aside></td>"
            f"<td><article><h1>The market</h1>{paras}</article></td></tr></table></body></html>")
    from corpus.extract.engines import extract_text

    text = extract_text(html, "https://x.example/a", ExtractionConfig(timeout_s=0))
    assert text and "harbour council" in text


def forum_page() -> str:
    """A thread laid out as a table, as forums and older sites are: the text lives in <td> cells,
    with no <p> or <article> around it."""
    rows = "".join(
        f"<tr><td class='author'>member{i}</td><td class='post'>Post {i}: we turned the old grain sheds by "
        "the harbour into a covered market last spring, the farmers of the valley now sell there every "
        "Saturday morning, and the neighbours came round once the council had studied the parking.</td></tr>"
        for i in range(5))
    return f"<html><head><title>Thread</title></head><body><table class='thread'>{rows}</table></body></html>"


def test_a_page_laid_out_in_a_table_keeps_its_text(english_page):
    # Without tables trafilatura returned nothing here, fast mode and fallback alike: no_main_text.
    ex = Extractor(ExtractionConfig(timeout_s=0))
    docs = [page(english_page, "https://x.example/1"), page(forum_page(), "https://forum.example/t/2"),
            page(english_page, "https://x.example/3")]
    out = list(ex(docs))
    assert [d.url for d in out] == ["https://x.example/1", "https://forum.example/t/2", "https://x.example/3"]
    assert all(f"Post {i}: we turned the old grain sheds" in out[1].text for i in range(5))
    assert ex.stats.dropped == {} and ex.stats.balanced()
