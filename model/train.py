"""GPT pretraining streamed from the Parquet shards.

    python -m model.train --data data/shards                       # tiny model, CPU, a few minutes
    python -m model.train --data data/shards --mix webtext=0.6,commoncrawl=0.4
    python -m model.train --data data/shards --preset gpt2 --batch-size 8 --batch-tokens 524288
    torchrun --standalone --nproc_per_node=2 -m model.train --data data/shards      # DDP (gloo on CPU)
    python -m model.train --data data/shards --resume auto          # continue the latest checkpoint, if any
    python -m model.train --preset gpt3-175b --dry-run              # parameters and memory, nothing allocated

What it does, in order: find the sources; train a byte-level BPE on the train split into
`--out/tokenizer.json` unless one is there; build the model from a preset; stream packed token
blocks (background workers tokenize); AdamW with warmup + cosine, gradient accumulation to the token
batch; log to `--out/metrics.jsonl` (and TensorBoard); evaluate on held-out documents; write a
checkpoint folder every `--save-interval` steps, every `--save-every-minutes` (30) and at the end; plot
the loss; print a summary.

Ctrl-C (or SIGTERM) stops after the current step and saves a checkpoint that `--resume` continues
exactly, data position included. A second Ctrl-C aborts at once. A fresh run (no `--resume`) refuses an
`--out` that already holds checkpoints unless told `--overwrite`, so another run's are never lost by
accident.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning. On a 2-core box shared with
# other work, spinning threads made 2-thread training ~5x slower than 1 thread (1.1k vs 5.9k tok/s);
# passive waiting keeps it at the 1-thread speed, and costs nothing measurable when the cores are idle.
# Only takes effect when this module is what first imports torch (python -m model.train); an explicit
# OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from tqdm import tqdm  # noqa: E402

# The run's pieces, one concern per module (`_train` wires them). Names marked F401 are imported only so
# that `model.train.X` keeps working for callers and tests.
from model.checkpoint import load_model  # noqa: E402,F401
from model.checkpoint_store import open_store  # noqa: E402
from model.checkpointing import Checkpointer, replaced_checkpoints, restore  # noqa: E402
from model.cli import is_terminal, run_cli  # noqa: E402
from model.cpu_allocator import keep_freed_memory  # noqa: E402
from model.distributed import DistEnv, init_distributed, shutdown  # noqa: E402
from model.estimate import flops_per_token  # noqa: E402
from model.fsdp import ensure_process_group  # noqa: E402
from model.metrics import tensorboard_available  # noqa: E402
from model.mfu import device_peak_flops, matmul_precision  # noqa: E402
from model.optim import build_optimizer  # noqa: E402
from model.precision import choose_precision  # noqa: E402
from model.run_control import SaveTimer, StopRequest, refuse_to_replace  # noqa: E402,F401
from model.run_setup import (  # noqa: E402,F401
    RunSetup,
    build_loader,
    build_model,
    data_streams,
    describe,
    find_resume,
    optimizer_settings,
    plan_batch,
    prepare_tokenizer,
    read_inputs,
    resolve_settings,
    seed_everything,
    wrap_model,
)
from model.train_config import RUN_DEFAULTS, TrainConfig, build_parser, model_config, parse_args  # noqa: E402,F401
from model.train_loop import RunLogs, TrainState, open_logs, open_progress, plot_losses, run_loop, summarize  # noqa: E402
from model.train_report import dry_run, print_summary, progress_line, source_report  # noqa: E402,F401
from model.validation import evaluate, validation_blocks  # noqa: E402,F401

# The clock of `--save-every-minutes` (a module attribute, so a test can drive it). `_train` reads it, and
# `is_terminal`, `tensorboard_available` and `device_peak_flops`, through this module for the same reason.
monotonic_clock: Callable[[], float] = time.monotonic


def autocast_context(device: torch.device, dtype: str) -> contextlib.AbstractContextManager:
    """The forward pass's autocast for `--dtype` on `device` (see `model.precision`)."""
    return choose_precision(device, dtype).autocast()


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run training as configured (one process, or one rank under torchrun) and return the summary."""
    if cfg.dry_run:
        return dry_run(cfg)
    env = init_distributed(cfg.device)
    if cfg.fsdp:
        ensure_process_group(env.device)  # FSDP needs a process group even without torchrun
    try:
        return _train(cfg, env)
    finally:
        shutdown(env)
        if dist.is_initialized():  # the single-process group of --fsdp
            dist.destroy_process_group()


def _silent(*_args: Any, **_kwargs: Any) -> None:
    """The log of ranks other than 0."""


def _train(cfg: TrainConfig, env: DistEnv) -> dict[str, Any]:
    """The run, wired from its pieces: what it is (`model.run_setup`), the checkpoint policy
    (`model.checkpointing`), the step loop and summary (`model.train_loop`)."""
    threads = cfg.threads or max(1, len(os.sched_getaffinity(0)) // env.local_world_size)
    torch.set_num_threads(threads)
    device = env.device
    precision = choose_precision(device, cfg.dtype, cfg.tf32)
    if device.type == "cpu":
        keep_freed_memory()  # no page faults on every step's activations (model/cpu_allocator.py)
    ctx, scaler = precision.autocast(), precision.grad_scaler()
    log = tqdm.write if env.is_main else _silent
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- what the run is: the resumed checkpoint and the settings it fixes, inputs, tokenizer ---
    store = open_store(cfg.checkpoint_dir or out, out)
    store.check_writable(env.rank)
    resume = find_resume(cfg, env, out, store)
    settings = resolve_settings(cfg, resume)
    sources, task_probe = read_inputs(cfg, settings.mix, log)
    tokenizer = prepare_tokenizer(cfg, env, out, resume, settings, sources, log)
    if cfg.tokenizer_only:
        return tokenizer.summary()

    # --- the model, its batch and optimizer, the data ---
    model = build_model(cfg, env, resume, settings, tokenizer.tok, precision, log)
    # MFU: the model's training FLOPs per token (6N + attention, the banded layers' real work) against the
    # accelerator's dense peak at the precision the matmuls run in (None on CPUs and unknown devices).
    model_flops = flops_per_token(model.config)
    peak = device_peak_flops(device, matmul_precision(precision.autocast_dtype, precision.tf32))
    models = wrap_model(model, cfg, env, precision)
    optim = optimizer_settings(cfg, resume, settings)
    batch = plan_batch(cfg, env, resume, settings, model.config.block_size, log)
    optimizer = build_optimizer(model, optim, device.type)
    streams = data_streams(cfg, env, resume)
    loader = build_loader(cfg, env, settings, sources, tokenizer.tok, model.config.block_size, streams)
    setup = RunSetup(cfg=cfg, env=env, out=out, store=store, settings=settings, precision=precision, ctx=ctx, scaler=scaler,
                     tokenizer=tokenizer, sources=sources, task_probe=task_probe, models=models, optim=optim,
                     optimizer=optimizer, batch=batch, streams=streams, loader=loader, model_flops=model_flops,
                     peak_flops=peak)
    step, tokens_seen = restore(setup, resume, log) if resume.state is not None else (0, 0)
    val_blocks = validation_blocks(sources, tokenizer.tok, settings.batch_size, model.config.block_size,
                                   settings.seed, settings.val_fraction, cfg.eval_iters)

    # --- logs, the checkpoints this run replaces, the loop ---
    metrics, tb = open_logs(cfg, env, out, step if resume.state is not None else None, tensorboard_available)
    replaced = replaced_checkpoints(store, resume, step, env, log)
    log(describe(setup, threads))
    state = TrainState(step, tokens_seen)
    logs = RunLogs(log, metrics, tb, *open_progress(cfg, env, settings.max_steps, step, is_terminal))
    # Rank 0's clock decides time-triggered saves, and every rank learns it in the step's all-reduce.
    checkpointer = Checkpointer(setup, SaveTimer(cfg.save_every_minutes, monotonic_clock), replaced)
    try:
        run_loop(setup, state, logs, checkpointer, val_blocks)
    finally:
        logs.close()

    summary = summarize(setup, state, plot_losses(setup, state, log), checkpointer.saved)
    if env.is_main:
        print_summary(summary, cfg.log_interval, settings.preset)
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point: parse `argv` (default: sys.argv), train, return the summary."""
    return train(parse_args(argv))


if __name__ == "__main__":
    summary = run_cli(main, build_parser())
    sys.exit(0 if summary["status"] != "non-finite loss" else 1)
