"""Documents from the Parquet shards: discovery, the train/validation split, and the sharding of
one source's documents over independent streams (DDP ranks x DataLoader workers).

`ShardDocuments` walks a source's shards one row group at a time (never a whole file), in a seeded
order that changes every epoch (files shuffled, then the row groups of each file), keeps the documents
of one split (decided by a hash of the document id) and yields `(DocPosition, text)` for the
documents that belong to its stream. Tokenizing and packing them is `model.packing`; streams, mixing
and workers are `model.loader`.

Sharding (`LoaderConfig.num_streams` = S streams, this object is stream s): within an epoch the
source is a list of *units* (row groups) in the shuffled order, N rows in all. Either
  - "row_group": unit k belongs to stream k mod S (each stream reads only its own row groups; balance
    is to a row group), or
  - "range": stream s gets the contiguous rows [floor(s N / S), floor((s + 1) N / S)) of the epoch's
    order (each stream reads only the row groups its range touches, so an epoch decodes at most
    n_row_groups + S - 1 row groups in all; balance is exact to one row), or
  - "row": the row with global index g in the epoch's order belongs to stream g mod S (every stream
    reads every row group and keeps 1/S of its rows: exact balance, S x the decoding work).
"auto" uses row groups when every stream gets at least `min_row_groups_per_stream` of them (large
corpora: balance is good enough, and each stream reads whole row groups) and row ranges otherwise
(small corpora, where one row group per stream would leave streams empty or lopsided). "auto-rows" is
the rule before loader state 3 (row groups, else "row"), kept so older checkpoints resume the same
data (`model.loader.TokenLoader.load_state_dict` switches to it). Whatever the mode, within every
epoch the streams' documents are pairwise disjoint and together are exactly the split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from corpus.readers.shards import shard_paths
from model.locations import exists, is_url, local_path, open_parquet, parquet_files_at, parquet_metadata

SPLITS = ("train", "val", "all")
# "auto-rows": the rule before loader state 3, kept so older checkpoints resume the same data.
SHARD_MODES = ("auto", "row_group", "range", "row", "auto-rows")


def find_shards(data: str | Path | Sequence[str | Path]) -> list[Path] | list[str]:
    """The shards under `data` (a folder, searched recursively, or a file, or a list of them; or an fsspec
    URL such as s3://bucket/shards, whose shards come back as URLs).

    Which files are shards is `corpus.readers.shards.shard_paths`'s rule (work folders, hidden and
    temporary files are not); sorted, so the order is stable across runs.
    """
    if isinstance(data, (list, tuple)):
        return sorted({p for d in data for p in find_shards(d)})
    if is_url(data):
        if not exists(data):
            raise FileNotFoundError(f"data path {data} does not exist")
        return parquet_files_at(str(data))
    root = local_path(data)
    if not root.exists():
        raise FileNotFoundError(f"data path {root} does not exist")
    return shard_paths(root)


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


def name_salt(name: str) -> int:
    """A stable integer for a source name, so each source gets its own shuffle order."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big")


@dataclass(frozen=True, order=True)
class DocPosition:
    """Where a document sits in a source: epoch, index into that epoch's unit order, row in the unit."""

    epoch: int = 0
    unit: int = 0  # index into the epoch's shuffled list of row groups (all files of the source)
    row: int = 0  # row within that row group


@dataclass
class LoaderConfig:
    """How documents are chosen, ordered, sharded and packed."""

    batch_size: int = 16
    block_size: int = 128  # tokens per training example; blocks hold block_size + 1 (x and shifted y)
    split: str = "train"  # "train", "val" or "all"
    val_fraction: float = 0.02  # share of documents held out, chosen by a hash of their id
    seed: int = 1337
    shuffle: bool = True  # shuffle file order and row-group order, differently each epoch
    max_epochs: int | None = None  # None loops forever (training); 1 for a single pass (evaluation)
    text_column: str = "text"
    id_column: str = "id"  # hashed for the split; the text is hashed when the column is missing
    tokenize_batch: int = 64  # documents per `encode_batch` call
    read_chunk: int = 1024  # rows converted to Python strings at a time within a row group
    # Streams: the split is divided into this many disjoint document streams, each packed on its
    # own; DDP ranks and DataLoader workers each serve some of them (see model.loader).
    num_streams: int = 1
    # How a source is divided over the streams: "auto" (row groups when there are
    # `min_row_groups_per_stream` per stream, else contiguous row ranges), "row_group", "range",
    # "row" (every stream decodes every row group: S x the reads) or "auto-rows" (the rule of loader
    # states before version 3: row groups, else "row"). See the module docstring.
    shard_by: str = "auto"
    min_row_groups_per_stream: int = 8  # "auto" shards by row group from this many per stream

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.batch_size <= 0 or self.block_size <= 0:
            raise ValueError("batch_size and block_size must be positive")
        if self.num_streams <= 0:
            raise ValueError(f"num_streams must be positive, got {self.num_streams}")
        if self.shard_by not in SHARD_MODES:
            raise ValueError(f"shard_by must be one of {SHARD_MODES}, got {self.shard_by!r}")


