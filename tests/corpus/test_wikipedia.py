"""Wikipedia dumps -> documents: page selection with counted drops, wikitext -> text, multistream
byte ranges that together read the file once, and broken bz2 or XML that costs only itself. The
dumps are built here, laid out as the real ones are (a header stream, bz2 streams of pages, a
closing stream, an "offset:id:title" index)."""

from __future__ import annotations

import bz2
import logging
from datetime import datetime, timezone
from xml.sax.saxutils import escape

import pytest

from corpus.readers.inputs import parse_range
from corpus.records import document_id
from corpus.sources.wikipedia import WikipediaConfig, find_index, read_wikipedia, wikipedia_tasks
from corpus.sources.wikitext import is_disambiguation, wikitext_to_text
from corpus.steps import StepStats

ARTICLE = """{{Short description|Town in Testshire}}
{{Infobox settlement
| name = Testville
| population = {{formatnum:12345}}
| image = [[File:Testville.jpg|thumb|A view of {{nowrap|the town}}]]
}}
'''Testville''' ({{lang-kw|Trevtest}}; {{IPA|/tɛst/}}) is a [[town]] in [[Testshire|the county of ''Testshire'']],\
<ref name="a">{{cite web|url=https://example.org|title={{!}}Nested{{!}}}}</ref> England.<ref name="a"/> \
It lies {{convert|5|km|mi}} from the [[River Test]]'s mouth.{{citation needed|date=May 2020}}

It was founded in {{circa|1100}} by [[Saint Test]]. See the [https://example.org/history town history]\
[https://example.org/x].
<!-- a hidden comment -->
== History ==
The town grew in the ''Middle Ages''.<ref>Smith, ''A History'', p. 4.</ref>
{| class="wikitable"
! Year !! Population
|-
| 1900 || {{formatnum:5000}}
|}
=== Modern era ===
* A [[railway]] arrived in 1850.
* The mill closed &amp; reopened.
[[Datei:Mill.jpg|thumb|The mill, [[1900]]]]
== See also ==
* [[Other town]]
== References ==
{{reflist}}
[[Category:Towns in Testshire]]
[[de:Testville]]
"""

EXPECTED = """Testville (Trevtest) is a town in the county of Testshire, England. It lies 5 km from the River \
Test's mouth.

It was founded in c. 1100 by Saint Test. See the town history.

History

The town grew in the Middle Ages.

Modern era

A railway arrived in 1850.
The mill closed & reopened."""

LONG = "The river runs past the old mill and under the stone bridge towards the sea. " * 4


# -- wikitext -> text -------------------------------------------------------------------------


def test_an_article_converts_to_exactly_its_prose():
    assert wikitext_to_text(ARTICLE, hidden_link_prefixes={"file", "category", "datei"}) == EXPECTED


def test_headings_can_be_left_out_and_their_sections_still_go():
    text = wikitext_to_text(ARTICLE, headings=False, hidden_link_prefixes={"file", "category", "datei"})
    assert text == EXPECTED.replace("History\n\n", "").replace("Modern era\n\n", "")
    assert "Other town" not in text


def test_tables_go_whether_cut_before_parsing_or_by_the_parser():
    plain = "Before.\n{| class=wikitable\n| a || {{nowrap|b}}\n|-\n{|\n| nested\n|}\n|}\nAfter."
    inside_a_template = "Before.\n{{Quote box|quote=Said.\n{|\n| cell\n|}\n}}\nAfter."
    unbalanced = "Before.\n{|\n| {{nowrap|c\n|}\nAfter."
    assert wikitext_to_text(plain) == "Before.\n\nAfter."
    assert wikitext_to_text(inside_a_template) == "Before.\n\nSaid.\n\nAfter."
    assert "cell" not in wikitext_to_text(unbalanced) and "Before." in wikitext_to_text(unbalanced)


