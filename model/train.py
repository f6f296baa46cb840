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

import argparse
import contextlib
import math
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
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
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402
from tqdm import tqdm  # noqa: E402

from corpus.benchmarks import TaskSpecError, load_task  # noqa: E402
from corpus.cli_flags import number  # noqa: E402
from model.checkpoint import (  # noqa: E402
    OPTIMIZER_FILE,
    STATE_FILE,
    list_checkpoints,
    load_model,
    load_optimizer_state,
    load_train_state,
    resolve_checkpoint,
    save_step_checkpoint,
)
from model.cli import DefaultsHelpFormatter, Parser, is_terminal, run_cli  # noqa: E402
from model.config import PRESET_TRAINING, PRESETS, GPTConfig, preset  # noqa: E402
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
from model.estimate import estimate_memory, flops_per_token, format_bytes  # noqa: E402
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
from model.mixing import MIX_PRESETS, Source, discover_sources, parse_mix, preset_mix, unused_sources  # noqa: E402
from model.optim import OptimConfig, build_optimizer, lr_at  # noqa: E402
from model.precision import DTYPES, choose_precision  # noqa: E402
from model.tokenizer import TOKENIZER_FILE, load_or_train_tokenizer, load_tokenizer  # noqa: E402

# Fresh-run defaults of the settings that a resumed run takes from its checkpoint unless given again:
# they decide the model, the schedule or the data order, so `--resume` alone continues the same run.
RUN_DEFAULTS: dict[str, Any] = dict(
    preset="tiny", batch_size=16, max_steps=300, seed=1337, val_fraction=0.02, mix=None, data_streams=None,
    grad_accum_steps=None, lr=None, warmup_steps=None,
)
# The clock of `--save-every-minutes` (a module attribute, so a test can drive it).
monotonic_clock: Callable[[], float] = time.monotonic


