"""Trainer throughput: the streaming loader alone, then full training steps (forward, backward, clip,
AdamW) for an exact model config, printed with the equivalent nanoGPT command so the two can be run
side by side at the same settings. On a GPU it also prints MFU.

With no --data it builds Parquet shards of real English text from the docstrings of Python's
standard library (about 1.3 MB, nothing downloaded) in a temporary folder.

    python bench/bench_train.py                                            # tiny preset, CPU, 1 and 2 threads
    python bench/bench_train.py --n-layer 6 --n-head 6 --n-embd 384 --block-size 256 --batch-size 8
    python bench/bench_train.py --data data/shards --mix webtext=0.6,commoncrawl=0.4 --loader-workers 0 1 2
    python bench/bench_train.py --preset gpt2 --batch-size 16 --device cuda --peak-tflops 989   # H100 bf16 dense
    python bench/bench_train.py --n-layer 4 --n-head 4 --n-embd 256 --block-size 256 --batch-size 8 \
        --threads 2 --nanogpt /tmp/nanoGPT --pairs 4    # the whole trainers: model.train vs nanoGPT's train.py

With --nanogpt DIR (a nanoGPT checkout) it also times nanoGPT's model.py on the same batches, and runs
`python -m model.train` and nanoGPT's own train.py as subprocesses, alternating, --pairs times, at the
same settings (fp32, no compile, one micro-batch per step): each run's median tokens/s over the steps
after --warmup, from its own per-step log. nanoGPT reads a dataset written in its layout (train.bin /
val.bin uint16 tokens of the same text, meta.pkl with the vocab size) in a temporary folder.

MFU = (6 N + 12 L h s) x tokens/s / peak FLOP/s (the PaLM / nanoGPT definition); give the peak of your
accelerator at the dtype used (e.g. A100 bf16 312, H100 SXM bf16 989 TFLOP/s).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import pickle
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Measure what `python -m model.train` runs with (it sets this before importing torch); run with
# OMP_WAIT_POLICY=ACTIVE to see spinning OpenMP threads, which collapse on a busy machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import torch  # noqa: E402

from model.config import GPTConfig, preset  # noqa: E402
from model.data import LoaderConfig, find_shards, iter_texts  # noqa: E402
from model.estimate import flops_per_token  # noqa: E402
from model.gpt import GPT  # noqa: E402
from model.loader import TokenLoader  # noqa: E402
from model.mixing import discover_sources, parse_mix  # noqa: E402
from model.optim import OptimConfig, build_optimizer  # noqa: E402
from model.tokenizer import train_tokenizer  # noqa: E402


def stdlib_docstring_shards(out: Path, n_files: int = 4) -> Path:
    """Write the standard library's longer docstrings (real English prose) as Parquet shards."""
    lib = Path(os.__file__).parent
    docs = []
    for f in sorted(lib.rglob("*.py")):
        if "test" in f.parts or "site-packages" in f.parts:
            continue
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 200:
                    docs.append(doc)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        part = docs[i::n_files]
        table = pa.table({"id": [hashlib.sha1(d.encode()).hexdigest() for d in part], "text": part,
                          "source": ["stdlib"] * len(part)})
        pq.write_table(table, out / f"part-{i:05d}.parquet", compression="zstd", row_group_size=500)
    return out


def rss_mib() -> float:
    """Resident memory of this process now (Linux /proc), MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_loader(sources, tok, args: argparse.Namespace, block: int, workers: int) -> tuple[float, float, float]:
    """Tokens/s of the loader alone (read + tokenize + pack), and RSS before/after the timed batches."""
    streams = max(1, workers)
    loader = TokenLoader(sources, tok, LoaderConfig(batch_size=args.batch_size, block_size=block,
                                                    num_streams=streams), num_workers=workers)
    it = iter(loader)
    for _ in range(5):  # start-up: worker processes, first row groups
        next(it)
    rss0 = rss_mib()
    t = time.perf_counter()
    n = sum(x.numel() for x, _ in islice(it, args.loader_batches))
    tps = n / (time.perf_counter() - t)
    rss1 = rss_mib()
    it.close()
    return tps, rss0, rss1


def ours(cfg: GPTConfig, device: torch.device) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """This repository's model and optimizer, as model.train builds them."""
    model = GPT(cfg).to(device)
    return model, build_optimizer(model, OptimConfig(lr=1e-3), device.type)


