"""The trainer's step loop: one optimizer step over its micro-batches (`train_step`), the metrics record
with its evaluations, the checkpoints the policy asks for, and stopping (at `--max-steps`, on a signal, at
`--run-steps`, or on a non-finite loss); then the loss plot and the run's summary."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from model.checkpointing import Checkpointer
from model.distributed import DistEnv, all_reduce_sum
from model.fsdp import scalar
from model.metrics import (
    METRICS_FILE,
    PLOT_FILE,
    TENSORBOARD_DIR,
    MetricsLog,
    TensorBoardLog,
    matplotlib_available,
    plot_loss_curve,
)
from model.mfu import Throughput
from model.optim import lr_at
from model.run_control import StopRequest
from model.run_setup import Log, RunSetup
from model.train_config import TrainConfig
from model.train_report import progress_line, source_report
from model.validation import evaluate

Batches = Generator[tuple[torch.Tensor, torch.Tensor], None, None]  # iter(TokenLoader)


@dataclass
class Window:
    """The steps since the last metrics record: their losses, tokens (all processes) and seconds."""

    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0


@dataclass
class TrainState:
    """Where the run stands: advanced by every step, read by the records, the saves and the summary."""

    step: int
    tokens_seen: int
    start_step: int = field(init=False)     # where this run (process) started: a resume's step, else 0
    start_tokens: int = field(init=False)
    first_loss: float | None = None
    last_loss: float | None = None          # the mean train loss of the last record's window
    val_loss: float | None = None
    task_scores: dict[str, float] = field(default_factory=dict)
    status: str = "completed"
    train_time: float = 0.0                 # seconds in training steps (not evaluations or saves)
    window: Window = field(default_factory=Window)

    def __post_init__(self) -> None:
        self.start_step, self.start_tokens = self.step, self.tokens_seen


@dataclass
class RunLogs:
    """Where a run reports: the log lines, metrics.jsonl (rank 0), TensorBoard, the bar or progress lines."""

    log: Log
    metrics: MetricsLog | None
    tb: TensorBoardLog
    bar: tqdm
    progress_lines: bool    # a plain line per metrics record (when the bar is off in a log file)

    def close(self) -> None:
        self.bar.close()
        if self.metrics is not None:
            self.metrics.close()
        self.tb.close()


def open_logs(cfg: TrainConfig, env: DistEnv, out: Path, resume_step: int | None,
              tensorboard_available: Callable[[], bool]) -> tuple[MetricsLog | None, TensorBoardLog]:
    """metrics.jsonl on rank 0 and TensorBoard where asked (by default where installed); a resumed run drops
    their records after `resume_step`."""
    metrics = MetricsLog(out / METRICS_FILE, resume_step=resume_step) if env.is_main else None
    if cfg.tensorboard and not tensorboard_available():
        raise SystemExit("--tensorboard needs the tensorboard package (pip install tensorboard)")
    use_tb = cfg.tensorboard if cfg.tensorboard is not None else tensorboard_available()
    tb = TensorBoardLog(out / TENSORBOARD_DIR if use_tb and env.is_main else None, resume_step=resume_step)
    return metrics, tb


def open_progress(cfg: TrainConfig, env: DistEnv, max_steps: int, step: int,
                  is_terminal: Callable[[], bool]) -> tuple[tqdm, bool]:
    """The progress bar, and whether plain progress lines replace it (`is_terminal`: whether stderr is one)."""
    # On a terminal the bar redraws in place; in a log file each redraw would be another copy of it, so
    # there it is off and a plain line goes with each metrics record instead.
    show_bar = cfg.progress and env.is_main and is_terminal()
    progress_lines = cfg.progress and env.is_main and not show_bar
    return tqdm(total=max_steps, initial=step, disable=not show_bar, unit="step", dynamic_ncols=True), progress_lines


# --- one step ---


@dataclass(frozen=True)
class StepOutcome:
    """What one step computed, and what the ranks agreed on in its all-reduce."""

    lr: float
    loss: float                 # mean over the micro-batches and the ranks
    grad_norm: float | None     # before clipping (None: clipping off)
    stop: bool                  # some rank was asked to stop
    save_due: bool              # rank 0's timer says a checkpoint is due
    taken: bool                 # False: the loss or gradient was not finite and the weights were left as they were


def _accumulate_gradients(setup: RunSetup, batches: Batches) -> torch.Tensor:
    """Forward and backward over the step's micro-batches; returns this rank's summed loss."""
    cfg, env, device, accum = setup.cfg, setup.env, setup.device, setup.batch.accum
    model = setup.models.for_training
    loss_sum = torch.zeros((), device=device)
    for micro in range(accum):
        x, y = next(batches)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        # DDP all-reduces gradients in backward; only the last micro-batch needs it.
        last_micro = micro == accum - 1
        if cfg.fsdp:
            setup.models.module.set_requires_gradient_sync(last_micro)
        sync = contextlib.nullcontext() if not env.enabled or cfg.fsdp or last_micro else model.no_sync()
        with sync:
            with setup.ctx:
                _, loss = model(x, y)
            # Average over micro-batches so the gradient matches one large batch.
            setup.scaler.scale(loss / accum).backward()
        loss_sum += loss.detach()
    return loss_sum


def train_step(setup: RunSetup, batches: Batches, step: int, stop: StopRequest,
               checkpointer: Checkpointer) -> StepOutcome:
    """Optimizer step `step + 1`: micro-batches, one all-reduce (loss, stop and save votes), clipping, and
    the update unless the loss or gradient is not finite."""
    env, optimizer, scaler, ocfg = setup.env, setup.optimizer, setup.scaler, setup.optim
    lr = lr_at(step, ocfg)
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss_sum = _accumulate_gradients(setup, batches)
    # One collective per step: the mean loss over ranks, whether any rank was signalled, and whether rank 0
    # says a time-triggered save is due (all ranks must leave the loop, and enter the checkpoint's
    # collectives, at the same step, or the next collective would hang).
    time_vote = checkpointer.timer_vote()
    loss_total, stop_votes, save_votes = all_reduce_sum(env, [loss_sum.item(), float(stop.requested), time_vote])
    loss = loss_total / (setup.batch.accum * env.world_size)
    scaler.unscale_(optimizer)  # clip (and report) the true gradient, not the scaled one
    grad_norm = (
        scalar(torch.nn.utils.clip_grad_norm_(setup.models.module.parameters(), ocfg.grad_clip))
        if ocfg.grad_clip > 0 else None  # clipping off: the norm is not computed
    )
    # With float16 loss scaling an overflowing gradient is expected now and then: the scaler skips that
    # step and lowers the scale. Anything else non-finite stops the run.
    overflow = not scaler.is_enabled() and grad_norm is not None and not math.isfinite(grad_norm)
    taken = math.isfinite(loss) and not overflow
    if taken:
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        if setup.device.type == "cuda":
            torch.cuda.synchronize()  # so the step time is real, not just queued kernels
    return StepOutcome(lr, loss, grad_norm, stop_votes > 0, save_votes > 0, taken)


def _stop_non_finite(state: TrainState, outcome: StepOutcome, logs: RunLogs) -> None:
    """The step was not taken: the weights stay as they were, the last checkpoint stays good."""
    state.status = "non-finite loss"
    msg = (f"stopping: loss {outcome.loss} / grad norm {outcome.grad_norm} at step {state.step + 1} is not "
           f"finite (lr {outcome.lr:.3g}); try a lower --lr or more --warmup-steps. "
           f"No checkpoint is written for this run state.")
    logs.log(msg)
    if logs.metrics is not None:  # JSON has no NaN/inf: record the reason, not the value.
        logs.metrics.write({"step": state.step + 1, "stopped": state.status, "lr": outcome.lr, "message": msg})


# --- the record of a step ---


def _evaluate(setup: RunSetup, state: TrainState, val_blocks: list[torch.Tensor], log: Log) -> dict[str, float]:
    """The validation loss and task scores at this step, for its record (collectives: every rank calls it)."""
    env, cfg, scores = setup.env, setup.cfg, {}
    state.val_loss = evaluate(setup.models.for_eval, val_blocks, env, setup.ctx, sharded=cfg.fsdp)
    if state.val_loss is not None:
        scores["val_loss"] = state.val_loss
        log(f"step {state.step}: train loss {state.last_loss:.4f}, val loss {state.val_loss:.4f}")
    # A sharded model's forward is a collective: every rank scores (the same items).
    if setup.task_probe is not None and (env.is_main or cfg.fsdp):
        with setup.ctx:
            state.task_scores = setup.task_probe(setup.models.module, setup.tokenizer.tok)
        scores.update(state.task_scores)
        log(f"step {state.step}: " + ", ".join(f"{k} {v:.3f}" for k, v in state.task_scores.items()))
    return scores


def _write_record(setup: RunSetup, state: TrainState, logs: RunLogs, outcome: StepOutcome, speed: Throughput,
                  val_blocks: list[torch.Tensor] | None) -> None:
    """The metrics record of the window that ends at this step (with evaluations when `val_blocks` is given)."""
    env, window = setup.env, state.window
    state.last_loss = sum(window.losses) / len(window.losses)
    record = {
        "step": state.step, "loss": state.last_loss, "lr": outcome.lr,
        "tokens_per_s": round(window.tokens / window.seconds, 1),
        "flops_per_s": round(speed.flops_per_s * env.world_size),  # model FLOPs, all ranks
        "mfu": None if speed.mfu is None else round(speed.mfu, 6),   # per accelerator
        "tokens": state.tokens_seen,
        "grad_norm": None if outcome.grad_norm is None else round(outcome.grad_norm, 4),
        "epoch": setup.loader.epoch, "time_s": round(state.train_time, 3),
    }
    record.update({f"{key}/{name}": value for name, d in source_report(setup.loader, env).items()
                   for key, value in d.items()})
    if val_blocks is not None:
        record.update(_evaluate(setup, state, val_blocks, logs.log))
    if logs.metrics is not None:
        logs.metrics.write(record)
    logs.tb.write(state.step, record)
    if logs.progress_lines:
        print(progress_line(state.step, setup.settings.max_steps, state.last_loss, record["tokens_per_s"],
                            state.train_time, state.step - state.start_step), flush=True)
    state.window = Window()


# --- the loop ---


def _advance(setup: RunSetup, state: TrainState, logs: RunLogs, loss: float, seconds: float) -> Throughput:
    """Count a taken step; returns the window's throughput (shown in the bar)."""
    step_tokens, window = setup.batch.step_tokens, state.window
    state.step += 1
    state.tokens_seen += step_tokens
    state.train_time += seconds
    window.seconds += seconds
    window.tokens += step_tokens
    window.losses.append(loss)
    if state.first_loss is None:
        state.first_loss = loss
    logs.bar.update(1)
    speed = Throughput.measure(window.tokens // setup.env.world_size, window.seconds, setup.model_flops,
                               setup.peak_flops)
    logs.bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{window.tokens / window.seconds:,.0f}",
                         **({"mfu": speed.postfix()["mfu"]} if speed.mfu is not None else {}))
    return speed


