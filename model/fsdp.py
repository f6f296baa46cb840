"""Sharded data parallel (`--fsdp`): PyTorch FSDP2 (`fully_shard`) per transformer block, and checkpoints
that any world size can resume.

DDP keeps a full copy of weights, gradients and AdamW state on every rank: 16 bytes per parameter
(2.7B parameters = 43 GB per GPU before activations). FSDP2 shards all three over the ranks and
all-gathers one block's weights at a time for its forward and backward, so a rank holds 16 N / W bytes
plus one block in full. Mixed precision (with bf16): parameters are gathered and computed in bf16,
gradients reduced in fp32, the sharded master weights and optimizer state stay fp32.

Checkpoints keep the usual step-folder layout, so everything that reads a checkpoint still works:
`model.safetensors` holds the consolidated weights (gathered to rank 0, for sampling, evaluation and
export). The sharded state goes through `torch.distributed.checkpoint` (DCP): the AdamW state to
`optimizer_dcp/` and the weights to `model_dcp/`, each rank writing its own shards; on load DCP
reshards them for the world size at hand (save on 2 ranks, resume on 1 or 4). A resume builds the
model on the meta device and each rank reads only its shards, so no rank materialises or reads the full
weights. The folders may be local paths or fsspec URLs (s3://, gs://, ...): DCP picks its fsspec
writer for a URL, so nodes need not share a filesystem.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from torch.distributed.tensor import DTensor

from model.checkpoint import SHARDED_WEIGHTS_DIR
from model.config import GPTConfig
from model.gpt import GPT
from model.precision import Precision

OPTIMIZER_DCP_DIR = "optimizer_dcp"
MODEL_DCP_DIR = SHARDED_WEIGHTS_DIR  # model.checkpoint.load_model reads it when there is no model.safetensors
DCP_METADATA = ".metadata"  # written last by DCP's coordinator: a folder without it is incomplete


def ensure_process_group(device: torch.device) -> None:
    """FSDP needs a process group even for one process (no torchrun): an in-memory one."""
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", store=dist.HashStore(),
                                rank=0, world_size=1)


def shard_model(model: GPT, world_size: int, device: torch.device, precision: Precision) -> GPT:
    """`fully_shard` each block, then the root (embeddings, final norm, the tied head); in place."""
    mesh = init_device_mesh(device.type, (world_size,))
    mp = (MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
          if precision.dtype == "bfloat16" else MixedPrecisionPolicy())
    for block in model.transformer.h:
        fully_shard(block, mesh=mesh, mp_policy=mp)
    fully_shard(model, mesh=mesh, mp_policy=mp)
    return model


def scalar(value: torch.Tensor) -> float:
    """A reduced scalar as a float; a gradient norm over DTensors is itself a DTensor."""
    if isinstance(value, DTensor):
        value = value.full_tensor()
    return float(value.item())


def full_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    """The consolidated weights on CPU (on rank 0; other ranks get an empty dict). A collective."""
    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def save_optimizer(model: GPT, optimizer: torch.optim.Optimizer, folder: Path | str) -> None:
    """Every rank writes its shards of the optimizer state into `folder`, a path or URL (a collective).
    A half-written folder of a killed save is the caller's to clear first (`CheckpointStore.prepare`)."""
    dcp.save({"optimizer": get_optimizer_state_dict(model, optimizer)}, checkpoint_id=str(folder))


def load_optimizer(model: GPT, optimizer: torch.optim.Optimizer, folder: Path | str) -> None:
    """Load a sharded optimizer state saved by any world size into this one (a collective)."""
    state = {"optimizer": get_optimizer_state_dict(model, optimizer)}
    dcp.load(state, checkpoint_id=str(folder))
    set_optimizer_state_dict(model, optimizer, state["optimizer"])


def save_sharded_model(model: GPT, folder: Path | str) -> None:
    """Every rank writes its shards of the weights into `folder`, a path or URL (a collective)."""
    dcp.save({"model": get_model_state_dict(model)}, checkpoint_id=str(folder))


def load_sharded_model(config: GPTConfig, folder: Path | str, world_size: int, device: torch.device,
                       precision: Precision) -> GPT:
    """The model of a sharded checkpoint, sharded for this world size (a collective).

    Built on the meta device and sharded before any memory is allocated, then each rank allocates and
    reads only its own shards: nothing holds the full weights, whatever the size of the model.
    """
    with torch.device("meta"):
        model = GPT(config)
    shard_model(model, world_size, device, precision)
    model.to_empty(device=device)
    state = {"model": get_model_state_dict(model)}
    dcp.load(state, checkpoint_id=str(folder))
    set_model_state_dict(model, state["model"])
    return model


def check_all_ranks_wrote(folder: Path, world_size: int) -> None:
    """Raise if a local DCP folder lacks some rank's file: the ranks' `--out` is not one shared folder
    (a multi-node job whose nodes write to their own disks), so this checkpoint could never be resumed."""
    ranks = {int(m.group(1)) for f in folder.glob("__*_*.distcp") if (m := re.match(r"__(\d+)_", f.name))}
    missing = sorted(set(range(world_size)) - ranks)
    if missing or not (folder / DCP_METADATA).is_file():
        raise RuntimeError(
            f"{folder} lacks the shards of rank(s) {missing[:8]}{' ...' if len(missing) > 8 else ''}: the "
            "processes do not share this folder (nodes with their own disks?). Give --checkpoint-dir a "
            "filesystem all nodes share, or an fsspec URL (s3://bucket/run, gs://...)"
        )


def per_rank_bytes(params: int, world_size: int, largest_block_params: int, bf16: bool) -> dict[str, int]:
    """Training memory of weights, gradients and AdamW per rank under FSDP (activations not included):
    the sharded fp32 master weights, gradients and two moments, plus one block gathered in full."""
    shard = -(-params // world_size)
    gathered = largest_block_params * (2 if bf16 else 4) * 2  # the gathered block and its gradient
    return {"weights": 4 * shard, "gradients": 4 * shard, "adamw": 8 * shard, "gathered_block": gathered}
