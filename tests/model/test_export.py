"""`python -m model.export`: the exported folder loads with transformers' Auto classes alone and computes
what webtext's model computes (logits, greedy tokens, tokenizer ids), for bias=False and padded vocabularies
too; banded attention and an occupied output folder are refused; lm-eval scores it as we do."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_model, resolve_checkpoint, save_step_checkpoint
from model.config import GPTConfig
from model.export import export_hf, main
from model.generate import generate
from model.gpt import GPT
from model.sample import find_tokenizer
from model.tokenizer import EOT_TOKEN, eot_id, load_tokenizer, save_tokenizer
from tests.model.conftest import ENDINGS, OBJECTS, SUBJECTS, VERBS

transformers = pytest.importorskip("transformers")

TEXTS = [
    "The city council announced a wooden bridge last week.",
    "My grandmother\ncooked   an unusual recipe for bread, before sunrise!",
    "The café serves crème brûlée — “fresh every day” ☕",  # bytes the BPE splits below characters
]
PROMPTS = ["The city council", "A young engineer built", "Water boils at"]


@pytest.fixture(scope="module")
def exported(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_hf(tiny_checkpoint, tmp_path_factory.mktemp("hf") / "tiny-webtext")


@pytest.fixture(scope="module")
def ours(tiny_checkpoint: Path):
    """webtext's own model and tokenizer for the same checkpoint."""
    ckpt = resolve_checkpoint(tiny_checkpoint)
    return load_model(ckpt).eval(), load_tokenizer(find_tokenizer(ckpt))


def load_hf(folder: Path):
    model = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    return model, transformers.AutoTokenizer.from_pretrained(folder)


def max_logit_diff(model: GPT, hf, ids: list[int]) -> float:
    x = torch.tensor([ids])
    with torch.no_grad():
        return (model(x)[0] - hf(x).logits).abs().max().item()


def greedy_both(model: GPT, hf, ids: list[int], vocab_limit: int, n: int = 20) -> tuple[list[int], list[int]]:
    """n greedy tokens from each model, each cut after the first <|endoftext|> (HF stops there)."""
    x = torch.tensor([ids])
    mine = generate(model, x, n, temperature=0, vocab_limit=vocab_limit)[0, len(ids):].tolist()
    theirs = hf.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=n, do_sample=False)
    theirs = theirs[0, len(ids):].tolist()
    eot = hf.generation_config.eos_token_id

    def cut(seq: list[int]) -> list[int]:
        return seq[: seq.index(eot) + 1] if eot in seq else seq

    return cut(mine), cut(theirs)


def test_folder_holds_what_transformers_expects(exported: Path, ours, tiny_checkpoint: Path) -> None:
    model, tok = ours
    names = {p.name for p in exported.iterdir()}
    assert {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "README.md"} <= names
    assert not list(exported.parent.glob(".*tmp*"))  # built under a temporary name, renamed into place
    cfg = json.loads((exported / "config.json").read_text())
    c = model.config
    assert cfg["model_type"] == "gpt2" and cfg["architectures"] == ["GPT2LMHeadModel"]
    assert cfg["activation_function"] == "gelu_new" and cfg["layer_norm_epsilon"] == 1e-5
    assert (cfg["n_positions"], cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["vocab_size"]) == (
        c.block_size, c.n_embd, c.n_layer, c.n_head, c.vocab_size)
    assert cfg["bos_token_id"] == cfg["eos_token_id"] == eot_id(tok) == 0
    assert cfg["tie_word_embeddings"] is True
    gen = json.loads((exported / "generation_config.json").read_text())
    assert gen["eos_token_id"] == gen["bos_token_id"] == gen["pad_token_id"] == 0
    card = (exported / "README.md").read_text()
    state = json.loads((resolve_checkpoint(tiny_checkpoint) / "train_state.json").read_text())
    assert f"| tokens seen | {state['tokens_seen']:,} |" in card
    assert "| step | 30 |" in card and f"AutoModelForCausalLM.from_pretrained(\"{exported}\")" in card
    assert f"lm_eval --model hf --model_args pretrained={exported}" in card


