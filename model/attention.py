"""Causal self-attention, dense or locally banded (GPT-3's sparse layers), with an optional KV cache.

Everything goes through `F.scaled_dot_product_attention` (SDPA). Which variant is used depends on the
shapes, so the common cases keep SDPA's fastest kernels:

- training / a prompt without cache, dense or band wider than the sequence: `is_causal=True`,
  no mask tensor at all (flash / memory-efficient kernels);
- a banded layer over a sequence longer than its band: a boolean mask, built once per
  (query length, key length, window, device) and cached;
- decoding one token with a cache: no mask (the token may see every cached key); a banded layer
  simply looks at the last `window` keys.

The band is "each token sees itself and the previous window - 1 tokens": query at position i may
attend key j iff i - window < j <= i. The mask reproduces the attention pattern exactly; it does
not save the FLOPs a block-sparse kernel would (SDPA still computes the full T x T product).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from model.config import GPTConfig
from model.kv_cache import KVCache

_MASK_CACHE: OrderedDict[tuple, torch.Tensor] = OrderedDict()
_MASK_CACHE_SIZE = 16  # a training run needs one entry; decoding with chunks a few more


def _build_mask(q_len: int, k_len: int, window: int | None, device: torch.device) -> torch.Tensor:
    # Queries are the last q_len of k_len positions (the earlier ones are in the cache).
    q_pos = torch.arange(k_len - q_len, k_len, device=device).unsqueeze(1)
    k_pos = torch.arange(k_len, device=device).unsqueeze(0)
    allowed = k_pos <= q_pos
    if window is not None:
        allowed &= q_pos - k_pos < window
    return allowed


def attention_mask(q_len: int, k_len: int, window: int | None, device: torch.device) -> torch.Tensor:
    """Boolean (q_len, k_len) mask, True where a query may attend a key, for queries at the last
    q_len of k_len positions; `window` None means plain causal. Cached; do not modify the result."""
    if torch.compiler.is_compiling():
        # Inside a compiled graph the mask is a few fused comparisons; a Python-side cache would
        # only add guards and graph breaks.
        return _build_mask(q_len, k_len, window, device)
    key = (q_len, k_len, window, str(device))
    mask = _MASK_CACHE.get(key)
    if mask is None:
        mask = _build_mask(q_len, k_len, window, device)
        _MASK_CACHE[key] = mask
        if len(_MASK_CACHE) > _MASK_CACHE_SIZE:
            _MASK_CACHE.popitem(last=False)
    else:
        _MASK_CACHE.move_to_end(key)
    return mask


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where each position sees itself and (part of) the past only."""

    def __init__(self, config: GPTConfig, layer_idx: int = 0) -> None:
        super().__init__()
        # One matmul produces q, k and v for all heads at once.
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.layer_idx = layer_idx
        self.window = config.layer_window(layer_idx)  # None: dense

    def forward(self, x: torch.Tensor, kv_cache: KVCache | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # (B, T, C) -> (B, n_head, T, head_dim): heads become a batch dimension.
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if kv_cache is not None:
            k, v = kv_cache.append(self.layer_idx, k, v)
        y = self.attend(q, k, v)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """SDPA of queries q (the last T_q positions) over keys/values k, v (T_k positions)."""
        T_q, T_k = q.size(2), k.size(2)
        window = self.window
        if window is not None and T_q == 1 and T_k > window:
            # One new token in a banded layer: its band is exactly the last `window` keys.
            k, v, T_k = k[:, :, -window:], v[:, :, -window:], window
        mask, causal = None, False
        if window is not None and T_k > window and T_q > 1:
            mask = attention_mask(T_q, T_k, window, q.device)
        elif T_q == T_k:
            # SDPA's is_causal aligns the mask top-left, which is only right when T_q == T_k.
            causal = T_q > 1
        elif T_q > 1:
            mask = attention_mask(T_q, T_k, None, q.device)  # a chunk of queries after a cached prefix
        # else: a single query after the cache sees every key: no mask.
        return F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0, is_causal=causal
        )
