"""Benchmark decontamination, GPT-3's rule (Brown et al. 2020, appendix C).

Words are `corpus.text.words` (normalised: "Café" and "cafe" are one word), as for exact dedup
and MinHash. For each training document, every word 13-gram that also occurs in a
benchmark is cut out together with 200 characters on either side (overlapping cuts merge);
this splits the document into pieces:

- a document split into more than 10 pieces is dropped ("contaminated_too_many_pieces");
- pieces shorter than 200 characters are dropped; if none is left, so is the document
  ("contaminated_all_pieces_short");
- the surviving pieces, joined by a blank line ("\\n\\n"), are the document's new text.

A "piece" is a non-empty stretch of the original text between cuts (or a cut and an end),
counted before short pieces are dropped. 13-grams that occur in more than 10 training documents
are ignored (they are boilerplate, not leaked test items). That needs a count over the whole
corpus first:

    index = BenchmarkIndex.from_files(["bench/lambada.jsonl"])           # once
    counts = count_ngram_documents(texts_of_one_part, index)             # map: per part
                                                                         # (pipelines/global_stage.py)
    ignored = frequent_ngrams(merge_counts(all_counts))                  # global
    step = Decontaminator(index, ignored)                                # map or global: cut

Benchmark files are read through the task registry that `model.evaluate` uses
(`corpus.benchmarks.task_texts`): a file in a known task format (LAMBADA, HellaSwag, PIQA, ARC,
classification, ...) gives every string a model is scored on; any other JSONL (optionally .gz) gives its
`fields` (default `text`; lists of strings too); a `.txt` gives one text per line. Benchmark texts shorter
than 13 words contribute nothing. Each n-gram remembers which benchmark(s) it came from, so the step's
counters (and the dataset card) say how many documents each benchmark touched ("docs_touched:<name>").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.benchmarks.registry import task_name, task_texts
from corpus.records import Document
from corpus.steps import Step
from corpus.text import word_spans, words


@dataclass(frozen=True)
class DecontaminationConfig:
    """GPT-3's numbers, all adjustable."""

    ngram: int = 13
    window: int = 200           # characters cut on either side of a colliding n-gram
    min_piece_chars: int = 200  # shorter pieces are dropped
    max_pieces: int = 10        # documents split into more pieces are dropped
    max_doc_frequency: int = 10  # n-grams in more training documents are ignored
    fields: tuple[str, ...] = ("text",)


def ngrams(words: Sequence[str], n: int) -> Iterator[str]:
    """Space-joined word n-grams, in order."""
    for i in range(len(words) - n + 1):
        yield " ".join(words[i:i + n])


def read_benchmark_texts(path: Path | str, fields: Sequence[str] = ("text",)) -> Iterator[str]:
    """Test texts of a benchmark file (see the module docstring)."""
    return task_texts(path, fields)


class BenchmarkIndex:
    """The word n-grams (default 13) of the benchmark texts, each with the benchmarks it occurs in.

    `grams` maps an n-gram to a bit set of indices into `names` (one bit per benchmark file).
    """

    def __init__(self, config: DecontaminationConfig | None = None) -> None:
        self.config = config or DecontaminationConfig()
        self.grams: dict[str, int] = {}
        self.names: list[str] = []
        self.texts = 0

    @classmethod
    def from_files(cls, paths: Iterable[Path | str], config: DecontaminationConfig | None = None
                   ) -> "BenchmarkIndex":
        index = cls(config)
        for path in paths:
            index.add_texts(read_benchmark_texts(path, index.config.fields), benchmark_name(path))
        return index

    @classmethod
    def from_texts(cls, texts: Iterable[str], config: DecontaminationConfig | None = None,
                   name: str = "texts") -> "BenchmarkIndex":
        index = cls(config)
        index.add_texts(texts, name)
        return index

    def add_texts(self, texts: Iterable[str], name: str = "texts") -> None:
        if name not in self.names:
            self.names.append(name)
        bit = 1 << self.names.index(name)
        grams = self.grams
        for text in texts:
            for g in ngrams(words(text), self.config.ngram):
                grams[g] = grams.get(g, 0) | bit
            self.texts += 1

    def __len__(self) -> int:
        return len(self.grams)

    def hits(self, words: Sequence[str]) -> list[tuple[int, str]]:
        """(word position, n-gram) of every benchmark n-gram occurring in `words`."""
        n, grams = self.config.ngram, self.grams
        return [(i, g) for i, g in enumerate(ngrams(words, n)) if g in grams]

    def sources(self, grams: Iterable[str]) -> list[str]:
        """The names of the benchmarks that `grams` come from."""
        bits = 0
        for g in grams:
            bits |= self.grams.get(g, 0)
        return [name for i, name in enumerate(self.names) if bits >> i & 1]


def benchmark_name(path: Path | str) -> str:
    """A benchmark file's name in counters and the dataset card: the task name `model.evaluate` uses."""
    return task_name(Path(path))


