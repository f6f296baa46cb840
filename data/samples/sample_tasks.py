"""Small evaluation tasks in public formats, built from new synthetic articles.

Three tasks, each in the file format of the public benchmark it imitates, so that the evaluation
code reads them exactly as it reads the real ones:

* ``lastword.jsonl``: LAMBADA (EleutherAI's ``lambada_openai``): ``{"text"}``; the target is the
  last whitespace-separated word, a surname, place or topic noun that already occurred earlier in
  the passage, so it is predictable from the broad context but not from the last sentence alone.
* ``continuation_{train,test}.jsonl``: HellaSwag: the opening sentences of an article, its true
  next sentence and three sentences from articles of other sections.
* ``topic_{train,dev,test}.jsonl``: text classification ``{"id", "text", "label"}``: the opening
  30-50 words of an article, labelled with its section.

No task text is training text. The articles come from seeds that the corpus never uses
(``rng_for("tasks", ...)``), and because the generator reuses hand-written sentences (facts,
quotes, fixed sentence frames), every sentence that shares a 13-word window with the sample
WARCs is dropped before a task is built, and every finished item is checked again
(:class:`CorpusNgrams`; GPT-3's contamination test uses 13-grams too). The WARCs are read back
from disk, so the check is against exactly the bytes the pipelines train on.

Determinism: every random choice comes from a seeded stream, sets are only used for membership,
records are written in a fixed order with sorted keys, ``ensure_ascii=False`` and ``"\\n"`` line
ends, so two runs write byte-identical files.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import pathlib
import random
import re
import sys
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence

from sample_common import atomic_write, rng_for
from sample_prose import Article, ProseGenerator, pluralize, singular, strip_article
from sample_topics import COUNTRIES, FEMALE_NAMES, MALE_NAMES, PLACE_PREFIXES, PLACE_SUFFIXES, PLACES, SURNAMES

TASKS_DIR = "tasks"
LASTWORD = "lastword.jsonl"
CONTINUATION_TRAIN = "continuation_train.jsonl"
CONTINUATION_TEST = "continuation_test.jsonl"
TOPIC_TRAIN = "topic_train.jsonl"
TOPIC_DEV = "topic_dev.jsonl"
TOPIC_TEST = "topic_test.jsonl"
TASK_FILES = (LASTWORD, CONTINUATION_TRAIN, CONTINUATION_TEST, TOPIC_TRAIN, TOPIC_DEV, TOPIC_TEST)

NGRAM = 13                      # window of the contamination check (GPT-3, appendix C)
N_LASTWORD = 300
LASTWORD_WORDS = (30, 60)       # short enough that a one-shot prompt fits the demo model's 256-token context
N_CONTINUATION = {CONTINUATION_TRAIN: 60, CONTINUATION_TEST: 300}   # multiples of 4 and of 20 sections
TOPIC_PER_SECTION = {TOPIC_TRAIN: 50, TOPIC_DEV: 10, TOPIC_TEST: 20}
TOPIC_WORDS = (30, 50)         # two demonstrations and the item fit a 256-token context
TOPIC_MIN_TERMS = 2
ARTICLE_WORDS = 160             # the shortest article the generator writes: only openings are used
MAX_ATTEMPTS = 60               # new articles tried per item before giving up (never reached)

Record = dict[str, object]      # one JSONL line


# --------------------------------------------------------------------------------------
# The contamination check
# --------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


@functools.cache
def _combining_marks() -> dict[int, None]:
    """str.translate table deleting every combining mark (built once, ~0.1 s)."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))}


