"""Causal self-attention, dense or locally banded (GPT-3's sparse layers), with an optional KV cache.

The band is "each token sees itself and the previous window - 1 tokens": query at position i may
attend key j iff i - window < j <= i.

Two kernels compute it:

- `F.scaled_dot_product_attention` (SDPA), the reference and the default everywhere:
  - training / a prompt without cache, dense or band wider than the sequence: `is_causal=True`,
    no mask tensor at all (flash / memory-efficient kernels);
  - a banded layer over a sequence longer than its band: a boolean mask, built once per
    (query length, key length, window, device) and cached. Exact, but it saves nothing: SDPA still
    computes the full T x T product;
  - decoding one token with a cache: no mask (the token may see every cached key); a banded layer
    simply looks at the last `window` keys; a chunk of queries after a cached prefix: a boolean mask.
- `flex_attention` with a `BlockMask` (blocks of 128 x 128 queries x keys), only for a banded layer
  over a sequence longer than its band without cache (training and prefill): blocks wholly outside
  the band are skipped, so the work grows as T x window instead of T x T. Block masks are cached like
  the boolean masks. flex_attention is only fast when torch.compile fuses it (eager it is an unfused
  reference that materialises the scores: ~10-20x slower than masked SDPA on CPU), so outside a
  compiled model it is called through a `torch.compile`d wrapper.

Which one a layer uses is its `impl` ("auto", "sdpa" or "flex"; `set_attention_impl` sets it on a
whole model; a config with an `attention_impl` field sets the default). "sdpa" always uses SDPA.
"flex" uses flex_attention on the banded path and raises where it cannot (CPU with gradients,
dropout). "auto" uses flex_attention on the banded path where it is supported and was measured
faster (bench/bench_sparse_attention.py), else the masked SDPA:

- never when attention dropout is active (flex_attention has no dropout);
- CUDA: always (fused Triton kernel, forward and backward; compiled once per shape);
- CPU (torch 2.13): only without gradients (flex_attention has no backward on CPU), only inside
  a graph the caller already compiles (`torch.compile(model)`, e.g. the trainer's `--compile`
  evaluation; compiling it just for one call costs 5-25 s per shape), and only when the sequence
  is at least 2 x (window + 256) tokens long. A query block of 128 touches the band's key blocks
  plus up to two partial ones, and flex only wins once that is under about half the sequence
  (measured, fp32, 1 thread, 4 heads of 64: band 256 at T 768 0.7x, 1024 1.5x, 2048 3.0x the
  masked SDPA's speed; band 128 at T 512 1.1x, 1024 2.1x; band 64 at T 256 0.6x, 512 1.06x);
- other devices: never.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from model.config import GPTConfig
from model.kv_cache import KVCache

try:  # flex_attention arrived in torch 2.5
    from torch.nn.attention.flex_attention import BlockMask, create_block_mask, flex_attention
except ImportError:  # pragma: no cover - older torch: SDPA only
    BlockMask = Any  # type: ignore[misc,assignment]
    create_block_mask = flex_attention = None

ATTENTION_IMPLS = ("auto", "sdpa", "flex")
FLEX_BLOCK = 128  # create_block_mask's default block size (queries and keys)

_MASK_CACHE: OrderedDict[tuple, torch.Tensor] = OrderedDict()
_BLOCK_MASK_CACHE: OrderedDict[tuple, BlockMask] = OrderedDict()
_MASK_CACHE_SIZE = 16  # a training run needs one entry; decoding with chunks a few more
_compiled_flex: Callable[..., torch.Tensor] | None = None  # built on first eager use


def _remember(cache: OrderedDict, key: tuple, build: Callable[[], Any]) -> Any:
    """LRU lookup: `build()` on a miss, keeping the last _MASK_CACHE_SIZE entries."""
    value = cache.get(key)
    if value is None:
        value = cache[key] = build()
        if len(cache) > _MASK_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return value


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
    return _remember(_MASK_CACHE, key, lambda: _build_mask(q_len, k_len, window, device))


def band_mask_mod(window: int) -> Callable[..., torch.Tensor]:
    """flex_attention mask_mod of the band: query i may attend key j iff i - window < j <= i."""

    def band(b: torch.Tensor, h: torch.Tensor, q_idx: torch.Tensor, kv_idx: torch.Tensor) -> torch.Tensor:
        return (q_idx >= kv_idx) & (q_idx - kv_idx < window)

    return band


def band_block_mask(seq_len: int, window: int, device: torch.device) -> BlockMask:
    """BlockMask of the band over seq_len queries and keys (shared by every batch row and head).
    Cached per (seq_len, window, device) like `attention_mask`; built inline when compiling."""
    if flex_attention is None:
        raise RuntimeError(f"flex_attention needs torch >= 2.5 (this is {torch.__version__})")

    def build() -> BlockMask:
        return create_block_mask(band_mask_mod(window), None, None, seq_len, seq_len, device=device)

    if torch.compiler.is_compiling():
        return build()
    return _remember(_BLOCK_MASK_CACHE, (seq_len, seq_len, window, str(device)), build)


def flex_unsupported_reason(device: torch.device, needs_grad: bool, dropout: float) -> str | None:
    """Why flex_attention cannot compute this banded attention here, or None if it can."""
    if flex_attention is None:
        return f"flex_attention needs torch >= 2.5 (this is {torch.__version__})"
    if dropout > 0:
        return "flex_attention has no attention dropout"
    if device.type not in ("cuda", "cpu"):
        return f"flex_attention is not used on {device.type}"
    if device.type == "cpu" and needs_grad:
        return f"flex_attention has no backward on CPU (torch {torch.__version__})"
    return None


def use_flex(
    impl: str, *, window: int | None, q_len: int, k_len: int, device: torch.device,
    needs_grad: bool, dropout: float = 0.0, compiling: bool = False,
) -> bool:
    """The kernel rule of the module docstring: True if this call should go through flex_attention.

    Only a banded layer over a sequence longer than its band without cache (q_len == k_len) is a
    candidate. impl "flex" raises where flex_attention cannot run; "auto" falls back to SDPA.
    """
    if impl not in ATTENTION_IMPLS:
        raise ValueError(f"attention impl must be one of {ATTENTION_IMPLS}, got {impl!r}")
    if impl == "sdpa" or window is None or q_len != k_len or k_len <= window:
        return False
    reason = flex_unsupported_reason(device, needs_grad, dropout)
    if impl == "flex":
        if reason is not None:
            raise ValueError(f"attention impl 'flex': {reason}; use 'auto' or 'sdpa'")
        return True
    if reason is not None:
        return False
    if device.type == "cuda":
        return True
    # CPU: the fused kernel only exists in a compiled graph, and only wins on long sequences.
    return compiling and k_len >= cpu_flex_min_len(window)


def cpu_flex_min_len(window: int) -> int:
    """Shortest sequence on which "auto" picks fused flex_attention on CPU: twice the keys a query
    block touches (the band plus two partial blocks); measured, see the module docstring."""
    return 2 * (window + 2 * FLEX_BLOCK)


def flex_band_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """Banded causal attention of (B, H, T, d) q, k, v with flex_attention (blocks outside the band
    skipped); equals SDPA with `attention_mask(T, T, window)`."""
    global _compiled_flex
    block_mask = band_block_mask(q.size(2), window, q.device)
    if torch.compiler.is_compiling():
        return flex_attention(q, k, v, block_mask=block_mask)  # fused into the caller's graph
    if _compiled_flex is None:
        _compiled_flex = torch.compile(flex_attention)
    return _compiled_flex(q, k, v, block_mask=block_mask)


def set_attention_impl(model: nn.Module, impl: str) -> int:
    """Set the kernel choice ("auto", "sdpa", "flex") of every attention layer in `model`; returns
    how many layers were set."""
    if impl not in ATTENTION_IMPLS:
        raise ValueError(f"attention impl must be one of {ATTENTION_IMPLS}, got {impl!r}")
    layers = [m for m in model.modules() if isinstance(m, CausalSelfAttention)]
    for layer in layers:
        layer.impl = impl
    return len(layers)


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
        # Kernel choice (module docstring); a config that names one sets the default.
        self.impl = getattr(config, "attention_impl", "auto")
        if self.impl not in ATTENTION_IMPLS:
            raise ValueError(f"attention impl must be one of {ATTENTION_IMPLS}, got {self.impl!r}")

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
        """Attention of queries q (the last T_q positions) over keys/values k, v (T_k positions)."""
        T_q, T_k = q.size(2), k.size(2)
        window = self.window
        dropout = self.dropout if self.training else 0.0
        needs_grad = torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad)
        if use_flex(self.impl, window=window, q_len=T_q, k_len=T_k, device=q.device, needs_grad=needs_grad,
                    dropout=dropout, compiling=torch.compiler.is_compiling()):
            return flex_band_attention(q, k, v, window)
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
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=causal)
