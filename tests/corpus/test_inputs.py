import gzip

import pytest

from corpus.readers.inputs import expand_inputs, read_listing


def test_globs_expand_sorted_and_missing_paths_are_errors(tmp_path):
    for name in ("b.warc.gz", "a.warc.gz", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    assert expand_inputs([str(tmp_path / "*.warc.gz")]) == [str(tmp_path / "a.warc.gz"),
                                                          str(tmp_path / "b.warc.gz")]
    with pytest.raises(FileNotFoundError):
        expand_inputs([str(tmp_path / "nothing-*.warc.gz")])
    with pytest.raises(FileNotFoundError):
        expand_inputs([str(tmp_path / "missing.warc.gz")])


def test_commoncrawl_listing_becomes_urls_under_the_base(tmp_path):
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(b"crawl-data/CC-MAIN-2024-22/a.warc.gz\ncrawl-data/CC-MAIN-2024-22/b.warc.gz\n"))
    assert read_listing(str(listing)) == [
        "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/a.warc.gz",
        "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/b.warc.gz"]
    assert expand_inputs([str(listing)], base_url="http://mirror.local/cc")[0] == \
        "http://mirror.local/cc/crawl-data/CC-MAIN-2024-22/a.warc.gz"
    assert expand_inputs(["https://x.example/a.warc.gz"]) == ["https://x.example/a.warc.gz"]
