"""Progress bars that suit where the output goes.

On a terminal: a live tqdm bar. Into a file or a pipe (a log, CI, a scheduler): the same bar at most
once a minute, so a long run logs a few hundred lines, not millions. Switched off by `--no-progress`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

LOG_INTERVAL_S = 60.0


def progress(iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any) -> tqdm:
    """`tqdm(iterable, **kwargs)`, quiet when `enabled` is False, throttled when stderr is not a TTY."""
    if not enabled:
        kwargs["disable"] = True
    elif not sys.stderr.isatty():
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
        kwargs.setdefault("maxinterval", LOG_INTERVAL_S * 10)  # tqdm's own "monitor" must not speed it up
        kwargs.setdefault("ascii", True)
    return tqdm(iterable, **kwargs)
