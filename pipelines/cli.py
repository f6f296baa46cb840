"""Small helpers shared by the pipeline entry points: logging, worker counts, dates on the command line,
and the work folder.

The flags themselves are generated from the config dataclasses (`corpus.cli_flags`).
"""

from __future__ import annotations

import argparse
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from corpus.errors import UserError


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    # trafilatura logs every page it finds no text in; that is counted in the stats instead.
    for noisy in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def unix_time(value: str) -> int:
    """A date (YYYY-MM-DD, UTC) or unix seconds, as unix seconds."""
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or unix time: {value!r}") from None


def work_folder(output: str | Path, work_dir: str | Path | None = None) -> Path:
    """Where a run keeps its intermediate files: `work_dir`, or `<output's parent>/_work/<output's name>`.

    Outside the dataset folder, so that readers of the output see only its shards; and under a `_`
    folder, which anything looking for shards in the parent (the trainer's `--data data/shards`)
    skips.
    """
    out = Path(output).resolve()
    if work_dir:
        work = Path(work_dir).resolve()
        if work == out or out in work.parents:
            # The output folder is replaced as a whole at the end of a run (staging swap).
            raise UserError(f"--work-dir {work_dir} is inside --output {output}: put it elsewhere")
        return Path(work_dir)
    return out.parent / "_work" / out.name
