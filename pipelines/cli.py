"""Small helpers shared by the pipeline entry points: logging and worker counts."""

from __future__ import annotations

import logging
import os


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    # trafilatura logs every page it finds no text in; that is counted in the stats instead.
    for noisy in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
