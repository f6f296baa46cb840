"""End to end: `model.train` on tiny shards writes a usable checkpoint; resume is exact (with mixing and
loader workers); --resume auto with keep-last; dry run; 2-process DDP equals 1 process; NaN stops cleanly."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import model.gpt as gpt_mod
from model import sample as sample_mod
from model import train as train_mod
from model.checkpoint import list_checkpoints, resolve_checkpoint
from model.metrics import matplotlib_available, tensorboard_available
from model.tokenizer import save_tokenizer

# A model small enough that these runs take a second or two. One thread: for a model this small a
# second thread only adds synchronisation, and badly so when other processes share the CPUs.
TINY = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "32", "--batch-size", "4",
        "--threads", "1", "--no-progress", "--val-fraction", "0.1", "--eval-iters", "2", "--no-tensorboard",
        "--no-plot"]


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_end_to_end_train_then_sample(shard_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "ckpt"
    summary = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--vocab-size", "320",
                              "--max-steps", "40", "--eval-interval", "20", "--log-interval", "5", *TINY,
                              "--n-embd", "64", "--batch-size", "8", "--plot",
                              "--tensorboard" if tensorboard_available() else "--no-tensorboard"])
    ckpt = out / "ckpt-000040"
    assert (out / "latest").read_text().strip() == ckpt.name and resolve_checkpoint(out) == ckpt
    for name in ("tokenizer.json", "config.json", "model.safetensors", "train_state.json", "optimizer.pt"):
        assert (ckpt / name).is_file(), name
    for name in ("tokenizer.json", "metrics.jsonl"):
        assert (out / name).is_file(), name
    # matplotlib and tensorboard are optional packages: their outputs exist exactly when they are installed.
    assert (out / "loss.png").is_file() == matplotlib_available()
    if matplotlib_available():
        assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert bool(list(out.glob("tensorboard/events.out.tfevents.*"))) == tensorboard_available()
    assert summary["status"] == "completed" and summary["steps"] == 40 and summary["tokenizer_trained"]
    records = read_metrics(out)
    assert [r["step"] for r in records] == [1, 5, 10, 15, 20, 25, 30, 35, 40]
    assert all({"step", "loss", "lr", "tokens_per_s"} <= r.keys() for r in records)
    assert [r["step"] for r in records if "val_loss" in r] == [20, 40]
    # Starts near ln(vocab) and learns the (very regular) test text.
    vocab = json.loads((ckpt / "config.json").read_text())["vocab_size"]
    assert records[0]["loss"] == pytest.approx(math.log(vocab), abs=0.3)
    assert summary["last_loss"] < records[0]["loss"] - 1.2
    assert summary["val_loss"] < records[0]["loss"] - 1.2
    assert summary["tokens_seen"] == 40 * 8 * 32 == records[-1]["tokens"]
    state = json.loads((ckpt / "train_state.json").read_text())
    assert state["step"] == 40 and state["loader"]["cursor"] == 40
    printed = capsys.readouterr().out
    assert "training summary" in printed and f"model.sample --checkpoint {out}" in printed

    texts = sample_mod.main(["--checkpoint", str(out), "--prompt", "The city council", "--max-new-tokens", "12",
                             "--num-samples", "2"])
    assert len(texts) == 2 and all(t.startswith("The city council") for t in texts)
    assert all(len(t) > len("The city council") for t in texts)
    # Same seed, same samples; a step folder works as well as the run folder; the KV cache changes nothing.
    assert texts == sample_mod.main(["--checkpoint", str(ckpt), "--prompt", "The city council",
                                     "--max-new-tokens", "12", "--num-samples", "2", "--no-kv-cache"])
    nucleus = sample_mod.main(["--checkpoint", str(out), "--max-new-tokens", "8", "--top-p", "0.9", "--top-k", "0"])
    assert len(nucleus) == 1


def test_resume_reproduces_an_uninterrupted_run(mixed_dir: Path, tmp_path: Path, tokenizer) -> None:
    """Bitwise: same losses and weights after a pause at step 5, with a two-source mixture (GPT-3's
    weights), dropout (RNG state) and two loader worker processes (prefetching past the pause)."""
    common = ["--data", str(mixed_dir), "--mix-preset", "gpt3", "--max-steps", "12",
              "--log-interval", "1", "--eval-interval", "0", "--dropout", "0.1", "--loader-workers", "2", *TINY]
    for name in ("straight", "resumed"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    straight_summary = train_mod.main([*common, "--out", str(tmp_path / "straight")])
    first = train_mod.main([*common, "--out", str(tmp_path / "resumed"), "--run-steps", "5"])
    assert first["status"].startswith("paused") and first["steps"] == 5
    # The mixture, seed, streams, batch and schedule come from the checkpoint: --resume alone continues.
    second = train_mod.main(["--data", str(mixed_dir), "--out", str(tmp_path / "resumed"), "--resume",
                             "--loader-workers", "1", "--log-interval", "1", "--eval-interval", "0", *TINY])
    assert second["steps"] == 12 and second["steps_this_run"] == 7
    assert second["tokens_seen"] == straight_summary["tokens_seen"]
    # The preset was stored as the --mix it stands for; tokens and epochs per source survive the pause.
    state = json.loads((tmp_path / "resumed" / "ckpt-000012" / "train_state.json").read_text())
    assert state["train_config"]["mix"] == "commoncrawl=0.6,webtext=0.22"
    assert second["sources"] == straight_summary["sources"]
    assert sum(s["tokens"] for s in second["sources"].values()) == second["tokens_seen"]
    assert all(s["epochs"] > 0 for s in second["sources"].values())
    with pytest.raises(SystemExit, match="--mix or --mix-preset, not both"):
        train_mod.main([*common, "--mix", "webtext=1", "--out", str(tmp_path / "both")])

    straight = read_metrics(tmp_path / "straight")
    resumed = read_metrics(tmp_path / "resumed")  # its step 5 also has a val_loss (evaluated at the pause)
    assert [r["step"] for r in resumed] == [r["step"] for r in straight] == list(range(1, 13))
    for a, b in zip(straight, resumed):
        # Same data, same dropout masks, same optimizer state: the same numbers, bit for bit.
        assert a["loss"] == b["loss"] and a["lr"] == b["lr"] and a["tokens"] == b["tokens"], a["step"]
        assert a["tokens/webtext"] == b["tokens/webtext"] and a["epochs/commoncrawl"] == b["epochs/commoncrawl"]
    x = load_file(str(tmp_path / "straight" / "ckpt-000012" / "model.safetensors"))
    y = load_file(str(tmp_path / "resumed" / "ckpt-000012" / "model.safetensors"))
    assert all(torch.equal(x[k], y[k]) for k in x)


def test_resume_auto_with_keep_last(shard_dir: Path, tmp_path: Path, tokenizer) -> None:
    out = tmp_path / "auto"
    save_tokenizer(tokenizer, out / "tokenizer.json")
    common = ["--data", str(shard_dir), "--out", str(out), "--max-steps", "10", "--save-interval", "2",
              "--keep-last", "2", "--resume", "auto", "--eval-interval", "0", "--log-interval", "1", *TINY]
    with pytest.raises(SystemExit, match="no checkpoint"):
        train_mod.main(["--data", str(shard_dir), "--out", str(out), "--resume", *TINY])
    first = train_mod.main([*common, "--run-steps", "5"])  # nothing to resume: starts fresh
    assert first["steps"] == 5 and first["steps_this_run"] == 5
    assert [s for s, _ in list_checkpoints(out)] == [4, 5]  # saved at 2, 4 and 5; the last 2 kept
    second = train_mod.main(common)
    assert second["steps"] == 10 and second["steps_this_run"] == 5
    assert [s for s, _ in list_checkpoints(out)] == [8, 10]
    assert resolve_checkpoint(out).name == "ckpt-000010"
    assert [r["step"] for r in read_metrics(out)] == list(range(1, 11))
    # A named older checkpoint can be continued too; the newer ones then belong to another timeline
    # and are replaced at the first save.
    third = train_mod.main([*common, "--resume", str(out / "ckpt-000008"), "--max-steps", "9"])
    assert third["steps"] == 9 and [s for s, _ in list_checkpoints(out)] == [8, 9]
    # A fresh run (no --resume) replaces the checkpoints it finds only when told --overwrite
    # (test_train_safety.py has the refusal).
    fresh = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--max-steps", "3", "--overwrite", *TINY])
    assert fresh["steps"] == 3 and [s for s, _ in list_checkpoints(out)] == [3]


def test_dry_run_gpt3_175b_allocates_nothing(capsys) -> None:
    summary = train_mod.main(["--preset", "gpt3-175b", "--dry-run", "--batch-size", "1", "--dtype", "bfloat16"])
    assert summary["status"] == "dry run"
    assert summary["params"] == pytest.approx(175e9, rel=0.01)
    mem = summary["memory"]
    # fp32 weights, grads and two AdamW moments: 16 bytes per parameter, ~2.8 TB before activations.
    assert mem["weights"] == 4 * summary["params"] and mem["optimizer"] == 8 * summary["params"]
    assert mem["autocast_weight_copies"] == 2 * summary["params"]
    assert summary["memory_total"] > 16 * summary["params"]
    printed = capsys.readouterr().out
    assert "gpt3-175b" in printed and "AdamW" in printed and "activations" in printed


def test_two_process_ddp_matches_one_process(shard_dir: Path, tmp_path: Path, tokenizer) -> None:
    """torchrun with 2 gloo processes x 1 stream each == 1 process accumulating the 2 streams. The DDP run
    also saves by time after every step (--save-every-minutes of 6 ms): the ranks agree on when (else the
    checkpoint's collectives would hang), and the saves change nothing."""
    common = ["--data", str(shard_dir), "--max-steps", "6", "--log-interval", "1", "--eval-interval", "3",
              "--data-streams", "2", "--batch-tokens", str(2 * 4 * 32), "--loader-workers", "1", *TINY]
    for name in ("ddp", "single"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "model.train",
         *common, "--out", str(tmp_path / "ddp"), "--save-every-minutes", "0.0001", "--keep-last", "0"],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 accum x 2 process(es)" in done.stdout
    # Which steps the timer hits depends on the machine's speed (a step right after a save can take
    # under 6 ms of timer): most of them, and the end, without a hang.
    saved = [s for s, _ in list_checkpoints(tmp_path / "ddp")]
    assert set(saved) <= set(range(1, 7)) and 6 in saved and len(saved) >= 3, saved
    single = train_mod.main([*common, "--out", str(tmp_path / "single")])
    assert single["grad_accum_steps"] == 2 and single["world_size"] == 1
    ddp, one = read_metrics(tmp_path / "ddp"), read_metrics(tmp_path / "single")
    assert [r["step"] for r in ddp] == [r["step"] for r in one] == list(range(1, 7))
    for a, b in zip(ddp, one):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5) and a["tokens"] == b["tokens"]
        assert a.get("val_loss") == pytest.approx(b.get("val_loss"), abs=1e-5)
    x = load_file(str(tmp_path / "ddp" / "ckpt-000006" / "model.safetensors"))
    y = load_file(str(tmp_path / "single" / "ckpt-000006" / "model.safetensors"))
    assert all(torch.allclose(x[k], y[k], atol=1e-5) for k in x)
    # The DDP checkpoint holds both ranks' data positions, and resumes.
    state = json.loads((tmp_path / "ddp" / "ckpt-000006" / "train_state.json").read_text())
    assert sorted(state["loader"]["streams"]) == ["0", "1"] and state["world_size"] == 2
    # A 2-process run paused at step 3 resumes in one process (2 accumulation steps keep the global batch)
    # and continues the same curve: the data position does not depend on the world size.
    save_tokenizer(tokenizer, tmp_path / "moved" / "tokenizer.json")
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "model.train",
         *common, "--out", str(tmp_path / "moved"), "--run-steps", "3"],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # On the same 2 processes, from another --out: every rank gets its own RNG state back (rank 1's once
    # failed: a row of the stacked states was restored as a view).
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "model.train",
         *common, "--out", str(tmp_path / "again"), "--resume", str(tmp_path / "moved" / "ckpt-000003")],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    again = read_metrics(tmp_path / "again")
    assert [r["step"] for r in again] == [4, 5, 6]
    for a, b in zip(again, one[3:]):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5), a["step"]
    moved = train_mod.main(["--data", str(shard_dir), "--out", str(tmp_path / "moved"), "--resume", *TINY,
                            "--log-interval", "1", "--eval-interval", "3"])
    assert moved["steps"] == 6 and moved["grad_accum_steps"] == 2 and moved["world_size"] == 1
    for a, b in zip(read_metrics(tmp_path / "moved"), one):
        assert a["step"] == b["step"] and a["loss"] == pytest.approx(b["loss"], abs=1e-5), a["step"]


