"""Evaluate checkpoints: held-out bits per byte and zero/few-shot tasks, as GPT-2 and GPT-3 reported them.

    python -m model.evaluate --checkpoint data/checkpoints --tasks lastword continuation topic --shots 0 3
    python -m model.evaluate --checkpoint runA runB --data data/shards --tasks lastword     # compare runs
    python -m model.evaluate --checkpoint data/checkpoints --all-checkpoints --tasks topic  # over training
    python -m model.evaluate --checkpoint ckpt --task-dir ~/tasks --tasks lambada_openai hellaswag piqa

Tasks are task files (JSONL in their public formats: LAMBADA, HellaSwag, PIQA, ARC, classification, ...;
see `corpus.benchmarks`) named as `[name=]path[:format]`, or a bare name found in `--task-dir`
(`name.jsonl`, `name_test.jsonl`, ...). The same files are what `--decontaminate` removes from the corpora.

`--data` scores held-out text: a folder of shards (the trainer's validation split, by id hash, with the
checkpoint's own --val-fraction), or a .parquet/.jsonl file of documents. Bits per byte does not depend on
the tokenizer, so runs with different vocabularies compare; perplexity per token is printed beside it.

Writes to `--out`: one JSON per checkpoint x task x shots (n, metrics with standard errors, the exact prompt
of the first item), `results.json` with everything, `results.md` (the comparison table, also printed), and
with several checkpoints of one run, `over_training.png` (each task's headline metric against tokens seen).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see model.sample: many small ops on a busy box

import torch  # noqa: E402

from corpus.benchmarks import Task, TaskSpecError, load_task  # noqa: E402
from corpus.benchmarks.registry import read_records  # noqa: E402
from corpus.cli_flags import number  # noqa: E402
from corpus.writers.atomic import atomic_path, atomic_write_text  # noqa: E402
from model.checkpoint import list_checkpoints, load_model, load_train_state  # noqa: E402
from model.checkpoint_store import resolve_any  # noqa: E402
from model.cli import DefaultsHelpFormatter, Parser, run_cli  # noqa: E402
from model.data import find_shards, iter_texts  # noqa: E402
from model.incontext import FewShot, evaluate_task, headline  # noqa: E402
from model.metrics import matplotlib_available  # noqa: E402
from model.sample import find_tokenizer  # noqa: E402
from model.scoring import SCORING_MODES, LogLikelihoodScorer, text_loss  # noqa: E402
from model.tokenizer import load_tokenizer  # noqa: E402

DEFAULT_TASK_DIR = "data/samples/tasks"
DEMO_TASKS = ["lastword", "continuation", "topic"]


@dataclass
class EvalConfig:
    checkpoint: list[str] = field(default_factory=lambda: ["data/checkpoints"])
    tasks: list[str] = field(default_factory=lambda: list(DEMO_TASKS))
    task_dir: str = DEFAULT_TASK_DIR
    shots: list[int] = field(default_factory=lambda: [0])
    limit: int | None = None
    data: str | None = None
    text_field: str = "text"
    val_fraction: float | None = None
    max_docs: int = 500
    all_checkpoints: bool = False
    out: str = "data/eval"
    batch_size: int = 16
    scoring: str = "shared-prefix"
    seed: int = 1234
    device: str = "cpu"


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (numbers range-checked, defaults shown in --help)."""
    d = EvalConfig()
    p = Parser(prog="python -m model.evaluate", formatter_class=DefaultsHelpFormatter,
               description="Held-out bits per byte and zero/few-shot task scores of model.train checkpoints.")
    p.add_argument("--checkpoint", nargs="+", default=d.checkpoint,
                   help="training --out folders (their latest checkpoint) or ckpt-NNNNNN folders; several "
                        "are compared side by side")
    p.add_argument("--tasks", nargs="*", default=d.tasks,
                   help="task files [name=]path[:format], or names found in --task-dir; none: perplexity only")
    p.add_argument("--task-dir", default=d.task_dir, help="where bare task names are looked up")
    p.add_argument("--shots", nargs="+", type=number(int, minimum=0), default=d.shots,
                   help="numbers of in-context demonstrations, e.g. 0 1 3 (GPT-3's zero-, one- and few-shot)")
    p.add_argument("--limit", type=number(int, minimum=1), default=d.limit,
                   help="score only the first N items of each task (default: all)")
    p.add_argument("--data", default=d.data,
                   help="held-out text for bits per byte: a shard folder (its validation split) or a "
                        ".parquet/.jsonl(.gz) file of documents")
    p.add_argument("--text-field", default=d.text_field, help="the text column/field of --data files")
    p.add_argument("--val-fraction", type=number(float, minimum=0, maximum=1), default=d.val_fraction,
                   help="validation share of a shard folder (default: the checkpoint's training setting)")
    p.add_argument("--max-docs", type=number(int, minimum=1), default=d.max_docs,
                   help="held-out documents scored at most")
    p.add_argument("--all-checkpoints", action="store_true",
                   help="evaluate every ckpt-NNNNNN in each run folder and plot the metrics against tokens seen")
    p.add_argument("--out", default=d.out, help="folder for the JSON results, results.md and plots")
    p.add_argument("--batch-size", type=number(int, minimum=1), default=d.batch_size,
                   help="sequences per forward pass")
    p.add_argument("--scoring", choices=SCORING_MODES, default=d.scoring,
                   help="one sequence per choice, batched; or each context once in a KV cache shared by its "
                        "choices (same numbers; see bench/bench_eval_scoring.py for which is faster)")
    p.add_argument("--seed", type=number(int, minimum=0), default=d.seed, help="seed of the demonstration draws")
    p.add_argument("--device", default=d.device, help="cpu, cuda, cuda:1, mps ...")
    return p


