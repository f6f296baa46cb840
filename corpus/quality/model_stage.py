"""The classifier stage of GPT-3's recipe: use the given model, or train one first."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from corpus.quality.classifier import QualityTrainConfig, train_quality_classifier
from corpus.readers.shards import shard_paths
from corpus.writers.atomic import atomic_write_json

log = logging.getLogger(__name__)


def _listing(dirs: Sequence[Path | str]) -> list[list]:
    return [[str(p), p.stat().st_size] for d in dirs for p in shard_paths(d)]


def ensure_quality_model(model: str | None, positive_dirs: Sequence[str], negative_dir: Path,
                         work_dir: Path, config: QualityTrainConfig | None = None) -> Path | None:
    """The model to score with: `model` if given; else one trained on `positive_dirs` (WebText)
    against the raw text in `negative_dir`, as GPT-3 did; None when there are no positives.

    A trained model is kept in `work_dir` with the list of files it was trained on and reused
    while those stay the same: retraining (multi-threaded fastText is not bit-reproducible)
    would make a restarted run differ from an uninterrupted one.
    """
    if model:
        return Path(model)
    positives = [d for d in positive_dirs if Path(d).exists() and shard_paths(d)]
    if not positives:
        log.warning("no quality model given and no WebText shards in %s: quality filter skipped",
                    list(positive_dirs))
        return None
    path = work_dir / "quality.bin"
    stamp = work_dir / "quality.inputs.json"
    inputs = {"positive": _listing(positives), "negative": _listing([negative_dir])}
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()) == inputs:
        log.info("reusing the quality classifier trained earlier: %s", path)
        return path
    log.info("training the quality classifier: %s (positive) vs raw crawl text (negative)", positives)
    result = train_quality_classifier(positives, [negative_dir], path, config)
    atomic_write_json(stamp, inputs)
    print(f"quality classifier: {json.dumps(result.metrics)}  (card: {result.card_path})")
    return path
