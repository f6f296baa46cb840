"""GPT-3 style source mixing: parsing, source discovery, per-block draws, and exact resume with workers."""

from __future__ import annotations

import random
import shutil
from itertools import islice
from pathlib import Path

import pytest
import torch

from model.data import LoaderConfig, find_shards, iter_texts
from model.loader import TokenLoader, merge_states
from model.mixing import ALL, GPT3_MIX, discover_sources, mix_choices, parse_mix, preset_mix, unused_sources
from model.tokenizer import train_tokenizer
from tests.model.conftest import write_shards


def test_parse_mix() -> None:
    assert parse_mix("webtext=0.6,commoncrawl=0.4") == {"webtext": 0.6, "commoncrawl": 0.4}
    assert parse_mix(" a=3 , b=1 ,") == {"a": 3.0, "b": 1.0}
    for bad in ("", "webtext", "=1", "a=x", "a=0", "a=-1", "a=1,a=2", "a=nan"):
        with pytest.raises(ValueError):
            parse_mix(bad)


def test_discover_sources(mixed_dir: Path, tmp_path: Path) -> None:
    (single,) = discover_sources(mixed_dir)
    assert single.name == ALL and len(single.paths) == 4 and single.weight == 1.0
    web, cc = discover_sources(mixed_dir, {"webtext": 3, "commoncrawl": 1})
    assert (web.name, len(web.paths), web.weight) == ("webtext", 3, 0.75)
    assert (cc.name, len(cc.paths), cc.weight) == ("commoncrawl", 1, 0.25)
    assert unused_sources(mixed_dir, [web]) == ["commoncrawl"]
    with pytest.raises(ValueError, match="books"):
        discover_sources(mixed_dir, {"webtext": 1, "books": 1})
    # The digest ignores where the data folder lives.
    shutil.copytree(mixed_dir, tmp_path / "moved")
    assert discover_sources(tmp_path / "moved", {"webtext": 1})[0].digest() == web.digest()


def test_mix_choices_are_seeded_counter_based_and_weighted() -> None:
    a = mix_choices(1, 0, 5, 64, [0.7, 0.3])
    assert a == mix_choices(1, 0, 5, 64, [0.7, 0.3])  # same (seed, stream, batch): same draw
    assert a != mix_choices(1, 0, 6, 64, [0.7, 0.3]) and a != mix_choices(1, 1, 5, 64, [0.7, 0.3])
    draws = [k for b in range(200) for k in mix_choices(1, 0, b, 50, [0.7, 0.3])]
    assert abs(draws.count(0) / len(draws) - 0.7) < 0.02
    assert mix_choices(1, 0, 0, 4, [1.0]) == [0, 0, 0, 0]


def letters_docs(alphabet: str, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 7))) for _ in range(rng.randint(5, 40)))
            + "." for _ in range(n)]


def test_each_block_comes_from_one_source_drawn_by_weight(tmp_path: Path) -> None:
    # Two sources with disjoint alphabets: a block's characters tell which source it came from.
    write_shards(tmp_path / "early", letters_docs("abcdefghijklm", 300, 1), n_files=2)
    write_shards(tmp_path / "late", letters_docs("nopqrstuvwxyz", 300, 2), n_files=2)
    sources = discover_sources(tmp_path, parse_mix("early=0.75,late=0.25"))
    tok = train_tokenizer(iter_texts(find_shards(tmp_path), split="all"), vocab_size=400)
    cfg = LoaderConfig(batch_size=8, block_size=20, val_fraction=0.0, seed=3, num_streams=2)
    kinds = []
    for x, y in islice(TokenLoader(sources, tok, cfg), 60):
        for row in torch.cat([x, y[:, -1:]], dim=1).tolist():
            letters = set(tok.decode(row, skip_special_tokens=True)) - set(" .")
            early, late = letters <= set("abcdefghijklm"), letters <= set("nopqrstuvwxyz")
            assert early != late, letters  # pure: never both, never neither
            kinds.append(early)
    assert abs(sum(kinds) / len(kinds) - 0.75) < 0.06  # 480 blocks


@pytest.mark.parametrize("stop_after", [3, 10])
def test_resume_with_mixing_and_workers_is_exact(mixed_dir: Path, tokenizer, stop_after: int) -> None:
    sources = discover_sources(mixed_dir, parse_mix("webtext=0.6,commoncrawl=0.4"))
    cfg = LoaderConfig(batch_size=3, block_size=24, seed=9, tokenize_batch=4, num_streams=4)
    reference = [x for x, _ in islice(TokenLoader(sources, tokenizer, cfg), stop_after + 12)]

    first = TokenLoader(sources, tokenizer, cfg, num_workers=2)
    for _ in islice(first, stop_after):  # the workers prefetch beyond this; the state must not care
        pass
    state = first.state_dict()
    assert state["cursor"] == stop_after and set(state["sources"]) == {"webtext", "commoncrawl"}
    for workers in (2, 1, 0):  # resuming with another worker count continues the same stream
        resumed = TokenLoader(sources, tokenizer, cfg, num_workers=workers)
        resumed.load_state_dict(state)
        rest = [x for x, _ in islice(resumed, 12)]
        assert len(rest) == 12 and all(torch.equal(p, q) for p, q in zip(reference[stop_after:], rest)), workers


