"""A small synthetic Wikipedia dump in Wikimedia's real multistream format.

Files (see README.md in this folder):

* ``wiki_sample-pages-articles-multistream.xml.bz2``: a MediaWiki XML export (schema 0.11)
  cut into bz2 streams the way Wikimedia cuts ``enwiki-*-pages-articles-multistream.xml.bz2``:
  the first stream holds the ``<mediawiki>`` header and ``<siteinfo>``, each following stream
  up to 100 whole ``<page>`` elements, and the last stream ``</mediawiki>``.
* ``wiki_sample-pages-articles-multistream-index.txt.bz2``: one ``offset:page_id:title`` line
  per page, ``offset`` the byte position of the bz2 stream that holds the page.
* ``wiki_sample_labels.json``: what every page is meant to be (article, stub, redirect,
  disambiguation, other_namespace), for the tests of the dump reader.

The articles are written in the wikitext an encyclopedia article really has (infoboxes with
nested templates, ``<ref>`` citations and named re-uses, piped links, files, tables, sections,
hatnotes, categories, comments, ``&nbsp;``) around prose from ``ProseGenerator`` with seeds
the web samples never use (``rng_for("wikipedia", ...)``). The subject of each article is
taken from its own prose (the first person, place, organisation or topic noun it mentions), so
lead, infobox and body talk about the same thing. Everything is invented; nothing is copied
from Wikipedia.

Determinism: every choice comes from a seeded stream, bz2 has no timestamp, and the streams are
compressed at a fixed level, so two runs give byte-identical files.
"""

from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import hashlib
import json
import pathlib
import random
import re

from sample_common import atomic_write, rng_for
from sample_prose import (
    Article,
    ProseGenerator,
    Topic,
    capitalize_first,
    pluralize,
    singular,
    slugify,
    strip_article,
    with_article,
)
from sample_topics import FEMALE_NAMES, MALE_NAMES, MONTHS, PLACE_PREFIXES, PLACE_SUFFIXES, PLACES, SURNAMES

WIKI_DUMP = "wiki_sample-pages-articles-multistream.xml.bz2"
WIKI_INDEX = "wiki_sample-pages-articles-multistream-index.txt.bz2"
WIKI_LABELS = "wiki_sample_labels.json"
WIKI_FILES = (WIKI_DUMP, WIKI_INDEX, WIKI_LABELS)

PAGES_PER_STREAM = 100          # Wikimedia's multistream dumps put 100 pages in each bz2 stream
BZ2_LEVEL = 9
# 298 pages: three page streams, the last one not full (as the last stream of a real dump).
KIND_COUNTS = {"article": 220, "stub": 8, "redirect": 30, "disambiguation": 15, "other_namespace": 25}
KINDS = tuple(KIND_COUNTS)
NAME_COLLISIONS = 4             # pairs of people sharing a name: "(role)" titles and a {{hndis}} page
PLACE_DABS = 6
SURNAME_DABS = 5
ARTICLE_WORDS = (320, 800)      # ProseGenerator targets for the body of one article
# Subjects in turn, so every topic gets people, places, organisations and concepts.
SUBJECT_CYCLE = ("person", "place", "organisation", "concept", "person", "place", "organisation",
                 "concept", "person", "place", "concept")

XML_NS = "http://www.mediawiki.org/xml/export-0.11/"
SITEINFO = {
    "sitename": "Wikipedia",
    "dbname": "samplewiki",
    "base": "https://en.wikipedia.org/wiki/Main_Page",
    "generator": "MediaWiki 1.42.0-wmf.5",
    "case": "first-letter",
}
NAMESPACES = ((-2, "Media"), (-1, "Special"), (0, ""), (1, "Talk"), (2, "User"), (3, "User talk"),
              (4, "Wikipedia"), (5, "Wikipedia talk"), (6, "File"), (7, "File talk"), (8, "MediaWiki"),
              (9, "MediaWiki talk"), (10, "Template"), (11, "Template talk"), (12, "Help"),
              (13, "Help talk"), (14, "Category"), (15, "Category talk"), (100, "Portal"),
              (101, "Portal talk"), (118, "Draft"), (119, "Draft talk"), (710, "TimedText"),
              (711, "TimedText talk"), (828, "Module"), (829, "Module talk"))
NS_ID = {name: key for key, name in NAMESPACES}

COUNTIES = ("Brennan County", "Ossery County", "Wray County")
NAVBOX_COUNTIES = COUNTIES[:2]  # the counties whose navbox template is in the dump
EDITORS = ("Quillmoth", "Harbourwatcher", "Tidewrangler", "Søren.Kjeldsen", "Larchmont reader",
           "Ferrous Owl", "Marginalia42", "Gannet on the Rocks", "Copyeditrix", "RefFixBot",
           "Slatequarry", "Ned Oxley (WMUK)", "Wren-in-the-hedge", "Pellham Historian")
BOT_COMMENTS = ("Alter: title, date. Add: website. | Use this bot. [[WP:DBUG|Report bugs]].",
                "[[WP:AWB/GF|General fixes]], removed stub tag")
EDIT_COMMENTS = ("/* History */ copyedit", "/* Career */ expanded with sources", "fixed typo",
                 "Added {{convert}}", "rv unsourced change", "clean up, [[WP:AWB/T|typo(s) fixed]]: et al → et al.",
                 "/* References */ dead link fixed", "+cat", "Reverted 1 edit by [[Special:Contributions/203.0.113.41|"
                 "203.0.113.41]] ([[User talk:203.0.113.41|talk]]): Unsourced", "infobox tidy",
                 "/* Geography */ area in km2 with {{convert}}", "Importing Wikidata short description")

_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|me|my|we|We|our|Our|us)\b")
_SENTENCE_SPLIT = re.compile(r'(?<=[.!?])\s+(?=[A-Z"])')
_PLACE_SUFFIX_WORDS = (" Green", " on Sea", " Vale", " Heath")
_GENERATED_PLACE = re.compile(r"\b(?:%s)(?:%s)(?:%s)?\b" % (
    "|".join(PLACE_PREFIXES), "|".join(PLACE_SUFFIXES), "|".join(_PLACE_SUFFIX_WORDS)))
_PERSON_NAMES = frozenset(FEMALE_NAMES + MALE_NAMES + SURNAMES)
_FULL_NAME = re.compile(r"\b(%s) (%s)\b" % ("|".join(FEMALE_NAMES + MALE_NAMES), "|".join(SURNAMES)))


# --------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Subject:
    """What one article is about, found in (or imposed on) its generated prose."""

    index: int
    kind: str                   # person | place | organisation | concept
    topic: Topic
    name: str                   # full name, place, organisation without "the", topic noun
    article: Article
    pronoun: str = "it"
    role: str = ""              # "an engineer"
    org: str = ""               # organisation (people, concepts) without "the"
    place: str = ""             # home town, seat or site
    county: str = ""
    year: int = 0               # born / founded / first recorded
    died: int | None = None
    area_km2: float = 0.0       # places
    population: int = 0         # places
    title: str = ""             # page title, set once name collisions are known
    image: str = ""             # set when the article is written
    sections: list[str] = dataclasses.field(default_factory=list)

    @property
    def surname(self) -> str:
        return self.name.rsplit(" ", 1)[-1]


@dataclasses.dataclass
class WikiPage:
    """One ``<page>``: title, namespace, wikitext and what it is meant to be."""

    title: str
    ns: int
    kind: str
    text: str
    redirect: str | None = None
    page_id: int = 0