def checkpoint_folders(paths: list[str], every: bool) -> list[Path]:
    """The step folders to evaluate: the latest of each run, or every one with `every`."""
    found = []
    for raw in paths:
        if every and list_checkpoints(raw):
            found += [p for _, p in list_checkpoints(raw)]
            continue
        ckpt = resolve_any(raw)
        if ckpt is None:
            raise SystemExit(f"--checkpoint {raw}: no checkpoint there (train one with `python -m model.train`)")
        found.append(ckpt)
    return found


def checkpoint_label(ckpt: Path) -> str:
    """"run/ckpt-000300" (or the folder's own name when it is not a step folder)."""
    return f"{ckpt.parent.name}/{ckpt.name}" if ckpt.name.startswith("ckpt-") else ckpt.name


def heldout_texts(data: str, text_field: str, val_fraction: float, max_docs: int) -> list[str]:
    """Up to `max_docs` held-out documents: a shard folder's validation split, or a JSONL file's texts."""
    path = Path(data)
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz", ".json")):
        texts = (r.get(text_field) for r in read_records(path))
    else:
        try:
            shards = find_shards(path)
        except FileNotFoundError as e:
            raise SystemExit(f"--data: {e}") from None
        split = "val" if path.is_dir() and val_fraction > 0 else "all"  # a single file: all of it
        texts = iter_texts(shards, split=split, val_fraction=val_fraction, text_column=text_field)
    out = []
    for t in texts:
        if isinstance(t, str) and t.strip():
            out.append(t)
            if len(out) >= max_docs:
                break
    if not out:
        raise SystemExit(f"--data {data}: no held-out documents with a {text_field!r} text "
                         f"(validation share {val_fraction})")
    return out


def evaluate_checkpoint(ckpt: Path, tasks: list[Task], cfg: EvalConfig) -> dict[str, Any]:
    """Every requested measurement of one checkpoint."""
    tok = load_tokenizer(find_tokenizer(ckpt))
    model = load_model(ckpt, cfg.device).eval()
    state = load_train_state(ckpt) or {}
    result: dict[str, Any] = {"checkpoint": str(ckpt), "label": checkpoint_label(ckpt), "step": state.get("step"),
                              "tokens_seen": state.get("tokens_seen"), "params": model.num_params(),
                              "vocab_size": tok.get_vocab_size(), "tasks": []}
    if cfg.data:
        val_fraction = cfg.val_fraction
        if val_fraction is None:
            val_fraction = state.get("train_config", {}).get("val_fraction", 0.02)
        texts = heldout_texts(cfg.data, cfg.text_field, val_fraction, cfg.max_docs)
        loss = text_loss(model, tok, texts, cfg.batch_size)
        result["heldout"] = {"data": cfg.data, "documents": loss.documents, "bytes": loss.bytes,
                             "tokens": loss.tokens, "bits_per_byte": loss.bits_per_byte,
                             "perplexity": loss.perplexity, "val_fraction": val_fraction}
    scorer = LogLikelihoodScorer(model, tok, cfg.batch_size, cfg.scoring)
    for task in tasks:
        for k in cfg.shots:
            t0 = time.perf_counter()
            r = evaluate_task(scorer, task, FewShot(k, cfg.seed), cfg.limit)
            r["seconds"] = round(time.perf_counter() - t0, 3)
            result["tasks"].append(r)
    return result


def _fmt(value: float | None, stderr: float | None = None) -> str:
    if value is None or value != value:
        return "-"
    text = f"{value:.4f}" if value < 100 else f"{value:,.1f}"
    return text + (f" ± {stderr:.3f}" if stderr is not None and stderr == stderr else "")


