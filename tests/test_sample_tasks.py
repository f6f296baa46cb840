"""Tests for the evaluation tasks in data/samples/tasks (data/samples/sample_tasks.py).

What the README promises: the public formats (LAMBADA, HellaSwag, text classification), balanced
labels, byte-identical regeneration, no duplicate texts, and no task text in the training sample:
no 13-word window of any task text occurs in the text of the sample WARCs. The last check is
written independently of the generator (warcio and `corpus.text.words`, the decontamination
step's notion of a word), so a bug in the generator's own check cannot hide itself.
"""

from __future__ import annotations

import collections
import html
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from corpus.benchmarks.formats import guess_format, parse_examples
from corpus.text import words
from tests.helpers.samples import load_generator

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
TASKS = SAMPLES / "tasks"
WARCS = ("webtext_pages.warc.gz", "cc_sample.warc.gz", "cc_sample_truncated.warc.gz")


gen = load_generator()
import sample_tasks as T  # noqa: E402  (importable once generate.py has put its folder on sys.path)
from sample_prose import ProseGenerator  # noqa: E402

SECTIONS = sorted({t.section for t in ProseGenerator().topics.values()})


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    """The task files built from the shipped WARCs (test_samples checks those are current)."""
    return T.write_tasks(tmp_path_factory.mktemp("tasks"), [SAMPLES / name for name in WARCS])


@pytest.fixture(scope="module")
def records(fresh: dict[str, pathlib.Path]) -> dict[str, list[dict]]:
    return {name: [json.loads(line) for line in path.read_text("utf-8").splitlines()] for name, path in fresh.items()}


def task_texts(records: dict[str, list[dict]]) -> list[str]:
    """Every text a model is scored on: LAMBADA passages, each context + ending, topic texts."""
    out = [r["text"] for r in records[T.LASTWORD]]
    for name in (T.CONTINUATION_TRAIN, T.CONTINUATION_TEST):
        out += [f"{r['ctx']} {e}" for r in records[name] for e in r["endings"]]
    for name in (T.TOPIC_TRAIN, T.TOPIC_DEV, T.TOPIC_TEST):
        out += [r["text"] for r in records[name]]
    return out


# ---- determinism ---------------------------------------------------------------------

def test_shipped_tasks_are_up_to_date(fresh: dict[str, pathlib.Path]) -> None:
    assert sorted(fresh) == sorted(T.TASK_FILES)
    for name, path in fresh.items():
        shipped = TASKS / name
        assert shipped.exists(), f"{shipped} missing: run python data/samples/generate.py"
        assert shipped.read_bytes() == path.read_bytes(), f"{name} is stale: run python data/samples/generate.py"


def test_regeneration_is_byte_identical_under_another_hash_seed(fresh: dict[str, pathlib.Path],
                                                                 tmp_path: pathlib.Path) -> None:
    """Through generate.py's own entry point, in a process with another PYTHONHASHSEED."""
    for name in WARCS:
        (tmp_path / name).symlink_to(SAMPLES / name)
    script = ("import importlib.util, pathlib, sys\n"
              f"spec = importlib.util.spec_from_file_location('g', {str(SAMPLES / 'generate.py')!r})\n"
              "g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)\n"
              "print(sorted(g.generate_tasks(pathlib.Path(sys.argv[1]))))\n")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == str(sorted(f"tasks/{n}" for n in T.TASK_FILES))
    for name, path in fresh.items():
        assert (tmp_path / "tasks" / name).read_bytes() == path.read_bytes(), name


def test_files_are_canonical_jsonl_and_small(fresh: dict[str, pathlib.Path]) -> None:
    total = 0
    for name, path in fresh.items():
        data = path.read_bytes()
        total += len(data)
        assert data.endswith(b"\n") and b"\r" not in data, name
        for line in data.decode("utf-8").splitlines():
            assert line == json.dumps(json.loads(line), ensure_ascii=False, sort_keys=True), name
    assert total < 1_500_000


# ---- formats -------------------------------------------------------------------------

