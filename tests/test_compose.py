"""docker-compose.yml, checked without a Docker engine (none runs here): a Ray head, scalable
workers, the two pipelines on that cluster in the right order, and the trainer after both."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from corpus.executor import ExecutorConfig
from pipelines import build_webtext, clean_commoncrawl

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = {"build_webtext": build_webtext, "clean_commoncrawl": clean_commoncrawl}
SHARED = "./data/shards:/app/data/shards"  # the filesystem every node and driver shares


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def completed(service: dict) -> set[str]:
    """The services this one waits to have finished successfully."""
    return {name for name, cond in service.get("depends_on", {}).items()
            if cond == {"condition": "service_completed_successfully"}}


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_services_and_their_images(services):
    assert set(services) == {"ray-head", "ray-worker", "build_webtext", "clean_commoncrawl", "train"}
    for name, service in services.items():
        assert (ROOT / service["build"] / "Dockerfile").exists(), name
        for volume in service.get("volumes", []):
            assert volume.split(":")[0].startswith("./data/"), (name, volume)
    # The image can be a Ray node: the Dockerfile installs the ray extra.
    assert "'.[ray]'" in (ROOT / "Dockerfile").read_text()


def test_ray_head_and_scalable_workers(services):
    head, worker = services["ray-head"], services["ray-worker"]
    assert head["entrypoint"] == worker["entrypoint"] == ["ray"]
    assert head["command"][:3] == ["start", "--head", "--block"]
    port = option(head["command"], "--port")
    assert option(worker["command"], "--address") == f"ray-head:{port}"
    assert "--block" in worker["command"]  # a container lives as long as its node
    # `--scale ray-worker=N` needs no fixed name and no host port on the worker.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["depends_on"]["ray-head"] == {"condition": "service_healthy"} and "healthcheck" in head
    # Every node and driver shares the same folder at the same path, and the cluster's token.
    for name in ("ray-head", "ray-worker", *PIPELINES):
        assert SHARED in services[name]["volumes"], name
        assert "RAY_AUTH_TOKEN" in services[name]["environment"], name


def test_pipelines_are_submitted_to_the_cluster_in_order(services):
    head_port = option(services["ray-head"]["command"], "--port")
    for name, module in PIPELINES.items():
        command = services[name]["command"]
        assert command[0] == f"pipelines.{name}"
        config = module.parse_args(command[1:])  # the pipeline's own parser accepts every flag
        assert config.executor == ExecutorConfig("ray", f"ray-head:{head_port}")
        assert services[name]["depends_on"]["ray-head"] == {"condition": "service_healthy"}
    # clean_commoncrawl reads WebText's shards (classifier positives, --dedup-against): WebText first.
    cc = clean_commoncrawl.parse_args(services["clean_commoncrawl"]["command"][1:])
    webtext = build_webtext.parse_args(services["build_webtext"]["command"][1:])
    assert cc.quality_positive == cc.dedup_against == [webtext.output]
    assert completed(services["clean_commoncrawl"]) == {"build_webtext"}
    assert completed(services["build_webtext"]) == set()


def test_train_runs_torchrun_after_both_pipelines(services):
    from torch.distributed.run import get_args_parser

    from model.train import build_parser

    train = services["train"]
    assert train["entrypoint"] == ["torchrun"]
    args = get_args_parser().parse_args(train["command"])
    assert args.module and args.training_script == "model.train"
    assert int(args.nproc_per_node) >= 1
    trainer = build_parser().parse_args(args.training_script_args)
    assert trainer.data == "data/shards"
    assert completed(train) == set(PIPELINES)
