"""The run's machine-readable record: inputs, parameters, versions, counters, files."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

LIBRARIES = ("webtext", "pyarrow", "warcio", "trafilatura", "datasketch", "fasttext-numpy2-wheel",
             "tokenizers", "torch", "numpy", "praw", "aiohttp", "msgspec", "resiliparse")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def build_manifest(pipeline: str, inputs: list[str], parameters: dict[str, Any],
                   steps: list[dict[str, Any]], files: list[dict[str, Any]],
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the manifest; `steps` are `StepStats.to_dict()` in pipeline order."""
    manifest = {
        "pipeline": pipeline,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs,
        "parameters": parameters,
        "versions": library_versions(),
        "steps": steps,
        "files": files,
        "rows": sum(f["rows"] for f in files),
    }
    manifest.update(extra or {})
    return manifest
