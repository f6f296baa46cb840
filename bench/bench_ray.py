"""Ray against the local engine, and one Ray node against two, on `clean_commoncrawl`.

    .venv/bin/python bench/bench_ray.py                         # both parts (about 6 minutes on 2 cores)
    .venv/bin/python bench/bench_ray.py --parts overhead        # the sample only
    .venv/bin/python bench/bench_ray.py --parts nodes --records 1200 --files 12 --repeat 3

1. overhead, on the shipped crawl sample (`data/samples/cc_sample*.warc.gz`, 2 inputs, with
   `--no-quality-filter --dedup-against`): the local engine with 2 workers; `--engine ray` starting
   its own Ray (start-up included, as a user on one machine would run it); and `--engine ray` joined
   to a Ray already running here (`ray start --head --num-cpus 2`), which leaves only the per-task cost.
2. nodes, on real pages (`bench/make_bench_warc.py`: the HTML responses of the real WARC captures and
   the extraction pages under ../shared/realdata, cycled to `--records` records in `--files` files,
   `--no-quality-filter --no-dedup`, so the map stage is most of the run): the local engine with 1
   and 2 workers, and Ray clusters of one node (1 CPU) and of two nodes (1 CPU each) on this
   machine, started with `ray start` and joined with `--ray-address`.

Every run is a fresh process with a fresh work folder (no marker to resume from); wall time is the
pipeline command's, cluster start-up excluded for the clusters (reported apart). Every run's shards
are compared byte for byte with the first run's of its part: the engines must agree. Results go to
`bench/out/ray.json`. On a 2-core machine also used by other work, two 1-CPU nodes cannot give 2x:
the driver, two raylets, GCS and the workers share the same two cores; the ratio is printed as measured.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))

import make_bench_warc  # noqa: E402

PY = sys.executable
RAY = Path(sys.executable).with_name("ray")
SAMPLE_FLAGS = ["--no-quality-filter", "--dedup-against", "--no-progress"]
REPEAT = 1  # runs of each configuration (--repeat)
REAL_FLAGS = ["--no-quality-filter", "--no-dedup", "--no-progress", "--split-mb", "0"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A Ray cluster of `nodes` nodes on this machine (`ray start --block`, each in its own session),
    stopped by SIGTERM to the processes this script started."""

    def __init__(self, nodes: int, cpus_per_node: int, logs: Path) -> None:
        self.nodes, self.cpus, self.logs = nodes, cpus_per_node, logs
        self.procs: list[subprocess.Popen] = []
        self.temp = Path(tempfile.mkdtemp(prefix="rayb", dir="/tmp"))  # Ray's socket paths must be short
        self.address = f"127.0.0.1:{free_port()}"
        self.env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
                    "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}

    def __enter__(self) -> Cluster:
        start = time.perf_counter()
        self.logs.mkdir(parents=True, exist_ok=True)
        for i in range(self.nodes):
            role = ["--head", "--port", self.address.rsplit(":", 1)[1], "--include-dashboard", "false",
                    "--ray-client-server-port", str(free_port())] if i == 0 else ["--address", self.address]
            with (self.logs / f"node{i}.log").open("w") as log:
                self.procs.append(subprocess.Popen(
                    [str(RAY), "start", "--block", "--disable-usage-stats", "--node-ip-address", "127.0.0.1",
                     "--num-cpus", str(self.cpus), "--temp-dir", str(self.temp / f"n{i}"),
                     "--dashboard-agent-listen-port", str(free_port()), *role],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env))
        for _ in range(60):
            status = subprocess.run([str(RAY), "status", "--address", self.address], capture_output=True,
                                    text=True, env=self.env)
            if status.returncode == 0 and status.stdout.count(" node_") >= self.nodes:
                break
            time.sleep(2)
        else:
            self.__exit__()
            sys.exit(f"the {self.nodes}-node cluster did not come up; see {self.logs}")
        self.startup_s = time.perf_counter() - start
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        shutil.rmtree(self.temp, ignore_errors=True)


