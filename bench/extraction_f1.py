"""Coverage and word-level precision / recall / F1 of main-text extraction on real pages.

    .venv/bin/python bench/extraction_f1.py                       # every engine, every data set
    .venv/bin/python bench/extraction_f1.py --engines webtext-resiliparse webtext-trafilatura
    .venv/bin/python bench/extraction_f1.py --sets goose3 newspaper --repeat 3
    bench/out/.venv-datatrove/bin/python bench/extraction_f1.py --engines datatrove-trafilatura
                        # datatrove's own step; its venv must hold the project's trafilatura version

Data (not in the repo; the project's tests never read it), under `--realdata DIR`
(default ../shared/realdata):
  extraction/goose3-content/     *.html + *.json whose `expected.cleaned_text` is the article's
                                 text, usually only its first paragraph(s) (goose3 checks a prefix);
  extraction/newspaper-fulltext/ html/NAME.html + text/NAME.txt (newspaper's full article text); a
                                 text `X.txt` whose `X.html` is missing is matched to `X_article.html`
                                 (`japanese2.txt` -> `japanese_article2.html`), as newspaper's tests do;
  extraction/readability-testpages/  pages/NAME/source.html.gz + expected.html.gz (Mozilla
                                 Readability's article, as HTML: its text is the expected text);
  warc/**/*.warc.gz              every HTML response of the real crawl captures (no ground truth).

Coverage = share of the HTML pages with non-empty text: every page above, those without ground
truth included (newspaper's pages with no text file, the WARC pages). A page the extractor
returns nothing for is a page the corpus never has, so coverage is reported next to F1.

Scoring, per page with ground truth, on bags (multisets) of words. Words are lower-cased NFKC
`\\w+` runs; Chinese, Japanese and Thai characters count one word each (no spaces in those scripts).
  overlap   = |bag(extracted) & bag(expected)|
  recall    = overlap / |bag(expected)|                       (every set)
  precision = overlap / |bag(extracted)|                      (newspaper, readability: a full article)
  precision = overlap / |bag(extracted window)|               (goose3: the expected text is a prefix)
For goose3 the extracted text goes on past the end of the expected prefix, and those words would
count as errors although they are the article. So precision is scored on the *window* of the
extracted words that the expected prefix covers: from the first extracted word up to the end of
the last run of >= 3 words it shares, in order, with the expected text (difflib). Boilerplate
before the article and inside it is still penalised; only what follows the prefix is not judged.
A page with no output scores P = R = F1 = 0 (macro), and counts 0 words (micro).

Pages go to each engine as the pipeline's reader hands them over: the bytes, with the charset the
HTTP header declares (WARC pages only; webtext's engines decode through `decode_html` as the
Extractor does, the others ignore it as their own readers do).

Speed: each engine extracts every page in this one process (1 core), after one warm-up page;
docs/s is pages / CPU seconds of this process (robust to other load on the machine), wall docs/s
is printed beside it. Results also go to `bench/out/extraction_f1.json` (read by
`bench/bench_throughput.py`; engine by engine, so rows from other runs stay) and per-page scores
to `bench/out/extraction_f1_pages.csv` (`extraction_f1_pages-ENGINE.csv` for a single engine).
With `--repeat` > 1 datatrove's engine times later passes against its warm line cache.
Rows measured with another trafilatura version than this run's are flagged under the table: a
difference between them is partly the library's, not the configuration's.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import gzip
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

DEFAULT_REALDATA = ROOT.parent / "shared" / "realdata"
DEFAULT_OUT = ROOT / "bench" / "out"
PROJECT_VENV = ROOT / ".venv"
DATASETS = ("goose3", "newspaper", "readability", "warc")

# Scripts written without spaces between words: one character, one word.
_NO_SPACE_SCRIPTS = re.compile(r"([\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
_WORD = re.compile(r"[^\W_]+")
MIN_ALIGN_RUN = 3  # words in a row that anchor the end of the goose3 window


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Page:
    """One HTML page, with its ground truth when the data set has one."""

    dataset: str
    name: str
    html: bytes
    url: str | None
    expected: str | None  # None: counted for coverage only
    prefix: bool = False  # the expected text is the start of the article, not all of it
    charset: str | None = None  # what the HTTP header declares (WARC pages)


def load_goose3(folder: Path) -> list[Page]:
    pages = []
    for html in sorted(folder.glob("*.html")):
        meta = html.with_suffix(".json")
        d = json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}
        expected = (d.get("expected") or {}).get("cleaned_text") or ""
        pages.append(Page("goose3", html.stem, html.read_bytes(), d.get("url"), expected if expected.strip() else None,
                          prefix=True))
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
    expected: dict[Path, tuple[str, str]] = {}
    for text in sorted((folder / "text").glob("*.txt")):
        html = _newspaper_html(folder / "html", text.stem)
        body = text.read_text(encoding="utf-8", errors="replace")
        if html is not None and body.strip():
            expected[html] = (text.stem, body)
    pages = []
    for html in sorted((folder / "html").glob("*.html")):
        name, body = expected.get(html, (html.stem, None))
        pages.append(Page("newspaper", name, html.read_bytes(), None, body))
    return pages


def html_text(html: bytes | str) -> str:
    """The text of an HTML fragment (the expected article of readability's tests), words kept
    apart across elements."""
    import lxml.html

    root = lxml.html.fromstring(html)
    for el in root.xpath("//script|//style"):
        el.drop_tree()
    return " ".join(root.itertext())


def load_readability(folder: Path) -> list[Page]:
    pages = []
    for source in sorted((folder / "pages").glob("*/source.html.gz")):
        expected_html = source.with_name("expected.html.gz")
        expected = html_text(gzip.decompress(expected_html.read_bytes())) if expected_html.exists() else ""
        pages.append(Page("readability", source.parent.name, gzip.decompress(source.read_bytes()), None,
                          expected if expected.strip() else None))
    return pages


def load_warc_pages(folder: Path) -> list[Page]:
    """Every successful HTML response of the WARC files under `folder`, with its declared charset.
    Read with warcio as it comes (no resync after a broken record: the pages before it are kept),
    so that both venvs see the same pages."""
    from warcio.archiveiterator import ArchiveIterator

    pages = []
    for path in sorted(folder.rglob("*.warc.gz")):
        with open(path, "rb") as stream:
            try:
                for record in ArchiveIterator(stream, check_digests=False):
                    page = _warc_html_page(record, f"{path.parent.name}/{path.name}")
                    if page is not None:
                        pages.append(page)
            except Exception as err:  # clipped.warc.gz is cut on purpose
                logging.info("%s: stopped at a broken record: %s", path.name, err)
    return pages


def _warc_html_page(record, file_name: str) -> Page | None:
    http = record.http_headers
    if record.rec_type != "response" or http is None or not (http.get_statuscode() or "").startswith("2"):
        return None
    content_type = (http.get_header("Content-Type") or "").lower()
    if not content_type.startswith(("text/html", "application/xhtml+xml")):
        return None
    payload = record.content_stream().read()
    if not payload.strip():
        return None
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type)
    return Page("warc", f"{file_name}:{url}", payload, url or None, None, charset=m.group(1) if m else None)


def load_pages(realdata: Path, datasets: tuple[str, ...] = DATASETS) -> list[Page]:
    """Every page of the chosen data sets; exits with a clear message when there is none. A
    missing folder is reported and left out."""
    folders = {"goose3": (realdata / "extraction" / "goose3-content", load_goose3),
               "newspaper": (realdata / "extraction" / "newspaper-fulltext", load_newspaper),
               "readability": (realdata / "extraction" / "readability-testpages", load_readability),
               "warc": (realdata / "warc", load_warc_pages)}
    pages = []
    for name in datasets:
        folder, load = folders[name]
        if folder.is_dir():
            pages += load(folder)
        else:
            print(f"{name}: {folder} not found, left out", file=sys.stderr)
    if not any(p.expected for p in pages):
        sys.exit(f"no page with ground truth found under {realdata} (pass --realdata DIR; see bench/README.md)")
    return pages


# ---------------------------------------------------------------------------------------------
# Engines: name -> f(html bytes, url, declared charset) -> text.


def _webtext(engine: str, **kwargs) -> Callable[[bytes, str | None, str | None], str | None]:
    """webtext's engine as its Extractor runs it: `decode_html`, then `extract_text`."""
    from corpus.extract.engines import ExtractionConfig, decode_html, extract_text

    config = ExtractionConfig(engine=engine, timeout_s=0, **kwargs)
    return lambda html, url, charset: extract_text(decode_html(html, charset), url, config)


def _trafilatura(**kwargs) -> Callable[[bytes, str | None, str | None], str | None]:
    import trafilatura

    return lambda html, url, charset: trafilatura.extract(html, url=url, **kwargs)


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


def _datatrove_trafilatura() -> Callable[[bytes, str | None, str | None], str | None]:
    """datatrove's `Trafilatura(favour_precision=True)` step as FineWeb runs it, on the text its
    WarcReader decodes. Needs the bench datatrove venv, with the project's trafilatura installed
    over the version datatrove pins (<1.12), so that the two rows differ by configuration only.
    Its deduplicate=True keeps an LRU cache of seen lines across documents, as in FineWeb."""
    try:
        from datatrove.pipeline.extractors import Trafilatura
    except ImportError:
        sys.exit("the datatrove-trafilatura engine needs datatrove: run it with the bench venv's python, "
                 "bench/out/.venv-datatrove/bin/python (see bench/README.md)")
    if warning := trafilatura_mismatch():
        print(f"WARNING: {warning}", file=sys.stderr)
    step = Trafilatura(favour_precision=True)

    def extract(html: bytes, url: str | None, charset: str | None) -> str | None:
        text = _datatrove_decode(html)
        return step.extract(text) if text is not None else None

    return extract


ENGINES: dict[str, tuple[str, Callable[[], Callable]]] = {
    "webtext-trafilatura": ("corpus.extract.extractor default: trafilatura (fast, favor_precision, no comments, tables)",
                            lambda: _webtext("trafilatura")),
    "webtext-trafilatura-precise": ("corpus.extract.extractor, --precise-extraction (trafilatura's fallbacks on)",
                                    lambda: _webtext("trafilatura", fast=False)),
    "webtext-trafilatura-no-tables": ("the default before tables were included (include_tables=False)",
                                      lambda: _webtext("trafilatura", include_tables=False)),
    "webtext-resiliparse": ("corpus.extract.extractor, resiliparse (main_content, no comments)",
                            lambda: _webtext("resiliparse")),
    "trafilatura-default": ("trafilatura.extract() defaults", lambda: _trafilatura()),
    "trafilatura-fast": ("trafilatura.extract(fast=True)", lambda: _trafilatura(fast=True)),
    "datatrove-trafilatura": ("datatrove's Trafilatura(favour_precision=True) step (needs datatrove)",
                              _datatrove_trafilatura),
}


def project_trafilatura() -> str | None:
    """The trafilatura version installed in the project venv (webtext's rows), or None."""
    found = sorted(PROJECT_VENV.glob("lib/python*/site-packages/trafilatura-*.dist-info"))
    return found[0].name.removesuffix(".dist-info").split("-")[1] if found else None


def trafilatura_mismatch() -> str | None:
    """Why this interpreter's results are not comparable with the project venv's: another trafilatura
    (datatrove pins < 1.12, which would credit the library's progress to the configuration)."""
    from importlib.metadata import version

    here, project = version("trafilatura"), project_trafilatura()
    if project is None or here == project:
        return None
    return (f"trafilatura {here} here, {project} in the project venv: install the same version here "
            f"({Path(sys.executable).parent / 'pip'} install trafilatura=={project}) to compare configurations")


def available_engines() -> list[str]:
    """The engines this interpreter should run: datatrove's where datatrove is installed (the bench
    venv), the others where the project's dependencies are (resiliparse marks them), so that the
    bench venv never overwrites their rows in extraction_f1.json."""
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
    """P/R/F1 of one page, with the word counts behind them (for micro averages); a page without
    ground truth gets only its word count (coverage)."""
    ext = tokenize(extracted)
    if page.expected is None:
        return {"scored": False, "precision": None, "recall": None, "f1": None, "p_overlap": 0, "p_words": 0,
                "r_overlap": 0, "r_words": 0, "words_out": len(ext)}
    exp = tokenize(page.expected)
    r_overlap = _bag_overlap(ext, exp)
    if page.prefix and ext:
        window = prefix_window(ext, exp)
        p_overlap, p_words = _bag_overlap(window, exp), len(window)
    else:
        p_overlap, p_words = r_overlap, len(ext)
    precision = p_overlap / p_words if p_words else 0.0
    recall = r_overlap / len(exp) if exp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"scored": True, "precision": precision, "recall": recall, "f1": f1, "p_overlap": p_overlap,
            "p_words": p_words, "r_overlap": r_overlap, "r_words": len(exp), "words_out": len(ext)}