def count_ngram_documents(texts: Iterable[str], index: BenchmarkIndex) -> Counter:
    """Map stage: for each benchmark n-gram, the number of `texts` that contain it.

    Keys are the n-grams themselves (not ids), so counts from different processes, runs and
    benchmark-file orders merge and compare safely.
    """
    counts: Counter = Counter()
    for text in texts:
        found = {g for _, g in index.hits(words(text))}
        counts.update(found)
    return counts


def merge_counts(counts: Iterable[Counter]) -> Counter:
    """Global stage: the sum of the per-part counts."""
    total: Counter = Counter()
    for c in counts:
        total.update(c)
    return total


def frequent_ngrams(counts: Counter, max_doc_frequency: int = 10) -> frozenset[str]:
    """The n-grams found in more than `max_doc_frequency` training documents: to be ignored."""
    return frozenset(g for g, c in counts.items() if c > max_doc_frequency)


@dataclass
class Cut:
    """The outcome for one document."""

    text: str | None          # new text (pieces joined by "\n\n"), None if dropped
    reason: str | None        # drop reason, None if kept
    ngrams_cut: int = 0       # colliding n-gram occurrences
    ngrams_ignored: int = 0   # occurrences of frequent (ignored) n-grams
    pieces: int = 0           # pieces before short ones were dropped
    pieces_short: int = 0     # pieces dropped for being short
    chars_removed: int = 0    # characters of the original text not in the new text
    benchmarks: tuple[str, ...] = ()  # the benchmarks whose n-grams were cut


def cut_contamination(text: str, index: BenchmarkIndex, ignored: Collection[str] = frozenset()) -> Cut:
    """Apply GPT-3's rule to one text (see the module docstring)."""
    cfg = index.config
    words, spans = word_spans(text)
    hits = index.hits(words)
    n_ignored = sum(1 for _, g in hits if g in ignored)
    hits = [(i, g) for i, g in hits if g not in ignored]
    if not hits:
        return Cut(text, None, ngrams_ignored=n_ignored, pieces=1 if text else 0)
    # Cut [start of the n-gram - window, end of it + window), clipped; merge overlaps.
    cuts: list[list[int]] = []
    for i, _ in hits:
        lo = max(0, spans[i][0] - cfg.window)
        hi = min(len(text), spans[i + cfg.ngram - 1][1] + cfg.window)
        if cuts and lo <= cuts[-1][1]:
            cuts[-1][1] = max(cuts[-1][1], hi)
        else:
            cuts.append([lo, hi])
    pieces, pos = [], 0
    for lo, hi in cuts:
        if lo > pos:
            pieces.append(text[pos:lo])
        pos = hi
    if pos < len(text):
        pieces.append(text[pos:])
    kept = [p for p in pieces if len(p) >= cfg.min_piece_chars]
    result = Cut(None, None, ngrams_cut=len(hits), ngrams_ignored=n_ignored, pieces=len(pieces),
                 pieces_short=len(pieces) - len(kept), benchmarks=tuple(index.sources(g for _, g in hits)))
    if len(pieces) > cfg.max_pieces:
        result.reason = "contaminated_too_many_pieces"
    elif not kept:
        result.reason = "contaminated_all_pieces_short"
    else:
        result.text = "\n\n".join(kept)
        result.chars_removed = len(text) - sum(map(len, kept))
    return result


class Decontaminator(Step):
    """Cuts benchmark n-grams out of documents (GPT-3's rule); a step named "decontaminate".

    Drop reasons: "contaminated_too_many_pieces", "contaminated_all_pieces_short". Counts:
    "docs_cut" (kept, with text removed), "ngrams_cut", "ngrams_ignored_frequent",
    "pieces_dropped_short", "chars_removed" (from kept documents), and per benchmark
    "docs_touched:<name>" (documents cut or dropped because of that benchmark's n-grams).
    """

    name = "decontaminate"

    def __init__(self, index: BenchmarkIndex, ignored: Collection[str] = frozenset()) -> None:
        super().__init__()
        self.index = index
        self.ignored = frozenset(ignored)

    def _apply(self, text: str) -> Cut:
        cut = cut_contamination(text, self.index, self.ignored)
        c = self.stats.counts
        if cut.ngrams_cut:
            c["ngrams_cut"] += cut.ngrams_cut
            c["pieces_dropped_short"] += cut.pieces_short
            for name in cut.benchmarks:
                c[f"docs_touched:{name}"] += 1
        if cut.ngrams_ignored:
            c["ngrams_ignored_frequent"] += cut.ngrams_ignored
        if cut.reason is None and cut.ngrams_cut:
            c["docs_cut"] += 1
            c["chars_removed"] += cut.chars_removed
        return cut

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            self.stats.n_in += 1
            cut = self._apply(doc.text)
            if cut.reason is not None:
                self.stats.drop(cut.reason, doc=doc)
                continue
            doc.text = cut.text
            self.stats.keep(doc)
            yield doc
