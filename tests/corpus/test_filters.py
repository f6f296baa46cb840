"""Each heuristic rule fires on a document built to break it, and good prose passes them all."""

import pytest

from corpus.filters import (
    C4Filter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    URLFilter,
)
from corpus.filters.gopher import (
    duplicate_counts,
    duplicated_ngram_chars,
    top_ngram_chars,
)
from corpus.filters.pii import PIIAnonymizer
from corpus.records import Document

PROSE = (
    "The harbour council met on Tuesday to decide whether the old grain sheds should become a public "
    "market. Several traders argued that the building had stood empty for a decade.\n\n"
    "Engineers who surveyed the roof found that most of the timber was sound, although the western "
    "gutters would have to be replaced before winter. The estimate was lower than residents feared.\n\n"
    "Not everyone was convinced. A group of neighbours said that weekend traffic would clog the narrow "
    "streets around the quay. They asked the council to study parking and deliveries first.\n\n"
    "The mayor promised a public meeting in March, where the plans and the budget will be shown."
)


def doc(text, url="https://news.example/a"):
    return Document(id="d", url=url, source="t", text=text)


def verdict(f, text, url="https://news.example/a"):
    return f.filter(doc(text, url))


def test_good_prose_passes_every_filter():
    for f in (GopherQualityFilter(), GopherRepetitionFilter(), FineWebQualityFilter(), URLFilter()):
        assert verdict(f, PROSE) is True, f.name
    c4 = C4Filter()
    assert len(list(c4([doc(PROSE)]))) == 1


@pytest.mark.parametrize("text,reason", [
    ("word " * 10, "gopher_short_doc"),
    ("a b c d e f g h " * 20, "gopher_avg_word_length"),
    ("the and of to that with " * 5 + "#tag #tag #tag " * 10, "gopher_symbol_word_ratio"),
    ("\n".join(f"- item number {i} of the list with the things to buy" for i in range(30)),
     "gopher_bullet_lines"),
    ("\n".join(f"the story of part {i} continues with more to read..." for i in range(30)),
     "gopher_ellipsis_lines"),
    ("the and of to " + " ".join(f"{i}{i}{i}" for i in range(100)), "gopher_alpha_words"),
    (" ".join(f"alpha{i} beta gamma delta" for i in range(30)), "gopher_stop_words"),
])
def test_gopher_quality_rules(text, reason):
    assert verdict(GopherQualityFilter(), text) == reason


def test_gopher_repetition_rules():
    f = GopherRepetitionFilter()
    para = "The same paragraph about the market appears again and again on this page."
    assert verdict(f, "\n\n".join([para] * 4 + [PROSE])) == "gopher_dup_paragraphs"
    spam = " ".join(["cheap watches"] * 40) + " " + PROSE
    assert verdict(f, spam).startswith("gopher_top_2gram")
    long_repeat = " ".join(f"w{i}" for i in range(60))
    assert verdict(f, "\n\n".join([PROSE, long_repeat, long_repeat])) in (
        "gopher_dup_paragraphs", "gopher_dup_paragraph_chars")


def test_repetition_helpers_count_characters_of_repeats():
    assert duplicate_counts(["a", "bb", "a", "bb", "c"]) == (2, 3)
    assert top_ngram_chars("x y x y x y".split(), 2) == len("x y") * 3
    ws = "a b c d e a b c d e".split()
    assert duplicated_ngram_chars(ws, 5) == 5  # the second "a b c d e"
    assert duplicated_ngram_chars("a b c d e f".split(), 5) == 0


def test_c4_removes_boilerplate_lines_and_drops_code_and_placeholders():
    f = C4Filter()
    page = PROSE + "\nShare\nThis site uses cookies to improve your experience.\nEnable javascript to view."
    (kept,) = list(f([doc(page)]))
    assert "cookies" not in kept.text and "javascript" not in kept.text and "\nShare" not in kept.text
    assert f.stats.counts["lines_removed:policy"] == 1 and f.stats.counts["lines_removed:too_few_words"] == 1
    assert list(f([doc(PROSE + " Lorem ipsum dolor sit amet.")])) == []
    assert list(f([doc(PROSE + ' var x = {"a": 1};')])) == []
    assert list(f([doc("One sentence. Two sentences. Only three.")])) == []
    assert f.stats.dropped == {"c4_lorem_ipsum": 1, "c4_curly_bracket": 1, "c4_too_few_sentences": 1}
    assert f.stats.balanced()


def test_c4_citations_are_removed():
    (kept,) = list(C4Filter()([doc(PROSE.replace("decade.", "decade.[12]"))]))
    assert "[12]" not in kept.text


def test_fineweb_rules():
    f = FineWebQualityFilter()
    no_punct = "\n".join(f"Product name number {i} in the large catalogue of goods" for i in range(20))
    assert verdict(f, no_punct) == "fineweb_line_punct_ratio"
    short = "\n".join(["Home.", "News.", "About us.", "Contact."] * 5 + [PROSE])
    assert verdict(f, short) == "fineweb_short_line_ratio"
    dup = PROSE + "\n" + "\n".join(["Read more about this story on our site today."] * 3)
    assert verdict(f, dup) == "fineweb_char_dup_ratio"
    listy = "\n".join(f"Item {i}." for i in range(10)) + "\n" + PROSE.replace("\n\n", " ")
    assert verdict(FineWebQualityFilter(), listy) in ("fineweb_list_ratio", "fineweb_short_line_ratio")


def test_url_filter_blocks_domains_and_banned_words():
    f = URLFilter(blocked_domains=frozenset({"spam.example"}))
    assert verdict(f, PROSE, "https://www.spam.example/a") == "url_blocked_domain"
    assert verdict(f, PROSE, "https://best-casino-bonus.example/") == "url_banned_word"
    assert verdict(f, PROSE, "https://essex.example/news") is True  # "sex" only as a whole token


def test_pii_replaces_emails_and_public_ips_only():
    f = PIIAnonymizer()
    text = ("Write to jane.doe@mail.example.org or call. Server 8.8.8.8 and 2606:4700::1111 were down; "
            "router 192.168.1.1, version 1.2.3.4.5 and 10.0.0.1 stay.")
    (out,) = list(f([doc(text)]))
    assert "jane.doe" not in out.text and "email@example.com" in out.text
    assert "8.8.8.8" not in out.text and "192.0.2.1" in out.text
    assert "192.168.1.1" in out.text and "10.0.0.1" in out.text and "1.2.3.4.5" in out.text
    assert "2606:4700::1111" not in out.text and "2001:db8::1" in out.text
    assert "10:30:00" in next(iter(f([doc("We met at 10:30:00 sharp.")]))).text
    assert f.stats.counts == {"email": 1, "ipv4": 1, "ipv6": 1}
    assert f.stats.balanced() and f.stats.n_out == 2
