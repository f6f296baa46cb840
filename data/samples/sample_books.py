"""Three small synthetic books laid out like Project Gutenberg plain-text files.

Each file has what a Gutenberg reader has to get past: the header (title line, the notice,
``Title:`` / ``Author:`` / ``Release date: ... [eBook #NNNNN]`` / ``Language:`` / ``Character set
encoding:``), the ``*** START OF ... ***`` and ``*** END OF ... ***`` markers, a title page, a
table of contents, ``CHAPTER I.`` headings with roman numerals, text hard-wrapped at 70 columns,
and after the end marker a licence section headed like the real one ("START: FULL LICENSE",
"THE FULL PROJECT GUTENBERG LICENSE", "Section 1. ...") whose wording is a short stand-in
written for this project, not Project Gutenberg's licence.

The three files differ where real ones differ:

* ``pg_sample_90001.txt``: current header style, UTF-8 with a byte-order mark, LF line ends,
  curly quotes and em dashes.
* ``pg_sample_90002.txt``: current header style, UTF-8 without a BOM, **CRLF** line ends,
  an ``Illustrator:`` line and a "Most recently updated" line.
* ``pg_sample_90003.txt``: the older header style ("The Project Gutenberg EBook of X, by Y",
  "*** START OF THIS PROJECT GUTENBERG EBOOK X ***", "Release Date:", "End of the Project
  Gutenberg EBook of ..."), encoded in **ISO-8859-1** with accented names (it does not decode
  as UTF-8), straight quotes and ``--`` dashes.

The story text is narrative frames written for this project, filled with each book's cast and
places, with dialogue and quoted documents made of ``ProseGenerator`` sentences on the book's
topic (``rng_for("books", ...)`` seeds, which the web samples never use). Nothing is copied
from Project Gutenberg.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pathlib
import random
import re
import textwrap

from sample_common import atomic_write, rng_for
from sample_prose import ProseGenerator, capitalize_first, title_case
from sample_topics import FEELINGS, MONTHS, WALKWAYS, WEATHER, WEEKDAYS

BOOKS_DIR = "books"
BOOKS_LABELS = "pg_sample_labels.json"
WRAP = 70
MAX_BOOK_BYTES = 80_000     # a demo book, not a novel: the three stay under 250 KB together


@dataclasses.dataclass(frozen=True)
class Character:
    first: str
    last: str
    pronoun: str            # "she" / "he"

    @property
    def his(self) -> str:
        return "her" if self.pronoun == "she" else "his"

    @property
    def him(self) -> str:
        return "her" if self.pronoun == "she" else "him"


@dataclasses.dataclass(frozen=True)
class BookSpec:
    """One book: its metadata, its cast and the quirks of its file."""

    ebook: int
    title: str
    author: str
    topic: str
    cast: tuple[Character, ...]
    places: tuple[str, ...]
    chapters: int
    released: dt.date
    encoding: str           # "utf-8" | "iso-8859-1"
    header: str             # "modern" | "old"
    newline: str = "\n"
    bom: bool = False
    updated: dt.date | None = None
    illustrator: str = ""
    credits: str = ""

    @property
    def file_name(self) -> str:
        return f"pg_sample_{self.ebook}.txt"


BOOKS = (
    BookSpec(
        ebook=90001, title="The Lamps of Calder Bay", author="Imogen Halloran", topic="maritime",
        cast=(Character("Maeve", "Corrigan", "she"), Character("Silas", "Fenwick", "he"),
              Character("Odette", "Larkspur", "she"), Character("Gideon", "Ashdown", "he")),
        places=("Calder Bay", "Port Ellery", "Gorran Haven", "Kestrel Point"),
        chapters=13, released=dt.date(2024, 3, 3), encoding="utf-8", header="modern", bom=True,
        credits="The webtext project (synthetic sample text)"),
    BookSpec(
        ebook=90002, title="A Winter at Halden Ridge", author="Tobias Kincaid", topic="astronomy",
        cast=(Character("Rhiannon", "Pemberton", "she"), Character("Caspar", "Drummond", "he"),
              Character("Linnea", "Strand", "she"), Character("Hugo", "Tolliver", "he")),
        places=("Halden Ridge", "Linden Falls", "Upper Wray", "Millbrook"),
        chapters=12, released=dt.date(2025, 1, 9), encoding="utf-8", header="modern", newline="\r\n",
        updated=dt.date(2025, 2, 14), illustrator="Wen Achterberg",
        credits="The webtext project (synthetic sample text)"),
    BookSpec(
        ebook=90003, title="Letters from Sainte-Anne-des-Prés", author="Hélène Dufresne", topic="history",
        cast=(Character("Hélène", "Valcourt", "she"), Character("Jérôme", "Delacroix", "he"),
              Character("Françoise", "Brandvold", "she"), Character("Søren", "Ibsen", "he")),
        places=("Sainte-Anne-des-Prés", "Fenmouth", "Château-Léon", "the Ossery Hills"),
        chapters=12, released=dt.date(2009, 8, 12), encoding="iso-8859-1", header="old",
        credits="Produced by Zoë Marchetti and the webtext project"),
)

# --------------------------------------------------------------------------------------
# Narrative frames (written for this project). Slots: {A} {B} {C} {D} first names of the cast;
# {he} {He} {his} {His} {him} for A and {B_he} {B_his} ... for the others; {place} the book's
# main place, {place2} another; {weather} {month} {weekday} {object} {walkway} {feeling}
# {activity}. "--" is a dash (an em dash in the UTF-8 books).
# --------------------------------------------------------------------------------------

OPENINGS = (
    "It was a {weather} morning in {month} when {A} came back to {place}.",
    "The {walkway} at {place} was empty when {A} set out, and the {weather} light made everything look "
    "further away than it was.",
    "{A} had meant to leave {place} before the end of {month}, but the weeks went by and {he} stayed.",
    "By the time the coach reached {place} the lamps were lit, and {A} was the last passenger left aboard.",
    "Nothing much happened in {place} on a {weekday}, which was exactly why {A} liked it.",
    "The winter came early that year, and {place} drew in on itself like a cat before a fire.",
    "{B} was waiting at the door with a {object} under one arm and an expression that {A} had learned "
    "to be wary of.",
    "There are towns that announce themselves from a long way off, and there are towns like {place}, "
    "which you find only when you are already in them.",
    "For three days it rained without stopping, and {A} spent most of them indoors, reading.",
    "The house on the {walkway} had been shut up for a year, and it smelled of dust and old paper.",
    "{C} arrived on a {weekday}, unannounced, with two trunks and no intention of leaving.",
    "Spring came late to {place2}, and when it came it came all at once.",
)

NARRATION = (
    "{A} said nothing for a while.",
    "{He} turned the {object} over in {his} hands and set it down again.",
    "Outside, the wind had dropped, and the water lay flat and grey under the sky.",
    "{B} laughed, not unkindly.",
    "It was the first time anyone had asked {A} what {he} thought, and {he} found that {he} did not know.",
    "The clock in the hall struck four, and then, some time later, five.",
    "{A} wrote it all down that night, in the notebook {he} kept for such things.",
    "There was a mixture of {feeling} in {B}'s face.",
    "Nobody in {place} could remember a year like it.",
    "{A} walked home along the {walkway}, thinking about what {B} had said.",
    "It was late when {C} finally came in, shaking the rain from {C_his} coat.",
    "{B} had opinions about everything, and most of them were wrong, but {B_he} held them with such good "
    "humour that nobody minded.",
    "The next morning a letter came from {place2}.",
    "{A} had never been good at waiting.",
    "In the end it was {C} who broke the silence.",
    "{C} looked from one of them to the other and said nothing.",
    "A gull settled on the chimney opposite and watched them with an air of great suspicion.",
    "The fire had gone out, and neither of them moved to light it again.",
    "{A} thought of {D}, and of the summer they had spent at {place2}, and felt suddenly older.",
    "That was the beginning of it, though nobody knew so at the time.",
    "The work went slowly at first, and then, without anyone quite noticing, it began to go well.",
    "They argued about it over supper, and again over breakfast, and by the end of the week they had "
    "stopped arguing and started work.",
    "{B} came back from {place2} with a cold, a new hat and a great deal of news.",
    "It was {D} who had first talked about {activity}, years before, when it had seemed no more than a "
    "winter's idea.",
    "{A} read the page twice, then folded it and put it in {his} pocket.",
    "Somewhere below, a door banged, and a dog began to bark.",
    "The {weather} weather held for a week.",
    "By {month} the whole of {place} seemed to be talking about {activity}.",
    "{C} did not believe a word of it, and said so.",
    "Still, {A} went on.",
    "{D} had a way of listening -- head on one side, eyes half closed -- that made people say more than "
    "they meant to.",
    "The {object} was where {A} had left it, which was some comfort.",
    "{He} had not expected to be happy in {place}, and it took {him} some weeks to notice that {he} was.",
    "There was bread on the table, and cheese, and a jug of something {B} would not name.",
    "They went on in this way until the end of {month}.",
    "Nobody said so, but everyone was waiting for {D}.",
    "{A} stood at the window until the last of the light had gone.",
    "It is easy, looking back, to see where they went wrong; it was not easy then.",
    "{C} had kept every letter, every bill and every receipt, in a drawer that would no longer shut.",
    "The road to {place2} was closed by snow for nine days, and then by floods for four more.",
    "{B} had brought the accounts, and they went through them line by line until the candle guttered.",
    "The {object} lay on the table between them, and nobody wanted to be the first to pick it up.",
    "In the afternoons {A} walked out as far as the {walkway} and back, whatever the weather.",
    "{D} wrote every week, long letters full of crossings-out, and {A} answered every one.",
    "There was a meeting in the chapel hall, and half of {place} came, and the other half had heard all "
    "about it by morning.",
    "{C} had a cousin in {place2} who knew someone who knew the owner, which in those parts counted as "
    "an introduction.",
    "It rained again, a fine grey rain that seemed to come from every direction at once.",
    "The lamp smoked, and the room smelled of paraffin and wet wool.",
    "{B} had been right, which was the most annoying thing about it.",
    "For a week nothing happened at all.",
    "{A} counted the money twice and came to two different totals.",
    "Word travelled fast in {place}; it usually arrived before the person it concerned.",
    "{C} had been a schoolteacher once, and it showed in the way {C_he} waited for an answer.",
    "The stove would not draw, and {B} spent the better part of an hour on {B_his} knees in front of it.",
    "Somebody had left the gate open, and the sheep were in the lane again.",
    "{A} found {D}'s old map in the attic, folded into sixteen and soft as cloth.",
    "There were days when the whole enterprise seemed absurd, and days when it seemed the only sensible "
    "thing in the world.",
    "Nobody had asked {A} to take charge; {he} simply found, one morning, that {he} had.",
    "The post came twice a week, when the roads allowed.",
    "{B} read the newspaper aloud at breakfast, skipping anything that might start an argument, which "
    "left very little.",
    "They ate in the kitchen, because it was the only warm room in the house.",
    "{A} had a list, and the list grew longer every day.",
    "The doctor called on {C} twice that month, and both times said it was nothing.",
    "Evening came on slowly, the way it does in {month}.",
    "{D} laughed at the idea, and then, a week later, proposed it as {D_his} own.",
    "{A} was surprised to find how much {he} had missed the sound of the wind in the chimney.",
    "The {weather} days ran into one another, and {A} stopped counting them.",
)

REPLIES = ("Perhaps.", "I suppose so.", "You sound like my father.", "That is not what I asked.",
           "And if it fails?", "Then we shall have to try again.", "I know.", "Nobody ever does.",
           "Go on.", "Well?", "Not yet.", "It will have to do.", "Who told you that?", "Are you sure?")

DOCUMENT_INTROS = (
    "The letter from {place2} was short, and {A} read it twice:",
    "{B} had copied out a passage from the report, and read it aloud:",
    "An article in the _{paper}_ that week put it plainly:",
    "At the bottom of the drawer {A} found a page in {D}'s hand:",
)

CLOSINGS = (
    "It was nearly midnight when {A} put out the lamp.",
    "And that, for the time being, was that.",
    "{A} slept badly that night, and dreamed of {place}.",
    "Outside, the tide was turning.",
    "The next day it snowed.",
    "Nobody spoke of it again until the spring.",
    "{B} was already asleep in the chair by the stove.",
)

# Things a character can hold, turn over and put down.
HANDHELD = ("letter", "key", "cup", "pencil", "smooth stone", "photograph", "compass", "teaspoon", "ticket",
            "pocket knife", "brass button", "candle stub")
PAPERS = ("Morrow Coast Herald", "Brennan Gazette", "Ossery Courier", "Northern Review")
CHAPTER_TITLE_FRAMES = ("The {Noun}", "{Place}", "A Letter from {Place}", "{Activity}", "What {A} Found",
                        "A {Weather} {Weekday}", "{B} Decides", "The Road to {Place}", "In Which {C} Arrives")

_SLOT = re.compile(r"\{(\w+)\}")

# --------------------------------------------------------------------------------------
# Project Gutenberg furniture. The header lines are the real ones (they are what readers look
# for); the licence below the end marker is a stand-in in our own words under the real headings.
# --------------------------------------------------------------------------------------

MODERN_NOTICE = (
    "This ebook is for the use of anyone anywhere in the United States and most other parts of the "
    "world at no cost and with almost no restrictions whatsoever. This copy is a synthetic sample "
    "written for the webtext project: the book, its author and its ebook number are invented."
)
OLD_NOTICE = (
    "This eBook is for the use of anyone anywhere at no cost and with almost no restrictions "
    "whatsoever. This copy is a synthetic sample written for the webtext project: the book, its "
    "author and its ebook number are invented."
)
LICENSE_SECTIONS = (
    ("Section 1. General Terms of Use and Redistributing Project Gutenberg{tm} electronic works",
     ("1.A. Stand-in text. A real Project Gutenberg file explains at this point, at some length, the "
      "terms under which the work may be read, copied and passed on. This sample keeps only the "
      "heading, so that tools which cut the licence away have something to cut.",
      "1.B. Stand-in text. Whatever a cleaning step does with this section, none of it should reach a "
      "training corpus: it is the same in every file and says nothing about the book.")),
    ("Section 2. Information about the Mission of Project Gutenberg{tm}",
     ("Stand-in text. Here a real file describes the volunteers who produce the ebooks and why they "
      "do it.",)),
    ("Section 3. Information about the Project Gutenberg Literary Archive Foundation",
     ("Stand-in text. Here a real file gives the foundation's status and its contact details.",)),
    ("Section 4. Information about Donations to the Project Gutenberg Literary Archive Foundation",
     ("Stand-in text. Here a real file explains how the work is funded.",)),
    ("Section 5. General Information About Project Gutenberg{tm} electronic works",
     ("Stand-in text. Here a real file says where new ebooks are announced and how to find them.",)),
)
FOOTER_STANDIN = (
    "Stand-in text. Below the end marker a real file repeats how updated editions replace old ones, "
    "then gives the full licence. The words here were written for the webtext samples."
)

ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
         (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman(n: int) -> str:
    """14 -> 'XIV'."""
    out = ""
    for value, numeral in ROMAN:
        while n >= value:
            out += numeral
            n -= value
    return out


def us_date(date: dt.date) -> str:
    """Gutenberg's header date style: 'March 3, 2024'."""
    return f"{MONTHS[date.month - 1]} {date.day}, {date.year}"


