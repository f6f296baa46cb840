"""Seeded generator of English article prose for the synthetic samples.

Why a generator rather than stored text: the samples must be free of copied web content,
small enough to ship, and still varied enough to train a byte-level BPE tokenizer and a tiny
GPT, and to give a quality classifier a realistic "good prose" class. A few hundred hand-written
sentences (``sample_topics``) are recombined with slot filling, sentence frames, a per-article
cast of people who are introduced once and then quoted by surname, and a lead / body /
conclusion structure, so each article reads like one coherent piece rather than a bag of
template lines.

Determinism: every public method takes a ``random.Random`` that the caller seeds (usually
from a string key such as ``"webtext:article:17"``), so one article's text never depends on
how many articles were generated before it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re

from sample_topics import (
    CLAIM_INTROS,
    COLOUR_SENTENCES,
    CONNECTIVES,
    COUNTRIES,
    EVERYDAY_OBJECTS,
    FEELINGS,
    FEMALE_NAMES,
    GENERAL_ADJECTIVES,
    GENERAL_NOUNS,
    MALE_NAMES,
    MONTHS,
    NUMBER_WORDS,
    OLD_THINGS,
    PLACE_PREFIXES,
    PLACE_SUFFIXES,
    PLACES,
    ROUND_NUMBER_WORDS,
    SAY_VERBS,
    SURNAMES,
    TOPICS,
    WALKWAYS,
    WEATHER,
    WEEKDAYS,
)

# Words kept lower case inside titles ("The Case for Building Tidal Turbines").
_SMALL_TITLE_WORDS = frozenset(
    "a an the of to in on for and or but at by with from as into than nor per via".split()
)
_SLOT = re.compile(r"\{(\w+)\}")


# --------------------------------------------------------------------------------------
# Tiny English morphology: enough for the vocabulary in sample_topics, nothing more.
# --------------------------------------------------------------------------------------

def pluralize(noun: str) -> str:
    """Plural of a (possibly multi-word) noun; ``"sing/plural"`` gives the irregular form."""
    if "/" in noun:
        return noun.split("/", 1)[1]
    head, _, last = noun.rpartition(" ")
    if last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def singular(noun: str) -> str:
    return noun.split("/", 1)[0]


def third_person(verb: str) -> str:
    """'measure' -> 'measures', 'shut down' -> 'shuts down'."""
    first, _, rest = verb.partition(" ")
    if first.endswith(("s", "x", "z", "ch", "sh", "o")):
        first += "es"
    elif first.endswith("y") and first[-2:-1] not in tuple("aeiou"):
        first = first[:-1] + "ies"
    else:
        first += "s"
    return f"{first} {rest}" if rest else first


def past_tense(verb: str) -> str:
    """Regular past tense; irregular forms are given in the vocabulary as 'base:past'."""
    if ":" in verb:
        return verb.split(":", 1)[1]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in tuple("aeiou"):
        return verb[:-1] + "ied"
    return verb + "ed"


def base_verb(verb: str) -> str:
    return verb.split(":", 1)[0]


def with_article(phrase: str) -> str:
    """Prefix 'a' or 'an' by the first letter (good enough for this vocabulary)."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def strip_article(phrase: str) -> str:
    for art in ("a ", "an ", "the "):
        if phrase.startswith(art):
            return phrase[len(art):]
    return phrase


def title_case(text: str) -> str:
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if i > 0 and word.lower() in _SMALL_TITLE_WORDS:
            out.append(word.lower())
        elif word[:1].islower():
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)


def possessive(name: str) -> str:
    """"Marrowfield's", but "Orrin Falls'"."""
    return name + ("'" if name.endswith("s") else "'s")


