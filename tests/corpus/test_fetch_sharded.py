"""The fetch split by host into tasks fetches what one process fetches: each link once, each host in
one task's folder, the same counters, and readers of the folder see every task's log.

One local server on 127.0.0.1 plays many hosts (`*.test`, through a static resolver that goes
to the task processes with the fetch); the tasks run on `LocalExecutor(2)`, and once on Ray.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from aiohttp import web

import tests.helpers.localserver as localserver
from corpus.errors import UserError
from corpus.executor import LocalExecutor
from corpus.fetch import FetchConfig, FetchSource, fetch_links, fetch_logs, fetch_sharded
from corpus.fetch.__main__ import main as fetch_main
from corpus.fetch.journal import read_journal
from corpus.fetch.politeness import host_key
from corpus.fetch.sharded import DEFAULT_RAY_TASKS, choose_tasks, shard_of, share_limit, task_dir
from corpus.fetch.state import FETCHED_LOG, read_redirect_aliases
from corpus.readers.shards import shard_paths
from corpus.sources.link_join import LinkIndex, ensure_link_index
from corpus.sources.links import LinkHarvester, LinkRules, write_links
from corpus.sources.reddit_dumps import Submission
from corpus.urls import url_key
from pipelines import build_webtext
from pipelines.cleaning import CleaningConfig
from pipelines.cli import work_folder
from tests.helpers.localserver import LocalServer, StaticResolver, serving
from tests.helpers.stories import paragraphs

TASKS = 3
HOSTS = [f"h{i}.test" for i in range(8)]


class ManyHosts:
    """Pages on every host; `short.test` redirects to other hosts; one page is gone, one busy."""

    def __init__(self) -> None:
        self.server: LocalServer | None = None
        self.hits: Counter[tuple[str, str]] = Counter()
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        host, path = request.host.split(":")[0], request.path
        self.hits[host, path] += 1
        if path == "/robots.txt":
            return web.Response(status=404)
        if path.startswith("/go/"):
            n = int(path.rsplit("/", 1)[1])
            raise web.HTTPFound(self.url(HOSTS[n % len(HOSTS)], f"/landing/{n}"))
        if path.startswith("/gone"):
            return web.Response(status=404)
        if path.startswith("/busy"):
            return web.Response(status=503)
        return web.Response(text=f"<html><body><p>{host}{path}</p></body></html>", content_type="text/html")

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.server.port}{path}"

    def links(self) -> list[str]:
        urls = [self.url(h, f"/page/{j}") for h in HOSTS for j in range(3)]
        urls += [self.url("short.test", f"/go/{n}") for n in range(4)]
        urls += [self.url("h1.test", "/gone"), self.url("h2.test", "/busy")]
        return urls

    def page_hits(self) -> Counter[tuple[str, str]]:
        return Counter({k: n for k, n in self.hits.items() if k[1] != "/robots.txt"})


def config(**kw) -> FetchConfig:
    return FetchConfig(**{"allow_private": True, "host_delay": 0.0, "per_host": 2, "concurrency": 8,
                          "max_retries": 0, "progress": False, **kw})


def url_file(tmp_path: Path, urls: list[str]) -> FetchSource:
    path = tmp_path / "urls.txt"
    # A comment, a blank line and a repeated URL: read as the single-process fetch reads them.
    path.write_text("# links\n\n" + "\n".join(urls + urls[:2]) + "\n")
    return FetchSource(str(path), "urls")


def links_table(tmp_path: Path, urls: list[str]) -> FetchSource:
    harvester = LinkHarvester(LinkRules())
    harvester.add(Submission(id=f"s{i}", subreddit="r", url=u, score=10, created_utc=1500000000 + i, is_self=False,
                             over_18=False, title="t") for i, u in enumerate(urls))
    path = tmp_path / "links.parquet"
    write_links(harvester.links(), path)
    return FetchSource(str(path), "links")


def logged(root: Path) -> dict[str, list[str]]:
    """Task folder name -> the link URLs its log holds."""
    return {log.parent.name: [e["url"] for e in read_journal(log)] for log in fetch_logs(root)}


@pytest.fixture
def site():
    with serving(ManyHosts()) as s:
        yield s


def test_each_link_is_fetched_once_by_its_hosts_task_with_the_counters_of_one_process(site, tmp_path):
    links = site.links()
    source = url_file(tmp_path, links)
    out = tmp_path / "sharded"
    report = fetch_sharded(source, out, config(), TASKS, LocalExecutor(2, show_progress=False),
                           resolver=StaticResolver())
    sharded_hits = site.page_hits()
    single = fetch_links(list(source.iter_urls()), tmp_path / "single", config(), resolver=StaticResolver())

    # The same counters as one process over the same links.
    assert (report.stats.n_in, report.stats.n_out, report.stats.dropped) == \
           (single.stats.n_in, single.stats.n_out, single.stats.dropped)
    assert report.stats.n_in == len(links) and report.stats.dropped == {"http_4xx": 1, "http_5xx": 1}
    assert (report.fetched_now, report.failed_now, report.tasks_run) == (len(links) - 2, 2, TASKS)
    # Every page requested exactly once across the tasks, redirect targets included.
    assert set(sharded_hits.values()) == {1}
    assert sharded_hits == site.page_hits() - sharded_hits  # the single process asked for the same pages
    # Each host's links all in one task's folder: the one its host key hashes to.
    per_task = logged(out)
    assert FETCHED_LOG not in {p.name for p in out.iterdir()}
    assert len(per_task) > 1, "the links should spread over several tasks"
    fetched = [u for urls in per_task.values() for u in urls]
    assert sorted(fetched) == sorted(e["url"] for e in read_journal(tmp_path / "single" / FETCHED_LOG))
    for folder, urls in per_task.items():
        # A task whose links all failed has an empty log (host keys hash the server's random port).
        assert all(task_dir(out, shard_of(u, TASKS)).name == folder for u in urls)
    hosts = Counter(h for urls in per_task.values() for h in {host_key(u) for u in urls})
    assert set(hosts.values()) == {1}
    # All WARC files, sorted, each in a task folder; the aliases of redirects followed by any task.
    # (one per task that fetched a page: a task whose links all failed writes none)
    assert report.warc_files == sorted(report.warc_files)
    assert len(report.warc_files) == sum(1 for urls in per_task.values() if urls)
    assert all(p.is_file() and p.parent.name.startswith("task-") for p in report.warc_files)
    aliases = read_redirect_aliases(out)
    assert aliases == read_redirect_aliases(tmp_path / "single") and len(aliases) == 4


def test_a_rerun_fetches_nothing_new_and_retries_only_the_task_with_a_transient_failure(site, tmp_path):
    source = url_file(tmp_path, site.links())
    out = tmp_path / "sharded"

    def run():
        return fetch_sharded(source, out, config(), TASKS, LocalExecutor(2, show_progress=False),
                             resolver=StaticResolver())

    first = run()
    hits = site.page_hits()
    again = run()
    # Only the task holding the 503 page runs again (its done file says it has a link to retry), and
    # it asks for that page alone.
    assert again.fetched_now == 0 and again.failed_now == 1 and again.tasks_run == 1
    assert site.page_hits() - hits == Counter({("h2.test", "/busy"): 1})
    assert (again.stats.n_in, again.stats.n_out, again.stats.dropped) == \
           (first.stats.n_in, first.stats.n_out, first.stats.dropped)
    assert again.skipped_done == first.stats.n_in - 1 and again.warc_files == first.warc_files
    # A task whose done file is lost runs again and, resuming from its own logs, fetches nothing.
    busy = task_dir(out, shard_of(site.url("h2.test", "/busy"), TASKS))
    lost = next(task_dir(out, k) for k in range(TASKS) if task_dir(out, k) != busy)
    (lost / "done.json").unlink()
    hits = site.page_hits()
    third = run()
    assert third.fetched_now == 0 and third.tasks_run == 2
    assert site.page_hits() - hits == Counter({("h2.test", "/busy"): 1})


def test_the_fetch_limit_is_shared_out_and_a_rerun_continues(site, tmp_path):
    source = url_file(tmp_path, site.links())
    out = tmp_path / "sharded"
    first = fetch_sharded(source, out, config(limit=5), TASKS, LocalExecutor(2, show_progress=False),
                          resolver=StaticResolver())
    assert first.fetched_now + first.failed_now == 5 and first.stats.dropped["not_attempted"] == len(site.links()) - 5
    rest = fetch_sharded(source, out, config(), TASKS, LocalExecutor(2, show_progress=False),
                         resolver=StaticResolver())
    # The rest, and nothing twice but the 503 page (if it was among the first five).
    assert rest.stats.n_out == len(site.links()) - 2 and rest.fetched_now == len(site.links()) - 2 - first.fetched_now
    assert all(n == 1 for page, n in site.page_hits().items() if page != ("h2.test", "/busy"))


def test_the_join_index_reads_every_tasks_log(site, tmp_path):
    links = site.links()
    source = links_table(tmp_path, links)
    out = tmp_path / "fetch"
    fetch_sharded(source, out, config(), TASKS, LocalExecutor(2, show_progress=False), resolver=StaticResolver())
    logs = fetch_logs(out)
    assert logs == sorted(logs) and all(p.parent.parent == out for p in logs) and len(logs) > 1
    index_path = tmp_path / "index.sqlite"
    ensure_link_index(source.path, index_path, out)
    landed = site.url(HOSTS[2], "/landing/2")
    link = LinkIndex(index_path).get(url_key(landed))
    assert link is not None and link == LinkIndex(index_path).get(url_key(site.url("short.test", "/go/2")))
    # The index is rebuilt when any task's log grows.
    mtime = index_path.stat().st_mtime_ns
    with open(logs[-1], "a") as f:
        f.write(json.dumps({"url": links[0], "final_url": site.url("h0.test", "/moved"), "warc": "x", "end": 0}) + "\n")
    ensure_link_index(source.path, index_path, out)
    assert index_path.stat().st_mtime_ns != mtime
    assert LinkIndex(index_path).get(url_key(site.url("h0.test", "/moved"))) is not None


def test_a_folder_keeps_its_layout(site, tmp_path):
    assert choose_tasks(None, "local", tmp_path) is None          # today's single process and layout
    assert choose_tasks(1, "local", tmp_path) is None
    assert choose_tasks(4, "local", tmp_path) == 4
    assert choose_tasks(None, "ray", tmp_path) == DEFAULT_RAY_TASKS
    assert choose_tasks(1, "ray", tmp_path) == 1
    source = url_file(tmp_path, site.links()[:3])
    fetch_sharded(source, tmp_path / "out", config(), 2, LocalExecutor(1, show_progress=False),
                  resolver=StaticResolver())
    assert choose_tasks(None, "local", tmp_path / "out") == 2     # a split folder stays split
    with pytest.raises(UserError, match="fetched as 2 tasks"):
        choose_tasks(3, "ray", tmp_path / "out")
    with pytest.raises(UserError, match="fetched as 2 tasks"):
        fetch_sharded(source, tmp_path / "out", config(), 3, LocalExecutor(1), resolver=StaticResolver())
    fetch_links(list(source.iter_urls()), tmp_path / "single", config(), resolver=StaticResolver())
    with pytest.raises(UserError, match="fetch of one process"):
        fetch_sharded(source, tmp_path / "single", config(), 2, LocalExecutor(1), resolver=StaticResolver())
    with pytest.raises(UserError, match="no such file"):
        fetch_sharded(FetchSource(str(tmp_path / "nope.txt"), "urls"), tmp_path / "x", config(), 2, LocalExecutor(1))


def test_the_command_line_splits_by_host_on_request(tmp_path, capsys):
    # No resolver on the command line: three servers on 127.0.0.1 are three hosts (the port is in the key).
    sites = [ManyHosts() for _ in range(3)]
    with serving(sites[0]), serving(sites[1]), serving(sites[2]):
        urls = [f"http://127.0.0.1:{s.server.port}/page/{j}" for s in sites for j in range(2)]
        (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
        flags = ["--urls", str(tmp_path / "urls.txt"), "--allow-private", "--host-delay", "0", "--no-progress"]
        fetch_main([*flags, "--output", str(tmp_path / "one")])
        fetch_main([*flags, "--output", str(tmp_path / "split"), "--engine", "local", "--fetch-tasks", "3"])
    assert (tmp_path / "one" / FETCHED_LOG).is_file() and not list((tmp_path / "one").glob("task-*"))
    assert sorted(p.name for p in (tmp_path / "split").glob("task-*")) == ["task-0000", "task-0001", "task-0002"]
    assert sorted(u for us in logged(tmp_path / "split").values() for u in us) == sorted(urls)
    out = capsys.readouterr().out
    assert out.count("fetch: 6 links, 6 fetched (6 this run), no failures") == 2 and "(3 tasks)" in out
    with pytest.raises(SystemExit):
        fetch_main([*flags, "--output", str(tmp_path / "split"), "--fetch-tasks", "2"])
    assert "fetched as 3 tasks" in capsys.readouterr().err


def test_build_webtext_fetches_as_tasks_into_the_same_rows(make_dump, make_article, tmp_path):
    ports: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if path == "/robots.txt":
            return web.Response(status=404)
        if path.startswith("/old/"):  # to the other server: another host, maybe another task's
            raise web.HTTPFound(f"http://127.0.0.1:{ports[1]}{path.replace('/old/', '/story/')}")
        i = int(path.rsplit("/", 1)[1])
        return web.Response(text=make_article(f"Story {i}", paragraphs(i)), content_type="text/html")

    def app() -> web.Application:
        a = web.Application()
        a.router.add_get("/{path:.*}", handle)
        return a

    # Three servers on 127.0.0.1 are three hosts (the port is in the host key), so the tasks get shares.
    with LocalServer(app()) as a, LocalServer(app()) as b, LocalServer(app()) as c:
        ports += [a.port, b.port, c.port]
        subs = [{"id": f"s{i}", "subreddit": "news", "url": f"{s.origin}/story/{i}", "score": 10 + i,
                 "created_utc": 1500000000 + i, "title": f"Story {i}"} for i, s in enumerate([a, b, c] * 2)]
        subs.append({"id": "moved", "subreddit": "news", "url": f"{a.origin}/old/7", "score": 30,
                     "created_utc": 1500000000})
        dump = str(make_dump(subs))

        def run(name: str, **kw) -> tuple[dict, list[tuple]]:
            config = build_webtext.WebTextConfig(
                dumps=[dump], pages=[], fetch=True, output=str(tmp_path / name), workers=2,
                cleaning=CleaningConfig(min_words=20), dedup=False, progress=False,
                fetch_config=FetchConfig(allow_private=True, host_delay=0, progress=False), **kw)
            manifest = build_webtext.run(config)
            rows = pq.read_table(shard_paths(tmp_path / name), columns=["url", "karma", "reddit_id", "text"])
            return manifest, sorted(tuple(r.values()) for r in rows.to_pylist())

        single, single_rows = run("single")
        split, split_rows = run("split", fetch_tasks=3)
    fetch_dir = work_folder(tmp_path / "split") / "fetch"
    assert len(fetch_logs(fetch_dir)) > 1 and not (fetch_dir / FETCHED_LOG).exists()
    step = {s["name"]: s for s in split["steps"]}["fetch"]
    assert step == {s["name"]: s for s in single["steps"]}["fetch"] and step["in"] == step["out"] == 7
    # The same rows, the moved page joined to its link through a task's log.
    assert split_rows == single_rows and len(split_rows) == 7
    assert (f"http://127.0.0.1:{ports[1]}/story/7", 30, "moved") in {r[:3] for r in split_rows}


# --- Ray ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'webtext[ray]'")
    # Ray's workers cannot import the test helpers by name: the resolver goes to them by value.
    ray.cloudpickle.register_pickle_by_value(localserver)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(localserver)


def test_ray_fetches_what_the_local_engine_fetches(local_ray, site, tmp_path):
    from corpus.executor import RayExecutor

    source = links_table(tmp_path, site.links())
    local = fetch_sharded(source, tmp_path / "local", config(), TASKS, LocalExecutor(2, show_progress=False),
                          resolver=StaticResolver())
    hits = site.page_hits()
    on_ray = fetch_sharded(source, tmp_path / "ray", config(), TASKS, RayExecutor(show_progress=False),
                           resolver=StaticResolver())
    assert site.page_hits() - hits == hits  # the same pages, once each again
    assert (on_ray.stats.n_in, on_ray.stats.n_out, on_ray.stats.dropped, on_ray.fetched_now) == \
           (local.stats.n_in, local.stats.n_out, local.stats.dropped, local.fetched_now)
    assert {k: sorted(v) for k, v in logged(tmp_path / "ray").items()} == \
           {k: sorted(v) for k, v in logged(tmp_path / "local").items()}
    assert [p.relative_to(tmp_path / "ray") for p in on_ray.warc_files] == \
           [p.relative_to(tmp_path / "local") for p in local.warc_files]
    assert read_redirect_aliases(tmp_path / "ray") == read_redirect_aliases(tmp_path / "local")
    again = fetch_sharded(source, tmp_path / "ray", config(), TASKS, RayExecutor(show_progress=False),
                          resolver=StaticResolver())
    assert again.fetched_now == 0 and again.tasks_run == 1  # the task of the 503 page only


def test_the_limit_follows_the_links_each_task_holds():
    # An even split (2, 2, 1) would give a task without links two of the five: the run would fetch 3.
    assert share_limit(5, [0, 11, 19]) == [0, 2, 3]
    assert share_limit(10, [3, 3, 4]) == [3, 3, 4]          # everything fits
    assert share_limit(2, [5, 5, 5]) == [1, 1, 0]           # ties go to the lower task number
    for limit, counts in ((7, [1, 0, 100]), (50, [9, 17, 3, 40]), (1, [2, 2])):
        shares = share_limit(limit, counts)
        assert sum(shares) == limit and all(0 <= s <= c for s, c in zip(shares, counts))
