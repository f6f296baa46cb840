"""Print text sampled from a trained checkpoint.

    python -m model.sample --checkpoint data/checkpoints --prompt "The city council" --num-samples 3
    python -m model.sample --checkpoint data/checkpoints/ckpt-000300 --temperature 0     # greedy

`--checkpoint` is a run folder (its `latest` checkpoint is used) or one step folder. Loads
`config.json`, `model.safetensors` and `tokenizer.json`; nothing is unpickled. Decoding uses a KV
cache (`--no-kv-cache` re-runs the whole context per token, for comparison).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# As in model.train: idle OpenMP threads sleep instead of spinning. Decoding runs many tiny ops, and
# on a busy 2-core box spinning threads made it 4x slower (120 tokens: 5.2 s vs 1.3 s).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from corpus.cli_flags import number  # noqa: E402
from model.checkpoint import load_model  # noqa: E402
from model.checkpoint_store import resolve_any  # noqa: E402
from model.cli import DefaultsHelpFormatter, Parser, run_cli  # noqa: E402
from model.generate import generate  # noqa: E402
from model.tokenizer import TOKENIZER_FILE, eot_id, load_tokenizer  # noqa: E402


@dataclass
class SampleConfig:
    checkpoint: str = "data/checkpoints"
    prompt: str = ""
    max_new_tokens: int = 100
    temperature: float = 0.8
    top_k: int | None = 200
    top_p: float | None = None
    num_samples: int = 1
    seed: int = 1337
    device: str = "cpu"
    kv_cache: bool = True
    stop_at_eot: bool = False


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface: numbers are range-checked (one-line error, exit code 2), and every
    flag's `--help` entry shows its default."""
    d = SampleConfig()
    p = Parser(
        prog="python -m model.sample",
        description="Sample text from a model.train checkpoint.",
        formatter_class=DefaultsHelpFormatter,
    )
    p.add_argument("--checkpoint", default=d.checkpoint,
                   help="a training --out folder (its latest checkpoint) or one ckpt-NNNNNN folder")
    p.add_argument("--prompt", default=d.prompt,
                   help="text to continue (default: empty, i.e. start a new document)")
    p.add_argument("--max-new-tokens", type=number(int, minimum=1), default=d.max_new_tokens,
                   help="tokens generated per sample")
    p.add_argument("--temperature", type=number(float, minimum=0), default=d.temperature,
                   help="softmax temperature; 0 for greedy decoding")
    p.add_argument("--top-k", type=number(int, minimum=0), default=d.top_k,
                   help="sample among the k most likely tokens (0: all)")
    p.add_argument("--top-p", type=number(float, above=0, maximum=1), default=d.top_p,
                   help="nucleus sampling: the smallest set of tokens with this much probability, in (0, 1], "
                        "e.g. 0.9")
    p.add_argument("--num-samples", type=number(int, minimum=1), default=d.num_samples,
                   help="independent continuations of the prompt")
    p.add_argument("--seed", type=number(int, minimum=0), default=d.seed, help="seed of the sampling")
    p.add_argument("--device", default=d.device, help="cpu, cuda, cuda:1, mps ...")
    p.add_argument("--kv-cache", action=argparse.BooleanOptionalAction, default=d.kv_cache,
                   help="keep a key/value cache while decoding; --no-kv-cache recomputes the whole context "
                        "for every token (slower; same tokens)")
    p.add_argument("--stop-at-eot", action="store_true",
                   help="cut each sample at the first <|endoftext|> it generates")
    return p


def find_tokenizer(ckpt: Path) -> Path:
    """The checkpoint's own tokenizer.json, else the run folder's."""
    for candidate in (ckpt / TOKENIZER_FILE, ckpt.parent / TOKENIZER_FILE):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {TOKENIZER_FILE} in {ckpt} or {ckpt.parent}")


def sample(cfg: SampleConfig) -> list[str]:
    """Return `num_samples` continuations of the prompt (prompt included)."""
    ckpt = resolve_any(cfg.checkpoint)
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {cfg.checkpoint}: train one with `python -m model.train`")
    try:
        tok = load_tokenizer(find_tokenizer(ckpt))
        model = load_model(ckpt, cfg.device)
    except (FileNotFoundError, ValueError) as e:  # a folder without its tokenizer, or damaged files
        raise SystemExit(f"--checkpoint {cfg.checkpoint}: {e}") from None
    model.eval()
    eot = eot_id(tok)
    # An empty prompt starts from <|endoftext|>, i.e. "the beginning of a new document".
    ids = tok.encode(cfg.prompt, add_special_tokens=False).ids if cfg.prompt else [eot]
    ids = ids[-model.config.block_size :]
    gen = torch.Generator(device=cfg.device).manual_seed(cfg.seed)
    x = torch.tensor([ids] * cfg.num_samples, dtype=torch.long, device=cfg.device)
    y = generate(
        model, x, cfg.max_new_tokens, temperature=cfg.temperature, top_k=cfg.top_k or None, top_p=cfg.top_p,
        vocab_limit=tok.get_vocab_size(), generator=gen, use_cache=cfg.kv_cache,
    )
    texts = []
    for row in y.tolist():
        new = row[len(ids):]
        if cfg.stop_at_eot and eot in new:
            new = new[: new.index(eot)]
        # skip_special_tokens drops the <|endoftext|> separators from the printed text.
        texts.append(tok.decode(row[: len(ids)] + new, skip_special_tokens=True))
    return texts


def main(argv: list[str] | None = None) -> list[str]:
    cfg = SampleConfig(**vars(build_parser().parse_args(argv)))
    t0 = time.perf_counter()
    texts = sample(cfg)
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1} ---")
        print(text)
    print(f"({len(texts)} x {cfg.max_new_tokens} tokens in {time.perf_counter() - t0:.2f}s, "
          f"KV cache {'on' if cfg.kv_cache else 'off'})", flush=True)
    return texts


if __name__ == "__main__":
    run_cli(main, build_parser())
    sys.exit(0)
