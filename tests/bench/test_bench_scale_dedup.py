"""The measuring side of bench/bench_scale_dedup.py: the ground-truth evaluation and the process-tree
memory poll (the measured dedup itself is run by hand: it is the library under test elsewhere)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen = _load("make_synthetic_corpus")
bench = _load("bench_scale_dedup")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "c"
    gen.generate(gen.CorpusSpec(1000, seed=1, docs_per_part=500), out, workers=1, quiet=True)
    return out


def _write_ids(path: Path, ids: list[str]) -> Path:
    pq.write_table(pa.table({"id": pa.array(ids, pa.string())}), path)
    return path


def test_evaluate_counts_recall_false_positives_and_the_keep_rule(corpus, tmp_path):
    truth = pq.read_table(corpus / "truth").to_pylist()
    unique_ids = [i for i in pq.read_table(corpus / "parts", columns=["id"]).column("id").to_pylist()
                  if i not in {r["id"] for r in truth}]
    exact_copies = [r["id"] for r in truth if r["kind"] == "exact" and r["member"] > 0]
    # Near clusters at 0.9: drop all but the best; at 0.6: drop the whole cluster (wiped).
    near: dict[int, list[dict]] = {}
    for r in truth:
        if r["kind"] == "near":
            near.setdefault(r["cluster"], []).append(r)
    high = [sorted(c, key=lambda r: -r["quality_score"]) for c in near.values()
            if max(r["jaccard"] or 0 for r in c) > 0.85]
    low = [c for c in near.values() if max(r["jaccard"] or 0 for r in c) < 0.65]
    near_drops = [r["id"] for c in high for r in c[1:]] + [r["id"] for r in low[0]]
    template = [r["id"] for r in truth if r["kind"] == "template"][:2]
    dropped = _write_ids(tmp_path / "dropped.parquet", exact_copies + near_drops + template + unique_ids[:3])

    q = bench.evaluate(corpus / "truth", dropped, 1000)

    assert q["exact"]["recall"] == 1.0 and q["exact"]["wiped"] == 0
    assert q["exact"]["removed"] == q["exact"]["removable"] == len(exact_copies) > 0
    assert q["near"]["0.9"]["recall"] == 1.0 and q["near"]["0.9"]["best_kept"] == 1.0
    assert q["near"]["0.6"]["wiped"] == 1 and q["near"]["0.6"]["removed"] == len(low[0]) - 1
    assert q["near"]["0.8"]["removed"] == 0
    assert q["template"]["removed"] == 2 and q["unique"]["removed"] == 3
    assert q["dropped"] == len(exact_copies) + len(near_drops) + 5
    assert q["coverage"] == (1000 - q["dropped"]) / 1000


def test_tree_rss_sums_the_descendants():
    child = subprocess.Popen([sys.executable, "-c", "import time; b = b'x' * (200 << 20); time.sleep(60)"])
    try:
        poll = bench.TreePeak(os.getpid(), interval=0.05)
        poll.start()
        # The child's 200 MB counts in this process's tree once written (polled: no timing assumed).
        for _ in range(1200):
            total, own = bench.tree_rss(os.getpid())
            if total - own > 150 << 20 or child.poll() is not None:
                break
            time.sleep(0.05)
        poll.stop()
        assert total - own > 150 << 20
        assert poll.peak_tree >= poll.peak_driver > 0
    finally:
        child.kill()
        child.wait()
