from corpus.sources.links import (
    LinkHarvester,
    LinkRules,
    read_links,
    rejection_reason,
    write_links,
)
from corpus.sources.reddit_dumps import Submission, read_submissions
from corpus.steps import StepStats


def sub(id, url, score=10, **kw):
    return {"id": id, "subreddit": kw.pop("subreddit", "news"), "url": url, "score": score,
            "created_utc": kw.pop("created_utc", 1500000000), "is_self": False, "over_18": False,
            "title": f"title {id}", **kw}


def test_read_submissions_handles_every_era_and_counts_broken_lines(make_dump):
    lines = [
        sub("a", "https://x.com/1", created_utc=1500000000),
        sub("b", "https://x.com/2", created_utc=1500000000.5),
        sub("c", "https://x.com/3", created_utc="1500000001"),
        b'{"id": "d", "url": "https://x.com/4", "sco',      # truncated
        b"",                                                 # empty line
        b"[1, 2]",                                           # not an object
        b'{"url": "https://x.com/5"}',                       # no id
        b'{"id": "e", "url": "https://x.com/6", "title": "caf\xe9 \xff"}',  # invalid UTF-8
    ]
    stats = StepStats("read_submissions")
    subs = list(read_submissions([str(make_dump(lines))], stats))
    assert [s.id for s in subs] == ["a", "b", "c", "e"]
    assert [s.created_utc for s in subs[:3]] == [1500000000, 1500000000, 1500000001]
    assert subs[3].score is None and "caf" in subs[3].title
    assert stats.dropped == {"bad_json": 1, "empty_line": 1, "not_an_object": 1, "missing_id": 1}
    assert stats.balanced() and stats.n_in == 8


def test_read_submissions_reads_jsonl_and_gzip(make_dump):
    for name in ("RS.jsonl", "RS.jsonl.gz"):
        path = make_dump([sub("a", "https://x.com/1")], name=name)
        assert [s.id for s in read_submissions([str(path)])] == ["a"]


def test_truncated_zst_keeps_the_lines_before_the_cut(make_dump, tmp_path):
    path = make_dump([sub(str(i), f"https://x.com/{i}") for i in range(2000)])
    cut = tmp_path / "cut.zst"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    stats = StepStats("read_submissions")
    subs = list(read_submissions([str(cut)], stats))
    assert 0 < len(subs) < 2000
    assert stats.dropped["truncated_file"] == 1 and stats.balanced()


def make(id, url, score=10, **kw):
    return Submission(id=id, subreddit=kw.get("subreddit", "news"), url=url, score=score,
                      created_utc=kw.get("created_utc", 1500000000), is_self=kw.get("is_self", False),
                      over_18=kw.get("over_18", False), title=f"t{id}")


def test_rejection_reasons():
    rules = LinkRules(domain_blocklist=frozenset({"spam.example"}))
    assert rejection_reason(make("1", "https://www.reddit.com/r/x/comments/1", is_self=True), rules) == "self_post"
    assert rejection_reason(make("1", None), rules) == "missing_url"
    assert rejection_reason(make("1", "mailto:a@b.c"), rules) == "bad_url"
    assert rejection_reason(make("1", "https://x.com/a", over_18=True), rules) == "over_18"
    assert rejection_reason(make("1", "https://old.reddit.com/r/x"), rules) == "reddit_link"
    assert rejection_reason(make("1", "https://redd.it/5xyz"), rules) == "reddit_link"
    assert rejection_reason(make("1", "https://en.wikipedia.org/wiki/Tide"), rules) == "wikipedia"
    assert rejection_reason(make("1", "https://i.imgur.com/abc"), rules) == "media_host"
    assert rejection_reason(make("1", "https://x.com/paper.PDF"), rules) == "non_text_extension"
    assert rejection_reason(make("1", "https://www.spam.example/a"), rules) == "blocked_domain"
    assert rejection_reason(make("1", "https://x.com/story.html"), rules) is None
    assert rejection_reason(make("1", "https://x.com/a", over_18=True), LinkRules(drop_over_18=False)) is None


REDDIT_MEDIA = ["https://i.reddituploads.com/0f1e2d3c4b5a?fit=max&h=1536&w=1536&s=abc",
                "https://i.redd.it/abc123", "https://v.redd.it/xyz789", "https://preview.redd.it/pic?width=640&s=9",
                "https://external-preview.redd.it/p?auto=webp", "https://i.redditmedia.com/abc?w=640",
                "https://redditmedia.com/mediaembed/x", "https://b.thumbs.redditmedia.com/t"]


def test_reddit_media_hosts_are_no_outbound_links():
    rules = LinkRules()
    for url in REDDIT_MEDIA:
        assert rejection_reason(make("1", url), rules) == "reddit_media", url
    # Only Reddit's hosts: a look-alike elsewhere is an outbound link like any other.
    assert rejection_reason(make("1", "https://i.redd.it.example.com/story"), rules) is None
    assert rejection_reason(make("1", "https://notredditmedia.com/story"), rules) is None
    h = LinkHarvester(rules)
    h.add([make(str(i), url) for i, url in enumerate(REDDIT_MEDIA)] + [make("ok", "https://news.example/a")])
    assert [link.url for link in h.links()] == ["https://news.example/a"]
    assert h.rule_stats.dropped == {"reddit_media": len(REDDIT_MEDIA)} and h.rule_stats.balanced()


