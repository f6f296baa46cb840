"""GPT-1 supervised fine-tuning of a pretrained checkpoint on a labelled JSONL task.

    python -m model.finetune                       # topic classification on the generated sample
    python -m model.finetune --task entailment --train nli_train.jsonl --dev nli_dev.jsonl --out data/finetuned/nli
    python -m model.finetune --task multiple_choice --context-field story --choices-field endings ...

Adds GPT-1's start/delimiter/extract tokens, turns each record into token sequences (`model.gpt1`),
trains body + linear head with L2 + lambda * L1 (task + auxiliary LM loss) on GPT-1's schedule (AdamW,
lr 6.25e-5, linear warmup over 0.2% of the steps then linear decay to 0, 3 epochs, batch 32), evaluates
on --dev after each epoch, and writes --out atomically: config.json + model.safetensors (the body, which
`model.checkpoint.load_model` loads), head.safetensors, tokenizer.json (with the new tokens),
finetune.json (task, fields, labels, settings, base, metrics), metrics.jsonl (one record per epoch).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# As in model.train: idle OpenMP threads sleep instead of spinning on a shared 2-core box.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from tqdm import tqdm  # noqa: E402

from corpus.cli_flags import number  # noqa: E402
from corpus.writers.atomic import atomic_dir, atomic_write_json, atomic_write_text  # noqa: E402
from model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_model, save_weights  # noqa: E402
from model.checkpoint_store import resolve_any  # noqa: E402
from model.cli import DefaultsHelpFormatter, Parser, is_terminal, run_cli  # noqa: E402
from model.gpt1 import (  # noqa: E402
    TASKS,
    Example,
    GPT1Classifier,
    TaskSpec,
    TaskTokens,
    add_task_tokens,
    collate,
    finetune_loss,
    fit_embeddings,
    read_task_file,
)
from model.metrics import METRICS_FILE  # noqa: E402
from model.optim import OptimConfig, build_optimizer  # noqa: E402
from model.sample import find_tokenizer  # noqa: E402
from model.tokenizer import TOKENIZER_FILE, load_tokenizer, save_tokenizer  # noqa: E402
from model.train import autocast_context, seed_everything  # noqa: E402

HEAD_FILE = "head.safetensors"
FINETUNE_FILE = "finetune.json"
TASK_DIR = "data/samples/tasks"


@dataclass
class FinetuneConfig:
    """Every flag of `python -m model.finetune`; the defaults are GPT-1's fine-tuning settings (sec. 4.1)."""

    checkpoint: str = "data/checkpoints"
    train: str = f"{TASK_DIR}/topic_train.jsonl"
    dev: str = f"{TASK_DIR}/topic_dev.jsonl"
    test: str | None = None
    out: str = "data/finetuned/topic"
    spec: TaskSpec = field(default_factory=TaskSpec)
    epochs: int = 3
    batch_size: int = 32
    lr: float = 6.25e-5
    warmup_fraction: float = 0.002  # 0.2% of the steps
    lm_weight: float = 0.5  # lambda of L3 = L2 + lambda * L1
    dropout: float = 0.1  # on the extract state, before the head
    weight_decay: float = 0.01  # GPT-1: "modified L2 regularization" (decoupled, AdamW) w = 0.01
    grad_clip: float = 1.0  # the released GPT-1 code clips the global norm at 1
    seed: int = 1337
    device: str = "auto"
    dtype: str = "auto"
    threads: int | None = None


