import json

import pytest

from corpus.executor import LocalExecutor, merge_stats, part_key
from corpus.records import Document
from corpus.steps import StepStats


def numbers_task(path):
    """A map task: one document per line of a text file, dropping empty lines."""
    stats = StepStats("lines")

    def gen():
        for i, line in enumerate(open(path).read().splitlines()):
            stats.n_in += 1
            if not line:
                stats.drop("empty")
                continue
            stats.n_out += 1
            yield Document(id=f"{path}:{i}", url=path, source="t", text=line)

    return gen(), [stats]


def failing_task(path):
    if "b" in path.rsplit("/", 1)[-1]:
        raise RuntimeError("worker killed")
    return numbers_task(path)


@pytest.fixture
def inputs(tmp_path):
    paths = []
    for name, lines in (("a.txt", ["x", "", "y"]), ("b.txt", ["z"]), ("c.txt", ["", "w"])):
        (tmp_path / name).write_text("\n".join(lines))
        paths.append(str(tmp_path / name))
    return paths


@pytest.mark.parametrize("workers", [1, 2])
def test_map_stage_writes_one_part_per_input_and_merges_counters(inputs, tmp_path, workers):
    results = LocalExecutor(workers).map_stage(numbers_task, inputs, tmp_path / "work")
    assert [r.input for r in results] == inputs
    assert all(len(r.files) == 1 and r.files[0].stat().st_size > 0 for r in results)
    (stats,) = merge_stats(results)
    assert (stats.n_in, stats.n_out, dict(stats.dropped)) == (6, 4, {"empty": 2})


def test_restart_skips_finished_inputs_and_redoes_the_rest(inputs, tmp_path):
    work = tmp_path / "work"
    with pytest.raises(RuntimeError):
        LocalExecutor().map_stage(failing_task, inputs, work)
    done = sorted(p.name for p in (work / "parts").glob("*.done.json"))
    assert done == [f"{part_key(inputs[0])}.done.json"]
    marker = json.loads((work / "parts" / done[0]).read_text())
    calls = []

    def counting_task(path):
        calls.append(path)
        return numbers_task(path)

    results = LocalExecutor().map_stage(counting_task, inputs, work)
    assert calls == inputs[1:]  # a.txt was not read again
    assert results[0].stats[0].to_dict() == marker["stats"][0]
    assert sum(s.n_out for s in merge_stats(results)) == 4


def test_changed_parameters_discard_old_parts(inputs, tmp_path):
    work = tmp_path / "work"
    LocalExecutor().map_stage(numbers_task, inputs, work, fingerprint={"min_words": 50})
    calls = []

    def counting_task(path):
        calls.append(path)
        return numbers_task(path)

    LocalExecutor().map_stage(counting_task, inputs, work, fingerprint={"min_words": 50})
    assert calls == []
    LocalExecutor().map_stage(counting_task, inputs, work, fingerprint={"min_words": 10})
    assert calls == inputs
