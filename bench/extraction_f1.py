"""Word-level precision / recall / F1 of main-text extraction on real pages with ground truth.

    .venv/bin/python bench/extraction_f1.py                       # every engine, both data sets
    .venv/bin/python bench/extraction_f1.py --engines webtext-resiliparse webtext-trafilatura
    .venv/bin/python bench/extraction_f1.py --data /path/to/realdata/extraction --repeat 3
    bench/out/.venv-datatrove/bin/python bench/extraction_f1.py --engines datatrove-trafilatura
                                        # datatrove's own step, with the trafilatura it pins

Data (not in the repo; the project's tests never read it): `--data DIR` holds
  goose3-content/       *.html + *.json whose `expected.cleaned_text` is the article's text,
                        usually only its first paragraph(s) (goose3's tests check a prefix);
  newspaper-fulltext/   html/NAME.html + text/NAME.txt (newspaper's full article text); a text
                        `X.txt` whose `X.html` is missing is matched to `X_article.html`
                        (`japanese2.txt` -> `japanese_article2.html`), as newspaper's tests do.

Scoring, per page, on bags (multisets) of words. Words are lower-cased NFKC `\\w+` runs; Chinese,
Japanese and Thai characters count one word each (those scripts put no spaces between words).
  overlap   = |bag(extracted) & bag(expected)|
  recall    = overlap / |bag(expected)|                       (both data sets)
  precision = overlap / |bag(extracted)|                      (newspaper: a full article)
  precision = overlap / |bag(extracted window)|               (goose3: the expected text is a prefix)
For goose3 the extracted text goes on past the end of the expected prefix, and those words would
count as errors although they are the article. So precision is scored on the *window* of the
extracted words that the expected prefix covers: from the first extracted word up to the end of
the last run of >= 3 words it shares, in order, with the expected text (difflib). Boilerplate
before the article and inside it is still penalised; only what follows the prefix is not judged.
A page with no output scores P = R = F1 = 0 (macro), and counts 0 words (micro).

Speed: each engine extracts every page in this one process (1 core), after one warm-up page;
docs/s is pages / CPU seconds of this process (robust to other load on the machine), wall docs/s
is printed beside it. Results also go to `bench/out/extraction_f1.json` (read by
`bench/bench_throughput.py`; engine by engine, so rows from other runs stay) and per-page scores
to `bench/out/extraction_f1_pages.csv` (`extraction_f1_pages-ENGINE.csv` for a single engine).
With `--repeat` > 1 datatrove's engine times later passes against its warm line cache.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import logging
import re
import shlex
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: `corpus` is importable

DEFAULT_DATA = ROOT.parent / "shared" / "realdata" / "extraction"
DEFAULT_OUT = ROOT / "bench" / "out"

# Scripts written without spaces between words: one character, one word.
_NO_SPACE_SCRIPTS = re.compile(r"([\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
_WORD = re.compile(r"[^\W_]+")
MIN_ALIGN_RUN = 3  # words in a row that anchor the end of the goose3 window


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Page:
    """One page with its ground truth."""

    dataset: str
    name: str
    html: bytes
    url: str | None
    expected: str
    prefix: bool  # the expected text is the start of the article, not all of it


def load_goose3(folder: Path) -> list[Page]:
    pages = []
    for meta in sorted(folder.glob("*.json")):
        html = meta.with_suffix(".html")
        if not html.exists():
            continue
        d = json.loads(meta.read_text(encoding="utf-8"))
        expected = (d.get("expected") or {}).get("cleaned_text") or ""
        if expected.strip():
            pages.append(Page("goose3", meta.stem, html.read_bytes(), d.get("url"), expected, prefix=True))
    return pages


def _newspaper_html(html_dir: Path, stem: str) -> Path | None:
    """`X.html`, else newspaper's test naming `X_article.html` / `X_articleN.html` for `XN.txt`."""
    exact = html_dir / f"{stem}.html"
    if exact.exists():
        return exact
    m = re.fullmatch(r"(.*?)(\d*)", stem)
    alt = html_dir / f"{m.group(1)}_article{m.group(2)}.html"
    return alt if alt.exists() else None


