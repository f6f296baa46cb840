"""The output folder is replaced as a whole, atomically: never a half-written output, never none."""

import json

import pytest

from corpus.writers import publish
from corpus.writers.publish import Staging
from pipelines.cli import work_folder


def write_output(folder, text):
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "part-00000-00000.parquet").write_text(text)
    (folder / "manifest.json").write_text(json.dumps({"text": text}))


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_the_old_output_stays_until_the_swap_then_the_new_one_replaces_it(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    write_output(out, "old")
    (out / "stray-file-of-the-old-run.parquet").write_text("x")
    staging = Staging(out, {"run": 2})
    write_output(staging.path, "new")
    assert (out / "data" / "part-00000-00000.parquet").read_text() == "old"  # readable while staging
    staging.swap()
    assert (out / "data" / "part-00000-00000.parquet").read_text() == "new"
    assert not (out / "stray-file-of-the-old-run.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging, no old copy left


def test_a_first_run_swaps_into_a_missing_folder(tmp_path):
    staging = Staging(tmp_path / "out", {})
    write_output(staging.path, "new")
    staging.swap()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == {"text": "new"}


def test_staging_of_a_killed_run_is_kept_for_the_same_run_and_cleared_for_another(tmp_path):
    out = tmp_path / "out"
    first = Staging(out, {"digest": "a"})
    (first.data_dir / "part-00003-00000.parquet").write_text("done before the kill")
    again = Staging(out, {"digest": "a"})
    assert (again.data_dir / "part-00003-00000.parquet").exists()
    other = Staging(out, {"digest": "b"})
    assert list(other.data_dir.iterdir()) == []


def test_a_swap_cut_between_its_two_renames_is_undone_by_the_next_run(tmp_path):
    out, previous = tmp_path / "out", tmp_path / ".out.previous"
    write_output(previous, "old")  # the state after the first rename of the fallback swap
    Staging(out, {})
    assert json.loads((out / "manifest.json").read_text()) == {"text": "old"}
    assert not previous.exists()


def test_a_work_folder_inside_the_output_is_refused(tmp_path):
    from corpus.errors import UserError

    with pytest.raises(UserError, match="inside --output"):
        work_folder(tmp_path / "out", tmp_path / "out" / "work")
    assert work_folder(tmp_path / "out", tmp_path / "elsewhere") == tmp_path / "elsewhere"
