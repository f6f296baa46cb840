"""How a training run starts, saves and stops: which checkpoint to resume, refusing to overwrite
another run, the clock of time-triggered saves, and Ctrl-C / SIGTERM as "save and stop"."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from model.checkpoint import STATE_FILE, list_checkpoints, load_train_state, resolve_checkpoint


def find_resume_checkpoint(resume: str | None, out: Path) -> Path | None:
    """The checkpoint folder to continue, per --resume (None: start fresh)."""
    if resume is None:
        return None
    if resume in ("latest", "auto"):
        ckpt = resolve_checkpoint(out)
        if ckpt is None and resume == "latest":
            raise SystemExit(f"--resume: no checkpoint ({STATE_FILE}) in {out}; use --resume auto to start "
                             "fresh when there is none")
        if ckpt is not None and load_train_state(ckpt) is None:
            raise SystemExit(f"--resume: {ckpt} has weights but no {STATE_FILE}; it cannot be continued")
        return ckpt
    ckpt = resolve_checkpoint(resume)
    if ckpt is None or load_train_state(ckpt) is None:
        raise SystemExit(f"--resume {resume}: not a checkpoint folder (no {STATE_FILE})")
    return ckpt


def refuse_to_replace(out: Path, resumed: Path | None, overwrite: bool) -> None:
    """Stop a run whose `out` holds checkpoints of another run: its first save would delete them
    (maybe days of work). That is a fresh run, or one resumed from a checkpoint outside `out`;
    `--overwrite` says it is intended, `--resume` continues them instead. (Resuming an older checkpoint
    of `out` itself is a deliberate branch: the newer ones are replaced, as the log says.)"""
    found = list_checkpoints(out)
    if not found or overwrite:
        return
    if resumed is not None and resumed.resolve().parent == out.resolve():
        return
    names = ", ".join(p.name for _, p in found[-3:]) + (", ..." if len(found) > 3 else "")
    run = "a fresh run" if resumed is None else f"a run resumed from {resumed}"
    raise SystemExit(
        f"{out} already holds {len(found)} checkpoint(s) of another run ({names}) and {run} would replace "
        "them at its first save: continue them with --resume (or --resume auto), train into another --out, "
        "or pass --overwrite to replace them"
    )

class SaveTimer:
    """When `--save-every-minutes` have passed since the run started or last saved (0: never).

    Only the decision of *when* to save depends on the clock; a save changes no training state (the
    data position and RNG are read, not advanced), so a run with time-triggered saves computes exactly
    what one without them does, and a run resumed from one of them continues it exactly.
    """

    def __init__(self, minutes: float, clock: Callable[[], float]) -> None:
        self.interval = minutes * 60.0
        self.clock = clock
        self.last = clock() if self.interval > 0 else 0.0

    def due(self) -> bool:
        return self.interval > 0 and self.clock() - self.last >= self.interval

    def restart(self) -> None:
        if self.interval > 0:
            self.last = self.clock()

class StopRequest:
    """Turns the first SIGINT/SIGTERM into a flag checked between steps, so the run can save cleanly."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. called from a test runner thread)
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # second signal: give up at once
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("stop requested: finishing this step and saving a checkpoint (again to abort)")

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
