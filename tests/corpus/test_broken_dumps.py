"""Broken Reddit dumps cost only their broken part: good submissions before and after it all come
out (and make it through the link rules into the links table), and the broken part is counted
under a named reason. Each dump is built here; the damage is done by hand."""

from __future__ import annotations

import json
import random

import pytest

from corpus.sources.links import LinkHarvester, LinkRules, read_links, write_links
from corpus.sources.reddit_dumps import read_submissions
from corpus.steps import StepStats


def line(id: str, **fields) -> bytes:
    obj = {"id": id, "subreddit": "news", "url": f"https://news.example/{id}", "score": 10,
           "created_utc": 1500000000, "is_self": False, "over_18": False, "title": f"title {id}"}
    obj.update(fields)
    return json.dumps(obj).encode() + b"\n"


def frame(*ids: str) -> bytes:
    """One zstd frame of good lines, streamed as Pushshift's were (no content size in the header)."""
    import zstandard

    writer = zstandard.ZstdCompressor().compressobj()
    return writer.compress(b"".join(line(i) for i in ids)) + writer.flush()


def needing_a_huge_window(data: bytes) -> bytes:
    """The frame with its window descriptor raised to 2**32 bytes: more than any decoder allows."""
    assert data[4] == 0  # frame header descriptor: no single-segment flag, so a window byte follows
    return data[:5] + bytes([(32 - 10) << 3]) + data[6:]


def read(paths) -> tuple[list[str], StepStats]:
    stats = StepStats("read_submissions")
    ids = [s.id for s in read_submissions([str(p) for p in paths], stats)]
    assert stats.balanced()
    return ids, stats


def test_a_zstd_frame_needing_a_larger_window_than_allowed_costs_only_that_frame(tmp_path):
    path = tmp_path / "RS_window.zst"
    path.write_bytes(frame("a", "b") + needing_a_huge_window(frame("x", "y")) + frame("c", "d"))
    ids, stats = read([path])
    assert ids == ["a", "b", "c", "d"]
    assert stats.dropped == {"zstd_window_too_large": 1}


def test_a_file_named_zst_that_is_not_zstd_is_counted_and_the_run_goes_on(tmp_path):
    good1, bad, good2 = tmp_path / "RS_1.zst", tmp_path / "RS_2.zst", tmp_path / "RS_3.zst"
    good1.write_bytes(frame("a", "b"))
    noise = random.Random(0).randbytes(4096).replace(b"\x28\xb5\x2f\xfd", b"xxxx")
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + noise)  # a picture saved under a dump's name
    good2.write_bytes(frame("c", "d"))
    ids, stats = read([good1, bad, good2])
    assert ids == ["a", "b", "c", "d"]
    assert stats.dropped == {"undecodable_zstd": 1}


def test_a_plain_dump_named_zst_is_read_as_what_it_is(tmp_path):
    path = tmp_path / "RS_plain.zst"
    path.write_bytes(line("a") + line("b"))
    assert read([path])[0] == ["a", "b"]


@pytest.mark.parametrize("garbage", [b"\x00junk\xff" * 300, b"\x28\xb5\x2f\xfd broken frame" * 20],
                         ids=["bytes", "a broken frame"])
def test_garbage_after_or_between_good_frames_costs_only_itself(tmp_path, garbage):
    path = tmp_path / "RS_garbage.zst"
    path.write_bytes(frame("a", "b") + garbage + frame("c", "d") + garbage)
    ids, stats = read([path])
    assert ids == ["a", "b", "c", "d"]
    assert stats.dropped == {"undecodable_zstd": 2}


def test_a_zstd_dump_cut_short_keeps_every_whole_line(tmp_path):
    path = tmp_path / "RS_cut.zst"
    path.write_bytes(frame("a", "b") + frame(*[f"n{i}" for i in range(5000)])[:-20])  # blocks of 128 KiB
    ids, stats = read([path])
    assert ids[:2] == ["a", "b"] and 1000 < len(ids) < 5002
    assert stats.dropped == {"truncated_file": 1}


