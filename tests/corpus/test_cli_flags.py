import argparse
from dataclasses import asdict, dataclass, field

import pytest

from corpus.cli_flags import add_config_flags, config_from_flags, flag
from corpus.fetch.config import FetchConfig
from pipelines import build_webtext, clean_commoncrawl


@dataclass
class Inner:
    engine: str = field(default="a", metadata=flag("which", name="--engine", choices=["a", "b"], group="inner"))
    fast: bool = field(default=True, metadata=flag("turn fast off", name="--slow", group="inner"))
    unflagged: int = 7


@dataclass
class Outer:
    workers: int = field(default=2, metadata=flag("processes", name="--workers", minimum=1))
    score: float = field(default=0.5, metadata=flag("a score", name="--score", minimum=0, maximum=1))
    langs: tuple[str, ...] = field(default=("en",), metadata=flag("languages", name="--langs"))
    files: list[str] = field(default_factory=list, metadata=flag("files", name="--files", nargs="*"))
    limit: int | None = field(default=None, metadata=flag("at most", name="--limit"))
    keep: bool = field(default=False, metadata=flag("keep them", name="--keep"))
    inner: Inner = field(default_factory=Inner)
    label: str = "set by code"


def parse(argv):
    p = argparse.ArgumentParser()
    add_config_flags(p, Outer)
    return config_from_flags(Outer, p.parse_args(argv), label="given")


def test_defaults_round_trip_and_unflagged_fields_come_from_code():
    assert parse([]) == Outer(label="given")


def test_every_kind_of_flag_sets_its_field_including_nested_ones():
    c = parse(["--workers", "3", "--score", "0.25", "--langs", "en", "de", "--files", "--limit", "5",
               "--keep", "--engine", "b", "--slow"])
    assert (c.workers, c.score, c.langs, c.files, c.limit, c.keep) == (3, 0.25, ("en", "de"), [], 5, True)
    assert c.inner == Inner(engine="b", fast=False, unflagged=7)


@pytest.mark.parametrize("argv", [["--workers", "0"], ["--workers", "-2"], ["--score", "1.5"],
                                  ["--workers", "x"], ["--engine", "c"]])
def test_bad_values_are_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_help_shows_defaults_and_groups(capsys):
    with pytest.raises(SystemExit):
        parse(["--help"])
    out = capsys.readouterr().out
    assert "processes (default: 2)" in out and "languages (default: en)" in out
    assert "inner:" in out and "--slow" in out


def test_pipeline_configs_come_back_from_their_flags():
    assert build_webtext.parse_args([]) == build_webtext.WebTextConfig()
    assert clean_commoncrawl.parse_args([]) == clean_commoncrawl.CleanConfig()
    c = clean_commoncrawl.parse_args(["--precise-extraction", "--no-pii", "--languages", "en", "de",
                                      "--min-lang-score", "0.5", "--no-quality-filter"])
    assert not c.cleaning.extraction.fast and not c.cleaning.anonymize_pii and not c.quality_filter
    assert c.cleaning.language.languages == ("en", "de") and c.cleaning.language.min_score == 0.5
    w = build_webtext.parse_args(["--ignore-robots", "--max-body", "100", "--fetch-limit", "3"])
    assert asdict(w.fetch_config) == asdict(FetchConfig(respect_robots=False, max_body_bytes=100, limit=3))


def test_lid_model_flag_sets_the_language_model():
    c = clean_commoncrawl.parse_args(["--lid-model", "/models/lid.bin"])
    assert c.cleaning.language.model_path == "/models/lid.bin"
