"""Key/value cache for incremental decoding.

Without a cache every new token re-runs the whole context: O(T^2) work per token. With it, the keys
and values of the positions already seen are kept per layer and only the new token is computed.
Tensors are preallocated to `max_len` positions, so decoding does not re-allocate per token.

GPT-2 has learned absolute positions, so a cache is only valid while the context fits the position
table: once it is full, the window has to slide, every token changes position, and the caller must
`reset()` and re-fill the cache from the cropped context (see `model.generate`).
"""

from __future__ import annotations

import torch


class KVCache:
    """Per-layer keys and values, shape (n_layer, batch, n_head, max_len, head_dim) each."""

    def __init__(
        self,
        n_layer: int,
        batch_size: int,
        n_head: int,
        head_dim: int,
        max_len: int,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        shape = (n_layer, batch_size, n_head, max_len, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.max_len = max_len
        self.length = 0  # positions filled (the same in every layer once a forward pass is done)

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new keys/values of `layer` (B, H, T, hd) after the cached ones; return all of them.

        `length` is not advanced here (every layer writes at the same offset); `advance()` does it
        once per forward pass.
        """
        start, end = self.length, self.length + k.size(2)
        if end > self.max_len:
            raise ValueError(f"KV cache full: {end} positions > max_len {self.max_len}")
        self.k[layer, :, :, start:end] = k
        self.v[layer, :, :, start:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def advance(self, n: int) -> None:
        self.length += n

    def reset(self) -> None:
        """Forget everything (the tensors are reused)."""
        self.length = 0