def test_non_finite_loss_stops_cleanly(shard_dir: Path, tmp_path: Path, tokenizer, monkeypatch) -> None:
    out = tmp_path / "nan"
    save_tokenizer(tokenizer, out / "tokenizer.json")
    real_ce = gpt_mod.F.cross_entropy
    calls = {"n": 0}

    def flaky_ce(*a, **kw):
        calls["n"] += 1
        loss = real_ce(*a, **kw)
        return loss * float("nan") if calls["n"] >= 4 else loss

    monkeypatch.setattr(gpt_mod.F, "cross_entropy", flaky_ce)
    summary = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--max-steps", "10",
                              "--log-interval", "1", "--eval-interval", "0", *TINY])
    assert summary["status"] == "non-finite loss" and summary["steps"] == 3
    assert summary["checkpoint"] is None  # nothing written from a broken state
    last = read_metrics(out)[-1]
    assert last["stopped"] == "non-finite loss" and last["step"] == 4


def test_tensorboard_requested_without_the_package(shard_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(train_mod, "tensorboard_available", lambda: False)
    with pytest.raises(SystemExit, match="pip install tensorboard"):
        train_mod.main(["--data", str(shard_dir), "--out", str(tmp_path / "tb"), *TINY, "--tensorboard"])


def test_cli_help_and_missing_data(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        train_mod.main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--data", "--preset", "--max-steps", "--out", "--batch-size", "--lr", "--seed",
                 "--vocab-size", "--eval-interval", "--resume", "--mix", "--keep-last", "--batch-tokens",
                 "--sparse-attention", "--local-window", "--loader-workers", "--data-streams", "--compile",
                 "--tensorboard", "--dry-run", "--overwrite", "--save-every-minutes", "--no-progress"):
        assert flag in text
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no \\*.parquet shards"):
        train_mod.main(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--no-progress"])


def test_module_entry_points_run() -> None:
    for module in ("model.train", "model.sample"):
        done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "usage: python -m " + module in done.stdout


def test_tokenizer_only_trains_it_before_a_launch(shard_dir: Path, tmp_path: Path) -> None:
    """Run once before a multi-node job: no rank then waits in a collective while rank 0 trains it (the
    ranks get rank 0's tokenizer through the process group, not a shared --out)."""
    out = tmp_path / "run"
    done = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--tokenizer-only", "--vocab-size", "300"])
    assert done["status"] == "tokenizer only" and done["tokenizer_trained"] and done["vocab_size"] == 300
    assert (out / "tokenizer.json").is_file() and not list_checkpoints(out)
    summary = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--max-steps", "1", *TINY])
    assert not summary["tokenizer_trained"]
