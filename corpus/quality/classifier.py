"""GPT-3's quality filter, scoring side: the fastText classifier's view of a text, its score, and the
Pareto resampling rule that keeps a document with probability rising steeply with its score.

`QualityScorer` (a step named "quality") sets `doc.quality_score` = P(high quality) on every
document and keeps it by GPT-3's rule `np.random.pareto(alpha) > 1 - score` (alpha = 9), drawn
deterministically from the document id (`pareto_keep`), or by a plain threshold. Training the
classifier is `corpus.quality.training`.

P(keep): numpy's `pareto(a)` is the Lomax distribution, P(X > x) = (1 + x)^-a, so with
x = 1 - s, P(keep | s) = (2 - s)^-alpha: 1.0 at s = 1, 0.42 at 0.9, 0.15 at 0.8, 0.026 at 0.5,
0.002 at 0.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from corpus.filters.pii import EMAIL, IPV4, IPV6
from corpus.records import Document
from corpus.steps import Filter

HQ, LQ = "__label__hq", "__label__lq"
_TOKEN = re.compile(r"\w+|[^\w\s]")
DEFAULT_MAX_WORDS = 1000  # words of a document the classifier reads, unless its card says otherwise


# ---------------------------------------------------------------------------------------------
# Text as the classifier sees it.

# What `preprocess` does; written into the model's card and the trained model's reuse stamp, so a
# model trained with another preprocessing is retrained rather than scored with this one.
PREPROCESSING_VERSION = 2
PREPROCESSING_RULE = ("e-mail addresses -> __email__, IP addresses -> __ip__ (the PII patterns, placeholders "
                      "included); lowercase; tokens \\w+ or one punctuation char; space-joined")
EMAIL_TOKEN, IP_TOKEN = " __email__ ", " __ip__ "


def _ip_token(match: re.Match) -> str:
    """Any valid address, public, private or a documentation stand-in, is the same token."""
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)  # `12:30:45`, `999.1.1.1`: not an address
    return IP_TOKEN


def normalize_pii(text: str) -> str:
    """E-mail and IP addresses, raw or already replaced by `PIIAnonymizer`'s stand-ins, as one token each.

    The positives (WebText shards) went through `PIIAnonymizer`, the negatives (raw crawl text,
    tapped before it) did not: without this, `email@example.com` alone would read as "high
    quality" and a real address as "low". The patterns are the anonymiser's own, so whatever it
    replaces is matched here too.
    """
    text = EMAIL.sub(EMAIL_TOKEN, text)
    text = IPV4.sub(_ip_token, text)
    return IPV6.sub(_ip_token, text)


def preprocess(text: str, max_words: int = 1000) -> str:
    """One line for fastText: PII as one token, lowercase, punctuation split off words, at most
    `max_words` tokens. Used for the training lines of both classes and for scoring alike.

    fastText splits on whitespace only, so "word," and "word" would be different features;
    splitting punctuation into tokens keeps its signal ("!!!", "$") without that sparsity.
    The text is cut to ~12 characters per token first so a huge page costs no more than a
    normal one.
    """
    tokens = _TOKEN.findall(normalize_pii(text[: max_words * 12]).lower())
    return " ".join(tokens[:max_words])


# ---------------------------------------------------------------------------------------------
# The keep rule.

def pareto_draw(doc_id: str, alpha: float = 9.0, seed: int = 0) -> float:
    """A draw of `np.random.pareto(alpha)` (Lomax) that depends only on the id and the seed.

    The uniform comes from blake2b(seed, id) and goes through the inverse CDF,
    x = (1 - u)^(-1/alpha) - 1. Same distribution as numpy's sampler, but reproducible across
    processes, worker counts and numpy versions (numpy does not promise its Generator streams
    stay the same across releases), and ~20x cheaper than seeding a Generator per document.
    """
    digest = hashlib.blake2b(f"{seed}\x00{doc_id}".encode("utf-8"), digest_size=8).digest()
    u = (int.from_bytes(digest, "little") >> 11) * 2.0**-53  # uniform in [0, 1), 53 bits
    return (1.0 - u) ** (-1.0 / alpha) - 1.0


def pareto_keep(doc_id: str, score: float, alpha: float = 9.0, seed: int = 0) -> bool:
    """GPT-3's rule: keep iff pareto(alpha) > 1 - score. P(keep) = (2 - score)^-alpha."""
    return pareto_draw(doc_id, alpha, seed) > 1.0 - score


