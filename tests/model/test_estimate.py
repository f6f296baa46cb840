"""The dry-run numbers: activation memory against what autograd really saves; FLOPs; byte formatting."""

from __future__ import annotations

import contextlib

import pytest
import torch

from model.config import GPTConfig, preset
from model.estimate import (
    activation_bytes,
    attention_flops_per_token,
    estimate_memory,
    flops_per_token,
    format_bytes,
    keys_per_query,
)
from model.gpt import GPT


def saved_activation_bytes(model: GPT, x: torch.Tensor, ctx) -> int:
    """Bytes of the distinct tensors autograd saves for the backward pass, parameters excluded."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            seen[ptr] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), ctx:
        model(x, x)
    return sum(seen.values())


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_activation_estimate_matches_saved_tensors(dtype: str) -> None:
    torch.manual_seed(0)
    cfg = GPTConfig(n_layer=3, n_head=4, n_embd=64, block_size=128, vocab_size=256)
    model = GPT(cfg)
    x = torch.randint(0, 256, (4, 128))
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if dtype == "bfloat16" else contextlib.nullcontext()
    measured = saved_activation_bytes(model, x, ctx)
    # Under CPU autocast the saved tensors also include bf16 copies of the weights (2 bytes/param),
    # which the estimate lists separately.
    if dtype == "bfloat16":
        matrices = [p for p in model.parameters() if p.dim() == 2 and p is not model.transformer.wpe.weight]
        measured -= 2 * sum(p.numel() for p in matrices)
    assert activation_bytes(cfg, 4, dtype=dtype) == pytest.approx(measured, rel=0.08)


def test_memory_and_flops_of_gpt2() -> None:
    cfg = preset("gpt2", pad_vocab_to=None)
    est = estimate_memory(cfg, batch_size=8, dtype="bfloat16")
    n = cfg.num_params()
    assert (est.weights, est.grads, est.optimizer, est.autocast_weight_copies) == (4 * n, 4 * n, 8 * n, 2 * n)
    assert est.total == est.weights + est.grads + est.optimizer + est.activations + est.autocast_weight_copies
    # 36 sbh per layer x 12 + head + 4 sbV: ~3.9 GiB for 8 x 1024 tokens.
    assert 3.5 * 2**30 < est.activations < 4.5 * 2**30
    assert flops_per_token(cfg) == 6 * n + 12 * 12 * 768 * 1024
    assert format_bytes(3 * 2**30) == "3.00 GiB" and format_bytes(512) == "512 B"


def test_flops_count_the_band_of_sparse_layers_only() -> None:
    # Keys per query, counted by brute force: dense counts all s (PaLM), banded min(i + 1, W).
    s, w = 2048, 256
    assert keys_per_query(s, None) == s
    assert keys_per_query(s, w) == pytest.approx(sum(min(i + 1, w) for i in range(s)) / s)
    assert keys_per_query(8, 100) == pytest.approx(4.5)  # band wider than the sequence: (s + 1) / 2
    dense = preset("gpt3-small", pad_vocab_to=None)
    sparse = GPTConfig(**{**dense.to_dict(), "attention_pattern": "alternating", "local_window": w})
    n = dense.num_params()
    L, h = dense.n_layer, dense.n_embd
    assert attention_flops_per_token(dense) == 12 * L * h * s
    # 6 dense layers at s keys, 6 banded at ~W - W^2 / 2s keys: the attention term drops to ~56%.
    banded = keys_per_query(s, w)
    assert 240 < banded < 241
    assert flops_per_token(sparse) == pytest.approx(6 * n + 12 * h * (6 * s + 6 * banded))
    assert flops_per_token(sparse, n, seq_len=1024) < flops_per_token(dense, n, seq_len=1024)
