"""The Ray engine gives what the local engine gives: the same parts, markers, files and shards.

Most tests share one Ray started here (`ray.init(num_cpus=2)`); the two-node test starts its own
cluster of two `ray start` nodes on this machine and runs its driver in a subprocess, so the two
never mix. Ray processes are stopped by the ids of the processes this file started.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from functools import partial
from pathlib import Path

import pytest

from corpus.errors import UserError
from corpus.executor import ExecutorConfig, LocalExecutor, RayExecutor, make_executor, merge_stats, part_key
from corpus.records import Document
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_text
from pipelines import build_webtext, clean_commoncrawl

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'webtext[ray]'")
ROOT = Path(__file__).resolve().parents[2]
# The crawl sample without a WebText beside it: no classifier to train, nothing to dedup against.
CC_SAMPLE_FLAGS = ["--no-quality-filter", "--dedup-against", "--no-progress", "--workers", "2"]

# Tasks defined here go to Ray's workers by value: they cannot import a test module by name.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def lines_task(path):
    """A map task: one document per line of a text file, dropping empty lines."""
    stats = StepStats("lines")

    def gen():
        for i, line in enumerate(Path(path).read_text().splitlines()):
            stats.n_in += 1
            if not line:
                stats.drop("empty")
                continue
            stats.n_out += 1
            yield Document(id=f"{Path(path).name}:{i}", url=f"https://example.org/{Path(path).name}", source="t",
                           text=line)

    return gen(), [stats]


def failing_task(path):
    if Path(path).name.startswith("b"):
        raise RuntimeError("a bug in the task")
    return lines_task(path)


def user_error_task(path):
    raise UserError(f"{path}: not a WARC file")


def recording_task(calls: Path, path):
    """`lines_task`, leaving a file per call: the tasks run in other processes."""
    (calls / Path(path).name).write_text("called")
    return lines_task(path)


def killed_once_task(victim: str, attempts: Path, path):
    """`lines_task`, but the worker running `victim` is killed (SIGKILL) on its first attempt."""
    if Path(path).name == victim and not (attempts / victim).exists():
        (attempts / victim).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return lines_task(path)


def write_summary(src: tuple[int, str], dst: Path) -> None:
    """A file task whose source is not a path: (band number, text)."""
    band, text = src
    atomic_write_text(dst, f"band {band}: {hashlib.sha256(text.encode()).hexdigest()}\n")


def tree(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256 of its bytes), temporary files included."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def inputs(tmp_path) -> list[str]:
    paths = []
    for name, lines in (("a.txt", ["x", "", "y"]), ("b.txt", ["z"]), ("c.txt", ["", "w"]),
                        ("d.txt", ["p", "q", "r"]), ("e.txt", [""]), ("f.txt", ["s"])):
        (tmp_path / "in" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_text("\n".join(lines))
        paths.append(str(tmp_path / "in" / name))
    return paths


SAMPLES = {"wt": (build_webtext, ["--no-progress", "--workers", "2"]), "cc": (clean_commoncrawl, CC_SAMPLE_FLAGS)}


def shards_and_manifest(out: Path) -> tuple[dict[str, str], tuple]:
    """The shards' bytes and what the manifest says of the rows, files and steps (not its date)."""
    manifest = json.loads((out / "manifest.json").read_text())
    return tree(out / "data"), (manifest["rows"], manifest["files"], manifest["steps"])


@pytest.fixture(scope="module")
def local_samples(tmp_path_factory) -> dict[str, tuple]:
    """Both sample pipelines on the local engine, once for the tests that compare Ray's output with it."""
    out = tmp_path_factory.mktemp("local")
    for name, (module, flags) in SAMPLES.items():
        module.run(module.parse_args([*flags, "--engine", "local", "--output", str(out / name)]))
    return {name: shards_and_manifest(out / name) for name in SAMPLES}