def build_parser() -> argparse.ArgumentParser:
    """The command line; every number is range-checked (one-line error, exit code 2)."""
    d, s = FinetuneConfig(), TaskSpec()
    p = Parser(prog="python -m model.finetune", formatter_class=DefaultsHelpFormatter,
               description="GPT-1 supervised fine-tuning of a model.train checkpoint on a JSONL task.")
    io = p.add_argument_group("data and output")
    io.add_argument("--checkpoint", default=d.checkpoint, help="a model.train --out folder or one ckpt-NNNNNN folder")
    io.add_argument("--task", default=s.task, choices=TASKS, help="input transformation and head (GPT-1 Figure 1)")
    io.add_argument("--train", default=d.train, help="JSONL training records")
    io.add_argument("--dev", default=d.dev, help="JSONL records evaluated after every epoch")
    io.add_argument("--test", default=d.test, help="JSONL records evaluated once at the end (default: none)")
    io.add_argument("--out", default=d.out, help="folder for the fine-tuned model (replaced atomically)")
    f = p.add_argument_group("record fields")
    # Spelled out one by one, so a search for a flag finds where it is defined.
    f.add_argument("--text-field", default=s.text_field, help="field of the classification text")
    f.add_argument("--label-field", default=s.label_field,
                   help="field of the label (string or int; for multiple choice the index or text of the right choice)")
    f.add_argument("--premise-field", default=s.premise_field, help="field of the entailment premise")
    f.add_argument("--hypothesis-field", default=s.hypothesis_field, help="field of the entailment hypothesis")
    f.add_argument("--context-field", default=s.context_field, help="field of the multiple-choice context")
    f.add_argument("--choices-field", default=s.choices_field, help="field of the multiple-choice list of answers")
    f.add_argument("--pair-fields", nargs=2, default=list(s.pair_fields), metavar=("A", "B"),
                   help=f"the two fields of a similarity pair (default: {' '.join(s.pair_fields)})")
    o = p.add_argument_group("optimisation (GPT-1's settings)")
    o.add_argument("--epochs", type=number(int, minimum=1), default=d.epochs, help="passes over --train")
    o.add_argument("--batch-size", type=number(int, minimum=1), default=d.batch_size, help="examples per step")
    o.add_argument("--lr", type=number(float, above=0), default=d.lr, help="peak learning rate")
    o.add_argument("--warmup-fraction", type=number(float, minimum=0, below=1), default=d.warmup_fraction,
                   help="share of the steps with linear warmup (at least one step); then linear decay to 0")
    o.add_argument("--lm-weight", type=number(float, minimum=0), default=d.lm_weight,
                   help="lambda: weight of the auxiliary LM loss (0: task loss only)")
    o.add_argument("--dropout", type=number(float, minimum=0, below=1), default=d.dropout,
                   help="dropout on the extract state before the head")
    o.add_argument("--weight-decay", type=number(float, minimum=0), default=d.weight_decay,
                   help="AdamW weight decay of the weight matrices")
    o.add_argument("--grad-clip", type=number(float, minimum=0), default=d.grad_clip,
                   help="clip the global gradient norm (0: off)")
    o.add_argument("--seed", type=number(int, minimum=0, maximum=2**32 - 1), default=d.seed,
                   help="seed of the new weights, the shuffles and dropout")
    r = p.add_argument_group("runtime")
    r.add_argument("--device", default=d.device, help="auto (cuda if available), cpu, cuda, cuda:1, mps ...")
    r.add_argument("--dtype", default=d.dtype, choices=["auto", "float32", "bfloat16"],
                   help="auto: bfloat16 autocast on CUDA, float32 elsewhere")
    r.add_argument("--threads", type=number(int, minimum=1), default=d.threads,
                   help="torch CPU threads (default: torch's choice)")
    return p


def parse_args(argv: list[str] | None = None) -> FinetuneConfig:
    a = vars(build_parser().parse_args(argv))
    spec = TaskSpec(task=a.pop("task"), pair_fields=tuple(a.pop("pair_fields")),
                    **{k: a.pop(k) for k in list(a) if k.endswith("_field")})
    return FinetuneConfig(spec=spec, **a)


def linear_lr(step: int, peak: float, warmup: int, total: int) -> float:
    """GPT-1's schedule for optimizer step `step` (0-based): linear warmup over `warmup` steps to
    `peak`, then linear decay reaching 0 at `total`. (model.optim's `lr_at` decays along a cosine.)"""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * max(0.0, (total - step) / max(1, total - warmup))


def macro_f1(gold: list[int], pred: list[int]) -> float:
    """Unweighted mean of the per-class F1 over the classes that occur in `gold` or `pred`."""
    classes = sorted(set(gold) | set(pred))
    f1 = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        wrong = sum((g == c) != (p == c) for g, p in zip(gold, pred))  # false positives + false negatives
        f1.append(2 * tp / (2 * tp + wrong) if tp + wrong else 0.0)
    return sum(f1) / len(f1)