def test_layout_of_paragraphs_lists_and_sections():
    markup = ("Soft\nwrapped line.\n\n;Term: its definition\n# one\n# two<br/>and more\nAfter the list.\n\n"
              "== Empty ==\n{{Main|Elsewhere}}\n== Kept ==\nText __NOTOC__ with <math>a^2 + b^2</math> "
              "and [[:Category:Visible]], [[wikt:word|a word]], [[fr:Ville]] [[Image:x.png]].\n"
              "== Notes and references ==\n=== Sub ===\nGone.\n== External links ==\nGone too.\n"
              "== Weblinks ==\nAnd gone in German.\n== Parent ==\n=== Child ===\nChild text.\n=== Empty child ===\n")
    assert wikitext_to_text(markup) == ("Soft wrapped line.\n\nTerm\nits definition\none\ntwo\nand more\n"
                                        "After the list.\n\nKept\n\nText with a^2 + b^2 and Category:Visible, "
                                        "a word.\n\nParent\n\nChild\n\nChild text.")


@pytest.mark.parametrize("markup", ["{{disambiguation}}", "{{Disambig}}", "{{DAB}}", "{{hndis|Smith, John}}",
                                    "{{geodis}}", "{{Human name disambiguation}}", "{{Disambiguation|geo|surname}}",
                                    "x\n{{ place_name_disambiguation }}", "__DISAMBIG__",
                                    "{{Begriffsklärung}}"])
def test_disambiguation_templates_are_recognised(markup):
    assert is_disambiguation("'''X''' may refer to:\n* [[X (film)]]\n" + markup)


def test_other_templates_are_not_disambiguation():
    assert not is_disambiguation("{{Infobox person}} {{for|the film|X (film)}} {{distinguish|Y}} text "
                                 "{{Other uses|X (disambiguation)}} [[Mercury]]{{Disambiguation needed|date=May 2020}} "
                                 "{{Incomplete disambiguation}}")


# -- dumps ------------------------------------------------------------------------------------

HEADER = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="de">
  <siteinfo>
    <sitename>Testwiki</sitename>
    <dbname>testwiki</dbname>
    <base>https://test.wikipedia.org/wiki/Hauptseite</base>
    <generator>MediaWiki 1.42</generator>
    <namespaces>
      <namespace key="-2" case="first-letter">Medium</namespace>
      <namespace key="0" case="first-letter" />
      <namespace key="1" case="first-letter">Diskussion</namespace>
      <namespace key="6" case="first-letter">Datei</namespace>
      <namespace key="14" case="first-letter">Kategorie</namespace>
    </namespaces>
  </siteinfo>