def load_newspaper(folder: Path) -> list[Page]:
    pages = []
    for text in sorted((folder / "text").glob("*.txt")):
        html = _newspaper_html(folder / "html", text.stem)
        expected = text.read_text(encoding="utf-8", errors="replace")
        if html is not None and expected.strip():
            pages.append(Page("newspaper", text.stem, html.read_bytes(), None, expected, prefix=False))
    return pages


def load_pages(data: Path) -> list[Page]:
    """Every page of both data sets; exits with a clear message when the data is missing."""
    goose, news = data / "goose3-content", data / "newspaper-fulltext"
    if not goose.is_dir() and not news.is_dir():
        sys.exit(f"extraction data not found under {data}: expected goose3-content/ and/or "
                 "newspaper-fulltext/ (pass --data DIR; see bench/README.md)")
    pages = (load_goose3(goose) if goose.is_dir() else []) + (load_newspaper(news) if news.is_dir() else [])
    if not pages:
        sys.exit(f"no page with ground truth found under {data}")
    return pages


# ---------------------------------------------------------------------------------------------
# Engines: name -> f(html bytes, url) -> text. Bytes in, as the pipeline's reader hands them over
# when the HTTP header declares no charset (each engine then detects the encoding itself).


def _webtext(engine: str, **kwargs) -> Callable[[bytes, str | None], str | None]:
    from corpus.extract.engines import ExtractionConfig, extract_text

    config = ExtractionConfig(engine=engine, timeout_s=0, **kwargs)
    return lambda html, url: extract_text(html, url, config)


def _trafilatura(**kwargs) -> Callable[[bytes, str | None], str | None]:
    import trafilatura

    return lambda html, url: trafilatura.extract(html, url=url, **kwargs)


def _datatrove_decode(html: bytes) -> str | None:
    """What datatrove's WarcReader hands its extractor: UTF-8, else cchardet's guess, else nothing."""
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        import cchardet

        encoding = cchardet.detect(html)["encoding"]
        try:
            return html.decode(encoding) if encoding else None
        except (UnicodeDecodeError, LookupError):
            return None


def _datatrove_trafilatura() -> Callable[[bytes, str | None], str | None]:
    """datatrove's `Trafilatura(favour_precision=True)` step as FineWeb runs it, on the text its
    WarcReader decodes, with the trafilatura datatrove pins (<1.12). Needs the bench datatrove venv.
    Its deduplicate=True keeps an LRU cache of seen lines across documents, as in FineWeb."""
    try:
        from datatrove.pipeline.extractors import Trafilatura
    except ImportError:
        sys.exit("the datatrove-trafilatura engine needs datatrove: run it with the bench venv's python, "
                 "bench/out/.venv-datatrove/bin/python (see bench/README.md)")
    step = Trafilatura(favour_precision=True)

    def extract(html: bytes, url: str | None) -> str | None:
        text = _datatrove_decode(html)
        return step.extract(text) if text is not None else None

    return extract


ENGINES: dict[str, tuple[str, Callable[[], Callable]]] = {
    "webtext-trafilatura": ("corpus.extract.extractor default: trafilatura (fast, favor_precision, no comments/tables)",
                            lambda: _webtext("trafilatura")),
    "webtext-trafilatura-precise": ("corpus.extract.extractor, --precise-extraction (trafilatura's fallbacks on)",
                                    lambda: _webtext("trafilatura", fast=False)),
    "webtext-resiliparse": ("corpus.extract.extractor, resiliparse (main_content, no comments)",
                            lambda: _webtext("resiliparse")),
    "trafilatura-default": ("trafilatura.extract() defaults", lambda: _trafilatura()),
    "trafilatura-fast": ("trafilatura.extract(fast=True)", lambda: _trafilatura(fast=True)),
    "datatrove-trafilatura": ("datatrove's Trafilatura(favour_precision=True) step (needs datatrove)",
                              _datatrove_trafilatura),
}


