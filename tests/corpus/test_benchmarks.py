"""The task registry shared by model.evaluate and --decontaminate: formats, names, few-shot files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.benchmarks import FORMATS, TaskSpecError, guess_format, load_task, parse_task_spec, task_texts
from corpus.benchmarks.registry import find_shots_file, task_name
from corpus.dedup.decontamination import BenchmarkIndex, Decontaminator
from corpus.records import Document


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


HELLASWAG = {"ind": 4, "activity_label": "Baking", "ctx_a": "A man pours flour into a bowl.",
             "ctx_b": "he", "ctx": "unused when ctx_a is there",
             "endings": ["mixes it [title] well.", "flies away.", "sings.", "sleeps."], "label": "0"}
PIQA = {"goal": "Keep bread fresh", "sol1": "Put it in a bag.", "sol2": "Put it in water.", "label": 0}
ARC_AI2 = {"id": "q1", "question": {"stem": "What melts ice?", "choices": [
    {"text": "heat", "label": "A"}, {"text": "cold", "label": "B"}]}, "answerKey": "A"}
ARC_HF = {"id": "q2", "question": "What melts ice?",
          "choices": {"text": ["cold", "heat"], "label": ["1", "2"]}, "answerKey": "2"}


def test_each_format_gives_lm_eval_prompts() -> None:
    ex = FORMATS["lambada"].parse({"text": "He looked at the dog. The dog looked at him"}, ())
    assert (ex.context, ex.choices, ex.gold) == ("He looked at the dog. The dog looked at", (" him",), 0)
    ex = FORMATS["hellaswag"].parse(HELLASWAG, ())
    assert ex.context == "Baking: A man pours flour into a bowl. He"
    assert ex.choices[0] == " mixes it. well." and ex.gold == 0 and ex.id == "4"
    ex = FORMATS["piqa"].parse(PIQA, ())
    assert ex.context == "Question: Keep bread fresh\nAnswer:" and ex.choices == (" Put it in a bag.", " Put it in water.")
    for record in (ARC_AI2, ARC_HF):
        ex = FORMATS["arc"].parse(record, ())
        assert ex.context == "Question: What melts ice?\nAnswer:" and ex.choices[ex.gold] == " heat"
    ex = FORMATS["classification"].parse({"text": "Goals galore.", "label": "Sport"}, ("Music", "Sport"))
    assert ex.choices == (" Music", " Sport") and ex.gold == 1 and ex.context.startswith("Goals galore.\n")
    assert ex.demonstration == ex.context + " Sport"
    ex = FORMATS["multiple_choice"].parse({"context": "2+2=", "choices": ["4", "5"], "gold": 0}, ())
    assert ex.choices == ("4", "5") and ex.gold == 0


@pytest.mark.parametrize("record,name", [
    (HELLASWAG, "hellaswag"), (PIQA, "piqa"), (ARC_AI2, "arc"), (ARC_HF, "arc"), ({"text": "a b"}, "lambada"),
    ({"text": "a", "label": "x"}, "classification"), ({"context": "a", "completion": " b"}, "completion"),
    ({"context": "a", "choices": ["b"], "gold": 0}, "multiple_choice")])
def test_format_guessed_from_fields(record: dict, name: str) -> None:
    assert guess_format(record).name == name


def test_spec_names_paths_and_formats() -> None:
    assert parse_task_spec("arc=a/b.jsonl:arc") == ("arc", "a/b.jsonl", "arc")
    assert parse_task_spec("dir/x.jsonl") == (None, "dir/x.jsonl", None)
    assert parse_task_spec("c:/odd/path.jsonl") == (None, "c:/odd/path.jsonl", None)  # ":odd..." is no format
    assert task_name(Path("hellaswag_val.jsonl")) == "hellaswag" and task_name(Path("topic-test.jsonl.gz")) == "topic"


def test_bare_name_found_in_task_dir_with_its_shots_file_and_labels(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "topic_test.jsonl", [{"text": "a", "label": "B"}, {"text": "b", "label": "A"}])
    write_jsonl(tmp_path / "topic_train.jsonl", [{"text": "c", "label": "C"}])
    task = load_task("topic", task_dir=tmp_path)
    assert task.name == "topic" and task.format.name == "classification"
    assert task.shots_path == tmp_path / "topic_train.jsonl" and find_shots_file(task.path) == task.shots_path
    assert task.labels == ("A", "B", "C")  # labels only seen in the train file are choices too
    assert [e.gold for e in task.examples()] == [1, 0] and len(task.shot_pool()) == 1
    write_jsonl(tmp_path / "solo.jsonl", [{"text": "one two"}])
    solo = load_task("solo", task_dir=tmp_path)
    assert solo.shots_path is None and solo.shot_pool() == solo.examples()
    with pytest.raises(TaskSpecError, match="no such file"):
        load_task("missing", task_dir=tmp_path)


def test_bad_records_are_counted_not_fatal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mc.jsonl", [
        {"context": "q", "choices": ["a", "b"], "gold": 1}, "{not json", {"context": "q", "choices": ["a"], "gold": 3},
        {"context": "", "choices": ["a"], "gold": 0}, [1, 2]])
    task = load_task(str(path))
    assert len(task.examples()) == 1
    assert task.skipped == {"bad_json": 2, "bad_gold": 1, "missing_context": 1}


def test_unknown_fields_are_a_clear_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "odd.jsonl", [{"prompt": "x", "answer": "y"}])
    with pytest.raises(TaskSpecError, match=r"fields \(answer, prompt\) match no known format"):
        load_task(str(path))
    assert load_task(f"{path}:multiple_choice").format.name == "multiple_choice"  # the user may say which


def test_decontamination_reads_task_files_and_attributes_each_benchmark(tmp_path: Path) -> None:
    leak = "the quick committee of volunteers measured the length of the old harbour wall twice before"
    other = "an entirely different question about the ferry timetable that nobody reads on a sunday morning"
    piqa = write_jsonl(tmp_path / "piqa_test.jsonl", [{**PIQA, "goal": leak}])
    hs = write_jsonl(tmp_path / "hellaswag_val.jsonl", [{**HELLASWAG, "endings": [other, "b", "c", "d"]}])
    assert list(task_texts(piqa)) == [leak, PIQA["sol1"], PIQA["sol2"]]
    assert other in list(task_texts(hs))
    index = BenchmarkIndex.from_files([piqa, hs])
    assert index.names == ["piqa", "hellaswag"]
    step = Decontaminator(index)
    filler = " ".join(f"word{i}" for i in range(80))
    docs = [Document(id="a", url="u:a", source="t", text=f"{filler} {leak} {filler}"),
            Document(id="b", url="u:b", source="t", text=f"{filler} {filler}")]
    out = list(step(docs))
    assert [d.id for d in out] == ["a", "b"] and leak not in out[0].text
    assert step.stats.counts["docs_touched:piqa"] == 1 and "docs_touched:hellaswag" not in step.stats.counts
