import json
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

import corpus.quality.training as quality
from corpus.filters.pii import PIIAnonymizer
from corpus.quality.classifier import (
    QualityConfig,
    QualityScorer,
    card_path_for,
    keep_probability,
    pareto_draw,
    pareto_keep,
    preprocess,
)
from corpus.quality.training import (
    QualityTrainConfig,
    TrainResult,
    WeakClassifierError,
    auto_epochs,
    classification_metrics,
    ensure_quality_model,
    roc_auc,
    train_quality_classifier,
)
from corpus.records import Document
from corpus.writers.shard_writer import ShardWriter

SUBJECTS = ["the council", "researchers", "the engineer", "local farmers", "a small team", "the committee",
            "historians", "the new mayor", "volunteers", "the museum"]
VERBS = ["discussed", "reviewed", "published", "questioned", "described", "examined", "proposed", "explained"]
OBJECTS = ["the harbour plan", "a detailed report", "the results of the survey", "the budget for next year",
           "an old map of the river", "the design of the bridge", "a letter from the minister"]
TAILS = ["after a long debate.", "before the winter began.", "with some caution.", "in a public meeting.",
         "for the first time.", "despite the objections.", "on Tuesday evening."]
SPAM = ["buy", "cheap", "best", "free", "online", "casino", "pills", "discount", "click", "here", "win", "now",
        "deal", "loans", "bonus", "offer", "sale", "top", "price", "the", "report", "plan"]


def prose(rng: random.Random) -> str:
    return " ".join(f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
                    f"{rng.choice(TAILS)}" for _ in range(rng.randint(4, 10)))


def spam(rng: random.Random) -> str:
    words = [rng.choice(SPAM) for _ in range(rng.randint(20, 60))]
    return " ".join(w.upper() if rng.random() < 0.2 else w for w in words) + rng.choice([" !!!", " $$$", " >>>", ""])


