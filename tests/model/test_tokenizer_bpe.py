"""Byte-level BPE: training, exact round trips, the EOT token, save/load and reuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.tokenizer import (
    EOT_TOKEN,
    eot_id,
    load_or_train_tokenizer,
    load_tokenizer,
    save_tokenizer,
    train_tokenizer,
)

SAMPLES = [
    "The city council announced a wooden bridge last week.",
    "  leading spaces, trailing spaces  \n\nand blank lines\n",
    "Unicode: café, naïve, crème brûlée, Straße, Ελληνικά, 日本語, emoji 🎉👍🏽",
    "tabs\tand\r\nwindows newlines, numbers 3.14159 and symbols <>&%$#@!",
    "",
]


def test_trains_to_requested_size_with_eot(tokenizer) -> None:
    # Enough text for all 512 entries: 256 bytes + EOT + merges.
    assert tokenizer.get_vocab_size() == 512
    assert eot_id(tokenizer) == tokenizer.token_to_id(EOT_TOKEN) == 0
    # Merges were learnt: a frequent word is one token, not one per byte.
    assert len(tokenizer.encode(" council").ids) == 1


@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip_is_exact(tokenizer, text: str) -> None:
    ids = tokenizer.encode(text).ids
    assert tokenizer.decode(ids) == text
    # Byte-level: never an unknown token, every id is a real entry.
    assert all(0 <= i < tokenizer.get_vocab_size() for i in ids)


def test_eot_is_one_token_and_separates(tokenizer) -> None:
    ids = tokenizer.encode(f"first doc{EOT_TOKEN}second doc").ids
    assert ids.count(eot_id(tokenizer)) == 1
    # The document text itself never produces the EOT id.
    assert eot_id(tokenizer) not in tokenizer.encode("first doc second doc <|endof text|>").ids


def test_save_load_same_ids_and_standard_format(tokenizer, tmp_path: Path) -> None:
    path = save_tokenizer(tokenizer, tmp_path / "tokenizer.json")
    loaded = load_tokenizer(tmp_path)  # a folder works too
    for text in SAMPLES:
        assert loaded.encode(text).ids == tokenizer.encode(text).ids
    spec = json.loads(path.read_text())
    # The fields transformers.PreTrainedTokenizerFast reads from a GPT-2 style tokenizer.json.
    assert spec["model"]["type"] == "BPE"
    assert spec["pre_tokenizer"]["type"] == "ByteLevel"
    assert spec["decoder"]["type"] == "ByteLevel"
    assert any(t["content"] == EOT_TOKEN and t["special"] for t in spec["added_tokens"])
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed away


def test_load_or_train_reuses_existing(tokenizer, tmp_path: Path) -> None:
    save_tokenizer(tokenizer, tmp_path / "tokenizer.json")

    def must_not_be_read():
        raise AssertionError("texts were read although a tokenizer exists")
        yield  # pragma: no cover

    tok, trained = load_or_train_tokenizer(tmp_path / "tokenizer.json", must_not_be_read(), vocab_size=999)
    assert not trained and tok.get_vocab_size() == 512


def test_load_or_train_trains_when_missing(tmp_path: Path) -> None:
    texts = ["hello world, hello tokenizer"] * 50
    tok, trained = load_or_train_tokenizer(tmp_path / "sub" / "tokenizer.json", iter(texts), vocab_size=300)
    assert trained and (tmp_path / "sub" / "tokenizer.json").is_file()
    assert 257 < tok.get_vocab_size() <= 300
    assert tok.decode(tok.encode(texts[0]).ids) == texts[0]


def test_rejects_vocab_without_room_for_merges() -> None:
    with pytest.raises(ValueError):
        train_tokenizer(["abc"], vocab_size=200)
    with pytest.raises(FileNotFoundError):
        load_tokenizer("/nonexistent/tokenizer.json")


def test_transformers_loads_the_file_with_the_same_ids(tokenizer, tmp_path: Path) -> None:
    """Checked by hand with transformers 5.24; skipped where transformers is not installed (CI)."""
    transformers = pytest.importorskip("transformers")
    path = save_tokenizer(tokenizer, tmp_path / "tokenizer.json")
    hf = transformers.PreTrainedTokenizerFast(tokenizer_file=str(path), eos_token=EOT_TOKEN)
    for text in SAMPLES:
        assert hf.encode(text) == tokenizer.encode(text).ids and hf.decode(hf.encode(text)) == text
    assert hf.eos_token_id == eot_id(tokenizer)
