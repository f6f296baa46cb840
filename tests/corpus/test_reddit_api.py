"""The live-API link harvest (praw) against a fake Reddit API served on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.sources.links import LinkHarvester, LinkRules
from corpus.sources.reddit_api import HarvestError, RedditApiConfig, harvest_api
from corpus.sources.reddit_dumps import read_submissions
from corpus.steps import StepStats
from pipelines import build_webtext
from tests.helpers.fake_reddit import CLIENT_ID, CLIENT_SECRET, TOKEN, FakeReddit, post
from tests.helpers.localserver import LocalServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def credentials(monkeypatch, tmp_path):
    """Credentials the way a user gives them: praw's environment variables (no praw.ini anywhere)."""
    monkeypatch.setenv("praw_client_id", CLIENT_ID)
    monkeypatch.setenv("praw_client_secret", CLIENT_SECRET)
    monkeypatch.delenv("praw_user_agent", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.chdir(tmp_path)


def config(server: LocalServer, **kw) -> RedditApiConfig:
    kw.setdefault("subreddits", ["news"])
    return RedditApiConfig(api_url=server.origin, progress=False, backoff_base=0.05, **kw)


def harvested_ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_pages_through_a_listing_and_writes_lines_the_dump_reader_reads(credentials, tmp_path):
    posts = [post(i) for i in range(250)]
    fake = FakeReddit({"news/top": posts})
    with LocalServer(fake.app) as server:
        result = harvest_api(config(server, time_filter="week"), tmp_path / "api")
    assert fake.token_requests == 1
    queries = [q for _, q, _ in fake.requests]
    assert [q.get("after") for q in queries] == [None, "t3_p0099", "t3_p0199"]
    assert all(q["t"] == "week" and q["limit"] == "100" and q["raw_json"] == "1" for q in queries)
    assert harvested_ids(result.path) == [p["id"] for p in posts]
    assert result.stats.n_in == result.stats.n_out == 250 and result.pages == 3
    stats = StepStats("read_submissions")
    subs = list(read_submissions([str(result.path)], stats))
    assert stats.dropped == {} and len(subs) == 250
    assert subs[5].url == "https://site5.example/story/5" and subs[5].score == 5
    assert subs[13].is_self and subs[17].over_18 and subs[1].created_utc == 1_599_999_940
    # Only the fields the harvest needs are kept, not the author or anything else.
    assert "author" not in json.loads(result.path.read_text().splitlines()[0])


def test_waits_out_a_429_with_retry_after(credentials, tmp_path):
    fake = FakeReddit({"news/top": [post(i) for i in range(150)]}, faults={2: (429, {"Retry-After": "1"})})
    with LocalServer(fake.app) as server:
        start = time.monotonic()
        result = harvest_api(config(server), tmp_path / "api")
        elapsed = time.monotonic() - start
    assert [s for _, _, s in fake.requests] == [200, 429, 200]
    assert fake.requests[1][1]["after"] == fake.requests[2][1]["after"] == "t3_p0099"  # the same page again
    assert elapsed >= 1.0
    assert len(harvested_ids(result.path)) == 150


def test_retries_a_server_error(credentials, tmp_path):
    fake = FakeReddit({"news/top": [post(i) for i in range(150)]}, faults={2: (503, {})})
    with LocalServer(fake.app) as server:
        result = harvest_api(config(server), tmp_path / "api")
    assert [s for _, _, s in fake.requests] == [200, 503, 200]
    assert len(set(harvested_ids(result.path))) == 150


def test_persistent_errors_stop_with_progress_saved(credentials, tmp_path):
    # prawcore retries a 5xx twice itself (with pauses of its own); 401s are not retried.
    fake = FakeReddit({"news/top": [post(i) for i in range(150)]}, faults={2: (400, {})})
    with LocalServer(fake.app) as server, pytest.raises(HarvestError, match="rerun to continue"):
        harvest_api(config(server), tmp_path / "api")
    (folder,) = (tmp_path / "api").iterdir()
    assert len(harvested_ids(folder / "submissions.jsonl")) == 100


def test_a_killed_harvest_continues_where_it_stopped(credentials, tmp_path):
    posts = [post(i) for i in range(250)]
    hanging = FakeReddit({"news/top": posts}, hang_from=3)
    out = tmp_path / "api"
    script = ("import sys; from corpus.sources.reddit_api import RedditApiConfig, harvest_api; "
              f"harvest_api(RedditApiConfig(subreddits=['news'], api_url=sys.argv[1], progress=False), {str(out)!r})")
    with LocalServer(hanging.app) as server:
        proc = subprocess.Popen([sys.executable, "-c", script, server.origin], cwd=REPO,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            deadline = time.monotonic() + 30
            while len(hanging.requests) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(hanging.requests) == 3, "the harvest never reached the third page"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    (folder,) = out.iterdir()
    with open(folder / "submissions.jsonl", "ab") as f:
        f.write(b'{"id": "half-written')  # as if the kill had hit mid-page
    fake = FakeReddit({"news/top": posts})
    with LocalServer(fake.app) as server:
        result = harvest_api(config(server), out)
    assert [q.get("after") for _, q, _ in fake.requests] == ["t3_p0199"]  # pages 1-2 are not asked again
    assert harvested_ids(result.path) == [p["id"] for p in posts]
    assert result.stats.n_in == 250 and result.stats.balanced()
    # A finished harvest run again asks for nothing.
    again = FakeReddit({"news/top": posts})
    with LocalServer(again.app) as server:
        assert harvested_ids(harvest_api(config(server), out).path) == [p["id"] for p in posts]
    assert again.requests == []


def test_limit_window_new_listing_and_duplicates_across_listings(credentials, tmp_path):
    posts = [post(i) for i in range(300)]  # newest first, one minute apart
    fake = FakeReddit({"news/new": posts, "news/top": posts[:50], "gone/new": []})
    since = int(posts[120]["created_utc"])
    with LocalServer(fake.app) as server:
        result = harvest_api(config(server, subreddits=["news", "missing"], listings=("new", "top"), limit=60,
                                    since=since, until=int(posts[10]["created_utc"]) + 1, page_size=25),
                             tmp_path / "api")
    ids = harvested_ids(result.path)
    assert ids == [p["id"] for p in posts[10:60]]       # `new`: the first 60, of which 10 are too new
    assert result.stats.dropped == {"outside_time_window": 20, "duplicate_submission": 40}
    assert result.stats.balanced()
    assert [q["limit"] for p, q, _ in fake.requests if p == "/r/news/new"] == ["25", "25", "10"]
    assert "/r/missing/new" in [p for p, _, _ in fake.requests]  # a 404 subreddit is skipped, not fatal
    # `new` stops early once a page reaches past the window start.
    fake2 = FakeReddit({"news/new": posts})
    with LocalServer(fake2.app) as server:
        result = harvest_api(config(server, listings=("new",), since=since, page_size=50), tmp_path / "api2")
    assert len(fake2.requests) == 3 and harvested_ids(result.path) == [p["id"] for p in posts[:121]]


def test_credentials_never_reach_the_log(credentials, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    fake = FakeReddit({"news/top": [post(i) for i in range(30)]}, faults={1: (503, {})})
    with LocalServer(fake.app) as server:
        harvest_api(config(server), tmp_path / "api")
    captured = capsys.readouterr()
    for secret in (CLIENT_SECRET, TOKEN, base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()):
        assert secret not in caplog.text and secret not in captured.out + captured.err
    assert "Retrying due to 503" in caplog.text  # the log did run at DEBUG through prawcore
    for path in (tmp_path / "api").rglob("*"):
        if path.is_file():
            assert CLIENT_SECRET not in path.read_text() and TOKEN not in path.read_text()


def test_missing_credentials_give_a_clear_error(monkeypatch, tmp_path):
    for var in ("praw_client_id", "praw_client_secret"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HarvestError, match="praw_client_id"):
        harvest_api(RedditApiConfig(subreddits=["news"], api_url="http://127.0.0.1:9", progress=False), tmp_path)


def test_build_webtext_harvests_links_from_the_api(credentials, tmp_path):
    posts = [post(i) for i in range(120)]
    fake = FakeReddit({"news/top": posts})
    with LocalServer(fake.app) as server:
        cfg = build_webtext.WebTextConfig(dumps=[], subreddits=["news"], listings=("top",), time_filter="all",
                                          reddit_api_url=server.origin, output=str(tmp_path / "out"),
                                          links_only=True, workers=1)
        assert build_webtext.run(cfg) is None
    # The same links as the dump path gives for the same submissions.
    expected = LinkHarvester(LinkRules())
    expected.add(read_submissions([str(p) for p in (cfg.work_path() / "reddit_api").rglob("*.jsonl")]))
    got = pq.read_table(cfg.links_path()).to_pylist()
    assert [r["url"] for r in got] == [link.url for link in expected.links()] and len(got) > 10
    stats = json.loads(cfg.links_path().with_name("links_stats.json").read_text())
    assert stats[0]["name"] == "reddit_api" and stats[0]["out"] == 120
