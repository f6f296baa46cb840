"""The public task formats, each turned into log-likelihood `Example`s (GPT-3's evaluation, section 2.4).

Every format follows the prompt of EleutherAI's lm-evaluation-harness for the same dataset, so that a score
here and `lm_eval` on an exported model (`model.export`) measure the same thing:

    format          records (JSONL)                                   context -> choices
    lambada         {"text"}                                          all but the last word -> " last"
    completion      {"context", "completion"}                         context -> completion (as written)
    hellaswag       {"ctx" | "ctx_a"+"ctx_b", "endings", "label",     "activity: ctx" -> " ending" x 4
                     "activity_label"?}
    piqa            {"goal", "sol1", "sol2", "label"}                 "Question: goal\\nAnswer:" -> " sol"
    arc             {"question": {"stem", "choices"}, "answerKey"}   "Question: stem\\nAnswer:" -> " text"
                    (AI2's files; the Hugging Face layout with "question" a string and "choices": {"text",
                    "label"} too)
    classification  {"text", "label"}                                 "text\\nQuestion: What is this text
                                                                       about?\\nAnswer:" -> " label" (every
                                                                       label of the task's files)
    multiple_choice {"context", "choices", "gold" | "label"}          context -> choices (as written)

"completion" tasks (lambada) are scored by accuracy (the greedy continuation is the target) and perplexity of
the target; the others by accuracy of the most likely choice, raw and normalised by its length in bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

COMPLETION = "completion"
MULTIPLE_CHOICE = "multiple_choice"
CLASSIFICATION_QUESTION = "Question: What is this text about?\nAnswer:"


class FormatError(ValueError):
    """A record that does not fit its task's format (the caller counts and skips it)."""


@dataclass(frozen=True)
class Example:
    """One item as the scorer sees it: the log-likelihood of each choice given the context."""

    context: str
    choices: tuple[str, ...]  # continuations exactly as appended to the context (each with its leading space)
    gold: int
    id: str = ""

    @property
    def demonstration(self) -> str:
        """The item with its answer, as one shot of a few-shot prompt."""
        return self.context + self.choices[self.gold]


@dataclass(frozen=True)
class TaskFormat:
    """How one public format's records become `Example`s, and which of their strings are test text."""

    name: str
    kind: str                          # COMPLETION or MULTIPLE_CHOICE
    fields: tuple[str, ...]            # the fields that identify the format in a file's first record
    parse: Callable[[dict[str, Any], Sequence[str]], Example]  # (record, labels of the task) -> Example
    texts: Callable[[dict[str, Any]], list[str]]              # test text to decontaminate against


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"missing_{name}")
    return value


def _label(record: dict[str, Any], name: str, n: int) -> int:
    value = record.get(name)
    try:
        i = int(value)
    except (TypeError, ValueError):
        raise FormatError(f"bad_{name}") from None
    if not 0 <= i < n:
        raise FormatError(f"bad_{name}")
    return i


def _strings(record: dict[str, Any], name: str) -> list[str]:
    value = record.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise FormatError(f"missing_{name}")
    return value


def _id(record: dict[str, Any]) -> str:
    for key in ("id", "ind", "idx"):
        if record.get(key) is not None:
            return str(record[key])
    return ""


# --- lambada / completion ---

def _lambada(record: dict[str, Any], _: Sequence[str]) -> Example:
    text = _text(record, "text").strip()
    if " " not in text:
        raise FormatError("no_context")
    context, target = text.rsplit(" ", 1)
    return Example(context, (" " + target,), 0, _id(record))


def _completion(record: dict[str, Any], _: Sequence[str]) -> Example:
    return Example(_text(record, "context"), (_text(record, "completion"),), 0, _id(record))


# --- hellaswag (lm-eval's preprocessing: WikiHow's "[title]" markers and bracketed notes removed) ---

def hellaswag_clean(text: str) -> str:
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def _hellaswag_context(record: dict[str, Any]) -> str:
    if isinstance(record.get("ctx_a"), str):
        ctx = record["ctx_a"] + " " + str(record.get("ctx_b") or "").capitalize()
    else:
        ctx = _text(record, "ctx")
    label = record.get("activity_label")
    return hellaswag_clean((f"{label}: " if label else "") + ctx.strip())


def _hellaswag(record: dict[str, Any], _: Sequence[str]) -> Example:
    endings = _strings(record, "endings")
    return Example(_hellaswag_context(record), tuple(" " + hellaswag_clean(e) for e in endings),
                   _label(record, "label", len(endings)), _id(record))


# --- piqa ---