def write_shards(path, make, n, seed):
    rng = random.Random(seed)
    with ShardWriter(path) as w:
        for i in range(n):
            w.write(Document(id=f"{path.name}-{i}", url="https://x.example/", source="t", text=make(rng)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    write_shards(root / "webtext", prose, 260, 1)
    write_shards(root / "cc_raw", spam, 400, 2)  # more negatives: down-sampled to 260
    config = QualityTrainConfig(threads=1, dim=16, bucket=20_000, epochs=5, seed=3)
    return train_quality_classifier([root / "webtext"], [root / "cc_raw"], root / "models" / "quality.bin", config)


def test_classifier_separates_prose_from_spam_and_writes_a_card(trained):
    assert trained.model_path.exists()
    assert trained.metrics["roc_auc"] > 0.9
    assert trained.metrics["f1"] > 0.9
    card = json.loads(card_path_for(trained.model_path).read_text())
    assert card_path_for(trained.model_path).name == "quality.card.json"
    data = card["data"]
    assert data["available"] == {"positive": 260, "negative": 400}
    assert data["per_class"] == 260  # balanced
    assert data["heldout"] == 2 * 26 and data["train"] == 2 * (260 - 26)
    assert card["metrics"] == trained.metrics
    assert card["parameters"]["fasttext"]["dim"] == 16 and card["preprocessing"]["max_words"] == 1000
    assert "numpy" in card["versions"]


def test_small_training_sets_get_more_passes(tmp_path):
    # 5 passes suit ~100,000 documents; on the sample's ~600 they left every score near 0.5.
    assert auto_epochs(100_000) == auto_epochs(2_000_000) == 5
    assert auto_epochs(10_000) == 50 and auto_epochs(600) == 200
    write_shards(tmp_path / "pos", prose, 40, 1)
    write_shards(tmp_path / "neg", spam, 40, 2)
    result = train_quality_classifier([tmp_path / "pos"], [tmp_path / "neg"], tmp_path / "q.bin",
                                      QualityTrainConfig(threads=1, dim=16, bucket=20_000))
    card = json.loads(result.card_path.read_text())
    assert card["parameters"]["epochs"] is None and card["parameters"]["fasttext"]["epoch"] == 200
    assert card["preprocessing"]["version"] == 2 and "__email__" in card["preprocessing"]["rule"]


def test_scorer_sets_scores_and_keeps_by_threshold(trained):
    rng = random.Random(9)
    docs = [Document(id=f"g{i}", url="u", source="commoncrawl", text=prose(rng)) for i in range(20)]
    docs += [Document(id=f"s{i}", url="u", source="commoncrawl", text=spam(rng)) for i in range(20)]
    scorer = QualityScorer(QualityConfig(str(trained.model_path), mode="threshold", threshold=0.5))
    kept = [d.id for d in scorer(docs)]
    assert all(d.quality_score is not None and 0.0 <= d.quality_score <= 1.0 for d in docs)
    assert sum(k.startswith("g") for k in kept) >= 18 and sum(k.startswith("s") for k in kept) <= 2
    assert scorer.stats.balanced() and set(scorer.stats.dropped) <= {"quality_threshold"}
    assert sum(scorer.stats.histograms["quality_score"]) == 40


def test_pareto_mode_is_deterministic_across_workers_and_orders(trained):
    rng = random.Random(4)
    docs = [Document(id=f"d{i}", url="u", source="commoncrawl", text=prose(rng) if i % 2 else spam(rng))
            for i in range(60)]
    path = str(trained.model_path)
    one = {d.id for d in QualityScorer(QualityConfig(path))(list(docs))}
    # Two "workers", each with half of the documents, in reverse order.
    halves = [QualityScorer(QualityConfig(path))(docs[k::2][::-1]) for k in range(2)]
    assert one == {d.id for half in halves for d in half}
    assert any(d.id not in one for d in docs)  # spam is dropped ...
    scorer = QualityScorer(QualityConfig(path))
    list(scorer(docs))
    assert set(scorer.stats.dropped) == {"quality_pareto"}


def test_pareto_keep_is_deterministic_per_id_and_seed():
    assert all(pareto_keep(f"id{i}", 0.7) == pareto_keep(f"id{i}", 0.7) for i in range(200))
    draws = [pareto_draw(f"id{i}") for i in range(200)]
    assert draws == [pareto_draw(f"id{i}") for i in range(200)]
    assert draws != [pareto_draw(f"id{i}", seed=1) for i in range(200)]


@pytest.mark.parametrize("score", [0.0, 0.5, 0.8, 0.9, 0.97, 1.0])
def test_pareto_keep_rate_matches_two_minus_s_to_the_minus_alpha(score):
    n = 40_000
    rate = np.mean([pareto_keep(f"doc-{i}", score, alpha=9.0) for i in range(n)])
    p = keep_probability(score, 9.0)
    assert abs(rate - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-4


def test_pareto_draws_follow_numpys_pareto():
    ours = np.array([pareto_draw(f"x{i}", alpha=9.0) for i in range(50_000)])
    numpy = np.random.default_rng(0).pareto(9.0, 50_000)
    qs = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
    np.testing.assert_allclose(np.quantile(ours, qs), np.quantile(numpy, qs), rtol=0.05)
    assert keep_probability(0.9) == pytest.approx(0.42, abs=0.005)
    assert keep_probability(0.5) == pytest.approx(0.026, abs=0.001)


def test_roc_auc_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.random(300) < 0.4
    scores = np.round(rng.random(300) + labels * 0.3, 1)  # many ties
    pos, neg = scores[labels], scores[~labels]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        len(pos) * len(neg))
    assert roc_auc(labels, scores) == pytest.approx(pairwise)
    m = classification_metrics(np.array([1, 1, 0, 0], bool), np.array([0.9, 0.4, 0.6, 0.1]))
    assert (m["precision"], m["recall"], m["f1"], m["roc_auc"]) == (0.5, 0.5, 0.5, 0.75)


def test_preprocess_is_one_lowercase_line_of_bounded_length():
    line = preprocess("Hello,\nWORLD!  Second\tline.", max_words=4)
    assert line == "hello , world !"
    assert "\n" not in preprocess("a\nb\nc")


def test_training_retries_in_a_fresh_process_on_nan(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        if len(calls) < 3:
            return subprocess.CompletedProcess(cmd, 1, "", "RuntimeError: Encountered NaN.\n")
        (tmp_path / "m.bin").write_bytes(b"model")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(quality.subprocess, "run", fake_run)
    assert quality._run_worker(tmp_path / "t.txt", tmp_path / "m.bin", {}, False, retries=3) == 3
    assert calls[0][1:4] == ["-m", "corpus.quality.training", "_train_worker"]

    monkeypatch.setattr(quality.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ValueError: bad input"))
    with pytest.raises(RuntimeError, match="bad input"):
        quality._run_worker(tmp_path / "t.txt", tmp_path / "x.bin", {}, False, retries=3)


# ---------------------------------------------------------------------------------------------
# Both classes through the same normalisation: the anonymisation is not a feature.

USERS = ["john.smith", "mary_k", "info", "sales", "press.office", "j.doe+news", "webmaster", "a.lee"]
HOSTS = ["gmail.com", "harbour-gazette.co.uk", "tidewater.org", "mail.ru", "council.gov", "shop.biz"]
PUBLIC_IPS = ["8.8.8.8", "93.184.216.34", "151.101.1.69", "2606:4700:4700::1111", "2001:4860:4860::8888"]


def raw_contact(rng: random.Random) -> str:
    """A short notice with a real-looking address in it, as the raw crawl has them."""
    address = f"{rng.choice(USERS)}@{rng.choice(HOSTS)}" if rng.random() < 0.7 else rng.choice(PUBLIC_IPS)
    return (f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)} "
            f"Write to {address} for details.")


def anonymized_contact(rng: random.Random) -> str:
    """The same kind of text after the cleaning steps, as the WebText positives have it."""
    return PIIAnonymizer().anonymize(raw_contact(rng))


def test_raw_addresses_and_pii_placeholders_preprocess_to_the_same_line():
    raw = ("Mail John.Smith@Gmail.com or press@council.gov; server 93.184.216.34, mirror 2001:4860:4860::8888. "
           "Private 10.0.0.1 stays private.")
    anonymized = PIIAnonymizer().anonymize(raw)
    assert "email@example.com" in anonymized and "192.0.2.1" in anonymized and "2001:db8::1" in anonymized
    assert preprocess(raw) == preprocess(anonymized)
    assert preprocess(raw).count("__email__") == 2 and preprocess(raw).count("__ip__") == 3
    # Things that only look like addresses are left as they are.
    assert preprocess("at 12:30:45 on 1.2.3 and 999.1.1.1") == "at 12 : 30 : 45 on 1 . 2 . 3 and 999 . 1 . 1 . 1"


def test_classifier_does_not_learn_the_anonymisation(tmp_path):
    # Positives and negatives from one distribution of text, differing only in whether the
    # addresses were anonymised: exactly the artefact between WebText shards and the raw crawl.
    # Before both classes were normalised alike, fastText separated them perfectly (AUC 1.0)
    # and the placeholder alone scored as "high quality".
    write_shards(tmp_path / "pos", anonymized_contact, 200, 5)
    write_shards(tmp_path / "neg", raw_contact, 200, 6)
    config = QualityTrainConfig(threads=1, dim=16, bucket=20_000, epochs=10, seed=3, heldout=0.2)
    result = train_quality_classifier([tmp_path / "pos"], [tmp_path / "neg"], tmp_path / "q.bin", config)
    assert result.metrics["roc_auc"] < 0.7  # chance, not the e-mail feature
    scorer = QualityScorer(QualityConfig(str(result.model_path), mode="score"))
    raw = "The council met on Tuesday. Write to john.smith@gmail.com or visit 93.184.216.34 for the plan."
    assert scorer.score(raw) == scorer.score(PIIAnonymizer().anonymize(raw))


# ---------------------------------------------------------------------------------------------
# The pipeline's stage: the held-out AUC comes back with the model and a weak one stops the run.

def test_ensure_quality_model_returns_the_held_out_metrics_and_reuses_the_model(trained, tmp_path, monkeypatch):
    root = trained.model_path.parents[1]
    config = QualityTrainConfig(threads=1, dim=16, bucket=20_000, epochs=5, seed=3)
    model = ensure_quality_model(None, [str(root / "webtext")], root / "cc_raw", tmp_path / "q", config)
    assert model.source == "trained" and model.path == tmp_path / "q" / "quality.bin"
    assert Path(model) == model.path and str(model) == str(model.path)  # usable where the path was
    assert model.roc_auc == model.metrics["roc_auc"] > 0.9 and not model.weak
    entry = model.manifest_entry()
    assert entry["roc_auc"] == model.roc_auc and entry["min_auc"] == 0.8 and entry["weak"] is False
    assert entry["metrics"]["n_heldout"] == 52 and entry["card"].endswith("quality.card.json")
    json.dumps(entry)  # goes into manifest.json as it is

    monkeypatch.setattr(quality, "train_quality_classifier", lambda *a, **k: pytest.fail("retrained"))
    again = ensure_quality_model(None, [str(root / "webtext")], root / "cc_raw", tmp_path / "q", config)
    assert again.source == "reused" and again.metrics == model.metrics
    given = ensure_quality_model(str(model.path), [], root / "cc_raw", tmp_path / "other")
    assert given.source == "given" and given.metrics == model.metrics


def fake_training(auc, calls):
    """Stands in for fastText: writes a model file and a card with the given held-out AUC."""

    def train(positive_dirs, negative_dirs, output_path, config=None):
        calls.append(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_bytes(b"model")
        metrics = {"roc_auc": auc, "n_heldout": 66, "n_heldout_positive": 33}
        card_path_for(output_path).write_text(json.dumps({"metrics": metrics}))
        return TrainResult(output_path, card_path_for(output_path), metrics)

    return train


def test_a_weak_classifier_stops_the_run_unless_allowed(tmp_path, monkeypatch):
    write_shards(tmp_path / "webtext", prose, 5, 1)
    write_shards(tmp_path / "raw", spam, 5, 2)
    calls = []
    monkeypatch.setattr(quality, "train_quality_classifier", fake_training(0.64, calls))
    args = (None, [str(tmp_path / "webtext")], tmp_path / "raw", tmp_path / "q")

    with pytest.raises(WeakClassifierError) as error:
        ensure_quality_model(*args)
    message = str(error.value)
    assert "\n" not in message and "0.640 is below 0.8" in message and "--allow-weak-classifier" in message
    assert "66 held-out documents" in message and "quality.card.json" in message

    # Allowed: the model trained by the stopped run is reused, marked weak.
    model = ensure_quality_model(*args, allow_weak=True)
    assert len(calls) == 1 and model.source == "reused"
    assert model.weak and model.manifest_entry()["allowed_weak"] is True and model.roc_auc == 0.64
    # The floor is a setting.
    assert not ensure_quality_model(*args, min_auc=0.6).weak
    with pytest.raises(WeakClassifierError, match="below 0.9"):
        ensure_quality_model(*args, min_auc=0.9)


def test_an_unmeasured_classifier_stops_the_run_but_a_given_one_without_card_is_trusted(tmp_path, monkeypatch):
    write_shards(tmp_path / "webtext", prose, 5, 1)
    write_shards(tmp_path / "raw", spam, 5, 2)
    monkeypatch.setattr(quality, "train_quality_classifier", fake_training(float("nan"), []))
    with pytest.raises(WeakClassifierError, match="could not be measured"):
        ensure_quality_model(None, [str(tmp_path / "webtext")], tmp_path / "raw", tmp_path / "q")

    bare = tmp_path / "bare.bin"
    bare.write_bytes(b"model")
    model = ensure_quality_model(str(bare), [], tmp_path / "raw", tmp_path / "q2")
    assert model.roc_auc is None and not model.weak and model.manifest_entry()["card"] is None


def test_equal_quotas_fill_from_the_larger_corpora():
    assert quality.equal_quotas([100, 5, 100], 60) == [28, 5, 27]
    assert quality.equal_quotas([3, 3], 10) == [3, 3]
    assert quality.equal_quotas([0, 50], 20) == [0, 20]
    assert sum(quality.equal_quotas([9, 17, 3, 40], 50)) == 50


def test_several_positive_corpora_sampled_equally_or_naturally(tmp_path):
    """GPT-3's classifier took WebText, Wikipedia and books as positives; equal balance keeps the small
    corpus from being drowned by the large one."""
    write_shards(tmp_path / "webtext", prose, 300, 1)
    write_shards(tmp_path / "wikipedia", prose, 40, 4)
    write_shards(tmp_path / "cc_raw", spam, 200, 2)
    cards = {}
    for balance in ("equal", "natural"):
        config = QualityTrainConfig(threads=1, dim=16, bucket=20_000, epochs=3, seed=3, positive_balance=balance)
        result = train_quality_classifier([tmp_path / "webtext", tmp_path / "wikipedia"], [tmp_path / "cc_raw"],
                                          tmp_path / balance / "quality.bin", config)
        cards[balance] = json.loads(result.card_path.read_text())["data"]
    equal = cards["equal"]["positive_corpora"]
    assert equal[str(tmp_path / "wikipedia")] == {"available": 40, "sampled": 40}   # all of the small one
    assert equal[str(tmp_path / "webtext")] == {"available": 300, "sampled": 160}   # the rest of the 200
    assert cards["equal"]["positive_balance"] == "equal" and cards["equal"]["per_class"] == 200
    assert cards["natural"]["positive_corpora"][str(tmp_path / "webtext")]["sampled"] is None  # one pool
