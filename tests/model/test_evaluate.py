"""model.scoring, model.incontext and the model.evaluate command on a tiny trained checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from corpus.benchmarks import Example, load_task
from model.checkpoint import load_model, resolve_checkpoint
from model.evaluate import main as evaluate_main
from model.evaluate import results_table
from model.incontext import FewShot, build_prompt, draw_demonstrations, evaluate_task, task_metrics
from model.sample import find_tokenizer
from model.scoring import LogLikelihoodScorer, Score, text_loss
from model.tokenizer import load_tokenizer

PAIRS = [("The city council", " announced a plan"), ("", "My grandmother"), ("A young engineer built", " a"),
         ("Question: who?\nAnswer: ", "The river"), ("The orchestra", " studied the history of the valley"),
         ("The orchestra", " cooked")]


@pytest.fixture(scope="module")
def lm(tiny_checkpoint: Path):
    ckpt = resolve_checkpoint(tiny_checkpoint)
    return load_model(ckpt).eval(), load_tokenizer(find_tokenizer(ckpt))


def reference_logprob(model, tok, ctx_ids: list[int], cont_ids: list[int]) -> float:
    """Log p(cont | ctx) from one plain forward pass of the whole sequence."""
    ids = torch.tensor([(ctx_ids + cont_ids)[:-1]])  # the last token is only a target
    with torch.no_grad():
        logits = model(ids)[0][0].float()
    logits[:, tok.get_vocab_size():] = -math.inf
    logp = F.log_softmax(logits, -1)
    start = len(ctx_ids) - 1
    return sum(float(logp[start + i, t]) for i, t in enumerate(cont_ids))


def test_scores_match_a_plain_forward_pass_in_both_modes(lm) -> None:
    model, tok = lm
    batched = LogLikelihoodScorer(model, tok, batch_size=4, mode="batched").score(PAIRS)
    shared = LogLikelihoodScorer(model, tok, batch_size=4, mode="shared-prefix").score(PAIRS)
    scorer = LogLikelihoodScorer(model, tok)
    for (ctx, cont), b, s in zip(PAIRS, batched, shared):
        c, x = scorer.encode_pair(ctx, cont)
        assert b.logprob == pytest.approx(reference_logprob(model, tok, c, x), abs=1e-4)
        assert (s.logprob, s.greedy, s.tokens) == (pytest.approx(b.logprob, abs=1e-4), b.greedy, b.tokens)
        assert b.logprob < 0 and b.tokens == len(x)


def test_pair_encoding_moves_trailing_space_and_starts_empty_contexts_at_eot(lm) -> None:
    model, tok = lm
    scorer = LogLikelihoodScorer(model, tok)
    ctx, cont = scorer.encode_pair("Answer: ", "yes")
    assert tok.decode(ctx) == "Answer:" and tok.decode(cont) == " yes"
    assert scorer.encode_pair("", "Hello")[0] == [scorer.eot]


def test_greedy_flag_is_true_exactly_for_the_models_own_continuation(lm) -> None:
    model, tok = lm
    scorer = LogLikelihoodScorer(model, tok)
    ctx = scorer.encode("The city council")
    ids = list(ctx)
    for _ in range(3):
        with torch.no_grad():
            logits = model(torch.tensor([ids]))[0][0, -1]
        logits[tok.get_vocab_size():] = -math.inf
        ids.append(int(logits.argmax()))
    greedy_cont = ids[len(ctx):]
    other = greedy_cont[:2] + [(greedy_cont[2] + 1) % tok.get_vocab_size()]
    got = scorer.score_tokens([(ctx, greedy_cont), (ctx, other)])
    assert got[0].greedy and not got[1].greedy


def test_long_contexts_are_cut_from_the_left_to_the_block(lm) -> None:
    model, tok = lm
    scorer = LogLikelihoodScorer(model, tok)
    long_ctx = list(range(5, 5 + 3 * model.config.block_size))
    cont = [7, 8]
    s = scorer.score_tokens([(long_ctx, cont)])[0]
    window = (long_ctx + cont)[-(model.config.block_size + 1):]
    kept_ctx = window[: -len(cont)]
    assert s.logprob == pytest.approx(reference_logprob(model, tok, kept_ctx, cont), abs=1e-4)
    shared = LogLikelihoodScorer(model, tok, mode="shared-prefix").score_tokens([(long_ctx, cont)])[0]
    assert shared.logprob == pytest.approx(s.logprob, abs=1e-4)  # falls back to the batched path


def test_bits_per_byte_is_the_summed_window_loss(lm) -> None:
    model, tok = lm
    block = model.config.block_size
    texts = ["Short one.", "A longer document. " * 40]  # the second spans several windows
    loss = text_loss(model, tok, texts, batch_size=3)
    eot = tok.token_to_id("<|endoftext|>")
    nll, tokens = 0.0, 0
    for t in texts:
        ids = [eot] + tok.encode(t, add_special_tokens=False).ids
        for start in range(1, len(ids), block):
            nll -= reference_logprob(model, tok, ids[start - 1:start], ids[start:start + block])
            tokens += len(ids[start:start + block])
    assert loss.tokens == tokens == sum(len(tok.encode(t).ids) for t in texts)
    assert loss.nll == pytest.approx(nll, rel=1e-5)
    assert loss.bits_per_byte == pytest.approx(nll / math.log(2) / sum(len(t.encode()) for t in texts), rel=1e-5)
    assert loss.perplexity == pytest.approx(math.exp(nll / tokens), rel=1e-5)


def test_metrics_from_choice_scores() -> None:
    exs = [Example("q", (" a", " bbbbbbbb"), 1), Example("q2", (" a", " b"), 0)]
    scores = [[Score(-1.0, False, 1), Score(-4.0, False, 3)], [Score(-0.5, True, 1), Score(-2.0, False, 1)]]
    m = task_metrics("multiple_choice", exs, scores)
    assert m["acc"]["value"] == 0.5          # item 1: the short wrong answer wins on raw log-likelihood
    assert m["acc_norm"]["value"] == 1.0     # per byte (-4/9 > -1/2) the long right one wins
    assert m["acc"]["stderr"] == pytest.approx(0.5)
    m = task_metrics("completion", exs[:1], [[Score(-2.0, True, 2)]])
    assert m["acc"]["value"] == 1.0 and m["ppl"]["value"] == pytest.approx(math.exp(2.0))


def test_demonstrations_are_deterministic_exclude_the_item_and_drop_to_fit(lm) -> None:
    model, tok = lm
    pool = [Example(f"Item {i} says", (" yes", " no"), i % 2) for i in range(10)]
    demos = draw_demonstrations(pool[3], 3, pool, "t", FewShot(4, seed=1))
    assert demos == draw_demonstrations(pool[3], 3, pool, "t", FewShot(4, seed=1)) and len(demos) == 4
    assert pool[3] not in demos and demos != draw_demonstrations(pool[3], 4, pool, "t", FewShot(4, seed=1))
    scorer = LogLikelihoodScorer(model, tok)
    prompt, used = build_prompt(pool[3], demos, scorer)
    assert used == 4 and prompt == "\n\n".join([d.demonstration for d in demos] + ["Item 3 says"])
    words = next(k for k in range(1, 200) if len(scorer.encode("The city council " * k)) >= 25)
    long_demos = [Example("The city council " * words, (" x",), 0)] * 3  # ~25 tokens each, block 64
    prompt, used = build_prompt(pool[3], long_demos, scorer)
    assert used in (1, 2) and len(scorer.encode(prompt + " yes")) <= model.config.block_size + 1
    assert prompt.endswith("\n\nItem 3 says") and prompt.count("\n\n") == used


def write_tasks(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = {
        "lastword.jsonl": [{"text": f"The city council announced a plan number {i} and the council"} for i in range(6)],
        "choice_test.jsonl": [{"ctx": f"The orchestra number {i}", "endings": [" played.", " grew roots.",
                                                                               " sang.", " slept."], "label": i % 4}
                              for i in range(6)],
        "choice_train.jsonl": [{"ctx": "The museum guide", "endings": [" explained", " x", " y", " z"], "label": 0}],
        "topic_test.jsonl": [{"text": f"Goals and a match {i}.", "label": "Sport"} for i in range(3)]
        + [{"text": f"A song about the sea {i}.", "label": "Music"} for i in range(3)],
    }
    for name, records in lines.items():
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_evaluate_task_reports_n_metrics_shots_and_first_prompt(lm, tmp_path: Path) -> None:
    model, tok = lm
    tasks = write_tasks(tmp_path / "tasks")
    scorer = LogLikelihoodScorer(model, tok)
    r = evaluate_task(scorer, load_task("choice", tasks), FewShot(1))
    assert r["n"] == 6 and r["shots"] == 1 and r["shots_used"] == 1.0 and r["chance"] == 0.25
    assert r["first_prompt"] == "The museum guide explained\n\nThe orchestra number 0"  # from the train file
    assert set(r["metrics"]) == {"acc", "acc_norm"} and 0 <= r["metrics"]["acc"]["value"] <= 1
    lw = evaluate_task(scorer, load_task("lastword", tasks), FewShot(0), limit=4)
    assert lw["n"] == 4 and lw["first_choices"] == [" council"] and lw["metrics"]["ppl"]["value"] > 1
    assert lw["first_prompt"] == "The city council announced a plan number 0 and the"


def test_cli_compares_checkpoints_writes_results_and_plots_over_training(tiny_checkpoint, shard_dir, tmp_path):
    tasks = write_tasks(tmp_path / "tasks")
    run = tmp_path / "run"
    from model.train import main as train_main
    summary = train_main([
        "--data", str(shard_dir), "--out", str(run), "--preset", "tiny", "--n-layer", "1", "--n-head", "2",
        "--n-embd", "32", "--block-size", "64", "--vocab-size", "512", "--batch-size", "4", "--max-steps", "6",
        "--save-interval", "3", "--eval-interval", "3", "--device", "cpu", "--no-progress", "--no-plot",
        "--eval-tasks", "lastword", "choice", "--eval-task-dir", str(tasks), "--eval-task-limit", "4"])
    # The trainer's --eval-tasks: zero-shot scores on the same 4 items at each evaluation, logged with the loss.
    logged = [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "val_loss" in r]
    assert [r["step"] for r in logged] == [3, 6]
    assert all(0 <= r["lastword/acc"] <= 1 and 0 <= r["choice/acc_norm"] <= 1 for r in logged)
    assert summary["task_scores"] == {k: logged[-1][k] for k in ("lastword/acc", "choice/acc_norm")}
    out = tmp_path / "eval"
    results = evaluate_main(["--checkpoint", str(tiny_checkpoint), str(run), "--all-checkpoints",
                             "--task-dir", str(tasks), "--tasks", "lastword", "topic", "--shots", "0", "2",
                             "--data", str(shard_dir), "--val-fraction", "0.2", "--max-docs", "20",
                             "--out", str(out)])
    assert [r["step"] for r in results] == [30, 3, 6]
    for r in results:
        assert r["heldout"]["documents"] == 20 and 0 < r["heldout"]["bits_per_byte"] < 10
        assert [(t["name"], t["shots"]) for t in r["tasks"]] == [("lastword", 0), ("lastword", 2),
                                                                 ("topic", 0), ("topic", 2)]
    per_task = json.loads((out / "run_ckpt-000003" / "lastword-2shot.json").read_text())
    assert per_task["n"] == 6 and per_task["tokens_seen"] == 3 * 4 * 64
    assert per_task["first_prompt"].count("\n\n") == per_task["shots_used"] == 2
    topic = json.loads((out / "run_ckpt-000003" / "topic-2shot.json").read_text())
    assert topic["shots_used"] < 2  # two demonstrations do not fit a 64-token context: recorded, not hidden
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(results))
    table = (out / "results.md").read_text()
    assert table == results_table(results) and "| held-out text | - | bits per byte |" in table
    assert "run/ckpt-000006" in table.splitlines()[0]
    assert (out / "over_training.png").stat().st_size > 1000


def test_cli_errors_are_one_line(tmp_path: Path, tiny_checkpoint: Path, shard_dir: Path) -> None:
    with pytest.raises(SystemExit, match="no such file"):
        evaluate_main(["--checkpoint", str(tiny_checkpoint), "--tasks", "nope", "--task-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="no checkpoint"):
        evaluate_main(["--checkpoint", str(tmp_path), "--tasks", str(write_tasks(tmp_path) / "lastword.jsonl")])
    from model.train import main as train_main
    with pytest.raises(SystemExit, match="--eval-tasks: task 'nope'"):  # before any training
        train_main(["--data", str(shard_dir), "--out", str(tmp_path / "r"), "--eval-tasks", "nope"])


def test_held_out_text_from_a_folder_split_or_a_whole_file(tmp_path: Path) -> None:
    from model.evaluate import heldout_texts
    from tests.model.conftest import make_documents, write_shards

    docs = [f"{i}: {t}" for i, t in enumerate(make_documents(60))]
    (path,) = write_shards(tmp_path / "one", docs, n_files=1)
    assert heldout_texts(str(path), "text", 0.2, 1000) == docs           # a file: every document
    val = heldout_texts(str(tmp_path / "one"), "text", 0.2, 1000)        # a folder: the validation split
    assert 0 < len(val) < len(docs) and set(val) <= set(docs)
    jsonl = tmp_path / "held.jsonl"
    jsonl.write_text("".join(json.dumps({"body": d}) + "\n" for d in docs[:5]))
    assert heldout_texts(str(jsonl), "body", 0.2, 3) == docs[:3]
