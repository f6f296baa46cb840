"""Data-parallel plumbing for `torchrun`: process group set-up and the few collectives the trainer needs.

    torchrun --standalone --nproc_per_node=2 -m model.train --data data/shards     # 2 CPU processes (gloo)
    torchrun --standalone --nproc_per_node=8 -m model.train --preset gpt2 ...      # 8 GPUs (NCCL)

torchrun sets RANK, LOCAL_RANK, WORLD_SIZE (and MASTER_ADDR/PORT); without them this is one process
and every helper here is a no-op. NCCL only moves CUDA tensors and gloo CPU ones, so the helpers put
their tensors on `DistEnv.device`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass
class DistEnv:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone prints, logs and writes checkpoints."""
        return self.rank == 0


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """"auto" -> CUDA when present (this process's GPU under torchrun), else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def init_distributed(device_name: str = "auto") -> DistEnv:
    """Join the torchrun job if there is one (NCCL on GPUs, gloo on CPUs) and pick this rank's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    env = DistEnv(
        rank=int(os.environ.get("RANK", "0")), world_size=world_size, local_rank=local_rank,
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size))), device=device,
    )
    if env.enabled and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return env


def shutdown(env: DistEnv) -> None:
    if env.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: DistEnv) -> None:
    if env.enabled:
        dist.barrier()


def all_reduce_sum(env: DistEnv, values: list[float]) -> list[float]:
    """Element-wise sum of a few floats over all ranks (float64, so sums of losses stay exact enough)."""
    if not env.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def all_gather_tensor(env: DistEnv, t: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's copy of a same-shaped tensor, returned on the CPU, in rank order."""
    if not env.enabled:
        return [t.cpu()]
    t = t.to(env.device)
    out = [torch.empty_like(t) for _ in range(env.world_size)]
    dist.all_gather(out, t)
    return [o.cpu() for o in out]


def all_gather_json(env: DistEnv, obj: Any) -> list[Any]:
    """Every rank's JSON-serialisable `obj`, in rank order. JSON bytes in a padded uint8 tensor, so
    nothing is pickled (torch's all_gather_object would unpickle what other processes send)."""
    if not env.enabled:
        return [obj]
    data = torch.tensor(list(json.dumps(obj).encode("utf-8")), dtype=torch.uint8)
    sizes = all_gather_tensor(env, torch.tensor([data.numel()], dtype=torch.int64))
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros(longest, dtype=torch.uint8)
    padded[: data.numel()] = data
    gathered = all_gather_tensor(env, padded)
    return [json.loads(bytes(g[: int(s.item())].tolist()).decode("utf-8")) for g, s in zip(gathered, sizes)]