def summarise(rows: list[dict]) -> dict:
    """Coverage over every page; macro (mean over pages) and micro (pooled word counts) P/R/F1
    over the pages with ground truth (None where there are none)."""
    with_text = sum(1 for x in rows if x["words_out"] > 0)
    scored = [x for x in rows if x["scored"]]
    out = {"pages": len(rows), "with_text": with_text, "coverage": with_text / len(rows), "scored": len(scored),
           "empty": sum(1 for x in scored if x["words_out"] == 0), "macro": None, "micro": None}
    if scored:
        out["macro"] = {k: sum(x[k] for x in scored) / len(scored) for k in ("precision", "recall", "f1")}
        p = sum(x["p_overlap"] for x in scored) / max(sum(x["p_words"] for x in scored), 1)
        r = sum(x["r_overlap"] for x in scored) / max(sum(x["r_words"] for x in scored), 1)
        out["micro"] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return out


# ---------------------------------------------------------------------------------------------
# Running


def run_engine(name: str, pages: list[Page], repeat: int) -> tuple[list[dict], dict]:
    """Extract every page (timed over `repeat` passes) and score the first pass."""
    extract = ENGINES[name][1]()
    extract(pages[0].html, pages[0].url, pages[0].charset)  # warm-up: imports, lazy tables
    outputs: list[str | None] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(repeat):
        for page in pages:
            try:
                text = extract(page.html, page.url, page.charset)
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
    order = {ds: i for i, ds in enumerate(DATASETS)}
    for name in engines:
        rows, speed = run_engine(name, pages, repeat)
        all_rows += rows
        by_set = {ds: summarise([r for r in rows if r["dataset"] == ds])
                  for ds in sorted({r["dataset"] for r in rows}, key=order.get)}
        results[name] = {"description": ENGINES[name][0], "versions": library_versions(), "all": summarise(rows),
                         "datasets": by_set, **speed}
        res = results[name]["all"]
        print(f"  {name:<29} done: coverage {res['coverage']:.1%}, F1 {res['macro']['f1']:.3f}, "
              f"{speed['docs_per_cpu_s']:.1f} docs/s", file=sys.stderr)
    return results, all_rows


