"""The out-of-core link harvest (per-file candidate runs + DuckDB) gives exactly the table and the
counters of the in-memory `LinkHarvester`, and a rerun reuses what is done."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest

from corpus.sources.link_harvest import HarvestSettings, harvest_to_table
from corpus.sources.links import LINKS_SCHEMA, LinkHarvester, LinkRules, write_links
from corpus.sources.reddit_dumps import read_submissions
from corpus.steps import StepStats

HOSTS = ["news.example", "www.news.example", "blog.example.org", "NEWS.example", "x.example:443", "imgur.com",
         "en.wikipedia.org", "café.example", "[::1]:8080"]
PATHS = ["/a", "/a/", "/b?id=1", "/b?id=1&utm_source=r", "/c#frag", "/pic.jpg", "/ü", "/d?amp", "/d?amp="]


def synthetic(rng: random.Random, n: int) -> list[dict]:
    """Submissions made to collide: few URL keys, every scheme and spelling, ties, gaps."""
    subs = []
    for i in range(n):
        scheme = rng.choice(["http", "https", "HTTP", "https", " https"])
        url = f"{scheme}://{rng.choice(HOSTS)}/{rng.randrange(40)}{rng.choice(PATHS)}"
        obj = {"id": rng.choice([f"id{i}", f"id{i % 7}", "dup"]),  # ids tie across submissions
               "url": rng.choice([url, url, url, None, "not a url", url + "\t"]),
               "score": rng.choice([None, 0, 1, 2, 3, 3, 5, 5, 40, -4] * 5 + [2**31 - 1]),
               "created_utc": rng.choice([None, 1500000000, 1500000000, 1400000000 + i, 0]),
               "subreddit": rng.choice([None, "", "news", "World", "é", "news"]),
               "title": rng.choice([None, f"title {i}", "same"]),
               "is_self": rng.random() < 0.05, "over_18": rng.random() < 0.05}
        subs.append({k: v for k, v in obj.items() if v is not None or rng.random() < 0.5})
    return subs


def write_dumps(tmp_path, subs: list[dict], files: int) -> list[str]:
    paths = []
    for f in range(files):
        path = tmp_path / f"RS_{f}.jsonl"
        path.write_text("".join(json.dumps(s) + "\n" for s in subs[f::files]) + '{"id": "broken", "url"\n')
        paths.append(str(path))
    return paths


def in_memory(paths: list[str], rules: LinkRules, out) -> list[dict]:
    read = StepStats("read_submissions")
    harvester = LinkHarvester(rules)
    harvester.add(read_submissions(paths, read))
    write_links(harvester.links(), out)
    return [read.to_dict(), harvester.rule_stats.to_dict(), harvester.karma_stats.to_dict()]


@pytest.mark.parametrize("rules", [LinkRules(), LinkRules(karma_mode="url"), LinkRules(min_karma=0),
                                   LinkRules(min_karma=5, drop_over_18=False, drop_wikipedia=False,
                                             domain_blocklist=frozenset({"blog.example.org"}))],
                         ids=["submission", "url", "min0", "rules"])
def test_out_of_core_harvest_equals_the_in_memory_one(tmp_path, rules):
    paths = write_dumps(tmp_path, synthetic(random.Random(7), 3000), files=3)
    paths.append(paths[0])  # a file given twice counts twice, as it always did
    expected_stats = in_memory(paths, rules, tmp_path / "expected.parquet")
    stats, n = harvest_to_table(paths, rules, tmp_path / "links.parquet", tmp_path / "work",
                                HarvestSettings(memory_limit="256MB", threads=2))
    expected = pq.read_table(tmp_path / "expected.parquet").to_pylist()
    got = pq.read_table(tmp_path / "links.parquet")
    assert got.schema.equals(LINKS_SCHEMA)
    assert got.to_pylist() == expected and n == len(expected) > 5
    assert [s.to_dict() for s in stats] == expected_stats
    assert all(s.balanced() for s in stats)


def test_the_table_is_sorted_by_key_in_bounded_row_groups(tmp_path, monkeypatch):
    from corpus.sources import link_harvest as links

    monkeypatch.setattr(links, "LINKS_ROW_GROUP", 100)
    subs = [{"id": f"s{i}", "url": f"https://site{i % 997}.example/p{i}", "score": 5} for i in range(2500)]
    paths = write_dumps(tmp_path, subs, files=2)
    harvest_to_table(paths, LinkRules(), tmp_path / "links.parquet", tmp_path / "work")
    meta = pq.ParquetFile(tmp_path / "links.parquet").metadata
    assert meta.num_rows == 2500 and max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) == 100
    keys = pq.read_table(tmp_path / "links.parquet", columns=["url_key"]).column(0).to_pylist()
    assert keys == sorted(keys)


def test_a_rerun_reuses_finished_files_and_a_rule_change_redoes_them(tmp_path, monkeypatch):
    from corpus.sources import link_harvest as links

    paths = write_dumps(tmp_path, synthetic(random.Random(1), 400), files=2)
    out, work = tmp_path / "links.parquet", tmp_path / "work"
    first = harvest_to_table(paths, LinkRules(), out, work)
    read = []
    real = links.read_submissions
    monkeypatch.setattr(links, "read_submissions", lambda ps, stats: (read.extend(ps), real(ps, stats))[1])
    again = harvest_to_table(paths, LinkRules(), out, work)
    assert read == [] and [s.to_dict() for s in again[0]] == [s.to_dict() for s in first[0]]
    # One file changes: only it is read again.
    with open(paths[1], "a") as f:
        f.write(json.dumps({"id": "new", "url": "https://new.example/x", "score": 9}) + "\n")
    harvest_to_table(paths, LinkRules(), out, work)
    assert read == [paths[1]]
    assert "new.example/x" in pq.read_table(out, columns=["url_key"]).column(0).to_pylist()
    # Another rule set: every file again, into a new folder; the old runs are gone.
    read.clear()
    harvest_to_table(paths, LinkRules(drop_wikipedia=False), out, work)
    assert sorted(read) == sorted(paths) and len(list(work.glob("runs-*"))) == 1


def test_lone_surrogates_in_a_title_are_replaced_not_a_crash(tmp_path):
    path = tmp_path / "RS_s.jsonl"
    path.write_text('{"id": "a", "url": "https://x.example/1", "score": 5, "title": "bad \\ud83d here"}\n')
    harvest_to_table([str(path)], LinkRules(), tmp_path / "links.parquet", tmp_path / "work")
    (row,) = pq.read_table(tmp_path / "links.parquet").to_pylist()
    assert row["title"].startswith("bad ") and row["url_key"] == "x.example/1"


def test_parallel_rule_step_gives_the_same_table(tmp_path):
    paths = write_dumps(tmp_path, synthetic(random.Random(3), 600), files=3)
    harvest_to_table(paths, LinkRules(), tmp_path / "one.parquet", tmp_path / "w1")
    harvest_to_table(paths, LinkRules(), tmp_path / "two.parquet", tmp_path / "w2", HarvestSettings(workers=2))
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(tmp_path / "two.parquet"))
