"""Checkpoints as plain files in one folder, loadable without unpickling anything.

    config.json        GPTConfig
    model.safetensors  weights (the LM head is tied to `transformer.wte.weight`, so it is stored once)
    train_state.json   step, tokens seen, data-loader position, run arguments
    optimizer.pt       AdamW state + torch RNG state (only if saved); read with torch.load(weights_only=True)
    tokenizer.json     written by the trainer, not here

Every file is written to a temporary name and renamed into place (`os.replace` is atomic on POSIX),
so a crash leaves either the old file or the new one. The files of one checkpoint are replaced one
after the other; each records its step, and `load_train_state` refuses a folder whose files disagree.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from model.config import GPTConfig
from model.gpt import GPT

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "train_state.json"
OPTIMIZER_FILE = "optimizer.pt"
# Parameters that share storage with another one and are therefore not written.
TIED = {"lm_head.weight": "transformer.wte.weight"}


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` via a temporary file + rename, fsynced so it survives a power cut."""
    path = Path(path)
    tmp = _tmp_path(path)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_weights(model: GPT, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Save the model's weights as safetensors, each shared tensor once."""
    path = Path(path)
    state = {
        k: v.detach().to("cpu").contiguous()
        for k, v in model.state_dict().items()
        if k not in TIED
    }
    meta = {"format": "pt", "tied": json.dumps(TIED), **(metadata or {})}
    tmp = _tmp_path(path)
    save_file(state, str(tmp), metadata=meta)
    os.replace(tmp, path)


def weights_metadata(path: str | Path) -> dict[str, str]:
    """The string metadata stored in a safetensors file header."""
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_model(ckpt_dir: str | Path, device: str | torch.device = "cpu") -> GPT:
    """Build a `GPT` from `config.json` + `model.safetensors` in `ckpt_dir` (no pickle involved).

    The model is created on the meta device and the loaded tensors are assigned to it, so no
    memory is spent on a random initialisation that is thrown away.
    """
    ckpt_dir = Path(ckpt_dir)
    config = GPTConfig.load(ckpt_dir / CONFIG_FILE)
    with torch.device("meta"):
        model = GPT(config)
    state = load_file(str(ckpt_dir / WEIGHTS_FILE), device=str(device))
    result = model.load_state_dict(state, strict=False, assign=True)
    missing = set(result.missing_keys) - set(TIED)
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{ckpt_dir / WEIGHTS_FILE} does not match config.json: "
            f"missing {sorted(missing)}, unexpected {sorted(result.unexpected_keys)}"
        )
    model.tie_weights()  # assign=True replaced wte's Parameter; point the head at the new one
    return model.to(device)


def save_checkpoint(
    ckpt_dir: str | Path,
    model: GPT,
    train_state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write config, weights, optional optimizer state, then the training state (last, as the commit).

    `train_state` must be JSON-serialisable and hold the integer `step`.
    """
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    step = str(int(train_state["step"]))
    atomic_write_text(ckpt_dir / CONFIG_FILE, json.dumps(model.config.to_dict(), indent=2) + "\n")
    save_weights(model, ckpt_dir / WEIGHTS_FILE, metadata={"step": step})
    if optimizer is not None:
        tmp = _tmp_path(ckpt_dir / OPTIMIZER_FILE)
        # Only tensors, numbers, strings, lists and dicts: loadable with weights_only=True.
        torch.save({"step": int(step), "optimizer": optimizer.state_dict(),
                    "torch_rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, ckpt_dir / OPTIMIZER_FILE)
    atomic_write_text(ckpt_dir / STATE_FILE, json.dumps(train_state, indent=2) + "\n")
    return ckpt_dir


def load_train_state(ckpt_dir: str | Path) -> dict[str, Any] | None:
    """The saved training state, or None if `ckpt_dir` holds no checkpoint.

    Raises if the weights were written at a different step than the state (an interrupted save).
    """
    ckpt_dir = Path(ckpt_dir)
    if not (ckpt_dir / STATE_FILE).is_file():
        return None
    state = json.loads((ckpt_dir / STATE_FILE).read_text())
    weights_step = weights_metadata(ckpt_dir / WEIGHTS_FILE).get("step")
    if weights_step is not None and int(weights_step) != int(state["step"]):
        raise ValueError(
            f"{ckpt_dir}: weights are from step {weights_step} but {STATE_FILE} says step "
            f"{state['step']} (a save was interrupted); cannot resume consistently"
        )
    return state


def load_optimizer_state(ckpt_dir: str | Path) -> dict[str, Any] | None:
    """The saved optimizer + RNG state, or None. Uses `torch.load(weights_only=True)`: no code runs.

    Tensors come back on the CPU; `Optimizer.load_state_dict` moves them to the parameters' device.
    """
    path = Path(ckpt_dir) / OPTIMIZER_FILE
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)
