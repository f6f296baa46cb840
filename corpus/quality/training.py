"""GPT-3's quality filter, training side: a fastText classifier of WebText-like vs raw Common Crawl text.

    python -m corpus.quality train --positive data/shards/webtext --negative data/work/cc_raw \\
        --output data/models/quality.bin

Training (`train_quality_classifier`) reads the `text` column of Parquet folders, balances the
two classes by down-sampling the larger one (seeded), holds out a share for evaluation, trains
fastText in a fresh subprocess (see `_run_worker` for why), and writes the model and a JSON card
beside it (`quality.card.json` for `quality.bin`) with the data, sizes, parameters, metrics
(precision, recall, F1 at 0.5, ROC AUC) and library versions. `ensure_quality_model` is the
pipeline's stage: the given model, or one trained (and reused while its inputs stay the same),
with its held-out metrics; a model whose held-out ROC AUC is below the floor stops the run
(`WeakClassifierError`) unless the caller allows a weak one.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus.cli_flags import add_config_flags, config_from_flags, flag
from corpus.errors import UserError, user_errors
from corpus.quality.classifier import (
    DEFAULT_MAX_WORDS,
    HQ,
    LQ,
    PREPROCESSING_RULE,
    PREPROCESSING_VERSION,
    card_path_for,
    hq_probabilities,
    load_quality_model,
    preprocess,
)
from corpus.readers.shards import shard_paths
from corpus.writers.atomic import atomic_path, atomic_write_json
from corpus.writers.manifest import library_versions

log = logging.getLogger(__name__)

NAN_ERROR = "Encountered NaN"
TARGET_UPDATES = 500_000  # epochs x training documents, when the epochs are not given
MAX_AUTO_EPOCHS = 200


# ---------------------------------------------------------------------------------------------
# Training.

@dataclass
class QualityTrainConfig:
    """fastText and sampling parameters of the quality classifier."""

    # None: as many passes as `auto_epochs` gives for the training set's size.
    epochs: int | None = field(default=None, metadata=flag(
        f"fastText epochs; none: enough passes for ~{TARGET_UPDATES:,} document updates (5 at 100,000 "
        f"training documents, at most {MAX_AUTO_EPOCHS})", name="--epochs", minimum=1))
    lr: float = field(default=0.1, metadata=flag("fastText learning rate", name="--lr", minimum=0))
    word_ngrams: int = field(default=2, metadata=flag("word n-gram features", name="--word-ngrams",
                                                             aliases=("--wordNgrams",), minimum=1))
    dim: int = field(default=64, metadata=flag("vector size", name="--dim", minimum=1))
    min_count: int = field(default=2, metadata=flag("rarer words are ignored", name="--min-count", minimum=1))
    # Hash buckets for the n-gram features: model size is (words + bucket) x dim x 4 bytes
    # (fastText's default 2M buckets would make a 512 MB model at dim 64).
    bucket: int = field(default=200_000, metadata=flag("n-gram hash buckets", name="--bucket", minimum=1))
    loss: str = "softmax"
    threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1),
                         metadata=flag("fastText threads", name="--threads", minimum=1))
    seed: int = field(default=0, metadata=flag("sampling and fastText seed", name="--seed"))
    max_words: int = field(default=DEFAULT_MAX_WORDS, metadata=flag("words of a document read",
            name="--max-words", minimum=1))
    heldout: float = field(default=0.1, metadata=flag("share held out for the metrics",
            name="--heldout", minimum=0, maximum=1))
    # Down-sampled to the smaller class, and at most this many per class (the sample is held
    # in memory to be shuffled: ~6 KB per document at 1,000 words).
    max_docs_per_class: int = field(default=50_000, metadata=flag("documents per class at most",
            name="--max-docs-per-class", minimum=1))
    positive_balance: str = field(default="natural", metadata=flag(
        "with several positive corpora (GPT-3: WebText, Wikipedia, books): natural = sampled in proportion "
        "to their sizes; equal = the same number from each, so a small curated corpus counts as much",
        name="--positive-balance", choices=["natural", "equal"]))
    retries: int = 3


@dataclass
class TrainResult:
    model_path: Path
    card_path: Path
    metrics: dict[str, float]


def auto_epochs(n_train: int) -> int:
    """Passes over `n_train` training documents: ~`TARGET_UPDATES` updates, 5 to `MAX_AUTO_EPOCHS`.

    fastText's usual 5 passes suit ~100,000 documents. On a few hundred (the shipped sample's
    WebText) 5 passes at lr 0.1 barely move the model off its start: every score stays near 0.5,
    and GPT-3's rule, which needs scores near 1 to keep a document, keeps almost nothing. The
    cost is bounded: passes x documents never exceeds what 5 passes over 100,000 cost.
    """
    return max(5, min(MAX_AUTO_EPOCHS, math.ceil(TARGET_UPDATES / max(n_train, 1))))


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


def equal_quotas(available: Sequence[int], total: int) -> list[int]:
    """`total` documents shared equally over corpora holding `available` each; what a small corpus cannot
    give goes to the others (water-filling), so the sum is min(total, sum(available))."""
    quotas = [0] * len(available)
    left, open_ = min(total, sum(available)), [i for i, a in enumerate(available) if a > 0]
    while left > 0 and open_:
        share = max(1, left // len(open_))
        for i in list(open_):
            take = min(share, available[i] - quotas[i], left)
            quotas[i] += take
            left -= take
            if quotas[i] == available[i]:
                open_.remove(i)
            if left == 0:
                break
    return quotas


def _sample_positives(dirs: Sequence[Path | str], n: int, rng: random.Random, config: QualityTrainConfig
                      ) -> tuple[list[str], dict[str, dict[str, int]]]:
    """`n` positive texts: from all corpora as one pool ("natural"), or the same number from each
    ("equal"); and per corpus, the documents available and sampled."""
    paths = {str(d): shard_paths(d) for d in dirs}
    rows = {d: _count_rows(ps) if ps else 0 for d, ps in paths.items()}
    if config.positive_balance == "equal" and len(dirs) > 1:
        quotas = dict(zip(paths, equal_quotas(list(rows.values()), n)))
        texts, taken = [], {}
        for d, ps in paths.items():
            part = _sample_lines(ps, quotas[d], rng, config.max_words) if quotas[d] else []
            texts += part
            taken[d] = len(part)
    else:
        texts = _sample_lines([p for ps in paths.values() for p in ps], n, rng, config.max_words)
        taken = {d: None for d in paths}  # one pool: not attributed per corpus
    return texts, {d: {"available": rows[d], "sampled": taken[d]} for d in paths}


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
    pos, positive_corpora = _sample_positives(positive_dirs, per_class, rng, config)
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
        params = _fasttext_params(config, len(train))
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
                 "positive_corpora": positive_corpora, "positive_balance": config.positive_balance,
                 "available": available, "per_class": per_class,
                 "train": len(train), "heldout": int(held_labels.size)},
        "parameters": {**asdict(config), "fasttext": params},
        "preprocessing": {"version": PREPROCESSING_VERSION, "max_words": config.max_words,
                          "rule": PREPROCESSING_RULE},
        "metrics": metrics,
        "training_attempts": attempts,
        "bytes": output_path.stat().st_size,
        "versions": library_versions(),
    }
    card_path = card_path_for(output_path)
    atomic_write_json(card_path, card)
    log.info("quality classifier: %s", json.dumps(metrics))
    return TrainResult(output_path, card_path, metrics)


def _fasttext_params(config: QualityTrainConfig, n_train: int) -> dict[str, Any]:
    return {"epoch": config.epochs or auto_epochs(n_train), "lr": config.lr, "wordNgrams": config.word_ngrams,
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
    cmd = [sys.executable, "-m", "corpus.quality.training", "_train_worker", "--input", str(train_file),
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
# The pipeline's stage.

def _listing(dirs: Sequence[Path | str]) -> list[list]:
    return [[str(p), p.stat().st_size] for d in dirs for p in shard_paths(d)]


DEFAULT_MIN_AUC = 0.8  # below this, GPT-3's rule keeps documents little better than at random


class WeakClassifierError(UserError):
    """The quality classifier's held-out ROC AUC is below the floor, or could not be measured.

    A `UserError`: the command lines show it as one line (the AUC, the floor, where the card
    is, how to go on anyway) and exit with status 2.
    """


@dataclass
class QualityModel:
    """The classifier a run scores with, and how good it measured on held-out documents."""

    path: Path
    source: str                     # "given" (--quality-model), "trained" now, or "reused" from an earlier run
    metrics: dict[str, Any]         # the card's held-out metrics; {} for a given model without a card
    min_auc: float = DEFAULT_MIN_AUC
    allow_weak: bool = False

    def __fspath__(self) -> str:
        """Usable wherever the model's path is: `open(model)`, `Path(model)`, `str(model)`."""
        return str(self.path)

    __str__ = __fspath__

    @property
    def roc_auc(self) -> float | None:
        """Held-out ROC AUC, None when unknown (no card, or too few held-out documents)."""
        auc = self.metrics.get("roc_auc")
        return None if auc is None or auc != auc else float(auc)  # NaN: a class had no held-out docs

    @property
    def weak(self) -> bool:
        """Below the floor, or trained here and not measurable: either way not shown to work."""
        if self.roc_auc is None:
            return self.source != "given"  # a model the user chose, without a card, is taken on trust
        return self.roc_auc < self.min_auc

    def manifest_entry(self) -> dict[str, Any]:
        """What the manifest and the report show about the classifier."""
        return {"model": str(self.path), "source": self.source, "roc_auc": self.roc_auc,
                "min_auc": self.min_auc, "weak": self.weak, "allowed_weak": self.allow_weak and self.weak,
                "card": str(card_path_for(self.path)) if card_path_for(self.path).exists() else None,
                # NaN (a class without held-out documents) is not JSON: null instead.
                "metrics": {k: None if isinstance(v, float) and v != v else v for k, v in self.metrics.items()}}

    def check(self) -> None:
        """Raise `WeakClassifierError` if the classifier is weak and a weak one is not allowed."""
        if not self.weak:
            if self.roc_auc is None:
                log.warning("quality model %s has no card: its held-out ROC AUC is unknown", self.path)
            return
        card = card_path_for(self.path)
        n = self.metrics.get("n_heldout", 0)
        measured = (f"held-out ROC AUC {self.roc_auc:.3f} is below {self.min_auc:g}" if self.roc_auc is not None
                    else "held-out ROC AUC could not be measured")
        if self.allow_weak:
            log.warning("quality classifier: %s; going on as allowed (card: %s)", measured, card)
            return
        raise WeakClassifierError(
            f"quality classifier: {measured} ({n} held-out documents, card: {card}); its scores would keep "
            f"documents little better than at random: give it more or better --quality-positive text, "
            f"or pass --allow-weak-classifier (or lower --min-quality-auc) to go on")


