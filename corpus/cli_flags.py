"""Command-line flags generated from configuration dataclasses: an option is written once.

A config field becomes a flag by carrying `flag(...)` metadata:

    @dataclass
    class FetchConfig:
        per_host: int = field(default=2, metadata=flag("requests in flight to one host", name="--per-host",
                                                       minimum=1))
        respect_robots: bool = field(default=True, metadata=flag("do not read robots.txt", name="--ignore-robots"))

`add_config_flags(parser, FetchConfig)` adds `--per-host` and `--ignore-robots`;
`config_from_flags(FetchConfig, args)` builds the dataclass back from the parsed namespace. The
flag's name is spelled out beside its field, so a search for `--per-host` finds where it is defined,
its help and its bounds in one place. Types come from the annotation:
`int`, `float`, `str` (optionally `| None`), `bool` (a switch that flips the default: a field that
defaults to True gets a flag that turns it off), and `list[...]` / `tuple[...]` (several values).
Fields whose type is itself a config dataclass are searched for flags too, so nested settings
(`CleaningConfig.extraction.engine` -> `--extractor`) need no hand mapping. Every help text ends
with the default, and numbers are checked against `minimum` / `maximum` at parse time.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Any

_META = "cli"
# --help sections shared by several configs.
CLEANING = "text cleaning"
FETCHING = "fetching"


def flag(help: str, *, name: str, choices: Any = None, metavar: str | None = None,
         minimum: float | None = None, maximum: float | None = None,
         parse: Callable[[str], Any] | None = None, nargs: str | None = None,
         group: str | None = None, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    """Field metadata that makes a config field a command-line flag (see the module docstring).

    `group` names the `--help` section the flag is listed in; `aliases` are other names for it.
    """
    return {_META: {"help": help, "name": name, "choices": choices, "metavar": metavar, "minimum": minimum,
                    "maximum": maximum, "parse": parse, "nargs": nargs, "group": group, "aliases": aliases}}


def _dest(prefix: str, field: dataclasses.Field) -> str:
    return f"{prefix}{field.name}"


def _flag_fields(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field, Any]]:
    """(dest, field, resolved type) of every flagged field of `cls` and its nested configs."""
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            found += _flag_fields(hint, f"{prefix}{f.name}__")
        elif _META in f.metadata:
            found.append((_dest(prefix, f), f, hint))
    return found


def _strip_optional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def number(convert: Callable[[str], Any], *, minimum: float | None = None, maximum: float | None = None,
           above: float | None = None, below: float | None = None) -> Callable[[str], Any]:
    """An argparse `type`: `convert(text)` (int or float) within the bounds, finite.

    `minimum` / `maximum` are inclusive, `above` / `below` exclusive. argparse turns the
    ArgumentTypeError into `error: argument --flag: must be >= 1, got -5`, exit code 2.
    """

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'an integer' if convert is int else 'a number'}: "
                                             f"{text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        for bound, ok, word in ((minimum, lambda b: value >= b, ">="), (maximum, lambda b: value <= b, "<="),
                                (above, lambda b: value > b, ">"), (below, lambda b: value < b, "<")):
            if bound is not None and not ok(bound):
                raise argparse.ArgumentTypeError(f"must be {word} {bound:g}, got {text}")
        return value

    parse.__name__ = convert.__name__  # argparse names the type in some of its messages
    return parse



def _default_of(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add a flag for every flagged field of `cls` and of its nested configs, in field order."""
    groups: dict[str, Any] = {}
    for dest, field, hint in _flag_fields(cls):
        meta = field.metadata[_META]
        group = parser
        if meta["group"]:
            group = groups.get(meta["group"]) or groups.setdefault(meta["group"],
                                                                  parser.add_argument_group(meta["group"]))
        default = _default_of(field)
        name = meta["name"]
        kwargs: dict[str, Any] = {"dest": dest, "help": meta["help"]}
        hint = _strip_optional(hint)
        origin = typing.get_origin(hint)
        if hint is bool:
            # A switch flips the default: `--no-pii` for a field that is True unless told otherwise.
            kwargs.update(action="store_false" if default else "store_true", default=default)
        else:
            if origin in (list, tuple):
                item = typing.get_args(hint)[0] if typing.get_args(hint) else str
                kwargs["nargs"] = meta["nargs"] or "+"
                default = list(default) if default is not None else None
            else:
                item = hint
            convert = meta["parse"] or item
            if meta["minimum"] is not None or meta["maximum"] is not None:
                convert = number(convert, minimum=meta["minimum"], maximum=meta["maximum"])
            if convert is not str:
                kwargs["type"] = convert
            metavar = meta["metavar"] or name.lstrip("-").upper().replace("-", "_")
            kwargs.update(default=default, choices=meta["choices"], metavar=None if meta["choices"] else metavar)
            shown = " ".join(map(str, default)) if isinstance(default, list) else default
            kwargs["help"] += f" (default: {shown if shown not in (None, '') else 'none'})"
        group.add_argument(name, *meta["aliases"], **kwargs)


def config_from_flags(cls: type, args: argparse.Namespace, **fields: Any) -> Any:
    """Build `cls` from the flags `add_config_flags` added; `fields` set the unflagged ones."""
    return _build(cls, vars(args), "", fields)


def _build(cls: type, values: dict[str, Any], prefix: str, given: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = dict(given)
    for f in dataclasses.fields(cls):
        if f.name in kwargs:
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint) and f.init:
            kwargs[f.name] = _build(hint, values, f"{prefix}{f.name}__", {})
        elif _META in f.metadata and f"{prefix}{f.name}" in values:
            value = values[f"{prefix}{f.name}"]
            if typing.get_origin(_strip_optional(hint)) is tuple and value is not None:
                value = tuple(value)
            kwargs[f.name] = value
    return cls(**kwargs)
