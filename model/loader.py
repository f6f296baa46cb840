"""The training loader: sources -> disjoint streams -> packed (x, y) batches, across DDP ranks and
DataLoader workers, with an exact resume state.

Layout of the work (S = `LoaderConfig.num_streams`, R ranks, W workers per rank):

- Each source's documents are split into S disjoint streams (`model.data.ShardDocuments`). Stream g
  packs its documents into blocks (`model.packing.BlockPacker`, one per source) and forms batches;
  each block's source is drawn with the mixture weights (`model.mixing.mix_choices`).
- Rank r owns the streams g = r, r + R, r + 2R, ... (L = S / R of them) and reads them round-robin:
  its batch i comes from its local stream i mod L.
- With W > 0 workers (W divides L), worker w computes the batches i = w, w + W, ... (so always the
  same streams), in a background process: reading Parquet and tokenizing never block the training
  step. torch's DataLoader returns the workers' batches in round-robin order, i.e. in order of i, so
  the sequence of batches does not depend on W: W = 0, 1, 2 give the same data.

With finite epochs (evaluation, tests) a stream ends when its data runs out, and the others
continue until all have ended.

Exact resume: every batch comes with its stream's state after it (a few integers per source) and
its index i. The main process keeps the latest state of each stream and the count of batches
consumed; `state_dict()` is that, and a loader restored from it continues with batch i + 1 from
every stream's next block: the same batches an uninterrupted run would have seen, whatever was
prefetched and thrown away. The data order depends on the seed, S and the batch size, not on W.

The state also records how each source was divided over the streams (`model.data.shard_mode`), and a
loader refuses a state whose division differs. States of version 2 were written when "auto" meant
"row groups, else every stream reads every row group and keeps every S-th row"; loading one switches
an "auto" loader to that rule ("auto-rows"), so an older checkpoint continues the same data.
"""

from __future__ import annotations

import functools
import json
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from model.data import DocPosition, LoaderConfig, ShardDocuments, name_salt, shard_mode
from model.locations import is_url
from model.mixing import ALL, Source, mix_choices
from model.packing import BlockPacker

STATE_VERSION = 3
# Version 2 (before the "range" mode): same layout, no shard modes, and "auto" meant "auto-rows".
READABLE_STATE_VERSIONS = (2, 3)


def fresh_stream_state(sources: Sequence[Source]) -> dict[str, Any]:
    """The state of a stream that has produced nothing yet."""
    return {"batches": 0, "sources": {s.name: {"position": asdict(DocPosition()), "token_offset": 0}
                                      for s in sources},
            "blocks": {s.name: 0 for s in sources}}


def stream_batches(
    stream: int,
    sources: Sequence[Source],
    tokenizer: Tokenizer,
    cfg: LoaderConfig,
    state: dict[str, Any],
) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
    """Batches (n, block_size + 1) of one stream, each with the stream's state right after it.

    With finite `max_epochs`, ends (after a short batch, if any) when the source drawn next runs out.
    """
    packers = [
        BlockPacker(ShardDocuments(s.paths, cfg, stream, name_salt(s.name)), tokenizer, cfg.block_size + 1,
                    cfg.tokenize_batch, state["sources"][s.name])
        for s in sources
    ]
    weights = [s.weight for s in sources]
    n_batches = int(state["batches"])
    # Blocks drawn from each source so far (for the per-source report; a state saved before this
    # counter existed starts it at 0).
    drawn = [int(state.get("blocks", {}).get(s.name, 0)) for s in sources]
    while True:
        blocks = []
        for k in mix_choices(cfg.seed, stream, n_batches, cfg.batch_size, weights):
            block = packers[k].next_block()
            if block is None:
                break
            blocks.append(block)
            drawn[k] += 1
        if not blocks:
            return
        n_batches += 1
        new_state = {"batches": n_batches, "sources": {s.name: p.state() for s, p in zip(sources, packers)},
                     "blocks": {s.name: n for s, n in zip(sources, drawn)}}
        yield np.asarray(blocks, dtype=np.int64), new_state
        if len(blocks) < cfg.batch_size:
            return


class _StreamBatches(IterableDataset):
    """Batches i = cursor + w, cursor + w + W, ... of one rank, for worker w of W (in-process: 0 of 1)."""

    def __init__(self, sources: Sequence[Source], tokenizer: Tokenizer, cfg: LoaderConfig,
                 local_streams: list[int], cursor: int, states: dict[int, dict[str, Any]]) -> None:
        self.sources, self.tokenizer, self.cfg = list(sources), tokenizer, cfg
        self.local_streams, self.cursor, self.states = local_streams, cursor, states

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, str]]:
        info = get_worker_info()
        w, W = (info.id, info.num_workers) if info is not None else (0, 1)
        L = len(self.local_streams)
        mine = {self.local_streams[(self.cursor + w + k * W) % L] for k in range(L)}
        gens: dict[int, Iterator[tuple[np.ndarray, dict[str, Any]]]] = {}
        ended: set[int] = set()  # streams whose data ran out (finite epochs only)
        i = self.cursor + w
        while len(ended) < len(mine):
            g = self.local_streams[i % L]
            if g not in ended:
                if g not in gens:
                    gens[g] = stream_batches(g, self.sources, self.tokenizer, self.cfg, self.states[g])
                item = next(gens[g], None)
                if item is None:
                    ended.add(g)
                else:
                    blocks, state = item
                    block = torch.from_numpy(blocks)
                    # x is the block minus its last token, y the block minus its first: y[t] follows x[t].
                    # The state travels as JSON text, which the DataLoader passes through untouched.
                    yield (block[:, :-1].contiguous(), block[:, 1:].contiguous(),
                           json.dumps({"i": i, "stream": g, "state": state}))
            i += W


