"""build_webtext: exact links from a real-format dump, and harvest -> fetch -> text -> shards."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pyarrow.parquet as pq
from aiohttp import web

from corpus.fetch import FetchConfig
from corpus.readers.shards import shard_paths
from pipelines import build_webtext
from pipelines.cleaning import CleaningConfig
from pipelines.cli import work_folder
from tests.helpers.localserver import LocalServer
from tests.helpers.stories import paragraphs


def dump_lines() -> list:
    """Submissions in the shapes real Pushshift lines take across eras."""
    return [
        {"id": "a1", "subreddit": "news", "url": "http://www.Example.com/story?utm_source=rd&id=4", "score": 5,
         "created_utc": 1262304000, "is_self": False, "over_18": False, "title": "A"},
        {"id": "a2", "subreddit": "world", "url": "https://example.com/story?id=4#top", "score": "12",
         "created_utc": "1262304100", "title": "A again"},                       # strings, no is_self/over_18
        {"id": "a3", "subreddit": "misc", "url": "https://example.com:443/story?id=4", "score": 1,
         "created_utc": 1262304200.0},                                            # low, but merged into a1/a2
        {"id": "b1", "subreddit": "tech", "url": "https://blog.example.org/post", "score": 3, "created_utc": 1262304300},
        {"id": "c1", "subreddit": "tech", "url": "https://low.example.net/x", "score": 2, "created_utc": 1262304400},
        {"id": "d1", "url": "https://nsfw.example.com/x", "score": 50, "over_18": True, "created_utc": 1262304500},
        {"id": "e1", "url": "https://www.reddit.com/r/news/comments/e1", "score": 50, "is_self": True},
        {"id": "e2", "url": "https://i.redd.it/pic.jpg", "score": 50},
        {"id": "f1", "url": "https://en.wikipedia.org/wiki/Tide", "score": 50},
        {"id": "g1", "url": "https://files.example.com/paper.pdf", "score": 50},
        {"id": "h1", "url": "https://www.youtube.com/watch?v=x", "score": 50},
        {"id": "i1", "score": 50},                                                # no url
        {"id": "j1", "url": "https://noscore.example.com/x"},                     # no score
        {"id": "k1", "url": "https://fine.example.co.uk/a?b=1&fbclid=zz", "score": 4.0, "created_utc": 1262304600},
        b'{"id": "broken", "url": "https://x',
    ]


def expected_links(lines: list) -> dict[str, int]:
    """The rules written out independently: canonical URL (https preferred) -> best karma."""
    blocked = ("reddit.com", "redd.it", "wikipedia.org", "youtube.com")
    by_key: dict[str, list[tuple[str, int]]] = {}
    for obj in lines:
        if isinstance(obj, bytes) or obj.get("is_self") or obj.get("over_18") or not obj.get("url"):
            continue
        if obj.get("score") is None:
            continue
        parts = urlsplit(obj["url"])
        host = parts.hostname
        if any(host == d or host.endswith("." + d) for d in blocked) or parts.path.endswith(".pdf"):
            continue
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("utm_") and k != "fbclid"])
        key = host.removeprefix("www.") + parts.path + (f"?{query}" if query else "")
        url = f"{parts.scheme}://{host}{parts.path}" + (f"?{query}" if query else "")
        by_key.setdefault(key, []).append((url, int(float(obj["score"]))))
    out = {}
    for subs in by_key.values():
        if max(score for _, score in subs) >= 3:
            url = sorted((u for u, _ in subs), key=lambda u: (not u.startswith("https"), u))[0]
            out[url] = max(score for _, score in subs)
    return out


def test_links_only_yields_exactly_the_links_the_rules_say(make_dump, tmp_path, capsys):
    lines = dump_lines()
    dump = make_dump(lines, name="RS_2010-01.zst")
    out = tmp_path / "out"
    build_webtext.main(["--dump", str(dump), "--links-only", "--output", str(out)])
    assert "links:" in capsys.readouterr().out
    rows = pq.read_table(work_folder(out) / "links" / "links.parquet").to_pylist()
    assert {r["url"]: r["karma"] for r in rows} == expected_links(lines) == {
        "https://example.com/story?id=4": 12, "https://blog.example.org/post": 3,
        "https://fine.example.co.uk/a?b=1": 4}
    story = next(r for r in rows if r["url"] == "https://example.com/story?id=4")
    assert story["n_submissions"] == 3 and story["subreddits"] == ["misc", "news", "world"]
    assert story["first_created_utc"] == 1262304000 and story["reddit_id"] == "a2"


def test_cli_defaults_follow_the_sources_named():
    assert build_webtext.parse_args([]).pages == build_webtext.WebTextConfig().pages
    fetching = build_webtext.parse_args(["--dump", "x.zst", "--fetch", "--allow-private", "--per-host", "3"])
    assert fetching.pages == [] and fetching.fetch and fetching.fetch_config.allow_private
    assert fetching.fetch_config.per_host == 3
    assert not build_webtext.parse_args(["--fetch"]).fetch_config.allow_private  # safe by default
    api = build_webtext.parse_args(["--subreddit", "news", "--since", "2017-01-01", "--listing", "top", "new"])
    assert api.dumps == [] and api.since == 1483228800 and api.listings == ("top", "new")


def test_fetch_then_extract_into_shards(make_dump, make_article, tmp_path):
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        path = request.path
        if path == "/robots.txt":
            return web.Response(text="User-agent: *\nDisallow: /members/\n")
        if path.startswith("/old/"):
            raise web.HTTPMovedPermanently(path.replace("/old/", "/story/"))
        if path == "/story/9":
            return web.Response(status=404)
        i = int(path.rsplit("/", 1)[1])
        return web.Response(text=make_article(f"Story {i}", paragraphs(i)), content_type="text/html")

    app = web.Application()
    app.router.add_get("/{path:.*}", handle)
    with LocalServer(app) as server:
        base = server.origin
        subs = [{"id": f"s{i}", "subreddit": "news", "url": f"{base}/story/{i}", "score": 10 + i,
                 "created_utc": 1500000000 + i, "title": f"Story {i}"} for i in range(6)]
        subs += [{"id": "moved", "subreddit": "news", "url": f"{base}/old/7", "score": 30, "created_utc": 1500000000},
                 {"id": "gone", "url": f"{base}/story/9", "score": 30, "created_utc": 1500000000},
                 {"id": "closed", "url": f"{base}/members/8", "score": 30, "created_utc": 1500000000}]
        config = build_webtext.WebTextConfig(
            dumps=[str(make_dump(subs))], pages=[], fetch=True, output=str(tmp_path / "out"), workers=1,
            cleaning=CleaningConfig(min_words=20), dedup=False,  # the test pages are one template
            fetch_config=FetchConfig(allow_private=True, host_delay=0, per_host=4, progress=False))
        manifest = build_webtext.run(config)
        requests_after_first_run = len(hits)
        again = build_webtext.run(config)
    out = tmp_path / "out"
    steps = {s["name"]: s for s in manifest["steps"]}
    for step in manifest["steps"]:
        assert step["in"] == step["out"] + sum(step["dropped"].values()), step
    assert steps["fetch"] == {**steps["fetch"], "in": 9, "out": 7,
                              "dropped": {"http_4xx": 1, "robots_disallowed": 1}}
    rows = pq.read_table(shard_paths(out)).to_pylist()
    by_url = {r["url"]: r for r in rows}
    # The moved page is archived under its final URL and still joined to its link's karma.
    assert sorted(by_url) == sorted([f"{base}/story/{i}" for i in range(6)] + [f"{base}/story/7"])
    assert by_url[f"{base}/story/7"]["karma"] == 30 and by_url[f"{base}/story/7"]["reddit_id"] == "moved"
    assert by_url[f"{base}/story/2"]["karma"] == 12 and by_url[f"{base}/story/2"]["warc_file"].endswith(".warc.gz")
    assert list((work_folder(out) / "fetch").glob("*.warc.gz")) and "/members/8" not in hits
    # A rerun fetches nothing again (only robots.txt is read anew) and writes the same shards.
    assert [h for h in hits[requests_after_first_run:] if h != "/robots.txt"] == []
    assert [f["sha256"] for f in again["files"]] == [f["sha256"] for f in manifest["files"]]
    assert json.loads((out / "manifest.json").read_text())["rows"] == 7


def test_fast_and_plain_json_paths_read_the_same_submissions(make_dump, monkeypatch):
    """The msgspec fast path (when installed) must read every line exactly as json.loads does."""
    from corpus.sources import reddit_dumps
    from corpus.steps import StepStats

    lines = dump_lines() + [
        b'{"id": "u1", "url": "https://x.example/caf\xe9", "score": 9}',        # invalid UTF-8
        b'{"id": "n1", "url": "https://x.example/n", "score": NaN}',           # json.loads takes NaN
        b'{"name": "t3_nm", "url": "https://x.example/nm", "score": 4}',       # only a fullname
        b'{"id": 12345, "url": "https://x.example/int", "score": 4, "is_self": null}',
        b'{"id": "dup", "score": 1, "score": 7, "url": "https://x.example/d"}',  # duplicate key
        b'{"id": "esc", "title": "\\u00e9\\ud83d\\ude00", "url": "https://x.example/e", "score": 3}',
        b'{"id": "", "url": "https://x.example/empty-id"}', b'["array"]', b"", b"   ", b"null",
    ]
    path = str(make_dump(lines, name="RS_mixed.zst"))

    def read():
        stats = StepStats("read_submissions")
        return list(reddit_dumps.read_submissions([path], stats)), stats.to_dict()

    fast = read()
    monkeypatch.setattr(reddit_dumps, "_fast_decoder", lambda: None)
    plain = read()
    assert fast == plain and len(fast[0]) == 20


def test_links_are_fetched_as_posted_and_joined_by_key(make_dump, make_article, tmp_path):
    """`?amp`, `?x=1;y=2` and `?ref=v1.0` are what the server is asked for, not their canonical forms."""
    pages = {"/q?amp": 0, "/q2?x=1;y=2": 1, "/blob/main/f.py?ref=v1.0": 2, "/a?utm_source=reddit&id=3": 3}
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.raw_path)
        if request.path == "/robots.txt":
            return web.Response(status=404)
        if request.raw_path not in pages:  # the canonical spellings (`?amp=`, no `?ref=`) are other pages
            return web.Response(status=404)
        i = pages[request.raw_path]
        return web.Response(text=make_article(f"Story {i}", paragraphs(i)), content_type="text/html")

    app = web.Application()
    app.router.add_get("/{path:.*}", handle)
    with LocalServer(app) as server:
        subs = [{"id": f"s{i}", "subreddit": "news", "url": server.origin + path, "score": 10 + i,
                 "created_utc": 1500000000 + i, "title": f"Story {i}"} for path, i in pages.items()]
        config = build_webtext.WebTextConfig(
            dumps=[str(make_dump(subs))], pages=[], fetch=True, output=str(tmp_path / "out"), workers=1,
            cleaning=CleaningConfig(min_words=20), dedup=False,
            fetch_config=FetchConfig(allow_private=True, host_delay=0, per_host=4, progress=False))
        manifest = build_webtext.run(config)
    assert sorted(h for h in hits if h != "/robots.txt") == sorted(pages)
    links = pq.read_table(config.links_path()).to_pylist()
    assert sorted(r["posted_url"] for r in links) == sorted(server.origin + p for p in pages)
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["fetch"]["out"] == 4 and steps["join_links"]["dropped"] == {}
    rows = pq.read_table(shard_paths(tmp_path / "out")).to_pylist()
    assert sorted(r["reddit_id"] for r in rows) == ["s0", "s1", "s2", "s3"]
    assert {r["reddit_id"]: r["karma"] for r in rows} == {"s0": 10, "s1": 11, "s2": 12, "s3": 13}