def capitalize_first(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


def slugify(text: str, max_words: int = 9) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    return "-".join(words[:max_words])


def format_int(n: int) -> str:
    return f"{n:,}"


# --------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Topic:
    """One subject area with its own vocabulary (see sample_topics for the format)."""

    key: str
    section: str
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    verbs: tuple[str, ...]
    roles: tuple[str, ...]
    orgs: tuple[str, ...]
    activities: tuple[str, ...]
    units: tuple[str, ...]
    metrics: tuple[str, ...]
    claims: tuple[str, ...]
    facts: tuple[str, ...]
    quotes: tuple[str, ...]
    titles: tuple[str, ...]

    @classmethod
    def from_spec(cls, key: str, spec: dict[str, object]) -> "Topic":
        def split(name: str) -> tuple[str, ...]:
            return tuple(s.strip() for s in str(spec[name]).split("|") if s.strip())

        return cls(
            key=key,
            section=str(spec["section"]),
            **{f.name: split(f.name) for f in dataclasses.fields(cls) if f.name not in ("key", "section")},
        )


@dataclasses.dataclass
class Person:
    first: str
    last: str
    pronoun: str  # "she" / "he"
    role: str     # "an engineer"
    org: str
    introduced: bool = False

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def possessive(self) -> str:
        return "her" if self.pronoun == "she" else "his"


@dataclasses.dataclass
class Article:
    """A generated article: the HTML renderer and the tests only need these fields."""

    topic: str
    section: str
    title: str
    author: str
    published: dt.date
    blocks: list[tuple[str, object]]  # ("p", str) | ("h2", str) | ("quote", str) | ("ul", list[str])
    summary: str

    @property
    def paragraphs(self) -> list[str]:
        return [str(b) for kind, b in self.blocks if kind in ("p", "quote")]

    @property
    def text(self) -> str:
        """Plain text as a good extractor should return it (title excluded)."""
        parts: list[str] = []
        for kind, body in self.blocks:
            if kind == "ul":
                parts.extend(str(item) for item in body)  # type: ignore[union-attr]
            else:
                parts.append(str(body))
        return "\n\n".join(parts)

    @property
    def n_words(self) -> int:
        return len(self.text.split())


# --------------------------------------------------------------------------------------
# Sentence frames. Slots are filled by _ArticleWriter.fill; see its docstring for the list.
# --------------------------------------------------------------------------------------

STATEMENTS = (
    "{Activity} is not as simple as it looks.",
    "For many people in {place}, {activity} has quietly become part of everyday life.",
    "Nobody in {place} expected {metric} to change so quickly.",
    "The question of {activity} comes up at almost every meeting of {org}.",
    "{org} has published a short guide to {activity}, and it is worth reading.",
    "There is no single right way to go about {activity}.",
    "Ask ten {role_plural} about {activity} and you will get ten different answers.",
    "Much of the debate centres on {the_np}.",
    "It is hard to overstate how much {the_np} matters to people here.",
    "At first glance, {a_np} seems like a small thing.",
    "The {noun} at {place} is a good example.",
    "The story of {the_np} is, in many ways, the story of {place} itself.",
    "Few places have thought harder about {activity} than {place}.",
    "The problem is not a lack of ideas but a lack of time and money.",
    "None of this happened overnight.",
    "That may sound obvious, but it took years to become accepted.",
    "The change has been gradual, and easy to miss if you do not look for it.",
    "It helps that the people involved are patient and well organised.",
    "Anyone who has lived in {place} for a while will recognise the pattern.",
    "The details matter, and they are rarely as tidy as the headlines suggest.",
    "What began as a small group of enthusiasts is now a serious organisation.",
    "The timing was not an accident.",
    "It was, by any measure, an unusual start.",
    "It was a slow start, and for a while it looked like a mistake.",
    "Most of the work happens out of sight, long before anyone notices the results.",
    "{Activity} used to be a niche interest; it is now a regular topic of conversation.",
    "The {adj} {noun} has become something of a local symbol.",
    "There is still a great deal that nobody fully understands about {nps}.",
    "A decade ago, {activity} would have seemed an odd choice; today it barely raises an eyebrow.",
    "For a long time, {nps} were treated as an afterthought.",
    "It would be a mistake to think of {nps} as a purely technical problem.",
    "The people doing the work tend to be more cautious than the people writing about it.",
    "Progress has been uneven, with long quiet spells and sudden bursts of change.",
    "{org} now runs regular sessions for anyone curious about {activity}.",
    "In the meantime, the community carries on much as before.",
    "I spent {numw} days in {place} talking to {role_plural}, {role_plural} and anyone else who would listen.",
    "Similar experiments are under way in {country} and {country}, though on a smaller scale.",
    "Visitors from as far away as {country} have come to see how it works.",
    "The idea is borrowed, at least in part, from {country}.",
    "On {month} {day}, {year_b}, {org} held its first open meeting on the subject.",
    "By the spring of {year_b}, the mood had changed.",
    "The turning point came in the winter of {year_a}.",
    "It is a long way from the early days, when {activity} was something people did quietly and alone.",
    "The money came from a mix of grants, donations and a great deal of unpaid time.",
    "Some of the most useful lessons came from things that went wrong.",
    "There were setbacks, including a difficult winter and a funding gap that nearly ended the project.",
    "The local newspaper has followed the story closely, not always kindly.",
    "What makes {place} unusual is not the {noun} itself but the people around it.",
    "Enthusiasm, it turns out, is easier to find than patience.",
    "The paperwork alone would have discouraged most people.",
    "Much of the early scepticism has quietly evaporated.",
    "Local businesses were wary at first, then curious, and eventually supportive.",
    "Nobody involved pretends the arrangement is perfect.",
    "The mood at the last public meeting was noticeably warmer than at the first.",
    "Some of the loudest critics have since become volunteers.",
    "Younger residents tend to be more relaxed about the changes than their parents.",
    "The project survived two changes of leadership and one very public disagreement.",
    "A small grant from {org} kept things going during the leanest months.",
    "Insurance, storage and transport turned out to be the hidden costs.",
    "Neighbouring councils have been watching closely, some with envy and some with suspicion.",
    "The early results were modest, but they were enough to silence the harshest doubters.",
    "A good deal of the knowledge involved was never written down.",
    "The volunteers range in age from teenagers to retired engineers in their eighties.",
    "Not every experiment worked, and the failures were documented as carefully as the successes.",
    "Visitors often arrive expecting something grander and leave surprised by how ordinary it looks.",
    "The hardest conversations were not technical but personal.",
    "It is the sort of story that rarely makes the national news.",
    "Some problems, such as {the_np}, turned out to be simpler than expected; others did not.",
    "Nobody has yet found a reliable substitute for local knowledge.",
    "The criticism has not disappeared, but it has become more specific and more useful.",
    "Even the weather seemed to conspire against the project in its first winter.",
    "The original plans, pinned to a wall in the office, are now covered in handwritten corrections.",
    "Word spread mostly through neighbours, school gates and the occasional noticeboard.",
)

QUESTIONS = (
    "What does this mean for {nps}?",
    "Is {activity} worth the effort?",
    "Why does any of this matter?",
    "How did {place} get here?",
    "What would it take to change that?",
    "Who, in the end, pays for {the_np}?",
    "So why has it taken so long?",
    "Could the same thing work elsewhere?",
    "What happens to {nps} when the money runs out?",
    "Is there a better way to think about {activity}?",
    "Why do so many people get {nps} wrong?",
    "Who decides what counts as success?",
    "What, exactly, went wrong the first time?",
    "How much of this depends on a handful of committed individuals?",
    "Would anyone notice if it simply stopped?",
    "Why are so few places willing to try?",
)

ANSWERS = (
    "The answer, it turns out, is complicated.",
    "The short answer is yes. The long answer is more interesting.",
    "It depends on whom you ask.",
    "Nobody is entirely sure, but there are some clues.",
    "The honest answer is that it is too early to tell.",
    "Part of the answer lies in the history of {place}.",
)

DATA_FRAMES = (
    "Between {year_a} and {year_b}, {metric} in {place} rose by {pct} percent.",
    "Last year, {metric} fell for the first time since {year_a}.",
    "{org}'s latest report, published in {month} {year_b}, puts the figure at {pct} percent.",
    "The figure now stands at {bignum} {unit}, up from {smallnum} {unit} in {year_a}.",
    "By one estimate, {metric} roughly doubled in a decade.",
    "According to {org}, about one in {numw} people in {place} has tried {activity}.",
    "Over the same period, {metric} in neighbouring towns barely changed.",
    "In {year_a} the total was {smallnum} {unit}; by {year_b} it had reached {bignum}.",
    "A survey of {bignum} residents found that {pct} percent had an opinion on {the_np}, and most of them were positive.",
    "The budget for the next phase is {money}, a modest sum by national standards.",
    "The cost so far is about {money}, most of it spent in the first {numw} months.",
    "Roughly {pct} percent of the people surveyed in {place} said they would like to see more of it.",
    "Since {year_a}, volunteers from {org} have tracked {metric} every month.",
)

LISTS = (
    "Visitors to {place} will find {a_np}, {a_np} and {a_np} within a short walk of each other.",
    "The list of things that can go wrong is long: {the_np}, {the_np}, {the_np}, and the weather.",
    "Among the topics on the agenda were {activity}, {activity} and, inevitably, money.",
    "The {gnoun} brought together {role_plural}, {role_plural} and a handful of curious neighbours.",
    "There are three things to watch: {metric}, {metric} and the patience of the people involved.",
)

CONCLUSIONS = (
    "For now, {claim}.",
    "Whether that will still be true in ten years remains an open question.",
    "What is clear is that {claim}.",
    "The next few years will show whether {place} was ahead of its time or simply lucky.",
    "In the end, {activity} is less about {nouns} than about people.",
    "There is still a long way to go, but the direction is no longer in doubt.",
    "If {place} can do it, there is little reason other places cannot.",
    "It is, as one resident put it, a work in progress.",
    "Nobody expects the debate to end soon.",
    "The lesson, perhaps, is that {claim}.",
)

SCENES = (
    "On a {weather} {weekday} morning in {month}, I went to {place} to see it for myself.",
    "The first thing you notice on arriving in {place} is how quiet it is.",
    "It is just after seven on a {weather} {weekday}, and the {noun} is already busy.",
    "The office of {org} is a converted {old_building} on the edge of {place}.",
    "When I visited in {month}, the {adj} {noun} was the talk of the town.",
)

# Frames for people. "intro" ones are used for the first mention of a person.
PERSON_INTRO = (
    "{PF}, {role} at {org}, has spent {numw} years {activity}.",
    "{QUOTE} says {PF}, {role} at {org}.",
    "{QUOTE} {PF}, {role} at {org}, {say}.",
    "{PF}, who works as {role} in {place}, {say_that} {claim}.",
    "Take {PF}, {role} who lives just outside {place}.",
    "I met {PF}, {role} at {org}, on a {weather} {weekday} in {month}.",
    "{PF} did not plan to become {role}. {Pron} stumbled into it in {year_a}.",
    "One of the people who has watched the change most closely is {PF}, {role} at {org}.",
    "{PF} has been {role} for most of {pposs} working life.",
    "\"{quote}\" That is how {PF}, {role} at {org}, sums it up.",
)

PERSON_REF = (
    "{QUOTE} {P} {say}.",
    "{QUOTE} {say} {P}.",
    "{P} {say_that} {claim}.",
    "According to {P}, {claim}.",
    "For {P}, the answer is simple: {claim}.",
    "{P} remembers the first time {pron} saw {a_np}.",
    "{P} is careful not to overstate the case.",
    "{P} shrugs. \"{quote}\"",
    "{Pron} laughs when I ask about {activity}.",
    "{P} is not alone in thinking so.",
    "Even {P} admits that {claim}.",
    "{QUOTE2} {P} {say}.",
    "{P} pauses before answering. \"{quote}\"",
    "{Pron} has heard the objections many times.",
    "As {P} sees it, {claim}.",
    "{P} keeps a folder of newspaper cuttings about {nps} going back to {year_a}.",
    "{P} points out that {claim}.",
    "In {pposs} experience, {claim}.",
    "{Pron} is, by {pposs} own admission, an unlikely expert.",
    "{P} first became interested in {activity} in {year_a}.",
    "\"{quote}\" {Pron} smiles.",
    "{P} is more cautious. \"{quote}\"",
    "{P} walks me through the details with the patience of someone who has done it many times before.",
    "When I ask {P} what surprised {pobj} most, {pron} thinks for a moment. \"{quote}\"",
)

CONTRASTS = (
    "Not everyone is convinced.",
    "Still, there are limits.",
    "There are sceptics, of course.",
    "The picture is not entirely rosy.",
    "Some worry that the enthusiasm will fade.",
)

SELF_POST_FRAMES = (
    "Has anyone here tried {activity}? I would love to hear how it went.",
    "I have been {activity} for about {numw} years and I still have questions.",
    "Long time lurker, first time poster.",
    "Any advice appreciated!",
    "EDIT: thanks everyone for the replies, this was really helpful.",
    "Is it just me or has {metric} gone up a lot around {place} recently?",
    "My partner thinks I am obsessed with {nps}. They may be right.",
    "Quick question about {the_np}: what is the best way to get started?",
    "Not sure if this is the right sub for this, but here goes.",
    "TL;DR: {claim}.",
    "Update: tried it last weekend and it actually worked.",
    "I read somewhere that {claim}. Is that actually true?",
)

TITLE_FRAMES = (
    "Why {Nouns} Matter More Than Ever",
    "How {Place} Learned to Love {Nouns}",
    "{NumW} Things I Learned From {Activity}",
    "What {Activity} Taught Me About Patience",
    "Is {Activity} Worth It?",
    "The Case for {Activity}",
    "The Case Against {Adj} {Nouns}",
    "{Places} {Adj} {Noun} Problem",
    "Notes on {Activity}",
    "A Beginner's Guide to {Activity}",
    "The Trouble With {Nouns}",
    "What Nobody Tells You About {Activity}",
    "In Defence of the {Adj} {Noun}",
    "The People Who Keep {Places} {Nouns} Running",
    "A Short History of the {Noun}",
    "Meet the {RolePlural} of {Place}",
    "The Surprising Science of {Activity}",
    "Everything You Need to Know About {Nouns}",
    "The Hidden Cost of {Nouns}",
    "After {NumW} Years, {Place} Tries {Activity}",
    "{Activity} in {Place}: A Progress Report",
    "Lessons From a Year of {Activity}",
    "The {Adj} Future of {Nouns}",
)


def attribution_quote(text: str) -> str:
    """Quote text punctuated for an attribution that follows: "We tried," she said."""
    if text.endswith("."):
        text = text[:-1] + ","
    return f"\"{text}\""


# Slots whose value must stay the same within one sentence ("12 households, up from 3 households").
_SENTENCE_CONSTANT_SLOTS = frozenset({"unit"})
# Slots that should not repeat within one sentence ("engineers, engineers and ...").
_SENTENCE_DISTINCT_SLOTS = frozenset({"role_plural", "a_np", "the_np", "nps", "activity", "metric",
                                      "country", "quote", "claim", "object"})


class _ArticleWriter:
    """State for writing one article: topic, cast, place, organisation and the rng.

    Slots understood by :meth:`fill` (each occurrence is drawn afresh unless noted above):
    ``noun nouns adj verb verbs verbed the_np a_np nps activity Activity metric unit place
    country org role role_plural claim quote QUOTE QUOTE2 year oldyear year_a year_b day
    month weekday weather pct num numw smallnum bignum money gnoun gadj PF P Pron pron pposs
    pobj say say_that``. ``year_a`` is always earlier than ``year_b``.
    """

    def __init__(self, gen: "ProseGenerator", topic: Topic, rng: random.Random, year: int) -> None:
        self.gen = gen
        self.topic = topic
        self.rng = rng
        self.year = year
        self.place = self.random_place()
        self.org = rng.choice(topic.orgs)
        self.cast = [self._new_person() for _ in range(rng.randint(1, 3))]
        self.current: Person = self.cast[0]
        # Per-article memory so the same fact, quote or frame is not used twice in one piece.
        self.used: dict[str, set[str]] = {}

    # ---- small pickers -------------------------------------------------------------
    def random_place(self) -> str:
        """Half the time a listed place, otherwise a generated one ("Fenbury", "Oakmere")."""
        rng = self.rng
        if rng.random() < 0.5:
            return rng.choice(PLACES)
        name = rng.choice(PLACE_PREFIXES) + rng.choice(PLACE_SUFFIXES)
        return name + rng.choice(["", "", "", " Green", " on Sea", " Vale", " Heath"])

    def _new_person(self) -> Person:
        rng = self.rng
        if rng.random() < 0.5:
            first, pron = rng.choice(FEMALE_NAMES), "she"
        else:
            first, pron = rng.choice(MALE_NAMES), "he"
        org = self.org if rng.random() < 0.5 else rng.choice(self.topic.orgs)
        return Person(first, rng.choice(SURNAMES), pron, rng.choice(self.topic.roles), org)

    def pick(self, pool: tuple[str, ...], kind: str) -> str:
        """Choose from ``pool``, preferring items not used yet in this article."""
        used = self.used.setdefault(kind, set())
        fresh = [x for x in pool if x not in used]
        item = self.rng.choice(fresh or list(pool))
        used.add(item)
        return item

    def np(self, definite: bool = True, plural: bool = False) -> str:
        rng = self.rng
        noun = rng.choice(self.topic.nouns)
        word = pluralize(noun) if plural else singular(noun)
        if rng.random() < 0.45:
            word = f"{rng.choice(self.topic.adjectives)} {word}"
        if plural:
            return word
        return f"the {word}" if definite else with_article(word)

    def year_between(self, lo: int, hi: int) -> int:
        hi = min(hi, self.year)
        return self.rng.randint(min(lo, hi), hi)

    def claim(self) -> str:
        return self.fill(self.pick(self.topic.claims, "claim"))

    def quote(self) -> str:
        return self.fill(self.pick(self.topic.quotes, "quote"))

    def slot(self, name: str) -> str:
        rng, t = self.rng, self.topic
        p = self.current
        match name:
            case "noun":
                return singular(rng.choice(t.nouns))
            case "nouns":
                return pluralize(rng.choice(t.nouns))
            case "adj":
                return rng.choice(t.adjectives)
            case "verb":
                return base_verb(rng.choice(t.verbs))
            case "verbs":
                return third_person(base_verb(rng.choice(t.verbs)))
            case "verbed":
                return past_tense(rng.choice(t.verbs))
            case "the_np":
                return self.np(definite=True)
            case "a_np":
                return self.np(definite=False)
            case "nps":
                return self.np(plural=True)
            case "activity":
                return rng.choice(t.activities)
            case "Activity":
                return capitalize_first(rng.choice(t.activities))
            case "metric":
                return rng.choice(t.metrics)
            case "unit":
                return rng.choice(t.units)
            case "place":
                return self.place if rng.random() < 0.7 else self.random_place()
            case "country":
                return rng.choice(COUNTRIES)
            case "org":
                return self.org if rng.random() < 0.6 else rng.choice(t.orgs)
            case "role":
                return p.role
            case "role_plural":
                return pluralize(strip_article(rng.choice(t.roles)))
            case "claim":
                return self.claim()
            case "quote":
                return self.quote()
            case "QUOTE":
                return attribution_quote(self.quote())
            case "QUOTE2":
                return attribution_quote(f"{self.quote()} {self.quote()}")
            case "year":
                return str(self.year_between(1985, self.year - 1))
            case "oldyear":
                return str(rng.randint(1620, 1948))
            case "year_a":
                return str(self.year_between(self.year - 18, self.year - 4))
            case "year_b":
                return str(self.year_between(self.year - 3, self.year))
            case "day":
                return str(rng.randint(1, 28))
            case "month":
                return rng.choice(MONTHS)
            case "weekday":
                return rng.choice(WEEKDAYS)
            case "weather":
                return rng.choice(WEATHER)
            case "pct":
                return str(rng.randint(3, 45) if rng.random() < 0.85 else rng.randint(45, 90))
            case "num" | "numw":
                return rng.choice(NUMBER_WORDS) if rng.random() < 0.85 else rng.choice(ROUND_NUMBER_WORDS)
            case "smallnum":
                return format_int(rng.randint(2, 900))
            case "bignum":
                return format_int(rng.randint(1_000, 250_000))
            case "money":
                amount = f"{rng.uniform(0.2, 40):.1f}".removesuffix(".0")
                return f"{rng.choice(['$', '£', '€'])}{amount} million"
            case "object":
                return rng.choice(EVERYDAY_OBJECTS)
            case "feeling":
                return rng.choice(FEELINGS)
            case "old_thing":
                return rng.choice(OLD_THINGS)
            case "walkway":
                return rng.choice(WALKWAYS)
            case "old_building":
                return rng.choice(["warehouse", "chapel", "schoolhouse", "bank", "garage", "railway station", "shop"])
            case "gnoun":
                return rng.choice(GENERAL_NOUNS)
            case "gadj":
                return rng.choice(GENERAL_ADJECTIVES)
            case "PF" | "name":
                return p.full
            case "P":
                return p.last
            case "Pron":
                return p.pronoun.capitalize()
            case "pron":
                return p.pronoun
            case "pposs":
                return p.possessive
            case "pobj":
                return "her" if p.pronoun == "she" else "him"
            case "say":
                return rng.choice(SAY_VERBS)
            case "say_that":
                return rng.choice(SAY_VERBS).replace("recalled", "believes") + " that"
            case _:
                raise KeyError(f"unknown slot {{{name}}}")

    def fill(self, template: str) -> str:
        constant: dict[str, str] = {}
        seen: dict[str, set[str]] = {}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in _SENTENCE_CONSTANT_SLOTS:
                if name not in constant:
                    constant[name] = self.slot(name)
                return constant[name]
            value = self.slot(name)
            if name in _SENTENCE_DISTINCT_SLOTS:
                taken = seen.setdefault(name, set())
                for _ in range(6):
                    if value not in taken:
                        break
                    value = self.slot(name)
                taken.add(value)
            return value

        return _SLOT.sub(one, template)

    def sentence(self, template: str) -> str:
        return capitalize_first(self.fill(template))

    def frame(self, pool: tuple[str, ...], kind: str) -> str:
        """Fill a sentence frame, avoiding frames already used in this article."""
        return self.sentence(self.pick(pool, kind))

    # ---- sentence kinds ------------------------------------------------------------
    def has_fresh(self, pool: tuple[str, ...], kind: str) -> bool:
        used = self.used.get(kind, set())
        return any(x not in used for x in pool)

    def fact(self) -> str:
        if not self.has_fresh(self.topic.facts, "fact"):
            # Long articles run out of facts; repeating one reads badly, so say something else.
            return self.rng.choice([self.data_sentence, self.statement, self.claim_sentence])()
        text = self.fill(self.pick(self.topic.facts, "fact"))
        # Facts written about "she"/"her" get a named subject from the cast.
        if text.startswith(("She ", "Her ")):
            p = self.current
            name = p.last if p.introduced else p.full
            p.introduced = True
            text = (f"{name} " if text.startswith("She ") else f"{name}'s ") + text[4:]
        elif self.rng.random() < 0.2 and text.split(" ", 1)[0] in {"The", "A", "In", "About", "More",
                                                                    "Most", "Around"}:
            text = f"{self.rng.choice(CONNECTIVES)} {text[0].lower()}{text[1:]}"
        return text

    def claim_sentence(self) -> str:
        if self.rng.random() < 0.6:
            return f"{self.pick(CLAIM_INTROS, 'intro')} {self.claim()}."
        return f"{self.pick(CONNECTIVES, 'connective')} {self.claim()}."

    def person_sentence(self) -> str:
        rng = self.rng
        # Move to another cast member now and then, so one article quotes several people.
        if rng.random() < 0.35:
            self.current = rng.choice(self.cast)
        p = self.current
        if not p.introduced:
            p.introduced = True
            return self.frame(PERSON_INTRO, "intro-frame")
        return self.frame(PERSON_REF, "ref-frame")

    def statement(self) -> str:
        return self.frame(STATEMENTS, "statement")

    def colour(self) -> str:
        """A scene or mood detail about the current person and place."""
        return self.frame(COLOUR_SENTENCES, "colour")

    def question_and_answer(self) -> list[str]:
        out = [self.frame(QUESTIONS, "question")]
        if self.rng.random() < 0.6:
            out.append(self.frame(ANSWERS, "answer"))
        out.append(self.claim_sentence())
        return out

    def data_sentence(self) -> str:
        return self.frame(DATA_FRAMES, "data")

    def list_sentence(self) -> str:
        return self.frame(LISTS, "list")

    def contrast(self) -> list[str]:
        others = [p for p in self.cast if p is not self.current]
        if others:
            self.current = self.rng.choice(others)
        return [self.pick(CONTRASTS, "contrast"), self.person_sentence()]

    # ---- paragraphs ----------------------------------------------------------------
    def lead_paragraph(self) -> str:
        rng = self.rng
        # Choose the callable first and call only it: generating and discarding a sentence
        # would still mark people as introduced and facts as used.
        opening = rng.choice([lambda: self.frame(SCENES, "scene"), self.fact,
                              self.claim_sentence, self.statement])()
        sentences = [opening, self.fact() if rng.random() < 0.5 else self.statement()]
        if rng.random() < 0.6:
            sentences.append(self.claim_sentence())
        if rng.random() < 0.5:
            sentences.append(self.person_sentence())
        return " ".join(sentences)

    def body_paragraph(self) -> str:
        rng = self.rng
        kind = rng.choices(["people", "data", "argument", "question", "mixed"], [3, 2, 2, 1, 3])[0]
        sentences: list[str] = []
        if kind == "people":
            sentences += [self.person_sentence() for _ in range(rng.randint(2, 4))]
            sentences.insert(rng.randint(0, len(sentences)), self.fact())
            if rng.random() < 0.45 and self.current.introduced:
                sentences.insert(rng.randint(1, len(sentences)), self.colour())
        elif kind == "data":
            sentences += [self.fact(), self.data_sentence()]
            if rng.random() < 0.5:
                sentences.append(self.data_sentence())
            sentences.append(self.claim_sentence() if rng.random() < 0.5 else self.person_sentence())
        elif kind == "argument":
            sentences += [self.claim_sentence(), self.statement()]
            sentences += self.contrast()
            if rng.random() < 0.5:
                sentences.append(self.claim_sentence())
        elif kind == "question":
            sentences += self.question_and_answer()
            sentences.append(self.fact())
        else:
            pool = [self.statement, self.fact, self.claim_sentence, self.person_sentence,
                    self.list_sentence, self.data_sentence]
            for _ in range(rng.randint(3, 5)):
                sentences.append(rng.choice(pool)())
        return " ".join(sentences)

    def conclusion(self) -> str:
        rng = self.rng
        sentences = [self.statement() if rng.random() < 0.5 else self.fact()]
        if rng.random() < 0.6:
            sentences.append(self.person_sentence())
        sentences.append(self.frame(CONCLUSIONS, "conclusion"))
        return " ".join(sentences)

    def title(self) -> str:
        rng, t = self.rng, self.topic
        if rng.random() < 0.2:
            return rng.choice(t.titles)
        frame = rng.choice(TITLE_FRAMES)
        values = {
            "Nouns": title_case(pluralize(rng.choice(t.nouns))),
            "Noun": title_case(singular(rng.choice(t.nouns))),
            "Adj": title_case(rng.choice(t.adjectives)),
            "Activity": title_case(rng.choice(t.activities)),
            "Place": self.place[4:] if self.place.startswith("the ") else self.place,
            "Places": possessive(self.place[4:] if self.place.startswith("the ") else self.place),
            "RolePlural": title_case(pluralize(strip_article(rng.choice(t.roles)))),
            "NumW": rng.choice(["Three", "Five", "Seven", "Ten", "Twelve"]),
        }
        return _SLOT.sub(lambda m: values[m.group(1)], frame)

    def bullet_items(self) -> list[str]:
        return [capitalize_first(self.claim()) + "." for _ in range(self.rng.randint(3, 5))]

    def subheading(self) -> str:
        return title_case(self.rng.choice(self.topic.activities))


class ProseGenerator:
    """Generates articles, titles and Reddit self-post text from the topic vocabulary."""

    def __init__(self) -> None:
        self.topics: dict[str, Topic] = {k: Topic.from_spec(k, v) for k, v in TOPICS.items()}
        self.topic_keys: list[str] = list(self.topics)

    def random_topic(self, rng: random.Random) -> str:
        return rng.choice(self.topic_keys)

    @staticmethod
    def target_words(rng: random.Random) -> int:
        """Article length: log-normal with a median near 280 words, clipped to 160..1350."""
        return int(min(1350, max(160, rng.lognormvariate(5.57, 0.5))))

    def article(self, rng: random.Random, topic: str | None = None,
                published: dt.date | None = None, words: int | None = None) -> Article:
        """One complete article. ``words`` is a target; the result lands near it."""
        topic_obj = self.topics[topic or self.random_topic(rng)]
        if published is None:
            published = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3 * 365 - 1))
        writer = _ArticleWriter(self, topic_obj, rng, published.year)
        target = words or self.target_words(rng)

        blocks: list[tuple[str, object]] = [("p", writer.lead_paragraph())]
        n_words = len(str(blocks[0][1]).split())
        used_list = False
        # Keep adding body paragraphs until the target is reached, leaving room for the end.
        while n_words < max(target - 50, 150) or len(blocks) < 2:
            roll = rng.random()
            if roll < 0.05 and n_words > 250 and target > 600:
                blocks.append(("h2", writer.subheading()))
            elif roll < 0.08 and not used_list and n_words > 150:
                used_list = True
                blocks.append(("p", writer.sentence(rng.choice(
                    ["A few points came up again and again:", "Three things stand out:",
                     "The main findings are easy to summarise:"]))))
                blocks.append(("ul", writer.bullet_items()))
            elif roll < 0.11:
                blocks.append(("quote", writer.quote()))
            body = writer.body_paragraph()
            blocks.append(("p", body))
            n_words += len(body.split())
        blocks.append(("p", writer.conclusion()))

        author_first = rng.choice(FEMALE_NAMES + MALE_NAMES)
        # The standfirst / meta description: a sentence of its own, as editors write them.
        summary = writer.claim_sentence()
        return Article(
            topic=topic_obj.key,
            section=topic_obj.section,
            title=writer.title(),
            author=f"{author_first} {rng.choice(SURNAMES)}",
            published=published,
            blocks=blocks,
            summary=summary,
        )

    def title(self, rng: random.Random, topic: str | None = None) -> str:
        topic_obj = self.topics[topic or self.random_topic(rng)]
        return _ArticleWriter(self, topic_obj, rng, 2016).title()

    def self_post(self, rng: random.Random, topic: str | None = None) -> str:
        """Reddit self-post body: casual, short, sometimes empty (as many real ones are)."""
        topic_obj = self.topics[topic or self.random_topic(rng)]
        writer = _ArticleWriter(self, topic_obj, rng, 2016)
        n = rng.choice([0, 1, 2, 2, 3, 4, 6])
        makers = [lambda: writer.frame(SELF_POST_FRAMES, "self"), lambda: writer.frame(SELF_POST_FRAMES, "self"),
                  writer.claim_sentence, writer.statement, writer.fact]
        sentences = [rng.choice(makers)() for _ in range(n)]
        if len(sentences) > 3:
            cut = rng.randint(1, len(sentences) - 1)
            return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
        return " ".join(sentences)

    def sentences(self, rng: random.Random, n: int, topic: str | None = None) -> list[str]:
        """Loose sentences (used for page furniture such as teasers and product blurbs)."""
        topic_obj = self.topics[topic or self.random_topic(rng)]
        writer = _ArticleWriter(self, topic_obj, rng, 2016)
        pool = [writer.statement, writer.fact, writer.claim_sentence]
        return [rng.choice(pool)() for _ in range(n)]