@dataclass
class TrainConfig:
    """Everything a run needs; the command-line flags map 1:1 onto these fields.

    None means "the default": for the fields in RUN_DEFAULTS, the checkpoint's value on resume.
    """

    data: str = "data/shards"
    out: str = "data/checkpoints"
    mix: str | None = None  # "webtext=0.6,commoncrawl=0.4": weights of subfolders of `data`
    mix_preset: str | None = None  # "gpt3": GPT-3 Table 2.2's weights for the subfolders present
    val_fraction: float | None = None
    resume: str | None = None  # None: fresh; "latest": must resume; "auto": if possible; or a folder
    keep_last: int = 3
    overwrite: bool = False  # a fresh run may replace the checkpoints already in `out`
    # Model (None keeps the preset's value).
    preset: str | None = None
    n_layer: int | None = None
    n_head: int | None = None
    n_embd: int | None = None
    block_size: int | None = None
    dropout: float = 0.0
    sparse_attention: bool = False
    local_window: int | None = None
    # Tokenizer (trained only when --out has none).
    vocab_size: int | None = None  # None: the preset's (4096 for tiny, GPT-2's 50257 otherwise)
    tokenizer_max_chars: int = 50_000_000
    # Optimisation.
    batch_size: int | None = None
    grad_accum_steps: int | None = None
    batch_tokens: int | None = None
    max_steps: int | None = None
    run_steps: int | None = None  # stop (and save) after this many steps of this run; resume later
    lr: float | None = None  # None: the preset's rate (GPT-3 Table 2.1 for the paper sizes)
    min_lr_ratio: float = 0.1
    warmup_steps: int | None = None  # None: 10% of max_steps, at most 2000
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int | None = None
    # Data loading.
    data_streams: int | None = None  # None: world size x max(1, loader workers)
    loader_workers: int = 1
    # Evaluation, logging, saving.
    eval_interval: int = 100
    eval_iters: int = 10
    eval_tasks: list[str] = field(default_factory=list)  # task files/names scored zero-shot at each evaluation
    eval_task_dir: str = "data/samples/tasks"
    eval_task_limit: int = 100
    log_interval: int = 10
    save_interval: int = 0  # 0: only at the end
    save_every_minutes: float = 30.0  # also save when this much time passed since the last save; 0: off
    # Runtime.
    device: str = "auto"
    dtype: str = "auto"
    tf32: bool = True  # TF32 matmuls for fp32 on Ampere+ GPUs
    threads: int | None = None
    compile: bool = False
    tensorboard: bool | None = None  # None: on when the tensorboard package is installed
    plot: bool = True
    progress: bool = True
    dry_run: bool = False


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface; defaults come from `TrainConfig` and RUN_DEFAULTS.

    Flags whose fresh-run default is None in `TrainConfig` (those a resumed run takes from its
    checkpoint, and those whose default depends on other settings) are left out of the namespace when
    not given (`SUPPRESS`), and their help says the default in words. Every number is range-checked
    here: a bad one is a one-line error with exit code 2, never a value written into a checkpoint.
    """
    d, r0 = TrainConfig(), RUN_DEFAULTS
    p = Parser(
        prog="python -m model.train",
        description="Pretrain a GPT on Parquet text shards (streamed, tokenized on the fly).",
        formatter_class=DefaultsHelpFormatter,
    )
    at_least = {k: number(int, minimum=k) for k in (0, 1)}
    non_negative = number(float, minimum=0)
    fraction = number(float, minimum=0, below=1)
    io = p.add_argument_group("data and output")
    io.add_argument("--data", default=d.data,
                    help="folder searched recursively for *.parquet (with a `text` column), or one file")
    io.add_argument("--mix", default=argparse.SUPPRESS,
                    help="GPT-3 style mixture of subfolders of --data, e.g. webtext=0.6,commoncrawl=0.4: "
                         "each training block comes from a source drawn with these weights "
                         "(default: every shard under --data, in natural proportions)")
    io.add_argument("--mix-preset", choices=MIX_PRESETS, default=None,
                    help="a paper's mixture for the subfolders of --data: gpt3 = Table 2.2 (commoncrawl 0.60, "
                         "webtext 0.22, books1/books2 0.08 each or books 0.16, wikipedia 0.03; the present ones "
                         "keep their ratios); instead of --mix")
    io.add_argument("--out", default=d.out,
                    help="folder for tokenizer.json, ckpt-NNNNNN/ checkpoints, latest, metrics.jsonl, loss.png")
    io.add_argument("--val-fraction", type=fraction, default=argparse.SUPPRESS,
                    help="share of documents held out for validation, chosen by a hash of `id`, in [0, 1) "
                         f"(default: {r0['val_fraction']})")
    io.add_argument("--resume", nargs="?", const="latest", default=argparse.SUPPRESS, metavar="auto|DIR",
                    help="continue training: bare --resume needs a checkpoint in --out (the latest); "
                         "--resume auto uses the latest if there is one, else starts fresh; "
                         "--resume DIR continues that ckpt-NNNNNN folder. The checkpoint's preset, batch, "
                         "schedule, seed, mixture and streams are used unless given again "
                         "(default: start fresh)")
    io.add_argument("--overwrite", action="store_true", default=d.overwrite,
                    help="let a fresh run (no --resume) replace the checkpoints already in --out; without it "
                         "such a run stops before doing anything")
    io.add_argument("--keep-last", type=at_least[0], default=d.keep_last,
                    help="checkpoint folders to keep (0: all)")
    m = p.add_argument_group("model")
    m.add_argument("--preset", default=argparse.SUPPRESS, choices=list(PRESETS),
                   help=f"model size (default: {r0['preset']})")
    for name, what in (("n-layer", "layer count"), ("n-head", "head count"), ("n-embd", "width"),
                       ("block-size", "context length in tokens")):
        m.add_argument(f"--{name}", type=at_least[1], default=argparse.SUPPRESS,
                       help=f"override the preset's {what} (default: the preset's; on --resume, the checkpoint's)")
    m.add_argument("--dropout", type=fraction, default=d.dropout,
                   help="dropout probability, in [0, 1) (GPT-3 pretrained with 0)")
    m.add_argument("--sparse-attention", action="store_true",
                   help="GPT-3's alternating dense and locally banded attention layers")
    m.add_argument("--local-window", type=at_least[1], default=argparse.SUPPRESS,
                   help=f"band width in tokens of the sparse layers (default: {GPTConfig.local_window})")
    m.add_argument("--vocab-size", type=number(int, minimum=258), default=argparse.SUPPRESS,
                   help="BPE vocabulary size when a tokenizer is trained, at least 258 (256 bytes, "
                        "<|endoftext|> and one merge) (default: 4096 for tiny, GPT-2's 50257 for the other "
                        "presets)")
    m.add_argument("--tokenizer-max-chars", type=at_least[1], default=d.tokenizer_max_chars,
                   help="characters of train text used to train the tokenizer")
    o = p.add_argument_group("optimisation")
    o.add_argument("--batch-size", type=at_least[1], default=argparse.SUPPRESS,
                   help=f"sequences per micro-batch per process (default: {r0['batch_size']})")
    o.add_argument("--batch-tokens", type=at_least[1], default=argparse.SUPPRESS,
                   help="tokens per optimizer step; gradient accumulation steps = this / "
                        "(batch size x block size x processes) (default: one micro-batch per process, "
                        "no accumulation)")
    o.add_argument("--grad-accum-steps", type=at_least[1], default=argparse.SUPPRESS,
                   help="micro-batches per optimizer step, instead of --batch-tokens (default: 1)")
    o.add_argument("--max-steps", type=at_least[1], default=argparse.SUPPRESS,
                   help=f"optimizer steps; the cosine ends here (default: {r0['max_steps']})")
    o.add_argument("--run-steps", type=at_least[1], default=argparse.SUPPRESS,
                   help="stop and save after this many steps of this run, keeping the --max-steps schedule "
                        "(continue with --resume) (default: run to --max-steps)")
    o.add_argument("--lr", type=number(float, above=0), default=argparse.SUPPRESS,
                   help="peak learning rate (default: the preset's)")
    o.add_argument("--min-lr-ratio", type=number(float, minimum=0, maximum=1), default=d.min_lr_ratio,
                   help="final lr as a fraction of the peak")
    o.add_argument("--warmup-steps", type=at_least[0], default=argparse.SUPPRESS,
                   help="linear warmup steps (default: 10%% of --max-steps, at most 2000)")
    o.add_argument("--weight-decay", type=non_negative, default=d.weight_decay,
                   help="AdamW weight decay of the weight matrices")
    o.add_argument("--grad-clip", type=non_negative, default=d.grad_clip, help="clip the global grad norm (0: off)")
    o.add_argument("--seed", type=number(int, minimum=0, maximum=2**32 - 1), default=argparse.SUPPRESS,
                   help=f"seed of the weights, shuffles and mixture draws (default: {r0['seed']})")
    ld = p.add_argument_group("data loading")
    ld.add_argument("--loader-workers", type=at_least[0], default=d.loader_workers,
                    help="background processes per rank that read and tokenize (0: in the training process); "
                         "does not change the data order")
    ld.add_argument("--data-streams", type=at_least[1], default=argparse.SUPPRESS,
                    help="disjoint document streams the train split is divided into, shared out over ranks "
                         "and workers; fixes the data order (default: processes x max(1, --loader-workers))")
    r = p.add_argument_group("evaluation, logging, saving, runtime")
    r.add_argument("--eval-interval", type=at_least[0], default=d.eval_interval,
                   help="steps between validation runs (0: only at the end)")
    r.add_argument("--eval-iters", type=at_least[0], default=d.eval_iters,
                   help="validation batches per evaluation (0: no validation)")
    r.add_argument("--eval-tasks", nargs="*", default=d.eval_tasks, metavar="TASK",
                   help="tasks scored zero-shot at each evaluation, logged with the loss (as model.evaluate "
                        "--tasks: [name=]path[:format] or a name in --eval-task-dir), e.g. lastword continuation")
    r.add_argument("--eval-task-dir", default=d.eval_task_dir, help="where bare --eval-tasks names are looked up")
    r.add_argument("--eval-task-limit", type=at_least[1], default=d.eval_task_limit,
                   help="items of each task scored per evaluation (the same first N every time)")
    r.add_argument("--log-interval", type=at_least[1], default=d.log_interval,
                   help="steps per metrics.jsonl record (and per progress line when stderr is not a terminal)")
    r.add_argument("--save-interval", type=at_least[0], default=d.save_interval,
                   help="steps between checkpoints (0: none by step count)")
    r.add_argument("--save-every-minutes", type=non_negative, default=d.save_every_minutes,
                   help="also save a checkpoint when this many minutes passed since the last one, so a crash "
                        "loses little; it does not change the training result (0: off)")
    r.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:1, mps ...")
    r.add_argument("--dtype", default=d.dtype, choices=DTYPES,
                   help="auto: bfloat16 autocast on CUDA where supported, float16 with loss scaling on older GPUs "
                        "(V100, T4), float32 elsewhere")
    r.add_argument("--tf32", action=argparse.BooleanOptionalAction, default=d.tf32,
                   help="TF32 tensor-core matmuls for float32 on Ampere and newer GPUs")
    r.add_argument("--threads", type=at_least[1], default=argparse.SUPPRESS,
                   help="torch CPU threads (default: the CPUs this process may use / processes per node)")
    r.add_argument("--compile", action="store_true",
                   help="torch.compile the model (no gain for the tiny model on CPU)")
    r.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                   help="write TensorBoard scalars to --out/tensorboard (default: on if the tensorboard "
                        "package is installed)")
    r.add_argument("--plot", action=argparse.BooleanOptionalAction, default=d.plot,
                   help=f"write the loss curve to --out/{PLOT_FILE} at the end")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=d.progress,
                   help="show progress: a bar with loss, tokens/s and ETA on a terminal; when stderr is not a "
                        "terminal (a log file), one plain line per --log-interval steps instead")
    r.add_argument("--dry-run", action="store_true",
                   help="print the parameter count and a memory estimate (meta device: nothing allocated) and exit")
    return p


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return TrainConfig(**vars(build_parser().parse_args(argv)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def autocast_context(device: torch.device, dtype: str) -> contextlib.AbstractContextManager:
    """The forward pass's autocast for `--dtype` on `device` (see `model.precision`)."""
    return choose_precision(device, dtype).autocast()


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


