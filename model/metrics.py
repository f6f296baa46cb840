"""Where training numbers go: `metrics.jsonl` (always), TensorBoard (when installed), a loss-curve PNG
(when matplotlib is installed). Both packages are optional: training never needs them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from corpus.writers.atomic import atomic_path, atomic_write_text

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "loss.png"
TENSORBOARD_DIR = "tensorboard"


def tensorboard_available() -> bool:
    """torch.utils.tensorboard needs the separate `tensorboard` package."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class MetricsLog:
    """Appends one JSON object per line; flushed each time so `tail -f` and crashes lose nothing.

    On resume, records after the resumed step (logged by the interrupted run after its last
    checkpoint) are dropped first, so the file holds one record per step, as an uninterrupted run's.
    """

    def __init__(self, path: Path, resume_step: int | None = None) -> None:
        self.path = path
        if resume_step is not None and path.is_file():
            keep = [r for r in read_metrics(path) if r.get("step", 0) <= resume_step]
            atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in keep))
            self._f = open(path, "a", encoding="utf-8")
        else:
            self._f = open(path, "w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._f.write(json.dumps(record) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


class TensorBoardLog:
    """Scalars for TensorBoard (`tensorboard --logdir OUT/tensorboard`); a no-op when disabled."""

    def __init__(self, log_dir: Path | None, resume_step: int | None = None) -> None:
        self.writer = None
        if log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events an interrupted run logged after its last checkpoint.
            self.writer = SummaryWriter(str(log_dir), purge_step=None if resume_step is None else resume_step + 1)

    def write(self, step: int, record: dict[str, Any]) -> None:
        if self.writer is None:
            return
        for key, tag in (("loss", "train/loss"), ("val_loss", "val/loss"), ("lr", "train/lr"),
                         ("tokens_per_s", "perf/tokens_per_s"), ("grad_norm", "train/grad_norm"),
                         ("flops_per_s", "perf/model_flops_per_s"), ("mfu", "perf/mfu")):
            value = record.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(tag, value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_loss_curve(metrics_path: Path, png_path: Path, title: str = "") -> Path | None:
    """Train (and validation) loss against step from `metrics.jsonl`; None when there is nothing to
    plot or matplotlib is not installed."""
    records = [r for r in read_metrics(metrics_path) if "loss" in r]
    if not records or not matplotlib_available():
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display needed; must precede pyplot
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot([r["step"] for r in records], [r["loss"] for r in records], label="train")
    val = [r for r in records if r.get("val_loss") is not None]
    if val:
        ax.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title or "loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        with atomic_path(png_path) as tmp:
            fig.savefig(tmp, format="png")  # the temporary name has no .png suffix
    finally:
        plt.close(fig)
    return png_path
