"""Retry with exponential backoff: the one definition used by every network loop in the library.

    policy = BackoffPolicy(retries=5, base=1.0)          # 6 attempts, waits 1, 2, 4, 8, 16 s
    result = retry_call(attempt, policy)                 # or: await retry_call_async(attempt, policy)

`attempt(n)` is called with the attempt's number (1, 2, ...) and returns either its result or a
`Retry`: "this failed, but may pass if asked again", with the server's own wait (Retry-After)
if it named one. Exceptions that `attempt` lets out are not retried; they end the call as they
are. So each caller keeps its own view of what is transient (an HTTP status, a praw exception,
a dropped connection) and what giving up means to it (an `OSError`, a `HarvestError`, a failure
record): it catches `GaveUp`, which carries the last `Retry` and the number of attempts.

Retry n (n = 0, 1, ...) waits `base * 2**n` seconds, or what the server asked for. A wait
longer than `max_wait` is cut to `max_wait` (`long_wait="clamp"`), or gives up at once
(`long_wait="give_up"`: a crawler should not sit for an hour on one URL; the next run retries).

Why not tenacity: it was evaluated first and covers all three loops, but the page fetcher does
not retry on exceptions: `_attempt` returns a `Retry` value, and a Retry-After over
`max_retry_after` must give up with its own failure detail. In tenacity that is a
`retry_if_result` predicate, a wait callback that digs the Retry-After out of the call state, a
custom stop that reads `upcoming_sleep` (set by the wait only since tenacity 8.3), a
`retry_error_callback` that works out again why it stopped, and a `nonlocal` counter for
`Exchange.attempts`; and an `AsyncRetrying` costs ~40 us per request on the crawler's hot path,
against ~1.5 us for `retry_call_async`. The loop below is the whole idea in a few lines, and
needs no new dependency.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")


@dataclass
class Retry:
    """An attempt that failed but may pass if repeated: why, and the server's own wait, if any."""

    reason: Any                 # what the caller needs to report it: an exception, a Failure, a phrase
    wait: float | None = None   # seconds the server asked for (Retry-After); None: the policy's backoff


class GaveUp(Exception):
    """No more attempts: the last failed one, how many were made, and the wait that was refused."""

    def __init__(self, last: Retry, attempts: int, refused_wait: float | None = None) -> None:
        self.last = last
        self.attempts = attempts
        self.refused_wait = refused_wait  # set when a wait longer than max_wait ended it early
        why = f"the next wait, {refused_wait:.1f}s, is too long" if refused_wait is not None else "no retries left"
        super().__init__(f"gave up after {attempts} attempt{'s' * (attempts != 1)} ({why}): {last.reason}")

    @property
    def reason(self) -> Any:
        return self.last.reason


@dataclass(frozen=True)
class BackoffPolicy:
    """How often and how patiently to retry: `retries + 1` attempts, waits `base * 2**n`."""

    retries: int = 5
    base: float = 1.0
    max_wait: float = math.inf
    long_wait: Literal["clamp", "give_up"] = "clamp"  # what a wait over max_wait does

    @property
    def attempts(self) -> int:
        return max(self.retries, 0) + 1

    def wait_after(self, attempt: int, failed: Retry) -> float:
        """Seconds to wait after failed attempt number `attempt` (from 1); raises `GaveUp` instead
        when it was the last attempt, or when the wait is over `max_wait` and that gives up."""
        if attempt >= self.attempts:
            raise GaveUp(failed, attempt)
        wait = failed.wait if failed.wait is not None else self.base * 2 ** (attempt - 1)
        if wait > self.max_wait:
            if self.long_wait == "give_up":
                raise GaveUp(failed, attempt, refused_wait=wait)
            wait = self.max_wait
        return wait

    def delays(self) -> Iterator[float]:
        """The waits between attempts when no server names its own: base, 2 base, 4 base, ..."""
        for attempt in range(1, self.attempts):
            try:
                yield self.wait_after(attempt, Retry(None))
            except GaveUp:
                return


# Called before each wait: the failed attempt's Retry, the wait in seconds, the attempt's number.
OnRetry = Callable[[Retry, float, int], None]


def retry_call(attempt: Callable[[int], T | Retry], policy: BackoffPolicy, *,
               sleep: Callable[[float], Any] | None = None, on_retry: OnRetry | None = None) -> T:
    """`attempt(1)`, `attempt(2)`, ... until one returns something other than a `Retry`, waiting
    between them as `policy` says; `GaveUp` when the policy says stop. `sleep`: time.sleep."""
    sleep = time.sleep if sleep is None else sleep
    number = 1
    while True:
        result = attempt(number)
        if not isinstance(result, Retry):
            return result
        wait = policy.wait_after(number, result)
        if on_retry is not None:
            on_retry(result, wait, number)
        sleep(wait)
        number += 1


async def retry_call_async(attempt: Callable[[int], Awaitable[T | Retry]], policy: BackoffPolicy, *,
                           sleep: Callable[[float], Awaitable[Any]] | None = None,
                           on_retry: OnRetry | None = None) -> T:
    """`retry_call` for coroutines: the same policy, waiting with `asyncio.sleep` (or `sleep`)."""
    sleep = asyncio.sleep if sleep is None else sleep
    number = 1
    while True:
        result = await attempt(number)
        if not isinstance(result, Retry):
            return result
        wait = policy.wait_after(number, result)
        if on_retry is not None:
            on_retry(result, wait, number)
        await sleep(wait)
        number += 1
