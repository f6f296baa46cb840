"""Both pipelines end to end on small inputs built by the fixtures."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.dedup.signatures import signature_paths
from corpus.quality.training import WeakClassifierError
from corpus.readers.shards import shard_paths
from corpus.schema import SCHEMA
from corpus.writers.publish import published_signatures
from pipelines import build_webtext, clean_commoncrawl
from pipelines.cleaning import CleaningConfig

GERMAN = ("Der Stadtrat hat am Dienstag beschlossen, die alten Getreidespeicher am Hafen in einen "
          "Markt umzuwandeln. Viele Händler sagten, das Gebäude stehe seit zehn Jahren leer. ") * 4


def assert_manifest_adds_up(out):
    manifest = json.loads((out / "manifest.json").read_text())
    for step in manifest["steps"]:
        assert step["in"] == step["out"] + sum(step["dropped"].values()), step
    files = shard_paths(out)
    assert manifest["rows"] == sum(pq.ParquetFile(f).metadata.num_rows for f in files) > 0
    assert [f["path"] for f in manifest["files"]] == [str(f.relative_to(out)) for f in files]
    assert (out / "report.html").read_text().count("<tr>") >= len(manifest["steps"])
    for f in files:
        assert pq.read_schema(f).equals(SCHEMA)
    return manifest


@pytest.fixture
def webtext_config(make_dump, make_warc, make_article, make_prose, tmp_path):
    article_html, topic_paragraphs = make_article, make_prose

    subs = []
    for i in range(8):
        subs.append({"id": f"s{i}", "subreddit": "news", "url": f"http://Site{i}.example/story?utm_source=rd",
                     "score": 10 + i, "created_utc": str(1500000000 + i), "is_self": False, "over_18": False,
                     "title": f"Story {i}"})
    subs.append({"id": "low", "url": "https://site8.example/story", "score": 1, "created_utc": 1500000000})
    subs.append({"id": "nsfw", "url": "https://site9.example/story", "score": 99, "over_18": True,
                 "created_utc": 1500000000.0})
    subs.append(b'{"id": "broken", "url": ')
    dump = make_dump(subs)
    pages = [(f"https://site{i}.example/story", article_html(f"Story {i}", topic_paragraphs(i)),
              "text/html; charset=utf-8", "200 OK") for i in range(10)]
    pages.append(("https://site7.example/copy", article_html("Story 7", topic_paragraphs(7)),
                  "text/html", "200 OK"))  # not a harvested link
    warc = make_warc(pages, name="pages.warc.gz", tail=b"WARC/1.0\r\nbroken")
    return build_webtext.WebTextConfig(dumps=[str(dump)], pages=[str(warc)], output=str(tmp_path / "webtext"),
                                       workers=1, cleaning=CleaningConfig(min_words=20))


def test_build_webtext_end_to_end(webtext_config):
    manifest = build_webtext.run(webtext_config)
    out = Path(webtext_config.output)
    assert_manifest_adds_up(out)
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["read_submissions"]["dropped"] == {"bad_json": 1}
    assert steps["link_rules"]["dropped"] == {"over_18": 1}
    assert steps["link_karma"]["dropped"] == {"below_min_karma": 1}
    assert steps["join_links"]["dropped"] == {"not_a_harvested_link": 3}
    assert steps["read_warc"]["dropped"]["malformed_record"] == 1
    rows = pq.read_table(shard_paths(out)).to_pylist()
    assert sorted(r["url"] for r in rows) == [f"https://site{i}.example/story" for i in range(8)]
    by_url = {r["url"]: r for r in rows}
    assert by_url["https://site3.example/story"]["karma"] == 13
    assert by_url["https://site3.example/story"]["reddit_id"] == "s3"
    assert all(r["source"] == "webtext" and r["lang"] == "en" and r["subreddit"] == "news" for r in rows)


def test_every_parquet_reader_sees_exactly_the_published_rows(webtext_config, tmp_path, monkeypatch):
    """The output holds the shards and nothing else in Parquet: work files live outside it."""
    import duckdb
    import pandas as pd
    import pyarrow.dataset as pads

    manifest = build_webtext.run(webtext_config)
    out = Path(webtext_config.output)
    rows, ids = manifest["rows"], {r["id"] for r in pq.read_table(shard_paths(out)).to_pylist()}
    assert rows > 0 and len(ids) == rows
    assert not webtext_config.work_path().is_relative_to(out)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "manifest.json", "report.html"]
    glob = str(out / "**" / "*.parquet")
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT id) FROM read_parquet('{glob}')").fetchall() == [(rows, rows)]
    assert pads.dataset(out / "data", format="parquet").count_rows() == rows
    assert len(pd.read_parquet(out / "data")) == rows
    # Hugging Face datasets, offline, from the card's configs and from the folder of Parquet files.
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    for ds in (datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf")),
               datasets.load_dataset("parquet", data_dir=str(out / "data"), cache_dir=str(tmp_path / "hf2"))):
        assert ds["train"].num_rows == rows and set(ds["train"]["id"]) == ids


def test_dataset_card_describes_the_run(webtext_config):
    import yaml

    manifest = build_webtext.run(webtext_config)
    card = (Path(webtext_config.output) / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(card.split("---")[1])
    assert header["configs"][0]["data_files"][0]["path"] == "data/part-*.parquet"
    assert [f["name"] for f in header["dataset_info"]["features"]] == SCHEMA.names
    assert header["dataset_info"]["splits"][0]["num_examples"] == manifest["rows"]
    assert "| join_links |" in card and "not_a_harvested_link 3" in card
    assert "no benchmark files were given" in card


def test_build_webtext_rerun_gives_the_same_shards(webtext_config):
    first = build_webtext.run(webtext_config)
    second = build_webtext.run(webtext_config)
    assert [f["sha256"] for f in first["files"]] == [f["sha256"] for f in second["files"]]


def test_links_only_stops_after_the_links_table(webtext_config):
    webtext_config.links_only = True
    assert build_webtext.run(webtext_config) is None
    assert pq.read_table(webtext_config.links_path()).num_rows == 8
    assert not (Path(webtext_config.output) / "manifest.json").exists()


def test_clean_commoncrawl_end_to_end(make_warc, make_article, make_prose, tmp_path):
    article_html, topic_paragraphs = make_article, make_prose

    pages = [(f"https://cc{i}.example/a", article_html(f"T{i}", topic_paragraphs(i)), "text/html", "200 OK")
             for i in range(6)]
    pages += [("https://mirror.example/a", article_html("T1", topic_paragraphs(1)), "text/html", "200 OK"),
              ("https://de.example/a", article_html("Markt", [GERMAN]), "text/html", "200 OK"),
              ("https://short.example/a", article_html("Hi", ["Too short to keep."]), "text/html", "200 OK"),
              ("https://img.example/a.jpg", b"\xff\xd8\xff", "image/jpeg", "200 OK")]
    make_warc(pages[:5], name="cc-1.warc.gz")
    make_warc(pages[5:], name="cc-2.warc.gz", tail=b"\x1f\x8b\x08garbage")
    config = clean_commoncrawl.CleanConfig(inputs=[str(tmp_path / "cc-*.warc.gz")],
                                           output=str(tmp_path / "cc"), workers=2,
                                           cleaning=CleaningConfig(min_words=20),
                                           quality_positive=[], dedup_against=[])
    manifest = clean_commoncrawl.run(config)
    out = tmp_path / "cc"
    assert_manifest_adds_up(out)
    steps = {s["name"]: s for s in manifest["steps"]}
    assert steps["read_warc"]["in"] == 21 and steps["read_warc"]["dropped"]["not_html"] == 1
    assert steps["language"]["dropped"] == {"other_language": 1}
    assert steps["gopher_quality"]["dropped"] == {"gopher_short_doc": 1}
    assert steps["exact_dedup"]["dropped"] == {"duplicate_text": 1}
    urls = sorted(r["url"] for r in pq.read_table(shard_paths(out), columns=["url"]).to_pylist())
    assert len(urls) == 6 and "https://de.example/a" not in urls
    report = (out / "report.html").read_text()
    assert "language / other_language" in report and "https://de.example/a" in report
    assert "lang_score:en" in report and "<svg" in report
    assert steps["extract"]["bytes_out"] < steps["read_warc"]["bytes_out"]


def test_gpt3_recipe_classifier_reference_dedup_and_decontamination(webtext_config, make_warc, make_article,
                                                                   make_prose, tmp_path):
    build_webtext.run(webtext_config)
    webtext = tmp_path / "webtext"
    published = published_signatures(webtext)  # in the work folder; the manifest says where
    assert published.is_dir() and signature_paths(published)
    benchmark_text = ("the quick committee of volunteers measured the length of the old harbour wall twice "
                      "before the storm arrived in the valley last winter")
    pages = [(f"https://cc{i}.example/a", make_article(f"T{i}", make_prose(100 + i)), "text/html", "200 OK")
             for i in range(8)]
    pages.append(("https://copy.example/story", make_article("Story 3", make_prose(3)), "text/html", "200 OK"))
    contaminated = make_prose(200)
    contaminated[1] = contaminated[1] + " " + benchmark_text.capitalize() + "."
    pages.append(("https://leak.example/a", make_article("Leak", contaminated), "text/html", "200 OK"))
    make_warc(pages, name="cc.warc.gz")
    # A task file in PIQA's format, as model.evaluate reads it: the registry finds the leaked text in "goal".
    bench = tmp_path / "piqa_test.jsonl"
    bench.write_text(json.dumps({"goal": benchmark_text, "sol1": "one way", "sol2": "another", "label": 0}) + "\n")
    config = clean_commoncrawl.CleanConfig(
        inputs=[str(tmp_path / "cc.warc.gz")], output=str(tmp_path / "cc"), workers=1,
        cleaning=CleaningConfig(min_words=20), quality_positive=[str(webtext)], quality_mode="score",
        dedup_against=[str(webtext)], decontaminate=[str(bench)])
    with pytest.raises(WeakClassifierError, match="allow-weak-classifier"):  # 2 held-out documents
        clean_commoncrawl.run(config)
    config.allow_weak_classifier = True
    manifest = clean_commoncrawl.run(config)
    assert manifest["quality_classifier"]["weak"] and manifest["quality_classifier"]["metrics"]["n_heldout"] == 2
    out = tmp_path / "cc"
    assert_manifest_adds_up(out)
    steps = {s["name"]: s for s in manifest["steps"]}
    assert manifest["quality_model"] and (config.work_path() / "quality" / "quality.card.json").exists()
    assert not (config.work_path() / "reference").exists()  # WebText's published signatures were used
    assert steps["quality"]["in"] == steps["quality"]["out"] == 10  # score mode keeps everything
    assert steps["fuzzy_dedup"]["dropped"] == {"near_duplicate_of_reference": 1}
    assert steps["decontaminate"]["counts"]["ngrams_cut"] >= 1
    assert steps["decontaminate"]["counts"]["docs_touched:piqa"] == 1
    assert f"| piqa | `{bench}` | 1 |" in (tmp_path / "cc" / "README.md").read_text()
    rows = pq.read_table(shard_paths(out)).to_pylist()
    assert all(0.0 <= r["quality_score"] <= 1.0 for r in rows)
    assert "https://copy.example/story" not in {r["url"] for r in rows}
    leak = [r for r in rows if r["url"] == "https://leak.example/a"]
    assert all("harbour wall twice" not in r["text"] for r in leak)
    assert manifest["fuzzy_dedup"]["examples"][0]["reason"] == "near_duplicate_of_reference"
    assert "Removed pairs" in (out / "report.html").read_text()
    assert "Below the floor" in (out / "report.html").read_text()
    assert "below the floor: kept by --allow-weak-classifier" in (out / "README.md").read_text()


def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        clean_commoncrawl.main(["--quality-model", str(tmp_path / "missing.bin"), "--output", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"python -m pipelines.clean_commoncrawl: error: --quality-model {tmp_path / 'missing.bin'}: "
                   "no such file"]


@pytest.mark.parametrize("argv", [["--input", "/no/such/file.warc.gz"], ["--input", "/no/such/*.warc.gz"],
                                  ["--input", "/tmp"]])
def test_missing_empty_or_folder_input_is_one_line(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        clean_commoncrawl.main([*argv, "--output", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and err[0].startswith("python -m pipelines.clean_commoncrawl: error:")


def test_fetch_cli_missing_links_is_one_line(capsys):
    from corpus.fetch.__main__ import main as fetch_main

    with pytest.raises(SystemExit) as exc:
        fetch_main(["--links", "/no/links.parquet", "--output", "/tmp/never"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip() == "python -m corpus.fetch: error: --links /no/links.parquet: no such file"


def test_progress_and_work_dir_do_not_invalidate_finished_parts(webtext_config, monkeypatch):
    build_webtext.run(webtext_config)
    calls = []
    real = build_webtext.map_pages
    monkeypatch.setattr(build_webtext, "map_pages", lambda *a: calls.append(a) or real(*a))
    webtext_config.progress = False
    build_webtext.run(webtext_config)
    assert calls == []  # every input's part was reused


def test_a_run_that_keeps_no_document_still_publishes_an_empty_output(tmp_path):
    from corpus.executor import LocalExecutor
    from pipelines.global_stage import GlobalConfig, global_passes, write_output

    passes = global_passes([], GlobalConfig(), tmp_path / "work", LocalExecutor(1, show_progress=False))
    manifest = write_output(passes, tmp_path / "out", LocalExecutor(1, show_progress=False), pipeline="test",
                            inputs=[], parameters={}, earlier=[], extra={})
    assert manifest["rows"] == 0 and manifest["files"] == []
    assert (tmp_path / "out" / "manifest.json").exists() and not (tmp_path / ".out.staging").exists()