def wrap(text: str, indent: str = "") -> str:
    """Hard-wrap one paragraph at ``WRAP`` columns, as Gutenberg's plain-text files are."""
    return textwrap.fill(text, width=WRAP, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def typeset(text: str, spec: BookSpec) -> str:
    """Curly quotes and em dashes for the UTF-8 books; Latin-1 has neither, so that book keeps
    straight quotes and ``--``, as older Gutenberg files do."""
    if spec.encoding != "utf-8":
        return text
    text = text.replace(" -- ", "\u2014").replace("--", "\u2014").replace("'", "\u2019")
    out, opening = [], True
    for ch in text:
        if ch == '"':
            out.append("\u201c" if opening else "\u201d")
            opening = not opening
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------------------
# The story
# --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Deck:
    """Draws frames without replacement, reshuffling when empty, so a frame comes back only
    after all the others have been used."""

    pool: tuple[str, ...]
    rng: random.Random
    left: list[str] = dataclasses.field(default_factory=list)

    def draw(self) -> str:
        if not self.left:
            self.left = list(self.pool)
            self.rng.shuffle(self.left)
        return self.left.pop()


@dataclasses.dataclass
class StoryWriter:
    """Writes the chapters of one book from the frames, its cast and ``ProseGenerator`` speech."""

    spec: BookSpec
    gen: ProseGenerator
    rng: random.Random
    decks: dict[str, Deck] = dataclasses.field(default_factory=dict)

    def draw(self, pool: tuple[str, ...]) -> str:
        key = str(id(pool))
        if key not in self.decks:
            self.decks[key] = Deck(pool, self.rng)
        return self.decks[key].draw()

    def slots(self) -> dict[str, str]:
        rng, cast, topic = self.rng, self.spec.cast, self.gen.topics[self.spec.topic]
        values = {"place": self.spec.places[0], "place2": rng.choice(self.spec.places[1:]),
                  "weather": rng.choice(WEATHER), "month": rng.choice(MONTHS), "weekday": rng.choice(WEEKDAYS),
                  "object": rng.choice(HANDHELD), "walkway": rng.choice(WALKWAYS),
                  "feeling": rng.choice(FEELINGS), "activity": rng.choice(topic.activities),
                  "paper": rng.choice(PAPERS)}
        for key, person in zip("ABCD", cast):
            values[key] = person.first
            values[f"{key}_he"], values[f"{key}_his"], values[f"{key}_him"] = person.pronoun, person.his, person.him
        values.update(he=cast[0].pronoun, He=cast[0].pronoun.capitalize(), his=cast[0].his,
                      His=cast[0].his.capitalize(), him=cast[0].him)
        return values

    def fill(self, frame: str) -> str:
        values = self.slots()
        return _SLOT.sub(lambda m: values[m.group(1)], frame)

    def speech(self) -> str:
        """A sentence on the book's topic for a character to say (none with quotes of its own,
        which would nest inside the speech marks)."""
        while True:
            said = self.gen.sentences(self.rng, 1, self.spec.topic)[0]
            if '"' not in said:
                return said

    def narration(self, n: int) -> str:
        """``n`` narrative sentences; now and then the narrator states a fact about the topic."""
        sentences = [self.fill(self.draw(NARRATION)) for _ in range(n)]
        if self.rng.random() < 0.5:
            sentences.insert(self.rng.randint(1, len(sentences)), self.speech())
        return " ".join(sentences)

    def dialogue(self) -> list[str]:
        """Two to four paragraphs of talk: a statement, a reply, perhaps more."""
        rng = self.rng
        speaker, listener = rng.sample(self.spec.cast, 2)
        said = self.speech()
        # Speech followed by its tag ends in a comma, not a full stop.
        lead_in = f"{said[:-1]}," if said.endswith(".") else said
        opening = rng.choice([
            f'"{lead_in}" said {speaker.first}.' if said.endswith(".") else f'"{said}" asked {speaker.first}.',
            f'{speaker.first} shook {speaker.his} head. "{said}"',
            f'"{lead_in}" {speaker.first} said quietly.',
        ])
        out = [opening, f'"{self.draw(REPLIES)}"']
        if rng.random() < 0.6:
            out.append(f'"{self.speech()} {self.speech()}" {speaker.first} paused. "{self.draw(REPLIES)}"')
        if rng.random() < 0.4:
            out.append(f"{listener.first} {rng.choice(['did not answer', 'smiled', 'looked away', 'nodded slowly'])}.")
        return out

    def document(self) -> list[str]:
        """An introduction and a quoted passage (a letter, a report), indented as Gutenberg does."""
        article = self.gen.article(self.rng, self.spec.topic, words=160)
        body = next(str(b) for kind, b in article.blocks if kind == "p")
        return [self.fill(self.draw(DOCUMENT_INTROS)), "\0" + body]

    def chapter_title(self, used: set[str]) -> str:
        topic = self.gen.topics[self.spec.topic]
        for _ in range(100):
            values = self.slots()
            values.update(Noun=title_case(self.rng.choice(topic.nouns).split("/")[0]),
                          Place=self.rng.choice(self.spec.places),
                          Activity=title_case(self.rng.choice(topic.activities)),
                          Weather=values["weather"].capitalize(), Weekday=values["weekday"])
            title = capitalize_first(_SLOT.sub(lambda m: values[m.group(1)], self.rng.choice(CHAPTER_TITLE_FRAMES)))
            if title not in used:
                used.add(title)
                return title
        raise RuntimeError("no fresh chapter title")

    def chapter(self) -> list[str]:
        """The paragraphs of one chapter (a leading NUL marks an indented quotation)."""
        rng = self.rng
        paras = [self.fill(self.draw(OPENINGS)) + " " + self.narration(rng.randint(2, 4))]
        for _ in range(rng.randint(8, 12)):
            roll = rng.random()
            if roll < 0.4:
                paras.append(self.narration(rng.randint(3, 6)))
            elif roll < 0.8:
                paras += self.dialogue()
            else:
                paras += self.document()
        paras.append(self.narration(rng.randint(1, 3)) + " " + self.fill(self.draw(CLOSINGS)))
        return paras


# --------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------

def header_lines(spec: BookSpec) -> list[str]:
    upper = spec.title.upper()
    if spec.header == "modern":
        lines = [f"The Project Gutenberg eBook of {spec.title}", "    ", wrap(MODERN_NOTICE), "",
                 f"Title: {spec.title}", "", f"Author: {spec.author}", ""]
        if spec.illustrator:
            lines += [f"Illustrator: {spec.illustrator}", ""]
        lines.append(f"Release date: {us_date(spec.released)} [eBook #{spec.ebook}]")
        if spec.updated:
            lines.append(f"                Most recently updated: {us_date(spec.updated)}")
        lines += ["", "Language: English", "", f"Character set encoding: {spec.encoding.upper()}", "",
                  f"Credits: {spec.credits}", "", "",
                  f"*** START OF THE PROJECT GUTENBERG EBOOK {upper} ***"]
        return lines
    return [f"The Project Gutenberg EBook of {spec.title}, by {spec.author}", "", wrap(OLD_NOTICE), "", "",
            f"Title: {spec.title}", "", f"Author: {spec.author}", "",
            f"Release Date: {us_date(spec.released)} [EBook #{spec.ebook}]", "", "Language: English", "",
            f"Character set encoding: {spec.encoding.upper()}", "",
            f"*** START OF THIS PROJECT GUTENBERG EBOOK {upper} ***", "", "", "", "", wrap(spec.credits)]


def footer_lines(spec: BookSpec) -> list[str]:
    upper = spec.title.upper()
    tm = "\u2122" if spec.encoding == "utf-8" else "-tm"
    licence: list[str] = []
    for heading, paragraphs in LICENSE_SECTIONS:
        licence += [wrap(heading.format(tm=tm)), ""]
        for para in paragraphs:
            licence += [wrap(para), ""]
    if spec.header == "modern":
        return (["", "", f"*** END OF THE PROJECT GUTENBERG EBOOK {upper} ***", "", "", "    ", "",
                 wrap(FOOTER_STANDIN), "", "", "START: FULL LICENSE", "", "THE FULL PROJECT GUTENBERG LICENSE",
                 "PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK", ""] + licence)
    return (["", "", "", "", f"End of the Project Gutenberg EBook of {spec.title}, by {spec.author}", "",
             f"*** END OF THIS PROJECT GUTENBERG EBOOK {upper} ***", "",
             f"***** This file should be named {spec.ebook}-8.txt or {spec.ebook}-8.zip *****",
             "This and all associated files of various formats will be found in:",
             f"        http://www.gutenberg.org/{'/'.join(str(spec.ebook)[:-1])}/{spec.ebook}/", "",
             wrap(FOOTER_STANDIN), "", "", "*** START: FULL LICENSE ***", "", "THE FULL PROJECT GUTENBERG LICENSE",
             "PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK", ""] + licence)


def book_text(spec: BookSpec, gen: ProseGenerator) -> tuple[str, dict[str, object]]:
    """The whole book as one string with "\\n" line ends, and its labels."""
    writer = StoryWriter(spec, gen, rng_for("books", spec.ebook))
    used: set[str] = set()
    titles = [writer.chapter_title(used) for _ in range(spec.chapters)]
    body: list[str] = ["", "", "", "", spec.title.upper().center(WRAP).rstrip(), "", "BY".center(WRAP).rstrip(),
                       "", spec.author.upper().center(WRAP).rstrip(), "", "", "", "CONTENTS", ""]
    for n, title in enumerate(titles, 1):
        body.append(f"  {f'CHAPTER {roman(n)}.':<16}{title}")
    for n, title in enumerate(titles, 1):
        body += ["", "", "", "", f"CHAPTER {roman(n)}.", "", title.upper(), "", ""]
        paragraphs = writer.chapter()
        for para in paragraphs:
            text = typeset(para.lstrip("\0"), spec)
            body += [wrap(text, "    ") if para.startswith("\0") else wrap(text), ""]
    body += ["", "", "THE END".center(WRAP).rstrip()]
    lines = header_lines(spec) + body + footer_lines(spec)
    text = "\n".join(lines) + "\n"
    start, end = text.index("*** START OF"), text.index("*** END OF")
    inner = text[text.index("\n", start) + 1:end]
    if spec.header == "old":
        inner = inner[:inner.index("End of the Project Gutenberg EBook")]
    label = {"file": spec.file_name, "ebook": spec.ebook, "title": spec.title, "author": spec.author,
             "language": "English", "encoding": spec.encoding, "bom": spec.bom,
             "newline": "CRLF" if spec.newline == "\r\n" else "LF", "header_style": spec.header,
             "chapters": spec.chapters, "chapter_titles": titles,
             "words_between_markers": len(inner.split())}
    return text, label


def encode_book(text: str, spec: BookSpec) -> bytes:
    """Line ends, byte-order mark and charset of the file (strict: an unencodable character in
    the Latin-1 book is a bug, not something to replace silently)."""
    data = text.replace("\n", spec.newline).encode(spec.encoding)
    return (b"\xef\xbb\xbf" + data) if spec.bom else data


def write_books(out_dir: pathlib.Path, gen: ProseGenerator | None = None) -> dict[str, pathlib.Path]:
    """Write the books into ``out_dir/books`` and their labels into ``out_dir``; returns
    {"books/<file name>" or labels name: path}."""
    out_dir = pathlib.Path(out_dir)
    gen = gen or ProseGenerator()
    (out_dir / BOOKS_DIR).mkdir(parents=True, exist_ok=True)
    paths: dict[str, pathlib.Path] = {}
    labels = []
    for spec in BOOKS:
        text, label = book_text(spec, gen)
        data = encode_book(text, spec)
        if len(data) > MAX_BOOK_BYTES:
            raise RuntimeError(f"{spec.file_name} is {len(data)} bytes, more than {MAX_BOOK_BYTES}")
        path = out_dir / BOOKS_DIR / spec.file_name
        atomic_write(path, data)
        paths[f"{BOOKS_DIR}/{spec.file_name}"] = path
        labels.append({**label, "bytes": len(data)})
    atomic_write(out_dir / BOOKS_LABELS,
                 (json.dumps({"generator": "data/samples/generate.py", "books": labels}, ensure_ascii=False, indent=1)
                  + "\n").encode("utf-8"))
    paths[BOOKS_LABELS] = out_dir / BOOKS_LABELS
    return paths
