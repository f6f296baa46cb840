"""The Common-Crawl-like shard: good articles, near and exact duplicates, copies of WebText
pages, boilerplate, spam, lorem ipsum, shop listings, machine-made pages (SEO, listings, legal,
guestbook spam, near-empty stubs), other languages and charsets, non-HTML payloads, redirects,
revisits and a malformed tail; plus the truncated shard.

Like a real crawl, it is mostly not prose: about one English page in six is a WebText-like
article or a copy of one. GPT-3's quality classifier is trained on WebText against this raw
text, so the share of prose in it bounds what the classifier can learn (see README.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import random
from urllib.parse import urlsplit

import sample_html as H
import sample_lowquality as LQ
import sample_machinetext as MT
from sample_common import (
    CC_CRAWL,
    CC_FETCH_START,
    CC_TRUNCATED_WARC,
    CC_WARC,
    atomic_write,
    make_site,
    rand_token,
    rng_for,
)
from sample_prose import Article, ProseGenerator, slugify, title_case
from sample_warc import DeterministicWarc, html_headers, payload_digest, warc_date
from sample_webtext import WebtextPlan

# Word parts for the Common Crawl side's hosts (disjoint from the WebText hosts).
_CC_HOST_A = ("maple", "copper", "lantern", "orchard", "signal", "meadow", "granite", "willow", "thimble",
              "cinder", "ember", "falcon", "juniper", "harrow", "bramble", "quill", "saffron", "tundra",
              "cobalt", "hazel", "pebble", "rowan", "sparrow", "thistle", "velvet", "wicker", "alder",
              "birch", "clover", "dune")
_CC_HOST_B = ("press", "times", "notes", "journal", "daily", "review", "post", "hub", "digest", "corner",
              "ledger", "courier", "gazette", "bulletin", "weekly", "lab", "works", "house", "field", "point")
_CC_TLDS = (".com", ".com", ".com", ".net", ".org", ".info", ".co.uk", ".com.au", ".blog", ".io")
_FOREIGN_TLDS = {"de": ".de", "fr": ".fr", "es": ".es", "ru": ".ru", "zh": ".cn", "ja": ".jp"}


def cc_host_names(rng: random.Random, n: int, taken: set[str], tld: str | None = None) -> list[str]:
    hosts: list[str] = []
    while len(hosts) < n:
        host = (rng.choice(["www.", "www.", "", "blog.", "news."]) + rng.choice(_CC_HOST_A)
                + rng.choice(["", "-"]) + rng.choice(_CC_HOST_B) + (tld or rng.choice(_CC_TLDS)))
        if host not in taken:
            taken.add(host)
            hosts.append(host)
    return hosts


@dataclasses.dataclass
class Capture:
    """One fetched URL in the CC shard: request + response + metadata (or a revisit)."""

    url: str
    kind: str
    body: bytes
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    lang: str | None = "en"
    group: str | None = None
    webtext_url: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    ip: str = "203.0.113.10"
    server: str = "nginx"


def _cc_site(rng: random.Random, host: str, sections: tuple[str, ...] = ("News", "Life", "Opinion")) -> H.Site:
    label = host.split(".", 1)[1] if host.startswith(("www.", "blog.", "news.")) else host
    name = title_case(label.split(".")[0].replace("-", " "))
    return make_site(rng, host, name, rng.choice(["Daily news and views", "Stories that matter", "Est. 2009",
                                                  "Independent and local", "Your source for everything"]), sections)


def _choose_edit(article: Article, rng: random.Random, choices: list[str]) -> str:
    """Pick an edit; only long articles (6+ paragraphs) may lose a paragraph, so that every
    copy stays a near-duplicate (5-gram Jaccard well above 0.7)."""
    how = rng.choice(choices)
    if how == "dropped_paragraph" and sum(1 for kind, _ in article.blocks if kind == "p") < 6:
        how = "appended_note"
    return how


def _edit_article(article: Article, rng: random.Random, how: str) -> list[tuple[str, object]]:
    """A near-duplicate body: the same article with a small, realistic edit."""
    blocks = [list(b) for b in article.blocks]
    paras = [i for i, (k, _) in enumerate(blocks) if k == "p"]
    if how == "changed_sentence":
        i = rng.choice(paras)
        sentences = str(blocks[i][1]).split(". ")
        j = rng.randrange(len(sentences))
        sentences[j] = rng.choice(["This paragraph has been updated to correct an error",
                                   "An earlier version of this article gave the wrong date",
                                   "Figures were revised after publication"])
        blocks[i][1] = ". ".join(sentences).rstrip(".") + "."
    elif how == "dropped_paragraph":
        del blocks[paras[-2]]
    elif how == "appended_note":
        blocks.append(["p", rng.choice(["This article first appeared in our weekly newsletter.",
                                        "This story has been republished with permission.",
                                        "Additional reporting by our staff."])])
    elif how == "typo_fixes":
        i = rng.choice(paras)
        blocks[i][1] = str(blocks[i][1]).replace(" the ", " teh ", 1).replace(" and ", " adn ", 1)
    return [tuple(b) for b in blocks]  # type: ignore[misc]


@dataclasses.dataclass
class CCPlan:
    captures: list[Capture]
    revisits: list[tuple[int, int]]   # (index of original capture, insert position)


# Target counts per kind in cc_sample.warc.gz (responses).
CC_COUNTS = {
    "good_article": 95,
    "webtext_near_copy": 32,
    "near_dup_clusters": 12,    # clusters of 2-5 pages
    "exact_dup": 10,
    "boilerplate": 40,
    "spam": 30,
    "lorem": 10,
    "product_list": 20,
    "seo": 55,
    "listing": 130,
    "legal": 25,
    "comment_spam": 50,
    "stub": 520,
    "foreign": {"de": 22, "fr": 20, "es": 20, "ru": 10, "zh": 10, "ja": 5},
    "image": 12, "pdf": 6, "json": 8,
    "redirect": 12, "not_found": 10,
    "revisit": 15,
}


def build_commoncrawl_plan(gen: ProseGenerator, webtext: WebtextPlan) -> CCPlan:
    rng = rng_for("cc-plan")
    taken = {s.host for s in webtext.sites}
    article_hosts = cc_host_names(rng, 45, taken)
    junk_hosts = cc_host_names(rng, 40, taken)
    article_sites = [_cc_site(rng_for("cc-site", h), h, ("News", "Science", "Life", "Culture", "Opinion"))
                     for h in article_hosts]
    junk_sites = [_cc_site(rng_for("cc-site", h), h) for h in junk_hosts]
    # Machine-made pages come from many more hosts than articles do, as in a real crawl.
    machine_sites = [_cc_site(rng_for("cc-site", h), h) for h in cc_host_names(rng_for("cc-machine-hosts"), 160, taken)]
    caps: list[Capture] = []
    urls: set[str] = set()

    def unique_url(site: H.Site, path: str) -> str:
        url = f"https://{site.host}{path}" if rng.random() < 0.7 else f"http://{site.host}{path}"
        while url in urls:
            url = url + ("&" if "?" in url else "?") + f"page={rng.randint(2, 99)}"
        urls.add(url)
        return url

    def article_capture(site: H.Site, article: Article, kind: str, page_rng: random.Random, number: int,
                        blocks: list[tuple[str, object]] | None = None, footer_variant: int = 0,
                        dateline: str | None = None, group: str | None = None,
                        webtext_url: str | None = None) -> Capture:
        url = unique_url(site, site.article_path(article, number))
        # Sidebar links to other (unfetched) stories on the same site.
        titles = [gen.title(page_rng) for _ in range(page_rng.randint(3, 6))]
        related = [(f"https://{site.host}/{slugify(t)}", t) for t in titles]
        body = H.render_article_page(site, article, url, related, page_rng, footer_variant=footer_variant,
                                     blocks=blocks, dateline=dateline).encode("utf-8")
        return Capture(url, kind, body, group=group, webtext_url=webtext_url, ip=site.ip, server=site.server)

    # Good articles (the kind of page the classifier should keep).
    for i in range(CC_COUNTS["good_article"]):
        a_rng = rng_for("cc-article", i)
        site = a_rng.choice(article_sites)
        article = gen.article(a_rng)
        caps.append(article_capture(site, article, "good_article", a_rng, 5000 + i))

    # Near-identical copies of WebText pages (for fuzzy dedup of WebText against CC).
    candidates = [p for p in webtext.pages if p.kind == "article" and p.in_dump]
    for i, page in enumerate(rng.sample(candidates, CC_COUNTS["webtext_near_copy"])):
        c_rng = rng_for("cc-webtext-copy", i)
        how = _choose_edit(page.article, c_rng,
                           ["changed_sentence", "dropped_paragraph", "appended_note", "typo_fixes", "verbatim"])
        blocks = _edit_article(page.article, c_rng, how) if how != "verbatim" else None
        site = c_rng.choice(article_sites + junk_sites[:10])
        cap = article_capture(site, page.article, "webtext_near_copy", c_rng, 7000 + i, blocks=blocks,
                              webtext_url=page.url)
        cap.group = how
        caps.append(cap)

    # Near-duplicate clusters within the crawl: one story, small edits, different sites.
    for g in range(CC_COUNTS["near_dup_clusters"]):
        g_rng = rng_for("cc-cluster", g)
        article = gen.article(g_rng)
        size = g_rng.choice([2, 2, 3, 3, 4, 5])
        for m in range(size):
            how = "original" if m == 0 else _choose_edit(article, g_rng, ["changed_sentence", "dateline", "footer",
                                                                          "dropped_paragraph", "appended_note",
                                                                          "typo_fixes"])
            blocks = _edit_article(article, g_rng, how) if how in ("changed_sentence", "dropped_paragraph",
                                                                  "appended_note", "typo_fixes") else None
            dateline = f"Updated {H.pretty_date(article.published + dt.timedelta(days=g_rng.randint(1, 30)))}" \
                if how == "dateline" else None
            site = g_rng.choice(article_sites)
            caps.append(article_capture(site, article, "near_duplicate", g_rng, 8000 + g * 10 + m, blocks=blocks,
                                        footer_variant=1 if how == "footer" else 0, dateline=dateline,
                                        group=f"cluster-{g}:{how}"))

    # Low-quality pages.
    for i in range(CC_COUNTS["boilerplate"]):
        b_rng = rng_for("cc-boilerplate", i)
        site = b_rng.choice(junk_sites + article_sites)
        teaser = gen.sentences(b_rng, b_rng.randint(1, 2)) if b_rng.random() < 0.4 else None
        path = b_rng.choice(["/", "/category/news/", f"/page/{b_rng.randint(2, 40)}/", "/archives/",
                             f"/tag/{b_rng.choice(LQ.CATEGORY_WORDS).lower()}/", "/sitemap/", "/about-us/"])
        caps.append(Capture(unique_url(site, path), "boilerplate", LQ.boilerplate_page(site, b_rng, teaser).encode("utf-8"),
                            ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["spam"]):
        s_rng = rng_for("cc-spam", i)
        site = s_rng.choice(junk_sites)
        caps.append(Capture(unique_url(site, f"/{s_rng.choice(['buy', 'best', 'cheap', 'top'])}-{i}.html"), "spam",
                            LQ.spam_page(site, s_rng).encode("utf-8"), ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["lorem"]):
        l_rng = rng_for("cc-lorem", i)
        site = l_rng.choice(junk_sites)
        caps.append(Capture(unique_url(site, l_rng.choice(["/", "/sample-page/", "/services/", "/home-2/"])), "lorem",
                            LQ.lorem_page(site, l_rng).encode("utf-8"), ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["product_list"]):
        p_rng = rng_for("cc-products", i)
        site = p_rng.choice(junk_sites)
        caps.append(Capture(unique_url(site, f"/shop/?page={p_rng.randint(1, 60)}&orderby=popularity"), "product_list",
                            LQ.product_listing_page(site, p_rng).encode("utf-8"), ip=site.ip, server=site.server))

    # Machine-made text that survives extraction (sample_machinetext): what GPT-3's classifier
    # is for. Most of the raw crawl's text is like this, so most of the classifier's negatives are.
    for i in range(CC_COUNTS["seo"]):
        m_rng = rng_for("cc-seo", i)
        site = m_rng.choice(machine_sites)
        caps.append(Capture(unique_url(site, m_rng.choice(["/", "/services/", "/about/", f"/{slugify(site.name)}-{i}/"])),
                            "seo", MT.seo_page(site, m_rng).encode("utf-8"), ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["listing"]):
        m_rng = rng_for("cc-listing", i)
        site = m_rng.choice(machine_sites)
        what, page = MT.listing_page(site, m_rng)
        caps.append(Capture(unique_url(site, f"/{what}/?page={m_rng.randint(1, 80)}"), "listing", page.encode("utf-8"),
                            group=what, ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["legal"]):
        m_rng = rng_for("cc-legal", i)
        site = m_rng.choice(machine_sites + junk_sites + article_sites)
        caps.append(Capture(unique_url(site, m_rng.choice(["/privacy-policy/", "/terms/", "/legal/", "/disclaimer/"])),
                            "legal", MT.legal_page(site, m_rng).encode("utf-8"), ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["comment_spam"]):
        m_rng = rng_for("cc-comment-spam", i)
        site = m_rng.choice(machine_sites + junk_sites)
        caps.append(Capture(unique_url(site, f"/{m_rng.randint(2012, 2017)}/{m_rng.randint(1, 12):02d}/post-{i}/"),
                            "comment_spam", MT.comment_spam_page(site, m_rng).encode("utf-8"), ip=site.ip,
                            server=site.server))
    for i in range(CC_COUNTS["stub"]):
        m_rng = rng_for("cc-stub", i)
        site = m_rng.choice(machine_sites)
        what, page = MT.stub_page(site, m_rng)
        caps.append(Capture(unique_url(site, m_rng.choice(["/", "/index.html", "/login", "/app/", f"/p/{i}"])), "stub",
                            page.encode("utf-8"), group=what, ip=site.ip, server=site.server))

    # Non-English pages; about a third in the legacy charset their site declares.
    for lang, n in CC_COUNTS["foreign"].items():
        hosts = cc_host_names(rng_for("cc-foreign-hosts", lang), 4, taken, _FOREIGN_TLDS[lang])
        sites = [_cc_site(rng_for("cc-site", h), h) for h in hosts]
        for i in range(n):
            f_rng = rng_for("cc-foreign", lang, i)
            site = f_rng.choice(sites)
            charset = str(LQ.FOREIGN[lang]["charset_alt"]) if f_rng.random() < 0.35 else "utf-8"
            html_text = LQ.foreign_page(site, lang, f_rng, charset=charset)
            caps.append(Capture(unique_url(site, f"/artikel/{i}" if lang == "de" else f"/{lang}/{i}.html"), "foreign",
                                html_text.encode(charset), content_type=f"text/html; charset={charset}", lang=lang,
                                group=charset, ip=site.ip, server=site.server))

    # Non-HTML responses.
    for i in range(CC_COUNTS["image"]):
        m_rng = rng_for("cc-image", i)
        site = m_rng.choice(article_sites + junk_sites)
        if i % 3 == 2:
            caps.append(Capture(unique_url(site, f"/wp-content/uploads/2017/0{1 + i % 9}/img{i}.png"), "image",
                                H.make_png(m_rng), content_type="image/png", lang=None, ip=site.ip, server=site.server))
        else:
            caps.append(Capture(unique_url(site, f"/images/photo-{i}.jpg"), "image",
                                H.make_jpeg_like(m_rng, m_rng.randint(800, 3000)), content_type="image/jpeg",
                                lang=None, ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["pdf"]):
        d_rng = rng_for("cc-pdf", i)
        site = d_rng.choice(article_sites)
        article = gen.article(d_rng, words=200)
        caps.append(Capture(unique_url(site, f"/docs/{slugify(article.title, 5)}.pdf"), "pdf",
                            H.make_pdf(article.title, [p[:90] for p in article.paragraphs[:8]]),
                            content_type="application/pdf", lang=None, ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["json"]):
        j_rng = rng_for("cc-json", i)
        site = j_rng.choice(junk_sites)
        caps.append(Capture(unique_url(site, f"/api/v1/products?page={i + 1}"), "json",
                            H.make_json_payload(j_rng, site.host), content_type="application/json", lang=None,
                            ip=site.ip, server=site.server))

    # Redirects and errors, as a real crawl is full of them.
    for i in range(CC_COUNTS["redirect"]):
        r_rng = rng_for("cc-redirect", i)
        site = r_rng.choice(article_sites + junk_sites)
        url = unique_url(site, f"/go/{i}")
        location = f"https://{site.host}/{r_rng.choice(['home', 'new-location', 'index.html'])}"
        caps.append(Capture(url, "redirect", H.render_moved_page(location).encode("utf-8"), status="301 Moved Permanently",
                            extra_headers=(("Location", location),), ip=site.ip, server=site.server))
    for i in range(CC_COUNTS["not_found"]):
        n_rng = rng_for("cc-404", i)
        site = n_rng.choice(article_sites + junk_sites)
        caps.append(Capture(unique_url(site, f"/old/page-{i}.html"), "not_found",
                            H.render_not_found_page(site, n_rng).encode("utf-8"), status="404 Not Found",
                            ip=site.ip, server=site.server))

    # Exact duplicates: byte-identical payloads at different URLs (print views, session ids, mirrors).
    originals = [c for c in caps if c.kind in ("good_article", "boilerplate")]
    for i, orig in enumerate(rng.sample(originals, CC_COUNTS["exact_dup"])):
        parts = urlsplit(orig.url)
        url = rng.choice([f"{parts.scheme}://{parts.netloc}{parts.path}?sessionid={rand_token(rng, 16)}",
                          f"{parts.scheme}://{parts.netloc}/print{parts.path}",
                          f"http://mirror{i}.{parts.netloc.removeprefix('www.')}{parts.path}"])
        urls.add(url)
        caps.append(dataclasses.replace(orig, url=url, kind="exact_duplicate", group=orig.url))

    # Shuffle so duplicates are not next to their originals; then choose revisit points.
    rng.shuffle(caps)
    html_ok = [i for i, c in enumerate(caps) if c.status.startswith("200") and c.kind != "exact_duplicate"]
    revisits = []
    for i in sorted(rng.sample(html_ok[: len(html_ok) // 2], CC_COUNTS["revisit"])):
        revisits.append((i, rng.randint(i + 1, len(caps))))
    return CCPlan(caps, revisits)


CC_UA = "CCBot/2.0 (https://commoncrawl.org/faq/)"

# The malformed tail of cc_sample.warc.gz, in file order. The first three still iterate with
# warcio (with wrong data); the last one makes warcio raise ArchiveLoadFailed.
MALFORMED_TAIL = ("garbage_http_headers", "empty_response_block", "content_length_too_long",
                  "content_length_too_short")


MALFORMED_URLS = {"garbage_http_headers": "http://broken-headers.example/",
                  "empty_response_block": "http://empty.example/",
                  "content_length_too_long": "http://too-long.example/",
                  "content_length_too_short": "http://too-short.example/"}


def _malformed_record(kind: str, rec_id: str, date: dt.datetime) -> bytes:
    def record(block: bytes, length: int | None = None, uri: str = "") -> bytes:
        headers = [("WARC-Type", "response"), ("WARC-Date", warc_date(date)), ("WARC-Record-ID", rec_id),
                   ("WARC-Target-URI", uri), ("Content-Type", "application/http; msgtype=response"),
                   ("Content-Length", str(len(block) if length is None else length))]
        head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        return head.encode("ascii") + block + b"\r\n\r\n"

    if kind == "garbage_http_headers":
        block = b"\x00\x13GARBAGE NOT HTTP\r\n\x7f\x80\x81: ???\r\nno-colon-line\r\n\r\n<html>x</html>"
        return record(block, uri=MALFORMED_URLS[kind])
    if kind == "empty_response_block":
        return record(b"", uri=MALFORMED_URLS[kind])
    if kind == "content_length_too_long":
        block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>cut short</body></html>"
        return record(block, length=len(block) + 4000, uri=MALFORMED_URLS[kind])
    # The declared length ends inside the HTTP headers; the lines after it are read as the next
    # record's header, which is not a WARC header: warcio yields this record, then raises.
    block = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Note: the declared Content-Length ends above\r\n"
             b"\r\n<html><body>the rest of this record looks like garbage to a WARC reader</body></html>")
    return record(block, length=30, uri=MALFORMED_URLS[kind])


def _cc_metadata(cap: Capture, rng: random.Random) -> dict[str, str]:
    fields = {"fetchTimeMs": str(rng.randint(40, 2500))}
    # CC-MAIN-2018-05 metadata records carried the fetch time and the detected charset; the
    # languages-cld2 field only appeared later in 2018, so it is not written here.
    if cap.content_type.startswith("text/html"):
        fields["charset-detected"] = cap.content_type.split("charset=")[-1].upper()
    return fields


def write_commoncrawl_shard(path: pathlib.Path, plan: CCPlan) -> tuple[pathlib.Path, dict[str, int], list[dict[str, object]]]:
    """warcinfo, then request/response/metadata per capture, revisits, then the malformed tail."""
    warc = DeterministicWarc(CC_WARC)
    filename = "CC-MAIN-20180116180000-20180116200000-00042.warc.gz"
    warc.warcinfo(CC_FETCH_START, {
        "isPartOf": CC_CRAWL, "publisher": "webtext sample generator (synthetic, not Common Crawl)",
        "description": "Synthetic Common-Crawl-like shard for tests", "operator": "webtext maintainers",
        "software": "webtext sample generator (warcio)", "format": "WARC File Format 1.1",
        "conformsTo": "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
    }, filename)
    rng = rng_for("cc-warc")
    when = CC_FETCH_START
    labels: list[dict[str, object]] = []
    written: dict[int, tuple[str, str, str]] = {}  # capture index -> (record id, date, digest)
    revisit_at: dict[int, list[int]] = {}
    for orig, pos in plan.revisits:
        revisit_at.setdefault(pos, []).append(orig)

    def emit_revisits(pos: int) -> None:
        nonlocal when
        for orig in revisit_at.get(pos, []):
            cap = plan.captures[orig]
            rec_id, date, digest = written[orig]
            when += dt.timedelta(seconds=rng.randint(1, 30))
            status = "304 Not Modified" if rng.random() < 0.4 else "200 OK"
            hdrs = [("Date", H.http_date(when)), ("Server", cap.server), ("Content-Type", cap.content_type)]
            new_id = warc.revisit(cap.url, when, cap.ip, rec_id, date, cap.url, digest, hdrs, status)
            labels.append({"record_id": new_id, "url": cap.url, "kind": "revisit", "refers_to": rec_id})

    for i, cap in enumerate(plan.captures):
        emit_revisits(i)
        when += dt.timedelta(seconds=rng.randint(1, 45))
        req_id = warc.request(cap.url, when, cap.ip, CC_UA)
        headers = html_headers(cap.body, when, cap.server, cap.content_type, cap.extra_headers)
        resp_id = warc.response(cap.url, when, cap.ip, cap.status, headers, cap.body, concurrent_to=req_id,
                                extra={"WARC-Identified-Payload-Type": cap.content_type.split(";")[0]})
        warc.metadata(cap.url, when, resp_id, _cc_metadata(cap, rng))
        written[i] = (resp_id, warc_date(when), payload_digest(cap.body))
        label: dict[str, object] = {"record_id": resp_id, "url": cap.url, "kind": cap.kind,
                                    "status": int(cap.status.split()[0]), "lang": cap.lang}
        if cap.group:
            label["group"] = cap.group
        if cap.webtext_url:
            label["webtext_url"] = cap.webtext_url
        labels.append(label)
    emit_revisits(len(plan.captures))
    for kind in MALFORMED_TAIL:
        when += dt.timedelta(seconds=5)
        rec_id = warc.new_id()
        warc.raw_member(_malformed_record(kind, rec_id, when))
        labels.append({"record_id": rec_id, "url": MALFORMED_URLS[kind], "kind": f"malformed:{kind}"})
    atomic_write(path, warc.getvalue())
    counts = dict(warc.counts)
    counts["malformed"] = len(MALFORMED_TAIL)
    return path, counts, labels


def write_truncated_shard(path: pathlib.Path, plan: CCPlan) -> tuple[pathlib.Path, dict[str, int]]:
    """A small valid WARC (warcinfo + 6 captures + 1 response) whose last gzip member is cut
    in half, as a download interrupted mid-record leaves it."""
    warc = DeterministicWarc(CC_TRUNCATED_WARC)
    warc.warcinfo(CC_FETCH_START, {"isPartOf": CC_CRAWL, "description": "Truncated synthetic shard",
                                   "software": "webtext sample generator (warcio)"}, CC_TRUNCATED_WARC)
    rng = rng_for("cc-truncated")
    picks = [c for c in plan.captures if c.kind == "good_article"][:7]
    when = CC_FETCH_START
    for cap in picks[:6]:
        when += dt.timedelta(seconds=rng.randint(1, 30))
        req_id = warc.request(cap.url, when, cap.ip, CC_UA)
        resp_id = warc.response(cap.url, when, cap.ip, cap.status, html_headers(cap.body, when, cap.server),
                                cap.body, concurrent_to=req_id)
        warc.metadata(cap.url, when, resp_id, _cc_metadata(cap, rng))
    complete = warc.getvalue()
    last = picks[6]
    warc.response(last.url, when, last.ip, last.status, html_headers(last.body, when, last.server), last.body)
    last_member = warc.getvalue()[len(complete):]
    atomic_write(path, complete + last_member[: len(last_member) // 2])
    counts = dict(warc.counts)
    counts["truncated"] = 1
    return path, counts


# --------------------------------------------------------------------------------------
# Labels, orchestration, CLI