@torch.no_grad()
def evaluate(model: torch.nn.Module, blocks: list[torch.Tensor], env: DistEnv, ctx: Any) -> float | None:
    """Mean loss over the fixed validation blocks (None when there are none); ranks share the blocks."""
    if not blocks:
        return None
    model.eval()
    total, n = 0.0, 0
    for block in blocks[env.rank :: env.world_size]:
        block = block.to(env.device)
        with ctx:
            _, loss = model(block[:, :-1], block[:, 1:])
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


def _train_texts(sources: list[Source], val_fraction: float, max_chars: int) -> Iterator[str]:
    paths = sorted({p for s in sources for p in s.paths})
    return iter_texts(paths, split="train", val_fraction=val_fraction, max_chars=max_chars)


def find_resume_checkpoint(resume: str | None, out: Path) -> Path | None:
    """The checkpoint folder to continue, per --resume (None: start fresh)."""
    if resume is None:
        return None
    if resume in ("latest", "auto"):
        ckpt = resolve_checkpoint(out)
        if ckpt is None and resume == "latest":
            raise SystemExit(f"--resume: no checkpoint ({STATE_FILE}) in {out}; use --resume auto to start "
                             "fresh when there is none")
        if ckpt is not None and load_train_state(ckpt) is None:
            raise SystemExit(f"--resume: {ckpt} has weights but no {STATE_FILE}; it cannot be continued")
        return ckpt
    ckpt = resolve_checkpoint(resume)
    if ckpt is None or load_train_state(ckpt) is None:
        raise SystemExit(f"--resume {resume}: not a checkpoint folder (no {STATE_FILE})")
    return ckpt


