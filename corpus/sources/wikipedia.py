"""Wikipedia XML dumps (`pages-articles`, plain or multistream `.xml.bz2`, or `.xml`) -> documents.

A dump is streamed, never held: bz2 is decompressed a block at a time (`bz2.BZ2Decompressor`, one
per bz2 stream, so concatenated and multistream files read whole), and the XML is cut into pages
at their `<page>` and `</page>` tags, which the exporter writes as markup only (text is escaped),
then each page is parsed on its own by lxml. It is as fast as `lxml.etree.iterparse` over the whole
stream and 1.5x `mwxml` (bench/bench_wikitext.py --readers, XML to fields with bz2 included, three
runs: 3,940-4,430 vs 3,790-4,280 vs 2,530-2,800 pages/s; bz2 alone bounds all three), and it is
chosen for what the other two cannot do: malformed XML costs only its page (`malformed_page`, and
reading goes on; iterparse and mwxml stop at the first error), and a byte range of pages needs no
wrapping in a root element. The text conversion, not the XML, is what costs: `read_wikipedia`
reads ~600 pages/s, 0.75 MB/s of bz2, per core.

A multistream dump with its index (`...-multistream-index.txt.bz2`: "offset:page_id:title" per
page, one offset per bz2 stream of 100 pages) is split by `wikipedia_tasks` into byte ranges of
whole streams, `path#bytes=START-END`, so that workers read one dump in parallel. A range holds
`<page>` elements only: the siteinfo (URL base, namespaces, dbname) comes from the file's first
stream, which holds just the `<mediawiki>` header.

Broken bz2 costs the broken stream: a corrupt stream is counted (`corrupt_stream`, logged with the
file and byte offset), every page completed before it is kept, and reading resumes at the next
bz2 stream header (in a multistream dump, 100 pages on); a file or range cut short ends there,
also counted. Each broken stretch counts as one record in and dropped, so `n_in == n_out +
dropped` holds, as for `corpus.readers.warc`.

Pages: `<ns>` selects namespaces, `<redirect>` marks redirects, disambiguation templates mark
disambiguation pages (`corpus.sources.wikitext.is_disambiguation`); the last `<revision>` of a
page is the one read (a pages-articles dump has one). Full-history dumps are not a target.
"""

from __future__ import annotations

import bz2
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from corpus.readers.inputs import RewindableStream, is_remote, open_input, parse_range
from corpus.records import Document, document_id
from corpus.sources.wikitext import HIDDEN_LINK_PREFIXES, is_disambiguation, wikitext_to_text
from corpus.steps import StepStats
from corpus.urls import registered_domain

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://en.wikipedia.org/wiki/"  # when a dump's siteinfo cannot be read
MAX_PAGE_BYTES = 256 << 20  # a `<page>` with no end this far on is broken (articles are <= 2 MiB)
_READ = 1 << 20             # compressed bytes per read
_INFLATE_STEP = 8 << 20     # decompressed bytes per call: bounds what one bz2 block expands to
_BZ2_MAGIC = b"BZh"
# What follows a stream's 4-byte header: its first block's magic, or the end-of-stream magic.
_BZ2_FIRST = (b"1AY&SY", b"\x17\x72\x45\x38\x50\x90")
_PAGE_OPEN, _PAGE_CLOSE = b"<page>", b"</page>"
_REDIRECT_TEXT = re.compile(r"\s*#\s*redirect\b", re.I)
# "Media" (-2), "File" (6) and "Category" (14): links into them show no text.
_HIDDEN_NAMESPACES = (-2, 6, 14)


@dataclass(frozen=True)
class WikipediaConfig:
    """Which pages become documents, and how their text is laid out."""

    namespaces: tuple[int, ...] = (0,)
    keep_redirects: bool = False
    keep_disambiguation: bool = False
    min_chars: int = 200            # shorter article texts dropped as "too_short" (stubs)
    headings: bool = True           # section headings kept as their own lines