@dataclasses.dataclass
class Linker:
    """Turns the first mention of each known subject in a piece of prose into a wikilink."""

    targets: dict[str, str]     # phrase in prose -> page title
    pattern: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        phrases = sorted(self.targets, key=lambda p: (-len(p), p))
        self.pattern = re.compile(r"(?<![\w-])(%s)(?![\w-])" % "|".join(map(re.escape, phrases)))

    def link(self, text: str, used: set[str], self_title: str, limit: int = 3) -> str:
        """Link at most ``limit`` new targets in ``text``; ``used`` keeps targets linked earlier
        in the page (link once per article, as the Manual of Style asks)."""
        count = 0

        def one(match: re.Match[str]) -> str:
            nonlocal count
            phrase = match.group(1)
            target = self.targets[phrase]
            if target in used or target == self_title or count >= limit:
                return phrase
            used.add(target)
            count += 1
            return wikilink(target, phrase)

        assert self.pattern is not None
        return self.pattern.sub(one, text)


def wikilink(target: str, phrase: str) -> str:
    """``[[phrase]]``, ``[[target]]s`` (link trail) or ``[[target|phrase]]``, as editors write them."""
    if phrase[:1].upper() + phrase[1:] == target:
        return f"[[{phrase}]]"
    lowered = target[:1].lower() + target[1:]
    if phrase.startswith(lowered) and phrase[len(lowered):].isalpha():
        return f"[[{lowered}]]{phrase[len(lowered):]}"
    return f"[[{target}|{phrase}]]"


# --------------------------------------------------------------------------------------
# Small formatting helpers
# --------------------------------------------------------------------------------------

def xml_escape(text: str) -> str:
    """Escape as MediaWiki's dump writer does (htmlspecialchars: & < > and double quotes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def sha1_base36(text: str) -> str:
    """MediaWiki's revision hash: SHA-1 of the UTF-8 text in base 36, zero-padded to 31 digits."""
    n = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    digits = ""
    while n:
        n, r = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
    return digits.rjust(31, "0")


def sentence_case(text: str) -> str:
    return capitalize_first(text)


def dmy(date: dt.date) -> str:
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def random_date(rng: random.Random, year_lo: int, year_hi: int) -> dt.date:
    return dt.date(rng.randint(year_lo, year_hi), rng.randint(1, 12), rng.randint(1, 28))


def encyclopedic(paragraph: str) -> str:
    """Drop the reporter's first-person sentences ("I", "told me", "we"), keeping every sentence
    with a quotation mark so no quote is left open."""
    kept = [s for s in _SENTENCE_SPLIT.split(paragraph) if '"' in s or not _FIRST_PERSON.search(s)]
    return " ".join(kept)


def short_place(place: str) -> str:
    return place[4:] if place.startswith("the ") else place


def org_link(org: str) -> str:
    """"the [[Halvorsen Institute]]" or "[[Northgrid Utilities]]", as the vocabulary writes it."""
    name = strip_article(org)
    return f"the [[{name}]]" if org.startswith("the ") else f"[[{name}]]"


def surname_first(name: str) -> str:
    first, _, last = name.rpartition(" ")
    return f"{last}, {first}"


def org_type(org: str) -> str:
    words = org.split()
    for key, kind in (("Cooperative", "an energy cooperative"), ("Institute", "a research institute"),
                      ("Trust", "a charitable trust"), ("Society", "a membership society"),
                      ("Club", "a club"), ("Council", "a public body"), ("Authority", "a public body"),
                      ("Board", "a public body"), ("School", "a school"), ("Academy", "a school"),
                      ("Festival", "an annual festival"), ("Press", "a publishing house"),
                      ("Records", "a record label"), ("Union", "a trade union"), ("Guild", "a guild"),
                      ("Association", "an association"), ("Project", "a non-profit project")):
        if key in words:
            return kind
    return "an organisation"


# --------------------------------------------------------------------------------------
# Planning: one subject per article, found in the article's own prose
# --------------------------------------------------------------------------------------

def _prose_text(article: Article) -> str:
    return " ".join(str(b) if kind != "ul" else " ".join(b) for kind, b in article.blocks)  # type: ignore[arg-type]


def _find_person(text: str, taken: set[str]) -> tuple[str, str] | None:
    for m in _FULL_NAME.finditer(text):
        name = m.group(0)
        if name not in taken:
            return name, "she" if m.group(1) in FEMALE_NAMES else "he"
    return None


def _find_place(text: str, taken: set[str]) -> str | None:
    listed = [short_place(p) for p in PLACES if p not in COUNTIES]
    hits = []
    for place in listed:
        pos = text.find(place)
        if pos >= 0 and place not in taken:
            hits.append((pos, place))
    for m in _GENERATED_PLACE.finditer(text):
        # "Fen" + "wick" is also a surname: a town of that name would be linked inside people's names.
        if m.group(0) not in taken and m.group(0) not in _PERSON_NAMES:
            hits.append((m.start(), m.group(0)))
    return min(hits)[1] if hits else None


def _find_org(text: str, topic: Topic, taken: set[str]) -> str | None:
    hits = [(text.find(strip_article(o)), strip_article(o)) for o in topic.orgs]
    hits = [(pos, org) for pos, org in hits if pos >= 0 and org not in taken]
    return min(hits)[1] if hits else None


def _find_concept(text: str, topic: Topic, taken: set[str], rng: random.Random) -> str | None:
    """A topic noun the prose mentions (singular or plural) that has no article yet."""
    found = []
    for noun in topic.nouns:
        word = singular(noun)
        mentioned = re.search(rf"\b(?:{re.escape(word)}|{re.escape(pluralize(noun))})\b", text)
        if mentioned and sentence_case(word) not in taken and word not in taken:
            found.append(word)
    return rng.choice(found) if found else None


def _person_details(subject: Subject, text: str, rng: random.Random) -> None:
    m = re.search(re.escape(subject.name) + r", (an? [a-z][a-z' -]*?) (?:at|with|for) ((?:the )?[A-Z][\w' ]*?)[,.]", text)
    if m and m.group(1) in subject.topic.roles and m.group(2) in subject.topic.orgs:
        subject.role, subject.org = m.group(1), m.group(2)
    else:
        subject.role = rng.choice(subject.topic.roles)
        subject.org = rng.choice(subject.topic.orgs)
    subject.year = rng.randint(1932, 1990)
    if subject.year < 1965 and rng.random() < 0.4:
        subject.died = rng.randint(max(subject.year + 45, 1995), 2023)


