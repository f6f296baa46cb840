"""GPT-1 supervised fine-tuning: task input transformations and the classifier head (Radford et al. 2018,
"Improving Language Understanding by Generative Pre-Training", sections 3.2-3.3 and Figure 1 right).

Every task becomes one or more token sequences `[start] ... [extract]` that the pretrained GPT reads
unchanged; a linear head reads the final hidden state of the `[extract]` token:

    classification   [start] text [extract]                                  -> n_classes logits
    entailment       [start] premise [delim] hypothesis [extract]            -> n_classes logits
    similarity       [start] a [delim] b [extract]  and  [start] b [delim] a [extract]:
                     the two extract states are ADDED, then the head         -> n_classes logits
    multiple choice  [start] context [delim] answer_k [extract], one per k:
                     the head gives one score per choice, softmax over them  -> K logits

The training loss is GPT-1's L3 = L2 (task) + lambda * L1 (language modelling on the same sequences).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from tokenizers import Tokenizer

from model.config import pad_vocab
from model.gpt import GPT

START, DELIM, EXTRACT = "<|start|>", "<|delim|>", "<|extract|>"
TASKS = ("classification", "entailment", "similarity", "multiple_choice")
INIT_STD = 0.02  # GPT-1/GPT-2 initialisation of embeddings and the head


@dataclass(frozen=True)
class TaskTokens:
    """Ids of the three special tokens GPT-1 adds for fine-tuning."""

    start: int
    delim: int
    extract: int

    def ids(self) -> tuple[int, int, int]:
        return self.start, self.delim, self.extract


def add_task_tokens(tok: Tokenizer) -> tuple[TaskTokens, list[int]]:
    """Add `<|start|>`, `<|delim|>`, `<|extract|>` to `tok` as special tokens (in place).

    Returns their ids and the ids that are new (none when `tok` is already a fine-tuned tokenizer).
    Special tokens are matched whole and never split or merged by the BPE.
    """
    before = {t: tok.token_to_id(t) for t in (START, DELIM, EXTRACT)}
    tok.add_special_tokens([START, DELIM, EXTRACT])
    ids = TaskTokens(*(tok.token_to_id(t) for t in (START, DELIM, EXTRACT)))
    return ids, [i for t, i in zip(before, ids.ids()) if before[t] is None]


@torch.no_grad()
def fit_embeddings(model: GPT, vocab_needed: int, new_ids: list[int], generator: torch.Generator) -> int:
    """Make `model`'s token embedding cover `vocab_needed` ids, the new tokens' rows drawn from N(0, 0.02).

    When the padded vocabulary already has free rows beyond the tokenizer's size (pretraining pads it to a
    multiple of 64), the new tokens take those rows and the matrix keeps its shape; the rows are
    re-drawn anyway, so a new token starts the same way whether or not the vocabulary was padded (a
    padding row has only ever been pushed down as a never-seen target). Otherwise the matrix grows,
    to the next multiple of 64 again. The LM head is tied, so it grows with it. Returns the rows added.
    """
    wte = model.transformer.wte
    old, d = wte.weight.shape
    if vocab_needed > old:
        new_size = pad_vocab(vocab_needed)
        grown = nn.Embedding(new_size, d, device=wte.weight.device, dtype=wte.weight.dtype)
        grown.weight[:old] = wte.weight
        grown.weight[old:] = _normal((new_size - old, d), generator).to(grown.weight)
        model.transformer.wte = grown
        model.lm_head.out_features = new_size
        model.config.vocab_size = new_size
        model.tie_weights()
    weight = model.transformer.wte.weight
    for i in new_ids:
        if i < old:  # a free padding row taken over
            weight[i] = _normal((d,), generator).to(weight)
    return model.config.vocab_size - old


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=generator) * INIT_STD


# --- input transformations ---


def fit_pair(a: list[int], b: list[int], budget: int) -> tuple[list[int], list[int]]:
    """Cut two segments to at most `budget` tokens together, each from its LEFT (its start).

    A segment that fits in half the budget is kept whole and the other one is cut; when both are longer,
    each keeps half (the first one the odd token). Cutting from the left keeps the end of a context next
    to its answer: a long premise or context (usually the longer part) loses its opening, not its end.
    """
    if len(a) + len(b) <= budget:
        return a, b
    if len(b) <= budget // 2:
        keep_a, keep_b = budget - len(b), len(b)
    elif len(a) <= budget - budget // 2:
        keep_a, keep_b = len(a), budget - len(a)
    else:
        keep_a, keep_b = budget - budget // 2, budget // 2
    return a[len(a) - keep_a:], b[len(b) - keep_b:]


def single_input(text: list[int], tokens: TaskTokens, block_size: int) -> list[int]:
    """`[start] text [extract]`; a text longer than block_size - 2 keeps its last tokens, so the extract
    token (whose state the head reads) is always inside the context."""
    budget = block_size - 2
    return [tokens.start, *text[max(0, len(text) - budget):], tokens.extract]


def pair_input(a: list[int], b: list[int], tokens: TaskTokens, block_size: int) -> list[int]:
    """`[start] a [delim] b [extract]`, cut to block_size by `fit_pair` (from the left of each part)."""
    a, b = fit_pair(a, b, block_size - 3)
    return [tokens.start, *a, tokens.delim, *b, tokens.extract]


def task_inputs(task: str, parts: list[list[int]], tokens: TaskTokens, block_size: int) -> list[list[int]]:
    """The sequences of one example, per Figure 1 (right) of the GPT-1 paper.

    `parts` holds the tokenized fields: [text] (classification), [premise, hypothesis] (entailment),
    [a, b] (similarity), [context, choice_1, ..., choice_K] (multiple choice).
    """
    if task == "classification":
        return [single_input(parts[0], tokens, block_size)]
    if task == "entailment":
        return [pair_input(parts[0], parts[1], tokens, block_size)]
    if task == "similarity":
        # Cut once, then build both orders from the same pieces, so the two orders see the same text.
        a, b = fit_pair(parts[0], parts[1], block_size - 3)
        return [pair_input(a, b, tokens, block_size), pair_input(b, a, tokens, block_size)]
    if task == "multiple_choice":
        return [pair_input(parts[0], choice, tokens, block_size) for choice in parts[1:]]
    raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


@dataclass
class Example:
    """One labelled example: its sequences (1, 2 for similarity, K for multiple choice) and class id."""

    sequences: list[list[int]]
    label: int


@dataclass
class TaskSpec:
    """Which task, and which JSONL fields hold its parts and its label."""

    task: str = "classification"
    text_field: str = "text"
    label_field: str = "label"
    premise_field: str = "premise"
    hypothesis_field: str = "hypothesis"
    pair_fields: tuple[str, str] = ("a", "b")
    context_field: str = "context"
    choices_field: str = "choices"

    def text_fields(self) -> list[str]:
        """The fields tokenized into `task_inputs`' parts (multiple choice: the context; choices follow)."""
        return {"classification": [self.text_field], "entailment": [self.premise_field, self.hypothesis_field],
                "similarity": list(self.pair_fields), "multiple_choice": [self.context_field]}[self.task]


