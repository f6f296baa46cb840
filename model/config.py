"""Model shape (`GPTConfig`) and the named presets: a CPU debug size, GPT-2 and GPT-3 (Table 2.1).

The config only describes the architecture. Training hyper-parameters that the papers tie to a size
(learning rate, batch size in tokens) live next to it in `PRESET_TRAINING` so the trainer can pick a
sensible default learning rate per preset without mixing the two concerns.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.writers.atomic import atomic_write_text

ATTENTION_PATTERNS = ("dense", "alternating")
# GPT-2's BPE has 50,000 merges + 256 byte tokens + <|endoftext|>.
GPT2_VOCAB_SIZE = 50257
# Matmuls whose inner size is a multiple of 64 hit faster kernels on GPUs; nanoGPT pads 50257 -> 50304.
VOCAB_PAD_MULTIPLE = 64


@dataclass
class GPTConfig:
    """Shape of a GPT-2 style decoder-only transformer."""

    block_size: int = 1024  # longest context the learned position table covers
    vocab_size: int = 50304  # rows of the token embedding (may be padded beyond the tokenizer's size)
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0  # 0 for pretraining (GPT-3 used none); >0 helps when fine-tuning small data
    bias: bool = True  # GPT-2 has biases in Linear and LayerNorm layers
    # GPT-3: "alternating dense and locally banded sparse attention patterns in the layers of the
    # transformer, similar to the Sparse Transformer". "dense": every layer is causal; "alternating":
    # even layers (0, 2, ...) dense, odd layers banded: each token sees itself and the previous
    # local_window - 1 tokens. The paper gives no band width; 256 is our choice (Sparse Transformer's
    # text models used strides of 128-256). Neither field changes the parameter count.
    attention_pattern: str = "dense"
    local_window: int = 256

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.attention_pattern not in ATTENTION_PATTERNS:
            raise ValueError(f"attention_pattern must be one of {ATTENTION_PATTERNS}, got {self.attention_pattern!r}")
        if self.local_window <= 0:
            raise ValueError(f"local_window must be positive, got {self.local_window}")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def layer_window(self, layer: int) -> int | None:
        """Attention window of layer `layer`: None for dense causal, else the band width in tokens."""
        if self.attention_pattern == "alternating" and layer % 2 == 1:
            return self.local_window
        return None

    def num_params(self, include_position_embeddings: bool = True) -> int:
        """Closed-form parameter count of `model.gpt.GPT` built from this config.

        The output head is tied to the token embedding, so it adds nothing. The papers' counts
        include the position table, hence the default.
        """
        d, L, b = self.n_embd, self.n_layer, int(self.bias)
        ln = d + b * d  # LayerNorm weight (+ bias)
        attn = d * 3 * d + b * 3 * d + d * d + b * d  # c_attn (q, k, v) + c_proj
        mlp = d * 4 * d + b * 4 * d + 4 * d * d + b * d  # c_fc + c_proj
        block = 2 * ln + attn + mlp
        total = self.vocab_size * d + L * block + ln  # wte + blocks + ln_f
        if include_position_embeddings:
            total += self.block_size * d
        return total

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GPTConfig:
        """Build from a dict, ignoring unknown keys so older/newer config.json files still load."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def save(self, path: str | Path) -> None:
        """Write `config.json` atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> GPTConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


def pad_vocab(vocab_size: int, multiple: int = VOCAB_PAD_MULTIPLE) -> int:
    """Round `vocab_size` up to a multiple of `multiple` (the extra rows are never a target)."""
    return -(-vocab_size // multiple) * multiple


# name -> architecture. GPT-2: Radford et al. 2019 (context 1024). GPT-3: Brown et al. 2020, Table 2.1
# (context 2048). Two rows of Table 2.1 are not self-consistent; we keep its d_head in both, which leaves
# the parameter count as the paper's:
#   XL 1.3B lists d_model 2048 with 24 heads of 128 (24 x 128 = 3072): we use 16 heads of 128, as
#     EleutherAI's GPT-Neo 1.3B does; heads do not change the parameter count.
#   13B lists d_model 5140, not divisible by its 40 heads of 128: we use 40 x 128 = 5120 (12.85B params).
PRESETS: dict[str, dict[str, int]] = {
    # CPU debug size: trains in minutes on 2 cores; vocab comes from the tokenizer trained for it.
    "tiny": dict(n_layer=4, n_head=4, n_embd=128, block_size=128, vocab_size=4096),
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=GPT2_VOCAB_SIZE),
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024, block_size=1024, vocab_size=GPT2_VOCAB_SIZE),
    "gpt2-large": dict(n_layer=36, n_head=20, n_embd=1280, block_size=1024, vocab_size=GPT2_VOCAB_SIZE),
    "gpt2-xl": dict(n_layer=48, n_head=25, n_embd=1600, block_size=1024, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-small": dict(n_layer=12, n_head=12, n_embd=768, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-medium": dict(n_layer=24, n_head=16, n_embd=1024, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-large": dict(n_layer=24, n_head=16, n_embd=1536, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-xl": dict(n_layer=24, n_head=16, n_embd=2048, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-2.7b": dict(n_layer=32, n_head=32, n_embd=2560, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-6.7b": dict(n_layer=32, n_head=32, n_embd=4096, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-13b": dict(n_layer=40, n_head=40, n_embd=5120, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
    "gpt3-175b": dict(n_layer=96, n_head=96, n_embd=12288, block_size=2048, vocab_size=GPT2_VOCAB_SIZE),
}

# Parameter counts the papers report, used by the tests to check the presets.
PAPER_PARAMS: dict[str, float] = {
    "gpt2": 124e6,  # the 117M of the GPT-2 paper was a mis-count; 124M is what the released weights hold
    "gpt2-medium": 355e6,
    "gpt2-large": 774e6,
    "gpt2-xl": 1558e6,
    "gpt3-small": 125e6,
    "gpt3-medium": 350e6,
    "gpt3-large": 760e6,
    "gpt3-xl": 1.3e9,
    "gpt3-2.7b": 2.7e9,
    "gpt3-6.7b": 6.7e9,
    "gpt3-13b": 13.0e9,
    "gpt3-175b": 175.0e9,
}

# Size-specific training settings. GPT-3 Table 2.1 gives learning rate and batch size (tokens);
# GPT-2 sizes reuse the GPT-3 row of the same shape. "tiny" is tuned for a fast CPU run.
PRESET_TRAINING: dict[str, dict[str, float]] = {
    "tiny": dict(lr=3e-3, batch_tokens=2048),
    "gpt2": dict(lr=6e-4, batch_tokens=0.5e6),
    "gpt2-medium": dict(lr=3e-4, batch_tokens=0.5e6),
    "gpt2-large": dict(lr=2.5e-4, batch_tokens=0.5e6),
    "gpt2-xl": dict(lr=2e-4, batch_tokens=1e6),
    "gpt3-small": dict(lr=6e-4, batch_tokens=0.5e6),
    "gpt3-medium": dict(lr=3e-4, batch_tokens=0.5e6),
    "gpt3-large": dict(lr=2.5e-4, batch_tokens=0.5e6),
    "gpt3-xl": dict(lr=2e-4, batch_tokens=1e6),
    "gpt3-2.7b": dict(lr=1.6e-4, batch_tokens=1e6),
    "gpt3-6.7b": dict(lr=1.2e-4, batch_tokens=2e6),
    "gpt3-13b": dict(lr=1e-4, batch_tokens=2e6),
    "gpt3-175b": dict(lr=0.6e-4, batch_tokens=3.2e6),
}


def preset(name: str, pad_vocab_to: int | None = VOCAB_PAD_MULTIPLE, **overrides: Any) -> GPTConfig:
    """Return the `GPTConfig` of preset `name`, with `overrides` applied (e.g. `vocab_size=...`).

    `pad_vocab_to` rounds the vocabulary up to that multiple (50257 -> 50304 for GPT-2); pass `None`
    to keep the exact size, as the papers' parameter counts do.
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    fields = {**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}}
    if pad_vocab_to:
        fields["vocab_size"] = pad_vocab(fields["vocab_size"], pad_vocab_to)
    return GPTConfig(**fields)
