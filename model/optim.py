"""AdamW with GPT-3's settings and the warmup + cosine learning-rate schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

FUSED_DEVICES = ("cuda", "cpu")


@dataclass
class OptimConfig:
    """GPT-3 (Brown et al. 2020, App. B): Adam betas (0.9, 0.95), eps 1e-8, weight decay 0.1,
    gradient clipping at 1.0, linear warmup then cosine decay to 10% of the peak rate."""

    lr: float = 6e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    decay_steps: int = 10_000  # step at which the cosine reaches min_lr (usually the last step)
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0


def build_optimizer(model: nn.Module, cfg: OptimConfig, device_type: str = "cpu") -> torch.optim.AdamW:
    """AdamW that decays only matrices (Linear weights, embeddings), not biases or LayerNorm gains.

    Decaying a gain or bias pulls it towards 0, which is not a meaningful prior for a scale or an
    offset; nanoGPT's rule "decay tensors with >= 2 dims" captures exactly the matrices.
    The tied head/embedding matrix appears once (`named_parameters` de-duplicates shared tensors).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # The fused kernel updates all tensors in one pass: a few launches on CUDA instead of several per
    # tensor, and on the CPU ~6x faster than the default foreach path (0.9 vs 5.7 ms per step for the
    # tiny preset, measured here). Other devices (mps, ...) get the default implementation.
    fused = device_type in FUSED_DEVICES
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, fused=fused or None)


def lr_at(step: int, cfg: OptimConfig) -> float:
    """Learning rate for optimizer step `step` (0-based).

    Linear warmup from lr/warmup to lr over `warmup_steps`, then a half cosine from lr down to
    lr * min_lr_ratio at `decay_steps`, and flat after that.
    """
    min_lr = cfg.lr * cfg.min_lr_ratio
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if step >= cfg.decay_steps:
        return min_lr
    progress = (step - cfg.warmup_steps) / max(1, cfg.decay_steps - cfg.warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - min_lr)