def run_ok(cmd: list[str], **kwargs) -> None:
    """Run a command; on failure, show its output."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a two-node cluster on this machine --------------------------------------------------------------
# First in the file, before the shared Ray below is started: the two clusters never run at once.

TWO_NODE_DRIVER = textwrap.dedent('''
    """Driver of the two-node test: the same map and file stages on the cluster and on the local engine."""
    import json
    import sys
    import time
    from functools import partial
    from pathlib import Path

    import ray

    from corpus.executor import LocalExecutor, RayExecutor
    from corpus.records import Document
    from corpus.steps import StepStats
    from corpus.writers.atomic import atomic_write_text


    def lines_task(path):
        stats = StepStats("lines")

        def gen():
            for i, line in enumerate(Path(path).read_text().splitlines()):
                stats.n_in += 1
                stats.n_out += 1
                yield Document(id=f"{Path(path).name}:{i}", url="https://example.org/", source="t", text=line)

        return gen(), [stats]


    def on_node(record: str, path):
        """`lines_task`, noting the node it ran on; it holds the node's one CPU a while, so that
        the tasks in flight cannot all fit on one node."""
        Path(record, Path(path).name).write_text(ray.get_runtime_context().get_node_id())
        time.sleep(0.5)
        return lines_task(path)


    def copy_upper(src, dst):
        atomic_write_text(dst, Path(src).read_text().upper())


    if __name__ == "__main__":
        address, inputs_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
        inputs = sorted(str(p) for p in inputs_dir.iterdir())
        (out / "nodes").mkdir(parents=True)
        cluster = RayExecutor(address, show_progress=False)
        cluster.map_stage(partial(on_node, str(out / "nodes")), inputs, out / "ray" / "map")
        cluster.file_stage(copy_upper, [(p, out / "ray" / "files" / Path(p).name) for p in inputs])
        local = LocalExecutor(2, show_progress=False)
        local.map_stage(lines_task, inputs, out / "local" / "map")
        local.file_stage(copy_upper, [(p, out / "local" / "files" / Path(p).name) for p in inputs])
        alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
        (out / "cluster.json").write_text(json.dumps({"alive": alive}))
''')


def start_node(ray_bin: Path, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """`ray start ... --block` in its own session: it lives until we end it, by its id."""
    with log.open("w") as out:
        return subprocess.Popen([str(ray_bin), "start", "--block", "--disable-usage-stats",
                                 "--node-ip-address", "127.0.0.1", *args],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)


def stop_node(proc: subprocess.Popen) -> None:
    """SIGTERM to the `ray start --block` we started: it drains and stops its node's processes;
    if it has not after a while, SIGKILL to the process group it leads (ours alone)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_nodes(address: str, count: int, logs: list[Path], env: dict[str, str], tries: int = 30) -> None:
    """Until `ray status` shows `count` nodes (a node takes seconds to register on 2 cores)."""
    ray_bin = Path(sys.executable).with_name("ray")
    status = None
    for _ in range(tries):
        status = subprocess.run([str(ray_bin), "status", "--address", address], capture_output=True, text=True,
                                env=env)
        if status.returncode == 0 and status.stdout.count(" node_") >= count:
            return
        time.sleep(2)
    shown = "\n".join(p.read_text()[-2000:] for p in logs if p.exists())
    raise AssertionError(f"the cluster never had {count} nodes: {status.stdout}{status.stderr}\n{shown}")


