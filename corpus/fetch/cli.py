"""Command-line flags of the fetcher, shared by `python -m corpus.fetch` and `build_webtext`."""

from __future__ import annotations

import argparse

from corpus.cli_flags import add_config_flags, config_from_flags
from corpus.fetch.config import FetchConfig


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fetcher's tuning flags (all optional; defaults are `FetchConfig`'s)."""
    add_config_flags(parser, FetchConfig)


def fetch_config_from_args(a: argparse.Namespace, progress: bool = True) -> FetchConfig:
    return config_from_flags(FetchConfig, a, progress=progress)
