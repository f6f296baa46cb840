"""Executors run a recipe's map stages over inputs; the pipelines only say what to run.

`Executor` is the seam: a pipeline calls `map_stage` (one input -> one part of documents, with
restart markers) and `file_stage` (one file -> one file) and never touches processes itself.
`LocalExecutor` runs them in a process pool on this machine; an executor for a cluster (Ray)
implements the same two methods over the same markers, so a run's output does not depend on
which one ran it.
"""

from corpus.executor.base import Executor, MapTask, PartResult, merge_stats, part_key
from corpus.executor.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "MapTask", "PartResult", "merge_stats", "part_key"]
