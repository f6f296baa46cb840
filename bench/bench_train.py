"""Trainer throughput on this CPU: the streaming loader alone, then full training steps of a preset
(forward, backward, clip, AdamW) at 1 and 2 threads, optionally with torch.compile.

With no --data it builds Parquet shards of real English text from the docstrings of Python's
standard library (about 1.3 MB, nothing downloaded) in a temporary folder.

    python bench/bench_train.py
    python bench/bench_train.py --data data/shards --preset tiny --steps 20 --threads 1 2 --compile
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Measure what `python -m model.train` runs with (it sets this before importing torch); run with
# OMP_WAIT_POLICY=ACTIVE to see spinning OpenMP threads, which collapse on a busy machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import torch  # noqa: E402

from model.config import preset  # noqa: E402
from model.data import LoaderConfig, TokenLoader, find_shards, iter_texts  # noqa: E402
from model.gpt import GPT  # noqa: E402
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


def bench_loader(paths: list[Path], tok, batch_size: int, block_size: int, batches: int) -> float:
    loader = TokenLoader(paths, tok, LoaderConfig(batch_size=batch_size, block_size=block_size))
    it = iter(loader)
    next(it)
    t = time.perf_counter()
    n = sum(x.numel() for x, _ in islice(it, batches))
    return n / (time.perf_counter() - t)


def bench_steps(paths: list[Path], tok, args: argparse.Namespace, threads: int, compile_: bool) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    raw = GPT(preset(args.preset, vocab_size=tok.get_vocab_size()))
    model = torch.compile(raw) if compile_ else raw
    opt = build_optimizer(raw, OptimConfig(lr=1e-3))
    loader = TokenLoader(paths, tok, LoaderConfig(batch_size=args.batch_size, block_size=raw.config.block_size))
    it = iter(loader)
    n, t = 0, 0.0
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            n, t = 0, time.perf_counter()
        x, y = next(it)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(raw.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        n += x.numel()
    return n / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="folder of Parquet shards (default: stdlib docstrings in a temp folder)")
    p.add_argument("--preset", default="tiny")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else stdlib_docstring_shards(Path(tmp) / "shards")
        paths = find_shards(data)
        t = time.perf_counter()
        tok = train_tokenizer(iter_texts(paths, max_chars=20_000_000), vocab_size=args.vocab_size)
        tok_s = time.perf_counter() - t
        block = preset(args.preset).block_size
        rows = [(f"tokenizer training (BPE {tok.get_vocab_size()})", f"{tok_s:.1f} s")]
        loader_tps = bench_loader(paths, tok, args.batch_size, block, 200)
        rows.append(("loader (read + tokenize + pack)", f"{loader_tps:,.0f} tok/s"))
        for threads in args.threads:
            for compile_ in ([False, True] if args.compile else [False]):
                name = f"train step {args.preset}, {threads} thread(s){', compiled' if compile_ else ''}"
                rows.append((name, f"{bench_steps(paths, tok, args, threads, compile_):,.0f} tok/s"))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"\ncpus available: {len(os.sched_getaffinity(0))}, torch {torch.__version__}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, batch {args.batch_size} x {block} tokens, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("command: python " + " ".join([sys.argv[0], *sys.argv[1:]]))


if __name__ == "__main__":
    main()
