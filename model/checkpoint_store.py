"""Where a run's checkpoints live: a local folder, or any fsspec URL (s3://bucket/run, gs://..., ...).

`--checkpoint-dir` (default: `--out`) names the store. Both kinds hold the same layout, step folders
`ckpt-<step>/` and a `latest` pointer (see `model.checkpoint`), so a folder downloaded from a bucket is a
checkpoint like any other.

- A local store writes a step folder under a temporary name and renames it into place (atomic on
  POSIX). Sharded state (`--fsdp`) is written by every rank next to it and moved in by rank 0, so with
  several nodes the folder must be on a filesystem they share (`model.fsdp.check_all_ranks_wrote` tells
  when it is not).
- A remote store has no atomic rename (an object store copies). There, `train_state.json` is written
  last and is the commit: a folder without it is not a checkpoint (`list` skips it, the next save of that
  step replaces it), and `latest` is written after it. Sharded state goes straight to the bucket from
  every rank (DCP's fsspec writer), so nodes need no shared filesystem. Rank 0 stages the small files of a
  save (config, consolidated weights, optimizer/RNG state, tokenizer) on local disk, uploads them and
  deletes the staging copy. A resume downloads the step folder, less its sharded state (read by each rank
  straight from the bucket), into a per-rank cache under `--out`.

Credentials and endpoints come from the environment as the fsspec backend reads them (for S3:
AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...), never from the command line, so they appear in no log or
saved config.
"""

from __future__ import annotations

import os
import re
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from corpus.writers.atomic import atomic_dir
from model.checkpoint import (
    CKPT_PREFIX,
    LATEST_FILE,
    SHARDED_WEIGHTS_DIR,
    STATE_FILE,
    WEIGHTS_FILE,
    list_checkpoints,
    resolve_checkpoint,
    save_step_checkpoint,
    step_dir_name,
)
from model.gpt import GPT
from model.locations import filesystem, is_url, local_path

_STEP_RE = re.compile(rf"^{CKPT_PREFIX}(\d+)$")
CACHE_DIR = ".checkpoint-cache"  # under --out: downloads of a remote checkpoint being resumed
STAGING_DIR = ".checkpoint-staging"  # under --out: a remote save's files before upload


@dataclass(frozen=True)
class Resumed:
    """A checkpoint chosen for resuming: a local folder holding its files (the checkpoint itself, or a
    download of it), the store it lives in, its step folder name, and where its sharded state is."""

    folder: Path
    store: CheckpointStore
    name: str

    def sharded(self, what: str) -> str | None:
        """The path or URL of the sharded state `what` (e.g. `optimizer_dcp`), or None if it has none."""
        return self.store.sharded_location(self.name, what)


class CheckpointStore(ABC):
    """The step folders of one run, local or remote. Build with `open_store`."""

    location: str

    @abstractmethod
    def list(self) -> list[tuple[int, str]]:
        """(step, folder name) of the complete checkpoints, by step."""

    @abstractmethod
    def latest(self) -> str | None:
        """The folder name `latest` points at (if complete), else the highest step's, else None."""

    @abstractmethod
    def check_writable(self, rank: int) -> None:
        """Raise SystemExit now if this process cannot write to the store (a missing bucket, read-only
        credentials): better before training than at the first save."""

    def same_as(self, other: CheckpointStore) -> bool:
        return type(self) is type(other) and self.location == other.location

    @abstractmethod
    def sharded_location(self, name: str, what: str) -> str | None:
        """The path or URL of checkpoint `name`'s sharded state `what` (`optimizer_dcp`), or None if absent."""

    @abstractmethod
    def location_of(self, name: str) -> str:
        """The path or URL of the step folder `name`."""

    @abstractmethod
    def sharded_target(self, step: int, what: str) -> str:
        """Where all ranks write the sharded state `what` of the checkpoint of `step`."""

    @abstractmethod
    def prepare(self, step: int) -> None:
        """Rank 0, before the ranks write sharded state for `step`: clear a half-written save of it."""

    @abstractmethod
    def fetch(self, name: str, rank: int, with_weights: bool = True) -> Path:
        """A local folder with the files of checkpoint `name` (sharded state excluded)."""

    @abstractmethod
    def save(self, model: GPT, train_state: dict[str, Any], optimizer: torch.optim.Optimizer | None,
             rng_states: dict[str, Any], extra_files: list[Path], keep_last: int, remove: list[str],
             weights: dict[str, torch.Tensor] | None, sharded: list[str]) -> str:
        """Rank 0: write the checkpoint of `train_state["step"]` (whose `sharded` state the ranks have
        written to `sharded_target`), point `latest` at it, delete the folders named in `remove` and all
        but the newest `keep_last`. Returns the folder's path or URL. A sharded checkpoint given no
        `weights` has no model.safetensors (its weights are the shards)."""


