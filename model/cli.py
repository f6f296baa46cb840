"""What `model.train` and `model.sample` share on the command line: checked numbers, defaults in every
`--help` entry, user errors in one line with exit code 2, and progress that suits a terminal or a log.

- numbers: `corpus.cli_flags.number(int, minimum=1)`, the argparse `type` every CLI checks ranges with
- `DefaultsHelpFormatter`       appends "(default: X)" to each help text that does not state it in words
- `Parser`                      an ArgumentParser whose errors are one line (`prog: error: ...`), exit 2
- `run_cli(main, parser)`       runs `main()`, turning `SystemExit("message")` into that one line, exit 2
- `is_terminal(stream)`         whether a progress bar can redraw in place on `stream`
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

_STATES_DEFAULT = re.compile(r"\(default\b", re.IGNORECASE)
# What Python 3.11's BooleanOptionalAction appends to its help by itself; replaced by "on" / "off".
_BOOLEAN_OPTIONAL_SUFFIX = " (default: %(default)s)"


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show every flag's default: the value argparse knows, unless the help text already says it in
    words ("(default: the preset's)"), which is how flags whose default depends on other settings, or
    on the checkpoint being resumed, state theirs."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = (action.help or "").removesuffix(_BOOLEAN_OPTIONAL_SUFFIX)
        if _STATES_DEFAULT.search(text) or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        default = action.default
        shown = "off" if default is None or default is False else "on" if default is True else "%(default)s"
        return f"{text} (default: {shown})".lstrip()


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose user errors are one line on stderr (not the usage block), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_cli(main: Callable[[], Any], parser: argparse.ArgumentParser) -> Any:
    """Call `main()`; a `SystemExit` carrying a message (how the trainer reports a user error: a bad
    --data, a run it refuses to overwrite) becomes that message in one line and exit code 2."""
    try:
        return main()
    except SystemExit as e:
        if isinstance(e.code, str):
            parser.exit(2, f"{parser.prog}: error: {e.code}\n")
        raise


def is_terminal(stream: TextIO | None = None) -> bool:
    """True when `stream` (default: stderr, where tqdm draws) is an interactive terminal. A bar
    redrawn in a log file or a pipe writes a new copy of itself on every update."""
    stream = sys.stderr if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
