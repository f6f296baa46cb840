"""--fsdp (FSDP2 over gloo on CPU): the same losses as one process, and sharded checkpoints that resume
on another number of ranks (2 -> 1 -> 4) on the same curve."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from model import train as train_mod
from model.checkpoint import load_model
from model.tokenizer import save_tokenizer
from tests.model.test_train_cli import TINY, read_metrics

pytestmark = pytest.mark.slow  # three torchrun launches


def torchrun(n: int, args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}",
                           "-m", "model.train", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_sharded_training_matches_one_process_and_resumes_on_any_world_size(shard_dir: Path, tmp_path: Path,
                                                                            tokenizer) -> None:
    common = ["--data", str(shard_dir), "--max-steps", "6", "--log-interval", "1", "--eval-interval", "2",
              "--data-streams", "4", "--batch-tokens", str(4 * 4 * 32), "--loader-workers", "0", *TINY]
    for name in ("single", "sharded"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    reference = train_mod.main([*common, "--out", str(tmp_path / "single"), "--save-interval", "1", "--keep-last", "0"])
    assert reference["grad_accum_steps"] == 4

    out = tmp_path / "sharded"
    # 2 ranks, steps 1-2, a save after each; with --consolidate last only the run's last save gathers the weights.
    torchrun(2, [*common, "--out", str(out), "--fsdp", "--run-steps", "2", "--save-interval", "1",
                 "--consolidate", "last"])
    saved = out / "ckpt-000002"
    assert (saved / "optimizer_dcp").is_dir() and (saved / "model_dcp").is_dir() and (saved / "model.safetensors").is_file()
    assert load_model(saved).num_params() == reference["params"]                   # consolidated weights
    shards_only = out / "ckpt-000001"
    assert (shards_only / "model_dcp").is_dir() and not (shards_only / "model.safetensors").exists()
    step1 = load_model(shards_only).state_dict()  # read from the 2 ranks' shards, in this one process
    ref1 = load_file(str(tmp_path / "single" / "ckpt-000001" / "model.safetensors"))
    assert max(float((step1[k] - ref1[k]).abs().max()) for k in ref1) < 1e-4
    moved = train_mod.main([*common, "--out", str(out), "--fsdp", "--resume", "--run-steps", "2"])  # 1 rank
    assert moved["steps"] == 4 and moved["grad_accum_steps"] == 4
    torchrun(4, [*common, "--out", str(out), "--fsdp", "--resume"])                 # 4 ranks, steps 5-6

    one, sharded = read_metrics(tmp_path / "single"), read_metrics(out)
    assert [r["step"] for r in sharded] == [r["step"] for r in one] == list(range(1, 7))
    for a, b in zip(sharded, one):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-4), a["step"]
        assert a.get("val_loss") == pytest.approx(b.get("val_loss"), abs=1e-4), a["step"]
    x = load_file(str(out / "ckpt-000006" / "model.safetensors"))
    y = load_file(str(tmp_path / "single" / "ckpt-000006" / "model.safetensors"))
    assert max(float((x[k] - y[k]).abs().max()) for k in x) < 1e-4
    with pytest.raises(SystemExit, match="saved with --fsdp"):
        train_mod.main([*common, "--out", str(out), "--resume", "--max-steps", "7"])
