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
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning. On a 2-core box shared with
# other work, spinning threads made 2-thread training ~5x slower than 1 thread (1.1k vs 5.9k tok/s);
# passive waiting keeps it at the 1-thread speed, and costs nothing measurable when the cores are idle.
# Only takes effect when this module is what first imports torch (python -m model.train); an explicit
# OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402
from tqdm import tqdm  # noqa: E402

from corpus.benchmarks import TaskSpecError, load_task  # noqa: E402
from model.checkpoint import (  # noqa: E402
    OPTIMIZER_FILE,
    list_checkpoints,
    load_model,
    load_optimizer_state,
    load_train_state,
    resolve_checkpoint,
    save_step_checkpoint,
    step_dir_name,
)
from model.cli import is_terminal, run_cli  # noqa: E402
from model.config import PRESET_TRAINING, PRESETS, GPTConfig  # noqa: E402
from model.cpu_allocator import keep_freed_memory  # noqa: E402
from model.data import LoaderConfig, iter_texts  # noqa: E402
from model.distributed import (  # noqa: E402
    DistEnv,
    all_gather_json,
    all_gather_tensor,
    all_reduce_sum,
    barrier,
    init_distributed,
    shutdown,
)
from model.estimate import flops_per_token  # noqa: E402
from model.fsdp import (  # noqa: E402
    OPTIMIZER_DCP_DIR,
    ensure_process_group,
    full_state_dict,
    load_optimizer,
    save_optimizer,
    scalar,
    shard_model,
)
from model.gpt import GPT  # noqa: E402
from model.incontext import TaskProbe  # noqa: E402
from model.loader import TokenLoader, merge_states  # noqa: E402
from model.metrics import (  # noqa: E402
    METRICS_FILE,
    PLOT_FILE,
    TENSORBOARD_DIR,
    MetricsLog,
    TensorBoardLog,
    matplotlib_available,
    plot_loss_curve,
    tensorboard_available,
)
from model.mfu import Throughput, device_peak_flops, matmul_precision  # noqa: E402
from model.mixing import Source, discover_sources, parse_mix, preset_mix, unused_sources  # noqa: E402
from model.optim import OptimConfig, build_optimizer, lr_at  # noqa: E402
from model.precision import choose_precision  # noqa: E402

# The run's pieces, one concern per module; imported here so `model.train.X` keeps working for callers.
from model.run_control import SaveTimer, StopRequest, find_resume_checkpoint, refuse_to_replace  # noqa: E402,F401
from model.tokenizer import TOKENIZER_FILE, load_or_train_tokenizer, load_tokenizer  # noqa: E402
from model.train_config import RUN_DEFAULTS, TrainConfig, build_parser, model_config, parse_args  # noqa: E402,F401
from model.train_report import dry_run, print_summary, progress_line, source_report  # noqa: E402,F401
from model.validation import evaluate, validation_blocks  # noqa: E402,F401

# The clock of `--save-every-minutes` (a module attribute, so a test can drive it).
monotonic_clock: Callable[[], float] = time.monotonic


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def autocast_context(device: torch.device, dtype: str) -> contextlib.AbstractContextManager:
    """The forward pass's autocast for `--dtype` on `device` (see `model.precision`)."""
    return choose_precision(device, dtype).autocast()


def _train_texts(sources: list[Source], val_fraction: float, max_chars: int) -> Iterator[str]:
    paths = sorted({p for s in sources for p in s.paths})
    return iter_texts(paths, split="train", val_fraction=val_fraction, max_chars=max_chars)


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


