"""The join's on-disk index gives every page the link the old in-memory dict gave it, redirects
included, without reading the links table per WARC."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest

from corpus.fetch.state import read_redirect_aliases
from corpus.records import Document
from corpus.sources.link_join import LinkIndex, LinkJoin, ensure_link_index
from corpus.sources.links import LinkHarvester, LinkRules, read_links, write_links
from corpus.sources.reddit_dumps import Submission
from corpus.urls import url_key


def sub(i: int, url: str, score: int = 10) -> Submission:
    return Submission(id=f"s{i}", subreddit=f"r{i % 3}", url=url, score=score, created_utc=1500000000 + i,
                      is_self=False, over_18=False, title=f"t{i}")


def links_table(tmp_path, urls: list[str]):
    harvester = LinkHarvester(LinkRules())
    harvester.add(sub(i, u, score=3 + i) for i, u in enumerate(urls))
    path = tmp_path / "links.parquet"
    write_links(harvester.links(), path)
    return path


def old_links_with_redirects(links_path, fetch_dir) -> dict:
    """The join's links before the index: the whole table in a dict, plus redirect aliases."""
    links = read_links(links_path)
    for final_url, link_url in read_redirect_aliases(fetch_dir).items():
        final_key, link_key = url_key(final_url), url_key(link_url)
        if final_key and link_key in links and final_key not in links:
            links[final_key] = links[link_key]
    return links


def write_log(fetch_dir, hops: list[tuple[str, str]]) -> None:
    fetch_dir.mkdir(parents=True, exist_ok=True)
    with open(fetch_dir / "fetched.jsonl", "a") as f:
        for url, final in hops:
            f.write(json.dumps({"url": url, "final_url": final, "warc": "x.warc.gz", "offset": 0, "end": 1}) + "\n")


def joined(links, url: str):
    doc = Document(id="d", text="", url=url, source="webtext")
    return (doc.karma, doc.subreddit, doc.reddit_id) if LinkJoin(links).filter(doc) is True else None


def test_the_index_joins_every_page_as_the_dict_did_redirects_included(tmp_path):
    rng = random.Random(5)
    urls = [f"https://site{i % 9}.example/p{i}" for i in range(300)]
    path = links_table(tmp_path, urls)
    fetch = tmp_path / "fetch"
    hops = [(u, f"https://landing{rng.randrange(20)}.example/x") for u in rng.sample(urls, 80)]  # shared targets
    hops += [(urls[1], urls[2])]                                                   # onto another link: kept
    hops += [(urls[3], "https://chain.example/a"), ("https://chain.example/a", "https://chain.example/b")]
    hops += [(u, u) for u in urls[:5]]                                             # no redirect
    hops += [("https://unknown.example/z", "https://landing3.example/x")]          # not a link
    hops += [(urls[7], "not a url")]
    write_log(fetch, hops)
    old = old_links_with_redirects(path, fetch)
    ensure_link_index(path, tmp_path / "index.sqlite", fetch)
    index = LinkIndex(tmp_path / "index.sqlite")
    assert len(index) == len(old) > 300
    probes = urls + [final for _, final in hops] + ["https://www.site1.example/p1/?utm_source=x", "mailto:x", ""]
    for url in probes:
        assert joined(index, url) == joined(old, url), url


def test_the_index_is_reused_until_the_table_or_the_fetch_log_changes(tmp_path, monkeypatch):
    from corpus.sources import link_join

    path = links_table(tmp_path, ["https://a.example/1", "https://b.example/2"])
    fetch, index_path = tmp_path / "fetch", tmp_path / "index.sqlite"
    builds = []
    real = link_join._build
    monkeypatch.setattr(link_join, "_build", lambda *a: (builds.append(1), real(*a)))
    sha = ensure_link_index(path, index_path, fetch)
    assert ensure_link_index(path, index_path, fetch) == sha and len(builds) == 1
    write_log(fetch, [("https://a.example/1", "https://a.example/moved")])
    ensure_link_index(path, index_path, fetch)
    assert len(builds) == 2 and joined(LinkIndex(index_path), "https://a.example/moved") is not None
    path2 = links_table(tmp_path, ["https://c.example/3"])
    assert ensure_link_index(path2, index_path, fetch) != sha and len(builds) == 3
    assert joined(LinkIndex(index_path), "https://a.example/1") is None
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_join_reads_no_table(tmp_path, monkeypatch):
    path = links_table(tmp_path, [f"https://x.example/{i}" for i in range(50)])
    ensure_link_index(path, tmp_path / "index.sqlite")
    index = LinkIndex(tmp_path / "index.sqlite")

    def no_table(*a, **k):
        raise AssertionError("the join read the links table")

    monkeypatch.setattr(pq, "read_table", no_table)
    monkeypatch.setattr(pq, "ParquetFile", no_table)
    assert joined(index, "http://www.x.example/7/") == (10, "r1", "s7")
    assert joined(index, "https://x.example/nope") is None


def test_a_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no link index"):
        LinkIndex(tmp_path / "nothing.sqlite")


def test_posted_urls_stream_from_the_table(tmp_path):
    from corpus.sources.links import iter_posted_urls

    path = links_table(tmp_path, ["https://a.example/1?utm_source=r", "http://b.example/2"])
    assert sorted(iter_posted_urls(path, batch_rows=1)) == ["http://b.example/2", "https://a.example/1?utm_source=r"]
    pq.write_table(pq.read_table(path).drop_columns(["posted_url"]), path)  # a table from before the column
    assert sorted(iter_posted_urls(path)) == ["http://b.example/2", "https://a.example/1"]
