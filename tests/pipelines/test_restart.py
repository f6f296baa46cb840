"""kill -9 in the middle of a run, run again: the same shards as a run that was never interrupted."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.cli import work_folder

SENTENCES = [
    "The committee reviewed the proposal for the new library on {i} occasions last spring.",
    "Residents of ward {i} asked whether the reading rooms would stay open in the evenings.",
    "An architect explained that the design for building {i} keeps the old brick facade intact.",
    "Funding for phase {i} will come from the regional budget and from private donations.",
    "Several teachers said that students in district {i} need a quiet place to study after school.",
    "The mayor expects the first books to be on the shelves of branch {i} within two years.",
]


def write_inputs(make_warc, make_article, n_files=10, per_file=4):
    paths = []
    for f in range(n_files):
        pages = []
        for j in range(per_file):
            i = f * per_file + j
            paras = [" ".join(s.format(i=i) for s in SENTENCES[:3]), " ".join(s.format(i=i) for s in SENTENCES[3:])]
            pages.append((f"https://lib{i}.example/news", make_article(f"Library {i}", paras),
                          "text/html", "200 OK"))
        paths.append(make_warc(pages, name=f"crawl-{f}.warc.gz"))
    return paths


def run_pipeline(inputs, out, wait_for_done=None, flags=(), wait_for=None):
    """Run the pipeline; or kill it once `wait_for_done` inputs are done (or `wait_for()` is true)."""
    cmd = [sys.executable, "-m", "pipelines.clean_commoncrawl", "--input", *map(str, inputs),
           "--output", str(out), "--workers", "1", "--quality-positive", "--dedup-against", *flags]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    if wait_for_done is None and wait_for is None:
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        return
    if wait_for is None:
        def wait_for():
            return len(list((work_folder(out) / "clean" / "parts").glob("*.done.json"))) >= wait_for_done
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while not wait_for():
        assert proc.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def shards_of(out):
    manifest = json.loads((out / "manifest.json").read_text())
    return manifest, [(f["path"], f["sha256"]) for f in manifest["files"]]


def test_kill_and_rerun_gives_the_same_shards(make_warc, make_article, tmp_path):
    inputs = write_inputs(make_warc, make_article)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    run_pipeline(inputs, clean)
    run_pipeline(inputs, killed, wait_for_done=2)
    assert not (killed / "manifest.json").exists()
    run_pipeline(inputs, killed)
    a = json.loads((clean / "manifest.json").read_text())
    b = json.loads((killed / "manifest.json").read_text())
    assert a["rows"] == b["rows"] > 20
    assert [(f["path"], f["sha256"]) for f in a["files"]] == [(f["path"], f["sha256"]) for f in b["files"]]
    assert a["steps"] == b["steps"]


def test_a_run_killed_while_writing_its_output_leaves_the_previous_output_whole(make_warc, make_article, tmp_path):
    inputs = write_inputs(make_warc, make_article)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    run_pipeline(inputs, out)
    before, before_files = shards_of(out)
    staged_tasks = tmp_path / ".out.staging" / ".tasks"
    # Other parameters: a new output; killed once some parts of it are written.
    run_pipeline(inputs, out, flags=["--dedup-preset", "gpt3"],
                 wait_for=lambda: len(list(staged_tasks.glob("*.json"))) >= 2)
    after_kill, files = shards_of(out)
    assert after_kill == before and files == before_files  # still the whole previous output
    for path, sha in files:
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == sha
    run_pipeline(inputs, out, flags=["--dedup-preset", "gpt3"])
    run_pipeline(inputs, fresh, flags=["--dedup-preset", "gpt3"])
    (a, a_files), (b, b_files) = shards_of(out), shards_of(fresh)
    assert a_files == b_files and a["steps"] == b["steps"] and a["parameters"]["dedup_preset"] == "gpt3"
    assert not (tmp_path / ".out.staging").exists() and not (tmp_path / ".out.previous").exists()
