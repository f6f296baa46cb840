"""The GPU path: mixed-precision training steps, TF32, KV-cache decoding on CUDA (marked `cuda`, skipped
without a GPU; `pytest -m cuda -q` or `bash bench/gpu_check.sh` runs them), and a CPU smoke run of
the GPU check script, which runs everywhere so the script stays tested on machines without a GPU."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_model, resolve_checkpoint
from model.config import GPTConfig
from model.generate import generate
from model.gpt import GPT
from model.mfu import matmul_precision
from model.optim import OptimConfig, build_optimizer

ROOT = Path(__file__).resolve().parents[2]
TINY = GPTConfig(n_layer=2, n_head=2, n_embd=64, block_size=64, vocab_size=512)


def cuda_test(fn: Callable) -> Callable:
    """Mark a test `cuda` (selected by `-m cuda`) and skip it where torch sees no GPU."""
    return pytest.mark.cuda(pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")(fn))


@pytest.fixture
def exact_fp32() -> Iterator[None]:
    """fp32 matmuls in full precision for the test (TF32 off), whatever another test or import set."""
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = before


def batch(cfg: GPTConfig, n: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(cfg.vocab_size, (n, cfg.block_size + 1), generator=torch.Generator().manual_seed(seed))
    ids = ids.cuda()
    return ids[:, :-1], ids[:, 1:]


def grads(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten().float() for p in model.parameters()])


def flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().float() for p in model.parameters()])


@cuda_test
def test_bf16_autocast_step_matches_fp32_loosely(exact_fp32):
    """Same init, same batch: loss, gradient direction and the parameters after one AdamW step agree
    with fp32 to bf16's precision (8 bits of mantissa), not bit for bit."""
    torch.manual_seed(0)
    ref = GPT(TINY).cuda()
    mixed = copy.deepcopy(ref)
    x, y = batch(TINY)
    _, loss_ref = ref(x, y)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        _, loss_mixed = mixed(x, y)
    assert loss_mixed.dtype == torch.float32  # the model upcasts the logits for the loss
    loss_ref.backward()
    loss_mixed.backward()
    assert abs(loss_mixed.item() - loss_ref.item()) < 0.02 * loss_ref.item()
    g_ref, g_mixed = grads(ref), grads(mixed)
    assert torch.isfinite(g_mixed).all()
    assert torch.nn.functional.cosine_similarity(g_ref, g_mixed, dim=0) > 0.99
    before = flat(ref)
    for m in (ref, mixed):
        build_optimizer(m, OptimConfig(lr=1e-3), "cuda").step()  # fused AdamW on CUDA
    assert all(p.dtype == torch.float32 for p in mixed.parameters())  # autocast keeps fp32 master weights
    # Adam's first step moves each weight by about lr x sign(gradient): the two updates differ only
    # where a tiny gradient changed sign, so they point the same way.
    update_ref, update_mixed = flat(ref) - before, flat(mixed) - before
    assert torch.nn.functional.cosine_similarity(update_ref, update_mixed, dim=0) > 0.95


@cuda_test
def test_fp16_autocast_with_grad_scaler_stays_finite():
    """fp16 needs loss scaling (its range ends at 65504); with GradScaler the steps stay finite and
    the loss falls on a batch seen repeatedly."""
    torch.manual_seed(0)
    model = GPT(TINY).cuda()
    opt = build_optimizer(model, OptimConfig(lr=3e-3), "cuda")
    scaler = torch.amp.GradScaler("cuda")
    x, y = batch(TINY)
    losses = []
    for _ in range(8):
        with torch.autocast("cuda", dtype=torch.float16):
            _, loss = model(x, y)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert 0 < scaler.get_scale() < float("inf")
    assert losses[-1] < losses[0]


@cuda_test
def test_tf32_flag_changes_fp32_matmul_precision():
    """With allow_tf32 an fp32 matmul rounds its inputs to TF32 (10 mantissa bits): error ~1e-3
    against float64 instead of fp32's ~1e-6; model.mfu then counts against the TF32 peak."""
    if torch.cuda.get_device_capability()[0] < 8:
        pytest.skip("TF32 tensor cores start with Ampere (compute capability 8.0)")
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(1024, 1024, generator=gen).cuda() for _ in range(2))
    exact = (a.double() @ b.double())
    before = torch.backends.cuda.matmul.allow_tf32
    try:
        errors = {}
        for allowed in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = allowed
            assert matmul_precision() == ("tf32" if allowed else "fp32")
            errors[allowed] = ((a @ b).double() - exact).abs().max().item() / exact.abs().max().item()
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before
    assert errors[False] < 1e-5
    assert errors[True] > 10 * errors[False]


@cuda_test
def test_kv_cache_decode_equals_no_cache_on_gpu(tiny_checkpoint, exact_fp32):
    model = load_model(resolve_checkpoint(tiny_checkpoint), "cuda").eval()
    ids = torch.randint(model.config.vocab_size, (2, 40), generator=torch.Generator().manual_seed(1)).cuda()
    with torch.no_grad():
        full, _ = model(ids)
        cache = model.new_kv_cache(2)
        steps = [model(ids[:, :8], kv_cache=cache)[0]]  # prefill, then one token at a time
        steps += [model(ids[:, t : t + 1], kv_cache=cache)[0] for t in range(8, 40)]
        torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-4, rtol=1e-4)
        prompt = ids[:, :5]
        with_cache = generate(model, prompt, 30, temperature=0, use_cache=True)
        without = generate(model, prompt, 30, temperature=0, use_cache=False)
    assert torch.equal(with_cache, without)


def test_gpu_check_cpu_smoke(tmp_path):
    """bench/gpu_train_check.py --cpu-smoke: both training parts (plain and FSDP2 on gloo) run a
    2-layer model on the CPU, agree with each other, and the JSON summary holds their numbers."""
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "bench/gpu_train_check.py", "--cpu-smoke", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(out.read_text())
    assert summary["ok"] is True
    parts = summary["parts"]
    assert parts["tests"]["status"] == parts["attention"]["status"] == "skipped"
    for name in ("plain", "fsdp"):
        r = parts[name]
        assert r["status"] == "ok", r
        assert r["timed_steps"] == 3 and r["tokens_per_step"] == 2 * 64
        assert r["tokens_per_s"] > 0 and r["mfu"] is None and r["peak_memory_gib"] is None  # CPU: no peak
        assert r["loss_last"] < r["loss_first"]
    assert parts["fsdp"]["max_loss_diff_vs_plain"] < 1e-3  # a world of one computes what the plain run does
    assert "plain" in proc.stdout and "summary:" in proc.stdout


def test_gpu_check_finds_this_files_cuda_tests():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import gpu_train_check
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert "tests/model/test_cuda.py" in gpu_train_check.cuda_test_files()
