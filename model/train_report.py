"""What a training run prints: plain progress lines for logs, the per-source report, the final
summary, and the `--dry-run` plan (parameters and memory, nothing allocated)."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import torch

from model.config import PRESET_TRAINING, PRESETS
from model.distributed import DistEnv, all_reduce_sum
from model.estimate import MemoryEstimate, estimate_memory, flops_per_token, format_bytes
from model.fsdp import per_rank_bytes
from model.gpt import GPT
from model.loader import TokenLoader
from model.train_config import RUN_DEFAULTS, TrainConfig, model_config


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
        f"throughput  {_fmt(s['tokens_per_s'], ',.0f')} tokens/s over {s['train_time_s']:.1f}s of training, "
        f"{_fmt(s['flops_per_s'] and s['flops_per_s'] / 1e12, ',.3f')} model TFLOP/s"
        + (f", MFU {100 * s['mfu']:.1f}% of {s['peak_flops'] / 1e12:,.0f} TFLOP/s peak" if s.get("mfu") else
           " (no MFU: peak unknown for this device)") + "; "
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

def fsdp_lines(model: GPT, est: MemoryEstimate, world: int, bf16: bool, n_layer: int) -> list[str]:
    """The same memory per rank under --fsdp on `world` ranks, with and without activation checkpointing."""
    units = [sum(p.numel() for p in model.transformer.h[0].parameters()),
             sum(p.numel() for name, p in model.named_parameters() if not name.startswith("transformer.h."))]
    parts = per_rank_bytes(model.num_params(), world, max(units), bf16)
    sharded = parts["weights"] + parts["gradients"] + parts["adamw"] + parts["gathered_block"]
    # Checkpointed: each block keeps only its input (fp32 residual stream, 1/16 of a layer's saved values
    # in fp32, see model.estimate) and one block's activations exist at a time during its recompute.
    per_layer = est.activations / n_layer
    checkpointed = est.activations / 16 + per_layer
    return [
        f"with --fsdp on {world} rank(s): weights, gradients and AdamW sharded "
        f"{format_bytes(parts['weights'] + parts['gradients'] + parts['adamw'])} + one unit gathered "
        f"{format_bytes(parts['gathered_block'])}",
        f"  total per rank         {format_bytes(sharded + est.activations):>14}  "
        f"(with --activation-checkpointing ~{format_bytes(sharded + checkpointed)})",
    ]


def dry_run(cfg: TrainConfig) -> dict[str, Any]:
    """Parameter count (of a model built on the meta device) and a memory estimate; allocates nothing."""
    name = cfg.preset or RUN_DEFAULTS["preset"]
    vocab = cfg.vocab_size or PRESETS[name]["vocab_size"]
    model_cfg = model_config(cfg, name, vocab)
    with torch.device("meta"):  # shapes only: a 175B model "fits" in no memory at all
        model = GPT(model_cfg)
    n = model.num_params()
    world = cfg.world_size or int(os.environ.get("WORLD_SIZE", "1"))
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
        f"  total                  {format_bytes(est.total):>14}  (DDP keeps all of it on every GPU)",
        *fsdp_lines(model, est, world, dtype == "bfloat16", model_cfg.n_layer),
        f"compute     {flops_per_token(model_cfg, n) / 1e9:,.2f} GFLOPs per token (6N + 12 L h s); "
        f"step of {batch} x {model_cfg.block_size} x {accum} accum x {world} processes = "
        f"{micro_tokens * accum:,} tokens (GPT-3's batch for this size: {paper_batch:,})",
    ]
    print("\n".join(lines), flush=True)
    return {"status": "dry run", "params": n, "memory": asdict(est), "memory_total": est.total, "dtype": dtype,
            "flops_per_token": flops_per_token(model_cfg, n), "config": model_cfg.to_dict()}