def _card_metrics(model_path: Path) -> dict[str, Any]:
    card = card_path_for(model_path)
    if not card.exists():
        return {}
    try:
        return dict(json.loads(card.read_text()).get("metrics") or {})
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("quality model card %s unreadable (%s): held-out metrics unknown", card, exc)
        return {}


def ensure_quality_model(model: str | None, positive_dirs: Sequence[str], negative_dir: Path,
                         work_dir: Path, config: QualityTrainConfig | None = None, *,
                         min_auc: float = DEFAULT_MIN_AUC, allow_weak: bool = False) -> QualityModel | None:
    """The model to score with and its held-out metrics: `model` if given; else one trained on
    `positive_dirs` (WebText) against the raw text in `negative_dir`, as GPT-3 did; None when
    there are no positives.

    A trained model is kept in `work_dir` with the list of files it was trained on and reused
    while those stay the same: retraining (multi-threaded fastText is not bit-reproducible)
    would make a restarted run differ from an uninterrupted one.

    Raises `WeakClassifierError` when the held-out ROC AUC (from the model's card) is below
    `min_auc`, or could not be measured for a model trained here, unless `allow_weak`. A weak
    model is still kept, so a rerun that allows it reuses it instead of training again.
    """
    if model:
        path = Path(model)
        found = QualityModel(path, "given", _card_metrics(path), min_auc, allow_weak)
        found.check()
        return found
    positives = [d for d in positive_dirs if Path(d).exists() and shard_paths(d)]
    if not positives:
        log.warning("no quality model given and no WebText shards in %s: quality filter skipped",
                    list(positive_dirs))
        return None
    path = work_dir / "quality.bin"
    stamp = work_dir / "quality.inputs.json"
    inputs = {"positive": _listing(positives), "negative": _listing([negative_dir]),
              "preprocessing": PREPROCESSING_VERSION}
    if config is not None and config.positive_balance != "natural":  # older stamps stay valid
        inputs["positive_balance"] = config.positive_balance
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()) == inputs:
        log.info("reusing the quality classifier trained earlier: %s", path)
        found = QualityModel(path, "reused", _card_metrics(path), min_auc, allow_weak)
    else:
        log.info("training the quality classifier: %s (positive) vs raw crawl text (negative)", positives)
        result = train_quality_classifier(positives, [negative_dir], path, config)
        atomic_write_json(stamp, inputs)
        found = QualityModel(path, "trained", result.metrics, min_auc, allow_weak)
    print(f"quality classifier: {json.dumps(found.metrics)}  (card: {card_path_for(path)})")
    found.check()
    return found


