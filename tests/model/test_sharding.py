"""Sharding: DDP ranks x DataLoader workers read disjoint documents that together are the train split."""

from __future__ import annotations

import json
import os
from itertools import islice
from pathlib import Path

import pytest
import torch
from torch.utils.data import get_worker_info

import model.data as data_mod
from model.data import LoaderConfig, ShardDocuments, find_shards
from model.loader import TokenLoader
from tests.model.conftest import unique_documents, write_shards


def train_split(paths: list[Path], val_fraction: float) -> list[str]:
    cfg = LoaderConfig(split="train", val_fraction=val_fraction, shuffle=False, max_epochs=1)
    return [t for _, t in ShardDocuments(paths, cfg)]


@pytest.mark.parametrize("shard_by", ["row", "range", "row_group"])
@pytest.mark.parametrize("num_streams", [2, 3, 5])
def test_streams_partition_the_split_every_epoch(tmp_path: Path, shard_by: str, num_streams: int) -> None:
    paths = write_shards(tmp_path, unique_documents(150), n_files=3, row_group_size=8)
    expected = sorted(train_split(paths, 0.1))
    for epoch in range(2):  # the shuffle (and so each stream's share) differs per epoch
        per_stream = []
        for s in range(num_streams):
            cfg = LoaderConfig(val_fraction=0.1, seed=5, num_streams=num_streams, shard_by=shard_by,
                               max_epochs=epoch + 1)
            docs = ShardDocuments(paths, cfg, stream=s)
            per_stream.append([t for pos, t in docs.iter_from(data_mod.DocPosition(epoch=epoch))])
        flat = [t for texts in per_stream for t in texts]
        assert sorted(flat) == expected  # no gaps, and no document twice
        assert all(per_stream)
        if shard_by != "row_group":  # exact balance in rows (documents: up to the val split's luck)
            sizes = [len(t) for t in per_stream]
            assert max(sizes) - min(sizes) <= 0.25 * max(sizes)


def test_auto_mode_picks_row_groups_only_when_there_are_many(tmp_path: Path) -> None:
    paths = write_shards(tmp_path, unique_documents(160), n_files=2, row_group_size=5)  # 2 x 16 row groups

    def mode(S: int, shard_by: str = "auto") -> str:
        return ShardDocuments(paths, LoaderConfig(num_streams=S, shard_by=shard_by, min_row_groups_per_stream=4)).mode

    assert mode(1) == "row_group" and mode(8) == "row_group" and mode(9) == "range"
    # The rule before loader state 3, kept for older checkpoints: rows dealt out one by one.
    assert mode(8, "auto-rows") == "row_group" and mode(9, "auto-rows") == "row"
    assert mode(1, "range") == "row_group"  # one stream: every mode reads the same rows
    assert mode(2, "range") == "range" and mode(9, "row") == "row" and mode(9, "row_group") == "row_group"


@pytest.mark.parametrize("world_size,workers", [(1, 2), (2, 1), (2, 2)])
def test_ranks_times_workers_read_disjoint_documents_covering_the_split(
    tmp_path: Path, tokenizer, monkeypatch, world_size: int, workers: int
) -> None:
    """End to end through real DataLoader worker processes: every (rank, worker) logs the documents it
    reads; their union is the train split and no two of them share a document."""
    paths = write_shards(tmp_path / "data", unique_documents(120), n_files=3, row_group_size=8)
    log_dir = tmp_path / "reads"
    log_dir.mkdir()
    real_read = ShardDocuments._read
    current_rank = {"rank": -1}

    def logged_read(self, pf, unit, rows):
        info = get_worker_info()  # set inside a DataLoader worker process
        worker = info.id if info is not None else 0
        with open(log_dir / f"{current_rank['rank']}-{worker}-{os.getpid()}.jsonl", "a") as f:
            for row, text in real_read(self, pf, unit, rows):
                f.write(json.dumps({"stream": self.stream, "text": text}) + "\n")
                yield row, text

    monkeypatch.setattr(ShardDocuments, "_read", logged_read)  # forked workers inherit the patch
    num_streams = world_size * workers
    cfg = LoaderConfig(batch_size=2, block_size=16, val_fraction=0.1, max_epochs=1, num_streams=num_streams)
    batches = 0
    for rank in range(world_size):
        current_rank["rank"] = rank
        loader = TokenLoader(paths, tokenizer, cfg, rank=rank, world_size=world_size, num_workers=workers)
        assert loader.num_workers == workers
        batches += sum(1 for _ in loader)
    assert batches > 0

    by_reader: dict[tuple[int, int], list[str]] = {}
    streams_of: dict[tuple[int, int], set[int]] = {}
    for f in log_dir.iterdir():
        rank, worker, _ = map(int, f.stem.split("-"))
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            by_reader.setdefault((rank, worker), []).append(rec["text"])
            streams_of.setdefault((rank, worker), set()).add(rec["stream"])
    assert set(by_reader) == {(r, w) for r in range(world_size) for w in range(workers)}
    flat = [t for texts in by_reader.values() for t in texts]
    assert len(flat) == len(set(flat))  # pairwise disjoint (and nothing read twice)
    assert sorted(flat) == sorted(train_split(paths, 0.1))  # no gaps
    # Rank r owns streams r, r + R, ...; its worker w the ones at local index = w mod W.
    for (rank, worker), streams in streams_of.items():
        local = list(range(rank, num_streams, world_size))
        assert streams == {g for k, g in enumerate(local) if k % workers == worker}


def test_worker_count_does_not_change_the_batches(shard_dir: Path, tokenizer) -> None:
    paths = find_shards(shard_dir)
    cfg = LoaderConfig(batch_size=3, block_size=24, seed=4, num_streams=4)
    reference = [x for x, _ in islice(TokenLoader(paths, tokenizer, cfg), 20)]
    for workers in (1, 2):  # 2 workers x 2 streams each
        got = [x for x, _ in islice(TokenLoader(paths, tokenizer, cfg, num_workers=workers), 20)]
        assert all(torch.equal(a, b) for a, b in zip(reference, got)), workers
    # A worker count that does not divide the rank's streams is lowered to one that does.
    assert TokenLoader(paths, tokenizer, cfg, num_workers=3).num_workers == 2
    with pytest.raises(ValueError, match="evenly"):
        TokenLoader(paths, tokenizer, cfg, world_size=3)


def test_too_many_streams_for_the_data_is_an_error(make_shards, tokenizer) -> None:
    paths = find_shards(make_shards(3))
    loader = TokenLoader(paths, tokenizer, LoaderConfig(num_streams=8, shard_by="row", val_fraction=0.0))
    with pytest.raises(ValueError, match="fewer streams"):
        list(islice(loader, 16))  # stream 3 and up hold no document
