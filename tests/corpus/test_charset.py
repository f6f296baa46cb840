"""Pages whose declared charset is wrong: decoded strictly as declared, else detected, never
mojibake or U+FFFD (issue 11, point 5)."""

import pytest

from corpus.charset import decode_declared
from corpus.extract.engines import ExtractionConfig, decode_html
from corpus.extract.extractor import Extractor
from corpus.readers.warc import read_warc

# Words with accents, curly quotes and dashes: what a legacy encoding and UTF-8 disagree on.
SENTENCE = ("The café’s owner said the crème brûlée – made by the façade’s naïve painter – sold out "
            "before noon, and the harbour council’s market plan went ahead.")


def page(title: str) -> str:
    """An article page with no <meta charset>: only the HTTP header declares an encoding."""
    body = "".join(f"<p>{title}, part {i}. {SENTENCE}</p>" for i in range(5))
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


@pytest.mark.parametrize("payload, declared", [
    ("café’s – naïve".encode("cp1252"), "utf-8"),        # legacy bytes under a UTF-8 label: not UTF-8
    ("café’s – naïve".encode("utf-8"), "iso-8859-1"),    # UTF-8 bytes under a legacy label: no mojibake
    ("café’s – naïve".encode("utf-8"), "shift_jis"),
    ("café’s – naïve".encode("cp1252"), "iso-8859-1"),   # the web's iso-8859-1 is windows-1252
    ("café’s – naïve".encode("cp1252"), "US-ASCII"),
    (b"\xef\xbb\xbf" + "café’s – naïve".encode("utf-8"), "windows-1252"),  # a byte order mark wins
], ids=["cp1252-as-utf8", "utf8-as-latin1", "utf8-as-shift_jis", "cp1252-as-latin1", "cp1252-as-ascii",
        "bom-as-cp1252"])
def test_a_wrong_declaration_never_gives_mojibake_or_replacement_characters(payload, declared):
    decoded = decode_html(payload, declared)
    if isinstance(decoded, bytes):  # the declaration did not hold: the engine detects the encoding
        assert decoded == payload and decode_declared(payload, declared) is None
    else:
        assert decoded == "café’s – naïve"


@pytest.mark.parametrize("text, declared", [
    ("Городской совет решил открыть рынок", "windows-1251"),
    ("市議会は市場を開くことを決めた", "shift_jis"),
    ("市议会决定开放市场", "gb2312"),
    ("café’s – naïve", "utf-8"),
    ("plain ascii", "iso-8859-1"),
], ids=["windows-1251", "shift_jis", "gb2312", "utf-8", "ascii-as-latin1"])
def test_a_right_declaration_is_decoded_as_declared(text, declared):
    assert decode_html(text.encode(declared), declared) == text


def test_an_unknown_or_missing_label_leaves_the_encoding_to_detection():
    assert decode_html(b"caf\xe9", "x-no-such-charset") == b"caf\xe9"
    assert decode_html(b"caf\xe9", None) == b"caf\xe9"


@pytest.mark.parametrize("engine", ["trafilatura", "resiliparse"])
def test_misdeclared_pages_between_good_ones_all_come_out_right(make_warc, engine):
    html = {name: page(name) for name in ("First", "Latin", "Mislabelled", "Last")}
    warc = make_warc([
        ("https://a.example/1", html["First"].encode("utf-8"), "text/html; charset=utf-8", "200 OK"),
        # windows-1252 bytes served as UTF-8: replacing the bad bytes gave "caf\ufffd\ufffds"
        ("https://a.example/2", html["Latin"].encode("cp1252"), "text/html; charset=UTF-8", "200 OK"),
        # UTF-8 bytes served as iso-8859-1: decoding as declared gave "cafÃ©"
        ("https://a.example/3", html["Mislabelled"].encode("utf-8"), "text/html; charset=ISO-8859-1", "200 OK"),
        ("https://a.example/4", html["Last"].encode("utf-8"), "text/html; charset=utf-8", "200 OK"),
    ])
    extractor = Extractor(ExtractionConfig(engine=engine, timeout_s=0))
    docs = list(extractor(read_warc(warc, "test")))
    assert [d.url for d in docs] == [f"https://a.example/{i}" for i in (1, 2, 3, 4)]
    for doc, title in zip(docs, html):
        assert f"{title}, part 0" in doc.text
        assert "The café’s owner said the crème brûlée – made by the façade’s naïve painter" in doc.text
        assert "\ufffd" not in doc.text and "Ã" not in doc.text and "\x92" not in doc.text
    assert extractor.stats.dropped == {} and extractor.stats.balanced()
    assert extractor.stats.counts["declared_charset_failed"] == 1  # page 2; page 3 is valid UTF-8
