"""What a training run is, settled before its first step: the settings a resumed checkpoint fixes, the data
sources, the tokenizer (rank 0's, shared with every rank), the model (sharded, compiled or DDP-wrapped), the
batch and its accumulation steps, the optimizer's settings and the data loader. `model.train` wires these
into a `RunSetup`; the step loop (`model.train_loop`) and the checkpoints (`model.checkpointing`) read it."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from torch.distributed.fsdp import FSDPModule
from torch.nn.parallel import DistributedDataParallel as DDP

from corpus.benchmarks import TaskSpecError, load_task
from model.checkpoint import CONFIG_FILE, load_model, load_train_state
from model.checkpoint_store import CheckpointStore, Resumed
from model.checkpoint_store import find_resume as find_checkpoint
from model.config import PRESET_TRAINING, PRESETS, GPTConfig
from model.data import LoaderConfig, iter_texts
from model.distributed import DistEnv, all_gather_json
from model.fsdp import MODEL_DCP_DIR, load_sharded_model, shard_model
from model.gpt import GPT
from model.incontext import TaskProbe
from model.loader import TokenLoader
from model.mixing import Source, discover_sources, parse_mix, preset_mix, unused_sources
from model.optim import OptimConfig
from model.precision import Precision
from model.run_control import refuse_to_replace
from model.tokenizer import TOKENIZER_FILE, load_or_train_tokenizer, load_tokenizer, save_tokenizer
from model.train_config import RUN_DEFAULTS, TrainConfig, model_config

Log = Callable[[str], None]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- what to resume, and the settings it fixes ---


@dataclass(frozen=True)
class Resume:
    """The checkpoint a run continues and its train_state.json (all None for a fresh run). `ckpt_dir` is a
    local folder with its files (a download, for a checkpoint in a bucket); `source` says where it lives."""

    ckpt_dir: Path | None = None
    state: dict[str, Any] | None = None
    source: Resumed | None = None

    def sharded(self, what: str) -> str | None:
        """The path or URL of the checkpoint's sharded state `what` (`--fsdp`), or None if it has none."""
        return self.source.sharded(what) if self.source is not None else None

    @property
    def saved_config(self) -> dict[str, Any]:
        """The effective settings the checkpoint's run saved (empty for a fresh run)."""
        return self.state.get("train_config", {}) if self.state is not None else {}


def find_resume(cfg: TrainConfig, env: DistEnv, out: Path, store: CheckpointStore) -> Resume:
    """The checkpoint `--resume` names (or none); stops a run that would replace another run's checkpoints.
    A sharded run (`--fsdp`) reads its weights from the checkpoint's shards: a bucket's full weights are
    not downloaded."""
    source = find_checkpoint(cfg.resume, store, out, env.rank, with_weights=not cfg.fsdp)
    state = load_train_state(source.folder) if source is not None else None
    refuse_to_replace(store, source if state is not None else None, cfg.overwrite)
    return Resume(source.folder, state, source) if source is not None else Resume()


def setting(cfg: TrainConfig, resume: Resume, key: str) -> Any:
    """Explicit flag, else the checkpoint's value, else the fresh-run default."""
    value = getattr(cfg, key)
    if value is None:
        value = resume.saved_config.get(key, RUN_DEFAULTS[key])
    return value


@dataclass(frozen=True)
class Settings:
    """The run's settings that a checkpoint fixes, resolved by `setting`."""

    preset: str
    batch_size: int
    max_steps: int
    seed: int
    val_fraction: float
    mix: str | None  # a `--mix-preset` as the equivalent --mix, so a resume draws exactly the same mixture


def resolve_settings(cfg: TrainConfig, resume: Resume) -> Settings:
    """The settings of `cfg` against the resumed checkpoint's."""
    mix = setting(cfg, resume, "mix")
    try:
        if cfg.mix_preset:
            if cfg.mix:
                raise ValueError("give --mix or --mix-preset, not both")
            mix = ",".join(f"{k}={v:g}" for k, v in preset_mix(cfg.mix_preset, cfg.data).items())
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"--data/--mix: {e}") from None
    return Settings(preset=setting(cfg, resume, "preset"), batch_size=setting(cfg, resume, "batch_size"),
                    max_steps=setting(cfg, resume, "max_steps"), seed=setting(cfg, resume, "seed"),
                    val_fraction=setting(cfg, resume, "val_fraction"), mix=mix)


