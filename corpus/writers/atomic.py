"""Atomic writes, the one way every output of webtext (shards, manifests, checkpoints) is written.

A reader sees the old file (or folder) or the complete new one, never a half-written one.

Everything is first written under a hidden temporary name in the destination's folder
(`.NAME.tmp-PID`), fsynced, then renamed over the destination (an atomic rename on POSIX), and the
folder holding it is fsynced so the rename itself survives a power cut.

- `atomic_path(path)`       a context manager yielding the temporary file name to write (by any
                            writer: `torch.save`, `safetensors`, `Tokenizer.save`, `savefig`, ...);
                            on error the temporary file is removed and `path` is left as it was
- `atomic_write_text` / `atomic_write_bytes` / `atomic_write_json`   the common cases
- `is_temporary(path)`      whether a name is such a temporary (readers skip them)
- `atomic_dir(path)`        the same for a folder (a checkpoint step folder); on error the
                            temporary folder is left for the caller to sweep (see `temp_name`)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def temp_name(path: str | Path, tag: str = "tmp") -> Path:
    """The hidden temporary name `path` is written under: `.NAME.<tag>-PID` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (renames into it) to disk; best effort, as not every OS or filesystem
    allows opening or syncing a folder."""
    try:
        _fsync(Path(path))
    except OSError:
        pass


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; once the block completes, fsync it and rename it to `path`.

    The temporary name does not keep `path`'s suffix, so writers that infer a format from the file
    name need it passed explicitly. If the block (or the write) raises, the temporary file is removed.
    The folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit(tmp: str | Path, path: str | Path) -> None:
    """Make a finished temporary file the real one: fsync it, rename it over `path`, fsync the folder.

    For writers that cannot live inside one `with atomic_path(...)` block (a shard writer that
    rotates files as it goes).
    """
    _fsync(Path(tmp))
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """`obj` as indented JSON (UTF-8, non-ASCII kept), written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def is_temporary(path: str | Path) -> bool:
    """True for the name of a write in progress (or of one a crash left behind)."""
    name = Path(path).name
    return name.startswith(".") and ".tmp-" in name


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a new temporary folder beside `path`; once the block completes, fsync what it holds and
    rename it to `path`, replacing a folder already there.

    If the block raises, the temporary folder stays, as after a crash: it is hidden, no reader lists
    it, and the caller removes such leftovers (names starting `.NAME.tmp-`) before its next write.
    """
    path = Path(path)
    tmp = temp_name(path)
    if tmp.exists():  # left by an earlier crash of a process that had our pid
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    yield tmp
    for p in sorted(tmp.rglob("*")):
        if p.is_file():
            _fsync(p)
        elif p.is_dir():
            fsync_dir(p)
    fsync_dir(tmp)
    if path.exists():  # replace an existing folder: swap it aside, move the new one in, delete the old
        old = temp_name(path, "tmp-old")
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    fsync_dir(path.parent)
