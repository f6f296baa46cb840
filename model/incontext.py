"""Zero- and few-shot evaluation of a task, GPT-3 style (Brown et al. 2020, section 2.4).

For each test item, K solved items ("demonstrations") drawn from the task's train/dev file precede the
item's context, separated by a blank line; the model then scores each candidate completion by its
log-likelihood (`model.scoring`). Multiple choice picks the most likely choice, raw ("acc") and per byte of
the choice ("acc_norm", which removes the bias towards short answers); completion tasks (LAMBADA) ask whether
greedy decoding produces the target exactly ("acc") and report the target's perplexity.

Demonstrations are drawn by a seeded generator per item (seed, task, item index), so a result is
reproducible and does not depend on which other items were evaluated. When the pool is the test file
itself, the item being scored and items with the same context are never its own demonstrations. A prompt
that would not fit the model's context drops its earliest demonstrations first; the result records the
mean number actually used ("shots_used"), so a 3-shot score on a 128-token model says what it was.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from corpus.benchmarks import Example, Task
from corpus.benchmarks.formats import COMPLETION
from model.scoring import LogLikelihoodScorer, Score

SEPARATOR = "\n\n"  # between demonstrations, as in GPT-3's prompts


@dataclass(frozen=True)
class FewShot:
    """How prompts are built: `shots` demonstrations per item, drawn with `seed`."""

    shots: int = 0
    seed: int = 1234
    separator: str = SEPARATOR


def draw_demonstrations(example: Example, index: int, pool: Sequence[Example], task_name: str,
                        fewshot: FewShot) -> list[Example]:
    """The `fewshot.shots` demonstrations of test item number `index` (deterministic)."""
    if fewshot.shots == 0 or not pool:
        return []
    rng = random.Random(f"{fewshot.seed}/{task_name}/{index}")
    candidates = [e for e in pool if e.context != example.context]
    return rng.sample(candidates, min(fewshot.shots, len(candidates)))


def build_prompt(example: Example, demos: Sequence[Example], scorer: LogLikelihoodScorer,
                 separator: str = SEPARATOR) -> tuple[str, int]:
    """(prompt, demonstrations used): the earliest demonstrations are dropped until the prompt and the
    longest choice fit in the model's context."""
    longest = max(example.choices, key=len)
    demos = list(demos)
    while True:
        prompt = separator.join([d.demonstration for d in demos] + [example.context])
        if not demos or len(scorer.encode(prompt + longest)) <= scorer.block + 1:
            return prompt, len(demos)
        demos.pop(0)


def mean_and_stderr(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the standard error of the mean (sample standard deviation / sqrt(n))."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def _metric(values: Sequence[float]) -> dict[str, float]:
    mean, stderr = mean_and_stderr(values)
    return {"value": mean, "stderr": stderr}


def task_metrics(kind: str, examples: Sequence[Example], scores: Sequence[Sequence[Score]]) -> dict[str, Any]:
    """The task's metrics from each item's choice scores."""
    if kind == COMPLETION:
        target = [s[0] for s in scores]
        acc = [float(s.greedy) for s in target]
        ll = [s.logprob for s in target]
        mean_nll, nll_err = mean_and_stderr([-x for x in ll])
        # lm-eval's LAMBADA perplexity: exp of the mean negative log-likelihood of the target, per item.
        ppl = math.exp(mean_nll) if ll else math.nan
        return {"acc": _metric(acc), "ppl": {"value": ppl, "stderr": ppl * nll_err}}
    acc, acc_norm = [], []
    for ex, item in zip(examples, scores):
        raw = [s.logprob for s in item]
        norm = [s.logprob / max(1, len(c.encode("utf-8"))) for s, c in zip(item, ex.choices)]
        acc.append(float(max(range(len(raw)), key=raw.__getitem__) == ex.gold))
        acc_norm.append(float(max(range(len(norm)), key=norm.__getitem__) == ex.gold))
    return {"acc": _metric(acc), "acc_norm": _metric(acc_norm)}


def evaluate_task(scorer: LogLikelihoodScorer, task: Task, fewshot: FewShot = FewShot(),
                  limit: int | None = None) -> dict[str, Any]:
    """Score `task` (its first `limit` items) and return a JSON-ready result: n, metrics with standard
    errors, shots asked and used, chance level, and the exact prompt of the first item."""
    examples = task.examples(limit)
    if not examples:
        raise ValueError(f"task {task.name}: no usable items in {task.path} (skipped: {task.skipped or 'none'})")
    pool = task.shot_pool() if fewshot.shots else []
    prompts, used = [], []
    for i, ex in enumerate(examples):
        prompt, n = build_prompt(ex, draw_demonstrations(ex, i, pool, task.name, fewshot), scorer,
                                 fewshot.separator)
        prompts.append(prompt)
        used.append(n)
    flat = scorer.score([(p, c) for p, ex in zip(prompts, examples) for c in ex.choices])
    scores, at = [], 0
    for ex in examples:
        scores.append(flat[at:at + len(ex.choices)])
        at += len(ex.choices)
    return {
        **task.describe(),
        "n": len(examples),
        "shots": fewshot.shots,
        "shots_used": sum(used) / len(used),
        "seed": fewshot.seed,
        "metrics": task_metrics(task.format.kind, examples, scores),
        "chance": (sum(1 / len(ex.choices) for ex in examples) / len(examples)
                   if task.format.kind != COMPLETION else None),
        "skipped": dict(task.skipped),
        "first_prompt": prompts[0],
        "first_choices": list(examples[0].choices),
        "first_gold": examples[0].gold,
    }


def headline(result: dict[str, Any]) -> tuple[str, float]:
    """The metric a table or a training log shows first: acc_norm for multiple choice, else acc."""
    name = "acc_norm" if "acc_norm" in result["metrics"] else "acc"
    return name, result["metrics"][name]["value"]


class TaskProbe:
    """Zero-shot scores on a fixed slice of some tasks, for the trainer's periodic evaluation
    (`model.train --eval-tasks`): GPT-2's Figure 1 in miniature, a task score rising with tokens seen.

    The slice (the first `limit` items) is the same at every call, so the numbers compare across steps.
    """

    def __init__(self, tasks: Sequence[Task], limit: int = 100, batch_size: int = 16) -> None:
        self.tasks, self.limit, self.batch_size = list(tasks), limit, batch_size

    def __call__(self, model: Any, tokenizer: Any) -> dict[str, float]:
        """{"<task>/<metric>": value} for each task's headline metric; leaves `model` in train mode."""
        was_training = model.training
        model.eval()
        try:
            scorer = LogLikelihoodScorer(model, tokenizer, self.batch_size)
            out = {}
            for task in self.tasks:
                name, value = headline(evaluate_task(scorer, task, FewShot(0), self.limit))
                out[f"{task.name}/{name}"] = value
            return out
        finally:
            model.train(was_training)