# --- the inputs: sources and task files ---


def read_inputs(cfg: TrainConfig, mix: str | None, log: Log) -> tuple[list[Source], TaskProbe | None]:
    """The training sources of `--data`/`--mix`, and the `--eval-tasks` probe (None without tasks); both are
    read now, so a typo stops the run before any training."""
    try:
        sources = discover_sources(cfg.data, parse_mix(mix) if mix else None)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"--data/--mix: {e}") from None
    if not all(s.paths for s in sources):
        raise SystemExit(
            f"no *.parquet shards under {cfg.data!r}: run `python -m pipelines.build_webtext` "
            "(or clean_commoncrawl) first, or point --data at a folder of Parquet files with a `text` column"
        )
    left_out = unused_sources(cfg.data, sources)
    try:
        task_probe = TaskProbe([load_task(t, cfg.eval_task_dir) for t in cfg.eval_tasks],
                               cfg.eval_task_limit) if cfg.eval_tasks else None
    except TaskSpecError as e:
        raise SystemExit(f"--eval-tasks: {e}") from None
    if left_out:
        log(f"note: --mix leaves out {', '.join(left_out)}")
    return sources, task_probe


# --- the tokenizer ---


@dataclass(frozen=True)
class RunTokenizer:
    """The run's tokenizer, its file in `--out` (copied into every checkpoint) and whether this run trained it."""

    tok: Tokenizer
    path: Path
    trained: bool

    def summary(self) -> dict[str, Any]:
        """What a `--tokenizer-only` run returns."""
        return {"status": "tokenizer only", "tokenizer": str(self.path), "tokenizer_trained": self.trained,
                "vocab_size": self.tok.get_vocab_size()}


def _train_texts(sources: list[Source], val_fraction: float, max_chars: int) -> Iterator[str]:
    paths = sorted({p for s in sources for p in s.paths})
    return iter_texts(paths, split="train", val_fraction=val_fraction, max_chars=max_chars)


def prepare_tokenizer(cfg: TrainConfig, env: DistEnv, out: Path, resume: Resume, settings: Settings,
                      sources: list[Source], log: Log) -> RunTokenizer:
    """The checkpoint's tokenizer, or the one in `--out`, or one trained on the train split by rank 0."""
    tok_path = out / TOKENIZER_FILE
    t0 = time.perf_counter()
    trained = False
    if resume.ckpt_dir is not None:
        src = resume.ckpt_dir / TOKENIZER_FILE if (resume.ckpt_dir / TOKENIZER_FILE).is_file() else tok_path
        if not src.is_file():
            raise SystemExit(f"--resume: {src} is missing; the checkpoint cannot be used without its tokenizer")
        tok = load_tokenizer(src)
        if env.is_main and not tok_path.is_file():  # another machine's --out: keep it for the next saves
            save_tokenizer(tok, tok_path)
    else:
        vocab = cfg.vocab_size or PRESETS[settings.preset]["vocab_size"]
        if env.is_main:
            texts = _train_texts(sources, settings.val_fraction, cfg.tokenizer_max_chars)
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
    return RunTokenizer(tok, tok_path, trained)


# --- the model ---


