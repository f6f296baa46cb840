"""Presets reproduce the papers' parameter counts; counted on the meta device, so nothing is allocated."""

from __future__ import annotations

import math

import pytest
import torch

from model.config import (
    GPT2_VOCAB_SIZE,
    PAPER_PARAMS,
    PRESETS,
    GPTConfig,
    pad_vocab,
    preset,
)
from model.gpt import GPT


def meta_params(cfg: GPTConfig) -> int:
    with torch.device("meta"):
        model = GPT(cfg)
    assert next(model.parameters()).is_meta
    return model.num_params()


def test_gpt2_small_is_124m() -> None:
    n = meta_params(preset("gpt2", pad_vocab_to=None))
    assert n == 124_439_808  # the released GPT-2 small checkpoint
    # Padding 50257 -> 50304 adds 47 rows of 768.
    assert meta_params(preset("gpt2")) == n + 47 * 768


@pytest.mark.parametrize("name", [n for n in PAPER_PARAMS if n != "gpt2"])
def test_preset_matches_paper(name: str) -> None:
    cfg = preset(name, pad_vocab_to=None)
    n = cfg.num_params()
    # Table 2.1 rounds (e.g. 13.0B); our 13B uses d_model 5120 (see config.py), within 1.2%.
    assert abs(n - PAPER_PARAMS[name]) / PAPER_PARAMS[name] < 0.03, (name, n)


@pytest.mark.parametrize("name", ["tiny", "gpt2-xl", "gpt3-xl", "gpt3-175b"])
def test_closed_form_count_equals_built_model(name: str) -> None:
    cfg = preset(name)
    assert meta_params(cfg) == cfg.num_params()


def test_gpt3_shapes_follow_table_2_1() -> None:
    heads = {"gpt3-small": 64, "gpt3-medium": 64, "gpt3-large": 96, "gpt3-xl": 128,
             "gpt3-2.7b": 80, "gpt3-6.7b": 128, "gpt3-13b": 128, "gpt3-175b": 128}
    for name, d_head in heads.items():
        cfg = preset(name)
        assert cfg.head_dim == d_head and cfg.block_size == 2048
    assert preset("gpt3-175b").num_params() == pytest.approx(175e9, rel=0.01)


def test_vocab_padding_and_overrides() -> None:
    assert pad_vocab(GPT2_VOCAB_SIZE) == 50304 and pad_vocab(4096) == 4096 and pad_vocab(4097) == 4160
    assert preset("gpt2").vocab_size == 50304
    cfg = preset("tiny", vocab_size=1000, n_layer=2, block_size=None)
    assert (cfg.vocab_size, cfg.n_layer, cfg.block_size) == (1024, 2, PRESETS["tiny"]["block_size"])
    assert GPTConfig.from_dict({**cfg.to_dict(), "unknown_key": 1}) == cfg


def test_invalid_configs_rejected() -> None:
    with pytest.raises(ValueError):
        GPTConfig(n_embd=100, n_head=3)
    with pytest.raises(ValueError):
        GPTConfig(dropout=1.0)
    with pytest.raises(KeyError):
        preset("gpt5")


def test_tiny_preset_fits_cpu() -> None:
    n = preset("tiny").num_params()
    assert n < 3e6 and math.isclose(preset("tiny").vocab_size, 4096)
