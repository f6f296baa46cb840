"""The Ray executor: map stages as Ray tasks, on this machine or across a cluster of many.

The same two methods as `LocalExecutor`, over the same parts and markers: each task runs
`process_input` (or the file stage's `fn`) exactly as a local worker would, so the parts, the
`.done.json` markers and the published output do not depend on the engine, nor on how many
workers or nodes there are, nor on which of them ran what. A restarted driver (the same command,
run again) skips every input with a marker, whichever engine wrote it.

Faults: a task whose worker process dies, or whose node is lost, is retried by Ray
(`max_retries`); so is one that fails with an `OSError` (a flaky network filesystem or object
store). A retry starts its input from scratch: `process_input` first removes what a killed
attempt left of its part. Any other error is the input's own (a bug, a bad setting): it is not
retried, the tasks in flight are let finish (their markers keep their work), and the error is
raised as the local engine raises it.

Paths: a **shared filesystem** is assumed. Every node must see the inputs, the work folder and
the driver's working directory at the same paths as the driver (NFS or Lustre mounted alike on
each node, or the same bind mount in every container of `docker-compose.yml`), and run the same
installation of webtext. Inputs over http(s) or s3:// already work, since each task opens its
input itself (`corpus.readers.inputs.open_input`). A work folder on s3:// would need more than
this module: parts, markers and `fingerprint.json` written through fsspec (`ShardWriter`,
`atomic_write_json` and the clean-up of a killed attempt take local paths today), and, since an
object store has no atomic rename, the marker written last as the commit of its part (a reader
trusting only parts that have one) instead of the rename of a temporary file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from corpus.errors import UserError
from corpus.executor.base import (
    Executor,
    FileTask,
    MapTask,
    PartResult,
    discard_stale_parts,
    pending_files,
    process_input,
    split_done,
)
from corpus.progress import progress

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'webtext[ray]'"
# Errors worth another attempt on another worker: I/O on a shared filesystem or an object store.
# A bug or a bad setting fails the same way every time, so those are raised at once.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError,)


def import_ray() -> Any:
    """The `ray` module, or a one-line `UserError` saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise UserError(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}") from err
    return ray


