"""HTML page rendering for the synthetic WARC samples.

Pages are built like real CMS output on purpose: a ``<head>`` with meta tags and scripts, a
cookie banner, a navigation menu, a header, share buttons, the article, reader comments, a
sidebar of links to other stories, a newsletter box and a footer. An extractor that returns
only the article paragraphs is doing its job; one that returns the menu, the sidebar teasers or
the cookie notice is not, and the samples make that difference measurable.

Sites differ in layout (``theme``), in typography (plain ASCII quotes, Unicode curly quotes
and dashes, or HTML entities) and in URL style, so the code under test cannot overfit to one
template.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import random
import zlib

from sample_prose import Article, slugify

# Themes: each one names its containers differently, as different CMSs do.
THEMES = ("wordpress", "newsroom", "minimal", "magazine", "legacy")
URL_STYLES = ("dated", "section_id", "blog", "dated_html", "story_id", "query")


@dataclasses.dataclass(frozen=True)
class Site:
    """A fictional website: host, look and feel, and how it builds article URLs."""

    host: str
    name: str
    tagline: str
    theme: str
    url_style: str
    typography: str          # "ascii" | "unicode" | "entities"
    ip: str                  # documentation ranges only (RFC 5737), never a real server
    server: str
    sections: tuple[str, ...]

    def article_path(self, article: Article, number: int) -> str:
        """Path (and query) for an article, in this site's URL style."""
        slug = slugify(article.title)
        d = article.published
        section = slugify(article.section)
        match self.url_style:
            case "dated":
                return f"/{d.year}/{d.month:02d}/{slug}"
            case "section_id":
                return f"/{section}/{slug}-{number}"
            case "blog":
                return f"/blog/{slug}/"
            case "dated_html":
                return f"/articles/{d.year}/{d.month:02d}/{d.day:02d}/{slug}.html"
            case "story_id":
                return f"/story/{number}/{slug}"
            case "query":
                # WordPress-style query URL: canonicalisation must keep these parameters.
                return f"/index.php?p={number}&section={section}"
        raise ValueError(self.url_style)

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"


def make_ip(rng: random.Random) -> str:
    block = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{block}.{rng.randint(1, 254)}"


SERVERS = ("nginx", "Apache/2.4.18 (Ubuntu)", "nginx/1.10.3", "cloudflare", "Microsoft-IIS/8.5",
           "Apache", "LiteSpeed", "openresty")


