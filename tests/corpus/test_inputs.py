import gzip
import io

import pytest

from corpus.errors import UserError
from corpus.readers.inputs import InputError, RewindableStream, expand_inputs, read_listing


def test_globs_expand_sorted_and_missing_paths_are_errors(tmp_path):
    for name in ("b.warc.gz", "a.warc.gz", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    assert expand_inputs([str(tmp_path / "*.warc.gz")]) == [str(tmp_path / "a.warc.gz"),
                                                          str(tmp_path / "b.warc.gz")]
    with pytest.raises(FileNotFoundError):
        expand_inputs([str(tmp_path / "nothing-*.warc.gz")])
    with pytest.raises(FileNotFoundError):
        expand_inputs([str(tmp_path / "missing.warc.gz")])


@pytest.mark.parametrize("kind", ["missing", "empty glob", "folder", "missing listing"])
def test_an_input_that_is_no_readable_file_is_one_clear_user_error(tmp_path, kind):
    # --input/--dump/--pages: a traceback from deep inside a reader before; now a one-line
    # message the command lines show with exit status 2 (a UserError).
    (tmp_path / "crawl").mkdir()
    pattern = {"missing": tmp_path / "typo.warc.gz", "empty glob": tmp_path / "CC-*.warc.gz",
               "folder": tmp_path / "crawl", "missing listing": tmp_path / "warc.paths.gz"}[kind]
    with pytest.raises(InputError) as raised:
        expand_inputs([str(pattern)])
    err = raised.value
    assert isinstance(err, UserError) and isinstance(err, FileNotFoundError)
    message = str(err)
    assert "\n" not in message and str(pattern) in message
    if kind == "folder":
        assert "folder" in message and "crawl/*" in message  # and how to name its files


def test_a_glob_passes_over_the_folders_it_matches(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "a.warc.gz").write_bytes(b"")
    assert expand_inputs([str(tmp_path / "*")]) == [str(tmp_path / "a.warc.gz")]
    with pytest.raises(InputError, match="no input matches"):
        expand_inputs([str(tmp_path / "log*")])  # only a folder: nothing to read


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self.inner.readinto(buffer)


@pytest.mark.parametrize("seekable", [True, False])
def test_rewindable_stream_reads_forward_and_goes_back(seekable):
    data = bytes(range(256)) * 64
    raw = io.BytesIO(data) if seekable else io.BufferedReader(Unseekable(data))
    src = RewindableStream(raw, keep=4096, block=1024)
    assert src.read(10) == data[:10] and src.peek(5) == data[10:15] and src.tell() == 10
    src.seek(5000)
    assert src.read(100) == data[5000:5100]
    src.seek(2000)  # back: by seeking, or over the 4 KiB kept
    assert src.read(3) == data[2000:2003]
    assert src.find(b"\xfe\xff\x00") == 2046 and src.tell() == 2046  # 8 * 256 - 2
    src.seek(len(data) - 2)
    assert src.read(10) == data[-2:] and src.read(1) == b"" and src.find(b"\x00") is None
    if not seekable:
        with pytest.raises(OSError, match="cannot go back"):
            src.seek(0)


def test_commoncrawl_listing_becomes_urls_under_the_base(tmp_path):
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(b"crawl-data/CC-MAIN-2024-22/a.warc.gz\ncrawl-data/CC-MAIN-2024-22/b.warc.gz\n"))
    assert read_listing(str(listing)) == [
        "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/a.warc.gz",
        "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/b.warc.gz"]
    assert expand_inputs([str(listing)], base_url="http://mirror.local/cc")[0] == \
        "http://mirror.local/cc/crawl-data/CC-MAIN-2024-22/a.warc.gz"
    assert expand_inputs(["https://x.example/a.warc.gz"]) == ["https://x.example/a.warc.gz"]
