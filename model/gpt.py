"""GPT-2 / GPT-3 decoder-only transformer, after nanoGPT's `model.py`.

Module names follow Hugging Face's `GPT2LMHeadModel` (`transformer.wte`, `transformer.h.0.attn.c_attn`,
...) so weights map 1:1 by name. One difference to remember when importing HF weights: HF stores
`c_attn`, `c_proj` and `c_fc` as `Conv1D` (weight shape [in, out]); here they are `nn.Linear`
([out, in]), so those four weights need a transpose.

GPT-3 alternates dense and locally banded sparse attention layers: `GPTConfig(attention_pattern=
"alternating", local_window=...)` (see `model.attention`); the default is all dense, which is what
GPT-2 and public GPT-3-size reproductions do.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from model.attention import CausalSelfAttention
from model.config import GPTConfig
from model.kv_cache import KVCache


class MLP(nn.Module):
    """Position-wise feed-forward block: 4x expansion with GELU, as in GPT-2."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        # GPT-2 used the tanh approximation of GELU; keep it so imported weights behave the same.
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, kv_cache: KVCache | None = None) -> torch.Tensor:
        # Normalising the branch input (not the residual stream) is GPT-2's change over GPT-1;
        # it keeps the residual path an identity and makes deep stacks trainable without warm tricks.
        x = x + self.attn(self.ln_1(x), kv_cache)
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    """Token + learned position embeddings, `n_layer` blocks, final LayerNorm, tied LM head."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config, i) for i in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Recompute each block's activations in backward instead of storing them (`--activation-
        # checkpointing`): about one block's activations live at a time, for ~1/3 more compute.
        self.activation_checkpointing = False
        self.tie_weights()
        self.apply(self._init_weights)
        # GPT-2 paper: scale the init of the layers that write into the residual stream by
        # 1/sqrt(N), N = 2 * n_layer residual additions, so the stream's variance does not grow with depth.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def tie_weights(self) -> None:
        """Share one matrix between input embedding and output head (GPT-2 does; saves V x d params)."""
        self.lm_head.weight = self.transformer.wte.weight

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, include_position_embeddings: bool = True) -> int:
        """Number of parameters; the tied head is counted once (`parameters()` de-duplicates)."""
        n = sum(p.numel() for p in self.parameters())
        if not include_position_embeddings:
            n -= self.transformer.wpe.weight.numel()
        return n

    def hidden_states(self, idx: torch.Tensor, kv_cache: KVCache | None = None) -> torch.Tensor:
        """Final-LayerNorm output for token ids `idx` of shape (B, T): returns (B, T, n_embd).

        With `kv_cache`, `idx` continues the cached positions (their keys/values are reused and the
        new ones appended), which is how `model.generate.generate` decodes one token at a time.
        """
        B, T = idx.shape
        start = kv_cache.length if kv_cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(f"sequence length {start + T} exceeds block_size {self.config.block_size}")
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        recompute = self.activation_checkpointing and kv_cache is None and torch.is_grad_enabled()
        for block in self.transformer.h:
            x = checkpoint(block, x, use_reentrant=False) if recompute else block(x, kv_cache)
        if kv_cache is not None:
            kv_cache.advance(T)
        return self.transformer.ln_f(x)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, kv_cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return (logits (B, T, vocab), mean cross-entropy or None). Targets equal to -1 are ignored."""
        logits = self.lm_head(self.hidden_states(idx, kv_cache))
        loss = None
        if targets is not None:
            # Upcast: under bf16 autocast the logits are bf16, and a softmax over 50k entries in bf16
            # loses precision that shows up as a noisier loss.
            loss = F.cross_entropy(
                logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-1
            )
        return logits, loss

    def new_kv_cache(self, batch_size: int, max_len: int | None = None) -> KVCache:
        """An empty cache for `batch_size` sequences of up to `max_len` (default block_size) positions,
        on the model's device and in its dtype."""
        c = self.config
        w = self.transformer.wte.weight
        return KVCache(c.n_layer, batch_size, c.n_head, c.head_dim, max_len or c.block_size, w.device, w.dtype)