def _prf(scores: dict | None) -> str:
    if not scores:
        return f"{'-':>5} {'-':>5} {'-':>5}"
    return f"{scores['precision']:>5.3f} {scores['recall']:>5.3f} {scores['f1']:>5.3f}"


def format_table(results: dict) -> str:
    """One block per engine: all pages, then each data set. text = pages with non-empty text,
    coverage = text / pages; P/R/F1 over the pages with ground truth (scored)."""
    head = (f"{'engine':<29} {'set':<11} {'pages':>5} {'text':>5} {'coverage':>8} {'scored':>6} | "
            f"{'P':>5} {'R':>5} {'F1':>5} (macro) | {'P':>5} {'R':>5} {'F1':>5} (micro) | "
            f"{'docs/s':>7} {'wall':>7} | trafilatura")
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        for ds, s in [("all", res["all"])] + list(res["datasets"].items()):
            coverage = f"{s['coverage']:>8.1%}" if "coverage" in s else f"{'-':>8}"  # rows of older runs
            speed = (f"{res['docs_per_cpu_s']:>7.1f} {res['docs_per_wall_s']:>7.1f} | "
                     f"{res.get('versions', {}).get('trafilatura', '') if 'trafilatura' in name else '-'}"
                     if ds == "all" else "")
            lines.append(f"{name if ds == 'all' else '':<29} {ds:<11} {s['pages']:>5} {s.get('with_text', '-'):>5} "
                         f"{coverage} {s.get('scored', s['pages']):>6} | {_prf(s['macro'])}         | "
                         f"{_prf(s['micro'])}         | {speed}")
    return "\n".join(lines)