def run_loop(setup: RunSetup, state: TrainState, logs: RunLogs, checkpointer: Checkpointer,
             val_blocks: list[torch.Tensor]) -> None:
    """Train from `state` until `--max-steps`, a stop request, `--run-steps` or a non-finite loss; then save
    (unless the loss was not finite, or no step was taken)."""
    cfg, max_steps = setup.cfg, setup.settings.max_steps
    batches: Batches = iter(setup.loader)
    setup.models.for_training.train()
    try:
        with StopRequest() as stop:
            while state.step < max_steps:
                t_step = time.perf_counter()
                outcome = train_step(setup, batches, state.step, stop, checkpointer)
                if not outcome.taken:
                    _stop_non_finite(state, outcome, logs)
                    break
                speed = _advance(setup, state, logs, outcome.loss, time.perf_counter() - t_step)
                step = state.step
                paused = cfg.run_steps is not None and step - state.start_step >= cfg.run_steps
                is_last = step == max_steps or outcome.stop or paused
                is_eval = is_last or (cfg.eval_interval > 0 and step % cfg.eval_interval == 0)
                if is_eval or step == state.start_step + 1 or step % cfg.log_interval == 0:
                    _write_record(setup, state, logs, outcome, speed, val_blocks if is_eval else None)
                if checkpointer.due(step, outcome.save_due, is_last):
                    checkpointer.save(step, state.tokens_seen, state.val_loss)
                if outcome.stop or (paused and step < max_steps):
                    state.status = "stopped by signal" if outcome.stop else "paused (--run-steps)"
                    break
            if state.status != "non-finite loss" and state.step > state.start_step:
                checkpointer.save(state.step, state.tokens_seen, state.val_loss, last=True)
    finally:
        batches.close()  # stops the loader's worker processes


