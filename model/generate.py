"""Autoregressive decoding: temperature, top-k, top-p (nucleus), with or without a KV cache.

The cached and uncached paths compute the same thing: at every step the next-token logits of the
last `block_size` tokens. With the cache, a step costs one token's forward pass instead of the
whole context's. Once the context is longer than the position table, GPT-2's learned absolute
positions shift by one at every step, so the cache is rebuilt from the cropped context each step
(exactly what the uncached path computes, at the uncached cost).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from model.gpt import GPT


def filter_logits(
    logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """Set to -inf every logit outside the top-k and outside the nucleus of mass `top_p` (in place).

    Nucleus (Holtzman et al. 2020): keep the smallest set of most likely tokens whose probability
    adds up to at least `top_p`; the most likely token is always kept.
    """
    if top_k is not None and 0 < top_k < logits.size(-1):
        kth = torch.topk(logits, top_k).values[..., -1:]
        logits[logits < kth] = -float("inf")
    if top_p is not None and 0.0 < top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        probs = F.softmax(sorted_logits, dim=-1)
        # Mass strictly before each token: a token is dropped once the tokens before it reach top_p.
        before = torch.cumsum(probs, dim=-1) - probs
        drop_sorted = before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits[drop] = -float("inf")
    return logits


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Next token ids (B, 1) from last-position logits (B, V). temperature <= 0 is greedy."""
    logits = logits.float()
    if temperature <= 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = filter_logits(logits / temperature, top_k, top_p)
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)


@torch.no_grad()
def generate(
    model: GPT,
    idx: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    vocab_limit: int | None = None,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    """Append `max_new_tokens` sampled tokens to `idx` (B, T) and return the longer tensor.

    `vocab_limit` forbids ids >= it (the padding rows of a padded vocabulary, which no tokenizer
    can decode). `use_cache=False` re-runs the context at every step (the reference path).
    """
    block = model.config.block_size
    cache = model.new_kv_cache(idx.size(0)) if use_cache else None

    def next_logits(ctx_new: torch.Tensor) -> torch.Tensor:
        # Only the last position is needed: skip the LM head for the others.
        return model.lm_head(model.hidden_states(ctx_new, cache)[:, -1, :])

    if cache is not None:
        logits = next_logits(idx[:, -block:])  # prefill
    for i in range(max_new_tokens):
        if cache is None:
            # Positions beyond block_size have no embedding: keep the latest block_size tokens.
            logits = next_logits(idx[:, -block:])
        logits = logits.float()
        if vocab_limit is not None and vocab_limit < logits.size(-1):
            logits[:, vocab_limit:] = -float("inf")
        next_id = sample_next(logits, temperature, top_k, top_p, generator)
        idx = torch.cat((idx, next_id), dim=1)
        if cache is not None and i + 1 < max_new_tokens:
            if cache.length < block:
                logits = next_logits(next_id)
            else:  # the window slides: positions shift, so the cached keys are stale
                cache.reset()
                logits = next_logits(idx[:, -block:])
    return idx
