"""GPT-3's banded attention layers: dense causal SDPA vs banded masked SDPA vs banded flex_attention
(block-sparse), one attention op and then a whole small model, with the FLOPs each one is counted for.

    python bench/bench_sparse_attention.py                          # CPU, contexts 512 1024 2048, band 256
    python bench/bench_sparse_attention.py --device cuda --dtype bfloat16 --batch-size 2 --heads 12

The op rows time `attention(q, k, v)` of (batch, heads, T, head_dim) tensors: forward under no_grad, and
forward + backward. flex rows run `torch.compile(flex_attention)` (compiled before timing); on CPU
flex_attention has no backward (torch 2.13), so those cells read n/a. FLOPs are those
model/estimate.py counts: 4 d per (query, key) pair forward, x 3 with backward; dense counts all T keys
per query (PaLM), banded the band's min(i + 1, W). The model rows time a GPT with
attention_pattern="alternating" with every layer on SDPA ("sdpa") against the kernel rule of
model/attention.py ("auto"), as a compiled no-grad forward (evaluation) and a training step
(forward + backward, eager; compiled with --compile-train).
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from corpus.cli_flags import number  # noqa: E402
from model.attention import (  # noqa: E402
    attention_mask,
    band_block_mask,
    flex_attention,
    flex_unsupported_reason,
    set_attention_impl,
)
from model.cli import DefaultsHelpFormatter, Parser, run_cli  # noqa: E402
from model.config import GPTConfig  # noqa: E402
from model.estimate import flops_per_token, keys_per_query  # noqa: E402
from model.gpt import GPT  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)


@dataclass
class BenchConfig:
    device: str = "cpu"
    dtype: str = "float32"
    contexts: tuple[int, ...] = (512, 1024, 2048)
    window: int = 256
    head_dim: int = 64
    heads: int = 4
    batch_size: int = 1
    threads: int = 1
    repeat: int = 5
    model_layers: int = 4
    model_width: int = 256
    model_context: int = 2048
    compile_train: bool = False


def timed(fn: Callable[[], object], repeat: int, device: str) -> float:
    """Best of `repeat` wall times in seconds, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def op_variants(T: int, window: int, device: str) -> dict[str, Callable]:
    mask = attention_mask(T, T, window, torch.device(device))
    flex = torch.compile(flex_attention)
    block_mask = band_block_mask(T, window, torch.device(device))
    return {
        "dense causal SDPA": lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        "banded masked SDPA": lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        "banded flex": lambda q, k, v: flex(q, k, v, block_mask=block_mask),
    }


def bench_ops(cfg: BenchConfig) -> None:
    dtype = getattr(torch, cfg.dtype)
    print(f"attention op: batch {cfg.batch_size}, {cfg.heads} heads of {cfg.head_dim}, band {cfg.window}, "
          f"{cfg.dtype}, {cfg.device}, {cfg.threads} thread(s); best of {cfg.repeat}")
    print(f"{'T':>5} {'kernel':<20} {'fwd ms':>9} {'fwd GFLOP':>10} {'GFLOP/s':>8} "
          f"{'fwd+bwd ms':>11} {'GFLOP':>8} {'GFLOP/s':>8}")
    for T in cfg.contexts:
        for name, fn in op_variants(T, cfg.window, cfg.device).items():
            window = None if name.startswith("dense") else cfg.window
            pairs = cfg.batch_size * cfg.heads * T * keys_per_query(T, window)
            fwd_flops = 4 * cfg.head_dim * pairs
            shape = (cfg.batch_size, cfg.heads, T, cfg.head_dim)
            q, k, v = (torch.randn(shape, device=cfg.device, dtype=dtype) for _ in range(3))
            with torch.no_grad():
                fwd = timed(lambda: fn(q, k, v), cfg.repeat, cfg.device)  # noqa: B023
            qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
            # Ask before trying: a compile that raises makes dynamo run that function eagerly from then on.
            if name.endswith("flex") and flex_unsupported_reason(torch.device(cfg.device), True, 0.0):
                both_cells = f"{'n/a':>11} {3 * fwd_flops / 1e9:>8.2f} {'':>8}"
            else:
                both = timed(lambda: fn(qg, kg, vg).sum().backward(), cfg.repeat, cfg.device)  # noqa: B023
                both_cells = f"{both * 1e3:>11.2f} {3 * fwd_flops / 1e9:>8.2f} {3 * fwd_flops / both / 1e9:>8.1f}"
            print(f"{T:>5} {name:<20} {fwd * 1e3:>9.2f} {fwd_flops / 1e9:>10.2f} {fwd_flops / fwd / 1e9:>8.1f} "
                  f"{both_cells}", flush=True)


