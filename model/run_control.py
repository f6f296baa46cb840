"""How a training run starts, saves and stops: refusing to overwrite another run's checkpoints, the clock
of time-triggered saves, and Ctrl-C / SIGTERM as "save and stop". (Which checkpoint to resume:
`model.checkpoint_store.find_resume`.)"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from model.checkpoint_store import CheckpointStore, Resumed


def refuse_to_replace(store: CheckpointStore, resumed: Resumed | None, overwrite: bool) -> None:
    """Stop a run whose checkpoint store holds checkpoints of another run: its first save would delete them
    (maybe days of work). That is a fresh run, or one resumed from a checkpoint in another store;
    `--overwrite` says it is intended, `--resume` continues them instead. (Resuming an older checkpoint
    of the same store is a deliberate branch: the newer ones are replaced, as the log says.)"""
    found = store.list()
    if not found or overwrite:
        return
    if resumed is not None and resumed.store.same_as(store):
        return
    names = ", ".join(name for _, name in found[-3:]) + (", ..." if len(found) > 3 else "")
    run = "a fresh run" if resumed is None else f"a run resumed from {resumed.store.location_of(resumed.name)}"
    raise SystemExit(
        f"{store.location} already holds {len(found)} checkpoint(s) of another run ({names}) and {run} would "
        "replace them at its first save: continue them with --resume (or --resume auto), train into another "
        "--out / --checkpoint-dir, or pass --overwrite to replace them"
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
