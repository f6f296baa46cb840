"""GPT-1 fine-tuning (model.gpt1, model.finetune): input layouts, heads, the L3 loss, runs on the tiny checkpoint."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from model.checkpoint import load_model, resolve_checkpoint
from model.finetune import FINETUNE_FILE, HEAD_FILE, evaluate_finetuned, linear_lr, macro_f1, main
from model.gpt1 import (
    Example,
    GPT1Classifier,
    TaskSpec,
    add_task_tokens,
    collate,
    finetune_loss,
    fit_embeddings,
    fit_pair,
    read_task_file,
    task_inputs,
)
from model.sample import find_tokenizer
from model.tokenizer import load_tokenizer

FILLER = "the a city old new small people said that on in after before with during week year morning".split()
KEYWORDS = {"fruit": "apple banana cherry grape melon".split(), "animal": "tiger lion zebra wolf bear".split()}


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def keyword_records(n: int, seed: int) -> list[dict]:
    """Label = which keyword set appears in the text (two of its words among random filler)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choice(sorted(KEYWORDS))
        words = [rng.choice(FILLER) for _ in range(rng.randint(6, 14))]
        for _ in range(2):
            words.insert(rng.randrange(len(words) + 1), rng.choice(KEYWORDS[label]))
        out.append({"id": i, "text": " ".join(words), "label": label})
    return out


@pytest.fixture(scope="module")
def base(tiny_checkpoint: Path):
    """(GPT with the task tokens' rows, extended tokenizer, TaskTokens) from the tiny checkpoint."""
    ckpt = resolve_checkpoint(tiny_checkpoint)
    tok = load_tokenizer(find_tokenizer(ckpt))
    gpt = load_model(ckpt)
    tokens, new = add_task_tokens(tok)
    fit_embeddings(gpt, tok.get_vocab_size(), new, torch.Generator().manual_seed(0))
    return gpt.eval(), tok, tokens


