"""Which executor a pipeline runs its stages on: `--engine local|ray`, `--ray-address`.

A recipe nests `executor: ExecutorConfig` in its config dataclass (flags come from
`corpus.cli_flags`) and builds the executor with `make_executor`. These settings say where the
work runs, never what it produces: recipes keep them out of their parts' fingerprints, so a run
restarted on the other engine reuses every finished part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.cli_flags import flag
from corpus.errors import UserError
from corpus.executor.base import Executor
from corpus.executor.local import LocalExecutor

ENGINE = "engine: where the stages run"
ENGINES = ("local", "ray")


@dataclass
class ExecutorConfig:
    """The engine and, for Ray, the cluster to join."""

    engine: str = field(default="local", metadata=flag(
        "local: --workers processes on this machine; ray: Ray tasks on a cluster (pip install 'webtext[ray]'; "
        "needs a filesystem every node mounts at the same paths)", name="--engine", choices=list(ENGINES),
        group=ENGINE))
    ray_address: str | None = field(default=None, metadata=flag(
        "Ray cluster to join: HOST:6379, auto, or ray://HOST:10001 (default: $RAY_ADDRESS, else a new "
        "Ray on this machine with --workers CPUs)", name="--ray-address", metavar="ADDRESS", group=ENGINE))


def make_executor(config: ExecutorConfig, workers: int, show_progress: bool = True) -> Executor:
    """The executor `config` asks for; `workers` is the local pool's size, or the CPUs of a Ray
    started on this machine (a cluster brings its own)."""
    if config.engine not in ENGINES:
        raise UserError(f"--engine {config.engine}: not one of {', '.join(ENGINES)}")
    if config.engine == "local":
        if config.ray_address:
            raise UserError("--ray-address is for --engine ray")
        return LocalExecutor(workers, show_progress)
    from corpus.executor.ray import RayExecutor  # Ray is optional: imported only when asked for

    return RayExecutor(config.ray_address, workers, show_progress)