def nanogpt(checkout: Path):
    """A builder for nanoGPT's model and optimizer from a nanoGPT checkout (its model.py)."""
    spec = importlib.util.spec_from_file_location("nanogpt_model", checkout / "model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def build(cfg: GPTConfig, device: torch.device) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its parameter count
            model = mod.GPT(mod.GPTConfig(n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
                                          block_size=cfg.block_size, vocab_size=cfg.vocab_size,
                                          dropout=0.0, bias=True)).to(device)
            # nanoGPT's train.py: weight decay 0.1, betas (0.9, 0.95); fused AdamW on CUDA only.
            opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95), device.type)
        return model, opt

    return build


def bench_steps(sources, tok, cfg: GPTConfig, args: argparse.Namespace, threads: int, compile_: bool,
                device: torch.device, build=ours) -> tuple[float, float]:
    """Training tokens/s and ms per step, as model.train runs a step (micro-batch = optimizer step)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    raw, opt = build(cfg, device)
    model = torch.compile(raw) if compile_ else raw
    bf16 = args.dtype == "bfloat16" or (args.dtype == "auto" and device.type == "cuda")
    ctx = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    loader = TokenLoader(sources, tok, LoaderConfig(batch_size=args.batch_size, block_size=cfg.block_size),
                         num_workers=1, pin_memory=device.type == "cuda")
    it = iter(loader)
    n, t = 0, 0.0
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            n, t = 0, time.perf_counter()
        x, y = next(it)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with ctx:
            _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(raw.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()  # the trainer reads the loss every step too
        n += x.numel()
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    it.close()
    return n / dt, dt / args.steps * 1000


# --- whole trainers side by side: `python -m model.train` and nanoGPT's own train.py, as subprocesses ---

NANOGPT_ITER = re.compile(r"^iter (\d+): loss [-\d.naif]+, time ([\d.]+)ms")


def nanogpt_dataset(texts, tok, root: Path, name: str = "webtext_bench") -> Path:
    """Write `texts`, tokenized with `tok`, as nanoGPT's dataset layout under root/data/name:
    train.bin / val.bin (uint16 token ids, 90/10) and meta.pkl (its vocab size, the pickle train.py reads)."""
    ids = np.concatenate([np.asarray(e.ids + [0], dtype=np.uint16) for e in tok.encode_batch(list(texts))])
    out = root / "data" / name
    out.mkdir(parents=True, exist_ok=True)
    split = int(0.9 * len(ids))
    ids[:split].tofile(out / "train.bin")
    ids[split:].tofile(out / "val.bin")
    with open(out / "meta.pkl", "wb") as f:  # nanoGPT's format for the vocab size, not weights
        pickle.dump({"vocab_size": tok.get_vocab_size()}, f)
    return out


def nanogpt_train_flags(cfg: GPTConfig, args: argparse.Namespace, dataset: str) -> list[str]:
    """nanoGPT train.py flags for the same model, batch and step count (fp32 eager on CPU, GPT-2 biases,
    no dropout, one micro-batch per step, evaluation only at iteration 0 with 1 batch, no checkpoints)."""
    steps = args.warmup + args.steps
    return [f"--dataset={dataset}", f"--device={args.device}", "--compile=False", "--dtype=float32",
            f"--n_layer={cfg.n_layer}", f"--n_head={cfg.n_head}", f"--n_embd={cfg.n_embd}",
            f"--block_size={cfg.block_size}", f"--batch_size={args.batch_size}",
            "--gradient_accumulation_steps=1", "--dropout=0.0", "--bias=True", f"--max_iters={steps}",
            f"--lr_decay_iters={steps}", "--eval_interval=1000000", "--eval_iters=1", "--log_interval=1",
            "--always_save_checkpoint=False", "--wandb_log=False"]


def webtext_train_flags(cfg: GPTConfig, args: argparse.Namespace, data: Path, out: Path) -> list[str]:
    """model.train flags for the same model, batch and step count (fp32, one micro-batch per step,
    validation only at the end, metrics for every step)."""
    return ["--data", str(data), "--out", str(out), "--overwrite", "--n-layer", str(cfg.n_layer),
            "--n-head", str(cfg.n_head), "--n-embd", str(cfg.n_embd), "--block-size", str(cfg.block_size),
            "--vocab-size", str(args.vocab_size), "--batch-size", str(args.batch_size), "--grad-accum-steps", "1",
            "--max-steps", str(args.warmup + args.steps), "--eval-interval", "0", "--eval-iters", "1",
            "--log-interval", "1", "--device", args.device, "--dtype", "float32",
            "--threads", str(max(args.threads)), "--no-progress", "--no-tensorboard", "--no-plot",
            *args.webtext_args]


def after_warmup_median(step_tps: list[float], warmup: int) -> float:
    """Median tokens/s over the steps after the first `warmup`."""
    timed = step_tps[warmup:]
    if not timed:
        raise RuntimeError(f"no step after {warmup} warm-up steps was logged")
    return statistics.median(timed)


def run_webtext_trainer(cfg: GPTConfig, args: argparse.Namespace, data: Path, out: Path) -> float:
    """Run `python -m model.train` and return its median tokens/s after warm-up (from metrics.jsonl,
    one record per step; its step time excludes logging and validation)."""
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, **dict(kv.split("=", 1) for kv in args.webtext_env)}
    proc = subprocess.run([sys.executable, "-m", "model.train", *webtext_train_flags(cfg, args, data, out)],
                          cwd=repo, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"model.train failed:\n{proc.stderr[-2000:]}")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return after_warmup_median([r["tokens_per_s"] for r in records if "tokens_per_s" in r], args.warmup)


def run_nanogpt_trainer(cfg: GPTConfig, args: argparse.Namespace, checkout: Path, root: Path,
                        dataset: str) -> float:
    """Run nanoGPT's train.py (cwd = root, which holds data/<dataset> and its configurator.py) and
    return its median tokens/s after warm-up: batch x block / the per-iteration time it logs."""
    env = {**os.environ, **dict(kv.split("=", 1) for kv in args.nanogpt_env)}
    proc = subprocess.run([sys.executable, str(checkout / "train.py"), *nanogpt_train_flags(cfg, args, dataset)],
                          cwd=root, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"nanoGPT train.py failed:\n{proc.stderr[-2000:]}")
    tokens = args.batch_size * cfg.block_size
    ms = {int(m[1]): float(m[2]) for m in map(NANOGPT_ITER.match, proc.stdout.splitlines()) if m}
    return after_warmup_median([tokens / (ms[i] / 1000) for i in sorted(ms)], args.warmup)


def trainer_pairs(cfg: GPTConfig, args: argparse.Namespace, data: Path, tok, tmp: Path) -> list[tuple[str, str]]:
    """Alternate whole webtext and nanoGPT training runs `args.pairs` times; one row per run and the ratios."""
    root = tmp / "nanogpt_run"
    nanogpt_dataset(iter_texts(find_shards(data), max_chars=20_000_000), tok, root)
    (root / "configurator.py").write_text((args.nanogpt / "configurator.py").read_text())
    rows, ratios = [], []
    for i in range(args.pairs):
        ours_tps = run_webtext_trainer(cfg, args, data, tmp / f"webtext_run{i}")
        peer_tps = run_nanogpt_trainer(cfg, args, args.nanogpt, root, "webtext_bench")
        ratios.append(ours_tps / peer_tps)
        rows.append((f"pair {i + 1}: webtext model.train / nanoGPT train.py",
                     f"{ours_tps:,.0f} / {peer_tps:,.0f} tok/s   ratio {ratios[-1]:.3f}"))
    rows.append(("trainers: median ratio webtext / nanoGPT",
                 f"{statistics.median(ratios):.3f}   (min {min(ratios):.3f}, max {max(ratios):.3f})"))
    return rows


def model_config(args: argparse.Namespace, vocab: int) -> GPTConfig:
    return preset(args.preset, vocab_size=vocab, n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                  block_size=args.block_size, attention_pattern="alternating" if args.sparse_attention else None,
                  local_window=args.local_window)


def nanogpt_command(cfg: GPTConfig, args: argparse.Namespace, device: str, dtype: str, compile_: bool) -> str:
    """nanoGPT's train.py at the same settings (its data prep: data/openwebtext/prepare.py, or any
    dataset folder with train.bin / val.bin). Its log prints the time per iteration; tokens/s =
    batch_size x block_size / that time. nanoGPT's GELU is exact and it has no biases only if
    --bias=False; --bias=True matches GPT-2 and this model."""
    return (f"python train.py --dataset=openwebtext --device={device} --dtype={dtype} --compile={compile_} "
            f"--n_layer={cfg.n_layer} --n_head={cfg.n_head} --n_embd={cfg.n_embd} --block_size={cfg.block_size} "
            f"--batch_size={args.batch_size} --gradient_accumulation_steps=1 --dropout=0.0 --bias=True "
            f"--max_iters={args.warmup + args.steps} --eval_interval=100000 --log_interval=1 "
            "--always_save_checkpoint=False")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="folder of Parquet shards (default: stdlib docstrings in a temp folder)")
    p.add_argument("--mix", help="source mixture over subfolders of --data, as model.train --mix")
    p.add_argument("--preset", default="tiny", help="base shape; the flags below override it")
    p.add_argument("--n-layer", type=int)
    p.add_argument("--n-head", type=int)
    p.add_argument("--n-embd", type=int)
    p.add_argument("--block-size", type=int)
    p.add_argument("--sparse-attention", action="store_true")
    p.add_argument("--local-window", type=int)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--vocab-size", type=int, default=4096, help="BPE trained for the benchmark")
    p.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="auto: bf16 autocast on CUDA, fp32 on CPU (as model.train)")
    p.add_argument("--peak-tflops", type=float,
                   help="accelerator peak TFLOP/s at the dtype used, for MFU (default: 989 on CUDA, i.e. H100 bf16)")
    p.add_argument("--loader-workers", type=int, nargs="+", default=[0, 1, 2],
                   help="loader worker counts to time (one stream per worker)")
    p.add_argument("--loader-batches", type=int, default=300)
    p.add_argument("--skip-train", action="store_true", help="loader only")
    p.add_argument("--nanogpt", type=Path, metavar="DIR",
                   help="a nanoGPT checkout: also time its model.py + optimizer on the same batches, "
                        "and its train.py against model.train")
    p.add_argument("--pairs", type=int, default=3,
                   help="alternating whole-trainer runs (model.train, then nanoGPT train.py) with --nanogpt")
    p.add_argument("--webtext-env", nargs="+", default=[], metavar="KEY=VALUE",
                   help="extra environment for the model.train runs only (e.g. to measure glibc malloc settings)")
    p.add_argument("--nanogpt-env", nargs="+", default=[], metavar="KEY=VALUE",
                   help="extra environment for nanoGPT's train.py only: give it the glibc settings model.train "
                        "applies itself (MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 "
                        "MALLOC_TOP_PAD_=536870912) to compare the trainers with the allocator equal")
    p.add_argument("--webtext-args", nargs="+", default=[], metavar="ARG",
                   help="extra model.train flags (after the others, so they win), e.g. --loader-workers=0")
    p.add_argument("--skip-model", action="store_true", help="with --nanogpt: the whole trainers only")
    args = p.parse_args()
    device = torch.device(args.device)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else stdlib_docstring_shards(Path(tmp) / "shards")
        sources = discover_sources(data, parse_mix(args.mix) if args.mix else None)
        t = time.perf_counter()
        tok = train_tokenizer(iter_texts(find_shards(data), max_chars=20_000_000), vocab_size=args.vocab_size)
        tok_s = time.perf_counter() - t
        cfg = model_config(args, tok.get_vocab_size())
        n_params = cfg.num_params()  # equals the built model's count (tests/model/test_presets.py)
        rows = [(f"tokenizer training (BPE {tok.get_vocab_size()})", f"{tok_s:.1f} s")]
        for workers in args.loader_workers:
            tps, rss0, rss1 = bench_loader(sources, tok, args, cfg.block_size, workers)
            rows.append((f"loader alone, {workers} worker(s)",
                         f"{tps:,.0f} tok/s   (RSS {rss0:,.0f} -> {rss1:,.0f} MiB over {args.loader_batches} batches)"))
        bf16 = args.dtype == "bfloat16" or (args.dtype == "auto" and device.type == "cuda")
        dtype = "bfloat16" if bf16 else "float32"
        peak = args.peak_tflops or (989.0 if device.type == "cuda" else None)
        if args.nanogpt and not args.skip_train:
            rows += trainer_pairs(cfg, args, data, tok, Path(tmp))
        if not args.skip_train and not args.skip_model:
            for threads in args.threads:
                for compile_ in ([False, True] if args.compile else [False]):
                    tps, ms = bench_steps(sources, tok, cfg, args, threads, compile_, device)
                    name = f"train step, {threads} thread(s){', compiled' if compile_ else ''}"
                    value = f"{tps:,.0f} tok/s   ({ms:,.1f} ms/step)"
                    if peak:
                        mfu = flops_per_token(cfg, n_params) * tps / (peak * 1e12)
                        value += f"   MFU {100 * mfu:.1f}% of {peak:g} TFLOP/s"
                    rows.append((name, value))
                    if args.nanogpt:
                        tps, ms = bench_steps(sources, tok, cfg, args, threads, compile_, device,
                                              nanogpt(args.nanogpt))
                        rows.append(("  nanoGPT model.py, same settings", f"{tps:,.0f} tok/s   ({ms:,.1f} ms/step)"))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"\nconfig: n_layer={cfg.n_layer} n_head={cfg.n_head} n_embd={cfg.n_embd} block_size={cfg.block_size} "
          f"batch_size={args.batch_size} vocab_size={cfg.vocab_size} attention={cfg.attention_pattern} "
          f"params={n_params:,} ({flops_per_token(cfg, n_params) / 1e6:,.1f} MFLOPs/token) device={device} "
          f"dtype={dtype} optimizer=AdamW(fused={device.type in ('cpu', 'cuda')}) grad_clip=1.0")
    print(f"machine: {len(os.sched_getaffinity(0))} cpus, torch {torch.__version__}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, load average {os.getloadavg()[0]:.1f}, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if args.nanogpt and not args.skip_train:
        print("trainers (median tokens/s over the steps after --warmup, each from its own per-step log; both "
              f"inherit OMP_WAIT_POLICY and run {max(args.threads)} threads; webtext's extra environment: "
              f"{' '.join(args.webtext_env) or 'none'}; nanoGPT's: {' '.join(args.nanogpt_env) or 'none'}):\n"
              "  webtext: python -m model.train " + " ".join(webtext_train_flags(cfg, args, Path("SHARDS"), Path("OUT")))
              + f"\n  nanoGPT ({args.nanogpt}): python train.py "
              + " ".join(nanogpt_train_flags(cfg, args, "webtext_bench")))
    else:
        print("nanoGPT at the same settings (its train.py; tokens/s = batch_size x block_size / iter time):\n  "
              + nanogpt_command(cfg, args, device.type, dtype, False))
    print("command: python " + " ".join([sys.argv[0], *sys.argv[1:]]))


if __name__ == "__main__":
    main()
