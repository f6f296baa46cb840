"""An append-only JSON Lines log that survives `kill -9`.

Each entry is one line, flushed to the operating system as soon as it is written, so a killed
process loses nothing it logged. A line cut short by the kill is dropped when the log is opened
again, and the file is truncated back to its last complete line before anything is appended.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete entry of a journal, in order; a torn or unparsable line is skipped."""
    if not path.exists():
        return
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return  # the line a killed writer did not finish
            try:
                entry = json.loads(raw)
            except ValueError:
                log.warning("%s: skipping an unreadable line", path)
                continue
            if isinstance(entry, dict):
                yield entry


def _complete_length(path: Path) -> int:
    """The length of the file up to the end of its last complete line."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb") as f:
        pos = size
        while pos > 0:
            step = min(1 << 16, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                return pos - step + cut + 1
            pos -= step
    return 0


class Journal:
    """Appends entries to a JSON Lines file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    def __enter__(self) -> "Journal":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            keep = _complete_length(self.path)
            if keep != self.path.stat().st_size:
                os.truncate(self.path, keep)
        self._file = open(self.path, "ab")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, entry: dict[str, Any]) -> None:
        """Write one entry and hand it to the OS at once: a killed process keeps it."""
        assert self._file is not None, "Journal is not open"
        self._file.write(json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8") + b"\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
