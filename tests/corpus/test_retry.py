"""Retry with backoff (`corpus.retry`), and the three loops built on it: the HTTP input stream,
the page fetcher and the Reddit API harvest. No test here sleeps for real but the async default."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import Counter
from types import SimpleNamespace

import prawcore
import pytest
from aiohttp import web

from corpus.fetch.config import FetchConfig
from corpus.fetch.failures import Failure
from corpus.fetch.fetcher import Exchange, PageFetcher
from corpus.fetch.safety import AddressPolicy
from corpus.readers.inputs import HttpStream
from corpus.retry import BackoffPolicy, GaveUp, Retry, retry_call, retry_call_async
from corpus.sources.reddit_api import ApiHarvester, HarvestError, RedditApiConfig
from tests.helpers.localserver import serving


class Script:
    """An attempt function that plays back `outcomes` (a Retry, a value or an exception to raise)."""

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.numbers: list[int] = []

    def __call__(self, number: int):
        self.numbers.append(number)
        outcome = self.outcomes[min(len(self.numbers), len(self.outcomes)) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --- the policy ---------------------------------------------------------------------------------


def test_the_waits_double_from_the_base_and_stop_after_the_retries():
    assert list(BackoffPolicy(retries=4, base=0.5).delays()) == [0.5, 1.0, 2.0, 4.0]
    assert list(BackoffPolicy(retries=0, base=1.0).delays()) == []
    assert BackoffPolicy(retries=3).attempts == 4 and BackoffPolicy(retries=-1).attempts == 1
    # A long wait is cut to max_wait, or ends the retries there.
    assert list(BackoffPolicy(retries=5, base=1.0, max_wait=3.0).delays()) == [1.0, 2.0, 3.0, 3.0, 3.0]
    assert list(BackoffPolicy(retries=5, base=1.0, max_wait=3.0, long_wait="give_up").delays()) == [1.0, 2.0]


def test_a_server_wait_replaces_the_backoff_and_is_capped():
    policy = BackoffPolicy(retries=3, base=1.0, max_wait=60.0)
    assert policy.wait_after(1, Retry("429", wait=7.0)) == 7.0
    assert policy.wait_after(2, Retry("429", wait=0.0)) == 0.0  # "now" is a wait too, not "use the backoff"
    assert policy.wait_after(2, Retry("503")) == 2.0
    assert policy.wait_after(1, Retry("429", wait=600.0)) == 60.0
    strict = BackoffPolicy(retries=3, base=1.0, max_wait=60.0, long_wait="give_up")
    with pytest.raises(GaveUp) as info:
        strict.wait_after(1, Retry("429", wait=600.0))
    assert info.value.refused_wait == 600.0 and info.value.attempts == 1 and info.value.reason == "429"
    with pytest.raises(GaveUp) as info:
        strict.wait_after(4, Retry("503"))  # the last attempt: no wait at all, however short
    assert info.value.refused_wait is None and info.value.attempts == 4


# --- the loop -----------------------------------------------------------------------------------


def test_retry_call_waits_between_attempts_and_returns_the_first_success():
    attempt, sleeps, seen = Script(Retry("a"), Retry("b", wait=5.0), "done"), Sleeps(), []
    result = retry_call(attempt, BackoffPolicy(retries=5, base=0.25), sleep=sleeps,
                        on_retry=lambda failed, wait, number: seen.append((failed.reason, wait, number)))
    assert result == "done"
    assert attempt.numbers == [1, 2, 3]
    assert sleeps == [0.25, 5.0]                      # the backoff, then the server's own wait
    assert seen == [("a", 0.25, 1), ("b", 5.0, 2)]    # told before each wait


def test_retry_call_gives_up_after_retries_plus_one_attempts():
    attempt, sleeps = Script(*(Retry(f"failure {n}") for n in range(1, 10))), Sleeps()
    with pytest.raises(GaveUp, match=r"gave up after 4 attempts \(no retries left\): failure 4") as info:
        retry_call(attempt, BackoffPolicy(retries=3, base=1.0), sleep=sleeps)
    assert attempt.numbers == [1, 2, 3, 4] and sleeps == [1.0, 2.0, 4.0]
    assert info.value.attempts == 4 and info.value.reason == "failure 4" and info.value.refused_wait is None


def test_a_too_long_retry_after_gives_up_without_waiting():
    attempt, sleeps = Script(Retry("429", wait=3600.0), "never"), Sleeps()
    policy = BackoffPolicy(retries=5, base=1.0, max_wait=120.0, long_wait="give_up")
    with pytest.raises(GaveUp, match="3600.0s, is too long") as info:
        retry_call(attempt, policy, sleep=sleeps)
    assert attempt.numbers == [1] and sleeps == [] and info.value.refused_wait == 3600.0


def test_exceptions_are_not_retried():
    attempt, sleeps = Script(Retry("a"), ValueError("not transient"), "never"), Sleeps()
    with pytest.raises(ValueError, match="not transient"):
        retry_call(attempt, BackoffPolicy(retries=5, base=1.0), sleep=sleeps)
    assert attempt.numbers == [1, 2] and sleeps == [1.0]


def test_retry_call_async_follows_the_same_policy():
    script, sleeps = Script(Retry("a"), Retry("b", wait=9.0), Retry("c"), Retry("d")), []

    async def attempt(number):
        return script(number)

    async def sleep(seconds):
        sleeps.append(seconds)

    with pytest.raises(GaveUp) as info:
        asyncio.run(retry_call_async(attempt, BackoffPolicy(retries=3, base=0.5, max_wait=8.0), sleep=sleep))
    assert script.numbers == [1, 2, 3, 4] and sleeps == [0.5, 8.0, 2.0] and info.value.reason == "d"
    # The default sleep is asyncio's: the event loop goes on while a retry waits.
    script2, ticks = Script(Retry("a"), Retry("b"), "ok"), []

    async def attempt2(number):
        return script2(number)

    async def ticker():
        for _ in range(3):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    async def both():
        return await asyncio.gather(retry_call_async(attempt2, BackoffPolicy(retries=2, base=0.01)), ticker())

    assert asyncio.run(both())[0] == "ok" and len(ticks) == 3


# --- HttpStream (corpus.readers.inputs) ----------------------------------------------------------

BODY = bytes(range(256)) * 40


class FlakyFiles:
    """Serves BODY (with Range) under /{name}; `name` says how it misbehaves."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.ranges: list[str | None] = []
        self.app = web.Application()
        self.app.router.add_get("/{name}", self.serve)

    async def serve(self, request):
        name = request.match_info["name"]
        self.calls[name] += 1
        n = self.calls[name]
        self.ranges.append(request.headers.get("Range"))
        if (name == "flaky503" and n <= 2) or name == "always503":
            return web.Response(status=503)
        if name == "missing":
            return web.Response(status=404)
        start = int(request.headers["Range"].split("=")[1].rstrip("-")) if "Range" in request.headers else 0
        body = BODY[start:]
        resp = web.StreamResponse(status=206 if start else 200, headers={"Content-Length": str(len(body))})
        await resp.prepare(request)
        cut = {"drop": 3000 if n == 1 else None, "stuck": 3000 if n == 1 else 0}.get(name)
        if cut is not None:  # the connection dies mid-body
            await resp.write(body[:cut])
            await asyncio.sleep(0.05)
            request.transport.abort()
            return resp
        await resp.write(body)
        await resp.write_eof()
        return resp


