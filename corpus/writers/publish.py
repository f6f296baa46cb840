"""The end of every run: final shards, manifest and report in the output folder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from corpus.records import Document
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_json
from corpus.writers.manifest import build_manifest
from corpus.writers.report import write_report
from corpus.writers.shard_writer import ShardFile, ShardWriter

log = logging.getLogger(__name__)


def publish(docs: Iterable[Document], out_dir: Path, pipeline: str, inputs: list[str],
            parameters: dict[str, Any], steps: Callable[[], list[StepStats]], max_file_bytes: int = 256 << 20,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write `docs` as shards, then `manifest.json` and `report.html`; returns the manifest.

    Shards of an earlier run are removed first, so a rerun never mixes old and new files; the
    manifest is written last, so its presence means the shards beside it are complete.
    `steps` returns the run's counters; it is called after the documents are consumed, since the
    counters of lazy steps are only complete then.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)
    for old in out_dir.glob("part-*.parquet"):
        old.unlink()
    with ShardWriter(out_dir, prefix="part", max_file_bytes=max_file_bytes) as writer:
        writer.write_all(tqdm(docs, desc="writing shards", unit="doc"))
    files: list[ShardFile] = writer.files
    stats = steps()
    manifest = build_manifest(pipeline, inputs, parameters, [s.to_dict(details=False) for s in stats],
                              [f.to_dict(out_dir) for f in files], extra)
    write_report(out_dir, manifest, stats, [f.path for f in files])
    atomic_write_json(out_dir / "manifest.json", manifest)
    return manifest


def print_summary(manifest: dict[str, Any], out_dir: Path) -> None:
    """The few lines a person reads at the end of a run."""
    print(f"\n{manifest['pipeline']}: {manifest['rows']:,} documents in {len(manifest['files'])} shard(s)")
    for s in manifest["steps"]:
        drops = ", ".join(f"{r}={n}" for r, n in sorted(s["dropped"].items(), key=lambda kv: -kv[1]))
        print(f"  {s['name']:<16} in {s['in']:>7,}  out {s['out']:>7,}  {drops}")
    print(f"shards:   {out_dir}/part-*.parquet\nmanifest: {out_dir / 'manifest.json'}\n"
          f"report:   {out_dir / 'report.html'}")