def worker_init(_: int, nice: int = 0) -> None:
    """Set up a DataLoader worker process: one thread, signals left to the training process, and `nice`
    added to its scheduling niceness."""
    # One worker = one core: no tokenizers thread pool inside it (and no fork warning about it).
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    # Ctrl-C and a scheduler's SIGTERM reach the whole process group. The training process turns them
    # into "finish this step and save", which may still need batches; a worker that died of the
    # signal would break that. The main process stops its workers itself (and they exit if it dies).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Below the training process: where the cores are busy with the step (CPU training; a GPU node whose
    # cores feed eight ranks) tokenizing takes the time the step leaves, instead of taking cores from it
    # and from kernel launches. The worker stays well ahead of the step either way: it produces batches
    # ~100x faster than a step consumes them (bench/bench_train.py, "loader alone").
    if nice > 0:
        os.nice(nice)


def largest_divisor_at_most(n: int, k: int) -> int:
    return max(d for d in range(1, max(1, min(n, k)) + 1) if n % d == 0)


class TokenLoader:
    """This rank's `(x, y)` LongTensor batches of shape (B, T) over the given sources.

    `data` is a list of shard paths (one source) or of `Source`s (a mixture). Iterating continues
    from the current state; `state_dict()` taken after receiving a batch describes the position
    right after that batch.
    """

    def __init__(
        self,
        data: Sequence[Path] | Sequence[Source],
        tokenizer: Tokenizer,
        config: LoaderConfig,
        rank: int = 0,
        world_size: int = 1,
        num_workers: int = 0,
        pin_memory: bool = False,
        worker_nice: int = 10,
    ) -> None:
        if data and all(isinstance(d, Source) for d in data):
            self.sources = list(data)
        else:
            self.sources = [Source(ALL, tuple(p if is_url(p) else Path(p) for p in data))]
        if not self.sources or not all(s.paths for s in self.sources):
            raise ValueError("no Parquet shards given")
        S = config.num_streams
        if S % world_size:
            raise ValueError(f"{S} data streams cannot be split evenly over {world_size} ranks")
        self.config = config
        self.tokenizer = tokenizer
        self.rank, self.world_size = rank, world_size
        self.local_streams = [rank + k * world_size for k in range(S // world_size)]
        # Workers must divide the rank's streams, so every stream stays in one worker (its state
        # evolves in one process) and the round-robin order is kept.
        self.num_workers = largest_divisor_at_most(len(self.local_streams), num_workers) if num_workers > 0 else 0
        self.pin_memory = pin_memory
        self.worker_nice = worker_nice  # added to the workers' niceness (0: the training process's priority)
        self._cursor = 0  # batches this rank has consumed
        self._states = {g: fresh_stream_state(self.sources) for g in self.local_streams}
        self.tokens_emitted = 0  # tokens yielded in x by this loader object (for statistics)
        self._footers: dict[str, ShardDocuments] = {}  # per source, its Parquet footers (stream 0's view)

    @property
    def epoch(self) -> int:
        """The furthest epoch any source of any of this rank's streams has reached."""
        return max(st["position"]["epoch"] for s in self._states.values() for st in s["sources"].values())

    def epochs(self) -> dict[str, int]:
        """Per source, the furthest epoch reached by this rank's streams."""
        return {src.name: max(s["sources"][src.name]["position"]["epoch"] for s in self._states.values())
                for src in self.sources}

    def source_progress(self) -> dict[str, dict[str, float]]:
        """Per source, over this rank's streams: training tokens drawn from it and epochs elapsed (the
        mean over the streams of how far each is through its share of the source)."""
        out = {}
        for src in self.sources:
            docs = self._source_footers(src)
            states = self._states
            blocks = sum(int(st.get("blocks", {}).get(src.name, 0)) for st in states.values())
            epochs = [docs.epochs_elapsed(DocPosition(**st["sources"][src.name]["position"]), stream=g)
                      for g, st in states.items()]
            out[src.name] = {"tokens": blocks * self.config.block_size, "epochs": sum(epochs) / len(epochs)}
        return out

    def _source_footers(self, src: Source) -> ShardDocuments:
        # Read each source's Parquet footers once; rebuilt when load_state_dict changes the config.
        docs = self._footers.get(src.name)
        if docs is None or docs.config is not self.config:
            docs = self._footers[src.name] = ShardDocuments(src.paths, self.config, 0, name_salt(src.name))
        return docs

    def shard_modes(self, config: LoaderConfig | None = None) -> dict[str, str]:
        """Per source, how it is divided over the streams under `config` (default: this loader's):
        "row_group", "range" or "row" (`model.data.shard_mode`)."""
        config = config or self.config
        return {src.name: shard_mode(config, self._source_footers(src).n_row_groups) for src in self.sources}

    def _fingerprint(self) -> dict[str, Any]:
        c = self.config
        return {
            "num_streams": c.num_streams, "batch_size": c.batch_size,
            "block_size": c.block_size, "seed": c.seed, "split": c.split, "val_fraction": c.val_fraction,
            "sources": {s.name: {"weight": round(s.weight, 12), "shards": s.digest()} for s in self.sources},
        }

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable position of this rank's streams (plus what it must match when loaded).

        In DDP, merge the ranks' dicts with `merge_states` before saving.
        """
        return {"version": STATE_VERSION, "cursor": self._cursor, "world_size": self.world_size,
                "streams": {str(g): self._states[g] for g in self.local_streams},
                "shard_by": self.config.shard_by, "shard_modes": self.shard_modes(), **self._fingerprint()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a `state_dict()`; the next batch is the one that followed it.

        A state written before version 3 (or by a loader that continued one) switches an "auto"
        loader to "auto-rows", the rule it was written with, so it continues the same data.
        """
        version = state.get("version")
        if version not in READABLE_STATE_VERSIONS:
            raise ValueError(f"loader state version {version!r} is not one of {READABLE_STATE_VERSIONS}: "
                             "it was written by an older webtext; start a fresh run")
        for key, mine in self._fingerprint().items():
            if state.get(key) != mine:
                raise ValueError(
                    f"loader state was saved with {key}={state.get(key)!r}, this loader has {mine!r}; "
                    "resuming would not continue the same stream"
                )
        missing = [g for g in self.local_streams if str(g) not in state["streams"]]
        if missing:
            raise ValueError(f"loader state lacks streams {missing}")
        saved_rule = "auto-rows" if version == 2 else state.get("shard_by")
        config = self.config
        if config.shard_by == "auto" and saved_rule == "auto-rows":
            config = replace(config, shard_by="auto-rows")
        if "shard_modes" in state and state["shard_modes"] != self.shard_modes(config):
            raise ValueError(
                f"loader state divided its sources over the streams as {state['shard_modes']} "
                f"(shard_by={state.get('shard_by')!r}); this loader (shard_by={self.config.shard_by!r}) would "
                f"divide them as {self.shard_modes(config)}: resuming would not continue the same streams"
            )
        # Any world size continues the same data: each stream's state is its own, and the streams of rank r
        # are r, r + R, ... read round-robin, so R ranks x A micro-batches per step read exactly the blocks
        # that R' ranks x A' read when R x A = R' x A' (tested). Only the per-rank batch count is rescaled.
        consumed = int(state["cursor"]) * int(state.get("world_size", self.world_size))
        if consumed % self.world_size:
            raise ValueError(f"{consumed} batches were read by {state.get('world_size')} ranks in all; "
                             f"{self.world_size} ranks cannot continue them evenly")
        # Every check passed: only now change the loader (a refused state leaves it as it was).
        self.config = config
        self._states = {g: state["streams"][str(g)] for g in self.local_streams}
        self._cursor = consumed // self.world_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        dataset = _StreamBatches(self.sources, self.tokenizer, self.config, self.local_streams,
                                 self._cursor, dict(self._states))
        if self.num_workers == 0:
            it: Any = iter(dataset)
        else:
            # A private generator: the DataLoader draws its workers' base seed from it, and drawing from
            # torch's global RNG would shift the dropout masks of a resumed run.
            it = iter(DataLoader(dataset, batch_size=None, num_workers=self.num_workers,
                                 worker_init_fn=functools.partial(worker_init, nice=self.worker_nice), pin_memory=self.pin_memory, prefetch_factor=2,
                                 generator=torch.Generator()))
        try:
            for x, y, meta in it:
                m = json.loads(meta)
                if m["i"] != self._cursor and self.config.max_epochs is None:
                    raise RuntimeError(f"loader batch {m['i']} arrived when {self._cursor} was due")
                # With finite epochs a stream that ran out is skipped and the others drain, so the
                # batch indices may jump; training streams never run out and always arrive in order.
                self._states[m["stream"]] = m["state"]
                self._cursor = max(self._cursor, m["i"]) + 1
                self.tokens_emitted += x.numel()
                yield x, y
        finally:
            shutdown = getattr(it, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()  # stop the worker processes now, not whenever the iterator is collected


def merge_states(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One loader state from the `state_dict()`s of all ranks (they advance in lockstep); a run with any
    number of ranks can continue it (`TokenLoader.load_state_dict`)."""
    cursors = {s["cursor"] for s in states}
    if len(cursors) != 1:
        raise ValueError(f"ranks are at different batches {sorted(cursors)}; cannot save a consistent state")
    merged = dict(states[0])
    merged["streams"] = {k: v for s in states for k, v in s["streams"].items()}
    return merged