def shard_mode(config: LoaderConfig, n_row_groups: int) -> str:
    """How a source of `n_row_groups` row groups is divided over `config.num_streams` streams:
    "row_group", "range" or "row" (`config.shard_by` resolved; see the module docstring)."""
    S = config.num_streams
    if S == 1 or config.shard_by == "row_group":
        return "row_group"  # one stream: every mode reads the same rows in the same order
    if config.shard_by in ("range", "row"):
        return config.shard_by
    if n_row_groups >= config.min_row_groups_per_stream * S:
        return "row_group"
    return "row" if config.shard_by == "auto-rows" else "range"


@dataclass(frozen=True)
class Unit:
    """One row group: which file (index into the source's paths), which row group, how many rows."""

    file: int
    row_group: int
    rows: int


class ShardDocuments:
    """The documents of one split of one source that belong to stream `stream` of
    `config.num_streams`, streamed row group by row group in a seeded per-epoch order."""

    def __init__(self, paths: Sequence[Path], config: LoaderConfig, stream: int = 0, salt: int = 0) -> None:
        if not paths:
            raise ValueError("no Parquet shards given")
        if not 0 <= stream < config.num_streams:
            raise ValueError(f"stream {stream} out of range for {config.num_streams} streams")
        self.paths = list(paths)
        self.config = config
        self.stream = stream
        self.salt = salt
        # Footers only (row counts per row group): cheap, and needed to shard by global position.
        self.row_counts = [
            [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
            for meta in map(parquet_metadata, self.paths)
        ]
        self._offsets_epoch: int | None = None  # epochs_elapsed's cache: row offsets of one epoch's units
        self._offsets: list[int] = []
        self.n_row_groups = sum(map(len, self.row_counts))
        self.n_rows = sum(map(sum, self.row_counts))  # the same every epoch: only the order changes
        self.mode = shard_mode(config, self.n_row_groups)

    def row_range(self, stream: int | None = None) -> range:
        """The global rows (indices into an epoch's order) of stream `stream` (default: this one) in
        "range" mode: floor(s N / S) up to floor((s + 1) N / S), so sizes differ by at most one row."""
        s = self.stream if stream is None else stream
        S, N = self.config.num_streams, self.n_rows
        return range(s * N // S, (s + 1) * N // S)

    def file_order(self, epoch: int) -> list[int]:
        """Indices into `paths` in the order epoch `epoch` reads them."""
        n = len(self.paths)
        if not self.config.shuffle:
            return list(range(n))
        return np.random.default_rng([self.config.seed, self.salt, epoch]).permutation(n).tolist()

    def row_group_order(self, epoch: int, path_index: int, n_row_groups: int) -> list[int]:
        """Row groups of file `paths[path_index]` in the order epoch `epoch` reads them."""
        if not self.config.shuffle:
            return list(range(n_row_groups))
        rng = np.random.default_rng([self.config.seed, self.salt, epoch, path_index])
        return rng.permutation(n_row_groups).tolist()

    def units(self, epoch: int) -> list[Unit]:
        """Every row group of the source, in epoch `epoch`'s order (the same for all streams)."""
        out = []
        for fi in self.file_order(epoch):
            counts = self.row_counts[fi]
            out += [Unit(fi, rg, counts[rg]) for rg in self.row_group_order(epoch, fi, len(counts))]
        return out

    def epochs_elapsed(self, position: DocPosition, stream: int | None = None) -> float:
        """How far through its share of the source stream `stream` (default: this one) is at
        `position`, in epochs: whole epochs done plus the share of the stream's rows that come before
        `position` in that epoch's order (GPT-3's "epochs elapsed", Table 2.2, counted in documents
        rather than tokens: no tokenizing needed). In "row" and "row_group" mode a stream's rows are
        spread over the whole order, so that share is the share of all the source's rows before
        `position`; in "range" mode it is the share of the stream's own range."""
        # Called at every log record for every stream: the epoch's row offsets are computed once per epoch.
        if self._offsets_epoch != position.epoch:
            counts = [u.rows for u in self.units(position.epoch)]
            self._offsets = np.concatenate([[0], np.cumsum(counts)]).tolist()
            self._offsets_epoch = position.epoch
        offsets = self._offsets
        total = offsets[-1]
        if not total:
            return float(position.epoch)
        unit = min(position.unit, len(offsets) - 1)
        in_unit = offsets[unit + 1] - offsets[unit] if unit + 1 < len(offsets) else 0
        before = offsets[unit] + min(position.row, in_unit)
        if self.mode != "range":
            return position.epoch + before / total
        mine = self.row_range(stream)
        if not mine:
            return float(position.epoch)
        return position.epoch + (min(max(before, mine.start), mine.stop) - mine.start) / len(mine)

    def _stream_rows(self, unit_index: int, first_global_row: int, n_rows: int) -> range:
        """The rows of a unit that belong to this stream."""
        S = self.config.num_streams
        if self.mode == "row_group":
            return range(n_rows) if unit_index % S == self.stream else range(0)
        if self.mode == "range":  # the part of this stream's range inside the unit (often none)
            mine = self.row_range()
            return range(max(mine.start - first_global_row, 0), max(min(mine.stop - first_global_row, n_rows), 0))
        return range((self.stream - first_global_row) % S, n_rows, S)

    def __iter__(self) -> Iterator[tuple[DocPosition, str]]:
        return self.iter_from(DocPosition())

    def iter_from(self, start: DocPosition) -> Iterator[tuple[DocPosition, str]]:
        """Yield `(position, text)` for every document of this stream and split at or after `start`.

        Stops after `config.max_epochs` epochs (never, if None). Raises if a whole epoch holds no
        document for this stream, instead of spinning forever.
        """
        cfg = self.config
        epoch = start.epoch
        handle: tuple[int, pq.ParquetFile] | None = None  # the open file, reused across its row groups
        try:
            while cfg.max_epochs is None or epoch < cfg.max_epochs:
                resuming = epoch == start.epoch
                units = self.units(epoch)
                offsets = np.concatenate([[0], np.cumsum([u.rows for u in units])]).tolist()
                found = 0
                for ui in range(start.unit if resuming else 0, len(units)):
                    unit = units[ui]
                    rows = self._stream_rows(ui, offsets[ui], unit.rows)
                    first_row = start.row if resuming and ui == start.unit else 0
                    if first_row > rows.start:  # resuming inside this unit: skip rows already read
                        rows = rows[-(-(first_row - rows.start) // rows.step):]
                    if not rows:
                        continue
                    if handle is None or handle[0] != unit.file:
                        if handle is not None:
                            handle[1].close()
                        handle = (unit.file, open_parquet(self.paths[unit.file]))
                    for row, text in self._read(handle[1], unit, rows):
                        found += 1
                        yield DocPosition(epoch, ui, row), text
                whole_epoch = epoch != start.epoch or start == DocPosition(epoch=start.epoch)
                if found == 0 and whole_epoch:
                    raise ValueError(
                        f"no {cfg.split!r} documents for stream {self.stream} of {cfg.num_streams} in "
                        f"{len(self.paths)} shard(s) (val_fraction={cfg.val_fraction}); "
                        "with this little data use fewer streams (--data-streams) or more documents"
                    )
                epoch += 1
        finally:
            if handle is not None:
                handle[1].close()

    def _read(self, pf: pq.ParquetFile, unit: Unit, rows: range) -> Iterator[tuple[int, str]]:
        """(row, text) for the given rows of one row group that are in the split."""
        cfg = self.config
        names = pf.schema_arrow.names
        if cfg.text_column not in names:
            raise ValueError(f"{self.paths[unit.file]} has no {cfg.text_column!r} column")
        has_id = cfg.id_column in names
        columns = [cfg.text_column] + ([cfg.id_column] if has_id else [])
        # One row group in memory at a time, and only the columns we need.
        table = pf.read_row_group(unit.row_group, columns=columns)
        contiguous = rows.step == 1
        for lo in range(0, len(rows), cfg.read_chunk):
            chunk = rows[lo : lo + cfg.read_chunk]
            part = (table.slice(chunk.start, len(chunk)) if contiguous
                    else table.take(np.arange(chunk.start, chunk.stop, chunk.step)))
            texts = part.column(cfg.text_column).to_pylist()
            ids = part.column(cfg.id_column).to_pylist() if has_id else texts
            for row, text, key in zip(chunk, texts, ids):
                if not text:
                    continue
                if cfg.split != "all" and not in_split(key or text, cfg.split, cfg.val_fraction):
                    continue
                yield row, text
        del table


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
