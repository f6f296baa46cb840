"""Evaluation tasks in their public file formats, shared by evaluation and decontamination.

One registry serves both sides of the same question, "did the model see the test?":
`model.evaluate` scores a checkpoint on a task file, and `--decontaminate` in both pipelines cuts the same
task's 13-grams out of the training data. Both read files through `load_task` / `task_texts`, so a task is
named, parsed and attributed the same way on both sides.
"""

from corpus.benchmarks.formats import FORMATS, Example, TaskFormat, guess_format
from corpus.benchmarks.registry import Task, TaskSpecError, load_task, parse_task_spec, task_texts

__all__ = ["FORMATS", "Example", "Task", "TaskFormat", "TaskSpecError", "guess_format", "load_task",
           "parse_task_spec", "task_texts"]