def available_engines() -> list[str]:
    """The engines this interpreter should run: datatrove's where datatrove is installed (the bench
    venv), the others where the project's dependencies are (resiliparse marks them), so that the
    bench venv's older trafilatura never overwrites their rows in extraction_f1.json."""
    from importlib.util import find_spec

    marker = {"datatrove-trafilatura": "datatrove"}
    return [e for e in ENGINES if find_spec(marker.get(e, "resiliparse")) is not None]


# ---------------------------------------------------------------------------------------------
# Scoring


def tokenize(text: str | None) -> list[str]:
    """Lower-cased words; one word per character in scripts written without spaces."""
    if not text:
        return []
    text = _NO_SPACE_SCRIPTS.sub(r" \1 ", unicodedata.normalize("NFKC", text).lower())
    return _WORD.findall(text)


def prefix_window(extracted: list[str], expected: list[str]) -> list[str]:
    """The extracted words up to where the expected prefix ends in them (see the module doc)."""
    matcher = difflib.SequenceMatcher(None, extracted, expected, autojunk=False)
    ends = [b.a + b.size for b in matcher.get_matching_blocks() if b.size >= MIN_ALIGN_RUN]
    return extracted[:max(ends)] if ends else extracted


def _bag_overlap(a: list[str], b: list[str]) -> int:
    return sum((Counter(a) & Counter(b)).values())


def page_score(extracted: str | None, page: Page) -> dict:
    """P/R/F1 of one page, with the word counts behind them (for micro averages)."""
    ext, exp = tokenize(extracted), tokenize(page.expected)
    r_overlap = _bag_overlap(ext, exp)
    if page.prefix and ext:
        window = prefix_window(ext, exp)
        p_overlap, p_words = _bag_overlap(window, exp), len(window)
    else:
        p_overlap, p_words = r_overlap, len(ext)
    precision = p_overlap / p_words if p_words else 0.0
    recall = r_overlap / len(exp) if exp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "p_overlap": p_overlap, "p_words": p_words,
            "r_overlap": r_overlap, "r_words": len(exp), "words_out": len(ext)}


def summarise(rows: list[dict]) -> dict:
    """Macro (mean over pages) and micro (pooled word counts) P/R/F1."""
    n = len(rows)
    macro = {k: sum(r[k] for r in rows) / n for k in ("precision", "recall", "f1")}
    p = sum(r["p_overlap"] for r in rows) / max(sum(r["p_words"] for r in rows), 1)
    r = sum(r["r_overlap"] for r in rows) / max(sum(r["r_words"] for r in rows), 1)
    micro = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return {"pages": n, "empty": sum(1 for x in rows if x["words_out"] == 0), "macro": macro, "micro": micro}


# ---------------------------------------------------------------------------------------------
# Running


def run_engine(name: str, pages: list[Page], repeat: int) -> tuple[list[dict], dict]:
    """Extract every page (timed over `repeat` passes) and score the first pass."""
    extract = ENGINES[name][1]()
    extract(pages[0].html, pages[0].url)  # warm-up: imports, lazy tables
    outputs: list[str | None] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(repeat):
        for page in pages:
            try:
                text = extract(page.html, page.url)
            except Exception as err:  # an engine that crashes on a page scores 0 there
                logging.warning("%s failed on %s/%s: %s", name, page.dataset, page.name, err)
                text = None
            if i == 0:
                outputs.append(text)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    rows = [{"engine": name, "dataset": p.dataset, "page": p.name, **page_score(t, p)}
            for p, t in zip(pages, outputs)]
    n_docs = len(pages) * repeat
    speed = {"docs_per_cpu_s": n_docs / cpu if cpu else float("inf"), "docs_per_wall_s": n_docs / wall}
    return rows, speed


