"""GPU check: the CUDA tests, then GPT-2 124M training throughput, MFU and peak memory, plain and under
FSDP2 on one GPU, then dense vs banded attention timing. `bench/gpu_check.sh` runs this after setting
up Python; run it directly when torch with CUDA is already there:

    PYTHONPATH=. python bench/gpu_train_check.py                      # all parts, about 5 minutes on an H100
    PYTHONPATH=. python bench/gpu_train_check.py --parts plain --seconds 20
    PYTHONPATH=. python bench/gpu_train_check.py --cpu-smoke          # tiny model, CPU, a few steps (~5 s)

Parts, each with its own budget and its own status in the summary:
  tests      `pytest -m cuda -q` over the test files that hold CUDA-marked tests
  plain      GPT(preset("gpt2")) on random tokens: bf16 autocast, torch.compile (whole model), fused
             AdamW, grad clipping; each step takes the next of --distinct-batches batches made on the GPU
  fsdp       the same under FSDP2 `fully_shard` (each block, then the root) in a one-process group
             (NCCL on CUDA, gloo on the CPU), blocks compiled one by one as FSDP2 recommends
  attention  `bench/bench_sparse_attention.py --device cuda --dtype bfloat16` when that script exists
The training parts time up to --steps steps or --seconds, whichever ends first, after --warmup
untimed steps (the first of which compiles). MFU is against the dense bf16 peak of the GPU
(`model.mfu`; --peak-tflops for a GPU the table lacks). The summary is printed and written as JSON to
--out; the exit code is 1 when any part failed (an error, a non-finite loss, failing tests).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

from corpus.cli_flags import number  # noqa: E402
from corpus.writers.atomic import atomic_write_json  # noqa: E402
from model.cli import DefaultsHelpFormatter, Parser, run_cli  # noqa: E402
from model.config import GPTConfig, preset  # noqa: E402
from model.estimate import flops_per_token  # noqa: E402
from model.gpt import GPT  # noqa: E402
from model.mfu import Throughput, matmul_precision, peak_flops  # noqa: E402
from model.optim import OptimConfig, build_optimizer  # noqa: E402

PARTS = ("tests", "plain", "fsdp", "attention")
ATTENTION_BENCH = ROOT / "bench" / "bench_sparse_attention.py"
# --cpu-smoke's model: the size of the tests' tiny checkpoint, so a few CPU steps take well under a second.
SMOKE_SHAPE = dict(n_layer=2, n_head=2, n_embd=64, block_size=64, vocab_size=512)


@dataclass
class CheckConfig:
    preset: str = "gpt2"
    batch_size: int = 16
    block_size: int | None = None  # None: the preset's
    steps: int = 300
    warmup: int = 5
    seconds: float = 60.0
    subprocess_timeout: float = 180.0
    distinct_batches: int = 8
    lr: float = 6e-4
    compile: bool = True
    peak_tflops: float | None = None
    parts: list[str] = field(default_factory=lambda: list(PARTS))
    out: str = "bench/out/gpu_check.json"
    cpu_smoke: bool = False


class HelpFormatter(argparse.RawDescriptionHelpFormatter, DefaultsHelpFormatter):
    """Every flag's default, and the module docstring as written (its table of parts stays a table)."""