def bench_model(cfg: BenchConfig) -> None:
    mcfg = GPTConfig(n_layer=cfg.model_layers, n_head=cfg.model_width // cfg.head_dim, n_embd=cfg.model_width,
                     block_size=cfg.model_context, vocab_size=4096, attention_pattern="alternating",
                     local_window=cfg.window)
    torch.manual_seed(0)
    model = GPT(mcfg).to(cfg.device)
    dense_fpt = flops_per_token(GPTConfig(**{**mcfg.to_dict(), "attention_pattern": "dense"}))
    x = torch.randint(0, mcfg.vocab_size, (cfg.batch_size, cfg.model_context), device=cfg.device)
    tokens = x.numel()
    print(f"\nwhole model: {mcfg.n_layer} layers (odd ones banded, band {cfg.window}), width {mcfg.n_embd}, "
          f"{mcfg.n_head} heads, context {cfg.model_context}, batch {cfg.batch_size}; counted "
          f"{flops_per_token(mcfg) / 1e6:,.1f} MFLOPs/token (all-dense: {dense_fpt / 1e6:,.1f})")
    print(f"{'impl':<6} {'compiled fwd, no grad ms':>25} {'train step ms':>14} {'tok/s (train)':>14}")
    outputs = {}
    for impl in ("sdpa", "auto"):
        set_attention_impl(model, impl)
        model.eval()
        compiled = torch.compile(model)
        with torch.no_grad():
            outputs[impl] = compiled(x)[0].float()
            fwd = timed(lambda: compiled(x), cfg.repeat, cfg.device)  # noqa: B023
        model.train()
        train_model = torch.compile(model) if cfg.compile_train else model

        def step() -> None:
            _, loss = train_model(x, x)  # noqa: B023
            loss.backward()

        train = timed(step, max(1, cfg.repeat // 2), cfg.device)
        model.zero_grad(set_to_none=True)
        print(f"{impl:<6} {fwd * 1e3:>25.1f} {train * 1e3:>14.1f} {tokens / train:>14,.0f}", flush=True)
    print(f"max |logits(auto) - logits(sdpa)| = {(outputs['auto'] - outputs['sdpa']).abs().max().item():.2e}")


def main() -> None:
    p = Parser(description=__doc__, formatter_class=DefaultsHelpFormatter)
    d = BenchConfig()
    p.add_argument("--device", default=d.device, choices=["cpu", "cuda"])
    p.add_argument("--dtype", default=d.dtype, choices=["float32", "bfloat16", "float16"])
    p.add_argument("--contexts", type=number(int, minimum=2), nargs="+", default=list(d.contexts))
    p.add_argument("--window", type=number(int, minimum=1), default=d.window, help="band width (tokens)")
    p.add_argument("--head-dim", type=number(int, minimum=8), default=d.head_dim)
    p.add_argument("--heads", type=number(int, minimum=1), default=d.heads)
    p.add_argument("--batch-size", type=number(int, minimum=1), default=d.batch_size)
    p.add_argument("--threads", type=number(int, minimum=1), default=d.threads, help="torch CPU threads")
    p.add_argument("--repeat", type=number(int, minimum=1), default=d.repeat, help="timed calls (best kept)")
    p.add_argument("--model-layers", type=number(int, minimum=0), default=d.model_layers,
                   help="layers of the whole-model rows (0: skip them)")
    p.add_argument("--model-width", type=number(int, minimum=8), default=d.model_width)
    p.add_argument("--model-context", type=number(int, minimum=2), default=d.model_context)
    p.add_argument("--compile-train", action="store_true", help="compile the training step too")
    args = p.parse_args()
    cfg = BenchConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items()})
    if cfg.model_width % cfg.head_dim:
        p.error(f"--model-width {cfg.model_width} is not a multiple of --head-dim {cfg.head_dim}")
    torch.set_num_threads(cfg.threads)

    def run() -> None:
        bench_ops(cfg)
        if cfg.model_layers:
            bench_model(cfg)
        print("\ncommand: python bench/bench_sparse_attention.py " + " ".join(sys.argv[1:]))

    run_cli(run, p)


if __name__ == "__main__":
    main()