@pytest.fixture(scope="module")
def files():
    with serving(FlakyFiles()) as files:
        yield files


def read_all(files, name: str, sleeps: Sleeps, retries: int = 3) -> bytes:
    stream = HttpStream(files.server.url("/" + name), retries=retries, backoff=0.5, sleep=sleeps)
    with io.BufferedReader(stream, buffer_size=4096) as f:
        return f.read()


def test_http_stream_retries_5xx_with_backoff_and_not_4xx(files, caplog):
    caplog.set_level(logging.WARNING, "corpus.readers.inputs")
    sleeps = Sleeps()
    assert read_all(files, "flaky503", sleeps) == BODY
    assert files.calls["flaky503"] == 3 and sleeps == [0.5, 1.0]
    assert caplog.text.count("HTTP Error 503: Service Unavailable; retrying in") == 2
    sleeps = Sleeps()
    with pytest.raises(OSError, match=r"always503: giving up after 4 attempts: HTTP Error 503"):
        read_all(files, "always503", sleeps)
    assert files.calls["always503"] == 4 and sleeps == [0.5, 1.0, 2.0]
    with pytest.raises(OSError, match=r"missing: HTTP 404$"):
        read_all(files, "missing", Sleeps())
    assert files.calls["missing"] == 1


def test_http_stream_resumes_a_dropped_body_with_a_range_request(files, caplog):
    caplog.set_level(logging.WARNING, "corpus.readers.inputs")
    sleeps = Sleeps()
    assert read_all(files, "drop", sleeps) == BODY
    assert files.calls["drop"] == 2 and "bytes=3000-" in files.ranges and sleeps == []
    assert "connection lost at byte 3000" in caplog.text
    # A connection that dies at the same byte every time: retries + 1 reads, then an error.
    with pytest.raises(OSError, match="stuck: connection keeps failing at byte 3000"):
        read_all(files, "stuck", Sleeps(), retries=2)
    assert files.calls["stuck"] == 3


# --- PageFetcher.exchange (corpus.fetch.fetcher) -------------------------------------------------


