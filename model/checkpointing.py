"""The trainer's checkpoint policy: when a run saves (every `--save-interval` steps, when rank 0's
`--save-every-minutes` timer says so, and at the end), what a save holds (weights, optimizer, the loss
scale, every rank's data position and RNG, the effective settings), and how `--resume` puts all of it
back, so a resumed run continues exactly. The files themselves are `model.checkpoint`'s."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from model.checkpoint import (
    OPTIMIZER_FILE,
    list_checkpoints,
    load_optimizer_state,
    save_step_checkpoint,
    step_dir_name,
)
from model.distributed import DistEnv, all_gather_json, all_gather_tensor, barrier
from model.fsdp import OPTIMIZER_DCP_DIR, full_state_dict, load_optimizer, save_optimizer
from model.loader import merge_states
from model.run_control import SaveTimer
from model.run_setup import Log, Resume, RunSetup


def restore(setup: RunSetup, resume: Resume, log: Log) -> tuple[int, int]:
    """Put the resumed checkpoint's data position, optimizer state, loss scale and this rank's RNG back;
    returns (step, tokens seen)."""
    cfg, env, ckpt_dir, state = setup.cfg, setup.env, resume.ckpt_dir, resume.state
    step, tokens_seen = int(state["step"]), int(state["tokens_seen"])
    try:
        setup.loader.load_state_dict(state["loader"])
    except ValueError as e:
        raise SystemExit(f"--resume: {e}") from None
    opt_state = load_optimizer_state(ckpt_dir)
    if opt_state is None or int(opt_state["step"]) != step:
        raise SystemExit(f"--resume: {OPTIMIZER_FILE} is missing or not from step {step}")
    sharded = (ckpt_dir / OPTIMIZER_DCP_DIR).is_dir()
    if sharded != cfg.fsdp:
        raise SystemExit(f"--resume: {ckpt_dir} was saved {'with' if sharded else 'without'} --fsdp; "
                         f"resume it {'with' if sharded else 'without'} --fsdp")
    if cfg.fsdp:
        load_optimizer(setup.models.module, setup.optimizer, ckpt_dir / OPTIMIZER_DCP_DIR)  # resharded for this world size
    else:
        setup.optimizer.load_state_dict(opt_state["optimizer"])
    if setup.scaler.is_enabled() and "grad_scaler" in opt_state:  # float16: continue with the same loss scale
        setup.scaler.load_state_dict(opt_state["grad_scaler"])
    # A row of the stacked states is cloned first: torch (2.13) misreads a state tensor that is a view at a
    # non-zero offset ("Invalid mt19937 state", or a crash), so rank 1 of a resumed DDP run failed.
    rng_all = opt_state.get("torch_rng_all")
    same_world = rng_all is not None and rng_all.size(0) == env.world_size
    torch.set_rng_state(rng_all[env.rank].clone() if same_world else opt_state["torch_rng"])
    cuda_all = opt_state.get("cuda_rng_all")
    if setup.device.type == "cuda" and cuda_all is not None and cuda_all.size(0) == env.world_size:
        torch.cuda.set_rng_state(cuda_all[env.rank].clone(), setup.device)
    log(f"resumed {ckpt_dir} at step {step} ({tokens_seen:,} tokens seen)")
    return step, tokens_seen


def replaced_checkpoints(out: Path, resume: Resume, step: int, env: DistEnv, log: Log) -> list[Path]:
    """The checkpoint folders of `out` that this run's first save replaces (and says so)."""
    # A run resumed from an older checkpoint of --out replaces those "after" its starting point, another
    # timeline now; any other run all of them, which it only gets here to do with --overwrite.
    branch = resume.state is not None and resume.ckpt_dir.resolve().parent == out.resolve()
    replaced = [p for s, p in list_checkpoints(out) if not branch or s > step]
    if replaced and env.is_main:
        log(f"note: {len(replaced)} checkpoint folder(s) in {out} will be replaced at the first save"
            + (f" (newer than the resumed step {step})" if branch else " (--overwrite)"))
    return replaced


def train_config(setup: RunSetup) -> dict[str, Any]:
    """The effective settings, saved with every checkpoint: a resume falls back to them."""
    s = setup.settings
    return {**asdict(setup.cfg), "preset": s.preset, "batch_size": s.batch_size,
            "max_steps": s.max_steps, "seed": s.seed, "val_fraction": s.val_fraction,
            "mix": s.mix, "data_streams": setup.streams, "grad_accum_steps": setup.batch.accum,
            "lr": setup.optim.lr, "warmup_steps": setup.optim.warmup_steps}


class Checkpointer:
    """When a run saves, and what a save holds. `save` is a collective: every rank calls it at the same step."""

    def __init__(self, setup: RunSetup, timer: SaveTimer, replaced: list[Path]) -> None:
        self.setup = setup
        self.timer = timer          # rank 0's clock of `--save-every-minutes`
        self.replaced = replaced    # folders of `--out` the first save removes

    def timer_vote(self) -> float:
        """Rank 0's vote for a time-triggered save (1.0: due), for the step's all-reduce: every rank learns
        it there, so all of them save at the same step."""
        return float(self.setup.env.is_main and self.timer.due())

    def due(self, step: int, timer_says: bool, is_last: bool) -> bool:
        """A save after `step`, by `--save-interval` or the timer; not at the last step, which saves anyway."""
        interval = self.setup.cfg.save_interval
        by_steps = interval > 0 and step % interval == 0
        return (by_steps or timer_says) and not is_last

    def save(self, step: int, tokens_seen: int, val_loss: float | None) -> None:
        """Collective: every rank contributes its data position and RNG; rank 0 writes."""
        setup, env, out = self.setup, self.setup.env, self.setup.out
        loader_state = merge_states(all_gather_json(env, setup.loader.state_dict()))
        rng = self._rng_states()
        weights, sharded_dirs = None, []
        if setup.cfg.fsdp:  # collectives: the weights gathered to rank 0, the optimizer state written by all ranks
            weights = full_state_dict(setup.models.module)
            sharded_dirs = [out / f".{step_dir_name(step)}.{OPTIMIZER_DCP_DIR}"]
            save_optimizer(setup.models.module, setup.optimizer, sharded_dirs[0])
        if env.is_main:
            tok_path = setup.tokenizer.path
            save_step_checkpoint(out, setup.models.module, {
                "step": step, "tokens_seen": tokens_seen, "loader": loader_state,
                "val_loss": val_loss, "saved_at": time.time(), "world_size": env.world_size,
                "train_config": train_config(setup),
            }, None if setup.cfg.fsdp else setup.optimizer, rng, extra_files=[tok_path] if tok_path.is_file() else [],
                keep_last=setup.cfg.keep_last, remove=self.replaced, weights=weights, extra_dirs=sharded_dirs)
            self.replaced = []
        barrier(env)
        self.timer.restart()

    def _rng_states(self) -> dict[str, Any]:
        """Every rank's RNG states (a collective), and the float16 loss scale."""
        env, device, scaler = self.setup.env, self.setup.device, self.setup.scaler
        rng = {"torch_rng": torch.get_rng_state(),
               "torch_rng_all": torch.stack(all_gather_tensor(env, torch.get_rng_state()))}
        if device.type == "cuda":
            rng["cuda_rng_all"] = torch.stack(all_gather_tensor(env, torch.cuda.get_rng_state(device)))
        if scaler.is_enabled():
            rng["grad_scaler"] = scaler.state_dict()
        return rng
