"""The streaming loader (one stream): shard discovery, packing, splits, ordering, bounded reads, exact resume.

Sharding over streams, ranks and workers is in test_sharding.py; mixing in test_mixing.py."""

from __future__ import annotations

import multiprocessing
import os
from itertools import islice
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

import model.data as data_mod
from model.data import (
    LoaderConfig,
    ShardDocuments,
    find_shards,
    in_split,
    iter_texts,
    val_score,
)
from model.loader import TokenLoader, worker_init
from model.tokenizer import eot_id


def all_docs(shard_dir: Path, split: str, **kw) -> list[str]:
    cfg = LoaderConfig(split=split, shuffle=False, max_epochs=1, **kw)
    return [t for _, t in ShardDocuments(find_shards(shard_dir), cfg)]


def test_find_shards_skips_work_temp_and_hidden(shard_dir: Path) -> None:
    found = find_shards(shard_dir)
    assert [p.name for p in found] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert found == sorted(found)
    assert find_shards(found[1]) == [found[1]]
    assert find_shards([found[1], found[0], found[1]]) == [found[0], found[1]]
    with pytest.raises(FileNotFoundError):
        find_shards(shard_dir / "missing")


def test_split_is_deterministic_and_disjoint(shard_dir: Path) -> None:
    train = all_docs(shard_dir, "train", val_fraction=0.1)
    val = all_docs(shard_dir, "val", val_fraction=0.1)
    everything = all_docs(shard_dir, "all")
    assert len(train) + len(val) == len(everything) == 240
    assert 5 <= len(val) <= 50  # ~10% of 240
    # Disjoint by document (ids are unique, so compare the id-hash decision itself) ...
    ids = [r for p in find_shards(shard_dir) for r in pq.read_table(p, columns=["id"]).column("id").to_pylist()]
    n_val = sum(in_split(i, "val", 0.1) for i in ids)
    assert n_val == len(val) and all(in_split(i, "val", 0.1) != in_split(i, "train", 0.1) for i in ids)
    # ... and the train loader, shuffled over several epochs, never yields a val document.
    cfg = LoaderConfig(split="train", val_fraction=0.1, seed=3, max_epochs=3)
    positions = [pos for pos, _ in ShardDocuments(find_shards(shard_dir), cfg)]
    assert len(positions) == 3 * len(train)
    assert 0.0 <= val_score("abc") < 1.0 and val_score("abc") == val_score("abc")


def test_packing_preserves_every_token_with_eot_separators(shard_dir: Path, tokenizer) -> None:
    cfg = LoaderConfig(batch_size=3, block_size=31, split="all", shuffle=False, max_epochs=1)
    loader = TokenLoader(find_shards(shard_dir), tokenizer, cfg)
    batches = list(loader)
    eot = eot_id(tokenizer)
    expected: list[int] = []
    docs = all_docs(shard_dir, "all")
    for text in docs:
        expected += tokenizer.encode(text).ids + [eot]
    width = cfg.block_size + 1
    emitted: list[int] = []
    for x, y in batches:
        assert x.dtype == y.dtype == torch.long and x.shape == y.shape and x.shape[1] == cfg.block_size
        assert torch.equal(x[:, 1:], y[:, :-1])  # y is x shifted by one
        for bx, by in zip(x, y):
            emitted += bx.tolist() + by[-1:].tolist()
    assert all(x.shape[0] == 3 for x, _ in batches[:-1]) and 1 <= batches[-1][0].shape[0] <= 3
    # Tokens in = tokens out: the stream is cut into blocks, only the last partial block is dropped.
    assert len(expected) - width < len(emitted) <= len(expected)
    assert emitted == expected[: len(emitted)]
    assert expected.count(eot) == len(docs)
    assert loader.tokens_emitted == len(emitted) // width * cfg.block_size


def test_row_groups_read_one_at_a_time(shard_dir: Path, tokenizer, monkeypatch) -> None:
    reads: list[tuple[int, tuple[str, ...]]] = []
    real = pq.ParquetFile

    class Spy(real):
        def read_row_group(self, i, columns=None, **kw):
            table = super().read_row_group(i, columns=columns, **kw)
            reads.append((table.num_rows, tuple(columns)))
            return table

        def read(self, *a, **kw):  # pragma: no cover - must not be called
            raise AssertionError("a whole file was read")

    monkeypatch.setattr(data_mod.pq, "ParquetFile", Spy)
    cfg = LoaderConfig(batch_size=2, block_size=16, tokenize_batch=8)
    next(iter(TokenLoader(find_shards(shard_dir), tokenizer, cfg)))
    assert reads and all(n <= 16 for n, _ in reads)  # the shards were written with 16-row groups
    assert all(cols == ("text", "id") for _, cols in reads)  # only the needed columns
    # The first batch needs 8 documents (one tokenize batch): one or two row groups, not the corpus.
    assert len(reads) <= 2