def matching_words(text: str) -> list[str]:
    """``corpus.text.words``, restated because ``data/`` does not import the package: NFKD, accents
    removed, lower case, then runs of letters and digits. A typographic apostrophe (U+2019)
    therefore splits a word ("archive's" -> "archive", "s") exactly as the ASCII one does."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_combining_marks())
    return _WORD.findall(text.lower())


def warc_text(path: pathlib.Path) -> str:
    """Every readable character of a ``.warc.gz``: gzip members decompressed up to a cut one,
    scripts and tags removed, entities decoded. Headers and non-article pages come along: a
    superset of the article texts, so a window missing from it is missing from every page."""
    data, out = path.read_bytes(), bytearray()
    while data:
        member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            out += member.decompress(data)
        except zlib.error:  # the truncated shard's last member
            break
        data = member.unused_data
    text = _SCRIPT.sub(" ", out.decode("utf-8", "replace"))
    return html.unescape(_TAG.sub(" ", text))


class CorpusNgrams:
    """The word 13-grams of the training sample, to keep task texts out of it."""

    def __init__(self, texts: Iterable[str], n: int = NGRAM) -> None:
        self.n = n
        self.grams: set[str] = set()
        for text in texts:
            words = matching_words(text)
            self.grams.update(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))

    @classmethod
    def from_warcs(cls, paths: Iterable[pathlib.Path], n: int = NGRAM) -> "CorpusNgrams":
        """The n-grams of every text in the given WARC files."""
        return cls((warc_text(pathlib.Path(p)) for p in paths), n)

    def overlaps(self, text: str) -> bool:
        """Whether any n-word window of ``text`` occurs in the corpus."""
        words = matching_words(text)
        return any(" ".join(words[i:i + self.n]) in self.grams for i in range(len(words) - self.n + 1))


# --------------------------------------------------------------------------------------
# Sentences of a new article
# --------------------------------------------------------------------------------------

_BOUNDARY = re.compile(r'[.?!]"?\s+')


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a generated paragraph. A boundary is end punctuation (and a closing quote)
    before a capital or an opening quote, outside quotation marks, so a quote of two sentences
    ("We tried. It worked," she says.) stays one sentence."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(paragraph):
        piece, following = paragraph[start:m.end()].strip(), paragraph[m.end():m.end() + 1]
        if (following.isupper() or following == '"') and piece.count('"') % 2 == 0:
            out.append(piece)
            start = m.end()
    if paragraph[start:].strip():
        out.append(paragraph[start:].strip())
    return out


def n_words(text: str) -> int:
    """Whitespace-separated words, the count LAMBADA's and the shards' lengths use."""
    return len(text.split())


def clean_sentences(article: Article, corpus: CorpusNgrams) -> list[str]:
    """The article's running-text sentences in order, without those that share a 13-gram with the
    corpus (mostly hand-written facts and quotes, which the corpus articles use too) and without
    list lead-ins ("Three things stand out:")."""
    return [s for kind, body in article.blocks if kind == "p" for s in split_sentences(str(body))
            if not s.endswith(":") and not corpus.overlaps(s)]


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "Will" never shadows a longer name sharing its start.
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


_FULL_NAME = re.compile(rf"\b({_alternation(FEMALE_NAMES + MALE_NAMES)}) ({_alternation(SURNAMES)})\b")
_SURNAME = re.compile(rf"\b({_alternation(SURNAMES)})\b")
_PLACE = re.compile(rf"\b(?:{_alternation(PLACES)}|(?:{_alternation(PLACE_PREFIXES)})(?:{_alternation(PLACE_SUFFIXES)})"
                    r"(?: Green| on Sea| Vale| Heath)?)\b")
_COUNTRY = re.compile(rf"\b({_alternation(COUNTRIES)})\b")


def introduces_everyone(text: str) -> bool:
    """Whether every surname in ``text`` first appears with its first name ("Mara Okafor ...
    Okafor says"). Dropping a sentence can remove an introduction; a passage that then names a
    stranger ("Okafor shrugs.") is no longer coherent."""
    introduced = {m.group(2): m.start(2) for m in reversed(list(_FULL_NAME.finditer(text)))}
    return all(m.start() >= introduced.get(m.group(1), len(text)) for m in _SURNAME.finditer(text))


# --------------------------------------------------------------------------------------
# lastword.jsonl (LAMBADA)
# --------------------------------------------------------------------------------------

# Closing sentences that name again what the passage introduced. None gives the answer away on
# its own: the word can only come from the passage before it. No final full stop (LAMBADA's
# targets are bare words).
PERSON_CLOSERS = (
    "Before I left, I asked one last question, and the answer came, as usual, from {w}",
    "On this point, at least, the last word belongs to {w}",
    "Several people repeated the same argument to me later, and most of them had first heard it from {w}",
    "If the whole effort has a public face, it is {w}",
    "Whatever the outcome, much of the credit, or the blame, will go to {w}",
    "The person most people here still turn to for advice is {w}",
    "Nobody I met put the case quite as plainly as {w}",
    "Most of what I learned that week, I learned from {w}",
    "When the meeting finally broke up, the last person still talking was {w}",
    "Of everyone I met, the one I still think about most is {w}",
    "Ask around for long enough, and every conversation leads back to {w}",
)
PLACE_CLOSERS = (
    "Whatever happens next, the rest of the region will be watching {w}",
    "It is hard to imagine any of this happening anywhere but {w}",
    "Other towns have tried to copy the idea, but so far none has matched {w}",
    "By the time I left, I understood why so many people choose to stay in {w}",
    "Whether the idea travels remains to be seen, but it was born in {w}",
    "For now, at least, the future of the whole experiment lies in {w}",
    "Few of the people I met could imagine living anywhere other than {w}",
    "The story is far from over, and the next chapter will be written in {w}",
)
NOUN_CLOSERS = (
    "In the end, almost every conversation I had came back to the {w}",
    "Whatever else changes, nobody here is ready to give up on the {w}",
    "Ask what matters most, and the answer is usually the same: the {w}",
    "For all the talk of money and politics, the real story is the {w}",
    "And so, once again, the discussion returned to the {w}",
    "Everything else, it seems, depends on the {w}",
)
# Which kind of target item i gets: 6 in 10 surnames (LAMBADA's targets are mostly names), 2 places,
# 2 topic nouns.
LASTWORD_KINDS = ("person",) * 6 + ("place",) * 2 + ("noun",) * 2


def _mentions(pattern: str, text: str, flags: int = 0) -> bool:
    return re.search(rf"\b(?:{pattern})\b", text, flags) is not None


def _noun_mentions(nouns: Sequence[str], text: str) -> list[str]:
    """Singular forms of the topic nouns (``"singular/plural"`` as in sample_topics) that ``text``
    mentions in any case or number, in vocabulary order."""
    return [singular(n) for n in nouns
            if _mentions(f"{re.escape(singular(n))}|{re.escape(pluralize(n))}", text, re.I)]


def _person_target(body: list[str], _: list[str]) -> str | None:
    """The surname of the person introduced in the first sentence, if nobody else is named."""
    m = _FULL_NAME.search(body[0])
    names = {s for sentence in body for s in _SURNAME.findall(sentence)}
    return m.group(2) if m and names == {m.group(2)} else None


def _place_target(body: list[str], _: list[str]) -> str | None:
    """The one place the passage names, if it is a single word (the target must be one word)."""
    text = " ".join(body)
    places = set(_PLACE.findall(text))
    if len(places) != 1 or _COUNTRY.search(text):
        return None
    place = places.pop()
    return place if " " not in place else None


def _noun_target(body: list[str], nouns: list[str]) -> str | None:
    """The one topic noun the passage mentions, if it is a single word and occurs in the singular,
    in lower case (the closer writes "the turbine")."""
    found = _noun_mentions(nouns, " ".join(body))
    if len(found) != 1 or " " in found[0] or not _mentions(re.escape(found[0]), " ".join(body)):
        return None
    return found[0]


_TARGETS: dict[str, tuple[Callable[[list[str], list[str]], str | None], tuple[str, ...]]] = {
    "person": (_person_target, PERSON_CLOSERS),
    "place": (_place_target, PLACE_CLOSERS),
    "noun": (_noun_target, NOUN_CLOSERS),
}


def lastword_passage(sentences: list[str], kind: str, nouns: list[str], rng: random.Random,
                     corpus: CorpusNgrams) -> str | None:
    """A passage of 3-6 sentences (``LASTWORD_WORDS`` words) from consecutive sentences
    of one article, closed by a sentence that ends on a word of ``kind`` named earlier in it; the
    article's own next sentence when it already ends on the surname (``"...," said Okafor.``)."""
    target_of, closers = _TARGETS[kind]
    starts = [i for i, s in enumerate(sentences) if kind != "person" or _FULL_NAME.search(s)]
    rng.shuffle(starts)
    for i in starts:
        lengths = [2, 3, 4, 5]
        rng.shuffle(lengths)
        for k in lengths:
            body = sentences[i:i + k]
            target = target_of(body, nouns) if len(body) == k else None
            if target is None:
                continue
            following = sentences[i + k] if i + k < len(sentences) else ""
            # The article's own next sentence when it ends on the surname and names nobody before it.
            natural = kind == "person" and following.endswith(f" {target}.") and \
                _SURNAME.findall(following) == [target]
            closer = following[:-1] if natural else rng.choice(closers).format(w=target)
            text = " ".join([*body, closer])
            if (LASTWORD_WORDS[0] <= n_words(text) <= LASTWORD_WORDS[1] and introduces_everyone(text)
                    and not corpus.overlaps(text)):
                return text
    return None


def build_lastword(gen: ProseGenerator, corpus: CorpusNgrams) -> list[Record]:
    """``N_LASTWORD`` LAMBADA records, one new article each, topics in turn."""
    records: list[Record] = []
    seen: set[str] = set()
    for i in range(N_LASTWORD):
        kind = LASTWORD_KINDS[i % len(LASTWORD_KINDS)]
        topic = gen.topic_keys[i % len(gen.topic_keys)]
        for attempt in range(MAX_ATTEMPTS):
            rng = rng_for("tasks", "lastword", i, attempt)
            article = gen.article(rng, topic=topic, words=ARTICLE_WORDS)
            text = lastword_passage(clean_sentences(article, corpus), kind, list(gen.topics[topic].nouns), rng,
                                    corpus)
            if text is not None and text not in seen:
                break
        else:  # pragma: no cover - the vocabulary is large enough by a wide margin
            raise RuntimeError(f"no {kind} passage for lastword item {i}")
        seen.add(text)
        records.append({"text": text})
    return records


# --------------------------------------------------------------------------------------
# continuation_*.jsonl (HellaSwag)
# --------------------------------------------------------------------------------------

ENDING_WORDS = (5, 40)
DISTRACTOR_ARTICLES = 45        # per section: enough for ~3 x 360 / 19 wrong endings with room to choose


def sections(gen: ProseGenerator) -> dict[str, list[str]]:
    """{section: its topic keys}, sections sorted (Science has two topics)."""
    out: dict[str, list[str]] = {}
    for key in gen.topic_keys:
        out.setdefault(gen.topics[key].section, []).append(key)
    return dict(sorted(out.items()))


def section_terms(gen: ProseGenerator) -> dict[str, re.Pattern[str]]:
    """{section: a pattern of its topics' own words}: nouns (both numbers), activities,
    organisations, roles and metrics, the words that tell a reader what an article is about."""
    out = {}
    for section, keys in sections(gen).items():
        terms: list[str] = []
        for t in (gen.topics[k] for k in keys):
            terms += [form for n in t.nouns for form in (singular(n), pluralize(n))]
            terms += [form for r in t.roles for form in (strip_article(r), pluralize(strip_article(r)))]
            terms += [*t.activities, *(strip_article(o) for o in t.orgs), *t.metrics]
        out[section] = re.compile(rf"\b(?:{_alternation(terms)})\b", re.I)
    return out


def _fits_ending(sentence: str) -> bool:
    return ENDING_WORDS[0] <= n_words(sentence) <= ENDING_WORDS[1]


def true_ending(ctx: str, ending: str, terms: re.Pattern[str]) -> bool:
    """Whether ``ending`` can be told apart as the continuation of ``ctx``: it names nobody the
    context has not introduced, and it is about the section (one of its words) or about someone
    or somewhere the context names. A generic sentence ("The timing was not an accident.") could
    follow any context, and so could not be told from a wrong ending."""
    if any(name not in ctx for name in _SURNAME.findall(ending)):
        return False
    return terms.search(ending) is not None or any(p in ctx for p in _PLACE.findall(ending))


@dataclasses.dataclass
class _Distractors:
    """Wrong endings: sentences at the position of a true ending (3rd to 7th of an article), from
    articles of each section, each about its own section (one of its words), so a wrong ending
    differs from the right one in topic and coherence, not in style."""

    pools: dict[str, list[str]]
    used: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def build(cls, gen: ProseGenerator, corpus: CorpusNgrams, terms: dict[str, re.Pattern[str]]) -> "_Distractors":
        pools: dict[str, list[str]] = {}
        for section, keys in sections(gen).items():
            pool = pools.setdefault(section, [])
            for j in range(DISTRACTOR_ARTICLES):
                key = keys[j % len(keys)]
                article = gen.article(rng_for("tasks", "distractors", key, j), topic=key, words=ARTICLE_WORDS)
                pool += [s for s in clean_sentences(article, corpus)[2:7]
                         if _fits_ending(s) and terms[section].search(s) and s not in pool]
        return cls(pools)

    def pick(self, section: str, length: int, fits: Callable[[str], bool], rng: random.Random) -> str:
        """An unused sentence of ``section`` that ``fits``, about ``length`` words long (one of the
        3 closest in length, so the length of an ending does not give the answer away)."""
        fresh = sorted((s for s in self.pools[section] if s not in self.used), key=lambda s: abs(n_words(s) - length))
        closest: list[str] = []
        for sentence in fresh:
            if fits(sentence):
                closest.append(sentence)
                if len(closest) == 3:
                    break
        if not closest:  # pragma: no cover - DISTRACTOR_ARTICLES leaves a wide margin
            raise RuntimeError(f"out of wrong endings for {section}")
        choice = rng.choice(closest)
        self.used.add(choice)
        return choice


def build_continuation(gen: ProseGenerator, corpus: CorpusNgrams) -> dict[str, list[Record]]:
    """HellaSwag records for each continuation file: sections in turn, labels balanced."""
    by_section = sections(gen)
    names = list(by_section)
    terms = section_terms(gen)
    distractors = _Distractors.build(gen, corpus, terms)
    out: dict[str, list[Record]] = {}
    seen: set[str] = set()
    for file_name, count in N_CONTINUATION.items():
        split = file_name.removeprefix("continuation_").removesuffix(".jsonl")
        labels = [i % 4 for i in range(count)]
        rng_for("tasks", "continuation-labels", split).shuffle(labels)
        records: list[Record] = []
        for i in range(count):
            section = names[i % len(names)]
            keys = by_section[section]
            topic = keys[(i // len(names)) % len(keys)]
            for attempt in range(MAX_ATTEMPTS):
                rng = rng_for("tasks", "continuation", split, i, attempt)
                sentences = clean_sentences(gen.article(rng, topic=topic, words=ARTICLE_WORDS), corpus)
                n_ctx = rng.choice([2, 3])
                if len(sentences) <= n_ctx or not _fits_ending(sentences[n_ctx]):
                    continue
                ctx, ending = " ".join(sentences[:n_ctx]), sentences[n_ctx]
                if (ctx not in seen and ending not in distractors.used and true_ending(ctx, ending, terms[section])
                        and introduces_everyone(f"{ctx} {ending}") and not corpus.overlaps(f"{ctx} {ending}")):
                    break
            else:  # pragma: no cover
                raise RuntimeError(f"no context for continuation item {split}/{i}")
            others = rng.sample([s for s in names if s != section], 3)

            def wrong(e: str) -> bool:
                # Not about the context's section, and clear of the corpus when read after the context.
                return terms[section].search(e) is None and not corpus.overlaps(f"{ctx} {e}")

            endings = [distractors.pick(s, n_words(ending), wrong, rng) for s in others]
            endings.insert(labels[i], ending)
            distractors.used.add(ending)
            seen.add(ctx)
            records.append({
                "ind": i, "activity_label": section, "ctx_a": ctx, "ctx_b": "", "ctx": ctx,
                "endings": endings, "label": labels[i],
                "source_id": f"tasks:continuation:{split}:{i}", "split": split, "split_type": "indomain",
            })
        out[file_name] = records
    return out


# --------------------------------------------------------------------------------------
# topic_*.jsonl (text classification)
# --------------------------------------------------------------------------------------

def opening(sentences: list[str], lo: int = TOPIC_WORDS[0], hi: int = TOPIC_WORDS[1]) -> str | None:
    """The first ``lo``-``hi`` words, cut at a sentence end; a sentence that would overshoot ``hi``
    is skipped. None when the article runs out first."""
    taken: list[str] = []
    total = 0
    for s in sentences:
        if total + n_words(s) > hi:
            continue
        taken.append(s)
        total += n_words(s)
        if total >= lo:
            return " ".join(taken)
    return None


def build_topic(gen: ProseGenerator, corpus: CorpusNgrams) -> dict[str, list[Record]]:
    """Topic records per split: ``TOPIC_PER_SECTION`` articles of every section (Science's two
    topics alternate), shuffled, ids in file order. A text must use at least
    ``TOPIC_MIN_TERMS`` different words of its section, so that its label can be read from it."""
    terms = section_terms(gen)
    out: dict[str, list[Record]] = {}
    seen: set[str] = set()
    for file_name, per_section in TOPIC_PER_SECTION.items():
        split = file_name.removeprefix("topic_").removesuffix(".jsonl")
        items = []
        for section, keys in sections(gen).items():
            for j in range(per_section):
                key = keys[j % len(keys)]
                for attempt in range(MAX_ATTEMPTS):
                    rng = rng_for("tasks", "topic", split, key, j, attempt)
                    text = opening(clean_sentences(gen.article(rng, topic=key, words=ARTICLE_WORDS), corpus))
                    if (text is not None and text not in seen
                            and len({m.lower() for m in terms[section].findall(text)}) >= TOPIC_MIN_TERMS
                            and not corpus.overlaps(text)):
                        break
                else:  # pragma: no cover
                    raise RuntimeError(f"no text for topic item {split}/{section}/{j}")
                seen.add(text)
                items.append((text, section))
        rng_for("tasks", "topic-order", split).shuffle(items)
        out[file_name] = [{"id": f"topic-{split}-{n:04d}", "text": text, "label": label}
                          for n, (text, label) in enumerate(items)]
    return out


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

def jsonl(records: Iterable[Record]) -> bytes:
    """One JSON object per line, keys sorted, UTF-8 as is, "\\n" line ends."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode("utf-8")


def build_tasks(gen: ProseGenerator, corpus: CorpusNgrams) -> dict[str, list[Record]]:
    """{file name: records} of every task file."""
    files = {LASTWORD: build_lastword(gen, corpus), **build_continuation(gen, corpus), **build_topic(gen, corpus)}
    return {name: files[name] for name in TASK_FILES}


def write_tasks(out_dir: pathlib.Path, corpus_warcs: Sequence[pathlib.Path],
                gen: ProseGenerator | None = None) -> dict[str, pathlib.Path]:
    """Write every task file into ``out_dir`` (atomically, one by one), keeping all of them clear of
    the 13-grams of ``corpus_warcs``; returns {file name: path}."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = CorpusNgrams.from_warcs(corpus_warcs)
    paths = {}
    for name, records in build_tasks(gen or ProseGenerator(), corpus).items():
        atomic_write(out_dir / name, jsonl(records))
        paths[name] = out_dir / name
    return paths
