"""`model.train` with a bucket (moto's S3 server on 127.0.0.1): `--checkpoint-dir s3://...` puts checkpoints there,
not in --out; another --out (another node, no shared disk) resumes from the bucket on the same loss curve;
under --fsdp every rank writes its own shards there and a different world size resumes them; `--data s3://...`
trains on shards in the bucket exactly as on the local copy."""

from __future__ import annotations

import fsspec
import pytest

from model import train as train_mod
from model.checkpoint_store import RemoteStore
from model.data import find_shards
from model.tokenizer import save_tokenizer
from tests.model.test_fsdp import torchrun
from tests.model.test_train_cli import TINY, read_metrics


def bucket_files(prefix: str) -> set[str]:
    fs, root = fsspec.core.url_to_fs(prefix)
    fs.invalidate_cache()
    return {p[len(root) + 1:] for p in fs.find(root)}


def same_curve(run: list[dict], reference: list[dict]) -> None:
    by_step = {r["step"]: r for r in reference}
    for r in run:
        assert r["loss"] == pytest.approx(by_step[r["step"]]["loss"], abs=1e-4), r["step"]
        assert r.get("val_loss") == pytest.approx(by_step[r["step"]].get("val_loss"), abs=1e-4), r["step"]


def test_checkpoints_in_a_bucket_resume_on_another_machine(shard_dir, tmp_path, tokenizer, s3_endpoint) -> None:
    common = ["--data", str(shard_dir), "--max-steps", "4", "--log-interval", "1", "--eval-interval", "2",
              "--loader-workers", "0", *TINY]
    for name in ("reference", "node-a"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    reference = train_mod.main([*common, "--out", str(tmp_path / "reference")])

    url = "s3://bucket/run-ddp"
    train_mod.main([*common, "--out", str(tmp_path / "node-a"), "--checkpoint-dir", url, "--run-steps", "2",
                    "--keep-last", "1"])
    assert not list((tmp_path / "node-a").glob("ckpt-*"))  # nothing of the checkpoint stays on the local disk
    assert {"latest", "ckpt-000002/train_state.json", "ckpt-000002/model.safetensors",
            "ckpt-000002/tokenizer.json", "ckpt-000002/optimizer.pt"} <= bucket_files(url)

    # node-b has neither the tokenizer nor any checkpoint: both come from the bucket.
    resumed = train_mod.main([*common, "--out", str(tmp_path / "node-b"), "--checkpoint-dir", url, "--resume",
                              "--keep-last", "1"])
    assert resumed["steps"] == 4 and resumed["checkpoint"] == f"{url}/ckpt-000004"
    same_curve(read_metrics(tmp_path / "node-b"), read_metrics(tmp_path / "reference"))
    assert resumed["last_loss"] == pytest.approx(reference["last_loss"], abs=1e-4)
    assert not any(f.startswith("ckpt-000002") for f in bucket_files(url))  # --keep-last 1

    with pytest.raises(SystemExit, match=r"already holds 1 checkpoint\(s\)"):  # a fresh run would replace them
        train_mod.main([*common, "--out", str(tmp_path / "node-c"), "--checkpoint-dir", url])


@pytest.mark.slow  # two torchrun launches
def test_sharded_checkpoints_in_a_bucket_resume_on_another_world_size(shard_dir, tmp_path, tokenizer,
                                                                      s3_endpoint) -> None:
    common = ["--data", str(shard_dir), "--max-steps", "4", "--log-interval", "1", "--eval-interval", "2",
              "--data-streams", "4", "--batch-tokens", str(4 * 4 * 32), "--loader-workers", "0", *TINY]
    for name in ("reference", "sharded"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    train_mod.main([*common, "--out", str(tmp_path / "reference")])

    url = "s3://bucket/run-fsdp"
    torchrun(2, [*common, "--out", str(tmp_path / "sharded"), "--checkpoint-dir", url, "--fsdp", "--run-steps", "2"])
    files = bucket_files(url)
    for what in ("model_dcp", "optimizer_dcp"):  # each rank's shards, and DCP's metadata
        assert {f"ckpt-000002/{what}/.metadata", f"ckpt-000002/{what}/__0_0.distcp",
                f"ckpt-000002/{what}/__1_0.distcp"} <= files
    torchrun(1, [*common, "--out", str(tmp_path / "other-node"), "--checkpoint-dir", url, "--fsdp", "--resume"])
    cache = tmp_path / "other-node" / ".checkpoint-cache" / "rank-0" / "ckpt-000002"
    assert not (cache / "model.safetensors").exists()  # a sharded resume reads its shards, not the full weights
    same_curve(read_metrics(tmp_path / "other-node"), read_metrics(tmp_path / "reference"))
    assert [r["step"] for r in read_metrics(tmp_path / "other-node")] == [3, 4]


def test_an_unwritable_store_stops_before_training_and_a_failed_upload_stops_with_the_reason(
        shard_dir, tmp_path, tokenizer, s3_endpoint, monkeypatch) -> None:
    save_tokenizer(tokenizer, tmp_path / "run" / "tokenizer.json")
    args = ["--data", str(shard_dir), "--out", str(tmp_path / "run"), "--max-steps", "2", *TINY]
    with pytest.raises(SystemExit, match=r"s3://no-such-bucket/run is not writable from this process: .*bucket"):
        train_mod.main([*args, "--checkpoint-dir", "s3://no-such-bucket/run"])
    assert not (tmp_path / "run" / "metrics.jsonl").exists()  # stopped before the first step

    def refused(*_a, **_k):
        raise PermissionError("Access Denied")

    monkeypatch.setattr(RemoteStore, "save", refused)  # the bucket works at the start, then refuses the upload
    with pytest.raises(SystemExit, match=r"step 2 could not be written to s3://bucket/refused: PermissionError"):
        train_mod.main([*args, "--checkpoint-dir", "s3://bucket/refused"])


def test_training_reads_its_shards_from_a_bucket(shard_dir, tmp_path, tokenizer, s3_endpoint) -> None:
    """--data s3://...: the same shards (work folders skipped alike) give the same batches as the local copy,
    with loader workers too (they open the bucket after the fork)."""
    fs, _ = fsspec.core.url_to_fs("s3://bucket")
    fs.put(str(shard_dir), "bucket/corpus", recursive=True)
    assert [p.split("/corpus/", 1)[1] for p in find_shards("s3://bucket/corpus")] == \
        [p.relative_to(shard_dir).as_posix() for p in find_shards(shard_dir)]
    common = ["--max-steps", "3", "--log-interval", "1", "--eval-interval", "3", "--loader-workers", "1",
              "--mix", "webtext=1", *TINY]
    for name in ("local", "bucket"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    train_mod.main(["--data", str(shard_dir), "--out", str(tmp_path / "local"), *common])
    train_mod.main(["--data", "s3://bucket/corpus", "--out", str(tmp_path / "bucket"), *common])
    local, bucket = read_metrics(tmp_path / "local"), read_metrics(tmp_path / "bucket")
    assert [(r["step"], r["loss"], r.get("val_loss")) for r in bucket] == \
        [(r["step"], r["loss"], r.get("val_loss")) for r in local]
    with pytest.raises(SystemExit, match="no-such-source"):
        train_mod.main(["--data", "s3://bucket/corpus", "--out", str(tmp_path / "typo"), "--mix", "no-such-source=1",
                        *TINY])
