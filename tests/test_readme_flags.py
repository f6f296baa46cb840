"""Every command-line flag the README names exists in one of the project's commands.

Most flags are generated from config dataclasses (`corpus.cli_flags`), so no source line spells them
out: the check asks the parsers themselves, through `--help`.
"""

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Flags of other tools the README shows in commands (pip, torchrun).
OTHER_TOOLS = {"--force-reinstall", "--no-deps", "--standalone", "--nproc", "--help",
               "--head", "--port", "--address",                                  # ray start
               "--build", "--scale",                                             # docker compose
               "--nnodes", "--node", "--rdzv-backend", "--rdzv-endpoint",         # torchrun (--node_rank)
               "--bias", "--gradient"}                                            # nanoGPT's train.py
BENCHES = ["bench_fetch.py", "bench_fuzzy_dedup.py", "bench_links.py", "bench_minhash.py", "bench_throughput.py",
           "bench_train.py", "extraction_f1.py", "bench_scale_dedup.py", "make_synthetic_corpus.py",
           "bench_link_harvest.py", "bench_link_join.py", "bench_ray.py", "bench_eval_scoring.py",
           "bench_wikitext.py", "bench_sparse_attention.py", "gpu_train_check.py"]


def help_of(main, argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(argv)
    return out.getvalue()


def known_flags() -> set[str]:
    from corpus.fetch.__main__ import main as fetch_main
    from corpus.quality.training import main as quality_main
    from model import evaluate, export, finetune, sample, train
    from pipelines import add_corpus, build_webtext, clean_commoncrawl

    texts = [help_of(build_webtext.parse_args, ["--help"]), help_of(clean_commoncrawl.parse_args, ["--help"]),
             help_of(add_corpus.parse_args, ["--help"]),
             help_of(fetch_main, ["--help"]), help_of(quality_main, ["train", "--help"]),
             help_of(train.build_parser().parse_args, ["--help"]), help_of(sample.build_parser().parse_args, ["--help"]),
             *(help_of(m.build_parser().parse_args, ["--help"]) for m in (evaluate, export, finetune))]
    for bench in BENCHES:
        done = subprocess.run([sys.executable, str(ROOT / "bench" / bench), "--help"], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, (bench, done.stderr[-500:])
        texts.append(done.stdout)
    return {f for t in texts for f in re.findall(r"--[a-z][a-z0-9-]*", t)}


def test_every_flag_in_the_readme_exists():
    named = set(re.findall(r"--[a-z][a-z0-9-]*", (ROOT / "README.md").read_text(encoding="utf-8")))
    missing = sorted(named - known_flags() - OTHER_TOOLS)
    assert not missing, f"README names flags no command has: {missing}"
