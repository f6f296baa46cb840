"""Checkpoints as plain files, loadable without unpickling anything.

A training run's `--out` folder:

    out/latest              "ckpt-000300": the name of the newest complete checkpoint
    out/ckpt-000300/        one folder per saved step (the last `--keep-last` are kept)
        config.json         GPTConfig
        model.safetensors   weights (the LM head is tied to `transformer.wte.weight`, so it is stored once)
        train_state.json    step, tokens seen, data-loader position, run arguments
        optimizer.pt        AdamW state + RNG states; read with torch.load(weights_only=True)
        tokenizer.json      a copy of the run's tokenizer, so the folder stands alone
    out/tokenizer.json, metrics.jsonl, loss.png, tensorboard/

A step folder is written under a temporary name and renamed into place when complete, then `latest`
is replaced (each an atomic rename on POSIX; see `corpus.writers.atomic`), so a crash leaves the previous
checkpoint as the latest and at most a `.ckpt-*.tmp-*` folder, which the next save removes. Inside a
folder each file also records its step, and `load_train_state` refuses a folder whose files disagree.
Everything that reads a checkpoint (`load_model`, `model.sample --checkpoint`) accepts either a step
folder or the run folder (then `latest` is followed); a folder with the files at its top level (the
layout before step folders) still loads.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from corpus.writers.atomic import atomic_dir, atomic_path, atomic_write_text
from model.config import GPTConfig
from model.gpt import GPT

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "train_state.json"
OPTIMIZER_FILE = "optimizer.pt"
LATEST_FILE = "latest"
SHARDED_WEIGHTS_DIR = "model_dcp"  # --fsdp: each rank's shards of the weights (torch.distributed.checkpoint)
CKPT_PREFIX = "ckpt-"
_CKPT_RE = re.compile(r"^ckpt-(\d+)$")
# Parameters that share storage with another one and are therefore not written.
TIED = {"lm_head.weight": "transformer.wte.weight"}


def save_weights(model: GPT, path: str | Path, metadata: dict[str, str] | None = None,
                 weights: dict[str, torch.Tensor] | None = None) -> None:
    """Save the model's weights (or `weights`, e.g. gathered from FSDP shards) as safetensors, each shared
    tensor once."""
    path = Path(path)
    state = {
        k: v.detach().to("cpu").contiguous()
        for k, v in (weights if weights is not None else model.state_dict()).items()
        if k not in TIED
    }
    meta = {"format": "pt", "tied": json.dumps(TIED), **(metadata or {})}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)


def weights_metadata(path: str | Path) -> dict[str, str]:
    """The string metadata stored in a safetensors file header."""
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_model(ckpt_dir: str | Path, device: str | torch.device = "cpu") -> GPT:
    """Build a `GPT` from `config.json` + `model.safetensors` in `ckpt_dir` (no pickle involved), or from
    the sharded weights in `model_dcp/` when the folder has no consolidated file (an `--fsdp` checkpoint
    saved with `--consolidate last`).

    The model is created on the meta device and the loaded tensors are assigned to it, so no
    memory is spent on a random initialisation that is thrown away.
    """
    ckpt_dir = resolve_checkpoint(ckpt_dir) or Path(ckpt_dir)
    config = GPTConfig.load(ckpt_dir / CONFIG_FILE)
    with torch.device("meta"):
        model = GPT(config)
    if not (ckpt_dir / WEIGHTS_FILE).is_file() and (ckpt_dir / SHARDED_WEIGHTS_DIR).is_dir():
        return _load_sharded_weights(model, ckpt_dir / SHARDED_WEIGHTS_DIR, device)
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


def _load_sharded_weights(model: GPT, folder: Path, device: str | torch.device) -> GPT:
    """Read a DCP folder of weight shards (any world size wrote it) into one whole model, in this process:
    DCP reshards into plain tensors, no process group needed."""
    import torch.distributed.checkpoint as dcp  # here: the other readers never need torch.distributed

    model.to_empty(device=device)
    model.tie_weights()
    with warnings.catch_warnings():  # "assuming the intent is to load in a single process": it is
        warnings.filterwarnings("ignore", message=".*single process", category=UserWarning)
        dcp.load({"model": model.state_dict()}, checkpoint_id=str(folder), no_dist=True)
    return model


def save_checkpoint(
    ckpt_dir: str | Path,
    model: GPT,
    train_state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
    rng_states: dict[str, Any] | None = None,
    weights: dict[str, torch.Tensor] | None = None,
    write_weights: bool = True,
) -> Path:
    """Write config, weights, optional optimizer state, then the training state (last, as the commit)
    into `ckpt_dir` itself (see `save_step_checkpoint` for the step-folder layout).

    `train_state` must be JSON-serialisable and hold the integer `step`. `rng_states` (tensors) go
    into `optimizer.pt`; by default this process's torch RNG state as `torch_rng`. `write_weights`
    False: no model.safetensors (a sharded checkpoint whose weights are only in `model_dcp/`).
    """
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    step = str(int(train_state["step"]))
    model.config.save(ckpt_dir / CONFIG_FILE)
    if write_weights:
        save_weights(model, ckpt_dir / WEIGHTS_FILE, metadata={"step": step}, weights=weights)
    if optimizer is not None or rng_states is not None:
        # Only tensors, numbers, strings, lists and dicts: loadable with weights_only=True. A sharded
        # (FSDP) run passes no optimizer: its state is in optimizer_dcp/ (model.fsdp).
        rng = rng_states if rng_states is not None else {"torch_rng": torch.get_rng_state()}
        opt = {"optimizer": optimizer.state_dict()} if optimizer is not None else {}
        with atomic_path(ckpt_dir / OPTIMIZER_FILE) as tmp:
            torch.save({"step": int(step), **opt, **rng}, tmp)
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
    if not (ckpt_dir / WEIGHTS_FILE).is_file():  # a download without the full weights (a sharded resume)
        return state
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


# --- step folders, the `latest` pointer, keep-last-k ---


def step_dir_name(step: int) -> str:
    return f"{CKPT_PREFIX}{step:06d}"


def list_checkpoints(out: str | Path) -> list[tuple[int, Path]]:
    """Complete step folders in `out` (those with a train_state.json), sorted by step."""
    out = Path(out)
    if not out.is_dir():
        return []
    found = []
    for p in out.iterdir():
        m = _CKPT_RE.match(p.name)
        if m and p.is_dir() and (p / STATE_FILE).is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def resolve_checkpoint(path: str | Path) -> Path | None:
    """The checkpoint folder that `path` designates, or None if there is none.

    `path` may be a step folder, or a run folder: then the folder named in `latest` (falling back to
    the highest step folder if the pointer is missing or stale), or the run folder itself when it
    holds the files directly (the layout before step folders).
    """
    path = Path(path)
    if not path.is_dir():
        return None
    pointer = path / LATEST_FILE
    if pointer.is_file():
        target = path / pointer.read_text(encoding="utf-8").strip()
        if (target / STATE_FILE).is_file() or (target / CONFIG_FILE).is_file():
            return target
    steps = list_checkpoints(path)
    if steps:
        return steps[-1][1]
    if (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file():
        return path
    return None


def save_step_checkpoint(
    out: str | Path,
    model: GPT,
    train_state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
    rng_states: dict[str, Any] | None = None,
    extra_files: list[Path] = (),
    keep_last: int = 0,
    remove: list[Path] = (),
    weights: dict[str, torch.Tensor] | None = None,
    extra_dirs: list[Path] = (),
    write_weights: bool = True,
) -> Path:
    """Write `out/ckpt-<step>/` atomically, point `out/latest` at it, then prune.

    `extra_files` are copied in (the tokenizer), `extra_dirs` moved in (a sharded optimizer state that all
    ranks wrote next to it). Afterwards the folders in `remove` are deleted
    (checkpoints of an earlier run that this one replaces), and with `keep_last` > 0 only the newest
    `keep_last` step folders stay.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(f".{CKPT_PREFIX}*.tmp-*"):  # left by a crash during an earlier save
        shutil.rmtree(stale, ignore_errors=True)
    name = step_dir_name(int(train_state["step"]))
    final = out / name
    # Saving a step that already exists (e.g. a fresh run over an old one) swaps the old folder out.
    with atomic_dir(final) as tmp:
        save_checkpoint(tmp, model, train_state, optimizer, rng_states, weights, write_weights)
        for f in extra_files:
            shutil.copy2(f, tmp / Path(f).name)
        for d in extra_dirs:
            shutil.move(str(d), str(tmp / Path(d).name.rsplit(".", 1)[-1]))
    atomic_write_text(out / LATEST_FILE, name + "\n")
    for p in remove:
        if p.resolve() != final.resolve():
            shutil.rmtree(p, ignore_errors=True)
    if keep_last > 0:
        for _, p in list_checkpoints(out)[:-keep_last]:
            if p.resolve() != final.resolve():
                shutil.rmtree(p, ignore_errors=True)
    return final
