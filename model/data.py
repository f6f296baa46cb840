"""Streaming token loader over the Parquet shards.

Two layers, each small:

* `ShardDocuments` walks the shards one row group at a time (never a whole file), in a seeded order
  that changes every epoch, keeps the documents of one split (train or val, decided by a hash of the
  document id) and yields `(DocPosition, text)`.
* `TokenLoader` tokenizes those documents in batches, puts `<|endoftext|>` after each one, packs the
  token stream into blocks of `block_size + 1` tokens and yields `(x, y)` batches where `y` is `x`
  shifted by one.

Exact resume: the loader's state is the position of the first document that still has unconsumed
tokens plus how many of its tokens were already consumed. `load_state_dict` re-reads that document
and skips those tokens, so a resumed run sees exactly the batches an uninterrupted run would have
seen, with no replay of the epoch and no saved token buffer.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer

from model.tokenizer import eot_id

SPLITS = ("train", "val", "all")


def find_shards(data: str | Path | Sequence[str | Path]) -> list[Path]:
    """All `*.parquet` files under `data` (a folder, searched recursively, or a file, or a list).

    Skips anything whose name or folder (below `data`) starts with `_` or `.`: temporary files of a
    writer in progress, `_work` folders, hidden files. Sorted, so the order is stable across runs.
    """
    if isinstance(data, (list, tuple)):
        return sorted({p for d in data for p in find_shards(d)})
    root = Path(data)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"data path {root} does not exist")
    found = []
    for p in root.rglob("*.parquet"):
        parts = p.relative_to(root).parts
        if any(part.startswith(("_", ".")) for part in parts):
            continue
        found.append(p)
    return sorted(found)


def val_score(key: str) -> float:
    """A stable pseudo-random number in [0, 1) for a document key (blake2b, not Python's salted hash)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def in_split(key: str, split: str, val_fraction: float) -> bool:
    """Whether the document with `key` belongs to `split` ("train", "val" or "all")."""
    if split == "all":
        return True
    is_val = val_score(key) < val_fraction
    return is_val if split == "val" else not is_val


@dataclass(frozen=True, order=True)
class DocPosition:
    """Where a document sits in the stream: epoch, then indices into that epoch's shuffled orders."""

    epoch: int = 0
    file: int = 0  # index into the epoch's file order
    row_group: int = 0  # index into this file's row-group order for the epoch
    row: int = 0  # row within the row group


@dataclass
class LoaderConfig:
    """How documents are chosen, ordered and packed."""

    batch_size: int = 16
    block_size: int = 128  # tokens per training example; blocks hold block_size + 1 (x and shifted y)
    split: str = "train"  # "train", "val" or "all"
    val_fraction: float = 0.02  # share of documents held out, chosen by a hash of their id
    seed: int = 1337
    shuffle: bool = True  # shuffle file order and row-group order, differently each epoch
    max_epochs: int | None = None  # None loops forever (training); 1 for a single pass (evaluation)
    text_column: str = "text"
    id_column: str = "id"  # hashed for the split; the text is hashed when the column is missing
    tokenize_batch: int = 64  # documents per `encode_batch` call (it runs them in parallel threads)
    read_chunk: int = 1024  # rows converted to Python strings at a time within a row group

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.batch_size <= 0 or self.block_size <= 0:
            raise ValueError("batch_size and block_size must be positive")


class ShardDocuments:
    """The documents of one split, streamed row group by row group in a seeded per-epoch order."""

    def __init__(self, paths: Sequence[Path], config: LoaderConfig) -> None:
        if not paths:
            raise ValueError("no Parquet shards given")
        self.paths = list(paths)
        self.config = config

    def file_order(self, epoch: int) -> list[int]:
        """Indices into `paths` in the order epoch `epoch` reads them."""
        n = len(self.paths)
        if not self.config.shuffle:
            return list(range(n))
        return np.random.default_rng([self.config.seed, epoch]).permutation(n).tolist()

    def row_group_order(self, epoch: int, path_index: int, n_row_groups: int) -> list[int]:
        """Row groups of file `paths[path_index]` in the order epoch `epoch` reads them."""
        if not self.config.shuffle:
            return list(range(n_row_groups))
        rng = np.random.default_rng([self.config.seed, epoch, path_index])
        return rng.permutation(n_row_groups).tolist()

    def __iter__(self) -> Iterator[tuple[DocPosition, str]]:
        return self.iter_from(DocPosition())

    def iter_from(self, start: DocPosition) -> Iterator[tuple[DocPosition, str]]:
        """Yield `(position, text)` for every document of the split at or after `start`.

        Stops after `config.max_epochs` epochs (never, if None). Raises if a whole epoch holds no
        document of the split, instead of spinning forever.
        """
        cfg = self.config
        epoch = start.epoch
        while cfg.max_epochs is None or epoch < cfg.max_epochs:
            resuming = epoch == start.epoch
            found = 0
            order = self.file_order(epoch)
            for fi in range(start.file if resuming else 0, len(order)):
                for pos, text in self._iter_file(epoch, fi, order[fi], start if resuming else None):
                    found += 1
                    yield pos, text
                resuming = False  # the start position applies to the first file only
            whole_epoch = epoch != start.epoch or start == DocPosition(epoch=start.epoch)
            if found == 0 and whole_epoch:
                raise ValueError(
                    f"no {cfg.split!r} documents in {len(self.paths)} shard(s) "
                    f"(val_fraction={cfg.val_fraction})"
                )
            epoch += 1

    def _iter_file(
        self, epoch: int, fi: int, path_index: int, start: DocPosition | None
    ) -> Iterator[tuple[DocPosition, str]]:
        cfg = self.config
        with pq.ParquetFile(self.paths[path_index]) as pf:
            names = pf.schema_arrow.names
            if cfg.text_column not in names:
                raise ValueError(f"{self.paths[path_index]} has no {cfg.text_column!r} column")
            has_id = cfg.id_column in names
            columns = [cfg.text_column] + ([cfg.id_column] if has_id else [])
            rg_order = self.row_group_order(epoch, path_index, pf.num_row_groups)
            first_rg = start.row_group if start is not None else 0
            for ri in range(first_rg, len(rg_order)):
                # One row group in memory at a time, and only the columns we need.
                table = pf.read_row_group(rg_order[ri], columns=columns)
                first_row = start.row if start is not None and ri == first_rg else 0
                for lo in range(first_row, table.num_rows, cfg.read_chunk):
                    n = min(cfg.read_chunk, table.num_rows - lo)
                    texts = table.column(cfg.text_column).slice(lo, n).to_pylist()
                    ids = table.column(cfg.id_column).slice(lo, n).to_pylist() if has_id else texts
                    for j, (text, key) in enumerate(zip(texts, ids)):
                        if not text:
                            continue
                        if cfg.split != "all" and not in_split(key or text, cfg.split, cfg.val_fraction):
                            continue
                        yield DocPosition(epoch, fi, ri, lo + j), text
                del table


class TokenLoader:
    """Packs the tokenized documents of a split into `(x, y)` LongTensor batches of shape (B, T).

    Iterating continues from the current state; `state_dict()` taken after receiving a batch
    describes the position right after that batch.
    """

    def __init__(self, paths: Sequence[Path], tokenizer: Tokenizer, config: LoaderConfig) -> None:
        self.config = config
        self.docs = ShardDocuments(paths, config)
        self.tokenizer = tokenizer
        self.eot = eot_id(tokenizer)
        self._position = DocPosition()  # first document with tokens not yet emitted
        self._token_offset = 0  # how many of that document's tokens (incl. its EOT) were emitted
        self.tokens_emitted = 0  # tokens yielded in x by this loader object (for statistics)

    @property
    def epoch(self) -> int:
        return self._position.epoch

    def shards_digest(self) -> str:
        """Fingerprint of the shard list (paths relative to their common folder, so the data folder
        may move), so a state is not applied to different data. File contents are not hashed."""
        resolved = [p.resolve() for p in self.docs.paths]
        root = Path(os.path.commonpath(resolved)) if len(resolved) > 1 else resolved[0].parent
        names = "\n".join(p.relative_to(root).as_posix() for p in resolved)
        return hashlib.sha1(names.encode()).hexdigest()[:16]

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable position of the stream (plus what it must match when loaded)."""
        return {
            "position": asdict(self._position),
            "token_offset": self._token_offset,
            "shards": self.shards_digest(),
            "seed": self.config.seed,
            "split": self.config.split,
            "val_fraction": self.config.val_fraction,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a `state_dict()`; the next batch is the one that followed it."""
        for key, mine in (
            ("shards", self.shards_digest()),
            ("seed", self.config.seed),
            ("split", self.config.split),
            ("val_fraction", self.config.val_fraction),
        ):
            if state.get(key) != mine:
                raise ValueError(
                    f"loader state was saved with {key}={state.get(key)!r}, this loader has {mine!r}; "
                    "resuming would not continue the same stream"
                )
        self._position = DocPosition(**state["position"])
        self._token_offset = int(state["token_offset"])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        cfg = self.config
        width = cfg.block_size + 1
        need = cfg.batch_size * width
        buf: list[int] = []  # tokens read but not yet emitted
        # One entry per document with tokens in `buf`, oldest first: [position, n_tokens, n_left].
        segments: deque[list[Any]] = deque()
        last_done: tuple[DocPosition, int] = (self._position, self._token_offset)
        skip = self._token_offset
        docs = self.docs.iter_from(self._position)
        exhausted = False
        while True:
            while len(buf) < need and not exhausted:
                batch = list(islice(docs, cfg.tokenize_batch))
                if not batch:
                    exhausted = True
                    break
                encodings = self.tokenizer.encode_batch([t for _, t in batch], add_special_tokens=False)
                for (pos, _), enc in zip(batch, encodings):
                    ids = enc.ids + [self.eot]
                    n = len(ids)
                    if skip:
                        # Resuming: the first document was partly emitted before the checkpoint.
                        if pos != self._position:
                            raise ValueError(f"resume position {self._position} not found (got {pos})")
                        ids = ids[skip:]
                        skip = 0
                    buf.extend(ids)
                    segments.append([pos, n, len(ids)])
            n_blocks = min(len(buf), need) // width
            if n_blocks == 0:
                return  # only reachable after the last epoch: the remainder is shorter than a block
            take = n_blocks * width
            block = torch.tensor(buf[:take], dtype=torch.long).view(n_blocks, width)
            del buf[:take]
            last_done = self._consume(segments, take, last_done)
            self.tokens_emitted += n_blocks * cfg.block_size
            # x is the block minus its last token, y the block minus its first: y[t] = next token after x[t].
            yield block[:, :-1].contiguous(), block[:, 1:].contiguous()
            if n_blocks < cfg.batch_size:
                return  # a short final batch only happens when the data ran out

    def _consume(
        self, segments: deque[list[Any]], n: int, last_done: tuple[DocPosition, int]
    ) -> tuple[DocPosition, int]:
        """Drop `n` emitted tokens from the front of `segments` and update the resume position."""
        while n:
            seg = segments[0]
            if seg[2] <= n:
                n -= seg[2]
                last_done = (seg[0], seg[1])  # fully emitted: resuming there skips all its tokens
                segments.popleft()
            else:
                seg[2] -= n
                n = 0
        if segments:
            pos, total, left = segments[0]
            self._position, self._token_offset = pos, total - left
        else:
            self._position, self._token_offset = last_done
        return last_done


def iter_texts(
    paths: Sequence[Path],
    split: str = "train",
    val_fraction: float = 0.02,
    max_chars: int | None = None,
    text_column: str = "text",
    id_column: str = "id",
) -> Iterator[str]:
    """One pass over the texts of a split in file order, stopping after about `max_chars` characters.

    Meant for tokenizer training, which must see the train split only.
    """
    cfg = LoaderConfig(
        split=split, val_fraction=val_fraction, shuffle=False, max_epochs=1,
        text_column=text_column, id_column=id_column,
    )
    seen = 0
    for _, text in ShardDocuments(paths, cfg):
        yield text
        seen += len(text)
        if max_chars is not None and seen >= max_chars:
            return
