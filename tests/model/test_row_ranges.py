"""The "range" sharding mode: each stream reads a contiguous run of the epoch's rows, so a small corpus
on many streams is decoded about once per epoch (not once per stream); and loader states written
before it (version 2, old "auto" rule) still resume exactly."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from itertools import islice
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

import model.data as data_mod
from model.data import DocPosition, LoaderConfig, ShardDocuments
from model.loader import STATE_VERSION, TokenLoader
from tests.model.conftest import unique_documents, write_shards


def stream_docs(paths: list[Path], cfg: LoaderConfig, stream: int,
                start: DocPosition = DocPosition()) -> list[tuple[DocPosition, str]]:
    return list(ShardDocuments(paths, cfg, stream=stream).iter_from(start))


@pytest.fixture
def count_reads(monkeypatch):
    """Patch Parquet reading to count row-group reads per (stream, file, row group)."""
    reads: Counter = Counter()
    real = pq.ParquetFile
    current = {"stream": -1}

    class Counting(real):
        def read_row_group(self, i, columns=None, **kw):
            reads[(current["stream"], str(self.metadata.schema), i)] += 1
            return super().read_row_group(i, columns=columns, **kw)

    monkeypatch.setattr(data_mod.pq, "ParquetFile", Counting)

    def run(paths: list[Path], cfg: LoaderConfig) -> tuple[int, list[list[str]]]:
        reads.clear()
        per_stream = []
        for s in range(cfg.num_streams):
            current["stream"] = s
            per_stream.append([t for _, t in ShardDocuments(paths, cfg, stream=s)])
        return sum(reads.values()), per_stream

    return run


def test_range_mode_decodes_each_row_group_about_once(tmp_path: Path, count_reads) -> None:
    paths = write_shards(tmp_path, unique_documents(100), n_files=2, row_group_size=10)  # 10 row groups
    n_rg, S = 10, 4
    cfg = LoaderConfig(split="all", seed=2, num_streams=S, max_epochs=1)
    ranged, range_docs = count_reads(paths, replace(cfg, shard_by="range"))
    rowwise, row_docs = count_reads(paths, replace(cfg, shard_by="row"))
    assert ranged <= n_rg + S - 1  # 25 rows per stream: 3 row groups each, 12 in all
    assert rowwise == S * n_rg  # every stream decodes the whole corpus
    for per_stream in (range_docs, row_docs):  # both are the corpus, each document once
        assert sorted(t for docs in per_stream for t in docs) == sorted(unique_documents(100))


def test_many_streams_on_a_small_corpus_stay_near_one_pass(tmp_path: Path, count_reads) -> None:
    # The case "range" exists for: 40 row groups, 64 streams (1-2 rows each). "row" would make 2560 reads.
    paths = write_shards(tmp_path, unique_documents(200), n_files=4, row_group_size=5)  # 4 x 10 row groups
    total, per_stream = count_reads(paths, LoaderConfig(split="all", seed=3, num_streams=64, max_epochs=1))
    assert total <= 40 + 64 - 1
    sizes = [len(docs) for docs in per_stream]
    assert sum(sizes) == 200 and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("num_streams", [2, 3, 4, 7])
def test_ranges_cut_the_epoch_order_into_contiguous_balanced_runs(tmp_path: Path, num_streams: int) -> None:
    paths = write_shards(tmp_path, unique_documents(103), n_files=3, row_group_size=7)  # uneven row groups
    for epoch in range(2):
        cfg = LoaderConfig(split="all", seed=5, max_epochs=epoch + 1)
        order = [t for _, t in stream_docs(paths, cfg, 0, DocPosition(epoch=epoch))]  # one stream: the order
        ranged = replace(cfg, num_streams=num_streams, shard_by="range")
        runs = [[t for _, t in stream_docs(paths, ranged, s, DocPosition(epoch=epoch))] for s in range(num_streams)]
        assert [t for run in runs for t in run] == order  # stream s holds the s-th run of the order
        sizes = [len(run) for run in runs]
        assert max(sizes) - min(sizes) <= 1
        assert [len(ShardDocuments(paths, ranged, stream=s).row_range()) for s in range(num_streams)] == sizes


def test_resume_inside_a_range_continues_the_stream(tmp_path: Path) -> None:
    paths = write_shards(tmp_path, unique_documents(90), n_files=2, row_group_size=8)  # groups of 8 and 5 rows
    cfg = LoaderConfig(split="train", val_fraction=0.1, seed=4, num_streams=4, shard_by="range", max_epochs=2)
    # A stream whose range starts inside a row group of epoch 0 (22 or 23 rows per stream).
    starts = {}
    for s in range(cfg.num_streams):
        docs = ShardDocuments(paths, cfg, stream=s)
        offset, start = 0, docs.row_range().start
        for ui, unit in enumerate(docs.units(0)):
            if offset < start < offset + unit.rows:
                starts[s] = ui
            offset += unit.rows
    stream, unit = min(starts.items())
    full = stream_docs(paths, cfg, stream)
    # Resuming at the start of that row group (before the range) still gives only this stream's rows.
    assert full[0][0].unit == unit and full[0][0].row > 0
    assert stream_docs(paths, cfg, stream, DocPosition(0, unit, 0)) == full
    n_epoch0 = sum(pos.epoch == 0 for pos, _ in full)
    mid_unit = [k for k in range(1, len(full)) if full[k][0].unit == full[k - 1][0].unit]
    for k in (1, mid_unit[2], n_epoch0 // 2, n_epoch0 - 1, n_epoch0, n_epoch0 + 3):
        pos = full[k][0]
        assert stream_docs(paths, cfg, stream, pos) == full[k:], k


def test_epochs_elapsed_is_the_share_of_the_streams_own_range(tmp_path: Path) -> None:
    paths = write_shards(tmp_path, unique_documents(60), n_files=2, row_group_size=8)
    cfg = LoaderConfig(split="all", seed=6, num_streams=3, shard_by="range", max_epochs=2)
    footers = ShardDocuments(paths, cfg, stream=0)  # how the loader asks: one object, any stream
    for s in range(3):
        docs = stream_docs(paths, cfg, s)
        n = len(docs) // 2  # 20 rows per stream and epoch
        assert n == 20
        for k, (pos, _) in enumerate(docs):
            assert footers.epochs_elapsed(pos, stream=s) == pytest.approx(pos.epoch + (k % n) / n), (s, k)
        assert ShardDocuments(paths, cfg, stream=s).epochs_elapsed(docs[7][0]) == pytest.approx(7 / 20)


def small_loader_setup(tmp_path: Path, tokenizer) -> tuple[list[Path], LoaderConfig]:
    paths = write_shards(tmp_path / "data", unique_documents(120), n_files=2, row_group_size=8)  # 16 row groups
    cfg = LoaderConfig(batch_size=2, block_size=16, seed=3, tokenize_batch=4, num_streams=4)  # "auto": < 8 per stream
    return paths, cfg


def test_a_version_2_state_resumes_with_the_old_rule(tmp_path: Path, tokenizer) -> None:
    paths, cfg = small_loader_setup(tmp_path, tokenizer)
    old_cfg = replace(cfg, shard_by="auto-rows")
    old_run = [x for x, _ in islice(TokenLoader(paths, tokenizer, old_cfg), 24)]
    new_run = [x for x, _ in islice(TokenLoader(paths, tokenizer, cfg), 24)]
    assert not all(torch.equal(a, b) for a, b in zip(old_run, new_run))  # the rules really differ here

    # A checkpoint written before state version 3: the old "auto" rule, no shard fields.
    first = TokenLoader(paths, tokenizer, old_cfg)
    for _ in islice(first, 6):
        pass
    state = first.state_dict()
    state["version"] = 2
    del state["shard_by"], state["shard_modes"]

    resumed = TokenLoader(paths, tokenizer, cfg)  # what a run restarted today builds: "auto"
    resumed.load_state_dict(state)
    assert resumed.config.shard_by == "auto-rows" and resumed.shard_modes() == {"all": "row"}
    rest = [x for x, _ in islice(resumed, 9)]
    assert len(rest) == 9 and all(torch.equal(a, b) for a, b in zip(old_run[6:15], rest))

    # Its next checkpoint is version 3 and keeps the old rule, so the run can be resumed again.
    again_state = resumed.state_dict()
    assert again_state["version"] == STATE_VERSION == 3 and again_state["shard_by"] == "auto-rows"
    again = TokenLoader(paths, tokenizer, cfg)
    again.load_state_dict(again_state)
    rest = [x for x, _ in islice(again, 9)]
    assert len(rest) == 9 and all(torch.equal(a, b) for a, b in zip(old_run[15:24], rest))


def test_a_state_with_other_shard_modes_is_refused(tmp_path: Path, tokenizer) -> None:
    paths, cfg = small_loader_setup(tmp_path, tokenizer)
    row_loader = TokenLoader(paths, tokenizer, replace(cfg, shard_by="row"))
    state = row_loader.state_dict()
    assert state["shard_modes"] == {"all": "row"} and state["shard_by"] == "row"
    auto = TokenLoader(paths, tokenizer, cfg)
    assert auto.shard_modes() == {"all": "range"}
    with pytest.raises(ValueError, match=r"divided its sources.*'row'.*'range'"):
        auto.load_state_dict(state)
    assert auto.config is cfg  # a refused state changes nothing
    # The same division under another name is fine: one stream is read whole whatever the mode.
    one = replace(cfg, num_streams=1)
    TokenLoader(paths, tokenizer, one).load_state_dict(TokenLoader(paths, tokenizer, replace(one, shard_by="row"))
                                                        .state_dict())
    state["version"] = 1
    with pytest.raises(ValueError, match="version 1"):
        auto.load_state_dict(state)
