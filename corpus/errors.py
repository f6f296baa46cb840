"""The library's error for a problem with what the user asked for.

`UserError` (a missing input, an empty glob, a setting that cannot work) is shown by every
command line as one line, `PROG: error: MESSAGE`, with exit status 2, as argparse does for a bad
flag; anything else is a bug or an environment failure and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the command or the inputs that the user can fix; its message is one line."""
