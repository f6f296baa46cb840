"""GPT-3's third way to a usable corpus: curated high-quality text added beside the web data, read top
to bottom:

  1. map (per input file, or per run of bz2 streams of a multistream Wikipedia dump, in parallel):
     read the format -> [language ID] -> length -> [PII]
  2. global: exact and MinHash near-duplicate dedup (also against other corpora), decontamination
  3. shards, manifest, report, dataset card: the same schema and layout as the other pipelines

    python -m pipelines.add_corpus --name wikipedia --input 'enwiki-*-pages-articles-multistream.xml.bz2'
    python -m pipelines.add_corpus --name books --input 'gutenberg/*.txt' --unit chapter
    python -m pipelines.add_corpus --name papers --input 'papers/*.jsonl.zst' --text-field body
    python -m pipelines.add_corpus                          # the shipped sample Wikipedia export

Formats (`--format`, guessed from the file names when unambiguous): wikipedia (MediaWiki XML dumps,
.xml or .xml.bz2, multistream read in parallel by byte range with its index), gutenberg (Project
Gutenberg plain-text books), text (one document per file or per blank-line block), jsonl and parquet
(a text field). Which optional steps run depends on the format unless a flag says otherwise
(`FORMAT_DEFAULTS`): an encyclopedia or an edited book is already in a known language and holds no
private addresses; text of unknown origin gets language ID and PII anonymisation.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from corpus.cli_flags import CLEANING, add_config_flags, config_from_flags, flag
from corpus.dedup.near_duplicates import PRESETS
from corpus.errors import UserError, user_errors
from corpus.executor import ExecutorConfig, make_executor, merge_stats
from corpus.filters.language import LanguageConfig, LanguageFilter
from corpus.filters.length import LengthFilter
from corpus.filters.pii import PIIAnonymizer
from corpus.readers.inputs import expand_inputs
from corpus.sources.gutenberg import GutenbergConfig, read_gutenberg
from corpus.sources.text_files import TextConfig, open_decompressed, read_jsonl, read_parquet, read_text_file
from corpus.sources.wikipedia import WikipediaConfig, read_wikipedia, wikipedia_tasks
from corpus.steps import Step, StepStats, run_steps
from corpus.writers.publish import print_summary
from pipelines.cli import default_workers, setup_logging, work_folder
from pipelines.global_stage import GlobalConfig, global_passes, write_output

log = logging.getLogger("add_corpus")
PROG = "python -m pipelines.add_corpus"
FORMATS = ("wikipedia", "gutenberg", "text", "jsonl", "parquet")
# Optional steps per format when their flag says "auto".
FORMAT_DEFAULTS = {
    "wikipedia": {"language": False, "pii": False},
    "gutenberg": {"language": False, "pii": False},
    "text": {"language": True, "pii": True},
    "jsonl": {"language": True, "pii": True},
    "parquet": {"language": True, "pii": True},
}
_SUFFIXES = {".xml": "wikipedia", ".jsonl": "jsonl", ".parquet": "parquet", ".txt": "text"}
_COMPRESSION = (".gz", ".bz2", ".zst")
SWITCH = ("auto", "on", "off")


@dataclass
class AddCorpusConfig:
    """Everything a curated-corpus run depends on; defaults run on the shipped sample Wikipedia export."""

    name: str = field(default="wikipedia", metadata=flag(
        "the corpus's name: the `source` of its documents and the default output folder data/shards/NAME",
        name="--name"))
    inputs: list[str] = field(default_factory=lambda: [
        "data/samples/wiki_sample-pages-articles-multistream.xml.bz2"], metadata=flag(
        "files or globs (a folder: every file in it, recursively)", name="--input", metavar="PATH|GLOB"))
    format: str = field(default="auto", metadata=flag(
        "input format; auto: from the file names (.xml[.bz2] wikipedia, .jsonl, .parquet, .txt: gutenberg "
        "when it carries Project Gutenberg's markers, else text)", name="--format", choices=("auto", *FORMATS)))
    output: str | None = field(default=None, metadata=flag("output folder; none: data/shards/NAME",
                                                           name="--output", metavar="DIR"))
    work_dir: str | None = field(default=None, metadata=flag(
        "work folder (default: <output's parent>/_work/<output's name>)", name="--work-dir", metavar="DIR"))
    workers: int = field(default_factory=default_workers, metadata=flag("processes", name="--workers", minimum=1))
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    # Readers.
    wiki_index: str | None = field(default=None, metadata=flag(
        "the multistream index of a Wikipedia dump (default: found beside it by name)", name="--wiki-index",
        metavar="PATH"))
    pages_per_task: int = field(default=20_000, metadata=flag(
        "Wikipedia pages per parallel task of a multistream dump", name="--pages-per-task", minimum=1))
    unit: str = field(default="auto", metadata=flag(
        "one document per: book or chapter (gutenberg), file or paragraph (text); auto: book / file",
        name="--unit", choices=("auto", "book", "chapter", "file", "paragraph")))
    text_field: str = field(default="text", metadata=flag("JSONL/Parquet text field", name="--text-field"))
    id_field: str | None = field(default=None, metadata=flag(
        "JSONL/Parquet field with a stable document id (default: file name and row)", name="--id-field"))
    url_field: str | None = field(default=None, metadata=flag("JSONL/Parquet field with the document's URL",
                                                              name="--url-field"))
    # Steps.
    language: str = field(default="auto", metadata=flag(
        "language ID (fastText lid.176) and --languages filter; auto: on for text/jsonl/parquet, off for "
        "wikipedia/gutenberg", name="--language-filter", choices=SWITCH, group=CLEANING))
    languages: LanguageConfig = field(default_factory=LanguageConfig)
    pii: str = field(default="auto", metadata=flag(
        "anonymise e-mail and IP addresses; auto: on for text/jsonl/parquet, off for wikipedia/gutenberg",
        name="--pii", choices=SWITCH, group=CLEANING))
    min_words: int = field(default=20, metadata=flag("documents with fewer words are dropped",
                                                     name="--min-words", minimum=0, group=CLEANING))
    max_words: int = field(default=2_000_000, metadata=flag(
        "documents with more words are dropped (a long novel is ~200,000)", name="--max-words", minimum=1,
        group=CLEANING))
    dedup: bool = field(default=True, metadata=flag("skip exact and fuzzy de-duplication", name="--no-dedup"))
    dedup_preset: str = field(default="fineweb", metadata=flag("MinHash LSH settings", name="--dedup-preset",
                                                               choices=sorted(PRESETS)))
    dedup_against: list[str] = field(default_factory=list, metadata=flag(
        "also remove near-duplicates of these corpora (their shards or _signatures/)", name="--dedup-against",
        metavar="DIR", nargs="*"))
    decontaminate: list[str] = field(default_factory=list, metadata=flag(
        "task files whose 13-grams are cut out (GPT-3's rule; the files model.evaluate reads)",
        name="--decontaminate", metavar="FILE", nargs="*"))
    progress: bool = field(default=True, metadata=flag("no progress bars", name="--no-progress"))

    def output_path(self) -> Path:
        return Path(self.output) if self.output else Path("data/shards") / self.name

    def work_path(self) -> Path:
        return work_folder(self.output_path(), self.work_dir)

    def step_on(self, step: str, fmt: str) -> bool:
        """Whether optional step "language" or "pii" runs for format `fmt`."""
        value = getattr(self, step)
        return FORMAT_DEFAULTS[fmt][step] if value == "auto" else value == "on"


def guess_format(path: str) -> str:
    """The format of one input by its name (and, for .txt, its first 8 KB)."""
    name = path.lower()
    for ext in _COMPRESSION:
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    fmt = _SUFFIXES.get(Path(name).suffix)
    if fmt is None:
        raise UserError(f"{path}: cannot tell its format from the name; give --format ({', '.join(FORMATS)})")
    if fmt == "text":
        try:
            with open_decompressed(path) as f:
                head = f.read(8192)
        except (OSError, EOFError):
            return fmt  # unreadable here: the reader counts it
        if b"PROJECT GUTENBERG" in head.upper():
            return "gutenberg"
    return fmt


def expand_corpus_inputs(patterns: list[str]) -> list[str]:
    """Files, globs, and folders (every file under them, recursively, hidden ones skipped)."""
    out: list[str] = []
    for pattern in patterns:
        p = Path(pattern)
        if p.is_dir():
            out += sorted(str(f) for f in p.rglob("*") if f.is_file() and not f.name.startswith((".", "_")))
        else:
            out += expand_inputs([pattern])
    return list(dict.fromkeys(out))


def input_tasks(config: AddCorpusConfig) -> tuple[str, list[str], list[str]]:
    """(format, inputs, tasks): a multistream dump becomes byte ranges of whole bz2 streams."""
    inputs = expand_corpus_inputs(config.inputs)
    if not inputs:
        raise UserError(f"--input {config.inputs}: no files")
    if config.format != "auto":
        fmt = config.format
    else:
        found = {guess_format(p) for p in inputs}
        if len(found) > 1:
            raise UserError(f"the inputs hold several formats ({', '.join(sorted(found))}): run once per format, "
                            "or give --format")
        fmt = found.pop()
    if fmt != "wikipedia":
        return fmt, inputs, inputs
    tasks = [t for p in inputs if not p.endswith("-index.txt.bz2")
             for t in wikipedia_tasks(p, config.wiki_index, config.pages_per_task)]
    return fmt, [p for p in inputs if not p.endswith("-index.txt.bz2")], tasks


def read_documents(config: AddCorpusConfig, fmt: str, path: str, stats: StepStats):
    """The reader of `fmt` over one task."""
    unit = config.unit
    if fmt == "wikipedia":
        return read_wikipedia(path, config.name, stats, WikipediaConfig())
    if fmt == "gutenberg":
        return read_gutenberg(path, config.name, stats, GutenbergConfig(unit="book" if unit == "auto" else unit))
    text = TextConfig(unit="file" if unit == "auto" else unit, text_field=config.text_field,
                      id_field=config.id_field, url_field=config.url_field)
    reader = {"text": read_text_file, "jsonl": read_jsonl, "parquet": read_parquet}[fmt]
    return reader(path, config.name, stats, text)


def curated_steps(config: AddCorpusConfig, fmt: str) -> list[Step]:
    """The map steps after reading: language ID and PII where the format needs them, length always."""
    steps: list[Step] = []
    if config.step_on("language", fmt):
        steps.append(LanguageFilter(config.languages))
    steps.append(LengthFilter(config.min_words, config.max_words))
    if config.step_on("pii", fmt):
        steps.append(PIIAnonymizer())
    return steps


def map_input(config: AddCorpusConfig, fmt: str, path: str):
    """Stage 1, per task: one file (or byte range of a dump) through the reader and the map steps."""
    read_stats = StepStats(f"read_{fmt}")
    steps = curated_steps(config, fmt)
    docs = run_steps(read_documents(config, fmt, path, read_stats), steps)
    return docs, [read_stats] + [s.stats for s in steps]


def _map_parameters(config: AddCorpusConfig, fmt: str) -> dict:
    """What the parts depend on: the reading and cleaning settings, not where or how fast they run."""
    keys = ("name", "unit", "text_field", "id_field", "url_field", "language", "languages", "pii", "min_words",
            "max_words")
    return {"format": fmt, **{k: v for k, v in asdict(config).items() if k in keys}}


def run(config: AddCorpusConfig) -> dict:
    fmt, inputs, tasks = input_tasks(config)
    out = config.output_path()
    work = config.work_path()
    log.info("adding %d %s file(s) (%d tasks) as corpus %r with %d worker(s) into %s",
             len(inputs), fmt, len(tasks), config.name, config.workers, out)
    executor = make_executor(config.executor, config.workers, config.progress)

    # 1. Read and clean every input.
    parts = executor.map_stage(partial(map_input, config, fmt), tasks, work / "clean", desc=f"{fmt} inputs",
                               fingerprint=_map_parameters(config, fmt))
    files = [f for p in parts for f in p.files]

    # 2-3. Global: exact and near-duplicates (also against other corpora), benchmark 13-grams; shards.
    passes = global_passes(files, GlobalConfig(config.dedup, config.dedup_preset, config.dedup_against,
                                               config.decontaminate), work, executor)
    return write_output(passes, out, executor, pipeline="add_corpus", inputs=inputs,
                        parameters={**asdict(config), "format": fmt}, earlier=merge_stats(parts),
                        extra={"corpus": config.name, "format": fmt})


def parse_args(argv: list[str] | None = None) -> AddCorpusConfig:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(p, AddCorpusConfig)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    setup_logging(a.verbose)
    return config_from_flags(AddCorpusConfig, a)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    with user_errors(PROG):
        manifest = run(config)
    print_summary(manifest, config.output_path())


if __name__ == "__main__":
    main()
