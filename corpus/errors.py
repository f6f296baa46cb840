"""The library's error for a problem with what the user asked for, and how command lines show it.

`UserError` (a missing input, an empty glob, a setting that cannot work) is shown by every
command line as one line, `PROG: error: MESSAGE`, with exit status 2, as argparse does for a bad
flag; anything else is a bug or an environment failure and keeps its traceback.
"""


import sys
from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """A problem with the command or the inputs that the user can fix; its message is one line."""


@contextmanager
def user_errors(prog: str) -> Iterator[None]:
    """Show a `UserError` as one line, `PROG: error: MESSAGE`, and exit with status 2 (as argparse does)."""
    try:
        yield
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