def test_tokenizer_gives_our_ids(exported: Path, ours) -> None:
    _, tok = ours
    hf_tok = transformers.AutoTokenizer.from_pretrained(exported)
    for text in TEXTS + [f"one{EOT_TOKEN}two"]:
        assert hf_tok(text).input_ids == tok.encode(text).ids
        assert hf_tok.decode(hf_tok(text).input_ids) == text
    assert hf_tok.eos_token_id == hf_tok.bos_token_id == eot_id(tok)
    assert hf_tok.eos_token == hf_tok.unk_token == EOT_TOKEN
    assert len(hf_tok) == tok.get_vocab_size() and hf_tok.model_max_length == 64


def test_logits_and_greedy_tokens_match(exported: Path, ours) -> None:
    model, tok = ours
    hf, _ = load_hf(exported)
    assert isinstance(hf, transformers.GPT2LMHeadModel)
    assert hf.lm_head.weight.data_ptr() == hf.transformer.wte.weight.data_ptr()  # still tied
    for text in TEXTS:
        assert max_logit_diff(model, hf, tok.encode(text).ids) < 1e-4
    for prompt in PROMPTS:
        mine, theirs = greedy_both(model, hf, tok.encode(prompt).ids, tok.get_vocab_size())
        assert mine == theirs and len(mine) >= 5  # an early <|endoftext|> would make this check weak


def save_run(folder: Path, model: GPT, tokenizer) -> Path:
    """A run folder as model.train writes it: step folder with config, weights and tokenizer."""
    tok_file = save_tokenizer(tokenizer, folder.parent / f"{folder.name}-tokenizer" / "tokenizer.json")
    save_step_checkpoint(folder, model, {"step": 5, "tokens_seen": 640}, extra_files=[tok_file])
    return folder


def test_bias_free_model_with_padded_vocab_round_trips(tokenizer, tmp_path: Path) -> None:
    torch.manual_seed(0)
    n_tok = tokenizer.get_vocab_size()  # 512; the model gets 64 padding rows
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=n_tok + 64, bias=False))
    ids = tokenizer.encode(PROMPTS[0]).ids
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name or "ln_f" in name:
                p.add_(0.2 * torch.randn_like(p))  # LayerNorm weights other than 1 must survive too
        # Make a padding row the favourite next token, so only the vocab limit keeps it out.
        h = model.hidden_states(torch.tensor([ids]))[0, -1]
        model.transformer.wte.weight[n_tok + 3] = 50 * h / h.norm() ** 2
    model.eval()
    out = export_hf(save_run(tmp_path / "run", model, tokenizer), tmp_path / "hf")
    hf, _ = load_hf(out)
    assert hf.config.vocab_size == n_tok + 64
    zero_biases = [n for n, p in hf.named_parameters() if n.endswith(".bias")]
    assert zero_biases and all(not hf.get_parameter(n).any() for n in zero_biases)
    assert max_logit_diff(model, hf, ids) < 1e-4
    with torch.no_grad():
        assert hf(torch.tensor([ids])).logits[0, -1].argmax().item() == n_tok + 3
    mine, theirs = greedy_both(model, hf, ids, n_tok)
    assert mine == theirs and len(mine) == 20 and max(mine) < n_tok and len(set(mine)) > 1
    assert hf.generation_config.suppress_tokens == list(range(n_tok, n_tok + 64))


def test_banded_attention_is_refused(tokenizer, tmp_path: Path) -> None:
    cfg = GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=512,
                    attention_pattern="alternating", local_window=8)
    run = save_run(tmp_path / "run", GPT(cfg), tokenizer)
    with pytest.raises(SystemExit, match="alternating.*banded.*dense"):
        export_hf(run, tmp_path / "hf")
    assert not (tmp_path / "hf").exists()


def test_band_covering_the_context_is_dense_and_exports(tokenizer, tmp_path: Path) -> None:
    torch.manual_seed(1)
    cfg = GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=512,
                    attention_pattern="alternating", local_window=32)
    model = GPT(cfg).eval()
    hf, _ = load_hf(export_hf(save_run(tmp_path / "run", model, tokenizer), tmp_path / "hf"))
    assert max_logit_diff(model, hf, tokenizer.encode(TEXTS[0]).ids) < 1e-4