# ---------------------------------------------------------------------------------------------
# Command line.

def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m corpus.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the quality classifier")
    t.add_argument("--positive", nargs="+", required=True, metavar="DIR",
                   help="Parquet folders of high-quality text (WebText shards, ...)")
    t.add_argument("--negative", nargs="+", required=True, metavar="DIR",
                   help="Parquet folders of raw extracted Common Crawl text")
    t.add_argument("--output", required=True, metavar="PATH", help="model path (.bin, or .ftz to quantize)")
    add_config_flags(t, QualityTrainConfig)
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
    config = config_from_flags(QualityTrainConfig, a)
    with user_errors("python -m corpus.quality train"):
        missing = [d for d in [*a.positive, *a.negative] if not shard_paths(d)]
        if missing:
            raise UserError(f"no Parquet shards in {', '.join(missing)}")
        result = train_quality_classifier(a.positive, a.negative, a.output, config)
    m = result.metrics
    print(f"model: {result.model_path}  card: {result.card_path}")
    print(f"held-out ({m.get('n_heldout', 0)} docs): precision {m.get('precision')}  recall {m.get('recall')}  "
          f"F1 {m.get('f1')}  accuracy {m.get('accuracy')}  ROC AUC {m.get('roc_auc')}")
    if QualityModel(result.model_path, "trained", m).weak:
        print(f"warning: held-out ROC AUC below {DEFAULT_MIN_AUC:g}: the pipelines stop on this model "
              f"unless told --allow-weak-classifier")


if __name__ == "__main__":
    main()
