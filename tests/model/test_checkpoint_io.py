"""Checkpoints: exact weight round trip, tied weights stored once, no pickle, consistency checks, step
folders with a `latest` pointer, keep-last-k, crash safety (fsync before every rename)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

import corpus.writers.atomic as atomic
import model.checkpoint as ckpt_mod
from model.checkpoint import (
    WEIGHTS_FILE,
    list_checkpoints,
    load_model,
    load_optimizer_state,
    load_train_state,
    resolve_checkpoint,
    save_checkpoint,
    save_step_checkpoint,
    save_weights,
)
from model.config import GPTConfig
from model.gpt import GPT
from model.optim import OptimConfig, build_optimizer

CFG = GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=96, dropout=0.1)


def trained_model() -> tuple[GPT, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = GPT(CFG)
    opt = build_optimizer(model, OptimConfig(lr=1e-2))
    x = torch.randint(0, 96, (2, 16))
    for _ in range(3):
        _, loss = model(x, x)
        loss.backward()
        opt.step()
        opt.zero_grad()
    return model, opt


def forbid_pickle(monkeypatch) -> None:
    def boom(*a, **kw):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "Unpickler", boom)
    monkeypatch.setattr(torch, "load", boom)


def test_round_trip_identical_without_pickle(tmp_path: Path, monkeypatch) -> None:
    model, opt = trained_model()
    save_checkpoint(tmp_path, model, {"step": 3, "tokens_seen": 96, "loader": {"position": {}}}, opt)
    forbid_pickle(monkeypatch)
    loaded = load_model(tmp_path)
    assert loaded.config == CFG
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # The head is tied again after loading: training the loaded model keeps them one tensor.
    assert loaded.lm_head.weight is loaded.transformer.wte.weight
    model.eval(), loaded.eval()
    x = torch.randint(0, 96, (2, 16))
    assert torch.equal(model(x)[0], loaded(x)[0])
    assert load_train_state(tmp_path)["tokens_seen"] == 96


def test_tied_weight_stored_once_with_metadata(tmp_path: Path) -> None:
    model, _ = trained_model()
    save_weights(model, tmp_path / WEIGHTS_FILE, metadata={"step": "3"})
    with safe_open(str(tmp_path / WEIGHTS_FILE), framework="pt") as f:
        keys = set(f.keys())
        meta = f.metadata()
    assert "transformer.wte.weight" in keys and "lm_head.weight" not in keys
    assert meta["step"] == "3" and json.loads(meta["tied"]) == {"lm_head.weight": "transformer.wte.weight"}
    # Stored once: the file is about the size of the unique parameters in float32.
    size = (tmp_path / WEIGHTS_FILE).stat().st_size
    assert size < model.num_params() * 4 * 1.1
    assert not [p for p in tmp_path.iterdir() if "tmp" in p.name]


def test_optimizer_state_loads_with_weights_only(tmp_path: Path) -> None:
    model, opt = trained_model()
    save_checkpoint(tmp_path, model, {"step": 3}, opt)
    state = load_optimizer_state(tmp_path)
    assert state["step"] == 3 and state["torch_rng"].dtype == torch.uint8
    fresh = build_optimizer(load_model(tmp_path), OptimConfig(lr=1e-2))
    fresh.load_state_dict(state["optimizer"])
    k = next(iter(opt.state_dict()["state"]))
    assert torch.equal(fresh.state_dict()["state"][k]["exp_avg"], opt.state_dict()["state"][k]["exp_avg"])


def test_mismatched_files_are_refused(tmp_path: Path) -> None:
    model, opt = trained_model()
    assert load_train_state(tmp_path) is None
    save_checkpoint(tmp_path, model, {"step": 3}, opt)
    # An interrupted later save: weights from step 4, train_state.json still at step 3.
    save_weights(model, tmp_path / WEIGHTS_FILE, metadata={"step": "4"})
    with pytest.raises(ValueError, match="interrupted"):
        load_train_state(tmp_path)
    # Weights that do not fit the config.
    save_checkpoint(tmp_path, model, {"step": 3}, opt)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "n_layer": 3}))
    with pytest.raises(ValueError, match="missing"):
        load_model(tmp_path)


def test_step_folders_latest_pointer_and_keep_last(tmp_path: Path, monkeypatch) -> None:
    model, opt = trained_model()
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")
    for step in (1, 2, 3, 4):
        final = save_step_checkpoint(tmp_path, model, {"step": step}, opt, extra_files=[tok], keep_last=2)
        assert final == tmp_path / f"ckpt-{step:06d}" and (final / "tokenizer.json").is_file()
        assert (tmp_path / "latest").read_text() == f"ckpt-{step:06d}\n"
    assert [s for s, _ in list_checkpoints(tmp_path)] == [3, 4]
    assert resolve_checkpoint(tmp_path) == tmp_path / "ckpt-000004"
    assert resolve_checkpoint(tmp_path / "ckpt-000003") == tmp_path / "ckpt-000003"
    forbid_pickle(monkeypatch)
    assert torch.equal(load_model(tmp_path).transformer.wte.weight, model.transformer.wte.weight)


def test_interrupted_save_leaves_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    model, opt = trained_model()
    save_step_checkpoint(tmp_path, model, {"step": 1}, opt)
    real = ckpt_mod.save_weights

    def crash(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_mod, "save_weights", crash)
    with pytest.raises(OSError):
        save_step_checkpoint(tmp_path, model, {"step": 2}, opt)
    # The half-written folder has a temporary name: nothing points at it, nothing lists it.
    assert resolve_checkpoint(tmp_path) == tmp_path / "ckpt-000001"
    assert [s for s, _ in list_checkpoints(tmp_path)] == [1]
    assert list(tmp_path.glob(".ckpt-000002.tmp-*"))
    monkeypatch.setattr(ckpt_mod, "save_weights", real)
    save_step_checkpoint(tmp_path, model, {"step": 2}, opt)  # the next save cleans up
    assert not list(tmp_path.glob(".ckpt-*")) and resolve_checkpoint(tmp_path).name == "ckpt-000002"
    # A stale pointer falls back to the newest complete folder; `remove` drops another run's folders.
    (tmp_path / "latest").write_text("ckpt-000999\n")
    assert resolve_checkpoint(tmp_path).name == "ckpt-000002"
    save_step_checkpoint(tmp_path, model, {"step": 1}, opt, remove=[tmp_path / "ckpt-000002"])
    assert [s for s, _ in list_checkpoints(tmp_path)] == [1]


def test_flat_layout_still_loads(tmp_path: Path) -> None:
    model, opt = trained_model()
    save_checkpoint(tmp_path, model, {"step": 3}, opt)  # files directly in the folder
    assert resolve_checkpoint(tmp_path) == tmp_path
    assert load_model(tmp_path).config == CFG
    assert resolve_checkpoint(tmp_path / "nothing") is None


def test_every_file_and_folder_is_fsynced_before_its_rename(tmp_path: Path, monkeypatch) -> None:
    """A power cut after a save must not leave a `latest` naming a folder whose files are still only in
    the page cache: each file and the folder are fsynced before the folder's rename, the parent after it,
    and `latest` is written (fsync, rename, fsync) only once the folder is in place."""
    model, opt = trained_model()
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")
    out = tmp_path / "run"
    events: list[tuple] = []
    real_fsync, real_replace = atomic._fsync, os.replace

    def fsync(path: Path) -> None:
        events.append(("fsync", Path(path)))
        real_fsync(path)

    def replace(src, dst) -> None:
        events.append(("rename", Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic, "_fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    final = save_step_checkpoint(out, model, {"step": 7}, opt, extra_files=[tok])

    def index(event: tuple) -> int:
        assert event in events, event
        return events.index(event)

    folder_rename = next(i for i, e in enumerate(events) if e[0] == "rename" and e[2] == final)
    tmp = events[folder_rename][1]
    files = sorted(p.relative_to(final) for p in final.rglob("*") if p.is_file())
    assert {str(f) for f in files} >= {"config.json", "model.safetensors", "train_state.json", "optimizer.pt",
                                       "tokenizer.json"}
    for f in files:
        assert index(("fsync", tmp / f)) < folder_rename, f
    assert index(("fsync", tmp)) < folder_rename < events.index(("fsync", out), folder_rename)
    latest_rename = next(i for i, e in enumerate(events) if e[0] == "rename" and e[2] == out / "latest")
    assert folder_rename < latest_rename
    assert events[latest_rename - 1] == ("fsync", events[latest_rename][1])
    assert events[latest_rename + 1] == ("fsync", out)