# --- after the loop ---


def plot_losses(setup: RunSetup, state: TrainState, log: Log) -> Path | None:
    """loss.png from metrics.jsonl (rank 0, `--plot`, when this run took a step; None without matplotlib)."""
    out = setup.out
    if not (setup.env.is_main and setup.cfg.plot and state.step > state.start_step):
        return None
    plot = plot_loss_curve(out / METRICS_FILE, out / PLOT_FILE, title=f"{setup.settings.preset}, {out}")
    if plot is None and not matplotlib_available():
        log(f"note: matplotlib is not installed: no {PLOT_FILE}")
    return plot


def summarize(setup: RunSetup, state: TrainState, plot: Path | None, saved: str | None) -> dict[str, Any]:
    """The run's summary: outcome, losses, throughput (and MFU), where its files are. `saved`: the last
    checkpoint this run wrote (else the store's latest is reported)."""
    env, out, train_time = setup.env, setup.out, state.train_time
    tokens = state.tokens_seen - state.start_tokens  # trained by this run
    if saved is None:
        latest = setup.store.latest()
        saved = setup.store.location_of(latest) if latest is not None else None
    return {
        "status": state.status,
        "steps": state.step,
        "steps_this_run": state.step - state.start_step,
        "first_loss": state.first_loss,
        "last_loss": state.last_loss,
        "val_loss": state.val_loss,
        "task_scores": state.task_scores,
        "sources": source_report(setup.loader, env),
        "tokens_seen": state.tokens_seen,
        "tokens_per_s": tokens / train_time if train_time else None,
        "flops_per_s": setup.model_flops * tokens / train_time if train_time else None,
        "mfu": (Throughput.measure(tokens // env.world_size, train_time, setup.model_flops, setup.peak_flops).mfu
                if train_time else None),
        "peak_flops": setup.peak_flops,
        "train_time_s": train_time,
        "params": setup.models.module.num_params(),
        "checkpoint": saved,
        "out": str(out),
        "tokenizer": str(setup.tokenizer.path),
        "tokenizer_trained": setup.tokenizer.trained,
        "metrics": str(out / METRICS_FILE),
        "plot": str(plot) if plot else None,
        "grad_accum_steps": setup.batch.accum,
        "world_size": env.world_size,
    }