@torch.no_grad()
def evaluate(model: GPT1Classifier, examples: list[Example], tokens: TaskTokens, batch_size: int = 32,
             ctx: Any = None) -> dict[str, float]:
    """Accuracy, mean task loss and (except for multiple choice) macro F1 of `model` on `examples`."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    # Length-sorted batches waste less padding; the metrics do not depend on the order.
    order = sorted(range(len(examples)), key=lambda i: max(map(len, examples[i].sequences)))
    gold, pred, loss_sum = [], [], 0.0
    for k in range(0, len(order), batch_size):
        batch = collate([examples[i] for i in order[k:k + batch_size]], tokens).to(device)
        with ctx or contextlib.nullcontext():
            parts, logits = finetune_loss(model, batch, lm_weight=0.0)
        loss_sum += parts.task.item() * len(batch.counts)
        gold += batch.labels.tolist()
        pred += logits.argmax(-1).tolist()
    model.train(was_training)
    out = {"accuracy": sum(g == p for g, p in zip(gold, pred)) / len(gold), "loss": loss_sum / len(gold),
           "n": len(gold)}
    if model.task != "multiple_choice":
        out["macro_f1"] = macro_f1(gold, pred)
    return out


def train_epoch(model: GPT1Classifier, optimizer: torch.optim.Optimizer, examples: list[Example], tokens: TaskTokens,
                cfg: FinetuneConfig, schedule: tuple[int, int, int], shuffle: torch.Generator, ctx: Any,
                bar: Any) -> dict[str, float | None]:
    """One shuffled pass over `examples`; `schedule` = (first step, warmup steps, total steps).
    Returns the epoch's mean losses and the last learning rate."""
    step, warmup, total = schedule
    device = next(model.parameters()).device
    sums, n = {"loss": 0.0, "task_loss": 0.0, "lm_loss": 0.0}, 0
    perm = torch.randperm(len(examples), generator=shuffle).tolist()
    model.train()
    for k in range(0, len(perm), cfg.batch_size):
        lr = linear_lr(step, cfg.lr, warmup, total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = collate([examples[i] for i in perm[k:k + cfg.batch_size]], tokens).to(device)
        with ctx:
            parts, _ = finetune_loss(model, batch, cfg.lm_weight)
        loss = parts.total.item()
        if not math.isfinite(loss):
            raise SystemExit(f"loss {loss} at step {step + 1} is not finite (lr {lr:.3g}): try a lower --lr")
        parts.total.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step, n = step + 1, n + 1
        sums["loss"] += loss
        sums["task_loss"] += parts.task.item()
        sums["lm_loss"] += parts.lm.item() if parts.lm is not None else 0.0
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
    means: dict[str, float | None] = {f"train_{k}": v / n for k, v in sums.items()}
    if cfg.lm_weight == 0:
        means["train_lm_loss"] = None  # not computed
    return {**means, "lr": lr}


def finetune(cfg: FinetuneConfig) -> dict[str, Any]:
    """Fine-tune as configured, save `cfg.out`, return the summary (also in finetune.json)."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                          "cpu" if cfg.device == "auto" else cfg.device)
    ctx = autocast_context(device, cfg.dtype)
    ckpt = resolve_any(cfg.checkpoint)
    if ckpt is None:
        raise SystemExit(f"--checkpoint {cfg.checkpoint}: no checkpoint there; train one with `python -m model.train`")
    out = Path(cfg.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not (out / FINETUNE_FILE).is_file():
        raise SystemExit(f"--out {out} exists and is not a fine-tuned model folder: refusing to replace it")
    seed_everything(cfg.seed)
    try:
        tok = load_tokenizer(find_tokenizer(ckpt))
        gpt = load_model(ckpt, device)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f"--checkpoint {cfg.checkpoint}: {e}") from None
    tokens, new_ids = add_task_tokens(tok)
    added = fit_embeddings(gpt, tok.get_vocab_size(), new_ids, torch.Generator().manual_seed(cfg.seed))
    data: dict[str, tuple[list[Example], dict[str, Any]]] = {}
    labels = None
    for name in ("train", "dev", "test"):  # all up front: a bad --test is found before training, not after
        if getattr(cfg, name):
            try:
                examples, stats, labels = read_task_file(getattr(cfg, name), cfg.spec, tok, tokens,
                                                         gpt.config.block_size, labels)
            except OSError as e:
                raise SystemExit(f"--{name} {getattr(cfg, name)}: {e.strerror or e}") from None
            except ValueError as e:
                raise SystemExit(f"--{name} {e}") from None
            data[name] = examples, stats
    if labels is not None and len(labels) < 2:
        raise SystemExit(f"--train {cfg.train}: only one label ({labels[0]!r}); a classifier needs at least two")
    (train, _), (dev, _) = data["train"], data["dev"]
    model = GPT1Classifier(gpt, cfg.spec.task, len(labels) if labels else 1, cfg.dropout).to(device)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    warmup = max(1, round(cfg.warmup_fraction * total))
    optimizer = build_optimizer(model, OptimConfig(lr=cfg.lr, weight_decay=cfg.weight_decay, beta2=0.999,
                                                   grad_clip=cfg.grad_clip), device.type)
    print(f"fine-tuning {ckpt} ({gpt.num_params() / 1e6:.2f}M params, {len(new_ids)} new tokens, "
          f"{added} embedding rows added) on {cfg.spec.task}: {len(train)} train / {len(dev)} dev examples"
          f"{f', {len(labels)} classes' if labels else ''}; {cfg.epochs} epochs x {steps_per_epoch} steps, "
          f"warmup {warmup}, lr {cfg.lr:g}, lm weight {cfg.lm_weight:g}, device {device}", flush=True)
    for name, (_, stats) in data.items():
        if stats["skipped"] or stats["truncated"]:
            print(f"  {name}: skipped {stats['skipped'] or 'none'}; {stats['truncated']} truncated", flush=True)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    records, t0 = [], time.perf_counter()
    with tqdm(total=total, disable=not is_terminal(), unit="step", leave=False) as bar:
        for epoch in range(1, cfg.epochs + 1):
            losses = train_epoch(model, optimizer, train, tokens, cfg, ((epoch - 1) * steps_per_epoch, warmup, total),
                                 shuffle, ctx, bar)
            dev_metrics = evaluate(model, dev, tokens, cfg.batch_size, ctx)
            records.append({"epoch": epoch, "step": epoch * steps_per_epoch, **losses,
                            **{f"dev_{k}": v for k, v in dev_metrics.items()},
                            "time_s": round(time.perf_counter() - t0, 3)})
            tqdm.write(f"epoch {epoch}/{cfg.epochs}: train loss {losses['train_loss']:.4f}, "
                       f"{_metrics_text(dev_metrics, 'dev')} ({records[-1]['time_s']:.1f}s)")
    test_metrics = evaluate(model, data["test"][0], tokens, cfg.batch_size, ctx) if "test" in data else None
    meta = {
        "task": cfg.spec.task, "fields": asdict(cfg.spec), "labels": labels, "special_tokens": asdict(tokens),
        "base_checkpoint": str(ckpt.resolve()), "settings": {k: v for k, v in asdict(cfg).items() if k != "spec"},
        "steps": total, "warmup_steps": warmup, "train_time_s": round(time.perf_counter() - t0, 3),
        "data": {name: stats for name, (_, stats) in data.items()}, "dev": dev_metrics, "test": test_metrics,
    }
    save_finetuned(out, model, tok, meta, records)
    print(f"== fine-tuned {cfg.spec.task} in {meta['train_time_s']:.1f}s: " + _metrics_text(dev_metrics, "dev")
          + (f"; {_metrics_text(test_metrics, 'test')}" if test_metrics else "") + f"; saved {out}", flush=True)
    return {**meta, "out": str(out), "metrics": records}


def _metrics_text(m: dict[str, Any], name: str) -> str:
    f1 = f", macro F1 {m['macro_f1']:.3f}" if "macro_f1" in m else ""
    return f"{name} accuracy {m['accuracy']:.3f}{f1} (n={m['n']})"


def save_finetuned(out: Path, model: GPT1Classifier, tok: Any, meta: dict[str, Any],
                   records: list[dict[str, Any]]) -> Path:
    """Write the fine-tuned folder under a temporary name and rename it into place (replacing an old one)."""
    for stale in out.parent.glob(f".{out.name}.tmp-*"):  # left by a crash during an earlier save
        shutil.rmtree(stale, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out) as tmp:
        model.gpt.config.save(tmp / CONFIG_FILE)
        save_weights(model.gpt, tmp / WEIGHTS_FILE, metadata={"finetuned": meta["task"]})
        save_file({k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()},
                  str(tmp / HEAD_FILE))
        save_tokenizer(tok, tmp / TOKENIZER_FILE)
        atomic_write_json(tmp / FINETUNE_FILE, meta)
        atomic_write_text(tmp / METRICS_FILE, "".join(json.dumps(r) + "\n" for r in records))
    return out


def load_finetuned(path: str | Path, device: str = "cpu") -> tuple[GPT1Classifier, Any, TaskTokens, dict[str, Any]]:
    """(classifier in eval mode, extended tokenizer, special token ids, finetune.json) of a saved folder."""
    path = Path(path)
    meta = json.loads((path / FINETUNE_FILE).read_text(encoding="utf-8"))
    gpt = load_model(path, device)
    labels = meta["labels"]
    model = GPT1Classifier(gpt, meta["task"], len(labels) if labels else 1, meta["settings"]["dropout"])
    model.head.load_state_dict(load_file(str(path / HEAD_FILE), device=device))
    return model.to(device).eval(), load_tokenizer(path), TaskTokens(**meta["special_tokens"]), meta


def evaluate_finetuned(path: str | Path, data: str | Path, batch_size: int = 32, device: str = "cpu",
                       dtype: str = "auto") -> dict[str, Any]:
    """Metrics of the fine-tuned model in folder `path` on the JSONL file `data` (read with the saved
    task and fields; records with labels unseen in training are counted in `data.skipped`)."""
    model, tok, tokens, meta = load_finetuned(path, device)
    spec = TaskSpec(**{**meta["fields"], "pair_fields": tuple(meta["fields"]["pair_fields"])})
    examples, stats, _ = read_task_file(data, spec, tok, tokens, model.gpt.config.block_size, meta["labels"])
    ctx = autocast_context(torch.device(device), dtype)  # the same precision as the run's own dev evaluation
    return {**evaluate(model, examples, tokens, batch_size, ctx), "data": stats}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point: parse `argv` (default: sys.argv), fine-tune, return the summary."""
    return finetune(parse_args(argv))


if __name__ == "__main__":
    run_cli(main, build_parser())
    sys.exit(0)