@pytest.mark.slow
def test_two_nodes_on_this_machine_run_tasks_on_both_with_the_local_engines_output(tmp_path, inputs, local_samples):
    assert not ray.is_initialized()
    ray_bin = Path(sys.executable).with_name("ray")
    port = free_port()
    address = f"127.0.0.1:{port}"
    # Ray's socket paths must stay under 108 bytes: a short folder, not pytest's tmp_path.
    temp = Path(tempfile.mkdtemp(prefix="ray2n", dir="/tmp"))
    logs = [tmp_path / "head.log", tmp_path / "worker.log"]
    # The cluster's own token (Ray >= 2.52 authenticates every connection), given to every process of it.
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    head = start_node(ray_bin, ["--head", "--num-cpus", "1", "--port", str(port), "--temp-dir", str(temp / "h"),
                                "--include-dashboard", "false", "--ray-client-server-port", str(free_port()),
                                "--dashboard-agent-listen-port", str(free_port())], logs[0], env)
    nodes = [head]
    try:
        # The worker node retries until the head's GCS answers: no need to wait for the head first.
        nodes.append(start_node(ray_bin, ["--address", address, "--num-cpus", "1", "--temp-dir", str(temp / "w"),
                                          "--dashboard-agent-listen-port", str(free_port())], logs[1], env))
        wait_for_nodes(address, 2, logs, env)
        driver = tmp_path / "driver.py"
        driver.write_text(TWO_NODE_DRIVER)
        out = tmp_path / "out"
        run_ok([sys.executable, str(driver), address, str(tmp_path / "in"), str(out)], cwd=ROOT, env=env,
               timeout=300)
        # The sample crawl through the whole pipeline on the cluster, against the local engine in this process.
        run_ok([sys.executable, "-m", "pipelines.clean_commoncrawl", "--engine", "ray", "--ray-address", address,
                *CC_SAMPLE_FLAGS, "--output", str(tmp_path / "cc-ray")], cwd=ROOT, env=env, timeout=300)
    finally:
        for node in reversed(nodes):
            stop_node(node)
        shutil.rmtree(temp, ignore_errors=True)
    alive = set(json.loads((out / "cluster.json").read_text())["alive"])
    ran_on = {p.read_text() for p in (out / "nodes").iterdir()}
    assert len(alive) == 2 and ran_on == alive  # every node ran tasks, and only the cluster's nodes
    assert tree(out / "ray" / "map") == tree(out / "local" / "map")
    assert tree(out / "ray" / "files") == tree(out / "local" / "files")
    assert shards_and_manifest(tmp_path / "cc-ray") == local_samples["cc"]


# --- one Ray for the rest ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_map_stage_gives_the_local_engines_parts_markers_and_results(local_ray, inputs, tmp_path):
    local = LocalExecutor(2, show_progress=False).map_stage(lines_task, inputs, tmp_path / "local",
                                                             fingerprint={"min_words": 1})
    # One task in flight at a time and six at once: the order tasks finish in does not matter.
    for limit in (1, 6):
        work = tmp_path / f"ray{limit}"
        results = RayExecutor(max_in_flight=limit, show_progress=False).map_stage(
            lines_task, inputs, work, fingerprint={"min_words": 1})
        assert [r.input for r in results] == inputs
        assert [[f.relative_to(work) for f in r.files] for r in results] == \
            [[f.relative_to(tmp_path / "local") for f in r.files] for r in local]
        assert [s.to_dict() for s in merge_stats(results)] == [s.to_dict() for s in merge_stats(local)]
        assert tree(work) == tree(tmp_path / "local")  # parts, markers and fingerprint, byte for byte


def test_file_stage_takes_any_source_skips_finished_outputs_and_matches_local(local_ray, tmp_path):
    pairs = {name: [((band, f"text of band {band}"), tmp_path / name / f"band-{band}.txt") for band in range(5)]
             for name in ("local", "ray")}
    for name in pairs:
        (tmp_path / name).mkdir()
        (tmp_path / name / "band-3.txt").write_text("finished before")  # a done output is not redone
    LocalExecutor(2, show_progress=False).file_stage(write_summary, pairs["local"])
    RayExecutor(show_progress=False).file_stage(write_summary, pairs["ray"])
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")
    assert (tmp_path / "ray" / "band-3.txt").read_text() == "finished before"
    assert (tmp_path / "ray" / "band-0.txt").read_text().startswith("band 0: ")


def test_no_more_than_max_in_flight_tasks_are_submitted_at_once(local_ray, inputs, tmp_path, monkeypatch):
    executor = RayExecutor(max_in_flight=2, show_progress=False)
    executor._connect()
    seen = {"submitted": 0, "finished": 0, "most": 0}

    class Counting:  # the Ray task, counting submissions
        def __init__(self, inner):
            self.inner = inner

        def remote(self, *args):
            seen["submitted"] += 1
            seen["most"] = max(seen["most"], seen["submitted"] - seen["finished"])
            return self.inner.remote(*args)

    real_wait = ray.wait

    def counting_wait(refs, **kwargs):
        ready, rest = real_wait(refs, **kwargs)
        seen["finished"] += len(ready)
        return ready, rest

    executor._remote = Counting(executor._remote)
    monkeypatch.setattr(ray, "wait", counting_wait)
    executor.map_stage(lines_task, inputs, tmp_path / "work")
    assert seen == {"submitted": len(inputs), "finished": len(inputs), "most": 2}