def test_lastword_is_lambada(records: dict[str, list[dict]]) -> None:
    recs = records[T.LASTWORD]
    assert len(recs) == 300
    kinds = collections.Counter()
    for r in recs:
        assert list(r) == ["text"] and isinstance(r["text"], str)
        text = r["text"]
        context, target = text.rsplit(" ", 1)
        # A bare word: no punctuation after it (LAMBADA's targets), and named earlier in the passage.
        assert re.fullmatch(r"[A-Za-z][A-Za-z-]*", target), text
        assert re.search(rf"\b{re.escape(target)}\b", context), text
        assert len(text.split()) < 100 and 3 <= len(T.split_sentences(text)) <= 6, text
        kinds["name" if target[0].isupper() else "noun"] += 1
    # Mostly surnames and places, some topic nouns, as the brief's mix says (6:2:2).
    assert kinds["noun"] == 60 and kinds["name"] == 240


def test_continuation_is_hellaswag(records: dict[str, list[dict]]) -> None:
    terms = T.section_terms(ProseGenerator())
    endings_seen: list[str] = []
    for name, count in ((T.CONTINUATION_TRAIN, 60), (T.CONTINUATION_TEST, 300)):
        recs = records[name]
        assert len(recs) == count
        assert [r["ind"] for r in recs] == list(range(count))
        for r in recs:
            assert set(r) == {"ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings", "label", "source_id",
                              "split", "split_type"}
            assert r["activity_label"] in SECTIONS
            assert r["ctx"] == r["ctx_a"] and r["ctx_b"] == "" and 1 <= len(T.split_sentences(r["ctx"])) <= 3
            assert isinstance(r["label"], int) and 0 <= r["label"] < 4
            assert len(r["endings"]) == 4 and all(isinstance(e, str) and e for e in r["endings"])
            assert len(set(r["endings"])) == 4
            # The wrong endings are about other sections: none uses a word of the context's section.
            wrong = [e for i, e in enumerate(r["endings"]) if i != r["label"]]
            assert not any(terms[r["activity_label"]].search(e) for e in wrong), r
            endings_seen += r["endings"]
        # Balanced answer positions and sections.
        assert collections.Counter(r["label"] for r in recs) == {i: count // 4 for i in range(4)}
        assert collections.Counter(r["activity_label"] for r in recs) == {s: count // len(SECTIONS) for s in SECTIONS}
    assert len(endings_seen) == len(set(endings_seen)), "an ending is reused"


def test_topic_is_balanced_classification(records: dict[str, list[dict]]) -> None:
    for name, per_label in ((T.TOPIC_TRAIN, 50), (T.TOPIC_DEV, 10), (T.TOPIC_TEST, 20)):
        recs = records[name]
        split = name.removeprefix("topic_").removesuffix(".jsonl")
        assert [r["id"] for r in recs] == [f"topic-{split}-{i:04d}" for i in range(len(recs))]
        for r in recs:
            assert set(r) == {"id", "text", "label"} and isinstance(r["text"], str)
            assert T.TOPIC_WORDS[0] <= len(r["text"].split()) <= T.TOPIC_WORDS[1] and r["text"][-1] in '.?!"', r
        # Every section once as a label (Science covers astronomy and biology), balanced.
        assert collections.Counter(r["label"] for r in recs) == {s: per_label for s in SECTIONS}
        assert len(SECTIONS) == 20
        # Not sorted by label: consecutive records rarely share one.
        assert sum(a["label"] == b["label"] for a, b in zip(recs, recs[1:])) < len(recs) // 5


def test_the_evaluation_code_reads_them_as_public_formats(records: dict[str, list[dict]]) -> None:
    """corpus.benchmarks (lm-eval's prompts) recognises each file's format and skips no record."""
    expected = {T.LASTWORD: "lambada", T.CONTINUATION_TRAIN: "hellaswag", T.CONTINUATION_TEST: "hellaswag",
                T.TOPIC_TRAIN: "classification", T.TOPIC_DEV: "classification", T.TOPIC_TEST: "classification"}
    for name, recs in records.items():
        fmt = guess_format(recs[0])
        assert fmt is not None and fmt.name == expected[name], name
        skipped: dict[str, int] = {}
        examples = list(parse_examples(iter(recs), fmt, SECTIONS, skipped))
        assert len(examples) == len(recs) and not skipped, (name, skipped)
        if fmt.name == "lambada":
            assert all(e.choices[0] == " " + r["text"].rsplit(" ", 1)[1] for e, r in zip(examples, recs))


def test_no_duplicate_texts(records: dict[str, list[dict]]) -> None:
    lastword = [r["text"] for r in records[T.LASTWORD]]
    contexts = [r["ctx"] for n in (T.CONTINUATION_TRAIN, T.CONTINUATION_TEST) for r in records[n]]
    topics = [r["text"] for n in (T.TOPIC_TRAIN, T.TOPIC_DEV, T.TOPIC_TEST) for r in records[n]]
    for texts in (lastword, contexts, topics):
        assert len(texts) == len(set(texts))


# ---- no task text in the training sample ---------------------------------------------

def _page_texts(path: pathlib.Path):
    """Text of every HTML response (tags removed): the article texts and everything around them."""
    with path.open("rb") as fh:
        try:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response" and rec.http_headers and \
                        "html" in (rec.http_headers.get_header("Content-Type") or ""):
                    page = rec.content_stream().read().decode("utf-8", "replace")
                    yield html.unescape(re.sub(r"<[^>]+>", " ", page))
        except ArchiveLoadFailed:  # the CC shard's malformed tail and the truncated shard's cut record
            pass


@pytest.fixture(scope="module")
def training_13grams() -> set[str]:
    grams: set[str] = set()
    for name in WARCS:
        for text in _page_texts(SAMPLES / name):
            w = words(text)
            grams.update(" ".join(w[i:i + 13]) for i in range(len(w) - 12))
    return grams


def test_no_13gram_of_a_task_text_is_in_the_training_warcs(records: dict[str, list[dict]],
                                                         training_13grams: set[str]) -> None:
    texts = task_texts(records)
    assert len(texts) == 300 + 4 * 360 + 1600
    hits = []
    for text in texts:
        w = words(text)
        hits += [" ".join(w[i:i + 13]) for i in range(len(w) - 12) if " ".join(w[i:i + 13]) in training_13grams]
    assert not hits, hits[:5]


def test_the_generators_check_is_needed_and_at_least_as_strict(training_13grams: set[str]) -> None:
    """Not vacuous: new articles from the same generator do collide with the corpus (hand-written
    facts, quotes and frames recur), and the generator's own check flags every sentence that the
    independent check above flags."""
    prose = ProseGenerator()
    sentences = [s for i in range(30) for kind, p in prose.article(gen.rng_for("test-tasks", i)).blocks
                 if kind == "p" for s in T.split_sentences(str(p))]

    def collides(text: str) -> bool:
        w = words(text)
        return any(" ".join(w[i:i + 13]) in training_13grams for i in range(len(w) - 12))

    flagged = [s for s in sentences if collides(s)]
    assert len(flagged) > len(sentences) // 10
    corpus = T.CorpusNgrams.from_warcs([SAMPLES / name for name in WARCS])
    assert all(corpus.overlaps(s) for s in flagged)


def test_split_sentences_keeps_quotes_whole() -> None:
    text = ('"We tried. It worked," says Okafor. She shrugs. "Why not?" Nobody answers. '
            'It cost $3.5 million.')
    assert T.split_sentences(text) == ['"We tried. It worked," says Okafor.', "She shrugs.", '"Why not?"',
                                       "Nobody answers.", "It cost $3.5 million."]
    assert T.introduces_everyone("Mara Okafor laughs. Okafor shrugs.")
    assert not T.introduces_everyone("Okafor shrugs. Mara Okafor laughs.")


def test_generator_words_are_the_decontamination_words() -> None:
    """The generator restates corpus.text.words (data/ does not import the package); they must agree,
    typographic apostrophes, accents, ligatures and other scripts included."""
    for text in ("The archive\u2019s budget", "Caf\u00e9 na\u00efve \ufb01sh", "\u041c\u0438\u0440 \u0434\u043e\u043c",
                 "snake_case &amp; 3.5 million", "\u201cWe tried,\u201d she said \u2014 twice"):
        assert T.matching_words(text) == words(text), text