def harvest(tmp_path, lines: list[bytes]) -> tuple[dict, StepStats, LinkHarvester]:
    """Dump -> submissions -> link rules -> links table -> read back: where bad values used to crash."""
    dump = tmp_path / "RS_fields.jsonl"
    dump.write_bytes(b"".join(lines))
    stats = StepStats("read_submissions")
    harvester = LinkHarvester(LinkRules())
    harvester.add(read_submissions([str(dump)], stats))
    write_links(harvester.links(), tmp_path / "links.parquet")
    assert stats.balanced()
    return read_links(tmp_path / "links.parquet"), stats, harvester


def test_scores_and_times_that_are_no_storable_number_are_counted_not_fatal(tmp_path):
    lines = [line("a"),
             b'{"id": "inf", "url": "https://news.example/inf", "score": Infinity}\n',
             b'{"id": "neginf", "url": "https://news.example/neginf", "score": -Infinity}\n',
             b'{"id": "nan", "url": "https://news.example/nan", "score": NaN}\n',
             line("big", score=3_000_000_000),                  # karma above int32
             line("bigstr", score="99999999999"),
             line("future", created_utc=1e30),                  # no date can hold it
             line("future_int", created_utc=10**25),
             line("digits").replace(b"1500000000", b"9" * 5000),   # json.loads itself refuses this one
             line("b")]
    links, stats, harvester = harvest(tmp_path, lines)
    by_id = {link.reddit_id: link for link in links.values()}
    # The times are read as missing; those links are kept. The scores are missing: no karma.
    assert set(by_id) == {"a", "b", "future", "future_int"}
    assert by_id["future"].first_created_utc is None and by_id["a"].first_created_utc == 1500000000
    assert stats.counts == {"invalid_score": 5, "invalid_created_utc": 2}
    assert stats.dropped == {"bad_json": 1}
    assert harvester.rule_stats.dropped["missing_score"] == 5


def test_fields_of_the_wrong_json_type_are_counted_not_fatal(tmp_path):
    lines = [line("a"),
             line("url_number", url=12345),
             line("url_list", url=["https://news.example/x"]),
             line("sub_list", subreddit=["news"]),
             line("sub_number", subreddit=7),
             line("title_object", title={"text": "hi"}),
             line("title_number", title=1984),
             line("id_object").replace(b'"id_object"', b'{"x": 1}'),
             line("b")]
    links, stats, harvester = harvest(tmp_path, lines)
    by_id = {link.reddit_id: link for link in links.values()}
    assert set(by_id) == {"a", "b", "sub_list", "sub_number", "title_object", "title_number"}
    assert by_id["sub_list"].subreddit is None and by_id["title_number"].title is None
    assert by_id["a"].subreddit == "news" and by_id["a"].title == "title a"
    assert stats.counts == {"invalid_url": 2, "invalid_subreddit": 2, "invalid_title": 2}
    assert stats.dropped == {"missing_id": 1}
    assert harvester.rule_stats.dropped == {"missing_url": 2}


def test_a_utf8_bom_does_not_cost_the_first_line(tmp_path):
    for name, compress in (("RS_bom.jsonl", False), ("RS_bom.zst", True)):
        body = b"\xef\xbb\xbf" + line("a") + line("b")
        path = tmp_path / name
        if compress:
            import zstandard

            body = zstandard.ZstdCompressor().compress(body)
        path.write_bytes(body)
        ids, stats = read([path])
        assert ids == ["a", "b"] and not stats.dropped, name


def test_string_booleans_mean_what_they_say(tmp_path):
    path = tmp_path / "RS_bools.jsonl"
    path.write_bytes(line("a") + line("s_false", over_18="false", is_self="False")
                     + line("s_true", over_18="true") + line("n_zero", over_18=0, is_self=0)
                     + line("odd", over_18="maybe") + line("b"))
    stats = StepStats("read_submissions")
    subs = {s.id: s for s in read_submissions([str(path)], stats)}
    assert list(subs) == ["a", "s_false", "s_true", "n_zero", "odd", "b"]
    assert (subs["s_false"].over_18, subs["s_false"].is_self) == (False, False)
    assert subs["s_true"].over_18 is True
    assert (subs["n_zero"].over_18, subs["n_zero"].is_self) == (False, False)
    assert subs["odd"].over_18 is False and stats.counts == {"invalid_over_18": 1}
