"""The trainer's validation loss: a fixed set of held-out blocks, read once, scored at every
evaluation so the numbers compare across steps and runs."""

from __future__ import annotations

from itertools import islice
from typing import Any

import torch
from tqdm import tqdm

from model.data import LoaderConfig
from model.distributed import DistEnv, all_reduce_sum
from model.loader import TokenLoader
from model.mixing import Source


@torch.no_grad()
def evaluate(model: torch.nn.Module, blocks: list[torch.Tensor], env: DistEnv, ctx: Any,
             sharded: bool = False) -> float | None:
    """Mean loss over the fixed validation blocks (None when there are none); ranks share the blocks.

    A `sharded` (FSDP) model's forward is a collective, so every rank runs the same number of them: a rank
    whose share is one block short scores a block again and does not count it.
    """
    if not blocks:
        return None
    model.eval()
    total, n = 0.0, 0
    rounds = -(-len(blocks) // env.world_size) if sharded else len(blocks[env.rank :: env.world_size])
    for i in range(rounds):
        index = env.rank + i * env.world_size
        block = blocks[min(index, len(blocks) - 1)].to(env.device)
        with ctx:
            _, loss = model(block[:, :-1], block[:, 1:])
        if index < len(blocks):
            total += loss.item() * block.size(0)
            n += block.size(0)
    model.train()
    total, n = all_reduce_sum(env, [total, n])
    return total / n


def validation_blocks(sources: list[Source], tok: Any, batch_size: int, block_size: int, seed: int,
                      val_fraction: float, eval_iters: int) -> list[torch.Tensor]:
    """The first `eval_iters` batches of the val split of all sources, read once in file order and kept
    in memory, so every evaluation scores the same tokens and the numbers are comparable across steps
    and runs."""
    paths = sorted({p for s in sources for p in s.paths})
    loader = TokenLoader(paths, tok, LoaderConfig(
        batch_size=batch_size, block_size=block_size, split="val", val_fraction=val_fraction,
        seed=seed, shuffle=False, max_epochs=1,
    ))
    try:
        # x and y are views of one (B, T+1) block; keep the block.
        return [torch.cat([x, y[:, -1:]], dim=1) for x, y in islice(loader, eval_iters)]
    except ValueError as e:  # the split is empty (tiny data or --val-fraction 0)
        tqdm.write(f"no validation: {e}")
        return []