def test_existing_output_needs_overwrite(tiny_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "hf"
    out.mkdir()
    export_hf(tiny_checkpoint, out)  # an empty folder is fine
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="--overwrite"):
        export_hf(tiny_checkpoint, out)
    assert (out / "notes.txt").read_text() == "mine"
    export_hf(tiny_checkpoint, out, overwrite=True)
    assert not (out / "notes.txt").exists() and (out / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf"]  # no temporary folder left behind


def test_cli_writes_bfloat16_and_says_how_to_load(tiny_checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "hf"
    assert main(["--checkpoint", str(tiny_checkpoint), "--hf", str(out), "--dtype", "bfloat16"]) == out
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}") and "AutoModelForCausalLM.from_pretrained" in line
    hf = transformers.AutoModelForCausalLM.from_pretrained(out, dtype="auto")
    assert hf.transformer.wte.weight.dtype == torch.bfloat16
    with pytest.raises(SystemExit, match="no checkpoint"):
        main(["--checkpoint", str(tmp_path / "nothing"), "--hf", str(tmp_path / "hf2")])
    with pytest.raises(SystemExit) as e:
        main(["--checkpoint", str(tiny_checkpoint), "--hf", str(out), "--dtype", "int8"])
    assert e.value.code == 2  # argparse: one-line usage error


# --- lm-evaluation-harness, run offline on a local multiple-choice task ---

LM_EVAL = """
import json, sys
import lm_eval
from lm_eval.tasks import TaskManager
out, tasks = sys.argv[1], sys.argv[2]
r = lm_eval.simple_evaluate(
    model="hf", model_args=f"pretrained={out},dtype=float32", tasks=["webtext_export_mc"], device="cpu",
    batch_size=4, log_samples=True, task_manager=TaskManager(include_path=tasks, include_defaults=False))
samples = sorted(r["samples"]["webtext_export_mc"], key=lambda s: s["doc_id"])
print(json.dumps({"acc": r["results"]["webtext_export_mc"]["acc,none"],
                  "logliks": [[resp[0] for resp in s["filtered_resps"]] for s in samples]}))
"""


def mc_items(n: int = 16, seed: int = 5) -> list[dict]:
    """Sentence starts from the training text, each with 4 candidate endings (one marked right)."""
    rng = random.Random(seed)
    return [{"context": f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)}",
             "choices": [f" {o} {rng.choice(ENDINGS)}." for o in rng.sample(OBJECTS, 4)],
             "label": rng.randrange(4)} for _ in range(n)]


def our_logliks(model: GPT, tok, context: str, choices: list[str]) -> list[float]:
    """Summed log-probability of each continuation given the context, tokenised as lm-eval does
    (encode context + continuation together; the continuation is what follows the context's ids)."""
    ctx = tok.encode(context).ids
    scores = []
    for choice in choices:
        whole = tok.encode(context + choice).ids
        cont = whole[len(ctx):]
        with torch.no_grad():
            logits, _ = model(torch.tensor([whole[:-1]]))
            logp = torch.log_softmax(logits[0].float(), dim=-1)
        scores.append(logp[len(ctx) - 1:].gather(1, torch.tensor(cont)[:, None]).sum().item())
    return scores


def test_lm_eval_scores_the_export_as_we_do(exported: Path, ours, tmp_path: Path) -> None:
    pytest.importorskip("lm_eval")
    model, tok = ours
    items = mc_items()
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(it) + "\n" for it in items))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "webtext_export_mc.yaml").write_text(
        "task: webtext_export_mc\n"
        "dataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\n"
        "output_type: multiple_choice\n"
        'doc_to_text: "{{context}}"\n'
        'doc_to_choice: "{{choices}}"\n'
        "doc_to_target: label\n"
        'target_delimiter: ""\n'
        "metric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n"
    )
    # A separate process, so the offline switches are read at import as they are for a user (and no
    # Hub download or cache outside tmp_path can happen).
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"),
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    run = subprocess.run([sys.executable, "-c", LM_EVAL, str(exported), str(tasks)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])

    mine = [our_logliks(model, tok, it["context"], it["choices"]) for it in items]
    for theirs_doc, mine_doc in zip(result["logliks"], mine, strict=True):
        assert theirs_doc == pytest.approx(mine_doc, abs=1e-3)
    correct = [max(range(4), key=lambda i: s[i]) == it["label"] for s, it in zip(mine, items)]
    assert result["acc"] == pytest.approx(sum(correct) / len(items), abs=1e-12)
    assert 0 < sum(correct) < len(items)  # neither trivial extreme: the comparison has something to see
