"""How model.evaluate should spend its forward passes: one sequence per choice in big batches ("batched",
lm-eval's way) or each context once in a KV cache that its choices continue from ("shared-prefix").

Both give the same numbers (checked here on every item, and in tests/model/test_evaluate.py); this prints
items/s for each mode, task and batch size, and which wins. The default of `--scoring` is the winner on CPU.

    python bench/bench_eval_scoring.py --checkpoint data/checkpoints --tasks lastword continuation topic
    python bench/bench_eval_scoring.py --checkpoint data/checkpoints --shots 2 --batch-sizes 8 32 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from corpus.benchmarks import load_task  # noqa: E402
from model.checkpoint import load_model, resolve_checkpoint  # noqa: E402
from model.incontext import FewShot, build_prompt, draw_demonstrations  # noqa: E402
from model.sample import find_tokenizer  # noqa: E402
from model.scoring import SCORING_MODES, LogLikelihoodScorer  # noqa: E402
from model.tokenizer import load_tokenizer  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="data/checkpoints")
    p.add_argument("--tasks", nargs="+", default=["lastword", "continuation", "topic"])
    p.add_argument("--task-dir", default="data/samples/tasks")
    p.add_argument("--shots", type=int, default=0)
    p.add_argument("--limit", type=int, default=200, help="items per task")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[4, 16, 64])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="timed runs per cell; the best is reported")
    p.add_argument("--json", default="bench/out/eval_scoring.json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ckpt = resolve_checkpoint(args.checkpoint)
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {args.checkpoint}: run `make demo` first")
    model, tok = load_model(ckpt).eval(), load_tokenizer(find_tokenizer(ckpt))
    print(f"checkpoint {ckpt} ({model.num_params() / 1e6:.2f}M params, context {model.config.block_size}), "
          f"{args.threads} thread(s), {args.shots}-shot, best of {args.repeats}")
    rows = []
    print(f"{'task':<14} {'items':>5} {'pairs':>5} {'batch':>5} " + " ".join(f"{m + ' it/s':>18}" for m in SCORING_MODES)
          + "  winner   max |diff|")
    for spec in args.tasks:
        task = load_task(spec, args.task_dir)
        examples = task.examples(args.limit)
        pool = task.shot_pool() if args.shots else []
        ref = LogLikelihoodScorer(model, tok)
        pairs = []
        for i, ex in enumerate(examples):
            prompt, _ = build_prompt(ex, draw_demonstrations(ex, i, pool, task.name, FewShot(args.shots)), ref)
            pairs += [(prompt, c) for c in ex.choices]
        for bs in args.batch_sizes:
            speed, scores = {}, {}
            for mode in SCORING_MODES:
                scorer = LogLikelihoodScorer(model, tok, bs, mode)
                best = float("inf")
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    scores[mode] = scorer.score(pairs)
                    best = min(best, time.perf_counter() - t0)
                speed[mode] = len(examples) / best
            diff = max(abs(a.logprob - b.logprob) for a, b in zip(*scores.values()))
            winner = max(speed, key=speed.get)
            rows.append({"task": task.name, "items": len(examples), "pairs": len(pairs), "batch_size": bs,
                         "items_per_s": speed, "winner": winner, "max_abs_diff": diff})
            print(f"{task.name:<14} {len(examples):>5} {len(pairs):>5} {bs:>5} "
                  + " ".join(f"{speed[m]:>18.1f}" for m in SCORING_MODES) + f"  {winner:<8} {diff:.1e}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"checkpoint": str(ckpt), "threads": args.threads, "shots": args.shots,
                                           "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