def run_in(cwd: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(*args)` in the driver's working directory (the body of every Ray task).

    Inputs and work folders may be relative paths, and part keys are made from the input's
    string as given, so a task resolves them where the driver does instead of rewriting them.
    """
    if os.getcwd() != cwd:
        if not os.path.isdir(cwd):
            raise UserError(f"the driver's folder {cwd} does not exist on this node: the ray engine "
                            "needs the same shared filesystem at the same paths on every node")
        os.chdir(cwd)
    return fn(*args)


class RayExecutor(Executor):
    """Map stages as Ray tasks: one task per input (or file pair), a bounded number in flight.

    `address` names the cluster to join: `host:6379`, `auto` (the cluster `ray start` began on
    this machine) or `ray://host:10001` (Ray Client). Without one, the executor uses the Ray this
    process already started (`ray.init`), else `$RAY_ADDRESS` (set by `ray job submit`), else
    starts Ray on this machine with `workers` CPUs. The cluster's CPUs, not `workers`, then decide
    how many tasks run at once. `max_in_flight` bounds the tasks submitted and not yet finished
    (default: twice the tasks the cluster can run at once), so a stage of 90,000 inputs keeps a
    few hundred task specifications in Ray, not 90,000, and a driver's memory stays flat.
    """

    def __init__(self, address: str | None = None, workers: int = 1, show_progress: bool = True,
                 max_retries: int = 3, max_in_flight: int | None = None, cpus_per_task: float = 1.0) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self.address = address
        self.workers = workers
        self.show_progress = show_progress
        self.max_retries = max_retries
        self.max_in_flight = max_in_flight
        self.cpus_per_task = cpus_per_task
        self._remote: Any = None

    def map_stage(self, task: MapTask, inputs: Sequence[str], work_dir: Path, desc: str = "inputs",
                  fingerprint: dict[str, Any] | None = None) -> list[PartResult]:
        parts_dir = discard_stale_parts(work_dir, fingerprint)
        results, todo = split_done(parts_dir, inputs)
        if todo:
            ray = self._connect()
            task_ref = ray.put(task)  # shipped once, not once per input

            def store(path: str, result: PartResult) -> None:
                results[path] = result

            self._run(lambda path: (process_input, task_ref, path, parts_dir), todo, desc, store)
        return [results[path] for path in inputs]

    def file_stage(self, fn: FileTask, pairs: Sequence[tuple[Any, Path]], desc: str = "files") -> None:
        todo = pending_files(pairs)
        if todo:
            fn_ref = self._connect().put(fn)
            self._run(lambda pair: (fn_ref, *pair), todo, desc, lambda pair, _: None)

    def _connect(self) -> Any:
        """The `ray` module, initialised: joined to `address`, reused, or started here."""
        ray = import_ray()
        if ray.is_initialized():
            if self.address:
                log.info("Ray is already initialised in this process: using it, not --ray-address %s",
                         self.address)
        elif self.address:
            log.info("joining the Ray cluster at %s", self.address)
            ray.init(address=self.address)
        elif os.environ.get("RAY_ADDRESS"):
            ray.init()  # ray reads the address itself; a CPU count may not be given to an existing cluster
        else:
            # A dashboard costs seconds of start-up; who wants one starts `ray start --head` and passes
            # --ray-address auto.
            ray.init(num_cpus=self.workers, include_dashboard=False)
        if self._remote is None:
            self._remote = ray.remote(run_in).options(
                num_cpus=self.cpus_per_task, max_retries=self.max_retries,
                retry_exceptions=list(TRANSIENT_ERRORS),
                # No data locality to keep (a shared filesystem): spread the tasks over the nodes.
                scheduling_strategy="SPREAD")
        return ray

    def _in_flight_limit(self, ray: Any) -> int:
        if self.max_in_flight is not None:
            return self.max_in_flight
        slots = int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_task)
        return 2 * max(1, slots)  # a queued task per slot, so no CPU waits on the driver

    def _run(self, args_of: Callable[[Any], tuple], items: Sequence[Any], desc: str,
             on_result: Callable[[Any, Any], None]) -> None:
        """Submit `run_in(cwd, *args_of(item))` for every item, at most the in-flight limit at once,
        and hand each result to `on_result` as it arrives (in completion order)."""
        ray = import_ray()
        cwd = os.getcwd()
        limit = self._in_flight_limit(ray)
        pending: dict[Any, Any] = {}  # ObjectRef -> item
        queue = iter(items)
        failure: BaseException | None = None
        bar = progress(total=len(items), enabled=self.show_progress and len(items) > 1, desc=desc, unit="file")
        try:
            while True:
                while failure is None and len(pending) < limit:
                    item = next(queue, _END)
                    if item is _END:
                        break
                    pending[self._remote.remote(cwd, *args_of(item))] = item
                if not pending:
                    break
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    item = pending.pop(ref)
                    try:
                        value = ray.get(ref)
                    except Exception as err:  # the first is raised once the tasks in flight are done
                        log.error("%s: %s failed: %s", desc, _name(item), type(err).__name__)
                        failure = failure or _unwrap(ray, err, item)
                        continue
                    on_result(item, value)
                    bar.update(1)
        except BaseException:
            # Interrupted (Ctrl-C) or broken driver: stop the tasks of this stage; the finished ones
            # have their markers and a rerun resumes from them.
            for ref in pending:
                ray.cancel(ref)
            raise
        finally:
            bar.close()
        if failure is not None:
            raise failure


_END = object()


def _name(item: Any) -> str:
    return str(item[0] if isinstance(item, tuple) else item)


def _unwrap(ray: Any, err: Exception, item: Any) -> BaseException:
    """The task's own exception (a `UserError` stays one, as with the local engine), naming its input."""
    cause = getattr(err, "cause", None) if isinstance(err, ray.exceptions.RayTaskError) else None
    found: BaseException = cause if isinstance(cause, BaseException) else err
    found.add_note(f"in the Ray task for {_name(item)}")
    if found is not err:
        found.__cause__ = err  # keep the remote traceback that Ray recorded
    return found
