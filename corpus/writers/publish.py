"""The end of every run: the dataset folder.

    <output>/README.md          the dataset card (Hugging Face YAML header: features, sizes, recipe)
    <output>/manifest.json      inputs, parameters, versions, counters, files with checksums
    <output>/report.html        the funnel, histograms, examples of dropped documents
    <output>/data/part-*.parquet   the shards, and the only Parquet files in the folder

so `datasets.load_dataset(<output>)`, DuckDB's `read_parquet('<output>/**/*.parquet')` and
`pandas.read_parquet('<output>/data')` all read exactly the published rows. Work files (parts,
the classifier, the output's MinHash signatures) live in the run's work folder, outside.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from corpus.dedup.minhash import MinHashConfig
from corpus.dedup.signatures import write_signatures
from corpus.progress import progress
from corpus.records import Document
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_json
from corpus.writers.dataset_card import write_dataset_card
from corpus.writers.manifest import build_manifest
from corpus.writers.report import write_report
from corpus.writers.shard_writer import ShardFile, ShardWriter

log = logging.getLogger(__name__)

DATA_DIR = "data"  # the shards' folder inside the output (Hugging Face's layout)


def publish(docs: Iterable[Document], out_dir: Path, pipeline: str, inputs: list[str],
            parameters: dict[str, Any], steps: Callable[[], list[StepStats]], max_file_bytes: int = 256 << 20,
            extra: dict[str, Any] | None = None, signatures: Path | None = None,
            minhash: MinHashConfig | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Write `docs` as shards, then the output's signatures (if `signatures` names a file), the
    report, the dataset card and `manifest.json`; returns the manifest.

    Shards of an earlier run are removed first, so a rerun never mixes old and new files; the
    manifest is written last, so its presence means the shards beside it are complete.
    `steps` returns the run's counters; it is called after the documents are consumed, since the
    counters of lazy steps are only complete then. The signatures let another run deduplicate
    against this output (`--dedup-against`) without recomputing them; the manifest says where.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)
    data_dir = out_dir / DATA_DIR
    # Shards of an earlier run, here or where versions before 0.2 put them (the output's root).
    for old in [*data_dir.glob("part-*.parquet"), *out_dir.glob("part-*.parquet")]:
        old.unlink()
    with ShardWriter(data_dir, prefix="part", max_file_bytes=max_file_bytes) as writer:
        writer.write_all(progress(docs, enabled=show_progress, desc="writing shards", unit="doc"))
    files: list[ShardFile] = writer.files
    extra = dict(extra or {})
    if signatures is not None:
        write_signatures([f.path for f in files], signatures, minhash)
        extra["signatures"] = os.path.relpath(signatures, out_dir)
    stats = steps()
    manifest = build_manifest(pipeline, inputs, parameters, [s.to_dict(details=False) for s in stats],
                              [f.to_dict(out_dir) for f in files], extra)
    write_report(out_dir, manifest, stats, [f.path for f in files])
    write_dataset_card(out_dir, manifest)
    atomic_write_json(out_dir / "manifest.json", manifest)
    return manifest


def published_signatures(out_dir: Path | str) -> Path | None:
    """The signature file a finished output's manifest points to, if it is still there."""
    manifest = Path(out_dir) / "manifest.json"
    if not manifest.exists():
        return None
    rel = json.loads(manifest.read_text()).get("signatures")
    path = Path(out_dir) / rel if rel else None
    return path if path is not None and path.exists() else None


def print_summary(manifest: dict[str, Any], out_dir: Path) -> None:
    """The few lines a person reads at the end of a run."""
    print(f"\n{manifest['pipeline']}: {manifest['rows']:,} documents in {len(manifest['files'])} shard(s)")
    for s in manifest["steps"]:
        drops = ", ".join(f"{r}={n}" for r, n in sorted(s["dropped"].items(), key=lambda kv: -kv[1]))
        print(f"  {s['name']:<16} in {s['in']:>7,}  out {s['out']:>7,}  {drops}")
    print(f"shards:   {out_dir / DATA_DIR}/part-*.parquet\nmanifest: {out_dir / 'manifest.json'}\n"
          f"report:   {out_dir / 'report.html'}\ncard:     {out_dir / 'README.md'}")
