"""Naming and loading evaluation tasks: `[name=]path[:format]`, or a bare name looked up in a task folder.

    lastword                                    -> <task dir>/lastword.jsonl (or lastword_test.jsonl, ...)
    data/tasks/hellaswag_val.jsonl              -> task "hellaswag", format guessed from the first record
    arc=ARC-Challenge-Test.jsonl:arc            -> task "arc", format given

Few-shot examples come from the task's own train or dev file when one sits beside the test file (the same
name with "train", "dev" or "validation" in place of "test"/"val"), as GPT-3 did; otherwise from the test
file itself, never the item being scored (see `model.evaluate`).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.benchmarks.formats import FORMATS, Example, TaskFormat, guess_format, parse_examples

TASK_SUFFIXES = (".jsonl", ".jsonl.gz", ".json")
_SPLIT_WORDS = ("test", "val", "validation", "dev", "eval")
_SHOT_WORDS = ("train", "dev", "validation")
_SPLIT_RE = re.compile(r"(?P<sep>[_.-])(?P<split>test|val|validation|dev|eval)$")


class TaskSpecError(ValueError):
    """A task that cannot be found or read (one line, for the user)."""


@dataclass
class Task:
    """A test file, its format, and where its few-shot examples come from."""

    name: str
    path: Path
    format: TaskFormat
    shots_path: Path | None = None      # train/dev file for k-shot prompts; None: the test file itself
    labels: tuple[str, ...] = ()        # classification: every label of the task's files, sorted
    skipped: dict[str, int] = field(default_factory=dict)  # records that did not fit, by reason
    _parsed: dict[Path, list[Example]] = field(default_factory=dict, repr=False, compare=False)

    def examples(self, limit: int | None = None) -> list[Example]:
        """The test items (the first `limit` of them), in file order."""
        return self._read(self.path, limit)

    def shot_pool(self) -> list[Example]:
        """The items few-shot prompts are drawn from."""
        return self._read(self.shots_path, None) if self.shots_path else self.examples()

    def _read(self, path: Path, limit: int | None) -> list[Example]:
        # Parsed once: a task is scored for several shot counts and, in training, at every evaluation;
        # reading it again would also count its skipped records again.
        if path not in self._parsed:
            self._parsed[path] = list(parse_examples(read_records(path, self.skipped), self.format, self.labels,
                                                     self.skipped))
        return self._parsed[path][:limit]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "format": self.format.name, "kind": self.format.kind,
                "shots_from": str(self.shots_path or self.path)}


def read_records(path: Path, skipped: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """JSON objects of a JSONL(.gz) file (or one JSON list); unreadable lines counted as "bad_json"."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        if path.suffix == ".json":
            data = json.load(f)
            yield from (r for r in (data if isinstance(data, list) else [data]) if isinstance(r, dict))
            return
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                yield record
            elif skipped is not None:
                skipped["bad_json"] = skipped.get("bad_json", 0) + 1


def _stem(path: Path) -> str:
    name = path.name
    for suffix in TASK_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def task_name(path: Path) -> str:
    """"hellaswag_val.jsonl" -> "hellaswag": the file name without its split word."""
    return _SPLIT_RE.sub("", _stem(path)) or _stem(path)


def find_shots_file(path: Path) -> Path | None:
    """The train/dev file beside a test file, by name ("x_test.jsonl" -> "x_train.jsonl", else "x_dev...")."""
    stem, suffix = _stem(path), path.name[len(_stem(path)):]
    m = _SPLIT_RE.search(stem)
    if not m:
        return None
    for word in _SHOT_WORDS:
        candidate = path.with_name(f"{stem[: m.start()]}{m.group('sep')}{word}{suffix}")
        if candidate != path and candidate.is_file():
            return candidate
    return None


def parse_task_spec(spec: str) -> tuple[str | None, str, str | None]:
    """"name=path:format" -> (name or None, path, format or None)."""
    name, _, rest = spec.rpartition("=") if "=" in spec else (None, "", spec)
    path, fmt = rest, None
    head, sep, tail = rest.rpartition(":")
    if sep and tail in FORMATS:
        path, fmt = head, tail
    return (name or None), path, fmt


def resolve_task_path(path: str, task_dir: Path | None) -> Path:
    """A file path as given, or a bare task name found in `task_dir` (name.jsonl, name_test.jsonl ...)."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if task_dir is not None and "/" not in path:
        for split in ("", *(f"_{w}" for w in _SPLIT_WORDS)):
            for suffix in TASK_SUFFIXES:
                candidate = task_dir / f"{path}{split}{suffix}"
                if candidate.is_file():
                    return candidate
    where = f" (nor {task_dir}/{path}[_test].jsonl)" if task_dir is not None and "/" not in path else ""
    raise TaskSpecError(f"task {path!r}: no such file{where}")


def _first_record(path: Path) -> dict[str, Any]:
    for record in read_records(path):
        return record
    raise TaskSpecError(f"task file {path} holds no JSON records")


def _labels(paths: Sequence[Path]) -> tuple[str, ...]:
    labels = {str(r["label"]) for p in paths for r in read_records(p) if isinstance(r.get("label"), (str, int))}
    return tuple(sorted(labels))


def load_task(spec: str, task_dir: str | Path | None = None) -> Task:
    """The `Task` a command-line spec names (see the module docstring); raises `TaskSpecError`."""
    name, raw_path, fmt_name = parse_task_spec(spec)
    path = resolve_task_path(raw_path, Path(task_dir) if task_dir else None)
    fmt = FORMATS[fmt_name] if fmt_name else guess_format(_first_record(path))
    if fmt is None:
        fields = ", ".join(sorted(_first_record(path)))
        raise TaskSpecError(f"task file {path}: records with fields ({fields}) match no known format; "
                            f"add :FORMAT, one of {', '.join(FORMATS)}")
    shots = find_shots_file(path)
    labels = _labels([p for p in (path, shots) if p]) if fmt.name == "classification" else ()
    return Task(name or task_name(path), path, fmt, shots, labels)


def task_texts(path: str | Path, fields: Sequence[str] = ("text",)) -> Iterator[str]:
    """The test text of a task file, for decontamination: every string a model would be scored on.

    A file in a known format yields that format's strings (contexts, questions, choices); anything else
    yields the records' `fields`. A `.txt` file yields its lines.
    """
    path = Path(path)
    if path.name.endswith((".txt", ".txt.gz")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            yield from (line.strip() for line in f if line.strip())
        return
    fmt = None
    for record in read_records(path):
        if fmt is None:
            fmt = guess_format(record) or False
        if fmt:
            try:
                yield from fmt.texts(record)
                continue
            except ValueError:
                pass
        for name in fields:
            value = record.get(name)
            if isinstance(value, str):
                yield value
            elif isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