def refuse_to_replace(out: Path, resumed: Path | None, overwrite: bool) -> None:
    """Stop a run whose `out` holds checkpoints of another run: its first save would delete them
    (maybe days of work). That is a fresh run, or one resumed from a checkpoint outside `out`;
    `--overwrite` says it is intended, `--resume` continues them instead. (Resuming an older checkpoint
    of `out` itself is a deliberate branch: the newer ones are replaced, as the log says.)"""
    found = list_checkpoints(out)
    if not found or overwrite:
        return
    if resumed is not None and resumed.resolve().parent == out.resolve():
        return
    names = ", ".join(p.name for _, p in found[-3:]) + (", ..." if len(found) > 3 else "")
    run = "a fresh run" if resumed is None else f"a run resumed from {resumed}"
    raise SystemExit(
        f"{out} already holds {len(found)} checkpoint(s) of another run ({names}) and {run} would replace "
        "them at its first save: continue them with --resume (or --resume auto), train into another --out, "
        "or pass --overwrite to replace them"
    )


def model_config(cfg: TrainConfig, preset_name: str, vocab_size: int) -> GPTConfig:
    """The preset's shape with the flags' overrides; an impossible shape is a one-line error."""
    try:
        return preset(
            preset_name, vocab_size=vocab_size, n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
            block_size=cfg.block_size, dropout=cfg.dropout, local_window=cfg.local_window,
            attention_pattern="alternating" if cfg.sparse_attention else None,
        )
    except ValueError as e:
        raise SystemExit(f"model shape: {e}") from None


