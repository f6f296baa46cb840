"""GPT pretraining streamed from the Parquet shards.

    python -m model.train --data data/shards                      # tiny model, CPU, a few minutes
    python -m model.train --data data/shards --preset gpt2 --batch-size 8 --grad-accum-steps 64
    python -m model.train --data data/shards --resume              # continue the checkpoint in --out

What it does, in order: find the shards; train a byte-level BPE on the train split into
`--out/tokenizer.json` unless one is there; build the model from a preset; stream packed token
blocks; AdamW with warmup + cosine; log to `--out/metrics.jsonl`; evaluate on held-out documents;
write a checkpoint every `--save-interval` steps and at the end; print a summary.

Ctrl-C (or SIGTERM) stops after the current step and saves a checkpoint that `--resume` continues
exactly, data position included. A second Ctrl-C aborts at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import islice
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
from tqdm import tqdm  # noqa: E402

from model.checkpoint import (  # noqa: E402
    OPTIMIZER_FILE, STATE_FILE, WEIGHTS_FILE, load_model, load_optimizer_state, load_train_state,
    save_checkpoint,
)
from model.config import PRESET_TRAINING, PRESETS, preset  # noqa: E402
from model.data import LoaderConfig, TokenLoader, find_shards, iter_texts  # noqa: E402
from model.gpt import GPT  # noqa: E402
from model.optim import OptimConfig, build_optimizer, lr_at  # noqa: E402
from model.tokenizer import TOKENIZER_FILE, load_or_train_tokenizer  # noqa: E402

METRICS_FILE = "metrics.jsonl"


@dataclass
class TrainConfig:
    """Everything a run needs; the command-line flags map 1:1 onto these fields."""

    data: str = "data/shards"
    out: str = "data/checkpoints"
    preset: str = "tiny"
    # Model overrides (None keeps the preset's value).
    n_layer: int | None = None
    n_head: int | None = None
    n_embd: int | None = None
    block_size: int | None = None
    dropout: float = 0.0
    # Tokenizer (trained only when --out has none).
    vocab_size: int = 4096
    tokenizer_max_chars: int = 50_000_000
    # Optimisation.
    batch_size: int = 16
    grad_accum_steps: int = 1
    max_steps: int = 300
    run_steps: int | None = None  # stop (and save) after this many steps of this run; resume later
    lr: float | None = None  # None: the preset's rate (GPT-3 Table 2.1 for the paper sizes)
    min_lr_ratio: float = 0.1
    warmup_steps: int | None = None  # None: 10% of max_steps, at most 2000
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    # Data.
    val_fraction: float = 0.02
    seed: int = 1337
    # Evaluation, logging, saving.
    eval_interval: int = 100
    eval_iters: int = 10
    log_interval: int = 10
    save_interval: int = 0  # 0: only at the end
    # Runtime.
    device: str = "auto"
    dtype: str = "auto"
    threads: int | None = None
    compile: bool = False
    resume: bool = False
    progress: bool = True


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface; defaults come from `TrainConfig`."""
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m model.train",
        description="Pretrain a GPT on Parquet text shards (streamed, tokenized on the fly).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    io = p.add_argument_group("data and output")
    io.add_argument("--data", default=d.data,
                    help="folder searched recursively for *.parquet (with a `text` column), or one file")
    io.add_argument("--out", default=d.out, help="folder for tokenizer.json, checkpoint files and metrics.jsonl")
    io.add_argument("--val-fraction", type=float, default=d.val_fraction,
                    help="share of documents held out for validation (chosen by a hash of `id`)")
    io.add_argument("--resume", action="store_true",
                    help="continue the checkpoint in --out (weights, optimizer, data position)")
    m = p.add_argument_group("model")
    m.add_argument("--preset", default=d.preset, choices=list(PRESETS), help="model size")
    m.add_argument("--n-layer", type=int, help="override the preset's layer count")
    m.add_argument("--n-head", type=int, help="override the preset's head count")
    m.add_argument("--n-embd", type=int, help="override the preset's width")
    m.add_argument("--block-size", type=int, help="override the preset's context length")
    m.add_argument("--dropout", type=float, default=d.dropout)
    m.add_argument("--vocab-size", type=int, default=d.vocab_size,
                   help="BPE vocabulary size, used when a tokenizer is trained")
    m.add_argument("--tokenizer-max-chars", type=int, default=d.tokenizer_max_chars,
                   help="characters of train text used to train the tokenizer")
    o = p.add_argument_group("optimisation")
    o.add_argument("--batch-size", type=int, default=d.batch_size, help="sequences per micro-batch")
    o.add_argument("--grad-accum-steps", type=int, default=d.grad_accum_steps,
                   help="micro-batches per optimizer step")
    o.add_argument("--max-steps", type=int, default=d.max_steps, help="optimizer steps (the cosine ends here)")
    o.add_argument("--run-steps", type=int,
                   help="stop and save after this many steps of this run, keeping the --max-steps schedule "
                        "(continue with --resume)")
    o.add_argument("--lr", type=float, help="peak learning rate (default: the preset's)")
    o.add_argument("--min-lr-ratio", type=float, default=d.min_lr_ratio, help="final lr as a fraction of the peak")
    o.add_argument("--warmup-steps", type=int,
                   help="linear warmup steps (default: 10%% of --max-steps, at most 2000)")
    o.add_argument("--weight-decay", type=float, default=d.weight_decay)
    o.add_argument("--grad-clip", type=float, default=d.grad_clip, help="clip the global grad norm (0: off)")
    o.add_argument("--seed", type=int, default=d.seed)
    r = p.add_argument_group("evaluation, logging, runtime")
    r.add_argument("--eval-interval", type=int, default=d.eval_interval,
                   help="steps between validation runs (0: only at the end)")
    r.add_argument("--eval-iters", type=int, default=d.eval_iters, help="validation batches per evaluation")
    r.add_argument("--log-interval", type=int, default=d.log_interval, help="steps per metrics.jsonl record")
    r.add_argument("--save-interval", type=int, default=d.save_interval,
                   help="steps between checkpoints (0: only at the end)")
    r.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:1, mps ...")
    r.add_argument("--dtype", default=d.dtype, choices=["auto", "float32", "bfloat16"],
                   help="auto: bfloat16 autocast on CUDA, float32 elsewhere")
    r.add_argument("--threads", type=int, help="torch CPU threads (default: the CPUs this process may use)")
    r.add_argument("--compile", action="store_true",
                   help="torch.compile the model (no gain for the tiny model on CPU)")
    r.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    return p


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return TrainConfig(**vars(build_parser().parse_args(argv)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    return torch.device(name)


def autocast_context(device: torch.device, dtype: str) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on CUDA (no loss scaling needed, unlike float16); plain float32 otherwise."""
    if dtype == "auto":
        use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    else:
        use_bf16 = dtype == "bfloat16"
    if use_bf16:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


class StopRequest:
    """Turns the first SIGINT/SIGTERM into a flag checked between steps, so the run can save cleanly."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. called from a test runner thread)
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # second signal: give up at once
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("stop requested: finishing this step and saving a checkpoint (again to abort)")

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class MetricsLog:
    """Appends one JSON object per line; flushed each time so `tail -f` and crashes lose nothing."""

    def __init__(self, path: Path, append: bool) -> None:
        self.path = path
        self._f = open(path, "a" if append else "w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._f.write(json.dumps(record) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


@torch.no_grad()
def evaluate(model: torch.nn.Module, blocks: list[torch.Tensor], device: torch.device, ctx: Any) -> float | None:
    """Mean loss over the fixed validation blocks (None when there are none)."""
    if not blocks:
        return None
    model.eval()
    total, n = 0.0, 0
    for block in blocks:
        block = block.to(device)
        with ctx:
            _, loss = model(block[:, :-1], block[:, 1:])
        total += loss.item() * block.size(0)
        n += block.size(0)
    model.train()
    return total / n


def validation_blocks(paths: list[Path], tok: Any, cfg: TrainConfig, block_size: int) -> list[torch.Tensor]:
    """The first `eval_iters` batches of the val split, read once in file order and kept in memory,
    so every evaluation scores the same tokens and the numbers are comparable across steps and runs."""
    loader = TokenLoader(paths, tok, LoaderConfig(
        batch_size=cfg.batch_size, block_size=block_size, split="val", val_fraction=cfg.val_fraction,
        seed=cfg.seed, shuffle=False, max_epochs=1,
    ))
    try:
        # x and y are views of one (B, T+1) block; keep the block (torch.cat would copy).
        return [torch.cat([x, y[:, -1:]], dim=1) for x, y in islice(loader, cfg.eval_iters)]
    except ValueError as e:  # the split is empty (tiny data or --val-fraction 0)
        tqdm.write(f"no validation: {e}")
        return []


def _train_texts(paths: list[Path], cfg: TrainConfig) -> Iterator[str]:
    return iter_texts(paths, split="train", val_fraction=cfg.val_fraction, max_chars=cfg.tokenizer_max_chars)


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run training as configured and return the summary (also printed)."""
    seed_everything(cfg.seed)
    threads = cfg.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    device = resolve_device(cfg.device)
    ctx = autocast_context(device, cfg.dtype)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    paths = find_shards(cfg.data)
    if not paths:
        raise SystemExit(
            f"no *.parquet shards under {cfg.data!r}: run `python -m pipelines.build_webtext` "
            "(or clean_commoncrawl) first, or point --data at a folder of Parquet files with a `text` column"
        )

    # --- tokenizer: reuse the one in --out, else train it on the train split only ---
    tok_path = out / TOKENIZER_FILE
    if cfg.resume and not tok_path.is_file():
        raise SystemExit(f"--resume: {tok_path} is missing; the checkpoint cannot be used without its tokenizer")
    t0 = time.perf_counter()
    tok, trained = load_or_train_tokenizer(tok_path, _train_texts(paths, cfg), vocab_size=cfg.vocab_size)
    tok_note = "trained" if trained else "reused"
    tqdm.write(f"tokenizer {tok_path} ({tok_note}, vocab {tok.get_vocab_size()}, {time.perf_counter() - t0:.1f}s)")

    # --- model + optimizer, fresh or from the checkpoint ---
    state = load_train_state(out) if cfg.resume else None
    if cfg.resume and state is None:
        raise SystemExit(f"--resume: no checkpoint ({STATE_FILE}) in {out}")
    if not cfg.resume and (out / STATE_FILE).is_file():
        tqdm.write(f"note: {out} holds a checkpoint; starting fresh and overwriting it (use --resume to continue)")
    if state is not None:
        raw_model = load_model(out, device)
        model_cfg = raw_model.config
    else:
        model_cfg = preset(
            cfg.preset, vocab_size=tok.get_vocab_size(), n_layer=cfg.n_layer, n_head=cfg.n_head,
            n_embd=cfg.n_embd, block_size=cfg.block_size, dropout=cfg.dropout,
        )
        raw_model = GPT(model_cfg).to(device)
    if tok.get_vocab_size() > model_cfg.vocab_size:
        raise SystemExit(f"tokenizer has {tok.get_vocab_size()} tokens but the model only {model_cfg.vocab_size}")
    model = torch.compile(raw_model) if cfg.compile else raw_model

    # On resume, preset, lr and warmup default to what the checkpoint was trained with.
    saved = state["train_config"] if state is not None else {}
    preset_name = saved.get("preset", cfg.preset)
    peak_lr = next(v for v in (cfg.lr, saved.get("lr"), PRESET_TRAINING[preset_name]["lr"]) if v is not None)
    warmup = next(v for v in (cfg.warmup_steps, saved.get("warmup_steps"), min(2000, max(1, cfg.max_steps // 10)))
                  if v is not None)
    ocfg = OptimConfig(
        lr=peak_lr, min_lr_ratio=cfg.min_lr_ratio, warmup_steps=warmup, decay_steps=cfg.max_steps,
        weight_decay=cfg.weight_decay, grad_clip=cfg.grad_clip,
    )
    optimizer = build_optimizer(raw_model, ocfg, device.type)

    loader = TokenLoader(paths, tok, LoaderConfig(
        batch_size=cfg.batch_size, block_size=model_cfg.block_size, split="train",
        val_fraction=cfg.val_fraction, seed=cfg.seed,
    ))
    step, tokens_seen = 0, 0
    if state is not None:
        step, tokens_seen = int(state["step"]), int(state["tokens_seen"])
        loader.load_state_dict(state["loader"])
        opt_state = load_optimizer_state(out)
        if opt_state is None or int(opt_state["step"]) != step:
            raise SystemExit(f"--resume: {OPTIMIZER_FILE} is missing or not from step {step}")
        optimizer.load_state_dict(opt_state["optimizer"])
        torch.set_rng_state(opt_state["torch_rng"])
        tqdm.write(f"resumed from step {step} ({tokens_seen:,} tokens seen), "
                   f"data position {state['loader']['position']}")
    val_blocks = validation_blocks(paths, tok, cfg, model_cfg.block_size)

    metrics = MetricsLog(out / METRICS_FILE, append=state is not None)
    tqdm.write(
        f"model {preset_name}: {model_cfg.n_layer} layers x {model_cfg.n_embd}, {model_cfg.n_head} heads, "
        f"context {model_cfg.block_size}, vocab {model_cfg.vocab_size}, {raw_model.num_params() / 1e6:.2f}M params; "
        f"{len(paths)} shard(s); device {device}, {threads} threads; lr {peak_lr:g}, warmup {warmup}"
    )

    def checkpoint(val_loss: float | None) -> None:
        save_checkpoint(out, raw_model, {
            "step": step, "tokens_seen": tokens_seen, "loader": loader.state_dict(),
            "val_loss": val_loss, "saved_at": time.time(),
            # The effective settings (preset from the checkpoint, resolved lr and warmup).
            "train_config": {**asdict(cfg), "preset": preset_name, "lr": peak_lr, "warmup_steps": warmup},
        }, optimizer)

    start_step, start_tokens = step, tokens_seen
    first_loss: float | None = None
    last_loss: float | None = None
    val_loss: float | None = None
    status = "completed"
    window_losses: list[float] = []
    window_tokens, window_time, train_time = 0, 0.0, 0.0
    batches = iter(loader)
    bar = tqdm(total=cfg.max_steps, initial=step, disable=not cfg.progress, unit="step", dynamic_ncols=True)
    model.train()
    try:
        with StopRequest() as stop:
            while step < cfg.max_steps:
                t_step = time.perf_counter()
                lr = lr_at(step, ocfg)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss_sum, step_tokens = 0.0, 0
                for _ in range(cfg.grad_accum_steps):
                    x, y = next(batches)
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    with ctx:
                        _, loss = model(x, y)
                    # Average over micro-batches so the gradient matches one large batch.
                    (loss / cfg.grad_accum_steps).backward()
                    loss_sum += loss.item()
                    step_tokens += x.numel()
                loss_value = loss_sum / cfg.grad_accum_steps
                grad_norm = (
                    torch.nn.utils.clip_grad_norm_(raw_model.parameters(), ocfg.grad_clip).item()
                    if ocfg.grad_clip > 0 else None  # clipping off: the norm is not computed
                )
                if not math.isfinite(loss_value) or (grad_norm is not None and not math.isfinite(grad_norm)):
                    # Do not take the step: the weights stay as they were, the last checkpoint stays good.
                    status = "non-finite loss"
                    msg = (f"stopping: loss {loss_value} / grad norm {grad_norm} at step {step + 1} is not "
                           f"finite (lr {lr:.3g}); try a lower --lr or more --warmup-steps. "
                           f"No checkpoint is written for this run state.")
                    tqdm.write(msg)
                    # JSON has no NaN/inf: record the reason, not the value.
                    metrics.write({"step": step + 1, "stopped": status, "lr": lr, "message": msg})
                    break
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if device.type == "cuda":
                    torch.cuda.synchronize()  # so the step time below is real, not just queued kernels
                dt = time.perf_counter() - t_step
                step += 1
                tokens_seen += step_tokens
                train_time += dt
                window_time += dt
                window_tokens += step_tokens
                window_losses.append(loss_value)
                if first_loss is None:
                    first_loss = loss_value
                bar.update(1)
                bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{window_tokens / window_time:,.0f}")

                paused = cfg.run_steps is not None and step - start_step >= cfg.run_steps
                is_last = step == cfg.max_steps or stop.requested or paused
                is_eval = is_last or (cfg.eval_interval > 0 and step % cfg.eval_interval == 0)
                if is_eval or step == start_step + 1 or step % cfg.log_interval == 0:
                    last_loss = sum(window_losses) / len(window_losses)
                    record = {
                        "step": step, "loss": round(last_loss, 5), "lr": lr,
                        "tokens_per_s": round(window_tokens / window_time, 1),
                        "tokens": tokens_seen,
                        "grad_norm": None if grad_norm is None else round(grad_norm, 4),
                        "epoch": loader.epoch, "time_s": round(train_time, 3),
                    }
                    if is_eval:
                        val_loss = evaluate(model, val_blocks, device, ctx)
                        if val_loss is not None:
                            record["val_loss"] = round(val_loss, 5)
                            tqdm.write(f"step {step}: train loss {last_loss:.4f}, val loss {val_loss:.4f}")
                    metrics.write(record)
                    window_losses, window_tokens, window_time = [], 0, 0.0
                if cfg.save_interval > 0 and step % cfg.save_interval == 0 and not is_last:
                    checkpoint(val_loss)
                if stop.requested or (paused and step < cfg.max_steps):
                    status = "stopped by signal" if stop.requested else "paused (--run-steps)"
                    break
            if status != "non-finite loss" and step > start_step:
                checkpoint(val_loss)
    finally:
        bar.close()
        metrics.close()

    saved = (out / WEIGHTS_FILE).is_file()
    summary = {
        "status": status,
        "steps": step,
        "steps_this_run": step - start_step,
        "first_loss": first_loss,
        "last_loss": last_loss,
        "val_loss": val_loss,
        "tokens_seen": tokens_seen,
        "tokens_per_s": (tokens_seen - start_tokens) / train_time if train_time else None,
        "train_time_s": train_time,
        "params": raw_model.num_params(),
        "checkpoint": str(out) if saved else None,
        "tokenizer": str(tok_path),
        "tokenizer_trained": trained,
        "metrics": str(out / METRICS_FILE),
    }
    print_summary(summary, cfg, preset_name)
    return summary


def _fmt(x: float | None, spec: str = ".4f") -> str:
    return "n/a" if x is None else format(x, spec)


def print_summary(s: dict[str, Any], cfg: TrainConfig, preset_name: str) -> None:
    lines = [
        "",
        "== training summary ==",
        f"status      {s['status']} after {s['steps']} steps ({s['steps_this_run']} in this run)",
        f"train loss  {_fmt(s['first_loss'])} (first step) -> {_fmt(s['last_loss'])} "
        f"(mean since the previous log record, <= {cfg.log_interval} steps)",
        f"val loss    {_fmt(s['val_loss'])}",
        f"throughput  {_fmt(s['tokens_per_s'], ',.0f')} tokens/s over {s['train_time_s']:.1f}s of training; "
        f"{s['tokens_seen']:,} tokens seen",
        f"model       {preset_name}, {s['params'] / 1e6:.2f}M parameters",
        f"checkpoint  {s['checkpoint'] or 'none written'}",
        f"tokenizer   {s['tokenizer']} ({'trained in this run' if s['tokenizer_trained'] else 'reused'})",
        f"metrics     {s['metrics']}",
    ]
    if s["checkpoint"]:
        lines.append(f"sample:     python -m model.sample --checkpoint {s['checkpoint']}")
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point: parse `argv` (default: sys.argv), train, return the summary."""
    return train(parse_args(argv))


if __name__ == "__main__":
    summary = main()
    sys.exit(0 if summary["status"] != "non-finite loss" else 1)