def ids(tok, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


def test_input_transformations_exact_layout(base):
    _, tok, t = base
    assert (t.start, t.delim, t.extract) == tuple(range(tok.get_vocab_size() - 3, tok.get_vocab_size()))
    a, b, c = ids(tok, "The river"), ids(tok, "a quiet garden"), ids(tok, "The museum guide")
    assert task_inputs("classification", [a], t, 64) == [[t.start, *a, t.extract]]
    assert task_inputs("entailment", [a, b], t, 64) == [[t.start, *a, t.delim, *b, t.extract]]
    assert task_inputs("similarity", [a, b], t, 64) == [[t.start, *a, t.delim, *b, t.extract],
                                                        [t.start, *b, t.delim, *a, t.extract]]
    assert task_inputs("multiple_choice", [a, b, c], t, 64) == [[t.start, *a, t.delim, *b, t.extract],
                                                                [t.start, *a, t.delim, *c, t.extract]]


def test_truncation_cuts_from_the_left_and_keeps_the_extract_token(base):
    _, _, t = base
    text = list(range(100))
    (seq,) = task_inputs("classification", [text], t, 64)
    assert len(seq) == 64 and seq[-1] == t.extract and seq[1:-1] == text[-62:]
    assert fit_pair(list(range(50)), [7, 8], 20) == (list(range(32, 50)), [7, 8])  # the long part loses its start
    assert fit_pair(list(range(30)), list(range(100, 130)), 21) == (list(range(19, 30)), list(range(120, 130)))
    (seq,) = task_inputs("entailment", [list(range(80)), list(range(100, 180))], t, 64)
    assert len(seq) == 64 and seq[-1] == t.extract and seq.count(t.delim) == 1


def test_new_tokens_use_free_padding_rows_or_grow_the_embedding(base, tiny_checkpoint):
    gpt, tok, t = base
    assert add_task_tokens(tok) == (t, [])  # already there: nothing new
    assert gpt.config.vocab_size == 576 and gpt.lm_head.weight is gpt.transformer.wte.weight
    fresh = load_model(resolve_checkpoint(tiny_checkpoint))
    assert torch.equal(gpt.transformer.wte.weight[:512], fresh.transformer.wte.weight)  # old rows kept
    assert 0.01 < gpt.transformer.wte.weight[512:].std() < 0.03  # new rows ~ N(0, 0.02)
    # A padded vocabulary with free rows: they are taken over, the matrix keeps its shape.
    before = fresh.transformer.wte.weight.clone()
    assert fit_embeddings(fresh, 500, [499], torch.Generator().manual_seed(1)) == 0
    assert fresh.config.vocab_size == 512 and not torch.equal(fresh.transformer.wte.weight[499], before[499])
    assert torch.equal(fresh.transformer.wte.weight[:499], before[:499])


def test_collate_pads_to_the_batch_and_ignores_padding_and_special_targets(base):
    _, tok, t = base
    short, long = Example([[t.start, 5, 6, t.extract]], 0), Example([[t.start, 5, 6, 7, 8, t.extract]], 1)
    b = collate([short, long], t)
    assert b.ids.shape == (2, 6) and b.extract_pos.tolist() == [3, 5] and b.labels.tolist() == [0, 1]
    assert b.targets.tolist() == [[5, 6, -1, -1, -1, -1], [5, 6, 7, 8, -1, -1]]


def test_similarity_adds_both_orders_so_swapping_the_pair_gives_the_same_logits(base):
    gpt, tok, t = base
    model = GPT1Classifier(gpt, "similarity", 3).eval()
    a, b = ids(tok, "The old fisherman built a bridge"), ids(tok, "A young engineer")
    batch = collate([Example(task_inputs("similarity", [a, b], t, 64), 0),
                     Example(task_inputs("similarity", [b, a], t, 64), 0)], t)
    logits, _ = model(batch)
    assert logits.shape == (2, 3)
    torch.testing.assert_close(logits[0], logits[1])
    h = gpt.hidden_states(batch.ids[:2])
    expected = model.head(h[0, batch.extract_pos[0]] + h[1, batch.extract_pos[1]])
    torch.testing.assert_close(logits[0], expected)


def test_multiple_choice_softmax_over_each_examples_own_choices(base):
    gpt, tok, t = base
    model = GPT1Classifier(gpt, "multiple_choice", 99).eval()  # n_classes is ignored: one score per choice
    assert model.head.out_features == 1
    ctx = ids(tok, "The orchestra played")
    three = Example(task_inputs("multiple_choice", [ctx, ids(tok, "a song"), ids(tok, "a map"), ids(tok, "bread")],
                                t, 64), 2)
    two = Example(task_inputs("multiple_choice", [ctx, ids(tok, "the river"), ids(tok, "a clock")], t, 64), 0)
    batch = collate([three, two], t)
    logits, _ = model(batch)
    assert logits.shape == (2, 3) and logits[1, 2] == float("-inf")
    probs = logits.softmax(-1)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2))
    h = gpt.hidden_states(batch.ids)[torch.arange(5), batch.extract_pos]
    torch.testing.assert_close(logits[0], model.head(h[:3]).squeeze(-1))
    parts, _ = finetune_loss(model, batch, 0.0)
    torch.testing.assert_close(parts.task, F.cross_entropy(logits, torch.tensor([2, 0])))


def test_lm_weight_adds_exactly_lambda_times_the_lm_loss(base):
    gpt, tok, t = base
    model = GPT1Classifier(gpt, "entailment", 2).eval()  # eval: no dropout, so both passes agree
    ex = [Example(task_inputs("entailment", [ids(tok, p), ids(tok, h)], t, 64), i % 2)
          for i, (p, h) in enumerate([("The river", "a bridge"), ("My grandmother cooked bread", "last week")])]
    batch = collate(ex, t)
    no_lm, _ = finetune_loss(model, batch, 0.0)
    half, _ = finetune_loss(model, batch, 0.5)
    assert no_lm.lm is None and half.lm.item() > 0
    torch.testing.assert_close(half.total - no_lm.total, 0.5 * half.lm)
    _, reference = gpt(batch.ids, batch.targets)  # GPT's own LM loss on the same targets
    torch.testing.assert_close(half.lm, reference)


