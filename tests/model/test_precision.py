"""--dtype and --tf32: autocast, float16 loss scaling and its checkpointed state (CPU here; the CUDA
cases are in test_cuda.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from model import train as train_mod
from model.checkpoint import load_optimizer_state
from model.precision import choose_precision

TINY = ["--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--block-size", "32", "--batch-size", "4",
        "--vocab-size", "512", "--threads", "1", "--no-progress", "--eval-interval", "0", "--no-tensorboard",
        "--no-plot", "--device", "cpu", "--log-interval", "1"]


def test_auto_is_float32_on_cpu_without_tf32() -> None:
    p = choose_precision(torch.device("cpu"))
    assert (p.dtype, p.tf32, p.autocast_dtype, p.grad_scaler().is_enabled()) == ("float32", False, None, False)
    assert choose_precision(torch.device("cpu"), "float16").grad_scaler().is_enabled()
    assert not choose_precision(torch.device("cpu"), "bfloat16").grad_scaler().is_enabled()
    assert choose_precision(torch.device("cpu"), "float16").peak_dtype == "float16"
    with pytest.raises(ValueError):
        choose_precision(torch.device("cpu"), "int8")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_16_bit_training_runs_and_float16_keeps_its_loss_scale(dtype: str, shard_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / dtype
    summary = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--max-steps", "4", "--dtype", dtype, *TINY])
    assert summary["status"] == "completed" and math.isfinite(summary["last_loss"])
    state = load_optimizer_state(out / "ckpt-000004")
    if dtype == "float16":
        assert state["grad_scaler"]["scale"] > 1  # saved, so a resume continues with the same scale
        resumed = train_mod.main(["--data", str(shard_dir), "--out", str(out), "--resume", "--max-steps", "6",
                                  "--dtype", dtype, *TINY])
        assert resumed["steps"] == 6 and math.isfinite(resumed["last_loss"])
    else:
        assert "grad_scaler" not in state


def test_cpu_training_steps_stop_page_faulting_their_activations() -> None:
    """Eight training steps of a small GPT in a fresh process: with keep_freed_memory (what model.train
    does on a CPU) the activations' memory is reused instead of mapped again every step."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    script = (
        "import resource, sys, torch\n"
        "from model.config import GPTConfig\n"
        "from model.cpu_allocator import keep_freed_memory\n"
        "from model.gpt import GPT\n"
        "if sys.argv[1] == 'keep': assert keep_freed_memory()\n"
        "torch.manual_seed(0); torch.set_num_threads(1)\n"
        "model = GPT(GPTConfig(n_layer=4, n_head=4, n_embd=256, block_size=256, vocab_size=4096))\n"
        "opt = torch.optim.AdamW(model.parameters())\n"
        "x = torch.randint(0, 4096, (8, 256))\n"
        "def step():\n"
        "    model(x, x)[1].backward(); opt.step(); opt.zero_grad(set_to_none=True)\n"
        "step(); step()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(8): step()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n")
    faults = {mode: int(subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True,
                                       check=True).stdout) for mode in ("default", "keep")}
    assert faults["keep"] * 4 < faults["default"], faults
