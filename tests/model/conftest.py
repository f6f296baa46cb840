"""Fixtures for the model tests: tiny Parquet shards of varied English text, and a tokenizer on them."""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from model.data import find_shards, iter_texts
from model.tokenizer import train_tokenizer


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run the model tests on one thread: faster for these tiny models, and steady when other
    processes share the CPUs (two spinning OpenMP threads on a busy 2-core box can be 10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SUBJECTS = [
    "The city council", "A young engineer", "My grandmother", "The research team", "Our neighbour",
    "The old fisherman", "A local bakery", "The football club", "The new library", "Every student",
    "The orchestra", "A small company", "The river", "The museum guide", "Her brother",
]
VERBS = [
    "announced", "built", "painted", "discovered", "described", "repaired", "visited", "celebrated",
    "studied", "opened", "explained", "cooked", "planted", "measured", "wrote about",
]
OBJECTS = [
    "a wooden bridge", "the morning market", "an unusual recipe for bread", "the history of the valley",
    "a quiet garden", "the results of the experiment", "a festival in the spring", "the broken clock",
    "a map of the northern coast", "the last train home", "a collection of old letters",
    "the price of electricity", "a song about the sea", "the rules of the game", "a plan for new schools",
]
ENDINGS = [
    "last week", "after a long debate", "despite the rain", "with great care", "for the first time",
    "in front of a large crowd", "before sunrise", "without any help", "on a Tuesday afternoon",
    "as everyone expected",
]
FIXED = [
    "Water boils at 100 degrees Celsius at sea level. At higher altitudes the air pressure is lower, "
    "so water boils at a lower temperature and cooking takes longer.",
    "The café on the corner serves crème brûlée, naïve art hangs on its walls, and the menu says "
    "“fresh every day” — in three languages: English, Français, Deutsch. ☕",
    "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune.",
    "Step 1: preheat the oven to 200°C.\nStep 2: mix 250 g of flour with 2 eggs.\n\tStep 3: bake for 25 minutes.",
]


def make_documents(n: int, seed: int = 0) -> list[str]:
    """`n` deterministic English-like documents of 1 to 8 sentences (plus a few fixed paragraphs)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        if i % 25 == 7:
            docs.append(FIXED[(i // 25) % len(FIXED)])
            continue
        sentences = [
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(ENDINGS)}."
            for _ in range(rng.randint(1, 8))
        ]
        docs.append(" ".join(sentences))
    return docs


def write_shards(root: Path, docs: list[str], n_files: int = 3, row_group_size: int = 16) -> list[Path]:
    """Write `docs` round-robin into `n_files` zstd Parquet shards with small row groups."""
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(n_files):
        part = docs[f::n_files]
        table = pa.table({
            "id": [hashlib.sha1(f"test:{f}:{i}".encode()).hexdigest() for i in range(len(part))],
            "text": part,
            "source": ["webtext"] * len(part),
        })
        path = root / f"part-{f:05d}.parquet"
        pq.write_table(table, path, compression="zstd", row_group_size=row_group_size)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def shard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder like the pipelines write: shards in a subfolder, plus files the loader must skip."""
    root = tmp_path_factory.mktemp("shards")
    write_shards(root / "webtext", make_documents(240))
    # Things that are not shards of record: work folders, temp files, hidden files, manifests.
    write_shards(root / "webtext" / "_work", ["IN PROGRESS " * 5] * 4, n_files=1)
    write_shards(root / "_tmp", ["TEMP " * 5] * 4, n_files=1)
    (root / "webtext" / "manifest.json").write_text(json.dumps({"files": []}))
    pq.write_table(pa.table({"id": ["x"], "text": ["HIDDEN"]}), root / "webtext" / ".part.parquet")
    return root


@pytest.fixture(scope="session")
def tokenizer(shard_dir: Path):
    """A 512-token byte-level BPE trained on the train split of `shard_dir`."""
    return train_tokenizer(iter_texts(find_shards(shard_dir)), vocab_size=512)


@pytest.fixture
def make_shards(tmp_path: Path):
    """Factory: `make_shards(n_docs, n_files=1, name="data")` writes fresh shards and returns their folder."""

    def build(n_docs: int, n_files: int = 1, name: str = "data", seed: int = 0) -> Path:
        root = tmp_path / name
        write_shards(root, make_documents(n_docs, seed=seed), n_files=n_files)
        return root

    return build


@pytest.fixture(scope="session")
def mixed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sources as the pipelines lay them out: data/webtext/ and data/commoncrawl/."""
    root = tmp_path_factory.mktemp("mixed")
    write_shards(root / "webtext", make_documents(240), n_files=3)
    write_shards(root / "commoncrawl", make_documents(90, seed=9), n_files=1, row_group_size=8)
    return root


def unique_documents(n: int, seed: int = 0) -> list[str]:
    """`make_documents` with a unique prefix, so each text identifies its document."""
    return [f"doc {i:04d}: {text}" for i, text in enumerate(make_documents(n, seed=seed))]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, shard_dir: Path) -> Path:
    """A run folder holding one step checkpoint of a 2-layer GPT briefly trained on `shard_dir`
    (`model.train`'s own layout: latest, ckpt-NNNNNN/, tokenizer.json). Read-only for the tests."""
    from model.train import main as train_main

    out = tmp_path_factory.mktemp("tiny_run")
    train_main([
        "--data", str(shard_dir), "--out", str(out), "--overwrite", "--preset", "tiny",
        "--n-layer", "2", "--n-head", "2", "--n-embd", "64", "--block-size", "64", "--vocab-size", "512",
        "--batch-size", "8", "--max-steps", "30", "--eval-interval", "30", "--log-interval", "30",
        "--device", "cpu", "--no-progress", "--seed", "3",
    ])
    return out


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server with a bucket named `bucket`; botocore (here and in torchrun's processes) reads the
    endpoint and the (fake) credentials from the environment, as it would a real store's."""
    import s3fs  # the dev extra installs both
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        s3fs.S3FileSystem.clear_instance_cache()
        s3fs.S3FileSystem().mkdir("bucket")
        yield env["AWS_ENDPOINT_URL"]
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()