def test_resume_refuses_another_mixture_or_stream_count(mixed_dir: Path, tokenizer) -> None:
    sources = discover_sources(mixed_dir, parse_mix("webtext=0.6,commoncrawl=0.4"))
    loader = TokenLoader(sources, tokenizer, LoaderConfig(num_streams=2))
    state = loader.state_dict()
    other_mix = TokenLoader(discover_sources(mixed_dir, parse_mix("webtext=0.5,commoncrawl=0.5")), tokenizer,
                            LoaderConfig(num_streams=2))
    with pytest.raises(ValueError, match="sources"):
        other_mix.load_state_dict(state)
    with pytest.raises(ValueError, match="num_streams"):
        TokenLoader(sources, tokenizer, LoaderConfig(num_streams=4)).load_state_dict(state)
    with pytest.raises(ValueError, match="version"):
        loader.load_state_dict({"position": {}, "token_offset": 0})  # the pre-streams format


def test_gpt3_preset_maps_table_2_2_onto_the_folders_present(tmp_path: Path) -> None:
    for name in ("commoncrawl", "webtext2", "wikipedia", "books"):
        write_shards(tmp_path / name, [f"{name} text"] * 4, n_files=1)
    (tmp_path / "_work").mkdir()  # work folders are not sources
    mix = preset_mix("gpt3", tmp_path)
    assert mix == {"books": pytest.approx(0.16), "commoncrawl": 0.60, "webtext2": 0.22, "wikipedia": 0.03}
    sources = {s.name: s.weight for s in discover_sources(tmp_path, mix)}
    assert sources["commoncrawl"] / sources["wikipedia"] == pytest.approx(GPT3_MIX["commoncrawl"] / GPT3_MIX["wikipedia"])
    write_shards(tmp_path / "papers", ["x"] * 4, n_files=1)
    with pytest.raises(ValueError, match=r"no weight for \['papers'\].*--mix instead"):
        preset_mix("gpt3", tmp_path)
    with pytest.raises(ValueError, match="unknown --mix-preset"):
        preset_mix("gpt5", tmp_path)


def test_tokens_and_epochs_elapsed_per_source(tmp_path: Path) -> None:
    # A small source with a large weight goes round several times while the large one is still in its first epoch.
    write_shards(tmp_path / "small", letters_docs("abcdefghijklm", 16, 1), n_files=1, row_group_size=4)
    write_shards(tmp_path / "large", letters_docs("nopqrstuvwxyz", 600, 2), n_files=2)
    sources = discover_sources(tmp_path, parse_mix("small=0.5,large=0.5"))
    tok = train_tokenizer(iter_texts(find_shards(tmp_path), split="all"), vocab_size=400)
    cfg = LoaderConfig(batch_size=8, block_size=20, val_fraction=0.0, seed=3, num_streams=2)
    loader = TokenLoader(sources, tok, cfg)
    for _ in islice(loader, 40):
        pass
    progress = loader.source_progress()
    assert sum(p["tokens"] for p in progress.values()) == loader.tokens_emitted == 40 * 8 * 20
    epoch_tokens = {name: sum(len(tok.encode(t).ids) + 1 for t in iter_texts(find_shards(tmp_path / name),
                                                                              split="all")) for name in progress}
    for name, p in progress.items():
        # Counted in documents, so close to, not exactly, the token ratio.
        assert p["epochs"] == pytest.approx(p["tokens"] / epoch_tokens[name], rel=0.15, abs=0.02), name
    assert progress["small"]["epochs"] > 1.5 and progress["large"]["epochs"] < 0.5
    resumed = TokenLoader(sources, tok, cfg)
    resumed.load_state_dict(loader.state_dict())
    assert resumed.source_progress() == progress  # the counters travel with the checkpoint


def test_any_number_of_ranks_continues_the_same_blocks(mixed_dir: Path, tokenizer) -> None:
    """The loader state of R ranks continues on R' ranks: the blocks are the ones one rank reading all
    streams in turn would see (what lets a run resume on another world size)."""
    sources = discover_sources(mixed_dir, parse_mix("webtext=0.6,commoncrawl=0.4"))
    cfg = LoaderConfig(batch_size=3, block_size=24, seed=9, tokenize_batch=4, num_streams=4)
    ref = [x for x, _ in islice(TokenLoader(sources, tokenizer, cfg), 24)]
    two = [TokenLoader(sources, tokenizer, cfg, rank=r, world_size=2) for r in range(2)]
    read = [[x for x, _ in islice(loader, 4)] for loader in two]
    assert all(torch.equal(read[r][i], ref[2 * i + r]) for i in range(4) for r in range(2))
    one = TokenLoader(sources, tokenizer, cfg)
    one.load_state_dict(merge_states([loader.state_dict() for loader in two]))
    assert all(torch.equal(a, b) for a, b in zip((x for x, _ in islice(one, 8)), ref[8:16]))
    four = [TokenLoader(sources, tokenizer, cfg, rank=r, world_size=4) for r in range(4)]
    for loader in four:
        loader.load_state_dict(one.state_dict())
    read = [[x for x, _ in islice(loader, 2)] for loader in four]
    assert all(torch.equal(read[r][i], ref[16 + 4 * i + r]) for i in range(2) for r in range(4))
    odd = TokenLoader(sources, tokenizer, cfg, rank=0, world_size=4)
    state = one.state_dict()
    state["cursor"] = 5  # 5 batches read by one rank: four ranks cannot share them out
    with pytest.raises(ValueError, match="cannot continue them evenly"):
        odd.load_state_dict(state)