@dataclass(frozen=True)
class SiteInfo:
    """What a dump's `<siteinfo>` says about its wiki."""

    base_url: str                   # page URLs are this + the title (https://en.wikipedia.org/wiki/)
    dbname: str | None = None       # enwiki
    lang: str | None = None         # the `xml:lang` of the dump ("en")
    namespaces: dict[int, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def hidden_link_prefixes(self) -> frozenset[str]:
        """Link prefixes that show no text: files and categories in English and in the wiki's language."""
        local = {self.namespaces[k].lower() for k in _HIDDEN_NAMESPACES if self.namespaces.get(k)}
        return HIDDEN_LINK_PREFIXES | local

    def page_url(self, title: str) -> str:
        """The page's URL as the wiki spells it: spaces as underscores, percent-encoded like
        MediaWiki's `wfUrlencode` (`Café` -> `Caf%C3%A9`, `AC/DC` stays, `What?` -> `What%3F`)."""
        return self.base_url + quote(title.replace(" ", "_"), safe=";@$!*(),/:~")


@dataclass
class WikiPage:
    """One `<page>` of a dump, its last revision."""

    title: str
    ns: int
    page_id: int | None
    revision_id: int | None
    timestamp: datetime | None
    redirect: bool
    text: str


# -- tasks ------------------------------------------------------------------------------------


def find_index(path: str) -> str | None:
    """The multistream index beside a dump, by the dumps' naming, or None:
    `X-pages-articles-multistream.xml.bz2` -> `X-pages-articles-multistream-index.txt.bz2`, and
    `...-multistream1.xml-p1p41242.bz2` -> `...-multistream-index1.txt-p1p41242.bz2`."""
    name = re.sub(r"multistream(\d*)\.xml", r"multistream-index\1.txt", path)
    if name == path or is_remote(path):
        return None
    return name if Path(name).is_file() else None


def wikipedia_tasks(path: str, index: str | None = None, pages_per_task: int = 20000) -> list[str]:
    """The inputs one dump is read as: `[path]` for a plain or single-stream dump, or byte ranges
    `path#bytes=START-END` of a multistream dump, each a run of whole bz2 streams holding about
    `pages_per_task` pages, when its index is given or lies beside it (`find_index`).

    Ranges begin at the first page stream (the header stream is read by every range anyway) and
    the last one runs to the end of the file, so together they cover every page once.
    """
    index = index or find_index(path)
    if index is None or is_remote(path) or not path.endswith(".bz2"):
        return [path]
    offsets = _stream_offsets(index)
    if not offsets:
        log.warning("%s: no usable lines in the index %s: reading the dump whole", path, index)
        return [path]
    size = Path(path).stat().st_size
    tasks, start, pages = [], offsets[0][0], 0
    for offset, n in offsets:
        if pages >= pages_per_task:
            tasks.append(f"{path}#bytes={start}-{offset}")
            start, pages = offset, 0
        pages += n
    tasks.append(f"{path}#bytes={start}-{size}")
    return tasks


def _stream_offsets(index: str) -> list[tuple[int, int]]:
    """(offset, pages in that stream) per bz2 stream, in file order, from an index file (bz2 or
    plain), streamed line by line; lines that are not "offset:id:title" are skipped."""
    opener = bz2.open if index.endswith(".bz2") else open
    out: list[tuple[int, int]] = []
    with opener(index, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            head = line.split(":", 1)[0]
            if not head.isdigit():
                continue
            offset = int(head)
            if out and out[-1][0] == offset:
                out[-1] = (offset, out[-1][1] + 1)
            elif not out or offset > out[-1][0]:
                out.append((offset, 1))
    return out


# -- bytes -> decompressed chunks -------------------------------------------------------------

_BREAK = None  # yielded between chunks that do not continue each other (a broken stretch between)


def _decompressed(src: RewindableStream, name: str, report, begin: int, end: int | None
                  ) -> Iterator[bytes | None]:
    """The decompressed bytes of bz2 streams from `begin` to `end`, stream after stream; `None`
    where a broken stream was skipped (reading resumes at the next stream header)."""
    pos = begin
    src.seek(pos)
    while end is None or pos < end:
        head = src.peek(10)
        if not head:
            return
        problem = None
        if not _is_stream_start(head):
            problem = f"no bz2 stream at byte {pos}"
        else:
            inflater = bz2.BZ2Decompressor()
            try:
                while not inflater.eof:
                    data = b""
                    if inflater.needs_input:
                        data = src.read(_READ if end is None else min(_READ, end - src.tell()))
                        if not data:
                            report(f"bz2 stream at byte {pos} cut short at byte {src.tell()}")
                            yield _BREAK
                            return
                    out = inflater.decompress(data, _INFLATE_STEP)
                    if out:
                        yield out
            except (OSError, EOFError) as err:
                problem = f"corrupt bz2 stream at byte {pos} ({err})"
        if problem is None:
            pos = src.tell() - len(inflater.unused_data)
            src.seek(pos)
            continue
        # A damaged stream costs only itself: the next one starts a new block of whole pages.
        nxt = _next_stream(src, pos + 1, end)
        report(f"{problem}; " + (f"resuming at byte {nxt}" if nxt is not None else "nothing readable after it"))
        yield _BREAK
        if nxt is None:
            return
        pos = nxt
        src.seek(pos)


def _is_stream_start(head: bytes) -> bool:
    return head[:3] == _BZ2_MAGIC and head[3:4].isdigit() and head[4:10] in _BZ2_FIRST


def _next_stream(src: RewindableStream, start: int, end: int | None) -> int | None:
    found = src.resync(start, _BZ2_MAGIC, _is_stream_start, "bz2 stream")
    return found if found is not None and (end is None or found < end) else None


def _plain(src: RewindableStream) -> Iterator[bytes]:
    while chunk := src.read(_READ):
        yield chunk


def _first_stream_header(path: str) -> bytes:
    """The `<mediawiki>` header of a dump (everything before its first `<page>`), read from the
    start of the file: in a multistream dump, its first bz2 stream."""
    with open_input(path) as raw:
        src = RewindableStream(raw)
        chunks = _decompressed(src, path, lambda detail: None, 0, None) if src.peek(3) == _BZ2_MAGIC \
            else _plain(src)
        head = bytearray()
        for chunk in chunks:
            if chunk is None:
                break
            head += chunk
            cut = head.find(_PAGE_OPEN)
            if cut >= 0:
                return bytes(head[:cut])
            if len(head) > MAX_PAGE_BYTES:
                break
        return bytes(head)


# -- decompressed bytes -> pages --------------------------------------------------------------


def _page_slices(chunks: Iterator[bytes | None], report) -> Iterator[tuple[str, bytes]]:
    """("header", bytes before the first page) once, then ("page", `<page>...</page>`) per page,
    from the decompressed stream; a page cut by a break, or one with no end before the next
    `<page>`, is reported and skipped."""
    buf = bytearray()
    header_sent = False
    for chunk in chunks:
        if chunk is None:  # the page in progress (if any) was in the broken stretch: counted there
            buf.clear()
            header_sent = True
            continue
        buf += chunk
        pos = 0
        while True:
            start = buf.find(_PAGE_OPEN, pos)
            if not header_sent:
                if start < 0 and len(buf) <= MAX_PAGE_BYTES:
                    break
                header_sent = True  # (with no page in sight after MAX_PAGE_BYTES, not a dump's header)
                yield "header", bytes(buf[:start] if start >= 0 else buf)
            if start < 0:
                pos = max(pos, len(buf) - len(_PAGE_OPEN))
                break
            stop = buf.find(_PAGE_CLOSE, start)
            if stop < 0:
                if len(buf) - start > MAX_PAGE_BYTES:
                    report("malformed_page", f"a <page> with no end in {MAX_PAGE_BYTES} bytes")
                    pos = start + len(_PAGE_OPEN)
                    continue
                pos = start
                break
            inner = buf.find(_PAGE_OPEN, start + len(_PAGE_OPEN), stop)
            if inner >= 0:  # this page never ended: the tag that closes is the next page's
                report("malformed_page", "a <page> with no </page> before the next <page>")
                pos = inner
                continue
            pos = stop + len(_PAGE_CLOSE)
            yield "page", bytes(buf[start:pos])
        del buf[:pos]
    if not header_sent and buf:
        yield "header", bytes(buf)
    elif buf.find(_PAGE_OPEN) >= 0:  # an uncompressed file cut inside a page
        report("corrupt_stream", "the input ends inside a <page>")


def parse_page(xml: bytes) -> WikiPage:
    """One `<page>` element's fields (raises `lxml.etree.XMLSyntaxError` or `ValueError` when it is
    malformed)."""
    from lxml import etree

    page = etree.fromstring(xml, _xml_parser())
    title, ns, page_id, redirect, revision = "", None, None, False, None
    for child in page:
        tag = child.tag
        if tag == "title":
            title = child.text or ""
        elif tag == "ns":
            ns = int(child.text)
        elif tag == "id":
            page_id = int(child.text)
        elif tag == "redirect":
            redirect = True
        elif tag == "revision":
            revision = child
    revision_id = timestamp = None
    text = ""
    if revision is not None:
        for child in revision:
            tag = child.tag
            if tag == "id":
                revision_id = int(child.text)
            elif tag == "timestamp" and child.text:
                timestamp = datetime.fromisoformat(child.text.replace("Z", "+00:00")).astimezone(timezone.utc)
            elif tag == "text":
                text = child.text or ""
    if not title:
        raise ValueError("a page with no title")
    return WikiPage(title, 0 if ns is None else ns, page_id, revision_id, timestamp, redirect, text)


def _xml_parser():
    from lxml import etree

    # huge_tree: a page's text may pass lxml's 10 MB text-node limit; no entities, no network.
    return etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


def parse_siteinfo(header: bytes) -> SiteInfo | None:
    """The siteinfo in a dump's header (`<mediawiki ...><siteinfo>...</siteinfo>`), or None."""
    from lxml import etree

    cut = header.find(b"</siteinfo>")
    if cut < 0:
        return None
    try:
        root = etree.fromstring(header[:cut] + b"</siteinfo></mediawiki>", _xml_parser())
    except etree.XMLSyntaxError:
        return None
    info = root.find("{*}siteinfo")
    if info is None:
        return None
    base = info.findtext("{*}base") or ""
    namespaces = {}
    for ns in info.iterfind("{*}namespaces/{*}namespace"):
        try:
            namespaces[int(ns.get("key"))] = ns.text or ""
        except (TypeError, ValueError):
            continue
    return SiteInfo(_base_url(base), info.findtext("{*}dbname"),
                    root.get("{http://www.w3.org/XML/1998/namespace}lang"), namespaces)


def _base_url(main_page: str) -> str:
    """https://en.wikipedia.org/wiki/Main_Page -> https://en.wikipedia.org/wiki/ (the URL of any
    page is this + its title; `index.php?title=` wikis keep their `title=`)."""
    if not main_page.startswith(("http://", "https://")):
        return DEFAULT_BASE
    if "title=" in main_page:
        return main_page.split("title=", 1)[0] + "title="
    if "/wiki/" in main_page:
        return main_page.split("/wiki/", 1)[0] + "/wiki/"
    return main_page.rsplit("/", 1)[0] + "/"


def read_pages(path: str, stats: StepStats) -> Iterator[tuple[SiteInfo, WikiPage]]:
    """Every readable page of a dump, or of a byte range of one (`path#bytes=START-END`), with
    the dump's siteinfo. Broken stretches and malformed pages are counted in `stats` (one record
    in and dropped each) and logged; the pages around them are read."""
    path, begin, end = parse_range(str(path))
    name = path.rstrip("/").rsplit("/", 1)[-1]

    def report(reason: str, detail: str) -> None:
        stats.n_in += 1
        stats.drop(reason)
        log.warning("%s: %s: %s", name, reason.replace("_", " "), detail)

    site = None
    with open_input(path) as raw:
        src = RewindableStream(raw)
        compressed = src.peek(3) == _BZ2_MAGIC
        if begin > 0 and not compressed:
            log.warning("%s: byte ranges are read in bz2 dumps only: reading it whole", name)
            begin, end = 0, None
        if begin > 0:  # a range of page streams: the header is in the file's first stream
            site = parse_siteinfo(_first_stream_header(path))
            src.seek(begin)
        chunks = _decompressed(src, name, lambda detail: report("corrupt_stream", detail), begin, end) \
            if compressed else _plain(src)
        for kind, xml in _page_slices(chunks, report):
            if kind == "header":
                if begin == 0:
                    site = parse_siteinfo(xml)
                continue
            if site is None:
                log.warning("%s: no readable <siteinfo>: page URLs use %s", name, DEFAULT_BASE)
                site = SiteInfo(DEFAULT_BASE)
            try:
                page = parse_page(xml)
            except Exception as err:  # lxml's XMLSyntaxError, a non-numeric <ns> or <id>, ...
                report("malformed_page", f"unreadable page ({str(err).splitlines()[0] if str(err) else err!r})")
                continue
            yield site, page


# -- pages -> documents -----------------------------------------------------------------------


def read_wikipedia(path: str, source: str, stats: StepStats,
                   config: WikipediaConfig = WikipediaConfig()) -> Iterator[Document]:
    """Yield one document per article of a Wikipedia dump or dump range (see `wikipedia_tasks`).

    Every page is counted in `stats` (`n_in`); pages that are not kept are dropped under
    "namespace", "redirect", "disambiguation", "empty_text", "too_short" or "bad_wikitext", and
    broken input under "corrupt_stream" and "malformed_page". A document's text is the page's
    wikitext as plain text (`corpus.sources.wikitext`), its URL the page's on the dump's wiki, its
    `fetch_time` the revision's timestamp, its metadata the title, page id and revision id.
    """
    namespaces = frozenset(config.namespaces)
    for site, page in read_pages(path, stats):
        stats.n_in += 1
        reason = _page_drop_reason(page, namespaces, config)
        if reason is not None:
            stats.drop(reason)
            continue
        try:
            text = wikitext_to_text(page.text, config.headings, site.hidden_link_prefixes)
        except Exception as err:  # a parser failure on one page never ends the input
            log.warning("%s: wikitext of %r not convertible: %r", path, page.title, err)
            stats.drop("bad_wikitext")
            continue
        if not text:
            stats.drop("empty_text")
            continue
        if len(text) < config.min_chars:
            stats.drop("too_short")
            continue
        url = site.page_url(page.title)
        # domain as every other reader writes it (the registered domain); lang from the dump's xml:lang.
        doc = Document(id=document_id(source, url), url=url, source=source, text=text,
                       domain=registered_domain(site.host) or site.host, lang=site.lang, fetch_time=page.timestamp,
                       metadata={"title": page.title, "page_id": page.page_id, "revision_id": page.revision_id})
        stats.keep(doc)
        yield doc


def _page_drop_reason(page: WikiPage, namespaces: frozenset[int], config: WikipediaConfig) -> str | None:
    """Why a page is not an article to keep (before its text is converted), or None."""
    if page.ns not in namespaces:
        return "namespace"
    if not config.keep_redirects and (page.redirect or _REDIRECT_TEXT.match(page.text)):
        return "redirect"
    if not page.text.strip():
        return "empty_text"
    if not config.keep_disambiguation and is_disambiguation(page.text):
        return "disambiguation"
    return None