def evaluate(engines: list[str], pages: list[Page], repeat: int) -> tuple[dict, list[dict]]:
    results, all_rows = {}, []
    for name in engines:
        rows, speed = run_engine(name, pages, repeat)
        all_rows += rows
        by_set = {ds: summarise([r for r in rows if r["dataset"] == ds])
                  for ds in sorted({r["dataset"] for r in rows})}
        results[name] = {"description": ENGINES[name][0], "versions": library_versions(), "all": summarise(rows),
                         "datasets": by_set, **speed}
        print(f"  {name:<26} done: F1 {results[name]['all']['macro']['f1']:.3f}, "
              f"{speed['docs_per_cpu_s']:.1f} docs/s", file=sys.stderr)
    return results, all_rows


def format_table(results: dict) -> str:
    head = (f"{'engine':<26} {'set':<10} {'pages':>5} {'empty':>5} | {'P':>5} {'R':>5} {'F1':>5} (macro) | "
            f"{'P':>5} {'R':>5} {'F1':>5} (micro) | {'docs/s':>7} {'wall':>7} | trafilatura")
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        for ds, s in [("all", res["all"])] + list(res["datasets"].items()):
            ma, mi = s["macro"], s["micro"]
            speed = (f"{res['docs_per_cpu_s']:>7.1f} {res['docs_per_wall_s']:>7.1f} | "
                     f"{res.get('versions', {}).get('trafilatura', '') if 'trafilatura' in name else '-'}"
                     if ds == "all" else "")
            lines.append(f"{name if ds == 'all' else '':<26} {ds:<10} {s['pages']:>5} {s['empty']:>5} | "
                         f"{ma['precision']:>5.3f} {ma['recall']:>5.3f} {ma['f1']:>5.3f}         | "
                         f"{mi['precision']:>5.3f} {mi['recall']:>5.3f} {mi['f1']:>5.3f}         | {speed}")
    return "\n".join(lines)


def write_outputs(out: Path, results: dict, rows: list[dict], meta: dict) -> dict:
    """Merge into extraction_f1.json (engines measured by other runs, e.g. in the datatrove venv,
    are kept) and write this run's per-page scores."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "extraction_f1.json"
    engines = json.loads(path.read_text()).get("engines", {}) if path.exists() else {}
    for res in results.values():
        res["measured"] = meta
    engines.update(results)
    path.write_text(json.dumps({"engines": engines}, indent=2))
    name = "extraction_f1_pages.csv" if len(results) > 1 else f"extraction_f1_pages-{next(iter(results))}.csv"
    with open(out / name, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return engines


def library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("trafilatura", "resiliparse", "lxml", "datatrove"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"default {DEFAULT_DATA}")
    p.add_argument("--engines", nargs="+", choices=list(ENGINES), default=available_engines(),
                   help="default: those this interpreter runs (datatrove's only in the bench venv, "
                        "the others only in the project venv)")
    p.add_argument("--repeat", type=int, default=1, help="timing passes over the pages (scores use the first)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON and CSV go")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    for noisy in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)

    pages = load_pages(a.data)
    counts = Counter(p.dataset for p in pages)
    print(f"{len(pages)} pages: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    results, rows = evaluate(a.engines, pages, a.repeat)
    command = " ".join(shlex.quote(x) for x in [sys.executable, *sys.argv])
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "command": command, "pages": dict(counts)}
    engines = write_outputs(a.out, results, rows, meta)
    print("\nExtraction quality (word bags; goose3 precision on the prefix window) and speed (1 core)")
    print(f"(this run: {', '.join(results)}; other rows: earlier runs kept in {a.out / 'extraction_f1.json'})\n")
    print(format_table(engines))
    print(f"\nversions: {library_versions()}\ncommand:  {command}")


if __name__ == "__main__":
    main()