def http_date(when: dt.datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


# --------------------------------------------------------------------------------------
# Typography
# --------------------------------------------------------------------------------------

def _curly(text: str) -> str:
    """ASCII quotes and dashes to typographic ones, the way many CMSs do on output."""
    out: list[str] = []
    open_quote = True
    for i, ch in enumerate(text):
        if ch == '"':
            out.append("\u201c" if open_quote else "\u201d")
            open_quote = not open_quote
        elif ch == "'":
            prev = text[i - 1] if i else " "
            out.append("\u2018" if prev in " (\n" else "\u2019")
        else:
            out.append(ch)
    return "".join(out).replace(" - ", " \u2014 ")


_ENTITY = {"\u201c": "&ldquo;", "\u201d": "&rdquo;", "\u2018": "&lsquo;", "\u2019": "&rsquo;",
           "\u2014": "&mdash;", "\u00a3": "&pound;", "\u20ac": "&euro;", "\u00e9": "&eacute;"}


def render_text(site: Site, text: str) -> str:
    """Escape prose for HTML in the site's typographic style."""
    if site.typography == "ascii":
        return html.escape(text, quote=False)
    curly = _curly(text)
    escaped = html.escape(curly, quote=False)
    if site.typography == "entities":
        for ch, ent in _ENTITY.items():
            escaped = escaped.replace(ch, ent)
    return escaped


def esc(text: str) -> str:
    return html.escape(text, quote=True)


# --------------------------------------------------------------------------------------
# Page furniture
# --------------------------------------------------------------------------------------

COOKIE_NOTICES = (
    "We use cookies to improve your experience on our site. By continuing to browse, you agree to our use of cookies.",
    "This website uses cookies to ensure you get the best experience. Learn more in our cookie policy.",
    "We and our partners use cookies to personalise content and ads. You can change your preferences at any time.",
)

COMMENT_TEXTS = (
    "Great article, thanks for sharing!",
    "I grew up near there and this brings back memories.",
    "Interesting read, but I think the author misses the point about funding.",
    "First!",
    "Does anyone know where I can find the full report?",
    "This is exactly what I have been saying for years.",
    "Not sure I agree, but well written.",
    "Shared this with my whole family.",
    "Can we get a follow-up piece on this next year?",
    "lol",
)


def _nav(site: Site) -> str:
    items = ["Home"] + list(site.sections) + ["About", "Contact"]
    links = "".join(
        f'<li><a href="/{slugify(i) if i != "Home" else ""}">{esc(i)}</a></li>' for i in items
    )
    return f'<nav class="main-nav" role="navigation"><ul>{links}</ul></nav>'


def _sidebar(site: Site, related: list[tuple[str, str]], rng: random.Random) -> str:
    links = "".join(f'<li><a href="{esc(u)}">{esc(t)}</a></li>' for u, t in related)
    ad = ('<div class="ad-slot"><span>Advertisement</span>'
          '<script>googletag.cmd.push(function(){googletag.display("div-gpt-ad-1");});</script></div>')
    newsletter = ('<div class="newsletter"><h3>Newsletter</h3><p>Get the best stories in your inbox every week.</p>'
                  '<form action="/subscribe" method="post"><input type="email" name="email" placeholder="Your email">'
                  '<button type="submit">Sign up</button></form></div>')
    parts = [f'<div class="widget most-read"><h3>Most read</h3><ul>{links}</ul></div>', newsletter]
    if rng.random() < 0.6:
        parts.insert(1, ad)
    return '<aside class="sidebar">' + "".join(parts) + "</aside>"


def _comments(rng: random.Random) -> str:
    n = rng.choice([0, 0, 0, 1, 2, 3])
    if not n:
        return ""
    items = []
    for _ in range(n):
        who = rng.choice(["Anna K.", "dave_77", "Guest", "Priya", "M. Okafor", "harbourwatcher", "Tom"])
        items.append(f'<li class="comment"><span class="comment-author">{esc(who)}</span>'
                     f'<p>{esc(rng.choice(COMMENT_TEXTS))}</p></li>')
    return f'<section class="comments"><h3>{n} Comments</h3><ol>{"".join(items)}</ol></section>'


def _footer(site: Site, year: int, rng: random.Random, variant: int = 0) -> str:
    cookie = COOKIE_NOTICES[(variant + len(site.host)) % len(COOKIE_NOTICES)]
    links = ' | '.join(f'<a href="/{p}">{t}</a>' for p, t in
                       (("about", "About us"), ("contact", "Contact"), ("privacy", "Privacy policy"),
                        ("terms", "Terms of use"), ("advertise", "Advertise")))
    extra = "" if variant == 0 else f"<p>Registered office: {rng.randint(1, 99)} Harbour Row. Company no. {rng.randint(100000, 999999)}.</p>"
    return (f'<footer class="site-footer"><p>&copy; {year} {esc(site.name)}. All rights reserved.</p>'
            f"<p>{links}</p>{extra}<p class=\"cookie-text\">{esc(cookie)}</p></footer>")


def _head(site: Site, title: str, description: str, canonical: str, published: dt.date | None,
          author: str | None, charset: str = "utf-8") -> str:
    meta = [f'<meta charset="{charset}">', f"<title>{esc(title)} | {esc(site.name)}</title>"]
    if site.theme in ("wordpress", "newsroom", "magazine"):  # the older themes set no description
        meta.append(f'<meta name="description" content="{esc(description)}">')
    meta += [f'<meta property="og:title" content="{esc(title)}">', f'<link rel="canonical" href="{esc(canonical)}">']
    if author:
        meta.append(f'<meta name="author" content="{esc(author)}">')
    if published:
        meta.append('<meta property="og:type" content="article">')
        meta.append(f'<meta property="article:published_time" content="{published.isoformat()}T08:00:00Z">')
    meta.append("<script>window.dataLayer=window.dataLayer||[];</script>")
    return "<head>" + "".join(meta) + "</head>"


def _article_body(site: Site, article: Article, blocks: list[tuple[str, object]] | None = None) -> str:
    out = []
    for kind, body in blocks if blocks is not None else article.blocks:
        if kind == "p":
            out.append(f"<p>{render_text(site, str(body))}</p>")
        elif kind == "h2":
            out.append(f"<h2>{render_text(site, str(body))}</h2>")
        elif kind == "quote":
            out.append(f"<blockquote><p>{render_text(site, str(body))}</p></blockquote>")
        elif kind == "ul":
            items = "".join(f"<li>{render_text(site, str(i))}</li>" for i in body)  # type: ignore[union-attr]
            out.append(f"<ul>{items}</ul>")
    return "\n".join(out)


def pretty_date(d: dt.date) -> str:
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def render_article_page(site: Site, article: Article, canonical: str, related: list[tuple[str, str]],
                        rng: random.Random, *, footer_variant: int = 0,
                        blocks: list[tuple[str, object]] | None = None,
                        dateline: str | None = None) -> str:
    """A full article page in the site's theme. ``blocks`` overrides the article body
    (used for near-duplicates); ``dateline`` adds an "Updated ..." line inside the body."""
    title = render_text(site, article.title)
    body = _article_body(site, article, blocks)
    if dateline:
        body = f"<p><em>{esc(dateline)}</em></p>\n" + body
    byline = (f'<div class="byline">By <a href="/author/{slugify(article.author)}" rel="author">'
              f'{esc(article.author)}</a> <span class="sep">|</span> '
              f'<time datetime="{article.published.isoformat()}">{pretty_date(article.published)}</time></div>')
    share = ('<div class="share-buttons">Share: <a href="#" class="fb">Facebook</a> '
             '<a href="#" class="tw">Twitter</a> <a href="#" class="mail">Email</a></div>')
    tags = f'<div class="tags">Filed under: <a href="/{slugify(article.section)}">{esc(article.section)}</a></div>'
    cookie = (f'<div id="cookie-banner" class="cookie-consent">{esc(COOKIE_NOTICES[len(site.name) % 3])} '
              '<button onclick="acceptCookies()">Accept</button></div>')
    header = (f'<header class="site-header"><a class="logo" href="/">{esc(site.name)}</a>'
              f'<p class="tagline">{esc(site.tagline)}</p>{_nav(site)}'
              '<form class="search" action="/search"><input type="search" name="q" placeholder="Search"></form></header>')
    head = _head(site, article.title, article.summary, canonical, article.published, article.author)
    comments = _comments(rng)
    sidebar = _sidebar(site, related, rng)
    footer = _footer(site, article.published.year, rng, footer_variant)
    scripts = '<script src="/static/js/app.min.js"></script>'

    match site.theme:
        case "wordpress":
            main = (f'<div id="page" class="site"><div id="content" class="site-content"><main id="main">'
                    f'<article class="post type-post"><header class="entry-header"><h1 class="entry-title">{title}</h1>'
                    f'{byline}</header><div class="entry-content">\n{body}\n</div>{tags}</article>'
                    f'{share}{comments}</main>{sidebar}</div></div>')
        case "newsroom":
            main = (f'<main class="layout"><div class="breadcrumbs"><a href="/">Home</a> &gt; '
                    f'<a href="/{slugify(article.section)}">{esc(article.section)}</a></div>'
                    f'<article class="story"><h1 class="headline">{title}</h1>'
                    f'<p class="standfirst">{render_text(site, article.summary)}</p>{byline}{share}'
                    f'<div class="story-body">\n{body}\n</div></article>{sidebar}{comments}</main>')
        case "minimal":
            main = (f"<main><article><h1>{title}</h1>{byline}\n{body}\n</article>{comments}</main>")
        case "magazine":
            teasers = "".join(f'<div class="teaser"><a href="{esc(u)}"><h4>{esc(t)}</h4></a>'
                              f'<p>Read more &raquo;</p></div>' for u, t in related[:3])
            main = (f'<div class="container"><div class="row"><div class="col-main">'
                    f'<article itemscope itemtype="http://schema.org/NewsArticle"><h1 itemprop="headline">{title}</h1>'
                    f'{byline}<div itemprop="articleBody">\n{body}\n</div></article>{share}'
                    f'<section class="related"><h3>You might also like</h3>{teasers}</section>{comments}</div>'
                    f'<div class="col-side">{sidebar}</div></div></div>')
        case _:  # legacy: tables around the article, as old CMSs did
            main = (f'<table width="100%" cellpadding="0" cellspacing="0"><tr><td valign="top" width="180">'
                    f'{sidebar}</td><td valign="top"><article><h1>{title}</h1>{byline}\n{body}\n</article>'
                    f'{comments}</td></tr></table>')
    return (f'<!DOCTYPE html>\n<html lang="en">{head}\n<body class="single">{cookie}{header}\n{main}\n'
            f"{footer}{scripts}</body></html>\n")


def render_paywall_page(site: Site, article: Article, canonical: str, rng: random.Random) -> str:
    """A nearly empty page: the title and a subscription notice, no article text."""
    head = _head(site, article.title, "Subscribe to read", canonical, article.published, None)
    return (f'<!DOCTYPE html>\n<html lang="en">{head}<body><header class="site-header">'
            f'<a class="logo" href="/">{esc(site.name)}</a>{_nav(site)}</header><main><article class="locked">'
            f"<h1>{render_text(site, article.title)}</h1><div class=\"paywall\"><p>This article is for subscribers only.</p>"
            "<p>Subscribe today for unlimited access. Already a subscriber? <a href=\"/login\">Log in</a>.</p>"
            '<a class="button" href="/subscribe">Subscribe</a></div></article></main>'
            f"{_footer(site, article.published.year, rng)}</body></html>\n")


def render_not_found_page(site: Site, rng: random.Random) -> str:
    head = _head(site, "Page not found", "Page not found", f"https://{site.host}/404", None, None)
    return (f'<!DOCTYPE html>\n<html lang="en">{head}<body><header class="site-header">'
            f'<a class="logo" href="/">{esc(site.name)}</a>{_nav(site)}</header><main><h1>404 - Page not found</h1>'
            "<p>Sorry, the page you are looking for does not exist or has been moved.</p>"
            '<p><a href="/">Return to the home page</a></p></main>'
            f"{_footer(site, 2017, rng)}</body></html>\n")


def render_moved_page(location: str) -> str:
    return ("<html><head><title>301 Moved Permanently</title></head><body>"
            f'<h1>Moved Permanently</h1><p>The document has moved <a href="{esc(location)}">here</a>.</p>'
            "</body></html>\n")


# --------------------------------------------------------------------------------------
# Non-HTML payloads
# --------------------------------------------------------------------------------------

def make_pdf(title: str, lines: list[str]) -> bytes:
    """A small but valid single-page PDF whose page shows ``lines`` (Helvetica, uncompressed)."""
    def pdf_str(s: str) -> str:
        return s.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text_ops = ["BT", "/F1 11 Tf", "72 760 Td", "14 TL", f"({pdf_str(title)}) Tj", "T*"]
    for line in lines:
        text_ops.append(f"({pdf_str(line)}) '")
    text_ops.append("ET")
    content = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ("<< /Title (%s) /Producer (webtext sample generator) >>" % pdf_str(title)).encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_jpeg_like(rng: random.Random, n_bytes: int) -> bytes:
    """Bytes with a real JPEG/JFIF header and end marker and noise in between: enough for
    content sniffing (magic bytes) to say image/jpeg; not meant to be decoded."""
    header = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
              b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65)))
    noise = bytes(rng.getrandbits(8) for _ in range(n_bytes))
    return header + noise.replace(b"\xff", b"\xfe") + b"\xff\xd9"


def make_png(rng: random.Random, width: int = 4, height: int = 4) -> bytes:
    """A real (tiny) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    raw = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3)) for _ in range(height))
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def make_json_payload(rng: random.Random, host: str) -> bytes:
    items = [{"id": rng.randint(1000, 99999), "title": f"Item {i}", "price": round(rng.uniform(2, 200), 2),
              "in_stock": rng.random() < 0.7} for i in range(rng.randint(3, 12))]
    doc = {"status": "ok", "source": host, "count": len(items), "items": items}
    return json.dumps(doc, indent=rng.choice([None, 2])).encode("utf-8")
