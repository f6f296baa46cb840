"""The end of every run: the dataset folder.

    <output>/README.md          the dataset card (Hugging Face YAML header: features, sizes, recipe)
    <output>/manifest.json      inputs, parameters, versions, counters, files with checksums
    <output>/report.html        the funnel, histograms, examples of dropped documents
    <output>/data/part-*.parquet   the shards, and the only Parquet files in the folder

so `datasets.load_dataset(<output>)`, DuckDB's `read_parquet('<output>/**/*.parquet')` and
`pandas.read_parquet('<output>/data')` all read exactly the published rows. Work files (parts,
the classifier, the output's MinHash signatures) live in the run's work folder, outside.

The folder is written as a whole beside the old one and swapped in at the end (`Staging`).
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_json, fsync_dir
from corpus.writers.dataset_card import write_dataset_card
from corpus.writers.manifest import build_manifest
from corpus.writers.report import write_report
from corpus.writers.shard_writer import ShardFile

log = logging.getLogger(__name__)

DATA_DIR = "data"  # the shards' folder inside the output (Hugging Face's layout)


class Staging:
    """The output folder being written beside the real one, and swapped in when complete.

    `<parent>/.<name>.staging/` (hidden: a reader of the parent, such as the trainer's
    `--data data/shards`, skips it). Until `swap`, the previous output stays complete and
    readable; the swap is one atomic exchange of the two folders (Linux `renameat2`), so a crash
    at any moment leaves either the old output or the new one in place, never neither. A staging
    folder of a killed run is kept when `stamp` (what the run's output depends on) is the same,
    so a rerun finishes it instead of starting over; otherwise it is cleared.
    """

    def __init__(self, out_dir: Path | str, stamp: dict[str, Any]) -> None:
        self.out = Path(out_dir)
        self.path = self.out.parent / f".{self.out.name}.staging"
        previous = self.out.parent / f".{self.out.name}.previous"
        if previous.exists() and not self.out.exists():
            previous.rename(self.out)  # a swap without renameat2 was cut between its two renames
        shutil.rmtree(previous, ignore_errors=True)
        marker = self.path / ".stamp.json"
        wanted = json.loads(json.dumps(stamp, sort_keys=True, default=str))
        if self.path.exists() and (not marker.exists() or json.loads(marker.read_text()) != wanted):
            shutil.rmtree(self.path)
        (self.path / DATA_DIR).mkdir(parents=True, exist_ok=True)
        atomic_write_json(marker, wanted)

    @property
    def data_dir(self) -> Path:
        return self.path / DATA_DIR

    def swap(self) -> None:
        """Put the staged output in place of the old one (atomically), then delete the old one."""
        (self.path / ".stamp.json").unlink()
        fsync_dir(self.path)
        old = self.path  # after an exchange, the old output is where the staging folder was
        if not self.out.exists():
            self.path.rename(self.out)
        elif not _exchange(self.path, self.out):
            old = self.out.parent / f".{self.out.name}.previous"
            self.out.rename(old)
            self.path.rename(self.out)
        fsync_dir(self.out.parent)
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where the
    system or filesystem cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, f"cannot swap {a} and {b}: {os.strerror(err)}")


def finish_output(staging: Staging, pipeline: str, inputs: list[str], parameters: dict[str, Any],
                  stats: list[StepStats], files: list[ShardFile], extra: dict[str, Any]) -> dict[str, Any]:
    """The report, the dataset card and `manifest.json` beside the staged shards, then the swap;
    returns the manifest. The manifest is written last, so its presence means the shards beside
    it are complete."""
    manifest = build_manifest(pipeline, inputs, parameters, [s.to_dict(details=False) for s in stats],
                              [f.to_dict(staging.path) for f in files], extra)
    write_report(staging.path, manifest, stats, [f.path for f in files])
    write_dataset_card(staging.path, manifest)
    atomic_write_json(staging.path / "manifest.json", manifest)
    staging.swap()
    return manifest


def published_signatures(out_dir: Path | str) -> Path | None:
    """The signatures (a file or a folder of them) a finished output's manifest points to, if
    they are still there."""
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