def scripted_fetcher(*outcomes, **config) -> tuple[PageFetcher, Sleeps]:
    sleeps = Sleeps()

    async def sleep(seconds):
        sleeps.append(seconds)

    fetcher = PageFetcher(None, FetchConfig(respect_robots=False, progress=False, **config), AddressPolicy(),
                          sleep=sleep)
    script = Script(*outcomes)

    async def attempt(url, accept, max_body, truncate):
        return script(len(script.numbers) + 1)

    fetcher._attempt = attempt
    return fetcher, sleeps


def exchange(n: int = 200) -> Exchange:
    return Exchange(url="http://a.test/", status=n, reason="OK", http_version="HTTP/1.1", headers=[],
                    request_line="GET / HTTP/1.1", request_headers=[], body=b"", ip=None, date=None)


def test_fetcher_retries_with_retry_after_and_counts_attempts():
    fetcher, sleeps = scripted_fetcher(Retry(Failure("http://a.test/", "http_429", 429), wait=3.0),
                                       Retry(Failure("http://a.test/", "http_5xx", 503)), exchange(),
                                       max_retries=2, backoff_base=0.5)
    result = asyncio.run(fetcher.exchange("http://a.test/"))
    assert isinstance(result, Exchange) and result.attempts == 3 and sleeps == [3.0, 1.0]
    fetcher, sleeps = scripted_fetcher(Retry(Failure("http://a.test/", "http_5xx", 502)), max_retries=2,
                                       backoff_base=0.5)
    failure = asyncio.run(fetcher.exchange("http://a.test/"))
    assert failure.reason == "http_5xx" and failure.attempts == 3 and failure.detail == "" and sleeps == [0.5, 1.0]


def test_fetcher_gives_up_on_a_wait_over_max_retry_after():
    fetcher, sleeps = scripted_fetcher(Retry(Failure("http://a.test/", "http_429", 429), wait=3600.0), exchange(),
                                       max_retries=2, max_retry_after=120.0)
    failure = asyncio.run(fetcher.exchange("http://a.test/"))
    assert failure.reason == "http_429" and failure.attempts == 1 and sleeps == []
    assert failure.detail == "Retry-After 3600s is longer than 120s"
    # The backoff itself may outgrow the limit: 100 s, then 200 s is too long.
    fetcher, sleeps = scripted_fetcher(Retry(Failure("http://a.test/", "timeout")), max_retries=5,
                                       backoff_base=100.0, max_retry_after=120.0)
    failure = asyncio.run(fetcher.exchange("http://a.test/"))
    assert failure.attempts == 2 and sleeps == [100.0] and failure.detail == "backoff 200s is longer than 120s"


# --- ApiHarvester._request_page (corpus.sources.reddit_api) --------------------------------------


def response(status: int, headers: dict | None = None):
    return SimpleNamespace(status_code=status, headers=headers or {}, text="")


class ScriptedReddit:
    def __init__(self, *outcomes) -> None:
        self.script = Script(*outcomes)

    def request(self, method, path, params):
        return self.script(len(self.script.numbers) + 1)


def harvester(reddit, tmp_path, **config) -> tuple[ApiHarvester, Sleeps]:
    sleeps = Sleeps()
    cfg = RedditApiConfig(subreddits=["news"], progress=False, **config)
    return ApiHarvester(cfg, tmp_path, reddit=reddit, sleep=sleeps), sleeps


def test_reddit_waits_retry_after_capped_and_backs_off(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "corpus.sources.reddit_api")
    reddit = ScriptedReddit(prawcore.TooManyRequests(response(429, {"retry-after": "7"})),
                            prawcore.TooManyRequests(response(429, {"retry-after": "9999"})),
                            prawcore.ServerError(response(503)), {"data": {}})
    api, sleeps = harvester(reddit, tmp_path, max_retries=5, backoff_base=2.0, max_backoff=300.0)
    assert api._request_page("r/news/top", {}) == {"data": {}}
    assert sleeps == [7.0, 300.0, 8.0]
    assert "r/news/top: rate limited (429); waiting 7.0s (attempt 1)" in caplog.text
    assert "r/news/top: ServerError; waiting 8.0s (attempt 3)" in caplog.text


def test_reddit_gives_up_with_a_harvest_error_and_lets_other_errors_through(tmp_path):
    api, sleeps = harvester(ScriptedReddit(prawcore.ServerError(response(500))), tmp_path, max_retries=2,
                            backoff_base=1.0)
    with pytest.raises(HarvestError, match="r/x/top: ServerError, still failing after 3 attempts; rerun"):
        api._request_page("r/x/top", {})
    assert sleeps == [1.0, 2.0]
    reddit = ScriptedReddit(prawcore.NotFound(response(404)))
    api, sleeps = harvester(reddit, tmp_path)
    with pytest.raises(prawcore.NotFound):
        api._request_page("r/x/top", {})
    assert reddit.script.numbers == [1] and sleeps == []