class SaveTimer:
    """When `--save-every-minutes` have passed since the run started or last saved (0: never).

    Only the decision of *when* to save depends on the clock; a save changes no training state (the
    data position and RNG are read, not advanced), so a run with time-triggered saves computes exactly
    what one without them does, and a run resumed from one of them continues it exactly.
    """

    def __init__(self, minutes: float, clock: Callable[[], float]) -> None:
        self.interval = minutes * 60.0
        self.clock = clock
        self.last = clock() if self.interval > 0 else 0.0

    def due(self) -> bool:
        return self.interval > 0 and self.clock() - self.last >= self.interval

    def restart(self) -> None:
        if self.interval > 0:
            self.last = self.clock()


def progress_line(step: int, max_steps: int, loss: float, tokens_per_s: float, elapsed_s: float,
                  steps_done: int) -> str:
    """One plain progress line for a log file (where a redrawn bar would write a copy per update)."""
    eta = (max_steps - step) * elapsed_s / steps_done if steps_done else 0.0
    return (f"step {step}/{max_steps} ({100 * step / max_steps:.0f}%): loss {loss:.4f}, "
            f"{tokens_per_s:,.0f} tokens/s, elapsed {_duration(elapsed_s)}, eta {_duration(eta)}")


def _duration(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def dry_run(cfg: TrainConfig) -> dict[str, Any]:
    """Parameter count (of a model built on the meta device) and a memory estimate; allocates nothing."""
    name = cfg.preset or RUN_DEFAULTS["preset"]
    vocab = cfg.vocab_size or PRESETS[name]["vocab_size"]
    model_cfg = model_config(cfg, name, vocab)
    with torch.device("meta"):  # shapes only: a 175B model "fits" in no memory at all
        model = GPT(model_cfg)
    n = model.num_params()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if cfg.device == "auto" else cfg.device))
    # No device is touched here (a dry run for GPUs may run on a laptop); fp16 needs the bytes bf16 does.
    dtype = "bfloat16" if cfg.dtype in ("bfloat16", "float16") or (cfg.dtype == "auto" and device.type == "cuda") \
        else "float32"
    batch = cfg.batch_size or RUN_DEFAULTS["batch_size"]
    micro_tokens = batch * model_cfg.block_size * world
    accum = cfg.grad_accum_steps or (max(1, round(cfg.batch_tokens / micro_tokens)) if cfg.batch_tokens else 1)
    est = estimate_memory(model_cfg, batch, dtype, params=n)
    paper_batch = int(PRESET_TRAINING[name]["batch_tokens"])
    lines = [
        f"preset {name}: {model_cfg.n_layer} layers x {model_cfg.n_embd} wide, {model_cfg.n_head} heads "
        f"(d_head {model_cfg.head_dim}), context {model_cfg.block_size}, vocab {model_cfg.vocab_size}, "
        f"attention {model_cfg.attention_pattern}"
        + (f" (band {model_cfg.local_window})" if model_cfg.attention_pattern != "dense" else ""),
        f"parameters  {n:,} ({n / 1e9:.3f}B; {model.num_params(include_position_embeddings=False):,} "
        "without the position table)",
        f"per-process training memory, micro-batch {batch} x {model_cfg.block_size} tokens, {dtype}:",
        f"  weights (fp32)         {format_bytes(est.weights):>14}",
        f"  gradients (fp32)       {format_bytes(est.grads):>14}",
        f"  AdamW moments (fp32)   {format_bytes(est.optimizer):>14}",
    ]
    if est.autocast_weight_copies:
        lines.append(f"  bf16 weight copies     {format_bytes(est.autocast_weight_copies):>14}")
    lines += [
        f"  activations            {format_bytes(est.activations):>14}",
        f"  total                  {format_bytes(est.total):>14}  (DDP keeps all of it on every GPU; "
        "sharding (FSDP/ZeRO) or activation checkpointing would cut it)",
        f"compute     {flops_per_token(model_cfg, n) / 1e9:,.2f} GFLOPs per token (6N + 12 L h s); "
        f"step of {batch} x {model_cfg.block_size} x {accum} accum x {world} processes = "
        f"{micro_tokens * accum:,} tokens (GPT-3's batch for this size: {paper_batch:,})",
    ]
    print("\n".join(lines), flush=True)
    return {"status": "dry run", "params": n, "memory": asdict(est), "memory_total": est.total, "dtype": dtype,
            "flops_per_token": flops_per_token(model_cfg, n), "config": model_cfg.to_dict()}


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run training as configured (one process, or one rank under torchrun) and return the summary."""
    if cfg.dry_run:
        return dry_run(cfg)
    env = init_distributed(cfg.device)
    try:
        return _train(cfg, env)
    finally:
        shutdown(env)


def _train(cfg: TrainConfig, env: DistEnv) -> dict[str, Any]:
    threads = cfg.threads or max(1, len(os.sched_getaffinity(0)) // env.local_world_size)
    torch.set_num_threads(threads)
    device = env.device
    precision = choose_precision(device, cfg.dtype, cfg.tf32)
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
        barrier(env)  # the other ranks wait for rank 0's tokenizer
        if not env.is_main:
            tok = load_tokenizer(tok_path)
    log(f"tokenizer {tok_path} ({'trained' if trained else 'reused'}, vocab {tok.get_vocab_size()}, "
        f"{time.perf_counter() - t0:.1f}s)")

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
    eval_model = torch.compile(raw_model) if cfg.compile else raw_model
    model = DDP(eval_model, device_ids=[device.index] if device.type == "cuda" else None) if env.enabled else eval_model

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
        if env.is_main:
            save_step_checkpoint(out, raw_model, {
                "step": step, "tokens_seen": tokens_seen, "loader": loader_state,
                "val_loss": val_loss, "saved_at": time.time(), "world_size": env.world_size,
                # The effective settings, which a resume falls back to.
                "train_config": {**asdict(cfg), "preset": preset_name, "batch_size": batch_size,
                                 "max_steps": max_steps, "seed": seed, "val_fraction": val_fraction,
                                 "mix": mix_spec, "data_streams": streams, "grad_accum_steps": accum,
                                 "lr": peak_lr, "warmup_steps": warmup},
            }, optimizer, rng, extra_files=[tok_path] if tok_path.is_file() else [],
                keep_last=cfg.keep_last, remove=replaced)
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
                    sync = contextlib.nullcontext() if not env.enabled or micro == accum - 1 else model.no_sync()
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
                    torch.nn.utils.clip_grad_norm_(raw_model.parameters(), ocfg.grad_clip).item()
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
                bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{window_tokens / window_time:,.0f}")

                paused = cfg.run_steps is not None and step - start_step >= cfg.run_steps
                is_last = step == max_steps or stop_now or paused
                is_eval = is_last or (cfg.eval_interval > 0 and step % cfg.eval_interval == 0)
                if is_eval or step == start_step + 1 or step % cfg.log_interval == 0:
                    last_loss = sum(window_losses) / len(window_losses)
                    record = {
                        "step": step, "loss": last_loss, "lr": lr,
                        "tokens_per_s": round(window_tokens / window_time, 1),
                        "tokens": tokens_seen,
                        "grad_norm": None if grad_norm is None else round(grad_norm, 4),
                        "epoch": loader.epoch, "time_s": round(train_time, 3),
                    }
                    record.update({f"{key}/{name}": value for name, d in source_report(loader, env).items()
                                   for key, value in d.items()})
                    if is_eval:
                        val_loss = evaluate(eval_model, val_blocks, env, ctx)
                        if val_loss is not None:
                            record["val_loss"] = val_loss
                            log(f"step {step}: train loss {last_loss:.4f}, val loss {val_loss:.4f}")
                        if task_probe is not None and env.is_main:
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


def source_report(loader: TokenLoader, env: DistEnv) -> dict[str, dict[str, float]]:
    """Per source, over all ranks: training tokens drawn from it and epochs elapsed (GPT-3's Table 2.2
    column: with a mixture, a small curated source is seen several times while the crawl is not seen
    once). A collective in DDP: every rank calls it at the same step."""
    local = loader.source_progress()
    names = list(local)
    sums = all_reduce_sum(env, [v for n in names for v in (local[n]["tokens"], local[n]["epochs"])])
    return {n: {"tokens": int(sums[2 * i]), "epochs": round(sums[2 * i + 1] / env.world_size, 4)}
            for i, n in enumerate(names)}


def _fmt(x: float | None, spec: str = ".4f") -> str:
    return "n/a" if x is None else format(x, spec)


def print_summary(s: dict[str, Any], log_interval: int, preset_name: str) -> None:
    lines = [
        "",
        "== training summary ==",
        f"status      {s['status']} after {s['steps']} steps ({s['steps_this_run']} in this run)",
        f"train loss  {_fmt(s['first_loss'])} (first step) -> {_fmt(s['last_loss'])} "
        f"(mean since the previous log record, <= {log_interval} steps)",
        f"val loss    {_fmt(s['val_loss'])}",
        *(["tasks       " + ", ".join(f"{k} {v:.3f}" for k, v in s["task_scores"].items()) + " (zero-shot)"]
          if s["task_scores"] else []),
        f"throughput  {_fmt(s['tokens_per_s'], ',.0f')} tokens/s over {s['train_time_s']:.1f}s of training; "
        f"{s['tokens_seen']:,} tokens seen",
        *(["sources     " + "; ".join(f"{n} {d['tokens']:,} tokens, {d['epochs']:.2f} epochs"
                                       for n, d in s["sources"].items())] if s.get("sources") else []),
        f"model       {preset_name}, {s['params'] / 1e6:.2f}M parameters",
        f"checkpoint  {s['checkpoint'] or 'none written'}",
        f"tokenizer   {s['tokenizer']} ({'trained in this run' if s['tokenizer_trained'] else 'reused'})",
        f"metrics     {s['metrics']}" + (f", plot {s['plot']}" if s["plot"] else ""),
    ]
    if s["checkpoint"]:
        lines.append(f"sample:     python -m model.sample --checkpoint {s['out']}")
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point: parse `argv` (default: sys.argv), train, return the summary."""
    return train(parse_args(argv))


if __name__ == "__main__":
    summary = run_cli(main, build_parser())
    sys.exit(0 if summary["status"] != "non-finite loss" else 1)
