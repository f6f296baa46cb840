"""Atomic writes, the one way every output file of the library is written.

A file is written under a temporary name in its own folder and renamed over its final name only
when it is complete, so a reader (or a restarted run) sees either the old file or the new one,
never half of one. The temporary name is the final one plus `.tmp`: a run killed mid-write leaves
only such a file, which the next attempt overwrites and which no reader takes for an output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def temp_path(path: Path | str) -> Path:
    """Where `path` is written before it is renamed into place."""
    path = Path(path)
    return path.with_name(path.name + TMP_SUFFIX)


@contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces `path`, on an exception it is removed.

    The parent folder is created. The file is fsync'd before the rename, so after a crash of the
    machine the final name holds the complete file or the previous one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path | str, obj: Any) -> None:
    """Write `obj` as indented JSON to `path` atomically: readers never see half a file."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")
