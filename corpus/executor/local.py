"""The local executor: map stages in a process pool on this machine."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from corpus.executor.base import (
    Executor,
    FileTask,
    MapTask,
    PartResult,
    discard_stale_parts,
    pending_files,
    process_input,
    split_done,
)
from corpus.progress import progress


class LocalExecutor(Executor):
    """`workers` processes; with one worker (or one input) everything runs in this process."""

    def __init__(self, workers: int = 1, show_progress: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.show_progress = show_progress

    def map_stage(self, task: MapTask, inputs: Sequence[str], work_dir: Path, desc: str = "inputs",
                  fingerprint: dict[str, Any] | None = None) -> list[PartResult]:
        parts_dir = discard_stale_parts(work_dir, fingerprint)
        results, todo = split_done(parts_dir, inputs)
        if self.workers <= 1 or len(todo) <= 1:
            # In-process: a progress bar per document, and tracebacks that point at the real line.
            for path in self._bar(todo, desc, len(todo) > 1):
                results[path] = process_input(task, path, parts_dir, show_progress=self.show_progress)
        else:
            with ProcessPoolExecutor(max_workers=self.workers) as pool:
                futures = {pool.submit(process_input, task, path, parts_dir): path for path in todo}
                for fut in self._bar(as_completed(futures), desc, True, total=len(futures)):
                    results[futures[fut]] = fut.result()
        return [results[path] for path in inputs]

    def file_stage(self, fn: FileTask, pairs: Sequence[tuple[Any, Path]], desc: str = "files") -> None:
        todo = pending_files(pairs)
        # With workers, even a lone task runs in the pool: file tasks are the global stage's
        # partitions and bands, sized for a worker's memory, not the driver's.
        if self.workers <= 1 or not todo:
            for src, dst in self._bar(todo, desc, len(todo) > 1):
                fn(src, dst)
            return
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(fn, s, d) for s, d in todo]
            for fut in self._bar(as_completed(futures), desc, True, total=len(futures)):
                fut.result()

    def _bar(self, items, desc: str, show: bool, **kwargs: Any):
        return progress(items, enabled=self.show_progress and show, desc=desc, unit="file", **kwargs)
