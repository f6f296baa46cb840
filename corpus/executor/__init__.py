"""Executors run a recipe's map stages over inputs; the pipelines only say what to run.

`Executor` is the seam: a pipeline calls `map_stage` (one input -> one part of documents, with
restart markers) and `file_stage` (one file -> one file) and never touches processes itself.
`LocalExecutor` runs them in a process pool on this machine; `RayExecutor` (corpus/executor/ray.py)
runs them as Ray tasks on a cluster and implements the same two methods over the same markers,
so a run's output does not depend on which one ran it. `ExecutorConfig` and `make_executor`
choose one from the command line (`--engine`, `--ray-address`).
"""

from typing import Any

from corpus.executor.base import Executor, FileTask, MapTask, PartResult, merge_stats, part_key
from corpus.executor.config import ExecutorConfig, make_executor
from corpus.executor.local import LocalExecutor

__all__ = ["Executor", "ExecutorConfig", "FileTask", "LocalExecutor", "MapTask", "PartResult", "RayExecutor",
           "make_executor", "merge_stats", "part_key"]


def __getattr__(name: str) -> Any:
    # RayExecutor is exported lazily: `import ray` costs a second and Ray is an optional extra.
    if name == "RayExecutor":
        from corpus.executor.ray import RayExecutor

        return RayExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
