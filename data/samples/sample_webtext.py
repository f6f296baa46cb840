"""The WebText side: forty fictional publications, the articles the Reddit dump links to,
each page's fate (ok, paywall, 404, redirect, syndicated copy, PDF) and the WARC of those
pages "as if already fetched"."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import random

import sample_html as H
from sample_common import WEBTEXT_FETCH_START, WEBTEXT_WARC, atomic_write, canonicalize_url, make_site, rng_for
from sample_prose import Article, ProseGenerator, slugify
from sample_warc import DeterministicWarc, html_headers

# Forty fictional publications for the WebText side: (host, name, tagline, topics).
# Topic lists are affinities; an empty tuple means a general-interest site.
WEBTEXT_SITE_SPECS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("www.harborgazette.com", "The Harbor Gazette", "News from the coast since 1998", ()),
    ("blog.quietcircuit.net", "Quiet Circuit", "Notes on software and the people who write it", ("software",)),
    ("www.tidewaterjournal.com", "Tidewater Journal", "Energy, climate and the sea", ("energy", "climate", "maritime")),
    ("www.marrowfieldpost.com", "The Marrowfield Post", "Your city, every day", ("cities", "transport", "education")),
    ("www.slowroadtraveller.net", "Slow Road Traveller", "Travel at the speed of curiosity", ("travel",)),
    ("news.calderbaytimes.com", "Calder Bay Times", "Independent local journalism", ()),
    ("www.greenfingeredletter.org", "The Green-Fingered Letter", "A monthly letter for gardeners", ("gardening", "wildlife")),
    ("www.fieldnotesmagazine.com", "Field Notes Magazine", "Long reads about the natural world", ("wildlife", "climate", "biology")),
    ("www.civicstreetsreview.org", "Civic Streets Review", "Ideas for better towns", ("cities", "architecture", "transport")),
    ("www.kestrelpointherald.com", "Kestrel Point Herald", "Serving the peninsula", ()),
    ("www.lanternstreetreview.com", "Lantern Street Review", "Books, ideas and arguments", ("books", "history", "music")),
    ("www.openledgerdaily.com", "Open Ledger Daily", "Economics without the jargon", ("economics",)),
    ("www.northstarobserver.net", "Northstar Observer", "Science for the curious", ("astronomy", "biology", "climate")),
    ("www.brightwaterweekly.com", "Brightwater Weekly", "Stories worth your Sunday", ()),
    ("www.compassandkettle.com", "Compass and Kettle", "Food and the places it comes from", ("cooking", "travel")),
    ("www.deepfieldnotes.org", "Deep Field Notes", "An astronomy blog", ("astronomy",)),
    ("www.fenmouthchronicle.co.uk", "The Fenmouth Chronicle", "Est. 1871", ("history", "maritime", "cities")),
    ("www.saltandsourdough.com", "Salt and Sourdough", "Baking, slowly", ("cooking",)),
    ("www.pitchsideanalysis.com", "Pitchside Analysis", "Football, running and everything between", ("sports",)),
    ("www.ironbridgeeconomist.com", "The Ironbridge Economist", "Markets, work and money", ("economics", "transport")),
    ("www.railsandroutes.net", "Rails and Routes", "Trains, buses and the journeys between", ("transport", "travel")),
    ("www.clinicalcommons.org", "Clinical Commons", "Health research, explained", ("health", "biology")),
    ("www.stoneandtimber.net", "Stone and Timber", "Buildings and the people who make them", ("architecture",)),
    ("www.archivecorner.org", "Archive Corner", "Small stories from old records", ("history",)),
    ("www.wildmarginsjournal.com", "Wild Margins", "Nature at the edges", ("wildlife", "gardening")),
    ("www.gridwatchers.net", "Grid Watchers", "Power systems for everyone", ("energy",)),
    ("www.pawnandpencil.com", "Pawn and Pencil", "Games, puzzles and the people who love them", ("games",)),
    ("www.weatheredcoast.com", "Weathered Coast", "Life by the sea", ("maritime", "travel", "wildlife")),
    ("www.benchandbeaker.org", "Bench and Beaker", "Stories from the lab", ("biology", "health")),
    ("www.thequietclassroom.net", "The Quiet Classroom", "A teacher's notebook", ("education", "books")),
    ("www.morrowcoastmail.com", "Morrow Coast Mail", "News, sport and weather", ("sports", "maritime", "cities")),
    ("www.paperlanternmusic.com", "Paper Lantern", "Music from small rooms", ("music",)),
    ("magazine.westmoorreview.org", "The Westmoor Review", "Essays and reportage", ()),
    ("www.ellerydispatch.com", "The Ellery Dispatch", "Port Ellery's paper", ()),
    ("www.greywaterindependent.com", "Greywater Independent", "Free and fearless", ()),
    ("www.sundaylongread.com", "The Sunday Long Read", "One story, every week", ()),
    ("www.thecuriousplanner.net", "The Curious Planner", "Cities, maps and policy", ("cities", "economics")),
    ("www.halfmoonquarterly.com", "Half Moon Quarterly", "Culture and ideas", ("books", "music", "games")),
    ("www.climatedeskweekly.org", "Climate Desk Weekly", "Adaptation, science and policy", ("climate", "energy")),
    ("www.tinyharbourradio.net", "Tiny Harbour Radio", "Community radio blog", ("music", "sports")),
)


def webtext_sites(gen: ProseGenerator) -> list[tuple[H.Site, tuple[str, ...]]]:
    out = []
    for host, name, tagline, topics in WEBTEXT_SITE_SPECS:
        rng = rng_for("site", host)
        topic_keys = topics or tuple(gen.topic_keys)
        sections = sorted({gen.topics[t].section for t in topic_keys})[:6]
        out.append((make_site(rng, host, name, tagline, sections), topic_keys))
    return out


# --------------------------------------------------------------------------------------
# WebText plan: articles, pages and the submissions that link to them
# --------------------------------------------------------------------------------------

@dataclasses.dataclass
class WebPage:
    """One page of webtext_pages.warc.gz (or one article URL of the dump without a page)."""

    url: str                 # canonical URL = WARC-Target-URI
    site: H.Site
    kind: str                # article | syndicated | paywall | not_found | redirect | forbidden |
    #                          server_error | pdf | redirect_target | extra
    status: int
    in_dump: bool
    article: Article | None
    group: str | None = None       # syndication group id
    location: str | None = None    # redirect target
    native_url: str | None = None  # the URL as the site itself links it (may differ from canonical)


@dataclasses.dataclass
class WebtextPlan:
    pages: list[WebPage]
    sites: list[H.Site]


# How many article URLs of the dump have each special fate in webtext_pages.warc.gz.
N_DUMP_ARTICLES = 600
N_PAYWALL = 8
N_NOT_FOUND = 4
N_REDIRECT = 3
N_FORBIDDEN = 1
N_SERVER_ERROR = 1
SYNDICATION_GROUPS = (2, 2, 2, 2, 2, 3)   # sizes: the same article on 2-3 different sites
N_EXTRA_NOT_IN_DUMP = 7


def _unique_article(gen: ProseGenerator, rng: random.Random, site: H.Site, topics: tuple[str, ...],
                    taken: set[str], number: int) -> tuple[Article, str]:
    """Generate an article whose URL on ``site`` is not taken yet."""
    for attempt in range(50):
        published = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 1083))
        article = gen.article(rng, topic=rng.choice(topics), published=published)
        native = site.url(site.article_path(article, number + attempt))
        canonical = canonicalize_url(native)
        if canonical not in taken:
            taken.add(canonical)
            return article, native
    raise RuntimeError("could not find a free URL")  # pragma: no cover - vocabulary is large


def build_webtext_plan(gen: ProseGenerator) -> WebtextPlan:
    """Decide every page of the WebText side: which site, which article, which fate."""
    rng = rng_for("webtext-plan")
    sites = webtext_sites(gen)
    # Zipf-like popularity: a few sites get many links, most get a handful, as on Reddit.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(sites))]
    order = list(range(len(sites)))
    rng.shuffle(order)
    site_weights = [weights[order[i]] for i in range(len(sites))]

    taken: set[str] = set()
    pages: list[WebPage] = []
    for i in range(N_DUMP_ARTICLES):
        site, topics = rng.choices(sites, site_weights)[0]
        art_rng = rng_for("webtext-article", i)
        article, native = _unique_article(gen, art_rng, site, topics, taken, 1000 + i * 7)
        pages.append(WebPage(canonicalize_url(native), site, "article", 200, True, article, native_url=native))

    # Assign special fates to distinct random pages.
    idx = list(range(len(pages)))
    rng.shuffle(idx)
    cursor = 0

    def take(n: int) -> list[int]:
        nonlocal cursor
        out = idx[cursor:cursor + n]
        cursor += n
        return out

    for k in take(N_PAYWALL):
        pages[k].kind = "paywall"
    for k in take(N_NOT_FOUND):
        pages[k].kind, pages[k].status = "not_found", 404
    for k in take(N_FORBIDDEN):
        pages[k].kind, pages[k].status = "forbidden", 403
    for k in take(N_SERVER_ERROR):
        pages[k].kind, pages[k].status = "server_error", 500
    redirect_targets: list[WebPage] = []
    for n, k in enumerate(take(N_REDIRECT)):
        page = pages[k]
        page.kind, page.status = "redirect", 301
        # The site moved the article; the fetcher followed the redirect and stored the target too.
        target = canonicalize_url(page.site.url(f"/moved/{page.article.published.year}/{slugify(page.article.title)}"))
        page.location = target
        redirect_targets.append(WebPage(target, page.site, "redirect_target", 200, False, page.article,
                                        native_url=target))
    # Syndicated copies: the first page's article republished verbatim on other sites.
    for g, size in enumerate(SYNDICATION_GROUPS):
        members = take(size)
        source = pages[members[0]].article
        for k in members:
            pages[k].kind = "syndicated"
            pages[k].group = f"syndicated-{g}"
            pages[k].article = source
    # One link to a PDF report that the fetcher stored as application/pdf.
    pdf_site = next(s for s, _ in sites if s.host == "www.clinicalcommons.org")
    pdf_article = pages[take(1)[0]].article
    pdf_url = pdf_site.url("/reports/2016-annual-health-survey.pdf")
    pdf_page = WebPage(pdf_url, pdf_site, "pdf", 200, True, pdf_article, native_url=pdf_url)
    pages.append(pdf_page)

    extras = []
    for j in range(N_EXTRA_NOT_IN_DUMP):
        site, topics = sites[(j * 7) % len(sites)]
        article, native = _unique_article(gen, rng_for("webtext-extra", j), site, topics, taken, 90000 + j)
        extras.append(WebPage(canonicalize_url(native), site, "extra", 200, False, article, native_url=native))
    return WebtextPlan(pages + redirect_targets + extras, [s for s, _ in sites])


def _related_links(pages: list[WebPage], site: H.Site, rng: random.Random, exclude: str) -> list[tuple[str, str]]:
    same = [p for p in pages if p.site.host == site.host and p.url != exclude and p.article is not None]
    picks = rng.sample(same, min(len(same), rng.randint(3, 6)))
    return [(p.url, p.article.title) for p in picks]


WEBTEXT_UA = "webtext-fetcher/0.1 (synthetic sample)"


def write_webtext_pages(path: pathlib.Path, plan: WebtextPlan) -> tuple[pathlib.Path, dict[str, int]]:
    """One request + one response record per page of the plan, after a warcinfo record."""
    warc = DeterministicWarc(WEBTEXT_WARC)
    warc.warcinfo(WEBTEXT_FETCH_START, {
        "software": "webtext sample generator (warcio)",
        "format": "WARC File Format 1.1",
        "description": "Synthetic pages for the links in RS_sample.zst, as if already fetched",
        "robots": "classic",
    }, WEBTEXT_WARC)
    rng = rng_for("webtext-warc")
    when = WEBTEXT_FETCH_START
    for page in plan.pages:
        when = when + dt.timedelta(seconds=rng.randint(2, 90))
        site, article = page.site, page.article
        page_rng = rng_for("webtext-page", page.url)
        extra: list[tuple[str, str]] = []
        content_type = "text/html; charset=utf-8"
        if page.kind in ("article", "syndicated", "redirect_target", "extra"):
            body = H.render_article_page(site, article, page.url, _related_links(plan.pages, site, page_rng, page.url),
                                         page_rng).encode("utf-8")
            status = "200 OK"
            extra.append(("Last-Modified", H.http_date(dt.datetime.combine(article.published, dt.time(9)))))
        elif page.kind == "paywall":
            body, status = H.render_paywall_page(site, article, page.url, page_rng).encode("utf-8"), "200 OK"
        elif page.kind == "not_found":
            body, status = H.render_not_found_page(site, page_rng).encode("utf-8"), "404 Not Found"
        elif page.kind == "forbidden":
            body, status = b"<html><body><h1>403 Forbidden</h1><p>Access denied.</p></body></html>\n", "403 Forbidden"
        elif page.kind == "server_error":
            body, status = (b"<html><body><h1>500 Internal Server Error</h1><p>Please try again later.</p>"
                            b"</body></html>\n", "500 Internal Server Error")
        elif page.kind == "redirect":
            body, status = H.render_moved_page(page.location).encode("utf-8"), "301 Moved Permanently"
            extra.append(("Location", page.location))
        elif page.kind == "pdf":
            body = H.make_pdf("Annual Health Survey 2016", [p[:90] for p in article.paragraphs[:12]])
            status, content_type = "200 OK", "application/pdf"
        else:  # pragma: no cover
            raise ValueError(page.kind)
        req_id = warc.request(page.url, when, site.ip, WEBTEXT_UA)
        warc.response(page.url, when, site.ip, status, html_headers(body, when, site.server, content_type, extra),
                      body, concurrent_to=req_id)
    atomic_write(path, warc.getvalue())
    return path, dict(warc.counts)