def build_parser() -> argparse.ArgumentParser:
    d = CheckConfig()
    p = Parser(prog="bench/gpu_train_check.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--preset", default=d.preset, help="model shape (model.config presets)")
    p.add_argument("--batch-size", type=number(int, minimum=1), default=d.batch_size, help="sequences per step")
    p.add_argument("--block-size", type=number(int, minimum=1), default=d.block_size,
                   help="tokens per sequence (default: the preset's)")
    p.add_argument("--steps", type=number(int, minimum=1), default=d.steps, help="most timed steps per part")
    p.add_argument("--warmup", type=number(int, minimum=1), default=d.warmup,
                   help="untimed steps first (compilation happens in the first)")
    p.add_argument("--seconds", type=number(float, above=0), default=d.seconds,
                   help="time budget of each training part's timed steps")
    p.add_argument("--subprocess-timeout", type=number(float, above=0), default=d.subprocess_timeout,
                   help="seconds the tests part and the attention part may each run")
    p.add_argument("--distinct-batches", type=number(int, minimum=1), default=d.distinct_batches,
                   help="random batches made once on the device and cycled (the loss falls as they are learnt)")
    p.add_argument("--lr", type=number(float, above=0), default=d.lr, help="AdamW learning rate (constant)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=d.compile,
                   help="torch.compile the model")
    p.add_argument("--peak-tflops", type=number(float, above=0), default=d.peak_tflops,
                   help="dense bf16 peak of the GPU for MFU (default: model.mfu's table for the GPU found)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=d.parts, help="which parts to run")
    p.add_argument("--out", default=d.out, help="JSON summary written here")
    p.add_argument("--cpu-smoke", action="store_true",
                   help="check this script without a GPU: a 2-layer model, 3 steps of each training part on the "
                        "CPU, no compile; the tests and attention parts are skipped")
    return p


def smoke_settings(cfg: CheckConfig) -> CheckConfig:
    """--cpu-smoke: the same code paths at a size that runs in seconds on a laptop CPU."""
    cfg.preset, cfg.batch_size, cfg.block_size = "cpu-smoke", 2, None  # SMOKE_SHAPE, whatever --preset said
    cfg.steps, cfg.warmup, cfg.distinct_batches, cfg.compile = 3, 1, 2, False
    return cfg


def model_config(cfg: CheckConfig) -> GPTConfig:
    if cfg.cpu_smoke:
        return GPTConfig(**SMOKE_SHAPE)
    return preset(cfg.preset, block_size=cfg.block_size)  # vocab padded to a multiple of 64 (50304)


# ---------------------------------------------------------------- training parts


@contextlib.contextmanager
def one_process_group(device: torch.device) -> Iterator[None]:
    """A world of one (rank 0 of 1) in this process: what FSDP2 needs without torchrun. The in-memory
    HashStore replaces the TCP rendezvous, so no port is opened."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


def shard_fsdp2(model: GPT, device: torch.device, compile_blocks: bool) -> torch.nn.Module:
    """FSDP2: each block its own unit (all-gathered just before it runs), the embeddings, final norm
    and tied head in the root unit. Each block's forward is compiled, not the module: FSDP's hooks (the
    all-gather before, the free after) then run eagerly around the compiled graphs."""
    from model.fsdp import shard_model  # the trainer's own --fsdp wrapping (bf16 params, fp32 reduce on GPU)
    from model.precision import Precision

    shard_model(model, 1, device, Precision("bfloat16" if device.type == "cuda" else "float32", device.type))
    if compile_blocks:
        for block in model.transformer.h:
            block.forward = torch.compile(block.forward)
    return model


def random_batches(cfg: GPTConfig, check: CheckConfig, device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """--distinct-batches (inputs, targets) pairs of random token ids, made once on the device so that
    no loader and no host-to-device copy is in the way, the same for every part (seeded)."""
    gen = torch.Generator(device="cpu").manual_seed(0)
    ids = torch.randint(cfg.vocab_size, (check.distinct_batches, check.batch_size, cfg.block_size + 1), generator=gen)
    return [(b[:, :-1].contiguous().to(device), b[:, 1:].contiguous().to(device)) for b in ids]


def peak_of(check: CheckConfig, device: torch.device) -> float | None:
    """Dense bf16 peak FLOP/s of the GPU: --peak-tflops, else model.mfu's table; None on the CPU."""
    if device.type != "cuda":
        return None
    if check.peak_tflops:
        return check.peak_tflops * 1e12
    return peak_flops(torch.cuda.get_device_name(device), matmul_precision(torch.bfloat16))


def train_part(check: CheckConfig, device: torch.device, fsdp: bool) -> dict[str, Any]:
    """Time training steps as model.train runs them; returns the part's numbers (status "ok" or "failed")
    and, under "losses", every step's loss (warm-up included)."""
    cfg = model_config(check)
    cuda = device.type == "cuda"
    # Start clean: the previous part's compiled graphs and cached blocks would count in this part's memory.
    torch._dynamo.reset()
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(0)
    model = GPT(cfg).to(device)
    if fsdp:
        step_model = shard_fsdp2(model, device, compile_blocks=check.compile)
    else:
        step_model = torch.compile(model) if check.compile else model
    opt = build_optimizer(model, OptimConfig(lr=check.lr), device.type)
    batches = random_batches(cfg, check, device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16)

    def step(i: int) -> torch.Tensor:
        x, y = batches[i % len(batches)]
        with autocast:
            _, loss = step_model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()

    t0 = time.perf_counter()
    losses = [step(i) for i in range(check.warmup)]
    sync(device)
    warmup_s = time.perf_counter() - t0
    # Losses stay on the device until the end: reading one per step would sync the CPU with the GPU.
    t0, steps = time.perf_counter(), 0
    while steps < check.steps and time.perf_counter() - t0 < check.seconds:
        losses.append(step(check.warmup + steps))
        steps += 1
    sync(device)
    seconds = time.perf_counter() - t0
    loss_values = [float(x) for x in torch.stack(losses).float().cpu()]

    fpt = flops_per_token(cfg)
    peak = peak_of(check, device)
    tput = Throughput.measure(steps * check.batch_size * cfg.block_size, seconds, fpt, peak)
    finite = all(math.isfinite(x) for x in loss_values)
    note = "" if finite else "non-finite loss"
    if finite and cuda and peak is None:
        note = "GPU not in model.mfu's table: pass --peak-tflops for MFU"
    return {
        "status": "ok" if finite else "failed",
        "note": note,
        **tput.as_dict(),
        "peak_tflops": peak / 1e12 if peak else None,
        "step_ms": 1000 * seconds / steps,
        "timed_steps": steps,
        "timed_seconds": seconds,
        "warmup_steps": check.warmup,
        "warmup_seconds": warmup_s,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if cuda else None,
        "loss_first": loss_values[0],
        "loss_last": loss_values[-1],
        "compile": ("per block" if fsdp else "whole model") if check.compile else "off",
        "params": cfg.num_params(),
        "flops_per_token": fpt,
        "tokens_per_step": check.batch_size * cfg.block_size,
        "losses": loss_values,
    }


def fsdp_part(check: CheckConfig, device: torch.device) -> dict[str, Any]:
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401  (FSDP2: torch >= 2.6)
    except ImportError as e:
        return {"status": "skipped", "note": f"torch.distributed.fsdp.fully_shard does not import: {e}"}
    with one_process_group(device):
        return train_part(check, device, fsdp=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------- subprocess parts


def run_subprocess(cmd: list[str], timeout: float) -> dict[str, Any]:
    """Run `cmd` from the repo root, echoing its output; status "ok" on exit code 0."""
    print("$ " + " ".join(cmd), flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        print(out, flush=True)
        return {"status": "failed", "note": f"timed out after {timeout:g} s", "seconds": timeout,
                "output_tail": out.splitlines()[-30:]}
    out = proc.stdout + proc.stderr
    print(out, flush=True)
    lines = [line for line in out.splitlines() if line.strip()]
    return {"status": "ok" if proc.returncode == 0 else "failed", "note": lines[-1] if lines else "",
            "exit_code": proc.returncode, "seconds": time.perf_counter() - t0, "output_tail": lines[-30:]}


def cuda_test_files() -> list[str]:
    """Test files that hold CUDA-marked tests. Naming them, rather than collecting all of tests/, keeps
    a test module whose (non-GPU) dependencies this machine lacks from failing the collection."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                  if "mark.cuda" in p.read_text(encoding="utf-8"))


def tests_part(check: CheckConfig) -> dict[str, Any]:
    files = cuda_test_files()
    if not files:
        return {"status": "failed", "note": "no test file under tests/ has tests marked cuda"}
    # One -q, not pyproject's -q plus ours: "-qq" drops the "N passed" line that the summary quotes.
    return run_subprocess([sys.executable, "-m", "pytest", "-o", "addopts=--import-mode=importlib", "-q",
                           "-m", "cuda", "-p", "no:cacheprovider", *files], check.subprocess_timeout)


def attention_part(check: CheckConfig) -> dict[str, Any]:
    if not ATTENTION_BENCH.exists():
        return {"status": "skipped", "note": f"{ATTENTION_BENCH.relative_to(ROOT)} does not exist (yet)"}
    return run_subprocess([sys.executable, str(ATTENTION_BENCH), "--device", "cuda", "--dtype", "bfloat16"],
                          check.subprocess_timeout)


# ---------------------------------------------------------------- driver


def environment(device: torch.device) -> dict[str, Any]:
    env = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device)}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda,
                   capability=f"{props.major}.{props.minor}", gpu_memory_gib=props.total_memory / 2**30,
                   multiprocessors=props.multi_processor_count)
    return env


def run_part(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one part; an exception fails that part only, and the others still run."""
    print(f"\n=== {name}", flush=True)
    t0 = time.perf_counter()
    try:
        result = fn()
    except Exception as e:  # noqa: BLE001 - the report names it, and the exit code says a part failed
        traceback.print_exc()
        result = {"status": "failed", "note": f"{type(e).__name__}: {e}".splitlines()[0][:300]}
    result["wall_seconds"] = time.perf_counter() - t0
    print(f"=== {name}: {result['status']}" + (f" ({result['note']})" if result.get("note") else ""), flush=True)
    return result


def compare_losses(parts: dict[str, dict[str, Any]]) -> None:
    """FSDP on one GPU computes what the plain run does, from the same seed and batches: record the
    largest loss difference over their common steps (bf16 and different compiled kernels leave ~1e-2
    at most), and drop the per-step losses from the summary."""
    plain, fsdp = parts.get("plain", {}).get("losses"), parts.get("fsdp", {}).get("losses")
    if plain and fsdp:
        parts["fsdp"]["max_loss_diff_vs_plain"] = max(abs(a - b) for a, b in zip(plain, fsdp))
    for r in parts.values():
        r.pop("losses", None)


def format_summary(summary: dict[str, Any]) -> str:
    """The parts as a table: tokens/s, MFU, peak memory, ms/step, warm-up (compile) time, loss."""
    env = summary["environment"]
    lines = [f"\n{env.get('gpu', env['device'])}  torch {env['torch']}  CUDA {env.get('cuda', '-')}  "
             f"model {summary['model']}"]
    header = f"{'part':<10} {'status':<8} {'tokens/s':>10} {'MFU':>6} {'peak mem':>9} {'ms/step':>8} " \
             f"{'warm-up':>8}  loss first -> last"
    lines.append(header)
    for name, r in summary["parts"].items():
        if "tokens_per_s" in r:
            mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "-"
            mem = f"{r['peak_memory_gib']:.1f} GiB" if r["peak_memory_gib"] is not None else "-"
            lines.append(f"{name:<10} {r['status']:<8} {r['tokens_per_s']:>10,.0f} {mfu:>6} {mem:>9} "
                         f"{r['step_ms']:>8.1f} {r['warmup_seconds']:>7.1f}s  "
                         f"{r['loss_first']:.3f} -> {r['loss_last']:.3f}"
                         + (f"  (max |loss - plain's| {r['max_loss_diff_vs_plain']:.2g})"
                            if "max_loss_diff_vs_plain" in r else ""))
        else:
            lines.append(f"{name:<10} {r['status']:<8} {r.get('note', '')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    check = CheckConfig(**vars(build_parser().parse_args(argv)))
    if check.cpu_smoke:
        check = smoke_settings(check)
        device = torch.device("cpu")
    else:
        if not torch.cuda.is_available():
            raise SystemExit(f"torch {torch.__version__} sees no CUDA GPU: run on a CUDA machine with a CUDA build "
                             "of torch, or pass --cpu-smoke to check this script on the CPU")
        device = torch.device("cuda", 0)
        torch.cuda.set_device(device)
    # What nanoGPT and model.train do: fp32 matmuls outside autocast (there are few) may use TF32.
    torch.set_float32_matmul_precision("high")
    cfg = model_config(check)
    summary: dict[str, Any] = {
        "environment": environment(device),
        "model": f"{'cpu-smoke' if check.cpu_smoke else check.preset} ({cfg.num_params() / 1e6:.1f}M params, "
                 f"block {cfg.block_size}, batch {check.batch_size})",
        "settings": asdict(check),
        "parts": {},
    }
    print(", ".join(f"{k} {v}" for k, v in summary["environment"].items()) + f"\nmodel: {summary['model']}",
          flush=True)
    for name in check.parts:
        if check.cpu_smoke and name in ("tests", "attention"):
            summary["parts"][name] = {"status": "skipped", "note": "--cpu-smoke"}
            continue
        fn = {
            "tests": lambda: tests_part(check),
            "plain": lambda: train_part(check, device, fsdp=False),
            "fsdp": lambda: fsdp_part(check, device),
            "attention": lambda: attention_part(check),
        }[name]
        summary["parts"][name] = run_part(name, fn)
    compare_losses(summary["parts"])
    failed = [name for name, r in summary["parts"].items() if r["status"] == "failed"]
    summary["ok"] = not failed
    summary["command"] = " ".join([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    atomic_write_json(check.out, summary)
    print(format_summary(summary))
    print(f"\nsummary: {check.out}; " + (f"FAILED: {', '.join(failed)}" if failed else "all parts passed or skipped"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_cli(main, build_parser()))
