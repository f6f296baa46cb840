"""kill -9 in the middle of a run, run again: the same shards as a run that was never interrupted."""

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


def run_pipeline(inputs, out, wait_for_done=None):
    cmd = [sys.executable, "-m", "pipelines.clean_commoncrawl", "--input", *map(str, inputs),
           "--output", str(out), "--workers", "1", "--quality-positive", "--dedup-against"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    if wait_for_done is None:
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        return
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while len(list((work_folder(out) / "clean" / "parts").glob("*.done.json"))) < wait_for_done:
        assert proc.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


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