def build_model(cfg: TrainConfig, env: DistEnv, resume: Resume, settings: Settings, tok: Tokenizer,
                precision: Precision, log: Log) -> GPT:
    """The checkpoint's model, or a fresh one of the preset (the same initial weights on every rank).
    Resumed with `--fsdp` from a checkpoint with sharded weights, it comes back already sharded."""
    seed_everything(settings.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    shards = resume.sharded(MODEL_DCP_DIR) if cfg.fsdp else None
    if resume.state is not None and shards is not None:
        model = load_sharded_model(GPTConfig.load(resume.ckpt_dir / CONFIG_FILE), shards, env.world_size,
                                   env.device, precision)
        model_cfg: GPTConfig = model.config
    elif resume.state is not None:
        model = load_model(resume.ckpt_dir, env.device)
        model_cfg = model.config
    else:
        model_cfg = model_config(cfg, settings.preset, tok.get_vocab_size())
        model = GPT(model_cfg).to(env.device)
    if model_cfg.attention_pattern != "dense" and model_cfg.local_window >= model_cfg.block_size:
        log(f"note: the band ({model_cfg.local_window} tokens) covers the whole context ({model_cfg.block_size}): "
            "the sparse layers compute exactly what dense ones would; set --local-window below the context")
    if tok.get_vocab_size() > model_cfg.vocab_size:
        raise SystemExit(f"tokenizer has {tok.get_vocab_size()} tokens but the model only {model_cfg.vocab_size}")
    if env.rank > 0:
        torch.manual_seed(settings.seed + env.rank)  # different dropout masks per rank
    model.activation_checkpointing = cfg.activation_checkpointing
    return model


@dataclass(frozen=True)
class Models:
    """One model, three handles."""

    module: GPT                     # the GPT itself (FSDP-sharded with --fsdp): parameters, clipping, saves, tasks
    for_eval: torch.nn.Module       # `module`, compiled with --compile: the validation loss
    for_training: torch.nn.Module   # `for_eval`, DDP-wrapped in a multi-process DDP run: forward and backward

    @property
    def config(self) -> GPTConfig:
        return self.module.config


def wrap_model(model: GPT, cfg: TrainConfig, env: DistEnv, precision: Precision) -> Models:
    """Shard (`--fsdp`), compile (`--compile`) and DDP-wrap `model` as the run asks."""
    device = env.device
    if cfg.fsdp and not isinstance(model, FSDPModule):  # a sharded resume comes sharded
        shard_model(model, env.world_size, device, precision)
    for_eval = torch.compile(model) if cfg.compile else model
    for_training = (DDP(for_eval, device_ids=[device.index] if device.type == "cuda" else None)
                    if env.enabled and not cfg.fsdp else for_eval)
    return Models(model, for_eval, for_training)


# --- the batch and the optimizer (on resume, the checkpoint's unless given again) ---


def optimizer_settings(cfg: TrainConfig, resume: Resume, settings: Settings) -> OptimConfig:
    """AdamW's schedule and regularisation: peak lr (the preset's unless given), warmup, cosine to `max_steps`."""
    peak_lr = next(v for v in (setting(cfg, resume, "lr"), PRESET_TRAINING[settings.preset]["lr"]) if v is not None)
    warmup = setting(cfg, resume, "warmup_steps")
    if warmup is None:
        warmup = min(2000, max(1, settings.max_steps // 10))
    return OptimConfig(
        lr=peak_lr, min_lr_ratio=cfg.min_lr_ratio, warmup_steps=warmup, decay_steps=settings.max_steps,
        weight_decay=cfg.weight_decay, grad_clip=cfg.grad_clip,
    )


@dataclass(frozen=True)
class BatchPlan:
    """One optimizer step: `accum` micro-batches of `batch_size` x `block_size` tokens on each process."""

    batch_size: int
    block_size: int
    world_size: int
    accum: int

    @property
    def micro_tokens(self) -> int:
        """Tokens of one micro-batch over all processes."""
        return self.batch_size * self.block_size * self.world_size

    @property
    def step_tokens(self) -> int:
        """Tokens of one optimizer step over all processes."""
        return self.micro_tokens * self.accum


def plan_batch(cfg: TrainConfig, env: DistEnv, resume: Resume, settings: Settings, block_size: int,
               log: Log) -> BatchPlan:
    """Accumulation steps from `--batch-tokens`, `--grad-accum-steps` or the checkpoint; a resume on another
    number of processes keeps the global batch (and so the data and the schedule)."""
    plan = BatchPlan(settings.batch_size, block_size, env.world_size, 1)
    micro_tokens = plan.micro_tokens
    if cfg.batch_tokens and cfg.grad_accum_steps:
        raise SystemExit("give --batch-tokens or --grad-accum-steps, not both")
    if cfg.batch_tokens:
        accum = max(1, round(cfg.batch_tokens / micro_tokens))
        if accum * micro_tokens != cfg.batch_tokens:
            log(f"note: --batch-tokens {cfg.batch_tokens:,} is not a multiple of {micro_tokens:,} "
                f"(batch x block x processes); using {accum} accumulation steps = {accum * micro_tokens:,} tokens")
    else:
        accum = setting(cfg, resume, "grad_accum_steps") or 1
        state = resume.state
        saved_world = int(state.get("world_size", env.world_size)) if state is not None else env.world_size
        if state is not None and not cfg.grad_accum_steps and saved_world != env.world_size:
            # Trade processes for accumulation steps.
            total = accum * saved_world
            if total % env.world_size:
                raise SystemExit(f"the checkpoint's batch is {accum} accumulation steps x {saved_world} processes; "
                                 f"{env.world_size} processes cannot split it evenly (give --grad-accum-steps)")
            accum = total // env.world_size
            log(f"resuming a {saved_world}-process run on {env.world_size}: {accum} accumulation step(s) keep "
                "the same global batch")
    return BatchPlan(settings.batch_size, block_size, env.world_size, accum)


# --- the data loader ---


def data_streams(cfg: TrainConfig, env: DistEnv, resume: Resume) -> int:
    """How many document streams the train split is divided into (fixed for the run's life by its checkpoints)."""
    return setting(cfg, resume, "data_streams") or env.world_size * max(1, cfg.loader_workers)


def build_loader(cfg: TrainConfig, env: DistEnv, settings: Settings, sources: list[Source], tok: Tokenizer,
                 block_size: int, streams: int) -> TokenLoader:
    """This rank's training batches, from the first document (a resume then restores its position)."""
    try:
        return TokenLoader(sources, tok, LoaderConfig(
            batch_size=settings.batch_size, block_size=block_size, split="train", val_fraction=settings.val_fraction,
            seed=settings.seed, num_streams=streams,
        ), rank=env.rank, world_size=env.world_size, num_workers=cfg.loader_workers, worker_nice=cfg.loader_nice,
            pin_memory=env.device.type == "cuda")
    except ValueError as e:
        raise SystemExit(f"data loader: {e}") from None


# --- the whole ---


@dataclass(frozen=True)
class RunSetup:
    """Everything a run trains with, read by the step loop and the checkpoints."""

    cfg: TrainConfig
    env: DistEnv
    out: Path
    store: CheckpointStore      # where checkpoints go: --checkpoint-dir, else --out
    settings: Settings
    precision: Precision
    ctx: contextlib.AbstractContextManager  # the forward pass's autocast (one object, entered per forward)
    scaler: torch.amp.GradScaler            # float16 only; a pass-through otherwise
    tokenizer: RunTokenizer
    sources: list[Source]
    task_probe: TaskProbe | None
    models: Models
    optim: OptimConfig
    optimizer: torch.optim.Optimizer
    batch: BatchPlan
    streams: int
    loader: TokenLoader
    model_flops: float          # the model's training FLOPs per token (6N + attention)
    peak_flops: float | None    # the accelerator's dense peak at the matmuls' precision (None: unknown, CPUs)

    @property
    def device(self) -> torch.device:
        return self.env.device


def describe(setup: RunSetup, threads: int) -> str:
    """The run's model, data, batch, device and schedule, as logged before the first step."""
    model_cfg, batch, precision, optim = setup.models.config, setup.batch, setup.precision, setup.optim
    return (
        f"model {setup.settings.preset}: {model_cfg.n_layer} layers x {model_cfg.n_embd}, {model_cfg.n_head} heads, "
        f"context {model_cfg.block_size}, vocab {model_cfg.vocab_size}, attention {model_cfg.attention_pattern}, "
        f"{setup.models.module.num_params() / 1e6:.2f}M params\n"
        f"data: {', '.join(f'{s.name} {s.weight:.2f} ({len(s.paths)} shards)' for s in setup.sources)}; "
        f"{setup.streams} stream(s), {setup.loader.num_workers} loader worker(s) per process\n"
        f"batch {batch.batch_size} x {model_cfg.block_size} x {batch.accum} accum x {batch.world_size} process(es) = "
        f"{batch.step_tokens:,} tokens/step; device {setup.device}, {threads} thread(s), "
        f"{precision.describe()}{', compiled' if setup.cfg.compile else ''}; "
        f"lr {optim.lr:g}, warmup {optim.warmup_steps}, {setup.settings.max_steps} steps"
    )
