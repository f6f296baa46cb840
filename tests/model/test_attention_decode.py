"""GPT-3's banded sparse attention against a hand-written masked reference; KV-cache decoding against
the no-cache path; top-k / top-p filtering."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from model.attention import CausalSelfAttention, attention_mask
from model.config import GPTConfig
from model.generate import filter_logits, generate
from model.gpt import GPT


def reference_attention(attn: CausalSelfAttention, x: torch.Tensor, window: int | None) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d) + M) V by hand, M = 0 where allowed and -inf elsewhere."""
    B, T, C = x.shape
    H, d = attn.n_head, C // attn.n_head
    q, k, v = (t.view(B, T, H, d).transpose(1, 2) for t in attn.c_attn(x).split(C, dim=2))
    additive = torch.full((T, T), -math.inf)
    for i in range(T):
        for j in range(T):
            if j <= i and (window is None or i - j < window):
                additive[i, j] = 0.0
    scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive
    y = torch.softmax(scores, dim=-1) @ v
    return attn.c_proj(y.transpose(1, 2).reshape(B, T, C))


def test_band_mask_pattern() -> None:
    m = attention_mask(5, 5, 2, torch.device("cpu")).int().tolist()
    assert m == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 1]]
    # Queries after a cached prefix of 3: the last 2 rows of the 5 x 5 pattern.
    assert attention_mask(2, 5, 2, torch.device("cpu")).int().tolist() == m[3:]
    assert attention_mask(5, 5, 2, torch.device("cpu")) is attention_mask(5, 5, 2, torch.device("cpu"))  # cached


@pytest.mark.parametrize("window", [1, 3, 8, 40])
def test_banded_layer_equals_masked_dense_reference(window: int) -> None:
    torch.manual_seed(0)
    cfg = GPTConfig(n_layer=2, n_head=4, n_embd=32, block_size=64, vocab_size=64,
                    attention_pattern="alternating", local_window=window)
    dense, banded = CausalSelfAttention(cfg, 0), CausalSelfAttention(cfg, 1)
    assert dense.window is None and banded.window == window
    x = torch.randn(3, 20, 32)
    with torch.no_grad():
        torch.testing.assert_close(banded(x), reference_attention(banded, x, window), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(dense(x), reference_attention(dense, x, None), atol=1e-5, rtol=1e-5)


def test_banded_layer_ignores_tokens_outside_its_window() -> None:
    torch.manual_seed(1)
    cfg = GPTConfig(n_layer=2, n_head=2, n_embd=16, block_size=32, vocab_size=64,
                    attention_pattern="alternating", local_window=4)
    attn = CausalSelfAttention(cfg, 1).eval()
    x = torch.randn(1, 12, 16)
    y = x.clone()
    y[0, :3] += 5.0  # positions 0..2 are outside the window of every query from position 6 on
    a, b = attn(x), attn(y)
    assert torch.allclose(a[0, 6:], b[0, 6:], atol=1e-6)
    assert not torch.allclose(a[0, 3:6], b[0, 3:6], atol=1e-3)


def test_alternating_model_layers_and_equivalences() -> None:
    base = dict(n_layer=4, n_head=2, n_embd=32, block_size=32, vocab_size=64)
    torch.manual_seed(0)
    dense = GPT(GPTConfig(**base)).eval()
    torch.manual_seed(0)
    sparse = GPT(GPTConfig(**base, attention_pattern="alternating", local_window=6)).eval()
    assert [b.attn.window for b in sparse.transformer.h] == [None, 6, None, 6]
    assert sparse.num_params() == dense.num_params()  # the pattern has no parameters
    x = torch.randint(0, 64, (2, 32))
    # Up to the band width the banded layers see everything a dense one does.
    assert torch.allclose(dense(x[:, :6])[0], sparse(x[:, :6])[0], atol=1e-6)
    assert not torch.allclose(dense(x)[0][:, 6:], sparse(x)[0][:, 6:], atol=1e-4)


@pytest.mark.parametrize("pattern", ["dense", "alternating"])
def test_kv_cache_decoding_equals_no_cache(pattern: str) -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=3, n_head=2, n_embd=32, block_size=24, vocab_size=96,
                          attention_pattern=pattern, local_window=5)).eval()
    prompt = torch.randint(0, 96, (3, 7))
    # 40 new tokens: past block_size, so the sliding-window path (cache rebuilt) runs too.
    greedy_cached = generate(model, prompt, 40, temperature=0, use_cache=True)
    greedy_plain = generate(model, prompt, 40, temperature=0, use_cache=False)
    assert greedy_cached.shape == (3, 47) and torch.equal(greedy_cached, greedy_plain)
    sampled = [generate(model, prompt, 40, temperature=1.0, top_k=20, top_p=0.9, use_cache=c,
                        generator=torch.Generator().manual_seed(5)) for c in (True, False)]
    assert torch.equal(*sampled)


def test_kv_cache_logits_match_full_forward() -> None:
    torch.manual_seed(2)
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=64,
                          attention_pattern="alternating", local_window=3)).eval()
    x = torch.randint(0, 64, (2, 16))
    full, _ = model(x)
    cache = model.new_kv_cache(2)
    with torch.no_grad():
        steps = [model(x[:, :5], kv_cache=cache)[0]]  # a prompt chunk, then one token at a time
        steps += [model(x[:, t : t + 1], kv_cache=cache)[0] for t in range(5, 12)]
        steps.append(model(x[:, 12:], kv_cache=cache)[0])  # a chunk after a cached prefix (masked path)
    assert cache.length == 16
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="block_size"):
        model(x[:, :1], kv_cache=cache)


def test_top_k_and_top_p_filtering() -> None:
    probs = torch.tensor([[0.5, 0.25, 0.15, 0.1]])
    logits = probs.log()
    kept = lambda out: (out > -math.inf).squeeze(0).tolist()  # noqa: E731
    assert kept(filter_logits(logits.clone(), top_k=2)) == [True, True, False, False]
    # Nucleus: tokens are kept until their mass reaches p; the first token always stays.
    assert kept(filter_logits(logits.clone(), top_p=0.5)) == [True, False, False, False]
    assert kept(filter_logits(logits.clone(), top_p=0.7)) == [True, True, False, False]
    assert kept(filter_logits(logits.clone(), top_p=0.8)) == [True, True, True, False]
    assert kept(filter_logits(logits.clone(), top_p=1.0)) == [True] * 4
    shuffled = logits[:, [2, 0, 3, 1]].clone()  # order must not matter
    assert kept(filter_logits(shuffled, top_p=0.7)) == [False, True, False, True]
    renorm = F.softmax(filter_logits(logits.clone(), top_p=0.7), dim=-1)
    assert renorm[0, :2].tolist() == pytest.approx([2 / 3, 1 / 3])
