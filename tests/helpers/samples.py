"""The sample generator (`data/samples/generate.py`) as a module, for the tests of the shipped samples."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "data" / "samples"


def load_generator() -> ModuleType:
    """`data/samples/generate.py`, loaded from its path as the README's command runs it (data/ is not a
    package); loading it puts its folder on sys.path, so its helper modules import by name afterwards."""
    name = "webtext_samples_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