def sessions_cpu(sessions: set[int]) -> dict[int, int]:
    """CPU ticks (user + sys) of every living process in these sessions, by pid."""
    ticks = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[3]) in sessions:  # state ppid pgrp session ... utime stime
            ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
    return ticks


def run_pipeline(name: str, args: list[str], out: Path, cluster: Cluster | None = None) -> dict:
    """`REPEAT` runs of `run_once`: the fastest (the least disturbed by other load), with every wall time."""
    runs = [run_once(name, args, out, cluster) for _ in range(REPEAT)]
    best = min(runs, key=lambda r: r["wall_s"])
    return {**best, "wall_s_all": [r["wall_s"] for r in runs], "cpu_s_all": [r["cpu_s"] for r in runs]}


def run_once(name: str, args: list[str], out: Path, cluster: Cluster | None = None) -> dict:
    """One timed `clean_commoncrawl` run into a fresh output and work folder; on `cluster` if given.

    CPU seconds: every process of the run's session (the pipeline, its pool or the Ray it started,
    their extraction children) and of the cluster's nodes (raylets, GCS, the workers that run the
    map tasks), sampled from /proc every 0.2 s: Ray's workers come and go and are not reaped into
    anyone's `cutime`. Less distorted by other load on the machine than wall time.
    """
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [PY, "-m", "pipelines.clean_commoncrawl", *args, "--output", str(out / "data"),
           "--work-dir", str(out / "work")]
    sessions = {p.pid for p in cluster.procs} if cluster else set()
    baseline = sessions_cpu(sessions)  # the cluster's processes ran before this run
    seen: dict[int, int] = {}
    log = (out / "log.txt").open("w")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=cluster.env if cluster else None)
    sessions.add(proc.pid)
    while proc.poll() is None:
        for pid, ticks in sessions_cpu(sessions).items():
            seen[pid] = max(seen.get(pid, 0), ticks)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    log.close()
    cpu = sum(t - baseline.get(pid, 0) for pid, t in seen.items()) / os.sysconf("SC_CLK_TCK")
    if proc.returncode != 0:
        sys.exit(f"{name} failed ({proc.returncode}); see {out / 'log.txt'}")
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    shards = {f["path"]: f["sha256"] for f in manifest["files"]}
    read = next(s for s in manifest["steps"] if s["name"] == "read_warc")
    print(f"  {name:<34} {wall:7.1f} s wall {cpu:7.1f} CPU-s  {manifest['rows']:>6} rows", flush=True)
    return {"run": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 1), "rows": manifest["rows"],
            "records_read": read["in"], "shards": shards, "command": " ".join(cmd[1:])}


def check_same(runs: list[dict]) -> bool:
    same = all(r["shards"] == runs[0]["shards"] for r in runs)
    print(f"  shards identical across runs: {same}")
    if not same:
        for r in runs:
            print(f"    {r['run']}: {r['shards']}")
    return same


def overhead(work: Path) -> dict:
    print("1. engine overhead on the crawl sample (2 WARC files)")
    runs = [run_pipeline("local, 2 workers", [*SAMPLE_FLAGS, "--workers", "2"], work / "local2"),
            run_pipeline("ray, started by the run (2 CPUs)", [*SAMPLE_FLAGS, "--workers", "2", "--engine", "ray"],
                         work / "ray-own")]
    with Cluster(1, 2, work / "logs-overhead") as cluster:
        runs.append(run_pipeline("ray, joined (1 node, 2 CPUs)",
                                 [*SAMPLE_FLAGS, "--engine", "ray", "--ray-address", cluster.address],
                                 work / "ray-joined", cluster))
        startup = cluster.startup_s
    print(f"  (that cluster took {startup:.1f} s to start)")
    return {"runs": runs, "cluster_startup_s": round(startup, 1), "identical": check_same(runs)}