def _record_texts(rec: Any, spec: TaskSpec) -> tuple[list[str], str | None]:
    """The record's texts in task order, or the reason it cannot be used."""
    if not isinstance(rec, dict):
        return [], "not a JSON object"
    names = spec.text_fields() + [spec.label_field]
    if spec.task == "multiple_choice":
        names.append(spec.choices_field)
    for name in names:
        if name not in rec or rec[name] is None:
            return [], f"missing {name}"
    texts = [rec[n] for n in spec.text_fields()]
    if spec.task == "multiple_choice":
        if not isinstance(rec[spec.choices_field], list) or len(rec[spec.choices_field]) < 2:
            return [], "fewer than 2 choices"
        texts += rec[spec.choices_field]
    if not all(isinstance(t, str) for t in texts):
        return [], "text not a string"
    return texts, None if all(t.strip() for t in texts) else "empty text"


def _label_key(value: Any) -> int | str | None:
    """Labels are strings or ints (bool and float are refused: 1.0 vs 1 would be two classes)."""
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        return None
    return value


def _choice_index(label: Any, choices: list[str]) -> int | None:
    """A multiple-choice label: the right choice's index, or its text."""
    if isinstance(label, str):
        return choices.index(label) if label in choices else None
    ok = isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(choices)
    return label if ok else None


