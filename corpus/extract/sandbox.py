"""A child process per worker that runs the extraction engine, so that a page that takes too long
can be killed: a real per-document time limit."""

from __future__ import annotations

import logging
import multiprocessing as mp

from corpus.extract.engines import ExtractionConfig, extract_text

log = logging.getLogger(__name__)


class ExtractionTimeout(Exception):
    pass


def _sandbox_loop(conn, config: ExtractionConfig) -> None:
    """Child process: extract whatever arrives until the parent closes the pipe."""
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    while True:
        try:
            html, url = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", extract_text(html, url, config)))
        except Exception as err:  # reported to the parent, which counts it
            conn.send(("error", f"{type(err).__name__}: {err}"))


class ExtractionSandbox:
    """Runs extraction in a child process so that a pathological page can be killed.

    A signal-based alarm cannot interrupt lxml's C code, and a thread cannot be killed at all;
    a process can. The child lives for the whole run, so the cost is one pipe round trip per page.
    """

    def __init__(self, config: ExtractionConfig) -> None:
        self.config = config
        self._ctx = mp.get_context("spawn")  # no inherited threads or locks from the parent
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_sandbox_loop, args=(child, self.config), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def extract(self, html: str | bytes, url: str | None) -> str | None:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send((html, url))
        if not self._conn.poll(self.config.timeout_s):
            self.close()
            raise ExtractionTimeout(f"no result after {self.config.timeout_s}s")
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as err:  # the child died (killed, out of memory)
            self.close()
            raise RuntimeError(f"extraction process died: {err!r}") from err
        if status == "error":
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        """Stop the child; the next `extract` starts a new one."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
            self._proc = self._conn = None


_SANDBOXES: dict[str, ExtractionSandbox] = {}


def shared_sandbox(config: ExtractionConfig) -> ExtractionSandbox:
    """This process's sandbox for `config`, kept across inputs: starting a child costs 0.4-0.6 s
    of CPU (it imports trafilatura), 10-20% of a run's time when spawned for every input file.
    A daemon child, it ends with its worker process; `close_sandboxes` ends it sooner."""
    key = repr(config)
    if key not in _SANDBOXES:
        _SANDBOXES[key] = ExtractionSandbox(config)
    return _SANDBOXES[key]


def close_sandboxes() -> None:
    """Stop this process's extraction children (at the end of a map stage run in-process)."""
    for sandbox in _SANDBOXES.values():
        sandbox.close()
    _SANDBOXES.clear()
