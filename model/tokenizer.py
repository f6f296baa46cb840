"""Byte-level BPE tokenizer (GPT-2 style) trained with Hugging Face `tokenizers`.

Byte-level means the base alphabet is the 256 byte values, so any UTF-8 text round-trips exactly and
there is no unknown token. The saved `tokenizer.json` is the standard `tokenizers` format, which
`transformers.PreTrainedTokenizerFast(tokenizer_file=...)` loads as it is.

One difference from GPT-2's released vocabulary: `<|endoftext|>` is id 0 here (special tokens come
first when training), where GPT-2 has it at 50256. Always ask `eot_id()` instead of hard-coding it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from corpus.writers.atomic import atomic_path

EOT_TOKEN = "<|endoftext|>"
TOKENIZER_FILE = "tokenizer.json"


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2, show_progress: bool = False
) -> Tokenizer:
    """Train a byte-level BPE with `vocab_size` entries (incl. 256 bytes and `<|endoftext|>`).

    `texts` is consumed once, as a stream, so a corpus larger than memory is fine.
    """
    if vocab_size < 257 + 1:
        raise ValueError(f"vocab_size must exceed 257 (256 bytes + {EOT_TOKEN}), got {vocab_size}")
    tok = Tokenizer(models.BPE())
    # add_prefix_space=False matches GPT-2: " the" and "the" are different tokens and the text is not
    # altered, so decode(encode(s)) == s.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    # trim_offsets=False as in GPT-2's tokenizer.json: only affects offsets, never the ids.
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOT_TOKEN],
        # Seed the vocabulary with all 256 byte symbols, even those absent from the sample,
        # so every possible input stays encodable.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=show_progress,
    )
    tok.train_from_iterator(_non_empty(texts), trainer=trainer)
    return tok


def _non_empty(texts: Iterable[str]) -> Iterator[str]:
    for t in texts:
        if t:
            yield t


def save_tokenizer(tok: Tokenizer, path: str | Path) -> Path:
    """Write `tok` as `tokenizer.json` atomically (a reader never sees a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tok.save(str(tmp))
    return path


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load a `tokenizer.json` file, or the one inside directory `path`."""
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no tokenizer at {path}")
    return Tokenizer.from_file(str(path))


def eot_id(tok: Tokenizer) -> int:
    """Id of `<|endoftext|>`, the document separator; raises if the tokenizer lacks it."""
    i = tok.token_to_id(EOT_TOKEN)
    if i is None:
        raise ValueError(f"tokenizer has no {EOT_TOKEN} token")
    return i


def load_or_train_tokenizer(
    path: str | Path, texts: Iterable[str], vocab_size: int = 4096
) -> tuple[Tokenizer, bool]:
    """Reuse the tokenizer at `path` if present, else train one on `texts` and save it there.

    Returns (tokenizer, trained) where `trained` says whether a new one was made. `texts` is only
    iterated when training, so passing a lazy generator costs nothing on reuse.
    """
    path = Path(path)
    if path.is_file():
        return load_tokenizer(path), False
    tok = train_tokenizer(texts, vocab_size=vocab_size)
    save_tokenizer(tok, path)
    return tok, True