def read_task_file(path: str | Path, spec: TaskSpec, tok: Tokenizer, tokens: TaskTokens, block_size: int,
                   labels: list[int | str] | None = None) -> tuple[list[Example], dict[str, Any], list | None]:
    """Read a JSONL task file into examples. Returns (examples, stats, label names).

    Class labels map to ids in sorted order (ints before strings); `labels=None` (the training file)
    takes the names from this file, otherwise an unseen label is skipped as "unknown label". Multiple
    choice labels are the right choice's index or its text, and there are no label names (None).
    Unusable records are counted by reason in stats["skipped"]; a file without one usable record raises.
    """
    counts: Counter[str] = Counter()
    rows: list[tuple[list[str], Any]] = []
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            n += 1
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                counts["not JSON"] += 1
                continue
            texts, reason = _record_texts(rec, spec)
            if reason is None and spec.task != "multiple_choice" and _label_key(rec[spec.label_field]) is None:
                reason = "bad label"
            if reason:
                counts[reason] += 1
            else:
                rows.append((texts, rec[spec.label_field]))
    if spec.task != "multiple_choice" and labels is None:
        labels = sorted({r[1] for r in rows}, key=lambda v: (isinstance(v, str), v))
    index = {v: i for i, v in enumerate(labels or [])}
    special = set(tokens.ids())
    examples, truncated = [], 0
    for texts, label in rows:
        if spec.task == "multiple_choice":
            cls = _choice_index(label, texts[1:])
        else:
            cls = index.get(label)
        if cls is None:
            counts["label out of range" if spec.task == "multiple_choice" else "unknown label"] += 1
            continue
        # A text that literally contains "<|extract|>" etc. would encode to the special id: drop it there,
        # so only the transformation itself places start/delim/extract.
        parts = [[i for i in e.ids if i not in special] for e in tok.encode_batch(texts, add_special_tokens=False)]
        if not all(parts):
            counts["empty text"] += 1
            continue
        seqs = task_inputs(spec.task, parts, tokens, block_size)
        full = [2 + len(parts[0])] if len(parts) == 1 else [3 + len(parts[0]) + len(p) for p in parts[1:]]
        truncated += sum(map(len, seqs)) < sum(full) * (2 if spec.task == "similarity" else 1)
        examples.append(Example(seqs, cls))
    stats = {"records": n, "used": len(examples), "truncated": truncated, "skipped": dict(sorted(counts.items()))}
    if not examples:
        why = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "the file is empty"
        raise ValueError(f"{path}: no usable {spec.task} record among {n} ({why}); check the --*-field flags")
    return examples, stats, labels


@dataclass
class Batch:
    """Examples packed for one forward pass; every sequence of every example is one row of `ids`."""

    ids: torch.Tensor  # (N, T) right-padded to the longest row of THIS batch
    targets: torch.Tensor  # (N, T) next-token targets for the LM loss; -1 = ignored
    extract_pos: torch.Tensor  # (N,) position of each row's extract token
    counts: list[int] = field(default_factory=list)  # rows per example, in order
    labels: torch.Tensor | None = None  # (B,)

    def to(self, device: torch.device) -> Batch:
        return Batch(self.ids.to(device), self.targets.to(device), self.extract_pos.to(device), self.counts,
                     None if self.labels is None else self.labels.to(device))