def results_table(results: list[dict[str, Any]]) -> str:
    """Markdown: one row per measurement, one column per checkpoint."""
    labels = [r["label"] for r in results]
    rows: dict[tuple[str, str, str], list[str]] = {}

    def put(key: tuple[str, str, str], col: int, text: str) -> None:
        rows.setdefault(key, ["-"] * len(results))[col] = text

    for col, r in enumerate(results):
        if "heldout" in r:
            put(("held-out text", "-", "bits per byte"), col, _fmt(r["heldout"]["bits_per_byte"]))
            put(("held-out text", "-", "perplexity (per token)"), col, _fmt(r["heldout"]["perplexity"]))
        for t in r["tasks"]:
            shots = f"{t['shots']}" + (f" ({t['shots_used']:.1f} fit)" if t["shots_used"] < t["shots"] else "")
            for name, m in t["metrics"].items():
                put((f"{t['name']} (n={t['n']})", shots, name), col, _fmt(m["value"], m["stderr"]))
            if t.get("chance") is not None:
                put((f"{t['name']} (n={t['n']})", shots, "chance"), col, _fmt(t["chance"]))
    lines = ["| task | shots | metric | " + " | ".join(labels) + " |",
             "|---|---:|---|" + "---:|" * len(labels)]
    lines += [f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(v) + " |" for k, v in rows.items()]
    return "\n".join(lines) + "\n"


def plot_over_training(results: list[dict[str, Any]], png: Path) -> Path | None:
    """Each task's headline metric (and bits per byte) against tokens seen; None without matplotlib or
    without at least two checkpoints that know their token count."""
    points = [r for r in results if r.get("tokens_seen") is not None]
    if len(points) < 2 or not matplotlib_available():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[int, float]]] = {}
    for r in sorted(points, key=lambda r: r["tokens_seen"]):
        for t in r["tasks"]:
            name, value = headline(t)
            series.setdefault(f"{t['name']} {t['shots']}-shot {name}", []).append((r["tokens_seen"], value))
        if "heldout" in r:
            series.setdefault("held-out bits per byte", []).append((r["tokens_seen"], r["heldout"]["bits_per_byte"]))
    fig, axes = plt.subplots(1, 2 if any("bits" in k for k in series) else 1, figsize=(11, 4), dpi=100, squeeze=False)
    for key, xy in series.items():
        ax = axes[0][1] if "bits" in key else axes[0][0]
        ax.plot([x for x, _ in xy], [y for _, y in xy], "o-", label=key)
    for ax, ylabel in zip(axes[0], ("score", "bits per byte")):
        ax.set_xlabel("training tokens seen")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_title("in-context tasks over training (GPT-2, Figure 1 in miniature)")
    fig.tight_layout()
    try:
        with atomic_path(png) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return png


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def write_results(results: list[dict[str, Any]], out: Path) -> dict[str, Path]:
    """The per-measurement JSON files, results.json, results.md and the plot; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    for r in results:
        for t in r["tasks"]:
            name = f"{_file_name(r['label'])}/{_file_name(t['name'])}-{t['shots']}shot.json"
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / name, json.dumps({"checkpoint": r["checkpoint"], "step": r["step"],
                                                      "tokens_seen": r["tokens_seen"], **t}, indent=2) + "\n")
    written = {"json": out / "results.json", "table": out / "results.md"}
    atomic_write_text(written["json"], json.dumps(results, indent=2) + "\n")
    atomic_write_text(written["table"], results_table(results))
    plot = plot_over_training(results, out / "over_training.png")
    if plot:
        written["plot"] = plot
    return written


def run(cfg: EvalConfig) -> list[dict[str, Any]]:
    """Evaluate every checkpoint on every task and shot count; write and return the results."""
    try:
        tasks = [load_task(spec, cfg.task_dir) for spec in cfg.tasks]
    except TaskSpecError as e:
        raise SystemExit(f"--tasks: {e}") from None
    if not tasks and not cfg.data:
        raise SystemExit("nothing to evaluate: give --tasks and/or --data")
    results = []
    for ckpt in checkpoint_folders(cfg.checkpoint, cfg.all_checkpoints):
        t0 = time.perf_counter()
        results.append(evaluate_checkpoint(ckpt, tasks, cfg))
        print(f"evaluated {checkpoint_label(ckpt)} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    written = write_results(results, Path(cfg.out))
    for task in tasks:
        if task.skipped:
            print(f"{task.name}: skipped records {task.skipped}", file=sys.stderr)
    print(results_table(results))
    print("results: " + ", ".join(str(p) for p in written.values()))
    return results


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = build_parser().parse_args(argv)
    torch.manual_seed(0)
    return run(EvalConfig(**vars(args)))


if __name__ == "__main__":
    run_cli(main, build_parser())
    sys.exit(0)
