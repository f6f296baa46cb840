"""Print text sampled from a trained checkpoint.

    python -m model.sample --checkpoint data/checkpoints --prompt "The city council" --num-samples 3

Loads `config.json`, `model.safetensors` and `tokenizer.json` from the checkpoint folder; nothing is
unpickled.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import torch

from model.checkpoint import load_model
from model.tokenizer import TOKENIZER_FILE, eot_id, load_tokenizer


@dataclass
class SampleConfig:
    checkpoint: str = "data/checkpoints"
    prompt: str = ""
    max_new_tokens: int = 100
    temperature: float = 0.8
    top_k: int | None = 200
    num_samples: int = 1
    seed: int = 1337
    device: str = "cpu"


def build_parser() -> argparse.ArgumentParser:
    d = SampleConfig()
    p = argparse.ArgumentParser(
        prog="python -m model.sample",
        description="Sample text from a model.train checkpoint.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--checkpoint", default=d.checkpoint,
                   help="folder with config.json, model.safetensors, tokenizer.json")
    p.add_argument("--prompt", default=d.prompt, help="text to continue (empty: start a new document)")
    p.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens)
    p.add_argument("--temperature", type=float, default=d.temperature, help="0 for greedy decoding")
    p.add_argument("--top-k", type=int, default=d.top_k, help="sample among the k most likely tokens (0: all)")
    p.add_argument("--num-samples", type=int, default=d.num_samples)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device)
    return p


def sample(cfg: SampleConfig) -> list[str]:
    """Return `num_samples` continuations of the prompt (prompt included)."""
    ckpt = Path(cfg.checkpoint)
    tok = load_tokenizer(ckpt / TOKENIZER_FILE)
    model = load_model(ckpt, cfg.device)
    model.eval()
    # An empty prompt starts from <|endoftext|>, i.e. "the beginning of a new document".
    ids = tok.encode(cfg.prompt, add_special_tokens=False).ids if cfg.prompt else [eot_id(tok)]
    ids = ids[-model.config.block_size :]
    gen = torch.Generator(device=cfg.device).manual_seed(cfg.seed)
    x = torch.tensor([ids] * cfg.num_samples, dtype=torch.long, device=cfg.device)
    y = model.generate(
        x, cfg.max_new_tokens, temperature=cfg.temperature, top_k=cfg.top_k or None,
        vocab_limit=tok.get_vocab_size(), generator=gen,
    )
    # skip_special_tokens drops the <|endoftext|> separators from the printed text.
    return [tok.decode(row.tolist(), skip_special_tokens=True) for row in y]


def main(argv: list[str] | None = None) -> list[str]:
    cfg = SampleConfig(**vars(build_parser().parse_args(argv)))
    texts = sample(cfg)
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1} ---")
        print(text)
    return texts


if __name__ == "__main__":
    main()
