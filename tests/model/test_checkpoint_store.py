"""Checkpoint stores: a local folder and an S3 bucket (moto's S3 server on 127.0.0.1, through s3fs): the same
layout, train_state.json as the commit of a remote save, `latest`, keep-last pruning, and resume lookups."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed.checkpoint as dcp

from model.checkpoint import load_model, load_train_state
from model.checkpoint_store import LocalStore, RemoteStore, find_resume, open_store, resolve_any
from model.config import GPTConfig
from model.fsdp import check_all_ranks_wrote
from model.gpt import GPT
from model.sample import SampleConfig, sample


def tiny_model() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=8, vocab_size=32))


def save(store, model: GPT, step: int, keep_last: int = 0, remove: list[str] = ()) -> str:
    return store.save(model, {"step": step, "tokens_seen": step * 10}, None, {"torch_rng": torch.get_rng_state()},
                      [], keep_last, list(remove), None, [])


def test_stores_are_chosen_by_location(tmp_path: Path, s3_endpoint: str) -> None:
    assert isinstance(open_store(tmp_path / "run", tmp_path), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path}/run", tmp_path), LocalStore)
    remote = open_store("s3://bucket/run", tmp_path)
    assert isinstance(remote, RemoteStore) and remote.location == "s3://bucket/run"


def test_remote_save_lists_points_latest_and_prunes(tmp_path: Path, s3_endpoint: str) -> None:
    store = open_store("s3://bucket/prune", tmp_path / "out")
    model = tiny_model()
    for step in (10, 20, 30):
        url = save(store, model, step, keep_last=2)
    assert url == "s3://bucket/prune/ckpt-000030"
    assert store.list() == [(20, "ckpt-000020"), (30, "ckpt-000030")]
    assert store.latest() == "ckpt-000030"
    assert not (tmp_path / "out" / ".checkpoint-staging").exists()  # the staged copy is deleted after upload

    # A save killed before its train_state.json: not a checkpoint, and `latest` falls back past it.
    store.fs.pipe_file("bucket/prune/ckpt-000040/config.json", b"{}")
    store.fs.pipe_file("bucket/prune/latest", b"ckpt-000040\n")
    assert store.list()[-1] == (30, "ckpt-000030") and store.latest() == "ckpt-000030"
    save(store, model, 40)  # saving that step again replaces the half-written folder
    assert store.latest() == "ckpt-000040" and len(store.list()) == 3

    resumed = find_resume("latest", store, tmp_path / "out", rank=1)
    assert resumed.name == "ckpt-000040" and resumed.folder.parent.name == "rank-1"
    assert load_train_state(resumed.folder)["tokens_seen"] == 400
    loaded = load_model(resumed.folder)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())

    # By URL: a step folder, or a run folder (its latest).
    assert find_resume("s3://bucket/prune/ckpt-000030", store, tmp_path / "out", 0).name == "ckpt-000030"
    assert find_resume("s3://bucket/prune", open_store("s3://bucket/other", tmp_path), tmp_path, 0).name == "ckpt-000040"
    # Without the weights (a sharded resume reads its own shards instead).
    light = find_resume("latest", store, tmp_path / "light", 0, with_weights=False)
    assert not (light.folder / "model.safetensors").exists() and (light.folder / "config.json").is_file()


def test_remote_removes_replaced_checkpoints_and_resume_errors(tmp_path: Path, s3_endpoint: str) -> None:
    store = open_store("s3://bucket/replace", tmp_path)
    model = tiny_model()
    save(store, model, 5)
    save(store, model, 6)
    save(store, model, 3, remove=["ckpt-000005", "ckpt-000006"])  # a run that replaces them
    assert store.list() == [(3, "ckpt-000003")]
    assert find_resume("auto", open_store("s3://bucket/empty", tmp_path), tmp_path, 0) is None
    with pytest.raises(SystemExit, match="no checkpoint"):
        find_resume("latest", open_store("s3://bucket/empty", tmp_path), tmp_path, 0)
    with pytest.raises(SystemExit, match="not a checkpoint folder"):
        find_resume("s3://bucket/empty", store, tmp_path, 0)


def test_sharded_targets_and_prepare(tmp_path: Path, s3_endpoint: str) -> None:
    remote = open_store("s3://bucket/sharded", tmp_path)
    assert remote.sharded_target(7, "optimizer_dcp") == "s3://bucket/sharded/ckpt-000007/optimizer_dcp"
    remote.fs.pipe_file("bucket/sharded/ckpt-000007/optimizer_dcp/__0_0.distcp", b"stale")
    remote.prepare(7)  # a half-written save of this step is cleared before the ranks write
    assert not remote.fs.exists("bucket/sharded/ckpt-000007")
    local = open_store(tmp_path / "run", tmp_path)
    target = Path(local.sharded_target(7, "optimizer_dcp"))
    assert target.parent == tmp_path / "run" and target.name == ".ckpt-000007.optimizer_dcp"


def test_a_local_sharded_save_missing_a_ranks_file_is_refused(tmp_path: Path) -> None:
    """Nodes that do not share the checkpoint folder each write their ranks' shards to their own disk."""
    folder = tmp_path / ".ckpt-000004.optimizer_dcp"
    folder.mkdir()
    for name in (".metadata", "__0_0.distcp", "__2_0.distcp"):
        (folder / name).write_bytes(b"x")
    check_all_ranks_wrote(folder, 1)
    with pytest.raises(RuntimeError, match=r"rank\(s\) \[1, 3\].*--checkpoint-dir"):
        check_all_ranks_wrote(folder, 4)