def nodes(work: Path, records: int, files: int, realdata: Path) -> dict:
    warcs = work / "warc"
    info = make_bench_warc.build(realdata, records, files, warcs)
    inputs = [str(p) for p in sorted(warcs.glob("*.warc.gz"))]
    print(f"2. one Ray node against two, on real pages: {info['records']} records "
          f"({info['unique_pages']} unique) in {files} files, {info['bytes'] / 1e6:.1f} MB")
    flags = [*REAL_FLAGS, "--input", *inputs]
    runs = [run_pipeline("local, 1 worker", [*flags, "--workers", "1"], work / "local1"),
            run_pipeline("local, 2 workers", [*flags, "--workers", "2"], work / "local2")]
    startup = {}
    for count in (1, 2):
        with Cluster(count, 1, work / f"logs-{count}node") as cluster:
            runs.append(run_pipeline(f"ray, {count} node(s) x 1 CPU",
                                     [*flags, "--engine", "ray", "--ray-address", cluster.address],
                                     work / f"ray{count}", cluster))
            startup[count] = round(cluster.startup_s, 1)
    by = {r["run"]: r["wall_s"] for r in runs}
    cpu = {r["run"]: r["cpu_s"] for r in runs}
    ratios = {"CPU-s, ray 1 node vs local 1 worker": cpu["ray, 1 node(s) x 1 CPU"] / cpu["local, 1 worker"],
              "CPU-s, ray 2 nodes vs local 2 workers": cpu["ray, 2 node(s) x 1 CPU"] / cpu["local, 2 workers"],
              "ray 2 nodes vs 1 node (speed-up)": by["ray, 1 node(s) x 1 CPU"] / by["ray, 2 node(s) x 1 CPU"],
              "local 2 workers vs 1 (speed-up)": by["local, 1 worker"] / by["local, 2 workers"],
              "ray 1 node vs local 1 worker (time ratio)": by["ray, 1 node(s) x 1 CPU"] / by["local, 1 worker"],
              "ray 2 nodes vs local 2 workers (time ratio)": by["ray, 2 node(s) x 1 CPU"] / by["local, 2 workers"]}
    for name, value in ratios.items():
        print(f"  {name:<44} {value:5.2f}")
    print(f"  (cluster start-up, excluded above: {startup})")
    return {"input": info, "runs": runs, "ratios": {k: round(v, 3) for k, v in ratios.items()},
            "cluster_startup_s": startup, "identical": check_same(runs),
            "docs_per_s": {r["run"]: round(r["records_read"] / r["wall_s"], 1) for r in runs}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", choices=["overhead", "nodes"], default=["overhead", "nodes"])
    p.add_argument("--records", type=int, default=800, help="records of real pages for the node comparison")
    p.add_argument("--files", type=int, default=8, help="WARC files (one task each) for the node comparison")
    p.add_argument("--realdata", type=Path, default=make_bench_warc.DEFAULT_REALDATA)
    p.add_argument("--repeat", type=int, default=1, help="runs of each configuration; the fastest is kept")
    p.add_argument("--work", type=Path, default=OUT / "ray")
    p.add_argument("--out", type=Path, default=OUT / "ray.json")
    a = p.parse_args(argv)
    global REPEAT
    REPEAT = max(1, a.repeat)
    if not RAY.exists():
        sys.exit(f"no {RAY}: install the ray extra first (pip install -e '.[ray]')")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    result = {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()[0],
              "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])])}
    if "overhead" in a.parts:
        result["overhead"] = overhead(a.work)
    if "nodes" in a.parts:
        result["nodes"] = nodes(a.work, a.records, a.files, a.realdata)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2))
    print(f"results: {a.out}")
    if not all(result[part]["identical"] for part in a.parts):
        sys.exit("the engines wrote different shards")


if __name__ == "__main__":
    main()