def test_the_link_is_fetched_as_its_best_submission_posted_it():
    posted = ["https://x.example/a?amp", "https://x.example/b?x=1;y=2", "https://github.com/o/r/blob/f.py?ref=v1.0",
              "http://[::1]:8080/x"]
    h = LinkHarvester(LinkRules())
    h.add([make(str(i), url) for i, url in enumerate(posted)])
    # Two spellings of one page: the best-scored one is fetched as written (tracking and all)...
    h.add([make("lo", "https://news.example/s", score=4), make("hi", "https://www.news.example/s/?utm_source=r", score=9)])
    # ... and plain http becomes https only where a submission posted that very URL over https.
    h.add([make("p1", "http://plain.example/p", score=9), make("p2", "https://plain.example/p", score=3),
           make("q1", "http://other.example/q", score=9), make("q2", "https://www.other.example/q", score=3)])
    links = {link.url_key: link for link in h.links()}
    assert {links[key].posted_url for key in ("x.example/a?amp", "x.example/b?x=1;y=2", "github.com/o/r/blob/f.py",
                                              "[::1]:8080/x")} == set(posted)
    assert links["news.example/s"].posted_url == "https://www.news.example/s/?utm_source=r"
    assert links["news.example/s"].url == "https://news.example/s"  # the canonical name is unchanged
    assert links["plain.example/p"].posted_url == "https://plain.example/p"
    assert links["other.example/q"].posted_url == "http://other.example/q"


def test_submission_mode_thresholds_each_submission_and_merges_url_variants():
    subs = [
        make("a", "http://WWW.news.example/story?utm_source=r", score=2, subreddit="b"),
        make("b", "https://news.example/story#comments", score=5, subreddit="a", created_utc=1400000000),
        make("c", "https://news.example:443/story", score=1, subreddit="c"),
        make("d", "https://low.example/x", score=2),
        make("e", "https://none.example/x", score=None),
    ]
    h = LinkHarvester(LinkRules(min_karma=3))
    h.add(subs)
    links = h.links()
    assert [link.url for link in links] == ["https://news.example/story"]
    link = links[0]
    assert (link.karma, link.best_karma, link.n_submissions) == (5, 5, 3)
    assert link.subreddits == ["a", "b", "c"] and link.reddit_id == "b" and link.subreddit == "a"
    assert link.first_created_utc == 1400000000
    assert h.rule_stats.dropped == {"missing_score": 1} and h.rule_stats.balanced()
    assert h.karma_stats.dropped == {"below_min_karma": 3}
    assert h.karma_stats.balanced() and h.karma_stats.n_out == 1


def test_url_mode_sums_karma_over_submissions():
    subs = [make("a", "https://x.example/1", score=2), make("b", "http://x.example/1", score=2),
            make("c", "https://y.example/1", score=2)]
    h = LinkHarvester(LinkRules(min_karma=3, karma_mode="url"))
    h.add(subs)
    links = h.links()
    assert [(link.url, link.karma) for link in links] == [("https://x.example/1", 4)]
    assert h.karma_stats.dropped == {"below_min_karma": 1, "merged_duplicate_url": 1}
    assert h.karma_stats.balanced()


def test_links_table_round_trips(tmp_path):
    h = LinkHarvester(LinkRules())
    h.add([make("a", "https://x.example/1"), make("b", "https://y.example/2", score=50)])
    path = tmp_path / "links.parquet"
    write_links(h.links(), path)
    back = read_links(path)
    assert set(back) == {"x.example/1", "y.example/2"} and back["y.example/2"].karma == 50
    assert back["y.example/2"].posted_url == "https://y.example/2"
    assert not list(tmp_path.glob("*.tmp"))


def test_a_links_table_without_posted_urls_fetches_its_canonical_urls(tmp_path):
    import pyarrow.parquet as pq

    h = LinkHarvester(LinkRules())
    h.add([make("a", "https://x.example/1?utm_source=r")])
    path = tmp_path / "links.parquet"
    write_links(h.links(), path)
    pq.write_table(pq.read_table(path).drop_columns(["posted_url"]), path)  # as written before the column
    assert read_links(path)["x.example/1"].posted_url == "https://x.example/1"


def test_summed_karma_past_int32_is_clamped_not_a_crash(tmp_path):
    from corpus.sources.links import INT32_MAX
    from corpus.sources.reddit_dumps import Submission

    h = LinkHarvester(LinkRules(karma_mode="url"))
    h.add(Submission(id=f"s{i}", subreddit="news", url="https://big.example/a", score=2**31 - 10,
                     created_utc=1262304000 + i, over_18=False, is_self=False, title="t") for i in range(3))
    (link,) = h.links()
    assert link.karma == INT32_MAX and link.n_submissions == 3
    write_links([link], tmp_path / "links.parquet")
    assert read_links(tmp_path / "links.parquet")[link.url_key].karma == INT32_MAX