def plan_subjects(gen: ProseGenerator, n_articles: int) -> list[Subject]:
    """``n_articles`` subjects in turn over topics and subject kinds, each with its prose.
    Names are unique except for the ``NAME_COLLISIONS`` deliberate pairs of namesakes."""
    taken: set[str] = set(COUNTIES)
    subjects: list[Subject] = []
    for i in range(n_articles):
        topic = gen.topics[gen.topic_keys[i % len(gen.topic_keys)]]
        kind = SUBJECT_CYCLE[(i // len(gen.topic_keys)) % len(SUBJECT_CYCLE)]
        for attempt in range(50):
            rng = rng_for("wikipedia", "article", i, attempt)
            article = gen.article(rng, topic.key, words=rng.randint(*ARTICLE_WORDS))
            text = _prose_text(article)
            subject = _subject_from_prose(i, kind, topic, article, text, taken, rng)
            if subject is not None:
                break
        else:
            raise RuntimeError(f"no {kind} subject found for article {i}")
        taken.add(subject.name)
        subjects.append(subject)
    _make_namesakes(subjects, rng_for("wikipedia", "namesakes"))
    _assign_titles(subjects)
    return subjects


def _subject_from_prose(i: int, kind: str, topic: Topic, article: Article, text: str, taken: set[str],
                        rng: random.Random) -> Subject | None:
    if kind == "person":
        found = _find_person(text, taken)
        if found is None:
            return None
        subject = Subject(i, kind, topic, found[0], article, pronoun=found[1])
        _person_details(subject, text, rng)
        subject.place = short_place(rng.choice([p for p in PLACES if p not in COUNTIES]))
        return subject
    if kind == "place":
        place = _find_place(text, taken)
        if place is None:
            return None
        return Subject(i, kind, topic, place, article, county=rng.choice(COUNTIES), year=rng.randint(1086, 1790),
                       area_km2=round(rng.uniform(2, 60), 1), population=rng.randint(800, 60000))
    if kind == "organisation":
        org = _find_org(text, topic, taken)
        if org is None:
            return None
        # Keep "the" where the vocabulary has it: "The Halvorsen Institute", but "Northgrid Utilities".
        original = next(o for o in topic.orgs if strip_article(o) == org)
        return Subject(i, kind, topic, org, article, org=original, place=short_place(rng.choice(PLACES)),
                       year=rng.randint(1890, 2012))
    noun = _find_concept(text, topic, {sentence_case(t) for t in taken}, rng)
    if noun is None:
        return None
    return Subject(i, kind, topic, noun, article, org=rng.choice(topic.orgs),
                   place=short_place(rng.choice(PLACES)), year=rng.randint(1780, 1990))


def _make_namesakes(subjects: list[Subject], rng: random.Random) -> None:
    """Give ``NAME_COLLISIONS`` later people the name of an earlier person of the same gender,
    renaming them in their prose, so the dump has namesakes to disambiguate."""
    people = [s for s in subjects if s.kind == "person"]
    half = len(people) // 2
    donors, receivers = people[:half], people[half:]
    rng.shuffle(donors)
    used: list[Subject] = []
    for receiver in receivers:
        if len(used) == NAME_COLLISIONS:
            break
        donor = next((d for d in donors if d.pronoun == receiver.pronoun and d not in used), None)
        if donor is None:
            continue
        used.append(donor)
        old_full, old_last = receiver.name, receiver.surname
        blocks: list[tuple[str, object]] = []
        for kind, body in receiver.article.blocks:
            def rename(s: str) -> str:
                return re.sub(rf"\b{re.escape(old_last)}\b", donor.surname, s.replace(old_full, donor.name))
            blocks.append((kind, [rename(x) for x in body] if kind == "ul" else rename(str(body))))  # type: ignore[union-attr]
        receiver.article = dataclasses.replace(receiver.article, blocks=blocks)
        receiver.name = donor.name
        if strip_article(receiver.role) == strip_article(donor.role):
            receiver.role = next(r for r in receiver.topic.roles if strip_article(r) != strip_article(donor.role))


def _assign_titles(subjects: list[Subject]) -> None:
    counts: dict[str, int] = {}
    for s in subjects:
        counts[s.name] = counts.get(s.name, 0) + 1
    for s in subjects:
        if s.kind == "concept":
            s.title = sentence_case(s.name)
        elif counts[s.name] > 1:
            s.title = f"{s.name} ({strip_article(s.role)})"
        else:
            s.title = s.name


# --------------------------------------------------------------------------------------
# Article wikitext
# --------------------------------------------------------------------------------------

HEADINGS = {
    "person": ("Early life and education", "Career", "Later work", "Views", "Personal life"),
    "place": ("History", "Geography", "Economy", "Culture and community", "Transport"),
    "organisation": ("History", "Activities", "Governance", "Reception"),
    "concept": ("Overview", "History", "Practice", "Debate"),
}
NEWS_SITES = (("Brennan Gazette", "www.brennangazette.example"), ("Morrow Coast Herald", "www.morrowcoastherald.example"),
              ("The Ossery Courier", "ossery-courier.example"), ("Harbour Weekly", "www.harbourweekly.example"),
              ("Northern Review", "northernreview.example"))
PUBLISHERS = ("Driftwood Press", "Calder Bay University Press", "Fenmouth Books", "Lantern Street Publishing")
JOURNALS = ("Journal of Coastal Studies", "Northern Historical Review", "Applied Field Notes", "Regional Science Quarterly")


@dataclasses.dataclass
class Citations:
    """The citations of one article: each first use is a full ``<ref name=..>``, later uses the
    short ``<ref name=.. />`` form (in both quoting styles editors use)."""

    rng: random.Random
    gen: ProseGenerator
    subject: Subject
    defined: list[str] = dataclasses.field(default_factory=list)
    bodies: dict[str, str] = dataclasses.field(default_factory=dict)

    def cite(self, new: bool | None = None) -> str:
        rng = self.rng
        if new is None:
            new = not self.defined or rng.random() < 0.55
        if not new:
            name = rng.choice(self.defined)
            return rng.choice([f'<ref name="{name}" />', f"<ref name={name}/>", f'<ref name="{name}"/>'])
        body = self.template()
        if rng.random() < 0.2:
            return f"<ref>{body}</ref>"
        name = f"{slugify(body.split('|title=')[1], 2).replace('-', '')}{len(self.defined) + 1}"
        self.defined.append(name)
        return f'<ref name="{name}">{body}</ref>' if rng.random() < 0.7 else f"<ref name={name}>{body}</ref>"

    def template(self) -> str:
        rng, s = self.rng, self.subject
        title = self.gen.title(rng, s.topic.key).replace("|", "-")
        date = random_date(rng, 2008, 2022)
        access = date + dt.timedelta(days=rng.randint(30, 900))
        last, first = rng.choice(SURNAMES), rng.choice(FEMALE_NAMES + MALE_NAMES)
        kind = rng.choices(["web", "news", "book", "journal"], [4, 3, 2, 1])[0]
        if kind == "web":
            site, host = rng.choice(NEWS_SITES)
            return (f"{{{{cite web |url=https://{host}/{date.year}/{slugify(title, 6)} |title={title} "
                    f"|website={site} |date={dmy(date)} |access-date={dmy(access)}}}}}")
        if kind == "news":
            site, host = rng.choice(NEWS_SITES)
            return (f"{{{{cite news |last={last} |first={first} |title={title} |work=''{site}'' "
                    f"|date={dmy(date)} |url=https://{host}/news/{rng.randint(10000, 99999)} |url-status=dead "
                    f"|archive-url=https://web.archive.org/web/{date:%Y%m%d}000000/https://{host}/ "
                    f"|archive-date={dmy(date)}}}}}")
        if kind == "book":
            return (f"{{{{cite book |last={last} |first={first} |title={title} |publisher={rng.choice(PUBLISHERS)} "
                    f"|location={short_place(rng.choice(PLACES))} |year={date.year} |page={rng.randint(3, 400)}}}}}")
        return (f"{{{{cite journal |last1={last} |first1={first} |title={title} |journal={rng.choice(JOURNALS)} "
                f"|volume={rng.randint(3, 60)} |issue={rng.randint(1, 4)} |pages={rng.randint(1, 200)}–"
                f"{rng.randint(201, 240)} |year={date.year} |doi=10.5555/{rng.randint(100000, 999999)}}}}}")


@dataclasses.dataclass
class WikiContext:
    """What every article may refer to: titles, the linker, dab pages, editors."""

    gen: ProseGenerator
    subjects: list[Subject]
    linker: Linker
    dab_for: dict[str, str]           # article title -> its disambiguation page


def build_linker(subjects: list[Subject]) -> Linker:
    targets: dict[str, str] = {}
    for s in subjects:
        if s.kind == "concept":
            targets.setdefault(s.name, s.title)
            targets.setdefault(pluralize(s.name), s.title)
        elif s.kind == "person" and s.title != s.name:
            continue  # a namesake: a bare mention could be either person
        else:
            targets.setdefault(s.name, s.title)
    for county in COUNTIES:
        targets.setdefault(county, county)
    return Linker(targets)


def infobox(s: Subject, rng: random.Random, image: str) -> str:
    """The kind's infobox, with the nested templates real infoboxes carry."""
    if s.kind == "person":
        born = random_date(rng, s.year, s.year)
        lines = [("name", s.name), ("image", image), ("caption", f"{s.surname} in {rng.randint(2005, 2020)}")]
        if s.died:
            died = random_date(rng, s.died, s.died)
            lines += [("birth_date", f"{{{{birth date|{born.year}|{born.month}|{born.day}|df=y}}}}"),
                      ("death_date", f"{{{{death date and age|{died.year}|{died.month}|{died.day}|"
                                     f"{born.year}|{born.month}|{born.day}|df=y}}}}")]
        else:
            lines.append(("birth_date", f"{{{{birth date and age|{born.year}|{born.month}|{born.day}|df=y}}}}"))
        lines += [("birth_place", f"[[{s.place}]], [[{rng.choice(COUNTIES)}]]"),
                  ("occupation", f"{{{{hlist|{sentence_case(strip_article(s.role))}|"
                                 f"{rng.choice(['Writer', 'Lecturer', 'Consultant'])}}}}}"),
                  ("employer", f"[[{strip_article(s.org)}]]"),
                  ("known_for", sentence_case(rng.choice(s.topic.activities))),
                  ("awards", f"{rng.choice(['Halden', 'Morrow', 'Tillinghast'])} Medal ({rng.randint(s.year + 30, 2021)})")]
        name = "Infobox person"
    elif s.kind == "place":
        lat, lon = rng.randint(50, 58), rng.randint(1, 6)
        lines = [("name", s.name), ("settlement_type", "Town"),
                 ("image_skyline", image), ("image_caption", f"{s.name} from the {rng.choice(['harbour', 'hill', 'bridge'])}"),
                 ("coordinates", f"{{{{coord|{lat}|{rng.randint(0, 59)}|N|{lon}|{rng.randint(0, 59)}|W|"
                                 "display=inline,title}}"),
                 ("subdivision_type", "County"), ("subdivision_name", f"[[{s.county}]]"),
                 ("established_title", "First recorded"), ("established_date", str(s.year)),
                 ("area_total_km2", str(s.area_km2)), ("elevation_m", str(rng.randint(2, 240))),
                 ("population_total", f"{s.population:,}"), ("population_as_of", "2011"),
                 ("population_footnotes", "<ref name=census/>"),
                 ("website", f"{{{{URL|www.{slugify(s.name)}.gov.example}}}}")]
        name = "Infobox settlement"
    elif s.kind == "organisation":
        lines = [("name", s.name), ("logo", f"{s.name} logo.svg"), ("type", sentence_case(org_type(s.name).split(' ', 1)[1])),
                 ("formation", f"{{{{start date and age|{s.year}}}}}"),
                 ("headquarters", f"[[{s.place}]]"), ("region_served", f"[[{rng.choice(COUNTIES)}]]"),
                 ("leader_title", rng.choice(["Director", "Chair", "Chief executive"])),
                 ("leader_name", f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}"),
                 ("staff", str(rng.randint(4, 900))),
                 ("budget", f"{{{{GBP|{round(rng.uniform(0.2, 30), 1)} million}}}} ({rng.randint(2015, 2022)})"),
                 ("website", f"{{{{URL|https://www.{slugify(s.name)}.example}}}}")]
        name = "Infobox organization"
    else:
        return ""
    width = max(len(k) for k, _ in lines)
    body = "\n".join(f"| {k.ljust(width)} = {v}" for k, v in lines)
    comment = "\n<!-- Please do not change figures without a reliable source. -->" if rng.random() < 0.4 else ""
    return f"{{{{{name}{comment}\n{body}\n}}}}"


def lead_sentence(s: Subject, rng: random.Random, used: set[str]) -> str:
    """The bold-title opening sentence and a second fact sentence with units and ``&nbsp;``."""
    section = f"[[{s.topic.section}|{s.topic.section.lower()}]]"
    used.update({strip_article(s.org), s.place, s.county})
    if s.kind == "person":
        born = f"born {s.year}" if s.died is None else f"{s.year}–{s.died}"
        verb = "is" if s.died is None else "was"
        who = f"'''{s.name}''' ({born}) {verb} {s.role} {rng.choice(['at', 'with'])} {org_link(s.org)}"
        who += f", known for {rng.choice(s.topic.activities)}."
        extra = (f" {s.pronoun.capitalize()} grew up in [[{s.place}]] and {'has' if s.died is None else 'had'} "
                 "published more than "
                 f"{rng.randint(8, 90)}&nbsp;papers and reports on {section}.")
        return who + extra
    if s.kind == "place":
        return (f"'''{s.name}''' is a {rng.choice(['small', 'coastal', 'market'])} town in [[{s.county}]]. "
                f"At the 2011 census it had {s.population:,} inhabitants. "
                f"It covers {{{{convert|{s.area_km2}|km2|sqmi}}}} and lies about {rng.randint(4, 40)}&nbsp;km from "
                f"the county town.<ref name=census>{{{{cite web |url=https://census.example/{slugify(s.name)} "
                f"|title=Census 2011: {s.name} |publisher=County Statistics Office |access-date=4 May 2019}}}}</ref>")
    if s.kind == "organisation":
        the = "The " if s.org.startswith("the ") else ""
        return (f"{the}'''{s.name}''' is {org_type(s.name)} based in [[{s.place}]], founded in {s.year}. "
                f"It works on {rng.choice(s.topic.activities)} and employs about {rng.randint(4, 300)}&nbsp;staff.")
    noun = s.name
    frames = (f"In {section}, a '''{noun}''' is a subject of study for {pluralize(strip_article(rng.choice(s.topic.roles)))}"
              f" and a familiar feature of {rng.choice(s.topic.activities)}.",
              f"A '''{noun}''' is a {rng.choice(s.topic.adjectives)} element of {section}, "
              f"closely associated with {rng.choice(s.topic.activities)}.",
              f"'''{sentence_case(pluralize(noun))}''' are a recurring subject in {section}, studied since at least {s.year}.")
    return rng.choice(frames) + (f" In [[{s.place}]] alone, more than {rng.randint(12, 900)}&nbsp;"
                                 f"{pluralize(noun)} were recorded in {rng.randint(1950, 2015)}.")


def table(s: Subject, rng: random.Random) -> str:
    """A ``{| class="wikitable" |}`` table fitting the subject."""
    rows: list[list[str]] = []
    if s.kind == "place":
        caption, head = f"Population of {s.name}", ["Year", "Population", "Change"]
        # Backwards from the 2011 census figure the lead and the infobox give.
        pops = [s.population]
        for _ in range(4):
            pops.insert(0, int(pops[0] / rng.uniform(0.9, 1.2)))
        for k, year in enumerate((1971, 1981, 1991, 2001, 2011)):
            change = "—" if k == 0 else f"{(pops[k] - pops[k - 1]) * 100 / pops[k - 1]:+.1f}%"
            rows.append([str(year), f"{pops[k]:,}", change])
    elif s.kind == "person":
        caption, head = "Awards and honours", ["Year", "Award", "Awarded by"]
        for _ in range(rng.randint(2, 4)):
            rows.append([str(rng.randint(s.year + 25, (s.died or 2022))),
                         f"{rng.choice(['Halden', 'Morrow', 'Tillinghast', 'Varrow'])} "
                         f"{rng.choice(['Medal', 'Prize', 'Fellowship'])}",
                         f"[[{strip_article(rng.choice(s.topic.orgs))}]]"])
        rows.sort()
    elif s.kind == "organisation":
        caption, head = "Directors", ["Years", "Name"]
        year = s.year
        for _ in range(rng.randint(2, 4)):
            end = min(year + rng.randint(4, 15), 2023)
            rows.append([f"{year}–{end}", f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}"])
            year = end
    else:
        metric = rng.choice(s.topic.metrics)
        caption, head = sentence_case(metric), ["Place", sentence_case(metric), "Year"]
        for _ in range(rng.randint(3, 5)):
            rows.append([f"[[{short_place(rng.choice(PLACES))}]]", f"{rng.randint(10, 9000):,}",
                         str(rng.randint(1995, 2022))])
    sortable = " sortable" if rng.random() < 0.5 else ""
    out = [f'{{| class="wikitable{sortable}"', f"|+ {caption}", "! " + " !! ".join(head)]
    for row in rows:
        out += ["|-", "| " + " || ".join(row)]
    out.append("|}")
    return "\n".join(out)


def image_name(s: Subject, rng: random.Random) -> str:
    what = {"person": "portrait", "place": rng.choice(["harbour", "high street", "church"]),
            "organisation": "headquarters", "concept": f"at {s.place}"}[s.kind]
    return f"{sentence_case(s.name)} {what} {rng.randint(2004, 2021)}.jpg"


def image_line(s: Subject, rng: random.Random, name: str) -> str:
    caption = {"person": f"{s.surname} speaking in [[{s.place}]]",
               "place": f"A view of {s.name}",
               "organisation": f"The offices of the {s.name} in [[{s.place}]]",
               "concept": f"{sentence_case(with_article(rng.choice(s.topic.adjectives)))} {s.name} near [[{s.place}]]"}[s.kind]
    options = rng.choice(["thumb", "thumb|upright=1.2", "thumb|left", "thumb|alt=Photograph"])
    prefix = "Image" if rng.random() < 0.15 else "File"
    return f"[[{prefix}:{name}|{options}|{caption}]]"


def article_wikitext(s: Subject, ctx: WikiContext) -> str:
    """The full wikitext of one encyclopedic article."""
    rng = rng_for("wikipedia", "wikitext", s.index)
    cites = Citations(rng_for("wikipedia", "cite", s.index), ctx.gen, s)
    used: set[str] = set()
    out: list[str] = []
    if s.kind == "person":
        short = f"{sentence_case(strip_article(s.role))} (born {s.year})" if s.died is None else \
            f"{sentence_case(strip_article(s.role))} ({s.year}–{s.died})"
    elif s.kind == "place":
        short = f"Town in {s.county}"
    elif s.kind == "organisation":
        short = f"{sentence_case(org_type(s.name).split(' ', 1)[1])} in {s.place}"
    else:
        short = f"Topic in {s.topic.section.lower()}"
    out.append(f"{{{{Short description|{short}}}}}")
    if s.title in ctx.dab_for:
        dab = ctx.dab_for[s.title]
        out.append("{{Other uses}}" if dab.endswith("(disambiguation)") else f"{{{{Other people|{dab}}}}}")
    if rng.random() < 0.5:
        out.append(f"{{{{Use dmy dates|date={MONTHS[rng.randint(0, 11)]} {rng.randint(2016, 2023)}}}}}")
    image = s.image = image_name(s, rng)
    box = infobox(s, rng, image)
    if box:
        out.append(box)

    blocks = [(k, b) for k, b in s.article.blocks if k != "h2"]
    paragraphs: list[tuple[str, object]] = []
    for kind, body in blocks:
        if kind == "p":
            text = encyclopedic(str(body))
            if text:
                paragraphs.append(("p", text))
        else:
            paragraphs.append((kind, body))

    def render(kind: str, body: object) -> str:
        if kind == "ul":
            return "\n".join("* " + ctx.linker.link(str(item), used, s.title, 1) for item in body)  # type: ignore[union-attr]
        if kind == "quote":
            return (f"{{{{Blockquote|text={body}}}}}" if rng.random() < 0.6
                    else f"<blockquote>{body}</blockquote>")
        text = ctx.linker.link(str(body), used, s.title)
        if rng.random() < 0.6:
            text += cites.cite()
        elif rng.random() < 0.15:
            text += f"{{{{citation needed|date={MONTHS[rng.randint(0, 11)]} {rng.randint(2015, 2023)}}}}}"
        return text

    lead = lead_sentence(s, rng, used)
    first = next((i for i, (k, _) in enumerate(paragraphs) if k == "p"), None)
    if first is not None:
        lead += " " + render(*paragraphs.pop(first))
    out.append(lead)

    headings = [h for h in HEADINGS[s.kind] if rng.random() < 0.8] or list(HEADINGS[s.kind][:2])
    n_sections = max(1, min(len(headings), len(paragraphs), rng.randint(2, 4)))
    headings = headings[:n_sections]
    s.sections = list(headings)
    per = -(-len(paragraphs) // n_sections) if paragraphs else 0
    for h, heading in enumerate(headings):
        chunk = paragraphs[h * per:(h + 1) * per]
        if not chunk:
            s.sections.remove(heading)
            continue
        # A heading, a file or a subheading sits on the line above its paragraph; paragraphs
        # are separated by a blank line.
        section = [f"== {heading} =="]
        if h == 0:
            section[0] += "\n" + image_line(s, rng, image)
        for j, (kind, body) in enumerate(chunk):
            if j == 1 and rng.random() < 0.4:
                section.append(f"=== {sentence_case(rng.choice(s.topic.activities))} ===\n{render(kind, body)}")
            elif j == 0:
                section[0] += "\n" + render(kind, body)
            else:
                section.append(render(kind, body))
        if h == 1 and rng.random() < 0.3:
            section.append("<!-- This section needs more sources; please do not add promotional material. -->")
        out.append("\n\n".join(section))
    if s.kind == "person" and rng.random() < 0.6:
        works = [f"* ''{ctx.gen.title(rng, s.topic.key)}'' "
                 f"({rng.choice(PUBLISHERS)}, {rng.randint(s.year + 25, s.died or 2022)})"
                 for _ in range(rng.randint(2, 4))]
        out.append("== Selected publications ==\n" + "\n".join(sorted(works, key=lambda w: w[-5:])))
    elif s.kind == "place" and rng.random() < 0.5:
        people = [f"* {rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)} (born {rng.randint(1890, 1990)}), "
                  f"{strip_article(rng.choice(s.topic.roles))}" for _ in range(rng.randint(2, 4))]
        out.append("== Notable people ==\n" + "\n".join(people))
    if rng.random() < 0.55:
        out.append(f"== {'Figures' if s.kind == 'concept' else 'Records'} ==\n{table(s, rng)}")
    see_also = [t.title for t in ctx.subjects if t.topic is s.topic and t is not s]
    rng.shuffle(see_also)
    portal = f"\n{{{{Portal|{s.topic.section}}}}}" if rng.random() < 0.3 else ""
    out.append("== See also ==" + portal + "\n" + "\n".join(f"* [[{t}]]" for t in sorted(see_also[:rng.randint(2, 4)])))
    out.append("== References ==\n" + rng.choice(["{{reflist}}", "{{Reflist}}", "{{reflist|30em}}", "<references />"]))
    if s.kind != "concept" or rng.random() < 0.3:
        site = f"https://www.{slugify(s.name)}.example"
        link = (f"{{{{Official website|{site}}}}}" if s.kind in ("place", "organisation")
                else f"[{site}/about Profile] at {s.org}")
        out.append(f"== External links ==\n* {link}")
    tail: list[str] = []
    if s.kind == "place":
        tail.append(f"{{{{{s.county}}}}}")
    if s.kind == "person":
        tail.append("{{Authority control}}")
        tail.append(f"{{{{DEFAULTSORT:{surname_first(s.name)}}}}}")
    tail.append("".join(f"[[Category:{c}]]\n" for c in categories(s)).rstrip("\n"))
    out.append("\n\n".join(tail))
    return "\n\n".join(out) + "\n"


def categories(s: Subject) -> list[str]:
    if s.kind == "person":
        cats = [f"{s.year} births", "Living people" if s.died is None else f"{s.died} deaths",
                f"People from {s.place}", f"{s.topic.section} people"]
    elif s.kind == "place":
        cats = [f"Towns in {s.county}", "Populated places established in the " + (
            "Middle Ages" if s.year < 1500 else "early modern period")]
    elif s.kind == "organisation":
        cats = [f"Organisations based in {s.place}", f"Organizations established in {s.year}"]
    else:
        cats = [s.topic.section, f"{s.topic.section} terminology"]
    return cats


# --------------------------------------------------------------------------------------
# Stubs, disambiguation pages, redirects, other namespaces
# --------------------------------------------------------------------------------------

STUB_TEMPLATES = {"place": "BrennanCounty-geo-stub", "person": "bio-stub", "concept": "energy-stub"}


def stub_pages(gen: ProseGenerator, subjects: list[Subject], taken: set[str]) -> list[WikiPage]:
    """Very short articles (one or two sentences and a stub template): villages, people, terms."""
    rng = rng_for("wikipedia", "stubs")
    pages: list[WikiPage] = []
    towns = [s.title for s in subjects if s.kind == "place" and s.county == "Brennan County"]
    kinds = ["place"] * 4 + ["person"] * 2 + ["concept"] * 2
    for n, kind in enumerate(kinds[:KIND_COUNTS["stub"]]):
        ref = (f"<ref>{{{{cite web |url=https://census.example/{n} |title=Gazetteer entry |publisher=County "
               f"Statistics Office |access-date={rng.randint(2, 28)} June 2020}}}}</ref>")
        if kind == "place":
            while True:
                name = rng.choice(PLACE_PREFIXES) + rng.choice(PLACE_SUFFIXES) + rng.choice(["", " Green", " Heath"])
                if name not in taken and name not in _PERSON_NAMES:
                    break
            body = (f"'''{name}''' is a village in [[Brennan County]]. It lies about {{{{convert|{rng.randint(2, 9)}|km|mi}}}} "
                    f"{rng.choice(['north', 'south', 'east', 'west'])} of [[{rng.choice(towns)}]].{ref}")
            cats = ["Villages in Brennan County"]
        elif kind == "person":
            while True:
                name = f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}"
                if name not in taken:
                    break
            topic = gen.topics[rng.choice(gen.topic_keys)]
            body = (f"'''{name}''' (born {rng.randint(1940, 1985)}) is {rng.choice(topic.roles)} from "
                    f"[[{short_place(rng.choice(PLACES))}]].{ref}")
            cats = [f"{topic.section} people"]
        else:
            topic = gen.topics["energy"]
            while True:
                noun = singular(rng.choice(topic.nouns))
                if sentence_case(noun) not in taken:
                    break
            name = sentence_case(noun)
            article = with_article(noun).split(" ", 1)[0].capitalize()
            body = f"{article} '''{noun}''' is a {rng.choice(topic.adjectives)} part of an electricity system.{ref}"
        taken.add(name)
        text = (f"{body}\n\n== References ==\n{{{{reflist}}}}\n\n"
                + ("".join(f"[[Category:{c}]]\n" for c in (cats if kind != "concept" else ["Energy"])))
                + f"\n\n{{{{{STUB_TEMPLATES[kind]}}}}}\n")
        pages.append(WikiPage(name, 0, "stub", text))
    return pages


def _dab_line(s: Subject) -> str:
    if s.kind == "person":
        life = f"born {s.year}" if s.died is None else f"{s.year}–{s.died}"
        return f"* [[{s.title}]] ({life}), {strip_article(s.role)}"
    if s.kind == "place":
        return f"* [[{s.title}]], a town in [[{s.county}]]"
    if s.kind == "organisation":
        return f"* [[{s.title}]], {org_type(s.name)} in {s.place}"
    return f"* [[{s.title}]], a term in {s.topic.section.lower()}"


def disambiguation_pages(subjects: list[Subject], taken: set[str]) -> tuple[list[WikiPage], dict[str, str]]:
    """Namesake ({{hndis}}), place ({{geodis}} / {{disambiguation|geo}}) and surname pages;
    returns the pages and {article title: dab title} for the articles' hatnotes."""
    rng = rng_for("wikipedia", "dabs")
    pages: list[WikiPage] = []
    hatnotes: dict[str, str] = {}
    intro = "{{Short description|Topics referred to by the same term}}\n"
    by_name: dict[str, list[Subject]] = {}
    for s in subjects:
        if s.kind == "person":
            by_name.setdefault(s.name, []).append(s)
    for name, people in by_name.items():
        if len(people) > 1:
            text = (intro + f"'''{name}''' may refer to:\n\n" + "\n".join(_dab_line(p) for p in people)
                    + f"\n\n{{{{hndis|{surname_first(name)}}}}}\n")
            pages.append(WikiPage(name, 0, "disambiguation", text))
            for p in people:
                hatnotes[p.title] = name
    places = [s for s in subjects if s.kind == "place"]
    rng.shuffle(places)
    n_places = 0
    for place in places:
        if n_places == PLACE_DABS:
            break
        related = [s for s in subjects if s is not place and place.name in s.title]
        red = [f"* [[{place.name} railway station]], a closed station on the coast line",
               f"* [[{place.name} (ship)]], a lifeboat launched in {rng.randint(1890, 1970)}",
               f"* [[Battle of {place.name}]], a skirmish of {rng.randint(1640, 1650)}"]
        lines = [_dab_line(place)] + [_dab_line(s) for s in related] + rng.sample(red, rng.randint(1, 2))
        template = ["{{disambiguation|geo}}", "{{geodis}}"][n_places % 2]
        text = (intro + f"'''{place.name}''' may refer to:\n\n" + "\n".join(lines)
                + f"\n\n== See also ==\n* {{{{lookfrom|{place.name}}}}}\n\n{template}\n")
        title = f"{place.name} (disambiguation)"
        pages.append(WikiPage(title, 0, "disambiguation", text))
        hatnotes[place.title] = title
        n_places += 1
    by_surname: dict[str, list[Subject]] = {}
    for s in subjects:
        if s.kind == "person":
            by_surname.setdefault(s.surname, []).append(s)
    surnames = sorted(k for k, v in by_surname.items() if len({p.name for p in v}) > 1 and k not in taken)
    rng.shuffle(surnames)
    templates = ["{{disambiguation}}", "{{dab}}", "{{disambig}}", "{{Disambiguation|surname}}", "{{Disambiguation}}"]
    for n, surname in enumerate(surnames[:SURNAME_DABS]):
        people = sorted(by_surname[surname], key=lambda p: p.title)
        text = (intro + f"'''{surname}''' may refer to:\n\n" + "\n".join(_dab_line(p) for p in people)
                + f"\n\n<!-- Links to articles only, please. -->\n{templates[n % len(templates)]}\n")
        pages.append(WikiPage(surname, 0, "disambiguation", text))
    if len(pages) != KIND_COUNTS["disambiguation"]:
        raise RuntimeError(f"{len(pages)} disambiguation pages, want {KIND_COUNTS['disambiguation']}")
    return pages, hatnotes


def redirect_pages(subjects: list[Subject], taken: set[str]) -> list[WikiPage]:
    """Alternative names, initialisms, sort names, other capitalisations, plurals, ampersands and
    section redirects, in the spellings editors use (``#REDIRECT``, ``#redirect``, no space)."""
    rng = rng_for("wikipedia", "redirects")
    by_type: dict[str, list[tuple[str, str, str]]] = {}   # type -> [(source, target, rcat)]

    def add(kind: str, source: str, target: str, rcat: str) -> None:
        by_type.setdefault(kind, []).append((source, target, rcat))

    for s in subjects:
        if s.kind == "organisation":
            add("the", f"The {s.name}", s.title, "R from alternative name")
            initials = "".join(w[0] for w in s.name.split() if w[0].isupper())
            if len(initials) >= 3:
                add("initialism", initials, s.title, "R from initialism")
            if " and " in s.name:
                add("ampersand", s.name.replace(" and ", " & "), s.title, "R from modification")
        elif s.kind == "person" and s.title == s.name:
            add("sortname", surname_first(s.name), s.title, "R from sort name")
        elif s.kind == "concept":
            add("caps", s.title.title(), s.title, "R from other capitalisation")
            add("plural", sentence_case(pluralize(s.name)), s.title, "R from plural")
        elif s.kind == "place" and "History" in s.sections:
            add("section", f"History of {s.name}", f"{s.title}#History", "R to section")
    for kind in by_type:
        rng.shuffle(by_type[kind])
    chosen: list[tuple[str, str, str]] = []
    seen = set(taken)
    kinds = sorted(by_type)
    while len(chosen) < KIND_COUNTS["redirect"] and any(by_type.values()):
        for kind in kinds:
            if by_type[kind] and len(chosen) < KIND_COUNTS["redirect"]:
                source, target, rcat = by_type[kind].pop()
                if source not in seen and source != target:
                    seen.add(source)
                    chosen.append((source, target, rcat))
    pages = []
    for n, (source, target, rcat) in enumerate(chosen):
        style = n % 4
        head = ["#REDIRECT [[{}]]", "#redirect [[{}]]", "#REDIRECT[[{}]]", "#REDIRECT [[{}]]"][style].format(target)
        tail = (f"\n\n{{{{Redirect category shell|\n{{{{{rcat}}}}}\n}}}}" if style in (0, 3)
                else f"\n{{{{{rcat}}}}}" if style == 1 else f" {{{{{rcat}}}}}")
        pages.append(WikiPage(source, 0, "redirect", head + tail + "\n", redirect=target.split("#")[0]))
    taken.update(p.title for p in pages)
    return pages


def _signatures(rng: random.Random, users: list[str]) -> list[str]:
    """Expanded ``~~~~`` signatures, in time order (a reply comes after what it answers)."""
    when = dt.datetime(rng.randint(2016, 2022), rng.randint(1, 12), rng.randint(1, 28),
                       rng.randint(0, 23), rng.randint(0, 59))
    out = []
    for user in users:
        out.append(f"[[User:{user}|{user}]] ([[User talk:{user}|talk]]) {when:%H:%M}, {when.day} "
                   f"{MONTHS[when.month - 1]} {when.year} (UTC)")
        when += dt.timedelta(minutes=rng.randint(20, 60 * 24 * 9))
    return out


def other_namespace_pages(gen: ProseGenerator, subjects: list[Subject]) -> list[WikiPage]:
    """Talk, User, User talk, Wikipedia, File, Template and Category pages."""
    rng = rng_for("wikipedia", "other-namespaces")
    pages: list[WikiPage] = []
    humans = [e for e in EDITORS if not e.endswith("Bot")]
    for s in rng.sample(subjects, 8):
        a, b = rng.sample(humans, 2)
        # Editors discuss a sentence the article really contains.
        sentences = [x for x in _SENTENCE_SPLIT.split(encyclopedic(str(s.article.blocks[0][1]))) if '"' not in x]
        claim = rng.choice(sentences or [s.article.summary])
        sig = _signatures(rng, [a, b, a])
        text = (f"{{{{WikiProject banner shell|class={rng.choice(['Start', 'C', 'B', 'Stub'])}|\n"
                f"{{{{WikiProject {s.topic.section}|importance={rng.choice(['Low', 'Mid', 'High'])}}}}}\n}}}}\n\n"
                f"== Source for a claim ==\nThe article says: ''{claim}'' Is there a source for this? {sig[0]}\n"
                f":I have added a citation to the annual report. {sig[1]}\n::Thanks, that settles it. {sig[2]}\n")
        pages.append(WikiPage(f"Talk:{s.title}", NS_ID["Talk"], "other_namespace", text))
    editors = rng.sample(humans, 3)
    for user in editors:
        started = rng.sample([s.title for s in subjects], 3)
        text = ("{{Userboxtop}}\n{{User en}}\n{{User WikiProject Brennan County}}\n{{Userboxbottom}}\n"
                f"Hello! I mostly edit articles about [[{rng.choice(subjects).topic.section.lower()}]] "
                "and the towns of [[Brennan County]].\n\n== Articles I started ==\n"
                + "\n".join(f"* [[{t}]]" for t in started) + "\n")
        pages.append(WikiPage(f"User:{user}", NS_ID["User"], "other_namespace", text))
    pages.append(WikiPage(f"User talk:{editors[0]}", NS_ID["User talk"], "other_namespace",
                          f"== Welcome! ==\nHello, {editors[0]}, and [[Wikipedia:Welcoming committee|welcome]] to "
                          f"Wikipedia! Thank you for your contributions. {_signatures(rng, [editors[1]])[0]}\n"))
    towns = ", ".join(f"[[{s.title}]]" for s in subjects if s.kind == "place" and s.county == COUNTIES[0])
    pages.append(WikiPage("Wikipedia:WikiProject Brennan County", NS_ID["Wikipedia"], "other_namespace",
                          "{{WikiProject status|active}}\n'''WikiProject Brennan County''' is a "
                          "[[Wikipedia:WikiProject|WikiProject]] for articles about the county.\n\n"
                          "== Participants ==\n" + "".join(f"# [[User:{u}|{u}]]\n" for u in editors)
                          + f"\n== Open tasks ==\n* Expand the town articles: {towns}\n"))
    for s in [x for x in subjects if x.kind == "place"][:2]:
        image = s.image
        pages.append(WikiPage(f"File:{image}", NS_ID["File"], "other_namespace",
                              f"== Summary ==\n{{{{Information\n|description={{{{en|1=A view of [[{s.title}]].}}}}\n"
                              f"|date={rng.randint(2004, 2021)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}\n"
                              f"|source={{{{own}}}}\n|author=[[User:{editors[1]}|{editors[1]}]]\n}}}}\n\n"
                              "== Licensing ==\n{{self|cc-by-sa-4.0}}\n"))
    for county in NAVBOX_COUNTIES:
        towns = sorted(s.title for s in subjects if s.kind == "place" and s.county == county)
        text = (f"{{{{Navbox\n| name = {county}\n| title = [[{county}]]\n| group1 = Towns\n| list1 = "
                "{{hlist\n" + "\n".join(f"|[[{t}]]" for t in towns) + "\n}}\n}}<noinclude>\n"
                "[[Category:Brennan County templates]]\n</noinclude>\n")
        pages.append(WikiPage(f"Template:{county}", NS_ID["Template"], "other_namespace", text))
    pages.append(WikiPage("Template:Infobox settlement", NS_ID["Template"], "other_namespace",
                          "{{Infobox\n| bodyclass = ib-settlement vcard\n| above = {{{name|{{PAGENAME}}}}}\n"
                          "| image1 = {{#if:{{{image_skyline|}}}|[[File:{{{image_skyline}}}|frameless|upright=1.15]]}}\n"
                          "| caption1 = {{{image_caption|}}}\n| label1 = County\n| data1 = {{{subdivision_name|}}}\n"
                          "| label2 = Population\n| data2 = {{{population_total|}}}{{{population_footnotes|}}}\n"
                          "| label3 = Area\n| data3 = {{#if:{{{area_total_km2|}}}|{{convert|{{{area_total_km2}}}|km2|sqmi}}}}\n"
                          "}}<noinclude>\n{{Documentation}}\n</noinclude>\n"))
    for stub, subject, category in (
            ("BrennanCounty-geo-stub", "a place in [[Brennan County]]", "Brennan County geography stubs"),
            ("Energy-stub", "an [[energy]]-related", "Energy stubs")):
        pages.append(WikiPage(f"Template:{stub}", NS_ID["Template"], "other_namespace",
                              f"{{{{Asbox\n| image = Wind turbine icon.svg\n| subject = {subject}\n| qualifier = \n"
                              f"| category = {category}\n| name = Template:{stub}\n}}}}\n"))
    sections = sorted({s.topic.section for s in subjects})
    main_topics = "\n[[Category:Main topic classifications]]\n"
    for title, text in (
            (f"Category:{sections[0]}",
             f"{{{{Commons category|{sections[0]}}}}}\n{{{{Cat main|{sections[0]}}}}}\n{main_topics}"),
            (f"Category:{sections[1]}", f"{{{{Cat main|{sections[1]}}}}}\n{main_topics}"),
            ("Category:Towns in Brennan County",
             "{{Category diffuse}}\nTowns in [[Brennan County]].\n\n[[Category:Populated places in Brennan County]]\n"),
            ("Category:Villages in Brennan County", "[[Category:Populated places in Brennan County]]\n"),
            ("Category:Living people", "{{Living people category}}\n__HIDDENCAT__\n[[Category:People]]\n")):
        pages.append(WikiPage(title, NS_ID["Category"], "other_namespace", text))
    if len(pages) != KIND_COUNTS["other_namespace"]:
        raise RuntimeError(f"{len(pages)} pages in other namespaces, want {KIND_COUNTS['other_namespace']}")
    return pages


def build_pages(gen: ProseGenerator) -> list[WikiPage]:
    """Every page of the dump, in page-id order, with ids assigned."""
    subjects = plan_subjects(gen, KIND_COUNTS["article"])
    taken = {s.title for s in subjects} | {s.name for s in subjects} | set(COUNTIES)
    dabs, hatnotes = disambiguation_pages(subjects, taken)
    taken.update(p.title for p in dabs)
    ctx = WikiContext(gen, subjects, build_linker(subjects), hatnotes)
    articles = [WikiPage(s.title, 0, "article", article_wikitext(s, ctx)) for s in subjects]
    stubs = stub_pages(gen, subjects, taken)
    redirects = redirect_pages(subjects, taken)
    pages = articles + stubs + redirects + dabs + other_namespace_pages(gen, subjects)
    titles = [p.title for p in pages]
    if len(set(titles)) != len(titles):
        raise RuntimeError("duplicate page titles")
    rng = rng_for("wikipedia", "page-order")
    rng.shuffle(pages)
    page_id = 10
    for page in pages:
        page.page_id = page_id
        page_id += rng.randint(1, 60)
    return pages


# --------------------------------------------------------------------------------------
# The dump: XML, multistream bz2, index, labels
# --------------------------------------------------------------------------------------

def header_xml() -> str:
    ns_lines = "".join(
        f'      <namespace key="{key}" case="first-letter" />\n' if not name
        else f'      <namespace key="{key}" case="first-letter">{name}</namespace>\n' for key, name in NAMESPACES)
    info = "".join(f"    <{k}>{xml_escape(v)}</{k}>\n" for k, v in SITEINFO.items())
    return (f'<mediawiki xmlns="{XML_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{XML_NS} http://www.mediawiki.org/xml/export-0.11.xsd" version="0.11" xml:lang="en">\n'
            f"  <siteinfo>\n{info}    <namespaces>\n{ns_lines}    </namespaces>\n  </siteinfo>\n")


def page_xml(page: WikiPage, rng: random.Random) -> str:
    """One ``<page>`` element, laid out exactly as Wikimedia's dumps lay it out."""
    rev_id = rng.randint(800_000_000, 1_230_000_000)
    when = dt.datetime(2018, 1, 1) + dt.timedelta(seconds=rng.randint(0, 6 * 365 * 86400))
    lines = ["  <page>", f"    <title>{xml_escape(page.title)}</title>", f"    <ns>{page.ns}</ns>",
             f"    <id>{page.page_id}</id>"]
    if page.redirect:
        lines.append(f'    <redirect title="{xml_escape(page.redirect)}" />')
    lines += ["    <revision>", f"      <id>{rev_id}</id>"]
    if rng.random() < 0.9:
        lines.append(f"      <parentid>{rev_id - rng.randint(1, 90_000_000)}</parentid>")
    lines.append(f"      <timestamp>{when:%Y-%m-%dT%H:%M:%SZ}</timestamp>")
    comment: str | None = rng.choice(EDIT_COMMENTS) if rng.random() < 0.8 else None
    if rng.random() < 0.12:
        lines += ["      <contributor>", f"        <ip>203.0.113.{rng.randint(1, 254)}</ip>", "      </contributor>"]
    else:
        user = rng.choice(EDITORS)
        lines += ["      <contributor>", f"        <username>{xml_escape(user)}</username>",
                  f"        <id>{1000 + EDITORS.index(user) * 7919}</id>", "      </contributor>"]
        if user == "RefFixBot":
            comment = rng.choice(BOT_COMMENTS)
    if rng.random() < 0.3:
        lines.append("      <minor />")
    if comment is not None:
        lines.append(f"      <comment>{xml_escape(comment)}</comment>")
    digest = sha1_base36(page.text)
    size = len(page.text.encode("utf-8"))
    lines += [f"      <origin>{rev_id}</origin>", "      <model>wikitext</model>", "      <format>text/x-wiki</format>",
              f'      <text bytes="{size}" sha1="{digest}" xml:space="preserve">{xml_escape(page.text)}</text>',
              f"      <sha1>{digest}</sha1>", "    </revision>", "  </page>"]
    return "\n".join(lines) + "\n"


def multistream(pages: list[WikiPage]) -> tuple[bytes, bytes]:
    """The dump (header stream, one stream per ``PAGES_PER_STREAM`` pages, footer stream) and its
    bz2 index of ``offset:page_id:title`` lines (titles as they appear in the XML)."""
    rng = rng_for("wikipedia", "revisions")
    streams = [bz2.compress(header_xml().encode("utf-8"), BZ2_LEVEL)]
    index: list[str] = []
    offset = len(streams[0])
    for start in range(0, len(pages), PAGES_PER_STREAM):
        chunk = pages[start:start + PAGES_PER_STREAM]
        data = bz2.compress("".join(page_xml(p, rng) for p in chunk).encode("utf-8"), BZ2_LEVEL)
        index += [f"{offset}:{p.page_id}:{xml_escape(p.title)}" for p in chunk]
        streams.append(data)
        offset += len(data)
    streams.append(bz2.compress(b"</mediawiki>\n", BZ2_LEVEL))
    return b"".join(streams), bz2.compress(("\n".join(index) + "\n").encode("utf-8"), BZ2_LEVEL)


def labels_json(pages: list[WikiPage]) -> str:
    """Ground truth: counts per kind and, per page id, kind, namespace, title (and redirect
    target); one page per line so diffs stay readable."""
    counts = {k: sum(1 for p in pages if p.kind == k) for k in KINDS}
    head = {"generator": "data/samples/generate.py", "dump": WIKI_DUMP, "index": WIKI_INDEX,
            "pages_per_stream": PAGES_PER_STREAM, "page_streams": -(-len(pages) // PAGES_PER_STREAM),
            "pages_total": len(pages), "counts": counts}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ',\n "pages": {']
    rows = []
    for p in pages:
        row = {"kind": p.kind, "ns": p.ns, "title": p.title, **({"redirect": p.redirect} if p.redirect else {})}
        rows.append(f'  "{p.page_id}": {json.dumps(row, ensure_ascii=False)}')
    return lines[0] + "\n" + ",\n".join(rows) + "\n }\n}\n"


def write_wikipedia_sample(out_dir: pathlib.Path, gen: ProseGenerator | None = None) -> dict[str, pathlib.Path]:
    """Write the dump, its index and the labels into ``out_dir``; returns {file name: path}."""
    out_dir = pathlib.Path(out_dir)
    pages = build_pages(gen or ProseGenerator())
    dump, index = multistream(pages)
    paths: dict[str, pathlib.Path] = {}
    for name, data in ((WIKI_DUMP, dump), (WIKI_INDEX, index), (WIKI_LABELS, labels_json(pages).encode("utf-8"))):
        atomic_write(out_dir / name, data)
        paths[name] = out_dir / name
    return paths