def version_warning(results: dict) -> str | None:
    """A note when the trafilatura-based rows were measured with different trafilatura versions."""
    versions = {name: res.get("versions", {}).get("trafilatura") for name, res in results.items()
                if "trafilatura" in name}
    if len(set(versions.values())) <= 1:
        return None
    by_version: dict[str | None, list[str]] = {}
    for name, v in versions.items():
        by_version.setdefault(v, []).append(name)
    listing = "; ".join(f"trafilatura {v}: {', '.join(names)}" for v, names in by_version.items())
    return ("WARNING: these rows were measured with different trafilatura versions, so their differences are "
            f"partly the library's ({listing}). Install the project's trafilatura in the datatrove venv "
            "(bench/out/.venv-datatrove/bin/pip install trafilatura==VERSION) and measure again.")


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
    p.add_argument("--realdata", type=Path, default=DEFAULT_REALDATA, help=f"default {DEFAULT_REALDATA}")
    p.add_argument("--sets", nargs="+", choices=DATASETS, default=list(DATASETS), help="default: all")
    p.add_argument("--engines", nargs="+", choices=list(ENGINES), default=available_engines(),
                   help="default: those this interpreter runs (datatrove's only in the bench venv, "
                        "the others only in the project venv)")
    p.add_argument("--repeat", type=int, default=1, help="timing passes over the pages (scores use the first)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON and CSV go")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    for noisy in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)

    pages = load_pages(a.realdata, tuple(a.sets))
    counts = Counter(p.dataset for p in pages)
    print(f"{len(pages)} pages: " + ", ".join(f"{k} {counts[k]}" for k in DATASETS if k in counts), file=sys.stderr)
    results, rows = evaluate(a.engines, pages, a.repeat)
    command = " ".join(shlex.quote(x) for x in [sys.executable, *sys.argv])
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "command": command, "pages": dict(counts)}
    engines = write_outputs(a.out, results, rows, meta)
    print("\nExtraction coverage (HTML pages with text), quality (word bags over the pages with ground truth; "
          "goose3 precision on the prefix window) and speed (1 core)")
    print(f"(this run: {', '.join(results)}; other rows: earlier runs kept in {a.out / 'extraction_f1.json'})\n")
    print(format_table(engines))
    if warning := version_warning(engines):
        print(f"\n{warning}")
    print(f"\nversions: {library_versions()}\ncommand:  {command}")


if __name__ == "__main__":
    main()