def _train(cfg: TrainConfig, env: DistEnv) -> dict[str, Any]:
    threads = cfg.threads or max(1, len(os.sched_getaffinity(0)) // env.local_world_size)
    torch.set_num_threads(threads)
    device = env.device
    precision = choose_precision(device, cfg.dtype, cfg.tf32)
    if device.type == "cpu":
        keep_freed_memory()  # no page faults on every step's activations (model/cpu_allocator.py)
    ctx = precision.autocast()
    scaler = precision.grad_scaler()  # float16 only; a pass-through otherwise
    log = tqdm.write if env.is_main else (lambda *_a, **_k: None)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- what to resume, and the settings it fixes ---
    ckpt_dir = find_resume_checkpoint(cfg.resume, out)
    state = load_train_state(ckpt_dir) if ckpt_dir is not None else None
    refuse_to_replace(out, ckpt_dir if state is not None else None, cfg.overwrite)
    saved = state.get("train_config", {}) if state is not None else {}

    def setting(key: str) -> Any:
        """Explicit flag, else the checkpoint's value, else the fresh-run default."""
        value = getattr(cfg, key)
        if value is None:
            value = saved.get(key, RUN_DEFAULTS[key])
        return value

    preset_name, batch_size, max_steps = setting("preset"), setting("batch_size"), setting("max_steps")
    seed, val_fraction, mix_spec = setting("seed"), setting("val_fraction"), setting("mix")

    try:
        if cfg.mix_preset:
            if cfg.mix:
                raise ValueError("give --mix or --mix-preset, not both")
            # Stored as the equivalent --mix, so a resume draws exactly the same mixture.
            mix_spec = ",".join(f"{k}={v:g}" for k, v in preset_mix(cfg.mix_preset, cfg.data).items())
        sources = discover_sources(cfg.data, parse_mix(mix_spec) if mix_spec else None)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"--data/--mix: {e}") from None
    if not all(s.paths for s in sources):
        raise SystemExit(
            f"no *.parquet shards under {cfg.data!r}: run `python -m pipelines.build_webtext` "
            "(or clean_commoncrawl) first, or point --data at a folder of Parquet files with a `text` column"
        )
    left_out = unused_sources(cfg.data, sources)
    try:  # read the task files now: a typo should stop the run before any training
        task_probe = TaskProbe([load_task(t, cfg.eval_task_dir) for t in cfg.eval_tasks],
                               cfg.eval_task_limit) if cfg.eval_tasks else None
    except TaskSpecError as e:
        raise SystemExit(f"--eval-tasks: {e}") from None
    if left_out:
        log(f"note: --mix leaves out {', '.join(left_out)}")

    # --- tokenizer: the checkpoint's, or the one in --out, or train it on the train split (rank 0) ---
    tok_path = out / TOKENIZER_FILE
    t0 = time.perf_counter()
    trained = False
    if ckpt_dir is not None:
        src = ckpt_dir / TOKENIZER_FILE if (ckpt_dir / TOKENIZER_FILE).is_file() else tok_path
        if not src.is_file():
            raise SystemExit(f"--resume: {src} is missing; the checkpoint cannot be used without its tokenizer")
        tok = load_tokenizer(src)
    else:
        vocab = cfg.vocab_size or PRESETS[preset_name]["vocab_size"]
        if env.is_main:
            texts = _train_texts(sources, val_fraction, cfg.tokenizer_max_chars)
            tok, trained = load_or_train_tokenizer(tok_path, texts, vocab_size=vocab)
            if not trained and cfg.vocab_size and tok.get_vocab_size() != cfg.vocab_size:
                log(f"note: reusing {tok_path} (vocab {tok.get_vocab_size()}); --vocab-size {cfg.vocab_size} "
                    "applies only when training one (delete the file to retrain)")
        # Rank 0's tokenizer reaches the other ranks through the process group, not the filesystem: the
        # nodes of a job need not share --out. (A long training here makes them wait in this collective:
        # for big corpora train it before launching, with --tokenizer-only.)
        shared = all_gather_json(env, tok.to_str() if env.is_main else None)[0]
        if not env.is_main:
            tok = Tokenizer.from_str(shared)
    log(f"tokenizer {tok_path} ({'trained' if trained else 'reused'}, vocab {tok.get_vocab_size()}, "
        f"{time.perf_counter() - t0:.1f}s)")
    if cfg.tokenizer_only:
        return {"status": "tokenizer only", "tokenizer": str(tok_path), "tokenizer_trained": trained,
                "vocab_size": tok.get_vocab_size()}

    # --- model ---
    seed_everything(seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    if state is not None:
        raw_model = load_model(ckpt_dir, device)
        model_cfg: GPTConfig = raw_model.config
    else:
        model_cfg = model_config(cfg, preset_name, tok.get_vocab_size())
        raw_model = GPT(model_cfg).to(device)
    if model_cfg.attention_pattern != "dense" and model_cfg.local_window >= model_cfg.block_size:
        log(f"note: the band ({model_cfg.local_window} tokens) covers the whole context ({model_cfg.block_size}): "
            "the sparse layers compute exactly what dense ones would; set --local-window below the context")
    if tok.get_vocab_size() > model_cfg.vocab_size:
        raise SystemExit(f"tokenizer has {tok.get_vocab_size()} tokens but the model only {model_cfg.vocab_size}")
    if env.rank > 0:
        torch.manual_seed(seed + env.rank)  # different dropout masks per rank
    raw_model.activation_checkpointing = cfg.activation_checkpointing
    # MFU: the model's training FLOPs per token (6N + attention, the banded layers' real work) against the
    # accelerator's dense peak at the precision the matmuls run in (None on CPUs and unknown devices).
    model_flops = flops_per_token(model_cfg)
    peak = device_peak_flops(device, matmul_precision(precision.autocast_dtype, precision.tf32))
    if cfg.fsdp:
        shard_model(raw_model, env.world_size, device, precision)
    eval_model = torch.compile(raw_model) if cfg.compile else raw_model
    model = (DDP(eval_model, device_ids=[device.index] if device.type == "cuda" else None)
             if env.enabled and not cfg.fsdp else eval_model)

    # --- optimisation settings (on resume, the checkpoint's unless given again) ---
    peak_lr = next(v for v in (setting("lr"), PRESET_TRAINING[preset_name]["lr"]) if v is not None)
    warmup = setting("warmup_steps")
    if warmup is None:
        warmup = min(2000, max(1, max_steps // 10))
    micro_tokens = batch_size * model_cfg.block_size * env.world_size
    if cfg.batch_tokens and cfg.grad_accum_steps:
        raise SystemExit("give --batch-tokens or --grad-accum-steps, not both")
    if cfg.batch_tokens:
        accum = max(1, round(cfg.batch_tokens / micro_tokens))
        if accum * micro_tokens != cfg.batch_tokens:
            log(f"note: --batch-tokens {cfg.batch_tokens:,} is not a multiple of {micro_tokens:,} "
                f"(batch x block x processes); using {accum} accumulation steps = {accum * micro_tokens:,} tokens")
    else:
        accum = setting("grad_accum_steps") or 1
        saved_world = int(state.get("world_size", env.world_size)) if state is not None else env.world_size
        if state is not None and not cfg.grad_accum_steps and saved_world != env.world_size:
            # Resuming on another number of processes: keep the global batch (and so the data and the
            # schedule) by trading processes for accumulation steps.
            total = accum * saved_world
            if total % env.world_size:
                raise SystemExit(f"the checkpoint's batch is {accum} accumulation steps x {saved_world} processes; "
                                 f"{env.world_size} processes cannot split it evenly (give --grad-accum-steps)")
            accum = total // env.world_size
            log(f"resuming a {saved_world}-process run on {env.world_size}: {accum} accumulation step(s) keep "
                "the same global batch")
    ocfg = OptimConfig(
        lr=peak_lr, min_lr_ratio=cfg.min_lr_ratio, warmup_steps=warmup, decay_steps=max_steps,
        weight_decay=cfg.weight_decay, grad_clip=cfg.grad_clip,
    )
    optimizer = build_optimizer(raw_model, ocfg, device.type)

    # --- data ---
    streams = setting("data_streams") or env.world_size * max(1, cfg.loader_workers)
    try:
        loader = TokenLoader(sources, tok, LoaderConfig(
            batch_size=batch_size, block_size=model_cfg.block_size, split="train", val_fraction=val_fraction,
            seed=seed, num_streams=streams,
        ), rank=env.rank, world_size=env.world_size, num_workers=cfg.loader_workers,
            pin_memory=device.type == "cuda")
    except ValueError as e:
        raise SystemExit(f"data loader: {e}") from None
    step, tokens_seen = 0, 0
    if state is not None:
        step, tokens_seen = int(state["step"]), int(state["tokens_seen"])
        try:
            loader.load_state_dict(state["loader"])
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
            load_optimizer(raw_model, optimizer, ckpt_dir / OPTIMIZER_DCP_DIR)  # resharded for this world size
        else:
            optimizer.load_state_dict(opt_state["optimizer"])
        if scaler.is_enabled() and "grad_scaler" in opt_state:  # float16: continue with the same loss scale
            scaler.load_state_dict(opt_state["grad_scaler"])
        rng_all = opt_state.get("torch_rng_all")
        same_world = rng_all is not None and rng_all.size(0) == env.world_size
        torch.set_rng_state(rng_all[env.rank] if same_world else opt_state["torch_rng"])
        cuda_all = opt_state.get("cuda_rng_all")
        if device.type == "cuda" and cuda_all is not None and cuda_all.size(0) == env.world_size:
            torch.cuda.set_rng_state(cuda_all[env.rank], device)
        log(f"resumed {ckpt_dir} at step {step} ({tokens_seen:,} tokens seen)")
    val_blocks = validation_blocks(sources, tok, batch_size, model_cfg.block_size, seed, val_fraction,
                                   cfg.eval_iters)

    # --- logs, and checkpoints this run replaces ---
    metrics = MetricsLog(out / METRICS_FILE, resume_step=step if state is not None else None) if env.is_main else None
    if cfg.tensorboard and not tensorboard_available():
        raise SystemExit("--tensorboard needs the tensorboard package (pip install tensorboard)")
    use_tb = cfg.tensorboard if cfg.tensorboard is not None else tensorboard_available()
    tb = TensorBoardLog(out / TENSORBOARD_DIR if use_tb and env.is_main else None,
                        resume_step=step if state is not None else None)
    # A run resumed from an older checkpoint of --out replaces those "after" its starting point, another
    # timeline now; any other run all of them, which it only gets here to do with --overwrite.
    branch = state is not None and ckpt_dir.resolve().parent == out.resolve()
    replaced = [p for s, p in list_checkpoints(out) if not branch or s > step]
    if replaced and env.is_main:
        log(f"note: {len(replaced)} checkpoint folder(s) in {out} will be replaced at the first save"
            + (f" (newer than the resumed step {step})" if branch else " (--overwrite)"))
    step_tokens_global = micro_tokens * accum
    log(
        f"model {preset_name}: {model_cfg.n_layer} layers x {model_cfg.n_embd}, {model_cfg.n_head} heads, "
        f"context {model_cfg.block_size}, vocab {model_cfg.vocab_size}, attention {model_cfg.attention_pattern}, "
        f"{raw_model.num_params() / 1e6:.2f}M params\n"
        f"data: {', '.join(f'{s.name} {s.weight:.2f} ({len(s.paths)} shards)' for s in sources)}; "
        f"{streams} stream(s), {loader.num_workers} loader worker(s) per process\n"
        f"batch {batch_size} x {model_cfg.block_size} x {accum} accum x {env.world_size} process(es) = "
        f"{step_tokens_global:,} tokens/step; device {device}, {threads} thread(s), "
        f"{precision.describe()}{', compiled' if cfg.compile else ''}; "
        f"lr {peak_lr:g}, warmup {warmup}, {max_steps} steps"
    )

    def checkpoint(val_loss: float | None) -> None:
        """Collective: every rank contributes its data position and RNG; rank 0 writes."""
        nonlocal replaced
        loader_state = merge_states(all_gather_json(env, loader.state_dict()))
        rng = {"torch_rng": torch.get_rng_state(),
               "torch_rng_all": torch.stack(all_gather_tensor(env, torch.get_rng_state()))}
        if device.type == "cuda":
            rng["cuda_rng_all"] = torch.stack(all_gather_tensor(env, torch.cuda.get_rng_state(device)))
        if scaler.is_enabled():
            rng["grad_scaler"] = scaler.state_dict()
        weights, sharded_dirs = None, []
        if cfg.fsdp:  # collectives: the weights gathered to rank 0, the optimizer state written by all ranks
            weights = full_state_dict(raw_model)
            sharded_dirs = [out / f".{step_dir_name(step)}.{OPTIMIZER_DCP_DIR}"]
            save_optimizer(raw_model, optimizer, sharded_dirs[0])
        if env.is_main:
            save_step_checkpoint(out, raw_model, {
                "step": step, "tokens_seen": tokens_seen, "loader": loader_state,
                "val_loss": val_loss, "saved_at": time.time(), "world_size": env.world_size,
                # The effective settings, which a resume falls back to.
                "train_config": {**asdict(cfg), "preset": preset_name, "batch_size": batch_size,
                                 "max_steps": max_steps, "seed": seed, "val_fraction": val_fraction,
                                 "mix": mix_spec, "data_streams": streams, "grad_accum_steps": accum,
                                 "lr": peak_lr, "warmup_steps": warmup},
            }, None if cfg.fsdp else optimizer, rng, extra_files=[tok_path] if tok_path.is_file() else [],
                keep_last=cfg.keep_last, remove=replaced, weights=weights, extra_dirs=sharded_dirs)
            replaced = []
        barrier(env)
        save_timer.restart()

    start_step, start_tokens = step, tokens_seen
    first_loss: float | None = None
    last_loss: float | None = None
    val_loss: float | None = None
    task_scores: dict[str, float] = {}
    status = "completed"
    window_losses: list[float] = []
    window_tokens, window_time, train_time = 0, 0.0, 0.0
    batches = iter(loader)
    # On a terminal the bar redraws in place; in a log file each redraw would be another copy of it, so
    # there it is off and a plain line goes with each metrics record instead.
    show_bar = cfg.progress and env.is_main and is_terminal()
    progress_lines = cfg.progress and env.is_main and not show_bar
    bar = tqdm(total=max_steps, initial=step, disable=not show_bar, unit="step", dynamic_ncols=True)
    # Rank 0's clock decides time-triggered saves, and every rank learns it in the step's all-reduce.
    save_timer = SaveTimer(cfg.save_every_minutes, monotonic_clock)
    model.train()
    try:
        with StopRequest() as stop:
            while step < max_steps:
                t_step = time.perf_counter()
                lr = lr_at(step, ocfg)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss_sum = torch.zeros((), device=device)
                for micro in range(accum):
                    x, y = next(batches)
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    # DDP all-reduces gradients in backward; only the last micro-batch needs it.
                    last_micro = micro == accum - 1
                    if cfg.fsdp:
                        raw_model.set_requires_gradient_sync(last_micro)
                    sync = contextlib.nullcontext() if not env.enabled or cfg.fsdp or last_micro else model.no_sync()
                    with sync:
                        with ctx:
                            _, loss = model(x, y)
                        # Average over micro-batches so the gradient matches one large batch.
                        scaler.scale(loss / accum).backward()
                    loss_sum += loss.detach()
                # One collective per step: the mean loss over ranks, whether any rank was signalled, and
                # whether rank 0 says a time-triggered save is due (all ranks must leave the loop, and
                # enter the checkpoint's collectives, at the same step, or the next collective would hang).
                time_vote = float(env.is_main and save_timer.due())
                loss_total, stop_votes, save_votes = all_reduce_sum(
                    env, [loss_sum.item(), float(stop.requested), time_vote])
                loss_value = loss_total / (accum * env.world_size)
                stop_now = stop_votes > 0
                scaler.unscale_(optimizer)  # clip (and report) the true gradient, not the scaled one
                grad_norm = (
                    scalar(torch.nn.utils.clip_grad_norm_(raw_model.parameters(), ocfg.grad_clip))
                    if ocfg.grad_clip > 0 else None  # clipping off: the norm is not computed
                )
                # With float16 loss scaling an overflowing gradient is expected now and then: the scaler
                # skips that step and lowers the scale. Anything else non-finite stops the run.
                overflow = not scaler.is_enabled() and grad_norm is not None and not math.isfinite(grad_norm)
                if not math.isfinite(loss_value) or overflow:
                    # Do not take the step: the weights stay as they were, the last checkpoint stays good.
                    status = "non-finite loss"
                    msg = (f"stopping: loss {loss_value} / grad norm {grad_norm} at step {step + 1} is not "
                           f"finite (lr {lr:.3g}); try a lower --lr or more --warmup-steps. "
                           f"No checkpoint is written for this run state.")
                    log(msg)
                    if metrics is not None:  # JSON has no NaN/inf: record the reason, not the value.
                        metrics.write({"step": step + 1, "stopped": status, "lr": lr, "message": msg})
                    break
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                if device.type == "cuda":
                    torch.cuda.synchronize()  # so the step time below is real, not just queued kernels
                dt = time.perf_counter() - t_step
                step += 1
                tokens_seen += step_tokens_global
                train_time += dt
                window_time += dt
                window_tokens += step_tokens_global
                window_losses.append(loss_value)
                if first_loss is None:
                    first_loss = loss_value
                bar.update(1)
                speed = Throughput.measure(window_tokens // env.world_size, window_time, model_flops, peak)
                bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{window_tokens / window_time:,.0f}",
                                **({"mfu": speed.postfix()["mfu"]} if speed.mfu is not None else {}))

                paused = cfg.run_steps is not None and step - start_step >= cfg.run_steps
                is_last = step == max_steps or stop_now or paused
                is_eval = is_last or (cfg.eval_interval > 0 and step % cfg.eval_interval == 0)
                if is_eval or step == start_step + 1 or step % cfg.log_interval == 0:
                    last_loss = sum(window_losses) / len(window_losses)
                    record = {
                        "step": step, "loss": last_loss, "lr": lr,
                        "tokens_per_s": round(window_tokens / window_time, 1),
                        "flops_per_s": round(speed.flops_per_s * env.world_size),  # model FLOPs, all ranks
                        "mfu": None if speed.mfu is None else round(speed.mfu, 6),   # per accelerator
                        "tokens": tokens_seen,
                        "grad_norm": None if grad_norm is None else round(grad_norm, 4),
                        "epoch": loader.epoch, "time_s": round(train_time, 3),
                    }
                    record.update({f"{key}/{name}": value for name, d in source_report(loader, env).items()
                                   for key, value in d.items()})
                    if is_eval:
                        val_loss = evaluate(eval_model, val_blocks, env, ctx, sharded=cfg.fsdp)
                        if val_loss is not None:
                            record["val_loss"] = val_loss
                            log(f"step {step}: train loss {last_loss:.4f}, val loss {val_loss:.4f}")
                        # A sharded model's forward is a collective: every rank scores (the same items).
                        if task_probe is not None and (env.is_main or cfg.fsdp):
                            with ctx:
                                task_scores = task_probe(raw_model, tok)
                            record.update(task_scores)
                            log(f"step {step}: " + ", ".join(f"{k} {v:.3f}" for k, v in task_scores.items()))
                    if metrics is not None:
                        metrics.write(record)
                    tb.write(step, record)
                    if progress_lines:
                        print(progress_line(step, max_steps, last_loss, record["tokens_per_s"], train_time,
                                            step - start_step), flush=True)
                    window_losses, window_tokens, window_time = [], 0, 0.0
                by_steps = cfg.save_interval > 0 and step % cfg.save_interval == 0
                if (by_steps or save_votes > 0) and not is_last:
                    checkpoint(val_loss)
                if stop_now or (paused and step < max_steps):
                    status = "stopped by signal" if stop_now else "paused (--run-steps)"
                    break
            if status != "non-finite loss" and step > start_step:
                checkpoint(val_loss)
    finally:
        bar.close()
        batches.close()  # stops the loader's worker processes
        if metrics is not None:
            metrics.close()
        tb.close()

    plot = None
    if env.is_main and cfg.plot and step > start_step:
        plot = plot_loss_curve(out / METRICS_FILE, out / PLOT_FILE, title=f"{preset_name}, {out}")
        if plot is None and not matplotlib_available():
            log(f"note: matplotlib is not installed: no {PLOT_FILE}")
    saved_ckpt = resolve_checkpoint(out)
    summary = {
        "status": status,
        "steps": step,
        "steps_this_run": step - start_step,
        "first_loss": first_loss,
        "last_loss": last_loss,
        "val_loss": val_loss,
        "task_scores": task_scores,
        "sources": source_report(loader, env),
        "tokens_seen": tokens_seen,
        "tokens_per_s": (tokens_seen - start_tokens) / train_time if train_time else None,
        "flops_per_s": model_flops * (tokens_seen - start_tokens) / train_time if train_time else None,
        "mfu": (Throughput.measure((tokens_seen - start_tokens) // env.world_size, train_time, model_flops, peak).mfu
                if train_time else None),
        "peak_flops": peak,
        "train_time_s": train_time,
        "params": raw_model.num_params(),
        "checkpoint": str(saved_ckpt) if saved_ckpt is not None else None,
        "out": str(out),
        "tokenizer": str(tok_path),
        "tokenizer_trained": trained,
        "metrics": str(out / METRICS_FILE),
        "plot": str(plot) if plot else None,
        "grad_accum_steps": accum,
        "world_size": env.world_size,
    }
    if env.is_main:
        print_summary(summary, cfg.log_interval, preset_name)
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point: parse `argv` (default: sys.argv), train, return the summary."""
    return train(parse_args(argv))


if __name__ == "__main__":
    summary = run_cli(main, build_parser())
    sys.exit(0 if summary["status"] != "non-finite loss" else 1)
