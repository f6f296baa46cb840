"""Data sources and their mixture weights, GPT-3 style.

GPT-3 (Brown et al. 2020, Table 2.2) did not sample its datasets in proportion to their size:
each training example was drawn from a dataset with a fixed probability ("weight in training mix"),
so the high-quality sets were seen 2-3 times while Common Crawl was seen less than once. Here an
example is one block of `block_size + 1` tokens: for every block, the source is drawn with the
given weights, and each source packs its own documents, so a block never mixes sources.

The draw is counter-based: the sources of batch n of stream s come from an RNG seeded with
(seed, s, n), so the mixture is deterministic, needs no RNG state in a checkpoint, and is the same
for a resumed run.

`--mix webtext=0.6,commoncrawl=0.4` names immediate subfolders of `--data`; without `--mix` every
shard under `--data` is one source and documents come in their natural proportions.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.data import find_shards
from model.locations import is_dir, is_url, join, subfolders

ALL = "all"  # the name of the single source used when there is no mixture
_MIX_SALT = 0x6D6978  # keeps the mixture RNG apart from the shuffle RNGs, which share the seed


@dataclass(frozen=True)
class Source:
    """A named set of shards and its probability of supplying a block."""

    name: str
    paths: tuple[Path, ...] | tuple[str, ...]  # local files, or URLs (s3://...)
    weight: float = 1.0

    def digest(self) -> str:
        """Fingerprint of the shard list (paths relative to their common folder, so the data folder
        may move, or be copied to a bucket), so a saved state is not applied to different data. File
        contents are not hashed."""
        if all(is_url(p) for p in self.paths):
            keys = [str(p).split("://", 1)[1] for p in self.paths]
            root = posixpath.commonpath(keys) if len(keys) > 1 else posixpath.dirname(keys[0])
            names = "\n".join(posixpath.relpath(k, root) for k in keys)
            return hashlib.sha1(names.encode()).hexdigest()[:16]
        resolved = [Path(p).resolve() for p in self.paths]
        root = Path(os.path.commonpath(resolved)) if len(resolved) > 1 else resolved[0].parent
        names = "\n".join(p.relative_to(root).as_posix() for p in resolved)
        return hashlib.sha1(names.encode()).hexdigest()[:16]


def parse_mix(spec: str) -> dict[str, float]:
    """"webtext=0.6,commoncrawl=0.4" -> {"webtext": 0.6, "commoncrawl": 0.4} (weights need not sum to 1)."""
    mix: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"bad --mix entry {item!r}: expected NAME=WEIGHT")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"bad weight in --mix entry {item!r}") from None
        if not weight > 0 or not np.isfinite(weight):
            raise ValueError(f"--mix weight of {name!r} must be positive, got {value}")
        if name in mix:
            raise ValueError(f"source {name!r} appears twice in --mix")
        mix[name] = weight
    if not mix:
        raise ValueError("--mix is empty")
    return mix


# GPT-3, Table 2.2: "weight in training mix" (they add up to 101% in the paper, from rounding).
GPT3_MIX = {"commoncrawl": 0.60, "webtext": 0.22, "books1": 0.08, "books2": 0.08, "wikipedia": 0.03}
# Folder names that stand for one of those corpora. One "books" folder takes both book weights.
GPT3_ALIASES = {"webtext2": "webtext", "cc": "commoncrawl", "common_crawl": "commoncrawl", "wiki": "wikipedia",
                "enwiki": "wikipedia", "books": "books", "gutenberg": "books"}
MIX_PRESETS = ("gpt3",)


def preset_mix(preset: str, data: str | Path) -> dict[str, float]:
    """A mixture of the sources (sub-folders with shards) under `data` by a paper's weights.

    "gpt3" gives each folder named after a GPT-3 corpus (commoncrawl, webtext, books1, books2, wikipedia,
    or an alias: webtext2, books, gutenberg, wiki, ...) its Table 2.2 weight; the weights of corpora that
    are absent are not redistributed by hand: `--mix` weights are normalised, so the present ones keep
    their ratios. A folder the preset does not know is an error (say its weight with --mix instead).
    """
    if preset not in MIX_PRESETS:
        raise ValueError(f"unknown --mix-preset {preset!r}; choose one of {', '.join(MIX_PRESETS)}")
    root = data
    if not is_dir(root):
        raise FileNotFoundError(f"--mix-preset needs --data to be a folder of sources; {root} is not a folder")
    present = [name for name in subfolders(root) if find_shards(join(root, name))]
    mix, unknown = {}, []
    for name in present:
        key = GPT3_ALIASES.get(name.lower(), name.lower())
        if key == "books":
            mix[name] = GPT3_MIX["books1"] + GPT3_MIX["books2"]
        elif key in GPT3_MIX:
            mix[name] = GPT3_MIX[key]
        else:
            unknown.append(name)
    if unknown or not mix:
        known = ", ".join([*GPT3_MIX, *GPT3_ALIASES])
        raise ValueError(f"--mix-preset gpt3: {'no source it knows' if not mix else 'no weight for'} "
                         f"{unknown or present} under {root} (it knows {known}); give weights with --mix instead")
    return mix


def discover_sources(data: str | Path, mix: dict[str, float] | None = None) -> list[Source]:
    """The sources to train on: one source of every shard under `data` without a mix, else one per
    named subfolder of `data`, with normalised weights."""
    if mix is None:
        return [Source(ALL, tuple(find_shards(data)))]
    root = data
    if not is_dir(root):
        raise FileNotFoundError(f"--mix needs --data to be a folder of sources; {root} is not a folder")
    total = sum(mix.values())
    sources = []
    for name, weight in mix.items():
        paths = find_shards(join(root, name)) if is_dir(join(root, name)) else []
        if not paths:
            raise ValueError(f"--mix source {name!r}: no *.parquet under {join(root, name)} "
                             f"(sources here: {subfolders(root)})")
        sources.append(Source(name, tuple(paths), weight / total))
    return sources


def unused_sources(data: str | Path, sources: list[Source]) -> list[str]:
    """Subfolders of `data` holding shards that the mixture leaves out (worth a note to the user)."""
    if [s.name for s in sources] == [ALL] or not is_dir(data):
        return []
    named = {s.name for s in sources}
    return [name for name in subfolders(data) if name not in named and find_shards(join(data, name))]


def mix_choices(seed: int, stream: int, batch_index: int, n: int, weights: list[float]) -> list[int]:
    """Index of the source of each of the `n` blocks of batch `batch_index` of stream `stream`."""
    if len(weights) == 1:
        return [0] * n
    rng = np.random.default_rng([seed, _MIX_SALT, stream, batch_index])
    return rng.choice(len(weights), size=n, p=np.asarray(weights) / sum(weights)).tolist()
