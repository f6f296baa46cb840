"""Static checks of what cannot run here: the Dockerfile (no Docker engine; the compose file: test_compose.py)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_copies_what_the_package_needs():
    text = (ROOT / "Dockerfile").read_text()
    for folder in ("corpus", "pipelines", "model", "data/samples"):
        assert f"COPY {folder} " in text
    assert "torch==2.13.0" in text and "ENTRYPOINT" in text
