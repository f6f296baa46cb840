"""End to end: `model.train` on tiny shards writes a usable checkpoint; resume is exact; NaN stops cleanly."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import model.gpt as gpt_mod
from model import sample as sample_mod
from model import train as train_mod
from model.tokenizer import save_tokenizer

# A model small enough that these runs take a second or two. One thread: for a model this small a
# second thread only adds synchronisation, and badly so when other processes share the CPUs.
TINY = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "32", "--batch-size", "4",
        "--threads", "1", "--no-progress", "--val-fraction", "0.1", "--eval-iters", "2"]


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_end_to_end_train_then_sample(shard_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "ckpt"
    summary = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--vocab-size", "320",
                              "--max-steps", "40", "--eval-interval", "20", "--log-interval", "5", *TINY,
                              "--n-embd", "64", "--batch-size", "8"])
    for name in ("tokenizer.json", "config.json", "model.safetensors", "train_state.json", "optimizer.pt",
                 "metrics.jsonl"):
        assert (out / name).is_file(), name
    assert summary["status"] == "completed" and summary["steps"] == 40 and summary["tokenizer_trained"]
    records = read_metrics(out)
    assert [r["step"] for r in records] == [1, 5, 10, 15, 20, 25, 30, 35, 40]
    assert all({"step", "loss", "lr", "tokens_per_s"} <= r.keys() for r in records)
    assert [r["step"] for r in records if "val_loss" in r] == [20, 40]
    # Starts near ln(vocab) and learns the (very regular) test text.
    vocab = json.loads((out / "config.json").read_text())["vocab_size"]
    assert records[0]["loss"] == pytest.approx(math.log(vocab), abs=0.3)
    assert summary["last_loss"] < records[0]["loss"] - 1.2
    assert summary["val_loss"] < records[0]["loss"] - 1.2
    assert summary["tokens_seen"] == 40 * 8 * 32 == records[-1]["tokens"]
    state = json.loads((out / "train_state.json").read_text())
    assert state["step"] == 40 and state["loader"]["position"]["epoch"] >= 0
    printed = capsys.readouterr().out
    assert "training summary" in printed and str(out) in printed

    texts = sample_mod.main(["--checkpoint", str(out), "--prompt", "The city council", "--max-new-tokens", "12",
                             "--num-samples", "2"])
    assert len(texts) == 2 and all(t.startswith("The city council") for t in texts)
    assert all(len(t) > len("The city council") for t in texts)
    # Same seed, same samples.
    assert texts == sample_mod.main(["--checkpoint", str(out), "--prompt", "The city council",
                                     "--max-new-tokens", "12", "--num-samples", "2"])


def test_resume_reproduces_an_uninterrupted_run(shard_dir: Path, tmp_path: Path, tokenizer) -> None:
    common = ["--data", str(shard_dir), "--max-steps", "12", "--log-interval", "1", "--eval-interval", "0",
              "--dropout", "0.1", *TINY]
    for name in ("straight", "resumed"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    train_mod.main([*common, "--out", str(tmp_path / "straight")])
    first = train_mod.main([*common, "--out", str(tmp_path / "resumed"), "--run-steps", "5"])
    assert first["status"].startswith("paused") and first["steps"] == 5
    second = train_mod.main([*common, "--out", str(tmp_path / "resumed"), "--resume"])
    assert second["steps"] == 12 and second["steps_this_run"] == 7

    straight = read_metrics(tmp_path / "straight")
    resumed = read_metrics(tmp_path / "resumed")  # its step 5 also has a val_loss (evaluated at the pause)
    assert [r["step"] for r in resumed] == [r["step"] for r in straight] == list(range(1, 13))
    for a, b in zip(straight, resumed):
        # Same data, same dropout masks, same optimizer state: the same numbers.
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-4), a["step"]
        assert a["lr"] == pytest.approx(b["lr"]) and a["tokens"] == b["tokens"]
    x = load_file(str(tmp_path / "straight" / "model.safetensors"))
    y = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert all(torch.allclose(x[k], y[k], atol=1e-5) for k in x)


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


def test_cli_help_and_missing_data(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        train_mod.main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--data", "--preset", "--max-steps", "--out", "--batch-size", "--lr", "--seed",
                 "--vocab-size", "--eval-interval", "--resume"):
        assert flag in text
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no \\*.parquet shards"):
        train_mod.main(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--no-progress"])


def test_module_entry_points_run() -> None:
    for module in ("model.train", "model.sample"):
        done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "usage: python -m " + module in done.stdout