def test_a_local_store_that_cannot_be_a_folder_is_refused_before_training(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    open_store(tmp_path / "new" / "run", tmp_path).check_writable(0)  # created
    assert (tmp_path / "new" / "run").is_dir()
    with pytest.raises(SystemExit, match="checkpoint folder .*a-file"):
        open_store(tmp_path / "a-file" / "run", tmp_path).check_writable(0)


@pytest.mark.filterwarnings("ignore:torch.distributed is disabled")  # the test's own single-process DCP save
def test_readers_take_a_checkpoint_in_a_bucket(tmp_path: Path, s3_endpoint: str, monkeypatch, tiny_checkpoint) -> None:
    """model.sample / evaluate / export / finetune --checkpoint s3://...: downloaded once, then read like a folder."""
    monkeypatch.setenv("WEBTEXT_CACHE", str(tmp_path / "cache"))
    store = open_store("s3://bucket/readers", tmp_path)
    store.fs.put(str(tiny_checkpoint) + "/", "bucket/readers/", recursive=True)
    local = resolve_any("s3://bucket/readers")  # the run: its latest step
    assert local.name == "ckpt-000030" and (tmp_path / "cache") in local.parents
    assert resolve_any("s3://bucket/readers/ckpt-000030") == local  # the step folder itself
    mtime = (local / "model.safetensors").stat().st_mtime_ns
    assert resolve_any("s3://bucket/readers") == local and (local / "model.safetensors").stat().st_mtime_ns == mtime
    cfg = SampleConfig(prompt="The", max_new_tokens=12, seed=3)
    assert sample(replace(cfg, checkpoint="s3://bucket/readers")) == sample(replace(cfg, checkpoint=str(tiny_checkpoint)))
    assert resolve_any("s3://bucket/nothing-here") is None

    # A step saved with --consolidate last has only its weight shards: they are downloaded instead.
    model = load_model(tiny_checkpoint)
    dcp.save({"model": model.state_dict()}, checkpoint_id="s3://bucket/shards-only/ckpt-000007/model_dcp", no_dist=True)
    for name in ("config.json", "train_state.json", "tokenizer.json"):
        store.fs.put_file(str(tiny_checkpoint / "ckpt-000030" / name), f"bucket/shards-only/ckpt-000007/{name}")
    loaded = load_model(resolve_any("s3://bucket/shards-only"))
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
