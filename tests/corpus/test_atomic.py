"""corpus.writers.atomic: files and folders appear whole or not at all; a failed write leaves the old content."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.writers.atomic import (
    atomic_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    is_temporary,
)


def test_file_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_failed_file_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "weights.bin"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        with atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".weights.bin.tmp-")
            tmp.write_bytes(b"half")
            raise OSError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]


def test_folder_write_replaces_an_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "ckpt-000001"
    for text in ("first", "second"):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text(text)
            (tmp / "sub").mkdir()
            (tmp / "sub" / "b.txt").write_text(text)
        assert (target / "a.txt").read_text() == text and (target / "sub" / "b.txt").read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt-000001"]


def test_failed_folder_write_leaves_a_hidden_temporary(tmp_path: Path) -> None:
    target = tmp_path / "ckpt-000002"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("half")
            raise RuntimeError("crash")
    assert not target.exists()
    assert [p.name for p in tmp_path.glob(".ckpt-000002.tmp-*")]  # swept by the caller's next save


def test_json_and_temporary_names(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "manifest.json"
    atomic_write_json(target, {"café": 1})
    assert target.read_text(encoding="utf-8") == '{\n  "café": 1\n}\n'
    with atomic_path(target) as tmp:
        assert is_temporary(tmp) and not is_temporary(target)
        tmp.write_text("{}")
    assert target.read_text() == "{}"