def keep_probability(score: float | np.ndarray, alpha: float = 9.0) -> float | np.ndarray:
    """P(pareto(alpha) > 1 - s) = (2 - s)^-alpha for s in [0, 1]."""
    return (2.0 - np.asarray(score, dtype=float)) ** -alpha


# ---------------------------------------------------------------------------------------------
# The model and its card.

def card_path_for(model_path: Path | str) -> Path:
    """The card beside a model: quality.bin -> quality.card.json."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".card.json")


# ---------------------------------------------------------------------------------------------
# Scoring.

@lru_cache(maxsize=4)
def load_quality_model(path: str, mtime_ns: int = 0):
    """Load a fastText model once per process (and again if the file changed: `mtime_ns`)."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    return fasttext.load_model(path)


def hq_probabilities(model, lines: Sequence[str]) -> np.ndarray:
    """P(hq) of preprocessed lines, in [0, 1]."""
    labels, probs = model.predict(list(lines), k=-1)
    out = np.empty(len(lines), dtype=np.float64)
    for i, (labs, ps) in enumerate(zip(labels, probs)):
        p = dict(zip(labs, ps))
        out[i] = p[HQ] if HQ in p else 1.0 - p.get(LQ, 0.5)
    return np.clip(out, 0.0, 1.0)


@dataclass
class QualityConfig:
    """How `QualityScorer` scores and keeps documents.

    mode: "pareto" (GPT-3: keep iff pareto(alpha) > 1 - score, per-id deterministic),
    "threshold" (keep iff score >= threshold), or "score" (score only, keep everything).
    """

    model_path: str
    mode: str = "pareto"
    alpha: float = 9.0
    threshold: float = 0.5
    seed: int = 0
    max_words: int | None = None  # None: the card's value (what the model was trained on)


MODES = ("pareto", "threshold", "score")


class QualityScorer(Filter):
    """Sets `quality_score` on every document and keeps by the configured rule.

    Drop reasons: "quality_pareto", "quality_threshold". The model is loaded lazily, once per
    process. Score histogram: `stats.histograms["quality_score"]` (all scored documents).
    """

    name = "quality"

    def __init__(self, config: QualityConfig) -> None:
        super().__init__()
        if config.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {config.mode!r}")
        self.config = config
        self._model = None
        self._max_words = config.max_words

    def _load(self):
        path = Path(self.config.model_path)
        if self._max_words is None:
            card = card_path_for(path)
            card_words = json.loads(card.read_text()).get("preprocessing", {}).get("max_words") \
                if card.exists() else None
            self._max_words = card_words or DEFAULT_MAX_WORDS
        self._model = load_quality_model(str(path), path.stat().st_mtime_ns)

    def score(self, text: str) -> float:
        """P(high quality) of one text."""
        if self._model is None:
            self._load()
        return float(hq_probabilities(self._model, [preprocess(text, self._max_words)])[0])

    def filter(self, doc: Document) -> bool | str:
        doc.quality_score = self.score(doc.text)
        self.stats.observe("quality_score", doc.quality_score)
        mode = self.config.mode
        if mode == "pareto":
            return True if pareto_keep(doc.id, doc.quality_score, self.config.alpha, self.config.seed) \
                else "quality_pareto"
        if mode == "threshold":
            return True if doc.quality_score >= self.config.threshold else "quality_threshold"
        return True


