"""What every executor shares: the map task's contract, parts, and restart markers.

A map task turns one input into documents; it runs in whatever process the executor chooses.
Each finished input leaves a `.done.json` marker beside its part, holding the step counters;
a restarted run skips inputs with a marker and redoes the others from scratch, so a killed run
loses at most the inputs in flight and never writes a document twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.progress import progress
from corpus.records import Document
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_json
from corpus.writers.shard_writer import ShardWriter

log = logging.getLogger(__name__)

# A map task turns one input into documents; the counters fill as the documents are consumed.
MapTask = Callable[[str], tuple[Iterator[Document], list[StepStats]]]
# A file task `fn(src, dst)` writes `dst` atomically; `src` is any picklable value (a part's path,
# a band range, a partition number), so that any worker on any machine can be handed it.
FileTask = Callable[[Any, Path], Any]


@dataclass
class PartResult:
    """What one input produced: its part files and its per-step counters."""

    input: str
    files: list[Path]
    stats: list[StepStats]


def part_key(input_path: str) -> str:
    """A folder name for an input's part: readable, and unique even for equal file names."""
    digest = hashlib.sha1(input_path.encode("utf-8")).hexdigest()[:10]
    stem = Path(input_path.split("#", 1)[0]).name.split(".")[0][:40]
    return f"{stem}-{digest}"


def process_input(task: MapTask, input_path: str, parts_dir: Path, show_progress: bool = False) -> PartResult:
    """Run `task` over one input and write its documents as a part, then mark it done."""
    key = part_key(input_path)
    part_dir = parts_dir / key
    shutil.rmtree(part_dir, ignore_errors=True)  # leftovers of a killed attempt
    docs, stats = task(input_path)
    if show_progress:
        docs = progress(docs, desc=Path(input_path).name, unit="doc", leave=False)
    with ShardWriter(part_dir, prefix="part") as writer:
        writer.write_all(docs)
    files = writer.files
    atomic_write_json(parts_dir / f"{key}.done.json", {
        "input": input_path,
        "files": [str(f.path.relative_to(parts_dir)) for f in files],
        "stats": [s.to_dict() for s in stats],
    })
    return PartResult(input_path, [f.path for f in files], stats)


def load_done(parts_dir: Path, input_path: str) -> PartResult | None:
    marker = parts_dir / f"{part_key(input_path)}.done.json"
    if not marker.exists():
        return None
    done: dict[str, Any] = json.loads(marker.read_text())
    return PartResult(input_path, [parts_dir / f for f in done["files"]],
                      [StepStats.from_dict(s) for s in done["stats"]])


def split_done(parts_dir: Path, inputs: Sequence[str]) -> tuple[dict[str, PartResult], list[str]]:
    """The inputs already done (their results, read from the markers) and those still to run, in order."""
    done: dict[str, PartResult] = {}
    todo: list[str] = []
    for path in inputs:
        result = load_done(parts_dir, path)
        if result is not None:
            done[path] = result
        else:
            todo.append(path)
    if done:
        log.info("resuming: %d of %d inputs already done", len(done), len(inputs))
    return done, todo


def pending_files(pairs: Sequence[tuple[Any, Path]]) -> list[tuple[Any, Path]]:
    """The pairs of a file stage whose output does not exist yet: an existing `dst` is a finished one."""
    return [(src, dst) for src, dst in pairs if not Path(dst).exists()]


def merge_stats(results: Sequence[PartResult]) -> list[StepStats]:
    """Sum the counters of the same step across inputs, keeping step order."""
    merged: dict[str, StepStats] = {}
    for result in results:
        for s in result.stats:
            merged.setdefault(s.name, StepStats(s.name)).merge(s)
    return list(merged.values())


def discard_stale_parts(work_dir: Path, fingerprint: dict[str, Any] | None) -> Path:
    """The parts folder of a map stage, emptied first if its parts were made under other parameters.

    `fingerprint` describes what the parts depend on (parameters, upstream files).
    """
    parts_dir = work_dir / "parts"
    stamp = work_dir / "fingerprint.json"
    wanted = json.loads(json.dumps(fingerprint or {}, sort_keys=True, default=str))
    if parts_dir.exists() and (not stamp.exists() or json.loads(stamp.read_text()) != wanted):
        log.info("parameters changed since the last run: discarding its parts")
        shutil.rmtree(parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(stamp, wanted)
    return parts_dir


class Executor(ABC):
    """Runs map stages; see the package docstring."""

    workers: int = 1
    show_progress: bool = True

    @abstractmethod
    def map_stage(self, task: MapTask, inputs: Sequence[str], work_dir: Path, desc: str = "inputs",
                  fingerprint: dict[str, Any] | None = None) -> list[PartResult]:
        """Run `task` over every input not yet done; the parts of all inputs, in input order.

        Parts made under a different `fingerprint` are stale and are discarded, not reused.
        """

    @abstractmethod
    def file_stage(self, fn: FileTask, pairs: Sequence[tuple[Any, Path]], desc: str = "files") -> None:
        """Run `fn(src, dst)` for every pair whose `dst` does not exist yet.

        For stages whose output is one file per task, written atomically by `fn`: an existing
        output is a finished one, so a rerun does only what is missing. `src` is any picklable
        value (a path, a band or partition to work on); `dst` is a path. Which worker runs which
        pair must not change what `fn` writes.
        """