"""
FOOTER = "</mediawiki>\n"


def page(title: str, text: str, ns: int = 0, page_id: int = 1, redirect: str | None = None) -> str:
    return (f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{ns}</ns>\n    <id>{page_id}</id>\n"
            + (f'    <redirect title="{escape(redirect)}" />\n' if redirect else "")
            + f"    <revision>\n      <id>{1000 + page_id}</id>\n      <parentid>1</parentid>\n"
            "      <timestamp>2024-03-04T05:06:07Z</timestamp>\n      <model>wikitext</model>\n"
            f'      <text bytes="{len(text)}" xml:space="preserve">{escape(text)}</text>\n'
            "    </revision>\n  </page>\n")


def articles(n: int, start: int = 0) -> list[str]:
    return [page(f"Place {i}", f"'''Place {i}''' is a place. {LONG}", page_id=i) for i in range(start, start + n)]


def write_multistream(tmp_path, streams: list[list[str]], name: str = "testwiki-pages-articles-multistream"):
    """A multistream dump (header stream, one bz2 stream per list of pages, closing stream) and
    its index beside it; returns (dump path, stream offsets)."""
    dump = tmp_path / f"{name}.xml.bz2"
    data, offsets, lines = bz2.compress(HEADER.encode()), [], []
    for pages in streams:
        offsets.append(len(data))
        for xml in pages:
            page_id = xml.split("<id>", 1)[1].split("<", 1)[0]
            title = xml.split("<title>", 1)[1].split("<", 1)[0]
            lines.append(f"{len(data)}:{page_id}:{title}")
        data += bz2.compress("".join(pages).encode())
    data += bz2.compress(FOOTER.encode())
    dump.write_bytes(data)
    (tmp_path / f"{name}-index.txt.bz2").write_bytes(bz2.compress(("\n".join(lines) + "\n").encode()))
    return dump, offsets


def read(path, config: WikipediaConfig = WikipediaConfig()):
    stats = StepStats("read_wikipedia")
    docs = list(read_wikipedia(str(path), "wikipedia", stats, config))
    assert stats.balanced()
    return docs, stats


def titles(docs) -> list[str]:
    return [d.metadata["title"] for d in docs]


def test_only_articles_are_kept_and_every_drop_is_counted(tmp_path):
    pages = [
        page("Kept", ARTICLE, page_id=1),
        page("Diskussion:Kept", LONG, ns=1, page_id=2),
        page("Wikipedia:Policy", LONG, ns=4, page_id=3),
        page("Old name", "#WEITERLEITUNG [[Kept]]", page_id=4, redirect="Kept"),
        page("Untagged redirect", "#REDIRECT [[Kept]]", page_id=5),
        page("Mercury", "'''Mercury''' may refer to:\n* [[Mercury (planet)]]\n" + LONG + "{{disambiguation}}", page_id=6),
        page("Smith", LONG + "{{hndis|Smith}}", page_id=7),
        page("Springfield", LONG + "{{Place name disambiguation}}", page_id=8),
        page("Stub", "'''Stub''' is short.", page_id=9),
        page("Blank", "", page_id=10),
        page("Only a table", "{|\n| a\n|}\n[[Kategorie:X]]", page_id=11),
    ]
    dump = tmp_path / "testwiki-pages-articles.xml.bz2"
    dump.write_bytes(bz2.compress((HEADER + "".join(pages) + FOOTER).encode()))
    docs, stats = read(dump)
    assert titles(docs) == ["Kept"]
    assert stats.n_in == 11 and stats.n_out == 1
    assert stats.dropped == {"namespace": 2, "redirect": 2, "disambiguation": 3, "too_short": 1, "empty_text": 2}

    docs, stats = read(dump, WikipediaConfig(namespaces=(0, 1), keep_redirects=True, keep_disambiguation=True,
                                             min_chars=0))
    assert titles(docs) == ["Kept", "Diskussion:Kept", "Old name", "Untagged redirect", "Mercury", "Smith",
                            "Springfield", "Stub"]
    assert stats.dropped == {"namespace": 1, "empty_text": 2}


def test_documents_carry_the_wikis_url_stable_ids_and_revision_fields(tmp_path):
    dump = tmp_path / "testwiki-pages-articles.xml"
    dump.write_text(HEADER + page("Café au lait (drink)?", ARTICLE, page_id=42) + FOOTER, encoding="utf-8")
    (doc,), _ = read(dump)
    assert doc.url == "https://test.wikipedia.org/wiki/Caf%C3%A9_au_lait_(drink)%3F"  # the siteinfo's base
    assert doc.id == document_id("wikipedia", doc.url)
    assert doc.source == "wikipedia" and doc.domain == "wikipedia.org"  # the registered domain, as read_warc writes it
    assert doc.lang == "de"  # the dump's xml:lang
    assert doc.fetch_time == datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    assert doc.metadata == {"title": "Café au lait (drink)?", "page_id": 42, "revision_id": 1042}
    assert doc.text == EXPECTED  # [[Datei:...]]: the wiki's own name for files, from the siteinfo
    assert [d.id for d in read(dump)[0]] == [doc.id]

    compressed = tmp_path / "copy.xml.bz2"
    compressed.write_bytes(bz2.compress(dump.read_bytes()))
    assert [(d.id, d.url, d.text) for d in read(compressed)[0]] == [(doc.id, doc.url, doc.text)]


def test_multistream_ranges_read_every_page_once_in_order(tmp_path):
    streams = [articles(3, start=3 * s) for s in range(7)]
    streams[2][1] = page("Smith", LONG + "{{dab}}", page_id=7)
    dump, offsets = write_multistream(tmp_path, streams)
    whole, whole_stats = read(dump)
    assert len(whole) == 20

    assert find_index(str(dump)) == str(tmp_path / "testwiki-pages-articles-multistream-index.txt.bz2")
    tasks = wikipedia_tasks(str(dump), pages_per_task=5)
    assert tasks == wikipedia_tasks(str(dump), index=find_index(str(dump)), pages_per_task=5)
    ranges = [parse_range(t) for t in tasks]
    assert [start for _, start, _ in ranges] == offsets[0:7:2]  # two streams (6 pages) per task
    assert all(end == nxt for (_, _, end), (_, nxt, _) in zip(ranges, ranges[1:]))
    assert ranges[-1][2] == dump.stat().st_size

    parts = [read(t) for t in tasks]
    in_ranges = [d for docs, _ in parts for d in docs]
    assert [(d.id, d.url, d.text, d.metadata) for d in in_ranges] == [(d.id, d.url, d.text, d.metadata) for d in whole]
    assert all(d.url.startswith("https://test.wikipedia.org/wiki/") for d in in_ranges)  # siteinfo of stream 0
    assert sum(s.n_in for _, s in parts) == whole_stats.n_in == 21
    assert sum(s.dropped["disambiguation"] for _, s in parts) == 1


def test_dumps_without_an_index_are_one_task(tmp_path):
    plain = tmp_path / "x.xml"
    plain.write_text(HEADER + FOOTER)
    assert wikipedia_tasks(str(plain)) == [str(plain)]
    dump, _ = write_multistream(tmp_path, [articles(2)], name="other-multistream")
    (tmp_path / "other-multistream-index.txt.bz2").unlink()
    assert wikipedia_tasks(str(dump)) == [str(dump)]


def test_a_truncated_bz2_stream_keeps_the_pages_before_it(tmp_path, caplog):
    dump, offsets = write_multistream(tmp_path, [articles(3, start=3 * s) for s in range(4)])
    cut = tmp_path / "cut.xml.bz2"
    cut.write_bytes(dump.read_bytes()[:offsets[2] + 40])
    with caplog.at_level(logging.WARNING, logger="corpus.sources.wikipedia"):
        docs, stats = read(cut)
    assert titles(docs) == [f"Place {i}" for i in range(6)]
    assert stats.dropped == {"corrupt_stream": 1}
    assert f"cut.xml.bz2: corrupt stream: bz2 stream at byte {offsets[2]} cut short" in caplog.text


def test_a_corrupt_stream_costs_only_its_own_pages(tmp_path):
    dump, offsets = write_multistream(tmp_path, [articles(3, start=3 * s) for s in range(4)])
    data = bytearray(dump.read_bytes())
    middle = (offsets[1] + offsets[2]) // 2
    data[middle:middle + 8] = b"\x00" * 8
    broken = tmp_path / "broken.xml.bz2"
    broken.write_bytes(bytes(data))
    docs, stats = read(broken)
    assert titles(docs) == [f"Place {i}" for i in (0, 1, 2, 6, 7, 8, 9, 10, 11)]
    assert stats.dropped == {"corrupt_stream": 1}


def test_malformed_xml_costs_only_its_page(tmp_path, caplog):
    good = articles(4)
    bad_entity = page("Fine", LONG, page_id=90).replace("<title>Fine</title>", "<title>A & B</title>")
    no_end = page("Unended", LONG, page_id=91).replace("</page>", "")
    dump = tmp_path / "testwiki-pages-articles.xml.bz2"
    dump.write_bytes(bz2.compress((HEADER + good[0] + bad_entity + good[1] + no_end + good[2] + good[3]
                                   + FOOTER).encode()))
    with caplog.at_level(logging.WARNING, logger="corpus.sources.wikipedia"):
        docs, stats = read(dump)
    assert titles(docs) == ["Place 0", "Place 1", "Place 2", "Place 3"]
    assert stats.dropped == {"malformed_page": 2}
    assert "testwiki-pages-articles.xml.bz2: malformed page" in caplog.text


def test_an_uncompressed_dump_cut_inside_a_page_keeps_the_pages_before(tmp_path):
    dump = tmp_path / "cut.xml"
    xml = HEADER + "".join(articles(3))
    dump.write_text(xml[: xml.rindex("<text")], encoding="utf-8")
    docs, stats = read(dump)
    assert titles(docs) == ["Place 0", "Place 1"]
    assert stats.dropped == {"corrupt_stream": 1}
