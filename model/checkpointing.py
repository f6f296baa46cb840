"""The trainer's checkpoint policy: when a run saves (every `--save-interval` steps, when rank 0's
`--save-every-minutes` timer says so, and at the end), what a save holds (weights, optimizer, the loss
scale, every rank's data position and RNG, the effective settings), and how `--resume` puts all of it
back, so a resumed run continues exactly. The files themselves are `model.checkpoint`'s, the folder or
bucket they go to `model.checkpoint_store`'s."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from model.checkpoint import OPTIMIZER_FILE, load_optimizer_state
from model.checkpoint_store import CheckpointStore, LocalStore
from model.distributed import DistEnv, all_gather_json, all_gather_tensor, barrier
from model.fsdp import (
    MODEL_DCP_DIR,
    OPTIMIZER_DCP_DIR,
    check_all_ranks_wrote,
    full_state_dict,
    load_optimizer,
    save_optimizer,
    save_sharded_model,
)
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
    sharded_optimizer = resume.sharded(OPTIMIZER_DCP_DIR)
    sharded = sharded_optimizer is not None
    if sharded != cfg.fsdp:
        where = resume.source.store.location_of(resume.source.name)
        raise SystemExit(f"--resume: {where} was saved {'with' if sharded else 'without'} --fsdp; "
                         f"resume it {'with' if sharded else 'without'} --fsdp")
    if cfg.fsdp:
        load_optimizer(setup.models.module, setup.optimizer, sharded_optimizer)  # resharded for this world size
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
    log(f"resumed {resume.source.store.location_of(resume.source.name)} at step {step} "
        f"({tokens_seen:,} tokens seen)")
    return step, tokens_seen


def replaced_checkpoints(store: CheckpointStore, resume: Resume, step: int, env: DistEnv, log: Log) -> list[str]:
    """The checkpoint folders of the store that this run's first save replaces (and says so)."""
    # A run resumed from an older checkpoint of its store replaces those "after" its starting point, another
    # timeline now; any other run all of them, which it only gets here to do with --overwrite.
    branch = resume.state is not None and resume.source.store.same_as(store)
    replaced = [name for s, name in store.list() if not branch or s > step]
    if replaced and env.is_main:
        log(f"note: {len(replaced)} checkpoint folder(s) in {store.location} will be replaced at the first save"
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

    def __init__(self, setup: RunSetup, timer: SaveTimer, replaced: list[str]) -> None:
        self.setup = setup
        self.timer = timer          # rank 0's clock of `--save-every-minutes`
        self.replaced = replaced    # folders of the store that the first save removes
        self.saved: str | None = None  # path or URL of the last checkpoint this run wrote

    def timer_vote(self) -> float:
        """Rank 0's vote for a time-triggered save (1.0: due), for the step's all-reduce: every rank learns
        it there, so all of them save at the same step."""
        return float(self.setup.env.is_main and self.timer.due())

    def due(self, step: int, timer_says: bool, is_last: bool) -> bool:
        """A save after `step`, by `--save-interval` or the timer; not at the last step, which saves anyway."""
        interval = self.setup.cfg.save_interval
        by_steps = interval > 0 and step % interval == 0
        return (by_steps or timer_says) and not is_last

    def save(self, step: int, tokens_seen: int, val_loss: float | None, last: bool = False) -> None:
        """Collective: every rank contributes its data position and RNG; rank 0 writes. `last`: the run's
        final save (end, stop or pause), which always holds the consolidated weights."""
        setup, env, store = self.setup, self.setup.env, self.setup.store
        loader_state = merge_states(all_gather_json(env, setup.loader.state_dict()))
        rng = self._rng_states()
        weights, sharded = None, []
        if setup.cfg.fsdp:  # collectives: the shards written by every rank, the weights gathered to rank 0
            sharded = self._save_shards(step)
            if last or setup.cfg.consolidate == "every":
                weights = full_state_dict(setup.models.module)
        failure = None
        if env.is_main:
            tok_path = setup.tokenizer.path
            try:
                self.saved = store.save(setup.models.module, {
                    "step": step, "tokens_seen": tokens_seen, "loader": loader_state,
                    "val_loss": val_loss, "saved_at": time.time(), "world_size": env.world_size,
                    "train_config": train_config(setup),
                }, None if setup.cfg.fsdp else setup.optimizer, rng,
                    extra_files=[tok_path] if tok_path.is_file() else [], keep_last=setup.cfg.keep_last,
                    remove=self.replaced, weights=weights, sharded=sharded)
            except Exception as e:  # a full disk, a bucket that refuses the upload (after its client's retries)
                failure = f"checkpoint at step {step} could not be written to {store.location}: {type(e).__name__}: {e}"
            self.replaced = []
        # Every rank learns whether rank 0's write failed, and all stop together with its message: a rank left
        # alone would wait in the next collective until the timeout. The previous checkpoint stays the latest.
        failure = all_gather_json(env, failure)[0]
        if failure:
            raise SystemExit(failure)
        self.timer.restart()

    def _save_shards(self, step: int) -> list[str]:
        """Every rank writes its shards of the weights and of the optimizer state (a collective)."""
        setup, env, store = self.setup, self.setup.env, self.setup.store
        if env.is_main:
            store.prepare(step)  # a half-written save of this step goes first
        barrier(env)
        targets = {what: store.sharded_target(step, what) for what in (MODEL_DCP_DIR, OPTIMIZER_DCP_DIR)}
        save_sharded_model(setup.models.module, targets[MODEL_DCP_DIR])
        save_optimizer(setup.models.module, setup.optimizer, targets[OPTIMIZER_DCP_DIR])
        # A local folder: did every node's shards land in it? Rank 0 looks, and every rank learns the answer
        # (a rank that stopped alone would leave the others waiting in the next collective).
        problem = None
        if env.is_main and isinstance(store, LocalStore):
            try:
                for target in targets.values():
                    check_all_ranks_wrote(Path(target), env.world_size)
            except RuntimeError as e:
                problem = str(e)
        problem = all_gather_json(env, problem)[0]
        if problem:
            raise SystemExit(f"checkpoint at step {step}: {problem}")
        return list(targets)

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
