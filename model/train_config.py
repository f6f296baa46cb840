"""`model.train`'s settings: the `TrainConfig` dataclass, its command line, and the model shape
they select (`model_config`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from corpus.cli_flags import number
from model.cli import DefaultsHelpFormatter, Parser
from model.config import PRESETS, GPTConfig, preset
from model.metrics import PLOT_FILE
from model.mixing import MIX_PRESETS
from model.precision import DTYPES

# Fresh-run defaults of the settings that a resumed run takes from its checkpoint unless given again:
# they decide the model, the schedule or the data order, so `--resume` alone continues the same run.
RUN_DEFAULTS: dict[str, Any] = dict(
    preset="tiny", batch_size=16, max_steps=300, seed=1337, val_fraction=0.02, mix=None, data_streams=None,
    grad_accum_steps=None, lr=None, warmup_steps=None,
)

@dataclass
class TrainConfig:
    """Everything a run needs; the command-line flags map 1:1 onto these fields.

    None means "the default": for the fields in RUN_DEFAULTS, the checkpoint's value on resume.
    """

    data: str = "data/shards"
    out: str = "data/checkpoints"
    checkpoint_dir: str | None = None  # where ckpt-NNNNNN/ go: a folder or an fsspec URL (None: `out`)
    consolidate: str = "every"  # --fsdp: the full weights in model.safetensors at "every" save or the "last"
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
    tokenizer_only: bool = False  # train (or find) the tokenizer in --out, then stop: run once before a big launch
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
    loader_nice: int = 10  # added to the loader workers' niceness: they yield the cores to the training step
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
    fsdp: bool = False  # shard weights, gradients and AdamW state over the ranks (FSDP2)
    activation_checkpointing: bool = False
    tf32: bool = True  # TF32 matmuls for fp32 on Ampere+ GPUs
    threads: int | None = None
    compile: bool = False
    tensorboard: bool | None = None  # None: on when the tensorboard package is installed
    plot: bool = True
    progress: bool = True
    dry_run: bool = False
    world_size: int | None = None  # --dry-run plans for this many ranks (default: WORLD_SIZE, else 1)


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
    io.add_argument("--checkpoint-dir", default=None, metavar="DIR|URL",
                    help="where the ckpt-NNNNNN/ folders and `latest` go: a folder, or any fsspec URL "
                         "(s3://bucket/run with s3fs installed, gs://... with gcsfs); every rank writes its "
                         "shards there under --fsdp, so nodes need no shared filesystem. Credentials and "
                         "endpoints come from the environment (AWS_*, GOOGLE_*), never from flags "
                         "(default: --out)")
    io.add_argument("--val-fraction", type=fraction, default=argparse.SUPPRESS,
                    help="share of documents held out for validation, chosen by a hash of `id`, in [0, 1) "
                         f"(default: {r0['val_fraction']})")
    io.add_argument("--resume", nargs="?", const="latest", default=argparse.SUPPRESS, metavar="auto|DIR",
                    help="continue training: bare --resume needs a checkpoint in --checkpoint-dir (the latest); "
                         "--resume auto uses the latest if there is one, else starts fresh; "
                         "--resume DIR|URL continues that ckpt-NNNNNN folder or run. The checkpoint's preset, batch, "
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
    m.add_argument("--tokenizer-only", action="store_true",
                   help="train the tokenizer into --out (or find it there) and stop; run it once before a multi-node "
                        "launch so no rank waits in a collective while rank 0 trains it")
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
    ld.add_argument("--loader-nice", type=number(int, minimum=0, maximum=19), default=d.loader_nice,
                    help="niceness added to the loader workers, so tokenizing takes the CPU time the training "
                         "step leaves (0: same priority); on 2 busy cores it was worth 3-8%% of tokens/s")
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
    r.add_argument("--fsdp", action="store_true",
                   help="sharded data parallel (PyTorch FSDP2, per transformer block): weights, gradients and AdamW "
                        "state split over the ranks instead of copied (see --dry-run for the memory per rank); "
                        "checkpoints resume on any number of ranks")
    r.add_argument("--consolidate", choices=["every", "last"], default=d.consolidate,
                   help="with --fsdp: gather the full weights into model.safetensors at every save, or only at "
                        "the run's last one (end, stop, pause): at GPT-3 6.7B that is 27 GB through rank 0 per "
                        "save. A checkpoint without the file still loads everywhere, from its shards")
    r.add_argument("--activation-checkpointing", action="store_true",
                   help="recompute each block's activations in the backward pass instead of keeping them")
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
    r.add_argument("--world-size", type=at_least[1], default=None,
                   help="with --dry-run: the number of ranks to plan the per-rank memory for, DDP vs --fsdp "
                        "(default: WORLD_SIZE, else 1)")
    return p


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return TrainConfig(**vars(build_parser().parse_args(argv)))

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
