"""Export a webtext checkpoint as a Hugging Face `transformers` GPT-2 model folder.

    python -m model.export --checkpoint data/checkpoints --hf data/hf
    python -m model.export --checkpoint data/checkpoints/ckpt-000300 --hf data/hf --dtype bfloat16 --overwrite

The folder loads with no webtext code: `AutoModelForCausalLM.from_pretrained(OUT)` and
`AutoTokenizer.from_pretrained(OUT)`, so `lm_eval --model hf --model_args pretrained=OUT` and any other
transformers tool can use it. It holds config.json, model.safetensors, generation_config.json (written by
transformers itself: the HF model is built in memory, the mapped weights loaded into it with strict
checking, then `save_pretrained`), tokenizer.json + tokenizer_config.json (+ special tokens), and README.md.

What the mapping has to bridge (see `model.gpt`):
- `c_attn`, `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj` are `nn.Linear` ([out, in]) here and `Conv1D`
  ([in, out]) in HF: every weight that lands in a `Conv1D` is transposed;
- a model trained with `bias=False` has no biases; HF GPT-2 always has them, so they are written as
  zeros, which computes exactly the same thing;
- the vocabulary may be padded beyond the tokenizer's size: HF keeps the padded size, and
  generation_config.json suppresses the padding ids, as `model.generate`'s `vocab_limit` does;
- GPT-3-style banded attention layers have no HF GPT-2 counterpart: such a model is refused (unless
  the band covers the whole context, where banded equals dense).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from corpus.writers.atomic import atomic_dir, temp_name
from model.checkpoint import STATE_FILE, load_model
from model.checkpoint_store import resolve_any
from model.cli import DefaultsHelpFormatter, Parser, run_cli
from model.config import GPTConfig
from model.gpt import GPT
from model.sample import find_tokenizer
from model.tokenizer import EOT_TOKEN, eot_id, load_tokenizer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# nn.LayerNorm's default, which every LayerNorm in model.gpt uses.
LAYER_NORM_EPS = 1e-5
README_FILE = "README.md"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


@dataclass
class ExportConfig:
    checkpoint: str = "data/checkpoints"
    hf: str = "data/hf"
    dtype: str = "float32"
    overwrite: bool = False


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface; errors are one line with exit code 2."""
    d = ExportConfig()
    p = Parser(
        prog="python -m model.export",
        description="Write a model.train checkpoint as a Hugging Face transformers GPT-2 folder "
                    "(AutoModelForCausalLM / AutoTokenizer load it; lm_eval --model hf evaluates it).",
        formatter_class=DefaultsHelpFormatter,
    )
    p.add_argument("--checkpoint", default=d.checkpoint, metavar="DIR",
                   help="a training --out folder (its latest checkpoint) or one ckpt-NNNNNN folder")
    p.add_argument("--hf", default=d.hf, metavar="OUT", help="the folder to write (created; must not hold anything yet)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default=d.dtype, help="dtype of the written weights")
    p.add_argument("--overwrite", action="store_true", help="replace --hf if it already holds files")
    return p


def unsupported_reason(config: GPTConfig) -> str | None:
    """Why a model with this config cannot be expressed as HF GPT-2, or None if it can."""
    banded = [i for i in range(config.n_layer) if (config.layer_window(i) or config.block_size) < config.block_size]
    if banded:
        return (f"attention_pattern {config.attention_pattern!r} has banded layers ({len(banded)} of "
                f"{config.n_layer} see only the last {config.local_window} of {config.block_size} tokens); "
                "Hugging Face GPT-2 has only dense causal attention, so the exported model would compute "
                "something else")
    return None


def hf_config(config: GPTConfig, eot: int):
    """The `transformers.GPT2Config` equivalent to `config`, with `<|endoftext|>` = `eot` as bos/eos."""
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=config.vocab_size,  # the padded size: it is the shape of the embedding
        n_positions=config.block_size,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_inner=None,  # 4 * n_embd, as model.gpt.MLP
        activation_function="gelu_new",  # GELU's tanh approximation, as model.gpt.MLP
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
        layer_norm_epsilon=LAYER_NORM_EPS,
        bos_token_id=eot,
        eos_token_id=eot,
        tie_word_embeddings=True,
        architectures=["GPT2LMHeadModel"],
    )


