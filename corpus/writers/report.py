"""The run report: one self-contained HTML page a person can look at."""

from __future__ import annotations

import html
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from corpus.readers.shards import iter_batches
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_text

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse} td,th{padding:.25em .6em;text-align:left;vertical-align:top}
tr:nth-child(even){background:#f6f6f6} .num{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#4a7fb5;height:1em;display:inline-block} .drop{color:#a33}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em;font-size:12px;max-height:12em;overflow:auto}
"""


def _bar(fraction: float, width_px: int = 300) -> str:
    return f'<span class="bar" style="width:{max(1, round(fraction * width_px))}px"></span>'


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def funnel_html(steps: Sequence[dict[str, Any]]) -> str:
    """Documents and bytes out of each step, with bars relative to the first step's input."""
    if not steps:
        return "<p>No steps ran.</p>"
    top = max(steps[0]["in"], 1)
    rows = []
    for s in steps:
        reasons = ", ".join(f'{html.escape(r)}: {n:,}' for r, n in
                            sorted(s["dropped"].items(), key=lambda kv: -kv[1]))
        counts = ", ".join(f"{html.escape(k)}: {v:,}" for k, v in s.get("counts", {}).items())
        rows.append(
            f'<tr><td>{html.escape(s["name"])}</td><td class="num">{s["in"]:,}</td>'
            f'<td class="num">{s["out"]:,}</td><td>{_bar(s["out"] / top)}</td>'
            f'<td class="num">{_size(s.get("bytes_out", 0))}</td>'
            f'<td class="drop">{reasons}</td><td>{counts}</td></tr>')
    return ("<table><tr><th>step</th><th>in</th><th>out</th><th>kept</th><th>bytes out</th>"
            "<th>dropped by reason</th><th>other tallies</th></tr>" + "".join(rows) + "</table>")


def binned_svg(bins: Sequence[int], lo: float = 0.0, hi: float = 1.0, width: int = 600,
               height: int = 160, label: str = "") -> str:
    """An SVG bar chart of counts already binned evenly over [lo, hi]."""
    peak = max(max(bins), 1)
    bw = width / len(bins)
    bars = "".join(
        f'<rect x="{i * bw:.1f}" y="{height - 20 - c / peak * (height - 30):.1f}" width="{bw - 1:.1f}" '
        f'height="{c / peak * (height - 30):.1f}" fill="#4a7fb5"><title>{c:,}</title></rect>'
        for i, c in enumerate(bins))
    axis = (f'<text x="0" y="{height - 4}" font-size="11">{lo:g}</text>'
            f'<text x="{width}" y="{height - 4}" font-size="11" text-anchor="end">{hi:g}</text>'
            f'<text x="{width / 2}" y="{height - 4}" font-size="11" text-anchor="middle">{html.escape(label)}</text>')
    return f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{bars}{axis}</svg>'


def examples_html(steps: Sequence[StepStats]) -> str:
    """A few dropped documents per step and reason, folded."""
    parts = []
    for s in steps:
        for reason, examples in sorted(s.examples.items()):
            items = "".join(f"<h4>{html.escape(e['url'] or '')}</h4><pre>{html.escape(e['text'] or '(no text)')}</pre>"
                            for e in examples)
            parts.append(f"<details><summary>{html.escape(s.name)} / {html.escape(reason)} "
                         f"({s.dropped.get(reason, 0):,} dropped)</summary>{items}</details>")
    return "".join(parts) or "<p>Nothing was dropped.</p>"


def score_histograms_html(steps: Sequence[StepStats]) -> str:
    parts = []
    for s in steps:
        for name, bins in sorted(s.histograms.items()):
            parts.append(f"<h3>{html.escape(s.name)}: {html.escape(name)} ({sum(bins):,} documents)</h3>"
                         + binned_svg(bins, label=name))
    return "".join(parts) or "<p>No scores recorded.</p>"


LENGTH_BINS = 30
LENGTH_MAX_LOG10 = 6.0  # bins span 1 .. 1,000,000 words on a log scale; longer documents go in the last


def length_histogram(shard_files: Sequence[Path]) -> tuple[list[int], int]:
    """Counts of `n_words` in fixed log-scale bins, and the number of rows.

    Streamed one row group at a time into fixed bins: memory does not grow with the corpus.
    """
    counts = np.zeros(LENGTH_BINS, dtype=np.int64)
    total = 0
    for batch in iter_batches(shard_files, columns=["n_words"]):
        n = batch.column("n_words").to_numpy(zero_copy_only=False).astype(np.float64)
        idx = (np.log10(np.maximum(n, 1)) / LENGTH_MAX_LOG10 * LENGTH_BINS).astype(np.int64)
        counts += np.bincount(np.clip(idx, 0, LENGTH_BINS - 1), minlength=LENGTH_BINS)
        total += len(n)
    return counts.tolist(), total


def quality_classifier_html(entry: dict[str, Any] | None) -> str:
    """The quality classifier: where it came from, its held-out metrics against the floor."""
    if not entry:
        return "<p>No quality classifier in this run.</p>"
    m = entry.get("metrics") or {}
    auc = entry.get("roc_auc")
    verdict = ""
    if entry.get("weak"):
        verdict = ('<p style="color:#b00"><b>Below the floor</b>: the run went on because of '
                   "<code>--allow-weak-classifier</code>; its scores keep documents little better than "
                   "at random.</p>") if entry.get("allowed_weak") else '<p style="color:#b00"><b>Below the floor.</b></p>'
    cells = "".join(f"<tr><td>{html.escape(k)}</td><td class='num'>{'-' if m.get(k) is None else f'{m[k]:.3f}'}</td></tr>"
                    for k in ("precision", "recall", "f1", "accuracy") if k in m)
    auc_text = "unknown (no card)" if auc is None else f"{auc:.3f}"
    return (f"<p><code>{html.escape(entry.get('model') or '')}</code> ({html.escape(entry.get('source') or '')}): "
            f"held-out ROC AUC <b>{auc_text}</b> (floor {entry.get('min_auc')}), "
            f"{m.get('n_heldout', '?')} held-out documents.</p>{verdict}<table>{cells}</table>")


def fuzzy_dedup_html(summary: dict[str, Any] | None) -> str:
    """Cluster sizes and a few removed pairs of the near-duplicate stage."""
    if not summary:
        return "<p>Near-duplicate removal did not run.</p>"
    sizes = "".join(f'<tr><td class="num">{k}</td><td class="num">{v:,}</td></tr>'
                    for k, v in summary["cluster_sizes"].items())
    pairs = "".join(
        f'<tr><td>{html.escape(e["reason"])}</td><td><code>{html.escape(e["removed"])}</code></td>'
        f'<td><code>{html.escape(e.get("kept") or e.get("reference") or "")}</code></td>'
        f'<td class="num">{e["jaccard"]:.2f}</td></tr>' for e in summary["examples"])
    params = html.escape(", ".join(f"{k}={v}" for k, v in summary["parameters"].items() if k != "reference_files"))
    return (f"<p>{params}</p><table><tr><th>cluster size</th><th>clusters</th></tr>{sizes}</table>"
            "<h3>Removed pairs (ids; estimated Jaccard)</h3><table><tr><th>reason</th><th>removed</th>"
            f"<th>kept / reference</th><th>J</th></tr>{pairs}</table>")


def write_report(out_dir: Path, manifest: dict[str, Any], steps: Sequence[StepStats],
                 shard_files: Sequence[Path], n_samples: int = 5, seed: int = 0) -> Path:
    """Write `report.html`: funnel, drop reasons with examples, histograms, sampled kept documents."""
    # Lengths go into fixed bins and the sampled rows' text is picked as the row groups stream
    # past: memory does not grow with the run.
    length_bins, total = length_histogram(shard_files)
    wanted = set(random.Random(seed).sample(range(total), min(n_samples, total)))
    picks, row = [], 0
    for batch in iter_batches(shard_files, columns=["url", "text"]):
        for i in sorted(j - row for j in wanted if row <= j < row + batch.num_rows):
            picks.append((batch.column("url")[i].as_py(), batch.column("text")[i].as_py()))
        row += batch.num_rows
    samples = "".join(f"<h3>{html.escape(u or '')}</h3><pre>{html.escape(x[:1200])}</pre>" for u, x in picks)
    title = html.escape(manifest["pipeline"])
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>{title} report</title><style>{_CSS}</style></head><body>
<h1>{title}: {manifest["rows"]:,} documents kept</h1>
<p>Run {html.escape(manifest["created"])} over {len(manifest["inputs"])} input(s);
{len(manifest["files"])} shard(s). Full counters in <code>manifest.json</code>.</p>
<h2>Funnel</h2>{funnel_html(manifest["steps"])}
<h2>Words per kept document</h2>{binned_svg(length_bins, 0, LENGTH_MAX_LOG10, label="log10(words)")}
<h2>Scores of every document scored</h2>{score_histograms_html(steps)}
<h2>Quality classifier</h2>{quality_classifier_html(manifest.get("quality_classifier"))}
<h2>Near-duplicates</h2>{fuzzy_dedup_html(manifest.get("fuzzy_dedup"))}
<h2>Dropped documents, by step and reason</h2>{examples_html(steps)}
<h2>Sample of kept documents</h2>{samples}
</body></html>"""
    path = Path(out_dir) / "report.html"
    atomic_write_text(path, page)
    return path
