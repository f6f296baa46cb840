"""Banded layers through flex_attention (a BlockMask that skips blocks outside the band) against the
masked SDPA reference: the kernel rule, the block mask, forward values, gradients, torch.compile."""

from __future__ import annotations

import warnings

import pytest
import torch

import model.attention as attention
from model.attention import (
    CausalSelfAttention,
    attention_mask,
    band_block_mask,
    band_mask_mod,
    cpu_flex_min_len,
    set_attention_impl,
    use_flex,
)
from model.config import GPTConfig
from model.gpt import GPT

pytestmark = pytest.mark.skipif(attention.flex_attention is None, reason="torch has no flex_attention")
CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.fixture
def eager_flex(monkeypatch):
    """Run flex_attention unfused (its reference implementation) instead of compiling it: the same
    mask and maths in milliseconds, where compiling costs ~10 s per shape on CPU."""
    from torch.nn.attention.flex_attention import flex_attention

    monkeypatch.setattr(attention, "_compiled_flex", flex_attention)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="flex_attention called without torch.compile")
        yield


def layer_pair(window: int, n_embd: int = 32, n_head: int = 4, seed: int = 0):
    """The same banded layer twice: one on flex, one on the masked SDPA."""
    torch.manual_seed(seed)
    cfg = GPTConfig(n_layer=2, n_head=n_head, n_embd=n_embd, block_size=1024, vocab_size=64,
                    attention_pattern="alternating", local_window=window)
    flex, sdpa = CausalSelfAttention(cfg, 1), CausalSelfAttention(cfg, 1)
    sdpa.load_state_dict(flex.state_dict())
    flex.impl, sdpa.impl = "flex", "sdpa"
    return flex, sdpa


def test_kernel_rule() -> None:
    long = dict(window=256, q_len=2048, k_len=2048)
    # Only a banded layer over more than its band, without cache, is a candidate.
    assert not use_flex("flex", **{**long, "window": None}, device=CUDA, needs_grad=True)
    assert not use_flex("flex", **{**long, "q_len": 1}, device=CUDA, needs_grad=False)  # decoding
    assert not use_flex("flex", window=256, q_len=200, k_len=200, device=CUDA, needs_grad=True)
    assert not use_flex("sdpa", **long, device=CUDA, needs_grad=True)
    # CUDA: flex for training and prefill, but not with attention dropout, which it lacks.
    assert use_flex("auto", **long, device=CUDA, needs_grad=True)
    assert not use_flex("auto", **long, device=CUDA, needs_grad=True, dropout=0.1)
    with pytest.raises(ValueError, match="dropout"):
        use_flex("flex", **long, device=CUDA, needs_grad=True, dropout=0.1)
    # CPU: no backward; the fused kernel only inside a compiled graph, and only on long sequences.
    assert not use_flex("auto", **long, device=CPU, needs_grad=True, compiling=True)
    with pytest.raises(ValueError, match="no backward on CPU"):
        use_flex("flex", **long, device=CPU, needs_grad=True)
    assert use_flex("auto", **long, device=CPU, needs_grad=False, compiling=True)
    assert not use_flex("auto", **long, device=CPU, needs_grad=False, compiling=False)
    assert cpu_flex_min_len(256) == 1024
    assert not use_flex("auto", window=256, q_len=768, k_len=768, device=CPU, needs_grad=False, compiling=True)
    assert not use_flex("auto", **long, device=torch.device("mps"), needs_grad=False, compiling=True)
    with pytest.raises(ValueError, match="impl"):
        use_flex("triton", **long, device=CPU, needs_grad=False)


def test_block_mask_is_the_band_and_is_cached() -> None:
    T, w = 300, 40
    q, k = torch.arange(T).view(T, 1), torch.arange(T).view(1, T)
    zero = torch.zeros((), dtype=torch.long)
    assert torch.equal(band_mask_mod(w)(zero, zero, q, k), attention_mask(T, T, w, CPU))
    bm = band_block_mask(T, w, CPU)
    assert bm is band_block_mask(T, w, CPU) and bm is not band_block_mask(T, w + 1, CPU)
    # 3 x 3 blocks of 128; the band of 40 touches the diagonal and the block left of it only.
    blocks = bm.to_dense()[0, 0].tolist()
    assert blocks == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]


@pytest.mark.parametrize(("T", "window"), [(300, 40), (257, 128), (130, 1), (256, 200)])
def test_flex_forward_equals_masked_reference(eager_flex, T: int, window: int) -> None:
    flex, sdpa = layer_pair(window)
    x = torch.randn(2, T, 32)
    with torch.no_grad():
        diff = (flex(x) - sdpa(x)).abs().max().item()
    assert diff < 1e-5


def test_flex_model_equals_sdpa_model_and_ignores_tokens_outside_the_band(eager_flex) -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=160, vocab_size=64,
                          attention_pattern="alternating", local_window=16)).eval()
    x = torch.randint(0, 64, (2, 160))
    with torch.no_grad():
        assert set_attention_impl(model, "sdpa") == 2
        ref = model(x)[0]
        set_attention_impl(model, "flex")
        torch.testing.assert_close(model(x)[0], ref, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="impl"):
        set_attention_impl(model, "fast")


def test_cpu_training_falls_back_to_sdpa_with_identical_gradients() -> None:
    flex, sdpa = layer_pair(24)
    x = torch.randn(2, 150, 32)
    with pytest.raises(ValueError, match="no backward on CPU"):
        flex(x)  # impl "flex" asked for, and it cannot train on CPU
    flex.impl = "auto"
    flex(x).square().sum().backward()
    sdpa(x).square().sum().backward()
    for a, b in zip(flex.parameters(), sdpa.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-6, rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="flex_attention has no backward on CPU (torch 2.13): gradients need CUDA")
def test_flex_gradients_equal_masked_reference_on_cuda() -> None:
    flex, sdpa = (m.to("cuda") for m in layer_pair(256, n_embd=256, n_head=4))
    x = torch.randn(2, 1024, 256, device="cuda")
    y_flex, y_sdpa = flex(x), sdpa(x)
    assert (y_flex - y_sdpa).abs().max().item() < 1e-4
    y_flex.square().mean().backward()
    y_sdpa.square().mean().backward()
    for a, b in zip(flex.parameters(), sdpa.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-4, rtol=1e-3)


def test_compiled_layer_uses_fused_flex_for_inference_and_sdpa_for_training(monkeypatch) -> None:
    # What `model.train --compile` does with a sparse model on CPU: the training step keeps the masked
    # SDPA (no flex backward on CPU), the no-grad evaluation runs the fused block-sparse kernel.
    window = 16
    T = cpu_flex_min_len(window)
    flex, sdpa = layer_pair(window)
    flex.impl = "auto"
    traced: list[int] = []  # the flex path, recorded when dynamo traces it
    original = attention.flex_band_attention

    def spy(q, k, v, w):
        traced.append(q.size(2))
        return original(q, k, v, w)

    monkeypatch.setattr(attention, "flex_band_attention", spy)
    x = torch.randn(1, T, 32)
    with torch.no_grad():
        assert (torch.compile(flex)(x) - sdpa(x)).abs().max().item() < 1e-5
    assert traced == [T]
    # Tracing only (no inductor) is enough to see the training graph keep SDPA: compiling is ~10 s.
    traced.clear()
    torch.compile(flex, backend="aot_eager")(x).square().sum().backward()
    sdpa(x).square().sum().backward()
    assert traced == []
    for a, b in zip(flex.parameters(), sdpa.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-5)