def test_order_is_seeded_and_changes_per_epoch(shard_dir: Path, tokenizer) -> None:
    def first(seed: int, n: int = 4) -> list[torch.Tensor]:
        cfg = LoaderConfig(batch_size=2, block_size=16, seed=seed)
        return [x for x, _ in islice(TokenLoader(find_shards(shard_dir), tokenizer, cfg), n)]

    a, b, c = first(1), first(1), first(2)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not all(torch.equal(p, q) for p, q in zip(a, c))
    docs = ShardDocuments(find_shards(shard_dir), LoaderConfig(seed=1))
    orders = {tuple(docs.file_order(e)) + tuple(docs.row_group_order(e, 0, 5)) for e in range(6)}
    assert len(orders) > 1
    # Every epoch reads the same documents, in another order.
    two = ShardDocuments(find_shards(shard_dir), LoaderConfig(seed=1, max_epochs=2))
    by_epoch: dict[int, list[str]] = {0: [], 1: []}
    for pos, text in two:
        by_epoch[pos.epoch].append(text)
    assert by_epoch[0] != by_epoch[1] and sorted(by_epoch[0]) == sorted(by_epoch[1])


def test_loops_over_epochs(shard_dir: Path, tokenizer) -> None:
    loader = TokenLoader(find_shards(shard_dir), tokenizer, LoaderConfig(batch_size=8, block_size=64))
    it = iter(loader)
    n = 0
    while loader.epoch < 2:
        next(it)
        n += 1
    assert n > 5 and loader.tokens_emitted == n * 8 * 64


@pytest.mark.parametrize("stop_after", [1, 7, 23])
def test_resume_continues_exactly(shard_dir: Path, tokenizer, stop_after: int) -> None:
    cfg = LoaderConfig(batch_size=3, block_size=40, seed=7, tokenize_batch=5)
    paths = find_shards(shard_dir)
    reference = [x for x, _ in islice(TokenLoader(paths, tokenizer, cfg), stop_after + 12)]

    first = TokenLoader(paths, tokenizer, cfg)
    it = iter(first)
    for _ in range(stop_after):
        next(it)
    state = first.state_dict()
    stream = state["streams"]["0"]
    assert stream["batches"] == stop_after and stream["sources"]["all"]["token_offset"] >= 0

    resumed = TokenLoader(paths, tokenizer, cfg)
    resumed.load_state_dict(state)
    rest = [x for x, _ in islice(resumed, 12)]
    assert all(torch.equal(p, q) for p, q in zip(reference[stop_after:], rest))
    assert len(rest) == 12


def test_resume_state_must_match(shard_dir: Path, tokenizer) -> None:
    paths = find_shards(shard_dir)
    loader = TokenLoader(paths, tokenizer, LoaderConfig(seed=1))
    other = TokenLoader(paths, tokenizer, LoaderConfig(seed=2))
    with pytest.raises(ValueError, match="seed"):
        other.load_state_dict(loader.state_dict())
    fewer = TokenLoader(paths[:2], tokenizer, LoaderConfig(seed=1))
    with pytest.raises(ValueError, match="shards"):
        fewer.load_state_dict(loader.state_dict())


def test_empty_split_raises_instead_of_spinning(make_shards, tokenizer) -> None:
    loader = TokenLoader(find_shards(make_shards(3)), tokenizer, LoaderConfig(split="val", val_fraction=0.0))
    with pytest.raises(ValueError, match="no 'val' documents"):
        next(iter(loader))


def test_iter_texts_stops_at_char_budget(shard_dir: Path) -> None:
    texts = list(iter_texts(find_shards(shard_dir), max_chars=500))
    assert sum(map(len, texts[:-1])) < 500 <= sum(map(len, texts))
    assert len(list(iter_texts(find_shards(shard_dir), split="val", val_fraction=0.1))) < 50


def test_resume_across_epoch_boundary(shard_dir: Path, tokenizer) -> None:
    cfg = LoaderConfig(batch_size=4, block_size=63, seed=11)
    paths = find_shards(shard_dir)
    loader = TokenLoader(paths, tokenizer, cfg)
    reference, states, epochs = [], [], []
    for x, _ in islice(loader, 150):
        reference.append(x)
        states.append(loader.state_dict())
        epochs.append(loader.epoch)
    crossing = epochs.index(1)  # the first batch after which the stream is in epoch 1
    for k in (crossing - 1, crossing, crossing + 1):
        resumed = TokenLoader(paths, tokenizer, cfg)
        resumed.load_state_dict(states[k])
        rest = [x for x, _ in islice(resumed, 5)]
        assert all(torch.equal(p, q) for p, q in zip(reference[k + 1 : k + 6], rest)), k


def _report_niceness(queue, nice: int) -> None:
    worker_init(0, nice=nice)
    queue.put(os.nice(0))


def test_loader_workers_run_below_the_training_process() -> None:
    """Tokenizing yields the cores to the training step (--loader-nice)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    for nice in (0, 7):
        proc = ctx.Process(target=_report_niceness, args=(queue, nice))
        proc.start()
        assert queue.get(timeout=30) == min(19, os.nice(0) + nice)
        proc.join(timeout=30)