def _piqa(record: dict[str, Any], _: Sequence[str]) -> Example:
    choices = (" " + _text(record, "sol1"), " " + _text(record, "sol2"))
    return Example(f"Question: {_text(record, 'goal')}\nAnswer:", choices, _label(record, "label", 2), _id(record))


# --- arc (AI2's JSONL and the Hugging Face layout) ---

def _arc_parts(record: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    question = record.get("question")
    if isinstance(question, dict):  # AI2: {"stem", "choices": [{"text", "label"}]}
        stem, choices = question.get("stem"), question.get("choices")
        if isinstance(choices, list):
            texts = [c.get("text") for c in choices if isinstance(c, dict)]
            labels = [c.get("label") for c in choices if isinstance(c, dict)]
        else:
            texts, labels = [], []
    else:  # Hugging Face: "question" a string, "choices": {"text": [...], "label": [...]}
        stem, choices = question, record.get("choices")
        texts = list(choices.get("text") or []) if isinstance(choices, dict) else []
        labels = list(choices.get("label") or []) if isinstance(choices, dict) else []
    if not isinstance(stem, str) or not stem.strip():
        raise FormatError("missing_question")
    if not texts or len(texts) != len(labels) or not all(isinstance(t, str) for t in texts):
        raise FormatError("missing_choices")
    return stem, texts, [str(x) for x in labels]


def _arc(record: dict[str, Any], _: Sequence[str]) -> Example:
    stem, texts, labels = _arc_parts(record)
    key = str(record.get("answerKey", ""))
    if key not in labels:
        raise FormatError("bad_answerKey")
    return Example(f"Question: {stem}\nAnswer:", tuple(" " + t for t in texts), labels.index(key), _id(record))


def _arc_texts(record: dict[str, Any]) -> list[str]:
    stem, texts, _ = _arc_parts(record)
    return [stem, *texts]


# --- classification: the choices are the task's label names ---

def _classification(record: dict[str, Any], labels: Sequence[str]) -> Example:
    text, label = _text(record, "text").strip(), record.get("label")
    if not isinstance(label, (str, int)) or str(label) not in labels:
        raise FormatError("bad_label")
    return Example(f"{text}\n{CLASSIFICATION_QUESTION}", tuple(f" {name}" for name in labels),
                   list(labels).index(str(label)), _id(record))


# --- any multiple choice written as such ---

def _multiple_choice(record: dict[str, Any], _: Sequence[str]) -> Example:
    choices = _strings(record, "choices")
    gold = record.get("gold", record.get("label"))
    return Example(_text(record, "context"), tuple(choices), _label({"gold": gold}, "gold", len(choices)),
                   _id(record))


def _values(*names: str) -> Callable[[dict[str, Any]], list[str]]:
    def texts(record: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for name in names:
            value = record.get(name)
            out += [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]
        return out
    return texts


FORMATS: dict[str, TaskFormat] = {f.name: f for f in (
    # Most specific first: guess_format takes the first whose fields a record has.
    TaskFormat("hellaswag", MULTIPLE_CHOICE, ("endings", "label"), _hellaswag,
               _values("ctx", "ctx_a", "ctx_b", "endings")),
    TaskFormat("piqa", MULTIPLE_CHOICE, ("goal", "sol1", "sol2"), _piqa, _values("goal", "sol1", "sol2")),
    TaskFormat("arc", MULTIPLE_CHOICE, ("question", "answerKey"), _arc, _arc_texts),
    TaskFormat("multiple_choice", MULTIPLE_CHOICE, ("context", "choices"), _multiple_choice,
               _values("context", "choices")),
    TaskFormat("completion", COMPLETION, ("context", "completion"), _completion, _values("context", "completion")),
    TaskFormat("classification", MULTIPLE_CHOICE, ("text", "label"), _classification, _values("text")),
    TaskFormat("lambada", COMPLETION, ("text",), _lambada, _values("text")),
)}


def guess_format(record: dict[str, Any]) -> TaskFormat | None:
    """The format whose identifying fields `record` has (most specific first), or None."""
    for fmt in FORMATS.values():
        if all(name in record for name in fmt.fields):
            return fmt
    return None


def parse_examples(records: Iterator[dict[str, Any]], fmt: TaskFormat, labels: Sequence[str] = (),
                   skipped: dict[str, int] | None = None) -> Iterator[Example]:
    """`Example`s of `records`; a record that does not fit is counted in `skipped` by reason."""
    for record in records:
        try:
            yield fmt.parse(record, labels)
        except FormatError as e:
            if skipped is not None:
                skipped[str(e)] = skipped.get(str(e), 0) + 1
