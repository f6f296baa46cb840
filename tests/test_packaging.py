"""Static checks of what cannot run here: the compose file and the Dockerfile (no Docker engine)."""

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_services_run_real_modules_with_real_flags():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"build_webtext", "clean_commoncrawl", "train"}
    for name, service in compose["services"].items():
        module, *args = service["command"]
        mod = importlib.import_module(module)
        assert hasattr(mod, "main"), module
        assert (ROOT / service["build"] / "Dockerfile").exists()
        for flag in (a for a in args if a.startswith("--")):
            assert flag in (ROOT / (module.replace(".", "/") + ".py")).read_text(), (name, flag)
        for volume in service.get("volumes", []):
            assert volume.split(":")[0].startswith("./data/")


def test_dockerfile_copies_what_the_package_needs():
    text = (ROOT / "Dockerfile").read_text()
    for folder in ("corpus", "pipelines", "model", "data/samples"):
        assert f"COPY {folder} " in text
    assert "torch==2.13.0" in text and "ENTRYPOINT" in text