def test_restart_skips_inputs_with_a_marker_and_redoes_the_rest(local_ray, inputs, tmp_path):
    work = tmp_path / "work"
    with pytest.raises(RuntimeError, match="a bug in the task") as caught:
        RayExecutor(show_progress=False).map_stage(failing_task, inputs, work)
    assert any("b.txt" in note for note in caught.value.__notes__)
    # A bug is not retried; the inputs in flight with it finished (a, c, d: four in flight on two CPUs),
    # and nothing was submitted after it.
    done = {p for p in inputs if (work / "parts" / f"{part_key(p)}.done.json").exists()}
    assert {Path(p).name for p in done} >= {"a.txt", "c.txt", "d.txt"} and not any(p.endswith("b.txt") for p in done)
    calls = tmp_path / "calls"
    calls.mkdir()
    results = RayExecutor(show_progress=False).map_stage(partial(recording_task, calls), inputs, work)
    assert sorted(p.name for p in calls.iterdir()) == sorted(Path(p).name for p in inputs if p not in done)
    local = LocalExecutor(show_progress=False).map_stage(lines_task, inputs, tmp_path / "local")
    assert [s.to_dict() for s in merge_stats(results)] == [s.to_dict() for s in merge_stats(local)]
    assert tree(work) == tree(tmp_path / "local")


def test_a_user_error_in_a_task_stays_a_user_error(local_ray, inputs, tmp_path):
    with pytest.raises(UserError, match="not a WARC file"):
        RayExecutor(show_progress=False).map_stage(user_error_task, inputs[:1], tmp_path / "work")


@pytest.mark.slow
def test_a_worker_killed_mid_stage_is_retried_and_the_output_is_the_same(local_ray, inputs, tmp_path):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    task = partial(killed_once_task, "c.txt", attempts)
    results = RayExecutor(show_progress=False).map_stage(task, inputs, tmp_path / "ray")
    assert (attempts / "c.txt").exists()  # the first attempt did die by SIGKILL
    local = LocalExecutor(2, show_progress=False).map_stage(lines_task, inputs, tmp_path / "local")
    assert [s.to_dict() for s in merge_stats(results)] == [s.to_dict() for s in merge_stats(local)]
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_pipelines_on_ray_write_the_local_engines_shards(local_ray, local_samples, tmp_path, name):
    module, flags = SAMPLES[name]
    module.run(module.parse_args([*flags, "--engine", "ray", "--output", str(tmp_path / name)]))
    assert shards_and_manifest(tmp_path / name) == local_samples[name]
    assert local_samples[name][1][0] > 0  # rows


def test_engine_is_not_part_of_the_fingerprint_a_finished_part_is_reused(local_ray, tmp_path):
    flags = ["--no-progress", "--workers", "1", "--no-dedup", "--output", str(tmp_path / "wt")]
    build_webtext.run(build_webtext.parse_args([*flags, "--engine", "local"]))
    stage = tmp_path / "_work" / "wt" / "clean"
    fingerprint = (stage / "fingerprint.json").read_text()
    before = {p: p.stat().st_mtime_ns for p in (stage / "parts").rglob("*")}
    assert any(p.name.endswith(".done.json") for p in before)
    build_webtext.run(build_webtext.parse_args([*flags, "--engine", "ray"]))
    # Not discarded as stale, not redone: the same parts and markers, untouched.
    assert (stage / "fingerprint.json").read_text() == fingerprint
    assert {p: p.stat().st_mtime_ns for p in (stage / "parts").rglob("*")} == before


def test_make_executor_and_its_flags():
    assert isinstance(make_executor(ExecutorConfig(), 2), LocalExecutor)
    assert isinstance(make_executor(ExecutorConfig("ray", "auto"), 2), RayExecutor)
    with pytest.raises(UserError, match="--engine ray"):
        make_executor(ExecutorConfig("local", "auto"), 2)
    config = clean_commoncrawl.parse_args(["--engine", "ray", "--ray-address", "head:6379"])
    assert config.executor == ExecutorConfig("ray", "head:6379")
    assert build_webtext.parse_args([]).executor == ExecutorConfig()


def test_missing_ray_is_a_one_line_install_hint(monkeypatch):
    from corpus.executor import ray as ray_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(UserError, match=r"pip install 'webtext\[ray\]'"):
        ray_executor.import_ray()
