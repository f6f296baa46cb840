"""GPT-3's quality filter: a fastText classifier (WebText-like vs raw Common Crawl) and the
Pareto resampling rule that keeps a document with probability rising steeply with its score.

    python -m corpus.quality train --positive data/shards/webtext --negative data/work/cc_raw \\
        --output data/models/quality.bin

Training (`train_quality_classifier`) reads the `text` column of Parquet folders, balances the
two classes by down-sampling the larger one (seeded), holds out a share for evaluation, trains
fastText in a fresh subprocess (see `_run_worker` for why), and writes the model and a JSON card
beside it (`quality.card.json` for `quality.bin`) with the data, sizes, parameters, metrics
(precision, recall, F1 at 0.5, ROC AUC) and library versions.

Scoring (`QualityScorer`, a step named "quality") sets `doc.quality_score` = P(high quality) on
every document and keeps it by GPT-3's rule `np.random.pareto(alpha) > 1 - score` (alpha = 9),
drawn deterministically from the document id (`pareto_keep`), or by a plain threshold.

P(keep): numpy's `pareto(a)` is the Lomax distribution, P(X > x) = (1 + x)^-a, so with
x = 1 - s, P(keep | s) = (2 - s)^-alpha: 1.0 at s = 1, 0.42 at 0.9, 0.15 at 0.8, 0.026 at 0.5,
0.002 at 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from corpus.readers.shards import shard_paths
from corpus.records import Document
from corpus.steps import Filter
from corpus.writers.atomic import atomic_path, atomic_write_json
from corpus.writers.manifest import library_versions

log = logging.getLogger(__name__)

HQ, LQ = "__label__hq", "__label__lq"
_TOKEN = re.compile(r"\w+|[^\w\s]")
NAN_ERROR = "Encountered NaN"


# ---------------------------------------------------------------------------------------------
# Text as the classifier sees it.

def preprocess(text: str, max_words: int = 1000) -> str:
    """One line for fastText: lowercase, punctuation split off words, at most `max_words` tokens.

    fastText splits on whitespace only, so "word," and "word" would be different features;
    splitting punctuation into tokens keeps its signal ("!!!", "$") without that sparsity.
    The text is cut to ~12 characters per token first so a huge page costs no more than a
    normal one.
    """
    tokens = _TOKEN.findall(text[: max_words * 12].lower())
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
# Training.

@dataclass
class QualityTrainConfig:
    """fastText and sampling parameters of the quality classifier."""

    epochs: int = 5
    lr: float = 0.1
    word_ngrams: int = 2
    dim: int = 64
    min_count: int = 2
    # Hash buckets for the n-gram features: model size is (words + bucket) x dim x 4 bytes
    # (fastText's default 2M buckets would make a 512 MB model at dim 64).
    bucket: int = 200_000
    loss: str = "softmax"
    threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    seed: int = 0
    max_words: int = 1000
    heldout: float = 0.1
    # Down-sampled to the smaller class, and at most this many per class (the sample is held
    # in memory to be shuffled: ~6 KB per document at 1,000 words).
    max_docs_per_class: int = 50_000
    retries: int = 3


@dataclass
class TrainResult:
    model_path: Path
    card_path: Path
    metrics: dict[str, float]


def card_path_for(model_path: Path | str) -> Path:
    """The card beside a model: quality.bin -> quality.card.json."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".card.json")


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > that of a random negative),
    ties counting one half (the Mann-Whitney U statistic with average ranks)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # Average rank of each distinct score: the ranks its ties occupy, 1-based.
    ends = np.cumsum(counts)
    avg_rank = ends - (counts - 1) / 2.0
    ranks = avg_rank[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def classification_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Precision, recall, F1 and accuracy of the positive class at `threshold`, and ROC AUC."""
    labels = np.asarray(labels, dtype=bool)
    pred = np.asarray(scores) >= threshold
    tp = int((pred & labels).sum())
    fp = int((pred & ~labels).sum())
    fn = int((~pred & labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "accuracy": round(float((pred == labels).mean()), 4) if labels.size else 0.0,
            "roc_auc": round(roc_auc(labels, scores), 4), "threshold": threshold,
            "n_heldout": int(labels.size), "n_heldout_positive": int(labels.sum())}


def _count_rows(paths: Sequence[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def _sample_lines(paths: Sequence[Path], n: int, rng: random.Random, max_words: int) -> list[str]:
    """Preprocessed texts of `n` rows drawn without replacement from `paths` (all if fewer).

    Only the row groups holding a chosen row are read: sampling 50k documents from a large raw
    crawl does not read all of its text.
    """
    import pyarrow.parquet as pq

    total = _count_rows(paths)
    chosen = sorted(rng.sample(range(total), min(n, total)))
    lines, first, k = [], 0, 0
    for path in paths:
        pf = pq.ParquetFile(path)
        for g in range(pf.num_row_groups):
            size = pf.metadata.row_group(g).num_rows
            wanted = []
            while k < len(chosen) and chosen[k] < first + size:
                wanted.append(chosen[k] - first)
                k += 1
            if wanted:
                texts = pf.read_row_group(g, columns=["text"]).column("text")
                for i in wanted:
                    line = preprocess(texts[i].as_py() or "", max_words)
                    if line:
                        lines.append(line)
            first += size
    return lines


def _data_paths(dirs: Sequence[Path | str]) -> list[Path]:
    paths = [p for d in dirs for p in shard_paths(d)]
    if not paths:
        raise FileNotFoundError(f"no Parquet files under {[str(d) for d in dirs]}")
    return paths


def train_quality_classifier(positive_dirs: Sequence[Path | str], negative_dirs: Sequence[Path | str],
                             output_path: Path | str, config: QualityTrainConfig | None = None
                             ) -> TrainResult:
    """Train the quality classifier and write the model and its card; returns the metrics.

    Positives (label hq): WebText and any other reference shards; negatives (label lq): raw
    extracted Common Crawl text. Both are Parquet folders with a `text` column. The larger
    class is down-sampled (seeded) to the smaller; `heldout` of each class is kept out of
    training for the metrics. A `.ftz` output path gives a quantized model (a few MB).
    """
    config = config or QualityTrainConfig()
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    pos_paths, neg_paths = _data_paths(positive_dirs), _data_paths(negative_dirs)
    available = {"positive": _count_rows(pos_paths), "negative": _count_rows(neg_paths)}
    per_class = min(available["positive"], available["negative"], config.max_docs_per_class)
    rng = random.Random(config.seed)
    pos = _sample_lines(pos_paths, per_class, rng, config.max_words)
    neg = _sample_lines(neg_paths, per_class, rng, config.max_words)
    per_class = min(len(pos), len(neg))  # empty texts were skipped
    rng.shuffle(pos)  # read in file order: shuffle before taking the held-out share
    rng.shuffle(neg)
    pos, neg = pos[:per_class], neg[:per_class]
    n_held = int(round(per_class * config.heldout))
    if per_class - n_held < 1:
        raise ValueError(f"too little data to train: {available}")
    train = [f"{HQ} {t}" for t in pos[n_held:]] + [f"{LQ} {t}" for t in neg[n_held:]]
    rng.shuffle(train)  # SGD with a decaying rate must not see one class first
    held_lines = pos[:n_held] + neg[:n_held]
    held_labels = np.array([True] * n_held + [False] * n_held)

    with tempfile.TemporaryDirectory(prefix="quality-", dir=output_path.parent) as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("\n".join(train) + "\n", encoding="utf-8")
        tmp_model = Path(tmp) / output_path.name
        params = _fasttext_params(config)
        attempts = _run_worker(train_file, tmp_model, params, quantize=output_path.suffix == ".ftz",
                               retries=config.retries)
        with atomic_path(output_path) as final_tmp:
            os.replace(tmp_model, final_tmp)

    model = load_quality_model(str(output_path), output_path.stat().st_mtime_ns)
    scores = hq_probabilities(model, held_lines) if held_lines else np.empty(0)
    metrics = classification_metrics(held_labels, scores) if held_lines else {}
    card = {
        "model": output_path.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "task": "P(high quality): WebText-like (hq) vs raw Common Crawl (lq), GPT-3 style",
        "labels": {"positive": HQ, "negative": LQ},
        "data": {"positive": [str(d) for d in positive_dirs], "negative": [str(d) for d in negative_dirs],
                 "files": {"positive": len(pos_paths), "negative": len(neg_paths)},
                 "available": available, "per_class": per_class,
                 "train": len(train), "heldout": int(held_labels.size)},
        "parameters": {**asdict(config), "fasttext": params},
        "preprocessing": {"max_words": config.max_words,
                          "rule": "lowercase; tokens \\w+ or one punctuation char; space-joined"},
        "metrics": metrics,
        "training_attempts": attempts,
        "bytes": output_path.stat().st_size,
        "versions": library_versions(),
    }
    card_path = card_path_for(output_path)
    atomic_write_json(card_path, card)
    log.info("quality classifier: %s", json.dumps(metrics))
    return TrainResult(output_path, card_path, metrics)


def _fasttext_params(config: QualityTrainConfig) -> dict[str, Any]:
    return {"epoch": config.epochs, "lr": config.lr, "wordNgrams": config.word_ngrams,
            "dim": config.dim, "minCount": config.min_count, "bucket": config.bucket,
            "loss": config.loss, "thread": config.threads, "seed": config.seed, "verbose": 0}


def _run_worker(train_file: Path, model_path: Path, params: dict[str, Any], quantize: bool,
                retries: int) -> int:
    """Train in a fresh Python process; retry when fastText reports "Encountered NaN".

    With numpy 2, fastText-numpy2-wheel's training sometimes diverges depending on what was
    left on the heap by earlier work in the same process (seen when training several times in
    one process, never in a fresh one): a fresh interpreter per training, plus a few retries,
    makes it reliable. Returns the number of attempts it took.
    """
    cmd = [sys.executable, "-m", "corpus.quality.classifier", "_train_worker", "--input", str(train_file),
           "--output", str(model_path), "--params", json.dumps(params)] + (["--quantize"] if quantize else [])
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])  # so `-m corpus.quality.classifier` resolves from any cwd
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for attempt in range(1, retries + 2):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode == 0 and model_path.exists():
            return attempt
        err = (proc.stderr or proc.stdout)[-2000:]
        if NAN_ERROR not in err:
            raise RuntimeError(f"fastText training failed (exit {proc.returncode}):\n{err}")
        log.warning("fastText: %s (attempt %d); retrying in a fresh process", NAN_ERROR, attempt)
    raise RuntimeError(f"fastText training diverged ({NAN_ERROR}) {retries + 1} times")


def _train_worker(input_path: str, output_path: str, params: dict[str, Any], quantize: bool) -> None:
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    model = fasttext.train_supervised(input=input_path, **params)
    if quantize:
        model.quantize(input=input_path, retrain=False, qnorm=True, cutoff=0)
    model.save_model(output_path)


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
            self._max_words = card_words or QualityTrainConfig.max_words
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


# ---------------------------------------------------------------------------------------------
# Command line.

def _parse(argv: list[str] | None) -> argparse.Namespace:
    d = QualityTrainConfig()
    p = argparse.ArgumentParser(prog="python -m corpus.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the quality classifier")
    t.add_argument("--positive", nargs="+", required=True, metavar="DIR",
                   help="Parquet folders of high-quality text (WebText shards, ...)")
    t.add_argument("--negative", nargs="+", required=True, metavar="DIR",
                   help="Parquet folders of raw extracted Common Crawl text")
    t.add_argument("--output", required=True, metavar="PATH", help="model path (.bin, or .ftz to quantize)")
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--wordNgrams", "--word-ngrams", dest="word_ngrams", type=int, default=d.word_ngrams)
    t.add_argument("--dim", type=int, default=d.dim)
    t.add_argument("--bucket", type=int, default=d.bucket)
    t.add_argument("--min-count", type=int, default=d.min_count)
    t.add_argument("--threads", type=int, default=d.threads)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--max-words", type=int, default=d.max_words)
    t.add_argument("--heldout", type=float, default=d.heldout)
    t.add_argument("--max-docs-per-class", type=int, default=d.max_docs_per_class)
    w = sub.add_parser("_train_worker", help=argparse.SUPPRESS)
    w.add_argument("--input", required=True)
    w.add_argument("--output", required=True)
    w.add_argument("--params", required=True)
    w.add_argument("--quantize", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    a = _parse(argv)
    if a.command == "_train_worker":
        _train_worker(a.input, a.output, json.loads(a.params), a.quantize)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = QualityTrainConfig(epochs=a.epochs, lr=a.lr, word_ngrams=a.word_ngrams, dim=a.dim,
                                bucket=a.bucket, min_count=a.min_count, threads=a.threads, seed=a.seed,
                                max_words=a.max_words, heldout=a.heldout,
                                max_docs_per_class=a.max_docs_per_class)
    result = train_quality_classifier(a.positive, a.negative, a.output, config)
    m = result.metrics
    print(f"model: {result.model_path}  card: {result.card_path}")
    print(f"held-out ({m.get('n_heldout', 0)} docs): precision {m.get('precision')}  recall {m.get('recall')}  "
          f"F1 {m.get('f1')}  accuracy {m.get('accuracy')}  ROC AUC {m.get('roc_auc')}")


if __name__ == "__main__":
    main()
