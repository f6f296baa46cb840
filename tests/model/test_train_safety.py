"""Trainer safety and a CLI a person can trust: a fresh run never deletes another run's checkpoints;
checkpoints every N minutes (driven here by a fake clock) without changing the result; numbers checked
at parse time (one line, exit code 2); every --help entry shows its default; no progress bar flooding a
log when stderr is not a terminal."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model import sample as sample_mod
from model import train as train_mod
from model.checkpoint import list_checkpoints
from model.tokenizer import save_tokenizer

TINY = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "32", "--batch-size", "4",
        "--threads", "1", "--no-progress", "--val-fraction", "0.1", "--eval-iters", "2", "--no-tensorboard",
        "--no-plot", "--eval-interval", "0", "--log-interval", "1"]


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def weights(ckpt: Path) -> dict[str, torch.Tensor]:
    return load_file(str(ckpt / "model.safetensors"))


# --- a fresh run into an --out holding another run's checkpoints ---


def test_fresh_run_refuses_to_replace_another_runs_checkpoints(shard_dir: Path, tmp_path: Path, tokenizer) -> None:
    out, other = tmp_path / "run", tmp_path / "other"
    for folder in (out, other):
        save_tokenizer(tokenizer, folder / "tokenizer.json")
    base = ["--data", str(shard_dir), *TINY, "--keep-last", "0"]
    train_mod.main([*base, "--out", str(out), "--max-steps", "4", "--save-interval", "2"])
    assert [s for s, _ in list_checkpoints(out)] == [2, 4]
    before = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    # Before: the first save of this run deleted ckpt-000002 and ckpt-000004.
    with pytest.raises(SystemExit, match=r"already holds 2 checkpoint\(s\) of another run.*--overwrite"):
        train_mod.main([*base, "--out", str(out), "--max-steps", "3"])
    # So does a run resumed from a checkpoint of another folder: the 2 and 4 here are not its own.
    train_mod.main([*base, "--out", str(other), "--max-steps", "2"])
    with pytest.raises(SystemExit, match="a run resumed from .*other"):
        train_mod.main([*base, "--out", str(out), "--resume", str(other / "ckpt-000002"), "--max-steps", "3"])
    # Nothing in --out was touched: checkpoints, pointer, metrics, tokenizer.
    after = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before

    # --resume continues them; --overwrite replaces them, as asked.
    resumed = train_mod.main([*base, "--out", str(out), "--resume", "--max-steps", "5"])
    assert resumed["steps_this_run"] == 1 and [s for s, _ in list_checkpoints(out)] == [2, 4, 5]
    fresh = train_mod.main([*base, "--out", str(out), "--max-steps", "3", "--overwrite"])
    assert fresh["steps"] == 3 and [s for s, _ in list_checkpoints(out)] == [3]


def test_user_errors_are_one_line_with_exit_code_2(shard_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    (out / "ckpt-000005").mkdir(parents=True)
    (out / "ckpt-000005" / "train_state.json").write_text('{"step": 5}')
    # As a person runs it: `python -m model.train ...`, its stderr and exit code.
    done = subprocess.run([sys.executable, "-m", "model.train", "--data", str(shard_dir), "--out", str(out),
                           "--no-progress"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith("python -m model.train: error: ") and done.stderr.count("\n") == 1
    assert "already holds 1 checkpoint(s)" in done.stderr and "--overwrite" in done.stderr
    assert (out / "ckpt-000005" / "train_state.json").read_text() == '{"step": 5}'
    # The same path in-process (`run_cli` is what `__main__` calls): a parse error and a bad --data.
    for args, message in [(["--max-steps", "-5"], "argument --max-steps: must be >= 1, got -5"),
                          (["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")], "does not exist")]:
        with pytest.raises(SystemExit) as e:
            train_mod.run_cli(lambda: train_mod.main([*args, "--no-progress"]), train_mod.build_parser())
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith("python -m model.train: error: ") and err.count("\n") == 1
        assert message in err


# --- numbers are checked when parsed ---

BAD_TRAIN = [
    ("--max-steps", "-5"), ("--max-steps", "0"), ("--run-steps", "0"), ("--batch-size", "0"),
    ("--batch-tokens", "-1"), ("--grad-accum-steps", "0"), ("--log-interval", "0"), ("--eval-interval", "-1"),
    ("--eval-iters", "-1"), ("--save-interval", "-2"), ("--save-every-minutes", "-1"),
    ("--save-every-minutes", "inf"), ("--lr", "0"), ("--lr", "nan"), ("--min-lr-ratio", "1.5"),
    ("--warmup-steps", "-1"), ("--weight-decay", "-0.1"), ("--grad-clip", "-1"), ("--dropout", "1"),
    ("--val-fraction", "-0.1"), ("--val-fraction", "1"), ("--keep-last", "-1"), ("--loader-workers", "-2"),
    ("--data-streams", "0"), ("--threads", "0"), ("--vocab-size", "257"), ("--seed", "-1"),
    ("--n-layer", "0"), ("--n-head", "-1"), ("--n-embd", "0"), ("--block-size", "0"), ("--local-window", "0"),
    ("--tokenizer-max-chars", "0"),
]
BAD_SAMPLE = [
    ("--max-new-tokens", "0"), ("--temperature", "-1"), ("--top-k", "-1"), ("--top-p", "0"), ("--top-p", "1.5"),
    ("--num-samples", "0"), ("--seed", "-3"),
]


@pytest.mark.parametrize("module,flag,value", [(train_mod, f, v) for f, v in BAD_TRAIN]
                         + [(sample_mod, f, v) for f, v in BAD_SAMPLE])
def test_meaningless_numbers_are_refused(module, flag: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        module.build_parser().parse_args([flag, value])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"argument {flag}: " in err[0] and value in err[0], err


def test_boundary_numbers_that_mean_something_are_accepted() -> None:
    cfg = train_mod.parse_args(["--val-fraction", "0", "--eval-iters", "0", "--eval-interval", "0",
                                "--save-interval", "0", "--save-every-minutes", "0", "--loader-workers", "0",
                                "--keep-last", "0", "--warmup-steps", "0", "--grad-clip", "0", "--dropout", "0",
                                "--min-lr-ratio", "1", "--vocab-size", "258", "--save-every-minutes", "0.5"])
    assert cfg.val_fraction == 0 and cfg.save_every_minutes == 0.5 and cfg.vocab_size == 258
    assert train_mod.parse_args([]).save_every_minutes == 30  # time-based checkpoints are on by default
    assert sample_mod.build_parser().parse_args(["--top-p", "1", "--top-k", "0", "--temperature", "0"]).top_p == 1


def test_impossible_model_shape_is_a_message_not_a_traceback() -> None:
    with pytest.raises(SystemExit, match="model shape: n_embd=32 is not divisible by n_head=3"):
        train_mod.main(["--dry-run", "--n-embd", "32", "--n-head", "3"])


# --- every --help entry shows its default ---


def help_entries(parser) -> dict[str, str]:
    """Option -> its help entry, whitespace collapsed (argparse wraps lines anywhere)."""
    text = parser.format_help().split("\noptions:", 1)[1]
    entries = {}
    for chunk in re.split(r"\n(?=  -)", text):
        chunk = " ".join(chunk.split())
        if chunk.startswith("--"):
            entries[chunk.split()[0].rstrip(",")] = chunk
    return entries


@pytest.mark.parametrize("module", [train_mod, sample_mod], ids=["train", "sample"])
def test_every_flag_shows_its_default(module) -> None:
    parser = module.build_parser()
    entries = help_entries(parser)
    flags = {s for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}
    # Both spellings of a --x/--no-x switch share one entry.
    assert flags == set(entries) | {f"--no-{f[2:]}" for f in entries if f"--no-{f[2:]}" in flags}
    missing = [flag for flag, entry in entries.items() if "(default: " not in entry]
    assert not missing, missing


def test_train_help_states_effective_defaults() -> None:
    entries = help_entries(train_mod.build_parser())
    assert "(default: 300)" in entries["--max-steps"] and "(default: 16)" in entries["--batch-size"]
    assert "(default: the preset's" in entries["--n-layer"] and "(default: 1337)" in entries["--seed"]
    assert "(default: 30.0)" in entries["--save-every-minutes"] and "(default: off)" in entries["--overwrite"]
    assert "--no-progress" in entries["--progress"] and "(default: on)" in entries["--progress"]
    assert "(default: off)" in help_entries(sample_mod.build_parser())["--top-p"]


# --- checkpoints every N minutes ---


def test_time_based_checkpoints_change_nothing_and_resume_exactly(mixed_dir: Path, tmp_path: Path, tokenizer,
                                                                  monkeypatch) -> None:
    """A fake clock that advances a minute per reading; --save-every-minutes 2.5: the timer starts at 0,
    steps 1-3 read 1, 2, 3 minutes -> save at step 3, restart at 4; and so on: saves at 3, 6, 9 and the
    final 10. Losses and weights equal a run without them, and resuming from one of them is exact."""
    common = ["--data", str(mixed_dir), "--mix", "webtext=0.7,commoncrawl=0.3", "--max-steps", "10",
              "--dropout", "0.1", "--loader-workers", "2", "--keep-last", "0", *TINY]
    for name in ("straight", "timed"):
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
    train_mod.main([*common, "--out", str(tmp_path / "straight"), "--save-every-minutes", "0"])
    assert [s for s, _ in list_checkpoints(tmp_path / "straight")] == [10]

    minutes = itertools.count(0.0, 60.0)
    monkeypatch.setattr(train_mod, "monotonic_clock", lambda: next(minutes))
    timed = tmp_path / "timed"
    train_mod.main([*common, "--out", str(timed), "--save-every-minutes", "2.5"])
    assert [s for s, _ in list_checkpoints(timed)] == [3, 6, 9, 10]
    straight = read_metrics(tmp_path / "straight")
    assert [(r["step"], r["loss"]) for r in read_metrics(timed)] == [(r["step"], r["loss"]) for r in straight]
    final = weights(tmp_path / "straight" / "ckpt-000010")
    assert all(torch.equal(final[k], v) for k, v in weights(timed / "ckpt-000010").items())

    # As after a crash at step 8: continue the time-triggered checkpoint of step 6.
    resumed = train_mod.main(["--data", str(mixed_dir), "--out", str(timed), "--resume", str(timed / "ckpt-000006"),
                              "--loader-workers", "1", "--keep-last", "0", *TINY])
    assert resumed["steps_this_run"] == 4
    assert [(r["step"], r["loss"]) for r in read_metrics(timed)] == [(r["step"], r["loss"]) for r in straight]
    assert all(torch.equal(final[k], v) for k, v in weights(timed / "ckpt-000010").items())


def test_save_timer() -> None:
    now = [0.0]
    timer = train_mod.SaveTimer(2, lambda: now[0])
    now[0] = 119.0
    assert not timer.due()
    now[0] = 120.0
    assert timer.due()
    timer.restart()
    assert not timer.due()
    off = train_mod.SaveTimer(0, lambda: 1 / 0)  # off: never reads the clock
    assert not off.due()
    off.restart()


# --- progress in a terminal and in a log ---


def test_progress_does_not_flood_a_log(shard_dir: Path, tmp_path: Path, tokenizer, capsys, monkeypatch) -> None:
    def run(name: str, *extra: str) -> tuple[str, str]:
        save_tokenizer(tokenizer, tmp_path / name / "tokenizer.json")
        capsys.readouterr()
        train_mod.main(["--data", str(shard_dir), "--out", str(tmp_path / name), "--max-steps", "20", *TINY,
                        "--log-interval", "5", *extra])
        return capsys.readouterr()

    # capsys's stderr is not a terminal, as with `python -m model.train ... > log 2>&1`.
    out, err = run("log", "--progress")
    assert "\r" not in err and "step/s" not in err and "s/step" not in err  # no bar redrawn into the log
    lines = [line for line in out.splitlines() if line.startswith("step ") and "/20 (" in line]
    assert [line.split()[1] for line in lines] == ["1/20", "5/20", "10/20", "15/20", "20/20"]
    assert "tokens/s" in lines[-1] and "eta 0:00:00" in lines[-1]

    # On a terminal the bar is drawn (and redrawn in place), and no progress lines are printed.
    monkeypatch.setattr(train_mod, "is_terminal", lambda stream=None: True)
    out, err = run("tty", "--progress")
    assert "\r" in err and "20/20" in err
    assert not [line for line in out.splitlines() if "/20 (" in line]

    # --no-progress: neither.
    out, err = run("quiet", "--no-progress")
    assert "\r" not in err and not [line for line in out.splitlines() if "/20 (" in line]