def test_schedule_and_metrics():
    assert [round(linear_lr(s, 1.0, 2, 10), 3) for s in (0, 1, 2, 6, 9)] == [0.5, 1.0, 1.0, 0.5, 0.125]
    assert macro_f1([0, 0, 1, 1], [0, 0, 1, 1]) == 1.0
    assert macro_f1([0, 0, 1, 1], [0, 0, 0, 0]) == pytest.approx(1 / 3)  # class 0: F1 2/3, class 1: 0


def test_bad_records_are_counted_not_fatal(base, tmp_path):
    _, tok, t = base
    spec = TaskSpec()
    train = write_jsonl(tmp_path / "train.jsonl", [
        {"text": "The river", "label": "b"}, {"text": "A bridge", "label": "a"}, "{not json", "[1, 2]",
        {"label": "a"}, {"text": "   ", "label": "a"}, {"text": 5, "label": "a"}, {"text": "x", "label": 1.5}, "",
    ])
    examples, stats, labels = read_task_file(train, spec, tok, t, 64)
    assert labels == ["a", "b"] and [e.label for e in examples] == [1, 0]
    assert stats == {"records": 8, "used": 2, "truncated": 0, "skipped": {
        "bad label": 1, "empty text": 1, "missing text": 1, "not JSON": 1, "not a JSON object": 1,
        "text not a string": 1}}
    dev = write_jsonl(tmp_path / "dev.jsonl", [{"text": "The sea", "label": "c"}, {"text": "Sea", "label": "a"}])
    _, dev_stats, _ = read_task_file(dev, spec, tok, t, 64, labels)
    assert dev_stats["skipped"] == {"unknown label": 1} and dev_stats["used"] == 1
    mc = write_jsonl(tmp_path / "mc.jsonl", [
        {"context": "c", "choices": ["x", "y"], "label": 1}, {"context": "c", "choices": ["x", "y"], "label": "y"},
        {"context": "c", "choices": ["x", "y"], "label": 2}, {"context": "c", "choices": ["x"], "label": 0}])
    ex, mc_stats, mc_labels = read_task_file(mc, TaskSpec(task="multiple_choice"), tok, t, 64)
    assert [e.label for e in ex] == [1, 1] and mc_labels is None
    assert mc_stats["skipped"] == {"fewer than 2 choices": 1, "label out of range": 1}
    with pytest.raises(ValueError, match="no usable classification record among 2"):
        read_task_file(write_jsonl(tmp_path / "none.jsonl", [{"txt": "a", "label": 1}] * 2), spec, tok, t, 64)


def run_args(ckpt: Path, train: Path, dev: Path, out: Path, *extra: str) -> list[str]:
    return ["--checkpoint", str(ckpt), "--train", str(train), "--dev", str(dev), "--out", str(out),
            "--device", "cpu", *extra]