class LocalStore(CheckpointStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root.resolve())

    def check_writable(self, rank: int) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SystemExit(f"checkpoint folder {self.root}: {e}") from None
        if not os.access(self.root, os.W_OK):
            raise SystemExit(f"checkpoint folder {self.root} is not writable by this process")

    def list(self) -> list[tuple[int, str]]:
        return [(s, p.name) for s, p in list_checkpoints(self.root)]

    def latest(self) -> str | None:
        found = resolve_checkpoint(self.root)
        return None if found is None else found.name if found != self.root else "."

    def sharded_location(self, name: str, what: str) -> str | None:
        folder = self.root / name / what
        return str(folder) if folder.is_dir() else None

    def location_of(self, name: str) -> str:
        return str(self.root / name)

    def sharded_target(self, step: int, what: str) -> str:
        # Beside the step folder until the save moves it in (see model.checkpoint.save_step_checkpoint).
        return str(self.root / f".{step_dir_name(step)}.{what}")

    def prepare(self, step: int) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(f".{step_dir_name(step)}.*_dcp"):
            shutil.rmtree(stale, ignore_errors=True)

    def fetch(self, name: str, rank: int, with_weights: bool = True) -> Path:
        return self.root if name == "." else self.root / name

    def save(self, model, train_state, optimizer, rng_states, extra_files, keep_last, remove, weights,
             sharded) -> str:
        step = int(train_state["step"])
        final = save_step_checkpoint(
            self.root, model, train_state, optimizer, rng_states, extra_files=extra_files, keep_last=keep_last,
            remove=[self.root / n for n in remove], weights=weights,
            extra_dirs=[Path(self.sharded_target(step, what)) for what in sharded],
            write_weights=not sharded or weights is not None)
        return str(final)


