"""The dataset card: a `README.md` beside the shards, in the Hugging Face format.

The YAML header (`configs`, `dataset_info`) lets `datasets.load_dataset(PATH)` and the Hub find the
shards and their features without guessing; the body says what a person needs to trust the data:
the recipe, what every step dropped, the benchmarks it was decontaminated against, the inputs and
the library versions. Everything comes from the run's manifest, so card and manifest never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpus.dedup.decontamination import benchmark_name
from corpus.schema import SCHEMA
from corpus.writers.atomic import atomic_write_text

RECIPES = {
    "build_webtext": (
        "GPT-2's WebText (Radford et al. 2019), as OpenWebText rebuilt it: outbound links of Reddit "
        "submissions with karma >= 3, pages fetched and their main text extracted (trafilatura), "
        "language ID (fastText lid.176), Gopher / C4 / FineWeb heuristic filters, PII anonymised, "
        "exact and MinHash LSH near-duplicate removal, optional 13-gram decontamination."),
    "clean_commoncrawl": (
        "GPT-3's Common Crawl cleaning (Brown et al. 2020, appendix A): main text extracted "
        "(trafilatura), language ID (fastText lid.176), Gopher / C4 / FineWeb heuristic filters, PII "
        "anonymised, a fastText quality classifier trained on reference text (WebText) against raw "
        "crawl text with GPT-3's Pareto keep rule, exact and MinHash LSH near-duplicate removal within "
        "the crawl and against the reference corpora, optional 13-gram decontamination."),
    "add_corpus": (
        "A curated corpus added beside the web data, as GPT-3 added Wikipedia and books (Brown et al. 2020, "
        "section 2.2): read from its own format (Wikipedia XML dumps: namespace 0, no redirects or "
        "disambiguation pages, wikitext to plain text; Project Gutenberg books without the licence; text, "
        "JSONL or Parquet), length filter, language ID and PII anonymisation where the format needs them, "
        "exact and MinHash LSH near-duplicate removal, optional 13-gram decontamination."),
}
SHARD_GLOB = "data/part-*.parquet"  # relative to the output folder (see corpus.writers.publish)


def hf_dtype(type_: pa.DataType) -> str:
    """The `datasets` feature dtype of an Arrow type (string, int32, float32, timestamp[ms, tz=UTC])."""
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "string"
    if pa.types.is_floating(type_):
        return f"float{type_.bit_width}"
    return str(type_)


def _q(value: Any) -> str:
    """A YAML scalar: JSON's quoting is valid YAML and escapes whatever a path or name holds."""
    return json.dumps(value, ensure_ascii=False)


def card_yaml(manifest: dict[str, Any], languages: Sequence[str]) -> str:
    files = manifest["files"]
    size = sum(f["bytes"] for f in files)
    lines = ["---", f"pretty_name: {_q('webtext: ' + manifest['pipeline'])}"]
    lines += ["language:"] + [f"- {_q(lang)}" for lang in languages]
    lines += ["license: other", "task_categories:", "- text-generation", "tags:", "- webtext", "- pretraining",
              "configs:", "- config_name: default", "  data_files:", "  - split: train", f"    path: {_q(SHARD_GLOB)}",
              "dataset_info:", "  features:"]
    for field in SCHEMA:
        lines += [f"  - name: {_q(field.name)}", f"    dtype: {_q(hf_dtype(field.type))}"]
    lines += ["  splits:", "  - name: train", f"    num_bytes: {size}", f"    num_examples: {manifest['rows']}",
              f"  download_size: {size}", f"  dataset_size: {size}", "---"]
    return "\n".join(lines) + "\n"


def _steps_table(steps: Sequence[dict[str, Any]]) -> str:
    rows = ["| step | in | out | dropped (by reason) |", "|---|---:|---:|---|"]
    for s in steps:
        drops = ", ".join(f"{r} {n:,}" for r, n in sorted(s["dropped"].items(), key=lambda kv: -kv[1])) or "-"
        rows.append(f"| {s['name']} | {s['in']:,} | {s['out']:,} | {drops} |")
    return "\n".join(rows)


def _decontamination_section(benchmarks: Sequence[str], steps: Sequence[dict[str, Any]]) -> str:
    """One row per benchmark file: the task name (as `model.evaluate` names it) and what it removed."""
    if not benchmarks:
        return "None: no benchmark files were given (`--decontaminate`)."
    counts: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for s in steps:
        if s["name"] == "decontaminate":
            counts, dropped = s.get("counts", {}), s.get("dropped", {})
    rows = ["| task | file | documents cut or dropped |", "|---|---|---:|"]
    for b in benchmarks:
        name = benchmark_name(b)
        rows.append(f"| {name} | `{b}` | {counts.get(f'docs_touched:{name}', 0):,} |")
    total = sum(dropped.values())
    return ("\n".join(rows) + f"\n\nGPT-3's rule (13-grams, 200 characters cut around each hit): "
            f"{counts.get('docs_cut', 0):,} documents kept with text cut out, {total:,} dropped "
            f"({', '.join(f'{r} {n:,}' for r, n in sorted(dropped.items())) or 'none'}).")


def card_markdown(manifest: dict[str, Any]) -> str:
    """The whole card (YAML header and body) for a finished run's manifest."""
    params = manifest.get("parameters", {})
    languages = params.get("cleaning", {}).get("language", {}).get("languages") or ["en"]
    benchmarks = params.get("decontaminate") or []
    inputs = manifest.get("inputs", [])
    shown_inputs = "\n".join(f"- `{p}`" for p in inputs[:20]) + (f"\n- ... and {len(inputs) - 20:,} more"
                                                                 if len(inputs) > 20 else "")
    versions = ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())
    classifier = manifest.get("quality_classifier")
    if classifier:
        auc = classifier.get("roc_auc")
        quality_line = (f"\nQuality classifier: `{Path(classifier['model']).name}` ({classifier['source']}), held-out "
                        f"ROC AUC {'unknown' if auc is None else f'{auc:.3f}'} (floor {classifier['min_auc']})"
                        f"{', below the floor: kept by --allow-weak-classifier' if classifier.get('weak') else ''}.\n")
    else:
        quality_line = ""
    decontamination = _decontamination_section(benchmarks, manifest["steps"])
    body = f"""
# webtext: {manifest['pipeline']}

{manifest['rows']:,} documents in {len(manifest['files'])} Parquet shard(s) (`{SHARD_GLOB}`), made
{manifest['created']} by `python -m pipelines.{manifest['pipeline']}`.

## Recipe

{RECIPES.get(manifest['pipeline'], manifest['pipeline'])}
{quality_line}The exact parameters are in `manifest.json` (`parameters`); `report.html` shows the funnel, score
histograms and examples of dropped documents.

## What each step kept

{_steps_table(manifest['steps'])}

## Decontamination

{decontamination}

## Load it

```python
import datasets; ds = datasets.load_dataset("PATH/TO/THIS/FOLDER")   # reads this card's configs
import duckdb; duckdb.sql("SELECT count(*) FROM read_parquet('PATH/TO/THIS/FOLDER/**/*.parquet')")
import pandas; df = pandas.read_parquet("PATH/TO/THIS/FOLDER/data")
```

## Inputs

{shown_inputs or '-'}

## Versions

{versions}
"""
    return card_yaml(manifest, languages) + body


def write_dataset_card(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write `README.md` (the dataset card) into `out_dir`."""
    path = Path(out_dir) / "README.md"
    atomic_write_text(path, card_markdown(manifest))
    return path