def hf_state_dict(model: GPT, hf_model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """`model`'s weights under `hf_model`'s names and layouts: a full state dict for `hf_model`.

    Names are the same by construction (model.gpt follows GPT2LMHeadModel); weights that HF keeps in a
    `Conv1D` are transposed, and biases our model lacks (`bias=False`) become zeros.
    """
    from transformers.pytorch_utils import Conv1D

    ours = model.state_dict()
    conv1d = {name for name, m in hf_model.named_modules() if isinstance(m, Conv1D)}
    mapped = {}
    for name, target in hf_model.state_dict().items():
        module = name.rpartition(".")[0]
        if name in ours:
            tensor = ours[name].detach()
            if module in conv1d and name.endswith(".weight"):
                tensor = tensor.t()
        elif name.endswith(".bias"):
            tensor = torch.zeros(target.shape, dtype=ours["transformer.wte.weight"].dtype)
        else:
            raise ValueError(f"the Hugging Face model has {name!r}, which the checkpoint lacks")
        if tuple(tensor.shape) != tuple(target.shape):
            raise ValueError(f"{name}: checkpoint shape {tuple(tensor.shape)} != Hugging Face {tuple(target.shape)}")
        mapped[name] = tensor.to("cpu").contiguous()
    unused = sorted(set(ours) - set(mapped))
    if unused:
        raise ValueError(f"the Hugging Face GPT-2 model has no place for {unused}")
    return mapped


def build_hf_model(model: GPT, eot: int, vocab_limit: int, dtype: torch.dtype):
    """A `GPT2LMHeadModel` computing what `model` computes, in `dtype`, ready for `save_pretrained`."""
    from transformers import GenerationConfig, GPT2LMHeadModel

    # The random initialisation is overwritten at once; fork the RNG so the caller's stream is untouched.
    with torch.random.fork_rng(devices=[]):
        hf = GPT2LMHeadModel(hf_config(model.config, eot))
    # strict: every HF parameter gets a value (and hf_state_dict checks nothing of ours is left over).
    hf.load_state_dict(hf_state_dict(model, hf), strict=True)
    hf.tie_weights()
    hf.eval()
    hf.generation_config = GenerationConfig(
        bos_token_id=eot, eos_token_id=eot, pad_token_id=eot,
        # The padding rows of a padded vocabulary are ids no tokenizer can decode.
        suppress_tokens=list(range(vocab_limit, model.config.vocab_size)) or None,
    )
    return hf.to(dtype)


def hf_tokenizer(tokenizer_file: Path, block_size: int):
    """Our tokenizer.json as a `PreTrainedTokenizerFast` with GPT-2's special tokens (all `<|endoftext|>`)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file),
        bos_token=EOT_TOKEN, eos_token=EOT_TOKEN, unk_token=EOT_TOKEN,
        model_max_length=block_size,
    )


def model_card(ckpt: Path, config: GPTConfig, out: Path, dtype: str, eot: int, n_tokens: int) -> str:
    """README.md for the exported folder: where it comes from and how to load and evaluate it."""
    state_path = ckpt / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    step = state.get("step", "unknown")
    tokens = state.get("tokens_seen")
    tokens_text = f"{tokens:,}" if isinstance(tokens, int) else "unknown"
    padding = config.vocab_size - n_tokens
    rows = f"{config.vocab_size} rows, {n_tokens} tokens" + (
        f" ({padding} padding rows, suppressed by generation_config.json)" if padding else "")
    eot_cell = EOT_TOKEN.replace("|", "\\|")  # a bare | ends a Markdown table cell, even in backticks
    return f"""---
library_name: transformers
pipeline_tag: text-generation
tags: [gpt2, webtext]
---

# {out.name}

A GPT-2-architecture language model trained with webtext (`python -m model.train`) and exported with
`python -m model.export`.

| | |
|---|---|
| source checkpoint | `{ckpt}` |
| step | {step} |
| tokens seen | {tokens_text} |
| layers / heads / width | {config.n_layer} / {config.n_head} / {config.n_embd} |
| context (positions) | {config.block_size} |
| vocabulary | {rows}; `{eot_cell}` is id {eot} |
| weights | {dtype} |

The tokenizer is webtext's own byte-level BPE, not GPT-2's: use the one in this folder.

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

model = AutoModelForCausalLM.from_pretrained("{out}")
tokenizer = AutoTokenizer.from_pretrained("{out}")
ids = tokenizer("The city council", return_tensors="pt").input_ids
print(tokenizer.decode(model.generate(ids, max_new_tokens=40, do_sample=False)[0]))
```

Evaluate with EleutherAI's lm-evaluation-harness:

```
lm_eval --model hf --model_args pretrained={out} --tasks lambada_openai,hellaswag
```

The model loads offline; those two tasks download their data sets from the Hugging Face Hub on first use
(offline, with `HF_DATASETS_OFFLINE=1`, only already-cached data sets or local tasks run).
"""


def export_hf(checkpoint: str | Path, out: str | Path, dtype: str = "float32", overwrite: bool = False) -> Path:
    """Write the checkpoint `checkpoint` (a run or step folder) as a transformers GPT-2 folder `out`.

    The folder is built under a temporary name and renamed into place, so `out` is either absent, the
    old folder, or complete. An `out` that already holds files is refused unless `overwrite`. Raises
    SystemExit with a one-line message for user errors (no checkpoint, banded attention, `out` taken).
    Returns `out`.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    out = Path(out)
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        raise SystemExit(f"--hf {out} already exists and is not empty; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"--hf {out} is a file, not a folder")
    ckpt = resolve_any(checkpoint)
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {checkpoint}: train one with `python -m model.train`")
    config = GPTConfig.load(ckpt / "config.json")
    reason = unsupported_reason(config)
    if reason:
        raise SystemExit(f"cannot export {ckpt}: {reason}")
    try:
        tokenizer_file = find_tokenizer(ckpt)
        tok = load_tokenizer(tokenizer_file)
        eot = eot_id(tok)
        model = load_model(ckpt, "cpu").float().eval()
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f"--checkpoint {checkpoint}: {e}") from None
    if tok.get_vocab_size() > config.vocab_size:
        raise SystemExit(f"{tokenizer_file} has {tok.get_vocab_size()} tokens but the model only "
                         f"{config.vocab_size} embedding rows")

    hf = build_hf_model(model, eot, tok.get_vocab_size(), DTYPES[dtype])
    del model
    out.parent.mkdir(parents=True, exist_ok=True)
    stale = temp_name(out)
    if stale.exists():  # an earlier export of this process id that failed midway
        shutil.rmtree(stale)
    with atomic_dir(out) as tmp:
        try:
            write_hf_folder(tmp, hf, hf_tokenizer(tokenizer_file, config.block_size))
            # The model card names the final folder, not the temporary one.
            (tmp / README_FILE).write_text(model_card(ckpt, config, out, dtype, eot, tok.get_vocab_size()), encoding="utf-8")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out


def write_hf_folder(folder: Path, hf_model, tokenizer) -> None:
    """`save_pretrained` of model and tokenizer into `folder` (safetensors), without progress bars."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a bar for writing one small file is noise in a log
    try:
        hf_model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    # transformers 5 names the class "TokenizersBackend", which 4.x does not know; both know it as
    # PreTrainedTokenizerFast (5 keeps that name as an alias), and the pyproject allows either.
    tokenizer_config = folder / TOKENIZER_CONFIG_FILE
    spec = json.loads(tokenizer_config.read_text(encoding="utf-8"))
    spec["tokenizer_class"] = "PreTrainedTokenizerFast"
    tokenizer_config.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> Path:
    cfg = ExportConfig(**vars(build_parser().parse_args(argv)))
    out = export_hf(cfg.checkpoint, cfg.hf, cfg.dtype, cfg.overwrite)
    print(f"wrote {out} ({cfg.dtype}); load it with transformers: "
          f"AutoModelForCausalLM.from_pretrained({str(out)!r}), AutoTokenizer.from_pretrained({str(out)!r})",
          flush=True)
    return out


if __name__ == "__main__":
    run_cli(main, build_parser())
    sys.exit(0)