def collate(examples: list[Example], tokens: TaskTokens, pad_id: int = 0) -> Batch:
    """Pad the batch to its own longest sequence (not block_size): short tasks cost short sequences.

    Padding goes on the right, so under the causal mask it never changes a real token's state. The LM
    targets skip padding and the special tokens (delim, extract), which are not text to predict.
    """
    rows = [s for ex in examples for s in ex.sequences]
    width = max(len(s) for s in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    targets = torch.full((len(rows), width), -1, dtype=torch.long)
    special = torch.tensor(tokens.ids())
    for r, s in enumerate(rows):
        seq = torch.tensor(s, dtype=torch.long)
        ids[r, : len(s)] = seq
        nxt = seq[1:].masked_fill(torch.isin(seq[1:], special), -1)
        targets[r, : len(s) - 1] = nxt
    return Batch(ids, targets, torch.tensor([len(s) - 1 for s in rows]), [len(ex.sequences) for ex in examples],
                 torch.tensor([ex.label for ex in examples], dtype=torch.long))


@dataclass
class LossParts:
    """The terms of one batch's loss (scalars)."""

    total: torch.Tensor  # task + lm_weight * lm
    task: torch.Tensor
    lm: torch.Tensor | None  # None when lm_weight is 0 (the LM logits are then not computed)


class GPT1Classifier(nn.Module):
    """The pretrained GPT body plus GPT-1's linear head on the extract token's final hidden state."""

    def __init__(self, gpt: GPT, task: str, n_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        self.gpt, self.task = gpt, task
        self.dropout = nn.Dropout(dropout)  # GPT-1: "dropout to the classifier with a rate of 0.1"
        # Multiple choice scores each (context, answer) sequence with one number; the others classify.
        self.head = nn.Linear(gpt.config.n_embd, 1 if task == "multiple_choice" else n_classes)
        nn.init.normal_(self.head.weight, std=INIT_STD)
        nn.init.zeros_(self.head.bias)

    def forward(self, batch: Batch, with_lm: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(task logits (B, n_classes) or (B, K_max) for multiple choice, LM loss or None)."""
        hidden = self.gpt.hidden_states(batch.ids)  # (N, T, d)
        rows = torch.arange(hidden.size(0), device=hidden.device)
        h = hidden[rows, batch.extract_pos]  # (N, d): the extract token's final state
        if self.task == "similarity":
            h = h.view(-1, 2, h.size(-1)).sum(1)  # GPT-1: both orders' states added element-wise
        logits = self.head(self.dropout(h)).float()
        if self.task == "multiple_choice":
            logits = _choice_logits(logits.squeeze(-1), batch.counts)
        lm = None
        if with_lm:
            valid = batch.targets != -1  # project only the positions with a target (no padding)
            lm_logits = self.gpt.lm_head(hidden[valid]).float()
            lm = (F.cross_entropy(lm_logits, batch.targets[valid]) if valid.any()
                  else hidden.sum() * 0.0)  # no text token to predict: contributes nothing
        return logits, lm


def _choice_logits(scores: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Scores of all choices (N,) -> (B, K_max); the missing choices of an example with fewer get -inf,
    so the softmax over each example's own choices ignores them."""
    per_example = list(scores.split(counts))
    return nn.utils.rnn.pad_sequence(per_example, batch_first=True, padding_value=float("-inf"))


def finetune_loss(model: GPT1Classifier, batch: Batch, lm_weight: float) -> tuple[LossParts, torch.Tensor]:
    """GPT-1's L3 = L2 + lambda * L1 on one batch; also returns the task logits."""
    logits, lm = model(batch, with_lm=lm_weight > 0)
    task = F.cross_entropy(logits, batch.labels)
    total = task + lm_weight * lm if lm is not None else task
    return LossParts(total, task, lm), logits