def test_finetune_learns_a_keyword_task_and_the_saved_folder_reloads(tiny_checkpoint, tmp_path, capsys):
    train = write_jsonl(tmp_path / "train.jsonl", keyword_records(200, seed=1))
    dev = write_jsonl(tmp_path / "dev.jsonl", keyword_records(60, seed=2))
    out = tmp_path / "ft"
    # GPT-1's lr (6.25e-5) is for a 117M model and thousands of steps; this 2-layer model gets 39 steps.
    summary = main(run_args(tiny_checkpoint, train, dev, out, "--lr", "3e-3", "--batch-size", "16"))
    assert summary["dev"]["accuracy"] >= 0.8  # chance is ~0.5
    assert summary["labels"] == ["animal", "fruit"] and summary["steps"] == 39
    assert {p.name for p in out.iterdir()} == {"config.json", "model.safetensors", HEAD_FILE, "tokenizer.json",
                                               FINETUNE_FILE, "metrics.jsonl"}
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3] and records[-1]["dev_accuracy"] == summary["dev"]["accuracy"]
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    assert load_model(out).config.vocab_size == 576  # the body loads as a plain GPT checkpoint
    assert load_tokenizer(out).token_to_id("<|extract|>") == 514
    meta = json.loads((out / FINETUNE_FILE).read_text())
    assert meta["settings"]["lm_weight"] == 0.5 and meta["base_checkpoint"].endswith("ckpt-000030")
    again = evaluate_finetuned(out, dev)
    assert {k: again[k] for k in ("accuracy", "macro_f1", "n")} == {k: meta["dev"][k] for k in
                                                                    ("accuracy", "macro_f1", "n")}
    assert "== fine-tuned classification" in capsys.readouterr().out


def test_entailment_and_multiple_choice_runs_complete_and_save(tiny_checkpoint, tmp_path):
    nli = [{"premise": f"The river {w}", "hypothesis": "a bridge", "label": ["no", "yes"][i % 2]}
           for i, w in enumerate(FILLER)]
    nli_file = write_jsonl(tmp_path / "nli.jsonl", nli)
    first = main(run_args(tiny_checkpoint, nli_file, nli_file, tmp_path / "nli", "--task", "entailment",
                          "--epochs", "1", "--batch-size", "8"))
    assert first["dev"]["n"] == len(nli) and (tmp_path / "nli" / HEAD_FILE).is_file()
    # Same seed, same result: a second run (replacing the folder) reproduces the metrics exactly.
    second = main(run_args(tiny_checkpoint, nli_file, nli_file, tmp_path / "nli", "--task", "entailment",
                           "--epochs", "1", "--batch-size", "8"))
    assert second["dev"] == first["dev"] and second["metrics"][0]["train_loss"] == first["metrics"][0]["train_loss"]
    mc = [{"story": f"The {w} orchestra", "endings": ["played a song", "ate a bridge", "flew"], "answer": i % 3}
          for i, w in enumerate(FILLER)]
    mc_file = write_jsonl(tmp_path / "mc.jsonl", mc)
    summary = main(run_args(tiny_checkpoint, mc_file, mc_file, tmp_path / "mc", "--task", "multiple_choice",
                            "--context-field", "story", "--choices-field", "endings", "--label-field", "answer",
                            "--epochs", "1", "--test", str(mc_file)))
    assert summary["labels"] is None and "macro_f1" not in summary["dev"]
    assert summary["test"]["n"] == len(mc)
    assert evaluate_finetuned(tmp_path / "mc", mc_file)["accuracy"] == summary["dev"]["accuracy"]


def test_cli_errors_are_one_line(tiny_checkpoint, tmp_path, capsys):
    from model.cli import run_cli
    from model.finetune import build_parser

    good = write_jsonl(tmp_path / "t.jsonl", keyword_records(4, seed=3))
    with pytest.raises(SystemExit) as e:
        main(run_args(tiny_checkpoint, good, good, tmp_path / "o", "--lm-weight", "-1"))
    assert e.value.code == 2 and "--lm-weight: must be >= 0" in capsys.readouterr().err
    empty = write_jsonl(tmp_path / "empty.jsonl", ["{bad"])
    with pytest.raises(SystemExit, match=r"no usable classification record among 1 \(not JSON: 1\)"):
        main(run_args(tiny_checkpoint, empty, good, tmp_path / "o"))
    with pytest.raises(SystemExit, match="not a fine-tuned model folder"):
        main(run_args(tiny_checkpoint, good, good, tiny_checkpoint))  # never replaces a training run
    with pytest.raises(SystemExit) as e:
        run_cli(lambda: main(run_args(tmp_path / "nowhere", good, good, tmp_path / "o")), build_parser())
    assert e.value.code == 2 and "no checkpoint there" in capsys.readouterr().err