class RemoteStore(CheckpointStore):
    def __init__(self, url: str, cache_root: Path) -> None:
        self.fs, self.root = filesystem(url)
        self.location = self.fs.unstrip_protocol(self.root)
        self.cache_root = cache_root

    def _url(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def check_writable(self, rank: int) -> None:
        probe = self._url(f".write-check-rank-{rank}")
        try:
            self.fs.pipe_file(probe, b"webtext")
            self.fs.rm_file(probe)
        except Exception as e:  # whatever the backend raises: NoSuchBucket, AccessDenied, no endpoint
            raise SystemExit(f"checkpoint store {self.location} is not writable from this process: "
                             f"{type(e).__name__}: {e}") from None

    def list(self) -> list[tuple[int, str]]:
        self.fs.invalidate_cache(self.root)  # other processes (ranks, earlier runs) write here too
        found = []
        for path in self.fs.glob(self._url(f"{CKPT_PREFIX}*", STATE_FILE)):
            name = path.rstrip("/").split("/")[-2]
            m = _STEP_RE.match(name)
            if m:
                found.append((int(m.group(1)), name))
        return sorted(found)

    def latest(self) -> str | None:
        pointer = self._url(LATEST_FILE)
        self.fs.invalidate_cache(self.root)
        if self.fs.exists(pointer):
            name = self.fs.cat_file(pointer).decode("utf-8").strip()
            if _STEP_RE.match(name) and self.fs.exists(self._url(name, STATE_FILE)):
                return name
        found = self.list()
        return found[-1][1] if found else None

    def sharded_location(self, name: str, what: str) -> str | None:
        path = self._url(name, what)
        return self.fs.unstrip_protocol(path) if self.fs.exists(path) else None

    def location_of(self, name: str) -> str:
        return self.fs.unstrip_protocol(self._url(name))

    def sharded_target(self, step: int, what: str) -> str:
        return self.fs.unstrip_protocol(self._url(step_dir_name(step), what))

    def prepare(self, step: int) -> None:
        self._remove(step_dir_name(step))

    def _remove(self, name: str) -> None:
        folder = self._url(name)
        if self.fs.exists(folder):
            self.fs.rm(folder, recursive=True)

    def fetch(self, name: str, rank: int, with_weights: bool = True) -> Path:
        # Per rank: ranks on one node would otherwise race on the same files, and ranks on other nodes
        # cannot see this node's disk anyway.
        dest = self.cache_root / CACHE_DIR / f"rank-{rank}" / name
        entries = {info["name"].rstrip("/").split("/")[-1]: info for info in self.fs.ls(self._url(name), detail=True)}
        # Weights wanted but never consolidated (--consolidate last): the weight shards, which load_model reads.
        shards_for_weights = with_weights and WEIGHTS_FILE not in entries and SHARDED_WEIGHTS_DIR in entries
        if self._cached(name, dest, with_weights):
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        with atomic_dir(dest) as tmp:
            for file_name, info in entries.items():
                if info["type"] == "file" and (file_name != WEIGHTS_FILE or with_weights):
                    self.fs.get_file(info["name"], str(tmp / file_name))
            if shards_for_weights:  # other sharded state (folders) is read in place by each rank
                self.fs.get(self._url(name, SHARDED_WEIGHTS_DIR) + "/", str(tmp / SHARDED_WEIGHTS_DIR) + "/",
                            recursive=True)
        return dest

    def _cached(self, name: str, dest: Path, with_weights: bool) -> bool:
        """Whether `dest` already holds this checkpoint (its train_state.json, written last, is the same)
        with the weights if they are wanted: a checkpoint is never changed once written."""
        local_state = dest / STATE_FILE
        if not local_state.is_file():
            return False
        if with_weights and not ((dest / WEIGHTS_FILE).is_file() or (dest / SHARDED_WEIGHTS_DIR).is_dir()):
            return False
        return self.fs.cat_file(self._url(name, STATE_FILE)) == local_state.read_bytes()

    def save(self, model, train_state, optimizer, rng_states, extra_files, keep_last, remove, weights,
             sharded) -> str:
        step = int(train_state["step"])
        name = step_dir_name(step)
        staging = self.cache_root / STAGING_DIR
        local = save_step_checkpoint(staging, model, train_state, optimizer, rng_states,
                                     extra_files=extra_files, keep_last=1, weights=weights,
                                     write_weights=not sharded or weights is not None)
        try:
            if not sharded:  # else `prepare` cleared the folder before the ranks wrote into it
                self._remove(name)
            files = sorted(p for p in local.iterdir() if p.is_file())
            # train_state.json last: until it is there, the folder is not a checkpoint.
            for path in sorted(files, key=lambda p: p.name == STATE_FILE):
                self.fs.put_file(str(path), self._url(name, path.name))
            self.fs.pipe_file(self._url(LATEST_FILE), (name + "\n").encode("utf-8"))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for old in remove:
            if old != name:
                self._remove(old)
        if keep_last > 0:
            for _, old in self.list()[:-keep_last]:
                if old != name:
                    self._remove(old)
        return self.fs.unstrip_protocol(self._url(name))


def open_store(location: str | Path, out: Path) -> CheckpointStore:
    """The store at `location` (a folder or an fsspec URL); `out` holds a remote store's local files."""
    if is_url(location):
        try:
            return RemoteStore(str(location), out)
        except FileNotFoundError as e:  # e.g. s3:// without s3fs installed
            raise SystemExit(f"checkpoint store {location}: {e}") from None
    return LocalStore(local_path(location))


def find_resume(resume: str | None, store: CheckpointStore, out: Path, rank: int,
                with_weights: bool = True) -> Resumed | None:
    """The checkpoint `--resume` asks for: "latest"/"auto" in this run's store, or a given run or step
    folder (path or URL). None: start fresh. Remote checkpoints are downloaded (less their sharded
    state, and less the full weights when `with_weights` is False)."""
    if resume is None:
        return None
    if resume in ("latest", "auto"):
        name = store.latest()
        if name is None:
            if resume == "latest":
                raise SystemExit(f"--resume: no checkpoint ({STATE_FILE}) in {store.location}; use --resume auto "
                                 "to start fresh when there is none")
            return None
        source, chosen = store, name
    else:
        source, chosen = _named_checkpoint(resume, out)
    folder = source.fetch(chosen, rank, with_weights)
    if not (folder / STATE_FILE).is_file():
        raise SystemExit(f"--resume: {folder} has weights but no {STATE_FILE}; it cannot be continued")
    return Resumed(folder, source, chosen)


def reader_cache() -> Path:
    """Where the CLIs that read a checkpoint (sample, evaluate, export, finetune) keep downloads of one in a
    bucket: $WEBTEXT_CACHE, else ~/.cache/webtext."""
    return Path(os.environ.get("WEBTEXT_CACHE", "~/.cache/webtext")).expanduser()


def resolve_any(location: str | Path) -> Path | None:
    """A local folder holding the checkpoint that `location` designates, or None if there is none.

    A folder: `model.checkpoint.resolve_checkpoint` (a step folder, or a run folder's latest). A URL
    (s3://bucket/run or s3://bucket/run/ckpt-000300): downloaded into `reader_cache()` (again only if that
    checkpoint changed), so `load_model` and the tokenizer lookup read it like any other.
    """
    if not is_url(location):
        return resolve_checkpoint(location)
    try:
        store, name = _named_checkpoint(str(location), reader_cache() / "checkpoints")
    except SystemExit:
        return None
    return store.fetch(name, rank=0)


def _named_checkpoint(resume: str, out: Path) -> tuple[CheckpointStore, str]:
    """A `--resume PATH_OR_URL`: a step folder, or a run folder whose latest checkpoint is meant."""
    tail = str(resume).rstrip("/").rsplit("/", 1)
    if len(tail) == 2 and _STEP_RE.match(tail[1]):  # a step folder: its parent is the store
        store = open_store(tail[0] if is_url(resume) else Path(resume).parent, out)
        if tail[1] in {n for _, n in store.list()}:
            return store, tail[1]
    store = open_store(resume, out)
    name = store.latest()
    if name is None:
        raise SystemExit(f"--resume {resume}: not a checkpoint folder (no {STATE_FILE})")
    return store, name
